//! SSH to the hosts: host strings, OpenSSH config, connections and logins, host keys, commands and transfers.

pub(crate) mod agent_forwarding;
pub(crate) mod authentication;
pub(crate) mod command;
pub(crate) mod connection;
pub(crate) mod connection_cache;
pub(crate) mod credentials;
pub(crate) mod error;
pub(crate) mod host_string;
pub(crate) mod jump;
pub(crate) mod known_hosts;
pub(crate) mod options;
pub(crate) mod pump;
pub(crate) mod quote;
pub(crate) mod ssh_config;
pub(crate) mod sudo_prompt;
pub(crate) mod target;
pub(crate) mod transfer;
pub(crate) mod watch;
