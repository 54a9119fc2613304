//! `rfab init`: a project's first fabfile, as `cap install`, `dep init` and `kamal init`
//! start theirs. It writes rfab's own example fabfile (two load-balancer groups behind
//! HAProxy: `prod`, `prod:out`, `deploy:stable`, `rolling:stable`, `status`, `proxy.*`,
//! `hotfix.*`), which the test suite runs on real hosts, and an inventory
//! (`inventory/production.rhai`) with the project's facts: asked on a terminal, given as
//! task arguments (`rfab init:user=deploy,group1=web1;web2,...` for scripts), or, with
//! neither, placeholders it names.

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::output::Output;
use crate::script::invocation::Invocation;
use crate::script::listing::Builtin;

/// The word that asks for it, when no fabfile with a task of that name is in the way.
pub(crate) const WORD: &str = "init";

/// The files of the example fabfile, by name.
const FILES: &[(&str, &str)] = &[
    ("fabfile.rhai", include_str!("../../fabfile.rhai")),
    ("deploy.rhai", include_str!("../../deploy.rhai")),
    ("proxy.rhai", include_str!("../../proxy.rhai")),
    ("hotfix.rhai", include_str!("../../hotfix.rhai")),
];

/// Where the inventory goes, and what the fabfile imports by default.
const INVENTORY: &str = "inventory/production";

/// `init` as `--list` and `-d init` show it.
pub(crate) const BUILTIN: Builtin = Builtin {
    name: WORD,
    doc: &[
        "Start a project: write a fabfile and an inventory for two load-balancer groups.",
        "",
        "Writes fabfile.rhai, deploy.rhai, proxy.rhai, hotfix.rhai and",
        "inventory/production.rhai, asking on a terminal for the hosts of each group, the",
        "SSH user, the HAProxy socket (or address) and backend, deploy_to, the health URL and",
        "the repository. Scripts give them as arguments: init:group1=web1;web2,group2=web3;web4,",
        "user=deploy,socket=/run/haproxy/admin.sock,lb_ssh=deploy@lb1,backend=web,",
        "deploy_to=/srv/app,health_url=http://{host}:8080/health,repository=URL. Without",
        "either it writes example.com placeholders and names the lines to edit. Existing",
        "files are kept unless force=true; fabric=true adds the Fabric 1.x equivalent of",
        "each part as comments.",
    ],
    usage: "rfab init[:KEY=VALUE,...]",
};

/// One fact the inventory needs: its argument name, the question, the placeholder.
struct Fact {
    key: &'static str,
    question: &'static str,
    placeholder: &'static str,
}

const FACTS: &[Fact] = &[
    Fact {
        key: "group1",
        question: "hosts of group1 (separated by ;)",
        placeholder: "web1.example.com;web2.example.com",
    },
    Fact {
        key: "group2",
        question: "hosts of group2 (separated by ;)",
        placeholder: "web3.example.com;web4.example.com",
    },
    Fact {
        key: "user",
        question: "SSH user",
        placeholder: "deploy",
    },
    Fact {
        key: "socket",
        question: "HAProxy stats socket (empty to give a TCP address instead)",
        placeholder: "/run/haproxy/admin.sock",
    },
    Fact {
        key: "address",
        question: "HAProxy stats address, host:port (empty with a socket)",
        placeholder: "",
    },
    Fact {
        key: "lb_ssh",
        question: "host the socket is on, over SSH (empty: this machine)",
        placeholder: "deploy@lb1.example.com",
    },
    Fact {
        key: "backend",
        question: "HAProxy backend",
        placeholder: "web",
    },
    Fact {
        key: "deploy_to",
        question: "deploy_to on the hosts",
        placeholder: "/srv/app",
    },
    Fact {
        key: "health_url",
        question: "health URL, checked from each host ({host}: its name)",
        placeholder: "http://{host}:8080/health",
    },
    Fact {
        key: "repository",
        question: "repository to deploy",
        placeholder: "git@git.example.com:team/app.git",
    },
];

