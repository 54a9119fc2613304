//! What every call of one run shares: env, the hosts of `-H`/`-R`, SSH options and
//! connections, credentials, dry-run and its load-balancer plan, the summary, the run's
//! private files, and the fabfile.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use crate::output::Output;
use crate::output::summary::Summary;
use crate::script::env::Env;
use crate::script::fabfile::Fabfile;
use crate::ssh::connection_cache::Connections;
use crate::ssh::credentials::Credentials;
use crate::ssh::options::SshOptions;

/// Hosts and roles given with `-H`, `-R` and `-x`.
#[derive(Clone, Debug, Default)]
pub(crate) struct CliHosts {
    pub(crate) hosts: Vec<String>,
    pub(crate) roles: Vec<String>,
    pub(crate) exclude_hosts: Vec<String>,
}

/// Where a `@runs_once` task ran (`None`: locally) and what it returned.
pub(crate) type RanOnce = (Option<Arc<crate::ssh::target::Target>>, rhai::Dynamic);

/// Shared by every call of one run.
///
/// A run of the command line sets it up once; `rfab repl` changes a few parts of it between
/// lines (the fabfile on `:reload`, dry-run on `:dry`, the hosts of `-H`/`-R`), which is why
/// those sit behind locks.
#[derive(Debug)]
pub(crate) struct Runtime {
    pub(crate) output: Output,
    pub(crate) env: Env,
    pub(crate) cli: RwLock<CliHosts>,
    pub(crate) ssh: SshOptions,
    /// `--dry-run`: print commands and transfers, connect nowhere.
    pub(crate) dry_run: AtomicBool,
    /// Under `--dry-run`, the states load-balancer operations would have set so far, by
    /// backend and server: later tasks of the run see them, as they would the real ones.
    pub(crate) lb_plan: crate::lb::Plan,
    pub(crate) credentials: Credentials,
    pub(crate) connections: Connections,
    pub(crate) summary: Summary,
    /// Release archives and repository mirrors made for this run.
    pub(crate) scratch: crate::script::scratch::Scratch,
    /// Set once the fabfile is loaded; `execute()` finds tasks through it.
    pub(crate) fabfile: RwLock<Option<Arc<Fabfile>>>,
    /// `-u` and `--port`: they win over an `env.user` or `env.port` the fabfile sets.
    pub(crate) cli_login: (Option<String>, Option<u16>),
    /// What each `@runs_once` task gave the first time it ran during the current task of
    /// the command line, by task name: as in Fabric, `execute()` from each host runs it
    /// once, and later calls get that result.
    pub(crate) ran_once: std::sync::Mutex<std::collections::HashMap<String, RanOnce>>,
}

impl Runtime {
    /// The hosts, roles and exclusions of `-H`, `-R` and `-x`.
    pub(crate) fn cli(&self) -> CliHosts {
        self.cli
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_cli(&self, cli: CliHosts) {
        *self.cli.write().unwrap_or_else(PoisonError::into_inner) = cli;
    }

    pub(crate) fn dry_run(&self) -> bool {
        self.dry_run.load(Ordering::Relaxed)
    }

    /// Turns dry-run on or off; a new dry run starts from the load balancers' real states.
    pub(crate) fn set_dry_run(&self, dry_run: bool) {
        self.dry_run.store(dry_run, Ordering::Relaxed);
        self.lb_plan
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// How to reach hosts: the command line's options, with those it left at their default
    /// taken from `env` (`env.gateway`, `env.forward_agent`, ...), read when they are used.
    pub(crate) fn ssh_options(&self) -> crate::error::Result<SshOptions> {
        crate::script::ssh_env::options(&self.ssh, &self.env)
    }

    /// A host setting of the run: `-u`/`--port` for `user`/`port`, else `env.KEY`.
    pub(crate) fn host_setting(&self, key: &str) -> Option<rhai::Dynamic> {
        match (key, &self.cli_login) {
            ("user", (Some(user), _)) => Some(user.as_str().into()),
            ("port", (_, Some(port))) => Some(rhai::Dynamic::from_int(i64::from(*port))),
            _ => self.env.get(key),
        }
    }

    /// The fabfile, once loaded.
    pub(crate) fn fabfile(&self) -> Option<Arc<Fabfile>> {
        self.fabfile
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_fabfile(&self, fabfile: Arc<Fabfile>) {
        *self.fabfile.write().unwrap_or_else(PoisonError::into_inner) = Some(fabfile);
    }
}
