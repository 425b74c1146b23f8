//! Memberships: declared ones granted with their options, the rest
//! revoked (on PostgreSQL 16 and later one per grantor); a membership
//! whose options differ is revoked and granted anew; intermediate roles are
//! members of nothing.

use super::action::Action;
use super::diff::Diff;
use super::intermediate;
use super::resolve::Wanted;
use crate::desired::MembershipOptions;
use crate::snapshot::Membership;
use std::collections::BTreeSet;

impl<'a> Diff<'_, 'a> {
    pub(super) fn plan_memberships(&mut self) {
        let pg16 = self.f.ctx.ix.snapshot.server_version_num >= 160000;
        let all = &self.f.ctx.ix.snapshot.catalog.memberships;
        let local = format!(
            "{}{}_",
            intermediate::LOCAL_PREFIX,
            self.f.ctx.ix.snapshot.database.oid
        );
        // Groups that declare their members.
        let groups: BTreeSet<&str> = self
            .f
            .ctx
            .managed
            .iter()
            .filter(|(_, r)| r.members.is_some())
            .map(|(n, _)| *n)
            .collect();
        // Rows to revoke: (role, member, grantor) of undeclared memberships,
        // and of declared ones whose options differ.
        let mut revoked: BTreeSet<(&'a str, &'a str, Option<&'a str>)> = BTreeSet::new();
        let mut differ: BTreeSet<(&'a str, &'a str)> = BTreeSet::new();
        for m in all {
            let managed = self.f.ctx.managed.contains_key(m.member.as_str())
                || groups.contains(m.role.as_str());
            // The connecting role's own memberships (such as the one
            // PostgreSQL 16 gives the creator of a role) are not the
            // file's; nor are other databases' intermediate roles.
            if !managed
                || m.member == self.f.ctx.conn
                || (m.role.starts_with(intermediate::LOCAL_PREFIX) && !m.role.starts_with(&local))
            {
                continue;
            }
            let wanted = self
                .f
                .memberships
                .get(m.member.as_str())
                .and_then(|w| w.get(&m.role));
            match wanted {
                None if self.f.ctx.desired.is_other_specific(&m.member, &m.role) => {}
                None => {
                    revoked.insert((m.role.as_str(), m.member.as_str(), m.grantor.as_deref()));
                }
                Some(w) if !self.holds(m, w) => {
                    differ.insert((m.role.as_str(), m.member.as_str()));
                    revoked.insert((m.role.as_str(), m.member.as_str(), m.grantor.as_deref()));
                }
                Some(_) => {}
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
        let members: Vec<&'a str> = self.f.memberships.keys().copied().collect();
        for member in members {
            let wanted = self.f.memberships.get(member).cloned().unwrap_or_default();
            for (role, w) in &wanted {
                let kept = self
                    .f
                    .ctx
                    .ix
                    .memberships_by_member
                    .get(member)
                    .into_iter()
                    .flatten()
                    .any(|m| {
                        let row = (m.role.as_str(), member, m.grantor.as_deref());
                        &m.role == role && !cascaded.contains(&row) && !revoked.contains(&row)
                    });
                if !kept {
                    let reason = if differ.contains(&(role.as_str(), member)) {
                        format!("{}; its options differ", w.reason)
                    } else {
                        w.reason.clone()
                    };
                    self.push(
                        Action::GrantMembership {
                            role: role.clone(),
                            member: member.to_owned(),
                            options: self.written(member, w),
                        },
                        reason,
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
                } else if differ.contains(&(role, member)) {
                    format!("{member}: membership of {role} is granted anew: its options differ")
                } else {
                    format!("{member}: membership of {role} not declared")
                };
                self.push(action, reason);
            }
        }
    }

    /// The options a membership must end with: as declared, INHERIT
    /// following the member's INHERIT attribute as the plan leaves it, SET
    /// true.
    fn expected(&self, member: &str, w: &Wanted) -> (bool, bool, bool) {
        let attribute = match self.f.ctx.managed.get(member) {
            Some(r) => r.attributes.inherit.as_ref().is_none_or(|v| v.value),
            None => self.f.ctx.ix.roles.get(member).is_none_or(|r| r.inherit),
        };
        (
            w.options.admin,
            w.options.inherit.unwrap_or(attribute),
            w.options.set.unwrap_or(true),
        )
    }

    /// Whether an existing row has the options `w` asks for (INHERIT and
    /// SET are per membership from PostgreSQL 16).
    fn holds(&self, m: &Membership, w: &Wanted) -> bool {
        let (admin, inherit, set) = self.expected(&m.member, w);
        m.admin_option == admin
            && (self.f.ctx.ix.snapshot.server_version_num < 160000
                || (m.inherit_option == Some(inherit) && m.set_option == Some(set)))
    }

    /// The options a GRANT writes: those that differ from what PostgreSQL
    /// would give (INHERIT as the member's attribute when granted, SET
    /// true).
    fn written(&self, member: &str, w: &Wanted) -> MembershipOptions {
        let (admin, inherit, set) = self.expected(member, w);
        if self.f.ctx.ix.snapshot.server_version_num < 160000 {
            return MembershipOptions {
                admin,
                ..MembershipOptions::default()
            };
        }
        let now = self.f.ctx.ix.roles.get(member).is_none_or(|r| r.inherit);
        MembershipOptions {
            admin,
            inherit: (inherit != now).then_some(inherit),
            set: (!set).then_some(false),
        }
    }
}
