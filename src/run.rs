//! The whole control flow: arguments → config → subcommand; errors → message and exit status.

use std::ffi::OsString;

use clap::Parser;

use crate::arguments::Arguments;
use crate::config::Config;
use crate::output::Output;

/// Runs rfab with `args` (the program name first) and returns the exit status.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let arguments = match Arguments::try_parse_from(args) {
        Ok(arguments) => arguments,
        Err(error) => {
            // clap prints help and version itself, and uses 2 for usage errors.
            let _ = error.print();
            return error.exit_code();
        }
    };
    let output = Output::new(arguments.color).json(arguments.json);
    let result = Config::from_arguments(arguments)
        .and_then(|config| config.subcommand.execute(&config, &output));
    match result {
        Ok(()) => 0,
        Err(error) => {
            if !error.is_reported() {
                output.error(&error.to_string());
            }
            error.code()
        }
    }
}
