//! The functions and types scripts see, registered into the engine.
//!
//! Each submodule is a Rhai plugin module: its `///` docs, with their `rhai` examples, are
//! kept in the engine's metadata and are what `rfab --api` shows.

mod command_result;
mod console;
mod data;
mod env;
pub(crate) mod errors;
mod execute;
mod files;
mod git;
mod lb;
mod load_balancer;
mod local;
mod local_fs;
mod pattern;
mod project;
mod quote;
mod reboot;
mod remote;
mod scoped;
mod shell;
mod template;
pub(crate) mod text;
mod time;
mod transfer;

use std::time::Duration;

use rhai::{Engine, exported_module};

pub(crate) use command_result::CommandResult;
#[cfg(test)]
pub(crate) use load_balancer::load_balancer_api;

pub(crate) fn register(engine: &mut Engine) {
    engine.register_type_with_name::<crate::script::env::EnvView>("Env");
    engine.register_type_with_name::<CommandResult>("CommandResult");
    for module in [
        exported_module!(env::env_api),
        exported_module!(command_result::command_result_api),
        exported_module!(local::local_api),
        exported_module!(console::console_api),
        exported_module!(quote::quote_api),
        exported_module!(execute::execute_api),
        exported_module!(remote::remote_api),
        exported_module!(scoped::scoped_api),
        exported_module!(transfer::transfer_api),
        exported_module!(text::text_api),
        exported_module!(pattern::pattern_api),
        exported_module!(time::time_api),
        exported_module!(local_fs::local_fs_api),
        exported_module!(data::data_api),
        exported_module!(reboot::reboot_api),
        exported_module!(shell::shell_api),
    ] {
        engine.register_global_module(module.into());
    }
    for (name, _) in BUILTIN_MODULES {
        if let Some(mut module) = builtin_module(name) {
            module.build_index();
            engine.register_static_module(*name, module.into());
        }
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

/// The stdlib modules written in Rust, with their own docs: `import "rfab/files" as files;`
/// gives the same module as the engine's `files::`.
pub(crate) const BUILTIN_MODULES: &[(&str, &str)] =
    &[("files", files::DOC), ("project", project::DOC)];

/// A stdlib module written in Rust, by name (the stdlib's resolver marks it as its own).
pub(crate) fn builtin_module(name: &str) -> Option<rhai::Module> {
    match name {
        "files" => Some(exported_module!(files::files_api)),
        "project" => Some(exported_module!(project::project_api)),
        _ => None,
    }
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

/// The longest time a script may give, in seconds (68 years): a deadline this far off
/// still fits in an `Instant`.
const MAX_SECONDS: f64 = 2_147_483_647.0;

/// A length of time a script gave in seconds: an integer, a float or a string holding one
/// (`30`, `2.5`, `"0.5"`). `what` names the option for the error, e.g. ``run(): `timeout` ``.
pub(crate) fn seconds(what: &str, value: &rhai::Dynamic) -> Result<Duration, BadSeconds> {
    #[allow(clippy::cast_precision_loss)] // exact up to 2^53, far past the limit
    let secs = match (value.as_int(), value.as_float()) {
        (Ok(whole), _) => Some(whole as f64),
        (_, Ok(secs)) => Some(secs),
        _ => value
            .clone()
            .into_immutable_string()
            .ok()
            .and_then(|text| text.trim().parse::<f64>().ok()),
    };
    // NaN fails both comparisons, infinities the second.
    secs.filter(|s| *s >= 0.0 && *s <= MAX_SECONDS)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| BadSeconds {
            what: what.to_owned(),
            value: value.to_string(),
        })
}

/// A length of time a script gave that is no number of seconds rfab can wait.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{what} must be a number of seconds from 0 to {MAX_SECONDS} (like 30 or 2.5), not `{value}`"
)]
pub(crate) struct BadSeconds {
    what: String,
    value: String,
}

#[cfg(test)]
mod tests {
    use rhai::Dynamic;

    use super::*;

    fn parse(value: impl Into<Dynamic>) -> Result<Duration, String> {
        seconds("`timeout`", &value.into()).map_err(|e| e.to_string())
    }

    #[test]
    fn seconds_accept_integers_floats_and_numeric_strings() {
        assert_eq!(parse(30_i64), Ok(Duration::from_secs(30)));
        assert_eq!(parse(0_i64), Ok(Duration::ZERO));
        assert_eq!(parse(2.5_f64), Ok(Duration::from_millis(2500)));
        assert_eq!(parse("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse(" 12 "), Ok(Duration::from_secs(12)));
        assert_eq!(
            parse(2_147_483_647_i64),
            Ok(Duration::from_secs(2_147_483_647))
        );
    }

    #[test]
    fn seconds_refuse_negatives_nan_infinity_and_other_values() {
        for value in [
            Dynamic::from(-1_i64),
            Dynamic::from(-0.5_f64),
            Dynamic::from(f64::NAN),
            Dynamic::from(f64::INFINITY),
            Dynamic::from("inf"),
            Dynamic::from("NaN"),
            Dynamic::from("-3"),
            Dynamic::from("soon"),
            Dynamic::from(2_147_483_648_i64),
            Dynamic::from(1e300_f64),
            Dynamic::from(true),
            Dynamic::UNIT,
        ] {
            let error = parse(value.clone()).expect_err(&value.to_string());
            assert!(
                error.starts_with("`timeout` must be a number of seconds from 0 to 2147483647"),
                "{error}"
            );
        }
    }

    #[test]
    fn seconds_name_the_option_and_the_value_given() {
        assert_eq!(
            seconds("lb::haproxy: `drain_timeout`", &Dynamic::from(-2_i64))
                .map_err(|e| e.to_string()),
            Err(
                "lb::haproxy: `drain_timeout` must be a number of seconds from 0 to 2147483647 \
                 (like 30 or 2.5), not `-2`"
                    .into()
            )
        );
    }
}
