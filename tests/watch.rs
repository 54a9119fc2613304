//! The watch after a switch and the canary, on the demo fleet under load: a release that
//! passes its health check but fails its pages is flipped back by itself, a broken canary
//! goes out again with the live group untouched, and a good release passes both without a
//! failed request.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rfab_fleet::{Fleet, Load, Tally};

use crate::rollout::{fleet, lb_state, no_failures, rfab, tags};
use crate::test::{a_line, assert_match, first_line, pattern};

/// `rfab ARGS` on the fleet, started, its output going to files in the fleet's directory.
fn spawn(fleet: &Fleet, name: &str, args: &[&str]) -> Child {
    let log = |ext: &str| {
        std::fs::File::create(fleet.dir().join(format!("{name}.{ext}"))).expect("a log file")
    };
    fleet
        .rfab(args)
        .stdin(Stdio::null())
        .stdout(log("out"))
        .stderr(log("err"))
        .spawn()
        .expect("rfab starts")
}

/// The exit status and output of a spawned rfab, once it ended.
fn finish(fleet: &Fleet, name: &str, mut child: Child) -> (i32, String, String) {
    let status = crate::signals::wait_for_exit(&mut child);
    let read = |ext: &str| {
        std::fs::read_to_string(fleet.dir().join(format!("{name}.{ext}"))).unwrap_or_default()
    };
    (status, read("out"), read("err"))
}

/// What the client saw between two tallies.
fn since(before: &Tally, after: &Tally) -> (u64, u64) {
    (after.sent - before.sent, after.failed - before.failed)
}

/// The client's next `n` requests: all served, all by `version`.
fn all_served_by(load: &Load, n: u64, version: &str) {
    let before = load.tally();
    load.wait_for(n, Duration::from_secs(10))
        .expect("traffic flows");
    let after = load.tally();
    assert_eq!(since(&before, &after).1, 0, "requests failed: {after}");
    let served: Vec<&String> = after
        .versions
        .iter()
        .filter(|(v, n)| before.versions.get(*v) != Some(n))
        .map(|(v, _)| v)
        .collect();
    assert_eq!(served, [version], "{before} then {after}");
}

#[test]
fn a_release_failing_its_pages_is_flipped_back_by_the_watch() {
    let (fleet, load) = fleet(20);
    let broken = rfab_fleet::repo::broken(&fleet.repo).expect("the broken release");
    let lb_host = Fleet::host_string(&fleet.nodes[0]);
    let before = load.tally();
    let started = Instant::now();
    let (stdout, stderr) = rfab(
        &fleet,
        &["--set", "watch=30", "prod", &format!("rolling:{broken}")],
        1,
    );
    let took = started.elapsed();
    let after = load.tally();
    assert_match(
        &stderr,
        &first_line(&pattern(
            &format!(
                "[{lb_host}] Fatal error: the watch failed: web1 and web2 (group1) served <N> requests, <N> failed (<RATE>%), more than 1.00% (max_error_rate); group2 is live again and group1 is out: deploy a release that works to group1 before bringing it live"
            ),
            &[("<N>", r"\d+"), ("<RATE>", r"\d+\.\d\d")],
        )),
    );
    for line in [
        "[lb] web3: MAINT -> ready (group2)",
        "[lb] web1: UP -> maint (group1)",
    ] {
        assert_match(&stdout, &a_line(&pattern(line, &[])));
    }
    assert_match(
        &stdout,
        &a_line(&pattern(
            "[lb] watch failed: web1 and web2 (group1) served <N> requests, <N> failed (<RATE>%), more than 1.00% (max_error_rate)",
            &[("<N>", r"\d+"), ("<RATE>", r"\d+\.\d\d")],
        )),
    );
    assert_eq!(lb_state(&fleet), "web1 MAINT, web2 MAINT, web3 UP, web4 UP");
    assert_eq!(tags(&fleet), [broken, broken, "v3.0.0", "v3.0.0"]);
    // The failed requests are the broken group's, and there are only as many as it got
    // before the watch judged it: it was back out long before the window's 30 s.
    let (sent, failed) = since(&before, &after);
    assert!(took < Duration::from_secs(30), "took {took:?}:\n{stdout}");
    assert!(failed > 0 && failed < sent, "{failed} of {sent} failed");
    let by: Vec<&String> = after.failed_by.keys().collect();
    assert!(
        by.iter().all(|node| *node == "web1" || *node == "web2"),
        "failed answers from {by:?}"
    );
    all_served_by(&load, 100, "3.0.0");
}

