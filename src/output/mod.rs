//! Everything rfab prints: Fabric-style `[host] label: text` lines, warnings and errors,
//! each at one of Fabric's output levels, which `--hide`/`--show` and scripts can turn off
//! and on.
//!
//! Each line is written with one `write_all` under the stream's lock, so lines from
//! parallel hosts never mix mid-line.

pub(crate) mod event;
pub(crate) mod lines;
pub(crate) mod printable;
pub(crate) mod progress;
pub(crate) mod summary;

use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};

use anstyle::{AnsiColor, Style};
use serde_json::json;

use crate::output::printable::{printable, printable_lines};
use crate::output::progress::{Progress, Shown, Unit};

/// When to colour output (`--color`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    Always,
    Never,
}

/// Fabric's output levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    /// `Executing task`, `run: CMD`, `local: CMD`.
    Running,
    Stdout,
    Stderr,
    /// `Done.`, `Disconnecting from ...`, the summary.
    Status,
    Warnings,
    /// `puts()` and `print()`.
    User,
    /// Output lines as received, escape sequences and all; off unless shown.
    Raw,
    /// rfab's internals: the stdlib's own commands and source lines in errors; off unless
    /// shown (`--show debug`, as in Fabric).
    Debug,
}

/// A name `--hide`, `--show` or `show()` does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown output level `{0}` (known: {names})", names = Levels::NAMES)]
pub(crate) struct UnknownLevel(pub(crate) String);

/// Which levels are shown.
#[allow(clippy::struct_excessive_bools)] // one switch per level, as Fabric has them
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Levels {
    running: bool,
    stdout: bool,
    stderr: bool,
    status: bool,
    warnings: bool,
    user: bool,
    raw: bool,
    debug: bool,
}

impl Default for Levels {
    fn default() -> Self {
        Self {
            running: true,
            stdout: true,
            stderr: true,
            status: true,
            warnings: true,
            user: true,
            raw: false,
            debug: false,
        }
    }
}

impl Levels {
    /// The names `--hide`/`--show` and `hide()`/`show()` accept.
    pub(crate) const NAMES: &'static str = "running, stdout, stderr, status, warnings, user; output (stdout, stderr), commands (running, stdout), everything; raw, debug (off unless shown)";

    pub(crate) fn shows(self, level: Level) -> bool {
        match level {
            Level::Running => self.running,
            Level::Stdout => self.stdout,
            Level::Stderr => self.stderr,
            Level::Status => self.status,
            Level::Warnings => self.warnings,
            Level::User => self.user,
            Level::Raw => self.raw,
            Level::Debug => self.debug,
        }
    }

