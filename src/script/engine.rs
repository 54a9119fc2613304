//! The Rhai engine a fabfile runs in: limits, `env`, imports, output and the script API.

use std::path::Path;
use std::sync::Arc;

use rhai::module_resolvers::{FileModuleResolver, ModuleResolversCollection};
use rhai::{Dynamic, Engine};

use crate::script::api;
use crate::script::context::{Context, Runtime};
use crate::script::stdlib::Stdlib;
use crate::signals;

/// The largest string a script may build: 256 MiB. Above the 64 MiB a command's captured
/// output is capped at by default, with room for a script to join two of them; without a
/// cap, a runaway string ends in a failed allocation, which aborts the process.
pub(crate) const MAX_STRING_SIZE: usize = 256 << 20;
/// The most items in one array: generous (the lines of a 64 MiB output fit), but finite,
/// so a runaway loop is a script error instead of an abort.
pub(crate) const MAX_ARRAY_SIZE: usize = 16 << 20;
/// The most entries in one map, likewise.
pub(crate) const MAX_MAP_SIZE: usize = 1 << 20;
/// The most operations a fabfile's top level may run while it loads. It runs for `--list`
/// too, so an endless loop there must fail fast; tasks themselves are not limited (a
/// deploy may rightly loop for minutes, and Ctrl-C stops it).
pub(crate) const MAX_LOAD_OPERATIONS: u64 = 1_000_000;

/// Rhai's limits for fabfiles. Debug builds of Rhai default to 8 call levels and shallow
/// expressions; deploy recipes nest deeper.
///
/// The price of size limits: Rhai then measures a container after each change made to it in
/// place, so pushing N items one by one costs O(N²) (about 8 s for 20 000 in a debug build).
/// Deploy scripts build lists of hosts and lines, far below that; `split` and other
/// functions that return a whole array are measured once.
pub(crate) fn limit(engine: &mut Engine) {
    engine
        .set_max_call_levels(64)
        .set_max_expr_depths(64, 32)
        .set_max_operations(0)
        .set_max_string_size(MAX_STRING_SIZE)
        .set_max_array_size(MAX_ARRAY_SIZE)
        .set_max_map_size(MAX_MAP_SIZE);
}

/// An engine for fabfiles that live in `base` (imports resolve against it).
pub(crate) fn build(runtime: &Arc<Runtime>, base: &Path) -> Engine {
    let mut engine = Engine::new();
    limit(&mut engine);
    // `eval` would run code that --list and the argument checks never saw.
    engine.disable_symbol("eval");
    // A single atomic load: this hook runs on every operation.
    engine.on_progress(|_| signals::interrupted().then_some(Dynamic::UNIT));

    let env = runtime.env.clone();
    // `on_var` is marked volatile, not deprecated: it is the one way to give every function,
    // module and closure the same `env`. Scope variables reach only the function called
    // directly; a shared value returned here is seen, and assignable, from all of them.
    #[allow(deprecated)]
    engine.on_var(move |name, _, context| {
        if name != "env" || context.scope().contains("env") {
            return Ok(None);
        }
        let view = match context.tag().clone().try_cast::<Context>() {
            Some(caller) => caller.env(),
            None => crate::script::env::EnvView {
                env: env.clone(),
                task: None,
                target: None,
            },
        };
        Ok(Some(Dynamic::from(view).into_shared()))
    });

    let output = runtime.output.clone();
    engine.on_print(move |text| output.user(None, text));
    let output = runtime.output.clone();
    engine.on_debug(move |text, source, pos| {
        let place = match (source, pos.line()) {
            (Some(source), Some(line)) => format!(
                "{}:{line}: ",
                crate::script::diagnostic::display_path(Path::new(source))
            ),
            _ => String::new(),
        };
        output.warning(None, &format!("debug: {place}{text}"));
    });

    let mut resolvers = ModuleResolversCollection::new();
    resolvers.push(Stdlib::default());
    resolvers.push(FileModuleResolver::new_with_path(base));
    engine.set_module_resolver(resolvers);

    api::register(&mut engine);
    engine.set_default_tag(Dynamic::from(Context::new(runtime.clone(), None, None)));
    engine
}
