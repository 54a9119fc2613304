//! Rhai definition files (`*.d.rhai`) for editors: rfab's API as the Rhai language server
//! reads it (`Engine::definitions`), the stdlib modules, and the `env` keys rfab reads, each
//! with its docs, so that editors complete and document what a fabfile can call.

use std::fmt::Write as _;
use std::path::Path;

use rhai::Engine;

/// The `env` keys rfab itself reads, with what each does: documented on the `env` constant
/// of the definitions.
pub(crate) const ENV_KEYS: &[(&str, &str)] = &[
    ("hosts", "hosts of the next tasks (`-H`)"),
    ("roles", "roles of the next tasks (`-R`)"),
    (
        "roledefs",
        "role name -> hosts (or `#{ hosts, user, port }`)",
    ),
    ("exclude_hosts", "hosts left out (`-x`)"),
    (
        "host_string",
        "the current host, `user@host:port` (in a task)",
    ),
    ("host", "the current host's name (in a task)"),
    ("user", "the SSH user (`-u`)"),
    ("port", "the SSH port (`--port`)"),
    ("local_user", "who runs rfab"),
    ("key_filename", "private key file(s) (`-i`)"),
    (
        "shell",
        "the remote shell (`-s`), default `/bin/bash -l -c`",
    ),
    ("warn_only", "failed commands only warn (`-w`)"),
    (
        "abort_on_prompts",
        "fail instead of asking (`--abort-on-prompts`)",
    ),
    ("sudo_user", "the user `sudo()` runs as"),
    ("gateway", "jump host (`-g`)"),
    ("forward_agent", "forward the ssh-agent (`-A`)"),
    ("timeout", "connect timeout in seconds (`-t`)"),
    ("command_timeout", "command timeout in seconds (`-T`)"),
    ("connection_attempts", "connect attempts (`-n`)"),
    ("keepalive", "keepalive interval in seconds (`--keepalive`)"),
    ("output_limit", "bytes of output a result keeps"),
    ("fabfile", "the fabfile's path"),
    ("tasks", "the task words of the command line"),
    ("version", "rfab's version"),
    ("inventory", "the inventory module of the root fabfile"),
    ("repository", "rfab/releases: the repository to deploy"),
    (
        "deploy_to",
        "rfab/releases: where releases go (`{host}` is the host's name)",
    ),
    ("strategy", "rfab/releases: `upload` (default) or `fetch`"),
    ("keep_releases", "rfab/releases: releases kept (5)"),
    (
        "shared_dirs",
        "rfab/releases: directories every release links to",
    ),
    (
        "shared_files",
        "rfab/releases: files every release links to",
    ),
    ("hooks", "rfab/releases: step -> task names"),
    ("health_url", "rfab/releases: URL checked after the switch"),
    (
        "health_timeout",
        "rfab/releases: seconds the health check may take (30)",
    ),
    (
        "lock_wait",
        "rfab/releases: seconds to wait for the deploy lock (0)",
    ),
    (
        "lock_ttl",
        "rfab/releases: seconds after which a lock is stale (3600)",
    ),
    (
        "watch",
        "seconds to watch servers brought live (30; 0: off)",
    ),
    (
        "max_error_rate",
        "share of failed requests that fails the watch (0.01)",
    ),
    ("min_requests", "requests the watch needs to judge (20)"),
    (
        "watch_url",
        "URL the watch requests through nginx and command balancers",
    ),
];

/// Writes the definition files into `dir` (made if missing); returns their names.
pub(crate) fn write(engine: &Engine, dir: &Path) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut files: Vec<(String, String)> = engine
        .definitions()
        .iter_files()
        .map(|(name, text)| (name, script_types(&text)))
        .collect();
    files.push(("rfab-env.d.rhai".into(), env_definitions()));
    files.extend(stdlib_definitions(engine));
    let mut names = Vec::new();
    for (name, text) in files {
        std::fs::write(dir.join(&name), text)?;
        names.push(name);
    }
    Ok(names)
}

/// Types as scripts see them: rfab's fallible functions are `Result<T, Box<EvalAltResult>>`
/// in Rust, `T` to a script.
fn script_types(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("Result<") {
        let (before, after) = rest.split_at(start);
        out.push_str(before);
        let inner = &after["Result<".len()..];
        match inner.find(", Box<EvalAltResult>>") {
            Some(end) if !inner[..end].contains('\n') => {
                out.push_str(&inner[..end]);
                rest = &inner[end + ", Box<EvalAltResult>>".len()..];
            }
            _ => {
                out.push_str("Result<");
                rest = inner;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `env`, with every key rfab reads in its docs.
fn env_definitions() -> String {
    let mut out = String::from(
        "module static;\n\n/// The run's settings, Fabric's `env`. Keys rfab reads:\n///\n",
    );
    for (key, what) in ENV_KEYS {
        let _ = writeln!(out, "/// - `{key}`: {what}");
    }
    out.push_str("const env: Env;\n");
    out
}

/// One file per stdlib module, as `module NAME;` (the name fabfiles import it as).
fn stdlib_definitions(engine: &Engine) -> Vec<(String, String)> {
    let mut modules: Vec<(String, String)> = Vec::new();
    for (title, body) in crate::script::stdlib::reference(engine) {
        let Some((module, function)) = title.split_once("::") else {
            continue;
        };
        let file = format!("rfab-{module}.d.rhai");
        let index = if let Some(index) = modules.iter().position(|(name, _)| *name == file) {
            index
        } else {
            let header = format!("module {module};\n// import \"rfab/{module}\" as {module};\n");
            modules.push((file, header));
            modules.len() - 1
        };
        // The reference body: a signature block, then the docs.
        let mut parts = body.trim().splitn(3, "```");
        let _ = parts.next();
        let signature = parts.next().unwrap_or_default().trim();
        let doc = parts.next().unwrap_or_default().trim();
        let params = signature
            .split_once('(')
            .and_then(|(_, rest)| rest.strip_suffix(')'))
            .unwrap_or_default();
        let text = &mut modules[index].1;
        text.push('\n');
        for line in doc.lines() {
            let _ = writeln!(text, "{}", format!("/// {line}").trim_end());
        }
        let typed: Vec<String> = params
            .split(", ")
            .filter(|p| !p.is_empty())
            .map(|p| format!("{p}: ?"))
            .collect();
        let _ = writeln!(text, "fn {function}({}) -> ?;", typed.join(", "));
    }
    modules
}