    /// Sets every level named in `list` (comma-separated) to `shown`.
    pub(crate) fn set(&mut self, list: &str, shown: bool) -> Result<(), UnknownLevel> {
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let fields: &mut [&mut bool] = match name {
                "running" => &mut [&mut self.running],
                "stdout" => &mut [&mut self.stdout],
                "stderr" => &mut [&mut self.stderr],
                "status" => &mut [&mut self.status],
                "warnings" => &mut [&mut self.warnings],
                "user" => &mut [&mut self.user],
                // Not in `everything`: escape sequences reach the terminal only when asked.
                "raw" => &mut [&mut self.raw],
                "debug" => &mut [&mut self.debug],
                "output" => &mut [&mut self.stdout, &mut self.stderr],
                "commands" => &mut [&mut self.running, &mut self.stdout],
                "everything" => &mut [
                    &mut self.running,
                    &mut self.stdout,
                    &mut self.stderr,
                    &mut self.status,
                    &mut self.warnings,
                    &mut self.user,
                ],
                other => return Err(UnknownLevel(other.to_owned())),
            };
            for field in fields {
                **field = shown;
            }
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Output {
    stdout_color: bool,
    stderr_color: bool,
    /// The levels `--hide`/`--show` left on; scripts may narrow them per host.
    pub(crate) levels: Levels,
    json: bool,
    /// The bar lines are printed around, on a terminal.
    pub(crate) progress: Progress,
}

const HOST: Style = AnsiColor::Cyan.on_default();
const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const OK: Style = AnsiColor::Green.on_default();

impl Output {
    pub(crate) fn new(choice: ColorChoice) -> Self {
        let auto =
            |terminal: bool| terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let (stdout_color, stderr_color) = match choice {
            ColorChoice::Always => (true, true),
            ColorChoice::Never => (false, false),
            ColorChoice::Auto => (
                auto(io::stdout().is_terminal()),
                auto(io::stderr().is_terminal()),
            ),
        };
        Self {
            stdout_color,
            stderr_color,
            levels: Levels::default(),
            json: false,
            progress: Progress::default(),
        }
    }

    /// Output for machines: one JSON object per line instead of text (`--json`).
    pub(crate) fn json(mut self, json: bool) -> Self {
        self.json = json;
        self
    }

    /// `[host] Executing task 'name'`
    pub(crate) fn executing(&self, host: &str, task: &str) {
        if self.json {
            return event::emit("task", Some(host), json!({}));
        }
        self.host_line(Some(host), "", &format!("Executing task '{task}'"));
    }

    /// `[host] run: COMMAND` (also `sudo`, `local`, `put`, `get`).
    pub(crate) fn command(&self, host: &str, kind: &str, command: &str) {
        self.command_step(host, kind, command, None, false);
    }

    /// A command described by its script (`step`): `[host] step: WHAT` (`on abort: WHAT`
    /// for an undo), and the command itself only under `--show debug`, for it is the
    /// recipe's internals. JSON has both.
    pub(crate) fn command_step(
        &self,
        host: &str,
        kind: &str,
        command: &str,
        step: Option<&str>,
        debug: bool,
    ) {
        if self.json {
            return event::emit(
                "command",
                Some(host),
                json!({ "kind": kind, "command": command, "step": step }),
            );
        }
        if let Some(step) = step {
            let label = if kind == "on abort" { kind } else { "step" };
            self.host_line(Some(host), label, &printable_lines(step));
            if !debug {
                return;
            }
        }
        // A command line can carry what a host said (a path, a release name): no escapes.
        if self.levels.shows(Level::Raw) {
            self.host_line(Some(host), kind, command);
        } else {
            self.host_line(Some(host), kind, &printable_lines(command));
        }
    }

    /// `[host] out: LINE` or `[host] err: LINE`, without the line's escape sequences and
    /// control characters unless `raw` (JSON escapes them, so it keeps them).
    pub(crate) fn line(&self, host: &str, is_stderr: bool, line: &str, raw: bool) {
        let stream = if is_stderr { "err" } else { "out" };
        if self.json {
            return event::emit(
                "output",
                Some(host),
                json!({ "stream": stream, "line": line }),
            );
        }
        if raw {
            self.host_line(Some(host), stream, line);
        } else {
            self.host_line(Some(host), stream, &printable(line));
        }
    }

    /// How a command ended (`dry`: it never ran, under `--dry-run`); only machines are told
    /// separately.
    pub(crate) fn result(&self, host: &str, command: &str, code: i64, dry: bool) {
        if self.json {
            event::emit(
                "result",
                Some(host),
                json!({ "command": command, "code": code, "ok": code == 0, "dry": dry }),
            );
        }
    }

    /// How the thread's task ended on `host`; only machines are told separately (people get
    /// the summary).
    pub(crate) fn task_end(&self, host: &str, status: &str, seconds: f64) {
        if self.json {
            event::emit(
                "task_end",
                Some(host),
                json!({ "status": status, "seconds": seconds }),
            );
        }
    }

    /// What a script prints (`puts`, `print`), `[host]`-prefixed when on a host.
    pub(crate) fn user(&self, host: Option<&str>, text: &str) {
        if self.json {
            return event::emit("message", host, json!({ "text": text }));
        }
        // `print(run(cmd).stdout)` is how fabfiles show a host's output: it loses its escape
        // sequences as the output itself does, unless `--show raw`.
        if self.levels.shows(Level::Raw) {
            self.host_line(host, "", text);
        } else {
            self.host_line(host, "", &printable_lines(text));
        }
    }

    /// What a load balancer's watch sees: `[lb] TEXT`, or event `name` with `fields` under
    /// `--json`.
    pub(crate) fn lb_event(&self, text: &str, name: &str, fields: serde_json::Value) {
        if self.json {
            return event::emit(name, Some("lb"), fields);
        }
        self.host_line(Some("lb"), "", text);
    }

    /// A plain line on stdout, for what was asked for outright (`--list`, `--api`); a `text`
    /// event under `--json`, so that every line stays an event.
    pub(crate) fn say(&self, text: &str) {
        if self.json {
            return event::emit("text", None, json!({ "text": text }));
        }
        write_line(&mut io::stdout().lock(), &format!("{text}\n"));
    }

    /// `rfab check`'s findings as one event (text mode prints them with [`Output::say`]).
    #[allow(clippy::unused_self)] // a method like the others, so every print goes through `Output`
    pub(crate) fn check(&self, findings: &[serde_json::Value], errors: usize, warnings: usize) {
        event::emit(
            "check",
            None,
            json!({ "findings": findings, "errors": errors, "warnings": warnings }),
        );
    }

    /// The first event of a `--json` run (nothing in text): what was asked for. Never the
    /// command line as typed, which can hold a password.
    pub(crate) fn start(&self, tasks: &[String], command: Option<&str>, dry_run: bool) {
        if self.json {
            event::emit(
                "start",
                None,
                json!({ "schema": event::SCHEMA, "version": concat!(env!("CARGO_PKG_VERSION"), env!("RFAB_COMMIT")),
                        "pid": std::process::id(), "tasks": tasks, "command": command,
                        "dry_run": dry_run }),
            );
        }
    }

    /// The last event of a `--json` run (nothing in text): the process's exit status and
    /// the error that decided it, as text mode says it on stderr.
    pub(crate) fn end(&self, exit: i32, error: Option<&str>) {
        if self.json {
            event::emit("end", None, json!({ "exit": exit, "error": error }));
        }
    }

    /// `Done.` after a run where every task succeeded, unless `status` is hidden.
    pub(crate) fn done(&self) {
        if self.json {
            return event::emit("done", None, json!({}));
        }
        self.status("\nDone.");
    }

    /// `Disconnecting from HOST... done.`, unless `status` is hidden.
    pub(crate) fn disconnected(&self, host: &str) {
        if self.json {
            return event::emit("disconnect", Some(host), json!({}));
        }
        self.status(&format!("Disconnecting from {host}... done."));
    }

    /// A status line, unless `status` is hidden.
    fn status(&self, text: &str) {
        if self.levels.shows(Level::Status) {
            write_line(&mut io::stdout().lock(), &format!("{text}\n"));
        }
    }

    /// The end-of-run table: host, outcome, seconds, tasks and why a host failed; then how
    /// many hosts ended each way. `dry`: the run was a dry run.
    pub(crate) fn summary(&self, rows: &[summary::Row], dry: bool) {
        if self.json {
            let hosts: Vec<_> = rows
                .iter()
                .map(|row| {
                    json!({
                        "host": row.host,
                        "status": row.outcome().label(),
                        "seconds": row.time.as_secs_f64(),
                        "tasks": row.tasks.iter().map(|(task, outcome)| json!({ "task": task, "status": outcome.label() })).collect::<Vec<_>>(),
                        "reason": row.reason,
                    })
                })
                .collect();
            return event::emit("summary", None, json!({ "hosts": hosts, "dry": dry }));
        }
        let width = rows
            .iter()
            .map(|r| r.host.chars().count())
            .max()
            .unwrap_or(0);
        let mut text = String::from("\nSummary:");
        for row in rows {
            let outcome = row.outcome();
            let style = match outcome {
                summary::Outcome::Ok | summary::Outcome::Dry => OK,
                summary::Outcome::Failed => ERROR,
                _ => WARNING,
            };
            // Painted after padding, so that escape sequences do not upset the columns.
            let status = paint(self.stdout_color, style, &format!("{:11}", outcome.label()));
            let time = if outcome == summary::Outcome::NotRun {
                " ".repeat(8)
            } else {
                format!("{:>7.2}s", row.time.as_secs_f64())
            };
            let reason = row
                .reason
                .as_deref()
                .map(|r| format!(": {}", printable_lines(r)))
                .unwrap_or_default();
            let line = format!(
                "    {:width$}  {status}  {time}  {}{reason}",
                row.host,
                row.task_list()
            );
            let _ = write!(text, "\n{}", line.trim_end());
        }
        if let Some(totals) = summary::totals(rows) {
            let _ = write!(text, "\n    {totals}");
        }
        self.status(&text);
    }

    /// `Warning: message` on stderr.
    pub(crate) fn warning(&self, host: Option<&str>, message: &str) {
        if self.json {
            return event::emit("warning", host, json!({ "message": message }));
        }
        let label = paint(self.stderr_color, WARNING, "Warning:");
        // Messages may quote a host's output (a command's stderr).
        let message = printable_lines(message);
        let line = format!("{}{label} {message}\n", prefix(host));
        self.progress
            .around(|| write_line(&mut io::stderr().lock(), &line));
    }

    /// `Fatal error: message`, then Fabric's `Aborting.`, on stderr.
    pub(crate) fn fatal(&self, host: Option<&str>, message: &str) {
        if self.json {
            return event::emit("error", host, json!({ "message": message }));
        }
        let label = paint(self.stderr_color, ERROR, "Fatal error:");
        let message = printable_lines(message);
        let text = format!("{}{label} {message}\n\nAborting.\n", prefix(host));
        self.progress
            .around(|| write_line(&mut io::stderr().lock(), &text));
    }

    /// `error: message` on stderr, for a command line that cannot run; an `error` event on
    /// stdout under `--json`.
    pub(crate) fn error(&self, message: &str) {
        if self.json {
            return event::emit("error", None, json!({ "message": message }));
        }
        let label = paint(self.stderr_color, ERROR, "error:");
        write_line(&mut io::stderr().lock(), &format!("{label} {message}\n"));
    }

    /// `[host] label: text` on stdout; without a host, `label: text`; without a label, `text`.
    fn host_line(&self, host: Option<&str>, label: &str, text: &str) {
        let mut line = String::with_capacity(text.len() + 32);
        if let Some(host) = host {
            line.push_str(&paint(self.stdout_color, HOST, &format!("[{host}]")));
            line.push(' ');
        }
        if !label.is_empty() {
            line.push_str(label);
            line.push_str(": ");
        }
        line.push_str(text);
        line.push('\n');
        self.progress
            .around(|| write_line(&mut io::stdout().lock(), &line));
    }

    /// A bar counting `total` hosts or bytes, for people on a terminal; gone when dropped.
    pub(crate) fn progress(&self, total: u64, unit: &Unit, message: &str) -> Shown {
        let shown = !self.json && self.levels.shows(Level::Status);
        self.progress
            .show(if shown { total } else { 0 }, unit, message)
    }
}

fn prefix(host: Option<&str>) -> String {
    host.map(|h| format!("[{h}] ")).unwrap_or_default()
}

fn paint(color: bool, style: Style, text: &str) -> String {
    if color {
        format!("{style}{text}{style:#}")
    } else {
        text.to_owned()
    }
}

pub(super) fn write_line(stream: &mut impl Write, line: &str) {
    // A closed pipe (`rfab --list | head`) is not an error worth reporting.
    let _ = stream
        .write_all(line.as_bytes())
        .and_then(|()| stream.flush());
}
