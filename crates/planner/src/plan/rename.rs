//! Renames, the first phase: a role declared with `renamed_from: old`
//! whose old name exists (and new name does not) is renamed, and the rest
//! of the plan is made from the snapshot as it is after the rename: the
//! same catalog with the new name wherever the old one stood.

use super::action::{Action, Step};
use super::output::PlanError;
use crate::desired::Desired;
use crate::snapshot::Snapshot;
use std::collections::BTreeMap;

/// The renames `desired` asks for that the catalog still needs, as steps,
/// and the snapshot as those renames leave it (none when nothing is
/// renamed).
pub(crate) fn renames(
    snapshot: &Snapshot,
    desired: &Desired,
) -> Result<(Option<Snapshot>, Vec<Step>), PlanError> {
    let exists = |name: &str| snapshot.catalog.roles.iter().any(|r| r.name == name);
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    let mut steps = Vec::new();
    for role in &desired.roles {
        let Some(from) = &role.renamed_from else {
            continue;
        };
        match (exists(&from.name), exists(&role.name)) {
            (true, true) => {
                return Err(PlanError {
                    span: Some(from.span),
                    message: format!(
                        "{}: renamed_from: both {} and {} exist: drop or retire one of them first, or remove `renamed_from`",
                        role.name, from.name, role.name
                    ),
                })
            }
            (true, false) => {
                if from.name == snapshot.connecting_role.name
                    || snapshot
                        .catalog
                        .roles
                        .iter()
                        .any(|r| r.name == from.name && r.oid == 10)
                {
                    return Err(PlanError {
                        span: Some(from.span),
                        message: format!(
                            "{}: renamed_from: {} is the connecting role or the bootstrap superuser, which pgsr never renames",
                            role.name, from.name
                        ),
                    });
                }
                map.insert(from.name.clone(), role.name.clone());
                steps.push(Step {
                    action: Action::RenameRole {
                        from: from.name.clone(),
                        to: role.name.clone(),
                    },
                    reason: format!(
                        "{}: renamed from {} (it keeps its oid, grants, ownerships and memberships; PostgreSQL clears an MD5 password, not a SCRAM one)",
                        role.name, from.name
                    ),
                });
            }
            // Already renamed, or neither exists (the role is created).
            (false, _) => {}
        }
    }
    if map.is_empty() {
        return Ok((None, steps));
    }
    Ok((Some(renamed(snapshot, &map)), steps))
}

/// `snapshot` with each role named in `map` under its new name.
fn renamed(snapshot: &Snapshot, map: &BTreeMap<String, String>) -> Snapshot {
    let mut s = snapshot.clone();
    let n = |name: &mut String| {
        if let Some(new) = map.get(name.as_str()) {
            *name = new.clone();
        }
    };
    let c = &mut s.catalog;
    for r in &mut c.roles {
        n(&mut r.name);
    }
    for m in &mut c.memberships {
        n(&mut m.role);
        n(&mut m.member);
        if let Some(g) = &mut m.grantor {
            n(g);
        }
    }
    for m in &mut s.connecting_role.memberships {
        n(&mut m.role);
    }
    for setting in &mut c.role_settings {
        n(&mut setting.role);
    }
    for d in &mut s.dependencies {
        n(&mut d.role);
    }
    for d in &mut c.default_privileges {
        n(&mut d.role);
    }
    for o in c.databases.iter_mut().chain(c.tablespaces.iter_mut()) {
        n(&mut o.owner);
    }
    for o in &mut c.schemas {
        n(&mut o.owner);
    }
    for o in &mut c.relations {
        n(&mut o.owner);
    }
    for o in &mut c.routines {
        n(&mut o.owner);
    }
    for o in &mut c.types {
        n(&mut o.owner);
    }
    for o in c
        .languages
        .iter_mut()
        .chain(c.foreign_data_wrappers.iter_mut())
        .chain(c.foreign_servers.iter_mut())
    {
        n(&mut o.owner);
    }
    for o in &mut c.large_objects {
        n(&mut o.owner);
    }
    for acl in c.acls_mut() {
        for e in acl.iter_mut() {
            n(&mut e.grantee);
            n(&mut e.grantor);
        }
    }
    s.canonicalize();
    s
}
