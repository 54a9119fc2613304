//! Fabric's decorators, written as doc-comment tags and checked when the fabfile loads.
//!
//! ```text
//! /// @hosts(web1, deploy@web2:2222)   hosts to run on, unless the command line says otherwise
//! /// @roles(web, db)                  roles to run on
//! /// @runs_once                       run once, whatever the host list
//! /// @parallel  /  @parallel(pool = 5)
//! /// @serial
//! /// @helper                          not a task: a function other files call
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
        if tags.helper && !tags.describe().is_empty() {
            return Err((
                0,
                TagError::HelperWithTags {
                    tags: tags.describe().join(" "),
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
            })
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
