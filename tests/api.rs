//! The script API reference: generated from the functions' docs, committed as docs/api.md.

use crate::test::Test;

#[test]
fn committed_reference_is_current() {
    let ran = Test::new().args(&["--api"]).run();
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md"))
        .unwrap_or_default();
    if committed != ran.stdout {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md.new"),
            &ran.stdout,
        )
        .expect("write");
        panic!(
            "docs/api.md is out of date: `rfab --api > docs/api.md` (written to docs/api.md.new)"
        );
    }
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
    let ran = Test::new().args(&["--api", "local"]).run();
    assert!(ran.stdout.starts_with("\n## `local`\n"), "{}", ran.stdout);
    assert!(ran.stdout.contains("warn_only"), "{}", ran.stdout);
}

#[test]
fn unknown_entry() {
    Test::new()
        .args(&["--api", "rn"])
        .status(2)
        .stderr("error: no script function or type `rn`\nhint: `rfab --api` shows the whole reference\n")
        .run();
}
