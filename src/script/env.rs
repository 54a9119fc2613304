//! Fabric's `env`: one map shared by every task, function, module and closure of a run.
//!
//! Scripts see it through [`EnvView`], which adds the keys that belong to the host being
//! worked on (`host_string`, `host`, `address`, `user`, `port`, and per-role settings). Those
//! come from the call's [`Target`], never from the shared map, so parallel hosts cannot see
//! each other's values.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use rhai::{Array, Dynamic, Map};

use crate::error::{Error, Result};
use crate::ssh::ssh_config::HostConfig;
use crate::ssh::target::Target;

/// The keys that describe the current host; read-only while a task runs on a host.
pub(crate) const HOST_KEYS: [&str; 5] = ["host_string", "host", "address", "user", "port"];

#[derive(Clone, Debug, Default)]
pub(crate) struct Env(Arc<RwLock<Map>>);

impl Env {
    pub(crate) fn get(&self, key: &str) -> Option<Dynamic> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    pub(crate) fn set(&self, key: &str, value: Dynamic) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.into(), value);
    }

    pub(crate) fn snapshot(&self) -> Map {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A list of strings (`env.hosts`, `env.roles`, ...): an array, one string, or nothing.
    pub(crate) fn strings(&self, key: &str) -> Result<Vec<String>> {
        strings(key, self.get(key).unwrap_or(Dynamic::UNIT))
    }
}

/// Interprets a script value as a list of strings, naming `key` when it is not one.
pub(crate) fn strings(key: &str, value: Dynamic) -> Result<Vec<String>> {
    let type_error = |found: &Dynamic| Error::EnvType {
        key: key.into(),
        expected: "a list of strings",
        found: found.type_name().into(),
    };
    if value.is_unit() {
        return Ok(Vec::new());
    }
    if value.is_string() {
        return Ok(vec![value.into_string().expect("checked")]);
    }
    let Some(items) = value.clone().try_cast::<Array>() else {
        return Err(type_error(&value));
    };
    items
        .into_iter()
        .map(|item| item.clone().into_string().map_err(|_| type_error(&item)))
        .collect()
}

pub(crate) fn truthy(value: &Dynamic) -> bool {
    if let Ok(b) = value.as_bool() {
        return b;
    }
    if let Ok(s) = value.as_immutable_string_ref() {
        return !matches!(s.as_str(), "" | "false" | "0" | "no");
    }
    !value.is_unit()
}

/// `env` as one script call sees it: the shared map, plus the current host's keys.
#[derive(Clone, Debug)]
pub(crate) struct EnvView {
    pub(crate) env: Env,
    /// The running task, shown as `env.command` as in Fabric.
    pub(crate) task: Option<Arc<str>>,
    pub(crate) target: Option<Arc<Target>>,
    /// The keys of the `settings(#{...}, ...)` in force, read before everything else, as
    /// Fabric's `settings()` changed `env` for its block.
    pub(crate) overrides: Map,
    /// The SSH config (`--ssh-config-path`, `env.ssh_config_path`): `env.user` and
    /// `env.port` where rfab's settings name none, and `env.address` (the host's `HostName`).
    pub(crate) ssh_config: Option<PathBuf>,
    /// `env.cwd` and `env.lcwd`: the directories of the `cd` and `lcd` in force, as in
    /// Fabric (`""` outside any).
    pub(crate) dirs: (String, String),
}

impl EnvView {
    pub(crate) fn get(&self, key: &str) -> Dynamic {
        if let (Some(task), "command") = (&self.task, key) {
            return task.as_ref().into();
        }
        if let Some(value) = self.overrides.get(key)
            && !HOST_KEYS.contains(&key)
        {
            return value.clone();
        }
        match key {
            "cwd" => return self.dirs.0.as_str().into(),
            "lcwd" => return self.dirs.1.as_str().into(),
            _ => {}
        }
        if let Some(target) = &self.target {
            match key {
                "host_string" => return target.host_string.as_str().into(),
                "host" => return target.host.name.as_str().into(),
                // What rfab connects to: an alias's `HostName`, asked of the SSH config as a
                // connection does, so a setting can reach the host where its name does not
                // resolve (`health_url: "http://{address}:8080/health"`).
                "address" => {
                    return HostConfig::resolve(target, self.ssh_config.as_deref())
                        .hostname
                        .into();
                }
                "user" => return target.login(self.ssh_config.as_deref()).0.into(),
                "port" => {
                    let port = target.login(self.ssh_config.as_deref()).1;
                    return Dynamic::from_int(i64::from(port));
                }
                _ => {}
            }
            if let Some(value) = target.settings.get(key) {
                return value.clone();
            }
        }
        self.env.get(key).unwrap_or(Dynamic::UNIT)
    }

    pub(crate) fn set(&self, key: &str, value: Dynamic) -> std::result::Result<(), HostKey> {
        if self.target.is_some() && matches!(key, "host_string" | "host" | "address") {
            return Err(HostKey(key.to_owned()));
        }
        self.env.set(key, value);
        Ok(())
    }

    /// Every key: the shared map with the current host's keys laid over it.
    pub(crate) fn to_map(&self) -> Map {
        let mut map = self.env.snapshot();
        if let Some(target) = &self.target {
            map.extend(target.settings.clone());
            for key in HOST_KEYS {
                map.insert(key.into(), self.get(key));
            }
        }
        for (key, value) in &self.overrides {
            if !HOST_KEYS.contains(&key.as_str()) {
                map.insert(key.clone(), value.clone());
            }
        }
        map
    }
}

/// `env.host`, `env.host_string` or `env.address` set inside a task: they name the host it
/// runs on.
#[derive(Debug, thiserror::Error)]
#[error(
    "`env.{0}` names the host this task runs on and cannot be changed here; \
     use `execute(task, [], #{{ hosts: [...] }})` to run a task on other hosts"
)]
pub(crate) struct HostKey(String);
