//! `rfab init`: a project's first fabfile and inventory, from a terminal's answers, from
//! arguments, or with placeholders; never over existing files unless asked.

use crate::test::Test;

const FILES: [&str; 5] = [
    "fabfile.rhai",
    "deploy.rhai",
    "proxy.rhai",
    "hotfix.rhai",
    "inventory/production.rhai",
];

#[test]
fn init_with_no_terminal_writes_placeholders_and_names_them() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().to_path_buf();
    Test::new()
        .in_dir(&dir)
        .args(&["init"])
        .stdin("")
        .stdout_regex(
            r"
            wrote fabfile\.rhai, deploy\.rhai, proxy\.rhai, hotfix\.rhai and inventory/production\.rhai in .*
            placeholders to edit in inventory/production\.rhai: group1, group2, lb_ssh, repository \(or run `rfab init:force=true,KEY=VALUE,\.\.\.`\)
            next: `rfab --list`, `rfab check`, then `rfab --dry-run prod rolling:stable` \(it asks the load balancer, changes nothing\)
            ",
        )
        .run();
    for file in FILES {
        assert!(dir.join(file).is_file(), "no {file}");
    }
    // Right after it, the fabfile lists its tasks and checks clean.
    let listed = Test::new().in_dir(&dir).args(&["--shortlist"]).run();
    for task in [
        "prod",
        "deploy",
        "rolling",
        "status",
        "proxy.flip",
        "proxy.all",
    ] {
        assert!(
            listed.stdout.lines().any(|line| line == task),
            "no {task} in\n{}",
            listed.stdout
        );
    }
    Test::new()
        .in_dir(&dir)
        .args(&["check"])
        .stdout_regex(
            r"
            .*fabfile\.rhai: no findings
            ",
        )
        .run();
}

#[test]
fn init_never_overwrites_unless_forced() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().to_path_buf();
    std::fs::write(dir.join("fabfile.rhai"), "/// Mine.\nfn mine() {}\n").expect("fabfile");
    Test::new()
        .in_dir(&dir)
        .args(&["init"])
        .stdin("")
        .status(2)
        .stderr_regex(
            r"
            error: rfab init would overwrite `.*/fabfile\.rhai`
            hint: keep them, or run `rfab init:force=true` to write them again
            ",
        )
        .run();
    assert_eq!(
        std::fs::read_to_string(dir.join("fabfile.rhai")).expect("fabfile"),
        "/// Mine.\nfn mine() {}\n"
    );
    Test::new()
        .in_dir(&dir)
        .args(&["init:force=true"])
        .stdin("")
        .run();
    assert!(
        std::fs::read_to_string(dir.join("fabfile.rhai"))
            .expect("fabfile")
            .starts_with("//! This project's fabfile (written by `rfab init`)")
    );
}

#[test]
fn init_takes_the_facts_as_arguments() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().to_path_buf();
    Test::new()
        .in_dir(&dir)
        .args(&[
            "init:group1=a1;a2,group2=b1,user=ops,address=127.0.0.1:9999,backend=app,\
         deploy_to=/srv/shop,health_url=http://{host}/up,repository=/src/shop,fabric=true",
        ])
        .stdin("")
        .stdout_regex(
            r"
        wrote .*
        next: .*
        ",
        )
        .run();
    let inventory =
        std::fs::read_to_string(dir.join("inventory/production.rhai")).expect("inventory");
    let body: String = inventory
        .lines()
        .filter(|line| !line.starts_with("//"))
        .flat_map(|line| [line, "\n"])
        .collect();
    assert_eq!(
        body,
        "\nexport const user = \"ops\";\n\n\
         export const groups = #{\n    group1: [\"a1\", \"a2\"],\n    group2: [\"b1\"],\n};\n\n\
         export const lb = #{\n    address: \"127.0.0.1:9999\",\n    backend: \"app\",\n};\n\n\
         export const settings = #{\n    repository: \"/src/shop\",\n    deploy_to: \"/srv/shop\",\n    keep_releases: 5,\n    health_url: \"http://{host}/up\",\n    version_files: [\"config/version.ini\"],\n};\n"
    );
    assert!(
        std::fs::read_to_string(dir.join("fabfile.rhai"))
            .expect("fabfile")
            .contains("//! Coming from Fabric 1.x"),
        "fabric=true adds the Fabric notes"
    );
}

