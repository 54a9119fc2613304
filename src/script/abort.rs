//! How a task ends when it does not return: `abort()`, a host that could not be reached, and
//! the `on_abort` undo run after a failure, with the report of what it could not clean up.
//!
//! These describe the end of a task on a host, which the pool reports; the script functions
//! that raise them (`abort`, `run`, `on_abort`) only build them.

use std::fmt::Write as _;
use std::sync::PoisonError;
use std::time::Duration;

use rhai::{EvalAltResult, Map};

use crate::output::Level;
use crate::output::lines;
use crate::script::context::{Context, Undo};
use crate::ssh::command::{self, DEFAULT_SHELL, Failure, Request};
use crate::ssh::quote::quote;
use crate::ssh::target::Target;

/// The value `abort()` raises, so that the run reports its message as given.
#[derive(Clone, Debug)]
pub(crate) struct Abort(pub(crate) String);

/// The message of an `abort()` at the root of `error`, if that is what ended the task.
pub(crate) fn abort_message(error: &EvalAltResult) -> Option<String> {
    match error.unwrap_inner() {
        EvalAltResult::ErrorRuntime(value, _) => value.clone().try_cast::<Abort>().map(|a| a.0),
        _ => None,
    }
}

/// A host that could not be reached; `--skip-bad-hosts` skips it instead of failing.
#[derive(Clone, Debug)]
pub(crate) struct Unreachable(pub(crate) String);

/// The message of an `Unreachable` at the root of `error`, if a host could not be reached.
pub(crate) fn unreachable_message(error: &EvalAltResult) -> Option<String> {
    match error.unwrap_inner() {
        EvalAltResult::ErrorRuntime(value, _) => {
            value.clone().try_cast::<Unreachable>().map(|u| u.0)
        }
        _ => None,
    }
}

/// How to reach the host for its undo. Already read for the task's own connection: a bad
/// `env` value failed it there, so the command line's options do here.
fn undo_options(context: &Context) -> crate::ssh::options::SshOptions {
    context
        .runtime
        .ssh_options()
        .unwrap_or_else(|_| context.runtime.ssh.clone())
}

