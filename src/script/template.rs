//! Rendering templates for `files::upload_template`: Jinja2's language (minijinja), or
//! Python's `%(name)s` substitution.

use std::fmt::Write as _;
use std::path::Path;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use rhai::{Dynamic, Map};

use crate::script::api::text::{Args, percent as format_percent};

/// Renders `name` from `dir` with `values`, as Fabric's `upload_template(use_jinja=True)`:
/// no HTML escaping, undefined values empty (so `default()` works), includes from `dir`.
pub(crate) fn jinja(dir: &Path, name: &str, values: &Map) -> Result<String, String> {
    let mut env = Environment::new();
    env.set_loader(minijinja::path_loader(dir));
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    // A config file without its final newline is a bug waiting (crontab refuses one).
    env.set_keep_trailing_newline(true);
    let template = env
        .get_template(name)
        .map_err(|e| describe(&e, dir, name))?;
    template
        .render(minijinja::Value::from_serialize(Dynamic::from_map(
            values.clone(),
        )))
        .map_err(|e| describe(&e, dir, name))
}

/// A template error in words, with where it is.
fn describe(error: &minijinja::Error, dir: &Path, name: &str) -> String {
    let mut message = format!("cannot render `{name}` (from `{}`): {error}", dir.display());
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        let _ = write!(message, ": {inner}");
        source = inner.source();
    }
    message
}

/// Reads `path` and, when `values` are given, substitutes `%(name)s` in it as Python's
/// `text % context` does (`%%` is a percent sign).
pub(crate) fn percent(path: &Path, values: Option<&Map>) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    match values {
        Some(values) => format_percent(&text, &Args::Named(values))
            .map_err(|e| format!("`{}`: {e}", path.display())),
        None => Ok(text),
    }
}
