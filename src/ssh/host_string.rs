//! Host strings: `host`, `user@host`, `host:port`, `user@[v6]:port`.

use crate::error::{Error, Result};

/// A parsed host string; user and port are `None` when the string does not name them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Host {
    pub(crate) user: Option<String>,
    pub(crate) name: String,
    pub(crate) port: Option<u16>,
}

impl Host {
    pub(crate) fn parse(text: &str) -> Result<Self> {
        let bad = |message: &str| Error::HostString {
            host: text.into(),
            message: message.into(),
        };
        let (user, rest) = match text.rsplit_once('@') {
            Some(("", _)) => return Err(bad("the user before `@` is empty")),
            Some((user, rest)) => (Some(user.to_owned()), rest),
            None => (None, text),
        };
        let (name, port) = if let Some(bracketed) = rest.strip_prefix('[') {
            let (name, after) = bracketed
                .split_once(']')
                .ok_or_else(|| bad("`[` without `]`"))?;
            match after {
                "" => (name, None),
                _ => (
                    name,
                    Some(
                        after
                            .strip_prefix(':')
                            .ok_or_else(|| bad("expected `:PORT` after `]`"))?,
                    ),
                ),
            }
        } else if rest.matches(':').count() > 1 {
            (rest, None) // a bare IPv6 address
        } else {
            match rest.split_once(':') {
                Some((name, port)) => (name, Some(port)),
                None => (rest, None),
            }
        };
        if name.is_empty() {
            return Err(bad("the host name is empty"));
        }
        if name.contains(char::is_whitespace) {
            return Err(bad("the host name contains white space"));
        }
        let port = port
            .map(|p| {
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| bad("the port must be a number from 1 to 65535"))
            })
            .transpose()?;
        Ok(Self {
            user,
            name: name.to_owned(),
            port,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_fabric() {
        let table: &[(&str, Option<&str>, &str, Option<u16>)] = &[
            ("web1", None, "web1", None),
            ("deploy@web1", Some("deploy"), "web1", None),
            ("web1:2222", None, "web1", Some(2222)),
            ("deploy@web1:2222", Some("deploy"), "web1", Some(2222)),
            ("127.0.0.2", None, "127.0.0.2", None),
            ("::1", None, "::1", None),
            ("[::1]", None, "::1", None),
            ("[::1]:2222", None, "::1", Some(2222)),
            ("me@[fe80::1]:22", Some("me"), "fe80::1", Some(22)),
            ("a@b@host", Some("a@b"), "host", None),
        ];
        for (text, user, name, port) in table {
            let host = Host::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                host,
                Host {
                    user: user.map(Into::into),
                    name: (*name).into(),
                    port: *port
                },
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_malformed() {
        for text in [
            "",
            "@web1",
            "web1:",
            "web1:x",
            "web1:0",
            "web1:70000",
            "[::1",
            "[::1]2222",
            "a b",
        ] {
            assert!(Host::parse(text).is_err(), "{text:?} should be rejected");
        }
    }
}