/// Writes the fabfile and inventory into `dir`; says what it wrote and what to do next.
pub(crate) fn run(dir: &Path, invocation: &Invocation, output: &Output) -> Result<()> {
    let given = |key: &str| {
        invocation
            .kwargs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let flag = |key: &str| given(key).is_some_and(|v| v == "true");
    if let Some((key, _)) = invocation.kwargs.iter().find(|(key, _)| {
        !FACTS.iter().any(|f| f.key == key) && !["force", "fabric"].contains(&key.as_str())
    }) {
        return Err(Error::TaskArgument {
            task: WORD.into(),
            message: format!(
                "unknown argument `{key}`; it takes {}, force and fabric",
                FACTS.iter().map(|f| f.key).collect::<Vec<_>>().join(", ")
            ),
            usage: BUILTIN.usage.into(),
        });
    }
    if !invocation.hosts.is_empty()
        || !invocation.roles.is_empty()
        || !invocation.exclude_hosts.is_empty()
    {
        return Err(Error::TaskArgument {
            task: WORD.into(),
            message: "it runs on this machine only: give the group's hosts as group1= and group2="
                .into(),
            usage: BUILTIN.usage.into(),
        });
    }
    let (force, fabric) = (flag("force"), flag("fabric"));
    let paths: Vec<PathBuf> = FILES
        .iter()
        .map(|(name, _)| dir.join(name))
        .chain(std::iter::once(dir.join(format!("{INVENTORY}.rhai"))))
        .collect();
    let existing: Vec<String> = paths
        .iter()
        .filter(|p| p.exists())
        .map(|p| format!("`{}`", p.display()))
        .collect();
    if !existing.is_empty() && !force {
        return Err(Error::InitExists {
            files: existing.join(", "),
        });
    }
    let ask = std::io::stdin().is_terminal()
        && invocation
            .kwargs
            .iter()
            .all(|(k, _)| k == "force" || k == "fabric");
    let mut placeholders = Vec::new();
    let mut facts = Facts::new();
    // In the app's own working tree, the repository to deploy is that one.
    let here = git2::Repository::discover(dir)
        .ok()
        .and_then(|repo| repo.workdir().map(|w| w.display().to_string()));
    for fact in FACTS {
        let value = match given(fact.key) {
            Some(value) => value,
            None if fact.key == "repository" && here.is_some() => here.clone().unwrap_or_default(),
            None if ask => question(fact)?,
            None => {
                if fact.placeholder.contains("example.com") {
                    placeholders.push(fact.key);
                }
                fact.placeholder.to_owned()
            }
        };
        facts.insert(fact.key, value);
    }
    for (name, text) in FILES {
        let mut text = text.replace("\"inventory/example\"", &format!("\"{INVENTORY}\""));
        if *name == "fabfile.rhai" {
            text = project_header(&text, fabric);
        }
        write(&dir.join(name), &text)?;
    }
    write(
        &dir.join(format!("{INVENTORY}.rhai")),
        &inventory(&facts, fabric),
    )?;
    let mut said = format!(
        "wrote fabfile.rhai, deploy.rhai, proxy.rhai, hotfix.rhai and {INVENTORY}.rhai in {}",
        dir.display()
    );
    if !placeholders.is_empty() {
        let _ = write!(
            said,
            "\nplaceholders to edit in {INVENTORY}.rhai: {} (or run `rfab init:force=true,KEY=VALUE,...`)",
            placeholders.join(", ")
        );
    }
    said.push_str(
        "\nnext: `rfab --list`, `rfab check`, then `rfab --dry-run prod rolling:stable` \
         (it asks the load balancer, changes nothing)",
    );
    output.say(&said);
    Ok(())
}

/// Asks one fact on the terminal; an empty answer takes the placeholder.
fn question(fact: &Fact) -> Result<String> {
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "{} [{}]: ", fact.question, fact.placeholder);
    let _ = stderr.flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::Terminal {
            message: e.to_string(),
        })?;
    let answer = line.trim();
    Ok(if answer.is_empty() {
        fact.placeholder.to_owned()
    } else {
        answer.to_owned()
    })
}

fn write(path: &Path, text: &str) -> Result<()> {
    let failed = |source: std::io::Error| Error::InitWrite {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(failed)?;
    }
    std::fs::write(path, text).map_err(failed)
}

