//! One Python file to one Rhai file: the top level (docstring, imports, constants, `env`),
//! then each function, as a task with its tags or as a private helper.

use std::collections::{BTreeSet, HashMap, HashSet};

use rustpython_parser::ast::{self, Constant, Expr, Ranged, Stmt};

use crate::port::names::{self, rhai_name};
use crate::port::report::{FileReport, Todo};

/// Why a statement stays a TODO.
#[derive(Clone, Debug)]
pub(crate) struct Unsupported(pub(crate) String);

impl Unsupported {
    pub(crate) fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

/// A function of the file: what Rhai calls it, its task name (when it is a task), and its
/// parameters with their defaults as Rhai literals.
#[derive(Clone, Debug, Default)]
pub(crate) struct FnInfo {
    pub(crate) rhai: String,
    pub(crate) task: Option<String>,
    pub(crate) params: Vec<(String, Option<String>)>,
    /// It takes the block of a `with` as its last argument, `body`.
    pub(crate) context: bool,
}

/// What the file's top level defines and imports.
#[derive(Clone, Debug, Default)]
pub(crate) struct ModuleNames {
    /// Module-level constants, `global::NAME` inside functions.
    pub(crate) constants: HashSet<String>,
    pub(crate) functions: HashMap<String, FnInfo>,
    /// Local modules imported: Python name → Rhai namespace.
    pub(crate) modules: HashMap<String, String>,
    /// Names imported from local modules: Python name → `namespace.name`.
    pub(crate) imported: HashMap<String, String>,
    /// Names imported from Fabric and the standard library: name → dotted path.
    pub(crate) aliases: HashMap<String, String>,
    /// The functions of the local modules already converted, by namespace.
    pub(crate) foreign: HashMap<String, HashMap<String, FnInfo>>,
}

impl ModuleNames {
    pub(crate) fn foreign(&self, namespace: &str, name: &str) -> Option<FnInfo> {
        self.foreign.get(namespace)?.get(name).cloned()
    }
}

/// The variables of the function being converted.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scope {
    pub(crate) locals: HashSet<String>,
    /// Variables holding a command's result: their value as a string is `.stdout`.
    pub(crate) results: HashSet<String>,
}

// Each flag is one fact about the file or the statement being converted.
#[allow(clippy::struct_excessive_bools)]
pub(crate) struct Converter<'s> {
    lines: Vec<&'s str>,
    /// The text the parser read (Python 3 spelling), which node ranges index.
    modern: &'s str,
    line_starts: Vec<usize>,
    pub(crate) module: ModuleNames,
    pub(crate) scope: Scope,
    pub(crate) in_function: bool,
    /// A local module, not the fabfile itself: its helpers are `@helper`, not private.
    pub(crate) is_module: bool,
    /// Some file of the port uses `@task`: then, as in Fabric, only those are tasks.
    pub(crate) new_style: bool,
    /// Whether the file's functions can be tasks: not for a module whose names were
    /// only imported with `from module import name` (Fabric never saw it as a namespace).
    pub(crate) has_tasks: bool,
    pub(crate) report: FileReport,
    pub(crate) out: Vec<String>,
    pub(crate) indent: usize,
    /// How many `with` closures the statement being converted is inside.
    pub(crate) with_depth: usize,
    pub(crate) counter: usize,
    pub(crate) needs_truthy: bool,
    /// The variable of the `except` being converted, for a bare `raise`.
    pub(crate) current_error: Option<String>,
    /// The rfab modules the output imports (`files`, `project`).
    pub(crate) uses: BTreeSet<&'static str>,
}

/// Python's truth test, for `if x:` on values that are not booleans.
const TRUTHY: &str = "\n// Python's truth test: None, False, 0, \"\" and empty lists and maps are false.\nprivate fn truthy(value) {\n    switch type_of(value) {\n        \"()\" => false,\n        \"bool\" => value,\n        \"i64\" | \"f64\" => value != 0,\n        \"string\" | \"array\" | \"map\" | \"blob\" => value.len() > 0,\n        _ => true,\n    }\n}";

