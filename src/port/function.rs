//! Functions: a task with its doc comment and tags (Fabric's decorators), or a helper;
//! a helper returning a context manager, or a `@contextmanager`, takes the block as a closure.

use std::collections::HashSet;

use rustpython_parser::ast::{self, Constant, Expr, Stmt};

use crate::port::convert::{Converter, Scope, Unsupported, doc_lines, docstring};
use crate::port::names::rhai_name;

/// `@task`, and the name `@task(name=...)` gives the task.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TaskName(pub(crate) Option<String>);

/// Fabric's decorators on one function, as rfab's tags.
#[derive(Clone, Debug, Default)]
pub(crate) struct Decorators {
    /// `@task` (`Some(None)`), `@task(name=...)` (`Some(Some(name))`).
    pub(crate) task: Option<TaskName>,
    pub(crate) tags: Vec<String>,
    /// `@with_settings(...)`: the block runs inside these settings.
    pub(crate) settings: Option<ast::ExprCall>,
    pub(crate) context_manager: bool,
    pub(crate) unsupported: Vec<String>,
}

pub(crate) const CONTEXT_MANAGERS: &[&str] = &[
    "cd",
    "lcd",
    "prefix",
    "settings",
    "hide",
    "show",
    "quiet",
    "shell_env",
    "warn_only",
    "path",
];

