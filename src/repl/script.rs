//! Rhai typed at the prompt, run like the body of a task without host tags: once on each
//! selected host, in parallel, or once locally when no host is selected.
//!
//! What persists from one entry to the next:
//! - functions, shared by every host;
//! - `import`s, replayed before each entry: Rhai forgets them when an evaluation ends
//!   (rhai#934), and the module resolvers' caches make the replay cheap;
//! - variables, which each host keeps for itself (`let r = run("hostname")` holds that host's
//!   result there); a host's first entry starts from the local variables.
//!
//! The value of a final expression is shown per host, unless it is `()` or a command's
//! result, whose output has just been shown.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rhai::{
    AST, ASTFlags, CallFnOptions, Dynamic, Engine, EvalAltResult, Expr, Ident, Module, Scope, Stmt,
};

use crate::error::{Error, Result};
use crate::repl::names::{self, Known};
use crate::script::abort;
use crate::script::api::CommandResult;
use crate::script::context::Context;
use crate::script::decorators::Tags;
use crate::script::diagnostic::Sources;
use crate::script::pool::{self, Outcome, Pool, Turn};
use crate::script::runtime::Runtime;
use crate::ssh::target::Target;

/// The variable an entry's final expression is kept in, to be shown.
const VALUE: &str = "__rfab_value";
/// An empty function: Rhai runs statements with a call tag only on the way to calling one.
const DONE: &str = "__rfab_done";

pub(crate) struct Script {
    /// Functions defined at the prompt; a later definition replaces an earlier one.
    functions: AST,
    /// The entry each of those functions was defined in, by name, for errors: Rhai names
    /// the running program's source instead.
    origins: HashMap<String, String>,
    /// `import` statements of the entries that ran, in order.
    imports: Vec<Stmt>,
    /// `fn __rfab_done() {}`, part of every program.
    done: AST,
    local: Scope<'static>,
    hosts: HashMap<String, Scope<'static>>,
    /// How many entries were compiled: each is a source of its own, `<input N>`.
    entries: usize,
}

/// What the session knows an entry may call, besides what was typed at the prompt.
pub(crate) struct Names {
    /// The engine's functions, callable without a namespace.
    pub(crate) functions: HashSet<String>,
    /// The engine's methods, called with a receiver.
    pub(crate) methods: HashSet<String>,
    /// The fabfile's tasks.
    pub(crate) tasks: Vec<String>,
}

/// One entry, ready to run.
struct Entry {
    program: AST,
    source: String,
    imports: Vec<Stmt>,
    shows_value: bool,
}

impl Script {
    pub(crate) fn new() -> Self {
        Self {
            functions: AST::empty(),
            origins: HashMap::new(),
            imports: Vec::new(),
            done: Engine::new_raw()
                .compile(format!("fn {DONE}() {{}}"))
                .expect("an empty function compiles"),
            local: Scope::new(),
            hosts: HashMap::new(),
            entries: 0,
        }
    }

    /// The functions defined at the prompt, for completion.
    pub(crate) fn function_names(&self) -> Vec<String> {
        self.functions
            .iter_functions()
            .map(|f| f.name.to_owned())
            .filter(|name| name != DONE)
            .collect()
    }

