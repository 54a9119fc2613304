//! Renders Rhai errors the way a reader wants them: the cause, `file:line:col`, the source
//! line with a caret, then the chain of calls that led there.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rhai::{EvalAltResult, ParseError, Position};

use crate::script::{methods, stdlib};

/// Finds the text behind the source names Rhai reports.
#[derive(Clone, Debug)]
pub(crate) struct Sources {
    /// The fabfile's directory: imports resolve against it.
    pub(crate) base: PathBuf,
    /// Code that never was a file (what is typed into `rfab repl`), by source name.
    typed: HashMap<String, String>,
    /// `--show debug`: errors raised inside rfab's stdlib point into it, with its calls.
    /// Otherwise they point at the user's call into the stdlib, the user's own code.
    pub(crate) internals: bool,
}

/// A source file as shown to the user.
struct Source {
    name: String,
    text: Option<String>,
}

impl Sources {
    pub(crate) fn new(base: PathBuf) -> Self {
        Self {
            base,
            typed: HashMap::new(),
            internals: false,
        }
    }

    /// Keeps `text`, typed rather than read from a file, for errors that point into it.
    pub(crate) fn add_typed(&mut self, id: &str, text: &str) {
        self.typed.insert(id.into(), text.into());
    }

    fn find(&self, id: &str) -> Source {
        if let Some(text) = self.typed.get(id) {
            return Source {
                name: id.into(),
                text: Some(text.clone()),
            };
        }
        if id.starts_with(stdlib::SOURCE_PREFIX) {
            return Source {
                name: id.into(),
                text: stdlib::source(id).map(Into::into),
            };
        }
        let candidates = [
            PathBuf::from(id),
            self.base.join(id),
            self.base.join(format!("{id}.rhai")),
        ];
        match candidates.into_iter().find(|p| p.is_file()) {
            Some(path) => Source {
                name: display_path(&path),
                text: std::fs::read_to_string(&path).ok(),
            },
            None => Source {
                name: id.into(),
                text: None,
            },
        }
    }

    /// The display name and text of a source; the text is empty when it cannot be read.
    pub(crate) fn text(&self, source_id: &str) -> (String, String) {
        let source = self.find(source_id);
        (source.name, source.text.unwrap_or_default())
    }

    /// A parse error in `source_id`.
    pub(crate) fn parse_error(&self, error: &ParseError, source_id: &str) -> String {
        let mut out = format!("syntax error: {}", error.err_type());
        let _ = self.locate(&mut out, source_id, error.position());
        out
    }

    /// A runtime error raised while running code from `source_id`, with its call chain.
    pub(crate) fn eval_error(&self, error: &EvalAltResult, source_id: &str) -> String {
        let mut chain = Vec::new();
        // The function each frame of `chain` runs, closures resolved to theirs.
        let mut callers: Vec<String> = Vec::new();
        let mut source = source_id.to_owned();
        let mut error = error;
        // Where a failure inside one of rfab's generated methods is reported: at the call
        // in the script (see `methods`).
        let mut at = None;
        loop {
            match error {
                EvalAltResult::ErrorInFunctionCall(_, callee_source, inner, pos)
                    if callee_source == methods::SOURCE =>
                {
                    at = at.or(Some(*pos));
                    error = inner;
                }
                EvalAltResult::ErrorInFunctionCall(name, callee_source, inner, pos) => {
                    // A closure is compiled to a function named `anon$<hash>`: it is named by
                    // the function it was called from, whose code it almost always is.
                    let function = if name.starts_with("anon$") {
                        callers.last().cloned()
                    } else {
                        Some(task_like(name))
                    };
                    let what = match (name.starts_with("anon$"), &function) {
                        (false, _) => format!("in call to `{}`", task_like(name)),
                        (true, Some(caller)) => format!("in a closure in `{caller}`"),
                        (true, None) => "in a closure".to_owned(),
                    };
                    callers.push(function.unwrap_or_default());
                    chain.push((what, source.clone(), *pos));
                    if !callee_source.is_empty() {
                        source.clone_from(callee_source);
                    }
                    error = inner;
                }
                EvalAltResult::ErrorInModule(path, inner, pos) => {
                    chain.push((format!("in module `{path}`"), source.clone(), *pos));
                    source.clone_from(path);
                    error = inner;
                }
                root => {
                    let mut out = root_message(root);
                    let hint = match root {
                        EvalAltResult::ErrorVariableNotFound(name, _) => {
                            self.top_level_hint(&source, name)
                        }
                        _ => String::new(),
                    };
                    let mut position = at.unwrap_or_else(|| root.position());
                    let hidden = |source: &str| !self.internals && is_stdlib(source);
                    // An error inside the stdlib is shown at the user's call into it.
                    let mut shown_at = None;
                    if hidden(&source)
                        && let Some(index) = chain.iter().rposition(|(_, source, pos)| {
                            !hidden(source) && source != ENTRY_SOURCE && !pos.is_none()
                        })
                    {
                        source.clone_from(&chain[index].1);
                        position = chain[index].2;
                        shown_at = Some(index);
                    }
                    // rfab's generated code (the ad-hoc command's task) is no place to show.
                    let gutter = if source == ENTRY_SOURCE {
                        " ".to_owned()
                    } else {
                        self.locate(&mut out, &source, position)
                    };
                    for (index, (what, source, pos)) in chain.iter().enumerate().rev() {
                        if source == ENTRY_SOURCE
                            || pos.is_none()
                            || hidden(source)
                            || shown_at == Some(index)
                        {
                            continue;
                        }
                        let _ = write!(
                            out,
                            "\n{gutter} = {what} at {}",
                            self.location(source, *pos)
                        );
                    }
                    out.push_str(&hint);
                    return out;
                }
            }
        }
    }

