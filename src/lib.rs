//! rfab: Fabric-style deploys, scripted in Rhai.
//!
//! The binary is a thin shell over [`run`]; the library has no stable interface of its own.
//! Layers import one way, leaves first: `error`, `signals`, `suggestion` → `output` → `ssh`
//! → `lb`, `git` → `script` → `repl` → `cli` (ARCHITECTURE.md).

mod cli;
mod error;
mod git;
mod lb;
mod output;
mod port;
mod repl;
mod script;
mod signals;
mod ssh;
mod suggestion;

pub use cli::run::run;
