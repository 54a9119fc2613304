//! What rfab was asked to do, and handing it to the layer that does it.

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::arguments::Arguments;
use crate::cli::check;
use crate::cli::completions;
use crate::cli::config::Config;
use crate::cli::init;
use crate::cli::search;
use crate::cli::setup::{self, Loaded};
use crate::error::{Error, Result};
use crate::output::Output;
use crate::port;
use crate::repl::{self, Session};
use crate::script::engine;
use crate::script::env::Env;
use crate::script::executor::Executor;
use crate::script::fabfile::Fabfile;
use crate::script::invocation::{self, Invocation};
use crate::script::listing::{self, Builtin};
use crate::script::reference;
use crate::signals;

#[derive(Debug)]
pub(crate) enum Subcommand {
    Completions(Shell),
    Api(Option<String>),
    Definitions(PathBuf),
    List,
    Shortlist,
    Display(String),
    Run(Vec<Invocation>),
    /// `rfab port PATH`: convert a Fabric fabfile.
    Port {
        path: PathBuf,
        out: Option<PathBuf>,
        force: bool,
        check: bool,
    },
}

impl Subcommand {
    /// What the command line asks for; its task words parsed with Fabric's grammar.
    pub(crate) fn from_arguments(arguments: &Arguments) -> Result<Self> {
        if let Some(path) = port_path(&arguments.tasks) {
            return Ok(Self::Port {
                path,
                out: arguments.output.clone(),
                force: arguments.force,
                check: arguments.check,
            });
        }
        if arguments.output.is_some() || arguments.force || arguments.check {
            return Err(Error::Port {
                message: "`-o`, `--force` and `--check` go with `rfab port PATH`\nusage: rfab port fabfile.py [-o OUT] [--force] [--check]".into(),
            });
        }
        Ok(if let Some(shell) = arguments.completions {
            Self::Completions(shell)
        } else if let Some(name) = &arguments.api {
            Self::Api((!name.is_empty()).then(|| name.clone()))
        } else if let Some(dir) = &arguments.definitions {
            Self::Definitions(dir.clone())
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
                print!("{}", completions::script(*shell, Arguments::command()));
            }
            Self::Api(name) => {
                let runtime = setup::runtime(config, output, Env::default());
                let engine = engine::build(&runtime, &config.cwd);
                let text = match name {
                    Some(name) => reference::reference_of(&engine, name)?,
                    None => reference::reference(&engine, None).unwrap_or_default(),
                };
                output.say(text.trim_end());
            }
            Self::Definitions(dir) => {
                let runtime = setup::runtime(config, output, Env::default());
                let engine = engine::build(&runtime, &config.cwd);
                let written =
                    crate::script::definitions::write(&engine, dir).map_err(|source| {
                        Error::Definitions {
                            dir: dir.clone(),
                            source,
                        }
                    })?;
                output.say(&format!(
                    "wrote {} definition files to {}: point the Rhai language server at it",
                    written.len(),
                    dir.display()
                ));
            }
            Self::List => {
                let fabfile = setup::load(config, output, false)?.fabfile;
                let builtins = builtins(&fabfile);
                output.say(listing::list(&fabfile, &builtins).trim_end());
            }
            Self::Shortlist => {
                output.say(
                    listing::shortlist(&setup::load(config, output, false)?.fabfile).trim_end(),
                );
            }
            Self::Display(name) => {
                let fabfile = setup::load(config, output, false)?.fabfile;
                let text = match builtins(&fabfile).into_iter().find(|b| b.name == name) {
                    Some(builtin) => listing::display_builtin(&builtin),
                    None => listing::display(fabfile.task(name)?),
                };
                output.say(text.trim_end());
            }
            Self::Run(invocations) => run(config, output, invocations)?,
            Self::Port {
                path,
                out,
                force,
                check,
            } => port(output, path, out.as_deref(), *force, *check)?,
        }
        Ok(())
    }
}

/// rfab's own commands that this fabfile's tasks leave free, for `--list` and `-d`.
fn builtins(fabfile: &Fabfile) -> Vec<Builtin> {
    repl::builtin(fabfile)
        .into_iter()
        .chain(check::builtin(fabfile))
        .chain(fabfile.task(init::WORD).is_err().then_some(init::BUILTIN))
        .collect()
}

