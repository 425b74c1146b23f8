//! Properties of the planner over generated snapshots and desired states:
//! determinism, convergence (checked against a model of PostgreSQL),
//! confinement to managed roles, and quoting of arbitrary names
//! (`properties/quoting.rs`).

// Tests and benchmarks read fixtures and clocks; the planner itself does not.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod support;

use std::collections::BTreeSet;

use pgsr_planner::acl::{AclEntry, Privilege, PUBLIC};
use pgsr_planner::desired::{Desired, GrantKind};
use pgsr_planner::plan::{plan, render, Action, ObjectRef, Plan, RoleOptions};
use pgsr_planner::snapshot::Snapshot;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};
use support::gen::{self, Case};
use support::model;

#[path = "properties/quoting.rs"]
mod quoting;
use quoting::check_quoting;

/// `cases` unless `PROPTEST_CASES` says otherwise.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The plan of a case; `None` when planning refused, rightly, to give the
/// connecting role ownership that acts with its owner's rights (the file
/// names no role to receive it), to change a database's owner as a
/// connecting role that may not, or to act on a superuser's objects
/// without SUPERUSER.
fn planned(case: &Case) -> Result<Option<Plan>, TestCaseError> {
    match plan(&case.snapshot, &case.desired, &case.options) {
        Ok(p) => Ok(Some(p)),
        Err(e)
            if e.message
                .contains("taking it away would give it to the connecting role") =>
        {
            let unnamed = case
                .desired
                .roles
                .iter()
                .any(|r| case.desired.reassign_target(&r.name).is_none());
            prop_assert!(
                unnamed,
                "refused although every role names a receiver: {}",
                e
            );
            Ok(None)
        }
        // Rightly refused: only a superuser or a role with CREATEDB can
        // change a database's owner.
        Err(e) if e.message.contains("has neither SUPERUSER nor CREATEDB") => {
            let conn = &case.snapshot.connecting_role;
            let createdb = case
                .snapshot
                .catalog
                .roles
                .iter()
                .any(|r| r.name == conn.name && r.createdb);
            prop_assert!(
                !conn.superuser && !createdb,
                "refused although the connecting role may: {}",
                e
            );
            Ok(None)
        }
        // Rightly refused: a role without SUPERUSER cannot act as a
        // superuser owner, and holds no grant option that would let it
        // grant as itself (or the revoke is of the owner's grant).
        Err(e) if e.message.contains(" is a superuser, which ") => {
            let superuser_owner = case.snapshot.catalog.roles.iter().any(|r| {
                r.superuser
                    && e.message
                        .contains(&format!(" {} is a superuser, which ", r.name))
            });
            prop_assert!(
                !case.snapshot.connecting_role.superuser && superuser_owner,
                "refused although the connecting role may: {}",
                e
            );
            Ok(None)
        }
        Err(e) => Err(TestCaseError::fail(format!("planning failed: {e}"))),
    }
}

/// A small xorshift generator, for shuffling without another dependency.
struct Shuffler(u64);

impl Shuffler {
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            items.swap(i, (self.0 % (i as u64 + 1)) as usize);
        }
    }
}

/// Every list of the snapshot in another order (fingerprint kept).
fn shuffled(s: &Snapshot, seed: u64) -> Snapshot {
    let mut r = Shuffler(seed | 1);
    let mut s = s.clone();
    let c = &mut s.catalog;
    r.shuffle(&mut c.roles);
    r.shuffle(&mut c.memberships);
    r.shuffle(&mut c.databases);
    r.shuffle(&mut c.tablespaces);
    r.shuffle(&mut c.parameters);
    r.shuffle(&mut c.schemas);
    r.shuffle(&mut c.relations);
    r.shuffle(&mut c.routines);
    r.shuffle(&mut c.types);
    r.shuffle(&mut c.languages);
    r.shuffle(&mut c.large_objects);
    r.shuffle(&mut c.foreign_data_wrappers);
    r.shuffle(&mut c.foreign_servers);
    r.shuffle(&mut c.default_privileges);
    r.shuffle(&mut s.connecting_role.memberships);
    for acl in c
        .databases
        .iter_mut()
        .chain(c.tablespaces.iter_mut())
        .filter_map(|o| o.acl.as_mut())
        .chain(c.schemas.iter_mut().filter_map(|o| o.acl.as_mut()))
        .chain(c.relations.iter_mut().filter_map(|o| o.acl.as_mut()))
        .chain(c.default_privileges.iter_mut().map(|d| &mut d.acl))
    {
        r.shuffle(acl);
    }
    for rel in &mut c.relations {
        for col in &mut rel.columns {
            r.shuffle(&mut col.acl);
        }
    }
    s
}

