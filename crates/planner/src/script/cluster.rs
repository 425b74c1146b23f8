//! The script of a multi-database plan: a header listing its parts, then
//! each part as a whole script of its own.
//!
//! ```text
//! -- pgsr cluster plan
//! -- format: 1
//! -- connected-database: "postgres"
//! -- part: shared "postgres" lines 10-24
//! -- part: database "app1" lines 26-51
//! -- part: last "postgres" lines 53-64
//! -- checksum: sha256:…
//! -- signature: hmac-sha256:…   (when planned with a key)
//!
//! -- pgsr plan
//! -- …                          (the shared part, as a script of one database)
//!
//! -- pgsr plan
//! -- …
//! ```
//!
//! Each part names its database and fingerprint in its own header and has
//! its own checksum, so it reads (and `psql` runs it) on its own. The
//! cluster header says where each part starts and ends; its checksum and
//! signature cover every byte but their own lines, so no part can be
//! added, dropped, moved or changed unnoticed.

use super::SIGNATURE_PREFIX;
use super::{checksum, header_name, json_string_prefix, ScriptError};
use crate::plan::part::Part;

/// The format of the cluster header this build writes and reads.
pub const CLUSTER_FORMAT: u32 = 1;

const CLUSTER_MAGIC: &str = "-- pgsr cluster plan";

/// One part of a cluster script, as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptPart<'a> {
    pub part: Part,
    pub database: String,
    /// The part's script, a whole script of one database.
    pub text: &'a str,
    /// The line of the cluster script the part's first line is on.
    pub first_line: usize,
}

