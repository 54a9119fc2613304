//! The web app each node serves: `GET /` answers the live release's `VERSION`, `GET /health`
//! answers 200 while there is one, `GET /slow` answers like `/` after two seconds (a long
//! request, to see a drain wait for it). It reads `current/VERSION` on every request, so a
//! deploy's symlink switch shows at once. A release holding a `BROKEN` file passes `/health`
//! but answers 500 on its pages, as a release with a bug only its users see; one holding an
//! `UNHEALTHY` file answers 500 on `/health` (its pages still work), as a release a health
//! check must stop.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// The app of one node, serving on its address until dropped.
pub struct App {
    pub address: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl App {
    /// Serves `name`'s app on `address`, with the release under `deploy_to` (`current/VERSION`).
    pub fn start(name: &str, address: SocketAddr, deploy_to: PathBuf) -> Result<Self, String> {
        let listener =
            TcpListener::bind(address).map_err(|e| format!("app of {name} on {address}: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let name = name.to_owned();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let (name, deploy_to) = (name.clone(), deploy_to.clone());
                    std::thread::spawn(move || answer(stream, &name, &deploy_to));
                }
            }
        });
        Ok(Self {
            address,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.address, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One request, one answer, then the connection closes.
fn answer(mut stream: TcpStream, name: &str, deploy_to: &std::path::Path) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut request = Vec::new();
    let mut buffer = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buffer[..n]);
    }
    let path = String::from_utf8_lossy(&request)
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let version = std::fs::read_to_string(deploy_to.join("current/VERSION"))
        .ok()
        .map(|v| v.trim().to_owned());
    if path == "/slow" {
        std::thread::sleep(Duration::from_secs(2));
    }
    let broken = deploy_to.join("current/BROKEN").exists();
    let unhealthy = deploy_to.join("current/UNHEALTHY").exists();
    let (status, body) = match (path.as_str(), version) {
        ("/" | "/slow", Some(version)) if broken => (
            "500 Internal Server Error",
            format!("{version} is broken\n"),
        ),
        ("/health", Some(version)) if unhealthy => (
            "500 Internal Server Error",
            format!("{version} is unhealthy\n"),
        ),
        ("/health", Some(_)) => ("200 OK", "ok\n".to_owned()),
        ("/" | "/slow", Some(version)) => ("200 OK", format!("{version}\n")),
        ("/" | "/health" | "/slow", None) => ("503 Service Unavailable", "no release\n".to_owned()),
        _ => ("404 Not Found", "not found\n".to_owned()),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nX-Served-By: {name}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}
