//! A load balancer's groups of web nodes, for scripts: `only`, `flip`, `all`, `canary`,
//! `status`... on what `lb::haproxy`, `lb::nginx` or `lb::command` made. The operations
//! that bring servers live watch them after, with the settings of `env` (`watch`,
//! `max_error_rate`, `min_requests`, `watch_url`).
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use std::time::Duration;

use rhai::plugin::*;
use rhai::{EvalAltResult, NativeCallContext};

use crate::lb::watch::{Observer, Tick, Verdict, Watch};
use crate::lb::{LoadBalancer, Switch};
use crate::output::Output;
use crate::script::api::errors::lb_failure;
use crate::script::api::seconds;
use crate::script::context::Context;

/// Prints one change the load balancer made, as `[lb] web1: UP -> maint (group1)`.
fn say(ctx: &NativeCallContext) -> Result<impl Fn(&str), Box<EvalAltResult>> {
    let context = Context::of(ctx)?;
    Ok(move |text: &str| context.runtime.output.user(Some("lb"), text))
}

/// The watch's settings, from `env`: `watch` (seconds, 30; 0 turns it off),
/// `max_error_rate` (0.01), `min_requests` (20), `watch_url` (none).
fn watch_settings(ctx: &NativeCallContext) -> Result<Watch, Box<EvalAltResult>> {
    let env = &Context::of(ctx)?.runtime.env;
    let given = |key: &str| env.get(key).filter(|v| !v.is_unit());
    let window = match given("watch") {
        None => Duration::from_secs(30),
        Some(v) => seconds("env.watch", &v)?,
    };
    let max_error_rate = match given("max_error_rate") {
        None => 0.01,
        Some(v) => number(&v)
            .filter(|r| (0.0..=1.0).contains(r))
            .ok_or_else(|| {
                format!("env.max_error_rate must be a share from 0 to 1 (0.01 is 1%), not `{v}`")
            })?,
    };
    let min_requests = match given("min_requests") {
        None => 20,
        Some(v) => number(&v)
            .filter(|n| n.fract() == 0.0 && (0.0..=1e15).contains(n))
            .map(|n| {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // checked above
                let whole = n as u64;
                whole
            })
            .ok_or_else(|| format!("env.min_requests must be a whole number, not `{v}`"))?,
    };
    Ok(Watch {
        window,
        max_error_rate,
        min_requests,
        url: given("watch_url").map(|v| v.to_string()),
    })
}

/// A number given in a script or as a `--set` string.
fn number(value: &Dynamic) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)] // settings, far below 2^53
    match (value.as_int(), value.as_float()) {
        (Ok(whole), _) => Some(whole as f64),
        (_, Ok(float)) => Some(float),
        _ => value
            .clone()
            .into_immutable_string()
            .ok()
            .and_then(|text| text.trim().parse::<f64>().ok())
            .filter(|n| n.is_finite()),
    }
}

/// The watch's lines and verdict, through the run's output.
struct Watching(Output);

impl Observer for Watching {
    fn tick(&self, tick: &Tick) {
        self.0.lb_event(&tick.text(), "watch", tick.json());
    }

    fn verdict(&self, verdict: &Verdict) {
        self.0
            .lb_event(&verdict.text(), "watch_end", verdict.json());
    }

    fn warning(&self, text: &str) {
        self.0.warning(Some("lb"), text);
    }
}

/// Runs `switch` (an operation that brings servers live), then watches what it brought
/// live, putting back what was live before when they fail.
fn watched<T>(
    ctx: &NativeCallContext,
    lb: &LoadBalancer,
    switch: impl FnOnce(&dyn Fn(&str)) -> Result<(T, Switch), crate::lb::Error>,
) -> Result<T, Box<EvalAltResult>> {
    let settings = watch_settings(ctx)?;
    let say = say(ctx)?;
    let observer = Watching(Context::of(ctx)?.runtime.output.clone());
    let run = || {
        let baseline = lb.watch_from(&settings)?;
        let (value, switched) = switch(&say)?;
        lb.watch(&switched, &baseline, &settings, &say, &observer)?;
        Ok(value)
    };
    run().map_err(|e| lb_failure(ctx, e))
}

