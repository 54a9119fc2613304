//! The command line as clap sees it: Fabric 1.x's option names, no logic.
//!
//! `Config` turns these raw values into checked ones; help and shell completions are
//! generated from these definitions, so each option is described exactly once.

use std::path::PathBuf;

use clap::Parser;
use clap_complete::Shell;

use crate::output::ColorChoice;
use crate::ssh::options::KnownHostsPolicy;

#[allow(clippy::struct_excessive_bools)] // each bool is a flag of the command line
#[derive(Debug, Parser)]
#[command(
    name = "rfab",
    version = concat!(env!("CARGO_PKG_VERSION"), env!("RFAB_COMMIT")),
    about = "Fabric-style deploys and rolling releases, scripted in Rhai.",
    after_help = "Tasks take arguments as TASK:ARG,KEY=VALUE (`\\,` and `\\=` escape);\n\
                  host=, hosts=a;b, role=, roles=, exclude_hosts= choose that task's hosts.\n\
                  Example: rfab prod:out deploy:stable\n\
                  rfab port fabfile.py [-o OUT] [--force] [--check]: port a Fabric fabfile to Rhai\n\
                  rfab's own commands, repl, check and init, give way to a fabfile's task of\n\
                  that name; +repl, +check and +init are always rfab's."
)]
pub(crate) struct Arguments {
    /// Tasks to run, in order, as TASK[:ARGS]; `repl` last opens a prompt after them;
    /// `port PATH` converts a Fabric fabfile.py (or fabfile/ package) to Rhai
    #[arg(value_name = "TASK[:ARGS]")]
    pub(crate) tasks: Vec<String>,

    /// Use the fabfile at PATH instead of searching for `fabfile.rhai`
    #[arg(short = 'f', long, value_name = "PATH", env = "RFAB_FABFILE")]
    pub(crate) fabfile: Option<PathBuf>,

    /// List the fabfile's tasks with the first line of their docs
    #[arg(short = 'l', long)]
    pub(crate) list: bool,

    /// List task names only, one per line (for shell completion)
    #[arg(long)]
    pub(crate) shortlist: bool,

    /// Show the full documentation, arguments and tags of TASK
    #[arg(short = 'd', long, value_name = "TASK")]
    pub(crate) display: Option<String>,

    /// Show the script API reference, or the entry for NAME
    #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = "")]
    pub(crate) api: Option<String>,

    /// Write Rhai definition files for rfab's API, stdlib and env keys into DIR, for
    /// editors (the Rhai language server)
    #[arg(long, value_name = "DIR")]
    pub(crate) definitions: Option<PathBuf>,

    /// Set env keys: `key=value` sets a string, `key` sets true, `key=` sets ""
    #[arg(long, value_name = "KEY=VALUE,...")]
    pub(crate) set: Vec<String>,

    /// Hosts for every task that names none itself (comma-separated)
    #[arg(short = 'H', long, value_name = "HOSTS", value_delimiter = ',')]
    pub(crate) hosts: Vec<String>,

    /// Roles for every task that names none itself (comma-separated)
    #[arg(short = 'R', long, value_name = "ROLES", value_delimiter = ',')]
    pub(crate) roles: Vec<String>,

    /// Hosts to leave out of every task (comma-separated)
    #[arg(short = 'x', long, value_name = "HOSTS", value_delimiter = ',')]
    pub(crate) exclude_hosts: Vec<String>,

    /// Turn failed commands into warnings instead of aborting
    #[arg(short = 'w', long)]
    pub(crate) warn_only: bool,

    /// Fail instead of asking a question at a prompt
    #[arg(long)]
    pub(crate) abort_on_prompts: bool,

    /// When to use colours (honours `NO_COLOR`)
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,

    /// Print a completion script for SHELL and exit
    #[arg(long, value_name = "SHELL")]
    pub(crate) completions: Option<Shell>,

    /// Log in as USER where the host string names no user
    #[arg(short = 'u', long, value_name = "USER", help_heading = "Connections")]
    pub(crate) user: Option<String>,

    /// Connect to PORT where the host string names no port
    #[arg(long, value_name = "PORT", help_heading = "Connections")]
    pub(crate) port: Option<u16>,

    /// Try this private key first (repeatable)
    #[arg(short = 'i', value_name = "KEY", help_heading = "Connections")]
    pub(crate) identity: Vec<PathBuf>,

