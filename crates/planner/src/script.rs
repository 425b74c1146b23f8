//! The plan script: a comment header, then the statements.
//!
//! ```text
//! -- pgsr plan
//! -- format: 1
//! -- server-version: 150018
//! -- database: "warehouse" (oid 16384)
//! -- connecting-role: "postgres"
//! -- snapshot-fingerprint: sha256:…
//! -- scope: {"kind":"full"}   (or the partial scope, as in a snapshot)
//! -- lock-key: 1
//! -- statements: 3 (create-role 1, grant 1, grant-role 1)
//! -- skipped: …            (any number)
//! -- note: …               (any number)
//! -- checksum: sha256:…
//!
//! -- why the next statement is there
//! GRANT …;
//! ```
//!
//! The script is plain SQL: `psql -1 -v ON_ERROR_STOP=1 -f change.sql` runs
//! it too. The checksum covers every byte but its own line, so an edited
//! script is refused by `pgsr apply`. Names in comments are escaped so that
//! no name can end a comment line and smuggle in a statement.

use crate::plan::render::Statement;
use crate::plan::Plan;
use crate::snapshot::Scope;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;

/// The script format this build writes and reads.
pub const FORMAT: u32 = 1;

const MAGIC: &str = "-- pgsr plan";
const CHECKSUM_PREFIX: &str = "-- checksum: ";

/// The kinds of statement a plan holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StatementKind {
    CreateRole,
    AlterRole,
    DropRole,
    CreateSchema,
    AlterOwner,
    Grant,
    Revoke,
    AlterDefaultPrivileges,
    GrantRole,
    RevokeRole,
}

impl StatementKind {
    pub fn label(self) -> &'static str {
        match self {
            StatementKind::CreateRole => "create-role",
            StatementKind::AlterRole => "alter-role",
            StatementKind::DropRole => "drop-role",
            StatementKind::CreateSchema => "create-schema",
            StatementKind::AlterOwner => "alter-owner",
            StatementKind::Grant => "grant",
            StatementKind::Revoke => "revoke",
            StatementKind::AlterDefaultPrivileges => "default-privileges",
            StatementKind::GrantRole => "grant-role",
            StatementKind::RevokeRole => "revoke-role",
        }
    }
}

/// The header of a script, as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub format: u32,
    pub server_version_num: u32,
    pub database: String,
    pub database_oid: u32,
    pub connecting_role: String,
    pub fingerprint: String,
    /// The part of the catalog the fingerprint covers.
    pub scope: Scope,
    pub lock_key: i64,
    pub statement_count: usize,
}

/// A script split into its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script<'a> {
    pub header: Header,
    /// Everything after the header's blank line.
    pub body: &'a str,
    /// The line number of the body's first line in the file.
    pub body_first_line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ScriptError {}

/// Makes text safe for a `--` comment: one line, control characters escaped.
pub use crate::display::escape as comment_text;

