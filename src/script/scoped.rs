//! Settings that hold for part of one host's task: `cd`, `lcd`, `prefix`, `shell_env`,
//! `settings`, `hide`/`show`. Each host's execution owns one stack of them, so parallel hosts
//! never see each other's; each closure-scoped change is undone when the closure returns,
//! whether it succeeded or not.

use std::sync::Arc;

use rhai::{Dynamic, Map};

use crate::script::runtime::Runtime;
use crate::ssh::host_string::Host;
use crate::ssh::target::Target;

use crate::output::Levels;
use crate::ssh::quote::{quote, quote_path};

#[derive(Clone, Debug, Default)]
pub(crate) struct ScopedSettings {
    /// Remote directories from `cd`, outermost first.
    pub(crate) cwd: Vec<String>,
    /// Local directories from `lcd`, outermost first.
    pub(crate) lcwd: Vec<String>,
    /// Commands from `prefix`, run before each remote command with `&&`.
    pub(crate) prefixes: Vec<String>,
    /// Variables from `shell_env`, exported before each command.
    pub(crate) shell_env: Vec<(String, String)>,
    /// Keys from `with(#{...})`, read before `env`.
    pub(crate) overrides: Map,
    /// Output levels from `hide`/`show`, when narrowed.
    pub(crate) levels: Option<Levels>,
    /// Where remote work goes under `settings(#{ user, host_string, port, key_filename })`,
    /// instead of the task's host: a connection of its own, from the run's cache.
    pub(crate) target: Option<Arc<Target>>,
}

/// The keys of `settings()` that choose where remote work goes.
pub(crate) const TARGET_KEYS: [&str; 4] = ["host_string", "user", "port", "key_filename"];

/// Fabric's env keys that `settings()` cannot change for a block, and what to do instead.
pub(crate) const REFUSED_KEYS: [(&str, &str); 24] = [
    ("host", "set `host_string`"),
    ("hosts", "use `execute(task, [], #{ hosts: [...] })`"),
    ("roles", "use `execute(task, [], #{ roles: [...] })`"),
    (
        "exclude_hosts",
        "use `execute(task, [], #{ exclude_hosts: [...] })`",
    ),
    ("roledefs", "set `env.roledefs` in an env task"),
    ("cwd", "use `cd(path, || ...)`"),
    ("lcwd", "use `lcd(path, || ...)`"),
    ("command_prefixes", "use `prefix(command, || ...)`"),
    ("shell_env", "use `shell_env(#{...}, || ...)`"),
    (
        "gateway",
        "set `env.gateway` before the host's first connection, or pass -g",
    ),
    (
        "forward_agent",
        "set `env.forward_agent` before the host's first connection, or pass -A",
    ),
    (
        "timeout",
        "set `env.timeout` before the host's first connection, or pass -t; a command's own limit is `command_timeout`",
    ),
    (
        "connection_attempts",
        "set `env.connection_attempts`, or pass -n",
    ),
    ("keepalive", "set `env.keepalive`, or pass --keepalive"),
    (
        "disable_known_hosts",
        "set `env.disable_known_hosts`, or pass --known-hosts off",
    ),
    (
        "reject_unknown_hosts",
        "set `env.reject_unknown_hosts`, or pass --known-hosts",
    ),
    ("use_ssh_config", "set `env.use_ssh_config`"),
    (
        "ssh_config_path",
        "set `env.ssh_config_path`, or pass --ssh-config-path",
    ),
    ("parallel", "tag the task `@parallel`, or pass -P"),
    (
        "pool_size",
        "tag the task `@parallel(pool = N)`, or pass -z",
    ),
    (
        "skip_bad_hosts",
        "set `env.skip_bad_hosts`, or pass --skip-bad-hosts",
    ),
    ("password", "give it in RFAB_PASSWORD"),
    ("sudo_password", "give it in RFAB_SUDO_PASSWORD"),
    (
        "always_use_pty",
        "give `pty: true` to the commands that need one",
    ),
];

/// The target that `settings(values)` sends remote work to, if `values` names one of
/// [`TARGET_KEYS`]: `current` (the task's host, or an outer `settings()`'s) with the user,
/// port, keys or whole host string replaced.
pub(crate) fn target_for(
    current: Option<&Target>,
    values: &Map,
    runtime: &Runtime,
) -> Result<Option<Arc<Target>>, String> {
    if !TARGET_KEYS.iter().any(|k| values.contains_key(*k)) {
        return Ok(None);
    }
    let text = |key: &str| -> Result<Option<String>, String> {
        values
            .get(key)
            .filter(|v| !v.is_unit())
            .map(|v| {
                if v.is_string() || v.is_int() {
                    Ok(v.to_string())
                } else {
                    Err(format!(
                        "settings(): `{key}` must be a string, not {}",
                        v.type_name()
                    ))
                }
            })
            .transpose()
    };
    let host_string = match (text("host_string")?, current) {
        (Some(given), _) => given,
        (None, Some(current)) => current.host.name.clone(),
        (None, None) => {
            return Err(
                "settings(): `user`, `port` and `key_filename` change the host this task runs \
                 on, and it runs on none: give `host_string` too, or give the task hosts"
                    .into(),
            );
        }
    };
    let parsed = Host::parse(&host_string).map_err(|e| format!("settings(): {e}"))?;
    // Without a new host string, what the current host was reached as carries over.
    let inherited = current.filter(|_| !values.contains_key("host_string"));
    let mut settings = inherited.map(|t| t.settings.clone()).unwrap_or_default();
    if let Some(keys) = values.get("key_filename") {
        settings.insert("key_filename".into(), keys.clone());
    } else if let Some(current) = current {
        let keys: rhai::Array = current
            .key_files
            .iter()
            .map(|k| k.display().to_string().into())
            .collect();
        settings.insert("key_filename".into(), keys.into());
    }
    let mut target = Target::new(&host_string, settings, |key| runtime.host_setting(key))
        .map_err(|e| e.to_string())?;
    match (text("user")?, inherited) {
        (Some(user), _) => {
            target.user = user;
            target.user_given = true;
        }
        (None, Some(current)) if parsed.user.is_none() => {
            target.user.clone_from(&current.user);
            target.user_given = current.user_given;
        }
        _ => {}
    }
    match (text("port")?, inherited) {
        (Some(port), _) => {
            target.port = port
                .trim()
                .parse()
                .map_err(|_| format!("settings(): `port` must be a port number, not `{port}`"))?;
            target.port_given = true;
        }
        (None, Some(current)) if parsed.port.is_none() => {
            target.port = current.port;
            target.port_given = current.port_given;
        }
        _ => {}
    }
    target.host_string = describe(&target, &parsed);
    Ok(Some(Arc::new(target)))
}

