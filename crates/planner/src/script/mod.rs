//! The plan script: a comment header, then the statements.
//!
//! ```text
//! -- pgsr plan
//! -- format: 2
//! -- server-version: 150018
//! -- database: "warehouse" (oid 16384)
//! -- connecting-role: "postgres"
//! -- snapshot-fingerprint: sha256:…
//! -- scope: {"kind":"full"}   (or the partial scope, as in a snapshot)
//! -- part: database       (one part of a multi-database plan)
//! -- lock-key: 1
//! -- statements: 3 (create-role 1, grant 1, grant-role 1)
//! -- password: password_1 "alice" env "ALICE_PASSWORD"   (one per password set)
//! -- power: {"grantee":"ops","membership":"pg_signal_backend","why":"…"}
//! -- skipped: …            (any number)
//! -- note: …               (any number)
//! -- warning: …            (any number)
//! -- checksum: sha256:…
//! -- signature: hmac-sha256:…   (when planned with a key)
//!
//! -- why the next statement is there
//! GRANT …;
//! ```
//!
//! The script is plain SQL: `psql -1 -v ON_ERROR_STOP=1 -f change.sql` runs
//! it too, given the passwords as psql variables (`-v password_1=…`). The
//! checksum covers every byte but its own line and the signature line: it
//! catches accidents, and binds an apply to what a reviewer approved
//! (`apply --expect-checksum`). The signature, an HMAC-SHA-256 keyed with
//! the plan key over every byte but its own line, proves the script was
//! made by someone holding the key. Names in comments are escaped so that
//! no name can end a comment line and smuggle in a statement.

mod cluster;

pub use cluster::{
    is_cluster_script, parse_cluster, write_cluster, ClusterScript, ScriptPart, CLUSTER_FORMAT,
};

use crate::desired::PasswordRef;
use crate::plan::part::Part;
use crate::power::PowerGrant;
use crate::snapshot::{DatabaseIdent, Scope};
pub use crate::statement::StatementKind;
use crate::statement::{PasswordSlot, Statement};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;

/// The script format this build writes and reads.
pub const FORMAT: u32 = 2;

const MAGIC: &str = "-- pgsr plan";
const CHECKSUM_PREFIX: &str = "-- checksum: ";
const SIGNATURE_PREFIX: &str = "-- signature: ";
const SIGNATURE_SCHEME: &str = "hmac-sha256:";

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
    /// The part of a multi-database plan the script is; for
    /// [`Part::Database`] the fingerprint covers the database's own objects
    /// (see `Snapshot::database_fingerprint`).
    pub part: Part,
    pub lock_key: i64,
    pub statement_count: usize,
    /// The per-kind counts of the `statements` line.
    pub statement_counts: BTreeMap<StatementKind, usize>,
    /// The line the counts are on.
    pub statements_line: usize,
    /// The passwords the script sets, and where each comes from.
    pub passwords: Vec<PasswordSlot>,
    /// The grants of power the script contains, as the planner listed them.
    pub power: Vec<PowerGrant>,
    /// The summary lines, as written.
    pub summary: Vec<String>,
    /// `sha256:…`, as written.
    pub checksum: String,
}

/// A script split into its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script<'a> {
    pub header: Header,
    /// The signature line: its line number and value, when there is one.
    pub signature: Option<(usize, &'a str)>,
    /// Every byte of the script but the signature line: what it signs.
    pub signed: [&'a str; 2],
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

/// What a written header says besides the statement counts.
pub(crate) struct Heading<'p> {
    pub server_version_num: u32,
    pub database: &'p DatabaseIdent,
    pub connecting_role: &'p str,
    pub fingerprint: &'p str,
    pub scope: &'p Scope,
    pub part: Part,
    pub lock_key: i64,
    pub passwords: &'p [PasswordSlot],
    pub power: &'p [PowerGrant],
    pub skipped: &'p [String],
    pub notes: &'p [String],
    pub warnings: &'p [String],
    pub summary: &'p [String],
}

/// Writes the script with the header `plan` and `statements`, signed with
/// `key` when one is given.
pub(crate) fn write(plan: &Heading, statements: &[Statement], key: Option<&[u8]>) -> String {
    let mut counts: BTreeMap<StatementKind, usize> = BTreeMap::new();
    for s in statements {
        *counts.entry(s.kind).or_default() += 1;
    }
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
        header_name(plan.connecting_role)
    ));
    head.push_str(&format!("-- snapshot-fingerprint: {}\n", plan.fingerprint));
    head.push_str(&format!(
        "-- scope: {}\n",
        serde_json::to_string(plan.scope).expect("scope serializes")
    ));
    if plan.part != Part::Whole {
        head.push_str(&format!("-- part: {}\n", plan.part.word()));
    }
    head.push_str(&format!("-- lock-key: {}\n", plan.lock_key));
    head.push_str(&format!("-- statements: {}\n", counts_text(&counts)));
    for line in plan.summary {
        head.push_str(&format!("-- summary: {}\n", comment_text(line)));
    }
    for slot in plan.passwords {
        head.push_str(&format!("-- password: {}\n", password_text(slot)));
    }
    for grant in plan.power {
        head.push_str(&format!(
            "-- power: {}\n",
            serde_json::to_string(grant).expect("power grants serialize")
        ));
    }
    for s in plan.skipped {
        head.push_str(&format!("-- skipped: {}\n", comment_text(s)));
    }
    for n in plan.notes {
        head.push_str(&format!("-- note: {}\n", comment_text(n)));
    }
    for w in plan.warnings {
        head.push_str(&format!("-- warning: {}\n", comment_text(w)));
    }
    let mut body = String::new();
    for s in statements {
        body.push('\n');
        body.push_str(&format!("-- {}\n{};\n", comment_text(&s.reason), s.sql));
    }
    sealed(&head, &body, key)
}

