//! The per-host summary printed at the end of a run: how each host fared, how long it took.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::output::Output;

/// How a task ended on a host, worst last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Outcome {
    Ok,
    Skipped,
    Interrupted,
    Failed,
}

impl Outcome {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Skipped => "skipped",
            Self::Interrupted => "interrupted",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug)]
struct Row {
    host: String,
    tasks: Vec<String>,
    outcome: Outcome,
    time: Duration,
}

#[derive(Debug, Default)]
pub(crate) struct Summary {
    rows: Mutex<Vec<Row>>,
}

impl Summary {
    /// Adds one task's run on `host`; a host keeps its worst outcome and its total time.
    pub(crate) fn record(&self, host: &str, task: &str, outcome: Outcome, time: Duration) {
        let mut rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        match rows.iter_mut().find(|r| r.host == host) {
            Some(row) => {
                if !row.tasks.iter().any(|t| t == task) {
                    row.tasks.push(task.into());
                }
                row.outcome = row.outcome.max(outcome);
                row.time += time;
            }
            None => rows.push(Row {
                host: host.into(),
                tasks: vec![task.into()],
                outcome,
                time,
            }),
        }
    }

    /// Prints the table, if any task ran on a host.
    pub(crate) fn print(&self, output: &Output) {
        let rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        if rows.is_empty() {
            return;
        }
        let table: Vec<(&str, &str, f64, String)> = rows
            .iter()
            .map(|r| {
                (
                    r.host.as_str(),
                    r.outcome.label(),
                    r.time.as_secs_f64(),
                    r.tasks.join(", "),
                )
            })
            .collect();
        output.summary(&table);
    }
}
