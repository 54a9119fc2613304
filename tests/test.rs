//! `Test`: a temp dir with fabfiles, one run of the real `rfab`, exact expectations.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
            assert_eq!(&stdout, want, "stdout of {context}");
        }
        if let Some(want) = &self.stderr {
            assert_eq!(&stderr, want, "stderr of {context}");
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

/// The summary block with each row's spacing folded and its duration as `TIME`.
fn mask_summary(stdout: &str) -> String {
    let mut in_summary = false;
    stdout.lines().fold(String::new(), |mut out, line| {
        if line == "Summary:" {
            in_summary = true;
        } else if line.is_empty() {
            in_summary = false;
        }
        if in_summary && line.starts_with("    ") {
            let words: Vec<&str> = line
                .split_whitespace()
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
