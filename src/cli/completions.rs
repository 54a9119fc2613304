//! Shell completion scripts that complete task names, not file names.
//!
//! The scripts ask `rfab --shortlist` for the task names of the fabfile in effect (the one
//! `-f`/`--fabfile` names earlier on the line, else the one rfab would find from the current
//! directory), so namespaces (`proxy.flip`) and tasks added since the script was generated
//! complete too. Options, their values (`--color <Tab>`) and path arguments (`-f <Tab>`)
//! come from the clap definitions, so each option is still described exactly once.

use std::fmt::Write as _;

use clap::{Arg, Command};
use clap_complete::Shell;

/// The completion script for `shell`; the shells that rfab cannot complete tasks in get
/// clap's own script.
pub(crate) fn script(shell: Shell, mut command: Command) -> String {
    let options = Options::of(&command);
    match shell {
        Shell::Bash => bash(&options),
        Shell::Zsh => zsh(&options),
        Shell::Fish => fish(&options),
        other => {
            let mut script = Vec::new();
            clap_complete::generate(other, &mut command, "rfab", &mut script);
            String::from_utf8_lossy(&script).into_owned()
        }
    }
}

/// The command line's options, in the forms the scripts need.
struct Options {
    /// Every option, with what its value completes to.
    all: Vec<Flag>,
}

struct Flag {
    short: Option<char>,
    long: Option<String>,
    help: String,
    value: Value,
}

/// What follows an option.
#[derive(PartialEq, Eq)]
enum Value {
    /// Nothing: a flag.
    None,
    /// A path.
    Path,
    /// A task name (`-d`).
    Task,
    /// One of these words.
    Words(Vec<String>),
    /// Something only the user knows (a host, a number): nothing is offered.
    Free,
}

impl Options {
    fn of(command: &Command) -> Self {
        let all = command
            .get_arguments()
            .filter(|arg| !arg.is_positional() && !arg.is_hide_set())
            .map(|arg| Flag {
                short: arg.get_short(),
                long: arg.get_long().map(str::to_owned),
                help: arg
                    .get_help()
                    .map(ToString::to_string)
                    .unwrap_or_default()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                value: value_of(arg),
            })
            .collect();
        Self { all }
    }

    /// `-f --fabfile -l ...`: every spelling.
    fn words(&self) -> String {
        self.all
            .iter()
            .flat_map(Flag::spellings)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The spellings of the options whose value is `kind`, as a `case` pattern: `-f|--fabfile`.
    fn pattern(&self, kind: impl Fn(&Value) -> bool) -> Option<String> {
        let spellings: Vec<String> = self
            .all
            .iter()
            .filter(|option| kind(&option.value))
            .flat_map(Flag::spellings)
            .collect();
        (!spellings.is_empty()).then(|| spellings.join("|"))
    }
}

impl Flag {
    fn spellings(&self) -> Vec<String> {
        let short = self.short.map(|c| format!("-{c}"));
        let long = self.long.as_ref().map(|l| format!("--{l}"));
        short.into_iter().chain(long).collect()
    }
}

fn value_of(arg: &Arg) -> Value {
    if !arg.get_action().takes_values() {
        return Value::None;
    }
    let possible: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_owned())
        .collect();
    if !possible.is_empty() {
        return Value::Words(possible);
    }
    let names: Vec<&str> = arg
        .get_value_names()
        .map(|names| names.iter().map(clap::builder::Str::as_str).collect())
        .unwrap_or_default();
    match names.first().copied() {
        Some("PATH" | "KEY" | "FILE" | "DIR") => Value::Path,
        Some("TASK") => Value::Task,
        _ => Value::Free,
    }
}

/// Bash: `source <(rfab --completions bash)`.
///
/// Bash splits words at `:` (`COMP_WORDBREAKS`), so `deploy:st` arrives as `deploy`, `:`,
/// `st`: after a `:` comes a task's argument, for which nothing is offered.
fn bash(options: &Options) -> String {
    let mut cases = String::new();
    if let Some(pattern) = options.pattern(|v| *v == Value::Path) {
        let _ = writeln!(
            cases,
            "        {pattern}) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;"
        );
    }
    if let Some(pattern) = options.pattern(|v| *v == Value::Task) {
        let _ = writeln!(
            cases,
            "        {pattern}) COMPREPLY=($(compgen -W \"$(_rfab_tasks)\" -- \"$cur\")); return ;;"
        );
    }
    for option in &options.all {
        if let Value::Words(words) = &option.value {
            let _ = writeln!(
                cases,
                "        {}) COMPREPLY=($(compgen -W \"{}\" -- \"$cur\")); return ;;",
                option.spellings().join("|"),
                words.join(" ")
            );
        }
    }
    if let Some(pattern) = options.pattern(|v| *v == Value::Free) {
        let _ = writeln!(cases, "        {pattern}) return ;;");
    }
    format!(
        r#"# rfab completion for bash: source <(rfab --completions bash)

# The task names of the fabfile in effect: -f/--fabfile earlier on the line, else the one
# rfab finds from here.
_rfab_tasks() {{
    local i fabfile=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${{COMP_WORDS[i]}}" in
            -f|--fabfile) fabfile=(--fabfile "${{COMP_WORDS[i+1]}}") ;;
            --fabfile=*) fabfile=("${{COMP_WORDS[i]}}") ;;
        esac
    done
    rfab "${{fabfile[@]}}" --shortlist 2>/dev/null
    echo repl
}}

