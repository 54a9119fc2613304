//! One SSH session to one host: TCP connect, handshake, host-key check, login.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::PoisonError;
use std::time::{Duration, Instant};

use ssh2::{MethodType, Session};

use crate::ssh::agent_forwarding::Forwarding;
use crate::ssh::authentication::authenticate;
use crate::ssh::credentials::Credentials;
use crate::ssh::error::Error;
use crate::ssh::host_string::Host;
use crate::ssh::jump::{self, Heard};
use crate::ssh::known_hosts::{self, KeyProblem};
use crate::ssh::options::SshOptions;
use crate::ssh::ssh_config::HostConfig;
use crate::ssh::target::Target;

/// Keepalives a host may leave unanswered before it is given up on (OpenSSH's
/// `ServerAliveCountMax`).
const KEEPALIVE_COUNT_MAX: u32 = 3;

/// Seconds between keepalives when `--keepalive` is not given: a host that stops answering
/// is given up on after 45 s, as OpenSSH's manual suggests.
const DEFAULT_KEEPALIVE: u32 = 15;

/// How long a host may stay silent before it is given up on, under `--keepalive` (`None`
/// for `--keepalive 0`: never).
pub(crate) fn silence_limit(keepalive: Option<u32>) -> Option<std::time::Duration> {
    Some(keepalive.unwrap_or(DEFAULT_KEEPALIVE))
        .filter(|s| *s > 0)
        .map(|s| std::time::Duration::from_secs(u64::from(s.max(2) * KEEPALIVE_COUNT_MAX)))
}

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
    /// Seconds between keepalives; `None` (`--keepalive 0`) never gives up on a silent host.
    keepalive: Option<u32>,
    /// `-t`: the limit for housekeeping on the host (stopping a command), and for any
    /// blocking libssh2 call.
    pub(crate) connect_timeout: Duration,
}

/// What a session runs over: TCP, or a tunnel through a jump host.
enum Transport {
    Tcp(TcpStream),
    Tunnel(UnixStream, Heard),
}

impl Connection {
    /// Connects to `target`, through its jump hosts if it has any (`-g`, or `ProxyJump`).
    pub(crate) fn open(
        target: &Target,
        options: &SshOptions,
        credentials: &Credentials,
        may_ask: bool,
    ) -> Result<Self, Error> {
        let mut config = HostConfig::resolve(target, options.ssh_config.as_deref());
        target.learn_login(&config.user, config.port);
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
            let hop_target = Target::hop(hop).map_err(|e| Error::BadHost {
                message: e.to_string(),
            })?;
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
            let hop = connection.map_err(|e| Error::Jump {
                via: name.clone(),
                to: next_name.clone(),
                source: Box::new(e),
            })?;
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
        via: Option<(UnixStream, Heard)>,
    ) -> Result<Self, Error> {
        let tunneled = via.is_some();
        // `name` is the host string, which may name the user already.
        let host = name.split_once('@').map_or(name, |(_, host)| host);
        let who = format!("{}@{host}", config.user);
        let transport = match via {
            Some((stream, heard)) => Transport::Tunnel(stream, heard),
            None => {
                Transport::Tcp(connect_tcp(config, options).map_err(|e| named(e, host, config))?)
            }
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
                    .ok_or_else(|| Error::ChangedKey {
                        message: changed_key(name, config, &fingerprint),
                    })?;
            }
            Err(KeyProblem::Unknown { fingerprint, note }) => {
                let note = note.map(|n| format!("\n{n}")).unwrap_or_default();
                return Err(Error::UnknownKey {
                    message: unknown_key(name, config, &fingerprint) + note.as_str(),
                });
            }
            Err(KeyProblem::Other(message)) => {
                return Err(Error::KnownHosts {
                    host: name.to_owned(),
                    message,
                });
            }
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
        // libssh2 sends at most one keepalive every 2 s, whatever it is told.
        connection.keepalive = Some(options.keepalive.unwrap_or(DEFAULT_KEEPALIVE))
            .filter(|s| *s > 0)
            .map(|s| s.max(2));
        Ok(connection)
    }

