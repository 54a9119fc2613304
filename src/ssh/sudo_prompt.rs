//! The prompt rfab asks sudo to print (`sudo -p`): made for one command, with a random
//! nonce, so that the password goes only to sudo's own prompt, never to a command that
//! prints rfab's prompt text to have it. The command itself starts by printing
//! [`STARTED`]: sudo asks nothing after that, so nothing after it is answered, even from
//! a command that read the nonce in sudo's command line on the host.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Read;

/// The line a command run through sudo prints first, on stderr, once sudo let it run.
pub(crate) const STARTED: &str = "rfab-sudo-started";

/// One command's sudo prompt.
pub(crate) struct SudoPrompt(String);

impl SudoPrompt {
    /// A prompt holding 128 bits from the kernel's random source; without it, no prompt.
    pub(crate) fn new() -> std::io::Result<Self> {
        let mut nonce = [0_u8; 16];
        File::open("/dev/urandom")?.read_exact(&mut nonce)?;
        Ok(Self::with_nonce(&nonce))
    }

    fn with_nonce(nonce: &[u8]) -> Self {
        let hex = nonce.iter().fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        });
        // Hex digits only: no `%`, which sudo would expand in a prompt.
        Self(format!("[rfab:sudo:{hex}] password: "))
    }

    pub(crate) fn text(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_prompt_has_its_own_nonce() {
        let (a, b) = (
            SudoPrompt::new().expect("random"),
            SudoPrompt::new().expect("random"),
        );
        assert_ne!(a.text(), b.text());
        assert_eq!(a.text().len(), "[rfab:sudo:] password: ".len() + 32);
        assert_eq!(
            SudoPrompt::with_nonce(&[0, 0xab]).text(),
            "[rfab:sudo:00ab] password: "
        );
    }
}
