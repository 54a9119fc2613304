//! The fabfiles users read first: the root `fabfile.rhai` and the README's example.

use std::fmt::Write as _;

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

/// The Fabric port of `examples/fabric/`, run as a team would: from the Django project's
/// own repository, against two production hosts named in an `ssh_config`, each with its own
/// `/srv`. It builds a virtualenv, clones the code, runs the migrations and collectstatic
/// inside the virtualenv, renders the settings from a Jinja template and reloads the app;
/// a second deploy fetches instead of cloning.
#[test]
fn the_fabric_port_deploys_a_django_site() {
    let fleet = crate::sshd::Fleet::start_with_own_srv(2);
    let mut aliases = String::new();
    for (name, host) in ["web1.example.com", "web2.example.com"]
        .iter()
        .zip(&fleet.hosts)
    {
        let _ = write!(
            aliases,
            "Host {name}\n  HostName {}\n  Port {}\n",
            host.address, host.port
        );
    }
    let config = std::fs::read_to_string(fleet.ssh_config()).expect("ssh_config");
    std::fs::write(fleet.ssh_config(), aliases + &config).expect("ssh_config");
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fabric");
    let read = |name: &str| std::fs::read_to_string(example.join(name)).expect("example file");
    // The project: the fabfile lives in the repository it deploys, as in most Django shops.
    let manage = "import pathlib, sys\n\
                  marker = {'migrate': 'migrated', 'collectstatic': 'collected'}[sys.argv[1]]\n\
                  pathlib.Path(marker).write_text(sys.prefix + '\\n')\n";
    let project = fleet.dir.path().join("mysite");
    for (name, text) in [
        ("fabfile.rhai", read("fabfile.rhai")),
        (
            "templates/local_settings.py.j2",
            read("templates/local_settings.py.j2"),
        ),
        ("manage.py", manage.to_owned()),
        ("requirements.txt", String::new()),
        ("mysite/__init__.py", String::new()),
    ] {
        let path = project.join(name);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("project file");
    }
    let git = |args: &[&str]| crate::git::git(&project, args);
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "mysite"]);
    let repository = format!("repository={}", project.display());
    let rfab = |args: &[&str]| {
        fleet
            .test()
            .in_dir(&project)
            .args(&["-u", "root", "--set", &repository])
            .args(args)
    };
    let test = rfab(&["prod", "deploy"]);
    let ran = test.run();
    for host in &fleet.hosts {
        let root = host.srv.as_ref().expect("own /srv").join("mysite");
        let settings = root.join("app/mysite/local_settings.py");
        assert_eq!(
            std::fs::read_to_string(&settings).expect("local_settings.py"),
            "# Written by the deploy for production; edits here are lost at the next deploy.\n\
             DEBUG = False\n\
             ALLOWED_HOSTS = [\"web1.example.com\", \"web2.example.com\"]\n\
             STATIC_ROOT = \"/srv/mysite/static\"\n\
             MEDIA_ROOT = \"/srv/mysite/media\"\n\
             SETTINGS_NAME = \"PRODUCTION\"\n\
             SECRET_KEY_FILE = \"/srv/mysite/secret_key\"\n",
            "{}",
            ran.stdout
        );
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&settings)
                .expect("settings")
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o640);
        for marker in ["migrated", "collected"] {
            assert_eq!(
                std::fs::read_to_string(root.join("app").join(marker)).expect("manage.py ran"),
                "/srv/mysite/venv\n",
                "manage.py {marker} ran outside the virtualenv"
            );
        }
        assert!(root.join("uwsgi.ini").exists(), "the app was not reloaded");
    }
    let build_runs = ran
        .stdout
        .lines()
        .filter(|line| {
            line.ends_with("Executing task 'build'") || *line == "Executing task 'build'"
        })
        .count();
    assert_eq!(build_runs, 1, "@runs_once: one build\n{}", ran.stdout);
    // Again: the clone is there, so it fetches.
    let again = rfab(&["prod", "deploy:branch=main"]).run();
    assert!(
        again.stdout.contains("git fetch -q origin"),
        "{}",
        again.stdout
    );
    // `virtualenv` is a helper: with `@task` on the tasks, only they are listed.
    let listed = rfab(&["--shortlist"]).run();
    assert_eq!(
        listed.stdout,
        "build\nconfig\ndeploy\nprod\nrestart\nsetup\nstaging\n"
    );
}