/// `head`, the checksum line of `head` and `body`, the signature line
/// with `key` when one is given, then `body`.
fn sealed(head: &str, body: &str, key: Option<&[u8]>) -> String {
    let checksum_line = format!("{CHECKSUM_PREFIX}{}\n", checksum(head, body));
    let signature_line = key
        .map(|key| {
            format!(
                "{SIGNATURE_PREFIX}{SIGNATURE_SCHEME}{}\n",
                signature(key, [&format!("{head}{checksum_line}"), body])
            )
        })
        .unwrap_or_default();
    format!("{head}{checksum_line}{signature_line}{body}")
}

/// `N (kind n, …)`, or `0`.
fn counts_text(counts: &BTreeMap<StatementKind, usize>) -> String {
    let total: usize = counts.values().sum();
    if total == 0 {
        return "0".to_owned();
    }
    let kinds: Vec<String> = counts
        .iter()
        .map(|(k, n)| format!("{} {n}", k.label()))
        .collect();
    format!("{total} ({})", kinds.join(", "))
}

fn password_text(slot: &PasswordSlot) -> String {
    let source = match &slot.source {
        PasswordRef::Env(name) => format!("env {}", header_name(name)),
        PasswordRef::File(path) => format!("file {}", header_name(path)),
        PasswordRef::DesiredFile => "desired-file".to_owned(),
    };
    format!("{} {} {source}", slot.variable, header_name(&slot.role))
}

fn checksum(head: &str, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(head.as_bytes());
    h.update(body.as_bytes());
    format!("sha256:{}", hex(&h.finalize()))
}

/// HMAC-SHA-256 of `parts` (in order) with `key`, in hex.
fn signature(key: &[u8], parts: [&str; 2]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        m.update(part.as_bytes());
    }
    hex(&m.finalize().into_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Script<'_> {
    /// Checks the signature with `key`: refused when it is missing or
    /// made with another key, or when the script was edited after signing.
    pub fn check_signature(&self, key: &[u8]) -> Result<(), ScriptError> {
        check_signature(self.signature, self.signed, key)
    }
}

