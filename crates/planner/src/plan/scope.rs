//! The part of the catalog a desired file can touch.

use super::intermediate::{GLOBAL_CONNECT_PREFIX, GLOBAL_DATABASE_PREFIX, LOCAL_PREFIX};
use crate::desired::{Desired, GrantKind, Objects, PrivilegeGrant, TableName};
use crate::kind::{ObjectKind, Scoped};
use crate::snapshot::{PartialScope, QualifiedName, Scope};

/// What must be read to plan `desired` exactly as from a full snapshot, and
/// to see every change that would make its plan mean something else: its
/// roles, the roles they are to be members of and the roles that receive
/// ownership taken away (with everything they hold), pgsr's intermediate
/// roles (likewise), the databases, schemas and
/// tables it names, and the schemas its regexes search.
///
/// A file that declares privileges on a kind a scoped read does not fetch
/// by name (see [`Scoped`]), or what PUBLIC holds (on every object of the
/// database), is planned from a full read.
pub fn scope_for(desired: &Desired) -> Scope {
    let expanded = desired.per_database();
    let desired: &Desired = &expanded;
    let full = desired
        .roles
        .iter()
        .flat_map(|r| &r.grants)
        .any(|g| match &g.kind {
            GrantKind::Privileges(p) => p.on.def().scoped == Scoped::FullRead,
            GrantKind::Ownership { on, .. } => on.def().scoped == Scoped::FullRead,
            _ => false,
        });
    // Roles nobody listed are found among every role.
    // So are the members of a group that declares them.
    if full
        || desired.public.is_some()
        || desired.unlisted_roles.is_some()
        || desired.roles.iter().any(|r| r.members.is_some())
    {
        Scope::Full
    } else {
        Scope::Partial(partial_scope_for(desired))
    }
}

fn partial_scope_for(desired: &Desired) -> PartialScope {
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
    // Retired roles and former names: what they own and hold.
    scope
        .roles
        .extend(desired.retired.iter().map(|r| r.name.clone()));
    scope.roles.extend(
        desired
            .retired
            .iter()
            .filter_map(|r| r.reassign_owned_to.as_ref())
            .map(|t| t.name.clone()),
    );
    for role in &desired.roles {
        scope.roles.push(role.name.clone());
        if let Some(from) = &role.renamed_from {
            scope.roles.push(from.name.clone());
        }
        for m in role.members.iter().flatten() {
            scope.roles.push(m.name.clone());
        }
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
                GrantKind::RoleMembership { role, .. } => scope.roles.push(role.clone()),
                GrantKind::Privileges(g) => privileges_scope(g, &mut scope),
                GrantKind::Ownership { on, objects } => objects_scope(*on, objects, &mut scope),
                // The owner's default privileges are read whole; the owner
                // must be known to exist.
                GrantKind::DefaultPrivileges(d) => {
                    scope.roles.push(d.owner.clone());
                    scope.schemas.extend(d.schema.clone());
                }
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

/// What a general grant on a kind a scoped read fetches names.
fn privileges_scope(g: &PrivilegeGrant, scope: &mut PartialScope) {
    match (g.on.def().scoped, &g.objects) {
        (Scoped::FullRead, _) => {}
        (Scoped::Whole, _) if g.on == ObjectKind::Database && !g.direct => {
            // The global intermediate roles of each privilege routed.
            let privileges = g.privileges.expand(g.on, u32::MAX);
            for privilege in privileges {
                let word = privilege.keyword().to_lowercase();
                scope
                    .role_prefixes
                    .push(format!("{GLOBAL_DATABASE_PREFIX}{word}_"));
            }
            if let Objects::Named { names, .. } = &g.objects {
                scope.databases.extend(names.iter().cloned());
            }
        }
        _ => objects_scope(g.on, &g.objects, scope),
    }
}

/// What a scoped read fetches for objects of a kind a file names.
fn objects_scope(on: ObjectKind, objects: &Objects, scope: &mut PartialScope) {
    match (on.def().scoped, objects) {
        (Scoped::FullRead, _) => {}
        (Scoped::Whole, Objects::Named { names, .. }) => match on {
            ObjectKind::Database => scope.databases.extend(names.iter().cloned()),
            ObjectKind::Schema => scope.schemas.extend(names.iter().cloned()),
            _ => {}
        },
        (Scoped::Whole, _) => {}
        (Scoped::Relations, objects) => {
            let schema = objects.schema().unwrap_or_default().to_owned();
            scope.schemas.push(schema.clone());
            match objects {
                Objects::Named { names, .. } => {
                    scope
                        .relations
                        .extend(names.iter().map(|name| QualifiedName {
                            schema: schema.clone(),
                            name: name.clone(),
                        }))
                }
                Objects::Regex { .. } | Objects::All { .. } => scope.regex_schemas.push(schema),
                Objects::Current => unreachable!("relations are selected in a schema"),
            }
        }
    }
}