/// The host string output lines and errors name: `deploy@web1:2222`, leaving out what was
/// left to the defaults.
fn describe(target: &Target, parsed: &Host) -> String {
    let host = if parsed.name.contains(':') {
        format!("[{}]", parsed.name)
    } else {
        parsed.name.clone()
    };
    let user = if target.user_given {
        format!("{}@", target.user)
    } else {
        String::new()
    };
    let port = if target.port_given && target.port != 22 {
        format!(":{}", target.port)
    } else {
        String::new()
    };
    format!("{user}{host}{port}")
}

impl ScopedSettings {
    /// A `with()` setting, if one is in force.
    pub(crate) fn get(&self, key: &str) -> Option<Dynamic> {
        self.overrides.get(key).cloned()
    }

    /// `export K='v' && cd 'dir' && prefix && COMMAND`, for a remote command.
    pub(crate) fn wrap(&self, command: &str) -> String {
        let mut parts: Vec<String> = self
            .shell_env
            .iter()
            .map(|(k, v)| format!("export {k}={}", quote(v)))
            .collect();
        parts.extend(self.path());
        if let Some(dir) = join_dirs(&self.cwd) {
            parts.push(format!("cd {}", quote_path(&dir)));
        }
        parts.extend(self.prefixes.iter().cloned());
        parts.push(command.to_owned());
        parts.join(" && ")
    }

    /// The same for a local command, with `lcd` as the directory.
    pub(crate) fn wrap_local(&self, command: &str) -> String {
        let local = Self {
            cwd: self.lcwd.clone(),
            ..self.clone()
        };
        local.wrap(command)
    }
}

impl ScopedSettings {
    /// Fabric's `path`: `settings(#{ path: "/opt/bin" })` adds to `$PATH`, after it
    /// (`path_behavior: "append"`, the default), before it (`"prepend"`) or instead of it
    /// (`"replace"`).
    fn path(&self) -> Option<String> {
        let path = self.get("path").filter(|p| !p.is_unit())?.to_string();
        let behavior = self
            .get("path_behavior")
            .map_or_else(|| "append".to_owned(), |b| b.to_string());
        Some(match behavior.as_str() {
            "prepend" => format!("export PATH={}:\"$PATH\"", quote(&path)),
            "replace" => format!("export PATH={}", quote(&path)),
            _ => format!("export PATH=\"$PATH\":{}", quote(&path)),
        })
    }
}

/// The keys `settings()` honours beside [`TARGET_KEYS`] and the keys already in `env`.
pub(crate) const SCOPED_KEYS: [&str; 11] = [
    "warn_only",
    "quiet",
    "shell",
    "sudo_user",
    "use_sudo",
    "pty",
    "command_timeout",
    "output_limit",
    "abort_on_prompts",
    "path",
    "path_behavior",
];

/// `cd a` then `cd b` is `a/b`; an absolute or `~` path starts over.
pub(crate) fn join_dirs(dirs: &[String]) -> Option<String> {
    dirs.iter().fold(None, |joined, dir| match joined {
        Some(base) if !dir.starts_with('/') && !dir.starts_with('~') => {
            Some(format!("{base}/{dir}"))
        }
        _ => Some(dir.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_commands_like_fabric() {
        let mut settings = ScopedSettings::default();
        assert_eq!(settings.wrap("ls"), "ls");
        settings.cwd = vec!["/srv/app".into(), "releases".into()];
        settings.prefixes = vec!["source venv/bin/activate".into()];
        settings.shell_env = vec![("RAILS_ENV".into(), "it's prod".into())];
        assert_eq!(
            settings.wrap("ls"),
            r"export RAILS_ENV='it'\''s prod' && cd '/srv/app/releases' && source venv/bin/activate && ls"
        );
        settings.cwd = vec!["/srv".into(), "~/my app".into()];
        settings.prefixes.clear();
        settings.shell_env.clear();
        assert_eq!(settings.wrap("pwd"), "cd ~/'my app' && pwd");
        settings.cwd.clear();
        settings.overrides.insert("path".into(), "/opt/bin".into());
        assert_eq!(settings.wrap("x"), "export PATH=\"$PATH\":'/opt/bin' && x");
        settings
            .overrides
            .insert("path_behavior".into(), "prepend".into());
        assert_eq!(settings.wrap("x"), "export PATH='/opt/bin':\"$PATH\" && x");
    }
}
