//! `execute()`: run another task from inside a task, on its own host list.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use rhai::plugin::*;
use rhai::{Array, EvalAltResult, FnPtr, Map, NativeCallContext};

use crate::error::Error;
use crate::script::api::check_options;
use crate::script::context::Context;
use crate::script::decorators::Tags;
use crate::script::diagnostic::ENTRY_SOURCE;
use crate::script::env::strings;
use crate::script::executor::Executor;
use crate::script::host_list::Selection;

/// The key of the result of a task that ran on no host, as in Fabric.
const LOCAL_ONLY: &str = "<local-only>";

#[export_module]
pub(crate) mod execute_api {
    use super::{Array, FnPtr, Map, NativeCallContext, What};

    /// Run a task (by name, namespaces as dots) on its own host list and return a map from
    /// each host to what the task returned there (`"<local-only>"` when it ran on none).
    ///
    /// ```rhai
    /// fn release() {
    ///     execute("build");
    ///     let revisions = execute("current_revision");
    ///     for host in revisions.keys() { puts(`${host}: ${revisions[host]}`); }
    /// }
    /// ```
    #[rhai_fn(name = "execute", return_raw)]
    pub fn execute(ctx: NativeCallContext, task: &str) -> Result<Map, Box<EvalAltResult>> {
        super::execute(&ctx, What::Task(task), Array::new(), &Map::new())
    }

    /// Run a task with arguments.
    ///
    /// ```rhai
    /// execute("deploy", ["v3.0.0"]);
    /// ```
    #[rhai_fn(name = "execute", return_raw)]
    pub fn execute_args(
        ctx: NativeCallContext,
        task: &str,
        args: Array,
    ) -> Result<Map, Box<EvalAltResult>> {
        super::execute(&ctx, What::Task(task), args, &Map::new())
    }

    /// Run a task with arguments on the hosts or roles given in `options` (`hosts`,
    /// `roles`, `exclude_hosts`: lists, or `host`, `role`: one name), which take precedence
    /// over the task's tags and `env`, like `task:hosts=a;b` on the command line.
    ///
    /// ```rhai
    /// execute("deploy", ["stable"], #{ hosts: ["web1", "web2"] });
    /// execute("migrate", [], #{ role: "db" });
    /// ```
    #[rhai_fn(name = "execute", return_raw)]
    pub fn execute_with(
        ctx: NativeCallContext,
        task: &str,
        args: Array,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        super::execute(&ctx, What::Task(task), args, &options)
    }

    /// Run a function, not a task (Fabric's `execute(callable)`): a function pointer or
    /// a closure, on the hosts of `env` and the command line. As with a task, each host
    /// gets `env.host_string` and its own scoped settings.
    ///
    /// ```rhai
    /// fn uptime() { run("uptime") }
    /// fn report() { execute(Fn("uptime")); }
    /// ```
    #[rhai_fn(name = "execute", return_raw)]
    pub fn execute_fn(ctx: NativeCallContext, function: FnPtr) -> Result<Map, Box<EvalAltResult>> {
        super::execute(&ctx, What::Function(function), Array::new(), &Map::new())
    }

    /// Run a function with arguments.
    ///
    /// ```rhai
    /// execute(|tag| run(`git checkout ${tag}`), ["v3.0.1"]);
    /// ```
    #[rhai_fn(name = "execute", return_raw)]
    pub fn execute_fn_args(
        ctx: NativeCallContext,
        function: FnPtr,
        args: Array,
    ) -> Result<Map, Box<EvalAltResult>> {
        super::execute(&ctx, What::Function(function), args, &Map::new())
    }

    /// Run a function with arguments on the hosts or roles given in `options`, as for a
    /// task.
    ///
    /// ```rhai
    /// execute(|| run("uptime"), [], #{ role: "db" });
    /// ```
    #[rhai_fn(name = "execute", return_raw)]
    pub fn execute_fn_with(
        ctx: NativeCallContext,
        function: FnPtr,
        args: Array,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        super::execute(&ctx, What::Function(function), args, &options)
    }
}

