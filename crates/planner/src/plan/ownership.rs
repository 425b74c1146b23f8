//! Ownership: which of it pgsr manages, where ownership taken away goes,
//! and what power moves with it.
//!
//! As pg-sync-roles, pgsr manages the ownership of what a desired file can
//! declare ownership of — schemas (`schema_ownership`) and table-likes
//! (`table_ownership`) — and of nothing else: a managed role keeps its
//! databases, routines, types, languages, large objects, foreign servers and
//! sequences of its own (a sequence that belongs to a table column changes
//! owner with its table). Ownership it does not declare is taken away: it
//! goes to the role `reassign_owned_to` names, else to the connecting role.
//!
//! Owning an object is more than privileges, and some objects act with
//! their owner's rights for others: a view reads its tables as its owner
//! for everyone who may query it, a materialized view is refreshed as its
//! owner, and a table's rules run as its owner for whoever uses the table.
//! Such an object is never given to the connecting role silently: unless
//! the desired file names where ownership goes, the plan is refused.
//! Nothing runs with a schema's owner's rights, so schemas move as in
//! pg-sync-roles.

use super::action::Action;
use super::actual::Actual;
use super::intermediate;
use super::object::ObjectRef;
use super::target::{preserved, Planner};
use super::PlanError;
use crate::desired::RoleRef;
use crate::snapshot::RelKind;
use std::collections::{BTreeMap, BTreeSet};

/// Whether pgsr manages the ownership of `object`: schemas and table-likes,
/// the kinds a desired file can declare ownership of.
pub(crate) fn managed_kind(object: &ObjectRef) -> bool {
    match object {
        ObjectRef::Schema(_) => true,
        ObjectRef::Relation { kind, .. } => kind.is_table_like(),
        _ => false,
    }
}

/// What comes with owning `object`, in words for plan comments.
pub(crate) fn what_comes_with(object: &ObjectRef) -> &'static str {
    match object {
        ObjectRef::Schema(_) => "the owner may create in it, drop anything in it and grant on it",
        ObjectRef::Relation {
            kind: RelKind::View,
            ..
        } => {
            "the owner may alter, drop and grant on it; it reads its tables as the owner, for all who may query it"
        }
        ObjectRef::Relation {
            kind: RelKind::MaterializedView,
            ..
        } => {
            "the owner may refresh, alter, drop and grant on it; its query runs as the owner when refreshed"
        }
        _ => {
            "the owner may read, change, alter, drop and grant on it; its rules and index expressions run as the owner"
        }
    }
}

