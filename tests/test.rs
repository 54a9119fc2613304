//! `Test`: a temp dir with fabfiles, one run of the real `rfab`, exact expectations.
//!
//! Output is checked whole: exactly (`stdout`), against an anchored regex where parts vary
//! (`stdout_regex`: ports, temp paths, times), or against a committed file (`stdout_file`),
//! which `RFAB_BLESS=1 cargo test` rewrites, as snapshot tools do.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use regex::Regex;
use tempfile::TempDir;

pub(crate) const RFAB: &str = env!("CARGO_BIN_EXE_rfab");

pub(crate) struct Test {
    dir: TempDir,
    cwd: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<String>,
    status: i32,
    stdout: Option<String>,
    stderr: Option<String>,
    stderr_prefix: Option<String>,
    stdout_regex: Option<Regex>,
    stderr_regex: Option<Regex>,
    stdout_file: Option<PathBuf>,
    mask_times: bool,
}

pub(crate) struct Ran {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    /// The test's directory, kept as long as the result.
    pub(crate) dir: TempDir,
}

impl Test {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let cwd = dir.path().to_path_buf();
        Self {
            dir,
            cwd,
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
            status: 0,
            stdout: None,
            stderr_prefix: None,
            stdout_regex: None,
            stderr_regex: None,
            stdout_file: None,
            mask_times: false,
            stderr: None,
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `fabfile.rhai` (unindented).
    pub(crate) fn fabfile(self, text: &str) -> Self {
        self.file("fabfile.rhai", text)
    }

    pub(crate) fn file(self, path: &str, text: &str) -> Self {
        let path = self.dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, unindent(text)).expect("write");
        self
    }

    /// Runs rfab in this subdirectory of the temp dir.
    pub(crate) fn current_dir(mut self, sub: &str) -> Self {
        self.cwd = self.dir.path().join(sub);
        std::fs::create_dir_all(&self.cwd).expect("mkdir");
        self
    }

    /// Runs rfab in `dir`, anywhere (a repository a test made beside its temp dir).
    pub(crate) fn in_dir(mut self, dir: &Path) -> Self {
        self.cwd = dir.to_path_buf();
        self
    }

    pub(crate) fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    pub(crate) fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub(crate) fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.into());
        self
    }

    pub(crate) fn status(mut self, status: i32) -> Self {
        self.status = status;
        self
    }

    pub(crate) fn stdout(mut self, text: &str) -> Self {
        self.stdout = Some(unindent(text));
        self
    }

    pub(crate) fn stderr(mut self, text: &str) -> Self {
        self.stderr = Some(unindent(text));
        self
    }

    /// Expects stderr to start with `text` (for messages that end with a snippet or a path).
    pub(crate) fn stderr_starts_with(mut self, text: &str) -> Self {
        self.stderr_prefix = Some(text.into());
        self
    }

    /// Expects all of stdout to match `pattern` (unindented like `stdout`, anchored at both
    /// ends, `.` matching newlines too): write the output as it is, with its varying parts as
    /// patterns.
    pub(crate) fn stdout_regex(mut self, pattern: &str) -> Self {
        self.stdout_regex = Some(whole(pattern));
        self
    }

    /// Expects all of stderr to match `pattern`, as `stdout_regex` does.
    pub(crate) fn stderr_regex(mut self, pattern: &str) -> Self {
        self.stderr_regex = Some(whole(pattern));
        self
    }

    /// Expects stdout to be the content of `path` (relative to the crate's root); with
    /// `RFAB_BLESS=1` in the environment, writes the output there instead.
    pub(crate) fn stdout_file(mut self, path: &str) -> Self {
        self.stdout_file = Some(Path::new(env!("CARGO_MANIFEST_DIR")).join(path));
        self
    }

    /// Compares the summary's rows as `    HOST  STATUS  TIME  TASKS`: durations vary, and
    /// so does the padding that aligns them.
    pub(crate) fn mask_times(mut self) -> Self {
        self.mask_times = true;
        self
    }

    pub(crate) fn command(&self) -> Command {
        let mut command = self.command_named(RFAB);
        command.args(&self.args);
        command
    }

    /// `program` run as rfab would be: in the test's directory, with its environment.
    pub(crate) fn command_named(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(&self.cwd)
            .env_remove("RFAB_FABFILE")
            .env_remove("RFAB_PASSWORD")
            .env_remove("RFAB_SUDO_PASSWORD")
            .env("NO_COLOR", "1")
            .env("LOGNAME", "tester")
            .env("USER", "tester");
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    pub(crate) fn run(self) -> Ran {
        let mut child = self
            .command()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rfab starts");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(self.stdin.as_deref().unwrap_or_default().as_bytes())
            .expect("write stdin");
        drop(stdin);
        let output = child.wait_with_output().expect("rfab runs");
        let mut stdout = String::from_utf8(output.stdout).expect("utf-8 stdout");
        if self.mask_times {
            stdout = mask_summary(&stdout);
        }
        let stderr = String::from_utf8(output.stderr).expect("utf-8 stderr");
        let context = format!(
            "rfab {:?}\n--- stdout:\n{stdout}--- stderr:\n{stderr}---",
            self.args
        );
        assert_eq!(
            output.status.code(),
            Some(self.status),
            "exit status of {context}"
        );
        if let Some(want) = &self.stdout {
            expect_exact(&stdout, want, &format!("stdout of {context}"));
        }
        if let Some(want) = &self.stderr {
            expect_exact(&stderr, want, &format!("stderr of {context}"));
        }
        if let Some(want) = &self.stdout_regex {
            expect_match(&stdout, want, &format!("stdout of {context}"));
        }
        if let Some(want) = &self.stderr_regex {
            expect_match(&stderr, want, &format!("stderr of {context}"));
        }
        if let Some(path) = &self.stdout_file {
            expect_file(&stdout, path, bless(), &format!("stdout of {context}"));
        }
        if let Some(want) = &self.stderr_prefix {
            assert!(
                stderr.starts_with(want.as_str()),
                "stderr of {context}\nwant prefix: {want}"
            );
        }
        Ran {
            stdout,
            stderr,
            dir: self.dir,
        }
    }
}

