//! Git queries for deploys: tags, the latest stable semver tag, refs to commits, and the tree
//! at a ref as an archive.
//!
//! A repository is a local path, or a URL queried without cloning (`ls-remote`): tags and
//! refs work on both; `describe` and `archive` need the objects, so a local repository.
//! `ssh://` URLs log in and check host keys by the rules of rfab's own SSH connections.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::fmt::Write as _;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use git2::{
    AutotagOption, CertificateCheckStatus, Cred, CredentialType, Direction, FetchOptions,
    FetchPrune, ObjectType, Oid, Remote, RemoteCallbacks, Repository, TreeWalkMode, TreeWalkResult,
};
use semver::Version;
use sha2::{Digest, Sha256};

use crate::ssh::known_hosts::{self, HostKey, KeyProblem, fingerprint_of};
use crate::ssh::options::KnownHostsPolicy;

/// A tag and the commit it points at (annotated tags peeled).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Tag {
    pub(crate) name: String,
    pub(crate) commit: String,
}

/// A release archive built for this run, and the sha256 of its bytes, which the host checks
/// before it unpacks them.
#[derive(Clone, Debug)]
pub(crate) struct Archive {
    pub(crate) path: PathBuf,
    pub(crate) sha256: String,
    pub(crate) commit: String,
}

/// How to reach an `ssh://` repository: the same files and policy as an SSH connection.
#[derive(Clone, Debug, Default)]
pub(crate) struct Access {
    pub(crate) user: String,
    /// The port of the URL: libgit2 names only the host when it asks to check a key.
    pub(crate) port: u16,
    pub(crate) keys: Vec<PathBuf>,
    pub(crate) known_hosts: Vec<PathBuf>,
    pub(crate) policy: KnownHostsPolicy,
}

/// Bounds libgit2's waits on a repository server, which are unlimited unless set: a
/// connection by `connect` (`-t`), each read or write by `silence` (what `--keepalive`
/// allows a host). libgit2's options are process-wide: set once, before any fetch.
pub(crate) fn bound_waits(connect: Duration, silence: Option<Duration>) {
    static ONCE: Once = Once::new();
    let millis = |d: Duration| i32::try_from(d.as_millis()).unwrap_or(i32::MAX);
    ONCE.call_once(|| {
        #[allow(unsafe_code)]
        // SAFETY: these set libgit2 globals, which git2 cannot guard against a concurrent
        // network operation; this runs once, at the start of a run, before any.
        unsafe {
            let _ = git2::opts::set_server_connect_timeout_in_milliseconds(millis(connect));
            if let Some(silence) = silence {
                let _ = git2::opts::set_server_timeout_in_milliseconds(millis(silence));
            }
        }
    });
}

/// Every tag of `repo`, sorted by name.
pub(crate) fn tags(repo: &str, access: &Access) -> Result<Vec<Tag>, String> {
    let mut tags = if is_url(repo) {
        remote_refs(repo, access)?.tags
    } else {
        local_tags(&open(repo)?)?
    };
    tags.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(tags)
}

/// How `latest_stable` picks among tags.
#[derive(Clone, Debug, Default)]
pub(crate) struct Selection {
    /// A prefix every candidate has, stripped before the version (default: an optional `v`).
    pub(crate) prefix: Option<String>,
    /// A glob the tag names must match (`*` and `?`).
    pub(crate) pattern: Option<String>,
}

