//! A client that keeps requesting pages through the load balancer and counts what it gets:
//! requests sent, failed (no connection, an error status, a timeout), and the versions seen;
//! answers and failed answers by the node that gave them (the app's `X-Served-By`).

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
    /// Answers per node that served them (`X-Served-By`).
    pub served_by: BTreeMap<String, u64>,
    /// The first few failures, as they happened.
    pub failures: Vec<String>,
    /// Failed requests per node that answered them (`X-Served-By`); `none` when no node did.
    pub failed_by: BTreeMap<String, u64>,
}

impl Tally {
    /// What was counted after `before` (an earlier tally of the same client): the failures
    /// listed are those after it too.
    #[must_use]
    pub fn since(&self, before: &Self) -> Self {
        let minus = |now: &BTreeMap<String, u64>, then: &BTreeMap<String, u64>| {
            now.iter()
                .map(|(k, n)| (k.clone(), n - then.get(k).copied().unwrap_or(0)))
                .filter(|(_, n)| *n > 0)
                .collect()
        };
        Self {
            sent: self.sent - before.sent,
            failed: self.failed - before.failed,
            versions: minus(&self.versions, &before.versions),
            served_by: minus(&self.served_by, &before.served_by),
            failures: self.failures[before.failures.len().min(self.failures.len())..].to_vec(),
            failed_by: minus(&self.failed_by, &before.failed_by),
        }
    }
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

/// Requests through `target` from a few threads, each pausing `pace` between requests:
/// even-numbered clients open a connection per request, odd-numbered ones keep theirs
/// open (HTTP keep-alive), as browsers do.
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
            .map(|client| {
                let (stop, tally) = (stop.clone(), tally.clone());
                std::thread::spawn(move || {
                    let mut kept: Option<KeepAlive> = None;
                    while !stop.load(Ordering::SeqCst) {
                        let result = if client % 2 == 1 {
                            keep_alive(target, &mut kept)
                        } else {
                            request(target)
                        };
                        let mut tally = tally.lock().unwrap_or_else(PoisonError::into_inner);
                        tally.sent += 1;
                        match result {
                            Ok(Served { version, by }) => {
                                *tally.versions.entry(version).or_default() += 1;
                                if let Some(by) = by {
                                    *tally.served_by.entry(by).or_default() += 1;
                                }
                            }
                            Err(Failed { why, by }) => {
                                tally.failed += 1;
                                *tally
                                    .failed_by
                                    .entry(by.unwrap_or_else(|| "none".into()))
                                    .or_default() += 1;
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

/// A connection kept open between requests.
struct KeepAlive {
    reader: std::io::BufReader<TcpStream>,
}

/// An answer: the version it names, and the node that gave it.
struct Served {
    version: String,
    by: Option<String>,
}

/// A failed request: why, and the node that answered it, if one did.
struct Failed {
    why: String,
    by: Option<String>,
}

impl From<String> for Failed {
    fn from(why: String) -> Self {
        Self { why, by: None }
    }
}

/// What one request on a kept connection came to.
enum Outcome {
    /// An answer, or why it is a failure.
    Answered(Result<Served, Failed>),
    /// Nothing came back: the other end had closed the connection.
    Closed(String),
}

/// One `GET /` on the kept connection (opened if none is). A kept connection the other end
/// closed before answering is opened again and the request sent once more, as HTTP clients
/// do for an idempotent request; every other failure counts.
fn keep_alive(target: SocketAddr, kept: &mut Option<KeepAlive>) -> Result<Served, Failed> {
    let reused = kept.is_some();
    match exchange(target, kept) {
        Outcome::Answered(result) => result,
        Outcome::Closed(_) if reused => match exchange(target, kept) {
            Outcome::Answered(result) => result,
            Outcome::Closed(why) => Err(why.into()),
        },
        Outcome::Closed(why) => Err(why.into()),
    }
}

fn exchange(target: SocketAddr, kept: &mut Option<KeepAlive>) -> Outcome {
    use std::io::BufRead;
    let limit = Duration::from_secs(5);
    if kept.is_none() {
        let opened = TcpStream::connect_timeout(&target, limit)
            .and_then(|s| s.set_read_timeout(Some(limit)).map(|()| s));
        match opened {
            Ok(stream) => {
                *kept = Some(KeepAlive {
                    reader: std::io::BufReader::new(stream),
                });
            }
            Err(e) => return Outcome::Answered(Err(format!("connect: {e}").into())),
        }
    }
    let Some(connection) = kept.as_mut() else {
        return Outcome::Answered(Err(String::from("no connection").into()));
    };
    let mut status = String::new();
    let sent = connection
        .reader
        .get_mut()
        .write_all(b"GET / HTTP/1.1\r\nHost: demo\r\n\r\n");
    let read = sent.and_then(|()| connection.reader.read_line(&mut status));
    match read {
        Ok(0) | Err(_) if status.is_empty() => {
            *kept = None;
            return Outcome::Closed("closed before answering".into());
        }
        Err(e) => {
            *kept = None;
            return Outcome::Answered(Err(format!("read: {e}").into()));
        }
        Ok(_) => {}
    }
    let answer = read_rest(&mut connection.reader);
    let (close, by, body) = match answer {
        Ok(answer) => answer,
        Err(e) => {
            *kept = None;
            return Outcome::Answered(Err(format!("read: {e}").into()));
        }
    };
    if close {
        *kept = None;
    }
    if status.starts_with("HTTP/1.1 200") {
        Outcome::Answered(Ok(Served { version: body, by }))
    } else {
        Outcome::Answered(Err(Failed {
            why: status.trim().to_owned(),
            by,
        }))
    }
}

/// The headers and body after the status line: whether the server closes, the node that
/// answered, and the body.
fn read_rest(
    reader: &mut std::io::BufReader<TcpStream>,
) -> std::io::Result<(bool, Option<String>, String)> {
    use std::io::BufRead;
    let (mut length, mut close, mut by) = (0, false, None);
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let header = header.trim_end().to_ascii_lowercase();
        if header.is_empty() {
            break;
        }
        if let Some(value) = header.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        close |= header == "connection: close";
        by = by.or_else(|| served_by(&header));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok((close, by, String::from_utf8_lossy(&body).trim().to_owned()))
}

/// The node named by an `X-Served-By` header line.
fn served_by(header: &str) -> Option<String> {
    let (name, value) = header.split_once(':')?;
    name.trim()
        .eq_ignore_ascii_case("x-served-by")
        .then(|| value.trim().to_owned())
}

/// One `GET /`: the version in the answer, or why it failed.
fn request(target: SocketAddr) -> Result<Served, Failed> {
    fetch(target, "/")
}

/// One `GET PATH` through `target`: the body of a 200 answer, or why it failed.
pub fn get(target: SocketAddr, path: &str) -> Result<String, String> {
    fetch(target, path).map(|s| s.version).map_err(|f| f.why)
}

/// One `GET PATH` through `target`: the body of a 200 answer and who gave it, or why it
/// failed (and who said so).
fn fetch(target: SocketAddr, path: &str) -> Result<Served, Failed> {
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
    let head = answer.split("\r\n\r\n").next().unwrap_or_default();
    if !status.starts_with("HTTP/1.1 200") {
        return Err(Failed {
            why: if status.is_empty() {
                "empty answer".to_owned()
            } else {
                status.to_owned()
            },
            by: head.lines().find_map(served_by),
        });
    }
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    Ok(Served {
        version: body.trim().to_owned(),
        by: head.lines().find_map(served_by),
    })
}

#[cfg(test)]
mod tests {
    use super::Tally;

    #[test]
    fn since_counts_only_what_came_after_the_earlier_tally() {
        let count = |pairs: &[(&str, u64)]| {
            pairs
                .iter()
                .map(|(k, n)| ((*k).to_owned(), *n))
                .collect::<std::collections::BTreeMap<_, _>>()
        };
        let before = Tally {
            sent: 10,
            failed: 1,
            versions: count(&[("3.0.0", 9)]),
            served_by: count(&[("web1", 5), ("web3", 4)]),
            failures: vec!["first".into()],
            failed_by: count(&[("none", 1)]),
        };
        let now = Tally {
            sent: 25,
            failed: 1,
            versions: count(&[("3.0.0", 12), ("3.0.1", 12)]),
            served_by: count(&[("web1", 5), ("web3", 19)]),
            ..before.clone()
        };
        assert_eq!(
            now.since(&before),
            Tally {
                sent: 15,
                failed: 0,
                versions: count(&[("3.0.0", 3), ("3.0.1", 12)]),
                served_by: count(&[("web3", 15)]),
                failures: Vec::new(),
                failed_by: count(&[]),
            }
        );
    }
}
