//! Statements: assignments, `if`/`for`/`while`, `try` (Rhai's `try`/`catch`), `return`,
//! and `with` blocks, which are closures in rfab.
//!
//! A `return` inside a `with` would only leave the closure in Rhai, so the closure returns
//! a marker map instead and the code after the `with` returns from the function with it.

use rustpython_parser::ast::{self, Constant, Expr, Operator, Stmt};

use crate::port::convert::{Converter, Unsupported};
use crate::port::expression::{map_key, paren, property};
use crate::port::names::rhai_name;
use crate::port::template;

/// The key of the map a closure returns to say "the function returns this".
const RETURN_MARKER: &str = "port_return";

impl Converter<'_> {
    pub(crate) fn block(&mut self, body: &[Stmt]) {
        for stmt in body {
            self.statement(stmt);
        }
    }

    /// Converts one statement, or leaves it as TODO comments with nothing half-written.
    pub(crate) fn statement(&mut self, stmt: &Stmt) {
        let mark = (
            self.out.len(),
            self.report.todos.len(),
            self.report.statements_left,
            self.indent,
        );
        if let Err(reason) = self.try_statement(stmt) {
            self.out.truncate(mark.0);
            self.report.todos.truncate(mark.1);
            self.report.statements_left = mark.2;
            self.indent = mark.3;
            self.todo(stmt, &reason);
        }
    }

    // One arm per kind of statement: a table, read top to bottom.
    #[allow(clippy::too_many_lines)]
    fn try_statement(&mut self, stmt: &Stmt) -> Result<(), Unsupported> {
        match stmt {
            Stmt::Expr(e) => self.expression_statement(&e.value),
            Stmt::Assign(a) => self.assign(a),
            Stmt::AugAssign(a) => {
                let op = match a.op {
                    Operator::Add => "+=",
                    Operator::Sub => "-=",
                    Operator::Mult => "*=",
                    Operator::Div => "/=",
                    _ => return Err(Unsupported::new("this augmented assignment")),
                };
                let target = self.target(&a.target)?;
                let value = self.expr(&a.value)?;
                self.emit(format!("{target} {op} {value};"));
                Ok(())
            }
            Stmt::If(i) => self.if_statement(i, false),
            Stmt::For(f) => self.for_statement(f),
            Stmt::While(w) => {
                if !w.orelse.is_empty() {
                    return Err(Unsupported::new("`while ... else`"));
                }
                let condition = self.condition(&w.test)?;
                self.emit(format!("while {condition} {{"));
                self.nested(&w.body);
                self.emit("}");
                Ok(())
            }
            Stmt::With(w) => self.with_statement(w),
            Stmt::Try(t) => self.try_block(t),
            Stmt::Return(r) => {
                let value = match &r.value {
                    Some(v) => Some(self.expr(v)?),
                    None => None,
                };
                if self.with_depth > 0 {
                    self.emit(format!(
                        "return #{{ {RETURN_MARKER}: {} }};",
                        value.unwrap_or_else(|| "()".into())
                    ));
                } else {
                    match value {
                        Some(v) => self.emit(format!("return {v};")),
                        None => self.emit("return;"),
                    }
                }
                Ok(())
            }
            Stmt::Raise(r) => {
                let value = match &r.exc {
                    None => self
                        .current_error
                        .clone()
                        .ok_or_else(|| Unsupported::new("a bare `raise` outside `except`"))?,
                    Some(exc) => match exc.as_ref() {
                        Expr::Call(c) if c.args.len() == 1 && c.keywords.is_empty() => {
                            self.expr(&c.args[0])?
                        }
                        Expr::Call(c) if c.args.is_empty() => {
                            template::literal(&self.dotted(&c.func).unwrap_or_default())
                        }
                        other => self.expr(other)?,
                    },
                };
                self.emit(format!("throw {value};"));
                Ok(())
            }
            Stmt::Assert(a) => {
                let condition = self.condition(&a.test)?;
                let message = match &a.msg {
                    Some(m) => self.expr(m)?,
                    None => template::literal("assertion failed"),
                };
                self.emit(format!("if !({condition}) {{ throw {message}; }}"));
                Ok(())
            }
            Stmt::Pass(_) => Ok(()),
            Stmt::Break(_) => {
                self.emit("break;");
                Ok(())
            }
            Stmt::Continue(_) => {
                self.emit("continue;");
                Ok(())
            }
            Stmt::Import(_) | Stmt::ImportFrom(_) => {
                let todos = self.report.todos.len();
                self.import_statement(stmt);
                if self.report.todos.len() > todos {
                    let todo = self
                        .report
                        .todos
                        .pop()
                        .map(|t| t.reason)
                        .unwrap_or_default();
                    self.report.statements_left -= 1;
                    return Err(Unsupported::new(todo));
                }
                Ok(())
            }
            Stmt::FunctionDef(_) => Err(Unsupported::new("a function inside a function")),
            Stmt::ClassDef(_) => Err(Unsupported::new("a class")),
            Stmt::Global(_) => Err(Unsupported::new(
                "`global`: module constants cannot change in Rhai",
            )),
            _ => Err(Unsupported::new("this statement")),
        }
    }

    fn expression_statement(&mut self, value: &Expr) -> Result<(), Unsupported> {
        match value {
            Expr::Constant(ast::ExprConstant {
                value: Constant::Str(text),
                ..
            }) => {
                for line in text.trim().lines() {
                    self.emit(format!("// {}", line.trim()));
                }
            }
            Expr::Yield(y) if y.value.is_none() && self.scope.locals.contains("body") => {
                self.emit("body.call();");
            }
            Expr::Call(c) => {
                let call = self.call_statement(c)?;
                self.emit(format!("{call};"));
            }
            other => {
                let value = self.expr(other)?;
                self.emit(format!("{value};"));
            }
        }
        Ok(())
    }

    fn assign(&mut self, a: &ast::StmtAssign) -> Result<(), Unsupported> {
        let [target] = a.targets.as_slice() else {
            return Err(Unsupported::new("`a = b = value`"));
        };
        if let (Expr::Tuple(targets), Expr::Tuple(values)) = (target, a.value.as_ref()) {
            if targets.elts.len() != values.elts.len() {
                return Err(Unsupported::new("unpacking"));
            }
            let values = values
                .elts
                .iter()
                .map(|v| self.expr(v))
                .collect::<Result<Vec<_>, _>>()?;
            for (target, value) in targets.elts.iter().zip(values) {
                self.assign_one(target, value, false)?;
            }
            return Ok(());
        }
        if let Expr::Tuple(targets) = target {
            // `a, b = f()`: the value is a list in Rhai; each name takes its item.
            let value = self.expr(&a.value)?;
            if !targets.elts.iter().all(|t| matches!(t, Expr::Name(_))) {
                return Err(Unsupported::new(
                    "unpacking into something other than names",
                ));
            }
            self.counter += 1;
            let items = format!("items{}", self.counter);
            self.emit(format!("let {items} = {value};"));
            for (index, target) in targets.elts.iter().enumerate() {
                self.assign_one(target, format!("{items}[{index}]"), false)?;
            }
            return Ok(());
        }
        let (value, result) = match a.value.as_ref() {
            Expr::Call(c) if self.is_command(c) => (self.call_statement(c)?, true),
            other => (self.expr(other)?, false),
        };
        self.assign_one(target, value, result)
    }

    fn assign_one(
        &mut self,
        target: &Expr,
        value: String,
        result: bool,
    ) -> Result<(), Unsupported> {
        if let Expr::Name(n) = target {
            let id = n.id.to_string();
            if !self.in_function {
                self.emit(format!("let {} = {value};", rhai_name(&id)));
                return Ok(());
            }
            if !self.scope.locals.contains(&id) && self.module.constants.contains(&id) {
                return Err(Unsupported::new(
                    "assigning a module constant inside a function",
                ));
            }
            let declared = self.scope.locals.contains(&id);
            self.scope.results.remove(&id);
            if declared {
                self.emit(format!("{} = {value};", rhai_name(&id)));
            } else {
                self.emit(format!("let {} = {value};", rhai_name(&id)));
                self.scope.locals.insert(id.clone());
            }
            if result {
                self.scope.results.insert(id);
            }
            return Ok(());
        }
        let target = self.target(target)?;
        self.emit(format!("{target} = {value};"));
        Ok(())
    }

    /// An assignment's target other than a plain name: `env.x`, `d['k']`.
    fn target(&mut self, target: &Expr) -> Result<String, Unsupported> {
        match target {
            Expr::Name(n) if self.scope.locals.contains(n.id.as_str()) || !self.in_function => {
                Ok(rhai_name(n.id.as_str()))
            }
            Expr::Name(_) => Err(Unsupported::new(
                "assigning a name that is not a local variable",
            )),
            Expr::Attribute(a) => Ok(format!(
                "{}{}",
                paren(&a.value, self.expr(&a.value)?),
                property(a.attr.as_str())
            )),
            Expr::Subscript(s) if !matches!(s.slice.as_ref(), Expr::Slice(_)) => Ok(format!(
                "{}[{}]",
                paren(&s.value, self.expr(&s.value)?),
                self.expr(&s.slice)?
            )),
            _ => Err(Unsupported::new("this assignment target")),
        }
    }

    fn nested(&mut self, body: &[Stmt]) {
        self.indent += 1;
        self.block(body);
        self.indent -= 1;
    }

    fn if_statement(&mut self, i: &ast::StmtIf, is_elif: bool) -> Result<(), Unsupported> {
        let condition = self.condition(&i.test)?;
        if is_elif {
            let last = self.out.pop().unwrap_or_default();
            self.out
                .push(format!("{} else if {condition} {{", last.trim_end()));
        } else {
            self.emit(format!("if {condition} {{"));
        }
        self.nested(&i.body);
        self.emit("}");
        match i.orelse.as_slice() {
            [] => {}
            [Stmt::If(elif)] if self.elif_line(elif) => {
                let mark = (
                    self.out.len(),
                    self.report.todos.len(),
                    self.report.statements_left,
                );
                if let Err(reason) = self.if_statement(elif, true) {
                    self.out.truncate(mark.0);
                    self.report.todos.truncate(mark.1);
                    self.report.statements_left = mark.2;
                    return Err(reason);
                }
            }
            orelse => {
                let last = self.out.pop().unwrap_or_default();
                self.out.push(format!("{} else {{", last.trim_end()));
                self.nested(orelse);
                self.emit("}");
            }
        }
        Ok(())
    }

    /// Whether an `if` in an `else` block is an `elif` (and not `else:` then `if`).
    fn elif_line(&self, elif: &ast::StmtIf) -> bool {
        self.python_line(usize::from(elif.range.start()))
            .trim_start()
            .starts_with("elif")
    }

    fn for_statement(&mut self, for_: &ast::StmtFor) -> Result<(), Unsupported> {
        if !for_.orelse.is_empty() {
            return Err(Unsupported::new("`for ... else`"));
        }
        let saved = self.scope.clone();
        let mut prologue = None;
        let header = match (for_.target.as_ref(), for_.iter.as_ref()) {
            (Expr::Name(n), iter) => {
                let iterable = self.iterable(iter)?;
                self.scope.locals.insert(n.id.to_string());
                self.scope.results.remove(n.id.as_str());
                format!("for {} in {iterable}", rhai_name(n.id.as_str()))
            }
            (Expr::Tuple(pair), Expr::Call(call)) if pair.elts.len() == 2 => {
                let (Expr::Name(first), Expr::Name(second)) = (&pair.elts[0], &pair.elts[1]) else {
                    return Err(Unsupported::new("unpacking in `for`"));
                };
                let (key, value) = (first.id.to_string(), second.id.to_string());
                let header = match (self.dotted(&call.func).as_deref(), call.func.as_ref()) {
                    (Some("enumerate"), _) if call.args.len() == 1 => {
                        format!(
                            "for ({}, {}) in {}",
                            rhai_name(&value),
                            rhai_name(&key),
                            paren(&call.args[0], self.expr(&call.args[0])?)
                        )
                    }
                    (_, Expr::Attribute(method))
                        if matches!(method.attr.as_str(), "items" | "iteritems")
                            && call.args.is_empty() =>
                    {
                        let map = paren(&method.value, self.expr(&method.value)?);
                        prologue = Some(format!(
                            "let {} = {map}[{}];",
                            rhai_name(&value),
                            rhai_name(&key)
                        ));
                        format!("for {} in {map}.keys()", rhai_name(&key))
                    }
                    _ => return Err(Unsupported::new("unpacking in `for`")),
                };
                self.scope.locals.insert(key);
                self.scope.locals.insert(value);
                header
            }
            _ => return Err(Unsupported::new("unpacking in `for`")),
        };
        self.emit(format!("{header} {{"));
        if let Some(prologue) = prologue {
            self.indent += 1;
            self.emit(prologue);
            self.indent -= 1;
        }
        self.nested(&for_.body);
        self.emit("}");
        let locals = self.scope.locals.clone();
        self.scope = saved;
        self.scope.locals.extend(locals);
        Ok(())
    }

    fn iterable(&mut self, iter: &Expr) -> Result<String, Unsupported> {
        if let Expr::Call(c) = iter
            && self.dotted(&c.func).as_deref() == Some("range")
        {
            let args = c
                .args
                .iter()
                .map(|a| self.expr(a))
                .collect::<Result<Vec<_>, _>>()?;
            return match args.as_slice() {
                [n] => Ok(format!("0..{n}")),
                [a, b] => Ok(format!("{a}..{b}")),
                [a, b, s] => Ok(format!("range({a}, {b}, {s})")),
                _ => Err(Unsupported::new("this `range`")),
            };
        }
        let converted = self.expr(iter)?;
        Ok(paren(iter, converted))
    }

    /// `with a(...), b(...):` → `a(..., || { b(..., || { ... }) });`.
    fn with_statement(&mut self, w: &ast::StmtWith) -> Result<(), Unsupported> {
        let mut heads = Vec::new();
        for item in &w.items {
            if item.optional_vars.is_some() {
                return Err(Unsupported::new("`with ... as`"));
            }
            heads.extend(self.context_heads(&item.context_expr)?);
        }
        if leaves_loop(&w.body) {
            return Err(Unsupported::new(
                "`break` or `continue` inside `with`: a closure cannot leave the loop",
            ));
        }
        let returns = has_return(&w.body);
        let result = returns.then(|| {
            self.counter += 1;
            format!("returned{}", self.counter)
        });
        for (index, head) in heads.iter().enumerate() {
            let opening = if index == 0 {
                match &result {
                    Some(var) => format!("let {var} = {head}|| {{"),
                    None => format!("{head}|| {{"),
                }
            } else {
                format!("{head}|| {{")
            };
            self.emit(opening);
            self.indent += 1;
        }
        self.with_depth += 1;
        self.block(&w.body);
        self.with_depth -= 1;
        for index in (0..heads.len()).rev() {
            self.indent -= 1;
            self.emit(if index == 0 { "});" } else { "})" });
        }
        if let Some(var) = result {
            let value = if self.with_depth == 0 {
                format!("{var}.{RETURN_MARKER}")
            } else {
                var.clone()
            };
            self.emit(format!(
                "if type_of({var}) == \"map\" && {var}.contains(\"{RETURN_MARKER}\") {{ return {value}; }}"
            ));
        }
        Ok(())
    }

    /// The calls that open a context manager's closure: `cd("/srv", ` (the closure and
    /// `)` follow).
    pub(crate) fn context_heads(&mut self, expr: &Expr) -> Result<Vec<String>, Unsupported> {
        let Expr::Call(call) = expr else {
            return Err(Unsupported::new("this context manager"));
        };
        let name = self.dotted(&call.func).unwrap_or_default();
        let keywords_map =
            |this: &mut Self, keywords: &[ast::Keyword]| -> Result<String, Unsupported> {
                let mut entries = Vec::new();
                for keyword in keywords {
                    let key = keyword
                        .arg
                        .as_deref()
                        .ok_or_else(|| Unsupported::new("`**kwargs` in a call"))?;
                    entries.push(format!("{}: {}", map_key(key), this.expr(&keyword.value)?));
                }
                Ok(format!("#{{ {} }}", entries.join(", ")))
            };
        Ok(match name.as_str() {
            "cd" | "lcd" | "prefix" => vec![format!("{name}({}, ", self.arg(call, 0, "path")?)],
            "path" => vec![format!(
                "settings(#{{ path: {} }}, ",
                self.arg(call, 0, "path")?
            )],
            "hide" | "show" => {
                let mut levels = Vec::new();
                for arg in &call.args {
                    match arg {
                        Expr::Constant(ast::ExprConstant {
                            value: Constant::Str(s),
                            ..
                        }) => levels.push(s.clone()),
                        _ => {
                            return Err(Unsupported::new(format!(
                                "`{name}` with levels that are not literals"
                            )));
                        }
                    }
                }
                vec![format!("{name}({}, ", template::literal(&levels.join(",")))]
            }
            "quiet" => vec!["quiet(".into()],
            "warn_only" => vec!["settings(#{ warn_only: true }, ".into()],
            "shell_env" => vec![format!(
                "shell_env({}, ",
                keywords_map(self, &call.keywords)?
            )],
            "settings" => {
                let mut heads = Vec::new();
                for manager in &call.args {
                    heads.extend(self.context_heads(manager)?);
                }
                if !call.keywords.is_empty() {
                    heads.push(format!(
                        "settings({}, ",
                        keywords_map(self, &call.keywords)?
                    ));
                }
                heads
            }
            _ => match self.context_function(&call.func) {
                Some((path, info)) => {
                    let mut args = Vec::new();
                    for (index, (param, default)) in info.params.iter().enumerate() {
                        let value = match call.args.get(index) {
                            Some(a) => self.expr(a)?,
                            None => match call
                                .keywords
                                .iter()
                                .find(|k| k.arg.as_deref() == Some(param.as_str()))
                            {
                                Some(k) => self.expr(&k.value)?,
                                None => default.clone().ok_or_else(|| {
                                    Unsupported::new(format!("no value for `{param}`"))
                                })?,
                            },
                        };
                        args.push(format!("{value}, "));
                    }
                    vec![format!("{path}({}", args.concat())]
                }
                _ => {
                    return Err(Unsupported::new(format!(
                        "the context manager `{}`",
                        if name.is_empty() { "..." } else { &name }
                    )));
                }
            },
        })
    }

    /// A function of this file or a local module that takes a `with` block, and how to
    /// call it.
    fn context_function(&self, func: &Expr) -> Option<(String, crate::port::convert::FnInfo)> {
        let found = match func {
            Expr::Name(n) => {
                if let Some(info) = self.module.functions.get(n.id.as_str()) {
                    Some((info.rhai.clone(), info.clone()))
                } else {
                    let path = self.module.imported.get(n.id.as_str())?;
                    let (namespace, name) = path.rsplit_once('.')?;
                    let info = self.module.foreign(namespace, name)?;
                    Some((format!("{namespace}::{}", info.rhai), info))
                }
            }
            Expr::Attribute(a) => {
                let Expr::Name(m) = a.value.as_ref() else {
                    return None;
                };
                let namespace = self.module.modules.get(m.id.as_str())?;
                let info = self.module.foreign(namespace, a.attr.as_str())?;
                Some((format!("{namespace}::{}", info.rhai), info))
            }
            _ => None,
        };
        found.filter(|(_, info)| info.context)
    }

    /// `try`/`except`/`else`/`finally` as Rhai's `try`/`catch`, which catches every error.
    fn try_block(&mut self, t: &ast::StmtTry) -> Result<(), Unsupported> {
        if t.handlers.len() > 1 {
            return Err(Unsupported::new(
                "several `except` clauses: Rhai's `catch` cannot tell errors apart",
            ));
        }
        if !t.orelse.is_empty() {
            return Err(Unsupported::new("`try ... else`"));
        }
        if !t.finalbody.is_empty()
            && (has_return(&t.body)
                || t.handlers.iter().any(|h| {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    has_return(&h.body)
                }))
        {
            return Err(Unsupported::new("`return` inside `try` with `finally`"));
        }
        let handler = t.handlers.first().map(|h| {
            let ast::ExceptHandler::ExceptHandler(h) = h;
            h
        });
        if let Some(h) = handler
            && let Some(kind) = &h.type_
        {
            let name = self.dotted(kind).unwrap_or_default();
            if !matches!(name.as_str(), "Exception" | "BaseException" | "SystemExit") {
                return Err(Unsupported::new(format!(
                    "`except {name}`: Rhai's `catch` catches every error, not only this one"
                )));
            }
            // A failed command aborts Fabric with `SystemExit`, which `except Exception`
            // lets through: a `catch` around commands would swallow what Fabric stopped on.
            if name == "Exception" && t.body.iter().any(|s| self.sends_commands(s)) {
                return Err(Unsupported::new(
                    "`except Exception` around Fabric operations: a failed one aborts with \
                     SystemExit, which it does not catch, and Rhai's `catch` would",
                ));
            }
        }
        let finally = !t.finalbody.is_empty();
        let error_slot = finally.then(|| {
            self.counter += 1;
            format!("failure{}", self.counter)
        });
        if let Some(slot) = &error_slot {
            self.emit(format!("let {slot} = ();"));
            self.emit("try {");
            self.indent += 1;
        }
        match handler {
            Some(h) => {
                self.emit("try {");
                self.nested(&t.body);
                let variable = h
                    .name
                    .as_deref()
                    .map_or_else(|| "err".to_owned(), rhai_name);
                self.emit(format!("}} catch ({variable}) {{"));
                let saved = (self.scope.clone(), self.current_error.clone());
                self.scope.locals.insert(variable.clone());
                self.current_error = Some(variable);
                self.nested(&h.body);
                (self.scope, self.current_error) = saved;
                self.emit("}");
            }
            None => self.block(&t.body),
        }
        if let Some(slot) = error_slot {
            self.indent -= 1;
            self.emit(format!("}} catch (err) {{ {slot} = err; }}"));
            self.block(&t.finalbody);
            self.emit(format!("if {slot} != () {{ throw {slot}; }}"));
        }
        Ok(())
    }

    pub(crate) fn import_statement(&mut self, stmt: &Stmt) {
        self.import(stmt);
    }
}

