//! Settings that hold for part of one host's task: `cd`, `lcd`, `prefix`, `shell_env`,
//! `with`, `hide`/`show`. Each host's execution owns one stack of them, so parallel hosts
//! never see each other's; each closure-scoped change is undone when the closure returns,
//! whether it succeeded or not.

use rhai::{Dynamic, Map};

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

/// `cd a` then `cd b` is `a/b`; an absolute or `~` path starts over.
fn join_dirs(dirs: &[String]) -> Option<String> {
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
    }
}