/// A name in the header: a JSON string, so it is one line whatever it holds.
/// JSON leaves DEL, C1 controls and bidirectional controls raw; they are
/// written as `\uXXXX` too, which reads back as the same name.
fn header_name(name: &str) -> String {
    let json = serde_json::to_string(name).expect("strings serialize");
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if crate::display::is_unsafe(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes the script for `plan` made of `statements`.
pub(crate) fn write(plan: &Plan, statements: &[Statement]) -> String {
    let mut counts: BTreeMap<crate::script::StatementKind, usize> = BTreeMap::new();
    for s in statements {
        *counts.entry(s.kind).or_default() += 1;
    }
    let summary: Vec<String> = counts
        .iter()
        .map(|(k, n)| format!("{} {n}", k.label()))
        .collect();
    let mut head = String::new();
    head.push_str(MAGIC);
    head.push('\n');
    head.push_str(&format!("-- format: {FORMAT}\n"));
    head.push_str(&format!("-- server-version: {}\n", plan.server_version_num));
    head.push_str(&format!(
        "-- database: {} (oid {})\n",
        header_name(&plan.database.name),
        plan.database.oid
    ));
    head.push_str(&format!(
        "-- connecting-role: {}\n",
        header_name(&plan.connecting_role)
    ));
    head.push_str(&format!("-- snapshot-fingerprint: {}\n", plan.fingerprint));
    head.push_str(&format!(
        "-- scope: {}\n",
        serde_json::to_string(&plan.scope).expect("scope serializes")
    ));
    head.push_str(&format!("-- lock-key: {}\n", plan.lock_key));
    if summary.is_empty() {
        head.push_str("-- statements: 0\n");
    } else {
        head.push_str(&format!(
            "-- statements: {} ({})\n",
            statements.len(),
            summary.join(", ")
        ));
    }
    for s in &plan.skipped {
        head.push_str(&format!("-- skipped: {}\n", comment_text(s)));
    }
    for n in &plan.notes {
        head.push_str(&format!("-- note: {}\n", comment_text(n)));
    }
    let mut body = String::new();
    for s in statements {
        body.push('\n');
        body.push_str(&format!("-- {}\n{};\n", comment_text(&s.reason), s.sql));
    }
    let checksum = checksum(&head, &body);
    format!("{head}{CHECKSUM_PREFIX}{checksum}\n{body}")
}

fn checksum(head: &str, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(head.as_bytes());
    h.update(body.as_bytes());
    let digest = h.finalize();
    let mut out = String::from("sha256:");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Reads a script's header and checks its checksum.
pub fn parse(text: &str) -> Result<Script<'_>, ScriptError> {
    let err = |line: usize, message: String| ScriptError { line, message };
    if !text.starts_with(MAGIC) {
        return Err(err(
            1,
            format!("not a pgsr plan: the first line must be {MAGIC:?}"),
        ));
    }
    let mut fields: BTreeMap<&str, (usize, &str)> = BTreeMap::new();
    let mut offset = 0;
    let mut checksum_line = None;
    let mut line_no = 0;
    for line in text.split_inclusive('\n') {
        line_no += 1;
        let content = line.trim_end_matches(['\n', '\r']);
        let start = offset;
        offset += line.len();
        if line_no == 1 {
            continue;
        }
        if content.is_empty() {
            break;
        }
        let Some(rest) = content.strip_prefix("-- ") else {
            return Err(err(
                line_no,
                "the header ends with a blank line; this line is neither a header line nor blank"
                    .into(),
            ));
        };
        let Some((key, value)) = rest.split_once(": ") else {
            return Err(err(line_no, format!("malformed header line {content:?}")));
        };
        if key == "checksum" {
            checksum_line = Some((line_no, start, offset, value));
            if !line.ends_with('\n') {
                break;
            }
            continue;
        }
        if key != "skipped" && key != "note" && fields.insert(key, (line_no, value)).is_some() {
            return Err(err(line_no, format!("header field {key:?} appears twice")));
        }
    }
    let header_lines = line_no;
    let body_start = offset;
    let (ck_line, ck_start, ck_end, ck_value) =
        checksum_line.ok_or_else(|| err(header_lines, "the header has no checksum line".into()))?;
    let expected = checksum(&text[..ck_start], &text[ck_end..]);
    if ck_value != expected {
        return Err(err(
            ck_line,
            "checksum mismatch: the script was edited after planning; change the desired file and plan again".into(),
        ));
    }
    let get = |key: &str| -> Result<(usize, &str), ScriptError> {
        fields
            .get(key)
            .copied()
            .ok_or_else(|| err(header_lines, format!("the header has no {key:?} field")))
    };
    let number = |key: &str| -> Result<i64, ScriptError> {
        let (line, value) = get(key)?;
        value
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| err(line, format!("bad {key} {value:?}")))
    };
    let format = number("format")?;
    if format != FORMAT as i64 {
        return Err(err(
            get("format")?.0,
            format!("plan format {format} is not supported (this pgsr reads {FORMAT})"),
        ));
    }
    let (db_line, db_value) = get("database")?;
    let (database, rest) =
        json_string_prefix(db_value).ok_or_else(|| err(db_line, "bad database field".into()))?;
    let database_oid = rest
        .trim()
        .strip_prefix("(oid ")
        .and_then(|r| r.strip_suffix(')'))
        .and_then(|o| o.parse().ok())
        .ok_or_else(|| err(db_line, "bad database oid".into()))?;
    let (role_line, role_value) = get("connecting-role")?;
    let (connecting_role, rest) = json_string_prefix(role_value)
        .ok_or_else(|| err(role_line, "bad connecting-role field".into()))?;
    if !rest.trim().is_empty() {
        return Err(err(role_line, "bad connecting-role field".into()));
    }
    let header = Header {
        format: format as u32,
        server_version_num: u32::try_from(number("server-version")?)
            .map_err(|_| err(header_lines, "bad server-version".into()))?,
        database,
        database_oid,
        connecting_role,
        fingerprint: get("snapshot-fingerprint")?.1.to_owned(),
        scope: {
            let (line, value) = get("scope")?;
            serde_json::from_str(value).map_err(|e| err(line, format!("bad scope: {e}")))?
        },
        lock_key: number("lock-key")?,
        statement_count: usize::try_from(number("statements")?)
            .map_err(|_| err(header_lines, "bad statements".into()))?,
    };
    Ok(Script {
        header,
        body: &text[body_start..],
        body_first_line: header_lines + 1,
    })
}

/// Reads a JSON string at the start of `text`, returning it and the rest.
fn json_string_prefix(text: &str) -> Option<(String, &str)> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<String>();
    let value = stream.next()?.ok()?;
    let used = stream.byte_offset();
    Some((value, &text[used..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_show_no_control_characters_and_read_back() {
        for name in [
            "plain",
            "a\u{1b}[2Jb",
            "c\u{9b}31md",
            "e\u{7f}f\u{85}",
            "g\u{202e}h",
            "new\nline",
        ] {
            let header = header_name(name);
            assert!(!header.chars().any(crate::display::is_unsafe), "{header:?}");
            assert_eq!(json_string_prefix(&header), Some((name.to_owned(), "")));
        }
    }
}