/// A cluster script split into its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterScript<'a> {
    pub connected_database: String,
    pub parts: Vec<ScriptPart<'a>>,
    /// `sha256:…`, as written.
    pub checksum: String,
    /// The signature line's number and value, when there is one.
    pub signature: Option<(usize, &'a str)>,
    /// Every byte but the signature line: what it signs.
    pub signed: [&'a str; 2],
}

/// Whether a script is a cluster script.
pub fn is_cluster_script(text: &str) -> bool {
    text.lines().next() == Some(CLUSTER_MAGIC)
}

/// Writes a cluster script from each part's script (in the order they
/// run), signed with `key` when one is given.
pub fn write_cluster(
    connected_database: &str,
    parts: &[(Part, &str, String)],
    key: Option<&[u8]>,
) -> String {
    // Header lines: magic, format, connected database, one per part,
    // checksum, the signature when signed, and a blank line.
    let header_lines = 3 + parts.len() + 1 + usize::from(key.is_some()) + 1;
    let mut head = format!(
        "{CLUSTER_MAGIC}\n-- format: {CLUSTER_FORMAT}\n-- connected-database: {}\n",
        header_name(connected_database)
    );
    let mut body = String::new();
    let mut line = header_lines + 1;
    for (i, (part, database, text)) in parts.iter().enumerate() {
        if i > 0 {
            body.push('\n');
            line += 1;
        }
        let lines = text.lines().count();
        head.push_str(&format!(
            "-- part: {} {} lines {}-{}\n",
            part.word(),
            header_name(database),
            line,
            line + lines - 1
        ));
        body.push_str(text);
        line += lines;
    }
    super::sealed(&head, &format!("\n{body}"), key)
}

/// Reads a cluster script's header, checks its checksum, and splits it
/// into its parts (each still to be read with [`super::parse`]).
pub fn parse_cluster(text: &str) -> Result<ClusterScript<'_>, ScriptError> {
    let err = |line: usize, message: String| ScriptError { line, message };
    // Line starts, so that a part's lines can be cut out by number.
    let mut starts = vec![0];
    starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    let lines = starts.len() - usize::from(text.ends_with('\n'));
    let line_text = |n: usize| -> &str {
        if n == 0 || n > lines {
            return "";
        }
        let end = starts.get(n).copied().unwrap_or(text.len());
        text[starts[n - 1]..end].trim_end_matches('\n')
    };
    if lines == 0 || line_text(1) != CLUSTER_MAGIC {
        return Err(err(
            1,
            format!("expected {CLUSTER_MAGIC:?} on the first line"),
        ));
    }
    let field = |n: usize, key: &str| -> Result<&str, ScriptError> {
        line_text(n)
            .strip_prefix("-- ")
            .and_then(|l| l.strip_prefix(key))
            .and_then(|l| l.strip_prefix(": "))
            .ok_or_else(|| err(n, format!("expected the header's {key:?} line")))
    };
    let format = field(2, "format")?;
    if format != CLUSTER_FORMAT.to_string() {
        return Err(err(
            2,
            format!("cluster plan format {format:?} is not supported (this pgsr reads {CLUSTER_FORMAT}): plan again with this pgsr"),
        ));
    }
    let connected_database = json_string_prefix(field(3, "connected-database")?)
        .filter(|(_, rest)| rest.is_empty())
        .map(|(name, _)| name)
        .ok_or_else(|| err(3, "bad connected-database field".into()))?;
    let mut n = 4;
    let mut ranges = Vec::new();
    while line_text(n).starts_with("-- part: ") {
        let value = field(n, "part")?;
        let bad = || {
            err(
                n,
                format!("bad part line {}", crate::display::quoted(value)),
            )
        };
        let (word, rest) = value.split_once(' ').ok_or_else(bad)?;
        let part = Part::from_word(word)
            .filter(|p| *p != Part::Whole)
            .ok_or_else(bad)?;
        let (database, rest) = json_string_prefix(rest).ok_or_else(bad)?;
        let (from, to) = rest
            .strip_prefix(" lines ")
            .and_then(|r| r.split_once('-'))
            .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)))
            .ok_or_else(bad)?;
        ranges.push((n, part, database, from, to));
        n += 1;
        if n > lines {
            return Err(err(n, "the header ends before its checksum".into()));
        }
    }
    let ck_line = n;
    let ck_value = field(n, "checksum")?;
    n += 1;
    let signature = line_text(n)
        .strip_prefix(SIGNATURE_PREFIX)
        .map(|value| (n, value));
    if signature.is_some() {
        n += 1;
    }
    if n > lines || !line_text(n).is_empty() {
        return Err(err(n, "the header ends with a blank line".into()));
    }
    let ck_start = starts[ck_line - 1];
    let ck_end = starts[ck_line];
    let after = signature.map_or(ck_end, |(line, _)| starts[line]);
    if ck_value != checksum(&text[..ck_start], &text[after..]) {
        return Err(err(
            ck_line,
            "checksum mismatch: the script was edited after planning; change the desired file and plan again".into(),
        ));
    }
    let signed = match signature {
        Some((line, _)) => [&text[..starts[line - 1]], &text[starts[line]..]],
        None => [&text[..ck_end], &text[ck_end..]],
    };
    // The parts follow one another, a blank line apart, to the end.
    let mut next = n + 1;
    let mut parts = Vec::with_capacity(ranges.len());
    for (i, (line, part, database, from, to)) in ranges.into_iter().enumerate() {
        if i > 0 {
            if !line_text(next).is_empty() {
                return Err(err(line, "parts are a blank line apart".into()));
            }
            next += 1;
        }
        if from != next || to < from || to > lines {
            return Err(err(
                line,
                format!("the part's lines are {from}-{to}, but it starts on line {next} and the script has {lines}"),
            ));
        }
        let end = starts.get(to).copied().unwrap_or(text.len());
        parts.push(ScriptPart {
            part,
            database,
            text: &text[starts[from - 1]..end],
            first_line: from,
        });
        next = to + 1;
    }
    if next <= lines {
        return Err(err(next, "text after the last part".into()));
    }
    if parts.is_empty() {
        return Err(err(4, "a cluster plan has at least one part".into()));
    }
    Ok(ClusterScript {
        connected_database,
        parts,
        checksum: ck_value.to_owned(),
        signature,
        signed,
    })
}

