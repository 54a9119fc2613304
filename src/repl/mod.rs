//! `rfab repl`: the fabfile loaded, a prompt, and one run that lasts the whole session.
//!
//! An entry is a meta-command (`:hosts`, `:help`, ...; see `meta`), task invocations in the
//! command line's grammar (`prod:out deploy:stable`), or Rhai, which runs like the body of a
//! task on every selected host (see `line` for how an entry is told apart, `script` for how
//! Rhai runs). Env, connections, variables, functions and imports last from one entry to
//! the next.
//!
//! No error ends an interactive session: it is printed as on the command line and the
//! prompt comes back; Ctrl-C stops what runs (remote commands included) and comes back
//! too. With stdin piped, entries are read and echoed like a script, which stops at the
//! first failure with its exit status, as `sh -e` would.
//!
//! `-H` and `-R` give the first selection (they are in `env.hosts`/`env.roles` already) but
//! do not pin it, as they would on the command line: tasks, `:hosts` and `env` change it,
//! each new selection replacing the previous one (see `Session::settle`). With `-H` the
//! session needs no fabfile.

mod completion;
mod helper;
mod history;
mod input;
mod line;
mod markdown;
mod meta;
mod names;
mod script;
mod session;

pub(crate) use session::Session;

use crate::error::{Error, Result};
use crate::script::fabfile::Fabfile;
use crate::script::invocation::Invocation;
use crate::script::listing::Builtin;
use crate::script::runtime::CliHosts;
use crate::signals;
use completion::Words;
use input::Input;
use line::Line;
use meta::Flow;

/// The word that asks for the REPL.
pub(crate) const WORD: &str = "repl";

/// The REPL as `--list` and `-d repl` show it, beside the fabfile's tasks (unless the
/// fabfile has a task of that name, which wins).
pub(crate) fn builtin(fabfile: &Fabfile) -> Option<Builtin> {
    fabfile.task(WORD).is_err().then_some(Builtin {
        name: WORD,
        doc: &[
            "Open a prompt that runs tasks and script lines on the selected hosts.",
            "",
            "Comes last on the command line; the tasks before it run first (`rfab prod repl`",
            "selects production, then prompts). Each entry runs on the selected hosts in",
            "parallel (`-z` caps how many at once). `:help` lists the prompt's commands,",
            "`:reload` reads the fabfile again, Ctrl-D ends the session.",
        ],
        usage: "rfab [TASK...] repl",
    })
}

/// Whether the command line asks for the REPL (`rfab prod repl`): its last word is `repl`
/// and the fabfile has no task of that name, or `+repl` whatever the fabfile has. Gives the
/// tasks to run first.
pub(crate) fn requested<'a>(
    invocations: &'a [Invocation],
    fabfile: &Fabfile,
) -> Result<(&'a [Invocation], bool)> {
    let forced = format!("+{WORD}");
    let asks = |i: &Invocation| i.word == forced || (i.word == WORD && fabfile.task(WORD).is_err());
    match invocations.iter().position(asks) {
        None => Ok((invocations, false)),
        Some(last) if last + 1 == invocations.len() => Ok((&invocations[..last], true)),
        Some(_) => Err(Error::ReplNotLast),
    }
}

/// Runs the tasks and the command given before `repl`, then the session; closes every
/// connection at the end, whatever happened.
pub(crate) fn run(mut session: Session, first: &[Invocation], command: Option<&str>) -> Result<()> {
    let cli = session.runtime.cli();
    session.runtime.set_cli(CliHosts {
        hosts: Vec::new(),
        roles: Vec::new(),
        exclude_hosts: cli.exclude_hosts,
    });
    let result = session
        .run_invocations(first)
        .and_then(|()| command.map_or(Ok(()), |command| session.run_command(command)))
        .and_then(|()| Input::open(Words::of(&session), &session.runtime.output))
        .and_then(|mut input| prompt(&mut session, &mut input));
    session
        .runtime
        .connections
        .close_all(&session.runtime.output);
    result
}

/// Reads and runs entries until the end of the input or `:quit`.
fn prompt(session: &mut Session, input: &mut Input) -> Result<()> {
    if !input.is_piped() {
        session.say(
            "Tasks as on the command line, or Rhai: run(\"uptime\") runs on every selected host. \
             :help for more, Ctrl-D to leave.",
        );
    }
    loop {
        let Some(text) = input.read(&session.prompt(), &session.runtime.output)? else {
            return Ok(());
        };
        // A signal that came while the prompt waited (SIGTERM, SIGHUP: the terminal's Ctrl-C
        // goes to the line editor there) ends the session, connections closed.
        if signals::interrupted() {
            return Ok(());
        }
        // Each entry is a command of its own: repositories are fetched anew for it.
        session.runtime.scratch.forget_mirrors();
        let result = entry(session, &text);
        // The interrupted entry has stopped: the next one runs.
        signals::reset();
        input.set_words(Words::of(session));
        match result {
            Ok(Flow::Continue) => {}
            Ok(Flow::Quit) => return Ok(()),
            Err(error) if input.is_piped() => return Err(error),
            Err(error) => report(session, &error),
        }
    }
}

fn entry(session: &mut Session, text: &str) -> Result<Flow> {
    match line::classify(text, |name| session.fabfile.task(name).is_ok())? {
        Line::Empty => {}
        Line::Meta { name, argument } => {
            let before = session.chosen();
            let flow = meta::run(session, &name, &argument);
            // `:hosts a,b` says what it selected even when that was selected already.
            session.settle(
                &before,
                flow.is_ok() && name == "hosts" && !argument.is_empty(),
            );
            return flow;
        }
        Line::Invocations(invocations) => session.run_invocations(&invocations)?,
        Line::Script(text) => {
            let before = session.chosen();
            let ran = session.run_script(&text);
            session.settle(&before, false);
            ran?;
        }
    }
    Ok(Flow::Continue)
}

/// Prints an error that is not on the terminal already; Ctrl-C said its piece itself.
fn report(session: &Session, error: &Error) {
    if !error.is_reported() && !matches!(error, Error::Interrupted) {
        session.runtime.output.error(&error.to_string());
    }
}
