//! `lb::haproxy` against a real HAProxy in front of four real web servers on loopback.

use std::process::Command;

use crate::sshd::eventually;
use crate::test::{Test, pattern};
use crate::web::Web;

/// HAProxy with backend `web` (web1..web4, health-checked every 100 ms) and its admin socket.
pub(crate) struct Balancer {
    dir: tempfile::TempDir,
    pid: u32,
    webs: Vec<Option<Web>>,
}

impl Balancer {
    pub(crate) fn start(net: u8) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let webs: Vec<Web> = (1..=4)
            .map(|i| Web::start(&format!("127.77.{net}.{i}")))
            .collect();
        let servers: Vec<String> = webs
            .iter()
            .enumerate()
            .map(|(i, w)| {
                format!(
                    "  server web{} 127.77.{net}.{}:{} check inter 100ms fall 1 rise 1\n",
                    i + 1,
                    i + 1,
                    w.port()
                )
            })
            .collect();
        let servers = servers.concat();
        let front = std::net::TcpListener::bind((format!("127.77.{net}.100").as_str(), 0))
            .expect("port")
            .local_addr()
            .expect("addr")
            .port();
        let config = format!(
            "global\n  stats socket {d}/admin.sock mode 600 level admin\n  pidfile {d}/haproxy.pid\n\
             defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
             frontend fe\n  bind 127.77.{net}.100:{front}\n  default_backend web\n\
             backend web\n  option httpchk GET /\n{servers}",
            d = dir.path().display()
        );
        std::fs::write(dir.path().join("haproxy.cfg"), config).expect("haproxy.cfg");
        let status = Command::new("haproxy")
            .arg("-D")
            .arg("-f")
            .arg(dir.path().join("haproxy.cfg"))
            .status()
            .expect("haproxy runs");
        assert!(status.success(), "haproxy failed to start");
        let pid_file = dir.path().join("haproxy.pid");
        let pid = eventually("haproxy's pid file", || {
            std::fs::read_to_string(&pid_file).ok()?.trim().parse().ok()
        });
        let balancer = Self {
            dir,
            pid,
            webs: webs.into_iter().map(Some).collect(),
        };
        eventually("every server to be UP", || {
            let out = balancer.fabfile_output("for s in lb().status() { print(s.status); }")?;
            (out.matches("UP").count() == 4).then_some(())
        });
        balancer
    }

    pub(crate) fn socket(&self) -> String {
        self.dir.path().join("admin.sock").display().to_string()
    }

    /// A fabfile with `lb()` giving this balancer, groups group1 = web1, web2 and group2 = web3, web4.
    /// No watch after a switch: these servers get no traffic to watch (the watch's tests
    /// are in `tests/watch.rs`, under load).
    fn fabfile(&self, body: &str) -> Test {
        Test::new().args(&["--set", "watch=0"]).fabfile(&format!(
            "fn lb() {{ lb::haproxy(#{{ socket: \"{}\", backend: \"web\", groups: #{{ group1: [\"web1\", \"web2\"], group2: [\"web3\", \"web4\"] }}, \
             drain_timeout: 5, health_timeout: 2, check_interval: 0.3 }}) }}\nfn t() {{ {body} }}",
            self.socket()
        ))
    }

    fn fabfile_output(&self, body: &str) -> Option<String> {
        let test = self.fabfile(body).args(&["t"]);
        let output = test.command().output().ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
    }
}

#[test]
fn only_flip_and_all_move_groups_and_say_what_changed() {
    let lb = Balancer::start(253);
    let ran = lb
        .fabfile(
            r#"
            let b = lb();
            b.only("group2");
            print(`out=${b.out_group()} live=${b.live_groups()}`);
            print(b.flip());
            print(`out=${b.out_group()} live=${b.live_groups()}`);
            b.all();
            print(`live=${b.live_groups()}`);
            "#,
        )
        .args(&["t"])
        .run();
    assert_eq!(
        ran.stdout,
        "[lb] web1: UP -> maint (group1)\n[lb] web2: UP -> maint (group1)\n\
         out=group1 live=[\"group2\"]\n\
         [lb] web1: MAINT -> ready (group1)\n[lb] web2: MAINT -> ready (group1)\n\
         [lb] web3: UP -> maint (group2)\n[lb] web4: UP -> maint (group2)\n\
         group1\nout=group2 live=[\"group1\"]\n\
         [lb] web3: MAINT -> ready (group2)\n[lb] web4: MAINT -> ready (group2)\n\
         live=[\"group1\", \"group2\"]\n\nDone.\n"
    );
}

