//! How rfab reaches hosts: the SSH options of the command line, checked.

use std::path::PathBuf;
use std::time::Duration;

/// What to do with a host key that `known_hosts` does not vouch for (`--known-hosts`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum KnownHostsPolicy {
    /// Refuse unknown and changed keys (OpenSSH's StrictHostKeyChecking=yes).
    #[default]
    Strict,
    /// Add unknown keys to `~/.ssh/known_hosts`; refuse changed ones.
    AcceptNew,
    /// Let unknown and changed keys through, with a warning (revoked keys are still refused).
    Off,
}

#[allow(clippy::struct_excessive_bools)] // each bool is a flag of the command line
#[derive(Clone, Debug)]
pub(crate) struct SshOptions {
    /// Keys from `-i`, tried before those of the SSH config.
    pub(crate) identities: Vec<PathBuf>,
    pub(crate) connect_timeout: Duration,
    /// Default limit for one command (`-T`); `None` waits as long as it takes.
    pub(crate) command_timeout: Option<Duration>,
    pub(crate) connection_attempts: u32,
    /// Seconds between keepalive messages, if any.
    pub(crate) keepalive: Option<u32>,
    pub(crate) forward_agent: bool,
    pub(crate) known_hosts: KnownHostsPolicy,
    pub(crate) ssh_config: Option<PathBuf>,
    /// Jump hosts from `-g/--gateway`, outermost first; they replace `ProxyJump`.
    pub(crate) gateway: Vec<String>,
    pub(crate) skip_bad_hosts: bool,
    pub(crate) parallel: bool,
    pub(crate) pool_size: Option<usize>,
}

impl Default for SshOptions {
    fn default() -> Self {
        Self {
            identities: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            command_timeout: None,
            connection_attempts: 1,
            keepalive: None,
            forward_agent: false,
            known_hosts: KnownHostsPolicy::Strict,
            ssh_config: None,
            gateway: Vec::new(),
            skip_bad_hosts: false,
            parallel: false,
            pool_size: None,
        }
    }
}
