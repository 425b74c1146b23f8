//! Reading and writing snapshots as JSON, and the fingerprint.
//!
//! The file is pretty-printed down to the level of list items, and each item
//! (a role, a relation with its ACL, …) is written compactly on one line, so
//! a snapshot stays small and a diff of two snapshots shows one line per
//! changed object.

use super::{Catalog, Scope, Snapshot, FORMAT_VERSION};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fmt;
use std::io::{self, Write};

/// Items nested deeper than this are written on one line.
const PRETTY_DEPTH: usize = 3;

/// Writes the snapshot as canonical JSON, ending with a newline.
pub fn to_json(snapshot: &Snapshot) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 << 16);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, ShallowPretty::default());
    snapshot.serialize(&mut ser).expect("snapshot serializes");
    out.push(b'\n');
    out
}

pub(super) fn fingerprint(scope: &Scope, catalog: &Catalog) -> String {
    #[derive(Serialize)]
    struct Canonical<'a> {
        scope: &'a Scope,
        catalog: &'a Catalog,
    }
    digest_of(&Canonical { scope, catalog })
}

/// `sha256:` and the hex SHA-256 of a value's compact JSON.
pub(super) fn digest_of(value: &impl Serialize) -> String {
    let mut hasher = HashWriter(Sha256::new());
    serde_json::to_writer(&mut hasher, value).expect("catalog serializes");
    let digest = hasher.0.finalize();
    let mut hex = String::with_capacity(7 + 64);
    hex.push_str("sha256:");
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

struct HashWriter(Sha256);

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Why a snapshot could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// 1-based line and column, when the problem has a position.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => write!(f, "{line}:{column}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ReadError {}

/// Reads and checks a snapshot: the format version, the JSON shape, the
/// fingerprint against the contents, and (for a full snapshot) that every
/// role named by an object exists. Names and values in messages have their
/// control characters escaped.
pub fn from_json(bytes: &[u8]) -> Result<Snapshot, ReadError> {
    read(bytes).map_err(|mut e| {
        e.message = crate::display::escape(&e.message);
        e
    })
}

fn read(bytes: &[u8]) -> Result<Snapshot, ReadError> {
    let snapshot: Snapshot = parse(bytes)?;
    check(&snapshot)?;
    Ok(snapshot)
}

/// Parses JSON into `T`, with a message that names the position apart and
/// a clear one for another format version.
pub(super) fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ReadError> {
    match serde_json::from_slice(bytes) {
        Ok(s) => Ok(s),
        Err(e) => {
            if let Some(version) = probe_version(bytes) {
                if version != FORMAT_VERSION {
                    return Err(ReadError {
                        position: None,
                        message: format!(
                            "snapshot format version {version} is not supported (this pgsr reads version {FORMAT_VERSION}); take the snapshot again with this pgsr"
                        ),
                    });
                }
            }
            // serde_json's column is 0 right after a newline (or in an
            // empty file); positions here are 1-based.
            let position = (e.line() > 0).then(|| (e.line(), e.column().max(1)));
            let message = if e.is_eof() {
                "unexpected end of file: the snapshot is truncated".to_owned()
            } else if e.is_syntax() {
                format!("invalid JSON: {}", strip_position(&e.to_string()))
            } else {
                strip_position(&e.to_string())
            };
            Err(ReadError { position, message })
        }
    }
}

/// Checks a parsed snapshot: its format version, its fingerprint against
/// the contents, and (for a full snapshot) that every role named by an
/// object exists.
pub(super) fn check(snapshot: &Snapshot) -> Result<(), ReadError> {
    if snapshot.format_version != FORMAT_VERSION {
        return Err(ReadError {
            position: None,
            message: format!(
                "snapshot format version {} is not supported (this pgsr reads version {FORMAT_VERSION})",
                snapshot.format_version
            ),
        });
    }
    let computed = snapshot.compute_fingerprint();
    if computed != snapshot.fingerprint {
        return Err(ReadError {
            position: None,
            message: format!(
                "fingerprint {} does not match the contents ({computed}): the snapshot was edited or is not in canonical order; take it again with `pgsr inspect`",
                snapshot.fingerprint
            ),
        });
    }
    if snapshot.scope == Scope::Full {
        check_references(&snapshot.catalog)?;
    }
    Ok(())
}

fn probe_version(bytes: &[u8]) -> Option<u32> {
    #[derive(serde::Deserialize)]
    struct Probe {
        format_version: u32,
    }
    serde_json::from_slice::<Probe>(bytes)
        .ok()
        .map(|p| p.format_version)
}

/// serde_json appends " at line L column C"; the position is reported apart.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn check_references(catalog: &Catalog) -> Result<(), ReadError> {
    let roles: HashSet<&str> = catalog.roles.iter().map(|r| r.name.as_str()).collect();
    let unknown = |what: String, role: &str| ReadError {
        position: None,
        message: format!(
            "inconsistent snapshot: {what} names role {role:?}, which is not in `roles`"
        ),
    };
    let check_acl = |what: &dyn Fn() -> String, acl: Option<&Vec<crate::acl::AclEntry>>| {
        for entry in acl.into_iter().flatten() {
            if !entry.is_public() && !roles.contains(entry.grantee.as_str()) {
                return Err(unknown(what(), &entry.grantee));
            }
            if !roles.contains(entry.grantor.as_str()) {
                return Err(unknown(what(), &entry.grantor));
            }
        }
        Ok(())
    };
    let check_owner = |what: &dyn Fn() -> String, owner: &str| {
        if roles.contains(owner) {
            Ok(())
        } else {
            Err(unknown(what(), owner))
        }
    };
    for m in &catalog.memberships {
        for role in [Some(&m.role), Some(&m.member), m.grantor.as_ref()]
            .into_iter()
            .flatten()
        {
            if !roles.contains(role.as_str()) {
                return Err(unknown(
                    format!("membership of {:?} in {:?}", m.member, m.role),
                    role,
                ));
            }
        }
    }
    for o in catalog.databases.iter().chain(&catalog.tablespaces) {
        check_owner(&|| format!("object {:?}", o.name), &o.owner)?;
        check_acl(&|| format!("the ACL of {:?}", o.name), o.acl.as_ref())?;
    }
    for o in &catalog.schemas {
        check_owner(&|| format!("schema {:?}", o.name), &o.owner)?;
        check_acl(
            &|| format!("the ACL of schema {:?}", o.name),
            o.acl.as_ref(),
        )?;
    }
    for o in &catalog.relations {
        let what = || format!("relation {:?}.{:?}", o.schema, o.name);
        check_owner(&what, &o.owner)?;
        check_acl(&what, o.acl.as_ref())?;
        for c in &o.columns {
            check_acl(&what, Some(&c.acl))?;
        }
    }
    for o in &catalog.routines {
        let what = || format!("routine {:?}.{:?}", o.schema, o.name);
        check_owner(&what, &o.owner)?;
        check_acl(&what, o.acl.as_ref())?;
    }
    for o in &catalog.types {
        let what = || format!("type {:?}.{:?}", o.schema, o.name);
        check_owner(&what, &o.owner)?;
        check_acl(&what, o.acl.as_ref())?;
    }
    for o in catalog
        .languages
        .iter()
        .chain(&catalog.foreign_data_wrappers)
        .chain(&catalog.foreign_servers)
    {
        check_owner(&|| format!("object {:?}", o.name), &o.owner)?;
        check_acl(&|| format!("object {:?}", o.name), o.acl.as_ref())?;
    }
    for o in &catalog.large_objects {
        check_owner(&|| format!("large object {}", o.oid), &o.owner)?;
        check_acl(&|| format!("large object {}", o.oid), o.acl.as_ref())?;
    }
    for d in &catalog.default_privileges {
        check_owner(&|| "a default privilege".to_owned(), &d.role)?;
        check_acl(
            &|| format!("default privileges of {:?}", d.role),
            Some(&d.acl),
        )?;
    }
    Ok(())
}

