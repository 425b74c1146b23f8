//! Connection settings the way libpq users expect them.
//!
//! `--db` takes a URI (`postgresql://…`) or a `key=value` conninfo string;
//! without it `DATABASE_URL` is used. Whatever neither gives comes from the
//! libpq environment variables (PGHOST, PGPORT, PGUSER, PGPASSWORD,
//! PGDATABASE, PGSSLMODE, …) and then libpq's defaults.

use pgsr_planner::display::escape;
use std::collections::BTreeMap;
use std::fmt;

/// Parameters pgsr understands, with the environment variable that supplies
/// each when the connection string does not.
const PARAMETERS: &[(&str, Option<&str>)] = &[
    ("host", Some("PGHOST")),
    ("hostaddr", Some("PGHOSTADDR")),
    ("port", Some("PGPORT")),
    ("user", Some("PGUSER")),
    ("password", Some("PGPASSWORD")),
    ("dbname", Some("PGDATABASE")),
    ("sslmode", Some("PGSSLMODE")),
    ("sslrootcert", Some("PGSSLROOTCERT")),
    ("sslcert", Some("PGSSLCERT")),
    ("sslkey", Some("PGSSLKEY")),
    ("sslpassword", None),
    ("connect_timeout", Some("PGCONNECT_TIMEOUT")),
    ("application_name", Some("PGAPPNAME")),
    ("options", Some("PGOPTIONS")),
    ("target_session_attrs", Some("PGTARGETSESSIONATTRS")),
    ("service", None),
    ("keepalives", None),
    ("keepalives_idle", None),
    ("keepalives_interval", None),
    ("keepalives_count", None),
];

/// A parsed connection string: parameter name to value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnInfo {
    pub params: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnInfoError(pub String);

impl fmt::Display for ConnInfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid connection string: {}", self.0)
    }
}

impl std::error::Error for ConnInfoError {}

impl ConnInfo {
    /// Parses a URI or a key=value string. Errors never show the password,
    /// nor text that may be part of one.
    pub fn parse(text: &str) -> Result<ConnInfo, ConnInfoError> {
        let trimmed = text.trim();
        let mut info = if trimmed.starts_with("postgresql://") || trimmed.starts_with("postgres://")
        {
            parse_uri(trimmed)?
        } else {
            parse_key_value(trimmed)?
        };
        info.params.retain(|_, v| !v.is_empty());
        for key in info.params.keys() {
            check_known(key)?;
        }
        Ok(info)
    }

    /// Fills what is missing from the environment (given as a lookup
    /// function, so that this stays testable) and libpq's defaults.
    pub fn with_defaults(mut self, env: impl Fn(&str) -> Option<String>) -> ConnInfo {
        for (key, var) in PARAMETERS {
            if self.params.contains_key(*key) {
                continue;
            }
            if let Some(value) = var.and_then(&env).filter(|v| !v.is_empty()) {
                self.params.insert((*key).to_owned(), value);
            }
        }
        if !self.params.contains_key("user") {
            if let Some(user) = env("USER").or_else(|| env("LOGNAME")) {
                self.params.insert("user".into(), user);
            }
        }
        if !self.params.contains_key("dbname") {
            if let Some(user) = self.params.get("user").cloned() {
                self.params.insert("dbname".into(), user);
            }
        }
        self.params
            .entry("application_name".into())
            .or_insert_with(|| "pgsr".into());
        // As libpq: a client certificate and key in ~/.postgresql, when
        // there are.
        if let Some(home) = env("HOME").filter(|h| !h.is_empty()) {
            for (key, file) in [("sslcert", "postgresql.crt"), ("sslkey", "postgresql.key")] {
                let path = format!("{home}/.postgresql/{file}");
                if !self.params.contains_key(key) && std::path::Path::new(&path).is_file() {
                    self.params.insert(key.into(), path);
                }
            }
        }
        if !self.params.contains_key("host") && !self.params.contains_key("hostaddr") {
            let dir = if std::path::Path::new("/var/run/postgresql").is_dir() {
                "/var/run/postgresql"
            } else {
                "/tmp"
            };
            self.params.insert("host".into(), dir.into());
        }
        self
    }

