//! Parsing of the desired file (YAML or JSON).
//!
//! Two passes: the YAML event stream becomes a small tree of positioned
//! nodes (this file), refusing the YAML features the schema has no use for
//! (anchors, tags, several documents, duplicate keys); the tree is then
//! checked against the schema (`schema.rs`). Plain scalars are typed by the YAML 1.2 core schema;
//! quoted ones are always strings.

use std::collections::HashMap;

use crate::display::quoted;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::{DesiredError, Span};

/// PostgreSQL's NAMEDATALEN - 1: longer names are silently truncated by
/// the server, which would make the plan act on another name.
pub(super) const MAX_NAME_BYTES: usize = 63;

/// Far deeper than the schema goes; bounds the recursion on hostile input.
const MAX_DEPTH: usize = 32;

pub(super) const GRANT_KINDS: &str = "login, database_connect, schema_usage, schema_create, \
    schema_ownership, table_select, table_ownership, role_membership, grant, default_privileges, profile, ownership";

/// The options of a `login` mapping: shown in messages even where the
/// mapping's values are secret.
pub(super) const LOGIN_OPTIONS: [&str; 4] =
    ["password", "password_env", "password_file", "valid_until"];

pub(super) type Result<T> = std::result::Result<T, DesiredError>;

/// The position just after the last character, counting line breaks as the
/// YAML parser does (`\r\n`, `\r` and `\n`).
pub(super) fn end_of(text: &str) -> Span {
    let (mut line, mut line_start) = (1, 0);
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\r' if chars.next_if(|&(_, c)| c == '\n').is_some() => {
                (line, line_start) = (line + 1, i + 2)
            }
            '\r' | '\n' => (line, line_start) = (line + 1, i + 1),
            _ => {}
        }
    }
    Span {
        line,
        column: text[line_start..].chars().count() + 1,
    }
}

pub(super) fn error(span: Span, message: impl Into<String>) -> DesiredError {
    DesiredError {
        span,
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------
// Bytes to text

pub(super) fn decode(bytes: &[u8]) -> Result<&str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        // The prefix is valid UTF-8 by construction.
        let before = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
        let bad = bytes[e.valid_up_to()];
        error(
            end_of(before),
            format!("the file is not valid UTF-8 (byte 0x{bad:02X} here)"),
        )
    })?;
    match text.char_indices().find(|&(_, c)| !is_printable(c)) {
        Some((i, c)) => Err(error(end_of(&text[..i]), unprintable(c))),
        None => Ok(text),
    }
}

/// YAML's printable characters, the only ones a file may hold (escapes
/// such as `"\e"` in a double-quoted string stand for the others). The YAML
/// parser takes a NUL for the end of the file, so a NUL byte would silently
/// drop every grant after it.
fn is_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

fn unprintable(c: char) -> String {
    let code = u32::from(c);
    if c == '\0' {
        return "the file holds a NUL byte, which YAML does not allow".to_owned();
    }
    format!(
        "the file holds the character U+{code:04X}, which YAML does not allow; write it as \"\\u{code:04X}\" in a double-quoted string"
    )
}

// ---------------------------------------------------------------------------
// YAML events to a tree

#[derive(Clone)]
pub(super) struct Node {
    pub span: Span,
    pub kind: Kind,
    /// Inside a `login` or a `password`: messages never quote its text,
    /// which may be a password or part of one.
    pub secret: bool,
}

#[derive(Clone)]
pub(super) enum Kind {
    Scalar { text: String, plain: bool },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

pub(super) fn span_of(mark: Marker) -> Span {
    // The parser's lines are 1-based, its columns 0-based.
    Span {
        line: mark.line().max(1),
        column: mark.col() + 1,
    }
}

struct Reader<'a> {
    parser: Parser<std::str::Chars<'a>>,
}

