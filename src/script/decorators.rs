//! Fabric's decorators, written as doc-comment tags and checked when the fabfile loads.
//!
//! ```text
//! /// @hosts(web1, deploy@web2:2222)   hosts to run on, unless the command line says otherwise
//! /// @roles(web, db)                  roles to run on
//! /// @runs_once                       run once, whatever the host list
//! /// @parallel  /  @parallel(pool = 5)
//! /// @serial
//! /// @helper                          not a task: a function other files call
//! /// @task                            a task; once any function has it, only those are tasks
//! /// @name(do)                        the task's name on the command line, if not the function's
//! /// @defaults(site = "www")          values for trailing parameters left out
//! ```

/// A tag that does not parse, or tags that cannot go together.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TagError {
    #[error("`@{tag}` lacks its closing `)`")]
    Unclosed { tag: String },
    #[error("`@{name}` needs at least one name: `@{name}(a, b)`")]
    NeedsNames { name: String },
    #[error("`@{name}` takes no arguments")]
    TakesNoArguments { name: String },
    #[error("unknown tag `@{name}`{suggestion}")]
    Unknown { name: String, suggestion: String },
    #[error(
        "expected `@parallel(pool = N)` with N a whole number above 0, found `@parallel({args})`"
    )]
    PoolSize { args: String },
    #[error("a task cannot be both `@parallel` and `@serial`")]
    ParallelAndSerial,
    #[error("a `@helper` is not a task, so `{tags}` means nothing on it: remove one")]
    HelperWithTags { tags: String },
    #[error(
        "`@name({name})` is not a task name: use letters, digits, `_` and `-` (namespaces come from modules)"
    )]
    BadName { name: String },
    #[error(
        "expected `@defaults(param = VALUE, ...)` with VALUE a \"string\", a whole number, true or false, found `{item}`"
    )]
    BadDefault { item: String },
}

/// A default from `@defaults`: the values a command-line argument or a script literal can be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Literal {
    Str(String),
    Int(i64),
    Bool(bool),
}

impl Literal {
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Some(inner) = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .or_else(|| text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')))
        {
            return Some(Self::Str(inner.to_owned()));
        }
        match text {
            "true" => Some(Self::Bool(true)),
            "false" => Some(Self::Bool(false)),
            _ => text.parse().ok().map(Self::Int),
        }
    }

    pub(crate) fn value(&self) -> rhai::Dynamic {
        match self {
            Self::Str(s) => s.as_str().into(),
            Self::Int(n) => (*n).into(),
            Self::Bool(b) => (*b).into(),
        }
    }
}

impl std::fmt::Display for Literal {
    /// As Fabric shows defaults in `-d`: `site='www'`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Str(s) => write!(f, "'{s}'"),
            Self::Int(n) => write!(f, "{n}"),
            Self::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// The tags of one task.
// One flag per decorator, as the user writes them: no state machine hides in them (the
// forbidden pairs, `@parallel` with `@serial` and `@helper` with any other, are checked in
// `parse`).
#[allow(clippy::struct_excessive_bools)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tags {
    pub(crate) hosts: Vec<String>,
    pub(crate) roles: Vec<String>,
    pub(crate) runs_once: bool,
    pub(crate) parallel: bool,
    /// The most hosts at once, from `@parallel(pool = N)`.
    pub(crate) pool: Option<usize>,
    pub(crate) serial: bool,
    /// `@helper`: a public function for other files to call, not a task.
    pub(crate) helper: bool,
    /// `@task`: Fabric's new-style tasks; once one function has it, only those are tasks.
    pub(crate) task: bool,
    /// `@name(NAME)`: the name on the command line, when it cannot be the function's.
    pub(crate) name: Option<String>,
    /// `@defaults(p = v, ...)`: values for parameters left out, in the order written.
    pub(crate) defaults: Vec<(String, Literal)>,
}

