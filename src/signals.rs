//! Ctrl-C: the first stops starting new work and cancels the running script and commands;
//! the second exits at once with status 130, unless rfab is putting hosts back as they were
//! (`on_abort`): then it takes a third, since exiting there can leave a host locked or on a
//! release that was never checked. `rfab repl` resets the count once the interrupted line
//! has stopped, and goes back to its prompt.
//!
//! Signals belong to the process, so the state is process-wide. Scripts see it through the
//! engine's progress hook, long-running native functions (`local`, SSH reads) poll it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Once, OnceLock, mpsc};
use std::time::Duration;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Ctrl-C presses since the last `reset`.
static PRESSES: AtomicUsize = AtomicUsize::new(0);
/// How many cleanups (`on_abort` runs) are under way.
static CLEANING: AtomicUsize = AtomicUsize::new(0);
static INSTALL: Once = Once::new();
/// What to say before exiting at once (`--json`'s `end`), if anything.
static LAST_WORDS: OnceLock<Box<dyn Fn() + Send + Sync>> = OnceLock::new();
/// How long the last words may take: a reader that stopped reading stdout must not keep
/// rfab from exiting.
const LAST_WORDS_WAIT: Duration = Duration::from_millis(500);

/// Installs the handler once per process; later calls do nothing.
pub(crate) fn install() {
    INSTALL.call_once(|| {
        // Without a handler Ctrl-C still ends rfab (the default action), just less gracefully.
        let _ = ctrlc::set_handler(|| {
            INTERRUPTED.store(true, Ordering::SeqCst);
            let presses = PRESSES.fetch_add(1, Ordering::SeqCst) + 1;
            let cleaning = CLEANING.load(Ordering::SeqCst) > 0;
            match (presses, cleaning) {
                (1, _) => eprintln!("\nInterrupted: stopping (press Ctrl-C again to exit now)"),
                (2, true) => eprintln!(
                    "\nStill putting the hosts back as they were: press Ctrl-C once more to exit now and leave them as they are"
                ),
                (_, true) => {
                    eprintln!(
                        "\nExiting before the cleanup finished: hosts may be left locked or on a release that was never checked; \
                         the `status` task shows them, `deploy.unlock` puts back what was live"
                    );
                    exit_now();
                }
                _ => exit_now(),
            }
        });
    });
}

/// Sets what to say when a Ctrl-C exits at once; once per process.
pub(crate) fn last_words(say: impl Fn() + Send + Sync + 'static) {
    let _ = LAST_WORDS.set(Box::new(say));
}

fn exit_now() -> ! {
    if let Some(say) = LAST_WORDS.get() {
        let (said, waited) = mpsc::channel();
        std::thread::spawn(move || {
            say();
            let _ = said.send(());
        });
        let _ = waited.recv_timeout(LAST_WORDS_WAIT);
    }
    std::process::exit(130)
}

/// Whether Ctrl-C (or SIGTERM, SIGHUP) has been received.
pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Forgets an earlier Ctrl-C once its work has stopped, so that the next piece of work
/// runs (`rfab repl` goes back to its prompt after one).
pub(crate) fn reset() {
    INTERRUPTED.store(false, Ordering::SeqCst);
    PRESSES.store(0, Ordering::SeqCst);
}

/// Marks a cleanup under way until the guard is dropped: a second Ctrl-C then warns
/// instead of exiting.
pub(crate) fn cleaning() -> Cleaning {
    CLEANING.fetch_add(1, Ordering::SeqCst);
    Cleaning
}

/// See [`cleaning`].
pub(crate) struct Cleaning;

impl Drop for Cleaning {
    fn drop(&mut self) {
        CLEANING.fetch_sub(1, Ordering::SeqCst);
    }
}
