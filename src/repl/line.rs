//! What an entry typed at the prompt is: a meta-command, task invocations, or Rhai.
//!
//! - `:name argument` is a meta-command.
//! - When the first word names a task of the fabfile (`prod`, `proxy.flip`, `deploy:stable`)
//!   and every word has the shape of a task word, the entry is a list of invocations in the
//!   command line's grammar, split into words as a shell would.
//! - Anything else is Rhai: `run("uptime")`, `let x = 1`, `fn f() { ... }`, `prod()`.

use rhai::{Engine, LexError, ParseErrorType, Position};

use crate::error::Result;
use crate::script::invocation;
use crate::script::invocation::Invocation;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    Empty,
    /// `:hosts web1,web2`: the command's name and the rest of the line, trimmed.
    Meta {
        name: String,
        argument: String,
    },
    Invocations(Vec<Invocation>),
    Script(String),
}

/// Classifies `text`; `is_task` tells the fabfile's task names.
pub(crate) fn classify(text: &str, is_task: impl Fn(&str) -> bool) -> Result<Line> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(Line::Empty);
    }
    if let Some(meta) = trimmed.strip_prefix(':') {
        let (name, argument) = meta.split_once(char::is_whitespace).unwrap_or((meta, ""));
        return Ok(Line::Meta {
            name: name.into(),
            argument: argument.trim().into(),
        });
    }
    let words = shlex::split(trimmed).unwrap_or_default();
    let task_of = |word: &str| {
        word.split_once(':')
            .map_or(word, |(task, _)| task)
            .to_owned()
    };
    let invocation = words
        .first()
        .is_some_and(|first| is_task(&task_of(first)) || has_arguments(first))
        && words.iter().all(|w| is_task_name(&task_of(w)));
    if !invocation {
        return Ok(Line::Script(text.into()));
    }
    words
        .iter()
        .map(|word| invocation::parse(word))
        .collect::<Result<_>>()
        .map(Line::Invocations)
}

/// `deplyo:stable`: a task word with arguments, which no Rhai statement starts with (a
/// namespace, `h::expand`, has two colons). Taken as an invocation even when no task has
/// that name, so that the error is "unknown task", not Rhai's syntax error.
fn has_arguments(word: &str) -> bool {
    word.split_once(':')
        .is_some_and(|(task, rest)| is_task_name(task) && !rest.starts_with(':'))
}

/// `deploy`, `proxy.flip`: identifiers joined by dots.
fn is_task_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|part| {
            let mut chars = part.chars();
            chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
                && chars.all(|c| c.is_alphanumeric() || c == '_')
        })
}

/// Whether `text` is Rhai that stops halfway (a brace, bracket, parenthesis or string still
/// open, an operator waiting for its operand), so that the prompt should read another line.
/// Real syntax errors are not unfinished: they go through, to be reported.
pub(crate) fn is_unfinished(parser: &Engine, text: &str) -> bool {
    if text.trim_start().starts_with(':') {
        return false;
    }
    let Err(error) = parser.compile(text) else {
        return false;
    };
    match error.err_type() {
        ParseErrorType::UnexpectedEOF | ParseErrorType::BadInput(LexError::UnterminatedString) => {
            true
        }
        ParseErrorType::MissingToken(..) => after_the_end(text, error.position()),
        _ => false,
    }
}

/// Whether `pos` lies past the last character that is not white space: the parser ran out
/// of input there, rather than meeting something wrong.
fn after_the_end(text: &str, pos: Position) -> bool {
    let (Some(line), Some(column)) = (pos.line(), pos.position()) else {
        return true;
    };
    let end = text.trim_end();
    let last_line = end.lines().count().max(1);
    let last_column = end.lines().last().map_or(0, |l| l.chars().count());
    line > last_line || (line == last_line && column > last_column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classified(text: &str) -> Line {
        classify(text, |name| {
            ["prod", "deploy", "proxy.flip"].contains(&name)
        })
        .expect("valid")
    }

    fn words(line: &Line) -> Vec<&str> {
        match line {
            Line::Invocations(invocations) => invocations.iter().map(|i| i.word.as_str()).collect(),
            other => panic!("not invocations: {other:?}"),
        }
    }

    #[test]
    fn a_line_that_starts_with_a_task_is_invocations() {
        assert_eq!(words(&classified("prod")), ["prod"]);
        assert_eq!(
            words(&classified("  prod:out deploy:stable ")),
            ["prod:out", "deploy:stable"]
        );
        assert_eq!(words(&classified("proxy.flip")), ["proxy.flip"]);
        assert_eq!(words(&classified("deploy:'a b'")), ["deploy:a b"]);
        // The later words are checked against the fabfile when they run.
        assert_eq!(words(&classified("prod nosuch")), ["prod", "nosuch"]);
        // So is a first word with arguments: no Rhai starts so.
        assert_eq!(words(&classified("deplyo:stable")), ["deplyo:stable"]);
    }

    #[test]
    fn anything_else_is_rhai() {
        for text in [
            "prod()",
            "prod = 5",
            "run(\"uptime\")",
            "let x = 1;",
            "fn f() {\n  1\n}",
            "hello",
            "proxy.flop",
            "deploy.x + 1",
            "\"unterminated",
            "h::expand(\"web[1:2]\")",
            "#{a: 1}",
        ] {
            assert_eq!(classified(text), Line::Script(text.into()), "{text}");
        }
    }

    #[test]
    fn meta_commands_and_blank_lines() {
        assert_eq!(classified("   "), Line::Empty);
        assert_eq!(
            classified(":hosts  a, b "),
            Line::Meta {
                name: "hosts".into(),
                argument: "a, b".into()
            }
        );
        assert_eq!(
            classified(":quit"),
            Line::Meta {
                name: "quit".into(),
                argument: String::new()
            }
        );
    }

    #[test]
    fn a_malformed_invocation_is_an_error_not_rhai() {
        assert!(classify("deploy:=v", |n| n == "deploy").is_err());
    }

    #[test]
    fn unfinished_input_asks_for_more() {
        let parser = Engine::new_raw();
        for text in [
            "fn f() {",
            "fn f() {\n  let x = [1,",
            "let x = 1 +",
            "run(\"a\",",
            "let s = `two\nlines",
            "if true {\n",
        ] {
            assert!(is_unfinished(&parser, text), "{text:?}");
        }
        for text in [
            "let x = 1",
            "let x = ;",
            "deploy:stable",
            "prod:out deploy:stable",
            "x y",
            "fn f() { 1 }",
            ":hosts",
            "f(1))",
        ] {
            assert!(!is_unfinished(&parser, text), "{text:?}");
        }
    }
}