impl Tags {
    /// Reads the tag lines of a doc comment. Errors carry the index of the offending line.
    pub(crate) fn parse(lines: &[String]) -> Result<Self, (usize, TagError)> {
        let mut tags = Self::default();
        for (index, line) in lines.iter().enumerate() {
            if let Some(tag) = line.trim().strip_prefix('@') {
                tags.apply(tag).map_err(|message| (index, message))?;
            }
        }
        if tags.serial && tags.parallel {
            return Err((0, TagError::ParallelAndSerial));
        }
        let mut task_tags = tags.describe();
        if tags.task {
            task_tags.push("@task".into());
        }
        if let Some(name) = &tags.name {
            task_tags.push(format!("@name({name})"));
        }
        if !tags.defaults.is_empty() {
            task_tags.push("@defaults(...)".into());
        }
        if tags.helper && !task_tags.is_empty() {
            return Err((
                0,
                TagError::HelperWithTags {
                    tags: task_tags.join(" "),
                },
            ));
        }
        Ok(tags)
    }

    /// The tags as written: `@roles(web)`, `@parallel(pool = 5)`.
    pub(crate) fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.hosts.is_empty() {
            out.push(format!("@hosts({})", self.hosts.join(", ")));
        }
        if !self.roles.is_empty() {
            out.push(format!("@roles({})", self.roles.join(", ")));
        }
        if self.runs_once {
            out.push("@runs_once".into());
        }
        match (self.parallel, self.pool) {
            (true, Some(pool)) => out.push(format!("@parallel(pool = {pool})")),
            (true, None) => out.push("@parallel".into()),
            (false, _) => {}
        }
        if self.serial {
            out.push("@serial".into());
        }
        out
    }

    fn apply(&mut self, tag: &str) -> Result<(), TagError> {
        let (name, args) = match tag.split_once('(') {
            Some((name, rest)) => {
                let args = rest
                    .trim_end()
                    .strip_suffix(')')
                    .ok_or_else(|| TagError::Unclosed {
                        tag: tag.to_owned(),
                    })?;
                (name.trim(), Some(args))
            }
            None => (tag.trim(), None),
        };
        let list = |args: Option<&str>| -> Result<Vec<String>, TagError> {
            let items: Vec<String> = args
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().trim_matches('"').to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            if items.is_empty() {
                Err(TagError::NeedsNames {
                    name: name.to_owned(),
                })
            } else {
                Ok(items)
            }
        };
        let no_args = |flag: &mut bool| match args {
            None => {
                *flag = true;
                Ok(())
            }
            Some(_) => Err(TagError::TakesNoArguments {
                name: name.to_owned(),
            }),
        };
        match name {
            "hosts" => self.hosts = list(args)?,
            "roles" => self.roles = list(args)?,
            "runs_once" => no_args(&mut self.runs_once)?,
            "serial" => no_args(&mut self.serial)?,
            "helper" => no_args(&mut self.helper)?,
            "task" => no_args(&mut self.task)?,
            "name" => self.name = Some(task_name(args.unwrap_or_default())?),
            "defaults" => self.defaults = defaults(args.unwrap_or_default())?,
            "parallel" => {
                self.parallel = true;
                self.pool = args.map(pool_size).transpose()?;
            }
            _ => {
                return Err(TagError::Unknown {
                    name: name.to_owned(),
                    suggestion: suggest(name),
                });
            }
        }
        Ok(())
    }
}

fn pool_size(args: &str) -> Result<usize, TagError> {
    let bad = || TagError::PoolSize {
        args: args.to_owned(),
    };
    let (key, value) = args.split_once('=').ok_or_else(bad)?;
    if key.trim() != "pool" {
        return Err(bad());
    }
    value.trim().parse().ok().filter(|n| *n > 0).ok_or_else(bad)
}

/// A name users can type as a task: `do`, `db-migrate`; `:`, `,`, `=` and spaces belong to
/// the command line's grammar, dots to namespaces.
fn task_name(args: &str) -> Result<String, TagError> {
    let name = args.trim().trim_matches('"');
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(name.to_owned())
    } else {
        Err(TagError::BadName {
            name: args.trim().to_owned(),
        })
    }
}

