//! What a script call carries: the run's shared [`Runtime`] and, per call, the task and the
//! host it works on ([`Context`], passed as Rhai's call tag).
//!
//! Per-host state lives here and travels with each call, so hosts running in parallel never
//! share it; `env` holds only what the whole run shares.

use std::sync::{Arc, OnceLock};

use rhai::{EvalAltResult, Map, NativeCallContext};

use crate::env::{Env, EnvView};
use crate::error::Result;
use crate::fabfile::Fabfile;
use crate::host::Host;
use crate::output::Output;

/// Hosts and roles given with `-H`, `-R` and `-x`.
#[derive(Clone, Debug, Default)]
pub(crate) struct CliHosts {
    pub(crate) hosts: Vec<String>,
    pub(crate) roles: Vec<String>,
    pub(crate) exclude_hosts: Vec<String>,
}

/// Shared by every call of one run.
#[derive(Debug)]
pub(crate) struct Runtime {
    pub(crate) output: Output,
    pub(crate) env: Env,
    pub(crate) cli: CliHosts,
    /// Set once the fabfile is loaded; `execute()` finds tasks through it.
    pub(crate) fabfile: OnceLock<Arc<Fabfile>>,
}

/// One host a task runs on, with the user and port it will be reached as.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    /// The host string as given: `deploy@web1:2222`.
    pub(crate) host_string: String,
    pub(crate) host: Host,
    pub(crate) user: String,
    pub(crate) port: u16,
    /// Settings of the role the host came from (`env.roledefs.web.user`, ...).
    pub(crate) settings: Map,
}

impl Target {
    /// Fills in user and port as Fabric does: the host string, then the role's settings,
    /// then `env.user` / `env.port`, then the local user and 22.
    pub(crate) fn new(host_string: &str, settings: Map, env: &Env) -> Result<Self> {
        let host = Host::parse(host_string)?;
        let setting = |key: &str| settings.get(key).cloned().or_else(|| env.get(key));
        let user = host
            .user
            .clone()
            .or_else(|| {
                setting("user")
                    .and_then(|u| u.into_string().ok())
                    .filter(|u| !u.is_empty())
            })
            .unwrap_or_else(local_user);
        let port = host
            .port
            .or_else(|| setting("port").and_then(|p| port_of(&p)))
            .unwrap_or(22);
        Ok(Self {
            host_string: host_string.into(),
            host,
            user,
            port,
            settings,
        })
    }
}

fn port_of(value: &rhai::Dynamic) -> Option<u16> {
    value
        .as_int()
        .ok()
        .and_then(|p| u16::try_from(p).ok())
        .or_else(|| value.clone().into_string().ok()?.trim().parse().ok())
}

/// The user running rfab, as `getpass.getuser()` finds it.
pub(crate) fn local_user() -> String {
    ["LOGNAME", "USER", "LNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "root".into())
}

/// The call tag: who is calling, on which host.
#[derive(Clone, Debug)]
pub(crate) struct Context {
    pub(crate) runtime: Arc<Runtime>,
    pub(crate) task: Option<Arc<str>>,
    pub(crate) target: Option<Arc<Target>>,
}

impl Context {
    /// The context of a native function's caller.
    pub(crate) fn of(ctx: &NativeCallContext) -> std::result::Result<Self, Box<EvalAltResult>> {
        ctx.tag()
            .and_then(|tag| tag.clone().try_cast::<Self>())
            .ok_or_else(|| "rfab: this function needs an rfab run (no call context)".into())
    }

    /// The host prefix for output lines, if the call runs on a host.
    pub(crate) fn host(&self) -> Option<&str> {
        self.target.as_deref().map(|t| t.host_string.as_str())
    }

    pub(crate) fn env(&self) -> EnvView {
        EnvView {
            env: self.runtime.env.clone(),
            task: self.task.clone(),
            target: self.target.clone(),
        }
    }
}
