//! Python 2 forms turned into their Python 3 spelling, token by token, before parsing.
//!
//! Fabric 1.x fabfiles are often Python 2. The parser reads Python 3 only, so the forms
//! fabfiles use are rewritten first: `print x` → `print(x)`, `except E, e:` →
//! `except E as e:`, `raise E, "m"` → `raise E("m")`, `0755` → `0o755`, `10L` → `10`,
//! `ur''` → `r''`, `<>` → `!=`, `` `x` `` → `repr(x)`. Strings and comments are never
//! touched, and no line is added or removed, so line numbers stay those of the file.

/// One lexical piece of the source; everything between them is kept as `Space`.
#[derive(Clone, Debug, PartialEq)]
enum Token {
    Name(String),
    Number(String),
    Text(String),
    Op(String),
    Comment(String),
    Newline,
    /// A backslash continuation, with its newline.
    Continuation,
    Space(String),
}

impl Token {
    fn text(&self) -> &str {
        match self {
            Self::Name(s)
            | Self::Number(s)
            | Self::Text(s)
            | Self::Op(s)
            | Self::Comment(s)
            | Self::Space(s) => s,
            Self::Newline => "\n",
            Self::Continuation => "\\\n",
        }
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self, Self::Op(o) if o == op)
    }

    fn is_blank(&self) -> bool {
        matches!(self, Self::Space(_) | Self::Continuation)
    }
}

/// The source in Python 3 spelling, with the same lines.
pub(crate) fn modernize(source: &str) -> String {
    let mut tokens = tokenize(source);
    let starts = statement_starts(&tokens);
    for &start in starts.iter().rev() {
        rewrite_statement(&mut tokens, start);
    }
    tokens.iter().map(Token::text).collect()
}

