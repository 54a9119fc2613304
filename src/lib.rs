//! rfab: Fabric-style deploys, scripted in Rhai.
//!
//! The binary is a thin shell over [`run`]; the library has no stable interface of its own.

mod agent_forwarding;
mod api;
mod arguments;
mod authentication;
mod config;
mod connection;
mod connections;
mod context;
mod credentials;
mod diagnostic;
mod engine;
mod env;
mod error;
mod executor;
mod fabfile;
mod git;
mod host;
mod host_config;
mod host_list;
mod invocation;
mod invocation_parser;
mod jump;
mod known_hosts;
mod lb;
mod lines;
mod listing;
mod output;
mod printable;
mod progress;
mod remote_command;
mod repl;
mod run;
mod scoped;
mod scratch;
mod search;
mod settings;
mod signals;
mod ssh_options;
mod stdlib;
mod subcommand;
mod sudo_prompt;
mod suggestion;
mod summary;
mod tag;
mod task;
mod transfer;
mod watch;

pub use run::run;
