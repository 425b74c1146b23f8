//! A role's own keys beside its grants: attributes, memberships with their
//! options, settings, description, former name; and the top-level keys
//! that retire roles (`retired`, `unlisted_roles`).

use super::grant::whole_pattern;
use super::parse::*;
use super::{Pattern, RoleRef, Span};
use crate::display::quoted;

/// A value and where the file gives it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

/// The attributes a role declares. Each one left out takes its safe
/// default: no SUPERUSER, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS;
/// INHERIT; no connection limit. LOGIN, its password and VALID UNTIL come
/// from the role's `login` grant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    pub superuser: Option<Spanned<bool>>,
    pub createdb: Option<Spanned<bool>>,
    pub createrole: Option<Spanned<bool>>,
    pub inherit: Option<Spanned<bool>>,
    pub replication: Option<Spanned<bool>>,
    pub bypassrls: Option<Spanned<bool>>,
    /// -1: no limit.
    pub connection_limit: Option<Spanned<i32>>,
}

impl Attributes {
    /// `(key, value, span)` of each boolean attribute declared.
    pub fn flags(&self) -> Vec<(&'static str, bool, Span)> {
        [
            ("superuser", &self.superuser),
            ("createdb", &self.createdb),
            ("createrole", &self.createrole),
            ("inherit", &self.inherit),
            ("replication", &self.replication),
            ("bypassrls", &self.bypassrls),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v.value, v.span)))
        .collect()
    }
}

/// The options of a membership. `inherit` and `set` exist from
/// PostgreSQL 16; none takes PostgreSQL's default (INHERIT as the member's
/// own INHERIT attribute, SET true).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MembershipOptions {
    pub admin: bool,
    pub inherit: Option<bool>,
    pub set: Option<bool>,
}

/// A member a group declares (`members`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub span: Span,
    pub options: MembershipOptions,
}

/// One `ALTER ROLE … [IN DATABASE …] SET name = value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    /// None: in every database.
    pub database: Option<String>,
    /// In lower case, as PostgreSQL records it.
    pub name: String,
    pub value: SettingValue,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettingValue {
    /// One value (a number or a boolean is written as its text).
    Text(String),
    /// A list, such as `search_path: [app, public]`: each element one
    /// literal.
    List(Vec<String>),
}

/// Parameters whose list elements PostgreSQL quotes as identifiers.
pub(crate) const LIST_QUOTED: [&str; 5] = [
    "search_path",
    "temp_tablespaces",
    "session_preload_libraries",
    "shared_preload_libraries",
    "local_preload_libraries",
];

/// A list setting as PostgreSQL records it (`a, "B c", "d""e"`), its
/// elements unquoted.
pub(crate) fn split_list(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        let mut item = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        item.push('"');
                    } else {
                        break;
                    }
                } else {
                    item.push(c);
                }
            }
            while chars.peek().is_some_and(|c| *c != ',') {
                chars.next();
            }
        } else {
            while let Some(c) = chars.peek().copied().filter(|c| *c != ',') {
                item.push(c);
                chars.next();
            }
            item = item.trim_end().to_owned();
        }
        out.push(item);
        if chars.next().is_none() {
            return out;
        }
    }
}

/// A role to drop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retirement {
    pub name: String,
    pub span: Span,
    /// Ends the role's sessions before it is dropped.
    pub terminate_sessions: bool,
    /// Where what it owns goes (before the top-level `reassign_owned_to`).
    pub reassign_owned_to: Option<RoleRef>,
}

/// `unlisted_roles`: pgsr is authoritative for the roles whose names match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unlisted {
    pub pattern: Pattern,
    pub action: UnlistedAction,
    pub terminate_sessions: bool,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnlistedAction {
    /// Listed in the plan's notes, left as they are.
    Report,
    /// Retired as a role under `retired`.
    Retire,
}

/// The role keys besides `name`, `grants` and the ones `schema.rs` reads.
pub(super) const ROLE_KEYS: [&str; 14] = [
    "superuser",
    "createdb",
    "createrole",
    "inherit",
    "replication",
    "bypassrls",
    "connection_limit",
    "member_of",
    "members",
    "settings",
    "database_settings",
    "description",
    "renamed_from",
    "state",
];

