//! Privileges and access control lists, in PostgreSQL's own terms.
//!
//! An `aclitem` is `grantee=privileges/grantor`; pgsr keeps one [`AclEntry`]
//! per privilege so that a plan can reason about each independently.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The grantee name that stands for PUBLIC. PostgreSQL reserves the role
/// name `public`, so it can never be confused with a real role.
pub const PUBLIC: &str = "public";

/// A privilege that can appear in an ACL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Privilege {
    #[serde(rename = "SELECT")]
    Select,
    #[serde(rename = "INSERT")]
    Insert,
    #[serde(rename = "UPDATE")]
    Update,
    #[serde(rename = "DELETE")]
    Delete,
    #[serde(rename = "TRUNCATE")]
    Truncate,
    #[serde(rename = "REFERENCES")]
    References,
    #[serde(rename = "TRIGGER")]
    Trigger,
    #[serde(rename = "MAINTAIN")]
    Maintain,
    #[serde(rename = "EXECUTE")]
    Execute,
    #[serde(rename = "USAGE")]
    Usage,
    #[serde(rename = "CREATE")]
    Create,
    #[serde(rename = "CONNECT")]
    Connect,
    #[serde(rename = "TEMPORARY")]
    Temporary,
    #[serde(rename = "SET")]
    Set,
    #[serde(rename = "ALTER SYSTEM")]
    AlterSystem,
}

impl Privilege {
    /// Every privilege, in canonical order.
    pub const ALL: [Privilege; 15] = [
        Privilege::Select,
        Privilege::Insert,
        Privilege::Update,
        Privilege::Delete,
        Privilege::Truncate,
        Privilege::References,
        Privilege::Trigger,
        Privilege::Maintain,
        Privilege::Execute,
        Privilege::Usage,
        Privilege::Create,
        Privilege::Connect,
        Privilege::Temporary,
        Privilege::Set,
        Privilege::AlterSystem,
    ];

    /// The letter PostgreSQL uses for this privilege in `aclitem` text.
    pub fn letter(self) -> char {
        match self {
            Privilege::Select => 'r',
            Privilege::Insert => 'a',
            Privilege::Update => 'w',
            Privilege::Delete => 'd',
            Privilege::Truncate => 'D',
            Privilege::References => 'x',
            Privilege::Trigger => 't',
            Privilege::Maintain => 'm',
            Privilege::Execute => 'X',
            Privilege::Usage => 'U',
            Privilege::Create => 'C',
            Privilege::Connect => 'c',
            Privilege::Temporary => 'T',
            Privilege::Set => 's',
            Privilege::AlterSystem => 'A',
        }
    }

    pub fn from_letter(letter: char) -> Option<Privilege> {
        Privilege::ALL.into_iter().find(|p| p.letter() == letter)
    }

    /// The keyword used in GRANT and REVOKE.
    pub fn keyword(self) -> &'static str {
        match self {
            Privilege::Select => "SELECT",
            Privilege::Insert => "INSERT",
            Privilege::Update => "UPDATE",
            Privilege::Delete => "DELETE",
            Privilege::Truncate => "TRUNCATE",
            Privilege::References => "REFERENCES",
            Privilege::Trigger => "TRIGGER",
            Privilege::Maintain => "MAINTAIN",
            Privilege::Execute => "EXECUTE",
            Privilege::Usage => "USAGE",
            Privilege::Create => "CREATE",
            Privilege::Connect => "CONNECT",
            Privilege::Temporary => "TEMPORARY",
            Privilege::Set => "SET",
            Privilege::AlterSystem => "ALTER SYSTEM",
        }
    }
}

impl fmt::Display for Privilege {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// One privilege held by one grantee, granted by one grantor.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AclEntry {
    /// A role name, or [`PUBLIC`].
    pub grantee: String,
    pub grantor: String,
    pub privilege: Privilege,
    /// Held WITH GRANT OPTION.
    pub grantable: bool,
}

impl AclEntry {
    pub fn is_public(&self) -> bool {
        self.grantee == PUBLIC
    }
}

/// The kinds of object that carry an ACL, as far as their built-in default
/// ACL differs (PostgreSQL's `acldefault` object types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AclObjectType {
    Relation,
    Sequence,
    Column,
    Database,
    Function,
    Language,
    LargeObject,
    Schema,
    Tablespace,
    ForeignDataWrapper,
    ForeignServer,
    Type,
    Parameter,
}