fn check_deterministic(case: &Case, seed: u64) -> Result<(), TestCaseError> {
    let first = plan(&case.snapshot, &case.desired, &case.options);
    let second = plan(&case.snapshot, &case.desired, &case.options);
    prop_assert_eq!(&first, &second, "two plans of the same inputs differ");
    let Ok(first) = first else { return Ok(()) };
    let script = render(&first);
    prop_assert_eq!(&script, &render(&second.unwrap()), "renderings differ");

    let mut other = shuffled(&case.snapshot, seed);
    other.canonicalize();
    prop_assert_eq!(
        &other,
        &case.snapshot,
        "canonicalize() of a shuffled snapshot differs from the original"
    );
    let again = plan(&other, &case.desired, &case.options)
        .map_err(|e| TestCaseError::fail(format!("planning the shuffled snapshot failed: {e}")))?;
    prop_assert_eq!(
        script,
        render(&again),
        "the shuffled, re-canonicalized snapshot plans differently"
    );
    Ok(())
}

fn check_converges(case: &Case) -> Result<(), TestCaseError> {
    let Some(first) = planned(case)? else {
        return Ok(());
    };
    let applied = match model::apply(&case.snapshot, &first) {
        Ok(applied) => applied,
        // A plan that says a statement on a role's objects will fail (the
        // role is a member of the connecting role, which therefore cannot
        // act as it) fails so.
        Err(e) if announced_failure(&first, &e) => return Ok(()),
        Err(e) => {
            return Err(TestCaseError::fail(format!(
                "PostgreSQL would refuse the plan: {e}\n{}",
                render(&first)
            )))
        }
    };
    prop_assert!(
        applied.warnings.is_empty(),
        "the plan has statements that change nothing: {:?}\n{}",
        applied.warnings,
        render(&first)
    );
    let second = plan(&applied.snapshot, &case.desired, &case.options)
        .map_err(|e| TestCaseError::fail(format!("planning again failed: {e}")))?;
    prop_assert!(
        second.steps.is_empty(),
        "planning again after applying is not empty.\nfirst plan:\n{}\nsecond plan:\n{}",
        render(&first),
        render(&second)
    );
    Ok(())
}

/// Whether the plan's notes say that the statement the model refused
/// (`error`) would fail: it concerns a role the connecting role cannot act
/// as.
fn announced_failure(p: &Plan, error: &str) -> bool {
    p.notes.iter().any(|n| {
        n.contains(" cannot act as ")
            && n.split_once(" is a member of ").is_some_and(|(role, _)| {
                [
                    format!("{role:?}"),
                    format!(" {role} "),
                    format!(" {role},"),
                ]
                .iter()
                .any(|r| error.contains(r.as_str()))
            })
    })
}

