//! The watch after a switch: the servers an operation just brought live are watched for a
//! while through the load balancer's own counters (or, where it keeps none per server,
//! pages requested through it), and when they go down or fail too many requests, the
//! group live before comes back and they go out again.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;

use super::driver::{Counters, Rotation, Server};
use super::probe::Probe;
use super::{Error, LoadBalancer, Switch};

/// How long and how strictly to watch.
#[derive(Clone, Debug)]
pub(crate) struct Watch {
    /// How long; zero turns the watch off.
    pub(crate) window: Duration,
    /// The share of failed requests above which the servers fail (0.01: 1 %).
    pub(crate) max_error_rate: f64,
    /// Fewer requests than this are too few to judge by their error rate.
    pub(crate) min_requests: u64,
    /// A page to request through the balancer, for drivers that count nothing per server.
    pub(crate) url: Option<String>,
}

/// Where the watch tells how it goes: a line about once a second, and its verdict.
pub(crate) trait Observer {
    fn tick(&self, tick: &Tick);
    fn verdict(&self, verdict: &Verdict);
    fn warning(&self, text: &str);
}

/// How often the watch asks the load balancer (and probes, where it does).
const POLL: Duration = Duration::from_millis(200);

/// The traffic of one group (or, probing, of the whole balancer) since the switch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Traffic {
    /// `group1`, or `http://.../` for probes.
    pub(crate) label: String,
    /// `new` (brought live by the switch), `canary`, `live` (live before), or `probes`.
    pub(crate) role: &'static str,
    pub(crate) requests: u64,
    pub(crate) errors: u64,
}

/// The watch so far: a line about once a second.
#[derive(Clone, Debug)]
pub(crate) struct Tick {
    pub(crate) elapsed: Duration,
    pub(crate) window: Duration,
    pub(crate) traffic: Vec<Traffic>,
}

/// How the watch ended.
#[derive(Clone, Debug)]
pub(crate) struct Verdict {
    pub(crate) passed: bool,
    /// The servers watched, and their groups for messages.
    pub(crate) servers: Vec<String>,
    pub(crate) requests: u64,
    pub(crate) errors: u64,
    /// What was seen: `web1 and web2 (group1) served 612 requests, 0 failed (0.00%)`.
    pub(crate) text: String,
}

/// What the watch counts from: the counters before the switch.
pub(crate) struct Baseline(Option<BTreeMap<String, Counters>>);

impl Baseline {
    /// No counters: the watch off, a dry run, or a driver that keeps none per server.
    pub(crate) fn is_blind(&self) -> bool {
        self.0.is_none()
    }
}

/// The watched servers' judgement, or why there was none.
pub(crate) enum Outcome {
    Passed,
    Failed(Verdict),
    Interrupted(String),
}

impl LoadBalancer {
    /// Before a switch: the counters the watch counts from. A server out of rotation serves
    /// nothing, so the counters now are those at the moment it comes in.
    pub(crate) fn watch_from(&self, watch: &Watch) -> Result<Baseline, Error> {
        if watch.window.is_zero() || self.dry_run {
            return Ok(Baseline(None));
        }
        Ok(Baseline(self.driver.counters()?))
    }

    /// After a switch: watches the servers it brought live for `watch.window`. When they
    /// fail, the servers it took out come back (only if they pass their health checks) and
    /// those it brought in go out; the error says what was seen and done.
    pub(crate) fn watch(
        &self,
        switch: &Switch,
        baseline: &Baseline,
        watch: &Watch,
        say: &dyn Fn(&str),
        observer: &dyn Observer,
    ) -> Result<(), Error> {
        let Some(outcome) = self.observe(&switch.live, "new", baseline, watch, say, observer)?
        else {
            return Ok(());
        };
        match outcome {
            Outcome::Passed => Ok(()),
            Outcome::Interrupted(seen) => Err(Error::Interrupted(format!(
                "interrupted while watching {} ({seen}); it stays live{}, as the switch left it",
                self.named(&switch.live),
                if switch.out.is_empty() {
                    String::new()
                } else {
                    format!(" and {} out", self.groups_of(&switch.out))
                }
            ))),
            Outcome::Failed(verdict) => Err(self.fall_back(switch, &verdict, say)),
        }
    }

    /// The watch failed: the servers taken out by the switch come back (only if healthy),
    /// then the ones it brought live go out.
    fn fall_back(&self, switch: &Switch, verdict: &Verdict, say: &dyn Fn(&str)) -> Error {
        let failed = format!("the watch failed: {}", verdict.text);
        let (new, before) = (self.groups_of(&switch.live), self.groups_of(&switch.out));
        if let Err(refused) = self.bring_in(&switch.out, say) {
            return Error::Watch(format!(
                "{failed}; {before}, live before, cannot come back ({refused}), so {new} stays live and nothing else was changed: fix {before}, or deploy a release that works to {new}"
            ));
        }
        let back = if switch.out.is_empty() {
            "the servers live before serve as they did".to_owned()
        } else {
            format!("{before} is live again")
        };
        match self.take_out(&switch.live, say) {
            Ok(_) => Error::Watch(format!(
                "{failed}; {back} and {new} is out: deploy a release that works to {new} before bringing it live"
            )),
            Err(also) => Error::Watch(format!(
                "{failed}; {back}, but taking {new} out failed: {also}"
            )),
        }
    }