impl<'s> Converter<'s> {
    pub(crate) fn new(original: &'s str, parsed_text: &'s str, module: ModuleNames) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(parsed_text.match_indices('\n').map(|(i, _)| i + 1));
        Self {
            lines: original.lines().collect(),
            modern: parsed_text,
            line_starts,
            module,
            scope: Scope::default(),
            in_function: false,
            is_module: false,
            new_style: false,
            has_tasks: true,
            report: FileReport::default(),
            out: Vec::new(),
            indent: 0,
            with_depth: 0,
            counter: 0,
            needs_truthy: false,
            current_error: None,
            uses: BTreeSet::new(),
        }
    }

    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    /// The source text of a node, as the parser read it.
    pub(crate) fn source_text(
        &self,
        range: rustpython_parser::text_size::TextRange,
    ) -> Option<&str> {
        self.modern
            .get(usize::from(range.start())..usize::from(range.end()))
    }

    /// The Python line holding `offset`.
    pub(crate) fn python_line(&self, offset: usize) -> &str {
        self.lines
            .get(self.line_of(offset) - 1)
            .copied()
            .unwrap_or_default()
    }

    pub(crate) fn emit(&mut self, line: impl AsRef<str>) {
        let line = line.as_ref();
        if line.is_empty() {
            self.out.push(String::new());
            return;
        }
        let indent = "    ".repeat(self.indent);
        match wrap_options(line, indent.len()) {
            Some((head, entries, tail)) => {
                self.out.push(format!("{indent}{head}"));
                for entry in entries {
                    self.out.push(format!("{indent}    {entry},"));
                }
                self.out.push(format!("{indent}{tail}"));
            }
            None => self.out.push(format!("{indent}{line}")),
        }
    }

    /// The statement stays as comments, one per Python line, each with its line number.
    pub(crate) fn todo(&mut self, stmt: &Stmt, reason: &Unsupported) {
        let first = self.line_of(usize::from(stmt.range().start()));
        let last = self
            .line_of(usize::from(stmt.range().end()).saturating_sub(1))
            .max(first);
        for line in first..=last {
            let python = self
                .lines
                .get(line - 1)
                .copied()
                .unwrap_or_default()
                .to_owned();
            self.emit(format!("// TODO(port): line {line}: {}", python.trim_end()));
        }
        let python = self
            .lines
            .get(first - 1)
            .copied()
            .unwrap_or_default()
            .trim()
            .to_owned();
        self.report.todos.push(Todo {
            line: first,
            python,
            reason: reason.0.clone(),
        });
        self.report.statements_left += count(std::slice::from_ref(stmt));
    }

    /// Converts the whole file.
    pub(crate) fn file(&mut self, suite: &[Stmt]) {
        self.report.statements = count(suite);
        let mut body = suite;
        if let Some(doc) = docstring(body) {
            for line in doc_lines(&doc) {
                self.emit(if line.is_empty() {
                    "//!".to_owned()
                } else {
                    format!("//! {line}")
                });
            }
            self.emit("");
            body = &body[1..];
        }
        self.collect_functions(body);
        let header = self.out.len();
        for stmt in body {
            let previous_is_import = self.out.last().is_some_and(|l| l.starts_with("import "));
            let is_import = matches!(stmt, Stmt::Import(_) | Stmt::ImportFrom(_));
            let blank_before =
                matches!(stmt, Stmt::FunctionDef(_)) || (previous_is_import && !is_import);
            if blank_before && self.out.last().is_some_and(|l| !l.is_empty()) {
                self.emit("");
            }
            match stmt {
                Stmt::FunctionDef(f) => self.function(stmt, f),
                Stmt::Import(_) | Stmt::ImportFrom(_) => self.import(stmt),
                Stmt::Assign(a) if is_constant(a) => self.constant(stmt, a),
                Stmt::If(i) if is_main_guard(&i.test) => {}
                _ => self.statement(stmt),
            }
        }
        let imports: Vec<String> = self
            .uses
            .iter()
            .map(|m| format!("import \"rfab/{m}\" as {m};"))
            .collect();
        if !imports.is_empty() {
            let at = self.imports_end(header);
            let count = imports.len();
            self.out.splice(at..at, imports);
            if self.out.get(at + count).is_some_and(|l| !l.is_empty()) {
                self.out.insert(at + count, String::new());
            }
        }
        while self.out.last().is_some_and(String::is_empty) {
            self.out.pop();
        }
        if self.needs_truthy {
            self.out.extend(TRUTHY.lines().map(str::to_owned));
        }
    }

    /// Where the rfab imports go: after the file's own imports at the top.
    fn imports_end(&self, header: usize) -> usize {
        let mut at = header;
        while at < self.out.len() && self.out[at].starts_with("import ") {
            at += 1;
        }
        at
    }

    fn collect_functions(&mut self, body: &[Stmt]) {
        let new_style = self.new_style;
        for stmt in body {
            if let Stmt::FunctionDef(f) = stmt {
                let name = f.name.as_str();
                let decorators = self.decorators(f);
                // As in Fabric 1.x: with `@task` anywhere, only those (in the fabfile and the
                // modules it imports as namespaces); without, the fabfile's public functions,
                // and never a module's.
                let is_task = if new_style {
                    decorators.task.is_some() && self.has_tasks
                } else {
                    !self.is_module && !name.starts_with('_')
                };
                let task = is_task.then(|| {
                    decorators
                        .task
                        .clone()
                        .and_then(|t| t.0)
                        .unwrap_or_else(|| name.to_owned())
                });
                let params = f
                    .args
                    .args
                    .iter()
                    .map(|a| {
                        let default = a.default.as_ref().and_then(|d| match d.as_ref() {
                            Expr::Constant(c) => Self::literal(&c.value),
                            _ => None,
                        });
                        (a.def.arg.to_string(), default)
                    })
                    .collect();
                let context = Self::takes_block(f, &decorators);
                let info = FnInfo {
                    rhai: rhai_name(name),
                    task,
                    params,
                    context,
                };
                self.module.functions.insert(name.to_owned(), info);
            }
            if let Stmt::Assign(a) = stmt
                && is_constant(a)
                && let Expr::Name(n) = &a.targets[0]
            {
                self.module.constants.insert(n.id.to_string());
            }
        }
    }

    fn constant(&mut self, stmt: &Stmt, assign: &ast::StmtAssign) {
        let Expr::Name(name) = &assign.targets[0] else {
            return;
        };
        match self.expr(&assign.value) {
            Ok(value) => self.emit(format!("const {} = {value};", name.id)),
            Err(reason) => self.todo(stmt, &reason),
        }
    }

    pub(crate) fn import(&mut self, stmt: &Stmt) {
        let result = match stmt {
            Stmt::Import(i) => i.names.iter().try_for_each(|alias| {
                let name = alias.name.as_str();
                let bound = alias
                    .asname
                    .as_deref()
                    .unwrap_or_else(|| name.split('.').next().unwrap_or(name));
                if let Some(namespace) = self.local_module(name) {
                    self.emit(format!("import \"{namespace}\" as {};", rhai_name(bound)));
                    self.module
                        .modules
                        .insert(bound.to_owned(), rhai_name(bound));
                    Ok(())
                } else if names::known_module(name) {
                    let target = if alias.asname.is_some() { name } else { bound };
                    self.module
                        .aliases
                        .insert(bound.to_owned(), target.to_owned());
                    Ok(())
                } else {
                    Err(Unsupported::new(format!(
                        "the module `{name}` is not a local file"
                    )))
                }
            }),
            Stmt::ImportFrom(i) => {
                let module = i.module.as_deref().unwrap_or_default();
                i.names.iter().try_for_each(|alias| {
                    let name = alias.name.as_str();
                    let bound = alias.asname.as_deref().unwrap_or(name);
                    if let Some(namespace) =
                        self.local_module(format!("{module}.{name}").trim_start_matches('.'))
                    {
                        self.emit(format!("import \"{namespace}\" as {};", rhai_name(bound)));
                        self.module
                            .modules
                            .insert(bound.to_owned(), rhai_name(bound));
                        Ok(())
                    } else if let Some(namespace) = self.local_module(module) {
                        if name == "*" {
                            return Err(Unsupported::new(
                                "`from module import *` of a local module",
                            ));
                        }
                        if !self.module.modules.values().any(|m| *m == namespace) {
                            self.emit(format!("import \"{namespace}\" as {namespace};"));
                            self.module
                                .modules
                                .insert(format!("@{namespace}"), namespace.clone());
                        }
                        self.module
                            .imported
                            .insert(bound.to_owned(), format!("{namespace}.{name}"));
                        Ok(())
                    } else if names::known_module(module) {
                        if name != "*" {
                            self.module
                                .aliases
                                .insert(bound.to_owned(), format!("{module}.{name}"));
                        }
                        Ok(())
                    } else {
                        Err(Unsupported::new(format!(
                            "the module `{module}` is not a local file"
                        )))
                    }
                })
            }
            _ => Ok(()),
        };
        if let Err(reason) = result {
            self.todo(stmt, &reason);
        }
    }

    /// The Rhai namespace of a local module (`helpers`, `fabfile.db` → `db`), if the port
    /// converts it.
    fn local_module(&self, dotted: &str) -> Option<String> {
        let last = dotted.rsplit('.').next()?;
        self.module
            .foreign
            .contains_key(last)
            .then(|| last.to_owned())
    }
}

