//! The demo itself, as a timeline a first-time viewer can follow: the hotfix cut with rfab,
//! then each rollout command under load, one numbered step at a time, each followed by a
//! table of the fleet (group, HAProxy's state, the version each node serves, the requests
//! it served) and the requests per version since the step before; then the verdict.
//!
//! rfab's output is quiet unless `--verbose`: what changed and what failed, indented under
//! each step. `--slow` pauses between steps; `--fail` rolls out a hotfix that fails its
//! health check, which rfab must stop before it goes live while the live group serves.

use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rfab_fleet::{Fleet, Load, Timeline, repo, timeline};

use crate::{Failure, USAGE, option, say, start};

/// The watch after each switch: short, so the demo shows it without waiting 30 s for each;
/// and a health check that gives up after 3 s (the fleet's app answers at once).
const SETTINGS: &str = "watch=5,health_timeout=3";

/// rfab's output levels hidden unless `--verbose`: each command, its output, the summary.
/// What is left says what changed (`[lb] ...`, `release: ...`) and what failed.
const QUIET: &str = "running,stdout,status";

/// The same for the `proxy.*` tasks, whose own lines (each server's state) the table shows.
const QUIET_PROXY: &str = "running,stdout,status,user";

/// Indentation of everything under a step's header.
const INDENT: &str = "      ";

/// How the demo runs, from its command line.
#[allow(clippy::struct_excessive_bools)] // one switch per flag
struct Choices {
    per_group: usize,
    rolling: bool,
    fail: bool,
    slow: bool,
    verbose: bool,
}

/// One step of the timeline.
struct Step {
    /// The command as the viewer reads it: `rfab prod proxy.flip`.
    shown: &'static str,
    /// What it does, in words.
    about: &'static str,
    action: Action,
    /// Words its error must hold: the step must fail so (the `--fail` scenario's deploy).
    fails_with: Option<&'static str>,
}

enum Action {
    /// rfab with these arguments, in the developer's clone of the app.
    Hotfix(&'static str),
    /// The fix, committed in the clone (with `--fail`, one that fails its health check).
    Fix,
    /// rfab with these arguments on the fleet.
    Rollout(&'static [&'static str]),
}

/// The demo's flags; `--per-group` takes a number.
const FLAGS: [&str; 4] = ["--rolling", "--fail", "--slow", "--verbose"];

pub(crate) fn demo(args: &[String], interrupted: &AtomicBool) -> Result<(), Failure> {
    let per_group_value = args.iter().position(|a| a == "--per-group").map(|i| i + 1);
    if let Some((_, unknown)) = args.iter().enumerate().find(|(i, a)| {
        !FLAGS.contains(&a.as_str()) && *a != "--per-group" && Some(*i) != per_group_value
    }) {
        return Err(format!("unknown option `{unknown}`\n{USAGE}").into());
    }
    let choices = Choices {
        per_group: option(args, "--per-group", 2)?,
        rolling: args.iter().any(|a| a == "--rolling"),
        fail: args.iter().any(|a| a == "--fail"),
        slow: args.iter().any(|a| a == "--slow"),
        verbose: args.iter().any(|a| a == "--verbose"),
    };
    say(&format!(
        "Starting the demo fleet: {} web nodes (each a real sshd with its own /srv, and an app serving its live VERSION), HAProxy in front, the demo app's origin repository (v3.0.0, with a bug on main), and v3.0.0 deployed everywhere...",
        choices.per_group * 2
    ));
    let started = Instant::now();
    let fleet = start(choices.per_group, Fleet::start_before_hotfix)?;
    say(&format!(
        "Fleet up in {:.1}s: HAProxy on {}; the nodes are hosts of the fleet's ssh_config ({}); files in {}",
        started.elapsed().as_secs_f64(),
        fleet.balancer.frontend,
        fleet
            .nodes
            .iter()
            .map(|n| format!("{} is {}", n.name, Fleet::address_string(n)))
            .collect::<Vec<_>>()
            .join(", "),
        fleet.dir().display()
    ));
    say(&format!(
        "Each rfab below runs with `--set {SETTINGS}`{}.",
        if choices.verbose {
            String::new()
        } else {
            format!(" and `--hide {QUIET}` (--verbose shows all)")
        }
    ));
    let work = fleet.dir().join("work/opensky");
    repo::working_clone(&fleet.repo, &work)?;
    let steps = steps(&choices);
    let mut numbers = (1..=steps.len()).map(|n| format!("[{n}/{}]", steps.len()));
    let (hotfix, rollout) = steps.split_at(3);
    say(&format!(
        "\nThe hotfix, cut with rfab in a developer's clone of the app ({}):",
        work.display()
    ));
    for step in hotfix {
        pause(&choices, interrupted)?;
        run(
            step,
            &numbers.next().unwrap_or_default(),
            &fleet,
            &work,
            &choices,
            interrupted,
        )?;
    }
    let load = Load::start(fleet.balancer.frontend, 2, Duration::from_millis(5));
    let mut table = Timeline::new(&fleet, &load);
    load.wait_for(20, Duration::from_secs(10))?;
    say(&format!(
        "\nThe rollout. A client now requests pages through HAProxy ({}) without pause; the fleet before it:\n",
        fleet.balancer.frontend
    ));
    print!("{}", table.table(INDENT, "since the client started"));
    let took = Instant::now();
    for step in rollout {
        pause(&choices, interrupted)?;
        run(
            step,
            &numbers.next().unwrap_or_default(),
            &fleet,
            &work,
            &choices,
            interrupted,
        )?;
        say("");
        print!("{}", table.table(INDENT, "since the last step"));
    }
    verdict(&fleet, load, &choices, took.elapsed())
}