    /// Runs `text` on `targets` (none: locally), all at once (at most `-z` at a time);
    /// every failure is reported, the first is returned.
    pub(crate) fn run(
        &mut self,
        engine: &Engine,
        runtime: &Arc<Runtime>,
        sources: &mut Sources,
        text: &str,
        targets: Vec<Target>,
        names: &Names,
    ) -> Result<()> {
        let entry = self.compile(engine, sources, text, names)?;
        // An entry runs like the body of a task tagged `@parallel`: every host at once.
        let tags = Tags {
            parallel: true,
            ..Tags::default()
        };
        let pool = Pool {
            runtime,
            task: None,
            width: pool::width(&tags, &runtime.ssh, targets.len()),
            once: false,
        };
        let turns = if targets.is_empty() {
            vec![Turn::new(None, std::mem::take(&mut self.local))]
        } else {
            targets
                .into_iter()
                .map(|target| {
                    let scope = self
                        .hosts
                        .remove(&target.host_string)
                        .unwrap_or_else(|| self.local.clone());
                    Turn::new(Some(Arc::new(target)), scope)
                })
                .collect()
        };
        let turns = pool.run(turns, |context, scope| {
            evaluate(engine, context, &entry.program, scope)
        });
        let total = turns.len();
        let mut failures = Vec::new();
        let mut interrupted = false;
        for turn in turns {
            let host = turn.target.as_deref().map(|t| t.host_string.clone());
            match &turn.target {
                Some(target) => self.hosts.insert(target.host_string.clone(), turn.state),
                None => Some(std::mem::replace(&mut self.local, turn.state)),
            };
            // A host Ctrl-C kept from starting was interrupted too.
            let outcome = turn.outcome.unwrap_or_else(|| {
                Err(EvalAltResult::ErrorTerminated(Dynamic::UNIT, rhai::Position::NONE).into())
            });
            match outcome {
                Ok(value) if entry.shows_value => show(engine, runtime, host.as_deref(), value),
                Ok(_) => {}
                Err(error) if pool.skips(&error) => {}
                Err(error)
                    if matches!(error.unwrap_inner(), EvalAltResult::ErrorTerminated(..)) =>
                {
                    interrupted = true;
                }
                Err(error) => {
                    let error = self.relabel(*error);
                    let message = abort::message(&error)
                        .unwrap_or_else(|| sources.eval_error(&error, &entry.source));
                    failures.push((host, message));
                }
            }
        }
        report(runtime, &failures, total);
        if interrupted {
            return Err(Error::Interrupted);
        }
        if let Some((_, message)) = failures.into_iter().next() {
            return Err(Error::TaskFailed(message));
        }
        self.imports.extend(entry.imports);
        Ok(())
    }

    /// Parses `text`, keeps its functions, and builds the program: the imports so far, the
    /// entry's statements with the final expression kept in [`VALUE`], every function.
    fn compile(
        &mut self,
        engine: &Engine,
        sources: &mut Sources,
        text: &str,
        names: &Names,
    ) -> Result<Entry> {
        self.entries += 1;
        let source = format!("<input {}>", self.entries);
        sources.add_typed(&source, text);
        let mut ast = engine.compile(text).map_err(|e| Error::Script {
            rendered: sources.parse_error(&e, &source),
        })?;
        names::check(&ast, &self.known(names))?;
        ast.set_source(source.as_str());
        for function in ast.iter_functions() {
            self.origins
                .insert(function.name.to_owned(), source.clone());
        }
        self.functions = self.functions.merge(&ast.clone_functions_only());
        let mut statements = ast.statements().to_vec();
        let imports = statements
            .iter()
            .filter(|s| matches!(s, Stmt::Import(..)))
            .cloned()
            .collect();
        let shows_value = keep_value(&mut statements);
        let statements = self.imports.iter().cloned().chain(statements);
        let mut program = AST::new(statements, Module::new())
            .merge(&self.functions)
            .merge(&self.done);
        program.set_source(source.as_str());
        Ok(Entry {
            program,
            source,
            imports,
            shows_value,
        })
    }

    /// What an entry may name now: `names`, the functions typed at the prompt, and the
    /// variables kept here or on any host.
    fn known<'a>(&'a self, names: &'a Names) -> Known<'a> {
        let scopes = std::iter::once(&self.local).chain(self.hosts.values());
        Known {
            functions: names
                .functions
                .iter()
                .map(String::as_str)
                .chain(self.functions.iter_fn_def().map(|f| f.name.as_str()))
                .collect(),
            methods: names.methods.iter().map(String::as_str).collect(),
            variables: scopes
                .flat_map(|scope| scope.iter_raw().map(|(name, ..)| name))
                .chain(["env"])
                .collect(),
            tasks: names.tasks.iter().map(String::as_str).collect(),
        }
    }

    /// Names, in each call of a function defined at the prompt, the entry that defined it.
    fn relabel(&self, error: EvalAltResult) -> EvalAltResult {
        match error {
            EvalAltResult::ErrorInFunctionCall(name, source, inner, pos) => {
                let source = self.origins.get(&name).cloned().unwrap_or(source);
                let inner = Box::new(self.relabel(*inner));
                EvalAltResult::ErrorInFunctionCall(name, source, inner, pos)
            }
            EvalAltResult::ErrorInModule(path, inner, pos) => {
                EvalAltResult::ErrorInModule(path, Box::new(self.relabel(*inner)), pos)
            }
            other => other,
        }
    }
}

