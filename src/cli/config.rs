//! The checked form of the command line: everything that can be wrong with it is found here,
//! before a fabfile is read or a host contacted.

use std::path::PathBuf;

use rhai::Dynamic;

use crate::cli::arguments::Arguments;
use crate::cli::settings;
use crate::error::{Error, Result};
use crate::output::Levels;
use crate::script::runtime::CliHosts;
use crate::ssh::host_string::Host;
use crate::ssh::options::SshOptions;

#[allow(clippy::struct_excessive_bools)] // each bool is a flag of the command line
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) fabfile: Option<PathBuf>,
    pub(crate) cwd: PathBuf,
    pub(crate) cli: CliHosts,
    /// `--set` entries, in the order given.
    pub(crate) settings: Vec<(String, Dynamic)>,
    pub(crate) warn_only: bool,
    pub(crate) abort_on_prompts: bool,
    pub(crate) task_words: Vec<String>,
    pub(crate) ssh: SshOptions,
    pub(crate) dry_run: bool,
    /// `--json`: one JSON event per line (docs/json.md).
    pub(crate) json: bool,
    pub(crate) levels: Levels,
    pub(crate) user: Option<String>,
    pub(crate) port: Option<u16>,
    pub(crate) shell: String,
    pub(crate) password: Option<String>,
    pub(crate) sudo_password: Option<String>,
    /// `-I` and `--initial-sudo-password-prompt`.
    pub(crate) ask_up_front: (bool, bool),
    /// The ad-hoc command after `--`, if any.
    pub(crate) command: Option<String>,
}

impl Config {
    pub(crate) fn from_arguments(arguments: Arguments) -> Result<Self> {
        let mut settings = Vec::new();
        for item in &arguments.set {
            settings.extend(settings::parse(item)?);
        }
        let clean = |items: Vec<String>| -> Vec<String> {
            items
                .into_iter()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .collect()
        };
        let cli = CliHosts {
            hosts: clean(arguments.hosts),
            roles: clean(arguments.roles),
            exclude_hosts: clean(arguments.exclude_hosts),
        };
        for host in &cli.hosts {
            Host::parse(host)?;
        }
        let mut levels = Levels::default();
        for (lists, shown) in [(&arguments.hide, false), (&arguments.show, true)] {
            for list in lists {
                levels.set(list, shown).map_err(|e| Error::OutputLevel {
                    message: e.to_string(),
                })?;
            }
        }
        let ssh = SshOptions {
            identities: arguments.identity.clone(),
            connect_timeout: std::time::Duration::from_secs(arguments.connect_timeout.max(1)),
            command_timeout: arguments
                .command_timeout
                .map(std::time::Duration::from_secs),
            connection_attempts: arguments.connection_attempts.max(1),
            keepalive: arguments.keepalive,
            forward_agent: arguments.forward_agent,
            known_hosts: arguments.known_hosts,
            ssh_config: arguments.ssh_config_path.clone(),
            gateway: arguments.gateway.clone(),
            skip_bad_hosts: arguments.skip_bad_hosts,
            parallel: arguments.parallel,
            pool_size: arguments.pool_size.filter(|n| *n > 0),
        };
        let command = (!arguments.command.is_empty()).then(|| arguments.command.join(" "));
        Ok(Self {
            fabfile: arguments.fabfile,
            cwd: std::env::current_dir().map_err(|source| Error::FabfileRead {
                path: ".".into(),
                source,
            })?,
            cli,
            settings,
            warn_only: arguments.warn_only,
            abort_on_prompts: arguments.abort_on_prompts,
            task_words: arguments.tasks,
            ssh,
            dry_run: arguments.dry_run,
            json: arguments.json,
            levels,
            user: arguments.user,
            port: arguments.port,
            shell: arguments.shell,
            password: arguments.password,
            sudo_password: arguments.sudo_password,
            ask_up_front: (
                arguments.initial_password_prompt,
                arguments.initial_sudo_password_prompt,
            ),
            command,
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn config(args: &[&str]) -> Result<Config> {
        Config::from_arguments(
            Arguments::try_parse_from([&["rfab"], args].concat()).expect("clap accepts it"),
        )
    }

    #[test]
    fn options_may_sit_between_tasks() {
        let config =
            config(&["prod", "-H", "a,b", "deploy:stable", "--set", "x=1,y"]).expect("valid");
        assert_eq!(config.task_words, ["prod", "deploy:stable"]);
        assert_eq!(config.cli.hosts, ["a", "b"]);
        assert_eq!(config.settings.len(), 2);
    }

    #[test]
    fn bad_input_is_caught_before_running() {
        assert!(matches!(config(&["--set", "=1"]), Err(Error::Set { .. })));
        assert!(matches!(
            config(&["-H", "web1:notaport"]),
            Err(Error::HostString { .. })
        ));
    }
}
