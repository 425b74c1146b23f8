//! Opening a connection: conninfo to `postgres::Config`, and TLS.

use crate::conninfo::ConnInfo;
use crate::wait::Timeouts;
use crate::Error;
use postgres::config::{SslMode, TargetSessionAttrs};
use postgres::{Client, Config};
use postgres_native_tls::MakeTlsConnector;
use std::time::Duration;

/// libpq's `sslmode`, of which `postgres` knows only the first three.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TlsMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// How long a connection's start-up may take when the connection string
/// says nothing (libpq would wait forever).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection, and the version of the server it is to: the catalog is
/// read with one statement written for that version.
pub struct Session {
    client: Client,
    server_version_num: u32,
    pid: i32,
    pub(crate) prepared: crate::inspect::PreparedStatements,
}

impl Session {
    /// `server_version_num`, such as 150004.
    pub fn server_version_num(&self) -> u32 {
        self.server_version_num
    }

    /// The server process's id (`pg_backend_pid()`), for the watcher of
    /// waits.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// For a session that syncs many times: its prepared statements (the
    /// catalog statements) are planned once, with plans that do not depend
    /// on the lists they are given, rather than at every execution. A
    /// one-shot run prepares nothing: it sends the statements with their
    /// lists as literals, planned for those lists.
    pub fn plan_once(&mut self) -> Result<(), Error> {
        self.prepared.keep();
        self.client
            .batch_execute(
                "SELECT pg_catalog.set_config('plan_cache_mode', 'force_generic_plan', false)",
            )
            .map_err(|e| Error::database(format!("cannot set plan_cache_mode: {}", describe(&e))))
    }

    /// The connection alone.
    pub fn into_client(self) -> Client {
        self.client
    }
}

