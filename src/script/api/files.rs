//! `rfab/files`: Fabric's `contrib.files` (`exists`, `append`, `sed`, `upload_template`...)
//! on the current host. Each change is one remote command, every path and text in it
//! quoted; `use_sudo` runs it through `sudo()`, with its password handling.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use std::path::{Path, PathBuf};

use rhai::plugin::*;
use rhai::{Array, EvalAltResult, Map, NativeCallContext};

use crate::script::api::remote::{command, needs_host};
use crate::script::api::transfer::{
    Upload, in_dir, in_remote_dir, local_mode, mode_option, upload_one,
};
use crate::script::api::{CommandResult, check_options};
use crate::script::context::Context;
use crate::script::env::truthy;
use crate::ssh::quote::{quote, quote_path};

/// The module's own entry in `rfab --api`.
pub(crate) const DOC: &str = r#"Fabric's `contrib.files`, on the current host: `files::exists`, `files::is_link`,
`files::first`, `files::contains`, `files::append`, `files::sed`, `files::comment`,
`files::uncomment` and `files::upload_template`. Each takes `use_sudo` in its options to
work as root through `sudo()`, and runs its change as one command. The `sed` family uses
GNU sed (`-r`, `-i`).

```rhai
import "rfab/files" as files;
files::append("/etc/environment", "APP_ENV=production", #{ use_sudo: true });
files::upload_template("app.conf.j2", "/etc/app.conf", #{ use_jinja: true, context: #{ port: 80 } });
```"#;

#[export_module]
pub(crate) mod files_api {
    use super::{Array, CommandResult, Map, NativeCallContext};

