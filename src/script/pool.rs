//! The hosts of one call: the same work once per host, each under its own [`Context`], one
//! host after the other or several at once (`-P`, `-z N`, `@parallel(pool = N)`), with the
//! outcomes given back in host order whatever order they finished in.
//!
//! The executor runs tasks through it and `rfab repl` its entries, so both run hosts the
//! same way: a host that fails runs its `on_abort` undo there, a host that could not be
//! reached is passed over under `--skip-bad-hosts`, and a task's outcome on each host is
//! printed and goes into the summary.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use rhai::{Dynamic, EvalAltResult};

use crate::output::progress::Unit;
use crate::output::summary;
use crate::output::{Level, event};
use crate::script::abort::{message, run_on_abort, stranded, unreachable_message};
use crate::script::context::Context;
use crate::script::decorators::Tags;
use crate::script::diagnostic::ENTRY_SOURCE;
use crate::script::runtime::Runtime;
use crate::script::scoped::ScopedSettings;
use crate::signals;
use crate::ssh::options::SshOptions;
use crate::ssh::target::Target;

/// What the work returned on one host, or how it failed.
pub(crate) type Outcome = std::result::Result<Dynamic, Box<EvalAltResult>>;

/// Rhai recursion is stack-hungry; host threads get room for deep recipes.
const HOST_THREAD_STACK: usize = 8 << 20;

/// How many hosts run at once, Fabric's way: `-P` or `@parallel` ask for all of them,
/// `@parallel(pool = N)` or `-z N` cap that, and `@serial` wins over both. `None`: one
/// after the other.
pub(crate) fn width(tags: &Tags, ssh: &SshOptions, hosts: usize) -> Option<usize> {
    let parallel = !tags.serial && (tags.parallel || ssh.parallel) && hosts > 1;
    parallel.then(|| tags.pool.or(ssh.pool_size).unwrap_or(hosts).clamp(1, hosts))
}

/// One host's turn: where it runs (`None`: locally), what the work keeps there from one
/// call to the next, and how it went (`None`: it never ran).
pub(crate) struct Turn<S> {
    pub(crate) target: Option<Arc<Target>>,
    pub(crate) state: S,
    pub(crate) outcome: Option<Outcome>,
}

impl<S> Turn<S> {
    pub(crate) fn new(target: Option<Arc<Target>>, state: S) -> Self {
        Self {
            target,
            state,
            outcome: None,
        }
    }
}

pub(crate) struct Pool<'a> {
    pub(crate) runtime: &'a Arc<Runtime>,
    /// The task that runs, for the `Executing task` line, the progress bar and the summary;
    /// an entry typed at the REPL prompt is no task and has none of them.
    pub(crate) task: Option<Arc<str>>,
    /// How many hosts at once (see [`width`]); `None`: one after the other, stopping after
    /// the first that fails.
    pub(crate) width: Option<usize>,
    /// `@runs_once`: the summary credits the task to the run, not to its host.
    pub(crate) once: bool,
}

