//! `lb::haproxy(...)`, `lb::nginx(...)`, `lb::command(...)`: a load balancer and its groups
//! of web nodes, for scripts.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use rhai::plugin::*;
use rhai::{EvalAltResult, Map, NativeCallContext};

use crate::lb::LoadBalancer;
use crate::lb::driver::Driver;
use crate::lb::haproxy::{Endpoint, Exchange};
use crate::lb::shell::Shell;
use crate::script::api::{check_options, seconds};
use crate::script::context::Context;
use crate::script::env::strings;
use crate::ssh::command::{self, Request};
use crate::ssh::connection::Connection;
use crate::ssh::target::Target;

/// The options every driver takes.
const COMMON: [&str; 3] = ["groups", "drain_timeout", "health_timeout"];

#[export_module]
pub(crate) mod lb_api {
    use std::path::PathBuf;

    use super::{Map, NativeCallContext, check, load_balancer, where_it_runs};
    use crate::lb::LoadBalancer;
    use crate::lb::command::CommandDriver;
    use crate::lb::haproxy::{Endpoint, HaProxy};
    use crate::lb::nginx::Nginx;

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
        let f = "lb::haproxy";
        check(
            f,
            &options,
            &["socket", "ssh", "address", "backend", "check_interval"],
        )?;
        let text = |key: &str| options.get(key).map(ToString::to_string);
        let endpoint = match (text("socket"), text("address")) {
            (Some(socket), None) => match text("ssh") {
                Some(host) => super::socket_over_ssh(&ctx, &host, &socket)?,
                None => Endpoint::Unix(PathBuf::from(socket)),
            },
            (None, Some(address)) => Endpoint::Tcp(address),
            _ => {
                return Err(format!(
                    "{f}: give `socket` (a path) or `address` (host:port) of HAProxy's stats socket"
                )
                .into());
            }
        };
        let backend =
            text("backend").ok_or(format!("{f}: give the `backend` that holds the web nodes"))?;
        let check_interval = super::interval(&options)?;
        let mut lb = load_balancer(
            &ctx,
            f,
            &options,
            HaProxy {
                endpoint,
                backend,
                check_interval,
            },
        )?;
        // A failing server is told from a slow one only after a full check interval.
        lb.health_timeout = lb.health_timeout.max(check_interval * 2);
        Ok(lb)
    }

    /// An nginx load balancer: the servers of one `upstream` block, taken out of rotation
    /// by marking them `down`. Each change edits the file, checks it (`test`; the old file
    /// comes back if nginx rejects it) and reloads nginx, which lets the old workers finish
    /// their requests. Options:
    /// - `config`: the file with the `upstream` block; `upstream`: its name;
    /// - `ssh` (a host string): nginx runs on that host, reached over the run's SSH
    ///   connection (else on this machine); `sudo: true` runs the commands through `sudo -n`;
    /// - `groups`: group name to server addresses as the upstream writes them (`10.0.0.1:8080`);
    /// - `test` (`nginx -t`), `reload` (`nginx -s reload`);
    /// - `check` (`curl -fsS -o /dev/null -m 5 http://{server}/`): a command that exits 0 when
    ///   the server `{server}` is healthy, run before a server comes back (nginx checks none);
    /// - `drain_timeout` and `health_timeout` (30 s).
    ///
    /// ```rhai
    /// let lb = lb::nginx(#{ ssh: "lb1.example.com", sudo: true,
    ///                       config: "/etc/nginx/conf.d/app.conf", upstream: "app",
    ///                       groups: #{ group1: ["10.0.0.1:8080"], group2: ["10.0.0.2:8080"] } });
    /// lb.flip();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn nginx(ctx: NativeCallContext, options: Map) -> Result<LoadBalancer, Box<EvalAltResult>> {
        let f = "lb::nginx";
        check(
            f,
            &options,
            &[
                "ssh", "sudo", "config", "upstream", "test", "reload", "check",
            ],
        )?;
        let text = |key: &str, fallback: Option<&str>| {
            options
                .get(key)
                .map(ToString::to_string)
                .or(fallback.map(ToOwned::to_owned))
                .ok_or_else(|| format!("{f}: give `{key}`"))
        };
        let driver = Nginx {
            shell: where_it_runs(&ctx, &options)?,
            config: text("config", None)?,
            upstream: text("upstream", None)?,
            test: text("test", Some("nginx -t"))?,
            reload: text("reload", Some("nginx -s reload"))?,
            check: text(
                "check",
                Some("curl -fsS -o /dev/null -m 5 http://{server}/"),
            )?,
        };
        load_balancer(&ctx, f, &options, driver)
    }

    /// A load balancer driven by your own shell commands. Options:
    /// - `status`: prints one line per server, `NAME STATE [SESSIONS]`, STATE one of `live`
    ///   (or `up`), `drain`, `maint` (or `down`), `failing`, `pending`;
    /// - `set`: sets a server's state, with `{server}` and `{state}` (`ready`, `drain`,
    ///   `maint`) filled in, shell-quoted;
    /// - `check`: exits 0 when `{server}` is healthy, run before a server comes back (give
    ///   `check: "true"` only if the load balancer itself keeps unhealthy servers out);
    /// - `ssh` (a host string) and `sudo`, `groups`, `drain_timeout`, `health_timeout`, as
    ///   for `lb::nginx`.
    ///
    /// ```rhai
    /// let lb = lb::command(#{ status: "lbctl list", set: "lbctl set {server} {state}",
    ///                         check: "curl -fsS -o /dev/null http://{server}/health",
    ///                         groups: #{ blue: ["web1"], green: ["web2"] } });
    /// lb.only("green");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn command(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<LoadBalancer, Box<EvalAltResult>> {
        let f = "lb::command";
        check(f, &options, &["ssh", "sudo", "status", "set", "check"])?;
        let text = |key: &str| options.get(key).map(ToString::to_string);
        let driver = CommandDriver {
            shell: where_it_runs(&ctx, &options)?,
            status: text("status").ok_or(format!(
                "{f}: give `status`, a command printing `NAME STATE` per server"
            ))?,
            set: text("set").ok_or(format!(
                "{f}: give `set`, a command setting `{{server}}` to `{{state}}`"
            ))?,
            check: text("check").ok_or(format!(
                "{f}: give `check`, a command that exits 0 when `{{server}}` is healthy"
            ))?,
        };
        load_balancer(&ctx, f, &options, driver)
    }
}

