//! The whole control flow: arguments → config → subcommand; errors → message and exit status.

use std::ffi::OsString;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};

use crate::cli::arguments::Arguments;
use crate::cli::config::Config;
use crate::cli::subcommand::Subcommand;
use crate::output::Output;

/// Runs rfab with `args` (the program name first) and returns the exit status.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let parsed = Arguments::command()
        .try_get_matches_from(args)
        .and_then(|matches| Ok((Arguments::from_arg_matches(&matches)?, matches)));
    let (arguments, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            // clap prints help and version itself, and uses 2 for usage errors.
            let _ = error.print();
            return error.exit_code();
        }
    };
    let output = Output::new(arguments.color).json(arguments.json);
    // Checked after the rest of the command line, whose mistakes are said first.
    let subcommand = Subcommand::from_arguments(&arguments);
    let result = Config::from_arguments(arguments).and_then(|config| {
        let subcommand = subcommand?;
        let mut warnings = output.clone();
        warnings.levels = config.levels;
        warn_of_secrets_on_the_command_line(&matches, &warnings);
        subcommand.execute(&config, &output)
    });
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

/// A password in argv can be read by every user of the machine (`ps`, `/proc/PID/cmdline`)
/// for as long as rfab runs, and lands in shell history: say so, and where to put it instead.
/// Only the flag is named, never the value.
fn warn_of_secrets_on_the_command_line(matches: &ArgMatches, output: &Output) {
    let secrets = [
        ("password", "-p/--password", "RFAB_PASSWORD"),
        ("sudo_password", "--sudo-password", "RFAB_SUDO_PASSWORD"),
    ];
    for (id, flag, variable) in secrets {
        if matches.value_source(id) == Some(ValueSource::CommandLine) {
            output.warning(
                None,
                &format!(
                    "{flag} on the command line shows the password to every user of this \
                     machine (ps) while rfab runs; set {variable} instead"
                ),
            );
        }
    }
}