impl Converter<'_> {
    /// Whether the statement calls one of Fabric's operations, at any depth.
    fn sends_commands(&self, stmt: &Stmt) -> bool {
        let exprs: Vec<&Expr> = match stmt {
            Stmt::Expr(e) => vec![&e.value],
            Stmt::Assign(a) => vec![&a.value],
            Stmt::AugAssign(a) => vec![&a.value],
            Stmt::Return(r) => r.value.iter().map(AsRef::as_ref).collect(),
            Stmt::If(i) => {
                return self.calls_operation(&i.test)
                    || i.body
                        .iter()
                        .chain(&i.orelse)
                        .any(|s| self.sends_commands(s));
            }
            Stmt::For(f) => {
                return self.calls_operation(&f.iter)
                    || f.body.iter().any(|s| self.sends_commands(s));
            }
            Stmt::While(w) => {
                return self.calls_operation(&w.test)
                    || w.body.iter().any(|s| self.sends_commands(s));
            }
            Stmt::With(w) => return w.body.iter().any(|s| self.sends_commands(s)),
            Stmt::Try(t) => {
                return t
                    .body
                    .iter()
                    .chain(&t.finalbody)
                    .any(|s| self.sends_commands(s));
            }
            _ => Vec::new(),
        };
        exprs.into_iter().any(|e| self.calls_operation(e))
    }

    fn calls_operation(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Call(c) => {
                let operation = self.dotted(&c.func).is_some_and(|name| {
                    matches!(
                        name.as_str(),
                        "run" | "sudo" | "local" | "put" | "get" | "execute" | "abort" | "reboot"
                    ) || name.starts_with("files.")
                        || name.starts_with("project.")
                });
                // The fabfile's own functions may run commands too.
                let own = matches!(c.func.as_ref(), Expr::Name(n) if self.module.functions.contains_key(n.id.as_str()))
                    || matches!(c.func.as_ref(), Expr::Attribute(a) if matches!(a.value.as_ref(), Expr::Name(m) if self.module.modules.contains_key(m.id.as_str())));
                operation
                    || own
                    || self.calls_operation(&c.func)
                    || c.args.iter().any(|a| self.calls_operation(a))
            }
            Expr::Attribute(a) => self.calls_operation(&a.value),
            Expr::BinOp(b) => self.calls_operation(&b.left) || self.calls_operation(&b.right),
            Expr::BoolOp(b) => b.values.iter().any(|v| self.calls_operation(v)),
            Expr::UnaryOp(u) => self.calls_operation(&u.operand),
            Expr::Compare(c) => {
                self.calls_operation(&c.left)
                    || c.comparators.iter().any(|v| self.calls_operation(v))
            }
            Expr::Subscript(s) => self.calls_operation(&s.value),
            _ => false,
        }
    }
}

