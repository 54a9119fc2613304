//! `rfab/project`: Fabric's `contrib.project`. `rsync_project` runs this machine's rsync
//! over OpenSSH's `ssh`, told everything rfab knows of the host; `upload_project` sends a
//! tarball over rfab's own connection and unpacks it there.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use rhai::plugin::*;
use rhai::{EvalAltResult, Map, NativeCallContext};

use crate::script::api::remote::{command, needs_host};
use crate::script::api::transfer::{Upload, in_dir, in_remote_dir, upload_one};
use crate::script::api::{CommandResult, check_options};
use crate::script::context::Context;
use crate::script::env::truthy;
use crate::ssh::options::KnownHostsPolicy;
use crate::ssh::quote::{quote, quote_path};
use crate::ssh::ssh_config::HostConfig;
use crate::ssh::target::Target;

/// The module's own entry in `rfab --api`.
pub(crate) const DOC: &str = r#"Fabric's `contrib.project`: `project::rsync_project` (this machine's rsync over
OpenSSH's ssh, with rfab's SSH settings for the host) and `project::upload_project` (a
tarball over rfab's own connection, unpacked on the host).

```rhai
import "rfab/project" as project;
project::rsync_project("/srv/app/", #{ local_dir: "dist/", delete: true });
```"#;

const RSYNC_OPTIONS: [&str; 7] = [
    "local_dir",
    "exclude",
    "delete",
    "extra_opts",
    "ssh_opts",
    "upload",
    "default_opts",
];

#[export_module]
pub(crate) mod project_api {
    use super::{CommandResult, Map, NativeCallContext};

    /// Copy a local directory to `remote_dir` on the current host with rsync (Fabric's
    /// `rsync_project`); returns the result of the local `rsync`. It reaches the host with
    /// OpenSSH's `ssh`, given rfab's settings for it: user, port, `-i` keys and
    /// `env.key_filename`, the SSH config (`--ssh-config-path`), jump hosts (`-g`), and the
    /// host key policy (`--known-hosts`: strict, accept-new, or off). Options:
    /// - `local_dir`: what to send (default: the current directory, as `../NAME`, so it
    ///   lands as `remote_dir/NAME`); a trailing `/` sends its content, as in rsync;
    /// - `exclude`: a pattern or an array of them (`--exclude`);
    /// - `delete` (false): remove remote files not present locally (`--delete`);
    /// - `extra_opts`, `ssh_opts`: more options for rsync and for ssh, as shell words;
    /// - `upload` (true): false copies from the host to `local_dir` instead;
    /// - `default_opts` (`"-pthrvz"`).
    ///
    /// Needs rsync on both sides, and `ssh` here; if one is missing, the error says which.
    ///
    /// ```rhai
    /// import "rfab/project" as project;
    /// project::rsync_project("/srv/app/", #{ local_dir: "dist/", exclude: ["*.pyc", ".git"], delete: true });
    /// ```
    #[rhai_fn(name = "rsync_project", return_raw)]
    pub fn rsync_project_with(
        ctx: NativeCallContext,
        remote_dir: &str,
        options: Map,
    ) -> Result<CommandResult, Box<EvalAltResult>> {
        super::rsync_project(&ctx, remote_dir, &options)
    }

    /// `rsync_project` of the current directory with the default options.
    ///
    /// ```rhai
    /// project::rsync_project("/srv/");
    /// ```
    #[rhai_fn(name = "rsync_project", return_raw)]
    pub fn rsync_project(
        ctx: NativeCallContext,
        remote_dir: &str,
    ) -> Result<CommandResult, Box<EvalAltResult>> {
        super::rsync_project(&ctx, remote_dir, &Map::new())
    }

    /// Send a local directory to the current host as a tarball, over rfab's connection,
    /// and unpack it in `remote_dir` (Fabric's `upload_project`); returns the remote path
    /// of the directory. Needs only `tar` on the host. Options:
    /// - `local_dir`: the directory (default: the current one); it arrives as
    ///   `remote_dir/NAME`;
    /// - `remote_dir`: where to unpack it (default: the login's home, or `cd`);
    /// - `use_sudo` (false): unpack as root (files then belong to root).
    ///
    /// The tarball is built in the run's private directory, staged on the host in a
    /// private `mktemp -d` directory, and removed from both.
    ///
    /// ```rhai
    /// project::upload_project(#{ local_dir: "site", remote_dir: "/srv/www", use_sudo: true });
    /// ```
    #[rhai_fn(name = "upload_project", return_raw)]
    pub fn upload_project_with(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<String, Box<EvalAltResult>> {
        super::upload_project(&ctx, &options)
    }

    /// `upload_project` of the current directory into the login's home.
    ///
    /// ```rhai
    /// project::upload_project();
    /// ```
    #[rhai_fn(name = "upload_project", return_raw)]
    pub fn upload_project(ctx: NativeCallContext) -> Result<String, Box<EvalAltResult>> {
        super::upload_project(&ctx, &Map::new())
    }
}

/// Whether `program` is on this machine's `PATH`.
fn installed(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// One word of rsync's `-e` command: rsync splits it at spaces, honouring quotes but not
/// backslashes.
fn rsync_word(word: &str) -> Result<String, Box<EvalAltResult>> {
    if !word.contains([' ', '\'', '"']) {
        Ok(word.to_owned())
    } else if !word.contains('\'') {
        Ok(format!("'{word}'"))
    } else if !word.contains('"') {
        Ok(format!("\"{word}\""))
    } else {
        Err(format!(
            "rsync_project(): `{word}` holds both kinds of quotes, which rsync cannot pass to ssh"
        )
        .into())
    }
}

/// The `ssh` command rsync runs: rfab's port, user, keys, config, jump hosts and host key
/// policy for `target`.
fn ssh_command(
    context: &Context,
    target: &Target,
    config: &HostConfig,
    extra: &str,
) -> Result<String, Box<EvalAltResult>> {
    let ssh = &context.runtime.ssh;
    let mut words = vec![
        "ssh".to_owned(),
        "-p".into(),
        config.port.to_string(),
        "-l".into(),
        rsync_word(&config.user)?,
    ];
    if let Some(file) = &ssh.ssh_config {
        words.extend(["-F".into(), rsync_word(&file.display().to_string())?]);
    }
    for key in ssh.identities.iter().chain(&target.key_files) {
        words.extend(["-i".into(), rsync_word(&key.display().to_string())?]);
    }
    if !ssh.gateway.is_empty() {
        words.extend(["-J".into(), rsync_word(&ssh.gateway.join(","))?]);
    }
    let (checking, known) = match ssh.known_hosts {
        KnownHostsPolicy::Strict => ("yes", known_hosts_files(config)),
        KnownHostsPolicy::AcceptNew => ("accept-new", known_hosts_files(config)),
        // rfab never writes the user's file; ssh with `no` would add keys to it.
        KnownHostsPolicy::Off => ("no", "/dev/null".to_owned()),
    };
    words.push(format!("-oStrictHostKeyChecking={checking}"));
    words.push(rsync_word(&format!("-oUserKnownHostsFile={known}"))?);
    words.push(format!(
        "-oConnectTimeout={}",
        ssh.connect_timeout.as_secs().max(1)
    ));
    // No one could answer a question without a terminal: fail instead of waiting.
    if !std::io::stdin().is_terminal() {
        words.push("-oBatchMode=yes".into());
    }
    if !extra.trim().is_empty() {
        words.push(extra.trim().to_owned());
    }
    Ok(words.join(" "))
}

/// The files rfab checks host keys against, as one `UserKnownHostsFile` value: `ssh -G`
/// reads `~` as the passwd home, so the files rfab uses are named outright.
fn known_hosts_files(config: &HostConfig) -> String {
    config
        .known_hosts_files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The option as text, `default` when absent.
fn text(options: &Map, key: &str, default: &str) -> String {
    options
        .get(key)
        .filter(|v| !v.is_unit())
        .map_or_else(|| default.to_owned(), ToString::to_string)
}

fn rsync_project(
    ctx: &NativeCallContext,
    remote_dir: &str,
    options: &Map,
) -> Result<CommandResult, Box<EvalAltResult>> {
    check_options("rsync_project", options, &RSYNC_OPTIONS)?;
    let context = Context::of(ctx)?;
    let target = needs_host(&context, "rsync_project")?;
    if !installed("rsync") {
        return Err(
            "rsync_project(): rsync is not installed on this machine; install it \
                    (apt-get install rsync), or use upload_project()"
                .into(),
        );
    }
    if !installed("ssh") {
        return Err(
            "rsync_project(): OpenSSH's `ssh` is not installed on this machine, and \
                    rsync reaches the host through it; install it (apt-get install \
                    openssh-client), or use upload_project()"
                .into(),
        );
    }
    let mut quiet = Map::new();
    quiet.insert("quiet".into(), Dynamic::TRUE);
    let check = command(ctx, "command -v rsync", &quiet, false)?;
    if !check.ok() {
        return Err(format!(
            "rsync_project(): rsync is not installed on `{}`; install it there, or use \
             upload_project()",
            target.host_string
        )
        .into());
    }
    let config = HostConfig::resolve(&target, context.runtime.ssh.ssh_config.as_deref());
    let ssh = ssh_command(&context, &target, &config, &text(options, "ssh_opts", ""))?;
    let local_dir = if let Some(dir) = options.get("local_dir").filter(|d| !d.is_unit()) {
        dir.to_string()
    } else {
        let here = in_dir(&context.settings().lcwd, ".");
        let here = std::path::absolute(&here).unwrap_or(here);
        let name = here
            .components()
            .next_back()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .unwrap_or_default();
        format!("../{name}")
    };
    let excludes: Vec<String> = match options.get("exclude") {
        None => Vec::new(),
        Some(list) if list.is_array() => list
            .clone()
            .into_array()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect(),
        Some(one) => vec![one.to_string()],
    };
    let host = if target.host.name.contains(':') {
        format!("[{}]", target.host.name)
    } else {
        target.host.name.clone()
    };
    let remote = format!("{}@{host}:{remote_dir}", config.user);
    let mut line = vec!["rsync".to_owned(), text(options, "default_opts", "-pthrvz")];
    if options.get("delete").is_some_and(truthy) {
        line.push("--delete".into());
    }
    line.extend(excludes.iter().map(|e| format!("--exclude={}", quote(e))));
    line.push(format!("-e {}", quote(&ssh)));
    let extra = text(options, "extra_opts", "");
    if !extra.trim().is_empty() {
        line.push(extra);
    }
    if options.get("upload").is_none_or(truthy) {
        line.extend([quote(&local_dir), quote(&remote)]);
    } else {
        line.extend([quote(&remote), quote(&local_dir)]);
    }
    crate::script::api::local::run(ctx, &line.join(" "), &Map::new())
}

fn upload_project(ctx: &NativeCallContext, options: &Map) -> Result<String, Box<EvalAltResult>> {
    check_options(
        "upload_project",
        options,
        &["local_dir", "remote_dir", "use_sudo"],
    )?;
    let context = Context::of(ctx)?;
    let target = needs_host(&context, "upload_project")?;
    let settings = context.settings();
    let local_dir = in_dir(&settings.lcwd, &text(options, "local_dir", "."));
    let local_dir = std::path::absolute(&local_dir).unwrap_or(local_dir);
    let local_dir: PathBuf = local_dir.components().collect();
    let name = local_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            format!(
                "upload_project(): `{}` has no name to unpack it under",
                local_dir.display()
            )
        })?;
    if !local_dir.is_dir() {
        return Err(format!(
            "upload_project(): `{}` is not a directory here",
            local_dir.display()
        )
        .into());
    }
    let remote_dir = match in_remote_dir(&settings.cwd, &text(options, "remote_dir", "")) {
        dir if dir.is_empty() => ".".to_owned(),
        dir => dir,
    };
    let tarball = tarball(&context, &local_dir, &name)?;
    let mut quiet = Map::new();
    quiet.insert("quiet".into(), Dynamic::TRUE);
    let staging = command(
        ctx,
        "mktemp -d \"${TMPDIR:-/tmp}/rfab-project.XXXXXXXXXX\"",
        &quiet,
        false,
    )?;
    let staging_dir = match staging.stdout.lines().last().map(str::trim) {
        Some(dir) if staging.ok() && dir.starts_with('/') => dir.to_owned(),
        // A dry run made no directory: its commands name the one `mktemp -d` would make.
        _ if staging.dry => "<the staging directory of mktemp -d>".to_owned(),
        _ => {
            return Err(format!(
                "upload_project(): cannot make a staging directory on `{}` with `mktemp -d`: {}; \
                 check that /tmp (or $TMPDIR) is writable there",
                target.host_string, staging.stderr
            )
            .into());
        }
    };
    let staged = format!("{staging_dir}/{name}.tar.gz");
    let shown = format!("{}/ (as {name}.tar.gz)", local_dir.display());
    let upload = Upload {
        file: tarball.path(),
        shown: &shown,
        destination: &staged,
        mode: 0o600,
        use_sudo: false,
    };
    if let Err(error) = upload_one(ctx, &context, &target, &upload) {
        let _ = command(
            ctx,
            &format!("rm -rf -- {}", quote(&staging_dir)),
            &quiet,
            false,
        );
        return Err(error);
    }
    let unpack = format!(
        "mkdir -p -- {dir} && tar -xzf {staged} --no-same-owner -C {dir}; status=$?; rm -rf -- {staging}; exit $status",
        dir = quote_path(&remote_dir),
        staged = quote(&staged),
        staging = quote(&staging_dir),
    );
    let mut step = Map::new();
    step.insert(
        "step".into(),
        format!("unpack {name}.tar.gz in {remote_dir}").into(),
    );
    command(
        ctx,
        &unpack,
        &step,
        options.get("use_sudo").is_some_and(truthy),
    )?;
    Ok(format!("{}/{name}", remote_dir.trim_end_matches('/')))
}

/// `dir` as a gzipped tarball whose entries start with `name/`, in the run's private
/// directory. Links are stored as links, as `tar` does.
fn tarball(
    context: &Context,
    dir: &Path,
    name: &str,
) -> Result<tempfile::NamedTempFile, Box<EvalAltResult>> {
    let file = context.runtime.scratch.file(&[])?;
    let failed = |e: std::io::Error| {
        format!(
            "upload_project(): cannot pack `{}` into a tarball: {e}",
            dir.display()
        )
    };
    let writer = file.reopen().map_err(failed)?;
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        writer,
        flate2::Compression::default(),
    ));
    builder.follow_symlinks(false);
    builder.append_dir_all(name, dir).map_err(failed)?;
    builder
        .into_inner()
        .and_then(flate2::write::GzEncoder::finish)
        .map_err(failed)?;
    Ok(file)
}
