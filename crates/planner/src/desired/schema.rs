//! The desired file's schema: the tree of positioned nodes `parse.rs`
//! reads becomes a [`Desired`], or an error pointing at the node.

use std::collections::HashMap;

use super::grant::{default_privileges, ownership, pattern, privileges};
use super::parse::*;
use super::profile::{expand, profiles, Profiles};
use super::role;
use super::template;
use super::{
    parse_timestamp, DefaultGrant, Desired, DesiredRole, Grant, GrantKind, Login,
    MembershipOptions, PasswordSource, PrivilegeGrant, Retirement, RoleRef, Secret, Span, Spanned,
    TableName, DEFAULT_LOCK_KEY,
};
use crate::display::quoted;

// ---------------------------------------------------------------------------
// The schema

pub(super) fn desired(root: &Node) -> Result<Desired> {
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
        &[
            "lock_key",
            "roles",
            "allow_power",
            "reassign_owned_to",
            "profiles",
            "public",
            "retired",
            "unlisted_roles",
            "suffix",
            "templates",
            "databases",
        ],
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
    let profiles = profiles(top.get("profiles"))?;
    let mut first_seen: HashMap<String, Span> = HashMap::new();
    let mut roles = Vec::with_capacity(items.len());
    let mut retired = Vec::new();
    let templates = template::templates(top.get("templates"))?;
    for item in items {
        let merged = template::merged(item, &templates)?;
        let item = merged.as_ref().unwrap_or(item);
        let (role, name_span) = match role(item, &profiles)? {
            RoleItem::Present(role, span) => (*role, span),
            RoleItem::Absent(r) => {
                retired.push(r);
                continue;
            }
        };
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
    let public = top
        .get("public")
        .map(|node| public_section(node, &profiles))
        .transpose()?;
    for item in optional_list(top.get("retired"), "retired")? {
        retired.push(role::retirement(item, reassign_target)?);
    }
    let unlisted_roles = top.get("unlisted_roles").map(role::unlisted).transpose()?;
    let suffix = top
        .get("suffix")
        .map(|node| {
            Ok(Spanned {
                value: suffix(node)?,
                span: node.span,
            })
        })
        .transpose()?;
    let desired = Desired {
        lock_key,
        roles,
        allow_power,
        reassign_owned_to,
        public,
        retired,
        unlisted_roles,
        suffix,
        databases: top
            .get("databases")
            .map(|node| super::databases::database_set(node, "databases"))
            .transpose()?,
    };
    super::check::roles(&desired)?;
    Ok(desired)
}

/// A per-database suffix (`suffix`, or `--suffix`): what follows `_` in
/// the per-database roles' names.
pub(super) fn suffix(node: &Node) -> Result<String> {
    let text = name(node, "suffix")?;
    check_suffix(&text).map_err(|m| error(node.span, m))?;
    Ok(text)
}

/// Letters, digits and underscores: a suffix names databases, not SQL.
pub fn check_suffix(text: &str) -> std::result::Result<(), String> {
    if text.is_empty()
        || text.len() > 30
        || !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(format!(
            "suffix {} must be 1 to 30 letters, digits or underscores",
            quoted(text)
        ));
    }
    Ok(())
}

