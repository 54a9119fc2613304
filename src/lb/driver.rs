//! What every load-balancer driver does: report the servers of one backend, change their
//! states, say whether servers coming back pass their health checks, and, where the load
//! balancer keeps them, give each server's traffic counters.

use crate::lb::Error;
use std::collections::BTreeMap;
use std::time::Instant;

/// A load balancer's backend (HAProxy), upstream (nginx) or anything a command can drive.
pub(crate) trait Driver: Send + Sync + std::fmt::Debug {
    /// The backend, for messages: "HAProxy backend `web`".
    fn name(&self) -> String;

    /// The backend's servers, asked of the load balancer now.
    fn servers(&self) -> Result<Vec<Server>, Error>;

    /// Sets each server to its state, as one change where the load balancer allows it.
    fn set(&self, changes: &[(&str, State)]) -> Result<(), Error>;

    /// Readies `servers`, just set to drain on their way back, for their health check:
    /// after this, only checks made from now on may count (leaving maintenance, HAProxy
    /// reports the health from before it).
    fn prepare_return(&self, _servers: &[&str]) -> Result<(), Error> {
        Ok(())
    }

    /// Whether each of `servers`, out of rotation since `since` (set to drain to come
    /// back), passes its health checks now.
    fn health(&self, servers: &[Server], since: Instant) -> Result<Vec<Health>, Error>;

    /// Each server's cumulative counters by name, where the load balancer keeps them per
    /// server (HAProxy); `None` where it does not (nginx, commands): the watch then probes
    /// a page through the balancer instead.
    fn counters(&self) -> Result<Option<BTreeMap<String, Counters>>, Error> {
        Ok(None)
    }
}

/// A server's traffic since the load balancer started or last cleared its counters:
/// both only grow until then.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    /// Requests sent to it, and requests that could not reach it.
    pub(crate) requests: u64,
    /// Of those, the ones that failed: 5xx answers, broken answers, failed connections.
    pub(crate) errors: u64,
}

impl Counters {
    /// The traffic since `before`. Counters that went down were reset (a reload, `clear
    /// counters`): everything they count now came after `before`.
    pub(crate) fn since(self, before: Self) -> Self {
        if self.requests < before.requests || self.errors < before.errors {
            return self;
        }
        Self {
            requests: self.requests - before.requests,
            errors: self.errors - before.errors,
        }
    }
}

/// One server of the backend, as the load balancer reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Server {
    pub(crate) name: String,
    /// The load balancer's own word for its state (HAProxy: `UP`, `DOWN`, `MAINT`, `DRAIN`...).
    pub(crate) status: String,
    pub(crate) rotation: Rotation,
    /// Sessions open right now (0 where the load balancer does not tell).
    pub(crate) sessions: u64,
    /// The last health check's result (HAProxy: `L7OK`, `L4CON`, ...), if any.
    pub(crate) check: String,
}

/// Where a server stands, whatever the load balancer calls it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rotation {
    /// Taking traffic, and passing its health checks.
    Live,
    /// Out of rotation on purpose, finishing its open sessions.
    Draining,
    /// Out of rotation on purpose.
    Maint,
    /// Meant to be live, but failing its health checks.
    Failing,
    /// Meant to be live; no health check has run since it came back.
    Pending,
}

impl Server {
    pub(crate) fn is_live(&self) -> bool {
        self.rotation == Rotation::Live
    }

    /// Out of rotation on purpose: in maintenance or draining.
    pub(crate) fn is_out(&self) -> bool {
        matches!(self.rotation, Rotation::Maint | Rotation::Draining)
    }

    /// In maintenance: out, with no session left.
    pub(crate) fn is_maint(&self) -> bool {
        self.rotation == Rotation::Maint
    }
}

/// The administrative states a driver sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// In rotation.
    Ready,
    /// No new sessions; open ones finish (health checks go on).
    Drain,
    /// Out of rotation.
    Maint,
}

impl State {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Drain => "drain",
            Self::Maint => "maint",
        }
    }
}

/// A server's health check, as far as it is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Health {
    Passing,
    /// Failing, and why.
    Failing(String),
    /// No result yet.
    Pending,
}