impl AclObjectType {
    /// The privileges that exist for this kind of object.
    pub fn privileges(self, server_version_num: u32) -> &'static [Privilege] {
        use Privilege::*;
        match self {
            AclObjectType::Relation if server_version_num >= 170000 => &[
                Select, Insert, Update, Delete, Truncate, References, Trigger, Maintain,
            ],
            AclObjectType::Relation => &[
                Select, Insert, Update, Delete, Truncate, References, Trigger,
            ],
            AclObjectType::Sequence => &[Select, Update, Usage],
            AclObjectType::Column => &[Select, Insert, Update, References],
            AclObjectType::Database => &[Create, Connect, Temporary],
            AclObjectType::Function => &[Execute],
            AclObjectType::Language => &[Usage],
            AclObjectType::LargeObject => &[Select, Update],
            AclObjectType::Schema => &[Usage, Create],
            AclObjectType::Tablespace => &[Create],
            AclObjectType::ForeignDataWrapper => &[Usage],
            AclObjectType::ForeignServer => &[Usage],
            AclObjectType::Type => &[Usage],
            AclObjectType::Parameter => &[Set, AlterSystem],
        }
    }

    /// What PUBLIC holds when the ACL is NULL.
    fn public_defaults(self) -> &'static [Privilege] {
        use Privilege::*;
        match self {
            AclObjectType::Database => &[Connect, Temporary],
            AclObjectType::Function => &[Execute],
            AclObjectType::Language | AclObjectType::Type => &[Usage],
            _ => &[],
        }
    }
}

/// The entries a NULL ACL stands for: PostgreSQL's `acldefault(type, owner)`.
/// The owner holds every privilege of the kind (granted by itself), and PUBLIC
/// holds CONNECT and TEMPORARY on databases, USAGE on languages and types and
/// EXECUTE on functions. Columns and parameters have no owner default.
pub fn default_acl(
    object_type: AclObjectType,
    owner: Option<&str>,
    server_version_num: u32,
) -> Vec<AclEntry> {
    let mut entries = Vec::new();
    if let Some(owner) = owner {
        if !matches!(
            object_type,
            AclObjectType::Column | AclObjectType::Parameter
        ) {
            for &privilege in object_type.privileges(server_version_num) {
                entries.push(AclEntry {
                    grantee: owner.to_owned(),
                    grantor: owner.to_owned(),
                    privilege,
                    grantable: false,
                });
            }
        }
        for &privilege in object_type.public_defaults() {
            entries.push(AclEntry {
                grantee: PUBLIC.to_owned(),
                grantor: owner.to_owned(),
                privilege,
                grantable: false,
            });
        }
    }
    entries.sort();
    entries
}

/// The entries actually in force: the stored ACL, or the defaults when it is
/// NULL.
pub fn effective_acl(
    acl: Option<&[AclEntry]>,
    object_type: AclObjectType,
    owner: Option<&str>,
    server_version_num: u32,
) -> Vec<AclEntry> {
    match acl {
        Some(entries) => entries.to_vec(),
        None => default_acl(object_type, owner, server_version_num),
    }
}

/// An error in `aclitem` text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclParseError {
    pub item: String,
    pub reason: &'static str,
}

impl fmt::Display for AclParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot parse aclitem {:?}: {}", self.item, self.reason)
    }
}

impl std::error::Error for AclParseError {}

/// Parses one `aclitem` in PostgreSQL's text form (`grantee=privs/grantor`,
/// names double-quoted when needed, `*` after a letter for WITH GRANT OPTION,
/// an empty grantee for PUBLIC) and appends one entry per privilege.
pub fn parse_aclitem(item: &str, out: &mut Vec<AclEntry>) -> Result<(), AclParseError> {
    let err = |reason| AclParseError {
        item: item.to_owned(),
        reason,
    };
    let (grantee, rest) = take_name(item, '=').ok_or_else(|| err("expected grantee and '='"))?;
    let rest = rest.strip_prefix('=').ok_or_else(|| err("expected '='"))?;
    let slash = rest
        .find('/')
        .ok_or_else(|| err("expected '/' and grantor"))?;
    let (privileges, rest) = rest.split_at(slash);
    let (grantor, tail) = take_name(&rest[1..], '\0').ok_or_else(|| err("bad grantor"))?;
    if !tail.is_empty() {
        return Err(err("unexpected text after grantor"));
    }
    let grantee = if grantee.is_empty() {
        PUBLIC.to_owned()
    } else {
        grantee
    };
    let mut letters = privileges.chars().peekable();
    while let Some(letter) = letters.next() {
        let privilege = Privilege::from_letter(letter).ok_or_else(|| err("unknown privilege"))?;
        let grantable = letters.next_if_eq(&'*').is_some();
        out.push(AclEntry {
            grantee: grantee.clone(),
            grantor: grantor.clone(),
            privilege,
            grantable,
        });
    }
    Ok(())
}