    /// Log in with PASSWORD where keys do not work (`ps` shows it to every user: prefer `RFAB_PASSWORD`)
    #[arg(
        short = 'p',
        long,
        value_name = "PASSWORD",
        env = "RFAB_PASSWORD",
        hide_env_values = true,
        help_heading = "Connections"
    )]
    pub(crate) password: Option<String>,

    /// Ask for the login password once, before anything runs
    #[arg(short = 'I', long, help_heading = "Connections")]
    pub(crate) initial_password_prompt: bool,

    /// Answer sudo's password prompts with PASSWORD (`ps` shows it to every user: prefer `RFAB_SUDO_PASSWORD`)
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "RFAB_SUDO_PASSWORD",
        hide_env_values = true,
        help_heading = "Connections"
    )]
    pub(crate) sudo_password: Option<String>,

    /// Ask for the sudo password once, before anything runs
    #[arg(long, help_heading = "Connections")]
    pub(crate) initial_sudo_password_prompt: bool,

    /// Let commands on the hosts use the local ssh-agent
    #[arg(short = 'A', long, help_heading = "Connections")]
    pub(crate) forward_agent: bool,

    /// Seconds to wait for a connection
    #[arg(
        short = 't',
        long = "timeout",
        value_name = "SECONDS",
        default_value_t = 10,
        help_heading = "Connections"
    )]
    pub(crate) connect_timeout: u64,

    /// Seconds a remote command may run before it is stopped, and a transfer may go
    /// without progress (default: no limit)
    #[arg(
        short = 'T',
        long,
        value_name = "SECONDS",
        help_heading = "Connections"
    )]
    pub(crate) command_timeout: Option<u64>,

    /// Times to try connecting to each host
    #[arg(
        short = 'n',
        long,
        value_name = "N",
        default_value_t = 1,
        help_heading = "Connections"
    )]
    pub(crate) connection_attempts: u32,

    /// Send a keepalive every SECONDS while waiting on a host; one that answers none of 3
    /// in a row is given up on (default: 15; 0: never give up)
    #[arg(long, value_name = "SECONDS", help_heading = "Connections")]
    pub(crate) keepalive: Option<u32>,

    /// Reach every host through these jump hosts, in order (comma-separated)
    #[arg(
        short = 'g',
        long,
        value_name = "HOSTS",
        value_delimiter = ',',
        help_heading = "Connections"
    )]
    pub(crate) gateway: Vec<String>,

    /// Read this OpenSSH client config instead of ~/.ssh/config
    #[arg(long, value_name = "PATH", help_heading = "Connections")]
    pub(crate) ssh_config_path: Option<PathBuf>,

    /// How to treat host keys missing from or changed in `known_hosts`
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = KnownHostsPolicy::Strict, help_heading = "Connections")]
    pub(crate) known_hosts: KnownHostsPolicy,

    /// The shell remote commands run in
    #[arg(
        short = 's',
        long,
        value_name = "SHELL",
        default_value = "/bin/bash -l -c",
        help_heading = "Execution"
    )]
    pub(crate) shell: String,

    /// Run each task on its hosts in parallel
    #[arg(short = 'P', long, help_heading = "Execution")]
    pub(crate) parallel: bool,

    /// Run at most N hosts at once in parallel
    #[arg(short = 'z', long, value_name = "N", help_heading = "Execution")]
    pub(crate) pool_size: Option<usize>,

    /// Skip hosts that cannot be reached instead of failing
    #[arg(long, help_heading = "Execution")]
    pub(crate) skip_bad_hosts: bool,

    /// Print what would run, per host, without connecting or changing anything
    #[arg(long, help_heading = "Execution")]
    pub(crate) dry_run: bool,

    /// Hide output levels (running, stdout, stderr, status, warnings, user, output, commands, everything)
    #[arg(long, value_name = "LEVELS", help_heading = "Output")]
    pub(crate) hide: Vec<String>,

    /// Show output levels hidden by default or by --hide; `raw` prints output's escape sequences
    #[arg(long, value_name = "LEVELS", help_heading = "Output")]
    pub(crate) show: Vec<String>,

    /// Print one JSON object per line for each event, from `start` to `end` (docs/json.md)
    #[arg(long, help_heading = "Output")]
    pub(crate) json: bool,

    /// `rfab port PATH`: write the Rhai port to OUT (default: `fabfile.rhai` beside PATH)
    #[arg(short = 'o', long, value_name = "OUT", help_heading = "Port")]
    pub(crate) output: Option<PathBuf>,

    /// `rfab port PATH`: replace files that exist
    #[arg(long, help_heading = "Port")]
    pub(crate) force: bool,

    /// `rfab port PATH`: convert in memory and print the report only
    #[arg(long, help_heading = "Port")]
    pub(crate) check: bool,

    /// A command to run on every host, with no fabfile: rfab -H web1,web2 -- uname -a
    #[arg(last = true, value_name = "COMMAND")]
    pub(crate) command: Vec<String>,
}