/// Python statements, each compound one and each inside it counted once.
pub(crate) fn count(body: &[Stmt]) -> usize {
    body.iter()
        .map(|stmt| {
            1 + match stmt {
                Stmt::FunctionDef(f) => count(&f.body),
                Stmt::ClassDef(c) => count(&c.body),
                Stmt::If(i) => count(&i.body) + count(&i.orelse),
                Stmt::For(f) => count(&f.body) + count(&f.orelse),
                Stmt::While(w) => count(&w.body) + count(&w.orelse),
                Stmt::With(w) => count(&w.body),
                Stmt::Try(t) => {
                    count(&t.body)
                        + count(&t.orelse)
                        + count(&t.finalbody)
                        + t.handlers
                            .iter()
                            .map(|h| {
                                let ast::ExceptHandler::ExceptHandler(h) = h;
                                count(&h.body)
                            })
                            .sum::<usize>()
                }
                _ => 0,
            }
        })
        .sum()
}

pub(crate) fn docstring(body: &[Stmt]) -> Option<String> {
    match body.first() {
        Some(Stmt::Expr(e)) => match e.value.as_ref() {
            Expr::Constant(ast::ExprConstant {
                value: Constant::Str(s),
                ..
            }) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// A docstring's lines, dedented as `inspect.cleandoc` does, without blank ends.
pub(crate) fn doc_lines(doc: &str) -> Vec<String> {
    let lines: Vec<&str> = doc.lines().collect();
    let indent = lines
        .iter()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.trim().to_owned()
            } else {
                l.get(indent..).unwrap_or("").trim_end().to_owned()
            }
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

/// `NAME = literal` at the top level: a module constant.
fn is_constant(assign: &ast::StmtAssign) -> bool {
    assign.targets.len() == 1 && matches!(&assign.targets[0], Expr::Name(_))
}

fn is_main_guard(test: &Expr) -> bool {
    matches!(test, Expr::Compare(c) if matches!(c.left.as_ref(), Expr::Name(n) if n.id.as_str() == "__name__"))
}

/// A call too long for one line whose last argument is an option map is written with one
/// option per line, as a person would: `f(a, #{` / `    key: value,` / `});`.
fn wrap_options(line: &str, indent: usize) -> Option<(String, Vec<String>, String)> {
    const WIDTH: usize = 100;
    if indent + line.len() <= WIDTH || !line.ends_with(" });") {
        return None;
    }
    let open = line.rfind(", #{ ")?;
    let inner = &line[open + 5..line.len() - 4];
    // Template strings may nest; a comma inside one must never become a line break.
    if inner.contains('`') {
        return None;
    }
    let entries = split_top_level(inner)?;
    if entries.len() < 2 || depth_after(&line[..open]) != Some(1) {
        return None;
    }
    Some((format!("{}, #{{", &line[..open]), entries, "});".to_owned()))
}

/// How deep in brackets the end of `text` is; `None` inside a string.
fn depth_after(text: &str) -> Option<i32> {
    let mut depth = 0;
    let mut quote = None;
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match (quote, c) {
            (Some('"'), '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '`') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth -= 1,
            _ => {}
        }
    }
    quote.is_none().then_some(depth)
}

/// `a: 1, b: #{ c: 2 }` → `["a: 1", "b: #{ c: 2 }"]`; `None` if brackets do not balance.
fn split_top_level(text: &str) -> Option<Vec<String>> {
    let mut entries = Vec::new();
    let mut start = 0;
    for (index, _) in text.match_indices(',') {
        if depth_after(&text[start..index]) == Some(0) {
            entries.push(text[start..index].trim().to_owned());
            start = index + 1;
        }
    }
    if depth_after(&text[start..]) != Some(0) {
        return None;
    }
    entries.push(text[start..].trim().to_owned());
    Some(entries)
}