/// Reads a possibly double-quoted name up to `stop` (unquoted), returning the
/// name and the remaining text starting at `stop`.
fn take_name(text: &str, stop: char) -> Option<(String, &str)> {
    let mut name = String::new();
    let mut chars = text.char_indices().peekable();
    let mut quoted = false;
    while let Some(&(i, c)) = chars.peek() {
        if quoted {
            chars.next();
            if c == '"' {
                if chars.next_if(|&(_, c)| c == '"').is_some() {
                    name.push('"');
                } else {
                    quoted = false;
                }
            } else {
                name.push(c);
            }
        } else if c == stop || (stop == '\0' && c == '/') {
            return Some((name, &text[i..]));
        } else {
            chars.next();
            if c == '"' {
                quoted = true;
            } else {
                name.push(c);
            }
        }
    }
    if quoted {
        return None;
    }
    Some((name, ""))
}

/// Renders entries back into `aclitem` text, one item per (grantee, grantor)
/// pair as PostgreSQL stores them. Used by tests and diagnostics.
pub fn format_acl(entries: &[AclEntry]) -> Vec<String> {
    let mut items: std::collections::BTreeMap<(&str, &str), String> = Default::default();
    let mut sorted: Vec<&AclEntry> = entries.iter().collect();
    sorted.sort();
    for entry in sorted {
        let letters = items.entry((&entry.grantee, &entry.grantor)).or_default();
        letters.push(entry.privilege.letter());
        if entry.grantable {
            letters.push('*');
        }
    }
    items
        .into_iter()
        .map(|((grantee, grantor), letters)| {
            let grantee = if grantee == PUBLIC {
                String::new()
            } else {
                quote_acl_name(grantee)
            };
            format!("{grantee}={letters}/{}", quote_acl_name(grantor))
        })
        .collect()
}

fn quote_acl_name(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(item: &str) -> Vec<AclEntry> {
        let mut out = Vec::new();
        parse_aclitem(item, &mut out).unwrap();
        out
    }

    #[test]
    fn parses_owner_and_public() {
        let e = parse("postgres=arw*/postgres");
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].privilege, Privilege::Insert);
        assert!(e[2].grantable && e[2].privilege == Privilege::Update);
        let p = parse("=r/postgres");
        assert_eq!(p[0].grantee, PUBLIC);
    }

    #[test]
    fn parses_quoted_names() {
        let e = parse(r#""a ""b""/=c"=U/"x/y""#);
        assert_eq!(e[0].grantee, r#"a "b"/=c"#);
        assert_eq!(e[0].grantor, "x/y");
        assert_eq!(e[0].privilege, Privilege::Usage);
    }

    #[test]
    fn round_trips_through_format() {
        for item in [
            "alice=arwdDxt/postgres",
            "=Tc/owner",
            "\"a b\"=r*w/\"c\"\"d\"",
        ] {
            let entries = parse(item);
            let text = format_acl(&entries);
            let mut again = Vec::new();
            for t in &text {
                parse_aclitem(t, &mut again).unwrap();
            }
            let mut a = entries.clone();
            a.sort();
            again.sort();
            assert_eq!(a, again, "{item} -> {text:?}");
        }
    }

    #[test]
    fn rejects_garbage() {
        let mut out = Vec::new();
        assert!(parse_aclitem("alice", &mut out).is_err());
        assert!(parse_aclitem("alice=q/bob", &mut out).is_err());
        assert!(parse_aclitem("\"alice=r/bob", &mut out).is_err());
    }

    #[test]
    fn defaults() {
        let d = default_acl(AclObjectType::Database, Some("o"), 150000);
        assert_eq!(d.iter().filter(|e| e.is_public()).count(), 2);
        assert_eq!(d.iter().filter(|e| e.grantee == "o").count(), 3);
        assert_eq!(
            default_acl(AclObjectType::Relation, Some("o"), 170000).len(),
            8
        );
        assert_eq!(
            default_acl(AclObjectType::Relation, Some("o"), 160000).len(),
            7
        );
    }
}
