//! `--list`, `--shortlist` and `-d TASK`: what a fabfile offers, Fabric's look.

use std::fmt::Write as _;

use crate::script::fabfile::Fabfile;
use crate::script::task::Task;

/// A command rfab itself provides (`repl`), listed beside the fabfile's tasks.
pub(crate) struct Builtin {
    pub(crate) name: &'static str,
    pub(crate) doc: &'static [&'static str],
    pub(crate) usage: &'static str,
}

/// Task names aligned with their first doc sentence; top-level tasks first, then one block
/// per namespace, then rfab's built-in commands.
pub(crate) fn list(fabfile: &Fabfile, builtins: &[Builtin]) -> String {
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
        let summary = shorten(&task.summary(), LINE.saturating_sub(width + 8));
        let line = format!("    {:width$}    {summary}", task.name);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if !builtins.is_empty() {
        out.push_str("\nBuilt-in commands:\n\n");
        for builtin in builtins {
            let summary = builtin.doc.first().copied().unwrap_or_default();
            let _ = writeln!(out, "    {:width$}    {summary}", builtin.name);
        }
    }
    out
}

/// `-d` for a built-in command.
pub(crate) fn display_builtin(builtin: &Builtin) -> String {
    let mut out = format!(
        "Displaying detailed information for built-in command '{}':\n\n",
        builtin.name
    );
    for line in builtin.doc {
        out.push_str(format!("    {line}").trim_end());
        out.push('\n');
    }
    let _ = writeln!(out, "\n    Usage: {}", builtin.usage);
    out
}

/// How wide `--list` lines may be: a summary longer than that is cut at a word.
const LINE: usize = 100;

/// `text`, or its words that fit in `room` characters followed by `…`.
fn shorten(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_owned();
    }
    let mut out = String::new();
    for word in text.split(' ') {
        if out.chars().count() + word.chars().count() + 2 > room {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    let out = out.trim_end_matches([',', ':', ';']);
    format!("{out}…")
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
    if let Some(arguments) = arguments(task) {
        let _ = writeln!(out, "    Arguments: {arguments}");
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

/// The task's arguments, Fabric's way: `ref, site='www'` for a parameter with a default,
/// `ref, [force]` where each overload adds arguments to the one before (the bracketed ones
/// may be left out); else each overload's, `or` between.
fn arguments(task: &Task) -> Option<String> {
    if let [only] = task.overloads.as_slice()
        && only.required() < only.params.len()
    {
        let words: Vec<String> = only
            .params
            .iter()
            .map(|p| match only.default(p) {
                Some(value) => format!("{p}={value}"),
                None => p.clone(),
            })
            .collect();
        return Some(words.join(", "));
    }
    let mut forms: Vec<&[String]> = task.overloads.iter().map(|o| o.params.as_slice()).collect();
    forms.sort_by_key(|params| params.len());
    let longest = *forms.last()?;
    if longest.is_empty() {
        return None;
    }
    let nested = forms.iter().all(|params| longest.starts_with(params));
    if !nested {
        let each: Vec<String> = forms
            .iter()
            .map(|params| {
                if params.is_empty() {
                    "none".to_owned()
                } else {
                    params.join(", ")
                }
            })
            .collect();
        return Some(each.join(" or "));
    }
    let required = forms[0].len();
    let words: Vec<String> = longest
        .iter()
        .enumerate()
        .map(|(i, name)| {
            if i < required {
                name.clone()
            } else {
                format!("[{name}]")
            }
        })
        .collect();
    Some(words.join(", "))
}
