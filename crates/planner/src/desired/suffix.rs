//! PUM's per-database roles. With a suffix (`suffix: lausanne` in the
//! file, or `--suffix lausanne`), each role without a login, `r`, holds its
//! privileges in this database through a specific role `r_lausanne`: the
//! specific role gets the role's grants (its memberships of other suffixed
//! roles become the specific roles' memberships), and the generic role `r`
//! keeps its attributes, settings and other memberships and is made a
//! member of `r_lausanne`. Login roles (users) are left as they are: a
//! user who is a member of `r` reaches every database `r` has a specific
//! role in.

use super::{Desired, DesiredRole, Grant, GrantKind, MembershipOptions};
use std::borrow::Cow;
use std::collections::BTreeSet;

impl Desired {
    /// The file with its per-database roles spelled out (itself when it
    /// has no suffix).
    pub fn per_database(&self) -> Cow<'_, Desired> {
        let Some(suffix) = &self.suffix else {
            return Cow::Borrowed(self);
        };
        let suffix = suffix.value.as_str();
        let generic: BTreeSet<&str> = self
            .roles
            .iter()
            .filter(|r| r.login.is_none())
            .map(|r| r.name.as_str())
            .collect();
        let specific = |name: &str| format!("{name}_{suffix}");
        let mut roles = Vec::with_capacity(self.roles.len() * 2);
        for role in &self.roles {
            if !generic.contains(role.name.as_str()) {
                roles.push(role.clone());
                continue;
            }
            let (kept, moved): (Vec<Grant>, Vec<Grant>) =
                role.grants.iter().cloned().partition(|g| {
                    matches!(&g.kind, GrantKind::RoleMembership { role, .. } if !generic.contains(role.as_str()))
                });
            let moved = moved
                .into_iter()
                .map(|mut g| {
                    if let GrantKind::RoleMembership { role, .. } = &mut g.kind {
                        *role = specific(role);
                    }
                    g
                })
                .collect();
            let mut grants = kept;
            grants.push(Grant {
                kind: GrantKind::RoleMembership {
                    role: specific(&role.name),
                    options: MembershipOptions::default(),
                },
                span: role.span,
                databases: None,
            });
            roles.push(DesiredRole {
                grants,
                ..role.clone()
            });
            roles.push(DesiredRole {
                name: specific(&role.name),
                span: role.span,
                grants: moved,
                preserve_existing_grants_in_schemas: role
                    .preserve_existing_grants_in_schemas
                    .clone(),
                allow_power: role.allow_power,
                description: Some(format!("{} in this database ({suffix})", role.name)),
                ..DesiredRole::default()
            });
        }
        Cow::Owned(Desired {
            roles,
            ..self.clone()
        })
    }

    /// Whether `member` is a generic role of a per-database file, whose
    /// memberships of `role` (another database's specific role, named
    /// `<member>_<suffix>`) are that database's to manage.
    pub fn is_other_specific(&self, member: &str, role: &str) -> bool {
        let Some(suffix) = &self.suffix else {
            return false;
        };
        let mine = format!("{member}_{}", suffix.value);
        role != mine
            && role.starts_with(&format!("{member}_"))
            && self.roles.iter().any(|r| r.name == mine)
    }

    /// The roles the file retires by name, and the pattern of
    /// `unlisted_roles` when it retires them (anchored at both ends, as
    /// PostgreSQL's `~` reads it).
    pub fn retiring(&self) -> (Vec<String>, Option<String>) {
        let names = self.retired.iter().map(|r| r.name.clone()).collect();
        let pattern = self
            .unlisted_roles
            .as_ref()
            .filter(|u| u.action == super::UnlistedAction::Retire)
            .map(|u| format!("^(?:{})$", u.pattern.source));
        (names, pattern)
    }
}