/// The steps: the hotfix (three), then the rollout.
fn steps(choices: &Choices) -> Vec<Step> {
    let step = |shown, about, action| Step {
        shown,
        about,
        action,
        fails_with: None,
    };
    let mut steps = vec![
        step(
            "rfab hotfix.start:3.0.1",
            "hotfix/3.0.1 from origin/main, the version files bumped to 3.0.1",
            Action::Hotfix("hotfix.start:3.0.1"),
        ),
        step(
            "git commit -a -m 'Charge the right total'",
            if choices.fail {
                "the fix, in opensky/src/cart.sh; by mistake it breaks the app's /health (an UNHEALTHY file)"
            } else {
                "the fix, in opensky/src/cart.sh"
            },
            Action::Fix,
        ),
        step(
            "rfab hotfix.finish",
            "merged into main and tagged v3.0.1, merged into develop, pushed",
            Action::Hotfix("hotfix.finish"),
        ),
    ];
    let deploy = if choices.rolling {
        step(
            "rfab prod rolling:stable",
            "the five rollout commands in one: group2 only, deploy group1, flip, deploy group2, all live",
            Action::Rollout(&["prod", "rolling:stable"]),
        )
    } else {
        step(
            "rfab prod:out deploy:stable",
            "deploy the latest stable tag (v3.0.1) to the group HAProxy has out of rotation: group1",
            Action::Rollout(&["prod:out", "deploy:stable"]),
        )
    };
    if choices.fail {
        if !choices.rolling {
            steps.push(group2_only(step));
        }
        steps.push(Step {
            fails_with: Some("failed its health check"),
            ..deploy
        });
        steps.push(step(
            "rfab prod proxy.all",
            "the way back: group1, still on v3.0.0, live again beside group2 (watched 5 s)",
            Action::Rollout(&["prod", "proxy.all"]),
        ));
        return steps;
    }
    if choices.rolling {
        steps.push(deploy);
        return steps;
    }
    steps.extend([
        group2_only(step),
        deploy,
        step(
            "rfab prod proxy.flip",
            "swap: group1 (now v3.0.1) live once it passes HAProxy's health checks, group2 out (watched 5 s)",
            Action::Rollout(&["prod", "proxy.flip"]),
        ),
        step(
            "rfab prod:out deploy:stable",
            "the same command again: the group out is group2 now",
            Action::Rollout(&["prod:out", "deploy:stable"]),
        ),
        step(
            "rfab prod proxy.all",
            "both groups live (watched 5 s)",
            Action::Rollout(&["prod", "proxy.all"]),
        ),
    ]);
    steps
}

fn group2_only(step: impl Fn(&'static str, &'static str, Action) -> Step) -> Step {
    step(
        "rfab prod proxy.group2",
        "only group2 live: group1 drains, then goes to maintenance",
        Action::Rollout(&["prod", "proxy.group2"]),
    )
}

/// Runs `step` under its header, rfab's output indented below it.
fn run(
    step: &Step,
    number: &str,
    fleet: &Fleet,
    work: &Path,
    choices: &Choices,
    interrupted: &AtomicBool,
) -> Result<(), Failure> {
    say(&format!(
        "\n{number} {}\n{INDENT}{}",
        step.shown, step.about
    ));
    let started = Instant::now();
    let mut settings = vec!["--set", SETTINGS];
    if !choices.verbose {
        let proxy = matches!(step.action, Action::Rollout(args) if args.iter().any(|a| a.starts_with("proxy.")));
        settings.extend(["--hide", if proxy { QUIET_PROXY } else { QUIET }]);
    }
    let (status, stderr) = match &step.action {
        Action::Fix => {
            if choices.fail {
                repo::fix_the_bug_unhealthily(work)?;
            } else {
                repo::fix_the_bug(work)?;
            }
            return Ok(());
        }
        Action::Hotfix(task) => relayed(
            fleet
                .rfab(&[&settings[..], &[task]].concat())
                .current_dir(work),
        )?,
        Action::Rollout(args) => relayed(&mut fleet.rfab(&[&settings[..], args].concat()))?,
    };
    if interrupted.load(Ordering::SeqCst) {
        return Err(Failure::Interrupted);
    }
    let took = started.elapsed().as_secs_f64();
    match step.fails_with {
        None if status.success() => say(&format!("{INDENT}done in {took:.1}s")),
        Some(expected) if status.code() == Some(1) && stderr.contains(expected) => say(&format!(
            "{INDENT}failed in {took:.1}s, as it must: the release {expected}, so rfab put the one before back and stopped"
        )),
        _ => {
            return Err(
                format!("`{}` failed ({status}); the fleet is torn down", step.shown).into(),
            );
        }
    }
    Ok(())
}

