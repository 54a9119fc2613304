//! From the checked config to what a run works with: the [`Runtime`] (env seeded with
//! Fabric's defaults, `--set` and the options that name an env key) and the loaded fabfile.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};

use rhai::{Array, Dynamic, Engine, Map};

use crate::cli::config::Config;
use crate::cli::search;
use crate::error::Result;
use crate::output::summary::Summary;
use crate::output::{Level, Output};
use crate::script::diagnostic::Sources;
use crate::script::env::Env;
use crate::script::fabfile::Fabfile;
use crate::script::runtime::Runtime;
use crate::ssh::connection_cache::Connections;
use crate::ssh::credentials::Credentials;
use crate::ssh::target::local_user;

/// A fabfile loaded into its engine, with the runtime its functions see.
pub(crate) struct Loaded {
    pub(crate) runtime: Arc<Runtime>,
    pub(crate) engine: Engine,
    pub(crate) fabfile: Arc<Fabfile>,
    /// `None` for `rfab -H HOSTS -- COMMAND`, which needs no fabfile.
    pub(crate) path: Option<PathBuf>,
    pub(crate) sources: Sources,
}

/// Finds the fabfile (unless `without_fabfile`) and loads it.
pub(crate) fn load(config: &Config, output: &Output, without_fabfile: bool) -> Result<Loaded> {
    let path = if without_fabfile {
        None
    } else {
        Some(search::find(config.fabfile.as_deref(), &config.cwd)?)
    };
    load_from(config, output, path)
}

/// Loads the fabfile at `path`; without one, an empty fabfile.
pub(crate) fn load_from(config: &Config, output: &Output, path: Option<PathBuf>) -> Result<Loaded> {
    let base = path
        .as_deref()
        .and_then(Path::parent)
        .map_or_else(|| config.cwd.clone(), Path::to_path_buf);
    let mut sources = Sources::new(base);
    sources.internals = config.levels.shows(Level::Debug);
    let runtime = runtime(config, output, seed_env(config, path.as_deref()));
    let (engine, fabfile) = crate::script::load::load(&runtime, path.as_deref(), &sources)?;
    Ok(Loaded {
        runtime,
        engine,
        fabfile,
        path,
        sources,
    })
}

/// The run's shared state, for `config`, with `env`.
pub(crate) fn runtime(config: &Config, output: &Output, env: Env) -> Arc<Runtime> {
    crate::git::bound_waits(
        config.ssh.connect_timeout,
        crate::ssh::connection::silence_limit(config.ssh.keepalive),
    );
    let mut output = output.clone();
    output.levels = config.levels;
    Arc::new(Runtime {
        output,
        env,
        cli: RwLock::new(config.cli.clone()),
        ssh: config.ssh.clone(),
        dry_run: AtomicBool::new(config.dry_run),
        lb_plan: crate::lb::Plan::default(),
        credentials: Credentials::new(
            config.password.clone(),
            config.sudo_password.clone(),
            config.abort_on_prompts,
        ),
        connections: Connections::default(),
        summary: Summary::default(),
        scratch: crate::script::scratch::Scratch::default(),
        fabfile: RwLock::new(None),
        cli_login: (config.user.clone(), config.port),
        ran_once: std::sync::Mutex::default(),
    })
}

/// Fabric's defaults, then `--set`, then the options that name an env key (they win).
fn seed_env(config: &Config, fabfile: Option<&Path>) -> Env {
    let env = Env::default();
    let list = |items: &[String]| {
        Dynamic::from_array(
            items
                .iter()
                .map(|s| Dynamic::from(s.clone()))
                .collect::<Array>(),
        )
    };
    let user = local_user();
    let path = fabfile.map_or(Dynamic::UNIT, |f| Dynamic::from(f.display().to_string()));
    for (key, value) in [
        ("hosts", list(&config.cli.hosts)),
        ("roles", list(&config.cli.roles)),
        ("exclude_hosts", list(&config.cli.exclude_hosts)),
        ("roledefs", Dynamic::from_map(Map::new())),
        ("user", Dynamic::from(user.clone())),
        ("local_user", Dynamic::from(user)),
        ("port", Dynamic::from_int(22)),
        ("shell", Dynamic::from(config.shell.clone())),
        ("warn_only", Dynamic::FALSE),
        ("abort_on_prompts", Dynamic::FALSE),
        ("fabfile", path.clone()),
        ("real_fabfile", path),
        ("tasks", list(&config.task_words)),
        (
            "version",
            Dynamic::from(env!("CARGO_PKG_VERSION").to_owned()),
        ),
    ] {
        env.set(key, value);
    }
    for (key, value) in &config.settings {
        env.set(key, value.clone());
    }
    if let Some(user) = &config.user {
        env.set("user", Dynamic::from(user.clone()));
    }
    if let Some(port) = config.port {
        env.set("port", Dynamic::from_int(i64::from(port)));
    }
    if config.warn_only {
        env.set("warn_only", Dynamic::TRUE);
    }
    if config.abort_on_prompts {
        env.set("abort_on_prompts", Dynamic::TRUE);
    }
    env
}
