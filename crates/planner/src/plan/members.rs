//! Resolving memberships: the options a server has (`inherit` and `set`
//! from PostgreSQL 16), and the members a group declares (`members`).

use super::output::PlanError;
use super::resolve::{Resolver, Wanted};
use crate::desired::{DesiredRole, Grant, GrantKind, MembershipOptions};

impl<'a> Resolver<'_, 'a> {
    /// `inherit` and `set` exist from PostgreSQL 16; before, INHERIT is the
    /// member's attribute and every member may SET ROLE.
    pub(super) fn check_options(
        &self,
        member: &str,
        grant: &Grant,
        options: &MembershipOptions,
    ) -> Result<(), PlanError> {
        let v = self.ctx.ix.snapshot.server_version_num;
        let option = match (options.inherit, options.set) {
            (_, Some(_)) => "set",
            (Some(_), None) => "inherit",
            (None, None) => return Ok(()),
        };
        if v >= 160000 {
            return Ok(());
        }
        Err(PlanError {
            span: Some(grant.span),
            message: format!(
                "{member}: membership option `{option}` exists from PostgreSQL 16 (the server is {}){}",
                v / 10000,
                if option == "inherit" {
                    "; before it, give the member `inherit: false` (the NOINHERIT attribute)"
                } else {
                    ""
                }
            ),
        })
    }

    /// `members` on a group: each one a member of it, created (NOLOGIN)
    /// when missing, as a missing group is.
    pub(super) fn resolve_members(&mut self, group: &'a DesiredRole) -> Result<(), PlanError> {
        for m in group.members.iter().flatten() {
            let grant = Grant {
                kind: GrantKind::RoleMembership {
                    role: group.name.clone(),
                    options: m.options,
                },
                span: m.span,
                databases: None,
            };
            self.check_options(&m.name, &grant, &m.options)?;
            if m.name == self.ctx.conn {
                return Err(PlanError {
                    span: Some(m.span),
                    message: format!(
                        "{}: members: {} is the connecting role, whose memberships pgsr does not manage",
                        group.name, m.name
                    ),
                });
            }
            if !self.ctx.ix.role_exists(&m.name) && !self.ctx.managed.contains_key(m.name.as_str())
            {
                self.t
                    .create_roles
                    .entry(m.name.clone())
                    .or_insert_with(|| {
                        format!("{}: members {}: role does not exist", group.name, m.name)
                    });
            }
            self.t
                .memberships
                .entry(m.name.as_str())
                .or_default()
                .entry(group.name.clone())
                .or_insert(Wanted {
                    reason: format!("{}: members {}", group.name, m.name),
                    options: m.options,
                });
        }
        Ok(())
    }
}
