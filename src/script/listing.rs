//! `--list`, `--shortlist` and `-d TASK`: what a fabfile offers, Fabric's look.

use std::fmt::Write as _;

use crate::script::fabfile::Fabfile;
use crate::script::task::Task;

/// Task names aligned with their first doc line; top-level tasks first, then one block per
/// namespace.
pub(crate) fn list(fabfile: &Fabfile) -> String {
    let mut out = String::new();
    for line in &fabfile.doc {
        out.push_str(line);
        out.push('\n');
    }
    if !fabfile.doc.is_empty() {
        out.push('\n');
    }
    if fabfile.tasks.is_empty() {
        out.push_str("No tasks: define a function in the fabfile to make one.\n");
        return out;
    }
    out.push_str("Available commands:\n");
    let width = fabfile
        .tasks
        .iter()
        .map(|t| t.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut groups: Vec<&Task> = fabfile
        .tasks
        .iter()
        .filter(|t| !t.name.contains('.'))
        .collect();
    groups.extend(fabfile.tasks.iter().filter(|t| t.name.contains('.')));
    let mut namespace = None;
    for task in groups {
        let this = task.name.rsplit_once('.').map(|(ns, _)| ns);
        if namespace != Some(this) {
            out.push('\n');
            namespace = Some(this);
        }
        let line = format!("    {:width$}    {}", task.name, task.summary());
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// One task name per line, for shell completion.
pub(crate) fn shortlist(fabfile: &Fabfile) -> String {
    fabfile.tasks.iter().fold(String::new(), |mut out, t| {
        let _ = writeln!(out, "{}", t.name);
        out
    })
}

/// The whole story of one task: docs, how to call it, its tags.
pub(crate) fn display(task: &Task) -> String {
    let mut out = format!(
        "Displaying detailed information for task '{}':\n\n",
        task.name
    );
    if task.doc().is_empty() {
        out.push_str("    No docs provided: add `///` comments above the function.\n");
    }
    for line in task.doc() {
        out.push_str(format!("    {line}").trim_end());
        out.push('\n');
    }
    out.push('\n');
    for (i, overload) in task.overloads.iter().enumerate() {
        let label = if i == 0 { "Usage:" } else { "" };
        let _ = writeln!(out, "    {label:6} {}", overload.usage(&task.name));
    }
    let arguments: Vec<String> = task
        .overloads
        .iter()
        .filter(|o| !o.params.is_empty())
        .map(|o| o.params.join(", "))
        .collect();
    if !arguments.is_empty() {
        let _ = writeln!(out, "    Arguments: {}", arguments.join(" | "));
    }
    let mut tags: Vec<String> = task
        .overloads
        .iter()
        .flat_map(|o| o.tags.describe())
        .collect();
    tags.dedup();
    if !tags.is_empty() {
        let _ = writeln!(out, "    Tags: {}", tags.join(", "));
    }
    out
}
