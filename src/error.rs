//! The one error type of rfab: every failure a user can meet, each with what to do next.
//!
//! Messages are lower-case, put names in backticks and end with a hint. `code()` maps each
//! error to the exit status: 2 for a command line that cannot run, 1 for a run that failed,
//! 130 for an interrupted one.

use std::path::PathBuf;

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("no fabfile found: looked for `fabfile.rhai` in {}\nhint: create one, or point at it with `-f PATH`", searched_list(.searched))]
    FabfileNotFound { searched: Vec<PathBuf> },

    #[error("cannot read fabfile `{}`: {source}\nhint: check the path given to `-f`", .path.display())]
    FabfileRead {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A script error, already rendered with its source snippet and call chain.
    #[error("{rendered}")]
    Script { rendered: String },

    #[error("unknown task `{name}`{}\nhint: `rfab --list` shows the tasks of this fabfile", did_you_mean(.suggestion.as_deref()))]
    UnknownTask {
        name: String,
        suggestion: Option<String>,
    },

    #[error("task `{task}` takes {expected}, but {given} given\nusage: {usage}")]
    Arity {
        task: String,
        expected: String,
        given: String,
        usage: String,
    },

    #[error("bad argument for task `{task}`: {message}\nusage: {usage}")]
    TaskArgument {
        task: String,
        message: String,
        usage: String,
    },

    #[error("no script function, type or stdlib module `{name}`{}\nhint: `rfab --api` shows the whole reference", did_you_mean(.suggestion.as_deref()))]
    UnknownApi {
        name: String,
        suggestion: Option<String>,
    },

    #[error("cannot write the definition files to `{}`: {source}", .dir.display())]
    Definitions {
        dir: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "rfab init would overwrite {files}\nhint: keep them, or run `rfab init:force=true` to write them again"
    )]
    InitExists { files: String },

    #[error("cannot write `{}`: {source}", .path.display())]
    InitWrite {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("malformed task argument `{word}`: {message}")]
    InvocationSyntax { word: String, message: String },

    #[error(
        "{location}: {message}\nhint: tags are @hosts(a, b), @roles(r), @runs_once, @parallel, @parallel(pool = N), @serial, @task, @name(n), @defaults(p = \"v\"), @helper"
    )]
    Tag { location: String, message: String },

    #[error("bad `--set {item}`: {message}\nhint: write `--set key=value,flag,empty=`")]
    Set { item: String, message: String },

    #[error(
        "bad host string `{host}`: {message}\nhint: write `host`, `user@host`, `host:port` or `user@[::1]:port`"
    )]
    HostString { host: String, message: String },

    #[error("unknown role `{role}`{}\nhint: define it in `env.roledefs`", known_list(.known))]
    UnknownRole { role: String, known: Vec<String> },

    #[error("`env.{key}` must be {expected}, not {found}")]
    EnvType {
        key: String,
        expected: &'static str,
        found: String,
    },

    #[error("{message}\nhint: e.g. `--hide running,stdout` or `--show everything`")]
    OutputLevel { message: String },

    #[error(
        "no task given\nhint: run `rfab TASK`, or `rfab -H HOSTS -- COMMAND`; the tasks of this fabfile are listed above"
    )]
    NoTask,

    /// A task failed; the message was printed as it happened, this only sets the status.
    #[error("{0}")]
    TaskFailed(String),

    #[error("interrupted")]
    Interrupted,

    /// `rfab check` found something; the findings are printed.
    #[error("{errors} errors and {warnings} warnings")]
    CheckFindings { errors: usize, warnings: usize },

    #[error(
        "`repl` starts the interactive prompt, so it comes after the tasks to run first\nusage: rfab [TASK[:ARGS]]... repl"
    )]
    ReplNotLast,

    #[error("unknown command `:{name}`{}\nhint: `:help` lists the commands", did_you_mean(.suggestion.as_deref()))]
    UnknownMeta {
        name: String,
        suggestion: Option<String>,
    },

    #[error("unknown function or task `{name}`{}\nhint: `:tasks` lists the tasks, `:help` the commands; `:reload` reads a changed fabfile", did_you_mean(.suggestion.as_deref()))]
    UnknownName {
        name: String,
        suggestion: Option<String>,
    },

    #[error("unknown task `{name}`{}\nhint: `:tasks` lists the tasks; `:reload` reads a changed fabfile", did_you_mean(.suggestion.as_deref()))]
    UnknownTaskAtPrompt {
        name: String,
        suggestion: Option<String>,
    },

    #[error(
        "`{name}` is a task, not a function: run it on a line of its own, as `{name}` or `{name}:ARGS`"
    )]
    TaskInScript { name: String },

    #[error("no fabfile found: looked for `fabfile.rhai` in {}\nhint: create one, point at it with `-f PATH`, or name hosts (`rfab -H HOST repl`) to open the prompt without one", searched_list(.searched))]
    ReplWithoutFabfile { searched: Vec<PathBuf> },

    #[error(
        "no fabfile to reload: this session started without one\nhint: leave, and start `rfab repl` beside a `fabfile.rhai` or with `-f PATH`"
    )]
    NoFabfileToReload,

    #[error("{message}\nusage: {usage}")]
    MetaUsage {
        message: String,
        usage: &'static str,
    },

    #[error("cannot read from the terminal: {message}")]
    Terminal { message: String },

    /// `rfab port` could not read, convert or write the fabfile.
    #[error("{message}")]
    Port { message: String },

    /// `rfab -f MAIN --list` refused the port.
    #[error("the port does not load yet: {said}\nhint: finish the lines it points at, then check with `rfab -f {} --list`", .main.display())]
    PortDoesNotLoad { main: PathBuf, said: String },
}

impl Error {
    /// The process exit status for this error.
    pub(crate) fn code(&self) -> i32 {
        match self {
            // Nothing ran: the command line or the fabfile cannot run as they are.
            Self::FabfileNotFound { .. }
            | Self::FabfileRead { .. }
            | Self::Script { .. }
            | Self::Tag { .. }
            | Self::UnknownTask { .. }
            | Self::UnknownApi { .. }
            | Self::InitExists { .. }
            | Self::Arity { .. }
            | Self::TaskArgument { .. }
            | Self::InvocationSyntax { .. }
            | Self::Set { .. }
            | Self::HostString { .. }
            | Self::OutputLevel { .. }
            | Self::NoTask
            | Self::ReplNotLast
            | Self::UnknownMeta { .. }
            | Self::UnknownName { .. }
            | Self::UnknownTaskAtPrompt { .. }
            | Self::TaskInScript { .. }
            | Self::ReplWithoutFabfile { .. }
            | Self::NoFabfileToReload
            | Self::MetaUsage { .. } => 2,
            Self::Interrupted => 130,
            _ => 1,
        }
    }

    /// Whether the message is already on the terminal (a task failure prints itself).
    pub(crate) fn is_reported(&self) -> bool {
        matches!(self, Self::TaskFailed(_) | Self::CheckFindings { .. })
    }
}

fn searched_list(searched: &[PathBuf]) -> String {
    searched
        .iter()
        .map(|p| format!("`{}`", p.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion
        .map(|s| format!("\nhint: did you mean `{s}`?"))
        .unwrap_or_default()
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        " (`env.roledefs` defines no roles)".into()
    } else {
        format!(" (defined: {})", known.join(", "))
    }
}
