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
        .stderr(
            "error: no script function, type or stdlib module `rn`\nhint: did you mean `run`?\n\
             hint: `rfab --api` shows the whole reference\n",
        )
        .run();
    Test::new()
        .args(&["--api", "zzzzzz"])
        .status(2)
        .stderr(
            "error: no script function, type or stdlib module `zzzzzz`\n\
             hint: `rfab --api` shows the whole reference\n",
        )
        .run();
}

/// `rfab --api hosts::expand` said "no script function or type", though the README's first
/// example calls it: the stdlib modules' functions and settings are in the reference.
#[test]
fn the_stdlib_modules_are_in_the_reference() {
    Test::new()
        .args(&["--api", "hosts::expand"])
        .stdout_regex(
            r"
            \n## `hosts::expand`

            ```
            hosts::expand\(pattern\)
            ```

            Expands a host pattern .*
            ",
        )
        .run();
    Test::new()
        .args(&["--api", "rfab/releases"])
        .stdout_regex(
            r"
            \n## `rfab/releases`

            ```
            import .rfab/releases. as releases;
            ```
            .*`keep_releases` \(5.*`health_url`.*
            ",
        )
        .run();
    Test::new()
        .args(&["--api", "hosts::expnd"])
        .status(2)
        .stderr_starts_with("error: no script function, type or stdlib module `hosts::expnd`\nhint: did you mean `hosts::expand`?\n")
        .run();
}
