//! `prompt()` and `confirm()` without a terminal: answers piped in, clear errors, defaults,
//! `--set`.

use crate::test::Test;

#[test]
fn prompt_without_a_terminal_or_an_answer_is_a_clear_error() {
    Test::new()
        .fabfile(r#"fn t() { prompt("Release name?"); }"#)
        .args(&["t"])
        .status(1)
        .stdout("Release name? \n")
        .stderr_starts_with("Fatal error: cannot ask \"Release name?\": stdin has no answer left; give the prompt a `fallback`, pipe the answer in, or run rfab on a terminal\n").run();
}

/// `echo y | rfab deploy` printed nothing and failed: Fabric asks, and reads the answer
/// from the pipe.
#[test]
fn answers_are_read_from_a_piped_stdin() {
    Test::new()
        .fabfile(
            r#"
            fn t() {
                print(confirm("Deploy?"));
                print(prompt("Tag?"));
                print(confirm("Clear cache?", true));
                print(prompt("Name?", #{ fallback: "x" }));
            }
            "#,
        )
        .args(&["t"])
        .stdin("n\nv3.0.1\n")
        .stdout(
            "
            Deploy? [Y/n] n
            false
            Tag? v3.0.1
            v3.0.1
            Clear cache? [Y/n] \n            true
            Name? [x] \n            x

            Done.
            ",
        )
        .run();
}

#[test]
fn prompt_uses_its_default() {
    Test::new()
        .fabfile(r#"fn t() { print(prompt("Tag?", #{ fallback: "stable" })); }"#)
        .args(&["t"])
        .stdout("Tag? [stable] \nstable\n\nDone.\n")
        .run();
}

#[test]
fn prompt_key_is_answered_by_set_and_stored() {
    Test::new()
        .fabfile(
            r#"fn t() { print(prompt("Release?", #{ key: "release" })); print(env.release); }"#,
        )
        .args(&["--set", "release=v3.0.1", "t"])
        .stdout("v3.0.1\nv3.0.1\n\nDone.\n")
        .run();
}

#[test]
fn prompt_key_error_says_how_to_answer() {
    Test::new()
        .fabfile(r#"fn t() { prompt("Tag?", #{ key: "tag" }); }"#)
        .args(&["t", "--abort-on-prompts"])
        .status(1).stderr_starts_with("Fatal error: cannot ask \"Tag?\": --abort-on-prompts is set; answer it with `--set tag=VALUE`\n").run();
}

#[test]
fn confirm_needs_a_default_without_a_terminal() {
    let ran = Test::new()
        .fabfile(r#"fn t() { confirm("Go?"); }"#)
        .args(&["t"])
        .status(1)
        .run();
    assert!(
        ran.stderr
            .starts_with("Fatal error: cannot ask \"Go?\": stdin has no answer left"),
        "{}",
        ran.stderr
    );
    Test::new()
        .fabfile(r#"fn t() { print(confirm("Go?", false)); }"#)
        .args(&["t"])
        .stdout("Go? [y/N] \nfalse\n\nDone.\n")
        .run();
}
