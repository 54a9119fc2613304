//! What the line editor asks rfab while a line is typed: completions (see `completion`),
//! a hint from the history, and whether the entry is finished or goes on on another line.

use std::borrow::Cow;

use rhai::Engine;
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::{Hinter, HistoryHinter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use crate::repl::completion::{self, Words};
use crate::repl::line;

#[derive(Helper)]
pub(crate) struct LineHelper {
    pub(crate) words: Words,
    hinter: HistoryHinter,
    /// A bare engine: enough to tell whether Rhai is unfinished.
    parser: Engine,
}

impl LineHelper {
    pub(crate) fn new(words: Words) -> Self {
        Self {
            words,
            hinter: HistoryHinter::new(),
            parser: Engine::new_raw(),
        }
    }
}

impl Completer for LineHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, words) = completion::complete(&self.words, line, pos);
        let pairs = words
            .into_iter()
            .map(|word| Pair {
                display: word.clone(),
                replacement: word,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for LineHelper {
    type Hint = String;

    /// The rest of the latest history entry that starts with what is typed.
    fn hint(&self, line: &str, pos: usize, context: &Context<'_>) -> Option<String> {
        self.hinter.hint(line, pos, context)
    }
}

impl Highlighter for LineHelper {
    /// Hints in grey, so they do not look typed. (rustyline colours nothing under
    /// `NO_COLOR` or off a terminal.)
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
    }
}

impl Validator for LineHelper {
    fn validate(&self, context: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if line::is_unfinished(&self.parser, context.input()) {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}