/// Whether a `return` is in the body (not inside a nested function).
pub(crate) fn has_return(body: &[Stmt]) -> bool {
    body.iter().any(|stmt| match stmt {
        Stmt::Return(_) => true,
        Stmt::If(i) => has_return(&i.body) || has_return(&i.orelse),
        Stmt::For(f) => has_return(&f.body) || has_return(&f.orelse),
        Stmt::While(w) => has_return(&w.body) || has_return(&w.orelse),
        Stmt::With(w) => has_return(&w.body),
        Stmt::Try(t) => {
            has_return(&t.body)
                || has_return(&t.orelse)
                || has_return(&t.finalbody)
                || t.handlers.iter().any(|h| {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    has_return(&h.body)
                })
        }
        _ => false,
    })
}

/// Whether a `break` or `continue` in the body would leave a loop outside it.
fn leaves_loop(body: &[Stmt]) -> bool {
    body.iter().any(|stmt| match stmt {
        Stmt::Break(_) | Stmt::Continue(_) => true,
        Stmt::If(i) => leaves_loop(&i.body) || leaves_loop(&i.orelse),
        Stmt::With(w) => leaves_loop(&w.body),
        Stmt::Try(t) => {
            leaves_loop(&t.body)
                || leaves_loop(&t.finalbody)
                || t.handlers.iter().any(|h| {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    leaves_loop(&h.body)
                })
        }
        _ => false,
    })
}
