//! What a script call carries: the run's shared `Runtime` and, per call, the task and the
//! host it works on ([`Context`], passed as Rhai's call tag).
//!
//! Per-host state lives here and travels with each call, so hosts running in parallel never
//! share it; `env` holds only what the whole run shares.

use std::sync::{Arc, Mutex, PoisonError};

use rhai::{Dynamic, EvalAltResult, Map, NativeCallContext};

use crate::output::{Level, Levels};
use crate::script::env::{EnvView, truthy};
use crate::script::runtime::Runtime;
use crate::script::scoped::{ScopedSettings, join_dirs};
use crate::ssh::options::SshOptions;
use crate::ssh::target::Target;

/// The call tag: who is calling, on which host, under which scoped settings.
#[derive(Clone, Debug)]
pub(crate) struct Context {
    pub(crate) runtime: Arc<Runtime>,
    pub(crate) task: Option<Arc<str>>,
    pub(crate) target: Option<Arc<Target>>,
    /// This host's `cd`, `prefix`, `settings`, ... stack; one per host execution.
    pub(crate) scope: Arc<Mutex<ScopedSettings>>,
    /// Whether other hosts run at the same time: then no one is asked anything.
    pub(crate) parallel: bool,
    /// Commands to run on this host if its task fails or is interrupted (`on_abort`).
    pub(crate) on_abort: Arc<Mutex<Vec<Undo>>>,
    /// Remote work of this call that failed with its connection (the host could not be
    /// reached, or stopped answering), and `on_abort` cleanup that could not run, in order:
    /// the first is why the task failed, the rest could not run after it.
    pub(crate) lost: Arc<Mutex<Vec<Lost>>>,
}

/// A command `on_abort` registered, and what it does in words, if the script said.
#[derive(Clone, Debug)]
pub(crate) struct Undo {
    pub(crate) command: String,
    pub(crate) step: Option<String>,
}

impl Undo {
    /// The step's words, else the command in backticks: for warnings.
    pub(crate) fn what(&self) -> String {
        self.step
            .clone()
            .unwrap_or_else(|| format!("`{}`", self.command))
    }

    /// The step's words, else the command: for the list of what is left to do.
    pub(crate) fn left(&self) -> String {
        self.step.clone().unwrap_or_else(|| self.command.clone())
    }
}

/// One piece of remote work that could not be done.
#[derive(Clone, Debug)]
pub(crate) struct Lost {
    /// `run: rm -f x`, `put: a -> b`, `on abort: ...`.
    pub(crate) what: String,
    /// The error it met.
    pub(crate) why: String,
    /// Whether it failed to connect, rather than losing a working connection.
    pub(crate) unreached: bool,
}

impl Context {
    /// A context for `task` on `target`, with fresh scoped settings.
    pub(crate) fn new(
        runtime: Arc<Runtime>,
        task: Option<Arc<str>>,
        target: Option<Arc<Target>>,
    ) -> Self {
        Self {
            runtime,
            task,
            target,
            scope: Arc::default(),
            parallel: false,
            on_abort: Arc::default(),
            lost: Arc::default(),
        }
    }

    /// Records remote work that failed with its connection (see `lost`); `unreached`: it
    /// could not connect at all.
    pub(crate) fn record_lost(&self, what: String, why: String, unreached: bool) {
        self.lost
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Lost {
                what,
                why,
                unreached,
            });
    }

    /// Whether this call's first remote work already found its host unreachable: then
    /// nothing was done there, and there is nothing to clean up.
    pub(crate) fn never_reached(&self) -> bool {
        self.lost
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .first()
            .is_some_and(|lost| lost.unreached)
    }

    /// The same context, marked as running beside other hosts.
    pub(crate) fn in_parallel(mut self, parallel: bool) -> Self {
        self.parallel = parallel;
        self
    }

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

    /// A copy of the scoped settings in force.
    pub(crate) fn settings(&self) -> ScopedSettings {
        self.scope
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the scoped settings; scoped functions put back what they found.
    pub(crate) fn set_settings(&self, settings: ScopedSettings) {
        *self.scope.lock().unwrap_or_else(PoisonError::into_inner) = settings;
    }

    pub(crate) fn levels(&self) -> Levels {
        self.settings().levels.unwrap_or(self.runtime.output.levels)
    }

    /// Whether output at `level` is shown here.
    pub(crate) fn shows(&self, level: Level) -> bool {
        self.levels().shows(level)
    }

    /// An option of a call: the call's own `options`, then `with()`, then `env`.
    pub(crate) fn option(&self, options: &Map, key: &str) -> Option<Dynamic> {
        options
            .get(key)
            .cloned()
            .or_else(|| self.settings().get(key))
            .or_else(|| Some(self.env().get(key)))
            .filter(|v| !v.is_unit())
    }

    /// A flag option, read the same way.
    pub(crate) fn flag(&self, options: &Map, key: &str) -> bool {
        self.option(options, key).is_some_and(|v| truthy(&v))
    }

    /// How to reach hosts: the command line's options and env's connection keys.
    pub(crate) fn ssh(&self) -> std::result::Result<SshOptions, Box<EvalAltResult>> {
        self.runtime.ssh_options().map_err(|e| e.to_string().into())
    }

    pub(crate) fn env(&self) -> EnvView {
        let settings = self.settings();
        let dirs = (
            join_dirs(&settings.cwd).unwrap_or_default(),
            join_dirs(&settings.lcwd).unwrap_or_default(),
        );
        EnvView {
            dirs,
            env: self.runtime.env.clone(),
            task: self.task.clone(),
            target: settings.target.or_else(|| self.target.clone()),
            overrides: settings.overrides,
            ssh_config: self
                .runtime
                .ssh_options()
                .map_or_else(|_| self.runtime.ssh.ssh_config.clone(), |o| o.ssh_config),
        }
    }
}
