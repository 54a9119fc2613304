//! One host a task runs on, with the user and port it will be reached as, and the keys to
//! try: what a connection needs to know of it.

use std::sync::{Arc, OnceLock};

use rhai::{Dynamic, Map};

use crate::error::Result;
use crate::ssh::host_string::Host;

/// One host a task runs on, with the user and port it will be reached as.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    /// The host string as given: `deploy@web1:2222`.
    pub(crate) host_string: String,
    pub(crate) host: Host,
    pub(crate) user: String,
    pub(crate) port: u16,
    /// Whether user and port were chosen by rfab (host string, role, `env`, `-u`, `--port`)
    /// rather than left to the defaults, so that the SSH config may not override them.
    pub(crate) user_given: bool,
    pub(crate) port_given: bool,
    /// Settings of the role the host came from (`env.roledefs.web.user`, ...).
    pub(crate) settings: Map,
    /// Private keys to try first: `env.key_filename` (a path or a list of them), as in
    /// Fabric 1.x, so an inventory can name the fleet's key.
    pub(crate) key_files: Vec<std::path::PathBuf>,
    /// The user and port the SSH config gives, where rfab's settings name none: learnt on
    /// connecting, or asked when a script reads `env.port` first.
    pub(crate) login: Arc<OnceLock<(String, u16)>>,
}

impl Target {
    /// Fills in user and port as Fabric does: the host string, then the role's settings,
    /// then `env.user` / `env.port`, then the local user and 22.
    /// `fallback` gives the run's setting of a key (`env`) when the role's has none.
    pub(crate) fn new(
        host_string: &str,
        settings: Map,
        fallback: impl Fn(&str) -> Option<Dynamic>,
    ) -> Result<Self> {
        let host = Host::parse(host_string)?;
        let setting = |key: &str| settings.get(key).cloned().or_else(|| fallback(key));
        let default_user = local_user();
        let user = host
            .user
            .clone()
            .or_else(|| {
                setting("user")
                    .and_then(|u| u.into_string().ok())
                    .filter(|u| !u.is_empty())
            })
            .unwrap_or_else(|| default_user.clone());
        let port = host
            .port
            .or_else(|| setting("port").and_then(|p| port_of(&p)))
            .unwrap_or(22);
        let user_given =
            host.user.is_some() || settings.contains_key("user") || user != default_user;
        let port_given = host.port.is_some() || settings.contains_key("port") || port != 22;
        let key_files = setting("key_filename")
            .map(|keys| {
                if keys.is_array() {
                    keys.into_array().unwrap_or_default()
                } else {
                    vec![keys]
                }
            })
            .unwrap_or_default()
            .into_iter()
            .filter(|key| !key.is_unit())
            .map(|key| expand_home(&key.to_string()))
            .collect();
        Ok(Self {
            host_string: host_string.into(),
            host,
            user,
            port,
            user_given,
            port_given,
            settings,
            key_files,
            login: Arc::default(),
        })
    }

    /// Records the user and port a connection resolved, so `login` need not ask again.
    pub(crate) fn learn_login(&self, user: &str, port: u16) {
        let _ = self.login.set((user.to_owned(), port));
    }
}

impl Target {
    /// A jump host, from its host string alone (its SSH config fills in the rest).
    pub(crate) fn hop(host_string: &str) -> Result<Self> {
        let host = Host::parse(host_string)?;
        Ok(Self {
            host_string: host_string.into(),
            user: host.user.clone().unwrap_or_else(local_user),
            port: host.port.unwrap_or(22),
            user_given: host.user.is_some(),
            port_given: host.port.is_some(),
            host,
            settings: Map::new(),
            key_files: Vec::new(),
            login: Arc::default(),
        })
    }
}

/// `~/x` under `$HOME`.
fn expand_home(path: &str) -> std::path::PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => std::path::Path::new(&home).join(rest),
        _ => path.into(),
    }
}

fn port_of(value: &Dynamic) -> Option<u16> {
    value
        .as_int()
        .ok()
        .and_then(|p| u16::try_from(p).ok())
        .or_else(|| value.clone().into_string().ok()?.trim().parse().ok())
}

/// The user running rfab, as `getpass.getuser()` finds it.
pub(crate) fn local_user() -> String {
    ["LOGNAME", "USER", "LNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "root".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_or_port_in_the_host_string_always_counts_as_given() {
        // Regression (review finding 4): `alice@web1` run by alice let ~/.ssh/config's User win.
        let me = local_user();
        let target = Target::new(&format!("{me}@web1:22"), Map::new(), |_| None).expect("a target");
        assert!(target.user_given && target.port_given);
        let bare = Target::new("web1", Map::new(), |_| None).expect("a target");
        assert!(!bare.user_given && !bare.port_given);
    }
}
