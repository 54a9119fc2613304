//! One task requested on the command line, `deploy:stable,hosts=a;b`: its grammar (Fabric
//! 1.x's, `\,` and `\=` escaping the separators) and the parsed invocation.

use crate::error::{Error, Result};

/// A task invocation, parsed but not yet checked against the fabfile.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Invocation {
    /// The word as the user typed it, for messages.
    pub(crate) word: String,
    /// The task name, with namespaces as dots: `proxy.flip`.
    pub(crate) task: String,
    pub(crate) args: Vec<String>,
    /// Keyword arguments in the order given.
    pub(crate) kwargs: Vec<(String, String)>,
    pub(crate) hosts: Vec<String>,
    pub(crate) roles: Vec<String>,
    pub(crate) exclude_hosts: Vec<String>,
}

impl Invocation {
    /// How many arguments the task is called with.
    pub(crate) fn arity(&self) -> usize {
        self.args.len() + self.kwargs.len()
    }
}

pub(crate) fn parse(word: &str) -> Result<Invocation> {
    let (task, argstr) = match word.split_once(':') {
        Some((task, argstr)) => (task, Some(argstr)),
        None => (word, None),
    };
    let syntax = |message: String| Error::InvocationSyntax {
        word: word.into(),
        message,
    };
    if task.is_empty() {
        return Err(syntax("the task name is empty".into()));
    }
    let mut invocation = Invocation {
        word: word.into(),
        task: task.into(),
        ..Invocation::default()
    };
    let mut reserved: Vec<&str> = Vec::new();
    for argument in argstr.map(|a| split_escaped(a, ',')).unwrap_or_default() {
        let (key, value) = split_key_value(&argument);
        let Some(value) = value else {
            invocation.args.push(key);
            continue;
        };
        let (family, target) = match key.as_str() {
            "" => {
                return Err(syntax(format!(
                    "`={value}` has no key; write `\\=` for a literal `=`"
                )));
            }
            "host" | "hosts" => ("hosts", &mut invocation.hosts),
            "role" | "roles" => ("roles", &mut invocation.roles),
            "exclude_hosts" => ("exclude_hosts", &mut invocation.exclude_hosts),
            _ => {
                if invocation.kwargs.iter().any(|(k, _)| *k == key) {
                    return Err(syntax(format!("`{key}` is given twice")));
                }
                invocation.kwargs.push((key, value));
                continue;
            }
        };
        if reserved.contains(&family) {
            return Err(syntax(format!(
                "`{family}` is given twice with different hosts; give one `{family}=a;b`"
            )));
        }
        reserved.push(family);
        target.extend(
            value
                .split(';')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(String::from),
        );
    }
    Ok(invocation)
}

/// Splits on unescaped `sep`; `\sep` becomes `sep`, other backslashes stay.
pub(crate) fn split_escaped(text: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let current = parts.last_mut().expect("parts is never empty");
        match c {
            '\\' if chars.peek() == Some(&sep) => current.push(chars.next().expect("peeked")),
            c if c == sep => parts.push(String::new()),
            c => current.push(c),
        }
    }
    parts
}

/// Splits `key=value` at the first unescaped `=`; `\=` elsewhere becomes `=`.
pub(crate) fn split_key_value(text: &str) -> (String, Option<String>) {
    let mut parts = split_escaped(text, '=').into_iter();
    let key = parts.next().unwrap_or_default();
    let rest: Vec<String> = parts.collect();
    if rest.is_empty() {
        (key, None)
    } else {
        (key, Some(rest.join("=")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn kw(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn grammar() {
        // (word, task, args, kwargs, hosts, roles, exclude_hosts)
        #[allow(clippy::type_complexity)]
        let table: &[(
            &str,
            &str,
            &[&str],
            &[(&str, &str)],
            &[&str],
            &[&str],
            &[&str],
        )] = &[
            ("deploy", "deploy", &[], &[], &[], &[], &[]),
            ("deploy:stable", "deploy", &["stable"], &[], &[], &[], &[]),
            ("proxy.flip", "proxy.flip", &[], &[], &[], &[], &[]),
            ("t:a,b", "t", &["a", "b"], &[], &[], &[], &[]),
            ("t:a,k=v", "t", &["a"], &[("k", "v")], &[], &[], &[]),
            ("t:k=v,a", "t", &["a"], &[("k", "v")], &[], &[], &[]),
            (r"t:a\,b", "t", &["a,b"], &[], &[], &[], &[]),
            (r"t:a\=b", "t", &["a=b"], &[], &[], &[], &[]),
            (r"t:k=a\,b", "t", &[], &[("k", "a,b")], &[], &[], &[]),
            (r"t:k=a\=b", "t", &[], &[("k", "a=b")], &[], &[], &[]),
            ("t:k=a=b", "t", &[], &[("k", "a=b")], &[], &[], &[]),
            (r"t:a\b", "t", &[r"a\b"], &[], &[], &[], &[]),
            ("t:", "t", &[""], &[], &[], &[], &[]),
            ("t:a,", "t", &["a", ""], &[], &[], &[], &[]),
            ("t:,a", "t", &["", "a"], &[], &[], &[], &[]),
            ("t:k=", "t", &[], &[("k", "")], &[], &[], &[]),
            ("t:x:y", "t", &["x:y"], &[], &[], &[], &[]),
            (
                "t:héllo,ключ=значение",
                "t",
                &["héllo"],
                &[("ключ", "значение")],
                &[],
                &[],
                &[],
            ),
            ("t:host=web1", "t", &[], &[], &["web1"], &[], &[]),
            (
                "t:hosts=web1;web2",
                "t",
                &[],
                &[],
                &["web1", "web2"],
                &[],
                &[],
            ),
            ("t:hosts= a ; b ;", "t", &[], &[], &["a", "b"], &[], &[]),
            ("t:role=web", "t", &[], &[], &[], &["web"], &[]),
            ("t:roles=web;db", "t", &[], &[], &[], &["web", "db"], &[]),
            ("t:exclude_hosts=a;b", "t", &[], &[], &[], &[], &["a", "b"]),
            (
                "t:v1,hosts=a;b,role=web",
                "t",
                &["v1"],
                &[],
                &["a", "b"],
                &["web"],
                &[],
            ),
            (
                "t:hosts=u@[::1]:2222",
                "t",
                &[],
                &[],
                &["u@[::1]:2222"],
                &[],
                &[],
            ),
        ];
        for (word, task, args, kwargs, hosts, roles, excludes) in table {
            let got = parse(word).unwrap_or_else(|e| panic!("{word}: {e}"));
            let want = Invocation {
                word: (*word).into(),
                task: (*task).into(),
                args: strings(args),
                kwargs: kw(kwargs),
                hosts: strings(hosts),
                roles: strings(roles),
                exclude_hosts: strings(excludes),
            };
            assert_eq!(got, want, "{word}");
        }
    }

    #[test]
    fn errors() {
        let table = [
            (":a", "the task name is empty"),
            ("t:=v", "`=v` has no key; write `\\=` for a literal `=`"),
            ("t:k=1,k=2", "`k` is given twice"),
            (
                "t:host=a,hosts=b",
                "`hosts` is given twice with different hosts; give one `hosts=a;b`",
            ),
            (
                "t:role=a,roles=b",
                "`roles` is given twice with different hosts; give one `roles=a;b`",
            ),
        ];
        for (word, message) in table {
            match parse(word) {
                Err(Error::InvocationSyntax { message: got, .. }) => {
                    assert_eq!(got, message, "{word}");
                }
                other => panic!("{word}: {other:?}"),
            }
        }
    }
}
