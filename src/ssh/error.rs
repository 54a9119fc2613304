//! Why a host could not be reached or logged in to; each message names the host and says
//! what to do next.

/// A failed connection to a host.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// A jump host's host string does not parse.
    #[error("{message}")]
    BadHost { message: String },
    #[error("through jump host `{via}` to `{to}`: {source}")]
    Jump {
        via: String,
        to: String,
        source: Box<Error>,
    },
    /// The tunnel through a jump host could not be opened.
    #[error("{message}")]
    Tunnel { message: String },
    #[error("{message}")]
    UnknownKey { message: String },
    #[error("{message}")]
    ChangedKey { message: String },
    /// `known_hosts` refused the key for another reason (revoked, unreadable file, ...).
    #[error("`{host}`: {message}")]
    KnownHosts { host: String, message: String },
    #[error("cannot start an SSH session: {message}")]
    Session { message: String },
    #[error("SSH handshake with `{place}` failed: {message}")]
    Handshake { place: String, message: String },
    #[error("cannot resolve `{host}`: {source}; check the host name")]
    Resolve {
        host: String,
        source: std::io::Error,
    },
    #[error("cannot connect to {place}: {why}; check that the host is up and sshd listens there")]
    Connect { place: String, why: String },
    #[error(
        "authentication failed for `{who}` ({tried}; the server accepts: {methods}); \
         use -i KEY, an ssh-agent, or a password in RFAB_PASSWORD"
    )]
    Authentication {
        who: String,
        tried: String,
        methods: String,
    },
}

impl Error {
    /// A failure setting up a session (libssh2 or the socket under it).
    pub(crate) fn session(error: impl std::fmt::Display) -> Self {
        Self::Session {
            message: error.to_string(),
        }
    }
}