/// A regex matching `text` literally, but where each hole's name (such as `<FINGERPRINT>`)
/// stands for its pattern: the output written as it is, with its varying parts named.
pub(crate) fn pattern(text: &str, holes: &[(&str, &str)]) -> String {
    holes.iter().fold(regex::escape(text), |re, (name, hole)| {
        re.replace(name, hole)
    })
}

/// A regex for a whole output that has `line` (a `pattern`, without its newline) as one of
/// its lines: for long outputs, where one whole line is what a test is about.
pub(crate) fn a_line(line: &str) -> String {
    format!(r"(?:.*\n)?{line}\n.*")
}

/// A regex for a whole output whose first line is `line` (a `pattern`, without its
/// newline): a message, followed by a snippet that points into the stdlib.
pub(crate) fn first_line(line: &str) -> String {
    format!(r"{line}\n.*")
}

/// Who holds a deploy lock, `tester@vm pid 42 since 2026-11-26T06:00:00Z`, as a hole.
pub(crate) const LOCK_HOLDER: (&str, &str) = (
    "<HOLDER>",
    r"\S+@\S+ pid \d+ since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
);

/// A deploy's release name, `v3.0.1-20261126060000123`, as `pattern`'s hole.
pub(crate) const RELEASE_STAMP: (&str, &str) = ("<STAMP>", r"\d{17}");

/// A host key's fingerprint, as `pattern`'s hole.
pub(crate) const FINGERPRINT: (&str, &str) = ("<FINGERPRINT>", "SHA256:[A-Za-z0-9+/]{43}");

/// `pattern`, unindented, as a regex that must match a whole text.
fn whole(pattern: &str) -> Regex {
    let pattern = unindent(pattern);
    Regex::new(&format!(r"\A(?s:{pattern})\z"))
        .unwrap_or_else(|e| panic!("bad regex {pattern:?}: {e}"))
}

/// Asserts that all of `got` matches `pattern`, as `stdout_regex` does: for the output of a
/// run the builder does not make (a spawned rfab, the fleet's).
pub(crate) fn assert_match(got: &str, pattern: &str) {
    expect_match(got, &whole(pattern), "output");
}

fn expect_exact(got: &str, want: &str, what: &str) {
    assert!(
        got == want,
        "{what}\n--- differs from the expected text (- expected, + got):\n{}",
        diff(want, got)
    );
}

fn expect_match(got: &str, want: &Regex, what: &str) {
    assert!(
        want.is_match(got),
        "{what}\n--- does not match the regex:\n{}",
        want.as_str()
    );
}

/// Whether to rewrite expected files with what the run printed (`RFAB_BLESS=1`).
fn bless() -> bool {
    std::env::var_os("RFAB_BLESS").is_some_and(|v| v == "1")
}