impl Reader<'_> {
    fn next(&mut self) -> Result<(Event, Span)> {
        match self.parser.next_token() {
            Ok((event, mark)) => Ok((event, span_of(mark))),
            Err(e) => Err(error(span_of(*e.marker()), syntax_message(e.info()))),
        }
    }

    /// The node `event` starts; `secret` when it is inside a `login` or a
    /// `password`.
    fn node(&mut self, event: Event, span: Span, depth: usize, secret: bool) -> Result<Node> {
        if depth > MAX_DEPTH {
            return Err(error(
                span,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            ));
        }
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                refuse_extras(span, anchor, tag.is_some())?;
                Ok(Node {
                    span,
                    kind: Kind::Scalar {
                        text,
                        plain: style == TScalarStyle::Plain,
                    },
                    secret,
                })
            }
            Event::SequenceStart(anchor, tag) => {
                refuse_extras(span, anchor, tag.is_some())?;
                self.sequence(span, depth, secret)
            }
            Event::MappingStart(anchor, tag) => {
                refuse_extras(span, anchor, tag.is_some())?;
                self.mapping(span, depth, secret)
            }
            Event::Alias(_) => Err(anchors_error(span)),
            other => Err(error(span, format!("invalid YAML: unexpected {other:?}"))),
        }
    }

    fn sequence(&mut self, span: Span, depth: usize, secret: bool) -> Result<Node> {
        let mut items = Vec::new();
        loop {
            match self.next()? {
                (Event::SequenceEnd, _) => {
                    return Ok(Node {
                        span,
                        kind: Kind::Seq(items),
                        secret,
                    })
                }
                (event, at) => items.push(self.node(event, at, depth + 1, secret)?),
            }
        }
    }

    fn mapping(&mut self, span: Span, depth: usize, secret: bool) -> Result<Node> {
        let mut entries: Vec<(Node, Node)> = Vec::new();
        let mut first_lines: HashMap<String, usize> = HashMap::new();
        loop {
            let key = match self.next()? {
                (Event::MappingEnd, _) => break,
                (event, at) => self.node(event, at, depth + 1, secret)?,
            };
            if let Some(text) = scalar_text(&key) {
                if let Some(line) = first_lines.get(text) {
                    let message = match quoted_unless_secret(&key) {
                        Some(key) => format!("duplicate key {key} (first on line {line})"),
                        None => format!("duplicate key (first on line {line})"),
                    };
                    return Err(error(key.span, message));
                }
                first_lines.insert(text.to_owned(), key.span.line);
            }
            let (event, at) = self.next()?;
            let holds_secret = secret || matches!(scalar_text(&key), Some("login" | "password"));
            let mut value = self.node(event, at, depth + 1, holds_secret)?;
            // An empty value's mark is wherever the next token is; its key
            // is the better place to point at.
            if matches!(&value.kind, Kind::Scalar { text, plain: true } if text.is_empty()) {
                value.span = key.span;
            }
            entries.push((key, value));
        }
        // A block mapping's start mark is at the first `:`; its first key
        // is where a reader would look.
        let span = entries.first().map_or(span, |(k, _)| span.min(k.span));
        Ok(Node {
            span,
            kind: Kind::Map(entries),
            secret,
        })
    }
}

/// The YAML parser's message for a syntax error. The one message of it that
/// quotes the file (a plain value starting with `@`, `%` or a backquote,
/// which could be a password) is said without the character.
fn syntax_message(info: &str) -> String {
    if info.starts_with("unexpected character") {
        return "invalid YAML: a value cannot start with `@`, `%` or a backquote; quote it"
            .to_owned();
    }
    format!("invalid YAML: {info}")
}

fn refuse_extras(span: Span, anchor: usize, tagged: bool) -> Result<()> {
    if anchor != 0 {
        return Err(anchors_error(span));
    }
    if tagged {
        return Err(error(
            span,
            "YAML tags (such as `!!str`) are not supported; quote the value instead",
        ));
    }
    Ok(())
}

fn anchors_error(span: Span) -> DesiredError {
    error(
        span,
        "YAML anchors and aliases are not supported; write the value out",
    )
}

/// The single document of the file.
pub(super) fn read_document(text: &str) -> Result<Node> {
    let mut reader = Reader {
        parser: Parser::new_from_str(text),
    };
    let start = Span { line: 1, column: 1 };
    let empty = || error(start, "empty file: expected a mapping with `roles`");
    loop {
        match reader.next()? {
            (Event::StreamStart, _) => continue,
            (Event::DocumentStart, _) => break,
            _ => return Err(empty()),
        }
    }
    let (event, at) = reader.next()?;
    let root = reader.node(event, at, 0, false)?;
    loop {
        match reader.next()? {
            (Event::DocumentEnd, _) => continue,
            (Event::StreamEnd, _) => break,
            (_, at) => {
                return Err(error(
                    at,
                    "more than one YAML document; put everything in one",
                ));
            }
        }
    }
    if matches!(&root.kind, Kind::Scalar { text, plain: true } if is_null(text)) {
        return Err(empty());
    }
    Ok(root)
}