/// The highest semver tag that is not a pre-release; an error lists what was found.
pub(crate) fn latest_stable<'a>(
    tags: &'a [Tag],
    selection: &Selection,
    repo: &str,
) -> Result<&'a Tag, String> {
    let mut seen = Vec::new();
    let mut best: Option<(Version, &Tag)> = None;
    for tag in tags {
        if selection
            .pattern
            .as_deref()
            .is_some_and(|p| !glob(p, &tag.name))
        {
            continue;
        }
        let text = match &selection.prefix {
            Some(prefix) => match tag.name.strip_prefix(prefix.as_str()) {
                Some(rest) => rest,
                None => continue,
            },
            None => tag.name.strip_prefix('v').unwrap_or(&tag.name),
        };
        let Ok(version) = Version::parse(text) else {
            seen.push(format!("{} (not semver)", tag.name));
            continue;
        };
        if !version.pre.is_empty() {
            seen.push(format!("{} (pre-release)", tag.name));
            continue;
        }
        let better = best.as_ref().is_none_or(|(b, _)| {
            version
                .cmp_precedence(b)
                .then_with(|| version.cmp(b))
                .is_gt()
        });
        if better {
            best = Some((version, tag));
        }
    }
    best.map(|(_, tag)| tag).ok_or_else(|| {
        let found = if seen.is_empty() {
            "no tags".to_owned()
        } else {
            seen.join(", ")
        };
        format!("no stable semver tag in `{repo}` (found: {found}); tag a release like `v1.0.0`")
    })
}

/// A tag name as a semver version: `v3.0.1` and `3.0.1` alike.
pub(crate) fn version(name: &str) -> Option<Version> {
    Version::parse(name.strip_prefix('v').unwrap_or(name)).ok()
}

/// How two versions compare by semver precedence (`v3.1.0-rc.1` before `v3.1.0`; build
/// metadata ignored); either not being semver is an error.
pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, String> {
    let parse = |name: &str| {
        version(name).ok_or_else(|| format!("`{name}` is no semver version (like `v1.2.3`)"))
    };
    Ok(parse(a)?.cmp_precedence(&parse(b)?))
}

/// The version of what `reference` (a tag, branch or commit id) names: the highest semver
/// tag on its commit, if one is.
pub(crate) fn version_of(
    repo: &str,
    reference: &str,
    access: &Access,
) -> Result<Option<String>, String> {
    let tags = tags(repo, access)?;
    let commit = match resolve(repo, reference, access) {
        Ok(commit) => commit,
        // A URL lists refs, not commits: a commit id is matched as it is.
        Err(_) if is_commit_id(reference) => reference.to_ascii_lowercase(),
        Err(e) => return Err(e),
    };
    Ok(tags
        .iter()
        .filter(|t| t.commit.starts_with(&commit))
        .filter_map(|t| version(&t.name).map(|v| (v, t)))
        .max_by(|(a, _), (b, _)| a.cmp_precedence(b))
        .map(|(_, t)| t.name.clone()))
}

fn is_commit_id(text: &str) -> bool {
    (7..=40).contains(&text.len()) && text.chars().all(|c| c.is_ascii_hexdigit())
}

/// The commit a ref names: a tag (annotated or not), a branch, or a commit id.
pub(crate) fn resolve(repo: &str, reference: &str, access: &Access) -> Result<String, String> {
    if is_url(repo) {
        let refs = remote_refs(repo, access)?;
        return refs
            .tags
            .iter()
            .find(|t| t.name == reference)
            .map(|t| t.commit.clone())
            .or_else(|| {
                refs.branches
                    .iter()
                    .find(|(b, _)| b == reference)
                    .map(|(_, c)| c.clone())
            })
            .ok_or_else(|| format!("`{reference}` is no tag or branch of `{repo}`"));
    }
    let repository = open(repo)?;
    let commit = commit_of(&repository, reference)?;
    Ok(commit.to_string())
}

/// `git describe --tags`: the nearest tag, and how far the ref is past it.
pub(crate) fn describe(repo: &str, reference: &str) -> Result<String, String> {
    let repository = open_local(repo, "describe")?;
    let commit = commit_of(&repository, reference)?;
    let object = repository
        .find_object(commit, None)
        .map_err(|e| e.message().to_owned())?;
    object
        .describe(git2::DescribeOptions::new().describe_tags())
        .and_then(|d| d.format(None))
        .map_err(|e| format!("cannot describe `{reference}` in `{repo}`: {}", e.message()))
}

