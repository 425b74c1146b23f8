//! The part of the catalog a desired file can touch.

use super::intermediate::{GLOBAL_CONNECT_PREFIX, LOCAL_PREFIX};
use crate::desired::{Desired, GrantKind, TableName};
use crate::snapshot::{PartialScope, QualifiedName};

/// What must be read to plan `desired` exactly as from a full snapshot, and
/// to see every change that would make its plan mean something else: its
/// roles, the roles they are to be members of and the roles that receive
/// ownership taken away (with everything they hold), pgsr's intermediate
/// roles (likewise), the databases, schemas and
/// tables it names, and the schemas its regexes search.
pub fn scope_for(desired: &Desired) -> PartialScope {
    let mut scope = PartialScope {
        role_prefixes: vec![GLOBAL_CONNECT_PREFIX.to_owned(), LOCAL_PREFIX.to_owned()],
        ..PartialScope::default()
    };
    // The roles that receive ownership taken away: whether that is power
    // depends on what they are members of.
    scope.roles.extend(
        desired
            .roles
            .iter()
            .filter_map(|r| r.reassign_owned_to.as_ref())
            .chain(desired.reassign_owned_to.as_ref())
            .map(|t| t.name.clone()),
    );
    for role in &desired.roles {
        scope.roles.push(role.name.clone());
        for grant in &role.grants {
            match &grant.kind {
                GrantKind::DatabaseConnect { database } => scope.databases.push(database.clone()),
                GrantKind::SchemaUsage { schema, .. }
                | GrantKind::SchemaCreate { schema, .. }
                | GrantKind::SchemaOwnership { schema } => scope.schemas.push(schema.clone()),
                GrantKind::TableSelect {
                    schema,
                    table: TableName::Exact(table),
                    ..
                }
                | GrantKind::TableOwnership { schema, table } => {
                    scope.schemas.push(schema.clone());
                    scope.relations.push(QualifiedName {
                        schema: schema.clone(),
                        name: table.clone(),
                    });
                }
                GrantKind::TableSelect {
                    schema,
                    table: TableName::Regex(_),
                    ..
                } => {
                    scope.schemas.push(schema.clone());
                    scope.regex_schemas.push(schema.clone());
                }
                GrantKind::RoleMembership { role } => scope.roles.push(role.clone()),
            }
        }
    }
    for list in [
        &mut scope.roles,
        &mut scope.role_prefixes,
        &mut scope.databases,
        &mut scope.schemas,
        &mut scope.regex_schemas,
    ] {
        list.sort();
        list.dedup();
    }
    scope.relations.sort();
    scope.relations.dedup();
    scope
}
