//! `lb::nginx` against a real nginx, driven over SSH, and `lb::command` against a load
//! balancer made of shell commands: the same group operations and refusals as HAProxy's.

use std::path::{Path, PathBuf};
use std::process::Command;

use rfab_fleet::app::App;
use rfab_fleet::process::eventually;

use crate::sshd::Fleet;
use crate::test::pattern;

/// Four apps on 127.79.`net`.1-4, each serving its own version (`a1`, `a2`, `b3`, `b4`).
struct Apps {
    dir: tempfile::TempDir,
    apps: Vec<App>,
}

impl Apps {
    fn start(net: u8) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = rfab_fleet::process::common_free_port(
            &(1..=4)
                .map(|i| format!("127.79.{net}.{i}"))
                .collect::<Vec<_>>(),
        )
        .expect("a port");
        let apps = ["a1", "a2", "b3", "b4"]
            .iter()
            .enumerate()
            .map(|(i, version)| {
                let to = dir.path().join(version);
                std::fs::create_dir_all(to.join("current")).expect("mkdir");
                std::fs::write(to.join("current/VERSION"), version).expect("VERSION");
                let address = format!("127.79.{net}.{}:{port}", i + 1);
                App::start(version, address.parse().expect("address"), to).expect("app")
            })
            .collect();
        Self { dir, apps }
    }

    fn addresses(&self) -> Vec<String> {
        self.apps.iter().map(|a| a.address.to_string()).collect()
    }

    /// Makes app `i` answer 500 on its pages, its health check still passing.
    fn break_pages(&self, i: usize) {
        let version = ["a1", "a2", "b3", "b4"][i];
        std::fs::write(self.dir.path().join(version).join("current/BROKEN"), "").expect("BROKEN");
    }

    /// Makes app `i` fail its health checks.
    fn break_app(&self, i: usize) {
        let version = ["a1", "a2", "b3", "b4"][i];
        std::fs::remove_dir_all(self.dir.path().join(version).join("current")).expect("rm");
    }
}

/// nginx on 127.79.`net`.100 in front of the apps, its config in a temp dir.
struct Nginx {
    dir: tempfile::TempDir,
    /// Where it listens: `127.79.1.100:PORT`.
    address: String,
}

