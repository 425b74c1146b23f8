//! Memberships: declared ones granted, the rest revoked (on PostgreSQL 16
//! and later one per grantor); intermediate roles are members of nothing.

use super::action::Action;
use super::diff::Diff;
use super::intermediate;
use std::collections::BTreeSet;

impl<'a> Diff<'_, 'a> {
    pub(super) fn plan_memberships(&mut self) {
        let pg16 = self.f.ctx.ix.snapshot.server_version_num >= 160000;
        let roles: Vec<&'a str> = self.f.ctx.managed.keys().copied().collect();
        let all = &self.f.ctx.ix.snapshot.catalog.memberships;
        let local = format!(
            "{}{}_",
            intermediate::LOCAL_PREFIX,
            self.f.ctx.ix.snapshot.database.oid
        );
        // Rows to revoke: (role, member, grantor) of undeclared memberships.
        let mut revoked: BTreeSet<(&'a str, &'a str, Option<&'a str>)> = BTreeSet::new();
        for &member in &roles {
            let wanted = self.f.memberships.get(member);
            for m in self
                .f
                .ctx
                .ix
                .memberships_by_member
                .get(member)
                .into_iter()
                .flatten()
            {
                // Other databases' intermediate roles belong to syncs of
                // those databases.
                if m.role.starts_with(intermediate::LOCAL_PREFIX) && !m.role.starts_with(&local) {
                    continue;
                }
                if !wanted.is_some_and(|w| w.contains_key(&m.role)) {
                    revoked.insert((m.role.as_str(), m.member.as_str(), m.grantor.as_deref()));
                }
            }
        }
        // Intermediate roles (of any database) are members of no role.
        for m in all
            .iter()
            .filter(|m| intermediate::is_intermediate(&m.member))
        {
            revoked.insert((m.role.as_str(), m.member.as_str(), m.grantor.as_deref()));
        }
        // Since PostgreSQL 16, grants a member made with its ADMIN OPTION
        // depend on its membership: revoking that needs CASCADE, which takes
        // them too (recursively).
        let mut cascaded: BTreeSet<(&'a str, &'a str, Option<&'a str>)> = BTreeSet::new();
        let mut cascading: BTreeSet<(&'a str, &'a str)> = BTreeSet::new();
        if pg16 {
            let mut queue: Vec<(&str, &str)> = revoked.iter().map(|(r, m, _)| (*r, *m)).collect();
            while let Some((role, grantor)) = queue.pop() {
                for d in all
                    .iter()
                    .filter(|d| d.role == role && d.grantor.as_deref() == Some(grantor))
                {
                    cascading.insert((role, grantor));
                    if cascaded.insert((d.role.as_str(), d.member.as_str(), d.grantor.as_deref())) {
                        queue.push((d.role.as_str(), d.member.as_str()));
                    }
                }
            }
        }
        for &member in &roles {
            let wanted = self.f.memberships.get(member).cloned().unwrap_or_default();
            for (role, reason) in &wanted {
                let kept = self
                    .f
                    .ctx
                    .ix
                    .memberships_by_member
                    .get(member)
                    .into_iter()
                    .flatten()
                    .any(|m| {
                        &m.role == role
                            && !cascaded.contains(&(m.role.as_str(), member, m.grantor.as_deref()))
                    });
                if !kept {
                    self.push(
                        Action::GrantMembership {
                            role: role.clone(),
                            member: member.to_owned(),
                        },
                        reason.clone(),
                    );
                }
            }
        }
        let mut noted: BTreeSet<(&str, &str)> = BTreeSet::new();
        // Before PostgreSQL 16 one REVOKE per pair, whatever the grantors.
        let mut pairs: BTreeSet<(&str, &str)> = BTreeSet::new();
        for &(role, member, grantor) in &revoked {
            if cascaded.contains(&(role, member, grantor)) {
                continue;
            }
            let cascade = cascading.contains(&(role, member));
            if cascade && noted.insert((role, member)) {
                let dependents: Vec<&str> = cascaded
                    .iter()
                    .filter(|(r, _, _)| *r == role)
                    .map(|(_, m, _)| *m)
                    .collect();
                self.out.notes.push(format!(
                    "revoking {role} from {member} also revokes it where {member} passed it on: {}",
                    dependents.join(", ")
                ));
            }
            // On PostgreSQL 16 and later each grantor's grant is its own
            // row, and REVOKE removes only the one GRANTED BY names (a bare
            // REVOKE by a superuser names the bootstrap superuser).
            let granted_by = if pg16 {
                grantor.map(str::to_owned)
            } else {
                None
            };
            let action = Action::RevokeMembership {
                role: role.to_owned(),
                member: member.to_owned(),
                granted_by,
                cascade,
            };
            if pg16 || pairs.insert((role, member)) {
                let reason = if intermediate::is_intermediate(member) {
                    format!("{member}: an intermediate role is a member of no role")
                } else {
                    format!("{member}: membership of {role} not declared")
                };
                self.push(action, reason);
            }
        }
    }
}