pub(super) fn attributes(fields: &Fields) -> Result<Attributes> {
    let flag = |key: &str| -> Result<Option<Spanned<bool>>> {
        match fields.get(key) {
            // `inherit: <role>` is PUM's inheritance, read by `inherits`.
            Some(node) if key == "inherit" && !is_bool(node) => Ok(None),
            Some(node) => Ok(Some(Spanned {
                value: boolean(node, key)?,
                span: node.span,
            })),
            None => Ok(None),
        }
    };
    let connection_limit = match fields.get("connection_limit") {
        Some(node) => {
            let n = integer(node, "connection_limit")?;
            if !(-1..=i64::from(i32::MAX)).contains(&n) {
                return Err(error(
                    node.span,
                    format!("`connection_limit` must be -1 (no limit) or a count of connections, found {n}"),
                ));
            }
            Some(Spanned {
                value: n as i32,
                span: node.span,
            })
        }
        None => None,
    };
    Ok(Attributes {
        superuser: flag("superuser")?,
        createdb: flag("createdb")?,
        createrole: flag("createrole")?,
        inherit: flag("inherit")?,
        replication: flag("replication")?,
        bypassrls: flag("bypassrls")?,
        connection_limit,
    })
}

fn is_bool(node: &Node) -> bool {
    matches!(&node.kind, Kind::Scalar { text, plain: true } if matches!(typed(text, true), Typed::Bool(_)))
}

