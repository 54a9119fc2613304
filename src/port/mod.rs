//! `rfab port`: a Fabric 1.x `fabfile.py` (or `fabfile/` package) and the local modules it
//! imports, converted to Rhai, with a report of what could not be and a check that the
//! result loads.
//!
//! Python is read by a real parser (rustpython-parser), after a token-level pass that
//! turns Python 2's forms into Python 3's on the same lines. Whatever the converter cannot
//! express stays in place as a `// TODO(port):` comment with its line, so the output loads.

mod call;
mod convert;
mod expression;
mod function;
mod names;
mod python2;
mod report;
mod statement;
mod template;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use rustpython_parser::Parse;
use rustpython_parser::ast::{self, Stmt};

use crate::error::{Error, Result};
use crate::port::convert::{Converter, ModuleNames};
pub(crate) use crate::port::report::Report;

/// What `rfab port` converted: each output file and its text, and the report.
#[derive(Debug)]
pub(crate) struct Ported {
    pub(crate) report: Report,
    pub(crate) files: Vec<(PathBuf, String)>,
    /// The fabfile's output, the one `rfab -f` loads.
    pub(crate) main: PathBuf,
}

/// A Python file of the port, parsed.
struct Source {
    path: PathBuf,
    /// Its Rhai namespace (the file's stem), `None` for the fabfile itself.
    namespace: Option<String>,
    original: String,
    modern: String,
    suite: Vec<Stmt>,
}

/// Converts the fabfile at `path` (a `.py` file, a `fabfile/` package or a directory
/// holding `fabfile.py`), writing nothing.
pub(crate) fn convert(path: &Path, out: Option<&Path>) -> Result<Ported> {
    let (entry, default_out) = entry_point(path)?;
    let main = out.map_or(default_out, Path::to_path_buf);
    let out_dir = main.parent().map(Path::to_path_buf).unwrap_or_default();
    let module_dir = entry.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut sources = Vec::new();
    discover(&entry, None, &module_dir, &mut sources)?;
    let mut foreign: HashMap<String, HashMap<String, convert::FnInfo>> = sources
        .iter()
        .filter_map(|s| s.namespace.clone())
        .map(|n| (n, HashMap::new()))
        .collect();
    let new_style = sources.iter().any(|s| uses_task_decorator(&s.suite));
    let mut report = Report::default();
    let mut files = Vec::new();
    for source in &sources {
        let module = ModuleNames {
            foreign: foreign.clone(),
            ..ModuleNames::default()
        };
        let mut converter = Converter::new(&source.original, &source.modern, module);
        converter.is_module = source.namespace.is_some();
        converter.new_style = new_style;
        converter.has_tasks = source
            .namespace
            .as_ref()
            .is_none_or(|n| sources.iter().any(|s| imports_module(&s.suite, n)));
        converter.file(&source.suite);
        let target = match &source.namespace {
            Some(namespace) => out_dir.join(format!("{namespace}.rhai")),
            None => main.clone(),
        };
        converter.report.python = source.path.display().to_string();
        converter.report.rhai = target.display().to_string();
        let mut text = converter.out.join("\n");
        while text.ends_with("\n\n") || text.ends_with('\n') {
            text.pop();
        }
        text.push('\n');
        if let Some(namespace) = &source.namespace {
            foreign.insert(
                namespace.clone(),
                converter.module.functions.clone().into_iter().collect(),
            );
        }
        report.files.push(converter.report);
        files.push((target, text));
    }
    Ok(Ported {
        report,
        files,
        main,
    })
}

/// The Python file to start from, and where its port goes by default.
fn entry_point(path: &Path) -> Result<(PathBuf, PathBuf)> {
    if path.is_dir() {
        let init = path.join("__init__.py");
        if init.is_file() {
            let name = path
                .file_name()
                .map_or_else(|| "fabfile".into(), |n| n.to_string_lossy().into_owned());
            let beside = path
                .parent()
                .unwrap_or(Path::new("."))
                .join(format!("{name}.rhai"));
            return Ok((init, beside));
        }
        let fabfile = path.join("fabfile.py");
        if fabfile.is_file() {
            return Ok((fabfile, path.join("fabfile.rhai")));
        }
        return Err(fail(format!(
            "`{}` holds neither `__init__.py` nor `fabfile.py`\nhint: give the fabfile: rfab port path/to/fabfile.py",
            path.display()
        )));
    }
    if path.extension().is_some_and(|e| e == "py") && path.is_file() {
        let beside = path.parent().unwrap_or(Path::new("")).join("fabfile.rhai");
        return Ok((path.to_path_buf(), beside));
    }
    Err(fail(format!(
        "`{}` is not a Python fabfile\nhint: give a `fabfile.py` or a `fabfile/` package",
        path.display()
    )))
}