#[test]
fn an_unhealthy_group_is_not_brought_live() {
    let mut lb = Balancer::start(254);
    lb.fabfile(r#"lb().only("group1");"#).args(&["t"]).run();
    lb.webs[2] = None; // web3's server stops: its health checks fail.
    lb.fabfile(r#"lb().only("group2");"#)
        .args(&["t"])
        .status(1)
        .stderr_regex(&pattern(
            r#"
            Fatal error: refusing to bring group2 live: not all of it passes its health checks (web3: DOWN <CHECK>); nothing else was changed
             --> fabfile.rhai:2:15
              |
            2 | fn t() { lb().only("group2"); }
              |               ^

            Aborting.
            "#,
            &[("<CHECK>", "[^)]+")],
        ))
        .run();
    let state = lb
        .fabfile_output(r#"print(lb().live_groups()); print(lb().out_group());"#)
        .expect("state");
    assert_eq!(state, "[\"group1\"]\ngroup2\n\nDone.\n");
}

#[test]
fn the_last_live_server_is_never_taken_out() {
    let lb = Balancer::start(255);
    let ran = lb
        .fabfile(r#"let b = lb(); b.only("group1"); b.disable("web1"); b.disable("web2");"#)
        .args(&["t"])
        .status(1)
        .run();
    assert!(
        ran.stderr
            .starts_with("Fatal error: refusing to take `web2` out: it is the last live server"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_dead_socket_is_a_clear_error() {
    Test::new()
        .fabfile(r#"fn t() { lb::haproxy(#{ socket: "/nonexistent/admin.sock", backend: "web", groups: #{ g: ["a"] } }).status(); }"#)
        .args(&["t"])
        .status(1)
        .stderr_starts_with(
            "Fatal error: cannot talk to HAProxy's runtime API at `/nonexistent/admin.sock`: No such file or directory (os error 2); \
             check that HAProxy runs and haproxy.cfg has a `stats socket` there\n",
        )
        .run();
}

/// An infinite or huge `check_interval` made `Duration::from_secs_f64` panic.
#[test]
fn an_infinite_check_interval_is_refused_not_a_panic() {
    Test::new()
        .fabfile(r#"fn t() { lb::haproxy(#{ socket: "/nonexistent/admin.sock", backend: "web", groups: #{ g: ["a"] }, check_interval: 1e300 }); }"#)
        .args(&["t"])
        .status(1)
        .stderr_starts_with(
            "Fatal error: lb::haproxy: `check_interval` must be a number of seconds from 0 to 2147483647 \
             (like 30 or 2.5), not `1e300`\n",
        )
        .run();
}

#[test]
fn the_socket_on_another_host_is_reached_over_ssh() {
    let lb = Balancer::start(247);
    let fleet = crate::sshd::Fleet::start(1);
    let host = fleet.hosts[0].string();
    let fabfile = format!(
        "fn t() {{ let b = lb::haproxy(#{{ ssh: \"{host}\", socket: \"{}\", backend: \"web\", \
         groups: #{{ group1: [\"web1\", \"web2\"], group2: [\"web3\", \"web4\"] }}, check_interval: 0.3 }}); \
         b.only(\"group1\"); print(out_group(b)); b.all(); print(live_groups(b)); }}",
        lb.socket()
    );
    fleet
        .test()
        .fabfile(&fabfile)
        .args(&["--hide", "status", "--set", "watch=0", "t"])
        .stdout(
            r#"
            [lb] web3: UP -> maint (group2)
            [lb] web4: UP -> maint (group2)
            group2
            [lb] web3: MAINT -> ready (group2)
            [lb] web4: MAINT -> ready (group2)
            ["group1", "group2"]
            "#,
        )
        .run();
    assert_eq!(
        fleet.hosts[0].logins(),
        1,
        "one SSH connection for every command"
    );
}

#[test]
fn a_dry_run_says_what_would_change_and_changes_nothing() {
    let lb = Balancer::start(246);
    let ran = lb
        .fabfile(r#"lb().only("group2");"#)
        .args(&["--dry-run", "t"])
        .run();
    assert_eq!(
        ran.stdout,
        "[lb] web1: UP -> maint (group1) (dry run: not changed)\n\
         [lb] web2: UP -> maint (group1) (dry run: not changed)\n\nDone.\n"
    );
    let state = lb
        .fabfile_output(r#"print(lb().live_groups());"#)
        .expect("state");
    assert_eq!(state, "[\"group1\", \"group2\"]\n\nDone.\n");
}

// Servers left draining by a flip that failed half-way (HAProxy went away under it) were
// reported as "a group is on its way in or out; try again when that ends", though nothing
// was moving them and waiting could never help.
#[test]
fn a_stuck_drain_is_named_with_the_way_out_not_try_again() {
    let lb = Balancer::start(252);
    lb.fabfile(r#"let b = lb(); b.only("group2"); b.drain("web1"); b.drain("web2");"#)
        .args(&["t"])
        .run();
    let ran = lb
        .fabfile("print(lb().flip());")
        .args(&["t"])
        .status(1)
        .run();
    // The balancer's timeouts are 5 s (drain) and 2 s (health).
    assert!(
        ran.stderr.starts_with(
            "Fatal error: web1, web2 of group1 still draining after 8s, longer than any rfab \
             operation keeps a server draining: an earlier one was interrupted or failed \
             half-way (web1 DRAIN, web2 DRAIN, web3 UP, web4 UP)\n\
             hint: put the groups in a definite state with `lb.all()` (all live) or \
             `lb.only(GROUP)`"
        ),
        "{}",
        ran.stderr
    );
    assert!(
        !ran.stderr.contains("try again when that ends"),
        "{}",
        ran.stderr
    );
    // The way out the message gives works.
    lb.fabfile(r#"let b = lb(); b.only("group2"); print(b.out_group()); print(b.flip());"#)
        .args(&["t"])
        .stdout(
            "
            [lb] web1: DRAIN -> maint (group1)
            [lb] web2: DRAIN -> maint (group1)
            group1
            [lb] web1: MAINT -> ready (group1)
            [lb] web2: MAINT -> ready (group1)
            [lb] web3: UP -> maint (group2)
            [lb] web4: UP -> maint (group2)
            group1

            Done.
            ",
        )
        .run();
}
