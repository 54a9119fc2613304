//! What the demo shows after each step: a table of the fleet (each node's group, its state
//! in HAProxy, the version it serves, the requests it served since the last table) and the
//! requests per version since then. Everything is read from HAProxy, the nodes and the load
//! client, never from rfab: the table checks what rfab says it did.

use std::fmt::Write as _;

use crate::fleet::Fleet;
use crate::load::{Load, Tally};

pub struct Timeline<'a> {
    fleet: &'a Fleet,
    load: &'a Load,
    /// The tally at the last table.
    last: Tally,
}

impl<'a> Timeline<'a> {
    /// Counts requests from now on.
    pub fn new(fleet: &'a Fleet, load: &'a Load) -> Self {
        Self {
            fleet,
            load,
            last: load.tally(),
        }
    }

    /// The table, each line indented by `indent`, then the requests since the last one,
    /// under `label` (`since the last step`).
    pub fn table(&mut self, indent: &str, label: &str) -> String {
        let now = self.load.tally();
        let since = now.since(&self.last);
        self.last = now;
        let states = self.fleet.balancer.servers().unwrap_or_default();
        let mut rows = vec![[
            "host".to_owned(),
            "group".to_owned(),
            "load balancer".to_owned(),
            "serves".to_owned(),
            "requests".to_owned(),
        ]];
        for group in 1..=2 {
            for node in self.fleet.group(group) {
                let state = states
                    .iter()
                    .find(|(name, _)| *name == node.name)
                    .map_or("(not in HAProxy)", |(_, state)| state.as_str());
                // What the node itself answers, past HAProxy: its live release's VERSION.
                let version = crate::load::get(node.app.address, "/").unwrap_or_else(|why| why);
                let requests = since.served_by.get(&node.name).copied().unwrap_or(0);
                rows.push([
                    Fleet::host_string(node),
                    format!("group{group}"),
                    state.to_owned(),
                    version,
                    requests.to_string(),
                ]);
            }
        }
        let widths: Vec<usize> = (0..5)
            .map(|column| rows.iter().map(|row| row[column].len()).max().unwrap_or(0))
            .collect();
        let mut text = String::new();
        for row in &rows {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:width$}"))
                .collect();
            let _ = writeln!(text, "{indent}{}", cells.join("  ").trim_end());
        }
        let _ = writeln!(text, "{indent}{label}: {}", requests(&since));
        text
    }
}

/// `1712 requests, 0 failed; served by version 3.0.0: 412, 3.0.1: 1300`.
pub fn requests(tally: &Tally) -> String {
    let mut text = format!("{} requests, {} failed", tally.sent, tally.failed);
    if !tally.versions.is_empty() {
        let _ = write!(text, "; served by version {}", versions(tally));
    }
    text
}

/// `3.0.0: 412, 3.0.1: 1300`: the answers per version.
pub fn versions(tally: &Tally) -> String {
    tally
        .versions
        .iter()
        .map(|(version, n)| format!("{version}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
