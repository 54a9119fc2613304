//! rfab: Fabric-style deploys, scripted in Rhai.
//!
//! The binary is a thin shell over [`run`]; the library has no stable interface of its own.

mod api;
mod arguments;
mod config;
mod context;
mod diagnostic;
mod engine;
mod env;
mod error;
mod executor;
mod fabfile;
mod host;
mod host_list;
mod invocation;
mod invocation_parser;
mod listing;
mod output;
mod run;
mod search;
mod settings;
mod signals;
mod stdlib;
mod subcommand;
mod suggestion;
mod tag;
mod task;

pub use run::run;
