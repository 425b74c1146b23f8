//! What changed between two snapshots, in a few short lines for people: one
//! line per kind of object, names first, then what changed about them.
//!
//! ```text
//! roles: added carol; changed alice (canlogin false → true)
//! memberships: added analysts to bob (by postgres)
//! relations: changed sales.orders (acl +INSERT to etl, -SELECT to bob), sales.items (owner postgres → etl)
//! ```
//!
//! Each line names at most a few objects and says how many more there are,
//! so a change of thousands of objects is still a few lines.

use super::Snapshot;
use crate::acl::{default_acl, AclObjectType};
use crate::display::escape;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Objects named per kind and per change (added, removed, changed).
const NAMES: usize = 8;

/// Characters of detail shown for one changed object.
const DETAIL: usize = 120;

/// The kinds of object in a catalog, in the order a snapshot lists them.
const KINDS: [&str; 14] = [
    "roles",
    "memberships",
    "databases",
    "tablespaces",
    "parameters",
    "schemas",
    "relations",
    "routines",
    "types",
    "languages",
    "large_objects",
    "foreign_data_wrappers",
    "foreign_servers",
    "default_privileges",
];

/// The differences from `old` to `new`, one line per kind of object that
/// changed (empty when the catalogs are the same). Names are escaped.
pub fn summarize(old: &Snapshot, new: &Snapshot) -> Vec<String> {
    let mut lines = Vec::new();
    if old.server_version_num != new.server_version_num {
        lines.push(format!(
            "server version: {} → {}",
            old.server_version_num, new.server_version_num
        ));
    }
    if old.scope != new.scope {
        lines.push("scope: the part of the catalog read differs".to_owned());
    }
    if old.connecting_role != new.connecting_role {
        let (o, n) = (
            to_value(&old.connecting_role),
            to_value(&new.connecting_role),
        );
        lines.push(format!(
            "connecting role: changed {} ({})",
            escape(&new.connecting_role.name),
            cut(&changes(&o, &n))
        ));
    }
    let (old_catalog, new_catalog) = (to_value(&old.catalog), to_value(&new.catalog));
    let (old_version, new_version) = (old.server_version_num, new.server_version_num);
    let empty = Map::new();
    let (old_kinds, new_kinds) = (
        old_catalog.as_object().unwrap_or(&empty),
        new_catalog.as_object().unwrap_or(&empty),
    );
    let mut kinds: Vec<&str> = KINDS.to_vec();
    for kind in old_kinds.keys().chain(new_kinds.keys()) {
        if !kinds.contains(&kind.as_str()) {
            kinds.push(kind);
        }
    }
    for kind in kinds {
        let items = |kinds: &Map<String, Value>| -> BTreeMap<String, Value> {
            kinds
                .get(kind)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|item| (key(kind, item), item.clone()))
                .collect()
        };
        let (before, after) = (items(old_kinds), items(new_kinds));
        let added: Vec<String> = after
            .keys()
            .filter(|k| !before.contains_key(*k))
            .map(|k| escape(k))
            .collect();
        let removed: Vec<String> = before
            .keys()
            .filter(|k| !after.contains_key(*k))
            .map(|k| escape(k))
            .collect();
        let changed: Vec<String> = before
            .iter()
            .filter_map(|(k, o)| {
                let n = after.get(k)?;
                if o == n {
                    return None;
                }
                // A NULL ACL on one side only stands for its entries.
                let (o, n) = if o.get("acl") == n.get("acl") {
                    (o.clone(), n.clone())
                } else {
                    (
                        with_acl(kind, o, old_version),
                        with_acl(kind, n, new_version),
                    )
                };
                let what = if o == n {
                    "acl default → the same, written out".to_owned()
                } else {
                    changes(&o, &n)
                };
                Some(format!("{} ({})", escape(k), cut(&what)))
            })
            .collect();
        let mut parts = Vec::new();
        for (what, names) in [("added", added), ("removed", removed), ("changed", changed)] {
            if !names.is_empty() {
                parts.push(format!("{what} {}", list(&names)));
            }
        }
        if !parts.is_empty() {
            lines.push(format!("{}: {}", kind.replace('_', " "), parts.join("; ")));
        }
    }
    lines
}

