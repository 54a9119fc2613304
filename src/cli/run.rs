//! The whole control flow: arguments → config → subcommand; errors → message and exit status.
//! Under `--json`, the `start` and `end` events around it all come from here, where the exit
//! status is decided.

use std::ffi::OsString;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};

use crate::cli::arguments::Arguments;
use crate::cli::config::Config;
use crate::cli::subcommand::Subcommand;
use crate::output::{ColorChoice, Output};
use crate::signals;

/// Runs rfab with `args` (the program name first) and returns the exit status.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let args: Vec<OsString> = args.into_iter().collect();
    let parsed = Arguments::command()
        .try_get_matches_from(&args)
        .and_then(|matches| Ok((Arguments::from_arg_matches(&matches)?, matches)));
    let (arguments, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return usage_error(&error, &args),
    };
    let output = Output::new(arguments.color).json(arguments.json);
    output.start(
        &arguments.tasks,
        (!arguments.command.is_empty())
            .then(|| arguments.command.join(" "))
            .as_deref(),
        arguments.dry_run,
    );
    if arguments.json {
        let output = output.clone();
        signals::last_words(move || output.end(130, Some("interrupted")));
    }
    // Checked after the rest of the command line, whose mistakes are said first.
    let subcommand = Subcommand::from_arguments(&arguments);
    let result = Config::from_arguments(arguments).and_then(|config| {
        let subcommand = subcommand?;
        let mut warnings = output.clone();
        warnings.levels = config.levels;
        warn_of_secrets_on_the_command_line(&matches, &warnings);
        subcommand.execute(&config, &output)
    });
    let (code, error) = match result {
        Ok(()) => (0, None),
        Err(error) => {
            if !error.is_reported() {
                output.error(&error.to_string());
            }
            (error.code(), Some(error.to_string()))
        }
    };
    output.end(code, error.as_deref());
    code
}

/// A command line clap refuses, or `--help`/`--version`, which clap prints itself (2 for
/// usage errors). Its error is an event under `--json`: clap fails before there are
/// arguments to ask, so the words are looked at for `--json` (and `--dry-run`) themselves.
fn usage_error(error: &clap::Error, args: &[OsString]) -> i32 {
    let code = error.exit_code();
    let asked = |flag: &str| {
        args.iter()
            .skip(1)
            .take_while(|a| *a != "--")
            .any(|a| a == flag)
    };
    if !error.use_stderr() || !asked("--json") {
        let _ = error.print();
        return code;
    }
    let output = Output::new(ColorChoice::Never).json(true);
    output.start(&[], None, asked("--dry-run"));
    let text = error.render().to_string();
    let message = text.trim().trim_start_matches("error: ");
    output.error(message);
    output.end(code, Some(message));
    code
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
