//! Ctrl-C: the first stops starting new work and cancels the running script and commands;
//! the second exits at once with status 130. `rfab repl` resets the flag once the
//! interrupted line has stopped, and goes back to its prompt.
//!
//! Signals belong to the process, so the flag is process-wide. Scripts see it through the
//! engine's progress hook, long-running native functions (`local`, later SSH reads) poll it.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();

/// Installs the handler once per process; later calls do nothing.
pub(crate) fn install() {
    INSTALL.call_once(|| {
        // Without a handler Ctrl-C still ends rfab (the default action), just less gracefully.
        let _ = ctrlc::set_handler(|| {
            if INTERRUPTED.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("\nInterrupted: stopping (press Ctrl-C again to exit now)");
        });
    });
}

/// Whether Ctrl-C (or SIGTERM, SIGHUP) has been received.
pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Forgets an earlier Ctrl-C once its work has stopped, so that the next piece of work
/// runs (`rfab repl` goes back to its prompt after one).
pub(crate) fn reset() {
    INTERRUPTED.store(false, Ordering::SeqCst);
}
