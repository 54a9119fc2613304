//! `local()`: run a command on this machine, echoed and streamed Fabric's way.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use std::io::{IsTerminal, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use rhai::plugin::*;
use rhai::{EvalAltResult, Map, NativeCallContext};

use crate::output::Level;
use crate::output::lines::Lines;
use crate::script::api::{CommandResult, check_options};
use crate::script::context::Context;
use crate::signals;

const OPTIONS: [&str; 4] = ["warn_only", "quiet", "shell", "output_limit"];

#[export_module]
pub(crate) mod local_api {
    use super::{CommandResult, Map, NativeCallContext};

    /// Run a shell command on this machine and return its result.
    ///
    /// Prints `[localhost] local: COMMAND`, then each output line as it comes
    /// (`[localhost] out: ...`, `[localhost] err: ...`). A non-zero exit aborts the task,
    /// unless `warn_only` is set here or in `env` (`-w`).
    ///
    /// ```rhai
    /// local("cargo build --release");
    /// let rev = local("git rev-parse --short HEAD").stdout;
    /// ```
    #[rhai_fn(name = "local", return_raw)]
    pub fn local(
        ctx: NativeCallContext,
        command: &str,
    ) -> Result<CommandResult, Box<EvalAltResult>> {
        super::run(&ctx, command, &Map::new())
    }

    /// `local()` with options:
    /// - `warn_only`: a non-zero exit is a warning and the result is returned (`r.failed`);
    /// - `quiet`: print nothing, and imply `warn_only` (as Fabric's `quiet=True`);
    /// - `shell`: the shell to run the command with (default `/bin/sh -c`);
    /// - `output_limit`: the most bytes of stdout, and of stderr, the result keeps, as for
    ///   `run()`.
    ///
    /// ```rhai
    /// let r = local("git diff --quiet", #{ warn_only: true, quiet: true });
    /// if r.failed { abort("commit your changes first"); }
    /// local("echo $BASH_VERSION", #{ shell: "/bin/bash -c" });
    /// ```
    #[rhai_fn(name = "local", return_raw)]
    pub fn local_with(
        ctx: NativeCallContext,
        command: &str,
        options: Map,
    ) -> Result<CommandResult, Box<EvalAltResult>> {
        super::run(&ctx, command, &options)
    }
}

pub(super) fn run(
    ctx: &NativeCallContext,
    command: &str,
    options: &Map,
) -> Result<CommandResult, Box<EvalAltResult>> {
    check_options("local", options, &OPTIONS)?;
    let context = Context::of(ctx)?;
    let output = &context.runtime.output;
    let quiet = context.flag(options, "quiet");
    let warn_only = quiet || context.flag(options, "warn_only");
    let shell = match options.get("shell") {
        Some(shell) => shell
            .clone()
            .into_string()
            .map_err(|_| "local(): `shell` must be a string")?,
        None => "/bin/sh -c".into(),
    };
    let mut argv = shlex::split(&shell)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| format!("local(): cannot parse shell `{shell}`"))?;
    argv.push(context.settings().wrap_local(command));

    // `--json` tells how a command ended only when it told that the command ran.
    let announced = !quiet && context.shows(Level::Running);
    if announced {
        output.command("localhost", "local", command);
    }
    if context.runtime.dry_run() {
        if announced {
            output.result("localhost", command, 0, true);
        }
        return Ok(CommandResult {
            command: command.into(),
            dry: true,
            ..CommandResult::default()
        });
    }
    let mut child =
        spawn(&argv).map_err(|e| format!("local(): cannot start `{}`: {e}", argv[0]))?;
    let shows = (
        !quiet && context.shows(Level::Stdout),
        !quiet && context.shows(Level::Stderr),
    );
    let raw = context.shows(Level::Raw);
    let limit = super::remote::output_limit(&context, options, "local")?;
    let (stdout, stderr, cut) = stream(&mut child, limit, |is_err, line| {
        if (is_err && shows.1) || (!is_err && shows.0) {
            output.line("localhost", is_err, line, raw);
        }
    })?;
    let status = child
        .wait()
        .map_err(|e| format!("local(): waiting for `{command}`: {e}"))?;
    let code = status
        .code()
        .map_or_else(|| 128 + i64::from(status.signal().unwrap_or(0)), i64::from);
    if announced {
        output.result("localhost", command, code, false);
    }
    if cut && !quiet && context.shows(Level::Warnings) {
        output.warning(context.host(), &super::remote::cut_warning(command, limit));
    }
    let result = CommandResult {
        command: command.into(),
        stdout,
        stderr,
        code,
        dry: false,
    };
    if result.ok() {
        return Ok(result);
    }
    let message = match status.signal() {
        Some(signal) => format!("local() failed: `{command}` was killed by signal {signal}"),
        None => format!("local() failed: `{command}` exited with status {code}"),
    };
    if warn_only {
        if !quiet && context.shows(Level::Warnings) {
            output.warning(context.host(), &message);
        }
        Ok(result)
    } else {
        Err(message.into())
    }
}