#[export_module]
pub(crate) mod load_balancer_api {
    use rhai::{Array, Map};

    use super::{Context, NativeCallContext, say, watched};
    use crate::lb::LoadBalancer;
    use crate::lb::driver::State;
    use crate::script::api::errors::lb_failure as failure;

    /// Each server of the backend: `#{ server, group, status, check, sessions, live, canary }`
    /// (`status` is the load balancer's word, such as HAProxy's `UP` or `MAINT`; `check` the
    /// last health check's result, such as `L7OK`, where it tells; `canary`: live while the
    /// other servers of its group are out and another group is wholly live, as `canary()`
    /// leaves them).
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
            .map(|(group, s, canary)| {
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
                    ("canary".into(), canary.into()),
                ]))
            })
            .collect())
    }

    /// Makes `group` the only one live: it comes in only if all its servers pass their health
    /// checks; the others drain (open sessions end) and go to maintenance. Then the servers
    /// it brought live are watched (see `flip`).
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
        watched(&ctx, lb, |say| lb.only(group, say).map(|s| ((), s)))
    }

    /// Swaps the live group and the out one; returns the group now live.
    ///
    /// Then rfab watches the servers it brought live for `env.watch` seconds (30; `0` turns
    /// the watch off), printing a line a second: with HAProxy, through its counters (`show
    /// stat`: requests, 5xx answers, failed answers and connections of each server); with
    /// nginx and commands, which count nothing per server, by requesting `env.watch_url`
    /// through the balancer (5 a second). If one of them goes DOWN, or more than
    /// `env.max_error_rate` (0.01) of at least `env.min_requests` (20) requests fail, the
    /// group live before comes back (only if it passes its health checks; else nothing more
    /// changes) and the new one goes out, and this fails saying what it saw and did.
    /// Ctrl-C during the watch leaves the groups as the switch left them.
    ///
    /// ```rhai
    /// env.watch = 10;
    /// let live = lb.flip();
    /// ```
    #[rhai_fn(global, pure, return_raw)]
    pub fn flip(
        ctx: NativeCallContext,
        lb: &mut LoadBalancer,
    ) -> Result<String, Box<EvalAltResult>> {
        watched(&ctx, lb, |say| lb.flip(say))
    }

    /// Brings every group live (each only if healthy), then watches the servers it brought
    /// live (see `flip`); when they fail, they go out again.
    ///
    /// ```rhai
    /// lb.all();
    /// ```
    #[rhai_fn(global, name = "all", pure, return_raw)]
    pub fn all_live(
        ctx: NativeCallContext,
        lb: &mut LoadBalancer,
    ) -> Result<(), Box<EvalAltResult>> {
        watched(&ctx, lb, |say| lb.all(say).map(|s| ((), s)))
    }

    /// Brings the first `count` servers of the group out of rotation live beside the live
    /// group (only if they pass their health checks), watches them as `flip` does (the
    /// watch must be on), then takes them out again; returns their names. If they fail the
    /// watch, this fails once they are out, and the live group has served throughout.
    /// While they are live, `status()` marks them `canary`.
    ///
    /// ```rhai
    /// let checked = lb.canary(1);
    /// lb.flip();
    /// ```
    #[rhai_fn(global, pure, return_raw)]
    pub fn canary(
        ctx: NativeCallContext,
        lb: &mut LoadBalancer,
        count: i64,
    ) -> Result<Array, Box<EvalAltResult>> {
        let settings = super::watch_settings(&ctx)?;
        let count = usize::try_from(count)
            .map_err(|_| format!("canary({count}): give how many servers try first, 1 or more"))?;
        let observer = super::Watching(Context::of(&ctx)?.runtime.output.clone());
        Ok(lb
            .canary(count, &settings, &say(&ctx)?, &observer)
            .map_err(|e| failure(&ctx, e))?
            .into_iter()
            .map(Into::into)
            .collect())
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
