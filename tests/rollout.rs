//! The README's rolling hotfix with the root fabfile, end to end, on the demo fleet
//! (`rfab-fleet`: web nodes that are real sshd hosts with their own /srv, HAProxy in front)
//! while a client keeps requesting pages through HAProxy: zero failed requests, and the
//! faults that must stop a rollout with the live group serving.

use std::process::Output;
use std::time::Duration;

use rfab_fleet::{Fleet, Load, Options, Tally};

use crate::test::{RELEASE_STAMP, RFAB, a_line, assert_match, first_line, pattern};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fabfile.rhai");

/// A short watch after each switch: long enough to judge the client's requests, short
/// enough for tests that are not about the watch (those are in `tests/watch.rs`).
pub(crate) const WATCH: &str = "watch=1";

/// Two groups of two nodes on 127.78.`net`.x, v3.0.0 everywhere, and a client requesting
/// pages through HAProxy.
pub(crate) fn fleet(net: u8) -> (Fleet, Load) {
    let fleet = Fleet::start(Options {
        per_group: 2,
        network: [127, 78, net],
        check_interval: Duration::from_millis(300),
        fabfile: ROOT.into(),
        rfab: RFAB.into(),
    })
    .unwrap_or_else(|e| panic!("the fleet did not start: {e}"));
    let load = Load::start(fleet.balancer.frontend, 2, Duration::from_millis(5));
    load.wait_for(20, Duration::from_secs(10))
        .expect("traffic flows");
    (fleet, load)
}

