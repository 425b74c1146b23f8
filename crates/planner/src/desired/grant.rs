//! The general grant: `grant: {privileges, on, schema, name | names |
//! regex | all, …}`, privileges on a selection of objects of one kind.

use super::parse::*;
use super::{DefaultGrant, Objects, Pattern, PrivilegeGrant, Privileges};
use crate::acl::Privilege;
use crate::display::quoted;
use crate::kind::ObjectKind;

/// What a profile's use gives its grants: the schema, the owner of default
/// privileges, the database.
#[derive(Clone, Debug, Default)]
pub(super) struct Params {
    pub schema: Option<String>,
    pub owner: Option<String>,
    pub database: Option<String>,
}

const KEYS: &[&str] = &[
    "privileges",
    "on",
    "schema",
    "name",
    "names",
    "regex",
    "all",
    "except",
    "columns",
    "with_grant_option",
    "direct",
];

/// The kinds an intermediate role can hold a privilege on for its members.
const ROUTABLE: [ObjectKind; 3] = [ObjectKind::Database, ObjectKind::Schema, ObjectKind::Table];

pub(super) fn privileges(value: &Node, params: Option<&Params>) -> Result<PrivilegeGrant> {
    let fields = Fields::of(value, "grant", KEYS)?;
    let (on, _) = object_kind(&fields)?;
    let privileges = privilege_list(fields.require("privileges")?, on)?;
    let objects = selection(&fields, on, params, "grant")?;
    if on == ObjectKind::Parameter && !matches!(objects, Objects::Named { .. }) {
        return Err(error(
            fields.span,
            "parameters are named one by one (`name` or `names`): only those with privileges are in the catalog",
        ));
    }
    let columns = match (fields.get("columns"), on) {
        (Some(node), ObjectKind::Column) => {
            let items = optional_list(Some(node), "columns")?;
            if items.is_empty() {
                return Err(error(node.span, "`columns` must name at least one column"));
            }
            items
                .iter()
                .map(|n| name(n, "column name"))
                .collect::<Result<Vec<_>>>()?
        }
        (None, ObjectKind::Column) => {
            return Err(error(
                fields.span,
                "missing `columns` in grant on columns (the tables are selected by `name`, `names`, `regex` or `all`)",
            ))
        }
        (Some(_), _) => {
            return Err(error(
                fields.key_span("columns").unwrap_or(fields.span),
                "`columns` goes with `on: column`",
            ))
        }
        (None, _) => Vec::new(),
    };
    let flag = |key: &str, default: bool| -> Result<bool> {
        fields.get(key).map_or(Ok(default), |n| boolean(n, key))
    };
    let with_grant_option = flag("with_grant_option", false)?;
    let direct = flag("direct", true)?;
    if !direct {
        let span = fields.key_span("direct").unwrap_or(fields.span);
        if !ROUTABLE.contains(&on) {
            return Err(error(
                span,
                format!(
                    "`direct: false` routes a privilege through an intermediate role, which pgsr does for databases, schemas and tables only, not a {}",
                    on.word()
                ),
            ));
        }
        if with_grant_option {
            return Err(error(
                span,
                "an intermediate role holds no grant option: `with_grant_option` needs `direct: true`",
            ));
        }
    }
    Ok(PrivilegeGrant {
        privileges,
        on,
        objects,
        columns,
        with_grant_option,
        direct,
    })
}

/// `ownership: {on, schema, name | names | regex | all}`: the role owns the
/// objects.
pub(super) fn ownership(value: &Node) -> Result<(ObjectKind, Objects)> {
    let fields = Fields::of(
        value,
        "ownership",
        &["on", "schema", "name", "names", "regex", "all", "except"],
    )?;
    let (on, on_node) = object_kind(&fields)?;
    let refusal = match on {
        ObjectKind::Column => Some("a column belongs to its table: declare the table's ownership"),
        ObjectKind::Parameter => Some("parameters have no owner"),
        // PostgreSQL: "The owner of a foreign-data wrapper must be a superuser."
        ObjectKind::ForeignDataWrapper => {
            Some("a foreign-data wrapper's owner must be a superuser, which no managed role is")
        }
        _ => None,
    };
    if let Some(refusal) = refusal {
        return Err(error(on_node.span, refusal));
    }
    let objects = selection(&fields, on, None, "ownership")?;
    Ok((on, objects))
}

