//! Native methods before script functions: `lb.flip()` calls the load balancer's `flip`
//! even in a file that has a task `flip`.
//!
//! Rhai looks for a script function before a native one, and takes a script function
//! `fn flip()` for the method call `x.flip()` too (with `x` as `this`). Tasks are script
//! functions, so a task `flip` used to take every `lb.flip()` in its file. What Rhai
//! tries before any of that is a script method bound to the value's type, `fn
//! LoadBalancer.flip()`: rfab registers one per native method of the type, each calling the
//! native function by its module path (`lb::flip(this)`). The module is imported inside
//! the methods' own file, so a script's `import ... as lb` cannot redirect them.

use std::borrow::Cow;
use std::fmt::Write as _;

use rhai::module_resolvers::StaticModuleResolver;
use rhai::{Engine, EvalAltResult, Module, Scope, Shared};

/// The source name of the generated methods. Errors never point into them: see
/// `diagnostic`, which reports a failure inside one at the script's call instead.
pub(crate) const SOURCE: &str = "<rfab methods>";

/// Registers, for each method of `type_name` in the static module `namespace`, a script
/// method of that type that calls it, so scripts' own functions cannot shadow it.
pub(crate) fn register(
    engine: &mut Engine,
    namespace: &str,
    module: &Shared<Module>,
    type_name: &str,
) -> Result<(), Box<EvalAltResult>> {
    let text = source(namespace, module, type_name);
    let mut importer = Engine::new_raw();
    let mut resolver = StaticModuleResolver::new();
    resolver.insert(namespace, Module::clone(module));
    importer.set_module_resolver(resolver);
    let mut ast = importer.compile(&text)?;
    ast.set_source(SOURCE);
    let mut methods = Module::eval_ast_as_new(Scope::new(), &ast, &importer)?;
    methods.build_index();
    engine.register_global_module(methods.into());
    Ok(())
}

/// `import "lb" as lb; fn LoadBalancer.only(a1) { lb::only(this, a1) } ...`
fn source(namespace: &str, module: &Module, type_name: &str) -> String {
    let mut text = format!("import \"{namespace}\" as {namespace};\n");
    for (name, arity) in methods(module, type_name) {
        let params: Vec<String> = (1..arity).map(|i| format!("a{i}")).collect();
        let args: Vec<&str> = std::iter::once("this")
            .chain(params.iter().map(String::as_str))
            .collect();
        let _ = writeln!(
            text,
            "fn {type_name}.{name}({}) {{ {namespace}::{name}({}) }}",
            params.join(", "),
            args.join(", ")
        );
    }
    text
}

/// The name and parameter count (with the value itself) of each method of `type_name`:
/// the functions whose first parameter is `&mut TYPE`.
fn methods(module: &Module, type_name: &str) -> Vec<(String, usize)> {
    let receiver = format!(": &mut {type_name}");
    let mut found: Vec<(String, usize)> = module
        .gen_fn_signatures_with_mapper(Cow::Borrowed)
        .filter_map(|signature| {
            let (name, rest) = signature.split_once('(')?;
            let params = rest.split_once(')')?.0;
            let first = params.split(", ").next()?;
            (first.ends_with(&receiver) && !name.contains('$'))
                .then(|| (name.to_owned(), params.split(", ").count()))
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_load_balancer_method_gets_one() {
        let module = rhai::exported_module!(crate::script::api::load_balancer_api);
        let found = methods(&module, "LoadBalancer");
        for expected in [("flip", 1), ("only", 2), ("all", 1), ("status", 1)] {
            assert!(
                found.contains(&(expected.0.to_owned(), expected.1)),
                "{expected:?} not in {found:?}"
            );
        }
    }
}
