//! Running tasks, Fabric's way: in command-line order, each on the host list computed when
//! it starts, once per host (or once locally when the list is empty); serially, or in
//! parallel under `-P` or `@parallel`.
//!
//! A task is called through a generated entry function, `fn __entry(a0) { fabfile::deploy(a0) }`,
//! so that namespaced tasks resolve normally and each call carries its own [`Context`] as
//! Rhai's call tag. [`Executor::execute`] runs one task over its hosts and returns each
//! host's result; the CLI and the script function `execute()` both go through it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use rhai::{CallFnOptions, Dynamic, Engine, EvalAltResult, Scope};

use crate::error::{Error, Result};
use crate::output::Level;
use crate::output::progress::Unit;
use crate::output::summary::Outcome;
use crate::script::api::{
    abort_message, run_on_abort, stranded, stranded_message, unreachable_message,
};
use crate::script::context::{Context, Runtime};
use crate::script::diagnostic::ENTRY_SOURCE;
use crate::script::fabfile::Fabfile;
use crate::script::host_list::{self, Selection};
use crate::script::invocation::Invocation;
use crate::script::task::{Overload, Task};
use crate::signals;
use crate::ssh::target::Target;

/// What one task returned, or how it failed, on one host (`None`: run locally).
pub(crate) type HostResult = (
    Option<Arc<Target>>,
    std::result::Result<Dynamic, Box<EvalAltResult>>,
);

/// Rhai recursion is stack-hungry; host threads get room for deep recipes.
pub(crate) const HOST_THREAD_STACK: usize = 8 << 20;

pub(crate) struct Executor<'a> {
    pub(crate) engine: &'a Engine,
    pub(crate) runtime: &'a Arc<Runtime>,
    pub(crate) fabfile: &'a Fabfile,
}

