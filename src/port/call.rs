//! Calls: Fabric's operations with their keyword arguments as option maps, contrib's
//! helpers, the standard library functions fabfiles use, and the fabfile's own functions.

use rustpython_parser::ast::{self, Constant, Expr};

use crate::port::convert::{Converter, FnInfo, Unsupported};
use crate::port::expression::{Converted, map_key};
use crate::port::names::canonical;
use crate::port::template;

/// The positional parameters of contrib's functions, for calls that pass options by
/// position (`append(path, line, True)`).
const CONTRIB: &[(&str, &[&str])] = &[
    ("files.exists", &["path", "use_sudo", "verbose"]),
    ("files.is_link", &["path", "use_sudo", "verbose"]),
    (
        "files.append",
        &["filename", "text", "use_sudo", "partial", "escape", "shell"],
    ),
    (
        "files.contains",
        &[
            "filename",
            "text",
            "exact",
            "use_sudo",
            "escape",
            "shell",
            "case_sensitive",
        ],
    ),
    (
        "files.sed",
        &[
            "filename", "before", "after", "limit", "use_sudo", "backup", "flags", "shell",
        ],
    ),
    (
        "files.comment",
        &["filename", "regex", "use_sudo", "char", "backup", "shell"],
    ),
    (
        "files.uncomment",
        &["filename", "regex", "use_sudo", "char", "backup", "shell"],
    ),
    (
        "files.upload_template",
        &[
            "filename",
            "destination",
            "context",
            "use_jinja",
            "template_dir",
            "use_sudo",
            "backup",
            "mirror_local_mode",
            "mode",
        ],
    ),
];

/// How many leading parameters of each contrib function stay positional in rfab.
fn contrib_positional(name: &str) -> usize {
    match name {
        "files.exists" | "files.is_link" => 1,
        "files.sed" => 3,
        _ => 2,
    }
}