/// Rejects unknown options: the driver's own `known`, and the ones every driver takes.
fn check(function: &str, options: &Map, known: &[&str]) -> Result<(), Box<EvalAltResult>> {
    let all: Vec<&str> = known.iter().chain(COMMON.iter()).copied().collect();
    check_options(function, options, &all)
}

/// The load balancer `driver` with the groups and timeouts of `options`.
fn load_balancer(
    ctx: &NativeCallContext,
    function: &str,
    options: &Map,
    driver: impl Driver + 'static,
) -> Result<LoadBalancer, Box<EvalAltResult>> {
    let given = options
        .get("groups")
        .and_then(|g| g.clone().try_cast::<Map>())
        .ok_or(format!(
            "{function}: give `groups`, a map of group names to server names"
        ))?;
    let mut groups = BTreeMap::new();
    for (name, servers) in given {
        groups.insert(
            name.to_string(),
            strings(&format!("groups.{name}"), servers).map_err(|e| e.to_string())?,
        );
    }
    let runtime = &Context::of(ctx)?.runtime;
    Ok(LoadBalancer {
        driver: Arc::new(driver),
        groups,
        drain_timeout: timeout(function, options, "drain_timeout")?,
        health_timeout: timeout(function, options, "health_timeout")?,
        dry_run: runtime.dry_run(),
        planned: runtime.lb_plan.clone(),
    })
}

/// `key` of `options` in seconds, 30 when not given.
fn timeout(function: &str, options: &Map, key: &str) -> Result<Duration, Box<EvalAltResult>> {
    match options.get(key) {
        None => Ok(Duration::from_secs(30)),
        Some(v) => Ok(seconds(&format!("{function}: `{key}`"), v)?),
    }
}