fn tokenize(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c == '\n' {
            tokens.push(Token::Newline);
            i += 1;
        } else if c == '\\' && chars.get(i + 1) == Some(&'\n') {
            tokens.push(Token::Continuation);
            i += 2;
        } else if c == ' ' || c == '\t' || c == '\r' || c == '\x0c' {
            while i < chars.len() && matches!(chars[i], ' ' | '\t' | '\r' | '\x0c') {
                i += 1;
            }
            tokens.push(Token::Space(chars[start..i].iter().collect()));
        } else if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            tokens.push(Token::Comment(chars[start..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if matches!(chars.get(i), Some('\'' | '"')) && is_string_prefix(&word) {
                i = string_end(&chars, i);
                let prefix = word.replace(['u', 'U'], "");
                let body: String = chars[start + word.len()..i].iter().collect();
                tokens.push(Token::Text(format!("{prefix}{body}")));
            } else {
                tokens.push(Token::Name(word));
            }
        } else if c == '\'' || c == '"' {
            i = string_end(&chars, i);
            tokens.push(Token::Text(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '.' || chars[i] == '_')
            {
                i += 1;
            }
            tokens.push(Token::Number(modern_number(
                &chars[start..i].iter().collect::<String>(),
            )));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let op = if [
                "<>", ">>", "<<", "**", "//", "==", "!=", "<=", ">=", "->", "+=", "-=", "*=", "/=",
                "%=",
            ]
            .contains(&two.as_str())
            {
                two
            } else {
                c.to_string()
            };
            i += op.chars().count();
            tokens.push(Token::Op(if op == "<>" { "!=".into() } else { op }));
        }
    }
    tokens
}

fn is_string_prefix(word: &str) -> bool {
    word.len() <= 3 && word.chars().all(|c| "uUrRbBfF".contains(c))
}

/// The index just past the string literal whose quote is at `i`.
fn string_end(chars: &[char], i: usize) -> usize {
    let quote = chars[i];
    let triple = chars.get(i + 1) == Some(&quote) && chars.get(i + 2) == Some(&quote);
    let mut j = if triple { i + 3 } else { i + 1 };
    while j < chars.len() {
        match chars[j] {
            '\\' => j += 2,
            '\n' if !triple => return j,
            c if c == quote => {
                if !triple {
                    return j + 1;
                }
                if chars.get(j + 1) == Some(&quote) && chars.get(j + 2) == Some(&quote) {
                    return j + 3;
                }
                j += 1;
            }
            _ => j += 1,
        }
    }
    chars.len()
}

/// `0755` is Python 2's octal, `10L` its long: Python 3 spells them `0o755` and `10`.
fn modern_number(number: &str) -> String {
    let number = number.strip_suffix(['L', 'l']).unwrap_or(number);
    if number.len() > 1 && number.starts_with('0') && number.chars().all(|c| c.is_ascii_digit()) {
        format!("0o{}", number.trim_start_matches('0'))
    } else {
        number.to_owned()
    }
}

/// The index of each statement's first token: after a newline outside brackets, a `;`, or
/// the `:` of a one-line compound statement.
fn statement_starts(tokens: &[Token]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut depth = 0usize;
    let mut at_start = true;
    for (index, token) in tokens.iter().enumerate() {
        match token {
            Token::Space(_) | Token::Continuation | Token::Comment(_) => continue,
            Token::Newline => {
                at_start = at_start || depth == 0;
                continue;
            }
            _ => {}
        }
        if at_start && depth == 0 {
            starts.push(index);
        }
        at_start = false;
        match token.text() {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth = depth.saturating_sub(1),
            ";" | ":" if depth == 0 => at_start = true,
            _ => {}
        }
    }
    starts
}

/// The index past the last token of the statement starting at `start` (before its
/// trailing blanks and comment).
fn statement_end(tokens: &[Token], start: usize) -> usize {
    let mut depth = 0usize;
    let mut end = start;
    for (index, token) in tokens.iter().enumerate().skip(start) {
        match token {
            Token::Newline | Token::Comment(_) if depth == 0 => break,
            Token::Op(op)
                if depth == 0
                    && (op == ";" || op == ":")
                    && index > start
                    && (tokens[start].text() == "print" || op == ";") =>
            {
                break;
            }
            _ => {}
        }
        match token.text() {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth = depth.saturating_sub(1),
            _ => {}
        }
        if !matches!(
            token,
            Token::Space(_) | Token::Newline | Token::Continuation | Token::Comment(_)
        ) {
            end = index + 1;
        }
    }
    end
}

fn next_solid(tokens: &[Token], from: usize, end: usize) -> Option<usize> {
    (from..end).find(|&i| {
        !tokens[i].is_blank() && !matches!(tokens[i], Token::Newline | Token::Comment(_))
    })
}

/// The first `,` at bracket depth 0 between `from` and `end`.
fn top_level_comma(tokens: &[Token], from: usize, end: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (index, token) in tokens.iter().enumerate().take(end).skip(from) {
        match token.text() {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth = depth.saturating_sub(1),
            "," if depth == 0 => return Some(index),
            _ => {}
        }
    }
    None
}

fn rewrite_statement(tokens: &mut Vec<Token>, start: usize) {
    let Token::Name(keyword) = tokens[start].clone() else {
        return;
    };
    let end = statement_end(tokens, start);
    match keyword.as_str() {
        "print" => rewrite_print(tokens, start, end),
        "except" => {
            if let Some(comma) = top_level_comma(tokens, start + 1, end) {
                tokens[comma] = Token::Name(" as".into());
            }
        }
        "raise" => {
            if let Some(comma) = top_level_comma(tokens, start + 1, end) {
                tokens.insert(end, Token::Op(")".into()));
                tokens[comma] = Token::Op("(".into());
                if matches!(tokens.get(comma + 1), Some(Token::Space(_))) {
                    tokens.remove(comma + 1);
                }
            }
        }
        "exec" => {
            if let Some(first) = next_solid(tokens, start + 1, end)
                && !tokens[first].is_op("(")
            {
                wrap_call(tokens, start, first, end);
            }
        }
        _ => {}
    }
    let end = statement_end(tokens, start);
    rewrite_backticks(tokens, start, end);
}

/// `print x, y` → `print(x, y)`; `print >>f, x` → `print(x, file=f)`; `print` → `print()`.
fn rewrite_print(tokens: &mut Vec<Token>, start: usize, end: usize) {
    let Some(first) = next_solid(tokens, start + 1, end) else {
        tokens.insert(start + 1, Token::Op("()".into()));
        return;
    };
    let text = tokens[first].text();
    if ["(", "=", ".", ",", ")", "[", "+=", ":"].contains(&text) {
        return;
    }
    if text == ">>" {
        let Some(comma) = top_level_comma(tokens, first + 1, end) else {
            return;
        };
        let file: String = tokens[first + 1..comma].iter().map(Token::text).collect();
        tokens.insert(end, Token::Op(format!(", file={})", file.trim())));
        let mut after = comma + 1;
        while matches!(tokens.get(after), Some(Token::Space(_))) {
            after += 1;
        }
        tokens.drain(start + 1..after);
        tokens.insert(start + 1, Token::Op("(".into()));
        return;
    }
    wrap_call(tokens, start, first, end);
}

/// Makes `word a b` into `word(a b)`, keeping what comes after `end`.
fn wrap_call(tokens: &mut Vec<Token>, start: usize, first: usize, end: usize) {
    tokens.insert(end, Token::Op(")".into()));
    tokens.drain(start + 1..first);
    tokens.insert(start + 1, Token::Op("(".into()));
}

/// `` `x` `` is Python 2's `repr(x)`.
fn rewrite_backticks(tokens: &mut [Token], start: usize, end: usize) {
    let mut open = true;
    for token in tokens.iter_mut().take(end).skip(start) {
        if token.is_op("`") {
            *token = Token::Op(if open { "repr(" } else { ")" }.into());
            open = !open;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::modernize;

    #[test]
    fn python2_forms_become_python3_on_the_same_lines() {
        let source = "print 'a', x\nprint\nprint >>sys.stderr, 'oops'\ntry:\n    pass\nexcept (IOError, OSError), e:\n    raise ValueError, 'no'\nmode = 0755 + 10L\nif a <> b: print `a`\ns = ur'\\d' + u\"print x\"\n# print 'kept'\nprint('already')\n";
        let expected = "print('a', x)\nprint()\nprint('oops', file=sys.stderr)\ntry:\n    pass\nexcept (IOError, OSError) as e:\n    raise ValueError('no')\nmode = 0o755 + 10\nif a != b: print(repr(a))\ns = r'\\d' + \"print x\"\n# print 'kept'\nprint('already')\n";
        assert_eq!(modernize(source), expected);
    }

    #[test]
    fn a_multiline_print_keeps_its_lines() {
        let source = "print 'a', (1,\n    2)\nx = 1\n";
        assert_eq!(modernize(source), "print('a', (1,\n    2))\nx = 1\n");
    }
}