/// `site = "www", force = false`; a comma inside a quoted value is part of it.
fn defaults(args: &str) -> Result<Vec<(String, Literal)>, TagError> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    for c in args.chars() {
        match (c, quote) {
            ('"' | '\'', None) => quote = Some(c),
            (c, Some(q)) if c == q => quote = None,
            (',', None) => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    items.push(current);
    let parsed: Vec<(String, Literal)> = items
        .iter()
        .map(|item| {
            let bad = || TagError::BadDefault {
                item: item.trim().to_owned(),
            };
            let (key, value) = item.split_once('=').ok_or_else(bad)?;
            let key = key.trim();
            if key.is_empty() || !key.chars().all(|c| c.is_alphanumeric() || c == '_') {
                return Err(bad());
            }
            Ok((key.to_owned(), Literal::parse(value).ok_or_else(bad)?))
        })
        .collect::<Result<_, _>>()?;
    Ok(parsed)
}

fn suggest(name: &str) -> String {
    crate::suggestion::closest(
        name,
        [
            "hosts",
            "roles",
            "runs_once",
            "parallel",
            "serial",
            "helper",
            "task",
            "name",
            "defaults",
        ],
    )
    .map(|s| format!(" (did you mean `@{s}`?)"))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(lines: &[&str]) -> Result<Tags, String> {
        let lines: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        Tags::parse(&lines).map_err(|(_, e)| e.to_string())
    }

    #[test]
    fn reads_every_tag() {
        let tags = parse(&[
            "Deploy.",
            "@hosts(web1, \"deploy@web2:2222\")",
            "@roles(web)",
            "@runs_once",
            "@parallel(pool = 5)",
        ]);
        assert_eq!(
            tags,
            Ok(Tags {
                hosts: vec!["web1".into(), "deploy@web2:2222".into()],
                roles: vec!["web".into()],
                runs_once: true,
                parallel: true,
                pool: Some(5),
                serial: false,
                helper: false,
                task: false,
                name: None,
                defaults: Vec::new(),
            })
        );
        let tags = parse(&[
            "@task",
            "@name(do)",
            r#"@defaults(site = "a, b", force = false, n = 3)"#,
        ])
        .expect("valid");
        assert!(tags.task);
        assert_eq!(tags.name.as_deref(), Some("do"));
        assert_eq!(
            tags.defaults,
            [
                ("site".into(), Literal::Str("a, b".into())),
                ("force".into(), Literal::Bool(false)),
                ("n".into(), Literal::Int(3)),
            ]
        );
        assert_eq!(parse(&["@helper"]).map(|t| t.helper), Ok(true));
        assert_eq!(
            parse(&["@parallel"]).map(|t| (t.parallel, t.pool)),
            Ok((true, None))
        );
        assert_eq!(parse(&["@serial"]).map(|t| t.serial), Ok(true));
        assert_eq!(
            parse(&["an email@example.com is not a tag"]),
            Ok(Tags::default())
        );
    }

    #[test]
    fn rejects_what_it_does_not_know() {
        let table = [
            (
                "@paralel",
                "unknown tag `@paralel` (did you mean `@parallel`?)",
            ),
            ("@frobnicate", "unknown tag `@frobnicate`"),
            (
                "@hosts()",
                "`@hosts` needs at least one name: `@hosts(a, b)`",
            ),
            ("@hosts(a", "`@hosts(a` lacks its closing `)`"),
            ("@runs_once(1)", "`@runs_once` takes no arguments"),
            ("@task(x)", "`@task` takes no arguments"),
            (
                "@name(a b)",
                "`@name(a b)` is not a task name: use letters, digits, `_` and `-` (namespaces come from modules)",
            ),
            (
                "@defaults(site)",
                "expected `@defaults(param = VALUE, ...)` with VALUE a \"string\", a whole number, true or false, found `site`",
            ),
            (
                "@defaults(site = www)",
                "expected `@defaults(param = VALUE, ...)` with VALUE a \"string\", a whole number, true or false, found `site = www`",
            ),
            (
                "@parallel(5)",
                "expected `@parallel(pool = N)` with N a whole number above 0, found `@parallel(5)`",
            ),
            (
                "@parallel(pool = 0)",
                "expected `@parallel(pool = N)` with N a whole number above 0, found `@parallel(pool = 0)`",
            ),
        ];
        for (line, message) in table {
            assert_eq!(parse(&[line]), Err(message.to_owned()), "{line}");
        }
        assert_eq!(
            parse(&["@parallel", "@serial"]),
            Err("a task cannot be both `@parallel` and `@serial`".into())
        );
        assert_eq!(
            parse(&["@helper", "@runs_once"]),
            Err(
                "a `@helper` is not a task, so `@runs_once` means nothing on it: remove one".into()
            )
        );
    }
}