impl std::ops::Deref for Session {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl std::ops::DerefMut for Session {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// Why a connection's start-up failed.
enum StartError {
    Driver(postgres::Error),
    NoVersion,
}

/// Connects as the connection string says, and sets the session up: an
/// empty `search_path`, and `timeouts`' lock and statement timeouts.
///
/// `connect_timeout` bounds the whole start-up, not only the TCP connect as
/// the driver's does: TLS, authentication, and the set-up query too, so a
/// server that accepts the connection and never answers cannot hang pgsr.
/// The driver offers no way to interrupt its start-up, so it runs on a
/// thread of its own; past the deadline the caller gets an error and the
/// thread is left to end with the connection, which it then closes (its
/// result has nowhere to go), or with the process.
pub fn connect(info: &ConnInfo, timeouts: &Timeouts) -> Result<Session, Error> {
    let (config, tls) = config(info)?;
    let deadline = connect_timeout(info, &config)?;
    let target = info.target();
    // An empty search_path leaves only pg_catalog (and pg_temp for
    // relations): pgsr's unqualified catalog names must not resolve to
    // look-alikes that a database or role owner put first in the
    // search_path (ALTER DATABASE/ROLE … SET search_path), which would run
    // with pgsr's privileges and could forge what it reads. The same round
    // trip reads the server's version, the backend's pid, and whether the
    // role is a superuser (which reads the catalog more cheaply).
    let setup = format!(
        "SELECT pg_catalog.set_config('search_path', '', false), \
                pg_catalog.current_setting('server_version_num'), \
                pg_catalog.pg_backend_pid(), \
                pg_catalog.current_setting('is_superuser'){}",
        timeouts.session_settings()
    );
    let start = move || -> Result<Session, StartError> {
        let mut client = match tls {
            Tls::None => config.connect(postgres::NoTls),
            Tls::Unverified(tls) => config.connect(tls),
            Tls::Verified(tls) => config.connect(tls),
        }
        .map_err(StartError::Driver)?;
        let messages = client.simple_query(&setup).map_err(StartError::Driver)?;
        let (server_version_num, pid, superuser) = messages
            .iter()
            .find_map(|m| match m {
                postgres::SimpleQueryMessage::Row(row) => Some((
                    row.get(1).and_then(|v| v.parse().ok())?,
                    row.get(2).and_then(|v| v.parse().ok())?,
                    row.get(3) == Some("on"),
                )),
                _ => None,
            })
            .ok_or(StartError::NoVersion)?;
        Ok(Session {
            client,
            server_version_num,
            pid,
            prepared: crate::inspect::PreparedStatements::new(server_version_num, superuser),
        })
    };
    let fail = |e: StartError| match e {
        StartError::Driver(e) => {
            Error::connection(format!("cannot connect to {target}: {}", describe(&e)))
        }
        StartError::NoVersion => Error::connection(format!(
            "cannot connect to {target}: the server did not say its version"
        )),
    };
    let Some(deadline) = deadline else {
        return start().map_err(fail);
    };
    let (sender, receiver) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("pgsr-connect".into())
        .spawn(move || {
            // Past the deadline nobody receives: the client is dropped,
            // which closes the connection.
            let _ = sender.send(start());
        })
        .map_err(|e| Error::connection(format!("cannot connect to {target}: {e}")))?;
    match receiver.recv_timeout(deadline) {
        Ok(result) => result.map_err(fail),
        Err(_) => Err(Error::connection(format!(
            "cannot connect to {target}: timed out after {} (connect_timeout): the server did not complete the connection start-up (TLS, authentication) in time",
            crate::wait::shown(deadline)
        ))),
    }
}

/// The limit on a connection's whole start-up: `connect_timeout` seconds
/// (at least 2, as libpq) per host to try, [`DEFAULT_CONNECT_TIMEOUT`]
/// when not given, none when 0.
fn connect_timeout(info: &ConnInfo, config: &Config) -> Result<Option<Duration>, Error> {
    let per_host = match info.get("connect_timeout") {
        None => DEFAULT_CONNECT_TIMEOUT,
        Some(value) => {
            let secs: u64 = value.trim().parse().map_err(|_| {
                Error::usage(format!(
                    "invalid connection string: bad connect_timeout {value:?}"
                ))
            })?;
            if secs == 0 {
                return Ok(None);
            }
            Duration::from_secs(secs.clamp(2, 86_400))
        }
    };
    let hosts = config
        .get_hosts()
        .len()
        .max(config.get_hostaddrs().len())
        .max(1);
    Ok(Some(per_host * hosts as u32))
}

/// How a connection is encrypted.
enum Tls {
    /// `sslmode=disable`, or unix sockets only (which never use TLS).
    None,
    /// `prefer` and `require`: encrypted, the server not authenticated, so
    /// no trust roots are loaded.
    Unverified(crate::tls::Unverified),
    /// `verify-ca` and `verify-full` (and `require` with `sslrootcert`):
    /// the server's chain is checked against the roots, which are loaded.
    Verified(MakeTlsConnector),
}

/// The driver's configuration, and how TLS is done. Loading the system's
/// root certificates is most of the cost of a short run, so only the modes
/// that verify the server load them.
fn config(info: &ConnInfo) -> Result<(Config, Tls), Error> {
    let bad = |msg: String| Error::usage(format!("invalid connection string: {msg}"));
    let mut config = Config::new();
    for (key, value) in &info.params {
        match key.as_str() {
            "host" => {
                for host in value.split(',') {
                    config.host(host);
                }
            }
            "hostaddr" => {
                for addr in value.split(',') {
                    let ip = addr
                        .parse()
                        .map_err(|_| bad(format!("bad hostaddr {addr:?}")))?;
                    config.hostaddr(ip);
                }
            }
            "port" => {
                for port in value.split(',') {
                    let port = if port.is_empty() { "5432" } else { port };
                    config.port(
                        port.parse()
                            .map_err(|_| bad(format!("bad port {port:?}")))?,
                    );
                }
            }
            "user" => {
                config.user(value);
            }
            "password" => {
                config.password(value);
            }
            "dbname" => {
                config.dbname(value);
            }
            "application_name" => {
                config.application_name(value);
            }
            "options" => {
                config.options(value);
            }
            "connect_timeout" => {
                let secs: u64 = value
                    .trim()
                    .parse()
                    .map_err(|_| bad(format!("bad connect_timeout {value:?}")))?;
                if secs > 0 {
                    config.connect_timeout(Duration::from_secs(secs.clamp(2, 86_400)));
                }
            }
            "target_session_attrs" => {
                config.target_session_attrs(match value.as_str() {
                    "any" => TargetSessionAttrs::Any,
                    "read-write" => TargetSessionAttrs::ReadWrite,
                    "read-only" => TargetSessionAttrs::ReadOnly,
                    _ => return Err(bad(format!("bad target_session_attrs {value:?}"))),
                });
            }
            "keepalives" => {
                config.keepalives(value != "0");
            }
            "keepalives_idle" => {
                let secs: u64 = value
                    .parse()
                    .map_err(|_| bad(format!("bad keepalives_idle {value:?}")))?;
                config.keepalives_idle(Duration::from_secs(secs));
            }
            "keepalives_interval" => {
                let secs: u64 = value
                    .parse()
                    .map_err(|_| bad(format!("bad keepalives_interval {value:?}")))?;
                config.keepalives_interval(Duration::from_secs(secs));
            }
            "keepalives_count" => {
                let n: u32 = value
                    .parse()
                    .map_err(|_| bad(format!("bad keepalives_count {value:?}")))?;
                config.keepalives_retries(n);
            }
            // Handled below, with the TLS connector.
            "sslmode" | "sslrootcert" | "sslcert" | "sslkey" | "sslpassword" => {}
            other => return Err(bad(format!("unknown parameter {other:?}"))),
        }
    }
    if config.get_application_name().is_none() {
        config.application_name("pgsr");
    }
    if info.get("connect_timeout").is_none() {
        config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
    }
    let mode = match info.get("sslmode").unwrap_or("prefer") {
        "disable" => TlsMode::Disable,
        "allow" | "prefer" => TlsMode::Prefer,
        // As libpq: `require` with a root certificate verifies the chain.
        "require" if info.get("sslrootcert").is_some() => TlsMode::VerifyCa,
        "require" => TlsMode::Require,
        "verify-ca" => TlsMode::VerifyCa,
        "verify-full" => TlsMode::VerifyFull,
        other => return Err(bad(format!("bad sslmode {other:?} (expected disable, allow, prefer, require, verify-ca or verify-full)"))),
    };
    config.ssl_mode(match mode {
        TlsMode::Disable => SslMode::Disable,
        TlsMode::Prefer => SslMode::Prefer,
        _ => SslMode::Require,
    });
    let sockets_only = config.get_hostaddrs().is_empty()
        && config
            .get_hosts()
            .iter()
            .all(|h| !matches!(h, postgres::config::Host::Tcp(_)));
    let tls = match mode {
        _ if mode == TlsMode::Disable || sockets_only => Tls::None,
        // A client certificate is shown through native-tls, in every mode.
        _ if info.get("sslcert").is_some() => Tls::Verified(verifying_connector(mode, info)?),
        // libpq encrypts but does not authenticate the server in these modes.
        TlsMode::Prefer | TlsMode::Require => Tls::Unverified(
            crate::tls::Unverified::new()
                .map_err(|e| Error::connection(format!("cannot set up TLS: {e}")))?,
        ),
        _ => Tls::Verified(verifying_connector(mode, info)?),
    };
    Ok((config, tls))
}

/// A connector that checks the server's chain (and, for `verify-full`, its
/// name) against `sslrootcert`, or the system's roots, and shows the
/// client certificate `sslcert` names. In `prefer` and `require` (reached
/// only with a client certificate) it checks nothing of the server's and
/// reads no trust root, as libpq.
fn verifying_connector(mode: TlsMode, info: &ConnInfo) -> Result<MakeTlsConnector, Error> {
    let root_cert = info.get("sslrootcert");
    let mut builder = native_tls::TlsConnector::builder();
    if let Some(cert) = info.get("sslcert") {
        let key = info.get("sslkey").ok_or_else(|| {
            Error::usage(format!(
                "sslcert {cert} is given without sslkey, the file of its private key"
            ))
        })?;
        builder.identity(crate::identity::identity(
            cert,
            key,
            info.get("sslpassword"),
        )?);
    }
    if matches!(mode, TlsMode::Prefer | TlsMode::Require) {
        builder
            .danger_accept_invalid_certs(true)
            .danger_accept_invalid_hostnames(true)
            .disable_built_in_roots(true);
        let connector = builder
            .build()
            .map_err(|e| Error::connection(format!("cannot set up TLS: {e}")))?;
        return Ok(MakeTlsConnector::new(connector));
    }
    if mode == TlsMode::VerifyCa {
        builder.danger_accept_invalid_hostnames(true);
    }
    if let Some(path) = root_cert.filter(|p| *p != "system") {
        let pem = read_root_certificates(path)?;
        let certs = split_pem(&pem);
        if certs.is_empty() {
            return Err(Error::usage(format!(
                "sslrootcert {path} holds no PEM certificate"
            )));
        }
        builder.disable_built_in_roots(true);
        for cert in certs {
            let cert = native_tls::Certificate::from_pem(&cert)
                .map_err(|e| Error::usage(format!("bad certificate in sslrootcert {path}: {e}")))?;
            builder.add_root_certificate(cert);
        }
    }
    let connector = builder
        .build()
        .map_err(|e| Error::connection(format!("cannot set up TLS: {e}")))?;
    Ok(MakeTlsConnector::new(connector))
}

/// A certificate bundle larger than this is the wrong file, or a device
/// such as `/dev/zero` that would be read until memory runs out.
const MAX_ROOT_CERT_BYTES: u64 = 16 << 20;

fn read_root_certificates(path: &str) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let fail = |reason: String| Error::usage(format!("cannot read sslrootcert {path}: {reason}"));
    let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
    let mut pem = Vec::new();
    file.take(MAX_ROOT_CERT_BYTES + 1)
        .read_to_end(&mut pem)
        .map_err(|e| fail(e.to_string()))?;
    if pem.len() as u64 > MAX_ROOT_CERT_BYTES {
        return Err(fail(
            "it is larger than 16 MiB, the limit for a certificate bundle".to_owned(),
        ));
    }
    Ok(pem)
}

/// Splits a PEM bundle (such as a cloud provider's CA bundle) into its
/// certificates.
fn split_pem(pem: &[u8]) -> Vec<Vec<u8>> {
    const END: &str = "-----END CERTIFICATE-----";
    let text = String::from_utf8_lossy(pem);
    let mut certs = Vec::new();
    let mut rest = text.as_ref();
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let Some(end) = rest[start..].find(END) else {
            break;
        };
        let stop = start + end + END.len();
        certs.push(rest.as_bytes()[start..stop].to_vec());
        rest = &rest[stop..];
    }
    certs
}