impl Nginx {
    fn start(net: u8, apps: &Apps) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path().display();
        let address = format!("127.79.{net}.100");
        let port = std::net::TcpListener::bind((address.as_str(), 0))
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let servers = apps
            .addresses()
            .iter()
            .map(|a| format!("    server {a} max_fails=0;"))
            .collect::<Vec<_>>()
            .join("\n");
        // As in Debian's sites-enabled: the config nginx includes is a symlink.
        std::fs::write(
            dir.path().join("upstream.real"),
            format!("upstream app {{\n{servers}\n}}\n"),
        )
        .expect("upstream.real");
        std::os::unix::fs::symlink("upstream.real", dir.path().join("upstream.conf"))
            .expect("symlink");
        std::fs::write(
            dir.path().join("nginx.conf"),
            format!(
                "user root;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
                 events {{}}\n\
                 http {{\n  access_log off;\n  client_body_temp_path {d}/tmp;\n  proxy_temp_path {d}/tmp;\n\
                 \x20 fastcgi_temp_path {d}/tmp;\n  uwsgi_temp_path {d}/tmp;\n  scgi_temp_path {d}/tmp;\n\
                 \x20 include {d}/upstream.conf;\n\
                 \x20 server {{ listen {address}:{port}; location / {{ proxy_pass http://app; }} }}\n}}\n"
            ),
        )
        .expect("nginx.conf");
        std::fs::create_dir_all(dir.path().join("tmp")).expect("tmp");
        let status = Command::new("nginx")
            .args(["-p", &d.to_string(), "-c", &format!("{d}/nginx.conf")])
            .status()
            .expect("nginx runs (apt-get install nginx; bin/test does)");
        assert!(status.success(), "nginx failed to start");
        let nginx = Self {
            dir,
            address: format!("{address}:{port}"),
        };
        eventually(
            "nginx to answer",
            std::time::Duration::from_secs(10),
            || nginx.get().ok(),
        )
        .expect("nginx answers");
        nginx
    }

    fn flags(&self) -> String {
        let d = self.dir.path().display();
        format!("-p {d} -c {d}/nginx.conf")
    }

    fn upstream(&self) -> PathBuf {
        self.dir.path().join("upstream.conf")
    }

    /// One request through nginx: the version that answered.
    fn get(&self) -> Result<String, String> {
        let out = Command::new("curl")
            .args(["-fsS", "-m", "5"])
            .arg(format!("http://{}/", self.address))
            .output()
            .map_err(|e| e.to_string())?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
            .ok_or_else(|| String::from_utf8_lossy(&out.stderr).into_owned())
    }

    /// The versions that answer 20 requests.
    fn serving(&self) -> Vec<String> {
        let mut seen: Vec<String> = (0..20).filter_map(|_| self.get().ok()).collect();
        seen.sort();
        seen.dedup();
        seen
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let pid = std::fs::read_to_string(self.dir.path().join("nginx.pid")).unwrap_or_default();
        let _ = Command::new("kill").arg(pid.trim()).status();
    }
}

/// A fabfile whose `lb()` is `driver(options)` with groups group1 = apps 1, 2 and
/// group2 = apps 3, 4, run on the fleet's one host (the load balancer's host).
fn run(fleet: &Fleet, driver: &str, options: &str, apps: &Apps, body: &str) -> crate::test::Test {
    let a = apps.addresses();
    let host = fleet.hosts[0].string();
    fleet
        .test()
        .fabfile(&format!(
            "fn lb() {{ lb::{driver}(#{{ {options}, groups: #{{ group1: [\"{}\", \"{}\"], group2: [\"{}\", \"{}\"] }}, \
             drain_timeout: 5, health_timeout: 5 }}) }}\n\
             fn t() {{ {body} }}",
            a[0], a[1], a[2], a[3]
        ))
        // No watch: these drivers have nothing to watch without `watch_url` (tests/watch.rs).
        .args(&["--set", "watch=0", "-H", &host, "t"])
}

fn nginx_options(fleet: &Fleet, nginx: &Nginx) -> String {
    format!(
        "ssh: \"{}\", config: \"{}\", upstream: \"app\", test: \"nginx -t -q {flags}\", reload: \"nginx -s reload {flags}\"",
        fleet.hosts[0].string(),
        nginx.upstream().display(),
        flags = nginx.flags()
    )
}

#[test]
fn nginx_groups_move_with_down_edits_a_config_test_and_a_reload() {
    let fleet = Fleet::start(1);
    let apps = Apps::start(1);
    let nginx = Nginx::start(1, &apps);
    let options = nginx_options(&fleet, &nginx);
    let a = apps.addresses();
    let host = fleet.hosts[0].string();

    run(
        &fleet,
        "nginx",
        &options,
        &apps,
        r#"lb().only("group2"); print(lb().out_group());"#,
    )
    .mask_times()
    .stdout(&format!(
        "
        [{host}] Executing task 't'
        [lb] {}: up -> maint (group1)
        [lb] {}: up -> maint (group1)
        group1

        Summary:
            {host}  ok  TIME  t

        Done.
        Disconnecting from {host}... done.
        ",
        a[0], a[1]
    ))
    .run();
    let config = std::fs::read_to_string(nginx.upstream()).expect("config");
    assert!(
        config.contains(&format!("server {} max_fails=0 down;", a[0])),
        "{config}"
    );
    assert!(
        config.contains(&format!("server {} max_fails=0;", a[2])),
        "{config}"
    );
    eventually(
        "nginx to serve group2 only",
        std::time::Duration::from_secs(10),
        || (nginx.serving() == ["b3", "b4"]).then_some(()),
    )
    .expect("the reload took");

    run(&fleet, "nginx", &options, &apps, r#"print(lb().flip());"#).run();
    eventually(
        "nginx to serve group1 only",
        std::time::Duration::from_secs(10),
        || (nginx.serving() == ["a1", "a2"]).then_some(()),
    )
    .expect("the flip took");

    run(&fleet, "nginx", &options, &apps, r#"lb().all();"#).run();
    assert!(
        !std::fs::read_to_string(nginx.upstream())
            .expect("config")
            .contains("down")
    );
}

#[test]
fn nginx_puts_the_old_config_back_when_the_check_or_health_fails() {
    let fleet = Fleet::start(1);
    let apps = Apps::start(2);
    let nginx = Nginx::start(2, &apps);
    let before = std::fs::read_to_string(nginx.upstream()).expect("config");

    let failing_test = nginx_options(&fleet, &nginx)
        .replace("test: \"nginx -t -q", "test: \"false && nginx -t -q");
    let host = fleet.hosts[0].string();
    run(
        &fleet,
        "nginx",
        &failing_test,
        &apps,
        r#"lb().only("group2");"#,
    )
    .status(1)
    .stderr(&format!(
        r#"
        [{host}] Fatal error: nginx rejected the edited config: `false && nginx -t -q {}` failed on {host} (exit status 1); the old config is back
         --> fabfile.rhai:2:15
          |
        2 | fn t() {{ lb().only("group2"); }}
          |               ^

        Aborting.
        "#,
        nginx.flags()
    ))
    .run();
    assert_eq!(
        std::fs::read_to_string(nginx.upstream()).expect("config"),
        before
    );

    let options = nginx_options(&fleet, &nginx);
    run(&fleet, "nginx", &options, &apps, r#"lb().only("group2");"#).run();
    let out = std::fs::read_to_string(nginx.upstream()).expect("config");
    apps.break_app(0);
    run(&fleet, "nginx", &options, &apps, r#"lb().flip();"#)
        .status(1)
        .stderr_regex(&unhealthy(&host, &apps.addresses()[0]))
        .run();
    assert_eq!(
        std::fs::read_to_string(nginx.upstream()).expect("config"),
        out
    );
}

/// nginx counts nothing per server: the watch requests `watch_url` through it instead.
#[test]
fn nginx_is_watched_through_its_pages_and_the_failing_group_flipped_back() {
    let fleet = Fleet::start(1);
    let apps = Apps::start(4);
    let nginx = Nginx::start(4, &apps);
    let options = format!(
        "{}, check: \"curl -fsS -o /dev/null -m 5 http://{{server}}/health\"",
        nginx_options(&fleet, &nginx)
    );
    let a = apps.addresses();
    let host = fleet.hosts[0].string();
    run(&fleet, "nginx", &options, &apps, r#"lb().only("group2");"#).run();
    // group1's apps pass their health check, but answer 500 on their pages.
    apps.break_pages(0);
    apps.break_pages(1);
    let body = format!(
        // A loaded machine probes slower (18 in 10 s seen): 10 requests judge within the window,
        // after at least one line a second.
        r#"env.watch = 10; env.min_requests = 10; env.watch_url = "http://{}/"; lb().flip();"#,
        nginx.address
    );
    let ran = run(&fleet, "nginx", &options, &apps, &body).status(1).run();
    crate::test::assert_match(
        &ran.stderr,
        &crate::test::first_line(&pattern(
            &format!(
                "[{host}] Fatal error: the watch failed: with {a0} and {a1} (group1) live, <N> requests of http://{nginx}/ through the balancer, <N> failed (100.00%), more than 1.00% (max_error_rate); group2 is live again and group1 is out: deploy a release that works to group1 before bringing it live",
                a0 = a[0],
                a1 = a[1],
                nginx = nginx.address
            ),
            &[("<N>", r"\d+")],
        )),
    );
    // A line a second or so: the first tick's second depends on the machine's load.
    let tick = format!("/10s: http://{}/ (probes) ", nginx.address);
    assert!(
        ran.stdout
            .lines()
            .any(|line| line.starts_with("[lb] watch ") && line.contains(&tick)),
        "{}",
        ran.stdout
    );
    eventually(
        "nginx to serve group2 only",
        std::time::Duration::from_secs(10),
        || (nginx.serving() == ["b3", "b4"]).then_some(()),
    )
    .expect("the flip-back took");
}

/// The refusal to flip to group1 because `server` fails its check, from the fabfile `run` writes.
fn unhealthy(host: &str, server: &str) -> String {
    pattern(
        &format!(
            r#"
            [{host}] Fatal error: refusing to bring group1 live: not all of it passes its health checks ({server}: check exited with status <DETAIL>); nothing else was changed
             --> fabfile.rhai:2:15
              |
            2 | fn t() {{ lb().flip(); }}
              |               ^

            Aborting.
            "#
        ),
        &[("<DETAIL>", r"[^\n]+")],
    )
}

/// A load balancer made of a state file and a script that edits it.
fn command_lb(dir: &Path, servers: &[String]) -> String {
    let state = dir.join("state");
    let lines: Vec<String> = servers.iter().map(|s| format!("{s} live")).collect();
    std::fs::write(&state, lines.join("\n") + "\n").expect("state");
    let set = dir.join("lbctl");
    std::fs::write(
        &set,
        format!(
            "#!/bin/sh\ncase $2 in ready) s=live ;; *) s=$2 ;; esac\nsed -i \"s/^$1 .*/$1 $s/\" {}\n",
            state.display()
        ),
    )
    .expect("lbctl");
    Command::new("chmod")
        .arg("755")
        .arg(&set)
        .status()
        .expect("chmod");
    format!(
        "status: \"cat {}\", set: \"{} {{server}} {{state}}\", check: \"curl -fsS -o /dev/null -m 2 http://{{server}}/health\"",
        state.display(),
        set.display()
    )
}

#[test]
fn a_command_driver_moves_groups_and_refuses_unhealthy_ones() {
    let fleet = Fleet::start(1);
    let apps = Apps::start(3);
    let dir = tempfile::tempdir().expect("temp dir");
    // A backup "sorry" server, in no group: it never counts as keeping the site up.
    let mut servers = apps.addresses();
    servers.push("sorry".into());
    let options = command_lb(dir.path(), &servers);
    let a = apps.addresses();
    let state = || std::fs::read_to_string(dir.path().join("state")).expect("state");

    let host = fleet.hosts[0].string();
    run(
        &fleet,
        "command",
        &options,
        &apps,
        r#"lb().only("group2"); print(lb().live_groups());"#,
    )
    .mask_times()
    .stdout(&format!(
        r#"
        [{host}] Executing task 't'
        [lb] {}: live -> maint (group1)
        [lb] {}: live -> maint (group1)
        ["group2"]

        Summary:
            {host}  ok  TIME  t

        Done.
        "#,
        a[0], a[1]
    ))
    .run();
    assert_eq!(
        state(),
        format!(
            "{} maint\n{} maint\n{} live\n{} live\nsorry live\n",
            a[0], a[1], a[2], a[3]
        )
    );
    apps.break_app(1);
    run(&fleet, "command", &options, &apps, r#"lb().flip();"#)
        .status(1)
        .stderr_regex(&unhealthy(&host, &a[1]))
        .run();
    assert_eq!(
        state(),
        format!(
            "{} maint\n{} maint\n{} live\n{} live\nsorry live\n",
            a[0], a[1], a[2], a[3]
        ),
        "a refused flip changed the balancer"
    );
    run(
        &fleet,
        "command",
        &options,
        &apps,
        r#"let b = lb(); b.disable(b.status()[2].server); b.disable(b.status()[3].server);"#,
    )
    .status(1)
    .stderr(&format!(
        "
        [{host}] Fatal error: refusing to take `{}` out: it is the last live server
         --> fabfile.rhai:2:59
          |
        2 | fn t() {{ let b = lb(); b.disable(b.status()[2].server); b.disable(b.status()[3].server); }}
          |                                                           ^

        Aborting.
        ",
        a[3]
    ))
    .run();
}

/// `lb.flip()` in a fabfile that also has a task `flip`: Rhai tries script functions
/// before native ones and calls `fn flip()` for `x.flip()` too, so the task ran instead of
/// the load balancer's flip.
#[test]
fn a_method_call_on_a_load_balancer_is_not_taken_by_a_task_of_the_same_name() {
    let test = crate::test::Test::new();
    let dir = test.path().to_path_buf();
    std::fs::write(dir.join("state"), "s1 live\ns2 maint\n").expect("state");
    std::fs::write(
        dir.join("lbctl"),
        "#!/bin/sh\ncase $2 in ready) s=live ;; *) s=$2 ;; esac\nsed -i \"s/^$1 .*/$1 $s/\" state\n",
    )
    .expect("lbctl");
    let fabfile = format!(
        r#"
        fn flip() {{ puts("the task flip ran"); }}
        fn only(group) {{ puts("the task only ran"); }}
        fn rotate() {{
            let b = lb::command(#{{ status: "cat {d}/state", set: "cd {d} && sh lbctl {{server}} {{state}}",
                                   check: "true", groups: #{{ blue: ["s1"], green: ["s2"] }} }});
            puts(`live after flip: ${{b.flip()}}`);
            b.only("blue");
            puts(`live after only: ${{b.live_groups()}}`);
        }}
        "#,
        d = dir.display()
    );
    let ran = test
        .fabfile(&fabfile)
        .args(&["--set", "watch=0", "rotate"])
        .run();
    assert!(
        ran.stdout.contains("live after flip: green"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("live after only: [\"blue\"]"),
        "{}",
        ran.stdout
    );
    assert!(!ran.stdout.contains("the task"), "{}", ran.stdout);
    assert_eq!(
        std::fs::read_to_string(dir.join("state")).expect("state"),
        "s1 live\ns2 maint\n"
    );
}
