//! The Rhai modules of `stdlib/`, compiled into the binary: `import "rfab/hosts" as hosts;`.
//!
//! Nothing is read from disk at run time. Each module is compiled and evaluated once per
//! engine, on first import; errors inside one point at `<stdlib>/NAME.rhai:line:col`.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};

/// The import prefix of the embedded modules.
pub(crate) const IMPORT_PREFIX: &str = "rfab/";
/// The source name of an embedded module, as errors show it.
pub(crate) const SOURCE_PREFIX: &str = "<stdlib>/";

const MODULES: &[(&str, &str)] = &[
    ("hosts", include_str!("../../stdlib/hosts.rhai")),
    ("releases", include_str!("../../stdlib/releases.rhai")),
];

/// Earlier names of modules: `import "rfab/deploy"` is `rfab/releases`, the same module.
const ALIASES: &[(&str, &str)] = &[("deploy", "releases")];

/// The text of an embedded module, by its source name (`<stdlib>/hosts.rhai`).
pub(crate) fn source(id: &str) -> Option<&'static str> {
    let name = id.strip_prefix(SOURCE_PREFIX)?.strip_suffix(".rhai")?;
    MODULES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// The text of an embedded module by its import name (`hosts` for `rfab/hosts`; earlier
/// names too).
pub(crate) fn text(name: &str) -> Option<&'static str> {
    let name = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, module)| *module);
    MODULES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// Whether a module's source name says it came from the stdlib.
pub(crate) fn is_stdlib(id: Option<&str>) -> bool {
    id.is_some_and(|id| id.starts_with(SOURCE_PREFIX))
}

/// The embedded modules written in Rhai: name and text.
pub(crate) fn modules() -> &'static [(&'static str, &'static str)] {
    MODULES
}

/// Resolves `import "rfab/NAME"`: the modules written in Rhai here, and those written in
/// Rust that `builtin` gives (the script API's `files`, `project`).
pub(crate) struct Stdlib {
    cache: RwLock<HashMap<&'static str, Shared<Module>>>,
    builtin: fn(&str) -> Option<Module>,
}

impl Stdlib {
    pub(crate) fn new(builtin: fn(&str) -> Option<Module>) -> Self {
        Self {
            cache: RwLock::default(),
            builtin,
        }
    }
}

impl ModuleResolver for Stdlib {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        let not_found = || Box::new(EvalAltResult::ErrorModuleNotFound(path.into(), pos));
        let name = path.strip_prefix(IMPORT_PREFIX).ok_or_else(not_found)?;
        let name = ALIASES
            .iter()
            .find(|(alias, _)| *alias == name)
            .map_or(name, |(_, module)| *module);
        if let Some(mut module) = (self.builtin)(name) {
            // Marked as the stdlib's, so that a fabfile importing it gets no task namespace.
            module.set_id(format!("{SOURCE_PREFIX}{name}"));
            module.build_index();
            return Ok(module.into());
        }
        let (name, text) = *MODULES
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(not_found)?;
        if let Some(module) = self
            .cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
        {
            return Ok(module.clone());
        }
        let source = format!("{SOURCE_PREFIX}{name}.rhai");
        // Two layers, so the error names the import and points into the embedded text.
        let in_module = |e: Box<EvalAltResult>| {
            let inner = Box::new(EvalAltResult::ErrorInModule(
                source.clone(),
                e,
                Position::NONE,
            ));
            Box::new(EvalAltResult::ErrorInModule(path.into(), inner, pos))
        };
        let mut ast = engine.compile(text).map_err(|e| in_module(e.into()))?;
        ast.set_source(source.as_str());
        let mut module = Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(in_module)?;
        module.build_index();
        let module: Shared<Module> = module.into();
        self.cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name, module.clone());
        Ok(module)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_compiles() {
        let mut engine = Engine::new();
        crate::script::limits::limit(&mut engine);
        for (name, text) in MODULES {
            if let Err(e) = engine.compile(text) {
                panic!("stdlib/{name}.rhai: {e}");
            }
        }
    }
}