fn spawn(argv: &[String]) -> std::io::Result<Child> {
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Without a terminal, Ctrl-C reaches only rfab: give the command its own process group so
    // that cancelling can stop everything it started. With one, it must stay in the
    // foreground group to read the terminal, and receives the terminal's Ctrl-C itself.
    if !std::io::stdin().is_terminal() {
        command.process_group(0);
    }
    command.spawn()
}

/// Reads both streams until they close, passing each line to `each` as it arrives;
/// returns each stream as its result keeps it (at most `limit` bytes, without its final
/// newline), and whether the limit cut either.
fn stream(
    child: &mut Child,
    limit: usize,
    mut each: impl FnMut(bool, &str),
) -> Result<(String, String, bool), Box<EvalAltResult>> {
    // Bounded, so that a command printing faster than rfab prints waits for it rather than
    // filling memory.
    let (sender, receiver) = mpsc::sync_channel::<(bool, Vec<u8>)>(16);
    let readers = [
        child
            .stdout
            .take()
            .map(|s| reader(Box::new(s), false, sender.clone())),
        child
            .stderr
            .take()
            .map(|s| reader(Box::new(s), true, sender.clone())),
    ];
    drop(sender);
    let (mut stdout, mut stderr) = (Lines::new(limit), Lines::new(limit));
    loop {
        match receiver.recv_timeout(Duration::from_millis(50)) {
            Ok((is_err, bytes)) => {
                let lines = if is_err { &mut stderr } else { &mut stdout };
                lines.push(&bytes, &mut |line| {
                    each(is_err, line);
                    true
                });
            }
            Err(mpsc::RecvTimeoutError::Timeout) if signals::interrupted() => {
                terminate(child);
                return Err(
                    EvalAltResult::ErrorTerminated(Dynamic::UNIT, rhai::Position::NONE).into(),
                );
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    for handle in readers.into_iter().flatten() {
        let _ = handle.join();
    }
    Ok(Lines::finish_both(stdout, stderr, &mut each))
}

fn reader(
    mut stream: Box<dyn Read + Send>,
    is_err: bool,
    sender: mpsc::SyncSender<(bool, Vec<u8>)>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buffer = vec![0_u8; 64 * 1024];
        loop {
            let n = match stream.read(&mut buffer) {
                Ok(0) => return,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return,
            };
            if sender.send((is_err, buffer[..n].to_vec())).is_err() {
                return;
            }
        }
    })
}

/// Stops a command and whatever it started: its process group when it has its own.
fn terminate(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id())
        && !std::io::stdin().is_terminal()
    {
        // SAFETY: sending a signal has no memory-safety preconditions.
        #[allow(unsafe_code)]
        unsafe {
            libc::killpg(pid, libc::SIGTERM);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}
