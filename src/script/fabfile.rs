//! Loading a fabfile: compile it, run its top level once, and find its tasks.
//!
//! The fabfile is evaluated exactly once, as a module. Its functions become tasks; modules it
//! imports at the top level become namespaces (`import "proxy" as proxy;` gives `proxy.flip`),
//! nested to any depth. Private functions, names starting with `_`, functions tagged
//! `@helper` (public, for other files to call) and the embedded stdlib are not tasks. The module is then registered under [`MODULE_NAME`] so that a small
//! generated entry function can call any task by its path (see `executor`).

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
        let mut tasks = Vec::new();
        collect_tasks(&module, "", &source_id, sources, &mut tasks)?;
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

fn collect_tasks(
    module: &Module,
    prefix: &str,
    source_id: &str,
    sources: &Sources,
    tasks: &mut Vec<Task>,
) -> Result<()> {
    for (_, access, name, _, def) in module.iter_script_fn_info() {
        // A closure (`|x| ...`) is compiled to a function named `anon$...`: no task.
        if access == FnAccess::Private || name.starts_with('_') || name.starts_with("anon$") {
            continue;
        }
        let comments: Vec<&str> = def.comments.iter().map(AsRef::as_ref).collect();
        let lines = doc_lines(comments.iter().flat_map(|c| c.lines()));
        let tags = Tags::parse(&lines).map_err(|(index, error)| Error::Tag {
            location: tag_location(sources, source_id, name, lines[index].trim()),
            message: error.to_string(),
        })?;
        if tags.helper {
            continue;
        }
        let doc = lines
            .into_iter()
            .filter(|l| !l.trim_start().starts_with('@'))
            .collect();
        let overload = Overload {
            params: def.params.iter().map(ToString::to_string).collect(),
            doc,
            tags,
        };
        let full_name = format!("{prefix}{name}");
        if let Some(task) = tasks.iter_mut().find(|t| t.name == full_name) {
            task.overloads.push(overload);
        } else {
            let call = format!("{MODULE_NAME}::{}", full_name.replace('.', "::"));
            tasks.push(Task {
                name: full_name,
                call,
                overloads: vec![overload],
            });
        }
    }
    for task in tasks.iter_mut() {
        task.overloads.sort_by_key(|o| o.params.len());
    }
    for (namespace, sub) in module.iter_sub_modules() {
        if stdlib::is_stdlib(sub.id()) {
            continue;
        }
        let sub_source = sub.id().unwrap_or(namespace).to_owned();
        collect_tasks(
            sub,
            &format!("{prefix}{namespace}."),
            &sub_source,
            sources,
            tasks,
        )?;
    }
    Ok(())
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