    /// Fills what is missing from the service `service=` (or `PGSERVICE`)
    /// names, looked up in `PGSERVICEFILE` (else `~/.pg_service.conf`),
    /// then in `PGSYSCONFDIR/pg_service.conf`: before the environment, as
    /// libpq does. `read` reads a file.
    pub fn with_service(
        mut self,
        env: impl Fn(&str) -> Option<String>,
        read: impl Fn(&str) -> Option<String>,
    ) -> Result<ConnInfo, ConnInfoError> {
        let Some(name) = self
            .params
            .remove("service")
            .or_else(|| env("PGSERVICE").filter(|s| !s.is_empty()))
        else {
            return Ok(self);
        };
        let user_file =
            env("PGSERVICEFILE").or_else(|| env("HOME").map(|h| format!("{h}/.pg_service.conf")));
        let system_file = env("PGSYSCONFDIR").map(|d| format!("{d}/pg_service.conf"));
        let found = [user_file, system_file]
            .into_iter()
            .flatten()
            .find_map(|f| read(&f).and_then(|text| crate::passfile::service(&text, &name)));
        let Some(params) = found else {
            return Err(ConnInfoError(format!(
                "definition of service {:?} not found",
                escape(&name)
            )));
        };
        for (key, value) in params {
            check_known(&key)?;
            if key != "service" && !value.is_empty() {
                self.params.entry(key).or_insert(value);
            }
        }
        Ok(self)
    }

    /// Without a password, the one the password file (`PGPASSFILE`, else
    /// `~/.pgpass`) gives for this host, port, database and user. `read`
    /// reads a file with its permission bits; a file others may read is
    /// ignored, as libpq ignores it, and the warning returned says so.
    pub fn with_passfile(
        mut self,
        env: impl Fn(&str) -> Option<String>,
        read: impl Fn(&str) -> Option<(String, u32)>,
    ) -> (ConnInfo, Option<String>) {
        if self.params.contains_key("password") {
            return (self, None);
        }
        let Some(file) = env("PGPASSFILE").or_else(|| env("HOME").map(|h| format!("{h}/.pgpass")))
        else {
            return (self, None);
        };
        let Some((text, mode)) = read(&file) else {
            return (self, None);
        };
        if mode & 0o077 != 0 {
            let warning = format!(
                "password file {} has group or world access; permissions should be u=rw (0600) or less: it is ignored",
                escape(&file)
            );
            return (self, Some(warning));
        }
        let host = self
            .get("host")
            .or(self.get("hostaddr"))
            .unwrap_or("localhost");
        let port = self.get("port").unwrap_or("5432");
        let found = crate::passfile::password_for(
            &text,
            host,
            port,
            self.get("dbname").unwrap_or(""),
            self.get("user").unwrap_or(""),
        );
        if let Some(password) = found {
            self.params.insert("password".into(), password);
        }
        (self, None)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }

    /// A short description of where this connects, for error messages:
    /// never includes the password.
    pub fn target(&self) -> String {
        let host = self.get("host").or(self.get("hostaddr")).unwrap_or("?");
        let port = self.get("port").unwrap_or("5432");
        let db = self.get("dbname").unwrap_or("?");
        let user = self.get("user").unwrap_or("?");
        let (host, port) = (escape(host), escape(port));
        if host.starts_with('/') {
            format!("database {db:?} as {user:?} on socket {host}/.s.PGSQL.{port}")
        } else {
            format!("database {db:?} as {user:?} on {host}:{port}")
        }
    }
}

fn check_known(key: &str) -> Result<(), ConnInfoError> {
    if PARAMETERS.iter().any(|(k, _)| *k == key) {
        return Ok(());
    }
    Err(ConnInfoError(format!("unknown parameter {key:?}")))
}

fn parse_key_value(text: &str) -> Result<ConnInfo, ConnInfoError> {
    let mut params = BTreeMap::new();
    let mut chars = text.chars().peekable();
    let mut after_password = false;
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            if after_password {
                return Err(after_the_password());
            }
            return Err(ConnInfoError(format!("missing \"=\" after {key:?}")));
        }
        if after_password && check_known(&key).is_err() {
            return Err(after_the_password());
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    None => return Err(ConnInfoError("unterminated quoted value".into())),
                    Some('\'') => break,
                    Some('\\') => match chars.next() {
                        Some(c) => value.push(c),
                        None => return Err(ConnInfoError("unterminated quoted value".into())),
                    },
                    Some(c) => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    if let Some(c) = chars.next() {
                        value.push(c);
                    }
                } else {
                    value.push(c);
                }
            }
        }
        after_password = key == "password" || key == "sslpassword";
        params.insert(key, value);
    }
    Ok(ConnInfo { params })
}

