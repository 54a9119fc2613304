//! Running tasks, Fabric's way: in command-line order, each on the host list computed when
//! it starts, once per host (or once locally when the list is empty), in the host pool
//! (`pool`): serially, or in parallel under `-P` or `@parallel`.
//!
//! A task is called through a generated entry function, `fn __entry(a0) { fabfile::deploy(a0) }`,
//! so that namespaced tasks resolve normally and each call carries its own
//! [`Context`](crate::script::context::Context) as Rhai's call tag. [`Executor::execute`] runs one task over its hosts and returns each
//! host's result; the CLI and the script function `execute()` both go through it.

use std::sync::Arc;

use rhai::{CallFnOptions, Dynamic, Engine, EvalAltResult, Scope};

use crate::error::{Error, Result};
use crate::output::event;
use crate::script::abort;
use crate::script::context::Context;
use crate::script::decorators::Tags;
use crate::script::diagnostic::ENTRY_SOURCE;
use crate::script::fabfile::Fabfile;
use crate::script::host_list::{self, Selection};
use crate::script::invocation::Invocation;
use crate::script::pool::{self, Pool, Turn};
use crate::script::runtime::Runtime;
use crate::script::scoped::ScopedSettings;
use crate::script::task::{Overload, Task};
use crate::signals;
use crate::ssh::target::Target;

/// What one task returned, or how it failed, on one host (`None`: run locally).
pub(crate) type HostResult = (Option<Arc<Target>>, pool::Outcome);

pub(crate) struct Executor<'a> {
    pub(crate) engine: &'a Engine,
    pub(crate) runtime: &'a Arc<Runtime>,
    pub(crate) fabfile: &'a Fabfile,
}

