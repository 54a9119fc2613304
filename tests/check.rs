//! `rfab check`: what is knowable about a fabfile before a run, each kind of finding at its
//! `file:line:col` with a hint; nothing runs and no host is contacted.

use crate::test::Test;

#[test]
fn the_root_fabfile_checks_clean() {
    Test::new()
        .args(&[
            "-f",
            concat!(env!("CARGO_MANIFEST_DIR"), "/fabfile.rhai"),
            "check",
        ])
        .stdout_regex(
            r"
            .*fabfile\.rhai: no findings
            ",
        )
        .run();
}

#[test]
fn each_kind_of_finding_is_placed_and_hinted() {
    Test::new()
        .fabfile(
            r#"import "lib" as lib;
import "rfab/hosts" as hosts;
const ANSWER = 42;
/// Check.
fn t() {
    rnu("uptime");
    let x = env.hsots;
    lib::helpr();
    hosts::expnd("a");
    git::tagz();
    execute("deplyo");
    "x".to_uppr();
    cd("/", || run("ls"));
    puts(ANSWER);
}
/// Deploy.
fn deploy() {}
/// Shadows a built-in (a method name, `fn to_upper()`, is refused at load).
fn timestamp() {}
"#,
        )
        .file("lib.rhai", "/// Helps.\nfn helper() {}\n")
        .args(&["check"])
        .status(1)
        .stdout(
            "
            fabfile.rhai: error: task `timestamp` has the name of Rhai's built-in function `timestamp`: calls to the built-in reach the task instead
              hint: rename the function
            fabfile.rhai:6:5: error: no function `rnu` exists: not rfab's, not Rhai's, not this file's
              hint: did you mean `run`?
            fabfile.rhai:7:16: warning: `env.hsots` is read here but set nowhere, and rfab does not know it
              hint: did you mean `env.hosts`?
            fabfile.rhai:8:10: error: module `lib` has no public function `helpr`
              hint: did you mean `lib::helper`?
            fabfile.rhai:9:12: error: module `hosts` has no public function `expnd`
              hint: did you mean `hosts::expand`?
            fabfile.rhai:10:10: error: no function `git::tagz` exists
              hint: did you mean `git::tags`?
            fabfile.rhai:11:13: error: `execute(\"deplyo\")` names no task of this fabfile
              hint: did you mean `deploy`?
            fabfile.rhai:12:9: error: no function or method `to_uppr` exists
              hint: did you mean `to_upper`?
            fabfile.rhai:14:10: error: variable `ANSWER` is not defined here
              hint: a function sees only its parameters, its own `let`s and `env`: pass the value in, put it in `env`, or write `global::NAME` for a `const` at the fabfile's top level
            8 errors, 1 warnings
            ",
        )
        .run();
}

#[test]
fn a_fabfile_that_cannot_load_exits_2() {
    Test::new()
        .fabfile("fn t( {")
        .args(&["check"])
        .status(2)
        .stderr_starts_with("error: syntax error: Expecting ')' to close the parameters list of function 't'\n --> fabfile.rhai:1:7\n")
        .run();
}

#[test]
fn findings_as_json_for_editors_and_ci() {
    let ran = Test::new()
        .fabfile("/// T.\nfn t() { rnu(\"x\"); }\n")
        .args(&["--json", "check"])
        .status(1)
        .run();
    let events = crate::json::check(&ran.stdout, 1);
    assert_eq!(events.len(), 3, "start, check, end: {}", ran.stdout);
    let mut document = events[1].clone();
    for key in ["ts", "task", "host"] {
        document.as_object_mut().expect("an object").remove(key);
    }
    assert_eq!(
        document,
        serde_json::json!({
            "event": "check",
            "errors": 1,
            "warnings": 0,
            "findings": [{
                "file": "fabfile.rhai",
                "line": 2,
                "column": 10,
                "severity": "error",
                "message": "no function `rnu` exists: not rfab's, not Rhai's, not this file's",
                "hint": "did you mean `run`?",
            }],
        })
    );
}

/// A fabfile's own task named `check` wins over the built-in, which `+check` still reaches.
#[test]
fn a_task_named_check_wins_and_plus_check_is_rfabs() {
    let fabfile = "/// Mine.\nfn check() { print(\"the fabfile's check\"); }\n";
    Test::new()
        .fabfile(fabfile)
        .args(&["check"])
        .stdout("the fabfile's check\n\nDone.\n")
        .run();
    Test::new()
        .fabfile(fabfile)
        .args(&["+check"])
        .stdout_regex(
            r"
            .*fabfile\.rhai: no findings
            ",
        )
        .run();
}
