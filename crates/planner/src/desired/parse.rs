//! Parsing of the desired file (YAML or JSON).
//!
//! Two passes: the YAML event stream becomes a small tree of positioned
//! nodes, refusing the YAML features the schema has no use for (anchors,
//! tags, several documents, duplicate keys); the tree is then checked
//! against the schema. Plain scalars are typed by the YAML 1.2 core schema;
//! quoted ones are always strings.

use std::collections::HashMap;

use crate::display::quoted;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::{
    parse_timestamp, Desired, DesiredError, DesiredRole, Grant, GrantKind, Login, PasswordSource,
    Pattern, RoleRef, Secret, Span, TableName, DEFAULT_LOCK_KEY,
};

/// PostgreSQL's NAMEDATALEN - 1: longer names are silently truncated by
/// the server, which would make the plan act on another name.
const MAX_NAME_BYTES: usize = 63;

/// Far deeper than the schema goes; bounds the recursion on hostile input.
const MAX_DEPTH: usize = 32;

const GRANT_KINDS: &str = "login, database_connect, schema_usage, schema_create, \
    schema_ownership, table_select, table_ownership, role_membership";

type Result<T> = std::result::Result<T, DesiredError>;

/// Parses a desired file. `text` is the raw file content. Messages never
/// quote a password, and show names with control characters escaped.
pub fn parse(text: &[u8]) -> Result<Desired> {
    let text = decode(text)?;
    read_document(text)
        .and_then(|root| desired(&root))
        .map_err(|mut e| {
            // The YAML parser marks the end of a file that does not end
            // with a line break (a syntax error there, or an empty value
            // last) on a line after the last one; the file ends where its
            // last line does.
            e.span = e.span.min(end_of(text));
            e.message = crate::display::escape(&e.message);
            e
        })
}

