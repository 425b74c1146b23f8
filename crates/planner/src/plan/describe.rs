//! Declared grants in the words of the desired file, for plan comments
//! and messages.

use crate::desired::{GrantKind, TableName};

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
        GrantKind::RoleMembership { role } => format!("role_membership {role}"),
    }
}
