//! Building a consistent snapshot from a spec.

use std::collections::{BTreeMap, BTreeSet};

use pgsr_planner::acl::{default_acl, AclEntry, AclObjectType, Privilege, PUBLIC};
use pgsr_planner::snapshot::{
    Catalog, ConnectingMembership, ConnectingRole, DatabaseIdent, DefaultObjectType,
    DefaultPrivilege, LargeObject, Membership, NamedObject, Parameter, QualifiedName, RelKind,
    Relation, Role, Routine, RoutineKind, Schema, Scope, SharedObject, Snapshot, Type, TypeKind,
};
use proptest::sample::Index;

use super::*;

// ---------------------------------------------------------------------------
// Building a snapshot

pub(super) const VERSIONS: [u32; 4] = [150018, 160004, 170002, 180001];
pub(super) const VALID_UNTIL: [Option<&str>; 3] =
    [None, Some("2030-01-01T00:00:00.000000Z"), Some("infinity")];
pub(super) const REL_KINDS: [RelKind; 6] = [
    RelKind::Table,
    RelKind::Table,
    RelKind::PartitionedTable,
    RelKind::View,
    RelKind::MaterializedView,
    RelKind::Sequence,
];
pub(super) const DEFAULT_TYPES: [DefaultObjectType; 6] = [
    DefaultObjectType::Tables,
    DefaultObjectType::Sequences,
    DefaultObjectType::Functions,
    DefaultObjectType::Types,
    DefaultObjectType::Schemas,
    DefaultObjectType::LargeObjects,
];

/// The object type whose privileges a default-privilege row holds.
pub fn default_acl_type(t: DefaultObjectType) -> AclObjectType {
    match t {
        DefaultObjectType::Tables => AclObjectType::Relation,
        DefaultObjectType::Sequences => AclObjectType::Sequence,
        DefaultObjectType::Functions => AclObjectType::Function,
        DefaultObjectType::Types => AclObjectType::Type,
        DefaultObjectType::Schemas => AclObjectType::Schema,
        DefaultObjectType::LargeObjects => AclObjectType::LargeObject,
    }
}

pub fn pick<'a, T>(items: &'a [T], i: &Index) -> Option<&'a T> {
    (!items.is_empty()).then(|| &items[i.index(items.len())])
}

/// Builds an ACL: the owner's entries as chosen, then grants, each by the
/// owner or by a role already holding the privilege WITH GRANT OPTION.
/// What every ACL of a snapshot is built with.
pub(super) struct AclContext {
    version: u32,
    /// Everyone who can appear in an ACL, PUBLIC included.
    grantees: Vec<String>,
}

pub(super) fn build_acl(
    spec: &AclSpec,
    ty: AclObjectType,
    owner: Option<&str>,
    ctx: &AclContext,
) -> Option<Vec<AclEntry>> {
    let (version, grantees) = (ctx.version, &ctx.grantees);
    if spec.null {
        return None;
    }
    let grantor_default = owner.unwrap_or(BOOTSTRAP);
    let mut acl: Vec<AclEntry> = match (spec.owner_entries, owner) {
        (1, Some(o)) => default_acl(ty, Some(o), version),
        (2, Some(o)) => default_acl(ty, Some(o), version)
            .into_iter()
            .filter(|e| e.grantee == o)
            .collect(),
        _ => Vec::new(),
    };
    for e in &spec.entries {
        let Some(grantee) = pick(grantees, &e.grantee) else {
            continue;
        };
        let privileges = ty.privileges(version);
        let privilege = privileges[e.privilege.index(privileges.len())];
        if Some(grantee.as_str()) == owner {
            continue;
        }
        let holders: Vec<String> = acl
            .iter()
            .filter(|h| {
                h.privilege == privilege
                    && h.grantable
                    && !h.is_public()
                    && h.grantee != *grantee
                    && Some(h.grantee.as_str()) != owner
            })
            .map(|h| h.grantee.clone())
            .collect();
        let grantor = match &e.via {
            Some(i) if !holders.is_empty() => holders[i.index(holders.len())].clone(),
            _ => grantor_default.to_owned(),
        };
        let grantable = e.grantable && grantee != PUBLIC;
        add_entry(&mut acl, grantee, &grantor, privilege, grantable);
    }
    acl.sort();
    Some(acl)
}