/// Runs the `on_abort` commands of a failed or interrupted task on its host, even after
/// Ctrl-C; a command that fails is a warning. A broken connection is replaced by a fresh
/// one once (the host may be back); what still cannot run is recorded as lost.
pub(crate) fn run_on_abort(context: &Context, target: &Target, commands: &[Undo]) {
    // A dry run changed nothing, and neither did a task that never reached its host: there
    // is nothing to clean up.
    if context.runtime.dry_run() || context.never_reached() {
        return;
    }
    // A second Ctrl-C now would leave the host half put back: it takes a third.
    let _cleaning = crate::signals::cleaning();
    let output = &context.runtime.output;
    let host = &target.host_string;
    let shell = context
        .option(&Map::new(), "shell")
        .map_or_else(|| DEFAULT_SHELL.to_owned(), |s| s.to_string());
    let mut fresh_tried = false;
    let mut pending = commands.iter().peekable();
    let debug = context.shows(Level::Debug);
    while let Some(undo) = pending.peek() {
        let (command, what) = (&undo.command, undo.what());
        let connection = match context.runtime.connections.get(
            target,
            &undo_options(context),
            &context.runtime.credentials,
            output,
            !context.parallel,
        ) {
            Ok(connection) => connection,
            Err(error) => {
                let why = error.to_string();
                output.warning(
                    Some(host),
                    &format!("on abort: cannot reach `{host}` to clean up: {why}"),
                );
                for undo in pending {
                    context.record_lost(format!("on abort: {}", undo.left()), why.clone(), true);
                }
                return;
            }
        };
        let connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
        output.command_step(host, "on abort", command, undo.step.as_deref(), debug);
        let request = Request {
            command: format!("{shell} {}", quote(command)),
            timeout: Some(Duration::from_secs(60)),
            sudo: None,
            pty: false,
            forward_agent: false,
            ignore_interrupt: true,
            output_limit: lines::DEFAULT_LIMIT,
        };
        let raw = context.shows(Level::Raw);
        // A described undo says what it does; its own chatter is for `--show debug`.
        let quiet = undo.step.is_some() && !debug;
        let mut each = |is_err: bool, text: &str| {
            if is_err || !quiet {
                output.line(host, is_err, text, raw);
            }
        };
        let ran = command::run(&connection, &request, &mut each)
            .inspect(|done| output.result(host, command, done.code, false));
        match ran {
            Ok(done) if done.code == 0 => {}
            Ok(done) => output.warning(
                Some(host),
                &format!("on abort: {what} exited with status {}", done.code),
            ),
            Err(failure @ (Failure::Ssh(_) | Failure::Stalled(_))) => {
                // The connection is dead: drop it, and try once more on a new one.
                drop(connection);
                context.runtime.connections.forget(target);
                let why = match failure {
                    Failure::Ssh(e) => format!("lost the connection: {e}"),
                    Failure::Stalled(why) => format!("`{host}` stopped answering: {why}"),
                    _ => unreachable!("matched above"),
                };
                if !fresh_tried {
                    fresh_tried = true;
                    output.warning(
                        Some(host),
                        &format!("on abort: {why}; trying again on a new connection"),
                    );
                    continue;
                }
                output.warning(
                    Some(host),
                    &format!("on abort: {what} could not run: {why}"),
                );
                context.record_lost(format!("on abort: {}", undo.left()), why, false);
            }
            Err(failure) => {
                let why = match failure {
                    Failure::TimedOut(limit) => {
                        format!("stopped after {}s", limit.as_secs_f64())
                    }
                    Failure::SudoPassword(why) => why.to_owned(),
                    _ => "interrupted".to_owned(),
                };
                output.warning(
                    Some(host),
                    &format!("on abort: {what} could not run: {why}"),
                );
                context.record_lost(format!("on abort: {}", undo.left()), why, false);
            }
        }
        pending.next();
    }
}

/// A task that failed with its connection and left cleanup undone: the whole report.
#[derive(Clone, Debug)]
pub(crate) struct Stranded(pub(crate) String);

/// The report of a [`Stranded`] task at the root of `error`.
pub(crate) fn stranded_message(error: &EvalAltResult) -> Option<String> {
    match error.unwrap_inner() {
        EvalAltResult::ErrorRuntime(value, _) => value.clone().try_cast::<Stranded>().map(|s| s.0),
        _ => None,
    }
}

/// When the connection failed the task and then what was to clean up after it, the
/// report that says so in that order: the first failure, then exactly what could not run,
/// then what to do. `None` when nothing was left undone.
pub(crate) fn stranded(context: &Context, host: &str) -> Option<Stranded> {
    let lost = context.lost.lock().unwrap_or_else(PoisonError::into_inner);
    let (first, after) = lost.split_first()?;
    if after.is_empty() || first.unreached {
        return None;
    }
    let mut report = format!(
        "{}\nthen {} cleanup step{} could not run on `{host}`:\n",
        first.why,
        after.len(),
        if after.len() == 1 { "" } else { "s" }
    );
    for lost in after {
        let _ = writeln!(report, "  - {}\n      ({})", lost.what, lost.why);
    }
    let _ = write!(
        report,
        "`{host}` may be left half-done (a deploy lock held, a release not live or not marked bad): \
         look before running again (with the deploy recipe, `rfab ENV status` shows it), then fix it \
         (the `deploy.unlock` and `deploy.rollback` tasks) or run the steps above by hand"
    );
    Some(Stranded(report))
}

/// What a failure is called when the run reports it: the stranded-cleanup report, the
/// `abort()` message, or the unreachable host's; `None` for a script error, which is shown
/// with its place in the source.
pub(crate) fn message(error: &EvalAltResult) -> Option<String> {
    stranded_message(error)
        .or_else(|| abort_message(error))
        .or_else(|| unreachable_message(error))
}
