//! A client that keeps requesting pages through the load balancer and counts what it gets:
//! requests sent, failed (no connection, an error status, a timeout), and the versions seen.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the client has seen so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub sent: u64,
    pub failed: u64,
    /// Answers per version served.
    pub versions: BTreeMap<String, u64>,
    /// The first few failures, as they happened.
    pub failures: Vec<String>,
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let versions: Vec<String> = self
            .versions
            .iter()
            .map(|(v, n)| format!("{v}: {n}"))
            .collect();
        write!(
            f,
            "{} requests sent, {} failed ({})",
            self.sent,
            self.failed,
            versions.join(", ")
        )
    }
}

/// Requests through `target` from a few threads, each pausing `pace` between requests.
pub struct Load {
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
    threads: Vec<JoinHandle<()>>,
}

impl Load {
    pub fn start(target: SocketAddr, clients: usize, pace: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Mutex::new(Tally::default()));
        let threads = (0..clients)
            .map(|_| {
                let (stop, tally) = (stop.clone(), tally.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        let result = request(target);
                        let mut tally = tally.lock().unwrap_or_else(PoisonError::into_inner);
                        tally.sent += 1;
                        match result {
                            Ok(version) => *tally.versions.entry(version).or_default() += 1,
                            Err(why) => {
                                tally.failed += 1;
                                if tally.failures.len() < 10 {
                                    tally.failures.push(why);
                                }
                            }
                        }
                        drop(tally);
                        std::thread::sleep(pace);
                    }
                })
            })
            .collect();
        Self {
            stop,
            tally,
            threads,
        }
    }

    /// What it has seen up to now.
    pub fn tally(&self) -> Tally {
        self.tally
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until `n` more requests have been answered (or failed): proof that traffic flows.
    pub fn wait_for(&self, n: u64, limit: Duration) -> Result<(), String> {
        let from = self.tally().sent;
        crate::process::eventually("requests through the load balancer", limit, || {
            (self.tally().sent >= from + n).then_some(())
        })
    }

    /// Stops the clients and gives the final tally.
    pub fn stop(mut self) -> Tally {
        self.halt();
        self.tally()
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.halt();
    }
}

/// One `GET /`: the version in the answer, or why it failed.
fn request(target: SocketAddr) -> Result<String, String> {
    get(target, "/")
}

/// One `GET PATH` through `target`: the body of a 200 answer, or why it failed.
pub fn get(target: SocketAddr, path: &str) -> Result<String, String> {
    let limit = Duration::from_secs(5);
    let mut stream =
        TcpStream::connect_timeout(&target, limit).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(limit))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .map_err(|e| format!("send: {e}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|e| format!("read: {e}"))?;
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.lines().next().unwrap_or_default();
    if !status.starts_with("HTTP/1.1 200") {
        return Err(if status.is_empty() {
            "empty answer".to_owned()
        } else {
            status.to_owned()
        });
    }
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    Ok(body.trim().to_owned())
}
