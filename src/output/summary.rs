//! The per-host summary printed at the end of a run: how each host fared, how long it took,
//! why it failed, and which hosts were never reached.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::output::Output;

/// How a task ended on a host, worst last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Outcome {
    Ok,
    /// Succeeded under `--dry-run`: nothing was changed.
    Dry,
    /// Its turn never came: an earlier host failed, or Ctrl-C stopped the run first.
    NotRun,
    Skipped,
    Interrupted,
    Failed,
}

impl Outcome {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Dry => "dry",
            Self::NotRun => "not run",
            Self::Skipped => "skipped",
            Self::Interrupted => "interrupted",
            Self::Failed => "failed",
        }
    }
}

/// Where the summary credits the tasks that run once (`@runs_once`): to the run, not to
/// the host they happened to run on.
pub(crate) const ONCE: &str = "(run once)";

/// One row of the table: a host, or [`ONCE`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Row {
    pub(crate) host: String,
    /// Each task, in the order they came, with how it ended here.
    pub(crate) tasks: Vec<(String, Outcome)>,
    pub(crate) time: Duration,
    /// The first failure's message, first line.
    pub(crate) reason: Option<String>,
}

impl Row {
    /// The worst of the row's tasks.
    pub(crate) fn outcome(&self) -> Outcome {
        self.tasks
            .iter()
            .map(|(_, outcome)| *outcome)
            .max()
            .unwrap_or(Outcome::NotRun)
    }

    /// `prod, deploy`, each task that did not end as the row did marked: `deploy (not run)`.
    pub(crate) fn task_list(&self) -> String {
        let outcome = self.outcome();
        self.tasks
            .iter()
            .map(|(task, own)| {
                if *own == outcome {
                    task.clone()
                } else {
                    format!("{task} ({})", own.label())
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Default)]
pub(crate) struct Summary {
    rows: Mutex<Vec<Row>>,
}

impl Summary {
    /// Makes rows for `hosts`, in their order, with `task` not run yet: a host the run
    /// never reaches still has its row, and rows keep the host order whatever order the
    /// hosts finish in.
    pub(crate) fn expect(&self, hosts: &[&str], task: &str) {
        let mut rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        for host in hosts {
            row(&mut rows, host)
                .tasks
                .push((task.into(), Outcome::NotRun));
        }
    }

    /// Records how one task ended on `host`: the row keeps each task's outcome, the first
    /// failure's reason and the total time.
    pub(crate) fn record(
        &self,
        host: &str,
        task: &str,
        outcome: Outcome,
        time: Duration,
        reason: Option<&str>,
    ) {
        let mut rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        let row = row(&mut rows, host);
        // The expected turn this is, else a new one.
        match row
            .tasks
            .iter_mut()
            .find(|(t, o)| t == task && *o == Outcome::NotRun)
        {
            Some(entry) => entry.1 = outcome,
            None => row.tasks.push((task.into(), outcome)),
        }
        row.time += time;
        if row.reason.is_none() {
            row.reason = reason
                .and_then(|r| r.lines().next())
                .map(str::to_owned)
                .filter(|r| !r.is_empty());
        }
    }

    /// Prints the table, if any task ran on a host (`dry`: the run was a dry run).
    pub(crate) fn print(&self, output: &Output, dry: bool) {
        let rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        if !rows.is_empty() {
            output.summary(&rows, dry);
        }
    }
}

/// `host`'s row, made at the end if it has none yet.
fn row<'a>(rows: &'a mut Vec<Row>, host: &str) -> &'a mut Row {
    if let Some(index) = rows.iter().position(|r| r.host == host) {
        return &mut rows[index];
    }
    rows.push(Row {
        host: host.into(),
        tasks: Vec::new(),
        time: Duration::ZERO,
        reason: None,
    });
    rows.last_mut().expect("just pushed")
}

/// `4 hosts: 3 ok, 1 failed`: how many hosts ended each way ([`ONCE`] is no host); `None`
/// for one host or none, whose row says it all.
pub(crate) fn totals(rows: &[Row]) -> Option<String> {
    let hosts: Vec<&Row> = rows.iter().filter(|r| r.host != ONCE).collect();
    if hosts.len() < 2 {
        return None;
    }
    let mut counts: Vec<(Outcome, usize)> = Vec::new();
    for row in &hosts {
        let outcome = row.outcome();
        match counts.iter_mut().find(|(o, _)| *o == outcome) {
            Some((_, n)) => *n += 1,
            None => counts.push((outcome, 1)),
        }
    }
    counts.sort();
    let each: Vec<String> = counts
        .iter()
        .map(|(outcome, n)| format!("{n} {}", outcome.label()))
        .collect();
    Some(format!("{} hosts: {}", hosts.len(), each.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_the_expected_order_and_unreached_hosts() {
        let summary = Summary::default();
        summary.expect(&["web1", "web2", "web3"], "deploy");
        summary.record(
            "web2",
            "deploy",
            Outcome::Failed,
            Duration::from_secs(1),
            Some("boom\nmore"),
        );
        summary.record("web1", "deploy", Outcome::Ok, Duration::from_secs(2), None);
        let rows = summary.rows.lock().unwrap();
        let got: Vec<(&str, Outcome, Option<&str>)> = rows
            .iter()
            .map(|r| (r.host.as_str(), r.outcome(), r.reason.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("web1", Outcome::Ok, None),
                ("web2", Outcome::Failed, Some("boom")),
                ("web3", Outcome::NotRun, None),
            ]
        );
        assert_eq!(
            totals(&rows).as_deref(),
            Some("3 hosts: 1 ok, 1 not run, 1 failed")
        );
    }

    #[test]
    fn a_task_that_never_came_is_marked_beside_those_that_ran() {
        let summary = Summary::default();
        summary.expect(&["web1"], "prod");
        summary.record("web1", "prod", Outcome::Ok, Duration::ZERO, None);
        summary.expect(&["web1"], "deploy");
        let rows = summary.rows.lock().unwrap();
        assert_eq!(rows[0].outcome(), Outcome::NotRun);
        assert_eq!(rows[0].task_list(), "prod (ok), deploy");
    }
}