/// Turns a final expression into `let __rfab_value = EXPRESSION;`; says whether there was one.
fn keep_value(statements: &mut Vec<Stmt>) -> bool {
    let expression = match statements.pop() {
        Some(Stmt::Expr(expression)) => *expression,
        Some(Stmt::FnCall(call, pos)) => Expr::FnCall(call, pos),
        Some(other) => {
            statements.push(other);
            return false;
        }
        None => return false,
    };
    let pos = expression.position();
    let name = Ident {
        name: VALUE.into(),
        pos,
    };
    statements.push(Stmt::Var(
        Box::new((name, expression, None)),
        ASTFlags::NONE,
        pos,
    ));
    true
}

/// Runs the program's statements in `scope`, under `context`, the way a task runs there.
fn evaluate(
    engine: &Engine,
    context: &Context,
    program: &AST,
    scope: &mut Scope<'static>,
) -> Outcome {
    let options = CallFnOptions::new()
        .eval_ast(true)
        .rewind_scope(false)
        .with_tag(context.clone());
    let result = engine.call_fn_with_options::<()>(options, scope, program, DONE, ());
    let value = scope.remove::<Dynamic>(VALUE).unwrap_or(Dynamic::UNIT);
    result.map(|()| value)
}

/// Prints an entry's value, `[host]`-prefixed on a host: strings as they are, anything else
/// the way Rhai's `to_debug` writes it.
fn show(engine: &Engine, runtime: &Runtime, host: Option<&str>, value: Dynamic) {
    if value.is_unit() || value.is::<CommandResult>() {
        return;
    }
    let text = if value.is_string() {
        value.to_string()
    } else {
        let options = CallFnOptions::new().eval_ast(false).in_all_namespaces(true);
        engine
            .call_fn_with_options::<String>(
                options,
                &mut Scope::new(),
                &AST::empty(),
                "to_debug",
                (value.clone(),),
            )
            .unwrap_or_else(|_| format!("{value:?}"))
    };
    runtime.output.user(host, &text);
}

/// Prints the entry's failures: one line when every host that failed failed the same way
/// (`failed on 3/4 hosts: ...`), else each host's, as a task's would be.
fn report(runtime: &Runtime, failures: &[(Option<String>, String)], total: usize) {
    let output = &runtime.output;
    let generic: Vec<String> = failures
        .iter()
        .map(|(host, message)| without_host(host.as_deref(), message))
        .collect();
    match failures {
        [] => {}
        [(host, message)] => output.fatal(host.as_deref(), message),
        _ if generic.windows(2).all(|pair| pair[0] == pair[1]) => {
            let count = format!("{}/{total} hosts", failures.len());
            let hosts = if failures.len() == total {
                count
            } else {
                let names: Vec<&str> = failures.iter().filter_map(|(h, _)| h.as_deref()).collect();
                format!("{} ({count})", names.join(", "))
            };
            output.fatal(None, &format!("failed on {hosts}: {}", generic[0]));
        }
        _ => {
            for (host, message) in failures {
                output.fatal(host.as_deref(), message);
            }
        }
    }
}

/// A host's failure said for any host: messages name their host in backticks (`run()
/// failed on `web1`: ...`), which the collapsed line names already. Only the backticked
/// name is replaced: a host `a` must leave the rest of the message alone.
fn without_host(host: Option<&str>, message: &str) -> String {
    match host {
        Some(host) => message
            .replace(&format!(" on `{host}`"), "")
            .replace(&format!("`{host}`"), "`HOST`"),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_said_for_any_host_drops_only_the_host_s_name() {
        assert_eq!(
            without_host(
                Some("a"),
                "run() failed on `a`: `cat a` exited with status 1"
            ),
            "run() failed: `cat a` exited with status 1"
        );
        assert_eq!(
            without_host(Some("a"), "cannot connect to `a`: refused; a hint"),
            "cannot connect to `HOST`: refused; a hint"
        );
        assert_eq!(without_host(None, "boom `a`"), "boom `a`");
    }
}
