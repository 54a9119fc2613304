//! Web servers on loopback (python3 -m http.server), stopped by PID when dropped.

/// A web server on loopback, stopped by PID when dropped.
pub(crate) struct Web(std::process::Child, pub(crate) String);

impl Web {
    pub(crate) fn start(address: &str) -> Self {
        let port = std::net::TcpListener::bind((address, 0))
            .expect("port")
            .local_addr()
            .expect("addr")
            .port();
        let child = std::process::Command::new(python())
            .args(["-m", "http.server", "--bind", address, &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 http.server");
        let url = format!("http://{address}:{port}/");
        crate::sshd::eventually("the web server", || {
            std::net::TcpStream::connect((address, port)).ok()
        });
        Self(child, url)
    }
}

/// The real Python interpreter: `python3` may be a shim (pyenv) that runs Python as its
/// child, and killing the shim by PID would leave the server running.
fn python() -> String {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl Drop for Web {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Web {
    /// The port it listens on.
    pub(crate) fn port(&self) -> u16 {
        self.1
            .rsplit(':')
            .next()
            .and_then(|p| p.trim_end_matches('/').parse().ok())
            .expect("a port")
    }
}
