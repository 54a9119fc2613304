//! Passwords and key passphrases: given on the command line, or asked once on the terminal
//! and remembered for the rest of the run.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

#[derive(Debug, Default)]
pub(crate) struct Credentials {
    password: Mutex<Option<String>>,
    sudo_password: Mutex<Option<String>>,
    passphrases: Mutex<HashMap<PathBuf, String>>,
    /// `--abort-on-prompts`: every question is an error instead.
    pub(crate) abort_on_prompts: bool,
    /// Serializes prompts, so parallel hosts never ask at the same time.
    asking: Mutex<()>,
}

impl Credentials {
    pub(crate) fn new(
        password: Option<String>,
        sudo_password: Option<String>,
        abort_on_prompts: bool,
    ) -> Self {
        Self {
            password: Mutex::new(password),
            sudo_password: Mutex::new(sudo_password),
            abort_on_prompts,
            ..Self::default()
        }
    }

    /// Whether a person can be asked; `may_ask` is false while hosts run in parallel.
    pub(crate) fn can_ask(&self, may_ask: bool) -> bool {
        may_ask && !self.abort_on_prompts && std::io::stdin().is_terminal()
    }

    /// Why [`Self::can_ask`] says no, to end "it is encrypted and ...".
    pub(crate) fn why_not_asked(&self, may_ask: bool) -> &'static str {
        if self.abort_on_prompts {
            "--abort-on-prompts forbids asking for its passphrase"
        } else if !may_ask {
            "its passphrase cannot be asked while hosts run in parallel"
        } else if std::io::stdin().is_terminal() {
            "its passphrase was not entered"
        } else {
            "there is no terminal to ask for its passphrase on"
        }
    }

    /// The login password: the one given or entered before, else asked now if possible.
    pub(crate) fn password(&self, who: &str, may_ask: bool) -> Option<String> {
        self.remembered(
            &self.password,
            &format!("Login password for {who}: "),
            may_ask,
        )
    }

    /// The sudo password, likewise (`--sudo-password`, or asked once).
    pub(crate) fn sudo_password(&self, who: &str, may_ask: bool) -> Option<String> {
        self.remembered(
            &self.sudo_password,
            &format!("[sudo] password for {who}: "),
            may_ask,
        )
    }

    /// Asks for the login or sudo password now, before any host is contacted (`-I`).
    pub(crate) fn ask_up_front(&self, login: bool, sudo: bool) {
        if login {
            let _ = self.password("the hosts", true);
        }
        if sudo {
            let _ = self.sudo_password("the hosts", true);
        }
    }

    /// The passphrase of an encrypted key, asked once per key.
    pub(crate) fn passphrase(&self, key: &Path, may_ask: bool) -> Option<String> {
        let _asking = self.asking.lock().unwrap_or_else(PoisonError::into_inner);
        let mut known = self
            .passphrases
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(passphrase) = known.get(key) {
            return Some(passphrase.clone());
        }
        let answer = self.ask(
            &format!("Enter passphrase for key '{}': ", key.display()),
            may_ask,
        )?;
        known.insert(key.into(), answer.clone());
        Some(answer)
    }

    /// Forgets a password the server refused, so that the next use asks again.
    pub(crate) fn forget_sudo_password(&self) {
        *self
            .sudo_password
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn remembered(
        &self,
        slot: &Mutex<Option<String>>,
        prompt: &str,
        may_ask: bool,
    ) -> Option<String> {
        let _asking = self.asking.lock().unwrap_or_else(PoisonError::into_inner);
        let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = self.ask(prompt, may_ask);
        }
        slot.clone()
    }

    fn ask(&self, prompt: &str, may_ask: bool) -> Option<String> {
        if !self.can_ask(may_ask) {
            return None;
        }
        rpassword::prompt_password(prompt).ok()
    }
}
