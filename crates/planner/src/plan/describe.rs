//! Declared grants in the words of the desired file, for plan comments
//! and messages.

use crate::desired::{GrantKind, Objects, PrivilegeGrant, Privileges, TableName};
use crate::kind::ObjectKind;

/// A grant as the desired file says it, for comments and messages.
pub(crate) fn describe_grant(kind: &GrantKind) -> String {
    let direct = |d: &bool| if *d { " (direct)" } else { "" };
    match kind {
        GrantKind::DatabaseConnect { database } => format!("database_connect {database}"),
        GrantKind::SchemaUsage { schema, direct: d } => {
            format!("schema_usage {schema}{}", direct(d))
        }
        GrantKind::SchemaCreate { schema, direct: d } => {
            format!("schema_create {schema}{}", direct(d))
        }
        GrantKind::SchemaOwnership { schema } => format!("schema_ownership {schema}"),
        GrantKind::TableSelect {
            schema,
            table: TableName::Exact(t),
            direct: d,
        } => {
            format!("table_select {schema}.{t}{}", direct(d))
        }
        GrantKind::TableSelect {
            schema,
            table: TableName::Regex(p),
            direct: d,
        } => {
            format!("table_select {schema} /{}/{}", p.source, direct(d))
        }
        GrantKind::TableOwnership { schema, table } => format!("table_ownership {schema}.{table}"),
        GrantKind::RoleMembership { role, .. } => format!("role_membership {role}"),
        GrantKind::Privileges(g) => describe_privileges(g),
        GrantKind::Ownership { on, objects } => {
            format!("ownership of {}", describe_objects(*on, objects))
        }
        GrantKind::DefaultPrivileges(d) => {
            let privileges = privileges_text(&d.privileges);
            let schema = d
                .schema
                .as_ref()
                .map(|s| format!(" in schema {s}"))
                .unwrap_or_default();
            let option = if d.with_grant_option {
                " with grant option"
            } else {
                ""
            };
            format!(
                "default_privileges {privileges} on {} created by {}{schema}{option}",
                d.on.def().words[1],
                d.owner
            )
        }
    }
}

/// `grant SELECT, INSERT on table s.t`, `grant ALL on tables in s /^t_/`.
fn describe_privileges(g: &PrivilegeGrant) -> String {
    let privileges = privileges_text(&g.privileges);
    let columns = if g.columns.is_empty() {
        String::new()
    } else {
        format!(" ({})", g.columns.join(", "))
    };
    let objects = describe_objects(g.on, &g.objects);
    let option = if g.with_grant_option {
        " with grant option"
    } else {
        ""
    };
    let direct = if g.direct {
        ""
    } else {
        " (through an intermediate role)"
    };
    format!("grant {privileges}{columns} on {objects}{option}{direct}")
}

fn privileges_text(privileges: &Privileges) -> String {
    match privileges {
        Privileges::All => "ALL".to_owned(),
        Privileges::Listed(list) => list
            .iter()
            .map(|p| p.keyword())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The objects a grant selects, in words.
fn describe_objects(on: ObjectKind, objects: &Objects) -> String {
    let word = on.word();
    let qualified = |name: &str| match objects.schema() {
        Some(s) => format!("{s}.{name}"),
        None => name.to_owned(),
    };
    match objects {
        Objects::Named { names, .. } => {
            let names: Vec<String> = names.iter().map(|n| qualified(n)).collect();
            format!("{word} {}", names.join(", "))
        }
        Objects::Regex { schema, pattern } => match schema {
            Some(s) => format!("{word}s in {s} /{}/", pattern.source),
            None => format!("{word}s /{}/", pattern.source),
        },
        Objects::Current => format!("{word} (the one planned for)"),
        Objects::All { schema, except } => {
            let except = if except.is_empty() {
                String::new()
            } else {
                format!(" except {}", except.join(", "))
            };
            match schema {
                Some(s) => format!("all {word}s in {s}{except}"),
                None => format!("all {word}s{except}"),
            }
        }
    }
}