    /// Whether a path exists on the current host (`test -e`). Options: `use_sudo` (to look
    /// where the login user cannot), `verbose` (print the check and its output).
    ///
    /// ```rhai
    /// import "rfab/files" as files;
    /// if !files::exists("/srv/app/shared") { run("mkdir -p /srv/app/shared"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn exists(ctx: NativeCallContext, path: &str) -> Result<bool, Box<EvalAltResult>> {
        super::test(&ctx, "exists", "-e", path, &Map::new())
    }

    /// `exists` with options.
    ///
    /// ```rhai
    /// files::exists("/root/.ssh", #{ use_sudo: true });
    /// ```
    #[rhai_fn(name = "exists", return_raw)]
    pub fn exists_with(
        ctx: NativeCallContext,
        path: &str,
        options: Map,
    ) -> Result<bool, Box<EvalAltResult>> {
        super::test(&ctx, "exists", "-e", path, &options)
    }

    /// Whether a path is a symbolic link on the current host (`test -L`), with the
    /// options of `exists`.
    ///
    /// ```rhai
    /// if files::is_link("/srv/app/current") { print("a release is live"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn is_link(ctx: NativeCallContext, path: &str) -> Result<bool, Box<EvalAltResult>> {
        super::test(&ctx, "is_link", "-L", path, &Map::new())
    }

    /// `is_link` with options.
    ///
    /// ```rhai
    /// files::is_link("/etc/nginx/sites-enabled/app", #{ use_sudo: true });
    /// ```
    #[rhai_fn(name = "is_link", return_raw)]
    pub fn is_link_with(
        ctx: NativeCallContext,
        path: &str,
        options: Map,
    ) -> Result<bool, Box<EvalAltResult>> {
        super::test(&ctx, "is_link", "-L", path, &options)
    }

    /// The first of `paths` that exists on the current host, or `()` if none does (one
    /// command for them all). Options as for `exists`.
    ///
    /// ```rhai
    /// let python = files::first(["/usr/bin/python3", "/usr/local/bin/python3"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn first(ctx: NativeCallContext, paths: Array) -> Result<Dynamic, Box<EvalAltResult>> {
        super::first(&ctx, &paths, &Map::new())
    }

    /// `first` with options.
    ///
    /// ```rhai
    /// files::first(["/root/a", "/root/b"], #{ use_sudo: true });
    /// ```
    #[rhai_fn(name = "first", return_raw)]
    pub fn first_with(
        ctx: NativeCallContext,
        paths: Array,
        options: Map,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        super::first(&ctx, &paths, &options)
    }

    /// Whether a remote file contains `text` (`grep`). Options, with Fabric's defaults:
    /// - `exact` (false): the whole line must be `text`, not just hold it;
    /// - `escape` (true): `text` is plain text; false: an extended regular expression;
    /// - `case_sensitive` (true);
    /// - `use_sudo` (false).
    ///
    /// ```rhai
    /// if !files::contains("/etc/hosts", "db1") { print("db1 is not in /etc/hosts"); }
    /// files::contains("/etc/ssh/sshd_config", "^PermitRootLogin +no", #{ escape: false });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn contains(
        ctx: NativeCallContext,
        path: &str,
        text: &str,
    ) -> Result<bool, Box<EvalAltResult>> {
        super::contains(&ctx, path, text, &Map::new())
    }

    /// `contains` with options.
    ///
    /// ```rhai
    /// files::contains("/etc/app.conf", "debug = true", #{ exact: true, use_sudo: true });
    /// ```
    #[rhai_fn(name = "contains", return_raw)]
    pub fn contains_with(
        ctx: NativeCallContext,
        path: &str,
        text: &str,
        options: Map,
    ) -> Result<bool, Box<EvalAltResult>> {
        super::contains(&ctx, path, text, &options)
    }

    /// Append lines to a remote file, each only if the file does not hold it already, so
    /// running it again changes nothing (Fabric's `append`). `text` is a string (one line
    /// per line of it) or an array of lines. The file is made if missing; a last line
    /// without a newline gets one first. Options:
    /// - `partial` (false): a line counts as present when a line of the file starts with it;
    /// - `escape` (true): false checks each line as an extended regular expression instead;
    /// - `use_sudo` (false).
    ///
    /// ```rhai
    /// files::append("/etc/environment", "APP_ENV=production", #{ use_sudo: true });
    /// files::append("~/.bashrc", ["export A=1", "export B=2"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn append(
        ctx: NativeCallContext,
        path: &str,
        text: Dynamic,
    ) -> Result<(), Box<EvalAltResult>> {
        super::append(&ctx, path, &text, &Map::new())
    }

    /// `append` with options.
    ///
    /// ```rhai
    /// files::append("/etc/sysctl.conf", "vm.swappiness", #{ partial: true, use_sudo: true });
    /// ```
    #[rhai_fn(name = "append", return_raw)]
    pub fn append_with(
        ctx: NativeCallContext,
        path: &str,
        text: Dynamic,
        options: Map,
    ) -> Result<(), Box<EvalAltResult>> {
        super::append(&ctx, path, &text, &options)
    }

    /// Replace `before` (an extended regular expression, GNU sed's `-r`) with `after` in a
    /// remote file, in place (Fabric's `sed`): `sed -i.bak -r -e 's/BEFORE/AFTER/FLAGSg'`.
    /// In `after`, `\1` is a group and `&` the whole match (`\&` a plain `&`). Newlines in
    /// either, quotes and `/` are passed through safely. Options:
    /// - `limit`: a regular expression; only lines matching it are changed;
    /// - `backup` (`".bak"`): the suffix of the copy kept of the file (`""`: none);
    /// - `flags`: sed's `s` flags besides `g`: `i`/`I` ignore case, `m`/`M`, a number;
    /// - `use_sudo` (false).
    ///
    /// ```rhai
    /// files::sed("/etc/app.conf", "^port = .*", "port = 8080");
    /// files::sed("/etc/app.conf", "debug", "DEBUG", #{ limit: "^log", flags: "i", backup: "" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn sed(
        ctx: NativeCallContext,
        path: &str,
        before: &str,
        after: &str,
    ) -> Result<CommandResult, Box<EvalAltResult>> {
        super::sed(&ctx, "sed", path, before, after, &Map::new())
    }

    /// `sed` with options.
    ///
    /// ```rhai
    /// files::sed("/etc/hosts", "old", "new", #{ use_sudo: true, backup: ".orig" });
    /// ```
    #[rhai_fn(name = "sed", return_raw)]
    pub fn sed_with(
        ctx: NativeCallContext,
        path: &str,
        before: &str,
        after: &str,
        options: Map,
    ) -> Result<CommandResult, Box<EvalAltResult>> {
        super::sed(&ctx, "sed", path, before, after, &options)
    }

    /// Comment out the lines of a remote file that match `regex` (Fabric's `comment`): each
    /// gets `#` (option `char`) in front. Options: `char`, `backup` (`".bak"`), `use_sudo`.
    ///
    /// ```rhai
    /// files::comment("/etc/fstab", "^/dev/sdb1", #{ use_sudo: true });
    /// ```
    #[rhai_fn(name = "comment", return_raw)]
    pub fn comment_with(
        ctx: NativeCallContext,
        path: &str,
        regex: &str,
        options: Map,
    ) -> Result<CommandResult, Box<EvalAltResult>> {
        super::comment(&ctx, path, regex, &options)
    }

    /// `comment` with the default options.
    ///
    /// ```rhai
    /// files::comment("/srv/app/.env", "^DEBUG=");
    /// ```
    #[rhai_fn(name = "comment", return_raw)]
    pub fn comment(
        ctx: NativeCallContext,
        path: &str,
        regex: &str,
    ) -> Result<CommandResult, Box<EvalAltResult>> {
        super::comment(&ctx, path, regex, &Map::new())
    }

    /// Uncomment the lines of a remote file that match `regex` (Fabric's `uncomment`): the
    /// `#` (option `char`) before them goes, and one space after it. Options as `comment`.
    ///
    /// ```rhai
    /// files::uncomment("/etc/fstab", "/dev/sdb1", #{ use_sudo: true });
    /// ```
    #[rhai_fn(name = "uncomment", return_raw)]
    pub fn uncomment_with(
        ctx: NativeCallContext,
        path: &str,
        regex: &str,
        options: Map,
    ) -> Result<CommandResult, Box<EvalAltResult>> {
        super::uncomment(&ctx, path, regex, &options)
    }

    /// `uncomment` with the default options.
    ///
    /// ```rhai
    /// files::uncomment("/srv/app/.env", "DEBUG=");
    /// ```
    #[rhai_fn(name = "uncomment", return_raw)]
    pub fn uncomment(
        ctx: NativeCallContext,
        path: &str,
        regex: &str,
    ) -> Result<CommandResult, Box<EvalAltResult>> {
        super::uncomment(&ctx, path, regex, &Map::new())
    }

    /// Render a local template and upload it to `destination` (Fabric's `upload_template`);
    /// returns the remote path. Options, with Fabric's defaults:
    /// - `context` (`#{}`): the values the template sees;
    /// - `use_jinja` (false): render with Jinja2's language (minijinja: loops, filters,
    ///   `default()`, `{% include %}` and `{% extends %}` from `template_dir`); without
    ///   it, Python's `%(name)s` substitution (only when `context` is given);
    /// - `template_dir`: where the template (and what it includes) is, else `lcd`;
    /// - `mode`: the remote file's permissions (`"640"`), else 0644;
    ///   `mirror_local_mode` (false): the template's own;
    /// - `backup` (true): copy an existing destination to `DESTINATION.bak` first;
    /// - `use_sudo` (false): write it as root.
    ///
    /// The rendered text is staged in a file only you can read and uploaded as `put` does
    /// (a private temporary file on the host, renamed into place), so it is never readable
    /// by others on the way. A destination that is a directory gets the template's name.
    /// Unlike Jinja2's default, a final newline is kept.
    ///
    /// ```rhai
    /// files::upload_template("nginx.conf.j2", "/etc/nginx/sites-enabled/app.conf", #{
    ///     use_jinja: true, template_dir: "templates", use_sudo: true,
    ///     context: #{ server_name: env.host, workers: 4 },
    /// });
    /// files::upload_template("app.ini", "/srv/app/app.ini", #{ context: #{ port: 8080 } });
    /// ```
    #[rhai_fn(name = "upload_template", return_raw)]
    pub fn upload_template_with(
        ctx: NativeCallContext,
        template: &str,
        destination: &str,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        super::upload_template(&ctx, template, destination, &options)
    }

    /// `upload_template` with the default options: the template uploaded as it is.
    ///
    /// ```rhai
    /// files::upload_template("motd", "/etc/motd");
    /// ```
    #[rhai_fn(name = "upload_template", return_raw)]
    pub fn upload_template(
        ctx: NativeCallContext,
        template: &str,
        destination: &str,
    ) -> Result<Array, Box<EvalAltResult>> {
        super::upload_template(&ctx, template, destination, &Map::new())
    }
}

