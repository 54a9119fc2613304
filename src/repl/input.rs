//! Where entries come from: a terminal, through the line editor (completion, hints,
//! history, Ctrl-C clears the line, Ctrl-D leaves), or a pipe, read like a script: each
//! entry echoed after the prompt, lines joined while the Rhai in them is unfinished.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use rhai::Engine;
use rustyline::Editor;
use rustyline::config::{CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;

use crate::error::{Error, Result};
use crate::output::Output;
use crate::repl::completion::Words;
use crate::repl::helper::LineHelper;
use crate::repl::{history, line};
use crate::signals;

const HISTORY_SIZE: usize = 1000;

pub(crate) enum Input {
    Terminal {
        editor: Box<Editor<LineHelper, FileHistory>>,
        /// `None` when there is nowhere to keep it, or it could not be written.
        history: Option<PathBuf>,
    },
    Piped {
        parser: Box<Engine>,
    },
}

impl Input {
    /// The terminal when stdin is one, else the pipe.
    pub(crate) fn open(words: Words, output: &Output) -> Result<Self> {
        if !std::io::stdin().is_terminal() {
            return Ok(Self::Piped {
                parser: Box::new(Engine::new_raw()),
            });
        }
        let config = Config::builder()
            .auto_add_history(false)
            .max_history_size(HISTORY_SIZE)
            .and_then(|b| b.history_ignore_dups(true))
            .map_err(terminal)?
            .completion_type(CompletionType::List)
            .bracketed_paste(true)
            .build();
        let mut editor: Editor<LineHelper, FileHistory> =
            Editor::with_config(config).map_err(terminal)?;
        editor.set_helper(Some(LineHelper::new(words)));
        let history = history::path().filter(|path| match editor.load_history(path) {
            Ok(()) => true,
            Err(ReadlineError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => {
                output.warning(
                    None,
                    &format!("cannot read the history `{}`: {e}", path.display()),
                );
                false
            }
        });
        Ok(Self::Terminal {
            editor: Box::new(editor),
            history,
        })
    }

    pub(crate) fn is_piped(&self) -> bool {
        matches!(self, Self::Piped { .. })
    }

    /// What completion offers, after an entry changed it.
    pub(crate) fn set_words(&mut self, words: Words) {
        if let Self::Terminal { editor, .. } = self
            && let Some(helper) = editor.helper_mut()
        {
            helper.words = words;
        }
    }

    /// The next entry, or `None` at the end (Ctrl-D, or the end of the pipe).
    pub(crate) fn read(&mut self, prompt: &str, output: &Output) -> Result<Option<String>> {
        match self {
            Self::Terminal { editor, history } => read_terminal(editor, history, prompt, output),
            Self::Piped { parser } => read_piped(parser, prompt, output),
        }
    }
}

fn read_terminal(
    editor: &mut Editor<LineHelper, FileHistory>,
    history: &mut Option<PathBuf>,
    prompt: &str,
    output: &Output,
) -> Result<Option<String>> {
    loop {
        match editor.readline(prompt) {
            Ok(entry) => {
                keep(editor, history, &entry, output);
                return Ok(Some(entry));
            }
            // Ctrl-C at the prompt drops what was typed.
            Err(ReadlineError::Interrupted) => {}
            Err(ReadlineError::Eof) => return Ok(None),
            Err(e) => return Err(terminal(e)),
        }
    }
}

/// Adds `entry` to the history and appends it to the file at once, so that a session that
/// dies still keeps what was typed; a history that cannot be written is given up, once.
fn keep(
    editor: &mut Editor<LineHelper, FileHistory>,
    history: &mut Option<PathBuf>,
    entry: &str,
    output: &Output,
) {
    if entry.trim().is_empty() || !editor.add_history_entry(entry).unwrap_or(false) {
        return;
    }
    let Some(path) = history.as_deref() else {
        return;
    };
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .map_err(ReadlineError::Io)
        .and_then(|()| editor.append_history(path));
    if let Err(e) = written {
        output.warning(
            None,
            &format!(
                "cannot write the history `{}`: {e}; this session's lines will not be kept",
                path.display()
            ),
        );
        *history = None;
    }
}

/// Reads one entry from stdin and echoes it after the prompt, continuation lines aligned
/// under the first.
fn read_piped(parser: &Engine, prompt: &str, output: &Output) -> Result<Option<String>> {
    let mut stdin = std::io::stdin().lock();
    let mut entry = String::new();
    loop {
        if signals::interrupted() {
            return Err(Error::Interrupted);
        }
        let mut line = String::new();
        let read = stdin
            .read_line(&mut line)
            .map_err(|e| terminal(ReadlineError::Io(e)))?;
        if read == 0 {
            return Ok((!entry.is_empty()).then_some(entry));
        }
        let line = line.trim_end_matches(['\n', '\r']);
        if entry.is_empty() && line.trim().is_empty() {
            continue;
        }
        let lead = if entry.is_empty() {
            prompt.to_owned()
        } else {
            entry.push('\n');
            " ".repeat(prompt.chars().count())
        };
        output.say(format!("{lead}{line}").trim_end());
        entry.push_str(line);
        if !line::is_unfinished(parser, &entry) {
            return Ok(Some(entry));
        }
    }
}

fn terminal(error: ReadlineError) -> Error {
    Error::Terminal {
        message: error.to_string(),
    }
}