/// The role an object belongs to in the snapshot.
fn snapshot_owner<'a>(s: &'a Snapshot, object: &ObjectRef) -> Option<&'a str> {
    let c = &s.catalog;
    match object {
        ObjectRef::Database(n) => c.databases.iter().find(|o| &o.name == n).map(|o| &*o.owner),
        ObjectRef::Tablespace(n) => c
            .tablespaces
            .iter()
            .find(|o| &o.name == n)
            .map(|o| &*o.owner),
        ObjectRef::Schema(n) => c.schemas.iter().find(|o| &o.name == n).map(|o| &*o.owner),
        ObjectRef::Relation { schema, name, .. } => c
            .relations
            .iter()
            .find(|o| &o.schema == schema && &o.name == name)
            .map(|o| &*o.owner),
        ObjectRef::Routine {
            schema,
            name,
            arguments,
            ..
        } => c
            .routines
            .iter()
            .find(|o| &o.schema == schema && &o.name == name && &o.arguments == arguments)
            .map(|o| &*o.owner),
        ObjectRef::Type { schema, name, .. } => c
            .types
            .iter()
            .find(|o| &o.schema == schema && &o.name == name)
            .map(|o| &*o.owner),
        ObjectRef::Language(n) => c.languages.iter().find(|o| &o.name == n).map(|o| &*o.owner),
        ObjectRef::LargeObject(oid) => c
            .large_objects
            .iter()
            .find(|o| o.oid == *oid)
            .map(|o| &*o.owner),
        ObjectRef::ForeignDataWrapper(n) => c
            .foreign_data_wrappers
            .iter()
            .find(|o| &o.name == n)
            .map(|o| &*o.owner),
        ObjectRef::ForeignServer(n) => c
            .foreign_servers
            .iter()
            .find(|o| &o.name == n)
            .map(|o| &*o.owner),
        ObjectRef::Parameter(_) | ObjectRef::Column { .. } => None,
    }
}

fn is_intermediate(role: &str) -> bool {
    role.starts_with("_pgsr_")
}

/// Whether an `ALTER ROLE` only takes attributes away.
fn only_removes(o: &RoleOptions) -> bool {
    let flags = [
        o.login,
        o.superuser,
        o.createdb,
        o.createrole,
        o.replication,
        o.bypassrls,
    ];
    // A password can only be removed here (PASSWORD NULL): setting one is a
    // step of its own, SetPassword, which only managed roles get.
    flags.iter().all(|f| *f != Some(true)) && o.valid_until.is_none()
}

