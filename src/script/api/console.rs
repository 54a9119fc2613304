//! Talking to the person running rfab: `abort`, `warn`, `puts`, `prompt`, `confirm`.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use std::io::{BufRead, IsTerminal, Write};

use rhai::plugin::*;
use rhai::{EvalAltResult, Map, NativeCallContext};

use crate::script::abort::Abort;
use crate::script::api::check_options;
use crate::script::context::Context;

#[export_module]
pub(crate) mod console_api {
    use super::{Abort, Context, Map, NativeCallContext};

    /// Stop the run: prints `Fatal error: MESSAGE` and `Aborting.`, and rfab exits with 1.
    ///
    /// ```rhai
    /// if env.stage == () { abort("choose an environment first: rfab prod deploy"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn abort(ctx: NativeCallContext, message: &str) -> Result<(), Box<EvalAltResult>> {
        Err(
            EvalAltResult::ErrorRuntime(Dynamic::from(Abort(message.into())), ctx.call_position())
                .into(),
        )
    }

    /// Print `Warning: MESSAGE` on stderr and go on.
    ///
    /// ```rhai
    /// if env.user == "root" { warn("deploying as root"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn warn(ctx: NativeCallContext, message: &str) -> Result<(), Box<EvalAltResult>> {
        let context = Context::of(&ctx)?;
        context.runtime.output.warning(context.host(), message);
        Ok(())
    }

    /// Print a line, prefixed with `[HOST]` while running on a host.
    ///
    /// ```rhai
    /// puts(`now serving ${env.version}`);   // [web1] now serving 3.0.1
    /// ```
    #[rhai_fn(return_raw)]
    pub fn puts(ctx: NativeCallContext, message: &str) -> Result<(), Box<EvalAltResult>> {
        let context = Context::of(&ctx)?;
        if context.shows(crate::output::Level::User) {
            context.runtime.output.user(context.host(), message);
        }
        Ok(())
    }

    /// Ask a question on the terminal and return the answer.
    ///
    /// Without a terminal the answer is read from stdin (`echo v3 | rfab release`); with
    /// nothing left there, or with `--abort-on-prompts`, this is an error: use the options
    /// form to give a default or an env key that `--set` can answer.
    ///
    /// ```rhai
    /// let name = prompt("Release name?");
    /// ```
    #[rhai_fn(name = "prompt", return_raw)]
    pub fn prompt(ctx: NativeCallContext, text: &str) -> Result<String, Box<EvalAltResult>> {
        super::prompt(&ctx, text, &Map::new())
    }

    /// `prompt()` with options:
    /// - `fallback`: the answer for an empty line, and when no one can be asked
    ///   (`default` is a reserved word in Rhai);
    /// - `key`: an env key; if `--set KEY=...` (or the fabfile) set it, that is the answer
    ///   and nothing is asked; the answer is stored there.
    ///
    /// ```rhai
    /// let tag = prompt("Tag to deploy?", #{ key: "deploy_tag", fallback: "stable" });
    /// ```
    #[rhai_fn(name = "prompt", return_raw)]
    pub fn prompt_with(
        ctx: NativeCallContext,
        text: &str,
        options: Map,
    ) -> Result<String, Box<EvalAltResult>> {
        super::prompt(&ctx, text, &options)
    }

    /// Ask a yes/no question; an empty answer means yes.
    ///
    /// ```rhai
    /// if !confirm("Deploy to production?") { abort("cancelled"); }
    /// ```
    #[rhai_fn(name = "confirm", return_raw)]
    pub fn confirm(ctx: NativeCallContext, text: &str) -> Result<bool, Box<EvalAltResult>> {
        super::confirm(&ctx, text, true, false)
    }

    /// Ask a yes/no question with the answer for an empty line, also used when no one can
    /// be asked (nothing left on a piped stdin, `--abort-on-prompts`).
    ///
    /// ```rhai
    /// if confirm("Also clear the cache?", false) { local("rm -rf .cache"); }
    /// ```
    #[rhai_fn(name = "confirm", return_raw)]
    pub fn confirm_with(
        ctx: NativeCallContext,
        text: &str,
        default: bool,
    ) -> Result<bool, Box<EvalAltResult>> {
        super::confirm(&ctx, text, default, true)
    }
}

fn prompt(
    ctx: &NativeCallContext,
    text: &str,
    options: &Map,
) -> Result<String, Box<EvalAltResult>> {
    check_options("prompt", options, &["fallback", "key"])?;
    let context = Context::of(ctx)?;
    let env = &context.runtime.env;
    let key = options.get("key").map(ToString::to_string);
    if let Some(answer) = key
        .as_deref()
        .and_then(|k| env.get(k))
        .filter(|v| !v.is_unit())
    {
        return Ok(answer.to_string());
    }
    let default = options.get("fallback").map(ToString::to_string);
    let answer = match ask(
        &context,
        text,
        default.as_deref().map(|d| format!("[{d}] ")).as_deref(),
    )? {
        Some(line) if !line.is_empty() => line,
        _ => match &default {
            Some(default) => default.clone(),
            None => return Err(cannot_ask(&context, text, key.as_deref()).into()),
        },
    };
    if let Some(key) = key {
        env.set(&key, answer.as_str().into());
    }
    Ok(answer)
}

fn confirm(
    ctx: &NativeCallContext,
    text: &str,
    default: bool,
    has_default: bool,
) -> Result<bool, Box<EvalAltResult>> {
    let context = Context::of(ctx)?;
    let hint = if default { "[Y/n] " } else { "[y/N] " };
    loop {
        match ask(&context, text, Some(hint))? {
            None if !has_default => return Err(cannot_ask(&context, text, None).into()),
            None => return Ok(default),
            Some(line) => match line.to_lowercase().as_str() {
                "" => return Ok(default),
                "y" | "yes" => return Ok(true),
                "n" | "no" => return Ok(false),
                _ => context
                    .runtime
                    .output
                    .say("I didn't understand you. Please specify '(y)es' or '(n)o'."),
            },
        }
    }
}

/// Asks on the terminal, or reads the answer from a piped stdin (`echo y | rfab deploy`)
/// as Fabric does; `None` when no one can be asked or stdin has no line left.
fn ask(
    context: &Context,
    text: &str,
    hint: Option<&str>,
) -> Result<Option<String>, Box<EvalAltResult>> {
    if context.flag(&Map::new(), "abort_on_prompts") {
        return Ok(None);
    }
    let terminal = std::io::stdin().is_terminal();
    let prefix = context
        .host()
        .map(|h| format!("[{h}] "))
        .unwrap_or_default();
    let mut stdout = std::io::stdout().lock();
    let _ = write!(stdout, "{prefix}{text} {}", hint.unwrap_or_default());
    let _ = stdout.flush();
    let mut line = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the answer to \"{text}\": {e}"))?;
    let answer = line.trim().to_owned();
    if !terminal {
        // Nothing echoed the piped answer: show it, so the output reads as a session.
        let _ = writeln!(stdout, "{answer}");
    }
    Ok((read > 0).then_some(answer))
}

fn cannot_ask(context: &Context, text: &str, key: Option<&str>) -> String {
    let why = if context.flag(&Map::new(), "abort_on_prompts") {
        "--abort-on-prompts is set"
    } else if std::io::stdin().is_terminal() {
        "the terminal closed"
    } else {
        "stdin has no answer left"
    };
    let hint = match key {
        Some(key) => format!("answer it with `--set {key}=VALUE`"),
        None => {
            "give the prompt a `fallback`, pipe the answer in, or run rfab on a terminal".into()
        }
    };
    format!("cannot ask \"{text}\": {why}; {hint}")
}