/// `check_interval`, in seconds, 2 when not given.
fn interval(options: &Map) -> Result<Duration, Box<EvalAltResult>> {
    match options.get("check_interval") {
        None => Ok(Duration::from_secs(2)),
        Some(v) => Ok(seconds("lb::haproxy: `check_interval`", v)?),
    }
}

/// The load balancer's host, reached over the run's SSH connection to it.
struct LbHost {
    runtime: Arc<crate::script::runtime::Runtime>,
    target: Target,
}

impl LbHost {
    fn new(ctx: &NativeCallContext, host: &str) -> Result<Self, Box<EvalAltResult>> {
        let runtime = Context::of(ctx)?.runtime.clone();
        let target = Target::new(host, Map::new(), |key| runtime.host_setting(key))?;
        Ok(Self { runtime, target })
    }

    /// `work` on the connection; a connection that failed it is opened again next time.
    fn with<T>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, crate::lb::Error>,
    ) -> Result<T, crate::lb::Error> {
        let runtime = &self.runtime;
        let ssh = runtime
            .ssh_options()
            .map_err(|e| crate::lb::Error::Balancer(e.to_string()))?;
        let connection = runtime
            .connections
            .get(
                &self.target,
                &ssh,
                &runtime.credentials,
                &runtime.output,
                false,
            )
            .map_err(|e| crate::lb::Error::Balancer(e.to_string()))?;
        let result = work(&connection.lock().unwrap_or_else(PoisonError::into_inner));
        if result.is_err() {
            runtime.connections.forget(&self.target);
        }
        result
    }
}

/// Where the load balancer's commands run: on the `ssh` host over the run's connection to
/// it (`/bin/sh -c`), or on this machine.
fn where_it_runs(ctx: &NativeCallContext, options: &Map) -> Result<Shell, Box<EvalAltResult>> {
    let sudo = options
        .get("sudo")
        .map_or(Ok(false), Dynamic::as_bool)
        .map_err(|_| "`sudo` must be true or false")?;
    let Some(host) = options.get("ssh").map(ToString::to_string) else {
        return Ok(Shell::local(sudo));
    };
    let lb_host = LbHost::new(ctx, &host)?;
    let run = move |command: &str| {
        // Short commands that change the load balancer: they run to the end, so that
        // Ctrl-C never leaves an edit without its check, reload or restore.
        let request = Request {
            command: format!("/bin/sh -c {}", crate::ssh::quote::quote(command)),
            timeout: Some(Duration::from_secs(60)),
            sudo: None,
            pty: false,
            forward_agent: false,
            ignore_interrupt: true,
            output_limit: crate::output::lines::DEFAULT_LIMIT,
        };
        lb_host.with(|connection| {
            command::run(connection, &request, &mut |_, _| {})
                .map(|done| (done.code, done.stdout, done.stderr))
                .map_err(|failure| crate::lb::Error::Balancer(failure.to_string()))
        })
    };
    Ok(Shell::new(host, Arc::new(run), sudo))
}

/// The runtime API's socket `path` on `host`, through the run's SSH connection to it
/// (`direct-streamlocal`: sshd connects to the socket; nothing runs on the host).
fn socket_over_ssh(
    ctx: &NativeCallContext,
    host: &str,
    path: &str,
) -> Result<Endpoint, Box<EvalAltResult>> {
    let lb_host = LbHost::new(ctx, host)?;
    let socket = path.to_owned();
    let exchange = move |command: &str| -> Result<String, crate::lb::Error> {
        lb_host.with(|connection| {
            let session = &connection.session;
            session.set_blocking(true);
            let before = session.timeout();
            // A load balancer host that goes silent must not hang the run.
            session.set_timeout(10_000);
            let answer = (|| {
                let mut channel = session
                    .channel_direct_streamlocal(&socket, None)
                    .map_err(|e| crate::lb::Error::Balancer(e.to_string()))?;
                let answer = crate::lb::haproxy::exchange(&mut channel, command)
                    .map_err(|e| crate::lb::Error::Balancer(e.to_string()))?;
                let _ = channel.close();
                Ok(answer)
            })();
            session.set_timeout(before);
            answer
        })
    };
    Ok(Endpoint::Remote {
        place: format!("`{path}` on `{host}`"),
        exchange: Exchange(Arc::new(exchange)),
    })
}