/// An option that is a flag, with its default.
fn flag(options: &Map, key: &str, default: bool) -> bool {
    options.get(key).map_or(default, truthy)
}

/// An option that is text, with its default.
fn text(options: &Map, key: &str, default: &str) -> String {
    options
        .get(key)
        .filter(|v| !v.is_unit())
        .map_or_else(|| default.to_owned(), ToString::to_string)
}

/// Runs `line` on the host, as root under `use_sudo`; `quiet` checks print nothing and
/// fail softly, changes print `step` and fail the task.
fn remote(
    ctx: &NativeCallContext,
    function: &str,
    line: &str,
    options: &Map,
    step: Option<String>,
    quiet: bool,
) -> Result<CommandResult, Box<EvalAltResult>> {
    needs_host(&Context::of(ctx)?, function)?;
    let mut run_options = Map::new();
    if quiet {
        run_options.insert("quiet".into(), Dynamic::TRUE);
    }
    if let Some(step) = step {
        run_options.insert("step".into(), step.into());
    }
    command(ctx, line, &run_options, flag(options, "use_sudo", false))
}

/// `exists` and `is_link`: `test FLAG PATH`.
fn test(
    ctx: &NativeCallContext,
    function: &str,
    test_flag: &str,
    path: &str,
    options: &Map,
) -> Result<bool, Box<EvalAltResult>> {
    check_options(function, options, &["use_sudo", "verbose"])?;
    let line = format!("test {test_flag} {}", quote_path(path));
    Ok(probe(ctx, function, &line, options)?.ok())
}