/// The object with a NULL ACL replaced by the entries it stands for
/// (PostgreSQL's `acldefault`), so that a first GRANT shows as what it
/// added, not as the owner's whole default.
fn with_acl(kind: &str, item: &Value, server_version_num: u32) -> Value {
    let object_type = match kind {
        "relations" if item.get("kind") == Some(&Value::from("sequence")) => {
            AclObjectType::Sequence
        }
        "relations" => AclObjectType::Relation,
        "databases" => AclObjectType::Database,
        "tablespaces" => AclObjectType::Tablespace,
        "parameters" => AclObjectType::Parameter,
        "schemas" => AclObjectType::Schema,
        "routines" => AclObjectType::Function,
        "types" => AclObjectType::Type,
        "languages" => AclObjectType::Language,
        "large_objects" => AclObjectType::LargeObject,
        "foreign_data_wrappers" => AclObjectType::ForeignDataWrapper,
        "foreign_servers" => AclObjectType::ForeignServer,
        _ => return item.clone(),
    };
    let mut item = item.clone();
    let owner = item.get("owner").and_then(Value::as_str).map(str::to_owned);
    if let Some(acl) = item.get_mut("acl").filter(|a| a.is_null()) {
        *acl = to_value(&default_acl(
            object_type,
            owner.as_deref(),
            server_version_num,
        ));
    }
    item
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("snapshots serialize")
}

/// How people name an object of `kind`.
fn key(kind: &str, item: &Value) -> String {
    let text = |field: &str| match item.get(field) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    let name = text("name");
    let schema = text("schema");
    match kind {
        "memberships" => {
            let mut key = format!(
                "{} to {}",
                text("role").unwrap_or_default(),
                text("member").unwrap_or_default()
            );
            if let Some(grantor) = text("grantor") {
                key.push_str(&format!(" (by {grantor})"));
            }
            key
        }
        "default_privileges" => {
            let mut key = format!("for {}", text("role").unwrap_or_default());
            if let Some(schema) = schema {
                key.push_str(&format!(" in schema {schema}"));
            }
            key.push_str(&format!(" on {}", text("object_type").unwrap_or_default()));
            key
        }
        "routines" => format!(
            "{}.{}({})",
            schema.unwrap_or_default(),
            name.unwrap_or_default(),
            text("arguments").unwrap_or_default()
        ),
        "large_objects" => text("oid").unwrap_or_default(),
        _ => match (schema, name) {
            (Some(schema), Some(name)) => format!("{schema}.{name}"),
            (None, Some(name)) => name,
            _ => item.to_string(),
        },
    }
}

/// What differs between two versions of one object: `field old → new` for
/// plain values, the entries added and removed for ACLs, else the field.
fn changes(old: &Value, new: &Value) -> String {
    let (Some(o), Some(n)) = (old.as_object(), new.as_object()) else {
        return "changed".to_owned();
    };
    let fields = o.keys().chain(n.keys().filter(|k| !o.contains_key(*k)));
    let mut out = Vec::new();
    let null = Value::Null;
    for field in fields {
        let (a, b) = (o.get(field).unwrap_or(&null), n.get(field).unwrap_or(&null));
        if a == b {
            continue;
        }
        let plain = |v: &Value| !v.is_array() && !v.is_object();
        if field == "acl" {
            out.push(acl_changes(a, b));
        } else if plain(a) && plain(b) {
            out.push(format!("{field} {} → {}", shown(a), shown(b)));
        } else {
            out.push(field.clone());
        }
    }
    out.join(", ")
}