impl ClusterScript<'_> {
    /// Checks the signature with `key`, as [`super::Script::check_signature`].
    pub fn check_signature(&self, key: &[u8]) -> Result<(), ScriptError> {
        super::check_signature(self.signature, self.signed, key)
    }
}

#[cfg(test)]
mod tests {
    use super::super::CHECKSUM_PREFIX;
    use super::*;

    fn part(database: &str, statements: usize) -> String {
        let mut text = format!("-- pgsr plan\n-- database: \"{database}\"\n");
        for i in 0..statements {
            text.push_str(&format!("\n-- why\nSELECT {i};\n"));
        }
        text
    }

    fn three() -> String {
        write_cluster(
            "main",
            &[
                (Part::Shared, "main", part("main", 1)),
                (Part::Database, "app", part("app", 2)),
                (Part::Last, "main", part("main", 0)),
            ],
            None,
        )
    }

    /// The checksum made again, as anyone can without the plan key.
    fn resealed(text: &str) -> String {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let at = lines
            .iter()
            .position(|l| l.starts_with(CHECKSUM_PREFIX))
            .expect("a checksum line");
        let head: String = lines[..at].concat();
        let body: String = lines[at + 1..].concat();
        format!("{head}{CHECKSUM_PREFIX}{}\n{body}", checksum(&head, &body))
    }

    #[test]
    fn parts_read_back_as_written() {
        let text = three();
        let parsed = parse_cluster(&text).expect("parses");
        assert_eq!(parsed.connected_database, "main");
        let got: Vec<(Part, &str, &str)> = parsed
            .parts
            .iter()
            .map(|p| (p.part, p.database.as_str(), p.text))
            .collect();
        let (one, two, last) = (part("main", 1), part("app", 2), part("main", 0));
        assert_eq!(
            got,
            [
                (Part::Shared, "main", one.as_str()),
                (Part::Database, "app", two.as_str()),
                (Part::Last, "main", last.as_str())
            ]
        );
        for p in &parsed.parts {
            let line = text.lines().nth(p.first_line - 1).expect("the line");
            assert_eq!(line, "-- pgsr plan");
        }
        assert!(is_cluster_script(&text));
        assert!(!is_cluster_script(&part("main", 1)));
    }

    #[test]
    fn an_edited_byte_is_a_checksum_mismatch() {
        let text = three().replace("SELECT 1;", "SELECT 9;");
        let e = parse_cluster(&text).expect_err("refused");
        assert!(e.message.contains("checksum mismatch"), "{e}");
    }

    #[test]
    fn parts_must_tile_the_script() {
        let text = three();
        for (from, to, needle) in [
            // A range that does not start where the part starts.
            ("lines 9-", "lines 10-", "starts on line"),
            // A part's lines running past the next part.
            (
                "-- part: database \"app\" lines 15-22",
                "-- part: database \"app\" lines 15-23",
                "parts are a blank line apart",
            ),
            ("-- part: last", "-- part: whole", "bad part line"),
        ] {
            assert!(text.contains(from), "{from} in\n{text}");
            let e = parse_cluster(&resealed(&text.replacen(from, to, 1))).expect_err(to);
            assert!(e.message.contains(needle), "{to}: {e}");
        }
        let e = parse_cluster(&resealed(&format!("{text}SELECT 1;\n"))).expect_err("trailing");
        assert!(e.message.contains("text after the last part"), "{e}");
    }

    #[test]
    fn signed_scripts_check_their_signature() {
        let parts = [
            (Part::Shared, "main", part("main", 1)),
            (Part::Last, "main", part("main", 0)),
        ];
        let signed = write_cluster("main", &parts, Some(b"key"));
        let parsed = parse_cluster(&signed).expect("parses");
        parsed.check_signature(b"key").expect("the right key");
        assert!(parsed.check_signature(b"other").is_err());
        let unsigned = write_cluster("main", &parts, None);
        assert!(parse_cluster(&unsigned)
            .expect("parses")
            .check_signature(b"key")
            .is_err());
    }
}
