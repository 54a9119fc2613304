//! The command line as clap sees it: Fabric 1.x's option names, no logic.
//!
//! `Config` turns these raw values into checked ones; help and shell completions are
//! generated from these definitions, so each option is described exactly once.

use std::path::PathBuf;

use clap::Parser;
use clap_complete::Shell;

use crate::output::ColorChoice;

#[allow(clippy::struct_excessive_bools)] // each bool is a flag of the command line
#[derive(Debug, Parser)]
#[command(
    name = "rfab",
    version,
    about = "Fabric-style deploys and rolling releases, scripted in Rhai.",
    after_help = "Tasks take arguments as TASK:ARG,KEY=VALUE (`\\,` and `\\=` escape);\n\
                  host=, hosts=a;b, role=, roles=, exclude_hosts= choose that task's hosts.\n\
                  Example: rfab prod:out deploy:stable"
)]
pub(crate) struct Arguments {
    /// Tasks to run, in order, as TASK[:ARGS]
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
}
