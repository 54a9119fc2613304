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

/// Editors learn rfab's API from Rhai definition files: the functions, the stdlib modules
/// and the `env` keys, with their docs.
#[test]
fn definitions_describe_the_api_the_stdlib_and_env() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("defs");
    Test::new()
        .args(&["--definitions", &out.display().to_string()])
        .stdout_regex(
            r"
            wrote \d+ definition files to .*defs: point the Rhai language server at it
            ",
        )
        .run();
    let read = |name: &str| {
        std::fs::read_to_string(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let api = read("__static__.d.rhai");
    for line in [
        "fn run(command: string) -> CommandResult;",
        "fn put(local: string, remote: string) -> Array;",
        "fn haproxy(options: map) -> LoadBalancer;",
    ] {
        assert!(
            api.lines().any(|l| l == line),
            "no {line:?} in __static__.d.rhai"
        );
    }
    assert!(
        !api.contains("EvalAltResult"),
        "Rust types leak into the definitions"
    );
    let hosts = read("rfab-hosts.d.rhai");
    assert!(hosts.starts_with("module hosts;\n"), "{hosts}");
    assert!(hosts.contains("\nfn expand(pattern: ?) -> ?;\n"), "{hosts}");
    let env = read("rfab-env.d.rhai");
    assert!(env.contains("/// - `deploy_to`: "), "{env}");
    assert!(env.ends_with("const env: Env;\n"), "{env}");
    // Every file is a module of declarations: `module` first, each `fn` line ends with `;`.
    for entry in std::fs::read_dir(&out).expect("defs") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("definition file");
        assert!(text.starts_with("module "), "{}", path.display());
        for line in text.lines().filter(|l| l.starts_with("fn ")) {
            // Rhai closes a submodule on its last declaration's line: `...;}`.
            assert!(
                line.ends_with(';') || line.ends_with(";}"),
                "{}: {line}",
                path.display()
            );
        }
    }
}
