//! Groups of web nodes behind a load balancer, and moving them in and out of rotation.
//!
//! What the operations guarantee: they never leave zero servers live; they bring a group
//! live only when all its servers pass their health checks (and put back what they changed
//! when one does not); they take a group out by draining it first, waiting until its open
//! sessions end (or `drain_timeout`), then putting it in maintenance. Which group is out is
//! asked of the load balancer every time, never remembered.
//!
//! Each operation says what it switched (`Switch`), so that the servers it brought live can
//! be watched and the switch undone when they fail (`watch.rs`); `canary.rs` tries a few
//! servers of the out group beside the live one.

pub(crate) mod canary;
pub(crate) mod command;
pub(crate) mod driver;
pub(crate) mod error;
pub(crate) mod haproxy;
pub(crate) mod nginx;
pub(crate) mod probe;
pub(crate) mod shell;
pub(crate) mod watch;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use driver::{Driver, Health, Rotation, Server, State};
pub(crate) use error::Error;

#[derive(Clone, Debug)]
pub(crate) struct LoadBalancer {
    pub(crate) driver: Arc<dyn Driver>,
    /// Group name to server names (as the backend names them).
    pub(crate) groups: BTreeMap<String, Vec<String>>,
    pub(crate) drain_timeout: Duration,
    pub(crate) health_timeout: Duration,
    /// `--dry-run`: ask the load balancer, say what would change, change nothing.
    pub(crate) dry_run: bool,
    /// Under `--dry-run`, the states the run's operations so far would have set: later
    /// questions (`out_group` after `only`) get the answers the real run would get.
    pub(crate) planned: Plan,
}

/// Planned server states of a dry run, by `backend/server`, shared by the whole run.
pub(crate) type Plan = Arc<Mutex<BTreeMap<String, State>>>;

/// What an operation changed: the servers it brought live and those it took out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Switch {
    pub(crate) live: Vec<String>,
    pub(crate) out: Vec<String>,
}

/// How often a wait asks the load balancer again.
const POLL: Duration = Duration::from_millis(100);

impl LoadBalancer {
    /// Every server of the backend with the group it is in, and whether it is a canary; in
    /// a dry run, as the run's operations so far would have left them.
    pub(crate) fn status(&self) -> Result<Vec<(Option<String>, Server, bool)>, Error> {
        let servers = self.servers()?;
        let canaries = self.canaries(&servers);
        Ok(servers
            .into_iter()
            .map(|s| {
                let canary = canaries.contains(&s.name);
                (self.group_of(&s.name), s, canary)
            })
            .collect())
    }

    /// The groups all of whose servers are live.
    pub(crate) fn live_groups(&self) -> Result<Vec<String>, Error> {
        let servers = self.servers()?;
        Ok(self.groups_where(&servers, Server::is_live))
    }