/// The `public` section: `grant`, `default_privileges` and `profile` items
/// for PUBLIC, held directly.
fn public_section(node: &Node, profiles: &Profiles) -> Result<DesiredRole> {
    let mut grants = Vec::new();
    for item in optional_list(Some(node), "public")? {
        let found = match grant(item, crate::acl::PUBLIC, profiles)? {
            Item::Grant(g) => vec![g],
            Item::Profile(g) => g,
            Item::Login(_) => {
                return Err(error(
                    item.span,
                    "PUBLIC is not a role: it holds privileges only (`grant`, `default_privileges`, `profile`)",
                ))
            }
        };
        for g in found {
            match &g.kind {
                GrantKind::Privileges(p) if !p.direct => {
                    return Err(error(
                        g.span,
                        "PUBLIC holds privileges directly: remove `direct: false`",
                    ))
                }
                GrantKind::Privileges(PrivilegeGrant {
                    with_grant_option: true,
                    ..
                })
                | GrantKind::DefaultPrivileges(DefaultGrant {
                    with_grant_option: true,
                    ..
                }) => {
                    return Err(error(
                        g.span,
                        "PUBLIC holds no grant option (PostgreSQL grants them to roles only): remove `with_grant_option`",
                    ))
                }
                GrantKind::Privileges(_) | GrantKind::DefaultPrivileges(_) => grants.push(g),
                other => {
                    return Err(error(
                        g.span,
                        format!(
                            "`{}` is not for PUBLIC: the public section holds `grant`, `default_privileges` and `profile` items",
                            other.key()
                        ),
                    ))
                }
            }
        }
    }
    Ok(DesiredRole {
        name: crate::acl::PUBLIC.to_owned(),
        span: node.span,
        grants,
        ..DesiredRole::default()
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

enum RoleItem {
    /// A role, and where its name is.
    Present(Box<DesiredRole>, Span),
    /// `state: absent`.
    Absent(Retirement),
}

fn role(node: &Node, profiles: &Profiles) -> Result<RoleItem> {
    if !matches!(node.kind, Kind::Map(_)) {
        return Err(error(
            node.span,
            format!(
                "expected a role (a mapping with `name`), found {}",
                describe(node)
            ),
        ));
    }
    let mut keys = vec![
        "name",
        "grants",
        "preserve_existing_grants_in_schemas",
        "allow_power",
        "reassign_owned_to",
        "terminate_sessions",
    ];
    keys.extend(role::ROLE_KEYS);
    let fields = Fields::of(node, "a role", &keys)?;
    let name_node = fields.require("name")?;
    let role_name = managed_role_name(name_node)?;
    if role::absent(&fields)? {
        if let Some((key, _, _)) = fields.entries.iter().find(|(k, _, _)| {
            !["name", "state", "terminate_sessions", "reassign_owned_to"].contains(k)
        }) {
            return Err(error(
                fields.key_span(key).unwrap_or(node.span),
                format!("`{key}` is for a role that exists: a role with `state: absent` takes only terminate_sessions and reassign_owned_to"),
            ));
        }
        return Ok(RoleItem::Absent(Retirement {
            name: role_name,
            span: name_node.span,
            terminate_sessions: match fields.get("terminate_sessions") {
                Some(n) => boolean(n, "terminate_sessions")?,
                None => false,
            },
            reassign_owned_to: fields
                .get("reassign_owned_to")
                .map(reassign_target)
                .transpose()?,
        }));
    }
    if let Some(span) = fields.key_span("terminate_sessions") {
        return Err(error(
            span,
            "`terminate_sessions` is for a role being retired (`state: absent`)",
        ));
    }
    let mut login: Option<Login> = None;
    let mut grants = Vec::new();
    for item in optional_list(fields.get("grants"), "grants")? {
        match grant(item, &role_name, profiles)? {
            Item::Grant(g) => grants.push(g),
            Item::Profile(g) => grants.extend(g),
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
    for (group, options, span) in role::member_of(&fields)? {
        grants.push(Grant {
            kind: checked_membership(group, options, &role_name, span)?,
            span,
            databases: None,
        });
    }
    for inherited in role::inherits(&fields)? {
        grants.push(Grant {
            kind: checked_membership(
                inherited.name,
                MembershipOptions::default(),
                &role_name,
                inherited.span,
            )?,
            span: inherited.span,
            databases: None,
        });
    }
    let members = role::members(&fields)?;
    for m in members.iter().flatten() {
        checked_membership(role_name.clone(), m.options, &m.name, m.span)?;
    }
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
        attributes: role::attributes(&fields)?,
        settings: role::settings(&fields)?,
        description: role::description(&fields)?,
        renamed_from: role::renamed_from(&fields)?,
        members,
    };
    Ok(RoleItem::Present(Box::new(role), name_node.span))
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
    /// A profile's grants.
    Profile(Vec<Grant>),
}

fn grant(item: &Node, role_name: &str, profiles: &Profiles) -> Result<Item> {
    let Kind::Map(entries) = &item.kind else {
        return Err(error(
            item.span,
            format!(
                "expected a grant (a mapping with one key, such as `schema_usage: sales`), found {}",
                describe(item)
            ),
        ));
    };
    // `database` may stand beside the kind: where the grant applies.
    let database = entries
        .iter()
        .find(|(k, _)| scalar_text(k) == Some("database"))
        .map(|(_, v)| v);
    let rest: Vec<&(Node, Node)> = entries
        .iter()
        .filter(|(k, _)| scalar_text(k) != Some("database"))
        .collect();
    let (key, value) = match rest.as_slice() {
        [(key, value)] => (key, value),
        [] if database.is_some() => {
            return Err(error(item.span, "expected a grant kind beside `database`"))
        }
        [] => return Err(error(item.span, "expected a grant, found an empty mapping")),
        [_, (second, _), ..] => {
            let keys: Vec<&str> = rest.iter().filter_map(|(k, _)| scalar_text(k)).collect();
            return Err(error(
                second.span,
                format!(
                    "a grant has exactly one key (its kind; `database` may stand beside it), found {}: {}; indent a grant's options under its kind",
                    rest.len(),
                    keys.join(", ")
                ),
            ));
        }
    };
    let item = grant_kind(item, key, value, role_name, profiles)?;
    let Some(database) = database else {
        return Ok(item);
    };
    Ok(match item {
        Item::Login(_) => {
            return Err(error(
                database.span,
                "`database` applies to grants on objects inside a database, not to `login`",
            ))
        }
        Item::Grant(mut g) => {
            g.databases = Some(super::databases::grant_databases(database, &g.kind)?);
            Item::Grant(g)
        }
        Item::Profile(mut grants) => {
            for g in &mut grants {
                g.databases = Some(super::databases::grant_databases(database, &g.kind)?);
            }
            Item::Profile(grants)
        }
    })
}

fn grant_kind(
    item: &Node,
    key: &Node,
    value: &Node,
    role_name: &str,
    profiles: &Profiles,
) -> Result<Item> {
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
        "grant" => GrantKind::Privileges(privileges(value, None)?),
        "default_privileges" => GrantKind::DefaultPrivileges(default_privileges(value, None)?),
        "profile" => return Ok(Item::Profile(expand(profiles, value, span)?)),
        "ownership" => {
            let (on, objects) = ownership(value)?;
            GrantKind::Ownership { on, objects }
        }
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
    Ok(Item::Grant(Grant {
        kind,
        span,
        databases: None,
    }))
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
        (None, Some(node)) => TableName::Regex(pattern(node, "table_regex")?),
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
    let (role, options, span) = role::membership(value, "role_membership", "role")?;
    checked_membership(role, options, role_name, span)
}

/// Membership of `role` for `member`, unless it cannot be granted.
fn checked_membership(
    role: String,
    options: MembershipOptions,
    member: &str,
    span: Span,
) -> Result<GrantKind> {
    let role_name = member;
    let refusal = if role.starts_with("_pgsr_") || member.starts_with("_pgsr_") {
        "roles starting with _pgsr_ are pgsr's intermediate roles"
    } else if role == role_name {
        "a role cannot be a member of itself"
    } else if role == "public" || role == "none" {
        "PostgreSQL reserves that name"
    } else {
        return Ok(GrantKind::RoleMembership { role, options });
    };
    Err(error(
        span,
        format!("cannot grant membership of {}: {refusal}", quoted(&role)),
    ))
}

// ---------------------------------------------------------------------------
// Login

const PASSWORD_SOURCES: [&str; 3] = ["password", "password_env", "password_file"];

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