/// A password holding a space, unquoted: what follows the space reads as
/// the next key, and is part of the password.
fn after_the_password() -> ConnInfoError {
    ConnInfoError(
        "unknown parameter or stray text after the password (not shown: it may be part of it); quote a password holding spaces: password='…'".into(),
    )
}

/// A URI, split as libpq splits it: the user name and password end at the
/// first `@` before the first `/`. A URI with another `@` is refused: a
/// password holding `@` or `/` would be cut there, and its rest read as a
/// host, port, database name or parameter. Text that may be part of the
/// password is never quoted in errors: nothing from the user name and
/// password, nothing after a second `@`, and no port (a URI without
/// `@host` reads `user:password` as host and port).
fn parse_uri(text: &str) -> Result<ConnInfo, ConnInfoError> {
    let rest = text
        .strip_prefix("postgresql://")
        .or_else(|| text.strip_prefix("postgres://"))
        .expect("checked by caller");
    let before_path = rest.split('/').next().unwrap_or_default();
    let mut params = BTreeMap::new();
    let rest = match before_path.split_once('@') {
        Some((userinfo, _)) => {
            let (user, password) = match userinfo.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (userinfo, None),
            };
            params.insert("user".to_owned(), percent_decode(user, "user name")?);
            if let Some(p) = password {
                params.insert("password".to_owned(), percent_decode(p, "password")?);
            }
            &rest[userinfo.len() + 1..]
        }
        None => rest,
    };
    if rest.contains('@') {
        // `user:pass/word@host`: the password's `/` put it after the host
        // part, where it would be read as a host, port or database name.
        return Err(ConnInfoError(
            "more than one `@`, or an `@` after a `/`, in the URI: percent-encode `@` as %40 and `/` as %2F in a user name or password, and `@` after the host as %40".into(),
        ));
    }
    let (hosts, rest) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let mut host_list = Vec::new();
    let mut port_list = Vec::new();
    for part in hosts.split(',').filter(|p| !p.is_empty()) {
        let (host, port) = if let Some(stripped) = part.strip_prefix('[') {
            let (h, after) = stripped
                .split_once(']')
                .ok_or_else(|| ConnInfoError("unterminated IPv6 address".into()))?;
            (h.to_owned(), after.strip_prefix(':'))
        } else {
            match part.rsplit_once(':') {
                Some((h, p)) => (percent_decode(h, "host")?, Some(p)),
                None => (percent_decode(part, "host")?, None),
            }
        };
        let port = port.unwrap_or_default();
        if !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConnInfoError(
                "the port in the URI is not a number (not shown: it may be a password whose `@host` is missing)".into(),
            ));
        }
        host_list.push(host);
        port_list.push(port);
    }
    if !host_list.is_empty() && host_list.iter().any(|h| !h.is_empty()) {
        params.insert("host".to_owned(), host_list.join(","));
    }
    if port_list.iter().any(|p| !p.is_empty()) {
        params.insert("port".to_owned(), port_list.join(","));
    }
    if let Some(db) = path.strip_prefix('/').filter(|p| !p.is_empty()) {
        params.insert("dbname".to_owned(), percent_decode(db, "database name")?);
    }
    for pair in query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| ConnInfoError(format!("missing \"=\" in URI parameter {pair:?}")))?;
        let key = percent_decode(k, "parameter name")?;
        let value = percent_decode(v, &format!("value of {key:?}"))?;
        params.insert(key, value);
    }
    Ok(ConnInfo { params })
}