/// Reads and parses `path`, then the local modules it imports, dependencies first.
fn discover(
    path: &Path,
    namespace: Option<String>,
    module_dir: &Path,
    sources: &mut Vec<Source>,
) -> Result<()> {
    let original = std::fs::read_to_string(path).map_err(|e| {
        fail(format!(
            "cannot read `{}`: {e}\nhint: check the path",
            path.display()
        ))
    })?;
    let modern = python2::modernize(&original);
    let suite = ast::Suite::parse(&modern, &path.to_string_lossy()).map_err(|e| {
        let line = modern[..usize::from(e.offset).min(modern.len())].matches('\n').count() + 1;
        fail(format!(
            "cannot parse `{}` line {line}: {}\nhint: rfab port reads Python 2 and 3 fabfiles; fix the syntax there first",
            path.display(),
            e.error
        ))
    })?;
    let placeholder = sources.len();
    sources.push(Source {
        path: path.to_path_buf(),
        namespace: namespace.clone(),
        original: String::new(),
        modern: String::new(),
        suite: Vec::new(),
    });
    for candidate in imported_names(&suite) {
        let file = module_dir.join(format!("{candidate}.py"));
        let known = sources
            .iter()
            .any(|s| s.namespace.as_deref() == Some(candidate.as_str()));
        if !known && file.is_file() && file != path && !file.ends_with("__init__.py") {
            discover(&file, Some(candidate), module_dir, sources)?;
        }
    }
    // Dependencies before the file that imports them, so their functions are known.
    let source = Source {
        path: path.to_path_buf(),
        namespace,
        original,
        modern,
        suite,
    };
    sources.remove(placeholder);
    sources.push(source);
    Ok(())
}

/// The names an import could mean a local module by: `import helpers`, `from helpers
/// import x`, `from . import db`, `from fabfile.db import x`.
fn imported_names(suite: &[Stmt]) -> Vec<String> {
    let mut names = Vec::new();
    for stmt in suite {
        match stmt {
            Stmt::Import(i) => names.extend(
                i.names
                    .iter()
                    .map(|a| a.name.split('.').next_back().unwrap_or_default().to_owned()),
            ),
            Stmt::ImportFrom(i) => {
                if let Some(module) = &i.module {
                    names.push(module.split('.').next_back().unwrap_or_default().to_owned());
                }
                names.extend(i.names.iter().map(|a| a.name.to_string()));
            }
            _ => {}
        }
    }
    names
}

/// What went wrong, for the one error type the CLI reports.
fn fail(message: String) -> Error {
    Error::Port { message }
}

/// Whether any function carries Fabric's `@task` (Fabric's new-style tasks).
fn uses_task_decorator(suite: &[Stmt]) -> bool {
    suite.iter().any(|stmt| match stmt {
        Stmt::FunctionDef(f) => f.decorator_list.iter().any(|d| {
            let func = match d {
                ast::Expr::Call(c) => c.func.as_ref(),
                other => other,
            };
            match func {
                ast::Expr::Name(n) => n.id.as_str() == "task",
                ast::Expr::Attribute(a) => a.attr.as_str() == "task",
                _ => false,
            }
        }),
        _ => false,
    })
}

/// Whether the suite imports `namespace` as a module (`import helpers`, `from . import
/// helpers`), which makes it a namespace of tasks in Fabric.
fn imports_module(suite: &[Stmt], namespace: &str) -> bool {
    suite.iter().any(|stmt| match stmt {
        Stmt::Import(i) => i
            .names
            .iter()
            .any(|a| a.name.split('.').next_back() == Some(namespace)),
        Stmt::ImportFrom(i) => i.names.iter().any(|a| a.name.as_str() == namespace),
        _ => false,
    })
}

/// Writes the port's files; none when any exists and `force` is not given.
pub(crate) fn write(ported: &Ported, force: bool) -> Result<()> {
    if !force && let Some((path, _)) = ported.files.iter().find(|(p, _)| p.exists()) {
        return Err(fail(format!(
            "`{}` exists, and rfab port never overwrites a file\nhint: pass --force to replace it, or -o OUT to write elsewhere",
            path.display()
        )));
    }
    for (path, text) in &ported.files {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| fail(format!("cannot make `{}`: {e}", dir.display())))?;
        }
        std::fs::write(path, text)
            .map_err(|e| fail(format!("cannot write `{}`: {e}", path.display())))?;
    }
    Ok(())
}

