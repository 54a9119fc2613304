//! One `rfab repl` session: the run's runtime (env, connections) for its whole length, the
//! engine with the fabfile loaded, and what was typed so far.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use rhai::{Array, Dynamic, Engine};

use crate::error::{Error, Result};
use crate::repl::names;
use crate::repl::script::{Names, Script};
use crate::script::api;
use crate::script::decorators::Tags;
use crate::script::diagnostic::{Sources, display_path};
use crate::script::executor::Executor;
use crate::script::fabfile::Fabfile;
use crate::script::host_list::{self, Selection};
use crate::script::invocation::Invocation;
use crate::script::load;
use crate::script::runtime::Runtime;
use crate::ssh::target::Target;

/// What selected the hosts at one moment: `env.hosts`, `env.roles` (`None`: not a list of
/// strings) and the hosts they gave (`None`: they could not be resolved).
pub(crate) struct Chosen {
    hosts: Option<Vec<String>>,
    roles: Option<Vec<String>>,
    selected: Option<Vec<String>>,
}

/// How many hosts a change names before it counts the rest.
const NAMED_HOSTS: usize = 6;

/// `web1, web2`, `none`, or `web1, ..., web6 and 94 more`.
fn host_list(hosts: &[String]) -> String {
    match hosts.len() {
        0 => "none".into(),
        n if n <= NAMED_HOSTS + 1 => hosts.join(", "),
        n => format!(
            "{} and {} more",
            hosts[..NAMED_HOSTS].join(", "),
            n - NAMED_HOSTS
        ),
    }
}

pub(crate) struct Session {
    pub(crate) runtime: Arc<Runtime>,
    pub(crate) engine: Engine,
    pub(crate) fabfile: Arc<Fabfile>,
    /// `None`: the session started without a fabfile (`rfab -H HOSTS repl`).
    path: Option<PathBuf>,
    sources: Sources,
    script: Script,
    /// The script API's function names.
    api: Vec<String>,
    /// What entries may call, checked before they run.
    names: Names,
    /// The task word that last changed the selection (`prod:out`) and the hosts it chose:
    /// the prompt names the task while those hosts stay selected.
    label: Option<(String, Vec<String>)>,
}

impl Session {
    pub(crate) fn new(
        runtime: Arc<Runtime>,
        engine: Engine,
        fabfile: Arc<Fabfile>,
        path: Option<PathBuf>,
        sources: Sources,
    ) -> Self {
        let api = api::function_names(&engine);
        let names = names_of(&engine, &fabfile);
        Self {
            runtime,
            engine,
            fabfile,
            path,
            sources,
            script: Script::new(),
            api,
            names,
            label: None,
        }
    }

    /// A plain line (or lines) of text on stdout.
    pub(crate) fn say(&self, text: &str) {
        self.runtime.output.say(text.trim_end());
    }

    /// The hosts a task without host tags would run on now.
    pub(crate) fn selection(&self) -> Result<Vec<Target>> {
        host_list::resolve(&Selection::default(), &Tags::default(), &self.runtime)
    }

    /// The host strings of [`Session::selection`], if it can be made.
    pub(crate) fn selected_host_strings(&self) -> Option<Vec<String>> {
        let targets = self.selection().ok()?;
        Some(targets.into_iter().map(|t| t.host_string).collect())
    }

    /// `rfab prod [2 hosts]> `; `(dry)` while dry-run is on.
    pub(crate) fn prompt(&self) -> String {
        let mut prompt = String::from("rfab");
        if let Some((word, hosts)) = &self.label
            && self.selected_host_strings().as_ref() == Some(hosts)
        {
            let _ = write!(prompt, " {word}");
        }
        match self.selection().map(|targets| targets.len()) {
            Ok(0) => {}
            Ok(1) => prompt.push_str(" [1 host]"),
            Ok(n) => {
                let _ = write!(prompt, " [{n} hosts]");
            }
            Err(_) => prompt.push_str(" [?]"),
        }
        if self.runtime.dry_run() {
            prompt.push_str(" (dry)");
        }
        prompt.push_str("> ");
        prompt
    }

