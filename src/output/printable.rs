//! Output from hosts made safe to print on a terminal: a host's output must not be able to
//! retitle the window, clear the screen, move the cursor over earlier lines, or talk to
//! the terminal in any other way. Escape sequences (CSI, OSC, DCS and the rest, in their
//! 7-bit and 8-bit forms) are dropped whole, and so is every other control character but
//! tab. `--show raw` prints output as received instead.

use std::borrow::Cow;
use std::iter::Peekable;
use std::str::Chars;

const ESC: char = '\u{1b}';
const BEL: char = '\u{7}';
/// The 8-bit forms: Control Sequence Introducer, String Terminator, and the introducers of
/// strings (DCS, SOS, OSC, PM, APC).
const CSI: char = '\u{9b}';
const ST: char = '\u{9c}';
const STRINGS: [char; 5] = ['\u{90}', '\u{98}', '\u{9d}', '\u{9e}', '\u{9f}'];

/// `text` without escape sequences and control characters other than tab.
pub(crate) fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_dropped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ESC => match chars.peek() {
                Some('[') => {
                    chars.next();
                    skip_control_sequence(&mut chars);
                }
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    chars.next();
                    skip_string(&mut chars);
                }
                _ => skip_escape(&mut chars),
            },
            CSI => skip_control_sequence(&mut chars),
            c if STRINGS.contains(&c) => skip_string(&mut chars),
            c if is_dropped(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The same for a message of several lines: each line made printable, newlines kept.
pub(crate) fn printable_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && is_dropped(c)) {
        return Cow::Borrowed(text);
    }
    let lines: Vec<Cow<'_, str>> = text.split('\n').map(printable).collect();
    Cow::Owned(lines.join("\n"))
}

fn is_dropped(c: char) -> bool {
    c.is_control() && c != '\t'
}

/// The rest of `ESC [ ...` or CSI: parameters and intermediates, then one final character.
fn skip_control_sequence(chars: &mut Peekable<Chars<'_>>) {
    while let Some(&c) = chars.peek() {
        match c {
            '\u{20}'..='\u{3f}' => {
                chars.next();
            }
            '\u{40}'..='\u{7e}' => {
                chars.next();
                return;
            }
            _ => return,
        }
    }
}

/// The rest of a string sequence (OSC, DCS, ...): up to BEL or ST, or the line's end.
fn skip_string(chars: &mut Peekable<Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            BEL | ST => return,
            ESC if chars.peek() == Some(&'\\') => {
                chars.next();
                return;
            }
            _ => {}
        }
    }
}

/// The rest of any other escape sequence: intermediates, then one final character.
fn skip_escape(chars: &mut Peekable<Chars<'_>>) {
    while let Some(&c) = chars.peek() {
        match c {
            '\u{20}'..='\u{2f}' => {
                chars.next();
            }
            '\u{30}'..='\u{7e}' => {
                chars.next();
                return;
            }
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_left_as_is() {
        let text = "déploiement\tdone ☃ [ok]";
        assert!(matches!(printable(text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn colours_and_cursor_moves_are_dropped() {
        assert_eq!(printable("\x1b[1;31mred\x1b[0m plain"), "red plain");
        assert_eq!(printable("a\x1b[2J\x1b[H\x1b[?1049hb\x1b[10A"), "ab");
        assert_eq!(printable("\u{9b}2Jcleared"), "cleared");
    }

    #[test]
    fn window_titles_and_other_strings_are_dropped_whole() {
        assert_eq!(printable("a\x1b]0;pwned\x07b"), "ab");
        assert_eq!(
            printable("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b"),
            "alinkb"
        );
        assert_eq!(printable("a\x1bPq#0;2;0;0;0\x1b\\b"), "ab");
        assert_eq!(printable("a\u{9d}0;title\u{9c}b"), "ab");
        assert_eq!(printable("a\x1b]0;never ends"), "a");
    }

    #[test]
    fn messages_keep_their_lines() {
        let text = "failed:\n  line one\n";
        assert!(matches!(printable_lines(text), Cow::Borrowed(t) if t == text));
        assert_eq!(
            printable_lines("stderr: \x1b]0;pwned\x07a\r\n\x1b[2Jb"),
            "stderr: a\nb"
        );
    }

    #[test]
    fn other_escapes_and_control_characters_are_dropped() {
        assert_eq!(
            printable("\x1bcreset \x1b(Bcharset \x1b7saved"),
            "reset charset saved"
        );
        assert_eq!(
            printable("a\rb\x08c\x07d\x7fe\u{85}f\x00g\tend"),
            "abcdefg\tend"
        );
        assert_eq!(printable("trailing\x1b"), "trailing");
        assert_eq!(printable("\x1b[31"), "");
    }
}