#[test]
fn init_refuses_an_unknown_argument() {
    Test::new()
        .args(&["init:nope=a"])
        .stdin("")
        .status(2)
        .stderr_starts_with("error: bad argument for task `init`: unknown argument `nope`; it takes group1, group2,")
        .run();
    Test::new()
        .args(&["init:hosts=a"])
        .stdin("")
        .status(2)
        .stderr_starts_with("error: bad argument for task `init`: it runs on this machine only")
        .run();
}

/// A fabfile's own task named `init` wins over the built-in, which `+init` still reaches.
#[test]
fn a_task_named_init_wins_and_plus_init_is_rfabs() {
    Test::new()
        .fabfile("/// Mine.\nfn init() { print(\"the fabfile's init\"); }\n")
        .args(&["init"])
        .stdout("the fabfile's init\n\nDone.\n")
        .run();
    Test::new()
        .fabfile("/// Mine.\nfn init() {}\n")
        .args(&["+init"])
        .stdin("")
        .status(2)
        .stderr_regex(
            r"
            error: rfab init would overwrite `.*/fabfile\.rhai`
            hint: .*
            ",
        )
        .run();
}

/// Right after `rfab init` in the app's working tree, a dry run plans the whole rollout
/// without connecting anywhere: the repository is the working tree, and the load balancer,
/// a placeholder not yet reachable, is taken as every server live, which it says.
#[test]
fn right_after_init_a_dry_run_plans_the_rollout() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().to_path_buf();
    std::fs::create_dir_all(dir.join("config")).expect("config");
    std::fs::write(dir.join("config/version.ini"), "1.0.0\n").expect("version");
    let git = |args: &[&str]| crate::git::git(&dir, args);
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "app"]);
    git(&["tag", "v1.0.0"]);
    Test::new().in_dir(&dir).args(&["init"]).stdin("").run();
    let ran = Test::new()
        .in_dir(&dir)
        .args(&["--dry-run", "prod", "rolling:stable"])
        .run();
    let lines = |needle: &str| ran.stdout.lines().filter(|l| l.contains(needle)).count();
    assert_eq!(
        lines("release: would go to v1.0.0 ("),
        4,
        "every host planned:\n{}",
        ran.stdout
    );
    assert_eq!(
        lines(": UP (not asked: dry run) -> maint ("),
        4,
        "each group taken out in turn:\n{}",
        ran.stdout
    );
    assert_eq!(lines("would check health: http://web"), 4, "{}", ran.stdout);
    assert!(
        ran.stdout.ends_with("4 hosts: 4 dry\n\nDone.\n"),
        "{}",
        ran.stdout
    );
}

/// What `rfab init` writes deploys for real: its inventory pointed at a fleet of sshd hosts
/// behind HAProxy, `rolling:stable` rolls the latest tag out under load, one group at a
/// time, without a failed request.
#[test]
fn the_fabfile_init_writes_rolls_out_to_a_real_fleet() {
    let (fleet, load) = crate::rollout::fleet(31);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().to_path_buf();
    let group = |n: usize| {
        fleet
            .group(n)
            .iter()
            .map(|node| node.name.clone())
            .collect::<Vec<_>>()
            .join(";")
    };
    let facts = format!(
        "init:group1={},group2={},user=rfab-deploy,socket={},lb_ssh=,backend=web,deploy_to={},health_url={},repository={}",
        group(1),
        group(2),
        fleet.balancer.socket.display(),
        fleet.deploy_to,
        fleet.health_url,
        fleet.repo.display(),
    );
    Test::new().in_dir(&dir).args(&[&facts]).stdin("").run();
    let rfab = |args: &[&str]| {
        std::process::Command::new(crate::test::RFAB)
            .current_dir(&dir)
            .env("HOME", fleet.dir().join("home"))
            .env("SSH_AUTH_SOCK", "")
            .arg("--ssh-config-path")
            .arg(fleet.dir().join("ssh_config"))
            .args(["--set", "watch=1"])
            .args(args)
            .output()
            .expect("rfab runs")
    };
    let ran = rfab(&["prod", "rolling:stable"]);
    let stdout = String::from_utf8_lossy(&ran.stdout);
    assert!(
        ran.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    for node in &fleet.nodes {
        assert_eq!(node.live_tag().as_deref(), Some("v3.0.1"), "{stdout}");
    }
    crate::rollout::no_failures(load);
}
