//! What rfab was asked to do, and doing it.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};

use clap::CommandFactory;
use clap_complete::Shell;
use rhai::{Array, Dynamic, Map};

use crate::cli::arguments::Arguments;
use crate::cli::config::Config;
use crate::cli::search;
use crate::error::{Error, Result};
use crate::output::Output;
use crate::output::summary::Summary;
use crate::repl::{self, Session};
use crate::script::api;
use crate::script::diagnostic::Sources;
use crate::script::engine;
use crate::script::env::Env;
use crate::script::executor::Executor;
use crate::script::invocation::{self, Invocation};
use crate::script::listing;
use crate::script::load::load;
use crate::script::runtime::Runtime;
use crate::signals;
use crate::ssh::connection_cache::Connections;
use crate::ssh::credentials::Credentials;
use crate::ssh::target::local_user;

#[derive(Debug)]
pub(crate) enum Subcommand {
    Completions(Shell),
    Api(Option<String>),
    List,
    Shortlist,
    Display(String),
    Run(Vec<Invocation>),
}

impl Subcommand {
    /// What the command line asks for; its task words parsed with Fabric's grammar.
    pub(crate) fn from_arguments(arguments: &Arguments) -> Result<Self> {
        Ok(if let Some(shell) = arguments.completions {
            Self::Completions(shell)
        } else if let Some(name) = &arguments.api {
            Self::Api((!name.is_empty()).then(|| name.clone()))
        } else if arguments.list {
            Self::List
        } else if arguments.shortlist {
            Self::Shortlist
        } else if let Some(task) = &arguments.display {
            Self::Display(task.clone())
        } else {
            Self::Run(
                arguments
                    .tasks
                    .iter()
                    .map(|w| invocation::parse(w))
                    .collect::<Result<_>>()?,
            )
        })
    }

    pub(crate) fn execute(&self, config: &Config, output: &Output) -> Result<()> {
        match self {
            Self::Completions(shell) => {
                let mut stdout = std::io::stdout();
                clap_complete::generate(*shell, &mut Arguments::command(), "rfab", &mut stdout);
                Ok(())
            }
            Self::Api(name) => {
                let runtime = runtime(config, output, Env::default());
                let engine = engine::build(&runtime, &config.cwd);
                match api::reference(&engine, name.as_deref()) {
                    Some(text) => {
                        output.say(text.trim_end());
                        Ok(())
                    }
                    None => Err(Error::UnknownApi {
                        name: name.clone().unwrap_or_default(),
                    }),
                }
            }
            Self::List | Self::Shortlist | Self::Display(_) | Self::Run(_) => {
                self.with_fabfile(config, output)
            }
        }
    }

    fn with_fabfile(&self, config: &Config, output: &Output) -> Result<()> {
        let adhoc_only = matches!(self, Self::Run(invocations) if invocations.is_empty())
            && config.command.is_some();
        let path = if adhoc_only {
            None
        } else {
            Some(search::find(config.fabfile.as_deref(), &config.cwd)?)
        };
        let base = path
            .as_deref()
            .and_then(std::path::Path::parent)
            .map_or_else(|| config.cwd.clone(), std::path::Path::to_path_buf);
        let sources = Sources::new(base);
        let runtime = runtime(config, output, seed_env(config, path.as_deref()));
        let (engine, fabfile) = load(&runtime, path.as_deref(), &sources)?;
        match self {
            Self::List => output.say(listing::list(&fabfile).trim_end()),
            Self::Shortlist => output.say(listing::shortlist(&fabfile).trim_end()),
            Self::Display(name) => output.say(listing::display(fabfile.task(name)?).trim_end()),
            Self::Run(invocations) => {
                let (invocations, interactive) = repl::requested(invocations, &fabfile)?;
                if invocations.is_empty() && config.command.is_none() && !interactive {
                    output.say(listing::list(&fabfile).trim_end());
                    return Err(Error::NoTask);
                }
                // Every task is checked before the first one runs.
                for invocation in invocations {
                    fabfile.task(&invocation.task)?.bind(invocation)?;
                }
                signals::install();
                runtime
                    .credentials
                    .ask_up_front(config.ask_up_front.0, config.ask_up_front.1);
                if interactive {
                    let path = path.expect("`repl` is a task word, so a fabfile was loaded");
                    let session = Session::new(runtime, engine, fabfile, path, sources);
                    return repl::run(session, invocations, config.command.as_deref());
                }
                let executor = Executor {
                    engine: &engine,
                    runtime: &runtime,
                    fabfile: &fabfile,
                };
                let result = executor.run(invocations).and_then(|()| {
                    config
                        .command
                        .as_deref()
                        .map_or(Ok(()), |command| executor.run_command(command))
                });
                // The run's output, with the levels of --hide/--show.
                let output = &runtime.output;
                runtime.summary.print(output);
                if result.is_ok() {
                    output.status("\nDone.");
                }
                runtime.connections.close_all(output);
                result?;
            }
            Self::Completions(_) | Self::Api(_) => unreachable!("handled without a fabfile"),
        }
        Ok(())
    }
}

