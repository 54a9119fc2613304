//! Where and as whom to connect to a host, as OpenSSH's client config says.
//!
//! `ssh -G` answers exactly what `ssh HOST` would use (Host and Match blocks, Include,
//! tokens). Where no `ssh` binary is installed, rfab parses the config itself (the
//! `ssh2-config` crate), which understands Host blocks and Include but not Match.

use std::path::{Path, PathBuf};
use std::process::Command;

use ssh2_config::{ParseRule, SshConfig};

use crate::ssh::target::Target;

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
    /// What the user should know about how this was worked out.
    pub(crate) warnings: Vec<String>,
}

/// What the SSH config says about one host, whoever read it.
#[derive(Default)]
struct Answers {
    hostname: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    identity_files: Vec<PathBuf>,
    user_known_hosts: Vec<PathBuf>,
    global_known_hosts: Vec<PathBuf>,
    proxy_jump: Vec<String>,
    warnings: Vec<String>,
}

impl Target {
    /// The user and port a connection logs in as: those rfab chose, else the SSH config's
    /// (`config_file`, or `~/.ssh/config`), as `env.user` and `env.port` must say.
    pub(crate) fn login(&self, config_file: Option<&Path>) -> (String, u16) {
        if self.user_given && self.port_given {
            return (self.user.clone(), self.port);
        }
        self.login
            .get_or_init(|| {
                let config = HostConfig::resolve(self, config_file);
                (config.user, config.port)
            })
            .clone()
    }
}

impl HostConfig {
    /// Resolves `target`; what the host string or rfab's settings name wins over the config.
    pub(crate) fn resolve(target: &Target, config_file: Option<&Path>) -> Self {
        let home = home();
        let mut answers = ask_ssh(&target.host.name, config_file, &home)
            .unwrap_or_else(|| parse_config(&target.host.name, config_file, &home));
        let mut known_hosts = std::mem::take(&mut answers.user_known_hosts);
        if known_hosts.is_empty() {
            known_hosts.push(home.join(".ssh/known_hosts"));
        }
        known_hosts.append(&mut answers.global_known_hosts);
        if known_hosts.len() == 1 {
            known_hosts.push(PathBuf::from("/etc/ssh/ssh_known_hosts"));
        }
        let identity_files = if answers.identity_files.is_empty() {
            ["id_ed25519", "id_ecdsa", "id_rsa"]
                .iter()
                .map(|k| home.join(".ssh").join(k))
                .collect()
        } else {
            answers.identity_files
        };
        Self {
            hostname: answers.hostname.unwrap_or_else(|| target.host.name.clone()),
            port: answers
                .port
                .filter(|_| !target.port_given)
                .unwrap_or(target.port),
            user: answers
                .user
                .filter(|_| !target.user_given)
                .unwrap_or_else(|| target.user.clone()),
            identity_files,
            known_hosts_files: known_hosts,
            proxy_jump: answers.proxy_jump,
            warnings: answers.warnings,
        }
    }
}

/// `ssh -G HOST`: OpenSSH's own answers; `None` when there is no `ssh` to ask.
fn ask_ssh(host: &str, config_file: Option<&Path>, home: &Path) -> Option<Answers> {
    let mut command = Command::new("ssh");
    command.arg("-G");
    if let Some(file) = config_file {
        command.arg("-F").arg(file);
    }
    let output = command
        .arg(host)
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let mut answers = Answers::default();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Some((key, value)) = line.split_once(' ') else {
            continue;
        };
        let paths = || value.split_whitespace().map(|f| expand(f, home));
        match key {
            "hostname" => answers.hostname = Some(value.into()),
            "port" => answers.port = value.parse().ok(),
            "user" => answers.user = Some(value.into()),
            "identityfile" => answers.identity_files.push(expand(value, home)),
            "userknownhostsfile" => answers.user_known_hosts.extend(paths()),
            "globalknownhostsfile" => answers.global_known_hosts.extend(paths()),
            "proxyjump" if value != "none" => {
                answers.proxy_jump = value.split(',').map(Into::into).collect();
            }
            _ => {}
        }
    }
    Some(answers)
}

/// The config file read by rfab itself, for machines without an OpenSSH client.
fn parse_config(host: &str, config_file: Option<&Path>, home: &Path) -> Answers {
    let path = config_file.map_or_else(|| home.join(".ssh/config"), Path::to_path_buf);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Answers::default();
    };
    let mut answers = Answers::default();
    let (text, had_match) = without_match_blocks(&text);
    if had_match {
        answers.warnings.push(format!(
            "`{}` has Match blocks, which rfab reads only through OpenSSH's `ssh -G`; \
             they are left out here: install openssh-client for exact answers",
            path.display()
        ));
    }
    let config =
        match SshConfig::default().parse(&mut text.as_bytes(), ParseRule::ALLOW_UNKNOWN_FIELDS) {
            Ok(config) => config,
            Err(e) => {
                answers
                    .warnings
                    .push(format!("cannot read `{}`: {e}", path.display()));
                return answers;
            }
        };
    let params = config.query(host);
    let unsupported = |key: &str| -> Vec<PathBuf> {
        params
            .unsupported_fields
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .flat_map(|(_, values)| values.iter().map(|v| expand(v, home)))
            .collect()
    };
    answers.user_known_hosts = unsupported("userknownhostsfile");
    answers.global_known_hosts = unsupported("globalknownhostsfile");
    answers.hostname.clone_from(&params.host_name);
    answers.port = params.port;
    answers.user.clone_from(&params.user);
    answers.identity_files = params
        .identity_file
        .clone()
        .unwrap_or_default()
        .iter()
        .map(|p| expand(&p.to_string_lossy(), home))
        .collect();
    answers.proxy_jump = params.proxy_jump.clone().unwrap_or_default();
    answers
}

/// The config without its Match blocks, which the parser would merge into the block above
/// them; and whether there were any.
fn without_match_blocks(text: &str) -> (String, bool) {
    let mut in_match = false;
    let mut had_match = false;
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| {
            let keyword = line
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_lowercase();
            match keyword.as_str() {
                "match" => {
                    in_match = true;
                    had_match = true;
                }
                "host" => in_match = false,
                _ => {}
            }
            !in_match
        })
        .collect();
    (kept.join("\n"), had_match)
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
