//! Everything rfab prints: Fabric-style `[host] label: text` lines, warnings and errors.
//!
//! Each line is written with one `write_all` under the stream's lock, so lines from
//! parallel hosts never mix mid-line.

use std::io::{self, IsTerminal, Write};

use anstyle::{AnsiColor, Style};

/// When to colour output (`--color`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Clone, Debug)]
pub(crate) struct Output {
    stdout_color: bool,
    stderr_color: bool,
}

const HOST: Style = AnsiColor::Cyan.on_default();
const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();

impl Output {
    pub(crate) fn new(choice: ColorChoice) -> Self {
        let auto =
            |terminal: bool| terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let (stdout_color, stderr_color) = match choice {
            ColorChoice::Always => (true, true),
            ColorChoice::Never => (false, false),
            ColorChoice::Auto => (
                auto(io::stdout().is_terminal()),
                auto(io::stderr().is_terminal()),
            ),
        };
        Self {
            stdout_color,
            stderr_color,
        }
    }

    /// `[host] label: text` on stdout; without a host, `label: text`; without a label, `text`.
    pub(crate) fn host_line(&self, host: Option<&str>, label: &str, text: &str) {
        let mut line = String::with_capacity(text.len() + 32);
        if let Some(host) = host {
            line.push_str(&paint(self.stdout_color, HOST, &format!("[{host}]")));
            line.push(' ');
        }
        if !label.is_empty() {
            line.push_str(label);
            line.push_str(": ");
        }
        line.push_str(text);
        line.push('\n');
        write_line(&mut io::stdout().lock(), &line);
    }

    /// A plain line on stdout.
    #[allow(clippy::unused_self)] // a method like the others, so every print goes through `Output`
    pub(crate) fn say(&self, text: &str) {
        write_line(&mut io::stdout().lock(), &format!("{text}\n"));
    }

    /// `Warning: message` on stderr.
    pub(crate) fn warning(&self, host: Option<&str>, message: &str) {
        let label = paint(self.stderr_color, WARNING, "Warning:");
        write_line(
            &mut io::stderr().lock(),
            &format!("{}{label} {message}\n", prefix(host)),
        );
    }

    /// `Fatal error: message`, then Fabric's `Aborting.`, on stderr.
    pub(crate) fn fatal(&self, host: Option<&str>, message: &str) {
        let label = paint(self.stderr_color, ERROR, "Fatal error:");
        write_line(
            &mut io::stderr().lock(),
            &format!("{}{label} {message}\n\nAborting.\n", prefix(host)),
        );
    }

    /// `error: message` on stderr, for a command line that cannot run.
    pub(crate) fn error(&self, message: &str) {
        let label = paint(self.stderr_color, ERROR, "error:");
        write_line(&mut io::stderr().lock(), &format!("{label} {message}\n"));
    }
}

fn prefix(host: Option<&str>) -> String {
    host.map(|h| format!("[{h}] ")).unwrap_or_default()
}

fn paint(color: bool, style: Style, text: &str) -> String {
    if color {
        format!("{style}{text}{style:#}")
    } else {
        text.to_owned()
    }
}

fn write_line(stream: &mut impl Write, line: &str) {
    // A closed pipe (`rfab --list | head`) is not an error worth reporting.
    let _ = stream
        .write_all(line.as_bytes())
        .and_then(|()| stream.flush());
}
