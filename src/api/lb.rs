//! `lb::haproxy(...)`: a load balancer's groups of web nodes, for scripts.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use rhai::plugin::*;
use rhai::{EvalAltResult, NativeCallContext};

use crate::context::Context;

/// Prints one change the load balancer made, as `[lb] web1: UP -> maint (group1)`.
fn say(ctx: &NativeCallContext) -> Result<impl Fn(&str), Box<EvalAltResult>> {
    let context = Context::of(ctx)?;
    Ok(move |text: &str| context.runtime.output.user(Some("lb"), text))
}

/// `check_interval`, in seconds (fractions allowed).
fn interval(options: &rhai::Map) -> Result<std::time::Duration, Box<EvalAltResult>> {
    match options.get("check_interval") {
        None => Ok(std::time::Duration::from_secs(2)),
        Some(v) => v
            .as_float()
            .ok()
            .or_else(|| {
                v.as_int()
                    .ok()
                    .and_then(|i| i32::try_from(i).ok())
                    .map(f64::from)
            })
            .filter(|s| *s >= 0.0)
            .map(std::time::Duration::from_secs_f64)
            .ok_or_else(|| "lb::haproxy: `check_interval` must be seconds".into()),
    }
}

/// The runtime API's socket `path` on `host`, through the run's SSH connection to it
/// (`direct-streamlocal`: sshd connects to the socket; nothing runs on the host).
fn over_ssh(
    ctx: &NativeCallContext,
    host: &str,
    path: &str,
) -> Result<crate::haproxy::Endpoint, Box<EvalAltResult>> {
    use std::io::{Read, Write};
    let context = Context::of(ctx)?;
    let runtime = context.runtime.clone();
    let target = crate::context::Target::new(host, rhai::Map::new(), &runtime.env)
        .map_err(|e| e.to_string())?;
    let socket = path.to_owned();
    let exchange = move |command: &str| -> Result<String, String> {
        let connection = runtime.connections.get(
            &target,
            &runtime.ssh,
            &runtime.credentials,
            &runtime.output,
            false,
        )?;
        let connection = connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        connection.session.set_blocking(true);
        let mut channel = connection
            .session
            .channel_direct_streamlocal(&socket, None)
            .map_err(|e| e.to_string())?;
        channel
            .write_all(format!("{command}\n").as_bytes())
            .map_err(|e| e.to_string())?;
        let mut answer = String::new();
        channel
            .read_to_string(&mut answer)
            .map_err(|e| e.to_string())?;
        let _ = channel.close();
        Ok(answer)
    };
    Ok(crate::haproxy::Endpoint::Remote {
        place: format!("`{path}` on `{host}`"),
        exchange: crate::haproxy::Exchange(std::sync::Arc::new(exchange)),
    })
}

#[export_module]
pub(crate) mod lb_api {
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use std::time::Duration;

    use rhai::{Array, Map};

    use super::{NativeCallContext, say};
    use crate::api::check_options;
    use crate::env::strings;
    use crate::haproxy::{Endpoint, HaProxy, State};
    use crate::load_balancer::LoadBalancer;