    /// Watches `servers` (`role`: `new` or `canary`) until the verdict. `None` when there
    /// is nothing to watch, the watch is off, or this is a dry run (which says so).
    pub(crate) fn observe(
        &self,
        servers: &[String],
        role: &'static str,
        baseline: &Baseline,
        watch: &Watch,
        say: &dyn Fn(&str),
        observer: &dyn Observer,
    ) -> Result<Option<Outcome>, Error> {
        if servers.is_empty() || watch.window.is_zero() {
            return Ok(None);
        }
        if self.dry_run {
            say(&format!(
                "would watch {} for {}s (dry run)",
                self.named(servers),
                watch.window.as_secs_f64()
            ));
            return Ok(None);
        }
        let probe = match (&baseline.0, &watch.url) {
            (Some(_), _) => None,
            (None, Some(url)) => Some(Probe::parse(url)?),
            (None, None) => {
                observer.warning(&format!(
                    "not watching {}: the {} counts no requests per server; give the watch a page to request through it (`watch_url`), or turn the watch off (`watch` 0)",
                    self.named(servers),
                    self.driver.name()
                ));
                return Ok(None);
            }
        };
        let mut seen = Seen {
            probes: Traffic {
                label: probe
                    .as_ref()
                    .map_or_else(String::new, |p| p.url().to_owned()),
                role: "probes",
                requests: 0,
                errors: 0,
            },
            traffic: Vec::new(),
        };
        let started = Instant::now();
        let mut next_tick = Duration::from_secs(1);
        loop {
            if let Some(probe) = &probe {
                seen.probes.requests += 1;
                seen.probes.errors += u64::from(probe.get().is_err());
            }
            let lost = |e: Error| {
                Error::Balancer(format!(
                    "the watch of {} lost the load balancer ({e}); they stay live, as the switch left them",
                    self.named(servers)
                ))
            };
            let now = self.servers().map_err(lost)?;
            if let Some(counters) = &baseline.0 {
                let current = self.driver.counters().map_err(lost)?.unwrap_or_default();
                seen.traffic = self.traffic(servers, role, &now, counters, &current);
            }
            let elapsed = started.elapsed();
            let (requests, errors) = seen.judged(probe.is_some());
            let counted = Counted {
                requests,
                errors,
                probing: probe.as_ref().map(Probe::url),
                elapsed,
            };
            if let Some(verdict) = self.judge(servers, &now, &counted, watch) {
                observer.verdict(&verdict);
                return Ok(Some(if verdict.passed {
                    Outcome::Passed
                } else {
                    Outcome::Failed(verdict)
                }));
            }
            if crate::signals::interrupted() {
                return Ok(Some(Outcome::Interrupted(format!(
                    "{requests} requests, {errors} failed, after {:.0}s",
                    elapsed.as_secs_f64()
                ))));
            }
            if elapsed >= next_tick {
                next_tick += Duration::from_secs(1);
                observer.tick(&Tick {
                    elapsed,
                    window: watch.window,
                    traffic: seen.shown(probe.is_some()),
                });
            }
            std::thread::sleep(POLL);
        }
    }

    /// The verdict on `servers` (their states `now`, the requests counted), once there is one:
    /// failed as soon as one is down or too many requests failed, passed at the window's end.
    fn judge(
        &self,
        servers: &[String],
        now: &[Server],
        counted: &Counted,
        watch: &Watch,
    ) -> Option<Verdict> {
        let (requests, errors) = (counted.requests, counted.errors);
        let rate = ratio(errors, requests);
        let verdict = |passed: bool, text: String| Verdict {
            passed,
            servers: servers.to_vec(),
            requests,
            errors,
            text,
        };
        let served = match counted.probing {
            None => format!(
                "{} served {requests} requests, {errors} failed ({})",
                self.named(servers),
                percent(rate)
            ),
            Some(url) => format!(
                "with {} live, {requests} requests of {url} through the balancer, {errors} failed ({})",
                self.named(servers),
                percent(rate)
            ),
        };
        let down: Vec<String> = now
            .iter()
            .filter(|s| servers.contains(&s.name) && s.rotation == Rotation::Failing)
            .map(|s| format!("{} is {} {}", s.name, s.status, s.check))
            .collect();
        if !down.is_empty() {
            return Some(verdict(false, format!("{}; {served}", down.join(", "))));
        }
        if requests >= watch.min_requests.max(1) && rate > watch.max_error_rate {
            return Some(verdict(
                false,
                format!(
                    "{served}, more than {} (max_error_rate)",
                    percent(watch.max_error_rate)
                ),
            ));
        }
        if counted.elapsed < watch.window {
            return None;
        }
        let window = watch.window.as_secs_f64();
        Some(verdict(
            true,
            if requests < watch.min_requests {
                format!(
                    "{served} in {window}s: too few to judge (min_requests is {})",
                    watch.min_requests
                )
            } else {
                format!("{served} in {window}s")
            },
        ))
    }