#[test]
fn a_broken_canary_goes_out_again_and_the_live_group_never_changes() {
    let (fleet, load) = fleet(21);
    let broken = rfab_fleet::repo::broken(&fleet.repo).expect("the broken release");
    rfab(&fleet, &["prod", "proxy.group2"], 0);
    let before = load.tally();
    let rollout = spawn(
        &fleet,
        "canary",
        &[
            "--set",
            "watch=30",
            "prod",
            &format!("rolling:{broken},canary=1"),
        ],
    );
    let mut cleanup = crate::signals::Cleanup(vec![rollout.id()]);
    // Watched all along: group2 serves throughout, whatever the canary does.
    let mut changed = Vec::new();
    let mut rollout = Some(rollout);
    let deadline = Instant::now() + Duration::from_secs(60);
    while rollout
        .as_mut()
        .is_some_and(|r| r.try_wait().expect("try_wait").is_none())
    {
        let state = lb_state(&fleet);
        if !state.ends_with("web3 UP, web4 UP") {
            changed.push(state);
        }
        assert!(Instant::now() < deadline, "the rollout did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (status, stdout, stderr) = finish(&fleet, "canary", rollout.take().expect("rfab"));
    cleanup.0.clear();
    let after = load.tally();
    assert_eq!(status, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let lb_host = Fleet::host_string(&fleet.nodes[0]);
    assert_match(
        &stderr,
        &first_line(&pattern(
            &format!(
                "[{lb_host}] Fatal error: the canary failed: web1 (group1) served <N> requests, <N> failed (<RATE>%), more than 1.00% (max_error_rate); it is out again, and the live group serves as before: deploy a release that works to group1"
            ),
            &[("<N>", r"\d+"), ("<RATE>", r"\d+\.\d\d")],
        )),
    );
    assert!(changed.is_empty(), "the live group changed: {changed:?}");
    assert_eq!(lb_state(&fleet), "web1 MAINT, web2 MAINT, web3 UP, web4 UP");
    assert_eq!(tags(&fleet)[2..], ["v3.0.0", "v3.0.0"]);
    assert!(!stdout.contains("web2: MAINT -> ready"), "{stdout}");
    // Only the canary failed requests, and fewer than a quarter of them.
    let (sent, failed) = since(&before, &after);
    assert!(failed > 0, "the canary failed no request:\n{stdout}");
    assert_eq!(
        after.failed_by.into_iter().collect::<Vec<_>>(),
        [("web1".to_owned(), failed)]
    );
    assert!(failed * 4 < sent, "{failed} of {sent} failed");
    all_served_by(&load, 100, "3.0.0");
}

#[test]
fn a_good_release_passes_the_canary_and_the_watch_without_a_failed_request() {
    let (fleet, load) = fleet(22);
    // A canary count that is not a number stops it before any change.
    let (_, stderr) = rfab(&fleet, &["prod", "rolling:stable,canary=one"], 1);
    let lb_host = Fleet::host_string(&fleet.nodes[0]);
    assert_match(
        &stderr,
        &first_line(&pattern(
            &format!(
                "[{lb_host}] Fatal error: canary=one: give how many hosts of the group out of rotation go live first, canary=1 or more"
            ),
            &[],
        )),
    );
    assert_eq!(lb_state(&fleet), "web1 UP, web2 UP, web3 UP, web4 UP");

    let rollout = spawn(
        &fleet,
        "good",
        &["--set", "watch=6", "prod", "rolling:stable,canary=1"],
    );
    let mut cleanup = crate::signals::Cleanup(vec![rollout.id()]);
    rfab_fleet::process::eventually("the canary", Duration::from_secs(60), || {
        (lb_state(&fleet) == "web1 UP, web2 MAINT, web3 UP, web4 UP").then_some(())
    })
    .unwrap_or_else(|e| panic!("{e}: {}", lb_state(&fleet)));
    // Asked of the balancer while the canary is live, `status` says so.
    let (stdout, _) = rfab(&fleet, &["prod", "proxy.status"], 0);
    for line in [
        "group1 web1 live (canary) (UP, <N> sessions)",
        "group1 web2 out (MAINT, 0 sessions)",
        "group2 web3 live (UP, <N> sessions)",
    ] {
        assert_match(
            &stdout,
            &a_line(&pattern(&format!("[{lb_host}] {line}"), &[("<N>", r"\d+")])),
        );
    }
    let (stdout, _) = rfab(&fleet, &["prod", "status"], 0);
    assert_match(
        &stdout,
        &a_line(&pattern(
            &format!("[{lb_host}] group1 live (canary), v3.0.1 (<COMMIT>), no deploy lock"),
            &[("<COMMIT>", "[0-9a-f]{7}")],
        )),
    );
    let (status, stdout, stderr) = finish(&fleet, "good", rollout);
    cleanup.0.clear();
    assert_eq!(status, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    for line in [
        "[lb] watch passed: web1 (group1) served <N> requests, 0 failed (0.00%) in 6s",
        "[<HOST>] the canary [\"web1\"] passed the watch",
        "[lb] watch passed: web1 and web2 (group1) served <N> requests, 0 failed (0.00%) in 6s",
        "[lb] watch passed: web3 and web4 (group2) served <N> requests, 0 failed (0.00%) in 6s",
    ] {
        assert_match(
            &stdout,
            &a_line(&pattern(
                line,
                &[("<N>", r"\d+"), ("<HOST>", &regex::escape(&lb_host))],
            )),
        );
    }
    assert_match(
        &stdout,
        &a_line(&pattern(
            "[lb] watch 1s/6s: group1 (new) <N> requests, 0 failed (0.00%)",
            &[("<N>", r"\d+")],
        )),
    );
    assert_eq!(tags(&fleet), ["v3.0.1"; 4]);
    assert_eq!(lb_state(&fleet), "web1 UP, web2 UP, web3 UP, web4 UP");
    no_failures(load);
}

#[test]
fn the_watch_reports_as_json_events() {
    let (fleet, load) = fleet(23);
    rfab(&fleet, &["prod", "proxy.group2"], 0);
    let (stdout, _) = rfab(
        &fleet,
        &["--json", "--set", "watch=2", "prod", "proxy.all"],
        0,
    );
    let events = crate::json::check(&stdout, 0);
    let watch = events
        .iter()
        .find(|e| e["event"] == "watch")
        .unwrap_or_else(|| panic!("no watch event:\n{stdout}"));
    assert_eq!(watch["window"], 2.0);
    let traffic = watch["traffic"].as_array().expect("traffic");
    assert_eq!(
        traffic
            .iter()
            .map(|t| (t["group"].as_str(), t["role"].as_str()))
            .collect::<Vec<_>>(),
        [
            (Some("group1"), Some("new")),
            (Some("group2"), Some("live"))
        ]
    );
    let end: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["event"] == "watch_end")
        .collect();
    assert_eq!(end.len(), 1, "{stdout}");
    assert_eq!(end[0]["passed"], true);
    assert_eq!(end[0]["servers"], serde_json::json!(["web1", "web2"]));
    assert_eq!(end[0]["errors"], 0);
    no_failures(load);
}

#[test]
fn ctrl_c_during_the_watch_exits_130_leaving_the_switch_as_it_was() {
    let (fleet, load) = fleet(24);
    rfab(&fleet, &["prod", "proxy.group2"], 0);
    let flip = spawn(&fleet, "flip", &["--set", "watch=30", "prod", "proxy.flip"]);
    let mut cleanup = crate::signals::Cleanup(vec![flip.id()]);
    let out = fleet.dir().join("flip.out");
    rfab_fleet::process::eventually("the watch", Duration::from_secs(30), || {
        let text = std::fs::read_to_string(&out).ok()?;
        text.contains("[lb] watch 1s/30s").then_some(())
    })
    .expect("the watch started");
    crate::signals::signal(flip.id(), "INT");
    let (status, stdout, stderr) = finish(&fleet, "flip", flip);
    cleanup.0.clear();
    assert_eq!(status, 130, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_match(
        &stderr,
        &a_line(&pattern(
            "[lb] Warning: interrupted while watching web1 and web2 (group1) (<N> requests, 0 failed, after <N>s); it stays live and group2 out, as the switch left it",
            &[("<N>", r"\d+")],
        )),
    );
    assert_eq!(lb_state(&fleet), "web1 UP, web2 UP, web3 MAINT, web4 MAINT");
    no_failures(load);
}

#[test]
fn a_failed_watch_leaves_the_new_group_live_when_the_one_before_cannot_come_back() {
    let (fleet, _load) = fleet(25);
    let broken = rfab_fleet::repo::broken(&fleet.repo).expect("the broken release");
    rfab(&fleet, &["prod", "proxy.group2"], 0);
    rfab(&fleet, &["prod:group1", &format!("deploy:{broken}")], 0);
    // web3, live in group2, loses its release: it fails its health checks from now on.
    std::fs::remove_file(fleet.nodes[2].deploy_to.join("current")).expect("unlink");
    rfab_fleet::process::eventually("web3 to be DOWN", Duration::from_secs(10), || {
        lb_state(&fleet).contains("web3 DOWN").then_some(())
    })
    .unwrap_or_else(|e| panic!("{e}: {}", lb_state(&fleet)));
    let (_, stderr) = rfab(&fleet, &["--set", "watch=30", "prod", "proxy.group1"], 1);
    let lb_host = Fleet::host_string(&fleet.nodes[0]);
    assert_match(
        &stderr,
        &first_line(&pattern(
            &format!(
                "[{lb_host}] Fatal error: the watch failed: web1 and web2 (group1) served <N> requests, <N> failed (100.00%), more than 1.00% (max_error_rate); group2, live before, cannot come back (refusing to bring group2 live: not all of it passes its health checks (web3: DOWN <CHECK>); nothing else was changed), so group1 stays live and nothing else was changed: fix group2, or deploy a release that works to group1"
            ),
            &[("<N>", r"\d+"), ("<CHECK>", "[^)]+")],
        )),
    );
    assert_eq!(lb_state(&fleet), "web1 UP, web2 UP, web3 MAINT, web4 MAINT");
}

#[test]
fn ctrl_c_during_a_canary_puts_it_out_again_and_exits_130() {
    let (fleet, load) = fleet(26);
    let rollout = spawn(
        &fleet,
        "canary",
        &["--set", "watch=30", "prod", "rolling:stable,canary=1"],
    );
    let mut cleanup = crate::signals::Cleanup(vec![rollout.id()]);
    let out = fleet.dir().join("canary.out");
    rfab_fleet::process::eventually("the canary's watch", Duration::from_secs(60), || {
        let text = std::fs::read_to_string(&out).ok()?;
        text.contains("[lb] watch 1s/30s: group1 (canary)")
            .then_some(())
    })
    .expect("the canary is watched");
    crate::signals::signal(rollout.id(), "INT");
    let (status, stdout, stderr) = finish(&fleet, "canary", rollout);
    cleanup.0.clear();
    assert_eq!(status, 130, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_match(
        &stderr,
        &a_line(&pattern(
            "[lb] Warning: interrupted while watching the canary web1 (group1) (<N> requests, 0 failed, after <N>s); it is out again, without waiting for its open sessions",
            &[("<N>", r"\d+")],
        )),
    );
    assert_eq!(lb_state(&fleet), "web1 MAINT, web2 MAINT, web3 UP, web4 UP");
    assert_eq!(tags(&fleet)[2..], ["v3.0.0", "v3.0.0"]);
    no_failures(load);
}

#[test]
fn a_new_server_going_down_during_the_watch_flips_back_whatever_the_rate() {
    let (fleet, _load) = fleet(27);
    rfab(&fleet, &["prod", "proxy.group2"], 0);
    // Too many requests to judge by their rate: only a server going DOWN can fail this.
    let flip = spawn(
        &fleet,
        "flip",
        &[
            "--set",
            "watch=30,min_requests=1000000",
            "prod",
            "proxy.flip",
        ],
    );
    let mut cleanup = crate::signals::Cleanup(vec![flip.id()]);
    let out = fleet.dir().join("flip.out");
    rfab_fleet::process::eventually("the watch", Duration::from_secs(30), || {
        let text = std::fs::read_to_string(&out).ok()?;
        text.contains("[lb] watch 1s/30s").then_some(())
    })
    .expect("the watch started");
    // web1 loses its release: it fails its health checks, and HAProxy takes it DOWN.
    std::fs::remove_file(fleet.nodes[0].deploy_to.join("current")).expect("unlink");
    let (status, stdout, stderr) = finish(&fleet, "flip", flip);
    cleanup.0.clear();
    assert_eq!(status, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let lb_host = Fleet::host_string(&fleet.nodes[0]);
    assert_match(
        &stderr,
        &first_line(&pattern(
            &format!(
                "[{lb_host}] Fatal error: the watch failed: web1 is DOWN <CHECK>; web1 and web2 (group1) served <N> requests, <N> failed (<RATE>%); group2 is live again and group1 is out: deploy a release that works to group1 before bringing it live"
            ),
            &[
                ("<N>", r"\d+"),
                ("<RATE>", r"\d+\.\d\d"),
                ("<CHECK>", "[^;]+"),
            ],
        )),
    );
    assert_eq!(lb_state(&fleet), "web1 MAINT, web2 MAINT, web3 UP, web4 UP");
}
