//! The part of the catalog a desired file can touch.

use crate::desired::{Desired, GrantKind, TableName};
use crate::snapshot::{PartialScope, QualifiedName};

/// What must be read to plan `desired` exactly as from a full snapshot: its
/// roles (with everything they hold), the databases, schemas and tables it
/// names, the schemas its regexes search, and the memberships of the roles
/// it makes others members of or gives ownership to.
pub fn scope_for(desired: &Desired) -> PartialScope {
    let mut scope = PartialScope::default();
    // The roles that receive ownership taken away: whether that is power
    // depends on what they are members of.
    scope.member_of.extend(
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
                GrantKind::RoleMembership { role } => scope.member_of.push(role.clone()),
            }
        }
    }
    for list in [
        &mut scope.roles,
        &mut scope.databases,
        &mut scope.schemas,
        &mut scope.regex_schemas,
        &mut scope.member_of,
    ] {
        list.sort();
        list.dedup();
    }
    scope.relations.sort();
    scope.relations.dedup();
    scope
}
