//! Running tasks, Fabric's way: in command-line order, each on the host list computed when
//! it starts, once per host (or once locally when the list is empty).
//!
//! A task is called through a generated entry function, `fn __entry(a0) { fabfile::deploy(a0) }`,
//! so that namespaced tasks resolve normally and each call carries its own [`Context`] as
//! Rhai's call tag. [`Executor::execute`] runs one task over its hosts and returns each
//! host's result; the CLI and the script function `execute()` both go through it.

use std::sync::Arc;

use rhai::{CallFnOptions, Dynamic, Engine, EvalAltResult, Scope};

use crate::api::abort_message;
use crate::context::{Context, Runtime, Target};
use crate::diagnostic::ENTRY_SOURCE;
use crate::error::{Error, Result};
use crate::fabfile::{Fabfile, MODULE_NAME};
use crate::host_list::{self, Selection};
use crate::invocation::Invocation;
use crate::signals;
use crate::task::{Overload, Task};

/// What one task returned, or how it failed, on one host (`None`: run locally).
pub(crate) type HostResult = (
    Option<Arc<Target>>,
    std::result::Result<Dynamic, Box<EvalAltResult>>,
);

pub(crate) struct Executor<'a> {
    pub(crate) engine: &'a Engine,
    pub(crate) runtime: &'a Arc<Runtime>,
    pub(crate) fabfile: &'a Fabfile,
}

impl Executor<'_> {
    /// Runs the invocations in order; the first failure ends the run.
    pub(crate) fn run(&self, invocations: &[Invocation]) -> Result<()> {
        for invocation in invocations {
            let task = self.fabfile.task(&invocation.task)?;
            let (overload, args) = task.bind(invocation)?;
            let own = Selection {
                hosts: invocation.hosts.clone(),
                roles: invocation.roles.clone(),
                exclude_hosts: invocation.exclude_hosts.clone(),
            };
            for (target, result) in self.execute(task, overload, args, &own)? {
                if let Err(error) = result {
                    return Err(self.report(target.as_deref(), &error));
                }
            }
        }
        Ok(())
    }

    /// Runs `task` once per host of its host list and returns each host's result, stopping
    /// after the first host that fails.
    pub(crate) fn execute(
        &self,
        task: &Task,
        overload: &Overload,
        args: Vec<Dynamic>,
        own: &Selection,
    ) -> Result<Vec<HostResult>> {
        let mut targets: Vec<Option<Arc<Target>>> =
            host_list::resolve(own, &overload.tags, self.runtime)?
                .into_iter()
                .map(|t| Some(Arc::new(t)))
                .collect();
        if targets.is_empty() {
            targets.push(None);
        }
        if overload.tags.runs_once {
            targets.truncate(1);
        }
        let entry = self.entry(task, args.len());
        let name: Arc<str> = task.name.as_str().into();
        let mut results = Vec::with_capacity(targets.len());
        for target in targets {
            if signals::interrupted() {
                return Err(Error::Interrupted);
            }
            if let Some(target) = &target {
                self.runtime.output.host_line(
                    Some(&target.host_string),
                    "",
                    &format!("Executing task '{name}'"),
                );
            }
            let context = Context {
                runtime: self.runtime.clone(),
                task: Some(name.clone()),
                target: target.clone(),
            };
            let options = CallFnOptions::new().eval_ast(false).with_tag(context);
            let result = self.engine.call_fn_with_options::<Dynamic>(
                options,
                &mut Scope::new(),
                &entry,
                "__entry",
                args.clone(),
            );
            let failed = result.is_err();
            results.push((target, result));
            if failed {
                break;
            }
        }
        Ok(results)
    }

    /// `fn __entry(a0, a1) { fabfile::proxy::flip(a0, a1) }`
    fn entry(&self, task: &Task, arity: usize) -> rhai::AST {
        let params: Vec<String> = (0..arity).map(|i| format!("a{i}")).collect();
        let path = task.name.replace('.', "::");
        let code = format!(
            "fn __entry({0}) {{ {MODULE_NAME}::{path}({0}) }}",
            params.join(", ")
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
        let output = &self.runtime.output;
        let host = target.map(|t| t.host_string.as_str());
        if matches!(error.unwrap_inner(), EvalAltResult::ErrorTerminated(..)) {
            return Error::Interrupted;
        }
        let message = abort_message(error)
            .unwrap_or_else(|| self.fabfile.sources.eval_error(error, ENTRY_SOURCE));
        output.fatal(host, &message);
        Error::TaskFailed(message)
    }
}