/// Unmanaged roles are left alone: every role a step changes is managed, an
/// intermediate role, or a missing membership target it creates; owners
/// change only to or from managed roles (or from intermediate roles to the
/// connecting role); intermediate roles only lose what they hold, but for
/// the privilege a new one is given; PUBLIC is named only when the file
/// has a public section.
fn check_confined(case: &Case) -> Result<(), TestCaseError> {
    let Some(p) = planned(case)? else {
        return Ok(());
    };
    let s = &case.snapshot;
    let d: &Desired = &case.desired;
    let managed: BTreeSet<&str> = d.roles.iter().map(|r| r.name.as_str()).collect();
    let targets: BTreeSet<&str> = d
        .roles
        .iter()
        .flat_map(|r| &r.grants)
        .filter_map(|g| match &g.kind {
            GrantKind::RoleMembership { role, .. } => Some(role.as_str()),
            _ => None,
        })
        .collect();
    let exists = |r: &str| s.catalog.roles.iter().any(|x| x.name == r);
    let receivers: BTreeSet<&str> = d
        .roles
        .iter()
        .filter_map(|r| r.reassign_owned_to.as_ref())
        .chain(d.reassign_owned_to.as_ref())
        .map(|t| t.name.as_str())
        .collect();
    let conn = s.connecting_role.name.as_str();
    // PUBLIC is named only by a file with a public section.
    let public = |grantee: &str| grantee == PUBLIC && d.public.is_some();
    let created: BTreeSet<&str> = p
        .steps
        .iter()
        .filter_map(|st| match &st.action {
            Action::CreateRole { role } => Some(role.as_str()),
            _ => None,
        })
        .collect();
    for step in &p.steps {
        let a = &step.action;
        let why = || format!("{a:?} ({})", step.reason);
        match a {
            Action::CreateRole { role } => prop_assert!(
                managed.contains(role.as_str())
                    || is_intermediate(role)
                    || (targets.contains(role.as_str()) && !exists(role)),
                "creates a role that is neither managed, intermediate nor a missing membership target: {}",
                why()
            ),
            Action::TemporaryGrant { role } | Action::TemporaryRevoke { role } => {
                prop_assert!(
                    !s.connecting_role.superuser,
                    "temporary grant for a superuser: {}",
                    why()
                );
                prop_assert!(role != PUBLIC && role != conn, "{}", why());
            }
            Action::TemporaryPrivilege { grantee, .. }
            | Action::TemporaryPrivilegeRevoke { grantee, .. } => {
                prop_assert!(
                    !s.connecting_role.superuser,
                    "temporary privilege for a superuser: {}",
                    why()
                );
                prop_assert!(
                    managed.contains(grantee.as_str())
                        || grantee == conn
                        || receivers.contains(grantee.as_str()),
                    "temporary privilege for a role that is not a new owner: {}",
                    why()
                );
            }
            Action::RenameRole { .. }
            | Action::SetSetting { .. }
            | Action::ResetSetting { .. }
            | Action::CommentRole { .. }
            | Action::TerminateSessions { .. }
            | Action::ReassignOwned { .. }
            | Action::DropOwned { .. }
            | Action::RetireRole { .. } => {
                prop_assert!(false, "generated files ask for none of these: {}", why())
            }
            Action::CreateSchema { owner, .. } => prop_assert!(
                managed.contains(owner.as_str()),
                "schema created for an unmanaged owner: {}",
                why()
            ),
            Action::AlterOwner { object, owner } => {
                let from = snapshot_owner(s, object);
                // Taken from a managed role, it goes where the file says.
                let receiver = from.filter(|f| managed.contains(f)).map(|f| {
                    d.reassign_target(f)
                        .map_or(conn, |t| t.name.as_str())
                });
                prop_assert!(
                    managed.contains(owner.as_str())
                        || receiver == Some(owner.as_str())
                        || (from.is_some_and(is_intermediate)
                            && d.reassign_owned_to.as_ref().map_or(conn, |t| t.name.as_str())
                                == owner.as_str()),
                    "ownership moves between unmanaged roles: {} (from {:?})",
                    why(),
                    from
                );
                // Ownership pgsr manages (schemas and table-likes), or
                // declared for the new owner with an `ownership` of the kind.
                let declarable = match object {
                    ObjectRef::Schema(_) => true,
                    ObjectRef::Relation { kind, .. } if kind.is_table_like() => true,
                    _ => d.roles.iter().any(|r| {
                        r.name == *owner
                            && r.grants.iter().any(|g| {
                                matches!(&g.kind, GrantKind::Ownership { on, .. } if *on == object.kind())
                            })
                    }),
                };
                prop_assert!(declarable, "changes the owner of {}", why());
            }
            Action::GrantDefault { grantee, .. } => prop_assert!(
                managed.contains(grantee.as_str()) || public(grantee),
                "grants default privileges to an unmanaged role: {}",
                why()
            ),
            Action::Grant { grantee, .. } => prop_assert!(
                managed.contains(grantee.as_str())
                    || public(grantee)
                    || (is_intermediate(grantee)
                        && (created.contains(grantee.as_str()) || step.reason.contains("CASCADE"))),
                "grants to a role that is neither managed nor an intermediate role this plan creates or restores: {}",
                why()
            ),
            Action::Revoke { grantee, .. } | Action::RevokeDefault { grantee, .. } => {
                prop_assert!(
                    managed.contains(grantee.as_str()) || is_intermediate(grantee) || public(grantee),
                    "revokes from an unmanaged role: {}",
                    why()
                )
            }
            Action::GrantMembership { role, member, .. } => {
                prop_assert!(
                    managed.contains(member.as_str()),
                    "grants a membership to an unmanaged role: {}",
                    why()
                );
                prop_assert!(role != PUBLIC, "{}", why());
            }
            Action::RevokeMembership { role, member, .. } => {
                prop_assert!(
                    managed.contains(member.as_str()) || is_intermediate(member),
                    "changes the memberships of an unmanaged role: {}",
                    why()
                );
                prop_assert!(role != PUBLIC, "{}", why());
            }
            Action::SetPassword { role, .. } => prop_assert!(
                managed.contains(role.as_str()),
                "sets the password of an unmanaged role: {}",
                why()
            ),
            Action::AlterRole { role, options } => prop_assert!(
                managed.contains(role.as_str()) || (is_intermediate(role) && only_removes(options)),
                "alters an unmanaged role, or gives an intermediate role an attribute: {}",
                why()
            ),
            Action::DropRole { role } => prop_assert!(
                case.options.drop_unused && is_intermediate(role),
                "drops a role that is not an unused intermediate one: {}",
                why()
            ),
        }
    }
    Ok(())
}

