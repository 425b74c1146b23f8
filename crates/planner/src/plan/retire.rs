//! Retirement: roles the file retires (`retired`, `state: absent`, or
//! `unlisted_roles` with `action: retire`) lose their sessions if asked,
//! give what they own in this database (and shared objects) to
//! `reassign_owned_to`, lose the rest of what they own and hold, and are
//! dropped, unless they still own or hold something in another database:
//! then the plan says where, and drops them on the sync that finds nothing
//! left. Roles `unlisted_roles` only reports are listed in the notes.

use super::action::Action;
use super::diff::Diff;
use super::intermediate;
use super::output::PlanError;
use crate::desired::{Retirement, UnlistedAction};
use crate::snapshot::Role;

impl<'a> Diff<'_, 'a> {
    pub(super) fn plan_retirements(&mut self) -> Result<(), PlanError> {
        let ctx = &self.f.ctx;
        let desired = ctx.desired;
        let mut retiring: Vec<Retirement> = desired.retired.clone();
        if let Some(u) = &desired.unlisted_roles {
            let renamed: Vec<&str> = desired
                .roles
                .iter()
                .filter_map(|r| r.renamed_from.as_ref().map(|f| f.name.as_str()))
                .collect();
            let mut unlisted: Vec<&Role> = ctx
                .ix
                .snapshot
                .catalog
                .roles
                .iter()
                .filter(|r| {
                    u.pattern.matches(&r.name)
                        && !ctx.managed.contains_key(r.name.as_str())
                        && !desired.retired.iter().any(|x| x.name == r.name)
                        && !renamed.contains(&r.name.as_str())
                        && !untouchable(r, ctx.conn)
                })
                .collect();
            unlisted.sort_by(|a, b| a.name.cmp(&b.name));
            for r in unlisted {
                match u.action {
                    UnlistedAction::Report => self.out.notes.push(format!(
                        "unlisted role {} matches unlisted_roles ({}) but is not in the file: left as it is (action: report)",
                        r.name, u.pattern.source
                    )),
                    UnlistedAction::Retire => retiring.push(Retirement {
                        name: r.name.clone(),
                        span: u.span,
                        terminate_sessions: u.terminate_sessions,
                        reassign_owned_to: None,
                    }),
                }
            }
        }
        for r in &retiring {
            self.retire(r)?;
        }
        Ok(())
    }

    fn retire(&mut self, r: &Retirement) -> Result<(), PlanError> {
        let ctx = &self.f.ctx;
        let Some(role) = ctx.ix.roles.get(r.name.as_str()).copied() else {
            return Ok(());
        };
        if untouchable(role, ctx.conn) {
            return Err(PlanError {
                span: Some(r.span),
                message: format!(
                    "{}: cannot be retired: it is the connecting role, the bootstrap superuser, a predefined role or an intermediate role",
                    r.name
                ),
            });
        }
        let here = ctx.ix.snapshot.database.name.as_str();
        let deps: Vec<_> = ctx
            .ix
            .snapshot
            .dependencies
            .iter()
            .filter(|d| d.role == r.name)
            .collect();
        // Preflight: what it owns and holds, per database.
        for d in &deps {
            let place = if d.database.is_empty() {
                "shared objects (databases, tablespaces)".to_owned()
            } else {
                format!("database {}", d.database)
            };
            self.out.notes.push(format!(
                "retiring {}: owns {} and holds privileges on {} in {place}",
                r.name, d.owned, d.privileges
            ));
        }
        let owns_here = ctx.ix.owned_by(&r.name)
            || deps
                .iter()
                .any(|d| (d.database == here || d.database.is_empty()) && d.owned > 0);
        let elsewhere: Vec<&str> = deps
            .iter()
            .filter(|d| {
                !d.database.is_empty()
                    && d.database != here
                    && !ctx.options.managed_databases.contains(&d.database)
            })
            .map(|d| d.database.as_str())
            .collect();
        let target = r
            .reassign_owned_to
            .as_ref()
            .or(ctx.desired.reassign_owned_to.as_ref());
        let target = match target {
            Some(t) => Some(t.name.as_str()),
            None if owns_here || !elsewhere.is_empty() => {
                return Err(PlanError {
                    span: Some(r.span),
                    message: format!(
                        "{}: retired, and it owns objects: say who receives them with `reassign_owned_to` (on the retired role, or at the top level)",
                        r.name
                    ),
                });
            }
            None => None,
        };
        if target == Some(r.name.as_str()) {
            return Err(PlanError {
                span: Some(r.span),
                message: format!(
                    "{}: reassign_owned_to names the retired role itself",
                    r.name
                ),
            });
        }
        if let Some(t) = target {
            if !ctx.ix.role_exists(t) && !ctx.managed.contains_key(t) {
                return Err(PlanError {
                    span: Some(r.span),
                    message: format!("{}: reassign_owned_to: {t} does not exist", r.name),
                });
            }
        }
        let reason = format!("{}: retired", r.name);
        // Without SUPERUSER the connecting role acts with the privileges of
        // both roles for the length of the plan.
        let superuser = ctx.ix.snapshot.connecting_role.superuser;
        let uses = |name: &str| {
            superuser
                || name == ctx.conn
                || ctx
                    .ix
                    .snapshot
                    .connecting_role
                    .memberships
                    .iter()
                    .any(|m| m.role == name && m.usage)
        };
        if !uses(&r.name) {
            self.push_once(
                Action::TemporaryGrant {
                    role: r.name.clone(),
                },
                format!("temporary: let {} act as {}", ctx.conn, r.name),
            );
        }
        if let Some(t) = target.filter(|t| !uses(t)) {
            self.push_once(
                Action::TemporaryGrant { role: t.to_owned() },
                format!("temporary: let {} act as {t}", ctx.conn),
            );
            self.push_once(
                Action::TemporaryRevoke { role: t.to_owned() },
                "end of temporary grants",
            );
        }
        if r.terminate_sessions {
            self.push(
                Action::TerminateSessions {
                    role: r.name.clone(),
                },
                reason.clone(),
            );
        }
        if let Some(t) = target {
            self.push(
                Action::ReassignOwned {
                    role: r.name.clone(),
                    target: t.to_owned(),
                },
                format!("{reason}: what it owns goes to {t}"),
            );
        }
        self.push(
            Action::DropOwned {
                role: r.name.clone(),
            },
            format!("{reason}: its privileges (and anything it still owns) in this database"),
        );
        if elsewhere.is_empty() {
            self.push(
                Action::RetireRole {
                    role: r.name.clone(),
                },
                reason,
            );
        } else {
            if !uses(&r.name) {
                self.push_once(
                    Action::TemporaryRevoke {
                        role: r.name.clone(),
                    },
                    "end of temporary grants",
                );
            }
            self.out.notes.push(format!(
                "{} is not dropped: it still owns or holds privileges in database {}; sync that database with this file, and the sync that finds nothing left drops it",
                r.name,
                elsewhere.join(", ")
            ));
        }
        Ok(())
    }

    /// Pushes `action` unless the plan already has it.
    fn push_once(&mut self, action: Action, reason: impl Into<String>) {
        if !self.out.steps.iter().any(|s| s.action == action) {
            self.push(action, reason);
        }
    }
}

/// Roles no file retires: the connecting role, the bootstrap superuser,
/// PostgreSQL's predefined roles and pgsr's intermediate roles.
fn untouchable(r: &Role, conn: &str) -> bool {
    r.name == conn
        || r.oid == 10
        || r.name.starts_with("pg_")
        || intermediate::is_intermediate(&r.name)
}