    /// An HAProxy load balancer, driven through its runtime API. Options:
    /// - `socket` (a unix socket path) or `address` (`host:port`): the `stats socket`; with
    ///   `ssh` (a host string), the socket is on that host, reached over SSH with nothing
    ///   to install there;
    /// - `backend`: the backend whose servers are the web nodes;
    /// - `groups`: group name to server names, e.g. `#{ group1: ["web1", "web2"], ... }`;
    /// - `drain_timeout` (30 s) and `health_timeout` (30 s);
    /// - `check_interval` (2 s, HAProxy's default `inter`): how long a server coming back
    ///   is checked (drained: no traffic) before it counts as healthy.
    ///
    /// ```rhai
    /// let lb = lb::haproxy(#{ socket: "/run/haproxy/admin.sock", backend: "web",
    ///                         groups: #{ group1: ["web1", "web2"], group2: ["web3", "web4"] } });
    /// lb.only("group2");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn haproxy(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<LoadBalancer, Box<EvalAltResult>> {
        check_options(
            "lb::haproxy",
            &options,
            &[
                "socket",
                "ssh",
                "address",
                "backend",
                "groups",
                "drain_timeout",
                "health_timeout",
                "check_interval",
            ],
        )?;
        let text = |key: &str| options.get(key).map(ToString::to_string);
        let endpoint = match (text("socket"), text("address")) {
            (Some(socket), None) => match text("ssh") {
                Some(host) => super::over_ssh(&ctx, &host, &socket)?,
                None => Endpoint::Unix(PathBuf::from(socket)),
            },
            (None, Some(address)) => Endpoint::Tcp(address),
            _ => return Err("lb::haproxy: give `socket` (a path) or `address` (host:port) of HAProxy's stats socket".into()),
        };
        let backend =
            text("backend").ok_or("lb::haproxy: give the `backend` that holds the web nodes")?;
        let mut groups = BTreeMap::new();
        let given = options
            .get("groups")
            .and_then(|g| g.clone().try_cast::<Map>())
            .ok_or("lb::haproxy: give `groups`, a map of group names to server names")?;
        for (name, servers) in given {
            groups.insert(
                name.to_string(),
                strings(&format!("groups.{name}"), servers).map_err(|e| e.to_string())?,
            );
        }
        let seconds = |key: &str| -> Result<Duration, Box<EvalAltResult>> {
            match options.get(key) {
                None => Ok(Duration::from_secs(30)),
                Some(v) => v
                    .as_int()
                    .ok()
                    .and_then(|s| u64::try_from(s).ok())
                    .map(Duration::from_secs)
                    .ok_or_else(|| format!("lb::haproxy: `{key}` must be whole seconds").into()),
            }
        };
        Ok(LoadBalancer {
            driver: HaProxy { endpoint, backend },
            groups,
            drain_timeout: seconds("drain_timeout")?,
            health_timeout: seconds("health_timeout")?,
            check_interval: super::interval(&options)?,
        })
    }

    /// Each server of the backend: `#{ server, group, status, check, sessions, live }`
    /// (`check` is the last health check's result, such as `L7OK`).
    ///
    /// ```rhai
    /// for s in lb.status() { puts(`${s.server} (${s.group}): ${s.status}, ${s.sessions} sessions`); }
    /// ```
    #[rhai_fn(global, pure, return_raw)]
    pub fn status(lb: &mut LoadBalancer) -> Result<Array, Box<EvalAltResult>> {
        Ok(lb
            .status()?
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
        Ok(lb.only(group, &say(&ctx)?)?)
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
        Ok(lb.flip(&say(&ctx)?)?)
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
        Ok(lb.all(&say(&ctx)?)?)
    }

    /// The one group out of rotation, asked of the load balancer now; an error if none or
    /// several are out.
    ///
    /// ```rhai
    /// env.roles = [lb.out_group()];
    /// ```
    #[rhai_fn(global, pure, return_raw)]
    pub fn out_group(lb: &mut LoadBalancer) -> Result<String, Box<EvalAltResult>> {
        Ok(lb.out_group()?)
    }

    /// The groups all of whose servers are live.
    ///
    /// ```rhai
    /// puts(`live: ${lb.live_groups()}`);
    /// ```
    #[rhai_fn(global, pure, return_raw)]
    pub fn live_groups(lb: &mut LoadBalancer) -> Result<Array, Box<EvalAltResult>> {
        Ok(lb.live_groups()?.into_iter().map(Into::into).collect())
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
        Ok(lb.set(server, State::Ready, &say(&ctx)?)?)
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
        Ok(lb.set(server, State::Maint, &say(&ctx)?)?)
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
        Ok(lb.set(server, State::Drain, &say(&ctx)?)?)
    }
}