/// serde_json formatter: indented down to [`PRETTY_DEPTH`], compact below.
#[derive(Default)]
struct ShallowPretty {
    depth: usize,
    has_value: bool,
}

impl ShallowPretty {
    fn newline_indent<W: ?Sized + Write>(&self, w: &mut W) -> io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..self.depth {
            w.write_all(b"  ")?;
        }
        Ok(())
    }
    fn pretty(&self) -> bool {
        self.depth <= PRETTY_DEPTH
    }
}

impl serde_json::ser::Formatter for ShallowPretty {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b"[")
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        let pretty = self.pretty();
        self.depth -= 1;
        if pretty && self.has_value {
            self.newline_indent(w)?;
        }
        w.write_all(b"]")
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        if self.pretty() {
            self.newline_indent(w)?;
        }
        Ok(())
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b"{")
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        let pretty = self.pretty();
        self.depth -= 1;
        if pretty && self.has_value {
            self.newline_indent(w)?;
        }
        w.write_all(b"}")
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        if self.pretty() {
            self.newline_indent(w)?;
        }
        Ok(())
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(if self.pretty() { b": " } else { b":" })
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_even_at_the_start_of_a_line() {
        let empty = from_json(b"").unwrap_err();
        assert_eq!(empty.position, Some((1, 1)));
        assert!(empty.message.contains("truncated"), "{}", empty.message);
        let after_newline = from_json(b"{\n").unwrap_err();
        assert_eq!(after_newline.position, Some((2, 1)));
    }

    #[test]
    fn text_that_is_not_json_says_so() {
        let e = from_json(b"roles:\n  - name: alice\n").unwrap_err();
        assert_eq!(e.position, Some((1, 1)));
        assert!(e.message.starts_with("invalid JSON: "), "{}", e.message);
    }

    #[test]
    fn messages_show_no_control_characters() {
        let e =
            from_json(b"{\"format_version\": 1, \"a\\u001b]0;x\\u0007\\u009b\": 1}").unwrap_err();
        assert!(!e.message.chars().any(char::is_control), "{:?}", e.message);
        assert!(
            e.message.contains("a\\u{1b}]0;x\\u{7}\\u{9b}"),
            "{}",
            e.message
        );
    }
}
