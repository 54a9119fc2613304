//! One output stream of a command, cut into lines as its bytes arrive.
//!
//! Work is linear in the bytes received: each byte is looked at once for a newline, never
//! again when more bytes of the same line arrive. Memory is bounded: a line that never ends
//! is passed on in pieces of at most [`PIECE`] bytes, and what is kept for the command's
//! result stops at a limit, with a marker saying so, while every line is still passed on
//! to be printed.

/// What a command's result keeps of each stream unless told otherwise (`output_limit`).
pub(crate) const DEFAULT_LIMIT: usize = 64 * 1024 * 1024;

/// The longest piece of an unfinished line held back; a longer one is passed on as is.
const PIECE: usize = 64 * 1024;

/// One stream's bytes, cut into lines as they arrive.
pub(crate) struct Lines {
    /// The bytes of the line not ended yet; always shorter than [`PIECE`] between pushes.
    partial: Vec<u8>,
    /// What the result keeps, at most `limit` bytes.
    kept: Vec<u8>,
    limit: usize,
    /// A line ended after the last kept byte; written only if more is kept, so that the
    /// result never ends with the stream's last newline.
    newline_pending: bool,
    /// Bytes were left out of `kept` for the limit.
    cut: bool,
    /// The next line, if empty, ends an answered prompt: neither passed on nor kept.
    skip_empty_line: bool,
}

impl Lines {
    /// A stream whose result keeps at most `limit` bytes.
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            partial: Vec::new(),
            kept: Vec::new(),
            limit,
            newline_pending: false,
            cut: false,
            skip_empty_line: false,
        }
    }

    /// Adds bytes; each completed line (or piece of a very long one) goes to `keep`, which
    /// says whether the result keeps it.
    pub(crate) fn push(&mut self, mut bytes: &[u8], keep: &mut dyn FnMut(&str) -> bool) {
        while let Some(end) = bytes.iter().position(|b| *b == b'\n') {
            if self.partial.is_empty() {
                self.line(&bytes[..end], true, keep);
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(&bytes[..end]);
                self.line(&line, true, keep);
                line.clear();
                self.partial = line;
            }
            bytes = &bytes[end + 1..];
        }
        self.partial.extend_from_slice(bytes);
        while self.partial.len() >= PIECE {
            let end = char_boundary(&self.partial[..PIECE]);
            let piece: Vec<u8> = self.partial.drain(..end).collect();
            self.line(&piece, false, keep);
        }
    }

    /// Whether the line not ended yet ends with `suffix` (a prompt waiting for an answer).
    pub(crate) fn partial_ends_with(&self, suffix: &[u8]) -> bool {
        self.partial.ends_with(suffix)
    }

    /// Forgets the prompt of `len` bytes that ends the line not ended yet, once answered.
    /// On a terminal, the line end the prompter writes after reading its answer goes too,
    /// if the prompt was all the line held.
    pub(crate) fn answered(&mut self, len: usize, terminal: bool) {
        self.partial
            .truncate(self.partial.len().saturating_sub(len));
        self.skip_empty_line = terminal && self.partial.is_empty();
    }

    /// Finishes a command's two streams, passing each unterminated last line to `each`
    /// (`true` for stderr): stdout and stderr as kept, and whether either was cut.
    pub(crate) fn finish_both(
        stdout: Self,
        stderr: Self,
        each: &mut dyn FnMut(bool, &str),
    ) -> (String, String, bool) {
        let (out, out_cut) = stdout.finish(&mut |line| {
            each(false, line);
            true
        });
        let (err, err_cut) = stderr.finish(&mut |line| {
            each(true, line);
            true
        });
        (out, err, out_cut || err_cut)
    }

    /// The whole stream as kept, after passing its unterminated last line to `keep`; ends
    /// with a marker line if the limit cut it. Says whether it was cut.
    pub(crate) fn finish(mut self, keep: &mut dyn FnMut(&str) -> bool) -> (String, bool) {
        if !self.partial.is_empty() {
            let last = std::mem::take(&mut self.partial);
            self.line(&last, true, keep);
        }
        let mut text = String::from_utf8(self.kept)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        if self.cut {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&marker(self.limit));
        }
        (text, self.cut)
    }

    /// Passes one line (without its newline), or a piece of one, on, and keeps it if asked.
    fn line(&mut self, mut bytes: &[u8], ended: bool, keep: &mut dyn FnMut(&str) -> bool) {
        // A terminal ends lines with \r\n; results hold plain lines.
        if ended && bytes.last() == Some(&b'\r') {
            bytes = &bytes[..bytes.len() - 1];
        }
        if std::mem::take(&mut self.skip_empty_line) && ended && bytes.is_empty() {
            return;
        }
        if !keep(&String::from_utf8_lossy(bytes)) {
            return;
        }
        if std::mem::take(&mut self.newline_pending) {
            self.store(b"\n");
        }
        self.store(bytes);
        self.newline_pending = ended;
    }

    fn store(&mut self, bytes: &[u8]) {
        if self.cut || bytes.is_empty() {
            return;
        }
        let room = self.limit - self.kept.len();
        if bytes.len() <= room {
            self.kept.extend_from_slice(bytes);
        } else {
            self.kept
                .extend_from_slice(&bytes[..char_boundary(&bytes[..room])]);
            self.cut = true;
        }
    }
}

