//! Loading a fabfile: compile it, run its top level once, and find its tasks.
//!
//! The fabfile is evaluated exactly once, as a module. Its functions become tasks; modules it
//! imports at the top level become namespaces (`import "proxy" as proxy;` gives `proxy.flip`),
//! nested to any depth. Private functions, names starting with `_`, functions tagged
//! `@helper` (public, for other files to call) and the embedded stdlib are not tasks; and
//! once any function of the fabfile or its modules is tagged `@task`, only those tagged are
//! (Fabric's new-style tasks). The module is then registered under [`MODULE_NAME`] so that
//! a small generated entry function can call any task by its path (see `executor`).

use std::collections::HashSet;
use std::path::Path;

use rhai::{Engine, FnAccess, Module, Scope, Shared};

use crate::error::{Error, Result};
use crate::script::decorators::Tags;
use crate::script::diagnostic::{Sources, display_path};
use crate::script::stdlib;
use crate::script::task::{MODULE_NAME, Overload, Task};
use crate::suggestion;

#[derive(Debug)]
pub(crate) struct Fabfile {
    /// The fabfile's `//!` comment, shown above `--list`.
    pub(crate) doc: Vec<String>,
    /// Sorted by name.
    pub(crate) tasks: Vec<Task>,
    pub(crate) module: Shared<Module>,
    pub(crate) sources: Sources,
}

impl Fabfile {
    /// Compiles `path`, runs its top level once and collects its tasks.
    pub(crate) fn load(engine: &Engine, path: &Path, sources: &Sources) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::FabfileRead {
            path: path.into(),
            source,
        })?;
        let source_id = path.to_string_lossy().into_owned();
        let mut ast = engine.compile(&text).map_err(|e| Error::Script {
            rendered: sources.parse_error(&e, &source_id),
        })?;
        ast.set_source(source_id.as_str());
        let doc = doc_lines(ast.doc().lines());
        let mut module =
            Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(|e| Error::Script {
                rendered: sources.eval_error(&e, &source_id),
            })?;
        module.build_index();
        let mut tasks = collect_tasks(engine, &module, &source_id, sources)?;
        tasks.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Self {
            doc,
            tasks,
            module: module.into(),
            sources: sources.clone(),
        })
    }

    /// No fabfile: what an ad-hoc command (`rfab -H web1 -- uptime`) runs with.
    pub(crate) fn none(sources: &Sources) -> Self {
        Self {
            doc: Vec::new(),
            tasks: Vec::new(),
            module: Module::new().into(),
            sources: sources.clone(),
        }
    }

    /// The task called `name`, or an error with the nearest name.
    pub(crate) fn task(&self, name: &str) -> Result<&Task> {
        self.tasks
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| Error::UnknownTask {
                name: name.into(),
                suggestion: suggestion::closest(name, self.tasks.iter().map(|t| t.name.as_str()))
                    .map(Into::into),
            })
    }
}

/// A public function of the fabfile or one of its modules, before the `@task` rule.
struct Candidate {
    /// The dotted name users type: `proxy.flip`, or the `@name` in its namespace.
    name: String,
    /// `fabfile::proxy::flip`.
    call: String,
    overload: Overload,
}

fn collect_tasks(
    engine: &Engine,
    module: &Module,
    source_id: &str,
    sources: &Sources,
) -> Result<Vec<Task>> {
    let methods = builtin_methods(engine);
    let mut candidates = Vec::new();
    collect(module, "", source_id, sources, &methods, &mut candidates)?;
    // Fabric's rule: once one function is a `@task`, the others are helpers.
    let tagged_only = candidates.iter().any(|c| c.overload.tags.task);
    let mut tasks: Vec<Task> = Vec::new();
    for candidate in candidates {
        if tagged_only && !candidate.overload.tags.task {
            continue;
        }
        if let Some(task) = tasks.iter_mut().find(|t| t.name == candidate.name) {
            task.overloads.push(candidate.overload);
        } else {
            tasks.push(Task {
                name: candidate.name,
                call: candidate.call,
                overloads: vec![candidate.overload],
            });
        }
    }
    for task in &mut tasks {
        task.overloads.sort_by_key(|o| o.params.len());
    }
    Ok(tasks)
}

fn collect(
    module: &Module,
    prefix: &str,
    source_id: &str,
    sources: &Sources,
    methods: &HashSet<(String, usize)>,
    candidates: &mut Vec<Candidate>,
) -> Result<()> {
    for (_, access, name, arity, def) in module.iter_script_fn_info() {
        // A closure (`|x| ...`) is compiled to a function named `anon$...`: no task.
        if name.starts_with("anon$") {
            continue;
        }
        if methods.contains(&(name.to_owned(), arity + 1)) {
            return Err(Error::Script {
                rendered: shadows_method(sources, source_id, name, arity),
            });
        }
        if access == FnAccess::Private || name.starts_with('_') {
            continue;
        }
        let comments: Vec<&str> = def.comments.iter().map(AsRef::as_ref).collect();
        let lines = doc_lines(comments.iter().flat_map(|c| c.lines()));
        let tag_error = |tag: &str, message: String| Error::Tag {
            location: tag_location(sources, source_id, name, tag),
            message,
        };
        let tags = Tags::parse(&lines)
            .map_err(|(index, error)| tag_error(lines[index].trim(), error.to_string()))?;
        if tags.helper {
            continue;
        }
        let params: Vec<String> = def.params.iter().map(ToString::to_string).collect();
        check_defaults(&tags, &params)
            .map_err(|error| tag_error("@defaults", error.to_string()))?;
        let doc = lines
            .into_iter()
            .filter(|l| !l.trim_start().starts_with('@'))
            .collect();
        let shown = tags.name.clone().unwrap_or_else(|| name.to_owned());
        candidates.push(Candidate {
            name: format!("{prefix}{shown}"),
            call: format!("{MODULE_NAME}::{}{name}", prefix.replace('.', "::")),
            overload: Overload { params, doc, tags },
        });
    }
    for (namespace, sub) in module.iter_sub_modules() {
        if stdlib::is_stdlib(sub.id()) {
            continue;
        }
        let sub_source = sub.id().unwrap_or(namespace).to_owned();
        collect(
            sub,
            &format!("{prefix}{namespace}."),
            &sub_source,
            sources,
            methods,
            candidates,
        )?;
    }
    Ok(())
}

