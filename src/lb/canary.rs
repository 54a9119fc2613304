//! A canary: a few servers of the group out of rotation go live beside the live group for a
//! watch, then out again, whatever the verdict; a failed one stops there.
//!
//! Nothing remembers a canary: asked of the load balancer, a canary is a live server of a
//! group whose other servers are out, while another group is wholly live.

use super::driver::Server;
use super::watch::{Observer, Outcome, Watch};
use super::{Error, LoadBalancer};

impl LoadBalancer {
    /// Brings the first `count` servers of the out group live beside the live group (only
    /// if they pass their health checks), watches them, and takes them out again: their
    /// names when they passed, an error saying what was seen when they failed.
    pub(crate) fn canary(
        &self,
        count: usize,
        watch: &Watch,
        say: &dyn Fn(&str),
        observer: &dyn Observer,
    ) -> Result<Vec<String>, Error> {
        if watch.window.is_zero() {
            return Err(Error::State(
                "a canary needs the watch, which is off (`watch` is 0): give it a number of seconds".into(),
            ));
        }
        let out = self.out_group()?;
        let members = self.members(&out)?;
        if count == 0 || count >= members.len() {
            return Err(Error::State(format!(
                "a canary is at least one server of {out}, the group out of rotation, and fewer than all {} of them, not {count}",
                members.len()
            )));
        }
        let canaries = members[..count].to_vec();
        let baseline = self.watch_from(watch)?;
        if baseline.is_blind() && watch.url.is_none() && !self.dry_run {
            return Err(Error::State(format!(
                "cannot watch a canary: the {} counts no requests per server; give the watch a page to request through it (`watch_url`)",
                self.driver.name()
            )));
        }
        self.bring_in(&canaries, say)?;
        let outcome = self.observe(&canaries, "canary", &baseline, watch, say, observer);
        let named = self.named(&canaries);
        let back = self.take_out(&canaries, say);
        match (outcome?, back) {
            (Some(Outcome::Interrupted(seen)), back) => Err(Error::Interrupted(format!(
                "interrupted while watching the canary {named} ({seen}); {}",
                match back {
                    Ok(_) => "it is out again".to_owned(),
                    Err(Error::Interrupted(_)) => {
                        "it is out again, without waiting for its open sessions".to_owned()
                    }
                    Err(e) => format!("taking it out again failed: {e}"),
                }
            ))),
            (Some(Outcome::Failed(verdict)), back) => Err(Error::Watch(format!(
                "the canary failed: {}; {}",
                verdict.text,
                match back {
                    Ok(_) => format!(
                        "it is out again, and the live group serves as before: deploy a release that works to {out}"
                    ),
                    Err(e) => format!("taking it out again failed: {e}"),
                }
            ))),
            (_, Err(e)) => Err(e),
            (_, Ok(_)) => Ok(canaries),
        }
    }

    /// The canaries among `servers`: live, in a group whose other servers are out, while
    /// another group is wholly live.
    pub(crate) fn canaries(&self, servers: &[Server]) -> Vec<String> {
        let state = |name: &String| servers.iter().find(|s| s.name == *name);
        let wholly_live = |group: &str| {
            self.groups.get(group).is_some_and(|members| {
                !members.is_empty()
                    && members
                        .iter()
                        .all(|m| state(m).is_some_and(Server::is_live))
            })
        };
        servers
            .iter()
            .filter(|s| s.is_live())
            .filter(|s| {
                let Some(group) = self.group_of(&s.name) else {
                    return false;
                };
                let partly_out = self.groups[&group]
                    .iter()
                    .any(|m| state(m).is_some_and(Server::is_out));
                partly_out && self.groups.keys().any(|g| *g != group && wholly_live(g))
            })
            .map(|s| s.name.clone())
            .collect()
    }
}
