//! `--json` events: the one place they are built and written. Each is an object on a line of
//! its own with `event`, `ts` (UTC, RFC 3339 with milliseconds), and the `task` and `host` it
//! belongs to; `docs/json.md` is the contract (schema [`SCHEMA`]).
//!
//! Where an event belongs is known by the host pool, not by the code deep below it that
//! emits (an SSH config warning, Rhai's `print`, whose callback gets no call context): the
//! pool marks the thread that runs a task on a host with [`enter`], and events emitted on it
//! carry that task and host unless they name their own host (`lb`, `localhost`).

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

/// The version of the event stream's shape; `start` says it. Bumped when a field changes
/// meaning or goes away; new events and fields do not bump it.
pub(crate) const SCHEMA: u32 = 1;

/// The task and host this thread works for.
#[derive(Clone, Default)]
struct Place {
    task: Option<Arc<str>>,
    host: Option<String>,
}

/// Whether `end` has been written: nothing comes after it, not even a second `end` (Ctrl-C
/// can exit at once while the run is ending).
static ENDED: AtomicBool = AtomicBool::new(false);

thread_local! {
    static HERE: RefCell<Place> = RefCell::new(Place::default());
}

/// Puts the place back as it was when dropped: `execute()` runs a task inside a task.
pub(crate) struct Here {
    previous: Place,
}

impl Drop for Here {
    fn drop(&mut self) {
        let previous = std::mem::take(&mut self.previous);
        HERE.with(|here| *here.borrow_mut() = previous);
    }
}

/// Marks the events this thread emits, until the guard is dropped, as `task`'s on `host`.
pub(crate) fn enter(task: Option<Arc<str>>, host: Option<&str>) -> Here {
    let place = Place {
        task,
        host: host.map(str::to_owned),
    };
    Here {
        previous: HERE.with(|here| std::mem::replace(&mut *here.borrow_mut(), place)),
    }
}

/// Writes event `name` with `fields` (an object), on `host` if given, else on the thread's.
pub(crate) fn emit(name: &str, host: Option<&str>, fields: Value) {
    let place = HERE.with(|here| here.borrow().clone());
    let mut event = match fields {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    event.insert("event".into(), name.into());
    event.insert("ts".into(), timestamp(SystemTime::now()).into());
    event.insert("task".into(), place.task.as_deref().into());
    event.insert("host".into(), host.or(place.host.as_deref()).into());
    write(name == "end", &Value::Object(event));
}

/// One JSON event on a line of its own. JSON leaves C1 control characters (U+0080 to
/// U+009F) as they are, and a terminal reading them acts on them: they are escaped too.
fn write(end: bool, event: &Value) {
    let mut line = String::new();
    for c in event.to_string().chars() {
        if ('\u{80}'..='\u{9f}').contains(&c) {
            let _ = write!(line, "\\u{:04x}", u32::from(c));
        } else {
            line.push(c);
        }
    }
    line.push('\n');
    // Checked under the lock, so that `end` is last whatever other threads write.
    let mut stdout = io::stdout().lock();
    let ended = if end {
        ENDED.swap(true, Ordering::SeqCst)
    } else {
        ENDED.load(Ordering::SeqCst)
    };
    if !ended {
        super::write_line(&mut stdout, &line);
    }
}

/// `2026-12-01T12:00:00.123Z`
fn timestamp(time: SystemTime) -> String {
    // A clock before 1970 is a broken clock; the epoch says so plainly.
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since.as_secs();
    let (year, month, day) = civil_date(seconds / 86_400);
    let of_day = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        since.subsec_millis()
    )
}

/// Year, month and day of the `days`th day after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days since the epoch only).
fn civil_date(days: u64) -> (u64, u64, u64) {
    // Counted from 0000-03-01, so that the leap day ends each 400-year era's year.
    let days = days + 719_468;
    let era = days / 146_097;
    let day_of_era = days % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(seconds: u64, millis: u64) -> String {
        timestamp(UNIX_EPOCH + Duration::from_secs(seconds) + Duration::from_millis(millis))
    }

    #[test]
    fn timestamps_are_utc_rfc_3339_with_milliseconds() {
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400, 7), "2000-02-29T00:00:00.007Z");
        assert_eq!(at(1_796_126_400, 123), "2026-12-01T12:00:00.123Z");
        assert_eq!(at(4_107_542_399, 999), "2100-02-28T23:59:59.999Z");
        assert_eq!(at(4_107_542_400, 0), "2100-03-01T00:00:00.000Z");
    }

    #[test]
    fn events_carry_the_place_they_were_entered_from() {
        let outer = enter(Some("deploy".into()), Some("web1"));
        {
            let _inner = enter(Some("check".into()), None);
            assert_eq!(
                HERE.with(|h| h.borrow().task.as_deref().map(str::to_owned)),
                Some("check".into())
            );
        }
        assert_eq!(HERE.with(|h| h.borrow().host.clone()), Some("web1".into()));
        drop(outer);
        assert!(HERE.with(|h| h.borrow().task.is_none()));
    }
}