/// What an ACL is on, for checking intermediate roles' privileges.
#[derive(Clone, Copy, PartialEq, Eq)]
enum On {
    Database,
    Schema,
    TableLike,
    Other,
}

/// Every ACL of the catalog with what it is on and the role whose grants
/// in it a plan revokes (the owner; the bootstrap superuser for parameters).
fn acls(s: &Snapshot) -> Vec<(On, &str, &[AclEntry])> {
    let c = &s.catalog;
    let bootstrap = c
        .roles
        .iter()
        .find(|r| r.oid == 10)
        .map_or("postgres", |r| &r.name);
    let mut out: Vec<(On, &str, &[AclEntry])> = Vec::new();
    for o in &c.databases {
        out.push((On::Database, &o.owner, o.acl.as_deref().unwrap_or_default()));
    }
    for o in &c.tablespaces {
        out.push((On::Other, &o.owner, o.acl.as_deref().unwrap_or_default()));
    }
    for o in &c.parameters {
        out.push((On::Other, bootstrap, o.acl.as_deref().unwrap_or_default()));
    }
    for o in &c.schemas {
        out.push((On::Schema, &o.owner, o.acl.as_deref().unwrap_or_default()));
    }
    for r in &c.relations {
        let on = if r.kind.is_table_like() {
            On::TableLike
        } else {
            On::Other
        };
        out.push((on, &r.owner, r.acl.as_deref().unwrap_or_default()));
        for col in &r.columns {
            out.push((On::Other, &r.owner, &col.acl));
        }
    }
    for o in &c.routines {
        out.push((On::Other, &o.owner, o.acl.as_deref().unwrap_or_default()));
    }
    for o in &c.types {
        out.push((On::Other, &o.owner, o.acl.as_deref().unwrap_or_default()));
    }
    for o in c
        .languages
        .iter()
        .chain(&c.foreign_data_wrappers)
        .chain(&c.foreign_servers)
    {
        out.push((On::Other, &o.owner, o.acl.as_deref().unwrap_or_default()));
    }
    for o in &c.large_objects {
        out.push((On::Other, &o.owner, o.acl.as_deref().unwrap_or_default()));
    }
    out
}

/// The privilege an intermediate role of database `db_oid` serves, and
/// what on, as its name says (`_pgsr_global_database_<privilege>_…`,
/// `_pgsr_local_<oid>_schema_<privilege>_…`, `_pgsr_local_<oid>_table_<privilege>_…`);
/// None for other databases' roles.
fn served(role: &str, db_oid: u32) -> Option<(On, Privilege)> {
    let local = format!("_pgsr_local_{db_oid}_");
    let (on, rest) = if let Some(rest) = role.strip_prefix("_pgsr_global_database_") {
        (On::Database, rest)
    } else if let Some(rest) = role.strip_prefix(&local) {
        if let Some(rest) = rest.strip_prefix("schema_") {
            (On::Schema, rest)
        } else {
            (On::TableLike, rest.strip_prefix("table_")?)
        }
    } else {
        return None;
    };
    Privilege::ALL
        .into_iter()
        .find(|p| rest.starts_with(&format!("{}_", p.keyword().to_lowercase())))
        .map(|p| (on, p))
}

