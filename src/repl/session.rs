//! One `rfab repl` session: the run's runtime (env, connections) for its whole length, the
//! engine with the fabfile loaded, and what was typed so far.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use rhai::Engine;

use crate::error::Result;
use crate::repl::script::Script;
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

pub(crate) struct Session {
    pub(crate) runtime: Arc<Runtime>,
    pub(crate) engine: Engine,
    pub(crate) fabfile: Arc<Fabfile>,
    path: PathBuf,
    sources: Sources,
    script: Script,
    /// The script API's function names.
    api: Vec<String>,
    /// The task word that last changed the selection (`prod:out`) and the hosts it chose:
    /// the prompt names the task while those hosts stay selected.
    label: Option<(String, Vec<String>)>,
}

impl Session {
    pub(crate) fn new(
        runtime: Arc<Runtime>,
        engine: Engine,
        fabfile: Arc<Fabfile>,
        path: PathBuf,
        sources: Sources,
    ) -> Self {
        let api = api::function_names(&engine);
        Self {
            runtime,
            engine,
            fabfile,
            path,
            sources,
            script: Script::new(),
            api,
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
            self.fabfile.task(&invocation.task)?.bind(invocation)?;
        }
        let executor = Executor {
            engine: &self.engine,
            runtime: &self.runtime,
            fabfile: &self.fabfile,
        };
        for invocation in invocations {
            let before = self.selected_host_strings();
            executor.run(std::slice::from_ref(invocation))?;
            let after = self.selected_host_strings();
            if let Some(hosts) = after.filter(|after| Some(after) != before.as_ref()) {
                self.label = Some((invocation.word.clone(), hosts));
            }
        }
        Ok(())
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
        )
    }

    /// Reads the fabfile again into a new engine; env, variables, functions typed at the
    /// prompt and connections stay. On an error the old fabfile stays loaded.
    pub(crate) fn reload(&mut self) -> Result<()> {
        let (engine, fabfile) = load::load(
            &self.runtime,
            Some(&self.path),
            &Sources::new(self.sources.base.clone()),
        )?;
        self.api = api::function_names(&engine);
        self.engine = engine;
        self.fabfile = fabfile;
        self.say(&format!(
            "Reloaded {} ({} tasks).",
            display_path(&self.path),
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