/// Runs `rfab ARGS` on the fleet; its output, checked against the exit status expected.
/// Each group brought live is watched for a second (`WATCH`), under the client's load.
pub(crate) fn rfab(fleet: &Fleet, args: &[&str], status: i32) -> (String, String) {
    let Output {
        status: got,
        stdout,
        stderr,
    } = fleet
        .rfab(&[&["--set", WATCH], args].concat())
        .output()
        .expect("rfab runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    );
    assert_eq!(
        got.code(),
        Some(status),
        "rfab {args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    (stdout, stderr)
}

/// Every node's live tag, in node order.
pub(crate) fn tags(fleet: &Fleet) -> Vec<String> {
    fleet
        .nodes
        .iter()
        .map(|n| n.live_tag().unwrap_or_default())
        .collect()
}

/// The hosts a run executed `task` on, in order.
fn executed_on(stdout: &str, task: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| l.ends_with(&format!("] Executing task '{task}'")))
        .map(|l| l[1..l.find(']').expect("a prefix")].to_owned())
        .collect()
}

pub(crate) fn hosts_of(fleet: &Fleet, group: usize) -> Vec<String> {
    fleet
        .group(group)
        .iter()
        .map(|n| Fleet::host_string(n))
        .collect()
}

/// The load balancer's view: `web1 UP, web2 MAINT, ...`.
pub(crate) fn lb_state(fleet: &Fleet) -> String {
    fleet.balancer.describe()
}

/// Stops the client after 20 more requests, and checks that none failed all along.
pub(crate) fn no_failures(load: Load) -> Tally {
    load.wait_for(20, Duration::from_secs(10))
        .expect("traffic flows");
    let tally = load.stop();
    assert_eq!(
        tally.failed, 0,
        "requests failed: {tally}: {:?}",
        tally.failures
    );
    tally
}

#[test]
fn the_five_commands_roll_the_hotfix_out_under_load_without_a_failed_request() {
    let (fleet, load) = fleet(1);
    let (stdout, _) = rfab(&fleet, &["prod", "proxy.group2"], 0);
    assert_match(
        &stdout,
        &a_line(&pattern(
            "[lb] web1: UP -> maint (group1)\n[lb] web2: UP -> maint (group1)",
            &[],
        )),
    );
    assert_eq!(lb_state(&fleet), "web1 MAINT, web2 MAINT, web3 UP, web4 UP");

    let (stdout, _) = rfab(&fleet, &["prod:out", "deploy:stable"], 0);
    assert_eq!(executed_on(&stdout, "deploy"), hosts_of(&fleet, 1));
    assert_eq!(tags(&fleet), ["v3.0.1", "v3.0.1", "v3.0.0", "v3.0.0"]);

    rfab(&fleet, &["prod", "proxy.flip"], 0);
    assert_eq!(lb_state(&fleet), "web1 UP, web2 UP, web3 MAINT, web4 MAINT");
    let (stdout, _) = rfab(&fleet, &["prod:out", "deploy:stable"], 0);
    assert_eq!(executed_on(&stdout, "deploy"), hosts_of(&fleet, 2));
    assert_eq!(tags(&fleet), ["v3.0.1"; 4]);

    let (stdout, _) = rfab(&fleet, &["prod", "status"], 0);
    for (group, state) in [(1, "group1 live"), (2, "group2 out")] {
        for host in hosts_of(&fleet, group) {
            assert_match(
                &stdout,
                &a_line(&pattern(
                    &format!("[{host}] {state}, v3.0.1 (<COMMIT>), no deploy lock"),
                    &[("<COMMIT>", "[0-9a-f]{7}")],
                )),
            );
        }
    }
    rfab(&fleet, &["prod", "proxy.all"], 0);
    assert_eq!(lb_state(&fleet), "web1 UP, web2 UP, web3 UP, web4 UP");
    let (_, stderr) = rfab(&fleet, &["prod:out", "hosts"], 1);
    assert!(
        stderr.starts_with("Fatal error: no group is out of rotation (web1 UP, web2 UP, web3 UP, web4 UP); take one out first, e.g. with only()"),
        "{stderr}"
    );
    let tally = no_failures(load);
    assert!(
        tally.versions.contains_key("3.0.0") && tally.versions.contains_key("3.0.1"),
        "{tally}"
    );
}

#[test]
fn rolling_does_it_all_in_one_command_under_load() {
    let (fleet, load) = fleet(2);
    let (stdout, _) = rfab(&fleet, &["prod", "rolling:stable"], 0);
    assert_eq!(tags(&fleet), ["v3.0.1"; 4], "{stdout}");
    let lb_host = Fleet::host_string(&fleet.nodes[0]);
    for (to, serving) in [("group1", "group2"), ("group2", "group1")] {
        assert_match(
            &stdout,
            &a_line(&pattern(
                &format!("[{lb_host}] deploying stable to {to}, while [\"{serving}\"] serves"),
                &[],
            )),
        );
    }
    assert_eq!(lb_state(&fleet), "web1 UP, web2 UP, web3 UP, web4 UP");
    no_failures(load);
}

#[test]
fn a_deploy_failing_on_one_node_stops_the_rollout_before_the_flip() {
    let (fleet, load) = fleet(3);
    rfab(&fleet, &["prod", "proxy.group2"], 0);
    // web2 (group1, out of rotation) cannot take the release: its deploy path is a file.
    let blocked = &fleet.nodes[1].deploy_to;
    std::fs::remove_dir_all(blocked).expect("remove");
    std::fs::write(blocked, "not a directory").expect("block");
    let (stdout, stderr) = rfab(&fleet, &["prod", "rolling:stable"], 1);
    let web2 = Fleet::host_string(&fleet.nodes[1]);
    let lb_host = Fleet::host_string(&fleet.nodes[0]);
    assert_match(
        &stderr,
        &first_line(&pattern(
            &format!(
                "[{lb_host}] Fatal error: cannot use the deploy path /srv/opensky on {web2}: mkdir: cannot create directory '/srv/opensky': File exists"
            ),
            &[],
        )),
    );
    assert!(
        !stdout.contains("-> ready"),
        "something was flipped:\n{stdout}"
    );
    assert_eq!(lb_state(&fleet), "web1 MAINT, web2 MAINT, web3 UP, web4 UP");
    assert_eq!(
        tags(&fleet)[2..],
        ["v3.0.0", "v3.0.0"],
        "the live group changed"
    );
    no_failures(load);
}

#[test]
fn a_failed_health_check_on_a_live_host_says_its_users_were_served_it() {
    let (fleet, _load) = fleet(9);
    let failing = "health_url=http://127.0.0.1:9/,health_timeout=1";
    let (_, stderr) = rfab(
        &fleet,
        &["--set", failing, "prod:group1", "deploy:stable"],
        1,
    );
    let web1 = Fleet::host_string(&fleet.nodes[0]);
    assert_match(
        &stderr,
        &first_line(&pattern(
            &format!(
                "[{web1}] Fatal error: the release v3.0.1-<STAMP> failed its health check on {web1}; v3.0.0 serves again; {web1} is live in the load balancer, so its users were served the failing release while it was checked: deploy to the group that is out (rfab prod:out deploy:stable)"
            ),
            &[RELEASE_STAMP],
        )),
    );
    assert_eq!(
        tags(&fleet)[..2],
        ["v3.0.0", "v3.0.0"],
        "the release stayed"
    );
    // Out of rotation, the same failure says nothing of users.
    rfab(&fleet, &["prod", "proxy.group2"], 0);
    let (_, stderr) = rfab(
        &fleet,
        &["--set", failing, "prod:group1", "deploy:stable"],
        1,
    );
    assert!(!stderr.contains("is live in the load balancer"), "{stderr}");
}

#[test]
fn a_release_failing_its_health_check_never_serves_and_the_live_group_serves_on() {
    // The demo's `--fail` (issue #12), on the fleet's own unhealthy release: the deploy to
    // the group out stops at its first host, which serves v3.0.0 again, and no request is
    // ever answered by the release.
    let (fleet, load) = fleet(10);
    let unhealthy = rfab_fleet::repo::unhealthy(&fleet.repo).expect("the unhealthy release");
    rfab(&fleet, &["prod", "proxy.group2"], 0);
    let (_, stderr) = rfab(
        &fleet,
        &[
            "--set",
            "health_timeout=2",
            "prod:out",
            &format!("deploy:{unhealthy}"),
        ],
        1,
    );
    assert_match(
        &stderr,
        &first_line(&pattern(
            "[web1] Fatal error: the release v3.0.2-unhealthy-<STAMP> failed its health check on web1; v3.0.0 serves again",
            &[RELEASE_STAMP],
        )),
    );
    assert_eq!(tags(&fleet), ["v3.0.0"; 4]);
    assert_eq!(lb_state(&fleet), "web1 MAINT, web2 MAINT, web3 UP, web4 UP");
    rfab(&fleet, &["prod", "proxy.all"], 0);
    let tally = no_failures(load);
    assert_eq!(
        tally.versions.keys().collect::<Vec<_>>(),
        ["3.0.0"],
        "{tally}"
    );
}

#[test]
fn an_unreachable_lb_socket_is_a_clear_error_before_any_change() {
    let (fleet, load) = fleet(4);
    let inventory = std::fs::read_to_string(&fleet.inventory).expect("inventory");
    let socket = fleet.balancer.socket.display().to_string();
    std::fs::write(
        &fleet.inventory,
        inventory.replace(&socket, "/nonexistent/haproxy.sock"),
    )
    .expect("inventory");
    let lb_host = Fleet::host_string(&fleet.nodes[0]);
    for args in [
        &["prod", "proxy.group2"][..],
        &["prod:out", "deploy:stable"],
        &["prod", "rolling:stable"],
    ] {
        let (_, stderr) = rfab(&fleet, args, 1);
        // `prod:out` asks the balancer before any host is chosen: that error names none.
        assert_match(
            &stderr,
            &first_line(&format!(
                r"(?:\[{}\] )?{}",
                regex::escape(&lb_host),
                regex::escape(
                    "Fatal error: cannot talk to HAProxy's runtime API at `/nonexistent/haproxy.sock`: No such file or directory (os error 2); check that HAProxy runs and haproxy.cfg has a `stats socket` there"
                )
            )),
        );
    }
    assert_eq!(tags(&fleet), ["v3.0.0"; 4], "a node was deployed to");
    assert_eq!(lb_state(&fleet), "web1 UP, web2 UP, web3 UP, web4 UP");
    no_failures(load);
}

#[test]
fn a_node_lost_mid_rollout_stops_it_with_the_live_group_serving() {
    let (mut fleet, load) = fleet(5);
    let rollout = fleet
        .rfab(&["--set", WATCH, "prod", "rolling:stable"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("rfab runs");
    // Right after the flip (group1 live on v3.0.1, group2 out), web4's sshd dies.
    rfab_fleet::process::eventually("the flip", Duration::from_secs(60), || {
        (lb_state(&fleet) == "web1 UP, web2 UP, web3 MAINT, web4 MAINT").then_some(())
    })
    .expect("the rollout reaches the flip");
    fleet.nodes[3].kill_sshd();
    let done = rollout.wait_with_output().expect("rfab ends");
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot connect to `web4` ({})",
            fleet.nodes[3].host()
        )),
        "{stderr}"
    );
    assert_eq!(
        lb_state(&fleet),
        "web1 UP, web2 UP, web3 MAINT, web4 MAINT",
        "the live group must keep serving"
    );
    assert_eq!(tags(&fleet)[..2], ["v3.0.1", "v3.0.1"]);
    no_failures(load);
}

