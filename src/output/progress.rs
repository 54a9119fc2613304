//! Progress bars on the terminal for long parallel runs and big transfers.
//!
//! Drawn on stderr, only when it is a terminal and output is for people. Several bars may
//! be up at once (a task's hosts, and each host's upload under `-P`); they tick on their own
//! (elapsed time, spinner) even while nothing finishes. Every line rfab prints meanwhile is
//! written while the bars are lifted, so lines stay whole.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a bar redraws by itself, so that a long wait never looks frozen.
const TICK: Duration = Duration::from_millis(120);

/// The bars being shown, shared by every copy of `Output`.
#[derive(Clone, Debug)]
pub(crate) struct Progress {
    bars: MultiProgress,
}

impl Default for Progress {
    fn default() -> Self {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Self {
            bars: MultiProgress::with_draw_target(target),
        }
    }
}

/// What a bar counts.
pub(crate) enum Unit {
    Hosts,
    Bytes,
}

/// Removes its bar when dropped.
pub(crate) struct Shown {
    bar: Option<ProgressBar>,
    bars: Option<MultiProgress>,
}

impl Progress {
    /// Shows a bar of `total` units (none for 0, or when stderr is no terminal).
    pub(crate) fn show(&self, total: u64, unit: &Unit, message: &str) -> Shown {
        if total == 0 || self.bars.is_hidden() {
            return Shown::none();
        }
        let template = match unit {
            Unit::Hosts => "{spinner} {msg} [{bar:30}] {pos}/{len} hosts, {elapsed}",
            Unit::Bytes => {
                "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}, {eta} left"
            }
        };
        let bar = self.bars.add(
            ProgressBar::new(total)
                .with_style(
                    ProgressStyle::with_template(template)
                        .expect("a valid template")
                        .progress_chars("=> "),
                )
                .with_message(message.to_owned()),
        );
        bar.enable_steady_tick(TICK);
        Shown {
            bar: Some(bar),
            bars: Some(self.bars.clone()),
        }
    }

    /// Runs `print` with the bars lifted off the screen.
    pub(crate) fn around(&self, print: impl FnOnce()) {
        self.bars.suspend(print);
    }
}

impl Shown {
    /// No bar: for work too small to show one for.
    pub(crate) fn none() -> Self {
        Self {
            bar: None,
            bars: None,
        }
    }

    pub(crate) fn advance(&self, by: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(by);
        }
    }
}

impl Drop for Shown {
    fn drop(&mut self) {
        if let (Some(bar), Some(bars)) = (self.bar.take(), &self.bars) {
            bar.finish_and_clear();
            bars.remove(&bar);
        }
    }
}