/// Writes the tree at `reference` to `out` as `git archive` would: a tar, gzipped when `out`
/// ends in `.gz` or `.tgz`; files marked `export-ignore` in `.gitattributes` left out.
///
/// The archive is written to a new file of a random name beside `out` (never through an
/// existing name or link) and renamed over it: hosts deploying in parallel may build the same
/// archive at once, nothing ever sees half of one, and a link planted at `out` is replaced,
/// not followed.
pub(crate) fn archive(repo: &str, reference: &str, out: &Path) -> Result<String, String> {
    let repository = open_local(repo, "archive")?;
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let cannot = |e: std::io::Error| format!("cannot write `{}`: {e}", out.display());
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(cannot)?;
    let name = out.to_string_lossy();
    let gzip = name.ends_with(".gz") || name.ends_with(".tgz");
    let commit = write_tree(&repository, reference, temp.as_file_mut(), gzip)
        .map_err(|e| e.unwrap_or_else(&cannot))?;
    temp.persist(out).map_err(|e| cannot(e.error))?;
    Ok(commit)
}

/// Builds the gzipped archive of `reference` as a new file at `path` (an existing file or link
/// there is an error, never followed), for a deploy to upload: returns the commit archived
/// and the sha256 of the bytes written, computed as they are written.
pub(crate) fn release_archive(repo: &str, reference: &str, path: &Path) -> Result<Archive, String> {
    let repository = open_local(repo, "archive")?;
    let cannot = |e: std::io::Error| format!("cannot write `{}`: {e}", path.display());
    let file = File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(cannot)?;
    let mut sink = Hashing {
        inner: file,
        hasher: Sha256::new(),
    };
    let commit = write_tree(&repository, reference, &mut sink, true)
        .map_err(|e| e.unwrap_or_else(&cannot))?;
    sink.inner.sync_all().map_err(cannot)?;
    let sha256 = sink
        .hasher
        .finalize()
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        });
    Ok(Archive {
        path: path.to_owned(),
        sha256,
        commit,
    })
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(bytes)?;
        self.hasher.update(&bytes[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the tree at `reference` as a tar (gzipped if `gzip`) to `sink`; returns the commit.
/// An error is `Err(Ok(message))` for the repository, `Err(Err(io))` for the sink.
fn write_tree(
    repository: &Repository,
    reference: &str,
    sink: &mut dyn Write,
    gzip: bool,
) -> Result<String, Result<String, std::io::Error>> {
    let commit_id = commit_of(repository, reference).map_err(Ok)?;
    let commit = repository
        .find_commit(commit_id)
        .map_err(|e| Ok(e.message().to_owned()))?;
    let tree = commit.tree().map_err(|e| Ok(e.message().to_owned()))?;
    let ignored = export_ignored(repository, &tree);
    let mtime = u64::try_from(commit.time().seconds()).unwrap_or(0);
    if gzip {
        let mut tar = tar::Builder::new(GzEncoder::new(sink, Compression::fast()));
        append_tree(repository, &tree, &ignored, mtime, &mut tar).map_err(Ok)?;
        // The gzip trailer is written by `finish`, not by a flush.
        tar.into_inner().and_then(GzEncoder::finish).map_err(Err)?;
    } else {
        let mut tar = tar::Builder::new(sink);
        append_tree(repository, &tree, &ignored, mtime, &mut tar).map_err(Ok)?;
        tar.into_inner()
            .and_then(std::io::Write::flush)
            .map_err(Err)?;
    }
    Ok(commit_id.to_string())
}

/// Appends every entry of `tree` not matched by an `ignored` pattern.
fn append_tree<W: Write>(
    repository: &Repository,
    tree: &git2::Tree,
    ignored: &[String],
    mtime: u64,
    tar: &mut tar::Builder<W>,
) -> Result<(), String> {
    let mut failure = None;
    tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        let Ok(entry_name) = entry.name() else {
            return TreeWalkResult::Skip;
        };
        let path = format!("{dir}{entry_name}");
        if ignored.iter().any(|pattern| matches_path(pattern, &path)) {
            return TreeWalkResult::Skip;
        }
        match append(repository, tar, entry, &path, mtime) {
            Ok(()) => TreeWalkResult::Ok,
            Err(e) => {
                failure = Some(e);
                TreeWalkResult::Abort
            }
        }
    })
    .map_err(|e| failure.clone().unwrap_or_else(|| e.message().to_owned()))?;
    failure.map_or(Ok(()), Err)
}

