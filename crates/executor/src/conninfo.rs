//! Connection settings the way libpq users expect them.
//!
//! `--db` takes a URI (`postgresql://…`) or a `key=value` conninfo string;
//! without it `DATABASE_URL` is used. Whatever neither gives comes from the
//! libpq environment variables (PGHOST, PGPORT, PGUSER, PGPASSWORD,
//! PGDATABASE, PGSSLMODE, …) and then libpq's defaults.

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
    ("connect_timeout", Some("PGCONNECT_TIMEOUT")),
    ("application_name", Some("PGAPPNAME")),
    ("options", Some("PGOPTIONS")),
    ("target_session_attrs", Some("PGTARGETSESSIONATTRS")),
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
    /// Parses a URI or a key=value string.
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
            if !PARAMETERS.iter().any(|(k, _)| k == key) {
                return Err(ConnInfoError(format!("unknown parameter {key:?}")));
            }
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
        if host.starts_with('/') {
            format!("database {db:?} as {user:?} on socket {host}/.s.PGSQL.{port}")
        } else {
            format!("database {db:?} as {user:?} on {host}:{port}")
        }
    }
}

fn parse_key_value(text: &str) -> Result<ConnInfo, ConnInfoError> {
    let mut params = BTreeMap::new();
    let mut chars = text.chars().peekable();
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
            return Err(ConnInfoError(format!("missing \"=\" after {key:?}")));
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
        params.insert(key, value);
    }
    Ok(ConnInfo { params })
}

fn parse_uri(text: &str) -> Result<ConnInfo, ConnInfoError> {
    let rest = text
        .strip_prefix("postgresql://")
        .or_else(|| text.strip_prefix("postgres://"))
        .expect("checked by caller");
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match rest.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (rest, None),
    };
    let mut params = BTreeMap::new();
    let hosts = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => {
            let (user, password) = match userinfo.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (userinfo, None),
            };
            params.insert("user".to_owned(), percent_decode(user)?);
            if let Some(p) = password {
                params.insert("password".to_owned(), percent_decode(p)?);
            }
            hosts
        }
        None => authority,
    };
    let mut host_list = Vec::new();
    let mut port_list = Vec::new();
    for part in hosts.split(',').filter(|p| !p.is_empty()) {
        let (host, port) = if let Some(stripped) = part.strip_prefix('[') {
            let (h, after) = stripped
                .split_once(']')
                .ok_or_else(|| ConnInfoError("unterminated IPv6 address".into()))?;
            (h.to_owned(), after.strip_prefix(':').map(str::to_owned))
        } else {
            match part.rsplit_once(':') {
                Some((h, p)) => (percent_decode(h)?, Some(p.to_owned())),
                None => (percent_decode(part)?, None),
            }
        };
        host_list.push(host);
        port_list.push(port.unwrap_or_default());
    }
    if !host_list.is_empty() && host_list.iter().any(|h| !h.is_empty()) {
        params.insert("host".to_owned(), host_list.join(","));
    }
    if port_list.iter().any(|p| !p.is_empty()) {
        params.insert("port".to_owned(), port_list.join(","));
    }
    if let Some(db) = path.filter(|p| !p.is_empty()) {
        params.insert("dbname".to_owned(), percent_decode(db)?);
    }
    for pair in query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| ConnInfoError(format!("missing \"=\" in URI parameter {pair:?}")))?;
        params.insert(percent_decode(k)?, percent_decode(v)?);
    }
    Ok(ConnInfo { params })
}

fn percent_decode(text: &str) -> Result<String, ConnInfoError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| ConnInfoError("bad percent-encoding in URI".into()))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| ConnInfoError("URI is not valid UTF-8 after decoding".into()))
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
    }
}
