//! The fabfiles users read first: the root `fabfile.rhai` and the README's example.

use crate::test::Test;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fabfile.rhai");

#[test]
fn root_fabfile_lists() {
    let ran = Test::new().args(&["-f", ROOT, "--list"]).run();
    for task in [
        "prod",
        "hosts",
        "deploy",
        "deploy.rollback",
        "deploy.unlock",
        "deploy.live",
    ] {
        assert!(
            ran.stdout.contains(&format!("\n    {task} ")),
            "`{task}` missing from:\n{}",
            ran.stdout
        );
    }
}

#[test]
fn readme_fabfile_runs() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let start = readme
        .find("```rhai\n")
        .expect("a rhai block in the README")
        + "```rhai\n".len();
    let fabfile = &readme[start..start + readme[start..].find("```").expect("closed")];
    assert!(
        fabfile.lines().count() <= 30,
        "the README promises a fabfile in 30 lines"
    );
    let ran = Test::new()
        .fabfile(fabfile)
        .args(&["--dry-run", "staging", "hello"])
        .run();
    for host in ["web1.staging", "web2.staging"] {
        assert!(
            ran.stdout
                .contains(&format!("[{host}] Executing task 'hello'\n")),
            "{}",
            ran.stdout
        );
        assert!(
            ran.stdout.contains(&format!(
                "[{host}] hello from deploy@{host}\n[{host}] run: uptime\n"
            )),
            "{}",
            ran.stdout
        );
    }
}

#[test]
fn root_fabfile_selects_a_group_of_the_example_inventory() {
    Test::new()
        .args(&["-f", ROOT, "prod:group2", "hosts"])
        .stdout(
            r#"
            [web3.example.com] Executing task 'hosts'
            [web3.example.com] production group2: ["web3.example.com", "web4.example.com"]

            Summary:
                (run once)  ok  TIME  hosts

            Done.
            "#,
        )
        .mask_times()
        .run();
}

#[test]
fn root_fabfile_takes_another_inventory() {
    let test = Test::new().file(
        "fleet.rhai",
        r#"export const user = "ops"; export const groups = #{ blue: ["b1"], green: ["g1"] }; export const settings = #{};"#,
    );
    let inventory = format!("inventory={}", test.path().join("fleet").display());
    test.args(&["-f", ROOT, "--set", &inventory, "prod:green", "hosts"])
        .stdout(
            r#"
            [g1] Executing task 'hosts'
            [g1] production green: ["g1"]

            Summary:
                (run once)  ok  TIME  hosts

            Done.
            "#,
        )
        .mask_times()
        .run();
}
