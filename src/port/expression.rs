//! Python expressions as Rhai expressions: names, literals, operators, subscripts,
//! comprehensions and string formatting. Calls are in `call.rs`.

use rustpython_parser::ast::{self, BoolOp, CmpOp, Constant, Expr, Operator, UnaryOp};

use crate::port::convert::{Converter, Unsupported};
use crate::port::names::rhai_name;
use crate::port::template::{self, Piece, Slot};

pub(crate) type Converted = Result<String, Unsupported>;

impl Converter<'_> {
    /// A Python literal as Rhai writes it, if it has a Rhai form (a parameter's default).
    pub(crate) fn literal(value: &Constant) -> Option<String> {
        constant(value).ok()
    }

    pub(crate) fn expr(&mut self, expr: &Expr) -> Converted {
        match expr {
            Expr::Constant(c) => match self.source_text(c.range) {
                Some(text)
                    if matches!(c.value, Constant::Int(_))
                        && text.len() > 2
                        && text.starts_with('0') =>
                {
                    Ok(text.to_ascii_lowercase().replace('_', ""))
                }
                _ => constant(&c.value),
            },
            Expr::Name(n) => Ok(self.name(n.id.as_str())),
            Expr::Attribute(a) => self.attribute(a),
            Expr::Subscript(s) => self.subscript(s),
            Expr::BinOp(b) => self.binop(b),
            Expr::BoolOp(b) => {
                let op = if b.op == BoolOp::And { " && " } else { " || " };
                let parts = b
                    .values
                    .iter()
                    .map(|v| {
                        self.condition(v).map(|c| {
                            if matches!(v, Expr::Compare(_)) {
                                c
                            } else {
                                paren(v, c)
                            }
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(parts.join(op))
            }
            Expr::UnaryOp(u) => match u.op {
                UnaryOp::Not => Ok(format!("!{}", paren_always(&self.condition(&u.operand)?))),
                UnaryOp::USub => Ok(format!("-{}", paren(&u.operand, self.expr(&u.operand)?))),
                UnaryOp::UAdd => self.expr(&u.operand),
                UnaryOp::Invert => Err(Unsupported::new("`~`")),
            },
            Expr::Compare(c) => self.compare(c),
            Expr::IfExp(i) => Ok(format!(
                "if {} {{ {} }} else {{ {} }}",
                self.condition(&i.test)?,
                self.expr(&i.body)?,
                self.expr(&i.orelse)?
            )),
            Expr::List(ast::ExprList { elts, .. }) | Expr::Tuple(ast::ExprTuple { elts, .. }) => {
                Ok(format!("[{}]", self.list(elts)?))
            }
            Expr::Dict(d) => self.dict(d),
            Expr::JoinedStr(j) => self.fstring(j),
            Expr::Call(c) => self.call_value(c),
            Expr::ListComp(l) => self.comprehension(&l.elt, &l.generators),
            Expr::GeneratorExp(g) => self.comprehension(&g.elt, &g.generators),
            Expr::Lambda(l) => {
                let params: Vec<String> = l
                    .args
                    .args
                    .iter()
                    .map(|a| rhai_name(a.def.arg.as_str()))
                    .collect();
                if l.args.args.iter().any(|a| a.default.is_some()) || l.args.vararg.is_some() {
                    return Err(Unsupported::new(
                        "a lambda with default or variable arguments",
                    ));
                }
                let saved = self.scope.clone();
                self.scope.locals.extend(params.iter().cloned());
                let body = self.expr(&l.body);
                self.scope = saved;
                Ok(format!("|{}| {}", params.join(", "), body?))
            }
            _ => Err(Unsupported::new("this kind of expression")),
        }
    }

    /// A value going into a string: literal text stays text.
    pub(crate) fn piece(&mut self, expr: &Expr) -> Result<Piece, Unsupported> {
        Ok(match expr {
            Expr::Constant(ast::ExprConstant {
                value: Constant::Str(s),
                ..
            }) => Piece::Text(s.clone()),
            other => Piece::Expr(self.expr(other)?),
        })
    }

    pub(crate) fn list(&mut self, items: &[Expr]) -> Converted {
        Ok(items
            .iter()
            .map(|e| self.expr(e))
            .collect::<Result<Vec<_>, _>>()?
            .join(", "))
    }

    /// A Python name: a local, a module constant (`global::NAME` inside functions), `env`.
    pub(crate) fn name(&self, id: &str) -> String {
        if self.scope.results.contains(id) {
            return format!("{}.stdout", rhai_name(id));
        }
        if !self.scope.locals.contains(id) && self.module.constants.contains(id) && self.in_function
        {
            return format!("global::{id}");
        }
        if let Some(path) = self.module.imported.get(id) {
            return path.replace('.', "::");
        }
        rhai_name(id)
    }

    fn attribute(&mut self, a: &ast::ExprAttribute) -> Converted {
        let attr = a.attr.as_str();
        if let Expr::Name(n) = a.value.as_ref() {
            let id = n.id.as_str();
            if self.scope.results.contains(id) {
                return result_attribute(&rhai_name(id), attr);
            }
            if let Some(namespace) = self.module.modules.get(id) {
                return Ok(format!("{namespace}::{attr}"));
            }
        }
        match self.dotted(&Expr::Attribute(a.clone())).as_deref() {
            Some("os.environ") => return Err(Unsupported::new("`os.environ` as a whole")),
            Some(path) if path.starts_with("os.") || path.starts_with("sys.") => {
                return Err(Unsupported::new(format!("`{path}`")));
            }
            _ => {}
        }
        if let Expr::Call(call) = a.value.as_ref()
            && self.is_command(call)
        {
            let value = self.call_statement(call)?;
            return result_attribute(&value, attr);
        }
        let value = self.expr(&a.value)?;
        Ok(format!("{}{}", paren(&a.value, value), property(attr)))
    }

    fn subscript(&mut self, s: &ast::ExprSubscript) -> Converted {
        if self.dotted(&s.value).as_deref() == Some("os.environ") {
            return Ok(format!("getenv({})", self.expr(&s.slice)?));
        }
        let value = paren(&s.value, self.expr(&s.value)?);
        if let Expr::Slice(slice) = s.slice.as_ref() {
            if slice.step.is_some() {
                return Err(Unsupported::new("a slice with a step"));
            }
            let lower = match &slice.lower {
                Some(l) => self.expr(l)?,
                None => "0".into(),
            };
            return Ok(match &slice.upper {
                Some(u) => format!("{value}.extract({lower}, {} - {lower})", self.expr(u)?),
                None => format!("{value}.extract({lower})"),
            });
        }
        Ok(format!("{value}[{}]", self.expr(&s.slice)?))
    }

    fn binop(&mut self, b: &ast::ExprBinOp) -> Converted {
        if b.op == Operator::Mod
            && let Expr::Constant(ast::ExprConstant {
                value: Constant::Str(format),
                ..
            }) = b.left.as_ref()
        {
            return self.percent(format, &b.right);
        }
        let op = match b.op {
            Operator::Add => "+",
            Operator::Sub => "-",
            Operator::Mult => "*",
            Operator::Div | Operator::FloorDiv => "/",
            Operator::Mod => "%",
            Operator::Pow => "**",
            _ => return Err(Unsupported::new("this operator")),
        };
        if b.op == Operator::Mult && (is_text(&b.left) || is_text(&b.right)) {
            return Err(Unsupported::new("repeating a string with `*`"));
        }
        let left = self.expr(&b.left)?;
        // `a + b + c` is `(a + b) + c` in both languages: no parentheses needed on the left.
        let same_level = matches!(b.left.as_ref(), Expr::BinOp(l) if level(l.op) == level(b.op) && l.op != Operator::Mod);
        let left = if same_level {
            left
        } else {
            paren(&b.left, left)
        };
        let right = paren(&b.right, self.expr(&b.right)?);
        Ok(format!("{left} {op} {right}"))
    }

    fn compare(&mut self, c: &ast::ExprCompare) -> Converted {
        let mut parts = Vec::new();
        let mut left = c.left.as_ref();
        for (op, right) in c.ops.iter().zip(&c.comparators) {
            let l = paren(left, self.expr(left)?);
            let r = paren(right, self.expr(right)?);
            parts.push(match op {
                CmpOp::Eq | CmpOp::Is => format!("{l} == {r}"),
                CmpOp::NotEq | CmpOp::IsNot => format!("{l} != {r}"),
                CmpOp::Lt => format!("{l} < {r}"),
                CmpOp::LtE => format!("{l} <= {r}"),
                CmpOp::Gt => format!("{l} > {r}"),
                CmpOp::GtE => format!("{l} >= {r}"),
                CmpOp::In => format!("{l} in {r}"),
                CmpOp::NotIn => format!("!({l} in {r})"),
            });
            left = right;
        }
        Ok(parts.join(" && "))
    }

    fn dict(&mut self, d: &ast::ExprDict) -> Converted {
        let mut entries = Vec::new();
        for (key, value) in d.keys.iter().zip(&d.values) {
            let Some(Expr::Constant(ast::ExprConstant {
                value: Constant::Str(key),
                ..
            })) = key
            else {
                return Err(Unsupported::new("a dict key that is not a string literal"));
            };
            entries.push(format!("{}: {}", map_key(key), self.expr(value)?));
        }
        Ok(if entries.is_empty() {
            "#{}".into()
        } else {
            format!("#{{ {} }}", entries.join(", "))
        })
    }

    /// A Python truth test as a Rhai `bool`: Rhai has no truthiness.
    pub(crate) fn condition(&mut self, expr: &Expr) -> Converted {
        let converted = self.expr(expr)?;
        if self.is_boolean(expr) {
            Ok(converted)
        } else {
            self.needs_truthy = true;
            Ok(format!("truthy({converted})"))
        }
    }

    fn is_boolean(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Constant(c) => matches!(c.value, Constant::Bool(_)),
            Expr::Compare(_) => true,
            Expr::UnaryOp(u) => u.op == UnaryOp::Not,
            Expr::BoolOp(b) => b.values.iter().all(|v| self.is_boolean(v)),
            Expr::Attribute(a) => matches!(a.attr.as_str(), "failed" | "succeeded"),
            Expr::Call(c) => {
                matches!(
                    self.dotted(&c.func).as_deref(),
                    Some(
                        "files.exists"
                            | "files.contains"
                            | "files.is_link"
                            | "confirm"
                            | "os.path.exists"
                            | "os.path.isdir"
                            | "os.path.isfile"
                            | "isinstance"
                            | "bool"
                            | "re.match"
                            | "re.search"
                    )
                ) || matches!(c.func.as_ref(), Expr::Attribute(a) if matches!(a.attr.as_str(), "startswith" | "endswith" | "has_key" | "isdigit"))
            }
            _ => false,
        }
    }

    fn percent(&mut self, format: &str, args: &Expr) -> Converted {
        let slots = template::percent_slots(format).map_err(Unsupported::new)?;
        let positional: Vec<&Expr> = match args {
            Expr::Tuple(t) => t.elts.iter().collect(),
            other => vec![other],
        };
        let mut next = 0;
        let mut pieces = Vec::new();
        for slot in slots {
            pieces.push(match slot {
                Slot::Text(t) => Piece::Text(t),
                Slot::Next | Slot::Index(_) => {
                    let arg = positional
                        .get(next)
                        .ok_or_else(|| Unsupported::new("more `%s` than arguments"))?;
                    next += 1;
                    self.piece(arg)?
                }
                Slot::Named(name, _) => Piece::Expr(self.named_argument(args, &name)?),
            });
        }
        Ok(template::join(&pieces))
    }

    /// `%(name)s` against `env`, `locals()`, a dict literal or a dict variable.
    fn named_argument(&mut self, args: &Expr, name: &str) -> Converted {
        match args {
            Expr::Dict(d) => {
                for (key, value) in d.keys.iter().zip(&d.values) {
                    if let Some(Expr::Constant(ast::ExprConstant {
                        value: Constant::Str(k),
                        ..
                    })) = key
                        && k == name
                    {
                        return self.expr(value);
                    }
                }
                Err(Unsupported::new(format!("no `{name}` in the dict")))
            }
            Expr::Call(c) if matches!(self.dotted(&c.func).as_deref(), Some("locals" | "vars")) => {
                Ok(self.name(name))
            }
            Expr::Call(c) if matches!(self.dotted(&c.func).as_deref(), Some("dict")) => {
                for keyword in &c.keywords {
                    if keyword.arg.as_deref() == Some(name) {
                        return self.expr(&keyword.value);
                    }
                }
                Err(Unsupported::new(format!("no `{name}` in the dict")))
            }
            other => {
                let map = self.expr(other)?;
                Ok(format!("{map}.{}", map_key(name)))
            }
        }
    }

    pub(crate) fn brace_format(&mut self, format: &str, call: &ast::ExprCall) -> Converted {
        let slots = template::brace_slots(format).map_err(Unsupported::new)?;
        let mut next = 0;
        let mut pieces = Vec::new();
        for slot in slots {
            pieces.push(match slot {
                Slot::Text(t) => Piece::Text(t),
                Slot::Next | Slot::Index(_) => {
                    let index = if let Slot::Index(i) = slot { i } else { next };
                    next += 1;
                    let arg = call
                        .args
                        .get(index)
                        .ok_or_else(|| Unsupported::new("more `{}` than arguments"))?;
                    self.piece(arg)?
                }
                Slot::Named(name, attributes) => {
                    let keyword = call
                        .keywords
                        .iter()
                        .find(|k| k.arg.as_deref() == Some(name.as_str()));
                    let mut value = match keyword {
                        Some(k) => self.expr(&k.value)?,
                        None => match call.keywords.iter().find(|k| k.arg.is_none()) {
                            Some(spread) => self.named_argument(&spread.value, &name)?,
                            None => return Err(Unsupported::new(format!("no `{name}` argument"))),
                        },
                    };
                    for attribute in attributes {
                        value = format!("{value}.{attribute}");
                    }
                    Piece::Expr(value)
                }
            });
        }
        Ok(template::join(&pieces))
    }

    fn fstring(&mut self, j: &ast::ExprJoinedStr) -> Converted {
        let mut pieces = Vec::new();
        for value in &j.values {
            match value {
                Expr::Constant(ast::ExprConstant {
                    value: Constant::Str(s),
                    ..
                }) => pieces.push(Piece::Text(s.clone())),
                Expr::FormattedValue(f) => {
                    if f.format_spec.is_some() || f.conversion != ast::ConversionFlag::None {
                        return Err(Unsupported::new("an f-string conversion or format spec"));
                    }
                    pieces.push(self.piece(&f.value)?);
                }
                _ => return Err(Unsupported::new("this f-string")),
            }
        }
        Ok(template::join(&pieces))
    }

    fn comprehension(&mut self, element: &Expr, generators: &[ast::Comprehension]) -> Converted {
        let [generator] = generators else {
            return Err(Unsupported::new("a comprehension over several `for`s"));
        };
        let Expr::Name(target) = &generator.target else {
            return Err(Unsupported::new("a comprehension unpacking its items"));
        };
        let variable = rhai_name(target.id.as_str());
        let iterable = self.expr(&generator.iter)?;
        let saved = self.scope.clone();
        self.scope.locals.insert(target.id.to_string());
        self.scope.results.remove(target.id.as_str());
        let filters = generator
            .ifs
            .iter()
            .map(|c| self.condition(c))
            .collect::<Result<Vec<_>, _>>();
        let mapped = self.expr(element);
        self.scope = saved;
        let mut out = paren(&generator.iter, iterable);
        for filter in filters? {
            out = format!("{out}.filter(|{variable}| {filter})");
        }
        let mapped = mapped?;
        if mapped != variable {
            out = format!("{out}.map(|{variable}| {mapped})");
        }
        Ok(out)
    }
}

/// Operator precedence levels shared by Python and Rhai for these operators.
fn level(op: Operator) -> u8 {
    match op {
        Operator::Add | Operator::Sub => 1,
        Operator::Mult | Operator::Div | Operator::FloorDiv | Operator::Mod => 2,
        _ => 3,
    }
}

pub(crate) fn constant(value: &Constant) -> Converted {
    Ok(match value {
        Constant::None => "()".into(),
        Constant::Bool(b) => b.to_string(),
        Constant::Str(s) => template::literal(s),
        Constant::Int(i) => {
            let text = i.to_string();
            if text.parse::<i64>().is_err() {
                return Err(Unsupported::new("an integer beyond 64 bits"));
            }
            text
        }
        Constant::Float(f) => {
            let text = f.to_string();
            if text.contains(['.', 'e', 'i', 'N']) {
                text
            } else {
                format!("{text}.0")
            }
        }
        Constant::Tuple(items) => format!(
            "[{}]",
            items
                .iter()
                .map(constant)
                .collect::<Result<Vec<_>, _>>()?
                .join(", ")
        ),
        _ => return Err(Unsupported::new("this kind of literal")),
    })
}

/// A map key as Rhai writes it: bare when it is an identifier, quoted otherwise.
pub(crate) fn map_key(key: &str) -> String {
    let identifier = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && rhai_name(key) == key;
    if identifier {
        key.to_owned()
    } else {
        template::literal(key)
    }
}

/// `.name`, or `["name"]` when the name is a Rhai keyword (`env["debug"]`).
pub(crate) fn property(name: &str) -> String {
    if rhai_name(name) == name {
        format!(".{name}")
    } else {
        format!("[{}]", template::literal(name))
    }
}

/// Fabric's result attributes, on rfab's `CommandResult`.
fn result_attribute(value: &str, attr: &str) -> Converted {
    Ok(match attr {
        "failed" => format!("{value}.failed"),
        "succeeded" => format!("{value}.ok"),
        "return_code" => format!("{value}.code"),
        "stderr" => format!("{value}.stderr"),
        "stdout" => format!("{value}.stdout"),
        "command" | "real_command" => format!("{value}.command"),
        _ => return Err(Unsupported::new(format!("`.{attr}` of a command's result"))),
    })
}

fn is_text(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::Constant(ast::ExprConstant {
            value: Constant::Str(_),
            ..
        }) | Expr::JoinedStr(_)
    )
}

/// `name(...)` or `a::b.c(...)`: a call whose closing parenthesis ends the expression.
fn is_one_call(converted: &str) -> bool {
    let Some(open) = converted.find('(') else {
        return false;
    };
    let head_simple = converted[..open]
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | ':'));
    let mut depth = 0usize;
    let mut in_string = None;
    for (index, c) in converted.char_indices().skip(open) {
        match (in_string, c) {
            (Some(q), c) if c == q => in_string = None,
            (None, '"' | '`') => in_string = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return head_simple && index == converted.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

/// Wraps operands that are themselves operations, so that precedence never changes.
pub(crate) fn paren(expr: &Expr, converted: String) -> String {
    if matches!(
        expr,
        Expr::BinOp(_)
            | Expr::BoolOp(_)
            | Expr::Compare(_)
            | Expr::IfExp(_)
            | Expr::UnaryOp(_)
            | Expr::Lambda(_)
    ) {
        format!("({converted})")
    } else {
        converted
    }
}

fn paren_always(converted: &str) -> String {
    let simple = converted
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | ':'))
        || is_one_call(converted);
    if simple {
        converted.to_owned()
    } else {
        format!("({converted})")
    }
}