fn append<W: Write>(
    repository: &Repository,
    tar: &mut tar::Builder<W>,
    entry: &git2::TreeEntry,
    path: &str,
    mtime: u64,
) -> Result<(), String> {
    let mut header = tar::Header::new_gnu();
    header.set_mtime(mtime);
    header.set_uid(0);
    header.set_gid(0);
    let io = |e: std::io::Error| format!("cannot archive `{path}`: {e}");
    match entry.kind() {
        Some(ObjectType::Tree) => {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o775);
            header.set_size(0);
            tar.append_data(&mut header, format!("{path}/"), std::io::empty())
                .map_err(io)
        }
        Some(ObjectType::Blob) => {
            let blob = repository
                .find_blob(entry.id())
                .map_err(|e| e.message().to_owned())?;
            if entry.filemode() == 0o120_000 {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                let target = String::from_utf8_lossy(blob.content()).into_owned();
                tar.append_link(&mut header, path, target).map_err(io)
            } else {
                header.set_mode(if entry.filemode() == 0o100_755 {
                    0o775
                } else {
                    0o664
                });
                header.set_size(blob.content().len() as u64);
                tar.append_data(&mut header, path, blob.content())
                    .map_err(io)
            }
        }
        // Submodules (commits) are left out, as `git archive` does.
        _ => Ok(()),
    }
}

/// Patterns marked `export-ignore` in the tree's `.gitattributes` files, as paths from the root.
fn export_ignored(repository: &Repository, tree: &git2::Tree) -> Vec<String> {
    let mut patterns = Vec::new();
    let _ = tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        if entry.name().ok() == Some(".gitattributes")
            && let Ok(blob) = repository.find_blob(entry.id())
        {
            for line in String::from_utf8_lossy(blob.content()).lines() {
                let mut words = line.split_whitespace();
                let Some(pattern) = words.next().filter(|p| !p.starts_with('#')) else {
                    continue;
                };
                if words.any(|attribute| attribute == "export-ignore") {
                    let pattern = pattern.trim_start_matches('/');
                    // A pattern without a slash matches at any depth below its file.
                    let anchored = if pattern.contains('/') {
                        format!("{dir}{pattern}")
                    } else {
                        format!("{dir}**/{pattern}")
                    };
                    patterns.push(anchored.trim_end_matches('/').to_owned());
                }
            }
        }
        TreeWalkResult::Ok
    });
    patterns
}