/// What `execute()` runs: a task by its name, or any function.
pub(crate) enum What<'a> {
    Task(&'a str),
    Function(FnPtr),
}

fn execute(
    ctx: &NativeCallContext,
    what: What,
    args: Array,
    options: &Map,
) -> Result<Map, Box<EvalAltResult>> {
    check_options(
        "execute",
        options,
        &["hosts", "host", "roles", "role", "exclude_hosts"],
    )?;
    let list = |keys: &[&str]| -> Result<Vec<String>, Box<EvalAltResult>> {
        let mut items = Vec::new();
        for key in keys.iter().copied() {
            let value = options.get(key).cloned().unwrap_or(Dynamic::UNIT);
            items.extend(strings(key, value).map_err(|e| format!("execute(): {e}"))?);
        }
        Ok(items)
    };
    let own = Selection {
        hosts: list(&["host", "hosts"])?,
        roles: list(&["role", "roles"])?,
        exclude_hosts: list(&["exclude_hosts"])?,
    };
    let context = Context::of(ctx)?;
    let runtime = &context.runtime;
    let fabfile = runtime
        .fabfile()
        .ok_or("execute() runs tasks, so it cannot be called while the fabfile loads")?;
    let executor = Executor {
        engine: ctx.engine(),
        runtime,
        fabfile: &fabfile,
    };
    let (name, results) = match what {
        What::Task(name) => {
            let task = fabfile.task(name)?;
            let (overload, args) = task.bind_args(args)?;
            let results = executor.execute(task, overload, args, &own, Some(&context));
            (name.to_owned(), results)
        }
        What::Function(function) => {
            let name = function_name(&function);
            // The function runs where it was defined, under each host's own context: the
            // call tag of a copy of the caller's call state.
            #[allow(deprecated)] // volatile, not deprecated: the one way to set the tag
            let state = ctx.store_data();
            let results = executor.on_hosts(
                name.as_str().into(),
                &Tags::default(),
                &own,
                Some(&context),
                |host| call_as(&state, ctx.engine(), host, &function, args.clone()),
            );
            (name, results)
        }
    };
    let results = results.map_err(|e| -> Box<EvalAltResult> {
        match e {
            Error::Interrupted => {
                EvalAltResult::ErrorTerminated(Dynamic::UNIT, ctx.call_position()).into()
            }
            other => other.into(),
        }
    })?;
    let mut map = Map::new();
    for (target, result) in results {
        let host = target
            .as_ref()
            .map_or(LOCAL_ONLY, |t| t.host_string.as_str());
        match result {
            Ok(value) => map.insert(host.into(), value),
            Err(error) => {
                let frame = format!("{name} [{host}]");
                return Err(EvalAltResult::ErrorInFunctionCall(
                    frame,
                    ENTRY_SOURCE.into(),
                    error,
                    ctx.call_position(),
                )
                .into());
            }
        };
    }
    Ok(map)
}

/// A function's name for `Executing task '...'` and the summary: its own, or `closure`.
fn function_name(function: &FnPtr) -> String {
    let name = function.fn_name();
    if name.starts_with("anon$") {
        "closure".to_owned()
    } else {
        name.to_owned()
    }
}

/// Calls `function` with the call state of `execute()`'s caller, tagged with `host`'s
/// context instead of the caller's.
// `NativeCallContextStore` is volatile, not deprecated: the one way to change a call's tag.
#[allow(deprecated)]
fn call_as(
    state: &rhai::NativeCallContextStore,
    engine: &rhai::Engine,
    host: &Context,
    function: &FnPtr,
    args: Array,
) -> Result<Dynamic, Box<EvalAltResult>> {
    let mut state = state.clone();
    state.global.tag = Dynamic::from(host.clone());
    let native = state.create_context(engine);
    function.call_within_context::<Dynamic>(&native, args)
}