/// After a plan, pgsr's intermediate roles hold nothing but their one
/// privilege: no attributes, memberships or ownership; of the grants the
/// plan could revoke (the owner's), only their kind of privilege, without
/// grant option; and one that a managed role is a member of holds it on
/// one object at most.
fn check_intermediates_clean(case: &Case) -> Result<(), TestCaseError> {
    let Some(first) = planned(case)? else {
        return Ok(());
    };
    let Ok(applied) = model::apply(&case.snapshot, &first) else {
        return Ok(()); // check_converges reports it
    };
    let s = &applied.snapshot;
    let c = &s.catalog;
    let managed: BTreeSet<&str> = case.desired.roles.iter().map(|r| r.name.as_str()).collect();
    for r in c.roles.iter().filter(|r| is_intermediate(&r.name)) {
        prop_assert!(
            !(r.canlogin
                || r.superuser
                || r.createdb
                || r.createrole
                || r.replication
                || r.bypassrls),
            "intermediate role {} keeps an attribute: {:?}",
            r.name,
            r
        );
    }
    for m in &c.memberships {
        prop_assert!(
            !is_intermediate(&m.member),
            "intermediate role {} is still a member of {}",
            m.member,
            m.role
        );
    }
    let mut owned: BTreeSet<&str> = BTreeSet::new();
    for o in c.databases.iter().chain(&c.tablespaces) {
        owned.insert(&o.owner);
    }
    owned.extend(c.schemas.iter().map(|o| o.owner.as_str()));
    owned.extend(c.relations.iter().map(|o| o.owner.as_str()));
    owned.extend(c.routines.iter().map(|o| o.owner.as_str()));
    owned.extend(c.types.iter().map(|o| o.owner.as_str()));
    owned.extend(
        c.languages
            .iter()
            .chain(&c.foreign_data_wrappers)
            .chain(&c.foreign_servers)
            .map(|o| o.owner.as_str()),
    );
    owned.extend(c.large_objects.iter().map(|o| o.owner.as_str()));
    if let Some(owner) = owned.iter().find(|o| is_intermediate(o)) {
        return Err(TestCaseError::fail(format!(
            "intermediate role {owner} still owns an object\n{}",
            render(&first)
        )));
    }
    let mut objects: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for (on, owner, acl) in acls(s) {
        for e in acl
            .iter()
            .filter(|e| is_intermediate(&e.grantee) && e.grantor == owner)
        {
            let ok = served(&e.grantee, s.database.oid) == Some((on, e.privilege)) && !e.grantable;
            prop_assert!(
                ok,
                "intermediate role {} keeps {:?} (grant option {}) from the owner\n{}",
                e.grantee,
                e.privilege,
                e.grantable,
                render(&first)
            );
            *objects.entry(&e.grantee).or_default() += 1;
        }
    }
    for m in c
        .memberships
        .iter()
        .filter(|m| managed.contains(m.member.as_str()))
    {
        prop_assert!(
            objects.get(m.role.as_str()).copied().unwrap_or(0) <= 1 || !is_intermediate(&m.role),
            "{} is a member of intermediate role {}, which holds its privilege on several objects\n{}",
            m.member,
            m.role,
            render(&first)
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn plans_are_deterministic(case in gen::fixed_case(), seed in any::<u64>()) {
        check_deterministic(&case, seed)?;
    }

    #[test]
    fn plans_converge(case in gen::fixed_case()) {
        check_converges(&case)?;
    }

    #[test]
    fn plans_leave_unmanaged_roles_alone(case in gen::fixed_case()) {
        check_confined(&case)?;
    }

    #[test]
    fn intermediate_roles_hold_only_their_privilege(case in gen::fixed_case()) {
        check_intermediates_clean(&case)?;
    }

    #[test]
    fn awkward_names_are_quoted(case in gen::arbitrary_case()) {
        check_quoting(&case)?;
    }

    #[test]
    fn plans_with_awkward_names_converge(case in gen::arbitrary_case()) {
        check_converges(&case)?;
        check_confined(&case)?;
        check_intermediates_clean(&case)?;
    }
}