/// Whether `path` (or a directory above it) matches a `.gitattributes`-style pattern.
fn matches_path(pattern: &str, path: &str) -> bool {
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
fn glob(pattern: &str, text: &str) -> bool {
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

/// Brings the bare mirror of the repository at `url`, kept under `cache`, up to date with
/// every branch and tag (cloning it on first use), and returns its path: deploys archive
/// from it, so the upload strategy works from a URL as from a local repository.
pub(crate) fn mirror(url: &str, access: &Access, cache: &Path) -> Result<PathBuf, String> {
    let path = cache.join(mirror_name(url));
    let shown = redacted(url);
    let cannot = |e: git2::Error| {
        format!(
            "cannot keep a mirror of `{shown}` in `{}`: {}",
            path.display(),
            e.message()
        )
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(cache)
        .map_err(|e| format!("cannot make `{}`: {e}", cache.display()))?;
    // Yours alone, every time: what is archived from here is what hosts run. Changing the
    // mode of a directory another user owns fails, which refuses it too.
    std::fs::set_permissions(cache, std::fs::Permissions::from_mode(0o700)).map_err(|e| {
        format!(
            "the mirror cache `{}` must be yours alone (mode 0700): {e}",
            cache.display()
        )
    })?;
    let repository = if path.join("HEAD").is_file() {
        Repository::open_bare(&path).map_err(cannot)?
    } else {
        Repository::init_bare(&path).map_err(cannot)?
    };
    let problem = RefCell::new(None);
    let mut callbacks = callbacks(access, &problem);
    // Ctrl-C stops a long fetch.
    callbacks.transfer_progress(|_| !crate::signals::interrupted());
    let mut options = FetchOptions::new();
    options
        .remote_callbacks(callbacks)
        .prune(FetchPrune::On)
        .download_tags(AutotagOption::All);
    let mut remote = repository.remote_anonymous(url).map_err(cannot)?;
    remote
        .fetch(
            &["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
            Some(&mut options),
            None,
        )
        .map_err(|e| {
            let why = problem
                .borrow_mut()
                .take()
                .unwrap_or_else(|| e.message().to_owned());
            format!(
                "cannot fetch `{url}` into its mirror `{}`: {why}",
                path.display()
            )
        })?;
    Ok(path)
}

/// `url` without a password or token in it (`https://user:TOKEN@host/...`).
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority = rest.split('/').next().unwrap_or_default();
    match authority.rsplit_once('@') {
        Some((user, host)) if user.contains(':') => {
            let name = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{name}:***@{host}{}", &rest[authority.len()..])
        }
        _ => url.to_owned(),
    }
}

/// A mirror's directory name: readable, and unique to its URL.
fn mirror_name(url: &str) -> String {
    let readable: String = url
        .rsplit(['/', ':'])
        .find(|part| !part.is_empty())
        .unwrap_or("repo")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let digest = Sha256::digest(url.as_bytes());
    let hash = digest.iter().take(8).fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    });
    format!("{}-{hash}", readable.trim_end_matches(".git"))
}

/// Whether `repo` names a remote repository: a URL (`ssh://`, `https://`, `file://`), or
/// scp-like `git@git.example.com:shop/app.git`.
pub(crate) fn is_url(repo: &str) -> bool {
    repo.contains("://") || ssh_authority(repo).is_some()
}

/// The `user@host:port` an SSH repository is reached at: of `ssh://user@host:port/path`, or
/// of scp-like `user@host:path`.
pub(crate) fn ssh_authority(repo: &str) -> Option<&str> {
    if let Some(rest) = repo.strip_prefix("ssh://") {
        return rest.split('/').next();
    }
    let (authority, _) = repo.split_once(':')?;
    // `C:` or a path with a colon later on is a local path.
    (authority.len() > 1 && !authority.contains('/') && !repo.contains("://")).then_some(authority)
}

fn open(repo: &str) -> Result<Repository, String> {
    Repository::open(repo).map_err(|e| format!("`{repo}` is not a git repository: {}", e.message()))
}

fn open_local(repo: &str, what: &str) -> Result<Repository, String> {
    if is_url(repo) {
        return Err(format!(
            "git::{what} needs a local repository, not the URL `{repo}`: clone it first"
        ));
    }
    open(repo)
}

fn local_tags(repository: &Repository) -> Result<Vec<Tag>, String> {
    let names = repository
        .tag_names(None)
        .map_err(|e| e.message().to_owned())?;
    Ok(names
        .iter()
        .filter_map(|name| name.ok().flatten())
        .filter_map(|name| {
            let commit = repository
                .revparse_single(&format!("refs/tags/{name}^{{commit}}"))
                .ok()?
                .id();
            Some(Tag {
                name: name.to_owned(),
                commit: commit.to_string(),
            })
        })
        .collect())
}

/// A ref name or commit id, to a commit: tags first, then branches, then anything
/// `git rev-parse` understands.
fn commit_of(repository: &Repository, reference: &str) -> Result<Oid, String> {
    let candidates = [
        format!("refs/tags/{reference}"),
        format!("refs/heads/{reference}"),
        format!("refs/remotes/origin/{reference}"),
        reference.to_owned(),
    ];
    candidates
        .iter()
        .find_map(|spec| {
            repository
                .revparse_single(&format!("{spec}^{{commit}}"))
                .ok()
        })
        .map(|object| object.id())
        .ok_or_else(|| format!("`{reference}` is no tag, branch or commit of this repository"))
}

/// Login and host-key checks for libgit2's SSH transport. libgit2 asks for credentials
/// again after each refusal, so each method is offered once (git2-rs#347).
fn callbacks<'a>(access: &'a Access, problem: &'a RefCell<Option<String>>) -> RemoteCallbacks<'a> {
    let mut callbacks = RemoteCallbacks::new();
    let mut offered = 0;
    callbacks.credentials(move |url, user, allowed| {
        // HTTPS: what git itself would use, from the credential helpers git is set up with.
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT)
            && !allowed.contains(CredentialType::SSH_KEY)
        {
            offered += 1;
            if offered > 1 {
                return Err(git2::Error::from_str(
                    "the login from git's credential helper was refused",
                ));
            }
            let config = git2::Config::open_default()?;
            return Cred::credential_helper(&config, url, user);
        }
        let user = user.filter(|u| !u.is_empty()).unwrap_or(&access.user);
        if allowed.contains(CredentialType::USERNAME) {
            return Cred::username(user);
        }
        let agent = std::env::var_os("SSH_AUTH_SOCK").is_some_and(|s| !s.is_empty());
        let keys: Vec<&PathBuf> = access.keys.iter().filter(|k| k.is_file()).collect();
        offered += 1;
        match (offered, agent) {
            (1, true) => Cred::ssh_key_from_agent(user),
            (n, agent) => match keys.get(n - 1 - usize::from(agent)) {
                Some(key) => Cred::ssh_key(user, None, key, None),
                None => Err(git2::Error::from_str(
                    "no key was accepted (tried the agent and the SSH config's keys)",
                )),
            },
        }
    });
    callbacks.certificate_check(move |cert, host| {
        let Some(hostkey) = cert.as_hostkey() else { return Ok(CertificateCheckStatus::CertificatePassthrough) };
        let (Some(key), Some(kind)) = (hostkey.hostkey(), hostkey.hostkey_type()) else {
            return Err(git2::Error::from_str("the server sent no host key"));
        };
        let (host, port) = split_host_port(host);
        let port = if port == 22 && access.port != 0 { access.port } else { port };
        let presented = HostKey {
            host,
            port,
            key,
            algorithm: kind.name(),
            fingerprint: hostkey.hash_sha256().map_or_else(|| "(unknown)".into(), |h| fingerprint_of(h)),
        };
        let refusal = match known_hosts::check(&presented, &access.known_hosts, access.policy) {
            Ok(_) => return Ok(CertificateCheckStatus::CertificateOk),
            Err(KeyProblem::Unknown { fingerprint, .. }) => format!(
                "the host key of `{host}` is not known: {fingerprint}; add it to known_hosts, or run with --known-hosts accept-new"
            ),
            Err(KeyProblem::Changed { fingerprint }) => format!(
                "THE HOST KEY OF `{host}` HAS CHANGED (now {fingerprint}): someone could be intercepting the connection; not connecting"
            ),
            Err(KeyProblem::Other(message)) => message,
        };
        *problem.borrow_mut() = Some(refusal.clone());
        Err(git2::Error::from_str(&refusal))
    });
    callbacks
}

