//! A fabfile loaded into a new engine: what a run, and each `:reload` of `rfab repl`, starts
//! from.

use std::path::Path;
use std::sync::Arc;

use rhai::Engine;

use crate::error::Result;
use crate::script::diagnostic::Sources;
use crate::script::fabfile::Fabfile;
use crate::script::runtime::Runtime;
use crate::script::task::MODULE_NAME;
use crate::script::{engine, limits};

/// An engine with the fabfile at `path` loaded and registered, so that tasks and
/// `execute()` find it; without a path, an empty fabfile.
pub(crate) fn load(
    runtime: &Arc<Runtime>,
    path: Option<&Path>,
    sources: &Sources,
) -> Result<(Engine, Arc<Fabfile>)> {
    let mut engine = engine::build(runtime, &sources.base);
    // Only the top level is limited: it runs on every load, `--list` included.
    engine.set_max_operations(limits::MAX_LOAD_OPERATIONS);
    let loaded = path.map(|path| Fabfile::load(&engine, path, sources));
    engine.set_max_operations(0);
    let fabfile = Arc::new(match loaded {
        Some(loaded) => loaded?,
        None => Fabfile::none(sources),
    });
    engine.register_static_module(MODULE_NAME, fabfile.module.clone());
    runtime.set_fabfile(fabfile.clone());
    Ok((engine, fabfile))
}
