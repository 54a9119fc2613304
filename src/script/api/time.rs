//! Time for scripts: `sleep` that Ctrl-C ends, and the local or UTC date and time as text
//! (Python's `time.sleep`, `time.strftime`, `time.time`).
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use std::time::{Duration, Instant};

use chrono::format::{Item, StrftimeItems};
use rhai::plugin::*;
use rhai::{EvalAltResult, NativeCallContext};

use crate::signals;

#[export_module]
pub(crate) mod time_api {
    use super::NativeCallContext;

    /// Wait `seconds` (an integer or a float). Ctrl-C ends the wait, and the task with it,
    /// at once (Rhai's own `sleep` would wait to the end).
    ///
    /// ```rhai
    /// run("systemctl restart app");
    /// sleep(2);
    /// sleep(0.5);
    /// ```
    #[rhai_fn(name = "sleep", return_raw)]
    pub fn sleep_int(ctx: NativeCallContext, seconds: i64) -> Result<(), Box<EvalAltResult>> {
        super::sleep(&ctx, &Dynamic::from_int(seconds))
    }

    /// `sleep` for a float number of seconds.
    ///
    /// ```rhai
    /// sleep(0.25);
    /// ```
    #[rhai_fn(name = "sleep", return_raw)]
    pub fn sleep_float(ctx: NativeCallContext, seconds: f64) -> Result<(), Box<EvalAltResult>> {
        super::sleep(&ctx, &Dynamic::from_float(seconds))
    }

    /// The local date and time as `format` says, with strftime's `%` codes (`%Y-%m-%d
    /// %H:%M:%S`, `%a`, `%b`, `%s`, `%z`...), as Python's `time.strftime`.
    ///
    /// ```rhai
    /// let stamp = strftime("%Y%m%d%H%M%S");   // 20261201123456
    /// ```
    #[rhai_fn(return_raw)]
    pub fn strftime(format: &str) -> Result<String, Box<EvalAltResult>> {
        super::formatted("strftime", format, &chrono::Local::now())
    }

    /// `strftime` in UTC rather than local time.
    ///
    /// ```rhai
    /// let stamp = strftime_utc("%Y-%m-%dT%H:%M:%SZ");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn strftime_utc(format: &str) -> Result<String, Box<EvalAltResult>> {
        super::formatted("strftime_utc", format, &chrono::Utc::now())
    }

    /// Seconds since 1970-01-01 UTC, as an integer (Python's `int(time.time())`). For
    /// measuring how long something takes, Rhai's `timestamp()` and `.elapsed` are better.
    ///
    /// ```rhai
    /// let started = unix_time();
    /// ```
    pub fn unix_time() -> i64 {
        chrono::Utc::now().timestamp()
    }
}

/// Waits `seconds` (an integer or a float).
fn sleep(ctx: &NativeCallContext, seconds: &Dynamic) -> Result<(), Box<EvalAltResult>> {
    pause(ctx, super::seconds("sleep()", seconds)?)
}

/// Waits `length`, a little at a time, so that Ctrl-C ends the wait.
pub(super) fn pause(ctx: &NativeCallContext, length: Duration) -> Result<(), Box<EvalAltResult>> {
    let end = Instant::now() + length;
    loop {
        if signals::interrupted() {
            return Err(EvalAltResult::ErrorTerminated(Dynamic::UNIT, ctx.call_position()).into());
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

fn formatted<Tz: chrono::TimeZone>(
    function: &str,
    format: &str,
    time: &chrono::DateTime<Tz>,
) -> Result<String, Box<EvalAltResult>>
where
    Tz::Offset: std::fmt::Display,
{
    // chrono panics on writing a bad code: check the codes first.
    let items: Vec<Item> = StrftimeItems::new(format).collect();
    if items.iter().any(|item| matches!(item, Item::Error)) {
        return Err(format!(
            "{function}(): `{format}` has a `%` code strftime does not know; write `%%` for a percent sign"
        )
        .into());
    }
    Ok(time.format_with_items(items.into_iter()).to_string())
}