/// `host:port` as libgit2 names the host it checks (port 22 left out).
fn split_host_port(host: &str) -> (&str, u16) {
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') || name.ends_with(']') => (
            name.trim_start_matches('[').trim_end_matches(']'),
            port.parse().unwrap_or(22),
        ),
        _ => (host, 22),
    }
}

struct RemoteRefs {
    tags: Vec<Tag>,
    branches: Vec<(String, String)>,
}

/// `git ls-remote`: the refs of a repository by URL, without cloning it.
fn remote_refs(url: &str, access: &Access) -> Result<RemoteRefs, String> {
    let problem = RefCell::new(None);
    let mut remote = Remote::create_detached(url)
        .map_err(|e| format!("bad repository URL `{url}`: {}", e.message()))?;
    let connection = remote
        .connect_auth(Direction::Fetch, Some(callbacks(access, &problem)), None)
        .map_err(|e| {
            // libgit2 puts its own words on a callback's refusal: say ours.
            let why = problem
                .borrow_mut()
                .take()
                .unwrap_or_else(|| e.message().to_owned());
            format!("cannot list the refs of `{url}`: {why}")
        })?;
    let heads = connection.list().map_err(|e| e.message().to_owned())?;
    let mut tags: Vec<Tag> = Vec::new();
    let mut branches = Vec::new();
    for head in heads {
        let name = head.name();
        let commit = head.oid().to_string();
        if let Some(tag) = name.strip_prefix("refs/tags/") {
            // An annotated tag is listed twice: itself, then `^{}` with the commit it names.
            match tag.strip_suffix("^{}") {
                Some(tag) => match tags.iter_mut().find(|t| t.name == tag) {
                    Some(existing) => existing.commit = commit,
                    None => tags.push(Tag {
                        name: tag.to_owned(),
                        commit,
                    }),
                },
                None if !tags.iter().any(|t| t.name == tag) => tags.push(Tag {
                    name: tag.to_owned(),
                    commit,
                }),
                None => {}
            }
        } else if let Some(branch) = name.strip_prefix("refs/heads/") {
            branches.push((branch.to_owned(), commit));
        }
    }
    Ok(RemoteRefs { tags, branches })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(names: &[&str]) -> Vec<Tag> {
        names
            .iter()
            .map(|n| Tag {
                name: (*n).into(),
                commit: String::new(),
            })
            .collect()
    }

    #[test]
    fn latest_stable_skips_pre_releases_and_non_semver() {
        let all = tags(&[
            "v3.0.0",
            "v3.0.1",
            "v3.1.0-rc.1",
            "nightly",
            "v2.9.10",
            "3.0.1+build.2",
        ]);
        let best = latest_stable(&all, &Selection::default(), "repo").expect("a stable tag");
        assert!(
            best.name == "v3.0.1" || best.name == "3.0.1+build.2",
            "{best:?}"
        );
        let plain = tags(&["v1.2.0", "v1.10.0", "v1.9.0"]);
        assert_eq!(
            latest_stable(&plain, &Selection::default(), "r")
                .expect("stable")
                .name,
            "v1.10.0"
        );
    }

    #[test]
    fn prefix_and_pattern_choose_the_candidates() {
        let all = tags(&["api-v2.0.0", "web-v1.4.0", "web-v1.5.0", "v9.0.0"]);
        let web = Selection {
            prefix: Some("web-v".into()),
            pattern: None,
        };
        assert_eq!(
            latest_stable(&all, &web, "r").expect("web").name,
            "web-v1.5.0"
        );
        let api = Selection {
            prefix: None,
            pattern: Some("api-*".into()),
        };
        assert!(
            latest_stable(&all, &api, "r").is_err(),
            "api-v2.0.0 is not semver without its prefix"
        );
    }

    #[test]
    fn no_stable_tag_lists_what_was_found() {
        let all = tags(&["v3.1.0-rc.1", "nightly"]);
        assert_eq!(
            latest_stable(&all, &Selection::default(), "repo").unwrap_err(),
            "no stable semver tag in `repo` (found: v3.1.0-rc.1 (pre-release), nightly (not semver)); tag a release like `v1.0.0`"
        );
    }

    #[test]
    fn credentials_never_show_in_a_url() {
        assert_eq!(
            redacted("https://ci:s3cret@git.example.com/shop/app.git"),
            "https://ci:***@git.example.com/shop/app.git"
        );
        assert_eq!(
            redacted("ssh://git@git.example.com/shop/app.git"),
            "ssh://git@git.example.com/shop/app.git"
        );
    }

    #[test]
    fn scp_like_addresses_are_urls_and_local_paths_are_not() {
        assert_eq!(
            ssh_authority("git@git.example.com:shop/app.git"),
            Some("git@git.example.com")
        );
        assert_eq!(
            ssh_authority("ssh://git@host:2222/app.git"),
            Some("git@host:2222")
        );
        assert!(is_url("https://git.example.com/app.git"));
        assert!(!is_url("/srv/repos/app:v2"));
        assert!(!is_url("repos/app"));
    }

    #[test]
    fn versions_compare_by_semver_precedence() {
        assert_eq!(compare("v3.1.0-rc.1", "v3.1.0"), Ok(Ordering::Less));
        assert_eq!(compare("3.0.1", "v3.0.1+build.5"), Ok(Ordering::Equal));
        assert!(compare("main", "v1.0.0").is_err());
    }

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