fn runtime(config: &Config, output: &Output, env: Env) -> Arc<Runtime> {
    crate::git::bound_waits(
        config.ssh.connect_timeout,
        crate::ssh::connection::silence_limit(config.ssh.keepalive),
    );
    let mut output = output.clone();
    output.levels = config.levels;
    Arc::new(Runtime {
        output,
        env,
        cli: RwLock::new(config.cli.clone()),
        ssh: config.ssh.clone(),
        dry_run: AtomicBool::new(config.dry_run),
        lb_plan: crate::lb::Plan::default(),
        credentials: Credentials::new(
            config.password.clone(),
            config.sudo_password.clone(),
            config.abort_on_prompts,
        ),
        connections: Connections::default(),
        summary: Summary::default(),
        scratch: crate::script::scratch::Scratch::default(),
        fabfile: RwLock::new(None),
    })
}

/// Fabric's defaults, then `--set`, then the options that name an env key (they win).
fn seed_env(config: &Config, fabfile: Option<&std::path::Path>) -> Env {
    let env = Env::default();
    let list = |items: &[String]| {
        Dynamic::from_array(
            items
                .iter()
                .map(|s| Dynamic::from(s.clone()))
                .collect::<Array>(),
        )
    };
    let user = local_user();
    let path = fabfile.map_or(Dynamic::UNIT, |f| Dynamic::from(f.display().to_string()));
    for (key, value) in [
        ("hosts", list(&config.cli.hosts)),
        ("roles", list(&config.cli.roles)),
        ("exclude_hosts", list(&config.cli.exclude_hosts)),
        ("roledefs", Dynamic::from_map(Map::new())),
        ("user", Dynamic::from(user.clone())),
        ("local_user", Dynamic::from(user)),
        ("port", Dynamic::from_int(22)),
        ("shell", Dynamic::from(config.shell.clone())),
        ("warn_only", Dynamic::FALSE),
        ("abort_on_prompts", Dynamic::FALSE),
        ("fabfile", path.clone()),
        ("real_fabfile", path),
        ("tasks", list(&config.task_words)),
        (
            "version",
            Dynamic::from(env!("CARGO_PKG_VERSION").to_owned()),
        ),
    ] {
        env.set(key, value);
    }
    for (key, value) in &config.settings {
        env.set(key, value.clone());
    }
    if let Some(user) = &config.user {
        env.set("user", Dynamic::from(user.clone()));
    }
    if let Some(port) = config.port {
        env.set("port", Dynamic::from_int(i64::from(port)));
    }
    if config.warn_only {
        env.set("warn_only", Dynamic::TRUE);
    }
    if config.abort_on_prompts {
        env.set("abort_on_prompts", Dynamic::TRUE);
    }
    env
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn subcommand(args: &[&str]) -> Result<Subcommand> {
        Subcommand::from_arguments(
            &Arguments::try_parse_from([&["rfab"], args].concat()).expect("clap accepts it"),
        )
    }

    #[test]
    fn task_words_are_checked_before_running() {
        assert!(matches!(
            subcommand(&["t:=v"]),
            Err(Error::InvocationSyntax { .. })
        ));
        assert!(matches!(
            subcommand(&["prod", "deploy:stable"]),
            Ok(Subcommand::Run(invocations)) if invocations.len() == 2
        ));
        assert!(matches!(subcommand(&["--list"]), Ok(Subcommand::List)));
    }
}
