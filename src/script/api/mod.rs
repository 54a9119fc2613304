//! The functions and types scripts see, registered into the engine.
//!
//! Each submodule is a Rhai plugin module: its `///` docs, with their `rhai` examples, are
//! kept in the engine's metadata and are what `rfab --api` shows.

mod command_result;
mod console;
mod env;
mod execute;
mod git;
mod lb;
mod load_balancer;
mod local;
mod reference;
mod remote;
mod scoped;
mod transfer;

use rhai::{Engine, exported_module};

pub(crate) use command_result::CommandResult;
pub(crate) use console::abort_message;
#[cfg(test)]
pub(crate) use load_balancer::load_balancer_api;
pub(crate) use reference::{function_names, reference};
pub(crate) use remote::{run_on_abort, stranded, stranded_message, unreachable_message};

pub(crate) fn register(engine: &mut Engine) {
    engine.register_type_with_name::<crate::script::env::EnvView>("Env");
    engine.register_type_with_name::<CommandResult>("CommandResult");
    for module in [
        exported_module!(env::env_api),
        exported_module!(command_result::command_result_api),
        exported_module!(local::local_api),
        exported_module!(console::console_api),
        exported_module!(execute::execute_api),
        exported_module!(remote::remote_api),
        exported_module!(scoped::scoped_api),
        exported_module!(transfer::transfer_api),
    ] {
        engine.register_global_module(module.into());
    }
    engine.register_static_module("git", exported_module!(git::git_api).into());
    engine.register_type_with_name::<crate::lb::LoadBalancer>("LoadBalancer");
    let mut lb = exported_module!(lb::lb_api);
    lb.combine(exported_module!(load_balancer::load_balancer_api));
    let lb: rhai::Shared<rhai::Module> = lb.into();
    engine.register_static_module("lb", lb.clone());
    // Generated from the module's own signatures, checked by a unit test: a failure here
    // is a bug in rfab, not in a script.
    crate::script::methods::register(engine, "lb", &lb, "LoadBalancer")
        .expect("the load balancer's methods compile");
}

/// Rejects option keys a function does not know, naming the ones it does.
pub(crate) fn check_options(
    function: &str,
    options: &rhai::Map,
    known: &[&str],
) -> Result<(), Box<rhai::EvalAltResult>> {
    match options.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(format!(
            "{function}(): unknown option `{key}` (known: {})",
            known.join(", ")
        )
        .into()),
        None => Ok(()),
    }
}
