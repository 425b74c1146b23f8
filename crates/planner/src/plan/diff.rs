//! The diff: what managed and intermediate roles actually hold against
//! what they should, as steps. Its topics are files of their own, each an
//! `impl Diff` block: `ownership.rs`, `privileges.rs`, `memberships.rs`
//! and `attributes.rs`; role creation, default privileges and dropping
//! unused intermediate roles are here.

use super::action::{Action, Step};
use super::actual::Actual;
use super::facts::Facts;
use super::intermediate;
use super::output::PlanError;
use super::resolve::DefaultKey;
use crate::acl::{default_acl, Privilege};
use crate::kind::ObjectKind;
use crate::snapshot::DefaultObjectType;
use std::collections::{BTreeSet, HashMap};

/// Steps in the order they were planned, and what a reviewer should know.
#[derive(Default)]
pub(crate) struct Changes {
    pub steps: Vec<Step>,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

impl Changes {
    pub fn push(&mut self, action: Action, reason: impl Into<String>) {
        self.steps.push(Step {
            action,
            reason: reason.into(),
        });
    }
}

/// Compares what managed roles hold with what they should, and plans the
/// difference (after `steps`, the intermediate roles' creation).
pub(crate) fn diff(f: &Facts, actual: &Actual, steps: Vec<Step>) -> Result<Changes, PlanError> {
    let mut d = Diff {
        f,
        out: Changes {
            steps,
            ..Changes::default()
        },
    };
    d.plan_role_creation();
    d.plan_ownership(actual)?;
    d.plan_privileges(actual);
    d.plan_default_privileges(actual);
    d.plan_memberships();
    d.plan_attributes()?;
    d.plan_settings();
    d.plan_retirements()?;
    if f.ctx.options.drop_unused {
        d.drop_unused(actual);
    }
    Ok(d.out)
}

/// The diff's state: the facts it reads, and the changes it makes.
pub(crate) struct Diff<'f, 'a> {
    pub f: &'f Facts<'a>,
    pub out: Changes,
}

impl<'a> Diff<'_, 'a> {
    pub fn push(&mut self, action: Action, reason: impl Into<String>) {
        self.out.push(action, reason);
    }

    fn plan_role_creation(&mut self) {
        let managed: Vec<&str> = self
            .f
            .ctx
            .managed
            .keys()
            .copied()
            .filter(|r| !self.f.ctx.ix.role_exists(r))
            .collect();
        let created = managed.iter().map(|r| (*r, "managed role")).chain(
            self.f
                .target
                .create_roles
                .keys()
                .map(|r| (r.as_str(), "role_membership target")),
        );
        let mut warnings = Vec::new();
        let mut by_lower: Option<HashMap<String, Vec<&str>>> = None;
        for (role, what) in created {
            let by_lower = by_lower.get_or_insert_with(|| self.f.ctx.roles_by_lower_case());
            let existing = by_lower
                .get(&role.to_lowercase())
                .and_then(|names| names.iter().copied().filter(|e| *e != role).min());
            if let Some(existing) = existing {
                warnings.push(format!(
                    "{what} {role:?} does not exist and would be created, but role {existing:?} does: did you mean {existing:?}? (role names are case-sensitive)"
                ));
            }
        }
        self.out.warnings.extend(warnings);
        for role in managed {
            self.push(
                Action::CreateRole {
                    role: role.to_owned(),
                },
                format!("{role}: managed role does not exist"),
            );
        }
        for (role, reason) in self.f.target.create_roles.clone() {
            self.push(Action::CreateRole { role }, reason);
        }
        for (schema, owner) in self.f.target.create_schemas.clone() {
            self.push(
                Action::CreateSchema {
                    schema: schema.clone(),
                    owner: owner.to_owned(),
                },
                format!("{owner}: schema_ownership {schema}: schema does not exist"),
            );
        }
    }