/// Checks a signature line (its number and value) against the HMAC of
/// `signed` with `key`.
fn check_signature(
    signature_line: Option<(usize, &str)>,
    signed: [&str; 2],
    key: &[u8],
) -> Result<(), ScriptError> {
    {
        let Some((line, value)) = signature_line else {
            return Err(ScriptError {
                line: 1,
                message: "the plan is not signed, and a plan key is configured: only plans signed with the key are applied (plan it again with the key)".into(),
            });
        };
        let expected = signature(key, signed);
        let given = value.strip_prefix(SIGNATURE_SCHEME).unwrap_or_default();
        // Compared in constant time, as HMAC tags must be.
        let same = given.len() == expected.len()
            && given
                .bytes()
                .zip(expected.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return Err(ScriptError {
                line,
                message: "wrong signature: the plan was edited after it was signed, or signed with another key".into(),
            });
        }
        Ok(())
    }
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
    let mut repeated: Vec<(usize, &str, &str)> = Vec::new();
    let mut offset = 0;
    let mut checksum_line = None;
    let mut signature_line = None;
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
            return Err(err(
                line_no,
                format!("malformed header line {}", crate::display::quoted(content)),
            ));
        };
        match key {
            "signature" if signature_line.is_none() => {
                signature_line = Some((line_no, start, offset, value));
            }
            "checksum" if checksum_line.is_none() => {
                checksum_line = Some((line_no, start, offset, value));
            }
            "skipped" | "note" | "warning" | "password" | "power" | "summary"
                if checksum_line.is_none() =>
            {
                repeated.push((line_no, key, value));
            }
            _ if checksum_line.is_some() && key != "signature" => {
                return Err(err(
                    line_no,
                    format!("header field {key:?} after the checksum line"),
                ));
            }
            _ => {
                if fields.insert(key, (line_no, value)).is_some()
                    || ["checksum", "signature"].contains(&key)
                {
                    return Err(err(line_no, format!("header field {key:?} appears twice")));
                }
            }
        }
        if !line.ends_with('\n') {
            break;
        }
    }
    let header_lines = line_no;
    let body_start = offset;
    let (ck_line, ck_start, ck_end, ck_value) =
        checksum_line.ok_or_else(|| err(header_lines, "the header has no checksum line".into()))?;
    let (signed, signature) = match signature_line {
        Some((line, start, end, value)) => {
            if start != ck_end {
                return Err(err(
                    line,
                    "the signature line must follow the checksum line".into(),
                ));
            }
            ([&text[..start], &text[end..]], Some((line, value)))
        }
        None => ([&text[..ck_end], &text[ck_end..]], None),
    };
    let after_checksum = signature_line.map_or(ck_end, |(_, _, end, _)| end);
    let expected = checksum(&text[..ck_start], &text[after_checksum..]);
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
            .ok_or_else(|| err(line, format!("bad {key} {}", crate::display::quoted(value))))
    };
    let format = number("format")?;
    if format != FORMAT as i64 {
        return Err(err(
            get("format")?.0,
            format!("plan format {format} is not supported (this pgsr reads {FORMAT}): plan again with this pgsr"),
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
    let (counts_line, counts_value) = get("statements")?;
    let (statement_count, statement_counts) = parse_counts(counts_value).ok_or_else(|| {
        err(
            counts_line,
            format!("bad statements {}", crate::display::quoted(counts_value)),
        )
    })?;
    let mut passwords = Vec::new();
    let mut power = Vec::new();
    let mut summary = Vec::new();
    for (line, key, value) in repeated {
        match key {
            "password" => {
                let slot = parse_password(value)
                    .ok_or_else(|| err(line, "bad password line: expected `password_N \"role\" env|file \"…\"` or `password_N \"role\" desired-file`".into()))?;
                if slot.variable != format!("password_{}", passwords.len() + 1) {
                    return Err(err(
                        line,
                        "password lines must be numbered password_1, password_2, … in order".into(),
                    ));
                }
                passwords.push(slot);
            }
            "power" => power.push(
                serde_json::from_str(value)
                    .map_err(|e| err(line, format!("bad power line: {e}")))?,
            ),
            "summary" => summary.push(value.to_owned()),
            _ => {}
        }
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
        part: match fields.get("part") {
            None => Part::Whole,
            Some(&(line, value)) => Part::from_word(value)
                .filter(|p| *p != Part::Whole)
                .ok_or_else(|| err(line, format!("bad part {}", crate::display::quoted(value))))?,
        },
        lock_key: number("lock-key")?,
        statement_count,
        statement_counts,
        statements_line: counts_line,
        passwords,
        power,
        summary,
        checksum: ck_value.to_owned(),
    };
    Ok(Script {
        header,
        signature,
        signed,
        body: &text[body_start..],
        body_first_line: header_lines + 1,
    })
}

/// `N (kind n, …)` or `0`, with the kinds in the order `write` puts them.
fn parse_counts(value: &str) -> Option<(usize, BTreeMap<StatementKind, usize>)> {
    let (total, rest) = match value.split_once(' ') {
        Some((t, r)) => (t, Some(r)),
        None => (value, None),
    };
    let total: usize = total.parse().ok()?;
    let mut counts = BTreeMap::new();
    if let Some(rest) = rest {
        let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
        for part in inner.split(", ") {
            let (label, n) = part.split_once(' ')?;
            let n: usize = n.parse().ok()?;
            if n == 0
                || counts
                    .insert(StatementKind::from_label(label)?, n)
                    .is_some()
            {
                return None;
            }
        }
    }
    // Whether the counts add up, and match the body, is the validator's
    // to say: it names the kinds that differ.
    Some((total, counts))
}

fn parse_password(value: &str) -> Option<PasswordSlot> {
    let (variable, rest) = value.split_once(' ')?;
    let (role, rest) = json_string_prefix(rest.trim_start())?;
    let rest = rest.trim_start();
    let source = if rest == "desired-file" {
        PasswordRef::DesiredFile
    } else {
        let (kind, rest) = rest.split_once(' ')?;
        let (text, tail) = json_string_prefix(rest)?;
        if !tail.is_empty() {
            return None;
        }
        match kind {
            "env" => PasswordRef::Env(text),
            "file" => PasswordRef::File(text),
            _ => return None,
        }
    };
    Some(PasswordSlot {
        variable: variable.to_owned(),
        role,
        source,
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