    /// Why a function cannot see `name` when its file defines it at the top level: Rhai
    /// functions see no variables but their own; a top-level `const` is `global::NAME`.
    fn top_level_hint(&self, source_id: &str, name: &str) -> String {
        let bare = name.strip_prefix("global::").unwrap_or(name);
        if bare.contains("::") {
            return String::new();
        }
        let (file, text) = self.text(source_id);
        match (top_level_binding(&text, bare), name.starts_with("global::")) {
            (Some(Binding::Const), false) => format!(
                "\nhint: `{bare}` is a constant at the top of {file}, which functions cannot \
                 see by its bare name: write `global::{bare}`, or pass it in"
            ),
            (Some(Binding::Let), _) => format!(
                "\nhint: `{bare}` is a `let` at the top of {file}, which functions cannot see: \
                 make it `const {bare} = ...;` and write `global::{bare}`, or pass it in"
            ),
            _ => String::new(),
        }
    }

    fn location(&self, source_id: &str, pos: Position) -> String {
        let name = self.find(source_id).name;
        match (pos.line(), pos.position()) {
            (Some(line), Some(col)) => format!("{name}:{line}:{col}"),
            (Some(line), None) => format!("{name}:{line}"),
            _ => name,
        }
    }

    /// Appends `--> file:line:col` and the source line with a caret under the column, in
    /// rustc's layout; returns the gutter, for lines that follow.
    fn locate(&self, out: &mut String, source_id: &str, pos: Position) -> String {
        let Some(line_no) = pos.line() else {
            return " ".into();
        };
        let source = self.find(source_id);
        let col = pos.position().unwrap_or(1);
        let gutter = " ".repeat(line_no.to_string().len());
        let _ = write!(out, "\n{gutter}--> {}:{line_no}:{col}", source.name);
        let Some(line) = source
            .text
            .as_deref()
            .and_then(|t| t.lines().nth(line_no - 1))
        else {
            return gutter;
        };
        // Rhai counts columns in chars, a tab being one: keep tabs so the caret lines up.
        let pad: String = line
            .chars()
            .take(col - 1)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let _ = write!(out, "\n{gutter} |\n{line_no} | {line}\n{gutter} | {pad}^");
        gutter
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Binding {
    Const,
    Let,
}

/// How `text` binds `name` outside every function and block, if it does: `const NAME = ...`
/// or `let NAME = ...` at brace depth 0.
fn top_level_binding(text: &str, name: &str) -> Option<Binding> {
    let mut depth = 0_usize;
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        if depth == 0 {
            let trimmed = code.trim_start();
            for (keyword, binding) in [("const ", Binding::Const), ("let ", Binding::Let)] {
                let binds = trimmed.strip_prefix(keyword).is_some_and(|rest| {
                    rest.trim_start()
                        .strip_prefix(name)
                        .is_some_and(|after| after.trim_start().starts_with(['=', ';']))
                });
                if binds {
                    return Some(binding);
                }
            }
        }
        for c in code.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    None
}

/// Whether `source` is one of rfab's embedded stdlib modules, not the user's code.
fn is_stdlib(source: &str) -> bool {
    source.starts_with(stdlib::SOURCE_PREFIX)
}

/// The source name given to the generated code that calls a task; it is not the user's.
pub(crate) const ENTRY_SOURCE: &str = "<rfab>";

/// `fabfile::proxy::flip` → `proxy.flip`.
fn task_like(name: &str) -> String {
    name.strip_prefix(crate::script::task::MODULE_NAME)
        .and_then(|n| n.strip_prefix("::"))
        .unwrap_or(name)
        .replace("::", ".")
}

/// The message of a root error without the position Rhai appends to it.
fn root_message(error: &EvalAltResult) -> String {
    match error {
        EvalAltResult::ErrorRuntime(value, _) if value.is_string() => value.to_string(),
        EvalAltResult::ErrorParsing(kind, _) => format!("syntax error: {kind}"),
        // Only a fabfile's top level has an operation limit (see `engine`).
        EvalAltResult::ErrorTooManyOperations(_) => format!(
            "the fabfile's top level ran more than {} operations (an endless loop?); \
             it runs on every load, even for --list: move long work into a task",
            crate::script::limits::MAX_LOAD_OPERATIONS
        ),
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            let limit = match what.as_str() {
                "Length of string" => {
                    format!("{} MiB", crate::script::limits::MAX_STRING_SIZE >> 20)
                }
                "Size of object map" => format!("{} entries", crate::script::limits::MAX_MAP_SIZE),
                _ => format!("{} items", crate::script::limits::MAX_ARRAY_SIZE),
            };
            format!(
                "{} is over rfab's limit of {limit}; build smaller pieces, or keep big data in files",
                what.to_lowercase()
            )
        }
        other => {
            let text = other.to_string();
            match text.rfind(" (line ") {
                Some(i) if text.ends_with(')') => text[..i].to_owned(),
                _ => text,
            }
        }
    }
}

/// A path as the user would type it: relative to the current directory when under it.
pub(crate) fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd)
        .unwrap_or(path)
        .display()
        .to_string()
}