/// Compares `got` with the file at `path`, or writes it there when `bless`ing.
fn expect_file(got: &str, path: &Path, bless: bool, what: &str) {
    if bless {
        std::fs::write(path, got).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        return;
    }
    let want = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        got == want,
        "{what}\n--- differs from {} (- expected, + got); if the change is right, \
         `RFAB_BLESS=1 cargo test` rewrites the file:\n{}",
        path.display(),
        diff(&want, got)
    );
}

/// A line diff of two texts: `  ` both, `- ` only in `want`, `+ ` only in `got`. A last line
/// without its newline is marked, since that is a difference too.
fn diff(want: &str, got: &str) -> String {
    let a: Vec<&str> = want.split_inclusive('\n').collect();
    let b: Vec<&str> = got.split_inclusive('\n').collect();
    // Longest common subsequence, from the ends, so the walk below goes forwards.
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = String::new();
    let mut line = |mark: &str, text: &str| {
        out.push_str(mark);
        if let Some(text) = text.strip_suffix('\n') {
            out.push_str(text);
        } else {
            out.push_str(text);
            out.push_str(" (no newline at the end)");
        }
        out.push('\n');
    };
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            line("  ", a[i]);
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            line("- ", a[i]);
            i += 1;
        } else {
            line("+ ", b[j]);
            j += 1;
        }
    }
    out
}

/// Strips a leading newline and the indentation common to all non-blank lines.
pub(crate) fn unindent(text: &str) -> String {
    let text = text
        .strip_prefix('\n')
        .unwrap_or(text)
        .trim_end_matches([' ', '\t']);
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines().fold(String::new(), |mut out, l| {
        out.push_str(if l.len() >= indent {
            &l[indent..]
        } else {
            l.trim_start()
        });
        out.push('\n');
        out
    })
}

/// The summary block with the spacing between columns folded to two spaces and each
/// duration as `TIME`.
fn mask_summary(stdout: &str) -> String {
    let mut in_summary = false;
    stdout.lines().fold(String::new(), |mut out, line| {
        if line == "Summary:" {
            in_summary = true;
        } else if line.is_empty() {
            in_summary = false;
        }
        if in_summary && line.starts_with("    ") {
            // Columns are apart by two spaces or more; words within one (`not run`, a
            // failure's reason) by one.
            let words: Vec<&str> = line
                .trim()
                .split("  ")
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .map(|w| {
                    if w.strip_suffix('s')
                        .is_some_and(|n| n.parse::<f64>().is_ok())
                    {
                        "TIME"
                    } else {
                        w
                    }
                })
                .collect();
            out.push_str("    ");
            out.push_str(&words.join("  "));
        } else {
            out.push_str(line);
        }
        out.push('\n');
        out
    })
}

#[test]
fn diff_marks_expected_and_got_lines() {
    assert_eq!(
        diff("a\nb\nc\n", "a\nx\nc\nd"),
        "  a\n- b\n+ x\n  c\n+ d (no newline at the end)\n"
    );
}

#[test]
#[should_panic(
    expected = "differs from the expected text (- expected, + got):\n- bye\n+ hi\n  \n  Done.\n"
)]
fn a_wrong_stdout_panics_with_a_diff() {
    Test::new()
        .fabfile(r#"fn t() { print("hi"); }"#)
        .args(&["t"])
        .stdout("bye\n\nDone.\n")
        .run();
}

#[test]
fn a_regex_matches_the_whole_output() {
    Test::new()
        .fabfile(r#"fn t() { print("hi"); throw "oh"; }"#)
        .args(&["t"])
        .status(1)
        .stdout_regex("h.\n")
        .stderr_regex(
            r"
            Fatal error: oh
             --> fabfile\.rhai:1:\d+
            .*
            Aborting\.
            ",
        )
        .run();
}

/// The regex is anchored: matching a part of the output is not enough.
#[test]
#[should_panic(expected = "does not match the regex:\n\\A(?s:Done\\.\n)\\z")]
fn a_regex_matching_only_a_part_panics() {
    Test::new()
        .fabfile(r#"fn t() { print("hi"); }"#)
        .args(&["t"])
        .stdout_regex(r"Done\.")
        .run();
}

#[test]
#[should_panic(expected = "`RFAB_BLESS=1 cargo test` rewrites the file:\n- bye\n+ hi\n")]
fn a_wrong_expected_file_panics_with_a_diff() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("expected");
    std::fs::write(&path, "bye\n").expect("write");
    expect_file("hi\n", &path, false, "stdout");
}

#[test]
fn blessing_writes_the_expected_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("expected");
    expect_file("hi\n", &path, true, "stdout");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "hi\n");
    expect_file("hi\n", &path, false, "stdout");
}