pub(super) fn add_entry(
    acl: &mut Vec<AclEntry>,
    grantee: &str,
    grantor: &str,
    p: Privilege,
    grantable: bool,
) {
    match acl
        .iter_mut()
        .find(|e| e.grantee == grantee && e.grantor == grantor && e.privilege == p)
    {
        Some(e) => e.grantable |= grantable,
        None => acl.push(AclEntry {
            grantee: grantee.to_owned(),
            grantor: grantor.to_owned(),
            privilege: p,
            grantable,
        }),
    }
}

pub(super) fn role(name: &str, oid: u32) -> Role {
    Role::new(name, oid)
}

/// The name of an intermediate role of kind `kind` (0: database connect,
/// 1: schema usage, 2: schema create, 3: table select).
pub fn intermediate_name(kind: usize, db_oid: u32, n: usize) -> String {
    let suffix = format!("{:08x}", (n as u32 + 1).wrapping_mul(0x9e37_79b9));
    match kind {
        0 => format!("_pgsr_global_database_connect_{suffix}"),
        1 => format!("_pgsr_local_{db_oid}_schema_usage_{suffix}"),
        2 => format!("_pgsr_local_{db_oid}_schema_create_{suffix}"),
        _ => format!("_pgsr_local_{db_oid}_table_select_{suffix}"),
    }
}

pub fn has_path(memberships: &[Membership], from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from];
    while let Some(r) = stack.pop() {
        if r == to {
            return true;
        }
        if seen.insert(r) {
            stack.extend(
                memberships
                    .iter()
                    .filter(|m| m.member == r)
                    .map(|m| m.role.as_str()),
            );
        }
    }
    false
}