/// One line describing a driver error: the server's message for errors the
/// server sent, else the error and its causes.
pub(crate) fn describe(error: &postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!("{}: {}", db.severity(), db.message());
    }
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_sslmode_is_a_usage_error() {
        let info = ConnInfo::parse("host=/tmp sslmode=sometimes").unwrap();
        let err = config(&info).err().unwrap();
        assert!(err.to_string().contains("bad sslmode"), "{err}");
    }

    fn tls(conninfo: &str) -> Tls {
        config(&ConnInfo::parse(conninfo).unwrap()).ok().unwrap().1
    }

    /// Only the modes that verify the server load trust roots: `prefer` and
    /// `require` never read `sslrootcert` nor the system's bundle.
    #[test]
    fn only_verifying_modes_load_roots() {
        for mode in ["prefer", "allow", "require"] {
            let t = tls(&format!("host=localhost sslmode={mode}"));
            assert!(matches!(t, Tls::Unverified(_)), "{mode}");
        }
        // prefer ignores sslrootcert; a file that cannot be a bundle is not read.
        let t = tls("host=localhost sslmode=prefer sslrootcert=/dev/zero");
        assert!(matches!(t, Tls::Unverified(_)));
        assert!(matches!(tls("host=localhost"), Tls::Unverified(_)));
        for conninfo in [
            "host=localhost sslmode=verify-ca",
            "host=localhost sslmode=verify-full",
            "host=localhost sslmode=verify-full sslrootcert=system",
        ] {
            assert!(matches!(tls(conninfo), Tls::Verified(_)), "{conninfo}");
        }
        assert!(matches!(tls("host=/tmp sslmode=require"), Tls::None));
        assert!(matches!(tls("host=localhost sslmode=disable"), Tls::None));
    }

    /// As libpq: `require` with a root certificate verifies the chain, so
    /// it reads the file.
    #[test]
    fn require_with_a_root_certificate_verifies() {
        let info = ConnInfo::parse("host=localhost sslmode=require sslrootcert=/dev/zero").unwrap();
        let err = config(&info).err().unwrap();
        assert!(err.to_string().contains("larger than 16 MiB"), "{err}");
    }

    #[test]
    fn endless_root_certificate_file_is_refused() {
        let info =
            ConnInfo::parse("host=localhost sslmode=verify-full sslrootcert=/dev/zero").unwrap();
        let err = config(&info).err().unwrap();
        assert!(err.to_string().contains("larger than 16 MiB"), "{err}");
    }

    #[test]
    fn splits_pem_bundles() {
        let one = "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n";
        let bundle = format!("junk\n{one}{one}");
        assert_eq!(split_pem(bundle.as_bytes()).len(), 2);
    }
}