// ---------------------------------------------------------------------------
// Scalars

/// The YAML 1.2 core schema's reading of a scalar.
pub(super) enum Typed<'a> {
    Null,
    Bool(bool),
    Int,
    Float,
    Str(&'a str),
}

pub(super) fn scalar_text(node: &Node) -> Option<&str> {
    match &node.kind {
        Kind::Scalar { text, .. } => Some(text),
        _ => None,
    }
}

pub(super) fn typed(text: &str, plain: bool) -> Typed<'_> {
    if !plain {
        return Typed::Str(text);
    }
    match text {
        t if is_null(t) => Typed::Null,
        "true" | "True" | "TRUE" => Typed::Bool(true),
        "false" | "False" | "FALSE" => Typed::Bool(false),
        t if is_int(t) => Typed::Int,
        t if is_float(t) => Typed::Float,
        t => Typed::Str(t),
    }
}

pub(super) fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn all_digits(text: &str, radix: u32) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_digit(radix))
}

fn is_int(text: &str) -> bool {
    if let Some(hex) = text.strip_prefix("0x") {
        return all_digits(hex, 16);
    }
    if let Some(octal) = text.strip_prefix("0o") {
        return all_digits(octal, 8);
    }
    all_digits(text.strip_prefix(['-', '+']).unwrap_or(text), 10)
}

fn is_float(text: &str) -> bool {
    if matches!(text, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (unsigned, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", fraction)) => all_digits(fraction, 10),
        Some((whole, fraction)) => {
            all_digits(whole, 10) && fraction.chars().all(|c| c.is_ascii_digit())
        }
        None => all_digits(mantissa, 10),
    };
    let exponent_ok =
        exponent.is_none_or(|e| all_digits(e.strip_prefix(['-', '+']).unwrap_or(e), 10));
    mantissa_ok && exponent_ok
}

fn parse_int(text: &str) -> Option<i64> {
    if let Some(hex) = text.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    if let Some(octal) = text.strip_prefix("0o") {
        return i64::from_str_radix(octal, 8).ok();
    }
    text.parse().ok()
}

/// A scalar's text for a message, unless it is secret (but a login's
/// option names).
pub(super) fn quoted_unless_secret(node: &Node) -> Option<String> {
    match &node.kind {
        Kind::Scalar { text, .. } if !node.secret || LOGIN_OPTIONS.contains(&text.as_str()) => {
            Some(quoted(text))
        }
        _ => None,
    }
}

/// What a node is, for "found ..." in messages: a scalar's text is quoted
/// unless it is secret.
pub(super) fn describe(node: &Node) -> String {
    let Kind::Scalar { text, plain } = &node.kind else {
        return match node.kind {
            Kind::Seq(_) => "a sequence".to_owned(),
            _ => "a mapping".to_owned(),
        };
    };
    let (what, a_what) = match typed(text, *plain) {
        Typed::Null if text.is_empty() => return "nothing".to_owned(),
        Typed::Null => ("null", "a null"),
        Typed::Bool(_) => ("boolean", "a boolean"),
        Typed::Int => ("integer", "an integer"),
        Typed::Float => ("number", "a number"),
        Typed::Str(_) => ("string", "a string"),
    };
    match quoted_unless_secret(node) {
        Some(text) => format!("{what} {text}"),
        None => format!("{a_what} (not shown)"),
    }
}

pub(super) fn is_null_node(node: &Node) -> bool {
    matches!(&node.kind, Kind::Scalar { text, plain: true } if is_null(text))
}

/// A string: a quoted scalar, or a plain one the core schema reads as a string.
pub(super) fn string<'a>(node: &'a Node, what: &str) -> Result<&'a str> {
    if let Kind::Scalar { text, plain } = &node.kind {
        match typed(text, *plain) {
            Typed::Str(t) => return Ok(t),
            Typed::Null if text.is_empty() => {}
            _ => {
                let found = describe(node);
                return Err(error(
                    node.span,
                    format!(
                        "expected {what} (a string), found {found}; quote it to use it as text"
                    ),
                ));
            }
        }
    }
    Err(error(
        node.span,
        format!("expected {what} (a string), found {}", describe(node)),
    ))
}

pub(super) fn boolean(node: &Node, key: &str) -> Result<bool> {
    match &node.kind {
        Kind::Scalar { text, plain: true } => match typed(text, true) {
            Typed::Bool(b) => Ok(b),
            _ => Err(expected_bool(node, key)),
        },
        _ => Err(expected_bool(node, key)),
    }
}

