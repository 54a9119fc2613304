//! `rfab check`: what is knowable about a fabfile before a run, found without running a task
//! or contacting a host. The fabfile has loaded (so its syntax and tags are sound); this
//! reads the code of it and of every module of the project it imports, and reports calls to
//! functions that exist nowhere, variables used but never defined, `execute()` of tasks that
//! do not exist, tasks named like Rhai's built-in functions, and `env` keys read but set
//! nowhere and unknown to rfab.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rhai::{AST, ASTNode, Engine, Expr, FnAccess, ParseErrorType, Position, Scope, Stmt};

use crate::script::definitions::ENV_KEYS;
use crate::script::fabfile::Fabfile;
use crate::script::stdlib;
use crate::suggestion::closest;

/// How bad a finding is: errors fail the check, warnings only say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }
}

/// One thing found, where it is and what to do.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Finding {
    pub(crate) file: String,
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) severity: Severity,
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
}

/// Fabric 1.x `env` keys a fabfile may read that rfab sets or understands, beyond the keys
/// rfab itself reads (`ENV_KEYS`).
const FABRIC_KEYS: &[&str] = &[
    "all_hosts",
    "command",
    "cwd",
    "lcwd",
    "path",
    "path_behavior",
    "real_fabfile",
    "shell_env",
    "skip_bad_hosts",
    "parallel",
    "pool_size",
    "stage",
    "ssh_config_path",
    "use_ssh_config",
    "disable_known_hosts",
    "reject_unknown_hosts",
    "no_agent",
    "no_keys",
    "always_use_pty",
    "combine_stderr",
    "effective_roles",
    "dedupe_hosts",
    "password",
    "sudo_password",
    "passwords",
    "sudo_passwords",
    "colorize_errors",
    "linewise",
];

/// Functions the Rhai language provides that no signature lists.
const LANGUAGE: &[&str] = &[
    "print",
    "debug",
    "type_of",
    "Fn",
    "call",
    "curry",
    "is_def_fn",
    "is_def_var",
    "is_shared",
    "eval",
    "throw",
    "sleep",
];

/// Every finding in the fabfile at `path` and the project modules it imports, sorted by
/// file and place. `strict` is an engine like the run's, with strict variables on.
pub(crate) fn check(
    engine: &Engine,
    strict: &Engine,
    fabfile: &Fabfile,
    path: &Path,
) -> Vec<Finding> {
    let names = Names::of(engine);
    let mut findings = Vec::new();
    let mut env = EnvUse::default();
    for file in &project_files(engine, path) {
        let shown = display(&file.path);
        findings.extend(undefined_variable(strict, file, &shown));
        findings.extend(calls(&names, file, fabfile, &shown, &mut env));
    }
    findings.extend(shadowing(&names, fabfile, path));
    findings.extend(env.findings());
    findings.sort();
    findings.dedup();
    findings
}

/// The first variable of `file` that is used where it is not defined (Rhai's strict
/// variables mode stops at the first).
fn undefined_variable(strict: &Engine, file: &File, shown: &str) -> Option<Finding> {
    let mut scope = Scope::new();
    scope.push_constant("env", ());
    let error = strict.compile_with_scope(&scope, &file.text).err()?;
    let ParseErrorType::VariableUndefined(name) = error.err_type() else {
        return None;
    };
    Some(finding(
        shown,
        error.position(),
        Severity::Error,
        format!("variable `{name}` is not defined here"),
        Some(
            "a function sees only its parameters, its own `let`s and `env`: pass the value \
             in, put it in `env`, or write `global::NAME` for a `const` at the fabfile's top \
             level"
                .to_owned(),
        ),
    ))
}

/// The calls of `file` that reach nothing, and its `env` keys read and set.
fn calls(
    names: &Names,
    file: &File,
    fabfile: &Fabfile,
    shown: &str,
    env: &mut EnvUse,
) -> Vec<Finding> {
    let own: BTreeSet<String> = file
        .ast
        .iter_functions()
        .map(|f| f.name.to_owned())
        .collect();
    let mut findings = Vec::new();
    file.ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            // A call is an expression, or a statement of its own.
            Some(
                ASTNode::Expr(Expr::FnCall(call, pos)) | ASTNode::Stmt(Stmt::FnCall(call, pos)),
            ) => {
                findings.extend(check_call(names, file, &own, fabfile, call, *pos, shown));
            }
            Some(ASTNode::Expr(Expr::MethodCall(call, pos))) => {
                let name = call.name.as_str();
                if !names.exists(name) && !own.contains(name) {
                    let hint = names.nearest(name).map(|n| format!("did you mean `{n}`?"));
                    findings.push(finding(
                        shown,
                        *pos,
                        Severity::Error,
                        format!("no function or method `{name}` exists"),
                        hint,
                    ));
                }
            }
            Some(ASTNode::Stmt(Stmt::Assignment(assignment))) => {
                if let Some((key, _)) = env_key(&assignment.1.lhs) {
                    env.writes.insert(key);
                }
            }
            Some(ASTNode::Expr(expr @ (Expr::Dot(..) | Expr::Index(..)))) => {
                if let Some((key, pos)) = env_key(expr) {
                    env.reads.push((key, pos, shown.to_owned()));
                }
            }
            _ => {}
        }
        true
    });
    findings
}