#[test]
fn only_and_flip_refuse_to_bring_an_unhealthy_group_live() {
    let (fleet, load) = fleet(6);
    rfab(&fleet, &["prod", "proxy.group2"], 0);
    // group1's web1 has no live release any more: its health checks fail.
    std::fs::remove_file(fleet.nodes[0].deploy_to.join("current")).expect("unlink");
    let lb_host = Fleet::host_string(&fleet.nodes[0]);
    for task in ["proxy.flip", "proxy.group1"] {
        let (_, stderr) = rfab(&fleet, &["prod", task], 1);
        assert_match(
            &stderr,
            &first_line(&pattern(
                &format!(
                    "[{lb_host}] Fatal error: refusing to bring group1 live: not all of it passes its health checks (web1: DOWN <CHECK>); nothing else was changed"
                ),
                &[("<CHECK>", "[^)]+")],
            )),
        );
        assert_eq!(
            lb_state(&fleet),
            "web1 MAINT, web2 MAINT, web3 UP, web4 UP",
            "{task} changed the balancer"
        );
    }
    no_failures(load);
}

#[test]
fn a_group_goes_to_maintenance_only_after_its_open_requests_end() {
    let (fleet, load) = fleet(7);
    rfab(&fleet, &["prod", "proxy.group1"], 0);
    // Two slow requests (two seconds each) open on group1, the only live group.
    let frontend = fleet.balancer.frontend;
    let slow: Vec<_> = (0..2)
        .map(|_| {
            std::thread::spawn(move || {
                let answer = rfab_fleet::load::get(frontend, "/slow");
                (answer, std::time::Instant::now())
            })
        })
        .collect();
    rfab_fleet::process::eventually("the slow requests to open", Duration::from_secs(10), || {
        let open = fleet.balancer.sessions("web1").ok()? + fleet.balancer.sessions("web2").ok()?;
        (open >= 2).then_some(())
    })
    .expect("sessions on group1");
    let (stdout, _) = rfab(&fleet, &["prod", "proxy.group2"], 0);
    let switched = std::time::Instant::now();
    for request in slow {
        let (answer, ended) = request.join().expect("a slow request");
        assert_eq!(answer.as_deref(), Ok("3.0.0"), "a slow request failed");
        assert!(
            ended <= switched,
            "group1 went to maintenance before its requests ended:\n{stdout}"
        );
    }
    assert_eq!(lb_state(&fleet), "web1 MAINT, web2 MAINT, web3 UP, web4 UP");
    no_failures(load);
}

