//! libpq's connection files: the password file (`~/.pgpass`, or
//! `PGPASSFILE`) and the connection service file (`~/.pg_service.conf`,
//! or `PGSERVICEFILE`, then `PGSYSCONFDIR/pg_service.conf`), read by
//! libpq's rules. Parsing is separate from reading, for tests.

use std::collections::BTreeMap;

/// The password of the first line of a password file's `text` that matches
/// (`hostname:port:database:username:password`, `*` matching anything,
/// `\` escaping `:` and `\`). A Unix-socket host matches `localhost`, as in
/// libpq.
pub fn password_for(text: &str, host: &str, port: &str, db: &str, user: &str) -> Option<String> {
    let host = if host.starts_with('/') {
        "localhost"
    } else {
        host
    };
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split(line);
        let [h, p, d, u, password] = fields.as_slice() else {
            continue;
        };
        let matches = |field: &str, value: &str| field == "*" || field == value;
        if matches(h, host) && matches(p, port) && matches(d, db) && matches(u, user) {
            return Some(password.clone());
        }
    }
    None
}

/// A password file line's fields: `:` separates, `\` escapes.
fn split(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    out.last_mut().expect("one at least").push(next);
                }
            }
            ':' if out.len() < 5 => out.push(String::new()),
            c => out.last_mut().expect("one at least").push(c),
        }
    }
    out
}

/// The parameters of service `name` in a service file's `text` (an INI
/// file: `[name]`, then `key=value` lines), if it defines it.
pub fn service(text: &str, name: &str) -> Option<BTreeMap<String, String>> {
    let mut current: Option<&str> = None;
    let mut found: Option<BTreeMap<String, String>> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            if found.is_some() {
                break;
            }
            current = Some(section);
            if section == name {
                found = Some(BTreeMap::new());
            }
            continue;
        }
        if current == Some(name) {
            if let (Some(map), Some((k, v))) = (found.as_mut(), line.split_once('=')) {
                map.insert(k.trim().to_owned(), v.trim().to_owned());
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_lines_match_as_libpq_matches_them() {
        let text = "# comment\n\
                    db.example.com:5432:app:alice:first\n\
                    *:*:*:bob:b\\:c\\\\d\n\
                    localhost:5433:*:carol:socket\n";
        assert_eq!(
            password_for(text, "db.example.com", "5432", "app", "alice").as_deref(),
            Some("first")
        );
        assert_eq!(
            password_for(text, "db.example.com", "5432", "other", "alice"),
            None
        );
        assert_eq!(
            password_for(text, "anywhere", "1", "x", "bob").as_deref(),
            Some("b:c\\d")
        );
        assert_eq!(
            password_for(text, "/tmp", "5433", "x", "carol").as_deref(),
            Some("socket")
        );
        assert_eq!(password_for(text, "/tmp", "5432", "x", "carol"), None);
    }

    #[test]
    fn services_are_sections() {
        let text = "[other]\nhost=a\n\n[prod]\nhost = db.example.com\nport=6543\n# note\ndbname=app\n[next]\nhost=b\n";
        let s = service(text, "prod").expect("defined");
        assert_eq!(s.get("host").map(String::as_str), Some("db.example.com"));
        assert_eq!(s.get("port").map(String::as_str), Some("6543"));
        assert_eq!(s.get("dbname").map(String::as_str), Some("app"));
        assert_eq!(s.len(), 3);
        assert!(service(text, "missing").is_none());
    }
}