_rfab() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    COMPREPLY=()
    # After `--` comes the ad-hoc command; after `task:` the task's arguments.
    local i
    for ((i = 1; i < COMP_CWORD; i++)); do
        [[ "${{COMP_WORDS[i]}}" == -- ]] && return
    done
    [[ "$cur" == : || "$prev" == : ]] && return
    case "$prev" in
{cases}    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "{words}" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$(_rfab_tasks)" -- "$cur"))
    fi
}}

complete -F _rfab rfab
"#,
        words = options.words(),
    )
}

/// Zsh: `source <(rfab --completions zsh)`, or the script saved as `_rfab` in `$fpath`.
fn zsh(options: &Options) -> String {
    let mut cases = String::new();
    if let Some(pattern) = options.pattern(|v| *v == Value::Path) {
        let _ = writeln!(cases, "        {pattern}) _files; return ;;");
    }
    if let Some(pattern) = options.pattern(|v| *v == Value::Task) {
        let _ = writeln!(
            cases,
            "        {pattern}) compadd -- $(_rfab_tasks); return ;;"
        );
    }
    for option in &options.all {
        if let Value::Words(words) = &option.value {
            let _ = writeln!(
                cases,
                "        {}) compadd -- {}; return ;;",
                option.spellings().join("|"),
                words.join(" ")
            );
        }
    }
    if let Some(pattern) = options.pattern(|v| *v == Value::Free) {
        let _ = writeln!(cases, "        {pattern}) return ;;");
    }
    format!(
        r#"#compdef rfab
# rfab completion for zsh: source <(rfab --completions zsh), or save as _rfab in $fpath.

# The task names of the fabfile in effect: -f/--fabfile earlier on the line, else the one
# rfab finds from here.
_rfab_tasks() {{
    local i fabfile=()
    for ((i = 2; i < CURRENT; i++)); do
        case "$words[i]" in
            -f|--fabfile) fabfile=(--fabfile "$words[i+1]") ;;
            --fabfile=*) fabfile=("$words[i]") ;;
        esac
    done
    rfab "${{fabfile[@]}}" --shortlist 2>/dev/null
    echo repl
}}

_rfab() {{
    local i
    for ((i = 2; i < CURRENT; i++)); do
        [[ "$words[i]" == -- ]] && return
    done
    # After `task:` come the task's arguments.
    [[ "$PREFIX" == *:* ]] && return
    case "$words[CURRENT-1]" in
{cases}    esac
    if [[ "$PREFIX" == -* ]]; then
        compadd -- {words}
    else
        compadd -- $(_rfab_tasks)
    fi
}}

if [[ "$funcstack[1]" == _rfab ]]; then
    _rfab "$@"
else
    compdef _rfab rfab
fi
"#,
        words = options.words(),
    )
}

/// Fish: `rfab --completions fish | source`.
fn fish(options: &Options) -> String {
    let mut script = String::from(
        "# rfab completion for fish: rfab --completions fish | source\n\n\
         # The task names of the fabfile in effect: -f/--fabfile earlier on the line, else\n\
         # the one rfab finds from here.\n\
         function __rfab_tasks\n\
         \x20   set -l words (commandline -opc)\n\
         \x20   set -l fabfile\n\
         \x20   for i in (seq 2 (count $words))\n\
         \x20       switch $words[$i]\n\
         \x20           case -f --fabfile\n\
         \x20               set fabfile --fabfile $words[(math $i + 1)]\n\
         \x20           case '--fabfile=*'\n\
         \x20               set fabfile $words[$i]\n\
         \x20       end\n\
         \x20   end\n\
         \x20   rfab $fabfile --shortlist 2>/dev/null\n\
         \x20   echo repl\n\
         end\n\n\
         # Tasks are offered where a task may go: not after `--`, not inside `task:args`.\n\
         function __rfab_wants_task\n\
         \x20   contains -- -- (commandline -opc); and return 1\n\
         \x20   not string match -q -- '*:*' (commandline -ct)\n\
         end\n\n\
         complete -c rfab -f\n\
         complete -c rfab -n __rfab_wants_task -a '(__rfab_tasks)'\n",
    );
    for option in &options.all {
        let mut line = String::from("complete -c rfab");
        if let Some(short) = option.short {
            let _ = write!(line, " -s {short}");
        }
        if let Some(long) = &option.long {
            let _ = write!(line, " -l {long}");
        }
        match &option.value {
            Value::None => {}
            Value::Path => line.push_str(" -r -F"),
            Value::Task => line.push_str(" -x -a '(__rfab_tasks)'"),
            Value::Words(words) => {
                let _ = write!(line, " -x -a '{}'", words.join(" "));
            }
            Value::Free => line.push_str(" -x"),
        }
        let _ = writeln!(line, " -d '{}'", option.help.replace('\'', "\\'"));
        script.push_str(&line);
    }
    script
}