#[test]
fn a_dry_run_of_the_rollout_changes_nothing_and_contacts_no_node() {
    let (fleet, load) = fleet(8);
    let logins =
        |fleet: &Fleet| -> usize { fleet.nodes.iter().map(rfab_fleet::node::Node::logins).sum() };
    let before = logins(&fleet);
    let (stdout, _) = rfab(&fleet, &["--dry-run", "prod", "rolling:stable"], 0);
    for line in [
        "[lb] web1: UP -> maint (group1) (dry run: not changed)\n",
        "deploying stable to group2, while [\"group1\"] serves\n",
        "[lb] web4: MAINT -> ready (group2) (dry run: not changed)\n",
    ] {
        assert!(stdout.contains(line), "no {line:?} in:\n{stdout}");
    }
    assert_eq!(
        stdout.matches("release: would go to v3.0.1 (").count(),
        4,
        "{stdout}"
    );
    // The five commands on one command line: each prod:out sees the planned flip.
    let (stdout, _) = rfab(
        &fleet,
        &[
            "--dry-run",
            "prod",
            "proxy.group2",
            "prod:out",
            "deploy:stable",
            "prod",
            "proxy.flip",
            "prod:out",
            "deploy:stable",
            "prod",
            "proxy.all",
        ],
        0,
    );
    let mut both = hosts_of(&fleet, 1);
    both.extend(hosts_of(&fleet, 2));
    assert_eq!(executed_on(&stdout, "deploy"), both, "{stdout}");
    assert_eq!(lb_state(&fleet), "web1 UP, web2 UP, web3 UP, web4 UP");
    assert_eq!(tags(&fleet), ["v3.0.0"; 4]);
    assert_eq!(logins(&fleet), before, "a dry run logged in to a node");
    no_failures(load);
}

