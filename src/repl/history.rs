//! Where the prompt's history is kept between sessions: `$XDG_DATA_HOME/rfab/history`, or
//! `~/.local/share/rfab/history` when `XDG_DATA_HOME` is unset or not absolute (as the XDG
//! Base Directory specification says).

use std::path::PathBuf;

/// The history file, or `None` when neither `XDG_DATA_HOME` nor `HOME` says where it goes.
pub(crate) fn path() -> Option<PathBuf> {
    let variable = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let data =
        variable("XDG_DATA_HOME").or_else(|| Some(variable("HOME")?.join(".local/share")))?;
    Some(data.join("rfab").join("history"))
}
