//! Which hosts a task runs on, computed when the task starts (Fabric's rules).
//!
//! The first of these that names any host or role wins: the task's own arguments
//! (`deploy:hosts=a;b`, or `execute`'s options), its `@hosts`/`@roles` tags, `-H`/`-R`, and
//! finally `env.hosts`/`env.roles`. Roles expand through `env.roledefs`, whose entries are a
//! list of hosts or a map with `hosts` and per-role settings (`user`, `port`, any key).
//! The result is deduplicated in order, minus `-x`, the task's `exclude_hosts` and
//! `env.exclude_hosts`.

use rhai::{Dynamic, Map};

use crate::error::{Error, Result};
use crate::script::decorators::Tags;
use crate::script::env;
use crate::script::runtime::Runtime;
use crate::ssh::target::Target;

/// Hosts, roles and exclusions named at one level of precedence.
#[derive(Clone, Debug, Default)]
pub(crate) struct Selection {
    pub(crate) hosts: Vec<String>,
    pub(crate) roles: Vec<String>,
    pub(crate) exclude_hosts: Vec<String>,
}

impl Selection {
    fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.roles.is_empty()
    }
}

pub(crate) fn resolve(own: &Selection, tags: &Tags, runtime: &Runtime) -> Result<Vec<Target>> {
    let env = &runtime.env;
    let tagged = Selection {
        hosts: tags.hosts.clone(),
        roles: tags.roles.clone(),
        exclude_hosts: Vec::new(),
    };
    let cli_hosts = runtime.cli();
    let cli = Selection {
        hosts: cli_hosts.hosts,
        roles: cli_hosts.roles,
        exclude_hosts: Vec::new(),
    };
    let from_env = Selection {
        hosts: env.strings("hosts")?,
        roles: env.strings("roles")?,
        exclude_hosts: Vec::new(),
    };
    let chosen = [own, &tagged, &cli, &from_env]
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or(&from_env);

    let mut candidates: Vec<(String, Map)> = chosen
        .hosts
        .iter()
        .map(|h| (h.clone(), Map::new()))
        .collect();
    for role in &chosen.roles {
        candidates.extend(role_hosts(role, env)?);
    }
    let excluded: Vec<String> = [
        own.exclude_hosts.clone(),
        cli_hosts.exclude_hosts,
        env.strings("exclude_hosts")?,
    ]
    .concat();

    let mut targets: Vec<Target> = Vec::new();
    for (host, settings) in candidates {
        if excluded.contains(&host) || targets.iter().any(|t| t.host_string == host) {
            continue;
        }
        targets.push(Target::new(&host, settings, |key| {
            runtime.host_setting(key)
        })?);
    }
    Ok(targets)
}

/// The hosts of one role, each with the role's settings.
fn role_hosts(role: &str, env: &env::Env) -> Result<Vec<(String, Map)>> {
    let roledefs = match env.get("roledefs") {
        None => Map::new(),
        Some(v) if v.is_unit() => Map::new(),
        Some(v) => v.try_cast::<Map>().ok_or_else(|| Error::EnvType {
            key: "roledefs".into(),
            expected: "a map of role names to hosts",
            found: "another type".into(),
        })?,
    };
    let Some(definition) = roledefs.get(role).cloned() else {
        return Err(Error::UnknownRole {
            role: role.into(),
            known: roledefs.keys().map(ToString::to_string).collect(),
        });
    };
    let key = format!("roledefs.{role}");
    let (hosts, settings) = match definition.clone().try_cast::<Map>() {
        Some(mut map) => {
            let hosts = map.remove("hosts").unwrap_or(Dynamic::UNIT);
            (env::strings(&format!("{key}.hosts"), hosts)?, map)
        }
        None => (env::strings(&key, definition)?, Map::new()),
    };
    Ok(hosts.into_iter().map(|h| (h, settings.clone())).collect())
}
