//! Regular expressions for scripts (Python's `re`), with the `regex` crate's syntax: no
//! look-around or back-references, and matching in time linear in the text.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use regex::Regex;
use rhai::plugin::*;
use rhai::{Array, EvalAltResult, Map};

#[export_module]
pub(crate) mod pattern_api {
    use super::{Array, Map};

    /// Whether `pattern` matches anywhere in `text` (Python's `re.search(...) is not None`;
    /// anchor with `^` and `$`). `(?i)` at the start ignores case.
    ///
    /// ```rhai
    /// if regex_match(run("uname -r").stdout, `^6\.`) { print("a 6.x kernel"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn regex_match(text: &str, pattern: &str) -> Result<bool, Box<EvalAltResult>> {
        Ok(super::compiled("regex_match", pattern)?.is_match(text))
    }

    /// The first match of `pattern` in `text` and its groups: `[whole, group1, ...]` (a
    /// group that took no part is `()`), or `()` when nothing matches (Python's
    /// `re.search(...).groups()`).
    ///
    /// ```rhai
    /// let m = regex_captures("nginx version: nginx/1.22.1", `(\d+)\.(\d+)`);
    /// if m != () { print(`major ${m[1]}, minor ${m[2]}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn regex_captures(text: &str, pattern: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        let regex = super::compiled("regex_captures", pattern)?;
        Ok(regex.captures(text).map_or(Dynamic::UNIT, |captures| {
            let groups: Array = captures
                .iter()
                .map(|group| group.map_or(Dynamic::UNIT, |m| m.as_str().into()))
                .collect();
            groups.into()
        }))
    }

    /// The named groups (`(?P<name>...)` or `(?<name>...)`) of the first match, as a map,
    /// or `()` when nothing matches (Python's `groupdict()`).
    ///
    /// ```rhai
    /// let m = regex_named("web1:8080", `(?P<host>\w+):(?P<port>\d+)`);
    /// print(m.port);   // 8080
    /// ```
    #[rhai_fn(return_raw)]
    pub fn regex_named(text: &str, pattern: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        let regex = super::compiled("regex_named", pattern)?;
        Ok(regex.captures(text).map_or(Dynamic::UNIT, |captures| {
            let groups: Map = regex
                .capture_names()
                .flatten()
                .map(|name| {
                    let value = captures
                        .name(name)
                        .map_or(Dynamic::UNIT, |m| m.as_str().into());
                    (name.into(), value)
                })
                .collect();
            groups.into()
        }))
    }

    /// Every match of `pattern` in `text`, in order (Python's `re.findall` without groups).
    ///
    /// ```rhai
    /// let versions = regex_find_all("v1.2 and v1.10", `v\d+\.\d+`);   // ["v1.2", "v1.10"]
    /// ```
    #[rhai_fn(return_raw)]
    pub fn regex_find_all(text: &str, pattern: &str) -> Result<Array, Box<EvalAltResult>> {
        let regex = super::compiled("regex_find_all", pattern)?;
        Ok(regex.find_iter(text).map(|m| m.as_str().into()).collect())
    }

    /// `text` with every match of `pattern` replaced (Python's `re.sub`). In `replacement`,
    /// `$1` or `${1}` is a group, `${name}` a named one, `$$` a dollar sign.
    ///
    /// ```rhai
    /// let conf = regex_replace("port = 80", `port = \d+`, "port = 8080");
    /// let swapped = regex_replace("a=1", `(\w+)=(\w+)`, "${2}=${1}");   // "1=a"
    /// ```
    #[rhai_fn(return_raw)]
    pub fn regex_replace(
        text: &str,
        pattern: &str,
        replacement: &str,
    ) -> Result<String, Box<EvalAltResult>> {
        let regex = super::compiled("regex_replace", pattern)?;
        Ok(regex.replace_all(text, replacement).into_owned())
    }

    /// `text` cut at every match of `pattern` (Python's `re.split`, without groups).
    ///
    /// ```rhai
    /// let words = regex_split("a, b;c", `[,;]\s*`);   // ["a", "b", "c"]
    /// ```
    #[rhai_fn(return_raw)]
    pub fn regex_split(text: &str, pattern: &str) -> Result<Array, Box<EvalAltResult>> {
        let regex = super::compiled("regex_split", pattern)?;
        Ok(regex.split(text).map(Into::into).collect())
    }
}

/// Patterns compiled so far, so a loop does not compile its pattern on each turn. Cleared
/// when full: scripts use a handful.
static CACHE: Mutex<Option<HashMap<String, Regex>>> = Mutex::new(None);
const CACHED: usize = 64;

/// `pattern`, compiled, or an error naming the function and what is wrong with it.
fn compiled(function: &str, pattern: &str) -> Result<Regex, Box<EvalAltResult>> {
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    let cache = cache.get_or_insert_with(HashMap::new);
    if let Some(regex) = cache.get(pattern) {
        return Ok(regex.clone());
    }
    let regex = Regex::new(pattern).map_err(|e| {
        format!("{function}(): `{pattern}` is not a regular expression rfab reads: {e}")
    })?;
    if cache.len() >= CACHED {
        cache.clear();
    }
    cache.insert(pattern.to_owned(), regex.clone());
    Ok(regex)
}