/// Decodes `%XX` escapes in the part of a URI named `part`; errors name the
/// part, never its text.
fn percent_decode(text: &str, part: &str) -> Result<String, ConnInfoError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    ConnInfoError(format!("bad percent-encoding in the URI's {part}"))
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| {
        ConnInfoError(format!(
            "the URI's {part} is not valid UTF-8 after percent-decoding"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn key_value() {
        let c = ConnInfo::parse("host=/tmp port = 5433 dbname='my db' password='it\\'s'").unwrap();
        assert_eq!(c.get("host"), Some("/tmp"));
        assert_eq!(c.get("port"), Some("5433"));
        assert_eq!(c.get("dbname"), Some("my db"));
        assert_eq!(c.get("password"), Some("it's"));
    }

    #[test]
    fn uri() {
        let c = ConnInfo::parse("postgresql://al%40ice:p%3Aw@db.example.com:6543/ware?sslmode=verify-full&application_name=x").unwrap();
        assert_eq!(c.get("user"), Some("al@ice"));
        assert_eq!(c.get("password"), Some("p:w"));
        assert_eq!(c.get("host"), Some("db.example.com"));
        assert_eq!(c.get("port"), Some("6543"));
        assert_eq!(c.get("dbname"), Some("ware"));
        assert_eq!(c.get("sslmode"), Some("verify-full"));
        let s = ConnInfo::parse("postgres:///db?host=%2Fvar%2Frun%2Fpostgresql").unwrap();
        assert_eq!(s.get("host"), Some("/var/run/postgresql"));
        let v6 = ConnInfo::parse("postgresql://[::1]:5432/x").unwrap();
        assert_eq!(v6.get("host"), Some("::1"));
    }

    #[test]
    fn rejects_unknown_and_malformed() {
        assert!(ConnInfo::parse("hots=x").is_err());
        assert!(ConnInfo::parse("host").is_err());
        assert!(ConnInfo::parse("host='x").is_err());
        assert!(ConnInfo::parse("postgresql://h/d?x").is_err());
    }

    /// Connection strings holding the password `XYZZY…PLUGH` (with what
    /// separates the two halves), malformed in ways that could make an
    /// error quote it or a part of it.
    #[test]
    fn errors_never_show_the_password() {
        let cases = [
            (
                "postgresql://user:XYZZYPLUGH@host:notaport/db",
                "port in the URI is not a number",
            ),
            // No `@host`: the password reads as a port.
            (
                "postgresql://user:XYZZYPLUGH/db",
                "port in the URI is not a number",
            ),
            (
                "postgresql://user:XYZZYPLUGH",
                "port in the URI is not a number",
            ),
            // A `/` or an `@` in the password, not percent-encoded.
            (
                "postgresql://user:XYZZY/PLUGH@host/db",
                "percent-encode `@` as %40 and `/` as %2F",
            ),
            (
                "postgresql://user:1234/XYZZY@PLUGH/db",
                "percent-encode `@` as %40 and `/` as %2F",
            ),
            (
                "postgresql://user:XYZZY@PLUGH@host/db",
                "percent-encode `@` as %40 and `/` as %2F",
            ),
            (
                "postgresql://user:XYZZY/?PLUGH=1@host",
                "percent-encode `@` as %40 and `/` as %2F",
            ),
            (
                "postgresql://user:XYZZY%zzPLUGH@host/db",
                "bad percent-encoding in the URI's password",
            ),
            (
                "postgresql://user:XYZZY%PLUGH@host/db",
                "bad percent-encoding in the URI's password",
            ),
            (
                "postgresql://user:XYZZY%ffPLUGH@host/db",
                "the URI's password is not valid UTF-8",
            ),
            (
                "postgresql://user:XYZZYPLUGH@[::1/db",
                "unterminated IPv6 address",
            ),
            (
                "postgresql://user:XYZZYPLUGH@host/db?bogus=1",
                "unknown parameter \"bogus\"",
            ),
            (
                "postgresql://user:XYZZYPLUGH@host/db?sslmode",
                "missing \"=\" in URI parameter \"sslmode\"",
            ),
            (
                "password=XYZZY PLUGH port=5432",
                "quote a password holding spaces",
            ),
            ("password=XYZZY PLUGH=1", "quote a password holding spaces"),
            ("password=XYZZY PLUGH", "quote a password holding spaces"),
            ("password='XYZZY PLUGH", "unterminated quoted value"),
            (
                "password='XYZZY'PLUGH port=5432",
                "quote a password holding spaces",
            ),
            (
                "password=XYZZY PLUGHbogus=1",
                "quote a password holding spaces",
            ),
            (
                "password=XYZZYPLUGH sslmod=disable",
                "quote a password holding spaces",
            ),
            (
                "sslmod=disable password=XYZZYPLUGH",
                "unknown parameter \"sslmod\"",
            ),
        ];
        for (text, says) in cases {
            let e = ConnInfo::parse(text).expect_err(text).to_string();
            assert!(e.contains(says), "{text}: {e}");
            for part in ["XYZZY", "PLUGH"] {
                assert!(!e.contains(part), "{text}: the error shows {part}: {e}");
            }
        }
    }

    /// What libpq reads from a URI, pgsr reads the same way.
    #[test]
    fn uri_user_and_password_end_at_the_first_at_sign() {
        let c = ConnInfo::parse("postgresql://u:p?w#d@h:5432/db?sslmode=disable").unwrap();
        assert_eq!(c.get("user"), Some("u"));
        assert_eq!(c.get("password"), Some("p?w#d"));
        assert_eq!(c.get("host"), Some("h"));
        assert_eq!(c.get("port"), Some("5432"));
        assert_eq!(c.get("dbname"), Some("db"));
        let c = ConnInfo::parse("postgresql://u:p%40s%2Fs@h/db").unwrap();
        assert_eq!(c.get("password"), Some("p@s/s"));
        let c = ConnInfo::parse("postgresql://h1:5432,h2:5433?dbname=d").unwrap();
        assert_eq!(c.get("host"), Some("h1,h2"));
        assert_eq!(c.get("port"), Some("5432,5433"));
        assert_eq!(c.get("dbname"), Some("d"));
    }

    #[test]
    fn target_escapes_control_characters() {
        let c = ConnInfo::parse("host=a\u{1b}[2Jb port=5432 user=u\u{9b}1m dbname=d").unwrap();
        let target = c.target();
        assert!(!target.contains(['\u{1b}', '\u{9b}']), "{target}");
        assert!(target.contains("a\\u{1b}[2Jb"), "{target}");
    }

    #[test]
    fn a_service_fills_what_the_string_leaves_before_the_environment() {
        let env = |k: &str| match k {
            "PGSERVICEFILE" => Some("/svc".to_owned()),
            "PGPORT" => Some("7777".to_owned()),
            "PGUSER" => Some("envuser".to_owned()),
            _ => None,
        };
        let read = |path: &str| {
            (path == "/svc").then(|| "[app]\nhost=h\nport=6543\ndbname=svcdb\n".to_owned())
        };
        let c = ConnInfo::parse("service=app dbname=mine")
            .unwrap()
            .with_service(env, read)
            .unwrap()
            .with_defaults(env);
        assert_eq!(c.get("host"), Some("h"));
        assert_eq!(
            c.get("port"),
            Some("6543"),
            "the service wins over the environment"
        );
        assert_eq!(
            c.get("dbname"),
            Some("mine"),
            "the string wins over the service"
        );
        assert_eq!(c.get("user"), Some("envuser"));
        assert_eq!(c.get("service"), None);
        let missing = ConnInfo::parse("service=nope")
            .unwrap()
            .with_service(env, read);
        assert!(missing.unwrap_err().0.contains("\"nope\" not found"));
    }

    #[test]
    fn the_password_file_is_read_only_when_private() {
        let env = |k: &str| (k == "HOME").then(|| "/home/u".to_owned());
        let text = "h:5432:d:u:secret\n".to_owned();
        let base = || ConnInfo::parse("host=h dbname=d user=u").unwrap();
        let (c, warning) = base().with_passfile(env, |_| Some((text.clone(), 0o100600)));
        assert_eq!((c.get("password"), warning), (Some("secret"), None));
        let (c, warning) = base().with_passfile(env, |_| Some((text.clone(), 0o100644)));
        assert_eq!(c.get("password"), None);
        assert!(warning.unwrap().contains("/home/u/.pgpass"));
        let given = ConnInfo::parse("host=h dbname=d user=u password=mine").unwrap();
        let (c, _) = given.with_passfile(env, |_| Some((text.clone(), 0o100600)));
        assert_eq!(c.get("password"), Some("mine"));
    }

    #[test]
    fn environment_fills_gaps_only() {
        let env = |k: &str| match k {
            "PGHOST" => Some("envhost".to_owned()),
            "PGUSER" => Some("envuser".to_owned()),
            "PGPORT" => Some("7777".to_owned()),
            _ => None,
        };
        let c = ConnInfo::parse("port=5433").unwrap().with_defaults(env);
        assert_eq!(c.get("host"), Some("envhost"));
        assert_eq!(c.get("port"), Some("5433"));
        assert_eq!(c.get("user"), Some("envuser"));
        assert_eq!(c.get("dbname"), Some("envuser"));
        let d = ConnInfo::parse("").unwrap().with_defaults(no_env);
        assert!(d.get("host").unwrap().starts_with('/'));
        assert_eq!(d.get("application_name"), Some("pgsr"));
        let e = ConnInfo::parse("application_name=mine")
            .unwrap()
            .with_defaults(no_env);
        assert_eq!(e.get("application_name"), Some("mine"));
    }
}
