//! A load balancer's groups of web nodes, for scripts: `only`, `flip`, `all`, `status`...
//! on what `lb::haproxy`, `lb::nginx` or `lb::command` made.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use rhai::plugin::*;
use rhai::{EvalAltResult, NativeCallContext};

use crate::script::context::Context;

/// Prints one change the load balancer made, as `[lb] web1: UP -> maint (group1)`.
fn say(ctx: &NativeCallContext) -> Result<impl Fn(&str), Box<EvalAltResult>> {
    let context = Context::of(ctx)?;
    Ok(move |text: &str| context.runtime.output.user(Some("lb"), text))
}

#[export_module]
pub(crate) mod load_balancer_api {
    use rhai::{Array, Map};

    use super::{NativeCallContext, say};
    use crate::lb::LoadBalancer;
    use crate::lb::driver::State;
    use crate::script::api::errors::lb_failure as failure;

    /// Each server of the backend: `#{ server, group, status, check, sessions, live }`
    /// (`status` is the load balancer's word, such as HAProxy's `UP` or `MAINT`; `check` the
    /// last health check's result, such as `L7OK`, where it tells).
    ///
    /// ```rhai
    /// for s in lb.status() { puts(`${s.server} (${s.group}): ${s.status}, ${s.sessions} sessions`); }
    /// ```
    #[rhai_fn(global, pure, return_raw)]
    pub fn status(
        ctx: NativeCallContext,
        lb: &mut LoadBalancer,
    ) -> Result<Array, Box<EvalAltResult>> {
        Ok(lb
            .status()
            .map_err(|e| failure(&ctx, e))?
            .into_iter()
            .map(|(group, s)| {
                let live = s.is_live();
                Dynamic::from_map(Map::from_iter([
                    ("server".into(), s.name.into()),
                    ("group".into(), group.map_or(Dynamic::UNIT, Into::into)),
                    ("status".into(), s.status.into()),
                    ("check".into(), s.check.into()),
                    (
                        "sessions".into(),
                        Dynamic::from_int(i64::try_from(s.sessions).unwrap_or(i64::MAX)),
                    ),
                    ("live".into(), live.into()),
                ]))
            })
            .collect())
    }

    /// Makes `group` the only one live: it comes in only if all its servers pass their health
    /// checks; the others drain (open sessions end) and go to maintenance.
    ///
    /// ```rhai
    /// lb.only("group2");
    /// ```
    #[rhai_fn(global, pure, return_raw)]
    pub fn only(
        ctx: NativeCallContext,
        lb: &mut LoadBalancer,
        group: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        lb.only(group, &say(&ctx)?).map_err(|e| failure(&ctx, e))
    }

    /// Swaps the live group and the out one; returns the group now live.
    ///
    /// ```rhai
    /// let live = lb.flip();
    /// ```
    #[rhai_fn(global, pure, return_raw)]
    pub fn flip(
        ctx: NativeCallContext,
        lb: &mut LoadBalancer,
    ) -> Result<String, Box<EvalAltResult>> {
        lb.flip(&say(&ctx)?).map_err(|e| failure(&ctx, e))
    }

    /// Brings every group live (each only if healthy).
    ///
    /// ```rhai
    /// lb.all();
    /// ```
    #[rhai_fn(global, name = "all", pure, return_raw)]
    pub fn all_live(
        ctx: NativeCallContext,
        lb: &mut LoadBalancer,
    ) -> Result<(), Box<EvalAltResult>> {
        lb.all(&say(&ctx)?).map_err(|e| failure(&ctx, e))
    }

    /// The one group out of rotation, asked of the load balancer now; an error if none or
    /// several are out. While a group is draining it waits for that to end (another rfab may
    /// be moving it), and says how to settle a drain left by an interrupted operation.
    ///
    /// ```rhai
    /// env.roles = [lb.out_group()];
    /// ```
    #[rhai_fn(global, pure, return_raw)]
    pub fn out_group(
        ctx: NativeCallContext,
        lb: &mut LoadBalancer,
    ) -> Result<String, Box<EvalAltResult>> {
        lb.out_group().map_err(|e| failure(&ctx, e))
    }

    /// The groups all of whose servers are live.
    ///
    /// ```rhai
    /// puts(`live: ${lb.live_groups()}`);
    /// ```
    #[rhai_fn(global, pure, return_raw)]
    pub fn live_groups(
        ctx: NativeCallContext,
        lb: &mut LoadBalancer,
    ) -> Result<Array, Box<EvalAltResult>> {
        Ok(lb
            .live_groups()
            .map_err(|e| failure(&ctx, e))?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Puts one server back in rotation.
    ///
    /// ```rhai
    /// lb.enable("web3");
    /// ```
    #[rhai_fn(global, pure, return_raw)]
    pub fn enable(
        ctx: NativeCallContext,
        lb: &mut LoadBalancer,
        server: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        lb.set(server, State::Ready, &say(&ctx)?)
            .map_err(|e| failure(&ctx, e))
    }

    /// Puts one server in maintenance (refused for the last live server).
    ///
    /// ```rhai
    /// lb.disable("web3");
    /// ```
    #[rhai_fn(global, pure, return_raw)]
    pub fn disable(
        ctx: NativeCallContext,
        lb: &mut LoadBalancer,
        server: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        lb.set(server, State::Maint, &say(&ctx)?)
            .map_err(|e| failure(&ctx, e))
    }

    /// Lets one server finish its open sessions and take no new ones.
    ///
    /// ```rhai
    /// lb.drain("web3");
    /// ```
    #[rhai_fn(global, pure, return_raw)]
    pub fn drain(
        ctx: NativeCallContext,
        lb: &mut LoadBalancer,
        server: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        lb.set(server, State::Drain, &say(&ctx)?)
            .map_err(|e| failure(&ctx, e))
    }
}
