//! What a port did, per file: the tasks converted, the statements converted, and each line
//! left for a person (`// TODO(port)`), printed after `rfab port`.

use std::fmt::Write as _;

/// One Python statement the converter could not express in Rhai.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Todo {
    pub(crate) line: usize,
    pub(crate) python: String,
    pub(crate) reason: String,
}

/// The port of one Python file.
#[derive(Clone, Debug, Default)]
pub(crate) struct FileReport {
    pub(crate) python: String,
    pub(crate) rhai: String,
    pub(crate) tasks: Vec<String>,
    /// Python statements, compound ones and each one inside them counted once.
    pub(crate) statements: usize,
    pub(crate) todos: Vec<Todo>,
    /// Statements inside the TODOs (a TODO for an `if` leaves its body too).
    pub(crate) statements_left: usize,
}

impl FileReport {
    pub(crate) fn converted(&self) -> usize {
        self.statements - self.statements_left
    }
}

/// The port of a fabfile and the local modules it imports.
#[derive(Clone, Debug, Default)]
pub(crate) struct Report {
    pub(crate) files: Vec<FileReport>,
}

impl Report {
    pub(crate) fn statements(&self) -> (usize, usize) {
        self.files
            .iter()
            .fold((0, 0), |(c, t), f| (c + f.converted(), t + f.statements))
    }

    /// The report as `rfab port` prints it.
    pub(crate) fn render(&self) -> String {
        let mut text = String::new();
        for file in &self.files {
            let _ = writeln!(text, "{} -> {}", file.python, file.rhai);
            let _ = writeln!(
                text,
                "    tasks: {}",
                if file.tasks.is_empty() {
                    "(none)".to_owned()
                } else {
                    file.tasks.join(", ")
                }
            );
            let _ = writeln!(
                text,
                "    statements converted: {} of {}",
                file.converted(),
                file.statements
            );
            for todo in &file.todos {
                let _ = writeln!(
                    text,
                    "    TODO line {}: {} ({})",
                    todo.line,
                    todo.python.trim(),
                    todo.reason
                );
            }
        }
        let (converted, total) = self.statements();
        let _ = writeln!(
            text,
            "{converted} of {total} statements converted ({}), {} TODO",
            percent(converted, total),
            self.files.iter().map(|f| f.todos.len()).sum::<usize>()
        );
        text
    }
}

/// `96.4%`, one decimal, rounded down so that 99.96% never shows as 100%.
pub(crate) fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        return "100.0%".into();
    }
    let tenths = part * 1000 / whole;
    format!("{}.{}%", tenths / 10, tenths % 10)
}
