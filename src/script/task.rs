//! A task: a fabfile function reachable from the command line, with its docs and tags.
//!
//! Rhai overloads functions by arity, so one task name can have several overloads
//! (`fn prod()` and `fn prod(which)` make `prod` and `prod:out`). Binding an invocation picks
//! the overload whose arity matches and maps `key=value` arguments onto parameter names.

use rhai::Dynamic;

use crate::error::{Error, Result};
use crate::script::decorators::Tags;
use crate::script::invocation::Invocation;

/// The name the fabfile's module is registered under, which every task's [`Task::call`]
/// starts with: tasks are `fabfile::proxy::flip`.
pub(crate) const MODULE_NAME: &str = "fabfile";

#[derive(Clone, Debug)]
pub(crate) struct Task {
    /// The dotted name users type: `proxy.flip`.
    pub(crate) name: String,
    /// The Rhai function that runs it: `fabfile::proxy::flip`.
    pub(crate) call: String,
    /// By arity, fewest parameters first.
    pub(crate) overloads: Vec<Overload>,
}

#[derive(Clone, Debug)]
pub(crate) struct Overload {
    pub(crate) params: Vec<String>,
    /// Doc lines without the tag lines.
    pub(crate) doc: Vec<String>,
    pub(crate) tags: Tags,
}

impl Task {
    /// The task behind `rfab -H HOSTS -- COMMAND`: `run(COMMAND)` on every host.
    pub(crate) fn adhoc() -> Self {
        let overload = Overload {
            params: vec!["command".into()],
            doc: Vec::new(),
            tags: Tags::default(),
        };
        Self {
            name: "<command>".into(),
            call: "run".into(),
            overloads: vec![overload],
        }
    }

    /// The documentation shown for the task: that of its first documented overload.
    pub(crate) fn doc(&self) -> &[String] {
        self.overloads
            .iter()
            .map(|o| o.doc.as_slice())
            .find(|d| !d.is_empty())
            .unwrap_or_default()
    }

    /// The first sentence of the docs, for `--list`: the first paragraph up to its first
    /// `. ` (a sentence may run over several lines).
    pub(crate) fn summary(&self) -> String {
        let paragraph = self
            .doc()
            .iter()
            .map(|line| line.trim())
            .take_while(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        match paragraph.find(". ") {
            Some(end) => paragraph[..=end].to_owned(),
            None => paragraph,
        }
    }

    /// How to call each overload: `rfab prod | rfab prod:WHICH`.
    pub(crate) fn usage(&self) -> String {
        self.overloads
            .iter()
            .map(|o| o.usage(&self.name))
            .collect::<Vec<_>>()
            .join(" | ")
    }

    /// The overload that takes `given` arguments, or an error showing the task's usage.
    pub(crate) fn overload(&self, given: usize) -> Result<&Overload> {
        self.overloads
            .iter()
            .find(|o| o.params.len() == given)
            .ok_or_else(|| Error::Arity {
                task: self.name.clone(),
                expected: self.arities(),
                given: match given {
                    1 => "1 was".into(),
                    n => format!("{n} were"),
                },
                usage: self.usage(),
            })
    }

    /// Picks the overload for `invocation` and orders its arguments as the parameters.
    pub(crate) fn bind(&self, invocation: &Invocation) -> Result<(&Overload, Vec<Dynamic>)> {
        let overload = self.overload(invocation.arity())?;
        let bad = |message: String| Error::TaskArgument {
            task: self.name.clone(),
            message,
            usage: self.usage(),
        };
        let mut values: Vec<Option<Dynamic>> = invocation
            .args
            .iter()
            .map(|a| Some(a.as_str().into()))
            .collect();
        values.resize(overload.params.len(), None);
        for (key, value) in &invocation.kwargs {
            let Some(index) = overload.params.iter().position(|p| p == key) else {
                return Err(bad(format!(
                    "`{key}` is not a parameter of `{}`{}",
                    self.name,
                    overload.param_list()
                )));
            };
            if values[index].is_some() {
                return Err(bad(format!(
                    "`{key}` is given both by position and as `{key}=`"
                )));
            }
            values[index] = Some(value.as_str().into());
        }
        Ok((
            overload,
            values
                .into_iter()
                .map(|v| v.expect("every parameter is filled"))
                .collect(),
        ))
    }

    /// `no arguments`, `1 argument (ref)`, `0 or 1 arguments`.
    fn arities(&self) -> String {
        match self.overloads.as_slice() {
            [only] => match only.params.len() {
                0 => "no arguments".into(),
                1 => format!("1 argument ({})", only.params[0]),
                n => format!("{n} arguments ({})", only.params.join(", ")),
            },
            many => {
                let counts: Vec<String> = many.iter().map(|o| o.params.len().to_string()).collect();
                format!("{} arguments", counts.join(" or "))
            }
        }
    }
}

impl Overload {
    pub(crate) fn usage(&self, name: &str) -> String {
        if self.params.is_empty() {
            format!("rfab {name}")
        } else {
            format!(
                "rfab {name}:{}",
                self.params
                    .iter()
                    .map(|p| p.to_uppercase())
                    .collect::<Vec<_>>()
                    .join(",")
            )
        }
    }

    fn param_list(&self) -> String {
        if self.params.is_empty() {
            " (it takes no arguments)".into()
        } else {
            format!(" (parameters: {})", self.params.join(", "))
        }
    }
}
