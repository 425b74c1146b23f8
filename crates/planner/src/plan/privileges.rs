//! Privileges: what managed and intermediate roles hold that is not
//! declared is revoked (with what a CASCADE takes along), and what is
//! declared and missing is granted.

use super::action::Action;
use super::actual::{Actual, Held};
use super::context::preserved;
use super::diff::Diff;
use super::intermediate::{self, Kind};
use super::object::ObjectRef;
use crate::acl::{AclEntry, Privilege};
use std::collections::{BTreeMap, HashSet};

/// What of a privilege a role holds is to be kept.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Keep {
    Nothing,
    Privilege,
    WithGrantOption,
}

impl<'a> Diff<'_, 'a> {
    pub(super) fn plan_privileges(&mut self, actual: &Actual<'a>) {
        let grantees = self.f.ctx.grantees();
        let roles: Vec<&'a str> = grantees.iter().map(|(n, _)| *n).collect();
        let empty = BTreeMap::new();
        // Revokes first, for every role: a CASCADE can take away what
        // another role (or an intermediate role) is to keep, which must then
        // be granted again.
        let mut cascaded: HashSet<(ObjectRef, Privilege, String)> = HashSet::new();
        let no_privileges = BTreeMap::new();
        for &role in &roles {
            let desired_role = grantees
                .iter()
                .find(|(n, _)| *n == role)
                .map(|(_, r)| *r)
                .expect("a grantee");
            let held = actual.held.get(role).unwrap_or(&empty);
            let f = self.f;
            let wanted = f.target.privileges.get(role).unwrap_or(&no_privileges);
            for ((object, privilege), h) in held {
                if self.f.final_owner(object) == Some(role) || preserved(desired_role, object) {
                    continue;
                }
                let declared = match wanted.get(&(object.clone(), *privilege)) {
                    None => Keep::Nothing,
                    Some(d) if d.grant_option => Keep::WithGrantOption,
                    Some(_) => Keep::Privilege,
                };
                self.revoke_held(role, object, *privilege, h, declared, &mut cascaded);
            }
        }
        // Intermediate roles: nothing but the privilege each serves.
        for (&role, held) in &actual.held {
            if !intermediate::is_intermediate(role) {
                continue;
            }
            for ((object, privilege), h) in held {
                let own = self.f.routing.may_hold(
                    role,
                    object,
                    *privilege,
                    self.f.ctx.ix.snapshot.database.oid,
                );
                let keep = if own { Keep::Privilege } else { Keep::Nothing };
                self.revoke_held(role, object, *privilege, h, keep, &mut cascaded);
            }
            self.note_ambiguous(role, held);
        }
        for &role in &roles {
            let held = actual.held.get(role).unwrap_or(&empty);
            let f = self.f;
            let wanted = f.target.privileges.get(role).unwrap_or(&no_privileges);
            for (key, declared) in wanted {
                let (object, privilege) = (&key.0, key.1);
                if f.final_owner(object) == Some(role) {
                    continue;
                }
                let h = held.get(key);
                // PUBLIC's privileges outside the database planned for are
                // read, not managed: one held there is kept.
                let elsewhere = role == crate::acl::PUBLIC
                    && actual
                        .public_elsewhere
                        .contains(&(object.clone(), privilege));
                let kept = (elsewhere
                    || h.is_some_and(|h| {
                        !declared.grant_option || h.grants.iter().any(|(_, g)| *g)
                    }))
                    && !self.loses_to_cascade(object, privilege, role, &cascaded);
                if !kept {
                    self.push(
                        Action::Grant {
                            object: object.clone(),
                            privilege,
                            grantee: role.to_owned(),
                            grant_option: declared.grant_option,
                        },
                        declared.reason.clone(),
                    );
                }
            }
        }
        // Intermediate roles keep their privilege through a CASCADE too.
        for (role, (object, privilege)) in self.f.routing.serves.iter() {
            if self.loses_to_cascade(object, *privilege, role, &cascaded) {
                let reason = format!(
                    "intermediate role for {privilege} on {}: restored after CASCADE",
                    object.describe()
                );
                self.push(
                    Action::Grant {
                        object: object.clone(),
                        privilege: *privilege,
                        grantee: role.clone(),
                        grant_option: false,
                    },
                    reason,
                );
            }
        }
    }

    /// Revokes what `role` holds of `privilege` on `object` (`h`, every
    /// grant of it) but what `declared` keeps: with the privilege alone,
    /// only a grant option goes. Grants by others than the owner only the grantor can revoke:
    /// they are noted.
    pub(super) fn revoke_held(
        &mut self,
        role: &str,
        object: &ObjectRef,
        privilege: Privilege,
        h: &Held,
        keep: Keep,
        cascaded: &mut HashSet<(ObjectRef, Privilege, String)>,
    ) {
        if keep == Keep::WithGrantOption {
            return;
        }
        let declared = keep == Keep::Privilege;
        let revocable = self.revocable_grantors(object);
        let by_owner: Vec<&(String, bool)> = h
            .grants
            .iter()
            .filter(|(g, _)| revocable.contains(g))
            .collect();
        let grant_option_only = declared;
        let needed = if declared {
            by_owner.iter().any(|(_, grantable)| *grantable)
        } else {
            !by_owner.is_empty()
        };
        if needed {
            let dependents = self.dependents(object, privilege, role);
            let cascade = !dependents.is_empty();
            cascaded.extend(dependents);
            let reason = match (declared, intermediate::is_intermediate(role)) {
                (true, false) => {
                    format!("{role}: grant option on {} not declared", object.describe())
                }
                (false, false) if role == crate::acl::PUBLIC => {
                    "PUBLIC: not declared in the public section".to_owned()
                }
                (false, false) => format!("{role}: not declared"),
                (true, true) => {
                    format!("{role}: an intermediate role holds its privilege without grant option")
                }
                (false, true) => {
                    format!("{role}: an intermediate role holds only the privilege it serves")
                }
            };
            self.push(
                Action::Revoke {
                    object: object.clone(),
                    privilege,
                    grantee: role.to_owned(),
                    grant_option_only,
                    cascade,
                },
                reason,
            );
        }
        if !declared {
            for (grantor, _) in h.grants.iter().filter(|(g, _)| !revocable.contains(g)) {
                self.out.notes.push(format!(
                    "{role} holds {privilege} on {} granted by {grantor}, not by the owner: only {grantor} can revoke it",
                    object.describe()
                ));
            }
        }
    }

    /// Whether the CASCADEs planned so far take `privilege` on `object`
    /// from `role` altogether: a grant of it by a role that keeps its grant
    /// option survives them.
    pub(super) fn loses_to_cascade(
        &self,
        object: &ObjectRef,
        privilege: Privilege,
        role: &str,
        cascaded: &HashSet<(ObjectRef, Privilege, String)>,
    ) -> bool {
        !cascaded.is_empty()
            && cascaded.contains(&(object.clone(), privilege, role.to_owned()))
            && !self
                .grants_after_revokes(object, privilege)
                .iter()
                .any(|e| e.grantee == role)
    }

    /// The grants of `privilege` on `object` left once the revokes planned
    /// so far have run. A REVOKE removes the owner's grants to its grantee
    /// (or their grant option), and, as PostgreSQL does, a role left
    /// without the grant option loses the grants it made with it.
    pub(super) fn grants_after_revokes(
        &self,
        object: &ObjectRef,
        privilege: Privilege,
    ) -> Vec<AclEntry> {
        let revocable = self.revocable_grantors(object);
        let mut acl: Vec<AclEntry> = self
            .f
            .object_acl(object)
            .unwrap_or_default()
            .iter()
            .filter(|e| e.privilege == privilege)
            .cloned()
            .collect();
        let had_option: HashSet<String> = acl
            .iter()
            .filter(|e| e.grantable)
            .map(|e| e.grantee.clone())
            .collect();
        for step in &self.out.steps {
            let Action::Revoke {
                object: o,
                privilege: p,
                grantee,
                grant_option_only,
                ..
            } = &step.action
            else {
                continue;
            };
            if o != object || *p != privilege {
                continue;
            }
            let by_owner = |e: &AclEntry| &e.grantee == grantee && revocable.contains(&e.grantor);
            if *grant_option_only {
                acl.iter_mut()
                    .filter(|e| by_owner(e))
                    .for_each(|e| e.grantable = false);
            } else {
                acl.retain(|e| !by_owner(e));
            }
        }
        loop {
            let lost: HashSet<String> = had_option
                .iter()
                .filter(|g| !acl.iter().any(|e| &e.grantee == *g && e.grantable))
                .filter(|g| acl.iter().any(|e| &e.grantor == *g))
                .cloned()
                .collect();
            if lost.is_empty() {
                return acl;
            }
            acl.retain(|e| !lost.contains(&e.grantor));
        }
    }

    /// An intermediate role this plan does not use that holds its kind of
    /// privilege on several objects serves one of them, but which one
    /// cannot be told: a reviewer should know.
    pub(super) fn note_ambiguous(
        &mut self,
        role: &str,
        held: &BTreeMap<(ObjectRef, Privilege), Held>,
    ) {
        if self.f.routing.serves.contains_key(role) {
            return;
        }
        let Some(kind) = Kind::of_role(role, self.f.ctx.ix.snapshot.database.oid) else {
            return;
        };
        let objects: Vec<String> = held
            .keys()
            .filter(|(o, p)| kind.covers(o, *p))
            .map(|(o, _)| o.describe())
            .collect();
        if objects.len() > 1 {
            self.out.notes.push(format!(
                "intermediate role {role} holds its privilege on {}: it should serve one object, and which one cannot be told; the others were granted by hand",
                objects.join(", ")
            ));
        }
    }

    /// Grantors whose grants a REVOKE removes: the plan acts as the object's
    /// owner, and runs after ownership changes, which rewrite the old
    /// owner's grants as the new owner's. Parameters have no owner: a
    /// superuser's REVOKE acts as the bootstrap superuser.
    pub(super) fn revocable_grantors(&self, object: &ObjectRef) -> Vec<String> {
        if let ObjectRef::Parameter(_) = object {
            return self
                .f
                .ctx
                .ix
                .snapshot
                .catalog
                .roles
                .iter()
                .filter(|r| r.oid == 10)
                .map(|r| r.name.clone())
                .collect();
        }
        let mut owners: Vec<String> = self
            .f
            .actual_owner(object)
            .into_iter()
            .chain(self.f.final_owner(object))
            .map(str::to_owned)
            .collect();
        owners.dedup();
        owners
    }

    /// The grants that depend on `grantee`'s `privilege` on `object` (made
    /// by it, and recursively by those it granted to): a REVOKE must
    /// CASCADE to them, and they are gone afterwards.
    pub(super) fn dependents(
        &self,
        object: &ObjectRef,
        privilege: Privilege,
        grantee: &str,
    ) -> Vec<(ObjectRef, Privilege, String)> {
        let acl = self.f.object_acl(object).unwrap_or_default();
        let mut out: Vec<(ObjectRef, Privilege, String)> = Vec::new();
        let mut grantors = vec![grantee.to_owned()];
        while let Some(grantor) = grantors.pop() {
            for e in acl.iter().filter(|e| {
                e.privilege == privilege && e.grantor == grantor && e.grantee != grantor
            }) {
                let entry = (object.clone(), privilege, e.grantee.clone());
                if !out.contains(&entry) && e.grantee != grantee {
                    out.push(entry);
                    grantors.push(e.grantee.clone());
                }
            }
        }
        out
    }
}
