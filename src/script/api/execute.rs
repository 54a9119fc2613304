//! `execute()`: run another task from inside a task, on its own host list.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use rhai::plugin::*;
use rhai::{Array, EvalAltResult, Map, NativeCallContext};

use crate::error::Error;
use crate::script::api::check_options;
use crate::script::context::Context;
use crate::script::diagnostic::ENTRY_SOURCE;
use crate::script::env::strings;
use crate::script::executor::Executor;
use crate::script::host_list::Selection;

/// The key of the result of a task that ran on no host, as in Fabric.
const LOCAL_ONLY: &str = "<local-only>";

#[export_module]
pub(crate) mod execute_api {
    use super::{Array, Map, NativeCallContext};

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
        super::execute(&ctx, task, Array::new(), &Map::new())
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
        super::execute(&ctx, task, args, &Map::new())
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
        super::execute(&ctx, task, args, &options)
    }
}

fn execute(
    ctx: &NativeCallContext,
    name: &str,
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
    let task = fabfile.task(name)?;
    let (overload, args) = task.bind_args(args)?;
    let executor = Executor {
        engine: ctx.engine(),
        runtime,
        fabfile: &fabfile,
    };
    let results = executor
        .execute(task, overload, args, &own, context.target.as_ref())
        .map_err(|e| -> Box<EvalAltResult> {
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
