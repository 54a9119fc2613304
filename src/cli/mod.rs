//! The command line: arguments (clap), the validated config, and the subcommand they ask for.

pub(crate) mod arguments;
pub(crate) mod check;
pub(crate) mod completions;
pub(crate) mod config;
pub(crate) mod init;
pub(crate) mod run;
pub(crate) mod search;
pub(crate) mod settings;
pub(crate) mod setup;
pub(crate) mod subcommand;