/// `default_privileges: {privileges, on, owner, schema, with_grant_option}`.
pub(super) fn default_privileges(value: &Node, params: Option<&Params>) -> Result<DefaultGrant> {
    let fields = Fields::of(
        value,
        "default_privileges",
        &["privileges", "on", "owner", "schema", "with_grant_option"],
    )?;
    let on_node = fields.require("on")?;
    let word = string(on_node, "on")?;
    let on = ObjectKind::from_word(word)
        .filter(|k| k.def().default_privileges.is_some())
        .ok_or_else(|| {
            let kinds: Vec<&str> = ObjectKind::ALL
                .iter()
                .filter(|k| k.def().default_privileges.is_some())
                .map(|k| k.def().words[1])
                .collect();
            error(
                on_node.span,
                format!(
                    "{} has no default privileges; expected one of: {}",
                    quoted(word),
                    kinds.join(", ")
                ),
            )
        })?;
    let privileges = privilege_list(fields.require("privileges")?, on)?;
    let owner = match (fields.get("owner"), params.and_then(|p| p.owner.clone())) {
        (Some(node), _) => name(node, "owner role name")?,
        (None, Some(owner)) => owner,
        (None, None) => name(fields.require("owner")?, "owner role name")?,
    };
    let schema = match fields.get("schema") {
        Some(node) if on == ObjectKind::Schema => {
            return Err(error(
                node.span,
                "default privileges on schemas are for every schema: remove `schema`",
            ))
        }
        Some(node) => Some(name(node, "schema name")?),
        None if on == ObjectKind::Schema => None,
        None => params.and_then(|p| p.schema.clone()),
    };
    let with_grant_option = match fields.get("with_grant_option") {
        Some(node) => boolean(node, "with_grant_option")?,
        None => false,
    };
    Ok(DefaultGrant {
        privileges,
        on,
        owner,
        schema,
        with_grant_option,
    })
}

/// The objects a grant or an ownership selects: `schema` (or the profile's)
/// and one of `name`, `names`, `regex`, `all` (with `except`).
fn selection(
    fields: &Fields,
    on: ObjectKind,
    params: Option<&Params>,
    what: &str,
) -> Result<Objects> {
    let param_schema = params.and_then(|p| p.schema.clone());
    let in_schema = on.def().in_schema;
    let schema = match (fields.get("schema"), in_schema) {
        (Some(node), true) => Some(name(node, "schema name")?),
        (None, true) if param_schema.is_some() => param_schema.clone(),
        (None, true) => {
            return Err(error(
                fields.span,
                format!(
                    "missing `schema` in {what}: a {} lives in a schema",
                    on.word()
                ),
            ))
        }
        (Some(node), false) => {
            return Err(error(
                node.span,
                format!("a {} lives in no schema: remove `schema`", on.word()),
            ))
        }
        (None, false) => None,
    };
    let selectors: Vec<&str> = ["name", "names", "regex", "all"]
        .into_iter()
        .filter(|k| fields.get(k).is_some())
        .collect();
    let objects = match selectors.as_slice() {
        ["name"] => Objects::Named {
            schema,
            names: vec![object_name(fields.require("name")?, on)?],
        },
        ["names"] => {
            let node = fields.require("names")?;
            let items = optional_list(Some(node), "names")?;
            if items.is_empty() {
                return Err(error(node.span, "`names` must name at least one object"));
            }
            let mut names = Vec::new();
            for item in items {
                let n = object_name(item, on)?;
                if !names.contains(&n) {
                    names.push(n);
                }
            }
            Objects::Named { schema, names }
        }
        ["regex"] => Objects::Regex {
            schema,
            pattern: pattern(fields.require("regex")?, "regex")?,
        },
        ["all"] => {
            let node = fields.require("all")?;
            if !boolean(node, "all")? {
                return Err(error(
                    node.span,
                    "`all: false` selects nothing; name the objects with `name`, `names` or `regex`",
                ));
            }
            let except = optional_list(fields.get("except"), "except")?
                .iter()
                .map(|n| name(n, "name"))
                .collect::<Result<Vec<_>>>()?;
            Objects::All { schema, except }
        }
        [_] => unreachable!("one of the selectors above"),
        // In a profile: the schema or database its use names.
        [] if params.is_some() && on == ObjectKind::Schema && param_schema.is_some() => {
            Objects::Named {
                schema: None,
                names: param_schema.clone().into_iter().collect(),
            }
        }
        [] if params.is_some() && on == ObjectKind::Database => {
            match params.and_then(|p| p.database.clone()) {
                Some(database) => Objects::Named {
                    schema: None,
                    names: vec![database],
                },
                None => Objects::Current,
            }
        }
        [] => {
            return Err(error(
                fields.span,
                format!(
                    "missing the objects in {what}: give `name`, `names`, `regex` or `all: true`"
                ),
            ))
        }
        [_, second, ..] => {
            return Err(error(
                fields.key_span(second).unwrap_or(fields.span),
                format!(
                    "`{}` and `{second}` both select objects; use one",
                    selectors[0]
                ),
            ))
        }
    };
    if let (Some(span), false) = (
        fields.key_span("except"),
        matches!(objects, Objects::All { .. }),
    ) {
        return Err(error(span, "`except` goes with `all: true`"));
    }
    Ok(objects)
}

