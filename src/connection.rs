//! One SSH session to one host: TCP connect, handshake, host-key check, login.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use ssh2::{MethodType, Session};

use crate::agent_forwarding::Forwarding;
use crate::authentication::authenticate;
use crate::context::Target;
use crate::credentials::Credentials;
use crate::host_config::HostConfig;
use crate::jump;
use crate::known_hosts::{self, KeyProblem};
use crate::ssh_options::SshOptions;

/// Host-key algorithms libssh2 can negotiate, OpenSSH's order.
const HOST_KEY_ALGORITHMS: [&str; 6] = [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
];

pub(crate) struct Connection {
    pub(crate) session: Session,
    /// The socket under the session, polled while waiting for data.
    transport: Transport,
    /// Where the host key was added, under `--known-hosts accept-new`.
    pub(crate) added_key: Option<std::path::PathBuf>,
    /// What the user should hear about this connection (how its config was read).
    pub(crate) warnings: Vec<String>,
    /// `-A`: the agent channels to serve. After `session`, so it is dropped after it.
    pub(crate) forwarding: Option<Box<Forwarding>>,
}

/// What a session runs over: TCP, or a tunnel through a jump host.
enum Transport {
    Tcp(TcpStream),
    Tunnel(UnixStream),
}

impl Connection {
    /// Connects to `target`, through its jump hosts if it has any (`-g`, or `ProxyJump`).
    pub(crate) fn open(
        target: &Target,
        options: &SshOptions,
        credentials: &Credentials,
        may_ask: bool,
    ) -> Result<Self, String> {
        let mut config = HostConfig::resolve(target, options.ssh_config.as_deref());
        config
            .identity_files
            .splice(0..0, target.key_files.iter().cloned());
        let hops = if options.gateway.is_empty() {
            &config.proxy_jump
        } else {
            &options.gateway
        };
        let mut chain = Vec::with_capacity(hops.len() + 1);
        for hop in hops {
            let hop_target = Target::hop(hop).map_err(|e| e.to_string())?;
            chain.push((
                hop_target.host_string.clone(),
                HostConfig::resolve(&hop_target, options.ssh_config.as_deref()),
            ));
        }
        chain.push((target.host_string.clone(), config));
        let mut via = None;
        for (i, (name, config)) in chain.iter().enumerate() {
            let connection =
                Self::establish(name, config, options, credentials, may_ask, via.take());
            let Some((next_name, next)) = chain.get(i + 1) else {
                let warnings: Vec<String> =
                    chain.iter().flat_map(|(_, c)| c.warnings.clone()).collect();
                let forwarding = options.forward_agent.then(Box::<Forwarding>::default);
                if let (Ok(target), Some(forwarding)) = (&connection, &forwarding) {
                    forwarding.enable(&target.session);
                }
                return connection.map(|mut c| {
                    c.warnings.splice(0..0, warnings);
                    Self { forwarding, ..c }
                });
            };
            let hop = connection
                .map_err(|e| format!("through jump host `{name}` to `{next_name}`: {e}"))?;
            via = Some(jump::tunnel(hop, &next.hostname, next.port)?);
        }
        unreachable!("the chain ends with the target")
    }

    /// Handshake, host key and login, over `via` or a new TCP connection.
    fn establish(
        name: &str,
        config: &HostConfig,
        options: &SshOptions,
        credentials: &Credentials,
        may_ask: bool,
        via: Option<UnixStream>,
    ) -> Result<Self, String> {
        let tunneled = via.is_some();
        // `name` is the host string, which may name the user already.
        let host = name.split_once('@').map_or(name, |(_, host)| host);
        let who = format!("{}@{host}", config.user);
        let transport = match via {
            Some(stream) => Transport::Tunnel(stream),
            None => Transport::Tcp(connect_tcp(config, options)?),
        };
        let mut connection = Self::handshake(config, options, None, transport)?;
        match known_hosts::verify(
            &connection.session,
            &config.hostname,
            config.port,
            &config.known_hosts_files,
            options.known_hosts,
        ) {
            Ok(accepted) => {
                connection.added_key = accepted.added;
                connection.warnings.extend(accepted.warning);
            }
            // known_hosts may hold this host's key of another type only: OpenSSH would have
            // negotiated that type. Try each other type once; only a real match will do.
            Err(KeyProblem::Changed { fingerprint }) => {
                connection = (!tunneled)
                    .then(|| Self::other_key_types(config, options, &connection))
                    .flatten()
                    .ok_or_else(|| changed_key(name, config, &fingerprint))?;
            }
            Err(KeyProblem::Unknown { fingerprint, note }) => {
                let note = note.map(|n| format!("\n{n}")).unwrap_or_default();
                return Err(unknown_key(name, config, &fingerprint) + note.as_str());
            }
            Err(KeyProblem::Other(message)) => return Err(format!("`{name}`: {message}")),
        }
        let mut keys = options.identities.clone();
        keys.extend(config.identity_files.iter().cloned());
        authenticate(
            &connection.session,
            &config.user,
            &who,
            &keys,
            credentials,
            may_ask,
        )?;
        if let Some(interval) = options.keepalive {
            connection.session.set_keepalive(true, interval);
        }
        Ok(connection)
    }