/// Tasks of the fabfile itself named like one of Rhai's built-in functions, whose calls
/// they would catch (a module's tasks are called through its namespace).
fn shadowing(names: &Names, fabfile: &Fabfile, path: &Path) -> Vec<Finding> {
    fabfile
        .tasks
        .iter()
        .filter(|task| !task.name.contains('.'))
        .filter_map(|task| {
            let name = &task.name;
            names.builtin.contains(name).then(|| Finding {
                file: display(path),
                line: 0,
                column: 0,
                severity: Severity::Error,
                message: format!(
                    "task `{}` has the name of Rhai's built-in function `{name}`: calls to the \
                     built-in reach the task instead",
                    task.name
                ),
                hint: Some("rename the function".to_owned()),
            })
        })
        .collect()
}

/// The `env` keys the project reads and sets.
#[derive(Default)]
struct EnvUse {
    reads: Vec<(String, Position, String)>,
    writes: BTreeSet<String>,
}

impl EnvUse {
    /// Keys read but set nowhere and unknown to rfab: warnings (`--set` may give them).
    fn findings(self) -> Vec<Finding> {
        let known: BTreeSet<&str> = ENV_KEYS
            .iter()
            .map(|(key, _)| *key)
            .chain(FABRIC_KEYS.iter().copied())
            .collect();
        let mut findings = Vec::new();
        for (key, pos, file) in &self.reads {
            if self.writes.contains(key) || known.contains(key.as_str()) {
                continue;
            }
            let candidates = known
                .iter()
                .copied()
                .chain(self.writes.iter().map(String::as_str));
            let hint = closest(key, candidates).map_or_else(
                || format!("set it in the fabfile or with `--set {key}=...`"),
                |near| format!("did you mean `env.{near}`?"),
            );
            findings.push(finding(
                file,
                *pos,
                Severity::Warning,
                format!("`env.{key}` is read here but set nowhere, and rfab does not know it"),
                Some(hint),
            ));
        }
        findings
    }
}

fn check_call(
    names: &Names,
    file: &File,
    own: &BTreeSet<String>,
    fabfile: &Fabfile,
    call: &rhai::FnCallExpr,
    pos: Position,
    shown: &str,
) -> Option<Finding> {
    let name = call.name.as_str();
    // Operators (`+`, `==`) are calls too.
    if call.op_token.is_some() || !name.starts_with(|c: char| c.is_alphabetic() || c == '_') {
        return None;
    }
    if call.namespace.is_empty() {
        if name == "execute"
            && let Some(Expr::StringConstant(task, at)) = call.args.first()
            && fabfile.task(task).is_err()
        {
            let tasks = fabfile.tasks.iter().map(|t| t.name.as_str());
            let hint = closest(task, tasks).map(|n| format!("did you mean `{n}`?"));
            return Some(finding(
                shown,
                *at,
                Severity::Error,
                format!("`execute(\"{task}\")` names no task of this fabfile"),
                hint,
            ));
        }
        if names.exists(name) || own.contains(name) || LANGUAGE.contains(&name) {
            return None;
        }
        let hint = names.nearest(name).map(|n| format!("did you mean `{n}`?"));
        return Some(finding(
            shown,
            pos,
            Severity::Error,
            format!("no function `{name}` exists: not rfab's, not Rhai's, not this file's"),
            hint,
        ));
    }
    let module = call.namespace.root();
    if module == "global" {
        return None;
    }
    let qualified = format!("{module}::{name}");
    let functions = match file.imports.get(module) {
        Some(functions) => functions,
        // A static module of rfab's (`git::`, `lb::`).
        None if names.exists(&qualified) => return None,
        None if names.modules.contains(module) => {
            let hint = names
                .nearest(&qualified)
                .map(|n| format!("did you mean `{n}`?"));
            return Some(finding(
                shown,
                pos,
                Severity::Error,
                format!("no function `{qualified}` exists"),
                hint,
            ));
        }
        None => {
            return Some(finding(
                shown,
                pos,
                Severity::Error,
                format!("no module `{module}` is imported here"),
                Some(format!(
                    "add `import \"...\" as {module};` at the top of the file"
                )),
            ));
        }
    };
    if functions.contains(name) {
        return None;
    }
    let hint = closest(name, functions.iter().map(String::as_str))
        .map(|n| format!("did you mean `{module}::{n}`?"));
    Some(finding(
        shown,
        pos,
        Severity::Error,
        format!("module `{module}` has no public function `{name}`"),
        hint,
    ))
}

