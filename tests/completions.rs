//! Shell completion: the scripts `rfab --completions SHELL` prints, sourced in a real bash,
//! zsh and fish, complete the task names of the fabfile in effect.

use std::path::Path;
use std::process::Command;

use crate::test::{RFAB, Test};

const FABFILE: &str = r#"
import "proxy" as proxy;
/// Deploy.
fn deploy(r) {}
/// Status.
fn status() {}
"#;

const PROXY: &str = "/// Flip.\n/// @runs_once\nfn flip() {}\n";

/// A project with `fabfile.rhai` (and `proxy.rhai`), and elsewhere `other.rhai`.
fn project() -> Test {
    Test::new()
        .fabfile(FABFILE)
        .file("proxy.rhai", PROXY)
        .file("elsewhere/other.rhai", "/// Other.\nfn other_task() {}\n")
}

/// Runs `shell` with `script` in `dir`, with rfab first on PATH; its stdout, sorted lines.
fn complete(shell: &str, args: &[&str], dir: &Path, script: &str) -> Vec<String> {
    let bin = Path::new(RFAB).parent().expect("rfab's directory");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new(shell)
        .args(args)
        .arg(script)
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("RFAB_FABFILE")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {shell}: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{shell} failed: {stderr}");
    let mut lines: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

/// What bash offers for the command line `line` (the cursor at its end).
fn bash(dir: &Path, line: &str) -> Vec<String> {
    let script = format!(
        r#"source <(rfab --completions bash)
line={line:?}
COMP_LINE="$line"; COMP_POINT=${{#line}}
# Bash's own split: words, and `:` as a word of its own.
read -ra COMP_WORDS <<< "$(printf '%s' "$line" | sed 's/:/ : /g')"
[[ "$line" == *" " || "$line" == *: ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
_rfab
printf '%s\n' "${{COMPREPLY[@]}}""#
    );
    complete("bash", &["-c"], dir, &script)
        .into_iter()
        .filter(|l| !l.is_empty())
        .collect()
}

/// What zsh offers for `line`: its `_rfab` with `compadd` and `_files` standing in for the
/// completion system's own, which need a terminal.
fn zsh(dir: &Path, line: &str) -> Vec<String> {
    let script = r#"compdef() { :; }
compadd() { [[ "$1" == -- ]] && shift; print -l -- "$@"; }
_files() { print FILES; }
source <(rfab --completions zsh)
words=(${(z)line})
[[ "$line" == *" " ]] && words+=("")
CURRENT=${#words}
PREFIX=$words[CURRENT]
_rfab"#;
    let mut lines = complete(
        "zsh",
        &["-f", "-c"],
        dir,
        &format!("line={line:?}\n{script}"),
    );
    lines.retain(|l| !l.is_empty());
    lines
}

/// What fish offers for `line`, names only.
fn fish(dir: &Path, line: &str) -> Vec<String> {
    let script = format!("rfab --completions fish | source; complete -C {line:?}");
    complete("fish", &["--no-config", "-c"], dir, &script)
        .into_iter()
        .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
        .collect()
}

fn words(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn bash_completes_task_names_with_namespaces() {
    let test = project();
    let dir = test.path();
    assert_eq!(bash(dir, "rfab dep"), words(&["deploy"]));
    assert_eq!(bash(dir, "rfab prod pro"), words(&["proxy.flip"]));
    assert_eq!(
        bash(dir, "rfab "),
        words(&["deploy", "proxy.flip", "repl", "status"])
    );
    assert_eq!(bash(dir, "rfab -d st"), words(&["status"]));
    assert_eq!(
        bash(dir, "rfab -f elsewhere/other.rhai ot"),
        words(&["other_task"])
    );
    assert_eq!(bash(dir, "rfab --color a"), words(&["always", "auto"]));
    assert_eq!(bash(dir, "rfab --dry"), words(&["--dry-run"]));
    // A task's arguments and the ad-hoc command are the user's own.
    assert_eq!(bash(dir, "rfab deploy:"), Vec::<String>::new());
    assert_eq!(bash(dir, "rfab -H h -- st"), Vec::<String>::new());
}

#[test]
fn zsh_completes_task_names_with_namespaces() {
    let test = project();
    let dir = test.path();
    assert_eq!(
        zsh(dir, "rfab "),
        words(&["deploy", "proxy.flip", "repl", "status"])
    );
    assert_eq!(
        zsh(dir, "rfab -d "),
        words(&["deploy", "proxy.flip", "repl", "status"])
    );
    assert_eq!(
        zsh(dir, "rfab -f elsewhere/other.rhai "),
        words(&["other_task", "repl"])
    );
    assert_eq!(zsh(dir, "rfab -f "), words(&["FILES"]));
    assert_eq!(zsh(dir, "rfab deploy:st"), Vec::<String>::new());
}

#[test]
fn fish_completes_task_names_with_namespaces() {
    let test = project();
    let dir = test.path();
    assert_eq!(fish(dir, "rfab dep"), words(&["deploy"]));
    assert_eq!(fish(dir, "rfab prod pro"), words(&["proxy.flip"]));
    assert_eq!(fish(dir, "rfab -d st"), words(&["status"]));
    assert_eq!(
        fish(dir, "rfab -f elsewhere/other.rhai ot"),
        words(&["other_task"])
    );
    assert_eq!(fish(dir, "rfab --known-hosts s"), words(&["strict"]));
}