/// PUM's `inherit: other` (or a list): the roles this one is a member of,
/// gaining their privileges. `inherit: true|false` is the attribute.
pub(super) fn inherits(fields: &Fields) -> Result<Vec<RoleRef>> {
    let Some(node) = fields.get("inherit") else {
        return Ok(Vec::new());
    };
    if is_bool(node) {
        return Ok(Vec::new());
    }
    let nodes: Vec<&Node> = match &node.kind {
        Kind::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    nodes
        .into_iter()
        .map(|n| {
            Ok(RoleRef {
                name: name(n, "`inherit` (true, false, or the role inherited from)")?,
                span: n.span,
            })
        })
        .collect()
}

/// `member_of: [group | {role, admin, inherit, set}]`: `(group, options,
/// span)` of each.
pub(super) fn member_of(fields: &Fields) -> Result<Vec<(String, MembershipOptions, Span)>> {
    optional_list(fields.get("member_of"), "member_of")?
        .iter()
        .map(|item| {
            let (role, options, span) = membership(item, "member_of", "role")?;
            Ok((role, options, span))
        })
        .collect()
}

/// `members: [member | {role, admin, inherit, set}]`.
pub(super) fn members(fields: &Fields) -> Result<Option<Vec<Member>>> {
    let Some(node) = fields.get("members") else {
        return Ok(None);
    };
    optional_list(Some(node), "members")?
        .iter()
        .map(|item| {
            let (name, options, span) = membership(item, "members", "role")?;
            Ok(Member {
                name,
                span,
                options,
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// A role name, or a mapping of it and the membership's options.
pub(super) fn membership(
    item: &Node,
    key: &str,
    field: &str,
) -> Result<(String, MembershipOptions, Span)> {
    if !matches!(item.kind, Kind::Map(_)) {
        return Ok((
            name(item, "role name")?,
            MembershipOptions::default(),
            item.span,
        ));
    }
    let fields = Fields::of(item, key, &[field, "admin", "inherit", "set"])?;
    let role_node = fields.require(field)?;
    let role = name(role_node, "role name")?;
    let optional = |k: &str| fields.get(k).map(|n| boolean(n, k)).transpose();
    Ok((
        role,
        MembershipOptions {
            admin: optional("admin")?.unwrap_or(false),
            inherit: optional("inherit")?,
            set: optional("set")?,
        },
        role_node.span,
    ))
}

/// `settings: {name: value}` and `database_settings: {database: {name:
/// value}}`.
pub(super) fn settings(fields: &Fields) -> Result<Vec<Setting>> {
    let mut out = Vec::new();
    if let Some(node) = fields.get("settings") {
        settings_in(node, None, "settings", &mut out)?;
    }
    if let Some(node) = fields.get("database_settings") {
        let Kind::Map(pairs) = &node.kind else {
            return Err(error(
                node.span,
                format!(
                    "expected `database_settings` to be a mapping of database names to settings, found {}",
                    describe(node)
                ),
            ));
        };
        for (key, value) in pairs {
            let database = name(key, "database name")?;
            settings_in(value, Some(database), "database_settings", &mut out)?;
        }
    }
    Ok(out)
}

fn settings_in(
    node: &Node,
    database: Option<String>,
    key: &str,
    out: &mut Vec<Setting>,
) -> Result<()> {
    if is_null_node(node) {
        return Ok(());
    }
    let Kind::Map(pairs) = &node.kind else {
        return Err(error(
            node.span,
            format!(
                "expected `{key}` to be a mapping of parameter names to values, found {}",
                describe(node)
            ),
        ));
    };
    for (k, v) in pairs {
        let raw = string(k, "a parameter name")?;
        let name = raw.to_ascii_lowercase();
        if !is_parameter_name(&name) {
            return Err(error(
                k.span,
                format!(
                    "{} is not a parameter name: letters, digits and underscores, with at most one dot (`extension.name`)",
                    quoted(raw)
                ),
            ));
        }
        let value = setting_value(v, &name)?;
        out.push(Setting {
            database: database.clone(),
            name,
            value,
            span: k.span,
        });
    }
    Ok(())
}

fn is_parameter_name(name: &str) -> bool {
    let part = |p: &str| {
        let mut chars = p.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    };
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() <= 2 && parts.iter().all(|p| part(p)) && name.len() <= 63
}

fn setting_value(node: &Node, name: &str) -> Result<SettingValue> {
    let scalar = |n: &Node| -> Result<String> {
        let Kind::Scalar { text, plain } = &n.kind else {
            return Err(error(
                n.span,
                format!("expected the value of {name} to be a string, a number, true or false, or a list of them, found {}", describe(n)),
            ));
        };
        if *plain && is_null(text) {
            return Err(error(
                n.span,
                format!("{name} has no value: leave it out to reset it"),
            ));
        }
        if text.contains('\0') {
            return Err(error(
                n.span,
                format!("the value of {name} contains a NUL character"),
            ));
        }
        Ok(text.clone())
    };
    match &node.kind {
        Kind::Seq(items) if items.is_empty() => Err(error(
            node.span,
            format!("{name}: an empty list; leave it out to reset it"),
        )),
        Kind::Seq(items) => Ok(SettingValue::List(
            items.iter().map(scalar).collect::<Result<_>>()?,
        )),
        _ => {
            let text = scalar(node)?;
            if LIST_QUOTED.contains(&name) && text.contains(',') {
                return Err(error(
                    node.span,
                    format!(
                        "{name} is a list: write it as one (`{name}: [{text}]`); as one string PostgreSQL would read it as a single name"
                    ),
                ));
            }
            Ok(SettingValue::Text(text))
        }
    }
}

pub(super) fn description(fields: &Fields) -> Result<Option<String>> {
    let Some(node) = fields.get("description") else {
        return Ok(None);
    };
    if is_null_node(node) {
        return Ok(Some(String::new()));
    }
    let text = string(node, "`description`")?;
    if text.contains('\0') {
        return Err(error(node.span, "`description` contains a NUL character"));
    }
    Ok(Some(text.to_owned()))
}

pub(super) fn renamed_from(fields: &Fields) -> Result<Option<RoleRef>> {
    fields
        .get("renamed_from")
        .map(|node| {
            Ok(RoleRef {
                name: name(node, "`renamed_from`")?,
                span: node.span,
            })
        })
        .transpose()
}

/// `state: present` (the default) or `absent`: whether the role is retired.
pub(super) fn absent(fields: &Fields) -> Result<bool> {
    let Some(node) = fields.get("state") else {
        return Ok(false);
    };
    match string(node, "`state`")? {
        "present" => Ok(false),
        "absent" => Ok(true),
        other => Err(error(
            node.span,
            format!(
                "unknown state {}; expected present or absent",
                quoted(other)
            ),
        )),
    }
}

/// A `retired` item: a role name, or `{name, terminate_sessions,
/// reassign_owned_to}`.
pub(super) fn retirement(
    item: &Node,
    reassign: impl Fn(&Node) -> Result<RoleRef>,
) -> Result<Retirement> {
    if !matches!(item.kind, Kind::Map(_)) {
        return Ok(Retirement {
            name: name(item, "role name")?,
            span: item.span,
            terminate_sessions: false,
            reassign_owned_to: None,
        });
    }
    let fields = Fields::of(
        item,
        "a retired role",
        &["name", "terminate_sessions", "reassign_owned_to"],
    )?;
    let name_node = fields.require("name")?;
    Ok(Retirement {
        name: name(name_node, "role name")?,
        span: name_node.span,
        terminate_sessions: match fields.get("terminate_sessions") {
            Some(n) => boolean(n, "terminate_sessions")?,
            None => false,
        },
        reassign_owned_to: fields.get("reassign_owned_to").map(reassign).transpose()?,
    })
}

/// `unlisted_roles: {match, action, terminate_sessions}`.
pub(super) fn unlisted(node: &Node) -> Result<Unlisted> {
    let fields = Fields::of(
        node,
        "unlisted_roles",
        &["match", "action", "terminate_sessions"],
    )?;
    let pattern = whole_pattern(fields.require("match")?, "match")?;
    let action_node = fields.require("action")?;
    let action = match string(action_node, "`action`")? {
        "report" => UnlistedAction::Report,
        "retire" => UnlistedAction::Retire,
        other => {
            return Err(error(
                action_node.span,
                format!(
                    "unknown action {}; expected report or retire",
                    quoted(other)
                ),
            ))
        }
    };
    Ok(Unlisted {
        pattern,
        action,
        terminate_sessions: match fields.get("terminate_sessions") {
            Some(n) => boolean(n, "terminate_sessions")?,
            None => false,
        },
        span: node.span,
    })
}