    /// Per group, the traffic of its servers that are live now or watched, since `before`.
    fn traffic(
        &self,
        watched: &[String],
        role: &'static str,
        now: &[Server],
        before: &BTreeMap<String, Counters>,
        current: &BTreeMap<String, Counters>,
    ) -> Vec<Traffic> {
        let mut traffic: Vec<Traffic> = Vec::new();
        for (group, members) in &self.groups {
            let counted: Vec<&String> = members
                .iter()
                .filter(|m| watched.contains(m) || now.iter().any(|s| s.name == **m && s.is_live()))
                .collect();
            if counted.is_empty() {
                continue;
            }
            let is_watched = counted.iter().any(|m| watched.contains(m));
            let mut sum = Traffic {
                label: group.clone(),
                role: if is_watched { role } else { "live" },
                requests: 0,
                errors: 0,
            };
            for member in counted {
                let Some(now) = current.get(member) else {
                    continue;
                };
                let since = now.since(before.get(member).copied().unwrap_or_default());
                if watched.contains(member) || !is_watched {
                    sum.requests += since.requests;
                    sum.errors += since.errors;
                }
            }
            traffic.push(sum);
        }
        traffic
    }

    /// `web1 and web2 (group1)`.
    pub(crate) fn named(&self, servers: &[String]) -> String {
        format!("{} ({})", servers.join(" and "), self.groups_of(servers))
    }
}

/// The requests the verdict is about, so far.
struct Counted<'a> {
    requests: u64,
    errors: u64,
    /// Counted by probes of this page through the balancer, not by its counters.
    probing: Option<&'a str>,
    elapsed: Duration,
}

/// What the watch has counted so far.
struct Seen {
    probes: Traffic,
    traffic: Vec<Traffic>,
}

impl Seen {
    /// The requests and errors the verdict is about: the probes', or the watched servers'.
    fn judged(&self, probing: bool) -> (u64, u64) {
        if probing {
            return (self.probes.requests, self.probes.errors);
        }
        self.traffic
            .iter()
            .filter(|t| t.role != "live")
            .fold((0, 0), |(r, e), t| (r + t.requests, e + t.errors))
    }

    fn shown(&self, probing: bool) -> Vec<Traffic> {
        if probing {
            vec![self.probes.clone()]
        } else {
            self.traffic.clone()
        }
    }
}

impl Tick {
    /// `watch 3s/30s: group1 (new) 512 requests, 0 failed (0.00%); group2 (live) ...`
    pub(crate) fn text(&self) -> String {
        let traffic: Vec<String> = self
            .traffic
            .iter()
            .map(|t| {
                format!(
                    "{} ({}) {} requests, {} failed ({})",
                    t.label,
                    t.role,
                    t.requests,
                    t.errors,
                    percent(ratio(t.errors, t.requests))
                )
            })
            .collect();
        format!(
            "watch {:.0}s/{}s: {}",
            self.elapsed.as_secs_f64(),
            self.window.as_secs_f64(),
            traffic.join("; ")
        )
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        let traffic: Vec<serde_json::Value> = self
            .traffic
            .iter()
            .map(|t| {
                json!({ "group": t.label, "role": t.role, "requests": t.requests, "errors": t.errors,
                        "rate": ratio(t.errors, t.requests) })
            })
            .collect();
        json!({ "seconds": self.elapsed.as_secs_f64(),
                "window": self.window.as_secs_f64(), "traffic": traffic })
    }
}

impl Verdict {
    /// `watch passed: ...` or `watch failed: ...`.
    pub(crate) fn text(&self) -> String {
        format!(
            "watch {}: {}",
            if self.passed { "passed" } else { "failed" },
            self.text
        )
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        json!({ "passed": self.passed, "servers": self.servers,
                "requests": self.requests, "errors": self.errors,
                "rate": ratio(self.errors, self.requests), "text": self.text })
    }
}

#[allow(clippy::cast_precision_loss)] // request counts stay far below 2^53
fn ratio(errors: u64, requests: u64) -> f64 {
    if requests == 0 {
        0.0
    } else {
        errors as f64 / requests as f64
    }
}

fn percent(rate: f64) -> String {
    format!("{:.2}%", rate * 100.0)
}
