//! A progress bar on the terminal for long parallel runs and big transfers.
//!
//! Drawn on stderr, only when it is a terminal and output is for people; every line rfab
//! prints meanwhile is written while the bar is lifted, so lines stay whole.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex, PoisonError};

use indicatif::{ProgressBar, ProgressStyle};

/// The bar being shown, if any: one at a time, shared by every copy of `Output`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Progress {
    bar: Arc<Mutex<Option<ProgressBar>>>,
}

/// What a bar counts.
pub(crate) enum Unit {
    Hosts,
    Bytes,
}

/// Removes its bar when dropped.
pub(crate) struct Shown {
    bar: Option<ProgressBar>,
    progress: Progress,
}

impl Progress {
    /// Shows a bar of `total` units, unless one is shown already or stderr is no terminal.
    pub(crate) fn show(&self, total: u64, unit: &Unit, message: &str) -> Shown {
        let mut slot = self.bar.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_some() || !std::io::stderr().is_terminal() {
            return Shown {
                bar: None,
                progress: self.clone(),
            };
        }
        let template = match unit {
            Unit::Hosts => "{spinner} {msg} [{bar:30}] {pos}/{len} hosts, {elapsed}",
            Unit::Bytes => {
                "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}, {eta} left"
            }
        };
        let bar = ProgressBar::new(total)
            .with_style(
                ProgressStyle::with_template(template)
                    .expect("a valid template")
                    .progress_chars("=> "),
            )
            .with_message(message.to_owned());
        *slot = Some(bar.clone());
        Shown {
            bar: Some(bar),
            progress: self.clone(),
        }
    }

    /// Runs `print` with the bar lifted off the screen, if one is shown.
    pub(crate) fn around(&self, print: impl FnOnce()) {
        let bar = self
            .bar
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }
}

impl Shown {
    /// No bar: for work too small to show one for.
    pub(crate) fn none() -> Self {
        Self {
            bar: None,
            progress: Progress::default(),
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
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            *self
                .progress
                .bar
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = None;
        }
    }
}