fn finding(
    file: &str,
    pos: Position,
    severity: Severity,
    message: String,
    hint: Option<String>,
) -> Finding {
    Finding {
        file: file.to_owned(),
        line: pos.line().unwrap_or(0),
        column: pos.position().unwrap_or(0),
        severity,
        message,
        hint,
    }
}

/// `env.KEY` or `env["KEY"]`: the key and where it is.
fn env_key(expr: &Expr) -> Option<(String, Position)> {
    let (Expr::Dot(binary, _, pos) | Expr::Index(binary, _, pos)) = expr else {
        return None;
    };
    let Expr::Variable(variable, _, _) = &binary.lhs else {
        return None;
    };
    if variable.1 != "env" {
        return None;
    }
    match &binary.rhs {
        Expr::Property(property, _) => Some((property.2.to_string(), *pos)),
        Expr::StringConstant(key, _) => Some((key.to_string(), *pos)),
        _ => None,
    }
}

/// The names a call may reach.
struct Names {
    /// rfab's functions and Rhai's, plain (`run`, `len`) and qualified (`git::tags`).
    all: BTreeSet<String>,
    /// Rhai's standard library only.
    builtin: BTreeSet<String>,
    /// rfab's static modules: `git`, `lb`.
    modules: BTreeSet<String>,
}

impl Names {
    fn of(engine: &Engine) -> Self {
        let name = |signature: &String| {
            signature
                .split('(')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        };
        let all: BTreeSet<String> = engine.gen_fn_signatures(true).iter().map(name).collect();
        let rfab: BTreeSet<String> = engine.gen_fn_signatures(false).iter().map(name).collect();
        let builtin = all.difference(&rfab).cloned().collect();
        let modules = all
            .iter()
            .filter_map(|n| n.split_once("::").map(|(m, _)| m.to_owned()))
            .collect();
        Self {
            all,
            builtin,
            modules,
        }
    }

    fn exists(&self, name: &str) -> bool {
        self.all.contains(name)
            || self.all.contains(&format!("get${name}"))
            || self.all.contains(&format!("set${name}"))
    }

    fn nearest(&self, name: &str) -> Option<String> {
        let plain = self
            .all
            .iter()
            .filter(|n| !n.contains('$'))
            .map(String::as_str);
        closest(name, plain).map(str::to_owned)
    }
}

/// A file of the project: the fabfile or a module it imports.
struct File {
    path: PathBuf,
    text: String,
    ast: AST,
    /// Import alias to the public functions of that module.
    imports: BTreeMap<String, BTreeSet<String>>,
}

/// The fabfile and every module of the project it imports, each once.
fn project_files(engine: &Engine, root: &Path) -> Vec<File> {
    let mut files: Vec<File> = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(path) = pending.pop() {
        if files.iter().any(|f| f.path == path) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        // The fabfile loaded, so its modules compile.
        let Ok(ast) = engine.compile(&text) else {
            continue;
        };
        let base = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
        let mut imports = BTreeMap::new();
        for statement in ast.statements() {
            let Stmt::Import(import, _) = statement else {
                continue;
            };
            let (Expr::StringConstant(module, _), alias) = (&import.0, &import.1) else {
                continue;
            };
            let functions = if let Some(name) = module.strip_prefix("rfab/") {
                stdlib_functions(engine, name)
            } else {
                let file = base.join(format!("{module}.rhai"));
                let functions = std::fs::read_to_string(&file)
                    .ok()
                    .and_then(|text| engine.compile(text).ok())
                    .map(|ast| public_functions(&ast))
                    .unwrap_or_default();
                pending.push(file);
                functions
            };
            imports.insert(alias.name.to_string(), functions);
        }
        files.push(File {
            path,
            text,
            ast,
            imports,
        });
    }
    files
}

fn stdlib_functions(engine: &Engine, name: &str) -> BTreeSet<String> {
    stdlib::text(name)
        .and_then(|text| engine.compile(text).ok())
        .map(|ast| public_functions(&ast))
        .unwrap_or_default()
}

fn public_functions(ast: &AST) -> BTreeSet<String> {
    ast.iter_functions()
        .filter(|f| f.access != FnAccess::Private)
        .map(|f| f.name.to_owned())
        .collect()
}

/// A path as findings show it: relative to the current directory when it is under it.
fn display(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}
