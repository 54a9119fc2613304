//! rfab's integration tests: each writes fabfiles into a temp dir, runs the real binary and
// Fabfiles in tests are raw strings throughout, hashes or not, so they read alike.
#![allow(clippy::needless_raw_string_hashes)]
//! compares exit status, stdout and stderr exactly.

mod sshd;
mod test;

mod api;
mod authentication;
mod check;
mod cli;
mod command_safety;
mod completions;
mod deploy;
mod deploy_safety;
mod env;
mod errors;
mod examples;
mod execute;
mod files;
mod git;
mod habits;
mod hosts;
mod hotfix;
mod init;
mod json;
mod jump;
mod lb;
mod lb_drivers;
mod listing;
mod local;
mod output_safety;
mod port;
mod project;
mod prompts;
mod reboot;
mod repl;
mod rollout;
mod settings;
mod shell;
mod signals;
mod ssh;
mod stalls;
mod stdlib;
mod sudo;
mod transfer;
mod watch;
mod web;
