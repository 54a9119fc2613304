//! The Rhai engine a fabfile runs in: limits, `env`, imports, output and the script API.

use std::path::Path;
use std::sync::Arc;

use rhai::module_resolvers::{FileModuleResolver, ModuleResolversCollection};
use rhai::{Dynamic, Engine};

use crate::script::api;
use crate::script::context::Context;
use crate::script::limits::limit;
use crate::script::runtime::Runtime;
use crate::script::stdlib::Stdlib;
use crate::signals;

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
                overrides: rhai::Map::new(),
                ssh_config: None,
                dirs: (String::new(), String::new()),
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
    resolvers.push(Stdlib::new(crate::script::api::builtin_module));
    resolvers.push(FileModuleResolver::new_with_path(base));
    engine.set_module_resolver(resolvers);

    api::register(&mut engine);
    engine.set_default_tag(Dynamic::from(Context::new(runtime.clone(), None, None)));
    engine
}