/// The position just after the last character, counting line breaks as the
/// YAML parser does (`\r\n`, `\r` and `\n`).
fn end_of(text: &str) -> Span {
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

fn error(span: Span, message: impl Into<String>) -> DesiredError {
    DesiredError {
        span,
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------
// Bytes to text

fn decode(bytes: &[u8]) -> Result<&str> {
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

struct Node {
    span: Span,
    kind: Kind,
    /// Inside a `login` or a `password`: messages never quote its text,
    /// which may be a password or part of one.
    secret: bool,
}

enum Kind {
    Scalar { text: String, plain: bool },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

fn span_of(mark: Marker) -> Span {
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
fn read_document(text: &str) -> Result<Node> {
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
enum Typed<'a> {
    Null,
    Bool(bool),
    Int,
    Float,
    Str(&'a str),
}

fn scalar_text(node: &Node) -> Option<&str> {
    match &node.kind {
        Kind::Scalar { text, .. } => Some(text),
        _ => None,
    }
}

fn typed(text: &str, plain: bool) -> Typed<'_> {
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

fn is_null(text: &str) -> bool {
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
fn quoted_unless_secret(node: &Node) -> Option<String> {
    match &node.kind {
        Kind::Scalar { text, .. } if !node.secret || LOGIN_OPTIONS.contains(&text.as_str()) => {
            Some(quoted(text))
        }
        _ => None,
    }
}

/// What a node is, for "found ..." in messages: a scalar's text is quoted
/// unless it is secret.
fn describe(node: &Node) -> String {
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

fn is_null_node(node: &Node) -> bool {
    matches!(&node.kind, Kind::Scalar { text, plain: true } if is_null(text))
}

/// A string: a quoted scalar, or a plain one the core schema reads as a string.
fn string<'a>(node: &'a Node, what: &str) -> Result<&'a str> {
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

fn boolean(node: &Node, key: &str) -> Result<bool> {
    match &node.kind {
        Kind::Scalar { text, plain: true } => match typed(text, true) {
            Typed::Bool(b) => Ok(b),
            _ => Err(expected_bool(node, key)),
        },
        _ => Err(expected_bool(node, key)),
    }
}

fn expected_bool(node: &Node, key: &str) -> DesiredError {
    error(
        node.span,
        format!(
            "expected `{key}` to be true or false, found {}",
            describe(node)
        ),
    )
}

fn integer(node: &Node, key: &str) -> Result<i64> {
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
fn name(node: &Node, what: &str) -> Result<String> {
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
struct Fields<'a> {
    span: Span,
    what: &'a str,
    entries: Vec<(&'a str, &'a Node, &'a Node)>,
}

impl<'a> Fields<'a> {
    fn of(node: &'a Node, what: &'a str, allowed: &[&str]) -> Result<Fields<'a>> {
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
            if !allowed.contains(&text) {
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

    fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, v)| *v)
    }

    fn key_span(&self, key: &str) -> Option<Span> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, k, _)| k.span)
    }

    fn require(&self, key: &str) -> Result<&'a Node> {
        self.get(key)
            .ok_or_else(|| error(self.span, format!("missing `{key}` in {}", self.what)))
    }
}

/// An optional sequence; left out and empty (null) both mean none.
fn optional_list<'a>(node: Option<&'a Node>, key: &str) -> Result<&'a [Node]> {
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

// ---------------------------------------------------------------------------
// The schema

fn desired(root: &Node) -> Result<Desired> {
    if !matches!(root.kind, Kind::Map(_)) {
        return Err(error(
            root.span,
            format!(
                "expected a mapping with `roles` at the top level, found {}",
                describe(root)
            ),
        ));
    }
    let top = Fields::of(
        root,
        "the top level",
        &["lock_key", "roles", "allow_power", "reassign_owned_to"],
    )?;
    let lock_key = match top.get("lock_key") {
        Some(node) => integer(node, "lock_key")?,
        None => DEFAULT_LOCK_KEY,
    };
    let roles_node = top.require("roles")?;
    let Kind::Seq(items) = &roles_node.kind else {
        return Err(error(
            roles_node.span,
            format!(
                "expected `roles` to be a sequence of roles, found {}",
                describe(roles_node)
            ),
        ));
    };
    let mut first_seen: HashMap<String, Span> = HashMap::new();
    let mut roles = Vec::with_capacity(items.len());
    for item in items {
        let (role, name_span) = role(item)?;
        if let Some(first) = first_seen.get(&role.name) {
            return Err(error(
                name_span,
                format!(
                    "duplicate role {} (first defined on line {})",
                    quoted(&role.name),
                    first.line
                ),
            ));
        }
        first_seen.insert(role.name.clone(), name_span);
        roles.push(role);
    }
    let allow_power = optional_list(top.get("allow_power"), "allow_power")?
        .iter()
        .map(|n| name(n, "role name"))
        .collect::<Result<Vec<_>>>()?;
    let reassign_owned_to = top
        .get("reassign_owned_to")
        .map(reassign_target)
        .transpose()?;
    Ok(Desired {
        lock_key,
        roles,
        allow_power,
        reassign_owned_to,
    })
}

/// The role `reassign_owned_to` names: one that can own objects.
fn reassign_target(node: &Node) -> Result<RoleRef> {
    let name = name(node, "reassign_owned_to")?;
    let reserved = if name.starts_with("_pgsr_") {
        "names starting with _pgsr_ are pgsr's intermediate roles"
    } else if name == "public" || name == "none" {
        "PostgreSQL reserves it: no object can belong to it"
    } else {
        return Ok(RoleRef {
            name,
            span: node.span,
        });
    };
    Err(error(
        node.span,
        format!(
            "reassign_owned_to: {} cannot receive ownership: {reserved}",
            quoted(&name)
        ),
    ))
}

/// A role, and where its name is.
fn role(node: &Node) -> Result<(DesiredRole, Span)> {
    if !matches!(node.kind, Kind::Map(_)) {
        return Err(error(
            node.span,
            format!(
                "expected a role (a mapping with `name`), found {}",
                describe(node)
            ),
        ));
    }
    let fields = Fields::of(
        node,
        "a role",
        &[
            "name",
            "grants",
            "preserve_existing_grants_in_schemas",
            "allow_power",
            "reassign_owned_to",
        ],
    )?;
    let name_node = fields.require("name")?;
    let role_name = managed_role_name(name_node)?;
    let mut login: Option<Login> = None;
    let mut grants = Vec::new();
    for item in optional_list(fields.get("grants"), "grants")? {
        match grant(item, &role_name)? {
            Item::Grant(g) => grants.push(g),
            Item::Login(_) if login.is_some() => {
                return Err(error(
                    item.span,
                    "a role has at most one `login`; this is the second",
                ));
            }
            Item::Login(l) => login = Some(l),
        }
    }
    let preserve = optional_list(
        fields.get("preserve_existing_grants_in_schemas"),
        "preserve_existing_grants_in_schemas",
    )?
    .iter()
    .map(|n| name(n, "schema name"))
    .collect::<Result<Vec<_>>>()?;
    let role = DesiredRole {
        name: role_name,
        span: node.span,
        login,
        grants,
        preserve_existing_grants_in_schemas: preserve,
        allow_power: match fields.get("allow_power") {
            Some(node) => boolean(node, "allow_power")?,
            None => false,
        },
        reassign_owned_to: fields
            .get("reassign_owned_to")
            .map(reassign_target)
            .transpose()?,
    };
    Ok((role, name_node.span))
}

fn managed_role_name(node: &Node) -> Result<String> {
    let name = name(node, "role name")?;
    let reserved = if name.starts_with("pg_") {
        "names starting with pg_ are reserved by PostgreSQL"
    } else if name.starts_with("_pgsr_") {
        "names starting with _pgsr_ are pgsr's intermediate roles"
    } else if name == "public" || name == "none" {
        "PostgreSQL reserves it"
    } else {
        return Ok(name);
    };
    Err(error(
        node.span,
        format!("role name {} cannot be managed: {reserved}", quoted(&name)),
    ))
}

enum Item {
    Login(Login),
    Grant(Grant),
}

fn grant(item: &Node, role_name: &str) -> Result<Item> {
    let Kind::Map(entries) = &item.kind else {
        return Err(error(
            item.span,
            format!(
                "expected a grant (a mapping with one key, such as `schema_usage: sales`), found {}",
                describe(item)
            ),
        ));
    };
    let (key, value) = match entries.as_slice() {
        [(key, value)] => (key, value),
        [] => return Err(error(item.span, "expected a grant, found an empty mapping")),
        [_, (second, _), ..] => {
            let keys: Vec<&str> = entries.iter().filter_map(|(k, _)| scalar_text(k)).collect();
            return Err(error(
                second.span,
                format!(
                    "a grant has exactly one key (its kind), found {}: {}; indent a grant's options under its kind",
                    entries.len(),
                    keys.join(", ")
                ),
            ));
        }
    };
    let Some(kind) = scalar_text(key) else {
        return Err(error(
            key.span,
            format!("expected a grant kind, found {}", describe(key)),
        ));
    };
    let span = item.span;
    let kind = match kind {
        "login" => return Ok(Item::Login(login(value, span)?)),
        "database_connect" => {
            let (database, _, _) = shorthand(value, "database_connect", "database", &["database"])?;
            GrantKind::DatabaseConnect { database }
        }
        "schema_usage" => {
            let (schema, direct) = schema_with_direct(value, "schema_usage")?;
            GrantKind::SchemaUsage { schema, direct }
        }
        "schema_create" => {
            let (schema, direct) = schema_with_direct(value, "schema_create")?;
            GrantKind::SchemaCreate { schema, direct }
        }
        "schema_ownership" => {
            let (schema, _, _) = shorthand(value, "schema_ownership", "schema", &["schema"])?;
            GrantKind::SchemaOwnership { schema }
        }
        "table_select" => table_select(value)?,
        "table_ownership" => table_ownership(value)?,
        "role_membership" => role_membership(value, role_name)?,
        other => {
            return Err(error(
                key.span,
                format!(
                    "unknown grant kind {}; expected one of: {GRANT_KINDS}",
                    quoted(other)
                ),
            ));
        }
    };
    Ok(Item::Grant(Grant { kind, span }))
}

/// `kind: name` or `kind: {field: name, ...}`: the name, where it is, and
/// the mapping's fields if it was one.
fn shorthand<'a>(
    value: &'a Node,
    kind: &'a str,
    field: &str,
    allowed: &[&str],
) -> Result<(String, Span, Option<Fields<'a>>)> {
    match &value.kind {
        Kind::Map(_) => {
            let fields = Fields::of(value, kind, allowed)?;
            let node = fields.require(field)?;
            Ok((name(node, &format!("{field} name"))?, node.span, Some(fields)))
        }
        Kind::Scalar { .. } => Ok((name(value, &format!("{field} name"))?, value.span, None)),
        Kind::Seq(_) => Err(error(
            value.span,
            format!("expected `{kind}` to be a {field} name or a mapping with `{field}`, found a sequence"),
        )),
    }
}

fn direct(fields: Option<&Fields>) -> Result<bool> {
    match fields.and_then(|f| f.get("direct")) {
        Some(node) => boolean(node, "direct"),
        None => Ok(false),
    }
}

fn schema_with_direct(value: &Node, kind: &str) -> Result<(String, bool)> {
    let (schema, _, fields) = shorthand(value, kind, "schema", &["schema", "direct"])?;
    Ok((schema, direct(fields.as_ref())?))
}

fn table_select(value: &Node) -> Result<GrantKind> {
    if !matches!(value.kind, Kind::Map(_)) {
        return Err(error(
            value.span,
            format!(
                "expected `table_select` to be a mapping with `schema` and `table` or `table_regex`, found {}",
                describe(value)
            ),
        ));
    }
    let fields = Fields::of(
        value,
        "table_select",
        &["schema", "table", "table_regex", "direct"],
    )?;
    let schema = name(fields.require("schema")?, "schema name")?;
    let table = match (fields.get("table"), fields.get("table_regex")) {
        (Some(_), Some(_)) => {
            let span = fields.key_span("table").max(fields.key_span("table_regex"));
            return Err(error(
                span.unwrap_or(fields.span),
                "`table` and `table_regex` cannot both be given; use one",
            ));
        }
        (Some(node), None) => TableName::Exact(name(node, "table name")?),
        (None, Some(node)) => TableName::Regex(pattern(node)?),
        (None, None) => {
            return Err(error(
                fields.span,
                "missing `table` or `table_regex` in table_select",
            ));
        }
    };
    Ok(GrantKind::TableSelect {
        schema,
        table,
        direct: direct(Some(&fields))?,
    })
}

fn pattern(node: &Node) -> Result<Pattern> {
    let source = string(node, "table_regex")?;
    let invalid = |e: regex::Error| {
        error(
            node.span,
            format!(
                "invalid table_regex {}: {}",
                quoted(source),
                regex_message(&e)
            ),
        )
    };
    // Compiled alone first so that a source such as `a)|(b` cannot escape
    // the group `Pattern` wraps it in, and errors refer to the text as written.
    regex::Regex::new(source).map_err(invalid)?;
    Pattern::new(source).map_err(invalid)
}

/// The regex crate's error on one line: syntax errors come as a diagram
/// whose last line says what is wrong.
fn regex_message(e: &regex::Error) -> String {
    let text = e.to_string();
    let reason = text.lines().find_map(|l| l.strip_prefix("error: "));
    match reason {
        Some(r) => r.trim().to_owned(),
        None => text.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

fn table_ownership(value: &Node) -> Result<GrantKind> {
    if !matches!(value.kind, Kind::Map(_)) {
        return Err(error(
            value.span,
            format!(
                "expected `table_ownership` to be a mapping with `schema` and `table`, found {}",
                describe(value)
            ),
        ));
    }
    let fields = Fields::of(value, "table_ownership", &["schema", "table"])?;
    let schema = name(fields.require("schema")?, "schema name")?;
    let table = name(fields.require("table")?, "table name")?;
    Ok(GrantKind::TableOwnership { schema, table })
}

fn role_membership(value: &Node, role_name: &str) -> Result<GrantKind> {
    let (role, span, _) = shorthand(value, "role_membership", "role", &["role"])?;
    let refusal = if role.starts_with("_pgsr_") {
        "roles starting with _pgsr_ are pgsr's intermediate roles"
    } else if role == role_name {
        "a role cannot be a member of itself"
    } else if role == "public" || role == "none" {
        "PostgreSQL reserves that name"
    } else {
        return Ok(GrantKind::RoleMembership { role });
    };
    Err(error(
        span,
        format!("cannot grant membership of {}: {refusal}", quoted(&role)),
    ))
}

// ---------------------------------------------------------------------------
// Login

const PASSWORD_SOURCES: [&str; 3] = ["password", "password_env", "password_file"];

/// The keys of a `login`: the only text in one that messages quote.
const LOGIN_OPTIONS: [&str; 4] = ["password", "password_env", "password_file", "valid_until"];

fn login(value: &Node, span: Span) -> Result<Login> {
    if is_null_node(value) {
        return Ok(Login {
            password: PasswordSource::Keep,
            valid_until: None,
            span,
        });
    }
    if !matches!(value.kind, Kind::Map(_)) {
        return Err(error(
            value.span,
            format!(
                "expected `login` to be a mapping of login options or nothing, found {}",
                describe(value)
            ),
        ));
    }
    let fields = Fields::of(value, "login", &LOGIN_OPTIONS)?;
    let mut sources = fields
        .entries
        .iter()
        .filter(|(k, _, _)| PASSWORD_SOURCES.contains(k));
    let first = sources.next();
    if let (Some((a, _, _)), Some((b, key, _))) = (first, sources.next()) {
        return Err(error(
            key.span,
            format!("`{a}` and `{b}` both given; a login has at most one of password, password_env, password_file"),
        ));
    }
    let password = match first {
        None => PasswordSource::Keep,
        Some((source, _, node)) => password_source(source, node)?,
    };
    let valid_until = match fields.get("valid_until") {
        Some(node) => valid_until(node)?,
        None => None,
    };
    Ok(Login {
        password,
        valid_until,
        span,
    })
}

fn password_source(source: &str, node: &Node) -> Result<PasswordSource> {
    let span = node.span;
    match source {
        "password" => {
            // Never echo the value: a typo'd secret is still a secret.
            let text = match &node.kind {
                Kind::Scalar { text, plain } if matches!(typed(text, *plain), Typed::Str(_)) => {
                    text
                }
                _ => {
                    return Err(error(
                        span,
                        "expected `password` to be a string (quote it); the value is not shown",
                    ))
                }
            };
            if text.is_empty() {
                return Err(error(
                    span,
                    "`password` must not be empty; leave it out to keep the existing one",
                ));
            }
            if text.contains('\0') {
                return Err(error(span, "`password` contains a NUL character"));
            }
            Ok(PasswordSource::Literal(Secret::new(text.as_str())))
        }
        "password_env" => {
            let name = string(node, "`password_env`")?;
            if name.is_empty() || name.contains(['=', '\0']) {
                return Err(error(
                    span,
                    "`password_env` is not an environment variable name: it is empty or holds `=` or a NUL character",
                ));
            }
            Ok(PasswordSource::Env {
                name: name.to_owned(),
                span,
            })
        }
        _ => {
            let path = string(node, "`password_file`")?;
            if path.is_empty() || path.contains('\0') {
                return Err(error(
                    span,
                    "`password_file` is not a file path: it is empty or holds a NUL character",
                ));
            }
            Ok(PasswordSource::File {
                path: path.to_owned(),
                span,
            })
        }
    }
}

/// `None` is forever: left out, null, or `infinity`.
fn valid_until(node: &Node) -> Result<Option<String>> {
    if is_null_node(node) {
        return Ok(None);
    }
    let text = match &node.kind {
        Kind::Scalar { text, plain } if matches!(typed(text, *plain), Typed::Str(_)) => text,
        _ => {
            let found = describe(node);
            return Err(error(
                node.span,
                format!("expected `valid_until` to be an RFC 3339 timestamp, `infinity` or null, found {found}"),
            ));
        }
    };
    match parse_timestamp(text) {
        Ok(t) if t == "infinity" => Ok(None),
        Ok(t) => Ok(Some(t)),
        Err(e) => Err(error(node.span, format!("invalid `valid_until`: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const EXAMPLE: &str = r#"lock_key: 1                  # optional
roles:                       # required
  - name: alice
    grants:
      - login: { password_env: ALICE_PASSWORD, valid_until: "2026-12-20T00:00:00Z" }
      - database_connect: warehouse
      - role_membership: analysts
  - name: analysts
    grants:
      - schema_usage: sales
      - schema_create: { schema: scratch, direct: true }
      - schema_ownership: scratch
      - table_select: { schema: sales, table: orders }
      - table_select: { schema: sales, table_regex: "^fact_", direct: true }
      - table_ownership: { schema: sales, table: orders }
    preserve_existing_grants_in_schemas: [ingest]
"#;

    const EXAMPLE_JSON: &str = r#"{
	"lock_key": 1,
	"roles": [
		{
			"name": "alice",
			"grants": [
				{"login": {"password_env": "ALICE_PASSWORD", "valid_until": "2026-12-20T00:00:00Z"}},
				{"database_connect": "warehouse"},
				{"role_membership": {"role": "analysts"}}
			]
		},
		{
			"name": "analysts",
			"grants": [
				{"schema_usage": {"schema": "sales"}},
				{"schema_create": {"schema": "scratch", "direct": true}},
				{"schema_ownership": "scratch"},
				{"table_select": {"schema": "sales", "table": "orders"}},
				{"table_select": {"schema": "sales", "table_regex": "^fact_", "direct": true}},
				{"table_ownership": {"schema": "sales", "table": "orders"}}
			],
			"preserve_existing_grants_in_schemas": ["ingest"]
		}
	]
}
"#;

    fn at(line: usize, column: usize) -> Span {
        Span { line, column }
    }

    /// Where the first `marker` in `text` starts.
    fn position(text: &str, marker: &str) -> Span {
        let index = text
            .find(marker)
            .unwrap_or_else(|| panic!("{marker:?} not in {text:?}"));
        let before = &text[..index];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        at(
            before.matches('\n').count() + 1,
            before[line_start..].chars().count() + 1,
        )
    }

    fn ok(text: &str) -> Desired {
        parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    fn fails(text: impl AsRef<[u8]>) -> DesiredError {
        match parse(text.as_ref()) {
            Ok(d) => panic!("parsed: {d:?}"),
            Err(e) => {
                assert!(!e.message.contains('\n'), "multi-line message: {e}");
                e
            }
        }
    }

    /// Asserts the error's position and that its message contains `needle`.
    fn fails_with(text: impl AsRef<[u8]>, span: Span, needle: &str) {
        let e = fails(text);
        assert_eq!(e.span, span, "{e}");
        assert!(e.message.contains(needle), "{e:?} lacks {needle:?}");
    }

    /// Asserts the error points at the first `marker` in `text`.
    fn fails_at(text: impl AsRef<str>, marker: &str, needle: &str) {
        let text = text.as_ref();
        fails_with(text, position(text, marker), needle);
    }

    /// A file with one role `r` holding the given grant items.
    fn role_with(items: &[&str]) -> String {
        let mut text = "roles:\n  - name: r\n    grants:\n".to_owned();
        for item in items {
            text.push_str(&format!("      - {item}\n"));
        }
        text
    }

    fn grant_kinds(items: &[&str]) -> Vec<GrantKind> {
        let d = ok(&role_with(items));
        d.roles[0].grants.iter().map(|g| g.kind.clone()).collect()
    }

    fn login_of(item: &str) -> Login {
        ok(&role_with(&[item])).roles[0]
            .login
            .clone()
            .expect("a login")
    }

    fn schema_usage(schema: &str) -> GrantKind {
        GrantKind::SchemaUsage {
            schema: schema.to_owned(),
            direct: false,
        }
    }

    fn without_spans(mut d: Desired) -> Desired {
        for role in &mut d.roles {
            role.span = Span::default();
            for grant in &mut role.grants {
                grant.span = Span::default();
            }
            if let Some(login) = &mut role.login {
                login.span = Span::default();
                if let PasswordSource::Env { span, .. } | PasswordSource::File { span, .. } =
                    &mut login.password
                {
                    *span = Span::default();
                }
            }
        }
        d
    }

    #[test]
    fn errors_at_the_end_of_a_file_are_on_its_last_line() {
        let at = |line, column| Span { line, column };
        // No final line break: the end is on the last line. `{` is what the
        // fuzzer found (reported on line 2 of a one-line file).
        fails_with("{", at(1, 2), "invalid YAML");
        fails_with("{\"roles\": [", at(1, 12), "invalid YAML");
        fails_with("roles:\n  - { name: a", at(2, 14), "invalid YAML");
        fails_with("{a: 1\r\n# c", at(2, 4), "invalid YAML");
        fails_with("{a: 1\r# c", at(2, 4), "invalid YAML");
        fails_with("roles:\n  - # c", at(2, 8), "expected a role");
        // A final line break: the end is the start of the (empty) next line.
        fails_with("{\"roles\": [\n", at(2, 1), "invalid YAML");
    }

    #[test]
    fn example_parses() {
        let d = ok(EXAMPLE);
        assert_eq!(d.lock_key, 1);
        assert_eq!(d.roles.len(), 2);

        let alice = &d.roles[0];
        assert_eq!((alice.name.as_str(), alice.span), ("alice", at(3, 5)));
        let login = alice.login.as_ref().expect("login");
        assert_eq!(login.span, at(5, 9));
        assert_eq!(
            login.valid_until.as_deref(),
            Some("2026-12-20T00:00:00.000000Z")
        );
        let env = PasswordSource::Env {
            name: "ALICE_PASSWORD".into(),
            span: at(5, 32),
        };
        assert_eq!(login.password, env);
        let grants: Vec<_> = alice
            .grants
            .iter()
            .map(|g| (g.kind.clone(), g.span))
            .collect();
        let expected = [
            (
                GrantKind::DatabaseConnect {
                    database: "warehouse".into(),
                },
                at(6, 9),
            ),
            (
                GrantKind::RoleMembership {
                    role: "analysts".into(),
                },
                at(7, 9),
            ),
        ];
        assert_eq!(grants, expected);
        assert!(alice.preserve_existing_grants_in_schemas.is_empty());

        let analysts = &d.roles[1];
        assert_eq!(
            (analysts.name.as_str(), analysts.span),
            ("analysts", at(8, 5))
        );
        assert_eq!(analysts.login, None);
        let regex = TableName::Regex(Pattern::new("^fact_").expect("regex"));
        let kinds: Vec<_> = analysts.grants.iter().map(|g| g.kind.clone()).collect();
        let expected = [
            schema_usage("sales"),
            GrantKind::SchemaCreate {
                schema: "scratch".into(),
                direct: true,
            },
            GrantKind::SchemaOwnership {
                schema: "scratch".into(),
            },
            GrantKind::TableSelect {
                schema: "sales".into(),
                table: TableName::Exact("orders".into()),
                direct: false,
            },
            GrantKind::TableSelect {
                schema: "sales".into(),
                table: regex,
                direct: true,
            },
            GrantKind::TableOwnership {
                schema: "sales".into(),
                table: "orders".into(),
            },
        ];
        assert_eq!(kinds, expected);
        assert_eq!(analysts.grants[5].span, at(15, 9));
        assert_eq!(analysts.preserve_existing_grants_in_schemas, ["ingest"]);
    }

    #[test]
    fn json_parses_like_yaml() {
        let json = ok(EXAMPLE_JSON);
        assert_eq!(json.roles[0].span, at(4, 3));
        assert_eq!(json.roles[0].grants[0].span, at(8, 5));
        assert_eq!(json.roles[1].grants[5].span, at(20, 5));
        assert_eq!(without_spans(json), without_spans(ok(EXAMPLE)));
        let compact: String = EXAMPLE_JSON
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        assert_eq!(without_spans(ok(&compact)), without_spans(ok(EXAMPLE)));
    }

    #[test]
    fn regex_matches_from_the_start_only() {
        let d = ok(EXAMPLE);
        let GrantKind::TableSelect {
            table: TableName::Regex(p),
            ..
        } = &d.roles[1].grants[4].kind
        else {
            panic!("not a regex");
        };
        assert!(p.matches("fact_sales"));
        assert!(!p.matches("old_fact_sales"));
    }

    #[test]
    fn defaults_and_empty_lists() {
        assert_eq!(
            ok("roles: []\n"),
            Desired {
                lock_key: DEFAULT_LOCK_KEY,
                roles: vec![],
                allow_power: vec![],
                reassign_owned_to: None,
            }
        );
        let d = ok("roles:\n  - name: r\n    grants:\n    preserve_existing_grants_in_schemas:\n");
        let role = &d.roles[0];
        assert!(role.grants.is_empty() && role.login.is_none());
        assert!(role.preserve_existing_grants_in_schemas.is_empty());
        assert!(ok("roles:\n  - name: r\n    grants: []\n").roles[0]
            .grants
            .is_empty());
    }

    #[test]
    fn reassign_owned_to_top_level_and_per_role() {
        let d = ok("reassign_owned_to: keeper\nroles:\n  - name: a\n  - name: b\n    reassign_owned_to: \"Other One\"\n");
        let top = d.reassign_owned_to.as_ref().expect("top level");
        assert_eq!(
            (top.name.as_str(), top.span),
            (
                "keeper",
                Span {
                    line: 1,
                    column: 20
                }
            )
        );
        assert_eq!(
            d.reassign_target("a").map(|t| t.name.as_str()),
            Some("keeper")
        );
        assert_eq!(
            d.reassign_target("b").map(|t| t.name.as_str()),
            Some("Other One")
        );
        assert!(ok("roles: []\n").reassign_owned_to.is_none());
        let text = "reassign_owned_to: public\nroles: []\n";
        fails_at(
            text,
            "public",
            "reassign_owned_to: `public` cannot receive ownership",
        );
        let text = "roles:\n  - name: a\n    reassign_owned_to: _pgsr_x\n";
        fails_at(text, "_pgsr_x", "intermediate roles");
        fails_at(
            "reassign_owned_to: none\nroles: []\n",
            "none",
            "PostgreSQL reserves it",
        );
        fails_at(
            "reassign_owned_to: [a]\nroles: []\n",
            "[a]",
            "reassign_owned_to",
        );
        fails_at(
            "reassign_owned_to: \"\"\nroles: []\n",
            "\"\"",
            "must not be empty",
        );
    }

    #[test]
    fn lock_key_forms() {
        let key = |text: &str| ok(&format!("lock_key: {text}\nroles: []\n")).lock_key;
        assert_eq!(key("-42"), -42);
        assert_eq!(key("+7"), 7);
        assert_eq!(key("0x10"), 16);
        assert_eq!(key("0o10"), 8);
        assert_eq!(key("-9223372036854775808"), i64::MIN);
        assert_eq!(key("9223372036854775807"), i64::MAX);
    }

    #[test]
    fn login_forms() {
        for item in ["login:", "login: {}", "login: null", "login: ~"] {
            let login = login_of(item);
            assert_eq!(
                (login.password, login.valid_until),
                (PasswordSource::Keep, None)
            );
        }
        let literal = login_of("login: { password: 's3cret' }");
        assert_eq!(
            literal.password,
            PasswordSource::Literal(Secret::new("s3cret"))
        );
        let item = "login: { password_file: /run/secrets/r }";
        let span = position(&role_with(&[item]), "/run");
        let file = PasswordSource::File {
            path: "/run/secrets/r".into(),
            span,
        };
        assert_eq!(login_of(item).password, file);
        assert_eq!(
            login_of("login: { valid_until: infinity }").valid_until,
            None
        );
        assert_eq!(login_of("login: { valid_until: null }").valid_until, None);
        let plain = login_of("login: { valid_until: 2026-12-20T01:00:00+01:00 }");
        assert_eq!(
            plain.valid_until.as_deref(),
            Some("2026-12-20T00:00:00.000000Z")
        );
    }

    #[test]
    fn shorthand_and_mapping_forms_are_equal() {
        let short = grant_kinds(&[
            "database_connect: d",
            "schema_usage: s",
            "schema_create: s",
            "schema_ownership: s",
            "role_membership: m",
        ]);
        let long = grant_kinds(&[
            "database_connect: { database: d }",
            "schema_usage: { schema: s }",
            "schema_create: { schema: s, direct: false }",
            "schema_ownership: { schema: s }",
            "role_membership: { role: m }",
        ]);
        assert_eq!(short, long);
    }

    #[test]
    fn quoted_scalars_are_strings() {
        let kinds = grant_kinds(&[
            "schema_usage: \"5\"",
            "schema_usage: 'true'",
            "schema_usage: \"null\"",
            "schema_usage: 1.5x",
            "schema_usage: 0x1g",
            "schema_usage: |\n          multi",
        ]);
        let expected: Vec<_> = ["5", "true", "null", "1.5x", "0x1g", "multi\n"]
            .map(schema_usage)
            .into();
        assert_eq!(kinds, expected);
        assert_eq!(ok("roles:\n  - name: \"5\"\n").roles[0].name, "5");
    }

    #[test]
    fn plain_scalars_are_typed() {
        let name = |value: &str| format!("roles:\n  - name: {value}\n");
        let cases = [
            (
                "5",
                "expected role name (a string), found integer `5`; quote it",
            ),
            ("-0x1F", "found string `-0x1F`"),
            ("true", "found boolean `true`; quote it"),
            ("FALSE", "found boolean `FALSE`"),
            ("1e3", "found number `1e3`"),
            ("-.5", "found number `-.5`"),
            (".inf", "found number `.inf`"),
            (".NaN", "found number `.NaN`"),
            ("~", "found null `~`"),
            ("Null", "found null `Null`"),
            ("[a]", "found a sequence"),
            ("{a: b}", "found a mapping"),
        ];
        for (value, needle) in cases {
            if value == "-0x1F" {
                // Not a core-schema integer (signs are decimal only): a name.
                assert_eq!(ok(&name(value)).roles[0].name, value);
                continue;
            }
            fails_at(name(value), value, needle);
        }
        fails_at("roles:\n  - name:\n", "name", "found nothing");
    }

    #[test]
    fn order_and_duplicate_grants_are_kept() {
        let kinds = grant_kinds(&["schema_usage: b", "schema_usage: a", "schema_usage: b"]);
        assert_eq!(kinds, ["b", "a", "b"].map(schema_usage));
    }

    #[test]
    fn predefined_roles_can_be_joined() {
        let kinds = grant_kinds(&["role_membership: pg_read_all_data"]);
        assert_eq!(
            kinds,
            [GrantKind::RoleMembership {
                role: "pg_read_all_data".into()
            }]
        );
    }

    #[test]
    fn byte_order_mark_and_crlf_are_fine() {
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), EXAMPLE.as_bytes()].concat();
        assert_eq!(parse(&with_bom), parse(EXAMPLE.as_bytes()));
        let crlf = EXAMPLE.replace('\n', "\r\n");
        assert_eq!(parse(crlf.as_bytes()), parse(EXAMPLE.as_bytes()));
    }

    #[test]
    fn names_are_limited_in_bytes() {
        let longest = "€".repeat(21); // 63 bytes
        assert_eq!(
            ok(&format!("roles:\n  - name: {longest}\n")).roles[0].name,
            longest
        );
        let long = "é".repeat(32); // 32 characters, 64 bytes
        fails_at(
            format!("roles:\n  - name: {long}\n"),
            "é",
            "is 64 bytes long",
        );
    }

    // Errors ----------------------------------------------------------------

    #[test]
    fn syntax_errors() {
        fails_with("roles: [\n", at(2, 1), "invalid YAML");
        fails_with("roles:\n  - name: a\n   x: 1\n", at(3, 5), "invalid YAML");
        fails_with("{\"roles\": [}\n", at(1, 12), "invalid YAML");
        fails_with("roles:\n\t- name: a\n", at(2, 2), "invalid YAML: tabs");
    }

    #[test]
    fn empty_files() {
        for text in ["", "\n\n", "# only a comment\n", "---\n", "~\n", "\u{feff}"] {
            fails_with(
                text,
                at(1, 1),
                "empty file: expected a mapping with `roles`",
            );
        }
    }

    #[test]
    fn top_level_not_a_mapping() {
        let needle = "expected a mapping with `roles` at the top level, found a sequence";
        fails_with("- name: a\n", at(1, 1), needle);
        fails_with("[]", at(1, 1), needle);
        fails_with("roles\n", at(1, 1), "found string `roles`");
    }

    #[test]
    fn unknown_keys() {
        fails_at(
            "roles: []\nrole: []\n",
            "role:",
            "unknown key `role` in the top level; expected one of: lock_key, roles",
        );
        fails_at(
            "roles:\n  - name: a\n    grant: []\n",
            "grant",
            "unknown key `grant` in a role; expected one of: name, grants, \
             preserve_existing_grants_in_schemas",
        );
        let cases = [
            ("login: { pasword: x }", "pasword", "unknown key in login; expected one of: password, password_env, password_file, valid_until"),
            ("table_select: { schema: s, tables: t }", "tables", "unknown key `tables` in table_select; expected one of: schema, table, table_regex, direct"),
            ("schema_usage: { schema: s, drect: true }", "drect", "in schema_usage; expected one of: schema, direct"),
            ("schema_create: { schema: s, drect: true }", "drect", "in schema_create; expected one of: schema, direct"),
            ("schema_ownership: { schema: s, direct: true }", "direct", "in schema_ownership; expected one of: schema"),
            ("table_ownership: { schema: s, table: t, direct: true }", "direct", "in table_ownership; expected one of: schema, table"),
            ("role_membership: { name: m }", "name: m", "in role_membership; expected one of: role"),
            ("database_connect: { db: d }", "db", "in database_connect; expected one of: database"),
        ];
        for (item, marker, needle) in cases {
            fails_at(role_with(&[item]), marker, needle);
        }
        fails_at(
            "roles: []\n[a]: 1\n",
            "[a]",
            "expected a key in the top level, found a sequence",
        );
    }

    #[test]
    fn wrong_value_types() {
        let cases = [
            ("schema_usage: { schema: s, direct: \"yes\" }", "\"yes\"", "expected `direct` to be true or false, found string `yes`"),
            ("table_select: { schema: s, table: t, direct: 1 }", "1", "expected `direct` to be true or false, found integer `1`"),
            ("login: true", "true", "expected `login` to be a mapping of login options or nothing, found a boolean (not shown)"),
            ("login: { valid_until: 5 }", "5", "expected `valid_until` to be an RFC 3339 timestamp, `infinity` or null, found an integer (not shown)"),
            ("login: { password_env: 5 }", "5", "expected `password_env` (a string), found an integer (not shown)"),
            ("login: { password_file: [f] }", "[f]", "expected `password_file` (a string), found a sequence"),
            ("schema_usage: [s]", "[s]", "expected `schema_usage` to be a schema name or a mapping with `schema`, found a sequence"),
            ("schema_usage: { schema: 1 }", "1", "expected schema name (a string), found integer `1`"),
            ("table_select: s.t", "s.t", "expected `table_select` to be a mapping with `schema` and `table` or `table_regex`, found string `s.t`"),
            ("table_select: { schema: s, table_regex: 5 }", "5", "expected table_regex (a string), found integer `5`"),
            ("table_ownership: t", "t\n", "expected `table_ownership` to be a mapping with `schema` and `table`, found string `t`"),
        ];
        for (item, marker, needle) in cases {
            fails_at(role_with(&[item]), marker, needle);
        }
        let lock_key = |value: &str| format!("lock_key: {value}\nroles: []\n");
        fails_at(
            lock_key("1.5"),
            "1.5",
            "expected `lock_key` to be an integer, found number `1.5`",
        );
        fails_at(
            lock_key("\"1\""),
            "\"1\"",
            "expected `lock_key` to be an integer, found string `1`",
        );
        fails_at(
            lock_key("9223372036854775808"),
            "9",
            "`lock_key` `9223372036854775808` is out of range",
        );
        fails_at(
            lock_key("-9223372036854775809"),
            "-",
            "out of range (a 64-bit signed integer)",
        );
        fails_at(lock_key("0x8000000000000000"), "0x", "out of range");
        fails_at(
            "roles: {}\n",
            "{}",
            "expected `roles` to be a sequence of roles, found a mapping",
        );
        fails_at(
            "roles:\n",
            "roles",
            "expected `roles` to be a sequence of roles, found nothing",
        );
        fails_at(
            "roles:\n  - alice\n",
            "alice",
            "expected a role (a mapping with `name`), found string `alice`",
        );
        fails_at(
            "roles:\n  - name: a\n    grants: login\n",
            "login",
            "expected `grants` to be a sequence, found string `login`",
        );
        fails_at(
            "roles:\n  - name: a\n    preserve_existing_grants_in_schemas: s\n",
            "s\n",
            "expected `preserve_existing_grants_in_schemas` to be a sequence, found string `s`",
        );
    }

    #[test]
    fn passwords_are_not_echoed() {
        let text = role_with(&["login: { password: 12345678 }"]);
        let e = fails(&text);
        assert_eq!(e.span, position(&text, "1234"));
        assert!(!e.message.contains("1234"), "{e}");
        assert!(
            e.message
                .contains("expected `password` to be a string (quote it)"),
            "{e}"
        );
        let cases = [
            (
                "login: { password: '' }",
                "''",
                "`password` must not be empty; leave it out to keep the existing one",
            ),
            (
                "login: { password: \"a\\0b\" }",
                "\"a",
                "`password` contains a NUL character",
            ),
            (
                "login: { password_env: 'A=B' }",
                "'A",
                "`password_env` is not an environment variable name",
            ),
            (
                "login: { password_env: '' }",
                "''",
                "is not an environment variable name",
            ),
            (
                "login: { password_file: '' }",
                "''",
                "`password_file` is not a file path",
            ),
        ];
        for (item, marker, needle) in cases {
            fails_at(role_with(&[item]), marker, needle);
        }
    }

    #[test]
    fn unknown_grant_kinds() {
        fails_at(
            role_with(&["table_insert: { schema: s, table: t }"]),
            "table_insert",
            "unknown grant kind `table_insert`; expected one of: login, database_connect, \
             schema_usage, schema_create, schema_ownership, table_select, table_ownership, \
             role_membership",
        );
    }

    #[test]
    fn grant_items_must_be_one_key_mappings() {
        fails_at(
            role_with(&["table_select:\n        schema: s\n        table: t"]),
            "schema: s",
            "a grant has exactly one key (its kind), found 3: table_select, schema, table; \
             indent a grant's options under its kind",
        );
        let cases = [
            ("login", "login", "expected a grant (a mapping with one key, such as `schema_usage: sales`), found string `login`"),
            ("{}", "{}", "expected a grant, found an empty mapping"),
            ("[login]", "[login]", "expected a grant (a mapping with one key, such as `schema_usage: sales`), found a sequence"),
            ("? [a]\n        : b", "[a]", "expected a grant kind, found a sequence"),
        ];
        for (item, marker, needle) in cases {
            fails_at(role_with(&[item]), marker, needle);
        }
    }

    #[test]
    fn missing_keys() {
        fails_at(
            "lock_key: 1\n",
            "lock_key",
            "missing `roles` in the top level",
        );
        fails_at(
            "roles:\n  - grants: []\n",
            "grants",
            "missing `name` in a role",
        );
        let cases = [
            (
                "schema_usage: { direct: true }",
                "missing `schema` in schema_usage",
            ),
            (
                "schema_create: { direct: true }",
                "missing `schema` in schema_create",
            ),
            (
                "schema_ownership: {}",
                "missing `schema` in schema_ownership",
            ),
            (
                "database_connect: {}",
                "missing `database` in database_connect",
            ),
            (
                "table_select: { table: t }",
                "missing `schema` in table_select",
            ),
            (
                "table_select: { schema: s }",
                "missing `table` or `table_regex` in table_select",
            ),
            (
                "table_ownership: { schema: s }",
                "missing `table` in table_ownership",
            ),
            (
                "table_ownership: { table: t }",
                "missing `schema` in table_ownership",
            ),
            ("role_membership: {}", "missing `role` in role_membership"),
        ];
        for (item, needle) in cases {
            fails_at(role_with(&[item]), "{", needle);
        }
    }

    #[test]
    fn table_and_table_regex_are_exclusive() {
        fails_at(
            role_with(&["table_select: { schema: s, table: t, table_regex: x }"]),
            "table_regex",
            "`table` and `table_regex` cannot both be given; use one",
        );
    }

    #[test]
    fn one_password_source() {
        fails_at(
            role_with(&["login: { password_env: A, valid_until: null, password_file: /f }"]),
            "password_file",
            "`password_env` and `password_file` both given; a login has at most one of \
             password, password_env, password_file",
        );
        fails_at(
            role_with(&["login: { password: a, password_env: A }"]),
            "password_env",
            "`password` and `password_env` both given",
        );
    }

    #[test]
    fn bad_regexes() {
        let regex = |source: &str| {
            role_with(&[&format!(
                "table_select: {{ schema: s, table_regex: '{source}' }}"
            )])
        };
        fails_at(
            regex("a(b"),
            "'a(b'",
            "invalid table_regex `a(b`: unclosed group",
        );
        fails_at(
            regex("a)|(b"),
            "'a)",
            "invalid table_regex `a)|(b`: unopened group",
        );
        fails_at(regex("(?=x)"), "'(", "look-around");
        fails_at(regex("(a)\\1"), "'(", "backreferences");
        fails_at(regex("a{99999999}"), "'a", "invalid table_regex");
    }

    #[test]
    fn bad_timestamps() {
        let login = |value: &str| role_with(&[&format!("login: {{ valid_until: {value} }}")]);
        fails_at(
            login("'2026-02-30T00:00:00Z'"),
            "'2026",
            "invalid `valid_until`: day 30 is out of range for 2026-02 (01-28)",
        );
        fails_at(
            login("2026-12-20"),
            "2026",
            "invalid `valid_until`: missing the time",
        );
        fails_at(
            login("forever"),
            "forever",
            "expected a 4-digit year at character 1",
        );
        fails_at(
            login("'2026-12-20T00:00:00'"),
            "'2026",
            "missing the UTC offset",
        );
    }

    #[test]
    fn duplicate_roles() {
        fails_with(
            "roles:\n  - name: a\n  - name: b\n  - name: a\n",
            at(4, 11),
            "duplicate role `a` (first defined on line 2)",
        );
    }

    #[test]
    fn two_logins() {
        let text = role_with(&["login: {}", "schema_usage: s", "login: { password_env: X }"]);
        fails_with(
            text,
            at(6, 9),
            "a role has at most one `login`; this is the second",
        );
    }

    #[test]
    fn bad_names() {
        let long = "x".repeat(64);
        let nul = "\"a\\0b\"";
        let role = |value: &str| format!("roles:\n  - name: {value}\n");
        let one = |item: String| role_with(&[&item]);
        let cases = [
            (role("''"), "''", "role name must not be empty"),
            (
                role(nul),
                nul,
                "role name `a\\u{0}b` contains a NUL character",
            ),
            (role(&long), "xxx", "role name `xxxx"),
            (
                one(format!("database_connect: {long}")),
                "xxx",
                "database name `xxx",
            ),
            (
                one("database_connect: { database: '' }".into()),
                "''",
                "database name must not be empty",
            ),
            (
                one(format!("schema_usage: {nul}")),
                nul,
                "schema name `a\\u{0}b` contains a NUL",
            ),
            (
                one(format!("schema_create: {{ schema: {long} }}")),
                "xxx",
                "schema name `xxx",
            ),
            (
                one(format!("schema_ownership: {long}")),
                "xxx",
                "is 64 bytes long; PostgreSQL names are at most 63 bytes",
            ),
            (
                one(format!("table_select: {{ schema: s, table: {long} }}")),
                "xxx",
                "table name `xxx",
            ),
            (
                one("table_select: { schema: '', table: t }".into()),
                "''",
                "schema name must not be empty",
            ),
            (
                one(format!("table_ownership: {{ schema: s, table: {nul} }}")),
                nul,
                "table name `a\\u{0}b` contains a NUL",
            ),
            (
                one(format!("table_ownership: {{ schema: {long}, table: t }}")),
                "xxx",
                "schema name `xxx",
            ),
            (
                one(format!("role_membership: {long}")),
                "xxx",
                "role name `xxx",
            ),
            (
                one("role_membership: { role: '' }".into()),
                "''",
                "role name must not be empty",
            ),
            (
                format!(
                    "roles:\n  - name: a\n    preserve_existing_grants_in_schemas: [ok, {long}]\n"
                ),
                "xxx",
                "schema name `xxx",
            ),
            (
                "roles:\n  - name: a\n    preserve_existing_grants_in_schemas: [ok, '']\n".into(),
                "''",
                "schema name must not be empty",
            ),
        ];
        for (text, marker, needle) in cases {
            fails_at(text, marker, needle);
        }
    }

    #[test]
    fn long_names_are_shortened_in_messages() {
        let long = "y".repeat(200);
        let e = fails(format!("roles:\n  - name: {long}\n"));
        assert!(e.message.contains(&format!("`{}…`", "y".repeat(60))), "{e}");
        assert!(e.message.contains("200 bytes"), "{e}");
    }

    #[test]
    fn reserved_role_names() {
        let role = |name: &str| format!("roles:\n  - name: {name}\n");
        fails_at(
            role("pg_monitor"),
            "pg_",
            "role name `pg_monitor` cannot be managed: names starting with pg_ are reserved by PostgreSQL",
        );
        fails_at(role("_pgsr_x"), "_pgsr_", "role name `_pgsr_x` cannot be managed: names starting with _pgsr_ are pgsr's intermediate roles");
        fails_at(
            role("public"),
            "public",
            "role name `public` cannot be managed: PostgreSQL reserves it",
        );
        fails_at(role("none"), "none", "PostgreSQL reserves it");
        assert_eq!(ok(&role("PG_upper")).roles[0].name, "PG_upper");
        let membership = |item: &str| role_with(&[item]);
        fails_at(
            membership("role_membership: _pgsr_abc"),
            "_pgsr_",
            "cannot grant membership of `_pgsr_abc`: roles starting with _pgsr_ are pgsr's intermediate roles",
        );
        fails_at(
            membership("role_membership: { role: r }"),
            "r }",
            "cannot grant membership of `r`: a role cannot be a member of itself",
        );
        fails_at(
            membership("role_membership: public"),
            "public",
            "PostgreSQL reserves that name",
        );
    }

    #[test]
    fn duplicate_keys() {
        fails_with(
            "roles: []\nroles: []\n",
            at(2, 1),
            "duplicate key `roles` (first on line 1)",
        );
        fails_at(
            role_with(&["table_select: { schema: a, schema: b, table: t }"]),
            "schema: b",
            "duplicate key `schema` (first on line 4)",
        );
        fails_with(
            "{\"roles\": [], \"roles\": []}",
            at(1, 15),
            "duplicate key `roles`",
        );
        fails_at(
            "roles:\n  - name: a\n    'name': b\n",
            "'name'",
            "duplicate key `name` (first on line 2)",
        );
    }

    #[test]
    fn anchors_and_aliases() {
        let needle = "YAML anchors and aliases are not supported";
        fails_at("roles: []\nlock_key: &k 1\n", "1\n", needle);
        fails_at("roles:\n  - name: &n a\n", "a\n", needle);
        fails_at("roles: &r []\n", "[]", needle);
        // An anchored block sequence is reported where its first item starts.
        let text = "roles:\n  - name: a\n    grants: &g\n      - schema_usage: s\n  - name: b\n    grants: *g\n";
        fails_at(text, "- schema_usage", needle);
    }

    #[test]
    fn several_documents() {
        let needle = "more than one YAML document; put everything in one";
        fails_with("roles: []\n---\nroles: []\n", at(2, 1), needle);
        fails_with("roles: []\n...\n---\n", at(3, 1), needle);
        assert_eq!(ok("---\nroles: []\n...\n").roles, []);
    }

    #[test]
    fn not_utf8() {
        fails_with(
            b"roles:\n  - name: a\xffb\n",
            at(2, 12),
            "the file is not valid UTF-8 (byte 0xFF here)",
        );
        fails_with(b"\xc3", at(1, 1), "not valid UTF-8 (byte 0xC3 here)");
        let text: Vec<u8> = "roles:\n  - name: é".bytes().chain([0x80]).collect();
        fails_with(text, at(2, 12), "(byte 0x80 here)");
        let bom_then_bad = b"\xEF\xBB\xBFroles: [\xfe]";
        fails_with(bom_then_bad, at(1, 9), "0xFE");
    }

    #[test]
    fn a_nul_byte_is_refused_where_it_is() {
        // The YAML parser would take the NUL for the end of the file and
        // plan the grants after it as revokes.
        let text = "roles:\n  - name: a\n    grants:\n      - schema_usage: s\n\0      - schema_usage: t\n";
        fails_with(
            text,
            at(5, 1),
            "the file holds a NUL byte, which YAML does not allow",
        );
        fails_with("roles: [\0]", at(1, 9), "NUL byte");
        fails_with("\0", at(1, 1), "NUL byte");
        // Lines end as the YAML parser ends them, at `\r` too.
        fails_with("roles:\r  - name: a\r\0", at(3, 1), "NUL byte");
        fails_with("roles:\r\n  - name: é\0", at(2, 12), "NUL byte");
    }

    #[test]
    fn characters_yaml_does_not_allow_are_refused_where_they_are() {
        for (c, code) in [
            ('\u{1}', "U+0001"),
            ('\u{7}', "U+0007"),
            ('\u{8}', "U+0008"),
            ('\u{b}', "U+000B"),
            ('\u{c}', "U+000C"),
            ('\u{1b}', "U+001B"),
            ('\u{7f}', "U+007F"),
            ('\u{80}', "U+0080"),
            ('\u{9b}', "U+009B"),
            ('\u{9f}', "U+009F"),
            ('\u{fffe}', "U+FFFE"),
        ] {
            let needle = format!("the file holds the character {code}, which YAML does not allow");
            for text in [
                format!("roles:\n  - name: a{c}b\n"),
                format!("roles:\n  - name: \"a{c}b\"\n"),
                format!("roles:\n  - name: ab # {c}\n"),
            ] {
                let column = text.lines().nth(1).unwrap().find(c).unwrap() + 1;
                fails_with(&text, at(2, column), &needle);
            }
        }
        // What YAML allows: tabs, NEL, and escapes standing for the others.
        let d = ok("roles:\n  - name: \"a\tb\u{85}c\"\n  - name: \"d\\e[31me\"\n");
        assert_eq!(d.roles[0].name, "a\tb\u{85}c");
        assert_eq!(d.roles[1].name, "d\u{1b}[31me");
    }

    #[test]
    fn names_in_messages_have_control_characters_escaped() {
        let e = fails("roles:\n  - name: \"pg_\\e]0;owned\\a\\x9b2J\"\n");
        assert!(!e.message.chars().any(char::is_control), "{e:?}");
        assert!(
            e.message.contains("`pg_\\u{1b}]0;owned\\u{7}\\u{9b}2J`"),
            "{e}"
        );
        let e = fails("roles:\n  - name: a\n    grants:\n      - \"\\r\\e[2Kx\": y\n");
        assert!(
            e.message.contains("unknown grant kind `\\r\\u{1b}[2Kx`"),
            "{e}"
        );
    }

    /// Malformed logins around the password `hunter2`: no error shows it,
    /// nor a part of it.
    #[test]
    fn a_literal_password_is_never_in_a_message() {
        let cases = [
            ("login: hunter2", "found a string (not shown)"),
            ("login: { password hunter2 }", "unknown key in login"),
            (
                "login: { password: hunter2, hunter2 }",
                "unknown key in login",
            ),
            ("login: { hunter2: x }", "unknown key in login"),
            (
                "login: { password: hunter2, pasword: hunter2 }",
                "unknown key in login",
            ),
            (
                "login: { password: hunter2, password: hunter2 }",
                "duplicate key `password`",
            ),
            (
                "login: { hunter2: 1, hunter2: 2 }",
                "duplicate key (first on line 4)",
            ),
            ("login: { password: [hunter2] }", "the value is not shown"),
            (
                "login: { password: { hunter2: 1 } }",
                "the value is not shown",
            ),
            (
                "login: { password: hunter2, valid_until: hunter2 }",
                "invalid `valid_until`",
            ),
            (
                "login: { password: hunter2, valid_until: [hunter2] }",
                "found a sequence",
            ),
            (
                "login: { password: hunter2, password_env: \"hunt=er2\" }",
                "both given",
            ),
            (
                "login: { password_env: \"hunt=er2\" }",
                "not an environment variable name",
            ),
            ("login: { password_env: [hunter2] }", "found a sequence"),
            (
                "login: { password_file: { hunter2: 1 } }",
                "found a mapping",
            ),
            (
                "login: { password: \"hunter2\\0\" }",
                "contains a NUL character",
            ),
            (
                "login: { password: @hunter2 }",
                "a value cannot start with `@`",
            ),
            (
                "login: { password: `hunter2 }",
                "a value cannot start with `@`",
            ),
            ("login: { password: \"hunter2 }", "invalid YAML"),
            (
                "login: { password: \"hunter2\\q\" }",
                "unknown escape character",
            ),
            (
                "login: { password: hunter2 valid_until: x }",
                "invalid YAML",
            ),
            ("login: { password: !!str hunter2 }", "YAML tags"),
            ("login: { password: &a hunter2 }", "anchors"),
        ];
        for (item, needle) in cases {
            let text = role_with(&[item]);
            let e = fails(&text);
            assert!(e.message.contains(needle), "{item}: {e}");
            for part in ["hunt", "ter2"] {
                assert!(!e.message.contains(part), "{item}: {e}");
            }
        }
        let text = "roles:\n  - name: a\n    grants:\n      - login:\n          password hunter2\n";
        let e = fails(text);
        assert!(!e.message.contains("hunt"), "{e}");
    }

    #[test]
    fn debug_output_never_shows_a_literal_password() {
        let d = ok(&role_with(&["login: { password: hunter2 }"]));
        assert_eq!(
            d.roles[0].login.as_ref().unwrap().password,
            PasswordSource::Literal(Secret::new("hunter2"))
        );
        for shown in [format!("{d:?}"), format!("{d:#?}")] {
            assert!(!shown.contains("hunt"), "{shown}");
            assert!(shown.contains("Literal(***)"), "{shown}");
        }
    }

    #[test]
    fn tags_are_refused() {
        let needle = "YAML tags (such as `!!str`) are not supported; quote the value instead";
        fails_at("roles:\n  - name: !!str 5\n", "5", needle);
        fails_at("roles: !!seq []\n", "[]", needle);
        fails_at("roles:\n  - name: !custom x\n", "x", needle);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!("roles: {}{}", "[".repeat(100), "]".repeat(100));
        let e = fails(deep);
        assert!(e.message.contains("nesting deeper than 32 levels"), "{e}");
    }

    proptest! {
        #[test]
        fn never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            if let Err(e) = parse(&bytes) {
                prop_assert!(!e.message.contains('\n'), "{}", e);
                prop_assert!(e.span.line >= 1 && e.span.column >= 1, "{}", e);
            }
        }

        #[test]
        fn never_panics_on_mutated_examples(
            json in any::<bool>(),
            edits in prop::collection::vec(
                (
                    any::<prop::sample::Index>(),
                    0..3u8,
                    prop_oneof![
                        any::<u8>(),
                        prop::sample::select(b":-[]{},&*!|>'\"#?%@` \t\n\r\\0x~.e".to_vec()),
                    ],
                ),
                1..10,
            ),
        ) {
            let mut bytes = if json { EXAMPLE_JSON } else { EXAMPLE }.as_bytes().to_vec();
            for (index, op, byte) in edits {
                let i = index.index(bytes.len());
                match op {
                    0 => bytes.insert(i, byte),
                    1 => bytes[i] = byte,
                    _ => {
                        bytes.remove(i);
                    }
                }
            }
            if let Err(e) = parse(&bytes) {
                prop_assert!(!e.message.contains('\n'), "{}", e);
                prop_assert!(e.span.line >= 1 && e.span.column >= 1, "{}", e);
            }
        }
    }
}
