//! Glob patterns as git attributes and tag selections write them.

/// Whether `path` (or a directory above it) matches a `.gitattributes`-style pattern.
pub(super) fn matches_path(pattern: &str, path: &str) -> bool {
    if let Some(rest) = pattern.strip_prefix("**/") {
        let name = path.rsplit('/').next().unwrap_or(path);
        return glob(rest, name) || glob(rest, path) || glob(pattern, path);
    }
    match pattern.split_once("/**/") {
        Some((dir, rest)) => path
            .strip_prefix(dir)
            .and_then(|p| p.strip_prefix('/'))
            .is_some_and(|p| matches_path(&format!("**/{rest}"), p)),
        None => glob(pattern, path),
    }
}

/// Shell-style glob: `*` (not across `/` unless the pattern has none), `?`.
pub(super) fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    go(&p, &t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_export_ignore_patterns() {
        assert!(glob("v*", "v1.0.0"));
        assert!(!glob("v?", "v10"));
        assert!(matches_path("**/*.md", "docs/readme.md"));
        assert!(matches_path("tests", "tests"));
        assert!(matches_path("docs/**/secret", "docs/a/secret"));
        assert!(!matches_path("tests", "src/tests.rs"));
    }
}