    /// The one group out of rotation (in maintenance); an error when none or several are.
    /// While servers of a group are draining, another rfab may be moving it: this waits for
    /// that to end, and says how to settle them if it never does.
    pub(crate) fn out_group(&self) -> Result<String, Error> {
        let servers = self.settled()?;
        let out = self.groups_where(&servers, Server::is_maint);
        match out.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(Error::State(format!(
                "no group is out of rotation ({}); take one out first, e.g. with only()",
                describe(&servers)
            ))),
            many => Err(Error::State(format!(
                "several groups are out of rotation ({}): {}",
                many.join(", "),
                describe(&servers)
            ))),
        }
    }

    /// The servers once none of the groups' is draining. An rfab operation keeps a server
    /// draining for at most `drain_timeout` (taking it out) or `health_timeout` (bringing it
    /// back): still draining after both, it was left so, by an operation that was interrupted
    /// or failed half-way (say, the load balancer went away under it), and waiting longer
    /// would not help.
    fn settled(&self) -> Result<Vec<Server>, Error> {
        let patience = self.drain_timeout + self.health_timeout + Duration::from_secs(1);
        let deadline = Instant::now() + patience;
        loop {
            let servers = self.servers()?;
            let draining: Vec<String> = servers
                .iter()
                .filter(|s| s.rotation == Rotation::Draining && self.group_of(&s.name).is_some())
                .map(|s| s.name.clone())
                .collect();
            if draining.is_empty() {
                return Ok(servers);
            }
            if crate::signals::interrupted() {
                return Err(Error::Interrupted(format!(
                    "interrupted while waiting for {} to stop draining; nothing was changed",
                    list(&draining)
                )));
            }
            if Instant::now() >= deadline {
                return Err(Error::State(format!(
                    "{} of {} still draining after {}s, longer than any rfab operation keeps a \
                     server draining: an earlier one was interrupted or failed half-way ({})\n\
                     hint: put the groups in a definite state with `lb.all()` (all live) or \
                     `lb.only(GROUP)` (as `rfab prod proxy.all` or `rfab prod proxy.groupN` do \
                     with the root fabfile), then run this again",
                    list(&draining),
                    self.groups_of(&draining),
                    patience.as_secs(),
                    describe(&servers)
                )));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Makes `group` the only one live: it comes in (healthy, or nothing changes), then the
    /// others drain and go to maintenance.
    pub(crate) fn only(&self, group: &str, say: &dyn Fn(&str)) -> Result<Switch, Error> {
        let members = self.members(group)?;
        let live = self.bring_in(&members, say)?;
        let others: Vec<String> = self
            .groups
            .iter()
            .filter(|(name, _)| *name != group)
            .flat_map(|(_, servers)| servers.clone())
            .collect();
        let out = self.take_out(&others, say)?;
        Ok(Switch { live, out })
    }

    /// Swaps the live group and the out one; exactly one of each is needed.
    pub(crate) fn flip(&self, say: &dyn Fn(&str)) -> Result<(String, Switch), Error> {
        let out = self.out_group()?;
        let live = self.live_groups()?;
        if live.len() != 1 {
            return Err(Error::State(format!(
                "flip needs one live group and one out, but live are: {}",
                list(&live)
            )));
        }
        let switch = self.only(&out, say)?;
        Ok((out, switch))
    }

    /// Brings every group live (each one healthy, or nothing changes).
    pub(crate) fn all(&self, say: &dyn Fn(&str)) -> Result<Switch, Error> {
        let everyone: Vec<String> = self.groups.values().flatten().cloned().collect();
        let live = self.bring_in(&everyone, say)?;
        Ok(Switch {
            live,
            out: Vec::new(),
        })
    }

    /// Sets one server's state; refuses to take out the last live server.
    pub(crate) fn set(&self, server: &str, state: State, say: &dyn Fn(&str)) -> Result<(), Error> {
        let servers = self.servers()?;
        let Some(current) = servers.iter().find(|s| s.name == server) else {
            return Err(Error::Refused(format!(
                "the {} has no server `{server}` ({})",
                self.driver.name(),
                describe(&servers)
            )));
        };
        if state != State::Ready
            && self.serving(current)
            && servers.iter().filter(|s| self.serving(s)).count() == 1
        {
            return Err(Error::Refused(format!(
                "refusing to take `{server}` out: it is the last live server"
            )));
        }
        if self.dry_run {
            self.plan(&[server], state);
        } else {
            self.driver.set(&[(server, state)])?;
        }
        say(&format!(
            "{server}: {} -> {}{}",
            current.status,
            state.name(),
            self.dry_note()
        ));
        Ok(())
    }

    /// Brings `servers` back into rotation only once each has passed a fresh health check:
    /// they go to `drain` first (checked, but sent no traffic), and to `ready` when all pass.
    /// If one fails, or none says within `health_timeout`, they all go back to maintenance.
    /// The servers it brought in: those of `servers` that were out.
    fn bring_in(&self, servers: &[String], say: &dyn Fn(&str)) -> Result<Vec<String>, Error> {
        let before = self.servers()?;
        let changed: Vec<&Server> = before
            .iter()
            .filter(|s| servers.contains(&s.name) && s.is_out())
            .collect();
        let names: Vec<&str> = changed.iter().map(|s| s.name.as_str()).collect();
        if self.dry_run {
            self.report(&changed, State::Ready, say);
            self.plan(&names, State::Ready);
            return Ok(owned(&names));
        }
        self.driver.set(&changes(&names, State::Drain))?;
        self.driver.prepare_return(&names)?;
        let started = Instant::now();
        let deadline = started + self.health_timeout;
        loop {
            let now = self.servers()?;
            let checked: Vec<Server> = now
                .into_iter()
                .filter(|s| names.contains(&s.name.as_str()))
                .collect();
            let health = self.driver.health(&checked, started)?;
            if health.iter().all(|h| *h == Health::Passing) {
                self.driver.set(&changes(&names, State::Ready))?;
                self.report(&changed, State::Ready, say);
                return Ok(owned(&names));
            }
            let failing: Vec<String> = checked
                .iter()
                .zip(&health)
                .filter_map(|(s, h)| match h {
                    Health::Failing(why) => Some(format!("{}: {why}", s.name)),
                    _ => None,
                })
                .collect();
            if crate::signals::interrupted() {
                self.driver.set(&changes(&names, State::Maint))?;
                return Err(Error::Interrupted(format!(
                    "interrupted while {} was being checked; it is back in maintenance",
                    self.groups_of(servers)
                )));
            }
            if Instant::now() >= deadline || !failing.is_empty() {
                self.driver.set(&changes(&names, State::Maint))?;
                let failing = if failing.is_empty() {
                    "no health check result in time".to_owned()
                } else {
                    failing.join(", ")
                };
                return Err(Error::Refused(format!(
                    "refusing to bring {} live: not all of it passes its health checks ({failing}); nothing else was changed",
                    self.groups_of(servers),
                )));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Drains the live ones of `servers`, waits for their sessions to end (or the drain
    /// timeout), then puts them in maintenance. Never leaves zero web nodes live. The servers
    /// it took out: those of `servers` that were not in maintenance.
    fn take_out(&self, servers: &[String], say: &dyn Fn(&str)) -> Result<Vec<String>, Error> {
        let now = self.servers()?;
        let staying = now
            .iter()
            .filter(|s| self.serving(s) && !servers.contains(&s.name))
            .count();
        if staying == 0 {
            return Err(Error::Refused(format!(
                "refusing to take {} out: no other server would be live",
                self.groups_of(servers)
            )));
        }
        let leaving: Vec<&Server> = now
            .iter()
            .filter(|s| servers.contains(&s.name) && s.rotation != Rotation::Maint)
            .collect();
        let names: Vec<&str> = leaving.iter().map(|s| s.name.as_str()).collect();
        if self.dry_run {
            self.report(&leaving, State::Maint, say);
            self.plan(&names, State::Maint);
            return Ok(owned(&names));
        }
        self.driver.set(&changes(&names, State::Drain))?;
        let deadline = Instant::now() + self.drain_timeout;
        let interrupted = loop {
            let sessions: u64 = self
                .driver
                .servers()?
                .iter()
                .filter(|s| leaving.iter().any(|l| l.name == s.name))
                .map(|s| s.sessions)
                .sum();
            let interrupted = crate::signals::interrupted();
            if sessions == 0 || Instant::now() >= deadline || interrupted {
                if sessions > 0 && !interrupted {
                    say(&format!(
                        "{sessions} sessions still open after {}s of draining",
                        self.drain_timeout.as_secs()
                    ));
                }
                break interrupted;
            }
            std::thread::sleep(POLL);
        };
        self.driver.set(&changes(&names, State::Maint))?;
        self.report(&leaving, State::Maint, say);
        if interrupted {
            return Err(Error::Interrupted(format!(
                "interrupted while {} drained; it went to maintenance without waiting for its sessions",
                self.groups_of(servers)
            )));
        }
        Ok(owned(&names))
    }

    /// The backend's servers as the load balancer reports them, with the dry run's
    /// planned states over them.
    fn servers(&self) -> Result<Vec<Server>, Error> {
        let mut servers = match self.driver.servers() {
            Ok(servers) => servers,
            // A dry run changes nothing, so it may plan without the balancer (a fleet not
            // built yet, placeholders): from every server live, marked as not asked.
            Err(Error::Balancer(_)) if self.dry_run => self.not_asked(),
            Err(error) => return Err(error),
        };
        let planned = self.planned.lock().unwrap_or_else(PoisonError::into_inner);
        for server in &mut servers {
            if let Some(state) = planned.get(&self.plan_key(&server.name)) {
                let (status, rotation) = match state {
                    State::Ready => ("UP", Rotation::Live),
                    State::Drain => ("DRAIN", Rotation::Draining),
                    State::Maint => ("MAINT", Rotation::Maint),
                };
                status.clone_into(&mut server.status);
                server.rotation = rotation;
            }
        }
        Ok(servers)
    }

    /// Every server of the groups, live, its status saying the balancer was not asked.
    fn not_asked(&self) -> Vec<Server> {
        self.groups
            .values()
            .flatten()
            .map(|name| Server {
                name: name.clone(),
                status: "UP (not asked: dry run)".to_owned(),
                rotation: Rotation::Live,
                sessions: 0,
                check: String::new(),
            })
            .collect()
    }

    fn plan(&self, servers: &[&str], state: State) {
        let mut planned = self.planned.lock().unwrap_or_else(PoisonError::into_inner);
        for server in servers {
            planned.insert(self.plan_key(server), state);
        }
    }

    fn plan_key(&self, server: &str) -> String {
        format!("{}/{server}", self.driver.name())
    }

    /// Says what changed (or, in a dry run, would have): `web1: UP -> maint (group1)`.
    fn report(&self, servers: &[&Server], state: State, say: &dyn Fn(&str)) {
        for server in servers {
            say(&format!(
                "{}: {} -> {} ({}){}",
                server.name,
                server.status,
                state.name(),
                self.group_label(&server.name),
                self.dry_note()
            ));
        }
    }

    fn dry_note(&self) -> &'static str {
        if self.dry_run {
            " (dry run: not changed)"
        } else {
            ""
        }
    }

    /// Live and in a group: a web node serving the site. A server in no group (a backup
    /// "sorry" page, say) does not count as keeping the site up.
    fn serving(&self, server: &Server) -> bool {
        server.is_live() && self.group_of(&server.name).is_some()
    }

    fn members(&self, group: &str) -> Result<Vec<String>, Error> {
        self.groups.get(group).cloned().ok_or_else(|| {
            Error::State(format!(
                "no group `{group}` (groups: {})",
                list(&self.groups.keys().cloned().collect::<Vec<_>>())
            ))
        })
    }

    fn group_of(&self, server: &str) -> Option<String> {
        self.groups
            .iter()
            .find(|(_, members)| members.iter().any(|m| m == server))
            .map(|(g, _)| g.clone())
    }

    fn group_label(&self, server: &str) -> String {
        self.group_of(server).unwrap_or_else(|| "no group".into())
    }

    /// `group1`, or `group1 and group2`: the groups `servers` belong to.
    fn groups_of(&self, servers: &[String]) -> String {
        let mut groups: Vec<String> = servers.iter().filter_map(|s| self.group_of(s)).collect();
        groups.dedup();
        groups.join(" and ")
    }

    fn groups_where(&self, servers: &[Server], test: fn(&Server) -> bool) -> Vec<String> {
        self.groups
            .iter()
            .filter(|(_, members)| {
                !members.is_empty()
                    && members
                        .iter()
                        .all(|m| servers.iter().any(|s| s.name == *m && test(s)))
            })
            .map(|(g, _)| g.clone())
            .collect()
    }
}

fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

fn changes<'a>(servers: &[&'a str], state: State) -> Vec<(&'a str, State)> {
    servers.iter().map(|s| (*s, state)).collect()
}

fn describe(servers: &[Server]) -> String {
    servers
        .iter()
        .map(|s| format!("{} {}", s.name, s.status))
        .collect::<Vec<_>>()
        .join(", ")
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}