/// Runs a check whose failure is an answer, not an error: quiet unless `verbose`.
fn probe(
    ctx: &NativeCallContext,
    function: &str,
    line: &str,
    options: &Map,
) -> Result<CommandResult, Box<EvalAltResult>> {
    needs_host(&Context::of(ctx)?, function)?;
    let mut run_options = Map::new();
    run_options.insert("warn_only".into(), Dynamic::TRUE);
    if !flag(options, "verbose", false) {
        run_options.insert("quiet".into(), Dynamic::TRUE);
    }
    command(ctx, line, &run_options, flag(options, "use_sudo", false))
}

fn first(
    ctx: &NativeCallContext,
    paths: &Array,
    options: &Map,
) -> Result<Dynamic, Box<EvalAltResult>> {
    check_options("first", options, &["use_sudo", "verbose"])?;
    if paths.is_empty() {
        return Ok(Dynamic::UNIT);
    }
    let words: Vec<String> = paths.iter().map(|p| quote_path(&p.to_string())).collect();
    // The index, not the path: the shell would print `~` expanded.
    let line = format!(
        "i=0; for p in {}; do if test -e \"$p\"; then echo \"$i\"; exit 0; fi; i=$((i+1)); done; exit 1",
        words.join(" ")
    );
    let result = probe(ctx, "first", &line, options)?;
    if !result.ok() || result.dry {
        return Ok(Dynamic::UNIT);
    }
    let index = result
        .stdout
        .lines()
        .last()
        .and_then(|l| l.trim().parse::<usize>().ok());
    Ok(index
        .and_then(|i| paths.get(i).cloned())
        .unwrap_or(Dynamic::UNIT))
}

fn contains(
    ctx: &NativeCallContext,
    path: &str,
    text: &str,
    options: &Map,
) -> Result<bool, Box<EvalAltResult>> {
    check_options(
        "contains",
        options,
        &["exact", "escape", "case_sensitive", "use_sudo"],
    )?;
    let mut grep = String::from("grep -q");
    grep.push_str(if flag(options, "escape", true) {
        " -F"
    } else {
        " -E"
    });
    if flag(options, "exact", false) {
        grep.push_str(" -x");
    }
    if !flag(options, "case_sensitive", true) {
        grep.push_str(" -i");
    }
    let line = format!("{grep} -e {} -- {}", quote(text), quote_path(path));
    let mut run_options = options.clone();
    run_options.retain(|k, _| k == "use_sudo");
    Ok(remote(ctx, "contains", &line, &run_options, None, true)?.ok())
}