/// Whether `rfab -f MAIN --list` accepts the port: `Err` holds what it said.
pub(crate) fn loads(main: &Path) -> Result<()> {
    let exe = std::env::current_exe()
        .map_err(|e| fail(format!("cannot find rfab itself to check the port: {e}")))?;
    let output = Command::new(exe)
        .arg("-f")
        .arg(main)
        .arg("--list")
        .arg("--color")
        .arg("never")
        .env_remove("RFAB_FABFILE")
        .output()
        .map_err(|e| fail(format!("cannot run rfab to check the port: {e}")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(Error::PortDoesNotLoad {
            main: main.to_path_buf(),
            said: String::from_utf8_lossy(&output.stderr)
                .trim_end()
                .to_owned(),
        })
    }
}

/// The port in a private temporary directory, to check that it loads without writing
/// beside the fabfile (`--check`).
pub(crate) fn loads_in_memory(ported: &Ported) -> Result<()> {
    let dir =
        tempfile::tempdir().map_err(|e| fail(format!("cannot make a temporary directory: {e}")))?;
    let mut main = dir.path().join("fabfile.rhai");
    for (path, text) in &ported.files {
        let name = path
            .file_name()
            .map_or_else(|| "fabfile.rhai".into(), std::ffi::OsStr::to_os_string);
        let target = dir.path().join(&name);
        if *path == ported.main {
            main.clone_from(&target);
        }
        std::fs::write(&target, text)
            .map_err(|e| fail(format!("cannot write `{}`: {e}", target.display())))?;
    }
    // The hint names the file the user will have, not the temporary one.
    loads(&main).map_err(|error| match error {
        Error::PortDoesNotLoad { said, .. } => Error::PortDoesNotLoad {
            main: ported.main.clone(),
            said,
        },
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each case of the corpus (`tests/port/`) converts to its committed `expected/` files.
    /// The integration tests also load and run the ports; this holds for the cases whose
    /// ports need API that is not on every branch yet (`rfab/files`, `@task`).
    #[test]
    fn the_corpus_converts_as_committed() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/port");
        let cases = [
            ("classic_py2", "fabfile.py"),
            ("newstyle_py3", "fabfile.py"),
            ("package", "fabfile"),
            ("todo", "fabfile.py"),
            ("rails_py2", "fabfile.py"),
            ("ops_py3", "fabfile.py"),
            ("backup_py2", "fabfile.py"),
        ];
        for (case, entry) in cases {
            let ported = convert(
                &corpus.join(case).join(entry),
                Some(Path::new("out/fabfile.rhai")),
            )
            .unwrap_or_else(|e| panic!("{case}: {e}"));
            for (path, text) in &ported.files {
                let name = path.file_name().expect("a file name");
                let expected = corpus.join(case).join("expected").join(name);
                let want = std::fs::read_to_string(&expected)
                    .unwrap_or_else(|e| panic!("{}: {e}", expected.display()));
                assert!(
                    *text == want,
                    "{case}: the port of {} differs from {}:\n{text}",
                    path.display(),
                    expected.display()
                );
            }
        }
    }

    #[test]
    fn a_python2_fabfile_reports_the_lines_of_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fabfile = dir.path().join("fabfile.py");
        std::fs::write(
            &fabfile,
            "def a():\n    print 'x'\n\n\nclass B:\n    pass\n",
        )
        .expect("write");
        let ported = convert(&fabfile, None).expect("converts");
        let todo = &ported.report.files[0].todos[0];
        assert_eq!((todo.line, todo.python.as_str()), (5, "class B:"));
        assert!(
            ported.files[0]
                .1
                .contains("// TODO(port): line 5: class B:\n")
        );
    }

    #[test]
    fn a_default_that_defaults_cannot_hold_stays_a_todo_and_keeps_defaults_trailing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fabfile = dir.path().join("fabfile.py");
        std::fs::write(
            &fabfile,
            "def deploy(ref, site=None, n=3, mode='fast'):\n    pass\n",
        )
        .expect("write");
        let ported = convert(&fabfile, None).expect("converts");
        let text = &ported.files[0].1;
        assert!(
            text.contains("// TODO(port): line 1: a default value `@defaults` cannot hold"),
            "{text}"
        );
        assert!(
            text.contains("/// @defaults(n = 3, mode = \"fast\")\nfn deploy(ref, site, n, mode) {"),
            "{text}"
        );
    }
}