pub(super) fn expected_bool(node: &Node, key: &str) -> DesiredError {
    error(
        node.span,
        format!(
            "expected `{key}` to be true or false, found {}",
            describe(node)
        ),
    )
}

pub(super) fn integer(node: &Node, key: &str) -> Result<i64> {
    let Kind::Scalar { text, plain: true } = &node.kind else {
        return Err(error(
            node.span,
            format!(
                "expected `{key}` to be an integer, found {}",
                describe(node)
            ),
        ));
    };
    if !matches!(typed(text, true), Typed::Int) {
        return Err(error(
            node.span,
            format!(
                "expected `{key}` to be an integer, found {}",
                describe(node)
            ),
        ));
    }
    parse_int(text).ok_or_else(|| {
        error(
            node.span,
            format!(
                "`{key}` {} is out of range (a 64-bit signed integer)",
                quoted(text)
            ),
        )
    })
}

/// A PostgreSQL name: what the server would store unchanged.
pub(super) fn name(node: &Node, what: &str) -> Result<String> {
    let text = string(node, what)?;
    if text.is_empty() {
        return Err(error(node.span, format!("{what} must not be empty")));
    }
    if text.contains('\0') {
        return Err(error(
            node.span,
            format!("{what} {} contains a NUL character", quoted(text)),
        ));
    }
    if text.len() > MAX_NAME_BYTES {
        return Err(error(
            node.span,
            format!(
                "{what} {} is {} bytes long; PostgreSQL names are at most {MAX_NAME_BYTES} bytes",
                quoted(text),
                text.len()
            ),
        ));
    }
    Ok(text.to_owned())
}

// ---------------------------------------------------------------------------
// Mappings

/// The entries of a mapping whose keys have been checked against a list.
pub(super) struct Fields<'a> {
    pub span: Span,
    what: &'a str,
    pub entries: Vec<(&'a str, &'a Node, &'a Node)>,
}

impl<'a> Fields<'a> {
    pub fn of(node: &'a Node, what: &'a str, allowed: &[&str]) -> Result<Fields<'a>> {
        Fields::read(node, what, Some(allowed))
    }

    /// A mapping whose keys are not fixed (a template's parameters).
    pub fn of_any(node: &'a Node, what: &'a str) -> Result<Fields<'a>> {
        Fields::read(node, what, None)
    }

    fn read(node: &'a Node, what: &'a str, allowed: Option<&[&str]>) -> Result<Fields<'a>> {
        let Kind::Map(pairs) = &node.kind else {
            return Err(error(
                node.span,
                format!("expected {what} (a mapping), found {}", describe(node)),
            ));
        };
        let mut entries = Vec::with_capacity(pairs.len());
        for (key, value) in pairs {
            let Some(text) = scalar_text(key) else {
                return Err(error(
                    key.span,
                    format!("expected a key in {what}, found {}", describe(key)),
                ));
            };
            if let Some(allowed) = allowed.filter(|a| !a.contains(&text)) {
                let key_text = quoted_unless_secret(key).map_or(String::new(), |k| format!(" {k}"));
                return Err(error(
                    key.span,
                    format!(
                        "unknown key{key_text} in {what}; expected one of: {}",
                        allowed.join(", ")
                    ),
                ));
            }
            entries.push((text, key, value));
        }
        Ok(Fields {
            span: node.span,
            what,
            entries,
        })
    }

    pub fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, v)| *v)
    }

    pub fn key_span(&self, key: &str) -> Option<Span> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, k, _)| k.span)
    }

    pub fn require(&self, key: &str) -> Result<&'a Node> {
        self.get(key)
            .ok_or_else(|| error(self.span, format!("missing `{key}` in {}", self.what)))
    }
}

/// An optional sequence; left out and empty (null) both mean none.
pub(super) fn optional_list<'a>(node: Option<&'a Node>, key: &str) -> Result<&'a [Node]> {
    match node {
        None => Ok(&[]),
        Some(n) if is_null_node(n) => Ok(&[]),
        Some(Node {
            kind: Kind::Seq(items),
            ..
        }) => Ok(items),
        Some(n) => Err(error(
            n.span,
            format!("expected `{key}` to be a sequence, found {}", describe(n)),
        )),
    }
}

#[cfg(test)]
mod tests;
