//! Strings: Rhai literals for Python's, and the pieces of `%` formatting, `.format` and
//! f-strings, joined into one backtick template (`` `deploy ${ref} to ${env.host}` ``).
//!
//! The text Fabric would send must stay byte for byte the same, so literal text that a
//! backtick string cannot hold as written (a backtick, `${`, control characters) goes in as
//! an interpolated string literal: `` `a${"\n"}b` ``.

use std::fmt::Write as _;

/// Part of a string being built: literal text, or a Rhai expression to interpolate.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Piece {
    Text(String),
    Expr(String),
}

/// A placeholder of a format string.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Slot {
    Text(String),
    /// The next positional argument (`%s`, `{}`).
    Next,
    Index(usize),
    /// A named argument, with attribute names after it (`{user.name}`).
    Named(String, Vec<String>),
}

/// A Rhai string literal for `text`.
pub(crate) fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One Rhai expression for the string the pieces make.
pub(crate) fn join(pieces: &[Piece]) -> String {
    if pieces.iter().all(|p| matches!(p, Piece::Text(_))) {
        let text: String = pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) | Piece::Expr(t) => t.as_str(),
            })
            .collect();
        return literal(&text);
    }
    let mut out = String::from("`");
    for piece in pieces {
        match piece {
            Piece::Text(text) => push_text(&mut out, text),
            Piece::Expr(expr) => {
                out.push_str("${");
                out.push_str(expr);
                out.push('}');
            }
        }
    }
    out.push('`');
    out
}

fn push_text(out: &mut String, text: &str) {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let awkward = c == '`' || c.is_control() || (c == '$' && chars.peek() == Some(&'{'));
        if awkward {
            out.push_str("${");
            out.push_str(&literal(&c.to_string()));
            out.push('}');
        } else {
            out.push(c);
        }
    }
}

/// The slots of a `%` format string; `Err` names what has no interpolation equivalent.
pub(crate) fn percent_slots(format: &str) -> Result<Vec<Slot>, String> {
    let mut slots = Vec::new();
    let mut text = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            text.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            text.push('%');
            continue;
        }
        let mut name = None;
        if chars.peek() == Some(&'(') {
            chars.next();
            let key: String = chars.by_ref().take_while(|&c| c != ')').collect();
            name = Some(key);
        }
        let conversion = chars.next().ok_or("a `%` at the end of the format")?;
        if !matches!(conversion, 's' | 'd' | 'i') {
            return Err(format!("`%{conversion}` formatting"));
        }
        if !text.is_empty() {
            slots.push(Slot::Text(std::mem::take(&mut text)));
        }
        slots.push(match name {
            Some(name) => Slot::Named(name, Vec::new()),
            None => Slot::Next,
        });
    }
    if !text.is_empty() {
        slots.push(Slot::Text(text));
    }
    Ok(slots)
}

/// The slots of a `str.format` string.
pub(crate) fn brace_slots(format: &str) -> Result<Vec<Slot>, String> {
    let mut slots = Vec::new();
    let mut text = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let field: String = chars.by_ref().take_while(|&c| c != '}').collect();
                if field.contains([':', '!', '[']) {
                    return Err(format!("the format field `{{{field}}}`"));
                }
                if !text.is_empty() {
                    slots.push(Slot::Text(std::mem::take(&mut text)));
                }
                let mut parts = field.split('.');
                let first = parts.next().unwrap_or_default().to_owned();
                let attributes: Vec<String> = parts.map(str::to_owned).collect();
                slots.push(if first.is_empty() && attributes.is_empty() {
                    Slot::Next
                } else if let Ok(index) = first.parse() {
                    if !attributes.is_empty() {
                        return Err(format!("the format field `{{{field}}}`"));
                    }
                    Slot::Index(index)
                } else {
                    Slot::Named(first, attributes)
                });
            }
            '}' => return Err("a single `}` in the format".into()),
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        slots.push(Slot::Text(text));
    }
    Ok(slots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_a_backtick_string_cannot_hold_goes_in_interpolated() {
        let pieces = [
            Piece::Text("echo `date` ${HOME}\n".into()),
            Piece::Expr("env.host".into()),
        ];
        assert_eq!(
            join(&pieces),
            "`echo ${\"`\"}date${\"`\"} ${\"$\"}{HOME}${\"\\n\"}${env.host}`"
        );
        assert_eq!(
            join(&[Piece::Text("say \"hi\"\\".into())]),
            r#""say \"hi\"\\""#
        );
    }

    #[test]
    fn format_strings_split_into_slots() {
        assert_eq!(
            percent_slots("%(root)s/a %s 100%%").unwrap(),
            vec![
                Slot::Named("root".into(), vec![]),
                Slot::Text("/a ".into()),
                Slot::Next,
                Slot::Text(" 100%".into()),
            ]
        );
        assert!(percent_slots("%05d").is_err());
        assert_eq!(
            brace_slots("{} {1} {u.name} {{x}}").unwrap(),
            vec![
                Slot::Next,
                Slot::Text(" ".into()),
                Slot::Index(1),
                Slot::Text(" ".into()),
                Slot::Named("u".into(), vec!["name".into()]),
                Slot::Text(" {x}".into()),
            ]
        );
    }
}