impl Executor<'_> {
    /// A whole `rfab` run: the tasks in order, then the ad-hoc command after `--`; then,
    /// however they ended, the summary, `Done.` when all went well, and every connection
    /// closed.
    pub(crate) fn run_to_end(
        &self,
        invocations: &[Invocation],
        command: Option<&str>,
    ) -> Result<()> {
        let result = self
            .run(invocations)
            .and_then(|()| command.map_or(Ok(()), |command| self.run_command(command)));
        // The run's output, with the levels of --hide/--show.
        let output = &self.runtime.output;
        self.runtime.summary.print(output, self.runtime.dry_run());
        if result.is_ok() {
            output.done();
        }
        self.runtime.connections.close_all(output);
        result
    }

    /// Runs the invocations in order; a failed task ends the run.
    pub(crate) fn run(&self, invocations: &[Invocation]) -> Result<()> {
        for invocation in invocations {
            // Each task of the command line runs anew (`prod:out` twice in a run asks the
            // balancer twice); within it, a `@runs_once` task `execute()`d from every host
            // runs once.
            self.runtime
                .ran_once
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clear();
            let task = self.fabfile.task(&invocation.task)?;
            let (overload, args) = task.bind(invocation)?;
            let own = Selection {
                hosts: invocation.hosts.clone(),
                roles: invocation.roles.clone(),
                exclude_hosts: invocation.exclude_hosts.clone(),
            };
            self.run_task(task, overload, args, &own)?;
        }
        Ok(())
    }

    /// `rfab -H HOSTS -- COMMAND`: `run(COMMAND)` on every host.
    pub(crate) fn run_command(&self, command: &str) -> Result<()> {
        let task = Task::adhoc();
        self.run_task(
            &task,
            &task.overloads[0],
            vec![command.into()],
            &Selection::default(),
        )
    }

    /// Runs one task on its hosts; every failed host is reported, the first one ends the run.
    fn run_task(
        &self,
        task: &Task,
        overload: &Overload,
        args: Vec<Dynamic>,
        own: &Selection,
    ) -> Result<()> {
        let mut failure = None;
        let results = self.execute(task, overload, args, own, None)?;
        let skip_bad_hosts = self.runtime.ssh_options()?.skip_bad_hosts;
        for (target, result) in results {
            let Err(error) = result else { continue };
            if skip_bad_hosts && abort::unreachable_message(&error).is_some() {
                continue;
            }
            let reported = self.report(task, target.as_deref(), &error);
            failure.get_or_insert(reported);
        }
        failure.map_or(Ok(()), Err)
    }

    /// Runs `task` on its host list and returns each host's result. Serially it stops
    /// after the first host that fails; in parallel every host runs. Called by `execute()`,
    /// the hosts start with the `caller`'s scoped settings (`hide`, `settings`, `cd`, ...),
    /// as in Fabric, where they are global.
    pub(crate) fn execute(
        &self,
        task: &Task,
        overload: &Overload,
        args: Vec<Dynamic>,
        own: &Selection,
        caller: Option<&Context>,
    ) -> Result<Vec<HostResult>> {
        let once = overload.tags.runs_once;
        if once && let Some((target, value)) = self.ran_once(&task.name) {
            return Ok(vec![(target, Ok(value))]);
        }
        let entry = self.entry(task, args.len());
        let results = self.on_hosts(
            task.name.as_str().into(),
            &overload.tags,
            own,
            caller,
            |context| {
                let options = CallFnOptions::new()
                    .eval_ast(false)
                    .with_tag(context.clone());
                self.engine.call_fn_with_options::<Dynamic>(
                    options,
                    &mut Scope::new(),
                    &entry,
                    "__entry",
                    args.clone(),
                )
            },
        )?;
        if once && let Some((target, Ok(value))) = results.first() {
            self.runtime
                .ran_once
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .entry(task.name.clone())
                .or_insert_with(|| (target.clone(), value.clone()));
        }
        Ok(results)
    }

    /// What a `@runs_once` task gave when it ran, if it has run.
    fn ran_once(&self, task: &str) -> Option<crate::script::runtime::RanOnce> {
        self.runtime
            .ran_once
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(task)
            .cloned()
    }

    /// Runs `work` once per host of the host list of `own`, `tags`, `-H`/`-R` and `env`
    /// (once locally when it is empty), as the task `name`.
    pub(crate) fn on_hosts(
        &self,
        name: Arc<str>,
        tags: &Tags,
        own: &Selection,
        caller: Option<&Context>,
        work: impl Fn(&Context) -> pool::Outcome + Sync,
    ) -> Result<Vec<HostResult>> {
        // A task run by `execute()` on its caller's own host is that same target, role
        // settings (user, port, ...) included.
        let caller_target = caller.and_then(|c| c.target.as_ref());
        let mut targets: Vec<Option<Arc<Target>>> = host_list::resolve(own, tags, self.runtime)?
            .into_iter()
            .map(|t| match caller_target {
                Some(caller) if caller.host_string == t.host_string => Some(caller.clone()),
                _ => Some(Arc::new(t)),
            })
            .collect();
        if targets.is_empty() {
            targets.push(None);
        }
        if tags.runs_once {
            targets.truncate(1);
        }
        let pool = Pool {
            runtime: self.runtime,
            task: Some(name),
            width: pool::width(tags, &self.runtime.ssh_options()?, targets.len()),
            once: tags.runs_once,
        };
        // The hosts are `execute()`'s own: a `settings(#{ host_string })` around it does
        // not redirect them.
        let settings = caller.map(|c| ScopedSettings {
            target: None,
            ..c.settings()
        });
        let turns = targets.into_iter().map(|t| Turn::new(t, ())).collect();
        let turns = pool.run_with(turns, settings.as_ref(), |context, ()| work(context));
        if signals::interrupted() {
            return Err(Error::Interrupted);
        }
        Ok(turns
            .into_iter()
            .filter_map(|turn| Some((turn.target, turn.outcome?)))
            .collect())
    }

    /// `fn __entry(a0, a1) { fabfile::proxy::flip(a0, a1) }`
    fn entry(&self, task: &Task, arity: usize) -> rhai::AST {
        let params: Vec<String> = (0..arity).map(|i| format!("a{i}")).collect();
        let code = format!(
            "fn __entry({0}) {{ {1}({0}) }}",
            params.join(", "),
            task.call
        );
        let mut ast = self
            .engine
            .compile(code)
            .expect("task names are identifiers, so the entry always compiles");
        ast.set_source(ENTRY_SOURCE);
        ast
    }

    /// Prints a task's failure as Fabric does and turns it into the run's error.
    fn report(&self, task: &Task, target: Option<&Target>, error: &EvalAltResult) -> Error {
        if matches!(error.unwrap_inner(), EvalAltResult::ErrorTerminated(..)) {
            return Error::Interrupted;
        }
        let host = target.map(|t| t.host_string.as_str());
        let message = abort::message(error)
            .unwrap_or_else(|| self.fabfile.sources.eval_error(error, ENTRY_SOURCE));
        let _here = event::enter(Some(task.name.as_str().into()), host);
        self.runtime.output.fatal(host, &message);
        Error::TaskFailed(message)
    }
}
