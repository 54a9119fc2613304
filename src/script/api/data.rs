//! Data formats for scripts beyond Rhai's own `parse_json` and `map.to_json()`: any value
//! as JSON, and INI files (Python's `json.dumps`, `configparser`).
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use rhai::plugin::*;
use rhai::{Array, EvalAltResult, Map};

#[export_module]
pub(crate) mod data_api {
    use super::{Array, Map};

    /// An array as JSON text (Rhai's `map.to_json()` does maps; `parse_json(text)` reads
    /// either back).
    ///
    /// ```rhai
    /// let body = ["web1", "web2"].to_json();   // ["web1","web2"]
    /// ```
    #[rhai_fn(name = "to_json", return_raw)]
    pub fn array_to_json(items: Array) -> Result<String, Box<EvalAltResult>> {
        serde_json::to_string(&items).map_err(|e| format!("to_json(): {e}").into())
    }

    /// Any value as indented JSON text, for files people read.
    ///
    /// ```rhai
    /// write_file("hosts.json", to_json_pretty(#{ web: ["web1", "web2"] }));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn to_json_pretty(value: Dynamic) -> Result<String, Box<EvalAltResult>> {
        serde_json::to_string_pretty(&value).map_err(|e| format!("to_json_pretty(): {e}").into())
    }

    /// INI text as a map of sections, each a map of its keys (Python's `configparser`):
    /// `[section]` headers, `key = value` or `key: value` lines, `#` and `;` comments,
    /// indented lines continuing the value before. Keys before any section, and those of
    /// `[DEFAULT]`, are in every section unless it sets them itself (and under `DEFAULT`).
    /// Keys keep their case (configparser lower-cases them); values are strings.
    ///
    /// ```rhai
    /// let ini = parse_ini(read_file("config/version.ini"));
    /// print(ini.app.version);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn parse_ini(text: &str) -> Result<Map, Box<EvalAltResult>> {
        super::ini(text).map_err(Into::into)
    }
}

const DEFAULT: &str = "DEFAULT";

/// Parses INI text: see `parse_ini`.
fn ini(text: &str) -> Result<Map, String> {
    let mut sections: Vec<(String, Vec<(String, String)>)> = vec![(DEFAULT.into(), Vec::new())];
    let mut last_key: Option<usize> = None;
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
            continue;
        }
        let section = sections.last_mut().map(|(_, keys)| keys);
        if line.starts_with([' ', '\t'])
            && let (Some(keys), Some(index)) = (section, last_key)
        {
            let value = &mut keys[index].1;
            value.push('\n');
            value.push_str(trimmed);
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            let name = name.trim().to_owned();
            // A section given twice goes on where it was.
            match sections.iter().position(|(n, _)| *n == name) {
                Some(at) => {
                    let section = sections.remove(at);
                    sections.push(section);
                }
                None => sections.push((name, Vec::new())),
            }
            last_key = None;
            continue;
        }
        let (key, value) = match trimmed.find(['=', ':']) {
            Some(at) => (trimmed[..at].trim(), trimmed[at + 1..].trim()),
            None => (trimmed, ""),
        };
        if key.is_empty() {
            return Err(format!(
                "parse_ini(): line {}: `{trimmed}` is not `key = value`, a `[section]` or a comment",
                number + 1
            ));
        }
        let keys = &mut sections.last_mut().ok_or("parse_ini(): no section")?.1;
        if let Some(at) = keys.iter().position(|(k, _)| k == key) {
            value.clone_into(&mut keys[at].1);
            last_key = Some(at);
        } else {
            keys.push((key.to_owned(), value.to_owned()));
            last_key = Some(keys.len() - 1);
        }
    }
    let defaults = sections
        .iter()
        .position(|(name, _)| name == DEFAULT)
        .map(|at| sections.remove(at).1)
        .unwrap_or_default();
    let mut map = Map::new();
    for (name, keys) in sections {
        let mut section: Map = defaults
            .iter()
            .map(|(k, v)| (k.into(), Dynamic::from(v.clone())))
            .collect();
        section.extend(keys.into_iter().map(|(k, v)| (k.into(), Dynamic::from(v))));
        map.insert(name.into(), section.into());
    }
    if !defaults.is_empty() {
        let section: Map = defaults
            .into_iter()
            .map(|(k, v)| (k.into(), Dynamic::from(v)))
            .collect();
        map.insert(DEFAULT.into(), section.into());
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_reads_sections_defaults_comments_and_continuations() {
        let map = ini(
            "top = 1\n[DEFAULT]\nregion: eu\n# comment\n[app]\nversion = 3.0.1\nflags = a\n  b\n; x\n[db]\nregion = us\nempty\n",
        )
        .unwrap();
        let text = serde_json::to_string(&Dynamic::from_map(map)).unwrap();
        assert_eq!(
            text,
            r#"{"DEFAULT":{"region":"eu","top":"1"},"app":{"flags":"a\nb","region":"eu","top":"1","version":"3.0.1"},"db":{"empty":"","region":"us","top":"1"}}"#
        );
        assert_eq!(
            ini("[a]\n= x\n").unwrap_err(),
            "parse_ini(): line 2: `= x` is not `key = value`, a `[section]` or a comment"
        );
    }
}