/// The line that ends a result cut by the limit.
pub(crate) fn marker(limit: usize) -> String {
    format!("[rfab: output cut after {limit} bytes; set output_limit to keep more]")
}

/// The length of `bytes` without an incomplete UTF-8 character at its end, so that cutting
/// there never splits a character in two.
fn char_boundary(bytes: &[u8]) -> usize {
    let len = bytes.len();
    for back in 1..=len.min(4) {
        let byte = bytes[len - back];
        if byte & 0xC0 != 0x80 {
            let width = match byte {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF7 => 4,
                _ => 1,
            };
            return if width > back { len - back } else { len };
        }
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pushes `chunks`, then finishes; returns the lines passed on and the result.
    fn run(limit: usize, chunks: &[&[u8]]) -> (Vec<String>, String, bool) {
        let mut lines = Lines::new(limit);
        let mut seen = Vec::new();
        for chunk in chunks {
            lines.push(chunk, &mut |l| {
                seen.push(l.to_owned());
                true
            });
        }
        let (text, cut) = lines.finish(&mut |l| {
            seen.push(l.to_owned());
            true
        });
        (seen, text, cut)
    }

    #[test]
    fn lines_split_across_chunks_come_out_whole() {
        let (seen, text, cut) = run(DEFAULT_LIMIT, &[b"one\r\ntw", b"o\n\nthr", b"ee"]);
        assert_eq!(seen, ["one", "two", "", "three"]);
        assert_eq!(text, "one\ntwo\n\nthree");
        assert!(!cut);
    }

    #[test]
    fn the_result_drops_only_the_last_newline() {
        assert_eq!(run(DEFAULT_LIMIT, &[b"a\n\n"]).1, "a\n");
        assert_eq!(run(DEFAULT_LIMIT, &[b"a\n"]).1, "a");
        assert_eq!(run(DEFAULT_LIMIT, &[b""]).1, "");
    }

    #[test]
    fn a_line_not_kept_is_left_out_of_the_result() {
        let mut lines = Lines::new(DEFAULT_LIMIT);
        lines.push(b"secret\nshown\n", &mut |l| l != "secret");
        assert_eq!(lines.finish(&mut |_| true).0, "shown");
    }

    #[test]
    fn a_line_that_never_ends_is_passed_on_in_pieces_and_memory_stays_bounded() {
        // Regression (trial finding 9): each chunk rescanned and kept the whole unfinished
        // line, so 40 MB without a newline took seconds and held it all.
        let mut lines = Lines::new(1024);
        let chunk = vec![b'x'; 4096];
        let mut passed = 0;
        for _ in 0..10_000 {
            lines.push(&chunk, &mut |piece| {
                passed += piece.len();
                true
            });
            assert!(lines.partial.len() < PIECE);
            assert!(lines.partial.capacity() <= 2 * PIECE + chunk.len());
            assert!(lines.kept.capacity() <= 2 * 1024);
        }
        let (text, cut) = lines.finish(&mut |piece| {
            passed += piece.len();
            true
        });
        assert_eq!(
            passed,
            10_000 * 4096,
            "every byte is passed on to be printed"
        );
        assert!(cut);
        assert_eq!(text, format!("{}\n{}", "x".repeat(1024), marker(1024)));
    }

    #[test]
    fn the_result_stops_at_the_limit_with_a_marker_and_every_line_is_passed_on() {
        let line = [b'y'; 99];
        let mut chunk = line.to_vec();
        chunk.push(b'\n');
        let chunks: Vec<&[u8]> = std::iter::repeat_n(&chunk[..], 1000).collect();
        let (seen, text, cut) = run(250, &chunks);
        assert_eq!(seen.len(), 1000);
        assert!(cut);
        let y = "y".repeat(99);
        assert_eq!(text, format!("{y}\n{y}\n{}\n{}", &y[..50], marker(250)));
    }

    #[test]
    fn a_stream_exactly_at_the_limit_is_not_cut() {
        let (_, text, cut) = run(4, &[b"abcd\n"]);
        assert_eq!((text.as_str(), cut), ("abcd", false));
    }

    #[test]
    fn an_answered_prompt_leaves_no_line_behind() {
        let mut lines = Lines::new(DEFAULT_LIMIT);
        let mut seen = Vec::new();
        let mut keep = |l: &str| {
            seen.push(l.to_owned());
            true
        };
        lines.push(b"Password: ", &mut keep);
        assert!(lines.partial_ends_with(b"word: "));
        lines.answered(10, true);
        lines.push(b"\r\nroot\r\n\n", &mut keep);
        let (text, _) = lines.finish(&mut keep);
        assert_eq!(seen, ["root", ""]);
        assert_eq!(text, "root\n");
    }

    #[test]
    fn cuts_never_split_a_character() {
        let e_acute = "é".as_bytes();
        assert_eq!(char_boundary(b"ab"), 2);
        assert_eq!(char_boundary(&[b'a', e_acute[0]]), 1);
        assert_eq!(char_boundary(&[b'a', e_acute[0], e_acute[1]]), 3);
        let snowman = "☃".as_bytes();
        assert_eq!(char_boundary(&snowman[..2]), 0);
        let (_, text, _) = run(3, &["aé€".as_bytes()]);
        assert_eq!(text, format!("aé\n{}", marker(3)));
    }
}