    fn handshake(
        config: &HostConfig,
        options: &SshOptions,
        host_key_algorithm: Option<&str>,
        transport: Transport,
    ) -> Result<Self, String> {
        let mut session =
            Session::new().map_err(|e| format!("cannot start an SSH session: {e}"))?;
        if let Some(algorithm) = host_key_algorithm {
            session
                .method_pref(MethodType::HostKey, algorithm)
                .map_err(|e| e.to_string())?;
        }
        match &transport {
            Transport::Tcp(socket) => {
                session.set_tcp_stream(socket.try_clone().map_err(|e| e.to_string())?);
            }
            Transport::Tunnel(stream) => {
                session.set_tcp_stream(stream.try_clone().map_err(|e| e.to_string())?);
            }
        }
        // libssh2 waits forever by default, and a handshake with a stuck peer can hang.
        session.set_timeout(u32::try_from(options.connect_timeout.as_millis()).unwrap_or(u32::MAX));
        session.handshake().map_err(|e| {
            format!(
                "SSH handshake with `{}:{}` failed: {e}",
                config.hostname, config.port
            )
        })?;
        session.set_timeout(0);
        Ok(Self {
            session,
            transport,
            added_key: None,
            warnings: Vec::new(),
            forwarding: None,
        })
    }

    fn other_key_types(config: &HostConfig, options: &SshOptions, first: &Self) -> Option<Self> {
        let negotiated = first
            .session
            .host_key()
            .map(|(_, kind)| known_hosts::algorithm(kind));
        HOST_KEY_ALGORITHMS
            .iter()
            .filter(|a| Some(**a) != negotiated)
            .find_map(|algorithm| {
                let transport = Transport::Tcp(connect_tcp(config, options).ok()?);
                let connection =
                    Self::handshake(config, options, Some(algorithm), transport).ok()?;
                let verdict = known_hosts::verify(
                    &connection.session,
                    &config.hostname,
                    config.port,
                    &config.known_hosts_files,
                    options.known_hosts,
                );
                verdict.is_ok().then_some(connection)
            })
    }

    /// The descriptor of the socket under the session.
    pub(crate) fn raw_fd(&self) -> std::os::fd::RawFd {
        match &self.transport {
            Transport::Tcp(socket) => socket.as_raw_fd(),
            Transport::Tunnel(stream) => stream.as_raw_fd(),
        }
    }

    /// Waits until the socket can make progress in the directions libssh2 is blocked on,
    /// or `timeout` passes.
    pub(crate) fn wait(&self, timeout: Duration) {
        let directions = self.session.block_directions();
        let mut events = 0;
        if matches!(
            directions,
            ssh2::BlockDirections::Inbound | ssh2::BlockDirections::Both
        ) {
            events |= libc::POLLIN;
        }
        if matches!(
            directions,
            ssh2::BlockDirections::Outbound | ssh2::BlockDirections::Both
        ) {
            events |= libc::POLLOUT;
        }
        if events == 0 {
            events = libc::POLLIN;
        }
        let mut fd = libc::pollfd {
            fd: self.raw_fd(),
            events,
            revents: 0,
        };
        let millis = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: `fd` is a valid pollfd for the duration of the call, and the count is 1.
        #[allow(unsafe_code)]
        unsafe {
            libc::poll(&raw mut fd, 1, millis);
        }
    }
}

fn connect_tcp(config: &HostConfig, options: &SshOptions) -> Result<TcpStream, String> {
    let place = format!("{}:{}", config.hostname, config.port);
    let addresses: Vec<SocketAddr> = (config.hostname.as_str(), config.port)
        .to_socket_addrs()
        .map_err(|e| {
            format!(
                "cannot resolve `{}`: {e}; check the host name",
                config.hostname
            )
        })?
        .collect();
    let mut last_error = None;
    for _attempt in 0..options.connection_attempts.max(1) {
        for address in &addresses {
            match TcpStream::connect_timeout(address, options.connect_timeout) {
                Ok(socket) => {
                    // Without TCP_NODELAY each new channel waits ~40 ms on delayed ACKs.
                    socket.set_nodelay(true).map_err(|e| e.to_string())?;
                    return Ok(socket);
                }
                Err(e) => last_error = Some(e),
            }
        }
    }
    let why = match last_error {
        Some(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            format!(
                "timed out after {}s (-t/--timeout)",
                options.connect_timeout.as_secs()
            )
        }
        Some(e) => e.to_string(),
        None => "no address".into(),
    };
    Err(format!(
        "cannot connect to {place}: {why}; check that the host is up and sshd listens there"
    ))
}

fn unknown_key(host: &str, config: &HostConfig, fingerprint: &str) -> String {
    let keyscan_port = if config.port == 22 {
        String::new()
    } else {
        format!("-p {} ", config.port)
    };
    format!(
        "the host key of `{host}` is not known: {fingerprint}\n\
         hint: if that is the key of {}:{}, add it with \
         `ssh-keyscan {keyscan_port}{} >> ~/.ssh/known_hosts`, or run once with `--known-hosts accept-new`",
        config.hostname, config.port, config.hostname
    )
}

fn changed_key(host: &str, config: &HostConfig, fingerprint: &str) -> String {
    let name = if config.port == 22 {
        config.hostname.clone()
    } else {
        format!("[{}]:{}", config.hostname, config.port)
    };
    format!(
        "THE HOST KEY OF `{host}` HAS CHANGED: someone could be intercepting the connection \
         (man-in-the-middle), or the host was reinstalled. Its key is now {fingerprint}; not connecting.\n\
         hint: if the change is expected, remove the old key with `ssh-keygen -R '{name}'` and connect again"
    )
}
