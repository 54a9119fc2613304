//! One page requested through a load balancer that counts nothing per server (nginx, your
//! own commands): the watch judges the servers it brought live by these answers.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::lb::Error;

/// Why one probe counts as a failed request.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Failed {
    #[error("{host}: {why}")]
    Resolve { host: String, why: String },
    #[error("{step}: {why}")]
    Io { step: &'static str, why: String },
    /// An answer, but not 2xx or 3xx: its status line.
    #[error("{0}")]
    Status(String),
    #[error("no answer")]
    NoAnswer,
}

/// How long one probe may take, connecting and answering.
const LIMIT: Duration = Duration::from_secs(2);

/// A page to probe: `http://HOST[:PORT][/PATH]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Probe {
    url: String,
    /// `host:port` as the URL gives it, for the `Host` header.
    authority: String,
    host: String,
    port: u16,
    path: String,
}

impl Probe {
    pub(crate) fn parse(url: &str) -> Result<Self, Error> {
        let bad = |why: &str| {
            Error::State(format!(
                "cannot probe `{url}`: {why}; give a plain http:// URL of a page served through the load balancer"
            ))
        };
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| bad("only http:// is supported"))?;
        let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
        // `[::1]:8080` holds colons of its own.
        let (host, port) = match authority.find(']') {
            Some(end) => {
                let (host, rest) = authority.split_at(end + 1);
                (host, rest.strip_prefix(':'))
            }
            None => match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            },
        };
        let port = match port {
            Some(port) => port.parse().map_err(|_| bad("the port is not a number"))?,
            None => 80,
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Self {
            url: url.to_owned(),
            authority: authority.to_owned(),
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Requests the page once: whether it was served (a 2xx or 3xx answer), or why not.
    pub(crate) fn get(&self) -> Result<(), Failed> {
        let io = |step| {
            move |e: std::io::Error| Failed::Io {
                step,
                why: e.to_string(),
            }
        };
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        let resolve = |why: String| Failed::Resolve {
            host: self.host.clone(),
            why,
        };
        let address = (host, self.port)
            .to_socket_addrs()
            .map_err(|e| resolve(e.to_string()))?
            .next()
            .ok_or_else(|| resolve("no address".to_owned()))?;
        let mut stream = TcpStream::connect_timeout(&address, LIMIT).map_err(io("connect"))?;
        stream
            .set_read_timeout(Some(LIMIT))
            .and_then(|()| stream.set_write_timeout(Some(LIMIT)))
            .map_err(io("connect"))?;
        // One write: `write!` would send the request in pieces.
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: rfab-watch\r\nConnection: close\r\n\r\n",
            self.path, self.authority
        );
        stream.write_all(request.as_bytes()).map_err(io("send"))?;
        let mut answer = Vec::new();
        let mut buffer = [0_u8; 512];
        while !answer.windows(2).any(|w| w == b"\r\n") && answer.len() < 4096 {
            let n = stream.read(&mut buffer).map_err(io("read"))?;
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buffer[..n]);
        }
        let status = String::from_utf8_lossy(&answer);
        let status = status.lines().next().unwrap_or_default();
        match status.split_whitespace().nth(1) {
            Some(code) if code.starts_with('2') || code.starts_with('3') => Ok(()),
            Some(_) => Err(Failed::Status(status.to_owned())),
            None => Err(Failed::NoAnswer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_host_port_and_path() {
        let probe = Probe::parse("http://127.0.0.1:8080/health?x=1").unwrap();
        assert_eq!(
            (probe.host.as_str(), probe.port, probe.path.as_str()),
            ("127.0.0.1", 8080, "/health?x=1")
        );
        let probe = Probe::parse("http://example.com").unwrap();
        assert_eq!((probe.port, probe.path.as_str()), (80, "/"));
        let probe = Probe::parse("http://[::1]:81/").unwrap();
        assert_eq!((probe.host.as_str(), probe.port), ("[::1]", 81));
        assert_eq!(
            Probe::parse("https://example.com/")
                .unwrap_err()
                .to_string(),
            "cannot probe `https://example.com/`: only http:// is supported; give a plain http:// URL of a page served through the load balancer"
        );
    }

    #[test]
    fn a_probe_counts_2xx_and_3xx_as_served() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            for answer in ["HTTP/1.1 302 Found\r\n\r\n", "HTTP/1.1 500 Oops\r\n\r\n"] {
                let (mut stream, _) = listener.accept().unwrap();
                let mut request = Vec::new();
                let mut buffer = [0_u8; 256];
                while !request.ends_with(b"\r\n\r\n") {
                    let n = stream.read(&mut buffer).unwrap();
                    request.extend_from_slice(&buffer[..n]);
                }
                stream.write_all(answer.as_bytes()).unwrap();
            }
        });
        let probe = Probe::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        assert_eq!(probe.get(), Ok(()));
        assert_eq!(
            probe.get(),
            Err(Failed::Status("HTTP/1.1 500 Oops".to_owned()))
        );
        server.join().unwrap();
    }
}
