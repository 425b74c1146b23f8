//! Building a desired state from a spec, against its snapshot.

use std::collections::BTreeSet;

use pgsr_planner::acl::PUBLIC;
use pgsr_planner::desired::{
    Attributes, Desired, DesiredRole, Grant, GrantKind, Login, MembershipOptions, PasswordSource,
    Pattern, RoleRef, Span, Spanned, TableName,
};
use pgsr_planner::snapshot::{Membership, Snapshot};
use proptest::sample::Index;

use super::super::gen_privileges::{build_general, Site};
use super::*;

// ---------------------------------------------------------------------------
// Building a desired state

pub(super) fn grant(kind: GrantKind) -> Grant {
    Grant {
        kind,
        span: Span::default(),
        databases: None,
    }
}

pub fn build_desired(p: &Pools, d: &DesiredSpec, snapshot: &Snapshot) -> Desired {
    let c = &snapshot.catalog;
    let conn = snapshot.connecting_role.name.as_str();
    let mut candidates: Vec<&String> = p.roles.iter().chain(&p.new_roles).collect();
    candidates.retain(|n| n.as_str() != conn);
    let mut names: Vec<String> = Vec::new();
    for r in &d.roles {
        let name = candidates[r.name.index(candidates.len())];
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    let schemas: Vec<&String> = p.schemas.iter().chain(&p.new_schemas).collect();
    let mut membership_targets: Vec<String> = p.roles.iter().chain(&p.new_roles).cloned().collect();
    // Not the connecting role: a desired file may not make a role its member.
    membership_targets.extend(["pg_monitor", BOOTSTRAP].map(str::to_owned));
    membership_targets.retain(|t| t != conn);
    // Memberships as they will be: kept rows of unmanaged members plus
    // declared ones; a declared membership closing a cycle is left out.
    let mut graph: Vec<Membership> = c
        .memberships
        .iter()
        .filter(|m| !names.contains(&m.member))
        .cloned()
        .collect();
    let mut owned: BTreeSet<(String, String)> = BTreeSet::new();
    // Roles that may receive ownership taken away: existing roles the file
    // does not manage (the connecting and bootstrap roles among them).
    let receivers: Vec<String> = c
        .roles
        .iter()
        .map(|r| r.name.clone())
        .filter(|r| !names.contains(r) && !r.starts_with("pg_") && !r.starts_with("_pgsr_"))
        .collect();
    let receiver = |i: &Index| {
        pick(&receivers, i).map(|name| RoleRef {
            name: name.clone(),
            span: Span::default(),
        })
    };
    let mut out = Vec::new();
    let mut done = BTreeSet::new();
    for r in &d.roles {
        let name = candidates[r.name.index(candidates.len())].clone();
        if !done.insert(name.clone()) {
            continue;
        }
        let mut grants = Vec::new();
        for g in &r.grants {
            let schema = schemas[g.a.index(schemas.len())].clone();
            let table = p.tables[g.b.index(p.tables.len())].clone();
            let kind = match g.kind.index(9) {
                0 => GrantKind::DatabaseConnect {
                    database: p.databases[g.a.index(3)].clone(),
                },
                1 => GrantKind::SchemaUsage {
                    schema,
                    direct: g.direct,
                },
                2 => GrantKind::SchemaCreate {
                    schema,
                    direct: g.direct,
                },
                3 => {
                    if !owned.insert((schema.clone(), String::new())) {
                        continue;
                    }
                    GrantKind::SchemaOwnership { schema }
                }
                4 => GrantKind::TableSelect {
                    schema,
                    table: TableName::Exact(table),
                    direct: g.direct,
                },
                5 => {
                    let source = &p.regexes[g.b.index(p.regexes.len())];
                    GrantKind::TableSelect {
                        schema,
                        table: TableName::Regex(Pattern::new(source).expect("valid regex")),
                        direct: g.direct,
                    }
                }
                6 => {
                    if !owned.insert((schema.clone(), table.clone())) {
                        continue;
                    }
                    GrantKind::TableOwnership { schema, table }
                }
                _ => {
                    let target = membership_targets[g.a.index(membership_targets.len())].clone();
                    if target == name || has_path(&graph, &target, &name) {
                        continue;
                    }
                    graph.push(Membership {
                        role: target.clone(),
                        member: name.clone(),
                        grantor: None,
                        admin_option: false,
                        inherit_option: None,
                        set_option: None,
                    });
                    GrantKind::RoleMembership {
                        role: target,
                        options: membership_options(g.b.index(18), snapshot.server_version_num),
                    }
                }
            };
            grants.push(grant(kind));
        }
        for g in &r.general {
            let mut site = Site {
                pools: p,
                snapshot,
                grantee: &name,
                owned: &mut owned,
                managed: &names,
            };
            grants.extend(build_general(g, &mut site).map(grant));
        }
        let login = r.login.as_ref().map(|v| Login {
            password: PasswordSource::Keep,
            valid_until: match v.index(3) {
                0 => None,
                1 => Some("2030-01-01T00:00:00.000000Z".to_owned()),
                _ => Some("2027-06-30T12:00:00.000000Z".to_owned()),
            },
            span: Span::default(),
        });
        let mut preserve: Vec<String> = r
            .preserve
            .iter()
            .filter_map(|i| pick(&p.schemas, i).cloned())
            .collect();
        preserve.sort();
        preserve.dedup();
        out.push(DesiredRole {
            name: name.clone(),
            span: Span::default(),
            login,
            grants,
            preserve_existing_grants_in_schemas: preserve,
            // Memberships of superusers and predefined roles are generated:
            // the power rule (tested on its own) is opted out of here.
            allow_power: true,
            attributes: attributes(r.attributes.index(16), snapshot.connecting_role.superuser),
            reassign_owned_to: match &r.reassign {
                Some((true, _)) => Some(RoleRef {
                    name: name.clone(),
                    span: Span::default(),
                }),
                Some((false, i)) => receiver(i),
                None => None,
            },
            ..DesiredRole::default()
        });
    }
    let reassign_owned_to = d.reassign.as_ref().and_then(receiver);
    // Receivers may be powerful (superusers): the power rule is tested on
    // its own, so it is opted out of here too.
    let allow_power = out
        .iter()
        .filter_map(|r| r.reassign_owned_to.as_ref())
        .chain(reassign_owned_to.as_ref())
        .map(|t| t.name.clone())
        .collect();
    let public = d.public.as_ref().map(|specs| {
        let mut grants = Vec::new();
        for g in specs {
            let mut site = Site {
                pools: p,
                snapshot,
                grantee: PUBLIC,
                owned: &mut owned,
                managed: &names,
            };
            grants.extend(build_general(g, &mut site).map(grant));
        }
        DesiredRole {
            name: PUBLIC.to_owned(),
            span: Span::default(),
            login: None,
            grants,
            preserve_existing_grants_in_schemas: Vec::new(),
            allow_power: false,
            reassign_owned_to: None,
            ..DesiredRole::default()
        }
    });
    Desired {
        public,
        lock_key: d.lock_key,
        roles: out,
        allow_power,
        reassign_owned_to,
        ..Desired::default()
    }
}

/// Membership options from a number below 18: ADMIN, and from PostgreSQL
/// 16 INHERIT and SET (each left out, true or false).
fn membership_options(n: usize, version: u32) -> MembershipOptions {
    let tri = |k: usize| match k {
        0 => None,
        1 => Some(true),
        _ => Some(false),
    };
    let pg16 = version >= 160000;
    MembershipOptions {
        admin: n % 2 == 1,
        inherit: tri((n / 2) % 3).filter(|_| pg16),
        set: tri((n / 6) % 3).filter(|_| pg16),
    }
}

/// Attributes from a number below 16: CREATEDB, NOINHERIT, a connection
/// limit, and SUPERUSER when the connecting role may give it.
fn attributes(n: usize, superuser: bool) -> Attributes {
    let flag = |bit: usize| {
        (n & bit != 0).then_some(Spanned {
            value: true,
            span: Span::default(),
        })
    };
    Attributes {
        createdb: flag(1),
        inherit: (n & 2 != 0).then_some(Spanned {
            value: false,
            span: Span::default(),
        }),
        connection_limit: (n & 4 != 0).then_some(Spanned {
            value: 3,
            span: Span::default(),
        }),
        superuser: flag(8).filter(|_| superuser),
        ..Attributes::default()
    }
}
