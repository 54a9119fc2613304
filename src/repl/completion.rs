//! Tab completion: which words fit where the cursor is.
//!
//! - At `:`, the meta-commands; after `:hosts`, `:env`, `:help` and `:dry`, what they take.
//! - In a string or after `=`/`;` (`deploy:hosts=web1;we`), hosts and roles.
//! - After `env.`, the keys of `env`.
//! - Anywhere else, tasks (a namespace first completes to `proxy.`), script functions and
//!   the functions defined at the prompt.

use rhai::{Dynamic, Map};

use crate::repl::meta;
use crate::repl::session::Session;

/// What can be completed, refreshed after every entry.
#[derive(Clone, Debug, Default)]
pub(crate) struct Words {
    /// Task names, namespaces as dots: `proxy.flip`.
    pub(crate) tasks: Vec<String>,
    /// Script API functions (`run`, `git::tags`) and functions defined at the prompt.
    pub(crate) functions: Vec<String>,
    pub(crate) hosts: Vec<String>,
    pub(crate) roles: Vec<String>,
    pub(crate) env_keys: Vec<String>,
}

impl Words {
    /// What Tab can complete now, in `session`.
    pub(crate) fn of(session: &Session) -> Self {
        let env = &session.runtime.env;
        let roledefs = env
            .get("roledefs")
            .and_then(Dynamic::try_cast::<Map>)
            .unwrap_or_default();
        let mut hosts = env.strings("hosts").unwrap_or_default();
        hosts.extend(session.selected_host_strings().unwrap_or_default());
        for definition in roledefs.values() {
            let list = definition
                .clone()
                .try_cast::<Map>()
                .and_then(|m| m.get("hosts").cloned())
                .unwrap_or_else(|| definition.clone());
            hosts.extend(crate::script::env::strings("roledefs", list).unwrap_or_default());
        }
        hosts.sort();
        hosts.dedup();
        Self {
            tasks: session
                .fabfile
                .tasks
                .iter()
                .map(|t| t.name.clone())
                .collect(),
            functions: session.function_names(),
            hosts,
            roles: roledefs.keys().map(ToString::to_string).collect(),
            env_keys: env.snapshot().keys().map(ToString::to_string).collect(),
        }
    }
}

/// Characters that end a word: white space and Rhai's punctuation, but not `.`, `:`, `@`
/// or `-`, which appear in task names, namespaces and host strings.
const BREAKS: &[char] = &[
    '(', ')', '[', ']', '{', '}', ',', ';', '"', '\'', '`', '=', '!', '&', '|', '<', '>', '+', '*',
    '/',
];

/// Where the word under the cursor starts, and the words that could replace it.
pub(crate) fn complete(words: &Words, line: &str, pos: usize) -> (usize, Vec<String>) {
    let before = &line[..pos];
    if let Some(meta) = before.trim_start().strip_prefix(':') {
        return complete_meta(words, before, meta);
    }
    let start = before
        .rfind(|c: char| c.is_whitespace() || BREAKS.contains(&c))
        .map_or(0, |i| {
            i + before[i..].chars().next().map_or(1, char::len_utf8)
        });
    let word = &before[start..];
    let opener = before[..start].chars().next_back();
    let candidates = match opener {
        Some('"' | '\'' | '`' | '=' | ';') => hosts_and_roles(words, word),
        _ => match word.strip_prefix("env.") {
            Some(key) => prefixed(&words.env_keys, key)
                .map(|k| format!("env.{k}"))
                .collect(),
            None => code(words, word),
        },
    };
    (start, sorted(candidates))
}

