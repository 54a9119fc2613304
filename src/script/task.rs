//! A task: a fabfile function reachable from the command line, with its docs and tags.
//!
//! Rhai overloads functions by arity, so one task name can have several overloads
//! (`fn prod()` and `fn prod(which)` make `prod` and `prod:out`). Binding an invocation picks
//! the overload whose arity matches and maps `key=value` arguments onto parameter names;
//! parameters given no value take their `@defaults`.

use rhai::Dynamic;

use crate::error::{Error, Result};
use crate::script::decorators::{Literal, Tags};
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

    /// The overload that takes `given` arguments (counting those `@defaults` can fill), or
    /// an error showing the task's usage.
    pub(crate) fn overload(&self, given: usize) -> Result<&Overload> {
        self.overloads
            .iter()
            .find(|o| o.params.len() == given)
            .or_else(|| {
                self.overloads
                    .iter()
                    .find(|o| (o.required()..o.params.len()).contains(&given))
            })
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
        let values = overload
            .fill(values)
            .map_err(|missing| bad(format!("`{missing}` is not given and has no default")))?;
        Ok((overload, values))
    }

    /// Picks the overload for positional `args` (from `execute()`) and adds the defaults of
    /// those left out.
    pub(crate) fn bind_args(&self, args: Vec<Dynamic>) -> Result<(&Overload, Vec<Dynamic>)> {
        let overload = self.overload(args.len())?;
        let values = args.into_iter().map(Some).collect();
        let values = overload
            .fill(values)
            .map_err(|missing| Error::TaskArgument {
                task: self.name.clone(),
                message: format!("`{missing}` is not given and has no default"),
                usage: self.usage(),
            })?;
        Ok((overload, values))
    }

    /// `no arguments`, `1 argument (ref)`, `0 or 1 arguments`.
    fn arities(&self) -> String {
        match self.overloads.as_slice() {
            [only] if only.required() == only.params.len() => match only.params.len() {
                0 => "no arguments".into(),
                1 => format!("1 argument ({})", only.params[0]),
                n => format!("{n} arguments ({})", only.params.join(", ")),
            },
            [only] => format!(
                "{} to {} arguments ({})",
                only.required(),
                only.params.len(),
                only.params.join(", ")
            ),
            many => {
                let counts: Vec<String> = many.iter().map(|o| o.params.len().to_string()).collect();
                format!("{} arguments", counts.join(" or "))
            }
        }
    }
}

impl Overload {
    /// How many arguments must be given: the parameters before the first with a default.
    pub(crate) fn required(&self) -> usize {
        self.params
            .iter()
            .position(|p| self.default(p).is_some())
            .unwrap_or(self.params.len())
    }

    /// The `@defaults` value of parameter `param`.
    pub(crate) fn default(&self, param: &str) -> Option<&Literal> {
        self.tags
            .defaults
            .iter()
            .find(|(name, _)| name == param)
            .map(|(_, value)| value)
    }

    /// Every parameter's value: the one given, else its default; else the missing name.
    fn fill(&self, mut values: Vec<Option<Dynamic>>) -> std::result::Result<Vec<Dynamic>, String> {
        values.resize(self.params.len(), None);
        values
            .into_iter()
            .zip(&self.params)
            .map(|(value, param)| {
                value
                    .or_else(|| self.default(param).map(Literal::value))
                    .ok_or_else(|| param.clone())
            })
            .collect()
    }

    pub(crate) fn usage(&self, name: &str) -> String {
        if self.params.is_empty() {
            return format!("rfab {name}");
        }
        let words: Vec<String> = self
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                if i < self.required() {
                    p.to_uppercase()
                } else {
                    format!("[{}]", p.to_uppercase())
                }
            })
            .collect();
        format!("rfab {name}:{}", words.join(","))
    }

    fn param_list(&self) -> String {
        if self.params.is_empty() {
            " (it takes no arguments)".into()
        } else {
            format!(" (parameters: {})", self.params.join(", "))
        }
    }
}