/// Runs `command`, each line of its output indented under the step; its exit status and
/// its stderr.
fn relayed(command: &mut Command) -> Result<(ExitStatus, String), String> {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run rfab: {e}"))?;
    let stdout = child.stdout.take();
    let errors = child
        .stderr
        .take()
        .map(|stderr| std::thread::spawn(move || relay(stderr, &mut std::io::stderr())));
    if let Some(stdout) = stdout {
        relay(stdout, &mut std::io::stdout());
    }
    let stderr = errors
        .map(|thread| thread.join().unwrap_or_default())
        .unwrap_or_default();
    let status = child.wait().map_err(|e| format!("rfab: {e}"))?;
    Ok((status, stderr))
}

/// Copies `from` to `to` line by line, indented; what it copied.
fn relay(from: impl Read, to: &mut impl Write) -> String {
    let mut copied = String::new();
    for line in BufReader::new(from).split(b'\n').map_while(Result::ok) {
        let line = String::from_utf8_lossy(&line);
        let _ = writeln!(to, "{INDENT}{line}");
        copied.push_str(&line);
        copied.push('\n');
    }
    copied
}

/// With `--slow`, waits before the next step: for Enter on a terminal, else 2 s.
fn pause(choices: &Choices, interrupted: &AtomicBool) -> Result<(), Failure> {
    if !choices.slow {
        return Ok(());
    }
    let (done, waited) = std::sync::mpsc::channel();
    if std::io::stdin().is_terminal() {
        print!("\n(Enter for the next step) ");
        let _ = std::io::stdout().flush();
        // On a thread, so that Ctrl-C ends the wait too.
        std::thread::spawn(move || {
            let _ = std::io::stdin().lock().read_line(&mut String::new());
            let _ = done.send(());
        });
    } else {
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(2));
            let _ = done.send(());
        });
    }
    while !interrupted.load(Ordering::SeqCst) {
        if waited.recv_timeout(Duration::from_millis(100)).is_ok() {
            return Ok(());
        }
    }
    Err(Failure::Interrupted)
}

/// Checks the end state against the scenario, and says what happened.
fn verdict(fleet: &Fleet, load: Load, choices: &Choices, took: Duration) -> Result<(), Failure> {
    let tally = load.stop();
    for failure in &tally.failures {
        say(&format!("{INDENT}failed request: {failure}"));
    }
    let expected = if choices.fail { "v3.0.0" } else { "v3.0.1" };
    let lagging: Vec<String> = fleet
        .nodes
        .iter()
        .filter(|n| n.live_tag().as_deref() != Some(expected))
        .map(|n| format!("{} ({})", n.name, n.live_tag().unwrap_or_default()))
        .collect();
    if !lagging.is_empty() {
        return Err(format!("not every node runs {expected}: {}", lagging.join(", ")).into());
    }
    if tally.failed > 0 {
        return Err(format!("{} requests failed during the rollout", tally.failed).into());
    }
    let all = timeline::versions(&tally);
    if choices.fail {
        if let Some(n) = tally.versions.get("3.0.1") {
            return Err(format!(
                "{n} requests were answered by the release that failed its health check"
            )
            .into());
        }
        if !marked_bad(&fleet.nodes[0].deploy_to) {
            return Err("web1 has no v3.0.1 release marked BAD".to_owned().into());
        }
        say(&format!(
            "\nThe hotfix v3.0.1 failed its health check on web1 and never went live: rfab put v3.0.0 back there (the release is marked BAD) and stopped before anything else changed, while group2 served every request. Nothing went live, so there is nothing to roll back: `proxy.all` put group1 back. Every node runs v3.0.0, and not one of {} requests failed (served by version {all}; none by 3.0.1). Tearing the fleet down.",
            tally.sent
        ));
        return Ok(());
    }
    say(&format!(
        "\nRollout done in {:.1}s. Every node runs v3.0.1, and not one of {} requests failed (served by version {all}). Tearing the fleet down.",
        took.as_secs_f64(),
        tally.sent
    ));
    Ok(())
}

/// Whether a v3.0.1 release under `deploy_to` is marked BAD.
fn marked_bad(deploy_to: &Path) -> bool {
    std::fs::read_dir(deploy_to.join("releases"))
        .into_iter()
        .flatten()
        .map_while(Result::ok)
        .any(|release| {
            release.file_name().to_string_lossy().starts_with("v3.0.1-")
                && release.path().join("BAD").exists()
        })
}