fn complete_meta(words: &Words, before: &str, meta: &str) -> (usize, Vec<String>) {
    let Some((name, argument)) = meta.split_once(char::is_whitespace) else {
        let start = before.len() - meta.len();
        let names = meta::COMMANDS.iter().map(|c| c.name);
        return (
            start,
            sorted(prefixed(names, meta).map(Into::into).collect()),
        );
    };
    let argument = argument.trim_start();
    // `:hosts a,b,c`: only the last item is being typed.
    let word = match name {
        "hosts" => argument.rsplit(',').next().unwrap_or_default(),
        _ => argument,
    };
    let start = before.len() - word.len();
    let candidates: Vec<String> = match name {
        "hosts" => prefixed(&words.hosts, word).map(Into::into).collect(),
        "env" => prefixed(&words.env_keys, word).map(Into::into).collect(),
        "help" => prefixed(words.tasks.iter().chain(&words.functions), word)
            .map(Into::into)
            .chain(prefixed(meta::COMMANDS.iter().map(|c| c.name), word).map(|n| format!(":{n}")))
            .collect(),
        "dry" => prefixed(["on", "off"], word).map(Into::into).collect(),
        _ => Vec::new(),
    };
    (start, sorted(candidates))
}

/// Tasks, namespaces and functions starting with `word`.
fn code(words: &Words, word: &str) -> Vec<String> {
    let tasks = prefixed(&words.tasks, word).map(|task| {
        // `pro` offers `proxy.` before the tasks in it.
        match task[word.len()..].find('.') {
            Some(dot) => task[..=word.len() + dot].to_owned(),
            None => task.to_owned(),
        }
    });
    tasks
        .chain(prefixed(&words.functions, word).map(Into::into))
        .collect()
}

fn hosts_and_roles(words: &Words, word: &str) -> Vec<String> {
    prefixed(words.hosts.iter().chain(&words.roles), word)
        .map(Into::into)
        .collect()
}

fn prefixed<'a, S: AsRef<str> + ?Sized + 'a>(
    items: impl IntoIterator<Item = &'a S>,
    prefix: &'a str,
) -> impl Iterator<Item = &'a str> {
    items
        .into_iter()
        .map(AsRef::as_ref)
        .filter(move |item| item.starts_with(prefix))
}

fn sorted(mut candidates: Vec<String>) -> Vec<String> {
    candidates.sort();
    candidates.dedup();
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> Words {
        let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
        Words {
            tasks: strings(&["deploy", "prod", "proxy.all", "proxy.flip", "staging"]),
            functions: strings(&["git::tags", "prompt", "put", "run"]),
            hosts: strings(&["web1", "web2", "db1"]),
            roles: strings(&["web", "db"]),
            env_keys: strings(&["hosts", "roledefs", "user"]),
        }
    }

    fn completed(line: &str) -> (usize, Vec<String>) {
        complete(&words(), line, line.len())
    }

    #[test]
    fn tasks_namespaces_and_functions() {
        assert_eq!(completed("stag"), (0, vec!["staging".into()]));
        assert_eq!(
            completed("pro"),
            (0, vec!["prod".into(), "prompt".into(), "proxy.".into()])
        );
        assert_eq!(
            completed("prod proxy."),
            (5, vec!["proxy.all".into(), "proxy.flip".into()])
        );
        assert_eq!(completed("let t = git::t"), (8, vec!["git::tags".into()]));
        assert_eq!(completed("print(ru"), (6, vec!["run".into()]));
    }

    #[test]
    fn hosts_and_roles_in_strings_and_host_arguments() {
        assert_eq!(
            completed("env.hosts = [\"we"),
            (14, vec!["web".into(), "web1".into(), "web2".into()])
        );
        assert_eq!(
            completed("deploy:hosts=web1;d"),
            (18, vec!["db".into(), "db1".into()])
        );
    }

    #[test]
    fn env_keys_after_env_dot() {
        assert_eq!(completed("puts(env.ro"), (5, vec!["env.roledefs".into()]));
    }

    #[test]
    fn meta_commands_and_their_arguments() {
        assert_eq!(completed(":h"), (1, vec!["help".into(), "hosts".into()]));
        assert_eq!(
            completed(":hosts web1,w"),
            (12, vec!["web1".into(), "web2".into()])
        );
        assert_eq!(completed(":env u"), (5, vec!["user".into()]));
        assert_eq!(completed(":dry o"), (5, vec!["off".into(), "on".into()]));
        assert_eq!(
            completed(":help p"),
            (
                6,
                vec![
                    "prod".into(),
                    "prompt".into(),
                    "proxy.all".into(),
                    "proxy.flip".into(),
                    "put".into()
                ]
            )
        );
    }
}
