//! `rfab-demo`: the README's rolling hotfix, for real, on a local fleet, with traffic flowing.
//!
//! Starts the demo fleet (web nodes behind HAProxy, v3.0.0 everywhere, the app's origin
//! repository at v3.0.0 with a bug on main), cuts the hotfix with rfab in a developer's
//! clone (`hotfix.start:3.0.1`, the fix committed, `hotfix.finish`: v3.0.1 tagged and
//! pushed), then keeps a client requesting pages through HAProxy and runs the rollout with
//! rfab: the five commands of the README's "The rolling hotfix" (or `--rolling`: `rfab prod
//! rolling:stable`). It prints a timeline (`demo.rs`): each step, then a table of the fleet
//! and the requests per version since the step before; then tears everything down (also on
//! Ctrl-C). `--fail` rolls out a hotfix that fails its health check, `--slow` pauses between
//! steps, `--verbose` shows all of rfab's output.
//!
//! `rfab-demo up [--per-group N]` starts the fleet and keeps it up until Ctrl-C, printing how
//! to point rfab at it. `rfab-demo bench [--per-group N] [--runs N] NAME=COMMAND...` times
//! each shell COMMAND as a rollout on the same fleet, under the same load, resetting the
//! fleet to v3.0.0 first.

use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rfab_fleet::{Fleet, Load, Options};

mod demo;

const USAGE: &str = "usage: rfab-demo [--per-group N] [--rolling] [--fail] [--slow] [--verbose]\n       rfab-demo up [--per-group N]\n       rfab-demo bench [--per-group N] [--runs N] NAME=COMMAND...";

fn main() -> ExitCode {
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    // The fleet's daemons have their own process groups: Ctrl-C reaches rfab and this
    // program, which then stops them in order.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("bench") => bench(&args[1..], &interrupted),
        Some("up") => up(&args[1..], &interrupted),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => demo::demo(&args, &interrupted),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Interrupted) => {
            eprintln!("rfab-demo: interrupted; the fleet is torn down");
            ExitCode::from(130)
        }
        Err(Failure::Error(message)) => {
            eprintln!("rfab-demo: {message}");
            ExitCode::FAILURE
        }
    }
}

enum Failure {
    Interrupted,
    Error(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self::Error(message)
    }
}