/// `rfab port PATH` is the converter when PATH is a Python file or a directory holding a
/// fabfile; otherwise `port` stays a task word (a fabfile may have a task `port`).
fn port_path(tasks: &[String]) -> Option<PathBuf> {
    let [word, path] = tasks else {
        return None;
    };
    let path = Path::new(path);
    let python = path.is_file() && path.extension().is_some_and(|e| e == "py");
    let package = path.join("__init__.py").is_file() || path.join("fabfile.py").is_file();
    (word == "port" && (python || package)).then(|| path.to_path_buf())
}

/// Converts, writes (unless `check`), prints the report, and fails when the port does not
/// load with `rfab -f OUT --list`.
fn port(output: &Output, path: &Path, out: Option<&Path>, force: bool, check: bool) -> Result<()> {
    let ported = port::convert(path, out)?;
    if !check {
        port::write(&ported, force)?;
    }
    output.say(ported.report.render().trim_end());
    if check {
        port::loads_in_memory(&ported)?;
    } else {
        port::loads(&ported.main)?;
    }
    output.say(&format!(
        "the port loads: rfab -f {} --list",
        ported.main.display()
    ));
    Ok(())
}

/// `rfab TASK...`, `rfab -- COMMAND` and `rfab repl`: every task word checked against the
/// fabfile before the first task runs, then the run or the REPL.
fn run(config: &Config, output: &Output, invocations: &[Invocation]) -> Result<()> {
    // `rfab init`, unless a fabfile here has a task of that name; `rfab +init` regardless.
    if let [only] = invocations
        && (only.task == init::WORD || only.task == format!("+{}", init::WORD))
    {
        let own = only.task == init::WORD
            && search::find(config.fabfile.as_deref(), &config.cwd).is_ok()
            && setup::load(config, output, false)
                .is_ok_and(|loaded| loaded.fabfile.task(init::WORD).is_ok());
        if !own {
            if !only.args.is_empty() {
                return Err(Error::TaskArgument {
                    task: init::WORD.into(),
                    message: "it takes KEY=VALUE arguments only".into(),
                    usage: init::BUILTIN.usage.into(),
                });
            }
            return init::run(&config.cwd, only, output);
        }
    }
    let loaded = setup::load_from(config, output, fabfile_path(config, invocations)?)?;
    // `rfab check`, unless the fabfile has a task of that name; `rfab +check` regardless.
    if let [only] = invocations
        && only.args.is_empty()
        && (only.task == format!("+{}", check::WORD)
            || (only.task == check::WORD && loaded.fabfile.task(check::WORD).is_err()))
    {
        return check::run(&loaded, output, config.json);
    }
    let Loaded {
        runtime,
        engine,
        fabfile,
        path,
        sources,
    } = loaded;
    let (invocations, interactive) = repl::requested(invocations, &fabfile)?;
    if invocations.is_empty() && config.command.is_none() && !interactive {
        let builtins = builtins(&fabfile);
        output.say(listing::list(&fabfile, &builtins).trim_end());
        return Err(Error::NoTask);
    }
    for invocation in invocations {
        fabfile.task(&invocation.task)?.bind(invocation)?;
    }
    signals::install();
    runtime
        .credentials
        .ask_up_front(config.ask_up_front.0, config.ask_up_front.1);
    if interactive {
        let session = Session::new(runtime, engine, fabfile, path, sources);
        return repl::run(session, invocations, config.command.as_deref());
    }
    Executor {
        engine: &engine,
        runtime: &runtime,
        fabfile: &fabfile,
    }
    .run_to_end(invocations, config.command.as_deref())
}

/// The fabfile a run needs: none for `rfab -H HOSTS -- COMMAND`, nor for `rfab -H HOSTS
/// repl` where there is none (as `ansible-console` needs only an inventory); `rfab repl`
/// with no fabfile and no hosts has nothing to work on, and says how to give it some.
fn fabfile_path(config: &Config, invocations: &[Invocation]) -> Result<Option<PathBuf>> {
    if invocations.is_empty() && config.command.is_some() {
        return Ok(None);
    }
    let only_repl = matches!(invocations, [only] if only.word == repl::WORD || only.word == format!("+{}", repl::WORD));
    match search::find(config.fabfile.as_deref(), &config.cwd) {
        Ok(path) => Ok(Some(path)),
        Err(Error::FabfileNotFound { .. }) if only_repl && !config.cli.hosts.is_empty() => Ok(None),
        Err(Error::FabfileNotFound { searched }) if only_repl => {
            Err(Error::ReplWithoutFabfile { searched })
        }
        Err(error) => Err(error),
    }
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