pub fn build_snapshot(p: &Pools, s: &SnapSpec) -> Snapshot {
    let version = VERSIONS[s.version.index(VERSIONS.len())];
    let pg16 = version >= 160000;
    let conn_kind = s.conn.index(3);
    let conn_name = match conn_kind {
        0 => BOOTSTRAP,
        1 => p.conn_super.as_str(),
        _ => p.conn_plain.as_str(),
    };
    let mut c = Catalog::default();
    let mut postgres = role(BOOTSTRAP, 10);
    postgres.superuser = true;
    postgres.canlogin = true;
    postgres.createrole = true;
    postgres.createdb = true;
    c.roles.push(postgres);
    c.roles.push(role("pg_monitor", 3373));
    if conn_kind > 0 {
        let mut r = role(conn_name, 16383);
        r.superuser = conn_kind == 1;
        r.createrole = true;
        // CREATEDB lets a plain connecting role change a database's owner.
        r.createdb = s.conn.index(6) % 2 == 1;
        r.canlogin = true;
        c.roles.push(r);
    }
    // Roles of the pool.
    let mut pool_roles: Vec<String> = Vec::new();
    for (i, (name, spec)) in p.roles.iter().zip(&s.roles).enumerate() {
        let Some(spec) = spec else { continue };
        let mut r = role(name, 16385 + i as u32);
        r.canlogin = spec.login;
        r.superuser = spec.superuser;
        r.createdb = spec.createdb;
        r.valid_until = VALID_UNTIL[spec.valid_until.index(3)].map(str::to_owned);
        c.roles.push(r);
        pool_roles.push(name.clone());
    }
    // Owners: pool roles and the connecting and bootstrap roles. A plain
    // connecting role cannot act as a superuser, and a plan that would is
    // refused whole: its objects' owners are roles it can act as.
    let mut owners: Vec<String> = pool_roles.clone();
    owners.push(conn_name.to_owned());
    if conn_name != BOOTSTRAP {
        owners.push(BOOTSTRAP.to_owned());
    }
    if conn_kind == 2 {
        owners.retain(|o| !c.roles.iter().any(|r| &r.name == o && r.superuser));
    }

    // Databases.
    let db_count = if s.other_database { 2 } else { 1 };
    for (i, (owner, _)) in s.databases.iter().take(db_count).enumerate() {
        c.databases.push(SharedObject {
            name: p.databases[i].clone(),
            oid: if i == 0 { DB_OID } else { 16500 },
            owner: owners[owner.index(owners.len())].clone(),
            acl: None,
        });
    }
    // Schemas.
    for (i, (name, spec)) in p.schemas.iter().zip(&s.schemas).enumerate() {
        let Some((owner, _)) = spec else { continue };
        c.schemas.push(Schema {
            name: name.clone(),
            // `public` is initdb's; the others are the user's.
            oid: if i == 0 { 2200 } else { 16390 + i as u32 },
            owner: owners[owner.index(owners.len())].clone(),
            acl: None,
        });
    }
    // Relations.
    let mut seen = BTreeSet::new();
    for (i, r) in s.relations.iter().enumerate() {
        let Some(schema) = pick(&c.schemas, &r.schema) else {
            break;
        };
        let name = p.tables[r.name.index(p.tables.len())].clone();
        if !seen.insert((schema.name.clone(), name.clone())) {
            continue;
        }
        c.relations.push(Relation {
            schema: schema.name.clone(),
            name,
            oid: 20000 + i as u32,
            kind: REL_KINDS[r.kind.index(REL_KINDS.len())],
            owner: owners[r.owner.index(owners.len())].clone(),
            acl: None,
            columns: Vec::new(),
            owned_by: None,
        });
    }
    // Sequences owned by a table of their schema share its owner.
    let rel_specs: Vec<&RelSpec> = s.relations.iter().collect();
    for i in 0..c.relations.len() {
        if c.relations[i].kind != RelKind::Sequence {
            continue;
        }
        let Some(Some(choice)) = rel_specs.get(i).map(|r| r.owned_by.as_ref()) else {
            continue;
        };
        let tables: Vec<(String, String, String)> = c
            .relations
            .iter()
            .filter(|t| {
                t.schema == c.relations[i].schema
                    && matches!(t.kind, RelKind::Table | RelKind::PartitionedTable)
            })
            .map(|t| (t.schema.clone(), t.name.clone(), t.owner.clone()))
            .collect();
        if let Some((schema, name, owner)) = pick(&tables, choice).cloned() {
            c.relations[i].owned_by = Some(QualifiedName { schema, name });
            c.relations[i].owner = owner;
        }
    }
    // Other kinds of object, for revocation and ownership transfer.
    let other = |k: usize| s.others.get(k).and_then(|o| o.as_ref());
    let owner_of = |o: &(Index, AclSpec)| owners[o.0.index(owners.len())].clone();
    let first_schema = c.schemas.first().map(|s| s.name.clone());
    if let Some(schema) = &first_schema {
        for (k, (name, kind)) in [
            ("total", RoutineKind::Function),
            ("refresh", RoutineKind::Procedure),
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(o) = other(k) {
                c.routines.push(Routine {
                    schema: schema.clone(),
                    name: name.to_owned(),
                    arguments: if k == 0 {
                        "integer".into()
                    } else {
                        String::new()
                    },
                    oid: 30000 + k as u32,
                    kind,
                    owner: owner_of(o),
                    acl: None,
                    security_definer: false,
                });
            }
        }
        for (k, (name, kind)) in [("status", TypeKind::Enum), ("positive", TypeKind::Domain)]
            .into_iter()
            .enumerate()
        {
            if let Some(o) = other(2 + k) {
                c.types.push(Type {
                    schema: schema.clone(),
                    name: name.to_owned(),
                    oid: 30100 + k as u32,
                    kind,
                    owner: owner_of(o),
                    acl: None,
                });
            }
        }
    }
    if let Some(o) = other(4) {
        // initdb's, and one created since.
        for (name, oid) in [("plpgsql", 13000), ("plv8", 30400)] {
            c.languages.push(NamedObject {
                name: name.into(),
                oid,
                owner: owner_of(o),
                acl: None,
            });
        }
    }
    if let Some(o) = other(5) {
        c.large_objects.push(LargeObject {
            oid: 424242,
            owner: owner_of(o),
            acl: None,
        });
    }
    if let Some(o) = other(6) {
        c.foreign_data_wrappers.push(NamedObject {
            name: "dummy_fdw".into(),
            oid: 30200,
            owner: owner_of(o),
            acl: None,
        });
    }
    if let Some(o) = other(7) {
        c.foreign_servers.push(NamedObject {
            name: "dummy srv".into(),
            oid: 30201,
            owner: owner_of(o),
            acl: None,
        });
    }
    if let Some(o) = other(8) {
        c.tablespaces.push(SharedObject {
            name: "fast".into(),
            oid: 30300,
            owner: owner_of(o),
            acl: None,
        });
    }
    if other(9).is_some() {
        c.parameters.push(Parameter {
            name: "work_mem".into(),
            acl: None,
        });
    }

    // Intermediate roles, each holding its privilege on its object.
    let mut intermediates: Vec<(String, Option<(usize, usize)>)> = Vec::new();
    for (n, spec) in s.intermediates.iter().enumerate() {
        let kind = spec.kind.index(4);
        let db_oid = if spec.foreign_db { 99999 } else { DB_OID };
        let name = intermediate_name(kind, db_oid, n);
        let count = match kind {
            0 => c.databases.len(),
            1 | 2 => c.schemas.len(),
            _ => c.relations.len(),
        };
        let target = (!spec.orphan && count > 0).then(|| (kind, spec.object.index(count)));
        intermediates.push((name, target));
    }
    for (n, (name, _)) in intermediates.iter().enumerate() {
        let mut r = role(name, 17000 + n as u32);
        if let Some((0, _)) = s.intermediates[n].drift {
            r.canlogin = true;
            r.superuser = true;
            r.createrole = true;
        }
        c.roles.push(r);
    }
    // Schemas given to intermediate roles by hand (never the one an
    // intermediate role serves, which would hold its privilege from itself).
    for (spec, (name, _)) in s.intermediates.iter().zip(&intermediates) {
        let Some((2, i)) = &spec.drift else { continue };
        if c.schemas.is_empty() {
            continue;
        }
        let k = i.index(c.schemas.len());
        let serves_a_schema = |t: &Option<(usize, usize)>| matches!(t, Some((1 | 2, j)) if *j == k);
        if !intermediates.iter().any(|(_, t)| serves_a_schema(t)) {
            c.schemas[k].owner = name.clone();
        }
    }

    // Everyone who can appear in an ACL.
    let mut grantees: Vec<String> = c.roles.iter().map(|r| r.name.clone()).collect();
    grantees.push(PUBLIC.to_owned());
    let ctx = AclContext {
        version,
        grantees: grantees.clone(),
    };

    // ACLs.
    for (d, (_, spec)) in c.databases.iter_mut().zip(&s.databases) {
        d.acl = build_acl(spec, AclObjectType::Database, Some(&d.owner), &ctx);
    }
    let schema_specs: Vec<&AclSpec> = s.schemas.iter().flatten().map(|(_, a)| a).collect();
    for (n, spec) in c.schemas.iter_mut().zip(schema_specs) {
        n.acl = build_acl(spec, AclObjectType::Schema, Some(&n.owner), &ctx);
    }
    for (i, r) in c.relations.iter_mut().enumerate() {
        let spec = rel_specs[i];
        let ty = r.kind.acl_object_type();
        r.acl = build_acl(&spec.acl, ty, Some(&r.owner), &ctx);
        if let (Some(col), true) = (&spec.column_acl, r.kind != RelKind::Sequence) {
            let mut col = col.clone();
            col.null = false;
            col.owner_entries = 0;
            let acl =
                build_acl(&col, AclObjectType::Column, Some(&r.owner), &ctx).unwrap_or_default();
            if !acl.is_empty() {
                r.columns.push(pgsr_planner::snapshot::ColumnAcl {
                    name: "email".into(),
                    acl,
                });
            }
        }
    }
    let acl_of = |k: usize| other(k).map(|o| &o.1);
    for (k, r) in c.routines.iter_mut().enumerate() {
        if let Some(a) = acl_of(k) {
            r.acl = build_acl(a, AclObjectType::Function, Some(&r.owner), &ctx);
        }
    }
    for (k, t) in c.types.iter_mut().enumerate() {
        if let Some(a) = acl_of(2 + k) {
            t.acl = build_acl(a, AclObjectType::Type, Some(&t.owner), &ctx);
        }
    }
    for (k, list, ty) in [
        (4, &mut c.languages, AclObjectType::Language),
        (
            6,
            &mut c.foreign_data_wrappers,
            AclObjectType::ForeignDataWrapper,
        ),
        (7, &mut c.foreign_servers, AclObjectType::ForeignServer),
    ] {
        for o in list.iter_mut() {
            if let Some(a) = acl_of(k) {
                o.acl = build_acl(a, ty, Some(&o.owner), &ctx);
            }
        }
    }
    for lo in &mut c.large_objects {
        if let Some(a) = acl_of(5) {
            lo.acl = build_acl(a, AclObjectType::LargeObject, Some(&lo.owner), &ctx);
        }
    }
    for t in &mut c.tablespaces {
        if let Some(a) = acl_of(8) {
            t.acl = build_acl(a, AclObjectType::Tablespace, Some(&t.owner), &ctx);
        }
    }
    for prm in &mut c.parameters {
        if let Some(a) = acl_of(9) {
            prm.acl = build_acl(a, AclObjectType::Parameter, None, &ctx);
        }
    }
    // Intermediate roles' own privileges, granted by the owner.
    for (name, target) in &intermediates {
        let Some((kind, i)) = *target else { continue };
        let (acl, owner, ty, privilege) = match kind {
            0 => {
                let d = &mut c.databases[i];
                (
                    &mut d.acl,
                    d.owner.clone(),
                    AclObjectType::Database,
                    Privilege::Connect,
                )
            }
            1 | 2 => {
                let n = &mut c.schemas[i];
                let p = if kind == 1 {
                    Privilege::Usage
                } else {
                    Privilege::Create
                };
                (&mut n.acl, n.owner.clone(), AclObjectType::Schema, p)
            }
            _ => {
                let r = &mut c.relations[i];
                let ty = r.kind.acl_object_type();
                (&mut r.acl, r.owner.clone(), ty, Privilege::Select)
            }
        };
        let entries = acl.get_or_insert_with(|| default_acl(ty, Some(&owner), version));
        add_entry(entries, name, &owner, privilege, false);
        entries.sort();
    }

    // Memberships: pool roles in pool roles (and predefined/connecting
    // roles), without cycles, one row per pair before PostgreSQL 16.
    let mut targets: Vec<String> = pool_roles.clone();
    targets.push("pg_monitor".to_owned());
    targets.push(conn_name.to_owned());
    for (r, m, g, admin) in &s.memberships {
        let (Some(role_name), Some(member)) = (pick(&targets, r), pick(&pool_roles, m)) else {
            continue;
        };
        if role_name == member || has_path(&c.memberships, role_name, member) {
            continue;
        }
        let admins: Vec<String> = c
            .memberships
            .iter()
            .filter(|x| &x.role == role_name && x.admin_option && &x.member != member)
            .map(|x| x.member.clone())
            .collect();
        let grantor = match g.index(3) {
            0 => BOOTSTRAP.to_owned(),
            1 => conn_name.to_owned(),
            _ => admins
                .first()
                .cloned()
                .unwrap_or_else(|| BOOTSTRAP.to_owned()),
        };
        let exists = c.memberships.iter().any(|x| {
            &x.role == role_name
                && &x.member == member
                && (!pg16 || x.grantor.as_deref() == Some(&grantor))
        });
        if exists {
            continue;
        }
        c.memberships.push(Membership {
            role: role_name.clone(),
            member: member.clone(),
            grantor: Some(grantor),
            admin_option: *admin,
            inherit_option: pg16.then_some(true),
            set_option: pg16.then_some(true),
        });
    }
    // Memberships of intermediate roles granted by hand.
    for (spec, (name, _)) in s.intermediates.iter().zip(&intermediates) {
        let Some((1, i)) = &spec.drift else { continue };
        let Some(role_name) = pick(&targets, i) else {
            continue;
        };
        if has_path(&c.memberships, role_name, name) {
            continue;
        }
        c.memberships.push(Membership {
            role: role_name.clone(),
            member: name.clone(),
            grantor: Some(BOOTSTRAP.to_owned()),
            admin_option: false,
            inherit_option: pg16.then_some(true),
            set_option: pg16.then_some(true),
        });
    }
    // Members of intermediate roles.
    for (spec, (name, _)) in s.intermediates.iter().zip(&intermediates) {
        for m in &spec.members {
            let Some(member) = pick(&pool_roles, m) else {
                continue;
            };
            if c.memberships
                .iter()
                .any(|x| &x.role == name && &x.member == member)
                || has_path(&c.memberships, name, member)
            {
                continue;
            }
            c.memberships.push(Membership {
                role: name.clone(),
                member: member.clone(),
                grantor: Some(BOOTSTRAP.to_owned()),
                admin_option: false,
                inherit_option: pg16.then_some(true),
                set_option: pg16.then_some(true),
            });
        }
    }

    // Default privileges.
    let mut keys = BTreeSet::new();
    for d in &s.defaults {
        let role_name = owners[d.role.index(owners.len())].clone();
        let schema = d
            .schema
            .as_ref()
            .and_then(|i| pick(&c.schemas, i))
            .map(|n| n.name.clone());
        let object_type = DEFAULT_TYPES[d.object_type.index(DEFAULT_TYPES.len())];
        if object_type == DefaultObjectType::Schemas && schema.is_some() {
            continue;
        }
        if !keys.insert((role_name.clone(), schema.clone(), object_type)) {
            continue;
        }
        let ty = default_acl_type(object_type);
        let mut acl = if d.owner_entries && schema.is_none() {
            default_acl(ty, Some(&role_name), version)
        } else {
            Vec::new()
        };
        for (g, pr, grantable) in &d.entries {
            let grantee = &grantees[g.index(grantees.len())];
            if *grantee == role_name {
                continue;
            }
            let privileges = ty.privileges(version);
            let privilege = privileges[pr.index(privileges.len())];
            add_entry(
                &mut acl,
                grantee,
                &role_name,
                privilege,
                *grantable && grantee != PUBLIC,
            );
        }
        acl.sort();
        c.default_privileges.push(DefaultPrivilege {
            role: role_name,
            schema,
            object_type,
            acl,
        });
    }

    let memberships = if conn_kind == 2 {
        s.conn_memberships
            .iter()
            .filter_map(|(r, usage, member)| {
                pick(&owners, r)
                    .filter(|r| r.as_str() != conn_name)
                    .map(|r| {
                        let m = ConnectingMembership {
                            role: r.clone(),
                            usage: *usage,
                            member: *member,
                            admin: false,
                        };
                        (r.clone(), m)
                    })
            })
            .collect::<BTreeMap<_, _>>()
            .into_values()
            .collect()
    } else {
        Vec::new()
    };
    let mut snapshot = Snapshot {
        dependencies: Vec::new(),
        format_version: 1,
        server_version_num: version,
        database: DatabaseIdent {
            name: p.databases[0].clone(),
            oid: DB_OID,
        },
        connecting_role: ConnectingRole {
            name: conn_name.to_owned(),
            superuser: conn_kind < 2,
            createrole: true,
            memberships,
        },
        scope: Scope::Full,
        fingerprint: String::new(),
        catalog: c,
    };
    snapshot.canonicalize();
    snapshot
}