/// Starts the fleet and keeps it up until Ctrl-C.
fn up(args: &[String], interrupted: &AtomicBool) -> Result<(), Failure> {
    let fleet = start(option(args, "--per-group", 2)?, Fleet::start)?;
    let command = fleet.rfab(&[]);
    let words: Vec<String> = command
        .get_args()
        .map(|a| shell_word(&a.to_string_lossy()))
        .collect();
    let exports: Vec<String> = variables(&fleet)
        .iter()
        .map(|(key, value)| format!("export {key}={}", shell_word(value)))
        .collect();
    let env_file = fleet.dir().join("fleet.env");
    std::fs::write(&env_file, exports.join("\n") + "\n")
        .map_err(|e| format!("{}: {e}", env_file.display()))?;
    say(&format!(
        "The demo fleet is up: HAProxy on {} ({}); v3.0.0 everywhere.\nPoint rfab at it with:\n\n  HOME={} SSH_AUTH_SOCK= {} {} prod status\n\n{} describes it for scripts (RFAB_FLEET_*). Ctrl-C tears it down.",
        fleet.balancer.frontend,
        fleet.balancer.describe(),
        fleet.dir().join("home").display(),
        fleet.options.rfab.display(),
        words.join(" "),
        env_file.display(),
    ));
    while !interrupted.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

fn shell_word(word: &str) -> String {
    if word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/.=_-:@,".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Each `NAME=COMMAND` as a rollout on one fleet, `--runs` times, after putting v3.0.0 back
/// everywhere; prints one line per run: name, nodes, seconds, requests sent and failed.
/// COMMAND runs in `sh -c` with `RFAB_FLEET_*` variables describing the fleet.
fn bench(args: &[String], interrupted: &AtomicBool) -> Result<(), Failure> {
    let per_group = option(args, "--per-group", 2)?;
    let runs = option(args, "--runs", 1)?;
    let commands: Vec<(&str, &str)> = args
        .iter()
        .filter_map(|a| a.split_once('='))
        .filter(|(name, _)| !name.starts_with('-'))
        .collect();
    if commands.is_empty() {
        return Err(format!("give NAME=COMMAND rollouts to time\n{USAGE}").into());
    }
    let fleet = start(per_group, Fleet::start)?;
    for run in 1..=runs {
        for (name, command) in &commands {
            reset(&fleet)?;
            let load = Load::start(fleet.balancer.frontend, 2, Duration::from_millis(5));
            load.wait_for(20, Duration::from_secs(10))?;
            let started = Instant::now();
            let status = Command::new("/bin/sh")
                .args(["-c", command])
                .envs(variables(&fleet))
                .stdout(std::process::Stdio::null())
                .status()
                .map_err(|e| format!("cannot run `{command}`: {e}"))?;
            let took = started.elapsed();
            let tally = load.stop();
            if interrupted.load(Ordering::SeqCst) {
                return Err(Failure::Interrupted);
            }
            let on_hotfix = fleet
                .nodes
                .iter()
                .all(|n| n.live_tag().as_deref() == Some("v3.0.1"));
            println!(
                "{name}\tnodes={}\trun={run}\tseconds={:.3}\tsent={}\tfailed={}\tall_v3.0.1={on_hotfix}\tstatus={}",
                fleet.nodes.len(),
                took.as_secs_f64(),
                tally.sent,
                tally.failed,
                status.code().unwrap_or(-1)
            );
        }
    }
    Ok(())
}

/// Back to the state before the hotfix: v3.0.0 everywhere, every node live.
fn reset(fleet: &Fleet) -> Result<(), String> {
    let out = fleet
        .rfab(&[
            "--set",
            "watch=0",
            "prod",
            "proxy.all",
            "deploy:v3.0.0,force=true",
        ])
        .output()
        .map_err(|e| format!("cannot run rfab: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "resetting the fleet to v3.0.0 failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    fleet.balancer.wait_all_up(fleet.nodes.len())
}

/// What a benchmarked command needs to reach the fleet. Hosts are `user@address:port`,
/// and `{host}` in the health URL their address: Fabric reads no `ssh_config`.
fn variables(fleet: &Fleet) -> Vec<(String, String)> {
    let hosts = |group: usize| {
        fleet
            .group(group)
            .iter()
            .map(|n| Fleet::address_string(n))
            .collect::<Vec<_>>()
            .join(",")
    };
    let servers: Vec<String> = fleet
        .nodes
        .iter()
        .map(|n| format!("{}={}", Fleet::address_string(n), n.name))
        .collect();
    vec![
        ("RFAB_FLEET_DIR".into(), fleet.dir().display().to_string()),
        (
            "RFAB_FLEET_HOME".into(),
            fleet.dir().join("home").display().to_string(),
        ),
        (
            "RFAB_FLEET_SSH_CONFIG".into(),
            fleet.dir().join("ssh_config").display().to_string(),
        ),
        (
            "RFAB_FLEET_INVENTORY".into(),
            fleet.inventory.display().to_string(),
        ),
        (
            "RFAB_FLEET_SOCKET".into(),
            fleet.balancer.socket.display().to_string(),
        ),
        ("RFAB_FLEET_GROUP1".into(), hosts(1)),
        ("RFAB_FLEET_GROUP2".into(), hosts(2)),
        ("RFAB_FLEET_SERVERS".into(), servers.join(",")),
        ("RFAB_FLEET_REPO".into(), fleet.repo.display().to_string()),
        ("RFAB_FLEET_DEPLOY_TO".into(), fleet.deploy_to.clone()),
        (
            "RFAB_FLEET_HEALTH_URL".into(),
            fleet.health_url.replace("{address}", "{host}"),
        ),
        (
            "RFAB_FLEET_CHECK_INTERVAL".into(),
            fleet.options.check_interval.as_secs_f64().to_string(),
        ),
        (
            "RFAB_FLEET_RFAB".into(),
            fleet.options.rfab.display().to_string(),
        ),
        (
            "RFAB_FLEET_FABFILE".into(),
            fleet.options.fabfile.display().to_string(),
        ),
    ]
}

/// The fleet, started by `how` (`Fleet::start`, or `Fleet::start_before_hotfix`).
pub(crate) fn start(
    per_group: usize,
    how: fn(Options) -> Result<Fleet, String>,
) -> Result<Fleet, String> {
    let here = std::env::current_exe().map_err(|e| format!("where am I: {e}"))?;
    let rfab = here.with_file_name("rfab");
    if !rfab.exists() {
        return Err(format!(
            "no rfab binary beside {}: build it first (bin/demo does)",
            here.display()
        ));
    }
    how(Options {
        per_group,
        network: [127, 0, 0],
        check_interval: Duration::from_millis(500),
        fabfile: std::fs::canonicalize(concat!(env!("CARGO_MANIFEST_DIR"), "/../fabfile.rhai"))
            .map_err(|e| format!("the root fabfile.rhai: {e}"))?,
        rfab,
    })
}

pub(crate) fn option(args: &[String], name: &str, fallback: usize) -> Result<usize, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(fallback),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{name} takes a number above 0\n{USAGE}")),
    }
}

pub(crate) fn say(text: &str) {
    println!("{text}");
}