fn append(
    ctx: &NativeCallContext,
    path: &str,
    text: &Dynamic,
    options: &Map,
) -> Result<(), Box<EvalAltResult>> {
    check_options("append", options, &["partial", "escape", "use_sudo"])?;
    let lines: Vec<String> = match text.clone().try_cast::<Array>() {
        Some(items) => items.iter().map(ToString::to_string).collect(),
        None => text.to_string().lines().map(str::to_owned).collect(),
    };
    if lines.is_empty() {
        return Ok(());
    }
    // Each line is checked and added in turn, so a line given twice is added once. The
    // line reaches awk through the environment: `awk -v` would read escapes in it.
    let present = match (
        flag(options, "escape", true),
        flag(options, "partial", false),
    ) {
        (false, _) => "grep -qE -e \"$l\" -- \"$f\"",
        (true, false) => {
            "L=\"$l\" awk '$0 == ENVIRON[\"L\"] { found = 1; exit } END { exit !found }' \"$f\""
        }
        (true, true) => {
            "L=\"$l\" awk 'index($0, ENVIRON[\"L\"]) == 1 { found = 1; exit } END { exit !found }' \"$f\""
        }
    };
    let words: Vec<String> = lines.iter().map(|l| quote(l)).collect();
    let line = format!(
        "f={file}; for l in {lines}; do \
         if [ -e \"$f\" ] && {present}; then continue; fi; \
         if [ -s \"$f\" ] && [ -n \"$(tail -c 1 -- \"$f\")\" ]; then echo >> \"$f\" || exit; fi; \
         printf '%s\\n' \"$l\" >> \"$f\" || exit; done",
        file = quote_path(path),
        lines = words.join(" "),
    );
    let count = lines.len();
    let step = format!(
        "append to {path} {count} line{} unless present",
        if count == 1 { "" } else { "s" }
    );
    remote(ctx, "append", &line, options, Some(step), false)?;
    Ok(())
}

/// Flags sed's `s` command may carry: never `e` (runs the pattern space) or `w` (writes a
/// file).
fn sed_flags(function: &str, flags: &str) -> Result<String, Box<EvalAltResult>> {
    if flags
        .chars()
        .all(|c| matches!(c, 'i' | 'I' | 'm' | 'M' | 'p') || c.is_ascii_digit())
    {
        Ok(flags.to_owned())
    } else {
        Err(format!(
            "{function}(): `flags` may hold only i, I, m, M, p and a number, not `{flags}`"
        )
        .into())
    }
}

/// Text for one part of a sed `s/.../.../` command: an unescaped `/` escaped, a newline
/// written as `newline` says; escapes the caller wrote stay as they are.
fn sed_part(text: &str, newline: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\n') => out.push_str(newline),
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push_str("\\\\"),
            },
            '/' => out.push_str("\\/"),
            '\n' => out.push_str(newline),
            c => out.push(c),
        }
    }
    out
}

fn sed(
    ctx: &NativeCallContext,
    function: &str,
    path: &str,
    before: &str,
    after: &str,
    options: &Map,
) -> Result<CommandResult, Box<EvalAltResult>> {
    check_options(function, options, &["limit", "use_sudo", "backup", "flags"])?;
    let limit = text(options, "limit", "");
    let address = if limit.is_empty() {
        String::new()
    } else {
        format!("/{}/ ", sed_part(&limit, "\\n"))
    };
    let script = format!(
        "{address}s/{}/{}/{}g",
        sed_part(before, "\\n"),
        sed_part(after, "\\\n"),
        sed_flags(function, &text(options, "flags", ""))?
    );
    let line = format!(
        "sed {} -r -e {} -- {}",
        quote(&format!("-i{}", text(options, "backup", ".bak"))),
        quote(&script),
        quote_path(path)
    );
    remote(ctx, function, &line, options, None, false)
}

