//! Python names as Rhai sees them: reserved words renamed, and the dotted names of the
//! functions a fabfile calls, whatever way they were imported.

/// Rhai keywords and reserved words that Python allows as names.
const RESERVED: &[&str] = &[
    "as",
    "async",
    "await",
    "break",
    "call",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "curry",
    "debug",
    "default",
    "do",
    "else",
    "eval",
    "exit",
    "export",
    "false",
    "fn",
    "for",
    "global",
    "go",
    "goto",
    "if",
    "import",
    "in",
    "is",
    "is_def_fn",
    "is_def_var",
    "is_shared",
    "let",
    "loop",
    "match",
    "module",
    "new",
    "nil",
    "null",
    "package",
    "print",
    "private",
    "protected",
    "public",
    "return",
    "shared",
    "spawn",
    "static",
    "super",
    "switch",
    "sync",
    "this",
    "thread",
    "throw",
    "true",
    "try",
    "type_of",
    "until",
    "use",
    "var",
    "void",
    "while",
    "with",
    "yield",
    "Fn",
    "fn_ptr",
];

/// A Python name usable in Rhai: a reserved word gets a trailing `_`.
pub(crate) fn rhai_name(name: &str) -> String {
    if name.chars().all(|c| c == '_') {
        // Rhai has no throw-away name `_`.
        format!("{name}unused")
    } else if RESERVED.contains(&name) {
        format!("{name}_")
    } else {
        name.to_owned()
    }
}

/// What Fabric's module paths mean: `fabric.api.run` is `run`, `fabric.contrib.files.exists`
/// is `files.exists`, so that every way of importing a function names it the same.
pub(crate) fn canonical(dotted: &str) -> String {
    const PREFIXES: &[(&str, &str)] = &[
        ("fabric.contrib.files", "files"),
        ("fabric.contrib.project", "project"),
        ("fabric.contrib.console.", ""),
        ("fabric.colors", "colors"),
        ("fabric.api.", ""),
        ("fabric.operations.", ""),
        ("fabric.context_managers.", ""),
        ("fabric.decorators.", ""),
        ("fabric.utils.", ""),
        ("fabric.tasks.", ""),
        ("fabric.state.", ""),
        ("fabric.network.", ""),
    ];
    for (prefix, to) in PREFIXES {
        if let Some(rest) = dotted.strip_prefix(prefix) {
            return format!("{to}{rest}");
        }
    }
    dotted.to_owned()
}

/// Whether `module` (as imported) is one the converter knows: Fabric's, or the standard
/// library modules it maps to rfab's helpers.
pub(crate) fn known_module(module: &str) -> bool {
    let root = module.split('.').next().unwrap_or(module);
    [
        "fabric",
        "os",
        "re",
        "json",
        "time",
        "datetime",
        "sys",
        "posixpath",
        "__future__",
    ]
    .contains(&root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fabric_paths_name_functions_as_fabfiles_call_them() {
        assert_eq!(canonical("fabric.api.run"), "run");
        assert_eq!(canonical("fabric.contrib.files.exists"), "files.exists");
        assert_eq!(canonical("fabric.contrib.files"), "files");
        assert_eq!(canonical("fabric.contrib.console.confirm"), "confirm");
        assert_eq!(canonical("os.path.join"), "os.path.join");
        assert_eq!(rhai_name("default"), "default_");
        assert_eq!(rhai_name("deploy"), "deploy");
    }
}
