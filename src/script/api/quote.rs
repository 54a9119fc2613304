//! `quote`: text made safe to put into a command line, the way rfab quotes its own.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use rhai::plugin::*;

#[export_module]
pub(crate) mod quote_api {
    /// `text` single-quoted for the host's shell, so that it reaches the command as one
    /// word, whatever it holds (spaces, `$`, `;`, quotes).
    ///
    /// ```rhai
    /// let dir = "/srv/my app";
    /// run("mkdir -p " + quote(dir));   // mkdir -p '/srv/my app'
    /// ```
    pub fn quote(text: &str) -> String {
        crate::ssh::quote::quote(text)
    }
}

#[cfg(test)]
mod tests {
    use rhai::{Engine, exported_module};

    #[test]
    fn scripts_quote_text_as_one_shell_word() {
        let mut engine = Engine::new_raw();
        engine.register_global_module(exported_module!(super::quote_api).into());
        let quoted: String = engine.eval(r#"quote("it's $HOME; rm -rf /")"#).unwrap();
        assert_eq!(quoted, r"'it'\''s $HOME; rm -rf /'");
    }
}