// Ctrl-C during a flip's drain wait ended rfab with status 1, as a failed task.
#[test]
fn ctrl_c_during_a_flips_drain_exits_130_with_each_group_wholly_in_or_out() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use crate::signals::{Cleanup, signal, wait_for_exit};

    let (fleet, load) = fleet(9);
    rfab(&fleet, &["prod", "proxy.group1"], 0);
    // Slow requests (two seconds each), one after another from several clients: whenever
    // group1 starts draining, some of them are still open on it, so the drain waits.
    let frontend = fleet.balancer.frontend;
    let stop = Arc::new(AtomicBool::new(false));
    let slow: Vec<_> = (0..8)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _ = rfab_fleet::load::get(frontend, "/slow");
                }
            })
        })
        .collect();
    rfab_fleet::process::eventually("slow requests on group1", Duration::from_secs(10), || {
        let open = fleet.balancer.sessions("web1").ok()? + fleet.balancer.sessions("web2").ok()?;
        (open >= 2).then_some(())
    })
    .expect("sessions on group1");
    let log = |name: &str| std::fs::File::create(fleet.dir().join(name)).expect("a log file");
    let mut flip = fleet
        .rfab(&["prod", "proxy.flip"])
        .stdin(std::process::Stdio::null())
        .stdout(log("flip.out"))
        .stderr(log("flip.err"))
        .spawn()
        .expect("rfab starts");
    let mut cleanup = Cleanup(vec![flip.id()]);
    // group2 came in; group1 is draining, waiting for its slow requests.
    rfab_fleet::process::eventually("group1 to drain", Duration::from_secs(30), || {
        let state = lb_state(&fleet);
        state.contains("web1 DRAIN").then_some(())
    })
    .unwrap_or_else(|e| panic!("{e}: {}", lb_state(&fleet)));
    signal(flip.id(), "INT");
    let status = wait_for_exit(&mut flip);
    cleanup.0.clear();
    stop.store(true, Ordering::Relaxed);
    for thread in slow {
        thread.join().expect("a slow client");
    }
    let read = |name: &str| std::fs::read_to_string(fleet.dir().join(name)).unwrap_or_default();
    let (stdout, stderr) = (read("flip.out"), read("flip.err"));
    assert_eq!(status, 130, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.contains("[lb] Warning: interrupted while group1 drained; it went to maintenance"),
        "stderr:\n{stderr}"
    );
    assert_eq!(
        lb_state(&fleet),
        "web1 MAINT, web2 MAINT, web3 UP, web4 UP",
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    no_failures(load);
}
