//! `rfab check`: the fabfile's findings, printed as compilers print them
//! (`file:line:col: error: ...` and a hint), or as one `check` event under `--json`.

use serde_json::json;

use crate::cli::setup::Loaded;
use crate::error::{Error, Result};
use crate::output::Output;
use crate::script::check::{self, Finding, Severity};
use crate::script::engine;
use crate::script::fabfile::Fabfile;
use crate::script::listing::Builtin;

/// The word that asks for the check, when the fabfile has no task of that name.
pub(crate) const WORD: &str = "check";

/// `check` as `--list` and `-d check` show it, unless the fabfile has a task of that name.
pub(crate) fn builtin(fabfile: &Fabfile) -> Option<Builtin> {
    fabfile.task(WORD).is_err().then_some(Builtin {
        name: WORD,
        doc: &[
            "Check the fabfile for mistakes without running anything.",
            "",
            "Loads the fabfile and the modules it imports, contacts no host, and reports with",
            "file:line:col and a hint: calls to functions that exist nowhere, variables used where",
            "they are not defined, `execute()` of tasks that do not exist, tasks named like a",
            "built-in function, and `env` keys read but set nowhere. Exits 0 when clean, 1 with",
            "findings, 2 when the fabfile cannot load; `--json` gives one `check` event.",
        ],
        usage: "rfab check",
    })
}

/// Checks the loaded fabfile; an error when anything was found.
pub(crate) fn run(loaded: &Loaded, output: &Output, json: bool) -> Result<()> {
    let Some(path) = &loaded.path else {
        return Ok(());
    };
    let mut strict = engine::build(&loaded.runtime, &loaded.sources.base);
    strict.set_strict_variables(true);
    let findings = check::check(&loaded.engine, &strict, &loaded.fabfile, path);
    let count = |severity| findings.iter().filter(|f| f.severity == severity).count();
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    if json {
        let list: Vec<_> = findings.iter().map(as_json).collect();
        output.check(&list, errors, warnings);
    } else {
        for finding in &findings {
            output.say(&as_text(finding));
        }
        output.say(&if findings.is_empty() {
            format!("{}: no findings", path.display())
        } else {
            format!("{errors} errors, {warnings} warnings")
        });
    }
    if findings.is_empty() {
        Ok(())
    } else {
        Err(Error::CheckFindings { errors, warnings })
    }
}

fn as_text(finding: &Finding) -> String {
    let place = if finding.line == 0 {
        finding.file.clone()
    } else {
        format!("{}:{}:{}", finding.file, finding.line, finding.column)
    };
    let hint = finding
        .hint
        .as_ref()
        .map(|hint| format!("\n  hint: {hint}"))
        .unwrap_or_default();
    format!(
        "{place}: {}: {}{hint}",
        finding.severity.label(),
        finding.message
    )
}

fn as_json(finding: &Finding) -> serde_json::Value {
    json!({
        "file": finding.file,
        "line": finding.line,
        "column": finding.column,
        "severity": finding.severity.label(),
        "message": finding.message,
        "hint": finding.hint,
    })
}
