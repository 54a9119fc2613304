//! Shell quoting: every string rfab puts into a remote command line goes through here.

/// Single-quotes `text` for a POSIX shell.
pub(crate) fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Quotes a path but keeps a leading `~` or `~/` unquoted, so the shell still expands it.
pub(crate) fn quote_path(path: &str) -> String {
    match path.strip_prefix("~/") {
        Some(rest) => format!("~/{}", quote(rest)),
        None if path == "~" => "~".into(),
        None => quote(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_survive_the_shell_as_the_text_given() {
        for text in ["", "plain", "it's", "a b", "$HOME `id` \\ \"x\" ;|&", "''"] {
            let out = std::process::Command::new("/bin/sh")
                .args(["-c", &format!("printf %s {}", quote(text))])
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), text);
        }
    }

    #[test]
    fn paths_keep_a_leading_tilde_for_the_shell() {
        assert_eq!(quote_path("~"), "~");
        assert_eq!(quote_path("~/my app"), "~/'my app'");
        assert_eq!(quote_path("/srv/~x"), "'/srv/~x'");
    }
}
