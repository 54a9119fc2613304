//! `open_shell`: Fabric's interactive shell on the current host, in a pseudo-terminal, with
//! this terminal in raw mode until the shell ends (every key, Ctrl-C included, goes to it).
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use std::io::{IsTerminal, Read, Write};
use std::os::fd::AsFd;
use std::sync::PoisonError;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::termios::{SetArg, Termios, cfmakeraw, tcgetattr, tcsetattr};
use rhai::plugin::*;
use rhai::{EvalAltResult, NativeCallContext};

use crate::output::Level;
use crate::script::api::remote::{connect, needs_host};
use crate::script::context::Context;

#[export_module]
pub(crate) mod shell_api {
    use super::NativeCallContext;

    /// Open an interactive shell on the current host (Fabric's `open_shell`): a login
    /// shell in a pseudo-terminal the size of this one, which is in raw mode until the
    /// shell exits, so that every key (Ctrl-C too) goes to the host. Needs a terminal.
    ///
    /// ```rhai
    /// fn console() { open_shell(); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn open_shell(ctx: NativeCallContext) -> Result<(), Box<EvalAltResult>> {
        super::open(&ctx, None)
    }

    /// `open_shell()` with `command` typed into the shell first, as Fabric does.
    ///
    /// ```rhai
    /// fn logs() { open_shell("cd /srv/app/current && tail -f log/production.log"); }
    /// ```
    #[rhai_fn(name = "open_shell", return_raw)]
    pub fn open_shell_with(
        ctx: NativeCallContext,
        command: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        super::open(&ctx, Some(command))
    }
}

/// Puts the terminal back as it was when dropped.
struct RawMode(Termios);

impl RawMode {
    fn enter() -> nix::Result<Self> {
        let stdin = std::io::stdin();
        let before = tcgetattr(stdin.as_fd())?;
        let mut raw = before.clone();
        cfmakeraw(&mut raw);
        tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw)?;
        Ok(Self(before))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, &self.0);
    }
}

fn open(ctx: &NativeCallContext, command: Option<&str>) -> Result<(), Box<EvalAltResult>> {
    let context = Context::of(ctx)?;
    let target = needs_host(&context, "open_shell")?;
    let host = &target.host_string;
    if context.shows(Level::Running) {
        context
            .runtime
            .output
            .command(host, "open_shell", command.unwrap_or(""));
    }
    if context.runtime.dry_run() {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(format!(
            "open_shell() on `{host}` needs a terminal: run rfab from one (it has none here)"
        )
        .into());
    }
    let failed = |what: &str, e: &dyn std::fmt::Display| -> Box<EvalAltResult> {
        format!("open_shell() on `{host}`: {what}: {e}").into()
    };
    let connection = connect(&context, &target)?;
    let connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
    let session = &connection.session;
    session.set_blocking(true);
    let mut channel = session
        .channel_session()
        .map_err(|e| failed("cannot open a channel", &e))?;
    let (rows, cols) = console::Term::stdout().size();
    channel
        .request_pty(
            "xterm",
            None,
            Some((u32::from(cols), u32::from(rows), 0, 0)),
        )
        .map_err(|e| failed("cannot get a pseudo-terminal", &e))?;
    channel
        .shell()
        .map_err(|e| failed("cannot start a shell", &e))?;
    if let Some(command) = command {
        channel
            .write_all(format!("{command}\n").as_bytes())
            .map_err(|e| failed("cannot type the command", &e))?;
    }
    let raw = RawMode::enter().map_err(|e| failed("cannot set this terminal to raw mode", &e))?;
    session.set_blocking(false);
    let result = relay(&mut channel);
    session.set_blocking(true);
    drop(raw);
    result.map_err(|e| failed("the shell's connection failed", &e))?;
    let _ = channel.wait_close();
    Ok(())
}

/// Copies keys to the shell and what it prints here, until it exits.
fn relay(channel: &mut ssh2::Channel) -> std::io::Result<()> {
    let mut stdout = std::io::stdout();
    let stdin = std::io::stdin();
    let mut buffer = [0_u8; 8192];
    loop {
        let mut idle = true;
        match channel.read(&mut buffer) {
            Ok(0) => {}
            Ok(n) => {
                stdout.write_all(&buffer[..n])?;
                stdout.flush()?;
                idle = false;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        if channel.eof() {
            return Ok(());
        }
        let mut ready = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
        let wait = if idle { 20_u16 } else { 0 };
        if poll(&mut ready, PollTimeout::from(wait)).unwrap_or(0) > 0 {
            let n = stdin.lock().read(&mut buffer)?;
            if n == 0 {
                let _ = channel.send_eof();
            }
            let mut rest = &buffer[..n];
            while !rest.is_empty() {
                match channel.write(rest) {
                    Ok(written) => rest = &rest[written..],
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }
}