impl<'a> Planner<'a> {
    /// Where ownership taken away from the managed role `role` goes: its
    /// `reassign_owned_to`, else the top-level one, else the connecting role.
    pub fn destination(&self, role: &str) -> &'a str {
        match self.reassign_target(role) {
            Some(target) => target.name.as_str(),
            None => self.conn,
        }
    }

    /// [`Desired::reassign_target`](crate::desired::Desired::reassign_target),
    /// through the index of managed roles.
    pub fn reassign_target(&self, role: &str) -> Option<&'a RoleRef> {
        self.managed
            .get(role)
            .and_then(|r| r.reassign_owned_to.as_ref())
            .or(self.desired.reassign_owned_to.as_ref())
    }

    /// Where `object`, owned by `owner`, goes when the plan takes its
    /// ownership away; `None` when it stays (not a managed role, a kind
    /// pgsr does not manage, a preserved schema, or a role that keeps what
    /// it owns).
    pub fn taken_to(&self, owner: &str, object: &ObjectRef) -> Option<&'a str> {
        // An intermediate role owns nothing: its schemas and table-likes go
        // where the file says ownership taken away goes (other kinds are
        // refused by `plan_ownership`).
        if intermediate::is_intermediate(owner) {
            let to = self.destination(owner);
            return (managed_kind(object) && to != owner).then_some(to);
        }
        let role = self.managed.get(owner)?;
        if !managed_kind(object) || preserved(role, object) {
            return None;
        }
        let to = self.destination(owner);
        (to != owner).then_some(to)
    }

    /// Checks every `reassign_owned_to`: the role exists or the file
    /// manages it, and a managed one keeps what it receives (else the next
    /// run would move it again).
    pub fn check_reassign_targets(&self) -> Result<(), PlanError> {
        let named = self
            .desired
            .roles
            .iter()
            .filter_map(|r| r.reassign_owned_to.as_ref())
            .chain(self.desired.reassign_owned_to.as_ref());
        for target in named {
            let name = target.name.as_str();
            if !self.ix.role_exists(name) && !self.managed.contains_key(name) {
                return Err(PlanError {
                    span: Some(target.span),
                    message: format!(
                        "reassign_owned_to: {name} does not exist: create it, or list it under roles"
                    ),
                });
            }
            if self.managed.contains_key(name) && self.destination(name) != name {
                return Err(PlanError {
                    span: Some(target.span),
                    message: format!(
                        "reassign_owned_to: {name} is managed by this file, which takes away the ownership {name} does not declare (it goes to {}): what {name} received would move again on the next run; give {name} `reassign_owned_to: {name}`, or name a role the file does not manage",
                        self.destination(name)
                    ),
                });
            }
        }
        Ok(())
    }

    /// Plans the ownership changes: declared owners, and ownership taken
    /// away from managed roles.
    pub fn plan_ownership(&mut self, actual: &Actual<'a>) -> Result<(), PlanError> {
        // Who the plan grants privileges on each object: declared direct
        // grants and intermediate roles.
        let mut granted: BTreeMap<&ObjectRef, BTreeSet<&str>> = BTreeMap::new();
        for (grantee, held) in &self.privileges {
            for (object, _) in held.keys() {
                granted.entry(object).or_default().insert(grantee);
            }
        }
        for (role, (object, _)) in &self.serves {
            granted.entry(object).or_default().insert(role);
        }
        let mut moves: Vec<(ObjectRef, String, String)> = Vec::new();
        for (object, (role, reason)) in &self.owners {
            if let ObjectRef::Schema(s) = object {
                if self.create_schemas.contains_key(s) {
                    continue;
                }
            }
            if self.actual_owner(object) != Some(role) {
                let reason = format!("{reason} ({})", what_comes_with(object));
                moves.push((object.clone(), (*role).to_owned(), reason));
            }
        }
        for (role, owned) in &actual.owned {
            for object in owned {
                if self.owners.contains_key(object) {
                    continue;
                }
                if intermediate::is_intermediate(role) && !managed_kind(object) {
                    return Err(PlanError {
                        span: None,
                        message: format!(
                            "{role} is an intermediate role, which owns nothing, but it owns {}: pgsr gives away only schemas and table-likes (a function may run with its owner's rights); give it to its rightful owner by hand",
                            object.describe()
                        ),
                    });
                }
                let Some(to) = self.taken_to(role, object) else {
                    continue;
                };
                if to == self.conn && self.reassign_target(role).is_none() {
                    let granted = granted.get(object).cloned().unwrap_or_default();
                    self.refuse_silent_move(role, object, &granted)?;
                }
                let reason = format!(
                    "{role}: ownership of {} not declared; it goes to {to} ({})",
                    object.describe(),
                    what_comes_with(object)
                );
                moves.push((object.clone(), to.to_owned(), reason));
            }
        }
        // A new owner must hold CREATE on the object's schema: it does as
        // the schema's owner, so an object goes to the schema's old owner
        // before the schema changes hands, and to its new owner after.
        moves.sort_by_key(|(object, owner, _)| match object.schema() {
            None => 1,
            Some(schema) => {
                let schema = ObjectRef::Schema(schema.to_owned());
                let before = self.actual_owner(&schema);
                if before == Some(owner.as_str()) && self.final_owner(&schema) != before {
                    0
                } else {
                    2
                }
            }
        });
        for (object, owner, reason) in moves {
            self.push(Action::AlterOwner { object, owner }, reason);
        }
        Ok(())
    }

    /// Refuses to give the connecting role, without the file saying so, a
    /// table-like that acts with its owner's rights for others: a view, a
    /// materialized view, or one other roles hold privileges on.
    fn refuse_silent_move(
        &self,
        role: &str,
        object: &ObjectRef,
        granted: &BTreeSet<&str>,
    ) -> Result<(), PlanError> {
        let ObjectRef::Relation { kind, .. } = object else {
            return Ok(());
        };
        let why = match kind {
            RelKind::View => {
                "a view reads its tables with its owner's rights for everyone who may query it"
                    .to_owned()
            }
            RelKind::MaterializedView => {
                "a materialized view's query runs with its owner's rights when it is refreshed, for everyone who may read it"
                    .to_owned()
            }
            _ => {
                let users = self.users_of(object, role, granted);
                if users.is_empty() {
                    return Ok(());
                }
                format!(
                    "{} hold privileges on it, and its rules run with its owner's rights for those who use it",
                    list(&users)
                )
            }
        };
        let conn = self.conn;
        let undeclared = if intermediate::is_intermediate(role) {
            "an intermediate role owns nothing"
        } else {
            "ownership of it is not declared"
        };
        Err(PlanError {
            span: self.managed.get(role).map(|r| r.span),
            message: format!(
                "{role} owns {}, {undeclared}, and taking it away would give it to the connecting role {conn}: {why}. Declare it (table_ownership), or name the role that receives ownership taken away with `reassign_owned_to` on the role or at the top level (`reassign_owned_to: {conn}` accepts this)",
                object.describe()
            ),
        })
    }

    /// The roles other than `owner` and the connecting role that hold
    /// privileges on a table-like (or its columns) once the plan has run:
    /// what managed roles hold without declaring it is revoked, and what is
    /// declared is `granted`.
    fn users_of(&self, object: &ObjectRef, owner: &str, granted: &BTreeSet<&str>) -> Vec<String> {
        let ObjectRef::Relation { schema, name, .. } = object else {
            return Vec::new();
        };
        let Some(rel) = self.ix.relations.get(&(schema.as_str(), name.as_str())) else {
            return Vec::new();
        };
        let mut out: BTreeSet<String> = BTreeSet::new();
        let table = rel.acl.iter().flatten().map(|e| (e, true));
        let columns = rel.columns.iter().flat_map(|c| &c.acl).map(|e| (e, false));
        for (e, on_table) in table.chain(columns) {
            if e.grantee == owner || e.grantee == self.conn {
                continue;
            }
            if let Some(role) = self.managed.get(e.grantee.as_str()) {
                let declared = on_table
                    && self
                        .privileges
                        .get(e.grantee.as_str())
                        .is_some_and(|p| p.contains_key(&(object.clone(), e.privilege)));
                if !declared && !preserved(role, object) {
                    continue;
                }
            }
            out.insert(if e.is_public() {
                "PUBLIC".to_owned()
            } else {
                e.grantee.clone()
            });
        }
        out.extend(
            granted
                .iter()
                .filter(|g| **g != owner && **g != self.conn)
                .map(|g| (*g).to_owned()),
        );
        out.into_iter().collect()
    }
}

/// `a, b and c`, or the first few and how many more.
fn list(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let shown: Vec<&str> = names.iter().take(SHOWN).map(String::as_str).collect();
    match names.len() {
        0 => String::new(),
        1 => shown[0].to_owned(),
        n if n <= SHOWN => format!("{} and {}", shown[..n - 1].join(", "), shown[n - 1]),
        n => format!("{} and {} more", shown.join(", "), n - SHOWN),
    }
}