/// `acl +INSERT to r, -SELECT to bob`; null is the built-in default
/// (`acl default → +INSERT to r`).
fn acl_changes(old: &Value, new: &Value) -> String {
    let entries = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let field = |f: &str| e.get(f).and_then(Value::as_str).unwrap_or("?").to_owned();
                let mut text = format!("{} to {}", field("privilege"), field("grantee"));
                if e.get("grantable") == Some(&Value::Bool(true)) {
                    text.push_str(" with grant option");
                }
                text
            })
            .collect()
    };
    let (before, after) = (entries(old), entries(new));
    let mut out = Vec::new();
    out.extend(
        after
            .iter()
            .filter(|e| !before.contains(e))
            .map(|e| format!("+{e}")),
    );
    out.extend(
        before
            .iter()
            .filter(|e| !after.contains(e))
            .map(|e| format!("-{e}")),
    );
    let out = out.join(", ");
    if old.is_null() {
        format!("acl default → {out}")
    } else if new.is_null() {
        format!("acl {out} → default")
    } else {
        format!("acl {out}")
    }
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The first [`NAMES`] of `names`, and how many more.
fn list(names: &[String]) -> String {
    let mut text = names[..names.len().min(NAMES)].join(", ");
    if names.len() > NAMES {
        text.push_str(&format!(" and {} more", names.len() - NAMES));
    }
    text
}

/// At most [`DETAIL`] characters, escaped.
fn cut(text: &str) -> String {
    let escaped = escape(text);
    if escaped.chars().count() <= DETAIL {
        return escaped;
    }
    let mut short: String = escaped.chars().take(DETAIL - 1).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::{AclEntry, Privilege};
    use crate::snapshot::{Membership, RelKind, Relation, Role};

    fn snapshot() -> Snapshot {
        crate::snapshot::from_json(include_bytes!(
            "../../../../fixtures/warehouse/snapshot.json"
        ))
        .expect("the fixture reads")
    }

    #[test]
    fn the_same_catalog_has_no_differences() {
        assert!(summarize(&snapshot(), &snapshot()).is_empty());
    }

    #[test]
    fn one_line_per_kind_names_first() {
        let old = snapshot();
        let mut new = old.clone();
        new.catalog.roles.push(Role::new("carol", 99999));
        new.catalog
            .roles
            .iter_mut()
            .find(|r| r.name == "analysts")
            .unwrap()
            .canlogin = true;
        new.catalog.memberships.push(Membership {
            role: "analysts".into(),
            member: "carol".into(),
            grantor: Some("postgres".into()),
            admin_option: false,
            inherit_option: None,
            set_option: None,
        });
        let mut sales = new
            .catalog
            .relations
            .iter_mut()
            .filter(|r| r.schema == "sales" && r.acl.is_none());
        let granted = sales.next().expect("a relation with the default ACL");
        let granted_name = format!("sales.{}", granted.name);
        let mut acl = default_acl(AclObjectType::Relation, Some(&granted.owner), 150018);
        acl.push(AclEntry {
            grantee: "etl".into(),
            grantor: granted.owner.clone(),
            privilege: Privilege::Insert,
            grantable: false,
        });
        acl.sort();
        granted.acl = Some(acl);
        let given = sales.next().expect("another relation with the default ACL");
        let given_name = format!("sales.{}", given.name);
        let owner = std::mem::replace(&mut given.owner, "etl".into());
        new.catalog.relations.push(Relation {
            schema: "sales".into(),
            name: "new\u{1b}[31m".into(),
            oid: 99998,
            kind: RelKind::Table,
            owner: "postgres".into(),
            acl: None,
            columns: Vec::new(),
            owned_by: None,
        });
        new.canonicalize();
        let lines = summarize(&old, &new);
        assert_eq!(
            lines,
            vec![
                "roles: added carol; changed analysts (canlogin false → true)".to_owned(),
                "memberships: added analysts to carol (by postgres)".to_owned(),
                format!(
                    "relations: added sales.new\\u{{1b}}[31m; changed {granted_name} (acl +INSERT to etl), {given_name} (owner {owner} → etl)"
                ),
            ]
        );
    }

    #[test]
    fn many_changes_are_a_few_short_lines() {
        let old = snapshot();
        let mut new = old.clone();
        for i in 0..5000 {
            new.catalog
                .roles
                .push(Role::new(format!("user_{i:05}"), 100000 + i));
        }
        new.canonicalize();
        let lines = summarize(&old, &new);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].ends_with(" and 4992 more"), "{}", lines[0]);
        assert!(lines[0].len() < 200, "{}", lines[0]);
    }
}
