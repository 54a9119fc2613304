//! Meta-commands: `:hosts`, `:roles`, `:env`, `:tasks`, `:help`, `:dry`, `:reload`,
//! `:disconnect` and `:quit`. They talk to rfab itself, never to a host.

use std::fmt::Write as _;

use rhai::{Array, Dynamic, Map};

use crate::error::{Error, Result};
use crate::repl::markdown;
use crate::repl::session::Session;
use crate::script::api;
use crate::script::listing;
use crate::ssh::host_string::Host;
use crate::suggestion;

pub(crate) struct Command {
    pub(crate) name: &'static str,
    pub(crate) usage: &'static str,
    pub(crate) summary: &'static str,
}

pub(crate) const COMMANDS: &[Command] = &[
    Command {
        name: "hosts",
        usage: ":hosts [HOST,...]",
        summary: "show the selected hosts, or select these (env.hosts; clears env.roles)",
    },
    Command {
        name: "roles",
        usage: ":roles",
        summary: "show env.roledefs, the selected roles marked with *",
    },
    Command {
        name: "env",
        usage: ":env [KEY]",
        summary: "show env, or one key of it",
    },
    Command {
        name: "tasks",
        usage: ":tasks",
        summary: "list the tasks of the fabfile",
    },
    Command {
        name: "help",
        usage: ":help [NAME]",
        summary: "these commands, or the docs of a task or script function",
    },
    Command {
        name: "dry",
        usage: ":dry [on|off]",
        summary: "show or switch dry-run: print commands, connect nowhere",
    },
    Command {
        name: "reload",
        usage: ":reload",
        summary: "read the fabfile again; env, variables and connections stay",
    },
    Command {
        name: "disconnect",
        usage: ":disconnect",
        summary: "close every connection (the next command reconnects)",
    },
    Command {
        name: "quit",
        usage: ":quit",
        summary: "close the connections and leave (Ctrl-D does the same)",
    },
];

/// Whether the session goes on after a meta-command.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    Quit,
}

/// Runs `:name argument`.
pub(crate) fn run(session: &mut Session, name: &str, argument: &str) -> Result<Flow> {
    let command = COMMANDS
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| Error::UnknownMeta {
            name: name.into(),
            suggestion: suggestion::closest(name, COMMANDS.iter().map(|c| c.name))
                .map(|s| format!(":{s}")),
        })?;
    let takes_argument = matches!(name, "hosts" | "env" | "help" | "dry");
    if !takes_argument && !argument.is_empty() {
        return Err(usage(command, &format!("`:{name}` takes no argument")));
    }
    match name {
        "hosts" if argument.is_empty() => show_hosts(session)?,
        "hosts" => select_hosts(session, argument, command)?,
        "roles" => show_roles(session),
        "env" => show_env(session, argument),
        "tasks" => session.say(&listing::list(&session.fabfile, &[])),
        "help" => help(session, argument)?,
        "dry" => dry(session, argument, command)?,
        "reload" => session.reload()?,
        "disconnect" => session
            .runtime
            .connections
            .close_all(&session.runtime.output),
        "quit" => return Ok(Flow::Quit),
        _ => unreachable!("every command of COMMANDS is handled"),
    }
    Ok(Flow::Continue)
}

fn usage(command: &Command, message: &str) -> Error {
    Error::MetaUsage {
        message: message.into(),
        usage: command.usage,
    }
}

fn show_hosts(session: &Session) -> Result<()> {
    let targets = session.selection()?;
    if targets.is_empty() {
        session.say(
            "No hosts selected: run an environment task (`prod`), or `:hosts HOST,...`, \
             or set `env.hosts` / `env.roles`.",
        );
    }
    for target in targets {
        session.say(&target.host_string);
    }
    Ok(())
}

fn select_hosts(session: &Session, argument: &str, command: &Command) -> Result<()> {
    let hosts: Vec<&str> = argument
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    if hosts.is_empty() {
        return Err(usage(command, "`:hosts` needs host names, comma-separated"));
    }
    for host in &hosts {
        Host::parse(host)?;
    }
    let env = &session.runtime.env;
    env.set(
        "hosts",
        Dynamic::from_array(
            hosts
                .iter()
                .map(|h| Dynamic::from((*h).to_owned()))
                .collect(),
        ),
    );
    env.set("roles", Dynamic::from_array(Array::new()));
    Ok(())
}

fn show_roles(session: &Session) {
    let env = &session.runtime.env;
    let roledefs = env
        .get("roledefs")
        .and_then(Dynamic::try_cast::<Map>)
        .unwrap_or_default();
    if roledefs.is_empty() {
        session.say("No roles: `env.roledefs` defines none.");
        return;
    }
    let selected = env.strings("roles").unwrap_or_default();
    let mut text = String::new();
    for (role, definition) in roledefs {
        let mark = if selected.iter().any(|r| r == role.as_str()) {
            '*'
        } else {
            ' '
        };
        let _ = writeln!(text, "{mark} {role}: {}", show_value(&definition));
    }
    session.say(&text);
}

fn show_env(session: &Session, key: &str) {
    let env = session.runtime.env.snapshot();
    if !key.is_empty() {
        let value = env.get(key).cloned().unwrap_or(Dynamic::UNIT);
        session.say(&show_value(&value));
        return;
    }
    let mut text = String::new();
    for (key, value) in env {
        let _ = writeln!(text, "{key} = {}", show_value(&value));
    }
    session.say(&text);
}

/// A value of `env` the way Rhai would write it.
fn show_value(value: &Dynamic) -> String {
    if value.is_unit() {
        "()".into()
    } else {
        format!("{value:?}")
    }
}

fn help(session: &Session, name: &str) -> Result<()> {
    if name.is_empty() {
        let width = COMMANDS.iter().map(|c| c.usage.len()).max().unwrap_or(0);
        let mut text = String::from(
            "Type a task as on the command line (`prod`, `deploy:stable`), or Rhai: \
             `run(\"uptime\")` runs on every selected host.\n\n",
        );
        for command in COMMANDS {
            let _ = writeln!(text, "    {:width$}    {}", command.usage, command.summary);
        }
        text.push_str("\n`:help NAME` shows a task or a script function; Tab completes.");
        session.say(&text);
        return Ok(());
    }
    if let Some(command) = COMMANDS.iter().find(|c| name == format!(":{}", c.name)) {
        session.say(&format!("{}    {}", command.usage, command.summary));
        return Ok(());
    }
    if let Ok(task) = session.fabfile.task(name) {
        session.say(&listing::display(task));
        return Ok(());
    }
    let text = api::reference_of(&session.engine, name)?;
    session.say(&markdown::render(&text));
    Ok(())
}

fn dry(session: &Session, argument: &str, command: &Command) -> Result<()> {
    let runtime = &session.runtime;
    match argument {
        "" => {}
        "on" => runtime.set_dry_run(true),
        "off" => runtime.set_dry_run(false),
        other => {
            return Err(usage(
                command,
                &format!("`:dry` takes `on` or `off`, not `{other}`"),
            ));
        }
    }
    session.say(if runtime.dry_run() {
        "Dry run: commands are printed, nothing runs and no host is contacted."
    } else {
        "Dry run is off: commands run on the hosts."
    });
    Ok(())
}