/// `text` with the characters special to an extended regular expression escaped.
fn ere_escape(text: &str) -> String {
    text.chars().fold(String::new(), |mut out, c| {
        if ".[]{}()\\*+?^$|/".contains(c) {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

fn comment(
    ctx: &NativeCallContext,
    path: &str,
    regex: &str,
    options: &Map,
) -> Result<CommandResult, Box<EvalAltResult>> {
    check_options("comment", options, &["char", "use_sudo", "backup"])?;
    let (caret, rest) = regex
        .strip_prefix('^')
        .map_or(("", regex), |rest| ("^", rest));
    let (rest, dollar) = rest.strip_suffix('$').map_or((rest, ""), |r| (r, "$"));
    let before = format!("{caret}({rest}){dollar}");
    let after = format!("{}\\1", sed_replacement_text(&text(options, "char", "#")));
    let mut sed_options = options.clone();
    sed_options.remove("char");
    sed(ctx, "comment", path, &before, &after, &sed_options)
}

fn uncomment(
    ctx: &NativeCallContext,
    path: &str,
    regex: &str,
    options: &Map,
) -> Result<CommandResult, Box<EvalAltResult>> {
    check_options("uncomment", options, &["char", "use_sudo", "backup"])?;
    let before = format!(
        "^([[:space:]]*){}[[:space:]]?",
        ere_escape(&text(options, "char", "#"))
    );
    let mut sed_options = options.clone();
    sed_options.remove("char");
    sed_options.insert("limit".into(), regex.into());
    sed(ctx, "uncomment", path, &before, "\\1", &sed_options)
}

/// Text that a sed replacement writes as it is: `\` and `&` escaped.
fn sed_replacement_text(text: &str) -> String {
    text.replace('\\', "\\\\").replace('&', "\\&")
}

const TEMPLATE_OPTIONS: [&str; 7] = [
    "context",
    "use_jinja",
    "template_dir",
    "use_sudo",
    "backup",
    "mirror_local_mode",
    "mode",
];

fn upload_template(
    ctx: &NativeCallContext,
    template: &str,
    destination: &str,
    options: &Map,
) -> Result<Array, Box<EvalAltResult>> {
    check_options("upload_template", options, &TEMPLATE_OPTIONS)?;
    let context = Context::of(ctx)?;
    let target = needs_host(&context, "upload_template")?;
    let settings = context.settings();
    let values =
        match options.get("context") {
            None => None,
            Some(values) => Some(values.clone().try_cast::<Map>().ok_or(
                "upload_template(): `context` must be a map of the values the template sees",
            )?),
        };
    let (dir, name) = template_place(&settings.lcwd, template, options);
    let local = if dir == Path::new(".") {
        PathBuf::from(&name)
    } else {
        dir.join(&name)
    };
    let rendered = if flag(options, "use_jinja", false) {
        crate::script::template::jinja(&dir, &name, &values.unwrap_or_default())
    } else {
        crate::script::template::percent(&local, values.as_ref())
    }
    .map_err(|e| format!("upload_template(): {e}"))?;
    let mode = match mode_option("upload_template", options)? {
        Some(mode) => mode,
        None if flag(options, "mirror_local_mode", false) => local_mode(&local),
        None => 0o644,
    };
    let base = Path::new(&name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let given = in_remote_dir(&settings.cwd, destination);
    // One command: a directory gets the template's name, an existing file its backup;
    // it says where the file goes (the last line: a login shell may print before it).
    let backup = if flag(options, "backup", true) {
        "if [ -e \"$d\" ]; then cp -p -- \"$d\" \"$d.bak\" || exit; fi; "
    } else {
        ""
    };
    let line = format!(
        "d={dest}; if [ -d \"$d\" ]; then d=\"${{d%/}}\"/{base}; fi; {backup}printf '%s\\n' \"$d\"",
        dest = quote_path(&given),
        base = quote(&base),
    );
    let placed = remote(ctx, "upload_template", &line, options, None, true)?;
    if !placed.ok() {
        return Err(format!(
            "upload_template(): cannot back up `{given}` on `{}`: {}",
            target.host_string,
            placed.stderr.trim()
        )
        .into());
    }
    let destination = match placed.stdout.lines().last() {
        Some(path) if !placed.dry && !path.is_empty() => path.to_owned(),
        _ => given,
    };
    let staged = context.runtime.scratch.file(rendered.as_bytes())?;
    let upload = Upload {
        file: staged.path(),
        shown: &local.display().to_string(),
        destination: &destination,
        mode,
        use_sudo: flag(options, "use_sudo", false),
    };
    upload_one(ctx, &context, &target, &upload)?;
    Ok(vec![destination.into()])
}

/// Where a template is read from: `template_dir` (else `lcd`, or the directory of an
/// absolute template path), and its name in there.
fn template_place(lcwd: &[String], template: &str, options: &Map) -> (PathBuf, String) {
    if let Some(dir) = options.get("template_dir").filter(|d| !d.is_unit()) {
        return (in_dir(lcwd, &dir.to_string()), template.to_owned());
    }
    let path = Path::new(template);
    match (path.is_absolute(), path.parent(), path.file_name()) {
        (true, Some(parent), Some(name)) => {
            (parent.to_path_buf(), name.to_string_lossy().into_owned())
        }
        _ => match in_dir(lcwd, "") {
            dir if dir.as_os_str().is_empty() => (PathBuf::from("."), template.to_owned()),
            dir => (dir, template.to_owned()),
        },
    }
}