    fn handshake(
        config: &HostConfig,
        options: &SshOptions,
        host_key_algorithm: Option<&str>,
        transport: Transport,
    ) -> Result<Self, Error> {
        let mut session = Session::new().map_err(Error::session)?;
        if let Some(algorithm) = host_key_algorithm {
            session
                .method_pref(MethodType::HostKey, algorithm)
                .map_err(Error::session)?;
        }
        match &transport {
            Transport::Tcp(socket) => {
                session.set_tcp_stream(socket.try_clone().map_err(Error::session)?);
            }
            Transport::Tunnel(stream, _) => {
                session.set_tcp_stream(stream.try_clone().map_err(Error::session)?);
            }
        }
        // libssh2 waits forever by default, and a handshake or login with a stuck peer can
        // hang. The limit stays for every blocking call after it (`-t`); rfab's own remote
        // operations do not block, and wait through `Watch` instead.
        session.set_timeout(u32::try_from(options.connect_timeout.as_millis()).unwrap_or(u32::MAX));
        session.handshake().map_err(|e| Error::Handshake {
            place: format!("{}:{}", config.hostname, config.port),
            message: handshake_failure(&e, options.connect_timeout),
        })?;
        Ok(Self {
            session,
            transport,
            added_key: None,
            warnings: Vec::new(),
            forwarding: None,
            keepalive: None,
            connect_timeout: options.connect_timeout,
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
            Transport::Tunnel(stream, _) => stream.as_raw_fd(),
        }
    }

    /// How long the host has said nothing since `since` (or since it last spoke, if later),
    /// when that is longer than [`KEEPALIVE_COUNT_MAX`] keepalive intervals: by then that
    /// many keepalives went unanswered, and the host is taken for dead.
    pub(crate) fn unanswered_since(&self, since: Instant) -> Option<Duration> {
        let interval = self.keepalive?;
        let heard = match &self.transport {
            Transport::Tcp(socket) => last_received(socket)?,
            Transport::Tunnel(_, heard) => *heard.lock().unwrap_or_else(PoisonError::into_inner),
        };
        let silent = heard.max(since).elapsed();
        let allowed = Duration::from_secs(u64::from(interval) * u64::from(KEEPALIVE_COUNT_MAX));
        (silent > allowed).then_some(silent)
    }

    /// Sends a keepalive (asking for an answer) if one is due.
    ///
    /// Only into a socket with room: a keepalive half-sent into a full one would stay
    /// pending, and libssh2 refuses every other packet until it is finished, which it never
    /// is. libssh2 is told the interval only here, so that its blocking calls (which would
    /// send keepalives themselves) keep a timeout that fires.
    pub(crate) fn keepalive(&self) {
        let Some(interval) = self.keepalive else {
            return;
        };
        let blocked_out = matches!(
            self.session.block_directions(),
            ssh2::BlockDirections::Outbound | ssh2::BlockDirections::Both
        );
        if blocked_out || !self.writable() {
            return;
        }
        self.session.set_keepalive(true, interval);
        let _ = self.session.keepalive_send();
        self.session.set_keepalive(false, 0);
    }

    /// Whether the socket has room to write into now.
    fn writable(&self) -> bool {
        let mut fd = libc::pollfd {
            fd: self.raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        };
        // SAFETY: `fd` is a valid pollfd for the duration of the call, and the count is 1.
        #[allow(unsafe_code)]
        let ready = unsafe { libc::poll(&raw mut fd, 1, 0) };
        ready == 1 && fd.revents & libc::POLLOUT != 0
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

fn connect_tcp(config: &HostConfig, options: &SshOptions) -> Result<TcpStream, Error> {
    let place = format!("{}:{}", config.hostname, config.port);
    let addresses: Vec<SocketAddr> = (config.hostname.as_str(), config.port)
        .to_socket_addrs()
        .map_err(|source| Error::Resolve {
            host: config.hostname.clone(),
            source,
        })?
        .collect();
    let mut last_error = None;
    for _attempt in 0..options.connection_attempts.max(1) {
        for address in &addresses {
            match TcpStream::connect_timeout(address, options.connect_timeout) {
                Ok(socket) => {
                    // Without TCP_NODELAY each new channel waits ~40 ms on delayed ACKs.
                    socket.set_nodelay(true).map_err(Error::session)?;
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
    Err(Error::Connect { place, why })
}

/// A connection error that names the host as it was written (`web1`) beside the address the
/// SSH config gave it, which alone would not say which host of the run it is.
fn named(error: Error, host: &str, config: &HostConfig) -> Error {
    let name = Host::parse(host).map(|h| h.name).unwrap_or_default();
    match error {
        Error::Connect { place, why } if !name.is_empty() && name != config.hostname => {
            Error::Connect {
                place: format!("`{name}` ({place})"),
                why,
            }
        }
        other => other,
    }
}

/// When `socket` last received data, from the kernel's TCP statistics: keepalive answers
/// count, bare acknowledgements do not.
fn last_received(socket: &TcpStream) -> Option<Instant> {
    // SAFETY: an all-zero `tcp_info` is a valid value of this plain C struct.
    #[allow(unsafe_code)]
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut length = libc::socklen_t::try_from(std::mem::size_of::<libc::tcp_info>()).ok()?;
    // SAFETY: `info` and `length` are valid for writes and `length` is the size of `info`.
    #[allow(unsafe_code)]
    let status = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&raw mut info).cast(),
            &raw mut length,
        )
    };
    if status != 0 {
        return None;
    }
    Instant::now().checked_sub(Duration::from_millis(u64::from(info.tcpi_last_data_recv)))
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

impl jump::Hop for Connection {
    fn session(&self) -> &Session {
        &self.session
    }

    fn raw_fd(&self) -> std::os::fd::RawFd {
        Connection::raw_fd(self)
    }
}

/// Why a handshake failed, in words, with what to do: libssh2's own message is terse
/// ("Timed out waiting on socket") and its code (`Session(-9)`) means nothing to a user.
fn handshake_failure(error: &ssh2::Error, limit: Duration) -> String {
    // libssh2's error codes (libssh2.h).
    const TIMEOUT: i32 = -9;
    const KEX_FAILURE: i32 = -5;
    const SOCKET_SEND: i32 = -7;
    const SOCKET_DISCONNECT: i32 = -13;
    const BANNER_RECV: i32 = -2;
    const SOCKET_RECV: i32 = -43;
    match error.code() {
        ssh2::ErrorCode::Session(TIMEOUT) => format!(
            "no SSH greeting within {}s (-t): something listens there but does not speak SSH, \
             or answers too slowly; check the port, or raise -t",
            limit.as_secs_f64()
        ),
        ssh2::ErrorCode::Session(KEX_FAILURE) => format!(
            "no key exchange method in common with the server ({}); the server's sshd is too \
             old or too strict for libssh2",
            error.message()
        ),
        ssh2::ErrorCode::Session(SOCKET_SEND | SOCKET_DISCONNECT | BANNER_RECV | SOCKET_RECV) => {
            format!(
                "the server closed the connection before the handshake ended ({}): sshd may be \
             refusing new connections (MaxStartups, a firewall), or the port is not sshd's",
                error.message()
            )
        }
        _ => error.message().to_owned(),
    }
}