impl Executor<'_> {
    /// Runs the invocations in order; a failed task ends the run.
    pub(crate) fn run(&self, invocations: &[Invocation]) -> Result<()> {
        for invocation in invocations {
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
        for (target, result) in self.execute(task, overload, args, own, None)? {
            let Err(error) = result else { continue };
            if self.runtime.ssh.skip_bad_hosts && unreachable_message(&error).is_some() {
                continue;
            }
            let reported = self.report(target.as_deref(), &error);
            failure.get_or_insert(reported);
        }
        failure.map_or(Ok(()), Err)
    }

    /// Runs `task` on its host list and returns each host's result. Serially it stops
    /// after the first host that fails; in parallel every host runs.
    pub(crate) fn execute(
        &self,
        task: &Task,
        overload: &Overload,
        args: Vec<Dynamic>,
        own: &Selection,
        caller: Option<&Arc<Target>>,
    ) -> Result<Vec<HostResult>> {
        // A task run by `execute()` on its caller's own host is that same target, role
        // settings (user, port, ...) included.
        let mut targets: Vec<Option<Arc<Target>>> =
            host_list::resolve(own, &overload.tags, self.runtime)?
                .into_iter()
                .map(|t| match caller {
                    Some(caller) if caller.host_string == t.host_string => Some(caller.clone()),
                    _ => Some(Arc::new(t)),
                })
                .collect();
        if targets.is_empty() {
            targets.push(None);
        }
        if overload.tags.runs_once {
            targets.truncate(1);
        }
        let entry = self.entry(task, args.len());
        let ssh = &self.runtime.ssh;
        let parallel =
            !overload.tags.serial && (overload.tags.parallel || ssh.parallel) && targets.len() > 1;
        if !parallel {
            let mut results = Vec::with_capacity(targets.len());
            for target in targets {
                if signals::interrupted() {
                    return Err(Error::Interrupted);
                }
                let result = self.call(task, &entry, target.clone(), &args, false);
                let stop = result.is_err() && !self.skipped(target.as_deref(), &result);
                results.push((target, result));
                if stop {
                    break;
                }
            }
            return Ok(results);
        }
        let pool = overload
            .tags
            .pool
            .or(ssh.pool_size)
            .unwrap_or(targets.len())
            .clamp(1, targets.len());
        let bar = self
            .runtime
            .output
            .progress(targets.len() as u64, &Unit::Hosts, &task.name);
        let next = AtomicUsize::new(0);
        let slots: Vec<Mutex<Option<HostResult>>> =
            targets.iter().map(|_| Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            for _ in 0..pool {
                let worker = || {
                    while let Some(target) = targets.get(next.fetch_add(1, Ordering::SeqCst)) {
                        if signals::interrupted() {
                            break;
                        }
                        let index = targets
                            .iter()
                            .position(|t| std::ptr::eq(t, target))
                            .expect("a target of the list");
                        let result = self.call(task, &entry, target.clone(), &args, true);
                        self.skipped(target.as_deref(), &result);
                        *slots[index].lock().unwrap_or_else(PoisonError::into_inner) =
                            Some((target.clone(), result));
                        bar.advance(1);
                    }
                };
                std::thread::Builder::new()
                    .stack_size(HOST_THREAD_STACK)
                    .spawn_scoped(scope, worker)
                    .expect("a thread for a host");
            }
        });
        if signals::interrupted() {
            return Err(Error::Interrupted);
        }
        Ok(slots
            .into_iter()
            .filter_map(|slot| slot.into_inner().unwrap_or_else(PoisonError::into_inner))
            .collect())
    }

    /// Calls the task once, on one host, and records how it went.
    fn call(
        &self,
        task: &Task,
        entry: &rhai::AST,
        target: Option<Arc<Target>>,
        args: &[Dynamic],
        parallel: bool,
    ) -> std::result::Result<Dynamic, Box<EvalAltResult>> {
        let name: Arc<str> = task.name.as_str().into();
        let context = Context::new(self.runtime.clone(), Some(name.clone()), target.clone())
            .in_parallel(parallel);
        if let Some(target) = &target
            && context.shows(Level::Running)
        {
            self.runtime.output.executing(&target.host_string, &name);
        }
        let started = Instant::now();
        let on_abort = context.on_abort.clone();
        let options = CallFnOptions::new()
            .eval_ast(false)
            .with_tag(context.clone());
        let result = self.engine.call_fn_with_options::<Dynamic>(
            options,
            &mut Scope::new(),
            entry,
            "__entry",
            args.to_vec(),
        );
        let undo = std::mem::take(&mut *on_abort.lock().unwrap_or_else(PoisonError::into_inner));
        if let (Err(_), Some(target), false) = (&result, &target, undo.is_empty()) {
            run_on_abort(&context, target, &undo);
        }
        // A lost connection's first error, not the cleanup's after it, is why the task
        // failed; and what could not be cleaned up must be said.
        let result = result.map_err(|error| {
            if matches!(error.unwrap_inner(), EvalAltResult::ErrorTerminated(..)) {
                return error;
            }
            match target
                .as_deref()
                .and_then(|t| stranded(&context, &t.host_string))
            {
                Some(report) => Box::new(EvalAltResult::ErrorRuntime(
                    Dynamic::from(report),
                    rhai::Position::NONE,
                )),
                None => error,
            }
        });
        if let Some(target) = &target {
            let outcome = outcome(&result, self.runtime.ssh.skip_bad_hosts);
            let seconds = started.elapsed().as_secs_f64();
            self.runtime
                .output
                .task_end(&target.host_string, &task.name, outcome.label(), seconds);
            self.runtime.summary.record(
                &target.host_string,
                &task.name,
                outcome,
                started.elapsed(),
            );
        }
        result
    }

    /// Under `--skip-bad-hosts`, whether `result` is an unreachable host to pass over
    /// (and says so).
    fn skipped(
        &self,
        target: Option<&Target>,
        result: &std::result::Result<Dynamic, Box<EvalAltResult>>,
    ) -> bool {
        let (Some(target), Err(error)) = (target, result) else {
            return false;
        };
        let Some(message) = unreachable_message(error).filter(|_| self.runtime.ssh.skip_bad_hosts)
        else {
            return false;
        };
        self.runtime.output.warning(
            Some(&target.host_string),
            &format!("skipping this host: {message}"),
        );
        true
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
    fn report(&self, target: Option<&Target>, error: &EvalAltResult) -> Error {
        if matches!(error.unwrap_inner(), EvalAltResult::ErrorTerminated(..)) {
            return Error::Interrupted;
        }
        let host = target.map(|t| t.host_string.as_str());
        let message = stranded_message(error)
            .or_else(|| abort_message(error))
            .or_else(|| unreachable_message(error))
            .unwrap_or_else(|| self.fabfile.sources.eval_error(error, ENTRY_SOURCE));
        self.runtime.output.fatal(host, &message);
        Error::TaskFailed(message)
    }
}

fn outcome(
    result: &std::result::Result<Dynamic, Box<EvalAltResult>>,
    skip_bad_hosts: bool,
) -> Outcome {
    match result {
        Ok(_) => Outcome::Ok,
        Err(error) if skip_bad_hosts && unreachable_message(error).is_some() => Outcome::Skipped,
        Err(error) if matches!(error.unwrap_inner(), EvalAltResult::ErrorTerminated(..)) => {
            Outcome::Interrupted
        }
        Err(_) => Outcome::Failed,
    }
}
