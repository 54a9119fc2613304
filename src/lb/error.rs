//! Why a load-balancer operation did not happen, by kind; each message says what is live and
//! what to do.

/// A failed load-balancer operation.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The balancer could not be reached, or what it said could not be read.
    #[error("{0}")]
    Balancer(String),
    /// The change was refused to keep the site up: no group would be left live, a group
    /// failed its health checks, a server is not in a group.
    #[error("{0}")]
    Refused(String),
    /// The groups are not in a state the operation can start from (none or several out,
    /// a drain left behind by an earlier run, an unknown group).
    #[error("{0}")]
    State(String),
    /// Servers brought live failed the watch after the switch; the message says what was
    /// seen and what was put back.
    #[error("{0}")]
    Watch(String),
    /// Ctrl-C stopped the operation; the message says where the groups were left.
    #[error("{0}")]
    Interrupted(String),
}
