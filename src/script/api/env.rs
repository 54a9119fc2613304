//! `env`, Fabric's shared settings map, as scripts use it.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use rhai::plugin::*;

use crate::script::context::Context;
use crate::script::env::EnvView;

/// `env` as the current call sees it. A closure captures `env` where it is made; run
/// elsewhere (by `execute()` on another host) it must still see that host's keys, which the
/// call's own context holds.
fn current(ctx: &NativeCallContext, env: &EnvView) -> EnvView {
    Context::of(ctx).map_or_else(|_| env.clone(), |context| context.env())
}

#[export_module]
pub(crate) mod env_api {
    use super::current;
    use crate::script::env::EnvView;
    use rhai::{Array, Dynamic, Map, NativeCallContext};

    /// Read an env key; a key never set reads as `()`. `env.KEY` does the same, except for
    /// `tag`, which Rhai reserves on every value: write `env["tag"]`.
    ///
    /// While a task runs on a host, `env.host_string`, `env.host`, `env.user` and `env.port`
    /// describe that host, `env.address` is the address rfab connects to (the `HostName` the
    /// SSH config gives an alias such as `web1`, else the host's name), and the settings of
    /// the host's role (from `env.roledefs`) are visible too.
    ///
    /// ```rhai
    /// fn where_am_i() {
    ///     puts(`deploying as ${env.user} to ${env.host}:${env.port}`);
    ///     let stage = env["stage"] ?? "staging";
    /// }
    /// ```
    #[rhai_fn(index_get, pure)]
    pub fn get(ctx: NativeCallContext, env: &mut EnvView, key: &str) -> Dynamic {
        current(&ctx, env).get(key)
    }

    /// Set an env key for the rest of the run: every later task sees it. `env.KEY = value`
    /// does the same. This is how an environment task selects hosts for the tasks after it.
    ///
    /// ```rhai
    /// /// Select production.
    /// fn prod() {
    ///     env.roledefs = #{ web: ["web1", "web2"], db: #{ hosts: ["db1"], user: "postgres" } };
    ///     env.roles = ["web"];
    ///     env.user = "deploy";
    /// }
    /// ```
    #[rhai_fn(index_set, return_raw)]
    pub fn set(
        ctx: NativeCallContext,
        env: &mut EnvView,
        key: &str,
        value: Dynamic,
    ) -> Result<(), Box<EvalAltResult>> {
        current(&ctx, env).set(key, value).map_err(Into::into)
    }

    /// Whether `key` is set in env.
    ///
    /// ```rhai
    /// if !env.contains("stage") { env.stage = "staging"; }
    /// ```
    #[rhai_fn(pure)]
    pub fn contains(ctx: NativeCallContext, env: &mut EnvView, key: &str) -> bool {
        !current(&ctx, env).get(key).is_unit()
    }

    /// The keys that are set, sorted.
    ///
    /// ```rhai
    /// for key in env.keys() { puts(key); }
    /// ```
    #[rhai_fn(pure)]
    pub fn keys(ctx: NativeCallContext, env: &mut EnvView) -> Array {
        current(&ctx, env)
            .to_map()
            .keys()
            .map(|k| k.as_str().into())
            .collect()
    }

    /// A copy of env as a plain map, with the current host's keys.
    ///
    /// ```rhai
    /// let settings = env.to_map();
    /// print(settings.hosts);
    /// ```
    #[rhai_fn(pure)]
    pub fn to_map(ctx: NativeCallContext, env: &mut EnvView) -> Map {
        current(&ctx, env).to_map()
    }

    /// Env prints as the map it holds.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn to_string(ctx: NativeCallContext, env: &mut EnvView) -> String {
        format!("{:?}", current(&ctx, env).to_map())
    }
}
