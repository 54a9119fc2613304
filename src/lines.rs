//! One output stream of a command, cut into lines as its bytes arrive.

/// One stream's bytes, cut into lines as they arrive.
#[derive(Default)]
pub(crate) struct Lines {
    pub(crate) partial: Vec<u8>,
    all: Vec<u8>,
}

impl Lines {
    /// Adds bytes; each completed line goes to `keep`, which says whether to keep it.
    pub(crate) fn push(&mut self, bytes: &[u8], keep: &mut dyn FnMut(&str) -> bool) {
        self.partial.extend_from_slice(bytes);
        while let Some(end) = self.partial.iter().position(|b| *b == b'\n') {
            let mut line: Vec<u8> = self.partial.drain(..=end).collect();
            line.pop();
            // A terminal ends lines with \r\n; results hold plain lines.
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if keep(&String::from_utf8_lossy(&line)) {
                self.all.extend_from_slice(&line);
                self.all.push(b'\n');
            }
        }
    }

    /// The whole stream, after passing its unterminated last line to `keep`.
    pub(crate) fn finish(mut self, keep: &mut dyn FnMut(&str) -> bool) -> String {
        if !self.partial.is_empty()
            && keep(String::from_utf8_lossy(&self.partial).trim_end_matches('\r'))
        {
            self.all.append(&mut self.partial);
        }
        let mut text = String::from_utf8_lossy(&self.all).into_owned();
        if text.ends_with('\n') {
            text.pop();
        }
        text
    }
}
