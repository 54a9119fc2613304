//! The names an entry uses, checked once before it runs anywhere: a typo (`statsu`), a word
//! that is no command here (`clear`) or a task added to the fabfile but not yet `:reload`ed
//! would otherwise fail the same way on every host, after each had run what came before it.
//!
//! Only the entry's own statements are checked, not the bodies of the functions it defines,
//! which may call functions defined later. Variables are checked against every name the
//! entry declares anywhere and every variable any host kept: a rejected entry must be
//! wrong, while a name that slips through still fails as it did before.

use std::collections::HashSet;

use rhai::{AST, ASTNode, Expr, Stmt};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::suggestion;

/// Rhai keywords that parse as calls but are no registered function.
const KEYWORDS: &[&str] = &[
    "print",
    "debug",
    "type_of",
    "eval",
    "Fn",
    "call",
    "curry",
    "is_shared",
    "is_def_var",
    "is_def_fn",
];

/// What an entry may name.
pub(crate) struct Known<'a> {
    /// Functions callable without a namespace: the engine's and those typed at the prompt.
    pub(crate) functions: HashSet<&'a str>,
    /// Methods (`x.status()`, or `status(x)`): called with their receiver, never bare.
    pub(crate) methods: HashSet<&'a str>,
    /// Variables kept from earlier entries, locally or on any host, and `env`.
    pub(crate) variables: HashSet<&'a str>,
    /// The fabfile's tasks, which an entry runs by name, not as Rhai functions.
    pub(crate) tasks: Vec<&'a str>,
}

/// A name the entry uses, and how.
enum Use {
    /// A call, with how many arguments.
    Call(String, usize),
    Read(String),
}

/// Fails on the first name of `ast`'s statements that is neither declared nor known.
pub(crate) fn check(ast: &AST, known: &Known) -> Result<()> {
    let mut declared: HashSet<String> = ast
        .iter_fn_def()
        .flat_map(|f| std::iter::once(&f.name).chain(&f.params))
        .map(ToString::to_string)
        .collect();
    let mut uses = Vec::new();
    for statement in ast.statements() {
        statement.walk(&mut Vec::new(), &mut |path: &[ASTNode]| {
            visit(path.last(), &mut declared, &mut uses);
            true
        });
    }
    // `if is_def_var("x") { x }` reads a variable only where it exists.
    let guarded = uses
        .iter()
        .any(|u| matches!(u, Use::Call(name, _) if name == "is_def_var"));
    let unknown = uses.into_iter().find(|name_use| match name_use {
        Use::Call(name, arguments) => {
            !(known.functions.contains(name.as_str())
                || *arguments > 0 && known.methods.contains(name.as_str())
                || KEYWORDS.contains(&name.as_str())
                // A variable holding a function pointer is called like a function.
                || declared.contains(name)
                || known.variables.contains(name.as_str()))
        }
        Use::Read(name) => {
            !(guarded || declared.contains(name) || known.variables.contains(name.as_str()))
        }
    });
    let Some(Use::Call(name, _) | Use::Read(name)) = unknown else {
        return Ok(());
    };
    if known.tasks.contains(&name.as_str()) {
        return Err(Error::TaskInScript { name });
    }
    let candidates = known
        .tasks
        .iter()
        .chain(&known.functions)
        .chain(&known.methods)
        .chain(&known.variables)
        .copied()
        .chain(declared.iter().map(String::as_str))
        .filter(|candidate| *candidate != name && is_identifier(candidate));
    // Any one- or two-letter name is a typo away from a dozen others (`f`, `E`, `PI`).
    let suggestion = (name.chars().count() > 2)
        .then(|| suggestion::closest(&name, candidates))
        .flatten()
        .map(Into::into);
    Err(Error::UnknownName { name, suggestion })
}