/// The example fabfile's header, as the project's own.
fn project_header(text: &str, fabric: bool) -> String {
    let body = text
        .lines()
        .skip_while(|line| line.starts_with("//!"))
        .fold(String::new(), |mut body, line| {
            let _ = writeln!(body, "{line}");
            body
        });
    let mut header = String::from(
        "//! This project's fabfile (written by `rfab init`): web nodes in two load-balancer\n\
         //! groups behind HAProxy, the fleet described in inventory/production.rhai.\n\
         //!\n\
         //! A rolling release, one group at a time while the other serves:\n\
         //!   rfab prod rolling:stable\n\
         //! or step by step: rfab prod proxy.group2; rfab prod:out deploy:stable;\n\
         //!   rfab prod proxy.flip; rfab prod:out deploy:stable; rfab prod proxy.all\n\
         //! `rfab --list` shows every task, `rfab -d TASK` its docs; `rfab check` checks it.\n",
    );
    if fabric {
        header.push_str(
            "//!\n\
             //! Coming from Fabric 1.x (docs/migrating-from-fabric.md has the whole map):\n\
             //! - `prod` is an env task, as `def prod(): env.roledefs = ...` was;\n\
             //! - tasks are functions, their `///` comments their docstrings, and decorators\n\
             //!   doc tags (`/// @runs_once` is `@runs_once`);\n\
             //! - `with cd(...):` is `cd(..., || ...)`; `run`, `sudo`, `put`, `get`,\n\
             //!   `local`, `execute` and `env` are Fabric's;\n\
             //! - `deploy` is Capistrano's releases layout (`rfab/releases`), where Fabric\n\
             //!   fabfiles wrote `git pull` and `sudo('service app restart')` by hand;\n\
             //! - `proxy.*` drive HAProxy's runtime API, where Fabric users ran `socat`.\n",
        );
    }
    header.push_str(&body);
    header
}

/// The facts by key.
type Facts = std::collections::BTreeMap<&'static str, String>;

/// `inventory/production.rhai` with the project's facts.
fn inventory(facts: &Facts, fabric: bool) -> String {
    let fact = |key: &str| facts.get(key).map_or("", String::as_str);
    let hosts = |key: &str| {
        fact(key)
            .split([';', ' '])
            .filter(|h| !h.is_empty())
            .map(|h| format!("{h:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut lb = Vec::new();
    if !fact("lb_ssh").is_empty() && fact("address").is_empty() {
        lb.push(format!("    ssh: {:?},", fact("lb_ssh")));
    }
    if fact("address").is_empty() {
        lb.push(format!("    socket: {:?},", fact("socket")));
    } else {
        lb.push(format!("    address: {:?},", fact("address")));
    }
    lb.push(format!("    backend: {:?},", fact("backend")));
    let fabric_note = if fabric {
        "// In Fabric 1.x these were `env.roledefs` and `env` keys at the top of fabfile.py.\n"
    } else {
        ""
    };
    format!(
        "//! The production fleet, for this project's fabfile (written by `rfab init`). The\n\
         //! fabfile reads nothing else about the fleet: another fleet is another file like\n\
         //! this one, chosen with `--set inventory=inventory/NAME`.\n\
         {fabric_note}\n\
         // The SSH user deploys run as; ports come with host strings (\"deploy@web1:2222\")\n\
         // or from ~/.ssh/config.\n\
         export const user = {user:?};\n\
         \n\
         // The web nodes of each load-balancer group.\n\
         export const groups = #{{\n    group1: [{group1}],\n    group2: [{group2}],\n}};\n\
         \n\
         // The load balancer: lb::haproxy's options (`rfab --api lb::haproxy`). A host's\n\
         // server name in the backend is its name; add `servers: #{{ \"host\": \"server\" }}`\n\
         // where they differ.\n\
         export const lb = #{{\n{lb}\n}};\n\
         \n\
         // Deploy settings (`rfab --api rfab/releases`), each overridable with `--set KEY=...`.\n\
         // `{{host}}` is the host's name.\n\
         export const settings = #{{\n    repository: {repository:?},\n    deploy_to: {deploy_to:?},\n    keep_releases: 5,\n    health_url: {health_url:?},\n    version_files: [\"config/version.ini\"],\n}};\n",
        user = fact("user"),
        group1 = hosts("group1"),
        group2 = hosts("group2"),
        lb = lb.join("\n"),
        repository = fact("repository"),
        deploy_to = fact("deploy_to"),
        health_url = fact("health_url"),
    )
}
