//! Fabric's connection keys of `env` (`env.gateway`, `env.forward_agent`, `env.timeout`,
//! ...): each applies where the command line left its flag at the default, so a fabfile or
//! an env task such as `prod` can choose how hosts are reached, and a flag given on the
//! command line still wins.

use std::path::PathBuf;
use std::time::Duration;

use rhai::Dynamic;

use crate::error::{Error, Result};
use crate::script::env::{Env, strings, truthy};
use crate::ssh::options::{KnownHostsPolicy, SshOptions};

/// `cli` with the connection keys of `env` applied where `cli` has its default.
pub(crate) fn options(cli: &SshOptions, env: &Env) -> Result<SshOptions> {
    let defaults = SshOptions::default();
    let mut options = cli.clone();
    let set = |key: &str| env.get(key).filter(|v| !v.is_unit());
    if let Some(value) = set("gateway")
        && options.gateway.is_empty()
    {
        options.gateway = strings("gateway", value)?
            .iter()
            .flat_map(|hops| hops.split(','))
            .map(|hop| hop.trim().to_owned())
            .filter(|hop| !hop.is_empty())
            .collect();
    }
    if set("forward_agent").is_some_and(|v| truthy(&v)) {
        options.forward_agent = true;
    }
    if options.known_hosts == defaults.known_hosts {
        if set("disable_known_hosts").is_some_and(|v| truthy(&v)) {
            options.known_hosts = KnownHostsPolicy::Off;
        } else if set("reject_unknown_hosts").is_some_and(|v| !truthy(&v)) {
            // Fabric's default: unknown hosts are added, changed keys still refused.
            options.known_hosts = KnownHostsPolicy::AcceptNew;
        }
    }
    if options.ssh_config.is_none() {
        if let Some(path) = set("ssh_config_path") {
            options.ssh_config = Some(PathBuf::from(text("ssh_config_path", &path)?));
        } else if set("use_ssh_config").is_some_and(|v| !truthy(&v)) {
            // An empty config: OpenSSH's defaults and nothing of ~/.ssh/config.
            options.ssh_config = Some(PathBuf::from("/dev/null"));
        }
    }
    if options.connect_timeout == defaults.connect_timeout
        && let Some(value) = set("timeout")
    {
        options.connect_timeout = Duration::from_secs(number("timeout", &value)?.max(1));
    }
    if options.command_timeout.is_none()
        && let Some(value) = set("command_timeout")
    {
        options.command_timeout = Some(Duration::from_secs(number("command_timeout", &value)?))
            .filter(|limit| !limit.is_zero());
    }
    if options.connection_attempts == defaults.connection_attempts
        && let Some(value) = set("connection_attempts")
    {
        let attempts = number("connection_attempts", &value)?;
        options.connection_attempts = u32::try_from(attempts).unwrap_or(u32::MAX).max(1);
    }
    if options.keepalive.is_none()
        && let Some(value) = set("keepalive")
    {
        options.keepalive = Some(u32::try_from(number("keepalive", &value)?).unwrap_or(u32::MAX));
    }
    if set("skip_bad_hosts").is_some_and(|v| truthy(&v)) {
        options.skip_bad_hosts = true;
    }
    if set("parallel").is_some_and(|v| truthy(&v)) {
        options.parallel = true;
    }
    if options.pool_size.is_none()
        && let Some(value) = set("pool_size")
    {
        let size = number("pool_size", &value)?;
        options.pool_size = usize::try_from(size).ok().filter(|n| *n > 0);
    }
    Ok(options)
}

/// A whole number of `env.KEY`: an integer, or a string of one (`--set timeout=30`).
fn number(key: &str, value: &Dynamic) -> Result<u64> {
    let parsed = match value.as_int() {
        Ok(n) => u64::try_from(n).ok(),
        Err(_) => value
            .clone()
            .into_string()
            .ok()
            .and_then(|s| s.trim().parse().ok()),
    };
    parsed.ok_or_else(|| Error::EnvType {
        key: key.into(),
        expected: "a whole number of 0 or more",
        found: value.to_string(),
    })
}

fn text(key: &str, value: &Dynamic) -> Result<String> {
    value.clone().into_string().map_err(|found| Error::EnvType {
        key: key.into(),
        expected: "a string",
        found: found.into(),
    })
}
