//! The script API reference: generated from the functions' docs, committed as docs/api.md.

use crate::test::Test;

/// `rfab --api > docs/api.md`, or `RFAB_BLESS=1 cargo test`, updates it.
#[test]
fn committed_reference_is_current() {
    Test::new()
        .args(&["--api"])
        .stdout_file("docs/api.md")
        .run();
}

#[test]
fn every_function_is_documented_with_an_example() {
    let ran = Test::new().args(&["--api"]).run();
    for section in ran.stdout.split("\n## ").skip(1) {
        assert!(
            section.contains("```rhai") || section.contains("prints as"),
            "no example in:\n{section}"
        );
    }
}

#[test]
fn one_entry() {
    Test::new()
        .args(&["--api", "local"])
        .stdout_regex(
            r"
            \n## `local`

            ```
            local\(command: string\) -> CommandResult
            ```
            .*`warn_only`.*
            ```
            local\(command: string, options: map\) -> CommandResult
            ```
            .*
            ",
        )
        .run();
}

#[test]
fn unknown_entry() {
    Test::new()
        .args(&["--api", "rn"])
        .status(2)
        .stderr("error: no script function or type `rn`\nhint: `rfab --api` shows the whole reference\n")
        .run();
}