/// The kind `on` names, and where.
fn object_kind<'n>(fields: &Fields<'n>) -> Result<(ObjectKind, &'n Node)> {
    let on_node = fields.require("on")?;
    let word = string(on_node, "on")?;
    let on = ObjectKind::from_word(word).ok_or_else(|| {
        error(
            on_node.span,
            format!(
                "unknown object kind {} in `on`; expected one of: {}",
                quoted(word),
                ObjectKind::all_words()
            ),
        )
    })?;
    Ok((on, on_node))
}

/// `ALL`, one privilege, or a sequence of them; each must exist for the kind.
fn privilege_list(node: &Node, on: ObjectKind) -> Result<Privileges> {
    let items: Vec<&Node> = match &node.kind {
        Kind::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    if items.is_empty() {
        return Err(error(
            node.span,
            "`privileges` must name at least one privilege",
        ));
    }
    let mut out: Vec<Privilege> = Vec::new();
    for item in items {
        let text = string(item, "privilege")?;
        let word = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_uppercase();
        if word == "ALL" || word == "ALL PRIVILEGES" {
            if has_several(node) {
                return Err(error(
                    item.span,
                    "`ALL` stands alone: give it instead of a list",
                ));
            }
            return Ok(Privileges::All);
        }
        let word = if word == "TEMP" {
            "TEMPORARY".to_owned()
        } else {
            word
        };
        let Some(privilege) = Privilege::ALL.into_iter().find(|p| p.keyword() == word) else {
            return Err(error(
                item.span,
                format!("unknown privilege {}", quoted(text)),
            ));
        };
        // MAINTAIN exists from PostgreSQL 17: the newest server decides
        // here, the server planned for at plan time.
        if !on.privileges(u32::MAX).contains(&privilege) {
            let valid: Vec<&str> = on
                .privileges(u32::MAX)
                .iter()
                .map(|p| p.keyword())
                .collect();
            return Err(error(
                item.span,
                format!(
                    "{privilege} is not a privilege of a {}; expected one of: {}",
                    on.word(),
                    valid.join(", ")
                ),
            ));
        }
        if !out.contains(&privilege) {
            out.push(privilege);
        }
    }
    Ok(Privileges::Listed(out))
}

/// A sequence of more than one item.
fn has_several(node: &Node) -> bool {
    matches!(node.kind, Kind::Seq(ref items) if items.len() > 1)
}

/// An object's name: a large object's is its oid, a routine's may end with
/// its argument types in parentheses.
fn object_name(node: &Node, on: ObjectKind) -> Result<String> {
    let text = match (&node.kind, on) {
        (Kind::Scalar { text, .. }, ObjectKind::LargeObject) => text.clone(),
        _ => name(node, &format!("{} name", on.word()))?,
    };
    if on == ObjectKind::LargeObject && text.parse::<u32>().is_err() {
        return Err(error(
            node.span,
            format!(
                "a large object is named by its oid, a number; found {}",
                quoted(&text)
            ),
        ));
    }
    if on == ObjectKind::Routine && text.contains('(') && !text.ends_with(')') {
        return Err(error(
            node.span,
            format!(
                "expected a routine's name, or its name and argument types as `name(type, …)`; found {}",
                quoted(&text)
            ),
        ));
    }
    Ok(text)
}

pub(super) fn pattern(node: &Node, key: &str) -> Result<Pattern> {
    compile(node, key, Pattern::new)
}

/// A pattern a whole name must match (`unlisted_roles.match`).
pub(super) fn whole_pattern(node: &Node, key: &str) -> Result<Pattern> {
    compile(node, key, Pattern::whole)
}

fn compile(
    node: &Node,
    key: &str,
    build: fn(&str) -> std::result::Result<Pattern, regex::Error>,
) -> Result<Pattern> {
    let source = string(node, key)?;
    let invalid = |e: regex::Error| {
        error(
            node.span,
            format!("invalid {key} {}: {}", quoted(source), regex_message(&e)),
        )
    };
    // Compiled alone first so that a source such as `a)|(b` cannot escape
    // the group `Pattern` wraps it in, and errors refer to the text as written.
    regex::Regex::new(source).map_err(invalid)?;
    build(source).map_err(invalid)
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
