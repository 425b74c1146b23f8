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
use super::context::preserved;
use super::diff::Diff;
use super::intermediate;
use super::object::ObjectRef;
use super::output::PlanError;
use crate::snapshot::RelKind;
use std::collections::{BTreeMap, BTreeSet};

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

impl<'a> Diff<'_, 'a> {
    /// Plans the ownership changes: declared owners, and ownership taken
    /// away from managed roles.
    pub(super) fn plan_ownership(&mut self, actual: &Actual<'a>) -> Result<(), PlanError> {
        // Who the plan grants privileges on each object: declared direct
        // grants and intermediate roles.
        let mut granted: BTreeMap<&ObjectRef, BTreeSet<&str>> = BTreeMap::new();
        for (grantee, held) in &self.f.target.privileges {
            for (object, _) in held.keys() {
                granted.entry(object).or_default().insert(grantee);
            }
        }
        for (role, (object, _)) in &self.f.routing.serves {
            granted.entry(object).or_default().insert(role);
        }
        let mut moves: Vec<(ObjectRef, String, String)> = Vec::new();
        for (object, (role, reason)) in &self.f.target.owners {
            if let ObjectRef::Schema(s) = object {
                if self.f.target.create_schemas.contains_key(s) {
                    continue;
                }
            }
            if self.f.actual_owner(object) != Some(role) {
                self.refuse_database_owner_without_createdb(role, object)?;
                let reason = format!("{reason} ({})", what_comes_with(object));
                moves.push((object.clone(), (*role).to_owned(), reason));
            }
        }
        for (role, owned) in &actual.owned {
            for object in owned {
                if self.f.target.owners.contains_key(object) {
                    continue;
                }
                if intermediate::is_intermediate(role) && !object.ownership_managed() {
                    return Err(PlanError {
                        span: None,
                        message: format!(
                            "{role} is an intermediate role, which owns nothing, but it owns {}: pgsr gives away only schemas and table-likes (a function may run with its owner's rights); give it to its rightful owner by hand",
                            object.describe()
                        ),
                    });
                }
                let Some(to) = self.f.taken_to(role, object) else {
                    continue;
                };
                if to == self.f.ctx.conn && self.f.ctx.reassign_target(role).is_none() {
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
                let before = self.f.actual_owner(&schema);
                if before == Some(owner.as_str()) && self.f.final_owner(&schema) != before {
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

    /// Refuses to change a database's owner when the connecting role can
    /// be seen to lack what PostgreSQL requires of whoever runs `ALTER
    /// DATABASE … OWNER TO`: SUPERUSER or CREATEDB of its own (membership
    /// does not give it). The statement would fail when applied.
    fn refuse_database_owner_without_createdb(
        &self,
        role: &str,
        object: &ObjectRef,
    ) -> Result<(), PlanError> {
        let ObjectRef::Database(database) = object else {
            return Ok(());
        };
        let conn = self.f.ctx.conn;
        let lacks = !self.f.ctx.ix.snapshot.connecting_role.superuser
            && self
                .f
                .ctx
                .ix
                .roles
                .get(conn)
                .is_some_and(|r| !r.createdb && !r.superuser);
        if !lacks {
            return Ok(());
        }
        Err(PlanError {
            span: self.f.ctx.managed.get(role).map(|r| r.span),
            message: format!(
                "{role} is declared to own database {database}, but the connecting role {conn} has neither SUPERUSER nor CREATEDB, which PostgreSQL requires of whoever changes a database's owner: connect as a role that has one, or give {conn} CREATEDB"
            ),
        })
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
                    crate::display::list(&users)
                )
            }
        };
        let conn = self.f.ctx.conn;
        let undeclared = if intermediate::is_intermediate(role) {
            "an intermediate role owns nothing"
        } else {
            "ownership of it is not declared"
        };
        Err(PlanError {
            span: self.f.ctx.managed.get(role).map(|r| r.span),
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
        let Some(rel) = self
            .f
            .ctx
            .ix
            .relations
            .get(&(schema.as_str(), name.as_str()))
        else {
            return Vec::new();
        };
        let mut out: BTreeSet<String> = BTreeSet::new();
        let table = rel.acl.iter().flatten().map(|e| (e, true));
        let columns = rel.columns.iter().flat_map(|c| &c.acl).map(|e| (e, false));
        for (e, on_table) in table.chain(columns) {
            if e.grantee == owner || e.grantee == self.f.ctx.conn {
                continue;
            }
            if let Some(role) = self.f.ctx.managed.get(e.grantee.as_str()) {
                let declared = on_table
                    && self
                        .f
                        .target
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
                .filter(|g| **g != owner && **g != self.f.ctx.conn)
                .map(|g| (*g).to_owned()),
        );
        out.into_iter().collect()
    }
}