impl Converter<'_> {
    /// The dotted name a call's function has, whatever way it was imported:
    /// `exists` after `from fabric.contrib.files import exists` is `files.exists`.
    pub(crate) fn dotted(&self, expr: &Expr) -> Option<String> {
        match expr {
            Expr::Name(n) => {
                let id = n.id.as_str();
                if self.scope.locals.contains(id) {
                    return None;
                }
                Some(canonical(
                    self.module.aliases.get(id).map_or(id, String::as_str),
                ))
            }
            Expr::Attribute(a) => {
                let base = self.dotted(&a.value)?;
                Some(canonical(&format!("{base}.{}", a.attr)))
            }
            Expr::Call(c) => {
                let base = self.dotted(&c.func)?;
                (c.args.is_empty()
                    && matches!(
                        base.as_str(),
                        "datetime.datetime.now" | "datetime.datetime.utcnow"
                    ))
                .then(|| format!("{base}()"))
            }
            _ => None,
        }
    }

    pub(crate) fn is_command(&self, call: &ast::ExprCall) -> bool {
        matches!(
            self.dotted(&call.func).as_deref(),
            Some("run" | "sudo" | "local")
        )
    }

    /// A call whose value is used: a command's value is its output, as Fabric's was.
    pub(crate) fn call_value(&mut self, call: &ast::ExprCall) -> Converted {
        let converted = self.call_statement(call)?;
        Ok(if self.is_command(call) {
            format!("{converted}.stdout")
        } else {
            converted
        })
    }

    /// A call, its value unused or a command's whole result.
    pub(crate) fn call_statement(&mut self, call: &ast::ExprCall) -> Converted {
        if call.args.iter().any(|a| matches!(a, Expr::Starred(_))) {
            return Err(Unsupported::new("`*args` in a call"));
        }
        if let Some(name) = self.dotted(&call.func)
            && let Some(converted) = self.known_call(&name, call)?
        {
            return Ok(converted);
        }
        if let Expr::Attribute(a) = call.func.as_ref()
            && let Some(converted) = self.method_call(a, call)?
        {
            return Ok(converted);
        }
        self.own_call(call)
    }

    // One arm per Python function the converter knows: a table, read top to bottom.
    #[allow(clippy::too_many_lines)]
    fn known_call(
        &mut self,
        name: &str,
        call: &ast::ExprCall,
    ) -> Result<Option<String>, Unsupported> {
        let args = &call.args;
        let converted = match name {
            "run" | "sudo" | "local" => self.command(name, call)?,
            "put" => self.transfer(
                "put",
                call,
                &[
                    "local_path",
                    "remote_path",
                    "use_sudo",
                    "mirror_local_mode",
                    "mode",
                ],
            )?,
            "get" => self.get(call)?,
            "prompt" => self.prompt(call)?,
            "confirm" => {
                let question = self.arg(call, 0, "question")?;
                match self.optional_arg(call, 1, "default")? {
                    Some(default) => format!("confirm({question}, {default})"),
                    None => format!("confirm({question})"),
                }
            }
            "abort" | "warn" => {
                Self::only_keywords(call, &[])?;
                format!("{name}({})", self.arg(call, 0, "msg")?)
            }
            "puts" | "fastprint" => {
                Self::only_keywords(call, &["show_prefix"])?;
                let text = self.arg(call, 0, "text")?;
                let bare = call.keywords.iter().any(|k| {
                    k.arg.as_deref() == Some("show_prefix")
                        && matches!(&k.value, Expr::Constant(c) if c.value == Constant::Bool(false))
                });
                if name == "fastprint" {
                    return Err(Unsupported::new("`fastprint` (no newline)"));
                }
                if bare {
                    format!("print({text})")
                } else {
                    format!("puts({text})")
                }
            }
            "execute" => self.execute(call)?,
            "reboot" => {
                Self::only_keywords(call, &["wait"])?;
                match self.optional_arg(call, 0, "wait")? {
                    Some(wait) => format!("reboot(#{{ wait: {wait} }})"),
                    None => "reboot()".into(),
                }
            }
            "open_shell" if args.is_empty() => "open_shell()".into(),
            "print" if args.len() == 1 && !matches!(&args[0], Expr::Constant(_)) => {
                Self::only_keywords(call, &[])?;
                format!("print({})", self.expr(&args[0])?)
            }
            "print" => {
                Self::only_keywords(call, &[])?;
                let pieces = args
                    .iter()
                    .enumerate()
                    .map(|(i, a)| {
                        let mut pieces = Vec::new();
                        if i > 0 {
                            pieces.push(template::Piece::Text(" ".into()));
                        }
                        pieces.push(match a {
                            Expr::Constant(ast::ExprConstant {
                                value: Constant::Str(s),
                                ..
                            }) => template::Piece::Text(s.clone()),
                            other => template::Piece::Expr(self.expr(other)?),
                        });
                        Ok(pieces)
                    })
                    .collect::<Result<Vec<_>, Unsupported>>()?
                    .concat();
                format!("print({})", template::join(&pieces))
            }
            n if n.starts_with("colors.") => self.arg(call, 0, "text")?,
            n if CONTRIB.iter().any(|(c, _)| *c == n) => self.contrib(n, call)?,
            "files.first" => format!("files::first([{}])", self.list(args)?),
            "project.rsync_project" => self.rsync_project(call)?,
            "project.upload_project" => {
                let options = self.options(call, &["local_dir", "remote_dir", "use_sudo"], 0)?;
                self.uses.insert("project");
                format!(
                    "project::upload_project({})",
                    options.unwrap_or_else(|| "#{}".into())
                )
            }
            "os.path.join" => match args.len() {
                2 => format!(
                    "path_join({}, {})",
                    self.expr(&args[0])?,
                    self.expr(&args[1])?
                ),
                _ => format!("path_join([{}])", self.list(args)?),
            },
            "os.path.basename" => format!("basename({})", self.arg(call, 0, "p")?),
            "os.path.dirname" => format!("dirname({})", self.arg(call, 0, "p")?),
            "os.path.exists" | "os.path.isfile" => {
                format!("local_exists({})", self.arg(call, 0, "p")?)
            }
            "os.path.isdir" => format!("local_is_dir({})", self.arg(call, 0, "p")?),
            "os.getenv" | "os.environ.get" => match self.optional_arg(call, 1, "default")? {
                Some(default) => format!("getenv({}, {default})", self.arg(call, 0, "key")?),
                None => format!("getenv({})", self.arg(call, 0, "key")?),
            },
            "time.sleep" => format!("sleep({})", self.arg(call, 0, "secs")?),
            "time.time" => "unix_time()".into(),
            "datetime.datetime.now().strftime" | "time.strftime" if args.len() == 1 => {
                format!("strftime({})", self.arg(call, 0, "format")?)
            }
            "datetime.datetime.utcnow().strftime" => {
                format!("strftime_utc({})", self.arg(call, 0, "format")?)
            }
            "json.dumps" => {
                if call
                    .keywords
                    .iter()
                    .any(|k| k.arg.as_deref() == Some("indent"))
                {
                    format!("to_json_pretty({})", self.arg(call, 0, "obj")?)
                } else {
                    Self::only_keywords(call, &["sort_keys"])?;
                    format!("to_json({})", self.arg(call, 0, "obj")?)
                }
            }
            "json.loads" => format!("parse_json({})", self.arg(call, 0, "s")?),
            "re.search" | "re.match" => {
                Self::only_keywords(call, &[])?;
                let pattern = self.regex_pattern(&args[0], name == "re.match")?;
                format!("regex_match({}, {pattern})", self.arg(call, 1, "string")?)
            }
            "re.findall" => format!(
                "regex_find_all({}, {})",
                self.arg(call, 1, "string")?,
                self.regex_pattern(&args[0], false)?
            ),
            "re.split" => format!(
                "regex_split({}, {})",
                self.arg(call, 1, "string")?,
                self.regex_pattern(&args[0], false)?
            ),
            "re.sub" => {
                Self::only_keywords(call, &[])?;
                if args.len() != 3
                    || !matches!(&args[1], Expr::Constant(c) if matches!(&c.value, Constant::Str(s) if !s.contains('\\') && !s.contains('$')))
                {
                    return Err(Unsupported::new(
                        "`re.sub` with a replacement that is not plain text",
                    ));
                }
                format!(
                    "regex_replace({}, {}, {})",
                    self.expr(&args[2])?,
                    self.regex_pattern(&args[0], false)?,
                    self.expr(&args[1])?
                )
            }
            "len" => format!("{}.len()", self.wrapped(&args[0])?),
            "raw_input" | "input" => format!("prompt({})", self.arg(call, 0, "prompt")?),
            "float" if args.len() == 1 => {
                format!("parse_float({})", template::join(&[self.piece(&args[0])?]))
            }
            "dict" if args.len() == 1 && call.keywords.is_empty() => self.expr(&args[0])?,
            "dict" if args.is_empty() => {
                let mut entries = Vec::new();
                for keyword in &call.keywords {
                    let key = keyword
                        .arg
                        .as_deref()
                        .ok_or_else(|| Unsupported::new("`**kwargs` in a call"))?;
                    entries.push(format!("{}: {}", map_key(key), self.expr(&keyword.value)?));
                }
                format!("#{{ {} }}", entries.join(", "))
            }
            "any" | "all" if args.len() == 1 => self.any_all(name, &args[0])?,
            "str" if args.len() == 1 => {
                template::join(&[template::Piece::Expr(self.expr(&args[0])?)])
            }
            "int" if args.len() == 1 => format!(
                "parse_int({})",
                template::join(&[template::Piece::Expr(self.expr(&args[0])?)])
            ),
            "list" | "tuple" if args.len() == 1 => self.expr(&args[0])?,
            "bool" if args.len() == 1 => self.condition(&args[0])?,
            "locals" | "vars" | "globals" => {
                return Err(Unsupported::new(format!(
                    "`{name}()` outside `%` formatting"
                )));
            }
            _ => return Ok(None),
        };
        Ok(Some(converted))
    }

    /// `any(cond for x in xs)` → `xs.some(|x| cond)`, `all(...)` → `xs.all(|x| cond)`.
    fn any_all(&mut self, name: &str, arg: &Expr) -> Converted {
        let method = if name == "any" { "some" } else { "all" };
        let Expr::GeneratorExp(generator) = arg else {
            let items = self.wrapped(arg)?;
            self.needs_truthy = true;
            return Ok(format!("{items}.{method}(|v| truthy(v))"));
        };
        let [comprehension] = generator.generators.as_slice() else {
            return Err(Unsupported::new(format!("`{name}()` over several `for`s")));
        };
        let Expr::Name(target) = &comprehension.target else {
            return Err(Unsupported::new(format!("`{name}()` unpacking its items")));
        };
        if !comprehension.ifs.is_empty() {
            return Err(Unsupported::new(format!("`{name}()` with `if`")));
        }
        let variable = crate::port::names::rhai_name(target.id.as_str());
        let iterable = self.wrapped(&comprehension.iter)?;
        let saved = self.scope.clone();
        self.scope.locals.insert(target.id.to_string());
        let condition = self.condition(&generator.elt);
        self.scope = saved;
        Ok(format!("{iterable}.{method}(|{variable}| {})", condition?))
    }

    /// A regex pattern; `re.match` anchors at the start, as Python's does.
    fn regex_pattern(&mut self, pattern: &Expr, anchored: bool) -> Converted {
        match (pattern, anchored) {
            (_, false) => self.expr(pattern),
            (
                Expr::Constant(ast::ExprConstant {
                    value: Constant::Str(p),
                    ..
                }),
                true,
            ) => Ok(template::literal(&format!("^(?:{p})"))),
            _ => Err(Unsupported::new(
                "`re.match` with a pattern that is not a literal",
            )),
        }
    }

    fn command(&mut self, name: &str, call: &ast::ExprCall) -> Converted {
        let command = self.arg(call, 0, "command")?;
        if call.args.len() > 1 {
            return Err(Unsupported::new(format!(
                "`{name}` options given by position"
            )));
        }
        let mut options = Vec::new();
        for keyword in &call.keywords {
            let key = keyword
                .arg
                .as_deref()
                .ok_or_else(|| Unsupported::new("`**kwargs` in a call"))?;
            let value = &keyword.value;
            let is_false = matches!(value, Expr::Constant(c) if c.value == Constant::Bool(false));
            match (name, key) {
                (_, "warn_only" | "quiet" | "timeout")
                | ("run" | "sudo", "pty")
                | ("sudo", "user") => {
                    options.push(format!("{key}: {}", self.expr(value)?));
                }
                ("local", "shell") => options.push(format!("shell: {}", self.expr(value)?)),
                ("local", "capture") => {}
                ("run" | "sudo", "shell" | "combine_stderr") if !is_false => {}
                _ => return Err(Unsupported::new(format!("`{name}(..., {key}=...)`"))),
            }
        }
        Ok(if options.is_empty() {
            format!("{name}({command})")
        } else {
            format!("{name}({command}, #{{ {} }})", options.join(", "))
        })
    }

    fn transfer(&mut self, name: &str, call: &ast::ExprCall, params: &[&str]) -> Converted {
        let local = self.arg(call, 0, params[0])?;
        let remote = self.arg(call, 1, params[1])?;
        let options = self.options(call, params, 2)?;
        if call.keywords.iter().any(|k| {
            matches!(
                k.arg.as_deref(),
                Some("mirror_local_mode" | "use_glob" | "temp_dir")
            )
        }) || call.args.len() > 3
        {
            return Err(Unsupported::new(format!(
                "`{name}` with `mirror_local_mode`, `use_glob` or `temp_dir`"
            )));
        }
        Ok(match options {
            Some(options) => format!("{name}({local}, {remote}, {options})"),
            None => format!("{name}({local}, {remote})"),
        })
    }

    fn get(&mut self, call: &ast::ExprCall) -> Converted {
        Self::only_keywords(call, &["remote_path", "local_path"])?;
        let remote = self.arg(call, 0, "remote_path")?;
        // Fabric fills `%(host)s` in the local path per host; rfab's `get` takes `{host}`.
        let local = match Self::keyword_or_position(call, 1, "local_path") {
            Some(path) => self
                .expr(path)?
                .replace("%(host)s", "{host}")
                .replace("%(host_string)s", "{host_string}"),
            None => return Err(Unsupported::new("`get` without a local path")),
        };
        if local.contains("%(") {
            return Err(Unsupported::new(
                "`get` with `%(path)s` or `%(basename)s` in the local path",
            ));
        }
        Ok(format!("get({remote}, {local})"))
    }

    fn prompt(&mut self, call: &ast::ExprCall) -> Converted {
        let text = self.arg(call, 0, "text")?;
        let mut options = Vec::new();
        for (index, key) in ["key", "default"].iter().enumerate() {
            if let Some(value) = Self::keyword_or_position(call, index + 1, key) {
                let value = self.expr(&value.clone())?;
                options.push(format!(
                    "{}: {value}",
                    if *key == "default" { "fallback" } else { key }
                ));
            }
        }
        if call
            .keywords
            .iter()
            .any(|k| k.arg.as_deref() == Some("validate"))
            || call.args.len() > 3
        {
            return Err(Unsupported::new("`prompt(..., validate=...)`"));
        }
        Ok(if options.is_empty() {
            format!("prompt({text})")
        } else {
            format!("prompt({text}, #{{ {} }})", options.join(", "))
        })
    }

    fn execute(&mut self, call: &ast::ExprCall) -> Converted {
        let Some(task) = call.args.first() else {
            return Err(Unsupported::new("`execute` without a task"));
        };
        let task = self.task_reference(task)?;
        let args = self.list(&call.args[1..])?;
        let mut options = Vec::new();
        for keyword in &call.keywords {
            let key = keyword
                .arg
                .as_deref()
                .ok_or_else(|| Unsupported::new("`**kwargs` in a call"))?;
            if !matches!(key, "hosts" | "roles" | "exclude_hosts" | "host" | "role") {
                return Err(Unsupported::new(format!(
                    "`execute(..., {key}=...)`: task keyword arguments"
                )));
            }
            options.push(format!("{key}: {}", self.expr(&keyword.value)?));
        }
        Ok(match (args.is_empty(), options.is_empty()) {
            (true, true) => format!("execute({task})"),
            (false, true) => format!("execute({task}, [{args}])"),
            (_, false) => format!("execute({task}, [{args}], #{{ {} }})", options.join(", ")),
        })
    }

    /// What `execute` gets for a task: its name, or a function pointer for a helper.
    fn task_reference(&mut self, task: &Expr) -> Converted {
        match task {
            Expr::Constant(ast::ExprConstant {
                value: Constant::Str(name),
                ..
            }) => Ok(template::literal(name)),
            Expr::Name(n) => match self.module.functions.get(n.id.as_str()) {
                Some(f) if f.task.is_some() => {
                    Ok(template::literal(f.task.as_deref().unwrap_or_default()))
                }
                Some(f) => Ok(format!("Fn({})", template::literal(&f.rhai))),
                None => Err(Unsupported::new(
                    "`execute` of a task this file does not define",
                )),
            },
            Expr::Attribute(a) => match a.value.as_ref() {
                Expr::Name(m) if self.module.modules.contains_key(m.id.as_str()) => {
                    let namespace = &self.module.modules[m.id.as_str()];
                    match self.module.foreign(namespace, a.attr.as_str()) {
                        Some(FnInfo {
                            task: Some(task), ..
                        }) => Ok(template::literal(&format!("{namespace}.{task}"))),
                        _ => Err(Unsupported::new(
                            "`execute` of a module's function that is no task there",
                        )),
                    }
                }
                _ => Err(Unsupported::new("`execute` of this task")),
            },
            _ => Err(Unsupported::new("`execute` of this task")),
        }
    }

    fn contrib(&mut self, name: &str, call: &ast::ExprCall) -> Converted {
        let params = CONTRIB
            .iter()
            .find(|(c, _)| *c == name)
            .map(|(_, p)| *p)
            .unwrap_or_default();
        let positional = contrib_positional(name);
        let mut args = Vec::new();
        for (index, param) in params.iter().enumerate().take(positional) {
            args.push(self.arg(call, index, param)?);
        }
        if call
            .keywords
            .iter()
            .any(|k| k.arg.as_deref() == Some("verbose"))
        {
            return Err(Unsupported::new("`verbose=`"));
        }
        if let Some(options) = self.options(call, params, positional)? {
            args.push(options);
        }
        self.uses.insert("files");
        Ok(format!("{}({})", name.replace('.', "::"), args.join(", ")))
    }

    fn rsync_project(&mut self, call: &ast::ExprCall) -> Converted {
        let params = [
            "remote_dir",
            "local_dir",
            "exclude",
            "delete",
            "extra_opts",
            "ssh_opts",
            "capture",
            "upload",
            "default_opts",
        ];
        for keyword in &call.keywords {
            if matches!(
                keyword.arg.as_deref(),
                Some("ssh_opts" | "capture" | "upload" | "default_opts")
            ) {
                return Err(Unsupported::new(
                    "`rsync_project` with `ssh_opts`, `capture`, `upload` or `default_opts`",
                ));
            }
        }
        let remote = self.arg(call, 0, "remote_dir")?;
        self.uses.insert("project");
        Ok(match self.options(call, &params, 1)? {
            Some(options) => format!("project::rsync_project({remote}, {options})"),
            None => format!("project::rsync_project({remote})"),
        })
    }

    /// Method calls on strings, lists and dicts, in Rhai's spelling.
    fn method_call(
        &mut self,
        a: &ast::ExprAttribute,
        call: &ast::ExprCall,
    ) -> Result<Option<String>, Unsupported> {
        let args = &call.args;
        if let Expr::Constant(ast::ExprConstant {
            value: Constant::Str(format),
            ..
        }) = a.value.as_ref()
        {
            if a.attr.as_str() == "format" {
                return self.brace_format(format, call).map(Some);
            }
            if a.attr.as_str() == "join" && args.len() == 1 {
                return Ok(Some(format!(
                    "{}.join({})",
                    self.wrapped(&args[0])?,
                    template::literal(format)
                )));
            }
        }
        if !call.keywords.is_empty() {
            return Ok(None);
        }
        let value = self.wrapped(&a.value)?;
        let converted = match (a.attr.as_str(), args.len()) {
            ("strip", 0) => format!("{{ let s = {value}; s.trim(); s }}"),
            ("rstrip", 1) if matches!(&args[0], Expr::Constant(ast::ExprConstant { value: Constant::Str(c), .. }) if c.chars().count() == 1) =>
            {
                format!(
                    "{{ let s = {value}; while s.ends_with({0}) {{ s.crop(0, s.len() - {0}.len()); }} s }}",
                    self.expr(&args[0])?
                )
            }
            ("lower", 0) => format!("{value}.to_lower()"),
            ("upper", 0) => format!("{value}.to_upper()"),
            ("split", 0) => format!("{value}.split()"),
            ("split", 1) => format!("{value}.split({})", self.expr(&args[0])?),
            ("splitlines", 0) => format!("{value}.split(\"\\n\")"),
            ("startswith", 1) => format!("{value}.starts_with({})", self.expr(&args[0])?),
            ("endswith", 1) => format!("{value}.ends_with({})", self.expr(&args[0])?),
            ("replace", 2) => format!(
                "{{ let s = {value}; s.replace({}, {}); s }}",
                self.expr(&args[0])?,
                self.expr(&args[1])?
            ),
            ("get", 1) => format!("{value}[{}]", self.expr(&args[0])?),
            ("get", 2) => format!(
                "({value}[{}] ?? {})",
                self.expr(&args[0])?,
                self.expr(&args[1])?
            ),
            ("has_key", 1) => format!("{value}.contains({})", self.expr(&args[0])?),
            ("keys" | "values", 0) => format!("{value}.{}()", a.attr),
            ("lstrip", 1) if matches!(&args[0], Expr::Constant(ast::ExprConstant { value: Constant::Str(c), .. }) if c.chars().count() == 1) =>
            {
                format!(
                    "{{ let s = {value}; while s.starts_with({0}) {{ s.crop({0}.len()); }} s }}",
                    self.expr(&args[0])?
                )
            }
            ("append", 1) => format!("{value}.push({})", self.expr(&args[0])?),
            ("extend", 1) => format!("{value}.append({})", self.expr(&args[0])?),
            ("update", 1) if !matches!(a.value.as_ref(), Expr::Name(n) if n.id.as_str() == "env") =>
            {
                format!("{value}.mixin({})", self.expr(&args[0])?)
            }
            _ => return Ok(None),
        };
        Ok(Some(converted))
    }

    /// A call to one of the fabfile's functions (or a local module's): keyword arguments
    /// and defaults placed by position, as Rhai functions take them.
    fn own_call(&mut self, call: &ast::ExprCall) -> Converted {
        let (path, info) = match call.func.as_ref() {
            Expr::Name(n) => match self.module.functions.get(n.id.as_str()) {
                Some(info) => (info.rhai.clone(), info.clone()),
                None => match self.module.imported.get(n.id.as_str()) {
                    Some(path) => {
                        let (namespace, name) = path.rsplit_once('.').unwrap_or(("", path));
                        let info = self.module.foreign(namespace, name);
                        (
                            path.replace('.', "::"),
                            info.ok_or_else(|| {
                                Unsupported::new(format!("`{}` is not defined", n.id))
                            })?,
                        )
                    }
                    None if self.scope.locals.contains(n.id.as_str()) => {
                        return Ok(format!("{}.call({})", n.id, self.list(&call.args)?));
                    }
                    None => return Err(Unsupported::new(format!("`{}()`", n.id))),
                },
            },
            Expr::Attribute(a) => match a.value.as_ref() {
                Expr::Name(m) if self.module.modules.contains_key(m.id.as_str()) => {
                    let namespace = self.module.modules[m.id.as_str()].clone();
                    let info = self
                        .module
                        .foreign(&namespace, a.attr.as_str())
                        .ok_or_else(|| {
                            Unsupported::new(format!("`{namespace}.{}` is not defined", a.attr))
                        })?;
                    (format!("{namespace}::{}", info.rhai), info)
                }
                _ => {
                    let name = self
                        .dotted(&call.func)
                        .unwrap_or_else(|| format!(".{}", a.attr));
                    return Err(Unsupported::new(format!("`{name}()`")));
                }
            },
            _ => return Err(Unsupported::new("this call")),
        };
        let mut args = Vec::new();
        for (index, (param, default)) in info.params.iter().enumerate() {
            let value = match Self::keyword_or_position(call, index, param) {
                Some(value) => self.expr(&value.clone())?,
                None => default
                    .clone()
                    .ok_or_else(|| Unsupported::new(format!("no value for `{param}`")))?,
            };
            args.push(value);
        }
        if call.args.len() > info.params.len() {
            return Err(Unsupported::new("more arguments than the function takes"));
        }
        Ok(format!("{path}({})", args.join(", ")))
    }

    /// The argument at `index`, or the keyword `name`.
    fn keyword_or_position<'c>(
        call: &'c ast::ExprCall,
        index: usize,
        name: &str,
    ) -> Option<&'c Expr> {
        call.args.get(index).or_else(|| {
            call.keywords
                .iter()
                .find(|k| k.arg.as_deref() == Some(name))
                .map(|k| &k.value)
        })
    }

    pub(crate) fn arg(&mut self, call: &ast::ExprCall, index: usize, name: &str) -> Converted {
        match Self::keyword_or_position(call, index, name) {
            Some(value) => self.expr(&value.clone()),
            None => Err(Unsupported::new(format!("no `{name}` argument"))),
        }
    }

    fn optional_arg(
        &mut self,
        call: &ast::ExprCall,
        index: usize,
        name: &str,
    ) -> Result<Option<String>, Unsupported> {
        match Self::keyword_or_position(call, index, name) {
            Some(value) => Ok(Some(self.expr(&value.clone())?)),
            None => Ok(None),
        }
    }

    fn only_keywords(call: &ast::ExprCall, allowed: &[&str]) -> Result<(), Unsupported> {
        for keyword in &call.keywords {
            match keyword.arg.as_deref() {
                Some(key) if allowed.contains(&key) => {}
                Some(key) => {
                    return Err(Unsupported::new(format!("the keyword argument `{key}=`")));
                }
                None => return Err(Unsupported::new("`**kwargs` in a call")),
            }
        }
        Ok(())
    }

    /// An option map from the keyword arguments, and the positional ones past `from`
    /// named by `params`.
    fn options(
        &mut self,
        call: &ast::ExprCall,
        params: &[&str],
        from: usize,
    ) -> Result<Option<String>, Unsupported> {
        let mut entries = Vec::new();
        for (index, value) in call.args.iter().enumerate().skip(from) {
            let param = params
                .get(index)
                .ok_or_else(|| Unsupported::new("more arguments than the function takes"))?;
            entries.push(format!("{}: {}", map_key(param), self.expr(value)?));
        }
        for keyword in &call.keywords {
            let key = keyword
                .arg
                .as_deref()
                .ok_or_else(|| Unsupported::new("`**kwargs` in a call"))?;
            if params
                .iter()
                .position(|p| *p == key)
                .is_some_and(|i| i < from)
            {
                continue;
            }
            entries.push(format!("{}: {}", map_key(key), self.expr(&keyword.value)?));
        }
        Ok((!entries.is_empty()).then(|| format!("#{{ {} }}", entries.join(", "))))
    }

    /// An expression as the receiver of a method: operations in parentheses.
    fn wrapped(&mut self, expr: &Expr) -> Converted {
        let converted = self.expr(expr)?;
        Ok(crate::port::expression::paren(expr, converted))
    }
}