    /// Default privileges naming managed or intermediate roles: what is
    /// not declared is revoked (a grant option alone, when the privilege
    /// is declared without it), what is declared and missing is granted.
    fn plan_default_privileges(&mut self, actual: &Actual<'a>) {
        let declared = &self.f.target.defaults;
        let mut held: BTreeSet<(&str, DefaultKey, bool)> = BTreeSet::new();
        for d in &actual.defaults {
            let key = DefaultKey {
                owner: d.owner.to_owned(),
                schema: d.schema.map(str::to_owned),
                object_type: d.object_type,
                privilege: d.privilege,
            };
            let wanted = declared.get(d.grantee).and_then(|w| w.get(&key));
            held.insert((d.grantee, key.clone(), d.grantable));
            if d.preserved {
                continue;
            }
            let grant_option_only = match wanted {
                None => false,
                Some(w) if d.grantable && !w.grant_option => true,
                Some(_) => continue,
            };
            let reason = if grant_option_only {
                format!(
                    "{}: grant option of a default privilege not declared",
                    d.grantee
                )
            } else {
                format!("{}: default privilege not declared", d.grantee)
            };
            self.push(
                Action::RevokeDefault {
                    owner: key.owner,
                    schema: key.schema,
                    object_type: key.object_type,
                    privilege: key.privilege,
                    grantee: d.grantee.to_owned(),
                    grant_option_only,
                },
                reason,
            );
        }
        // PUBLIC's built-in default privileges hold where their owner has
        // no global row for the kind; a row the plan creates starts from
        // them, and with a public section those not declared go.
        let public = self.f.ctx.public.is_some();
        let mut created: BTreeSet<(String, DefaultObjectType)> = BTreeSet::new();
        for (grantee, wanted) in declared {
            for (key, how) in wanted {
                let builtin = *grantee == crate::acl::PUBLIC
                    && key.schema.is_none()
                    && !self.has_global_row(&key.owner, key.object_type)
                    && self
                        .builtin_public_defaults(&key.owner, key.object_type)
                        .contains(&key.privilege);
                let kept = builtin
                    || held.contains(&(*grantee, key.clone(), true))
                    || (!how.grant_option && held.contains(&(*grantee, key.clone(), false)));
                if !kept
                    && key.schema.is_none()
                    && !self.has_global_row(&key.owner, key.object_type)
                {
                    created.insert((key.owner.clone(), key.object_type));
                }
                if !kept {
                    self.push(
                        Action::GrantDefault {
                            owner: key.owner.clone(),
                            schema: key.schema.clone(),
                            object_type: key.object_type,
                            privilege: key.privilege,
                            grantee: (*grantee).to_owned(),
                            grant_option: how.grant_option,
                        },
                        how.reason.clone(),
                    );
                }
            }
        }
        for (owner, object_type) in created.into_iter().filter(|_| public) {
            for privilege in self.builtin_public_defaults(&owner, object_type) {
                let key = DefaultKey {
                    owner: owner.clone(),
                    schema: None,
                    object_type,
                    privilege,
                };
                let wanted = declared
                    .get(crate::acl::PUBLIC)
                    .is_some_and(|w| w.contains_key(&key));
                if !wanted {
                    self.push(
                        Action::RevokeDefault {
                            owner: owner.clone(),
                            schema: None,
                            object_type,
                            privilege,
                            grantee: crate::acl::PUBLIC.to_owned(),
                            grant_option_only: false,
                        },
                        "PUBLIC: built-in default privilege not declared in the public section",
                    );
                }
            }
        }
    }

    /// Whether `owner` has global default privileges for `object_type`
    /// (a pg_default_acl row without a schema).
    fn has_global_row(&self, owner: &str, object_type: DefaultObjectType) -> bool {
        self.f
            .ctx
            .ix
            .snapshot
            .catalog
            .default_privileges
            .iter()
            .any(|d| d.role == owner && d.schema.is_none() && d.object_type == object_type)
    }

    /// What PUBLIC gets of objects of `object_type` their owner creates,
    /// by PostgreSQL's built-in default privileges (EXECUTE on functions,
    /// USAGE on types).
    fn builtin_public_defaults(
        &self,
        owner: &str,
        object_type: DefaultObjectType,
    ) -> Vec<Privilege> {
        let Some(kind) = ObjectKind::ALL
            .into_iter()
            .find(|k| k.def().default_privileges == Some(object_type))
        else {
            return Vec::new();
        };
        let version = self.f.ctx.ix.snapshot.server_version_num;
        default_acl(kind.def().acl, Some(owner), version)
            .into_iter()
            .filter(|e| e.is_public())
            .map(|e| e.privilege)
            .collect()
    }

    /// Drops intermediate roles of this database (and global ones) that this
    /// plan does not use and that hold no privilege once it has run.
    fn drop_unused(&mut self, actual: &Actual<'a>) {
        let local = format!(
            "{}{}_",
            intermediate::LOCAL_PREFIX,
            self.f.ctx.ix.snapshot.database.oid
        );
        let c = &self.f.ctx.ix.snapshot.catalog;
        let candidates: Vec<String> = c
            .roles
            .iter()
            .map(|r| r.name.as_str())
            .filter(|n| {
                n.starts_with(intermediate::GLOBAL_DATABASE_PREFIX) || n.starts_with(&local)
            })
            .filter(|n| {
                !self.f.routing.serves.contains_key(*n) && !self.keeps_privileges(actual, n)
            })
            // Its own default privileges would stop DROP ROLE.
            .filter(|n| !c.default_privileges.iter().any(|d| d.role == *n))
            .map(str::to_owned)
            .collect();
        for role in candidates {
            self.push(
                Action::DropRole { role },
                "intermediate role holds no privilege (--drop-unused)",
            );
        }
    }

    /// Whether intermediate role `role` still holds a privilege once the
    /// plan has run: one it may keep, or one granted by another role than
    /// the owner (which the plan cannot revoke), unless a planned CASCADE
    /// takes it away. Restored grants do not matter: only roles the plan
    /// uses get any, and those are never dropped.
    fn keeps_privileges(&self, actual: &Actual<'a>, role: &str) -> bool {
        let Some(held) = actual.held.get(role) else {
            return false;
        };
        held.keys().any(|(object, privilege)| {
            self.grants_after_revokes(object, *privilege)
                .iter()
                .any(|e| e.grantee == role)
        })
    }
}