impl Converter<'_> {
    /// Whether the function takes the block of a `with` as its last argument: a
    /// `@contextmanager`, or one returning Fabric's context managers.
    pub(crate) fn takes_block(f: &ast::StmtFunctionDef, decorators: &Decorators) -> bool {
        takes_block(f, decorators, |n| CONTEXT_MANAGERS.contains(&n))
    }

    pub(crate) fn decorators(&self, f: &ast::StmtFunctionDef) -> Decorators {
        let mut out = Decorators::default();
        for decorator in &f.decorator_list {
            let (func, call) = match decorator {
                Expr::Call(c) => (c.func.as_ref(), Some(c)),
                other => (other, None),
            };
            let name = self.dotted(func).unwrap_or_default();
            let strings = |c: &ast::ExprCall| -> Option<Vec<String>> {
                c.args
                    .iter()
                    .map(|a| match a {
                        Expr::Constant(ast::ExprConstant {
                            value: Constant::Str(s),
                            ..
                        }) => Some(vec![s.clone()]),
                        Expr::List(l) => l
                            .elts
                            .iter()
                            .map(|e| match e {
                                Expr::Constant(ast::ExprConstant {
                                    value: Constant::Str(s),
                                    ..
                                }) => Some(s.clone()),
                                _ => None,
                            })
                            .collect(),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()
                    .map(|v| v.concat())
            };
            match (name.as_str(), call) {
                ("task", None) => out.task = Some(TaskName(None)),
                ("task", Some(c)) if c.args.is_empty() => {
                    let mut task_name = None;
                    for keyword in &c.keywords {
                        match (keyword.arg.as_deref(), &keyword.value) {
                            (
                                Some("name"),
                                Expr::Constant(ast::ExprConstant {
                                    value: Constant::Str(s),
                                    ..
                                }),
                            ) => task_name = Some(s.clone()),
                            (Some("default"), _) => out
                                .unsupported
                                .push("`@task(default=True)`: rfab has no default task".into()),
                            _ => out
                                .unsupported
                                .push("`@task` with arguments other than `name`".into()),
                        }
                    }
                    out.task = Some(TaskName(task_name));
                }
                ("hosts" | "roles", Some(c)) => match strings(c) {
                    Some(values) if !values.is_empty() => {
                        out.tags.push(format!("@{name}({})", values.join(", ")));
                    }
                    _ => out
                        .unsupported
                        .push(format!("`@{name}` with names that are not string literals")),
                },
                ("runs_once" | "serial", None) => out.tags.push(format!("@{name}")),
                ("parallel", None) => out.tags.push("@parallel".into()),
                ("parallel", Some(c)) => match c
                    .keywords
                    .iter()
                    .find(|k| k.arg.as_deref() == Some("pool_size"))
                {
                    Some(k) => match &k.value {
                        Expr::Constant(ast::ExprConstant {
                            value: Constant::Int(n),
                            ..
                        }) => out.tags.push(format!("@parallel(pool = {n})")),
                        _ => out.unsupported.push(
                            "`@parallel(pool_size=...)` with a size that is not a number".into(),
                        ),
                    },
                    None => out.tags.push("@parallel".into()),
                },
                ("with_settings", Some(c)) => out.settings = Some(c.clone()),
                ("contextlib.contextmanager" | "contextmanager", None) => {
                    out.context_manager = true;
                }
                _ => out.unsupported.push(format!(
                    "the decorator `@{}`",
                    if name.is_empty() { "..." } else { &name }
                )),
            }
        }
        out
    }

    // The parts of a task in the order they are written: tags, signature, body.
    #[allow(clippy::too_many_lines)]
    pub(crate) fn function(&mut self, stmt: &Stmt, f: &ast::StmtFunctionDef) {
        let info = self
            .module
            .functions
            .get(f.name.as_str())
            .cloned()
            .unwrap_or_default();
        let decorators = self.decorators(f);
        if f.args.vararg.is_some()
            || f.args.kwarg.is_some()
            || !f.args.kwonlyargs.is_empty()
            || !f.args.posonlyargs.is_empty()
        {
            self.todo(
                stmt,
                &Unsupported::new("`*args`, `**kwargs` or keyword-only parameters"),
            );
            return;
        }
        let mut body: &[Stmt] = &f.body;
        let mut docs = Vec::new();
        if let Some(doc) = docstring(body) {
            docs = doc_lines(&doc);
            body = &body[1..];
        }
        let takes_block =
            decorators.context_manager || returns_context(body, |n| self.is_context(n));
        let mut tags = Vec::new();
        if let Some(task) = &info.task {
            if decorators.task.is_some() {
                tags.push("@task".to_owned());
            }
            if *task != info.rhai {
                tags.push(format!("@name({task})"));
            }
            tags.extend(decorators.tags.iter().cloned());
            // `@defaults` fills trailing parameters: only those after the last default it
            // cannot hold.
            let after = info
                .params
                .iter()
                .zip(&f.args.args)
                .rposition(|((_, d), a)| {
                    a.default.is_some() && !d.as_deref().is_some_and(is_tag_literal)
                })
                .map_or(0, |i| i + 1);
            let defaults: Vec<String> = info
                .params
                .iter()
                .skip(after)
                .filter_map(|(p, d)| {
                    d.as_ref()
                        .filter(|d| is_tag_literal(d))
                        .map(|d| format!("{} = {d}", rhai_name(p)))
                })
                .collect();
            if !defaults.is_empty() {
                tags.push(format!("@defaults({})", defaults.join(", ")));
            }
        } else if self.is_module && !f.name.starts_with('_') {
            tags.push("@helper".to_owned());
        }
        // `@defaults` takes strings, whole numbers and booleans; `None` and other values
        // stay for a person, as does any default that is not a literal.
        let missing_default = info.params.iter().zip(&f.args.args).any(|((_, d), a)| {
            a.default.is_some()
                && (d.is_none()
                    || (info.task.is_some() && !d.as_deref().is_some_and(is_tag_literal)))
        });
        let line = self.line_of(usize::from(
            rustpython_parser::ast::Ranged::range(stmt).start(),
        ));
        for reason in &decorators.unsupported {
            self.emit(format!("// TODO(port): line {line}: {reason}"));
            self.report.todos.push(crate::port::report::Todo {
                line,
                python: format!("def {}", f.name),
                reason: reason.clone(),
            });
        }
        if missing_default {
            self.emit(format!(
                "// TODO(port): line {line}: a default value `@defaults` cannot hold (a string, a whole number, true or false)"
            ));
            self.report.todos.push(crate::port::report::Todo {
                line,
                python: format!("def {}", f.name),
                reason: "a default value `@defaults` cannot hold (a string, a whole number, true or false)".into(),
            });
        }
        if takes_block && docs.is_empty() {
            self.emit(format!(
                "// Fabric's `with {}():` is a function taking the block.",
                f.name
            ));
        }
        for doc in docs.iter().chain(&tags) {
            self.emit(if doc.is_empty() {
                "///".to_owned()
            } else {
                format!("/// {doc}")
            });
        }
        let mut params: Vec<String> = info.params.iter().map(|(p, _)| rhai_name(p)).collect();
        if takes_block {
            params.push("body".into());
        }
        let private = info.task.is_none() && !self.is_module && !f.name.starts_with('_');
        self.emit(format!(
            "{}fn {}({}) {{",
            if private { "private " } else { "" },
            info.rhai,
            params.join(", ")
        ));
        if let Some(task) = &info.task {
            self.report.tasks.push(task.clone());
        }
        let saved = std::mem::take(&mut self.scope);
        self.scope = Scope {
            locals: info.params.iter().map(|(p, _)| p.clone()).collect(),
            results: HashSet::default(),
        };
        if takes_block {
            self.scope.locals.insert("body".into());
        }
        self.in_function = true;
        self.indent += 1;
        self.hoist(body);
        if takes_block && !decorators.context_manager {
            self.context_return(body);
        } else if let Some(settings) = &decorators.settings {
            let with = ast::StmtWith {
                range: f.range,
                items: vec![ast::WithItem {
                    range: ast::OptionalRange::default(),
                    context_expr: Expr::Call(settings.clone()),
                    optional_vars: None,
                }],
                body: body.to_vec(),
                type_comment: None,
            };
            self.statement(&Stmt::With(with));
            self.report.statements -= 1;
        } else {
            self.block(body);
        }
        self.indent -= 1;
        self.in_function = false;
        self.scope = saved;
        self.emit("}");
        self.emit("");
    }

    /// A helper whose body returns a context manager takes the block and passes it on:
    /// `return prefix(...)` → `prefix(..., body)`.
    fn context_return(&mut self, body: &[Stmt]) {
        for stmt in body {
            if let Stmt::Return(ast::StmtReturn {
                value: Some(value), ..
            }) = stmt
            {
                match self.context_heads(value) {
                    Ok(heads) => {
                        let mut line = String::new();
                        for head in &heads[..heads.len() - 1] {
                            line.push_str(head);
                            line.push_str("|| ");
                        }
                        line.push_str(&heads[heads.len() - 1]);
                        line.push_str("body");
                        line.push_str(&")".repeat(heads.len()));
                        self.emit(line);
                    }
                    Err(reason) => self.todo(stmt, &reason),
                }
            } else {
                self.statement(stmt);
            }
        }
    }

    pub(crate) fn is_context(&self, name: &str) -> bool {
        CONTEXT_MANAGERS.contains(&name)
            || self.module.functions.get(name).is_some_and(|f| f.context)
    }

    /// Local variables first assigned inside a block are declared at the top of the
    /// function, as Python's scope is the whole function and Rhai's the block.
    fn hoist(&mut self, body: &[Stmt]) {
        let mut seen = Vec::new();
        assigned(body, 0, &mut seen);
        for (name, depth) in seen {
            if depth > 0 && !self.scope.locals.contains(&name) {
                self.emit(format!("let {} = ();", rhai_name(&name)));
                self.scope.locals.insert(name);
            }
        }
    }
}

/// Names assigned in `body`, in order, with how deep in blocks each first is.
fn assigned(body: &[Stmt], depth: usize, out: &mut Vec<(String, usize)>) {
    let add = |name: &str, depth: usize, out: &mut Vec<(String, usize)>| {
        if !out.iter().any(|(n, _)| n == name) {
            out.push((name.to_owned(), depth));
        }
    };
    for stmt in body {
        match stmt {
            Stmt::Assign(a) => {
                for target in &a.targets {
                    let names: Vec<&Expr> = match target {
                        Expr::Tuple(t) => t.elts.iter().collect(),
                        other => vec![other],
                    };
                    for name in names {
                        if let Expr::Name(n) = name {
                            add(n.id.as_str(), depth, out);
                        }
                    }
                }
            }
            Stmt::AugAssign(a) => {
                if let Expr::Name(n) = a.target.as_ref() {
                    add(n.id.as_str(), depth, out);
                }
            }
            Stmt::If(i) => {
                assigned(&i.body, depth + 1, out);
                assigned(&i.orelse, depth + 1, out);
            }
            Stmt::For(f) => assigned(&f.body, depth + 1, out),
            Stmt::While(w) => assigned(&w.body, depth + 1, out),
            Stmt::With(w) => assigned(&w.body, depth + 1, out),
            Stmt::Try(t) => {
                assigned(&t.body, depth + 1, out);
                for handler in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = handler;
                    assigned(&h.body, depth + 1, out);
                }
                assigned(&t.orelse, depth + 1, out);
                assigned(&t.finalbody, depth + 1, out);
            }
            _ => {}
        }
    }
}

/// Whether the body is `return <context manager>(...)`, after any statements.
fn returns_context(body: &[Stmt], is_context: impl Fn(&str) -> bool) -> bool {
    match body.last() {
        Some(Stmt::Return(ast::StmtReturn {
            value: Some(value), ..
        })) => match value.as_ref() {
            Expr::Call(c) => match c.func.as_ref() {
                Expr::Name(n) => is_context(n.id.as_str()),
                _ => false,
            },
            _ => false,
        },
        _ => false,
    }
}

pub(crate) fn takes_block(
    f: &ast::StmtFunctionDef,
    decorators: &Decorators,
    is_context: impl Fn(&str) -> bool,
) -> bool {
    let mut body: &[Stmt] = &f.body;
    if docstring(body).is_some() {
        body = &body[1..];
    }
    decorators.context_manager || returns_context(body, is_context)
}

/// Whether a converted default is a value `@defaults(...)` reads back as written.
fn is_tag_literal(value: &str) -> bool {
    let string = value.len() >= 2
        && value.starts_with('"')
        && value.ends_with('"')
        && !value[1..value.len() - 1].contains(['"', '\\']);
    string || value == "true" || value == "false" || value.parse::<i64>().is_ok()
}