/// Why a function's `@defaults` cannot hold.
#[derive(Debug, thiserror::Error)]
enum BadDefaults {
    #[error("`{key}` is not a parameter of the function (parameters: {params})")]
    NotAParameter { key: String, params: String },
    #[error("`{bare}` comes after `{after}`, which has a default, so it needs one too")]
    NotTrailing { bare: String, after: String },
}

/// `@defaults` names parameters of the function, and only trailing ones: a parameter
/// without a default cannot follow one with a default.
fn check_defaults(tags: &Tags, params: &[String]) -> std::result::Result<(), BadDefaults> {
    for (key, _) in &tags.defaults {
        if !params.contains(key) {
            return Err(BadDefaults::NotAParameter {
                key: key.clone(),
                params: if params.is_empty() {
                    "none".to_owned()
                } else {
                    params.join(", ")
                },
            });
        }
    }
    let defaulted = |p: &String| tags.defaults.iter().any(|(k, _)| k == p);
    if let Some(first) = params.iter().position(defaulted)
        && let Some(bare) = params[first..].iter().find(|p| !defaulted(p))
    {
        return Err(BadDefaults::NotTrailing {
            bare: bare.clone(),
            after: params[first].clone(),
        });
    }
    Ok(())
}

/// The engine's own methods, by name and arity counting the value they are called on:
/// `len` 1, `contains` 2. A script function `fn len()` would be called by every `x.len()`
/// in its file, itself included (Rhai tries script functions first, with `this` bound),
/// which ends in a stack overflow. Those are Rhai's standard functions, any of which can be
/// called as a method, and rfab's functions that change the value they are called on.
fn builtin_methods(engine: &Engine) -> HashSet<(String, usize)> {
    let standard = Engine::new().gen_fn_signatures(true);
    let own = engine.gen_fn_signatures(false);
    standard
        .iter()
        .map(|s| (s, false))
        .chain(own.iter().map(|s| (s, true)))
        .filter_map(|(signature, needs_mut)| {
            let (name, rest) = signature.split_once('(')?;
            let params = rest.split_once(')')?.0;
            let first = params.split(", ").next()?;
            // `lb::flip` needs its namespace, and `LoadBalancer.flip` is a script method bound
            // to its type, which Rhai tries before any script function (see `methods`).
            let plain = !name.contains(['$', '.', ':']);
            (plain && !params.is_empty() && (!needs_mut || first.contains(": &mut ")))
                .then(|| (name.to_owned(), params.split(", ").count()))
        })
        .collect()
}

fn shadows_method(sources: &Sources, source_id: &str, name: &str, arity: usize) -> String {
    let (file, text) = sources.text(source_id);
    let line = text.lines().position(|l| {
        let l = l.trim_start().trim_start_matches("private ").trim_start();
        l.strip_prefix("fn ")
            .is_some_and(|rest| rest.trim_start().starts_with(&format!("{name}(")))
    });
    let at = line.map_or(file.clone(), |i| format!("{file}:{}", i + 1));
    let args = if arity == 0 {
        String::new()
    } else {
        "...".to_owned()
    };
    format!(
        "{at}: `fn {name}` has the name of a built-in method, so every `x.{name}({args})` in \
         this file would call it instead (and it would call itself, without end)\n\
         hint: rename the function; to keep `{name}` as the task's name, tag the renamed \
         function with `/// @name({name})`"
    )
}

/// Doc comment text without its `///`, `//!`, `/**` or `*` markers.
fn doc_lines<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = lines
        .map(|line| {
            let line = line.trim_start();
            let line = ["///", "//!", "/**", "*/", "*"]
                .iter()
                .find_map(|m| line.strip_prefix(m))
                .unwrap_or(line);
            let line = line.strip_suffix("*/").unwrap_or(line);
            line.strip_prefix(' ').unwrap_or(line).trim_end().to_owned()
        })
        .collect();
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    while out.first().is_some_and(String::is_empty) {
        out.remove(0);
    }
    out
}

/// `fabfile.rhai:12:5`, found by looking for the tag's line above `fn NAME(`.
fn tag_location(sources: &Sources, source_id: &str, function: &str, tag: &str) -> String {
    let (name, text) = sources.text(source_id);
    let lines: Vec<&str> = text.lines().collect();
    let definition = lines.iter().position(|l| {
        let l = l.trim_start().trim_start_matches("private ").trim_start();
        l.strip_prefix("fn ")
            .is_some_and(|rest| rest.trim_start().starts_with(&format!("{function}(")))
    });
    let found = definition.and_then(|end| {
        lines[..end]
            .iter()
            .rposition(|l| l.contains(tag))
            .map(|i| (i + 1, lines[i].find('@').map_or(1, |c| c + 1)))
    });
    match found {
        Some((line, col)) => format!("{name}:{line}:{col}: in the docs of `{function}`"),
        None => format!(
            "{}: in the docs of `{function}`",
            display_path(Path::new(&name))
        ),
    }
}
