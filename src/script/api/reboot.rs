//! `reboot`: Fabric's `reboot()`: restart the current host and wait until it can be reached
//! again, so the task goes on with a new connection.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use std::sync::PoisonError;
use std::time::{Duration, Instant};

use rhai::plugin::*;
use rhai::{EvalAltResult, Map, NativeCallContext};

use crate::output::Level;
use crate::script::api::remote::{command_line, connect, needs_host, sudo_password};
use crate::script::api::time::pause;
use crate::script::api::{check_options, seconds};
use crate::script::context::Context;
use crate::ssh::command::{self, Failure, Request, Sudo};

#[export_module]
pub(crate) mod reboot_api {
    use super::{Map, NativeCallContext};

    /// Restart the current host and wait until it answers again (Fabric's `reboot`): runs
    /// `command` (default `"reboot"`) through `sudo()` (or `run()` with `use_sudo: false`),
    /// where the connection dropping is expected, waits `delay` seconds (5) for the host
    /// to go down, then connects again, trying until `wait` seconds (120) have passed.
    /// Ctrl-C ends the waits.
    ///
    /// ```rhai
    /// sudo("apt-get -y dist-upgrade");
    /// reboot(#{ wait: 300 });
    /// run("uname -r");
    /// ```
    #[rhai_fn(name = "reboot", return_raw)]
    pub fn reboot_with(ctx: NativeCallContext, options: Map) -> Result<(), Box<EvalAltResult>> {
        super::reboot(&ctx, &options)
    }

    /// `reboot` with the default options.
    ///
    /// ```rhai
    /// reboot();
    /// ```
    #[rhai_fn(name = "reboot", return_raw)]
    pub fn reboot(ctx: NativeCallContext) -> Result<(), Box<EvalAltResult>> {
        super::reboot(&ctx, &Map::new())
    }
}

/// How long one attempt to connect again may take before the next.
const RETRY_EVERY: Duration = Duration::from_secs(1);

fn reboot(ctx: &NativeCallContext, options: &Map) -> Result<(), Box<EvalAltResult>> {
    check_options("reboot", options, &["wait", "delay", "command", "use_sudo"])?;
    let context = Context::of(ctx)?;
    let target = needs_host(&context, "reboot")?;
    let wait = seconds(
        "reboot(): `wait`",
        options.get("wait").unwrap_or(&Dynamic::from_int(120)),
    )?;
    let delay = seconds(
        "reboot(): `delay`",
        options.get("delay").unwrap_or(&Dynamic::from_int(5)),
    )?;
    let reboot = options
        .get("command")
        .map_or_else(|| "reboot".to_owned(), ToString::to_string);
    let use_sudo = options
        .get("use_sudo")
        .is_none_or(crate::script::env::truthy);
    let host = &target.host_string;
    let output = &context.runtime.output;
    if context.shows(Level::Running) {
        output.command(host, if use_sudo { "sudo" } else { "run" }, &reboot);
    }
    if context.runtime.dry_run() {
        return Ok(());
    }
    let (line, prompt) = command_line(&context, &reboot, &Map::new(), use_sudo)?;
    {
        let connection = connect(&context, &target)?;
        let connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
        let ask = sudo_password(&context, &target);
        let request = Request {
            command: line,
            timeout: Some(wait),
            sudo: prompt.as_ref().map(|prompt| Sudo {
                prompt,
                password: &ask,
            }),
            pty: false,
            forward_agent: false,
            ignore_interrupt: false,
            output_limit: crate::output::lines::DEFAULT_LIMIT,
        };
        let shows = context.shows(Level::Stdout);
        let mut each = |is_err: bool, text: &str| {
            if shows {
                output.line(host, is_err, text, false);
            }
        };
        match command::run(&connection, &request, &mut each) {
            // The host going down takes the connection with it: that is the point.
            Ok(_) | Err(Failure::Ssh(_) | Failure::Stalled(_) | Failure::TimedOut(_)) => {}
            Err(Failure::Interrupted) => {
                return Err(
                    EvalAltResult::ErrorTerminated(Dynamic::UNIT, ctx.call_position()).into(),
                );
            }
            Err(Failure::SudoPassword(why)) => {
                context.runtime.credentials.forget_sudo_password();
                return Err(format!(
                    "{why} on `{host}` for `{reboot}`; give it in RFAB_SUDO_PASSWORD, or run rfab on a terminal"
                )
                .into());
            }
        }
    }
    context.runtime.connections.forget(&target);
    let started = Instant::now();
    pause(ctx, delay)?;
    loop {
        let tried = Instant::now();
        match connect(&context, &target) {
            Ok(_) => {
                if context.shows(Level::Running) {
                    let back = format!("back after {:.0}s", started.elapsed().as_secs_f64());
                    output.command(host, "reboot", &back);
                }
                return Ok(());
            }
            Err(error) if started.elapsed() >= wait => {
                return Err(format!(
                    "reboot(): `{host}` did not answer within {}s after `{reboot}`: {error}; \
                     give it longer with `wait`",
                    wait.as_secs()
                )
                .into());
            }
            Err(_) => pause(ctx, RETRY_EVERY.saturating_sub(tried.elapsed()))?,
        }
    }
}
