//! The connections of a run: one per host, opened on first use and reused by every command
//! and task until the run ends.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use crate::output::Output;
use crate::ssh::connection::Connection;
use crate::ssh::credentials::Credentials;
use crate::ssh::error::Error;
use crate::ssh::options::SshOptions;
use crate::ssh::target::Target;

/// The connections open, by `user@host:port`; each with the host string that opened it.
type Open = HashMap<String, (String, Arc<Mutex<Connection>>)>;

#[derive(Default)]
pub(crate) struct Connections {
    open: Mutex<Open>,
    /// Config warnings said already: each once per run, not once per host.
    warned: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("open", &self.keys())
            .finish()
    }
}

impl Connections {
    /// The connection to `target`, opening it if this is its first use.
    pub(crate) fn get(
        &self,
        target: &Target,
        options: &SshOptions,
        credentials: &Credentials,
        output: &Output,
        may_ask: bool,
    ) -> Result<Arc<Mutex<Connection>>, Error> {
        let key = Self::key(target);
        if let Some((_, connection)) = self.lock().get(&key) {
            return Ok(connection.clone());
        }
        // A key named outright that is not there is a mistake the login failure, if any,
        // would not show: the other keys are tried and may well let rfab in.
        for key in target.key_files.iter().filter(|k| !k.exists()) {
            self.warn_once(
                output,
                &format!(
                    "key_filename `{}` does not exist; trying the other keys",
                    key.display()
                ),
            );
        }
        // Connect without holding the map: other hosts connect at the same time.
        let connection = Connection::open(target, options, credentials, may_ask)?;
        for warning in &connection.warnings {
            self.warn_once(output, warning);
        }
        if let Some(file) = &connection.added_key {
            output.warning(
                Some(&target.host_string),
                &format!("added the host key to `{}`", file.display()),
            );
        }
        let connection = (target.host_string.clone(), Arc::new(Mutex::new(connection)));
        Ok(self.lock().entry(key).or_insert(connection).1.clone())
    }

    fn warn_once(&self, output: &Output, warning: &str) {
        if self
            .warned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(warning.to_owned())
        {
            output.warning(None, warning);
        }
    }

    /// Drops the connection to `target` after it broke, so that the next use reconnects.
    pub(crate) fn forget(&self, target: &Target) {
        self.lock().remove(&Self::key(target));
    }

    fn key(target: &Target) -> String {
        format!("{}@{}:{}", target.user, target.host.name, target.port)
    }

    /// Closes every connection, Fabric's way: `Disconnecting from HOST... done.`, HOST as
    /// the host's lines name it (`web1`, not the `user@address:port` an alias stands for).
    pub(crate) fn close_all(&self, output: &Output) {
        let mut open: Vec<_> = self.lock().drain().collect();
        open.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, (name, connection)) in open {
            let connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
            // Without waiting: a host that stopped answering must not hold up the exit.
            connection.session.set_blocking(false);
            let _ = connection.session.disconnect(None, "rfab is done", None);
            output.disconnected(&name);
        }
    }

    fn keys(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
