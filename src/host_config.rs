//! Where and as whom to connect to a host, as OpenSSH's client config says.
//!
//! `ssh -G` answers exactly what `ssh HOST` would use (Host and Match blocks, Include,
//! tokens). Without an `ssh` binary, rfab connects to the host as named, with default keys.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::context::Target;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HostConfig {
    /// The address to connect to.
    pub(crate) hostname: String,
    pub(crate) port: u16,
    pub(crate) user: String,
    pub(crate) identity_files: Vec<PathBuf>,
    /// The user's files first: `accept-new` adds keys to the first one.
    pub(crate) known_hosts_files: Vec<PathBuf>,
    /// `ProxyJump` hops, outermost first.
    pub(crate) proxy_jump: Vec<String>,
}

impl HostConfig {
    /// Resolves `target`; what the host string or rfab's settings name wins over the config.
    pub(crate) fn resolve(target: &Target, config_file: Option<&Path>) -> Self {
        let home = home();
        let mut config = Self {
            hostname: target.host.name.clone(),
            port: target.port,
            user: target.user.clone(),
            identity_files: ["id_ed25519", "id_ecdsa", "id_rsa"]
                .iter()
                .map(|k| home.join(".ssh").join(k))
                .collect(),
            known_hosts_files: vec![
                home.join(".ssh/known_hosts"),
                PathBuf::from("/etc/ssh/ssh_known_hosts"),
            ],
            proxy_jump: Vec::new(),
        };
        let mut command = Command::new("ssh");
        command.arg("-G");
        if let Some(file) = config_file {
            command.arg("-F").arg(file);
        }
        command.arg(&target.host.name);
        let Ok(output) = command.output() else {
            return config;
        };
        if !output.status.success() {
            return config;
        }
        let (mut identities, mut user_known, mut global_known) =
            (Vec::new(), Vec::new(), Vec::new());
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let Some((key, value)) = line.split_once(' ') else {
                continue;
            };
            match key {
                "hostname" => config.hostname = value.into(),
                "port" if target.port_given => {}
                "port" => config.port = value.parse().unwrap_or(config.port),
                "user" if !target.user_given => config.user = value.into(),
                "identityfile" => identities.push(expand(value, &home)),
                "userknownhostsfile" => {
                    user_known.extend(value.split_whitespace().map(|f| expand(f, &home)));
                }
                "globalknownhostsfile" => {
                    global_known.extend(value.split_whitespace().map(|f| expand(f, &home)));
                }
                "proxyjump" if value != "none" => {
                    config.proxy_jump = value.split(',').map(Into::into).collect();
                }
                _ => {}
            }
        }
        if !identities.is_empty() {
            config.identity_files = identities;
        }
        if !user_known.is_empty() {
            user_known.append(&mut global_known);
            config.known_hosts_files = user_known;
        }
        config
    }
}

/// The user's home, from `HOME` as the rest of rfab finds files.
pub(crate) fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from)
}

fn expand(path: &str, home: &Path) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None => PathBuf::from(path),
    }
}