impl Pool<'_> {
    /// Runs `work` on each turn's host and gives the turns back, in the same order, with
    /// their outcomes. Ctrl-C starts no more hosts.
    pub(crate) fn run<S: Send>(
        &self,
        turns: Vec<Turn<S>>,
        work: impl Fn(&Context, &mut S) -> Outcome + Sync,
    ) -> Vec<Turn<S>> {
        self.run_with(turns, None, work)
    }

    /// [`Pool::run`], each host starting with `settings` in force: those where `execute()`
    /// was called.
    pub(crate) fn run_with<S: Send>(
        &self,
        mut turns: Vec<Turn<S>>,
        settings: Option<&ScopedSettings>,
        work: impl Fn(&Context, &mut S) -> Outcome + Sync,
    ) -> Vec<Turn<S>> {
        if let Some(task) = &self.task {
            let hosts: Vec<&str> = turns
                .iter()
                .filter_map(|turn| turn.target.as_deref())
                .map(|target| self.summary_row(target))
                .collect();
            self.runtime.summary.expect(&hosts, task);
        }
        let Some(width) = self.width.filter(|_| turns.len() > 1) else {
            for turn in &mut turns {
                if signals::interrupted() {
                    break;
                }
                if self.take(turn, settings, &work, false) {
                    break;
                }
            }
            return turns;
        };
        let bar = self.task.as_ref().map(|task| {
            self.runtime
                .output
                .progress(turns.len() as u64, &Unit::Hosts, task)
        });
        let next = AtomicUsize::new(0);
        let slots: Vec<Mutex<Turn<S>>> = turns.into_iter().map(Mutex::new).collect();
        std::thread::scope(|scope| {
            for _ in 0..width {
                let worker = || {
                    while let Some(slot) = slots.get(next.fetch_add(1, Ordering::SeqCst)) {
                        if signals::interrupted() {
                            break;
                        }
                        // Each slot is taken by one worker only: its lock is never waited on.
                        self.take(&mut lock(slot), settings, &work, true);
                        if let Some(bar) = &bar {
                            bar.advance(1);
                        }
                    }
                };
                std::thread::Builder::new()
                    .stack_size(HOST_THREAD_STACK)
                    .spawn_scoped(scope, worker)
                    .expect("a thread for a host");
            }
        });
        slots
            .into_iter()
            .map(|slot| slot.into_inner().unwrap_or_else(PoisonError::into_inner))
            .collect()
    }

    /// Under `--skip-bad-hosts`, whether `error` is a host that could not be reached, to be
    /// passed over rather than failing the run.
    pub(crate) fn skips(&self, error: &EvalAltResult) -> bool {
        // Read for the width of this pool already: a bad value failed the task there.
        let skip = self
            .runtime
            .ssh_options()
            .map_or(self.runtime.ssh.skip_bad_hosts, |o| o.skip_bad_hosts);
        skip && unreachable_message(error).is_some()
    }

    /// Runs one turn and records how it went; says whether it failed, so that hosts run one
    /// after the other stop there (a host passed over is no failure).
    fn take<S>(
        &self,
        turn: &mut Turn<S>,
        settings: Option<&ScopedSettings>,
        work: &impl Fn(&Context, &mut S) -> Outcome,
        parallel: bool,
    ) -> bool {
        // Whatever is said on this thread until the turn ends is said of this task and host.
        let _here = event::enter(
            self.task.clone(),
            turn.target.as_deref().map(|t| t.host_string.as_str()),
        );
        let outcome = self.call(
            turn.target.clone(),
            &mut turn.state,
            settings,
            work,
            parallel,
        );
        let failed = match (&turn.target, &outcome) {
            (Some(target), Err(error)) if self.skips(error) => {
                let message = unreachable_message(error).unwrap_or_default();
                self.runtime.output.warning(
                    Some(&target.host_string),
                    &format!("skipping this host: {message}"),
                );
                false
            }
            (_, result) => result.is_err(),
        };
        turn.outcome = Some(outcome);
        failed
    }

    /// Calls `work` once, on one host, runs its undo if it failed, and reports the task's end.
    fn call<S>(
        &self,
        target: Option<Arc<Target>>,
        state: &mut S,
        settings: Option<&ScopedSettings>,
        work: &impl Fn(&Context, &mut S) -> Outcome,
        parallel: bool,
    ) -> Outcome {
        let context = Context::new(self.runtime.clone(), self.task.clone(), target.clone())
            .in_parallel(parallel);
        if let Some(settings) = settings {
            context.set_settings(settings.clone());
        }
        if let (Some(task), Some(target)) = (&self.task, &target)
            && context.shows(Level::Running)
        {
            self.runtime.output.executing(&target.host_string, task);
        }
        let started = Instant::now();
        let result = work(&context, state);
        let undo = std::mem::take(&mut *lock(&context.on_abort));
        if let (Err(_), Some(target), false) = (&result, &target, undo.is_empty()) {
            run_on_abort(&context, target, &undo);
        }
        // A lost connection's first error, not the cleanup's after it, is why the work
        // failed; and what could not be cleaned up must be said.
        let result = result.map_err(|error| {
            if matches!(error.unwrap_inner(), EvalAltResult::ErrorTerminated(..)) {
                return error;
            }
            match target
                .as_deref()
                .and_then(|t| stranded(&context, &t.host_string))
            {
                Some(report) => Box::new(EvalAltResult::ErrorRuntime(
                    Dynamic::from(report),
                    rhai::Position::NONE,
                )),
                None => error,
            }
        });
        if let (Some(task), Some(target)) = (&self.task, &target) {
            let outcome = self.outcome(&result);
            let seconds = started.elapsed().as_secs_f64();
            self.runtime
                .output
                .task_end(&target.host_string, outcome.label(), seconds);
            let reason = match &result {
                Err(error) if outcome == summary::Outcome::Failed => Some(self.reason(error)),
                _ => None,
            };
            self.runtime.summary.record(
                self.summary_row(target),
                task,
                outcome,
                started.elapsed(),
                reason.as_deref(),
            );
        }
        result
    }

    /// The summary's row for `target`: its host, or the run for a task that runs once.
    fn summary_row<'t>(&self, target: &'t Target) -> &'t str {
        if self.once {
            summary::ONCE
        } else {
            &target.host_string
        }
    }

    /// Why the work failed, as the failure report says it.
    fn reason(&self, error: &EvalAltResult) -> String {
        message(error).unwrap_or_else(|| match self.runtime.fabfile() {
            Some(fabfile) => fabfile.sources.eval_error(error, ENTRY_SOURCE),
            None => error.to_string(),
        })
    }

    fn outcome(&self, result: &Outcome) -> summary::Outcome {
        match result {
            Ok(_) if self.runtime.dry_run() => summary::Outcome::Dry,
            Ok(_) => summary::Outcome::Ok,
            Err(error) if self.skips(error) => summary::Outcome::Skipped,
            Err(error) if matches!(error.unwrap_inner(), EvalAltResult::ErrorTerminated(..)) => {
                summary::Outcome::Interrupted
            }
            Err(_) => summary::Outcome::Failed,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