/// Whether `name` can be typed as a name (`!`, `+` and `get$len` are functions too).
fn is_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// Notes what one node of the syntax tree declares or uses.
fn visit(node: Option<&ASTNode>, declared: &mut HashSet<String>, uses: &mut Vec<Use>) {
    match node {
        Some(ASTNode::Stmt(Stmt::Var(var, ..))) => {
            declared.insert(var.0.name.to_string());
        }
        Some(ASTNode::Stmt(Stmt::For(each, ..))) => {
            declared.insert(each.0.name.to_string());
            if let Some(counter) = &each.1 {
                declared.insert(counter.name.to_string());
            }
        }
        // `catch (error)`: the parser keeps the caught variable as a variable expression.
        Some(ASTNode::Stmt(Stmt::TryCatch(flow, ..))) => {
            if let Expr::Variable(variable, ..) = &flow.expr {
                declared.insert(variable.1.to_string());
            }
        }
        Some(ASTNode::Stmt(Stmt::FnCall(call, ..)) | ASTNode::Expr(Expr::FnCall(call, ..))) => {
            let plain = call.namespace.is_empty() && !call.is_operator_call();
            if plain && is_identifier(&call.name) {
                uses.push(Use::Call(call.name.to_string(), call.args.len()));
            }
        }
        Some(ASTNode::Expr(Expr::Variable(variable, ..))) if variable.2.is_empty() => {
            uses.push(Use::Read(variable.1.to_string()));
        }
        _ => {}
    }
}

/// The functions `engine` can call without a namespace, and its methods, by name, from
/// its metadata. A module's functions count when it exports them globally, as `lb` does
/// its load balancer's methods; the others are called by their module's name
/// (`git::tags`), and the fabfile's are tasks.
pub(crate) fn engine_functions(engine: &rhai::Engine) -> (HashSet<String>, HashSet<String>) {
    let mut functions = HashSet::new();
    let mut methods = HashSet::new();
    let metadata = engine
        .gen_fn_metadata_to_json(true)
        .ok()
        .and_then(|json| serde_json::from_str::<Value>(&json).ok())
        .unwrap_or_default();
    let global = metadata["functions"].as_array().into_iter().flatten();
    let exported = metadata["modules"]
        .as_object()
        .into_iter()
        .flat_map(|modules| modules.values())
        .flat_map(|module| module["functions"].as_array().into_iter().flatten())
        .filter(|function| function["namespace"] == "global");
    for function in global.chain(exported) {
        let Some(name) = function["name"].as_str() else {
            continue;
        };
        // `fn LoadBalancer.flip()`, or a native function whose first parameter is `&mut`.
        let is_method = !function["thisType"].is_null()
            || function["params"][0]["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("&mut "));
        if is_method {
            methods.insert(name.to_owned());
        } else {
            functions.insert(name.to_owned());
        }
    }
    (functions, methods)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(text: &str) -> Result<()> {
        let engine = rhai::Engine::new();
        let (functions, methods) = engine_functions(&engine);
        let ast = engine.compile(text).expect("compiles");
        check(
            &ast,
            &Known {
                functions: functions.iter().map(String::as_str).collect(),
                methods: methods.iter().map(String::as_str).collect(),
                variables: ["env", "kept"].into(),
                tasks: vec!["status", "deploy"],
            },
        )
    }

    fn unknown(text: &str) -> (String, Option<String>) {
        match checked(text) {
            Err(Error::UnknownName { name, suggestion }) => (name, suggestion),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn unknown_words_and_calls_are_named_with_the_closest_known_one() {
        assert_eq!(unknown("statsu"), ("statsu".into(), Some("status".into())));
        assert_eq!(unknown("clear"), ("clear".into(), None));
        // A method needs its receiver.
        assert_eq!(unknown("clear()"), ("clear".into(), None));
        assert_eq!(
            unknown("let x = 1; prnt(x)"),
            ("prnt".into(), Some("print".into()))
        );
        assert_eq!(unknown("if true { kept + nosuch }").0, "nosuch");
        // No guess for a name too short to tell a typo.
        assert_eq!(unknown("f(5)"), ("f".into(), None));
    }

    #[test]
    fn a_task_called_as_a_function_says_how_to_run_it() {
        assert!(
            matches!(checked("status()"), Err(Error::TaskInScript { name }) if name == "status")
        );
    }

    #[test]
    fn declared_and_kept_names_pass() {
        for text in [
            "let x = 1; x + kept",
            "for (item, i) in [1, 2] { print(item + i) }",
            "try { throw 1 } catch (e) { print(e) }",
            "fn twice(x) { later(x) * 2 } twice(2)",
            "let f = |x| x + 1; f.call(2)",
            "env.hosts = []; len(\"abc\"); type_of(1); Fn(\"print\")",
            "`${kept} and ${1 + 1}`",
            "global::X",
            "kept.to_upper()",
            "if is_def_var(\"maybe\") { maybe } else { 0 }",
            "let a = [1]; clear(a); a",
        ] {
            assert!(checked(text).is_ok(), "{text}: {:?}", checked(text));
        }
    }
}
