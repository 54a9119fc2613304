//! The Rhai modules of `stdlib/`, compiled into the binary: `import "rfab/hosts" as hosts;`.
//!
//! Nothing is read from disk at run time. Each module is compiled and evaluated once per
//! engine, on first import; errors inside one point at `<stdlib>/NAME.rhai:line:col`.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};

/// The import prefix of the embedded modules.
const IMPORT_PREFIX: &str = "rfab/";
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

/// The reference entries of the embedded modules, for `rfab --api`: each module's own docs
/// (`//!`, its settings) under `rfab/NAME`, and each documented public function under
/// `NAME::function`, as a fabfile importing it `as NAME` calls it.
pub(crate) fn reference(engine: &Engine) -> Vec<(String, String)> {
    let mut entries = Vec::new();
    for (name, doc) in crate::script::api::BUILTIN_MODULES {
        entries.push((
            format!("{IMPORT_PREFIX}{name}"),
            format!("\n```\nimport \"{IMPORT_PREFIX}{name}\" as {name};\n```\n\n{doc}\n"),
        ));
    }
    for (name, text) in MODULES {
        let module_doc: Vec<&str> = text
            .lines()
            .map_while(|line| line.strip_prefix("//!"))
            .map(|line| line.strip_prefix(' ').unwrap_or(line))
            .collect();
        entries.push((
            format!("{IMPORT_PREFIX}{name}"),
            format!(
                "\n```\nimport \"{IMPORT_PREFIX}{name}\" as {name};\n```\n\n{}\n",
                module_doc.join("\n")
            ),
        ));
        // The stdlib compiles (a test says so); a module that would not has no entries.
        let Ok(ast) = engine.compile(text) else {
            continue;
        };
        for function in ast.iter_functions() {
            if function.access == rhai::FnAccess::Private || function.comments.is_empty() {
                continue;
            }
            let doc: Vec<&str> = function
                .comments
                .iter()
                .flat_map(|comment| comment.lines())
                .map(|line| line.trim_start().trim_start_matches("///"))
                .map(|line| line.strip_prefix(' ').unwrap_or(line))
                .collect();
            let title = format!("{name}::{}", function.name);
            entries.push((
                title.clone(),
                format!(
                    "\n```\n{title}({})\n```\n\n{}\n",
                    function.params.join(", "),
                    doc.join("\n")
                ),
            ));
        }
    }
    entries
}

#[derive(Debug, Default)]
pub(crate) struct Stdlib {
    cache: RwLock<HashMap<&'static str, Shared<Module>>>,
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
        if let Some(module) = crate::script::api::builtin_module(name) {
            return Ok(module);
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