    /// Runs task invocations as the command line would, one after the other; a task that
    /// changes the selection names the prompt.
    pub(crate) fn run_invocations(&mut self, invocations: &[Invocation]) -> Result<()> {
        for invocation in invocations {
            // The command line's hint (`rfab --list`) is no help at the prompt.
            let task = self
                .fabfile
                .task(&invocation.task)
                .map_err(|error| match error {
                    Error::UnknownTask { name, suggestion } => {
                        Error::UnknownTaskAtPrompt { name, suggestion }
                    }
                    other => other,
                })?;
            task.bind(invocation)?;
        }
        let executor = Executor {
            engine: &self.engine,
            runtime: &self.runtime,
            fabfile: &self.fabfile,
        };
        for invocation in invocations {
            let before = self.chosen();
            let ran = executor.run(std::slice::from_ref(invocation));
            if let Some(hosts) = self.settle(&before, false) {
                self.label = Some((invocation.word.clone(), hosts));
            }
            ran?;
        }
        Ok(())
    }

    /// What selects the hosts now, to tell afterwards what an entry changed.
    pub(crate) fn chosen(&self) -> Chosen {
        let env = &self.runtime.env;
        Chosen {
            hosts: env.strings("hosts").ok(),
            roles: env.strings("roles").ok(),
            selected: self.selected_host_strings(),
        }
    }

    /// After an entry, one rule however the selection was made (`:hosts`, a task, `env.`):
    /// a new one replaces the previous. Setting only `env.hosts` drops the roles selected
    /// before, setting only `env.roles` the hosts, so that `:hosts a` then `prod:group2`
    /// runs on group2 alone, never on `a` too. Says how the hosts changed (with `always`,
    /// also that they did not); gives the new hosts if they changed.
    pub(crate) fn settle(&self, before: &Chosen, always: bool) -> Option<Vec<String>> {
        let env = &self.runtime.env;
        let now = self.chosen();
        let set = |list: &Option<Vec<String>>| list.as_ref().is_some_and(|l| !l.is_empty());
        let (hosts_changed, roles_changed) = (now.hosts != before.hosts, now.roles != before.roles);
        if set(&now.hosts) && set(&now.roles) {
            if hosts_changed && !roles_changed {
                env.set("roles", Dynamic::from_array(Array::new()));
            } else if roles_changed && !hosts_changed {
                env.set("hosts", Dynamic::from_array(Array::new()));
            }
        }
        let after = self.selected_host_strings()?;
        if before.selected.as_ref() == Some(&after) {
            if always {
                self.say(&format!("hosts: {} (unchanged)", host_list(&after)));
            }
            return None;
        }
        let was = before
            .selected
            .as_deref()
            .map_or_else(|| "?".into(), host_list);
        self.say(&format!("hosts: {was} -> {}", host_list(&after)));
        Some(after)
    }

    /// `rfab -H HOSTS repl -- COMMAND`: the command, on every host, before the prompt.
    pub(crate) fn run_command(&self, command: &str) -> Result<()> {
        let executor = Executor {
            engine: &self.engine,
            runtime: &self.runtime,
            fabfile: &self.fabfile,
        };
        executor.run_command(command)
    }

    /// Runs Rhai on the selected hosts (see `script`).
    pub(crate) fn run_script(&mut self, text: &str) -> Result<()> {
        let targets = self.selection()?;
        self.script.run(
            &self.engine,
            &self.runtime,
            &mut self.sources,
            text,
            targets,
            &self.names,
        )
    }

    /// Reads the fabfile again into a new engine; env, variables, functions typed at the
    /// prompt and connections stay. On an error the old fabfile stays loaded.
    pub(crate) fn reload(&mut self) -> Result<()> {
        let path = self.path.clone().ok_or(Error::NoFabfileToReload)?;
        let (engine, fabfile) = load::load(
            &self.runtime,
            Some(&path),
            &Sources::new(self.sources.base.clone()),
        )?;
        self.api = api::function_names(&engine);
        self.names = names_of(&engine, &fabfile);
        self.engine = engine;
        self.fabfile = fabfile;
        self.say(&format!(
            "Reloaded {} ({} tasks).",
            display_path(&path),
            self.fabfile.tasks.len()
        ));
        Ok(())
    }

    /// The functions a script can call now: the script API's and those typed at the
    /// prompt.
    pub(crate) fn function_names(&self) -> Vec<String> {
        let mut functions = self.api.clone();
        functions.extend(self.script.function_names());
        functions
    }
}

/// What entries of a session with `engine` and `fabfile` may call.
fn names_of(engine: &Engine, fabfile: &Fabfile) -> Names {
    let (functions, methods) = names::engine_functions(engine);
    Names {
        functions,
        methods,
        tasks: fabfile.tasks.iter().map(|t| t.name.clone()).collect(),
    }
}
