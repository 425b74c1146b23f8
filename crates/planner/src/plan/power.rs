//! The plan-time power rule: a declared membership of a powerful role, a
//! declared ownership that is power, or ownership taken away and given by
//! `reassign_owned_to` to a powerful role (or of a schema that is power),
//! needs the desired file's opt-in for the role that receives it (see
//! [`crate::power`]).
//!
//! Power is judged on the catalog as the plan leaves it: managed roles lose
//! their attributes and hold exactly their declared memberships, so a
//! managed role is powerful only through a declared membership — and a role
//! that declares membership of it receives that power too. A role that
//! receives ownership taken away is judged as it is before the plan as
//! well, as `apply` judges it.

use super::action::{Action, Step};
use super::facts::Facts;
use super::object::ObjectRef;
use super::output::PlanError;
use crate::desired::GrantKind;
use crate::power::{
    attribute_power, attribute_review, powerful_roles, schema_power, setting_power, PowerGrant,
    PowerWhat, Why, DATABASE_OWNER_POWER, PARAMETER_POWER, RENAME_POWER, RETIREMENT_POWER,
};
use crate::quote::quote_ident;
use crate::snapshot::Role;
use std::collections::BTreeMap;

/// Checks every declared membership and ownership; returns the power grants
/// the plan's steps contain (all opted in), for its header.
pub(crate) fn check(f: &Facts, steps: &[Step]) -> Result<Vec<PowerGrant>, PlanError> {
    let powerful = after_plan(f);
    let role_exists = |name: &str| f.ctx.ix.role_exists(name) || f.ctx.managed.contains_key(name);
    let mut allowed: BTreeMap<(String, PowerWhat), Why> = BTreeMap::new();
    for role in &f.ctx.desired.roles {
        for grant in &role.grants {
            let (what, why) = match &grant.kind {
                GrantKind::RoleMembership { role: target, .. } => {
                    if target == f.ctx.conn {
                        return Err(PlanError {
                            span: Some(grant.span),
                            message: format!(
                                "{}: role_membership: {} is the connecting role: no role may be made a member of the role pgsr runs as",
                                role.name, target
                            ),
                        });
                    }
                    match powerful.get(target.as_str()) {
                        Some(why) => (PowerWhat::Membership(target.clone()), why.clone()),
                        None => continue,
                    }
                }
                GrantKind::SchemaOwnership { schema } => {
                    match schema_power(schema, &role.name, role_exists) {
                        Some(why) => (PowerWhat::SchemaOwner(schema.clone()), why),
                        None => continue,
                    }
                }
                _ => continue,
            };
            if !f.ctx.desired.allows_power(&role.name) {
                let subject = match &what {
                    PowerWhat::Membership(r) => format!("role_membership: {r} gives power ({why})"),
                    PowerWhat::SchemaOwner(s) => format!("schema_ownership: {s} is power ({why})"),
                    PowerWhat::RelationOwner(t) => format!("table_ownership: {t} is power ({why})"),
                    PowerWhat::DatabaseOwner(d) => {
                        format!("ownership of database {d} is power ({why})")
                    }
                    PowerWhat::Parameter(p) => {
                        format!("privileges on parameter {p} are power ({why})")
                    }
                    PowerWhat::DefinerExecute(r) => format!("EXECUTE on {r} is power ({why})"),
                    PowerWhat::Attribute(a) => format!("{a} is power ({why})"),
                    PowerWhat::Retirement(_) | PowerWhat::Rename(_) | PowerWhat::Setting(_) => {
                        unreachable!("only memberships and schema ownership are checked here")
                    }
                };
                return Err(PlanError {
                    span: Some(grant.span),
                    message: format!(
                        "{}: {subject}; if {} should have it, add `allow_power: true` to the role or list it in the top-level `allow_power`",
                        role.name, role.name
                    ),
                });
            }
            allowed.insert((role.name.clone(), what), why);
        }
    }
    // Attributes declared that reach past privileges.
    for role in &f.ctx.desired.roles {
        for (key, value, span) in role.attributes.flags() {
            let attribute = key.to_ascii_uppercase();
            let Some(why) = attribute_review(&attribute).filter(|_| value) else {
                continue;
            };
            if attribute_power(&attribute).is_some() && !f.ctx.desired.allows_power(&role.name) {
                return Err(PlanError {
                    span: Some(span),
                    message: format!(
                        "{}: {key}: {attribute} is power ({why}); if {} should have it, add `allow_power: true` to the role or list it in the top-level `allow_power`",
                        role.name, role.name
                    ),
                });
            }
            allowed.insert(
                (role.name.clone(), PowerWhat::Attribute(attribute)),
                why.to_owned(),
            );
        }
    }
    // Members a group declares.
    for group in &f.ctx.desired.roles {
        let Some(why) = powerful.get(group.name.as_str()) else {
            continue;
        };
        for m in group.members.iter().flatten() {
            if !f.ctx.desired.allows_power(&m.name) {
                return Err(PlanError {
                    span: Some(m.span),
                    message: format!(
                        "{}: members: membership of {} gives {} power ({why}); if {} should have it, list it in the top-level `allow_power`",
                        group.name, group.name, m.name, m.name
                    ),
                });
            }
            allowed.insert(
                (m.name.clone(), PowerWhat::Membership(group.name.clone())),
                why.clone(),
            );
        }
    }
    // Privileges on parameters, always power.
    for (grantee, declared) in &f.target.privileges {
        for (object, _) in declared.keys() {
            let ObjectRef::Parameter(p) = object else {
                continue;
            };
            let key = ((*grantee).to_owned(), PowerWhat::Parameter(p.clone()));
            if *grantee == crate::acl::PUBLIC || !f.ctx.desired.allows_power(grantee) {
                let span = f.ctx.managed.get(grantee).map(|r| r.span);
                return Err(PlanError {
                    span,
                    message: format!(
                        "{grantee}: privileges on parameter {p} are power ({PARAMETER_POWER}); if {grantee} should have them, add `allow_power: true` to the role or list it in the top-level `allow_power` (PUBLIC never may)"
                    ),
                });
            }
            allowed.insert(key, PARAMETER_POWER.to_owned());
        }
    }
    // Ownership declared with `ownership`: of a database (always power), or
    // of a schema that is power.
    for (object, (owner, _)) in &f.target.owners {
        let (what, why) = match object {
            ObjectRef::Database(d) => (
                PowerWhat::DatabaseOwner(d.clone()),
                DATABASE_OWNER_POWER.to_owned(),
            ),
            ObjectRef::Schema(s) => match schema_power(s, owner, role_exists) {
                Some(why) => (PowerWhat::SchemaOwner(s.clone()), why),
                None => continue,
            },
            _ => continue,
        };
        let key = ((*owner).to_owned(), what);
        if allowed.contains_key(&key) {
            continue;
        }
        if !f.ctx.desired.allows_power(owner) {
            return Err(PlanError {
                span: f.ctx.managed.get(owner).map(|r| r.span),
                message: format!(
                    "{owner}: ownership of {} is power ({why}); if {owner} should have it, add `allow_power: true` to the role or list it in the top-level `allow_power`",
                    object.describe()
                ),
            });
        }
        allowed.insert(key, why);
    }
    // Ownership taken away and given to the role `reassign_owned_to` names
    // (the connecting role's own power is not in question).
    let before = powerful_roles(
        &f.ctx.ix.snapshot.catalog.roles,
        f.ctx
            .ix
            .snapshot
            .catalog
            .memberships
            .iter()
            .map(|m| (m.role.as_str(), m.member.as_str())),
    );
    let powerful_why = |role: &str| {
        powerful
            .get(role)
            .or_else(|| before.get(role))
            .map(|w| format!("{role} is powerful: {w}"))
    };
    // EXECUTE on a SECURITY DEFINER routine whose owner is powerful: the
    // routine runs with the owner's rights.
    for (grantee, declared) in &f.target.privileges {
        for (object, _) in declared.keys() {
            let ObjectRef::Routine { schema, name, .. } = object else {
                continue;
            };
            let definer = f
                .ctx
                .ix
                .snapshot
                .catalog
                .routines
                .iter()
                .any(|r| &r.schema == schema && &r.name == name && r.security_definer);
            let owner = f.final_owner(object);
            let Some((owner, why)) = owner
                .filter(|_| definer)
                .and_then(|o| powerful_why(o).map(|w| (o, w)))
            else {
                continue;
            };
            let routine = format!("{}.{}", quote_ident(schema), quote_ident(name));
            let why = format!("it is SECURITY DEFINER and runs as {owner}: {why}");
            if *grantee == crate::acl::PUBLIC || !f.ctx.desired.allows_power(grantee) {
                return Err(PlanError {
                    span: f.ctx.managed.get(grantee).map(|r| r.span),
                    message: format!(
                        "{grantee}: EXECUTE on {routine} is power ({why}); if {grantee} should have it, add `allow_power: true` to the role or list it in the top-level `allow_power` (PUBLIC never may)"
                    ),
                });
            }
            allowed.insert(
                ((*grantee).to_owned(), PowerWhat::DefinerExecute(routine)),
                why,
            );
        }
    }
    for step in steps {
        let Action::AlterOwner { object, owner } = &step.action else {
            continue;
        };
        if owner == f.ctx.conn || f.target.owners.contains_key(object) {
            continue;
        }
        let (what, why) = match object {
            ObjectRef::Schema(schema) => (
                PowerWhat::SchemaOwner(schema.clone()),
                schema_power(schema, owner, role_exists).or_else(|| powerful_why(owner)),
            ),
            ObjectRef::Relation { schema, name, .. } => (
                PowerWhat::RelationOwner(format!("{}.{}", quote_ident(schema), quote_ident(name))),
                powerful_why(owner),
            ),
            _ => continue,
        };
        let Some(why) = why else { continue };
        if !f.ctx.desired.allows_power(owner) {
            // Where the file names the receiver for the role it is taken from.
            let span = f
                .actual_owner(object)
                .and_then(|from| f.ctx.reassign_target(from))
                .map(|t| t.span);
            return Err(PlanError {
                span,
                message: format!(
                    "reassign_owned_to: {owner} would receive ownership of {}, which is power ({why}); if {owner} should have it, list it in the top-level `allow_power`",
                    object.describe()
                ),
            });
        }
        allowed.insert((owner.clone(), what), why);
    }
    // What the plan actually does: a membership it grants, an owner it sets.
    let mut grants = Vec::new();
    for step in steps {
        let (grantee, what) = match &step.action {
            Action::GrantMembership { role, member, .. } => {
                (member.clone(), PowerWhat::Membership(role.clone()))
            }
            Action::CreateSchema { schema, owner } => {
                (owner.clone(), PowerWhat::SchemaOwner(schema.clone()))
            }
            Action::AlterOwner {
                object: ObjectRef::Schema(schema),
                owner,
            } => (owner.clone(), PowerWhat::SchemaOwner(schema.clone())),
            Action::AlterOwner {
                object: ObjectRef::Database(database),
                owner,
            } => (owner.clone(), PowerWhat::DatabaseOwner(database.clone())),
            Action::Grant {
                object: ObjectRef::Parameter(p),
                grantee,
                ..
            } => (grantee.clone(), PowerWhat::Parameter(p.clone())),
            Action::Grant {
                object: ObjectRef::Routine { schema, name, .. },
                grantee,
                ..
            } => (
                grantee.clone(),
                PowerWhat::DefinerExecute(format!("{}.{}", quote_ident(schema), quote_ident(name))),
            ),
            Action::AlterOwner {
                object: ObjectRef::Relation { schema, name, .. },
                owner,
            } => (
                owner.clone(),
                PowerWhat::RelationOwner(format!("{}.{}", quote_ident(schema), quote_ident(name))),
            ),
            Action::RenameRole { from, to } => {
                grants.push(PowerGrant {
                    grantee: to.clone(),
                    what: PowerWhat::Rename(from.clone()),
                    why: RENAME_POWER.to_owned(),
                });
                continue;
            }
            Action::RetireRole { role } | Action::DropOwned { role } => {
                let receiver = steps.iter().find_map(|s| match &s.action {
                    Action::ReassignOwned { role: r, target } if r == role => Some(target),
                    _ => None,
                });
                grants.push(PowerGrant {
                    grantee: receiver.unwrap_or(role).clone(),
                    what: PowerWhat::Retirement(role.clone()),
                    why: RETIREMENT_POWER.to_owned(),
                });
                continue;
            }
            Action::SetSetting {
                role,
                database,
                name,
                ..
            } => {
                if let Some(why) = powerful.get(role.as_str()) {
                    grants.push(PowerGrant {
                        grantee: role.clone(),
                        what: PowerWhat::Setting(match database {
                            Some(d) => format!("{name} in database {d}"),
                            None => name.clone(),
                        }),
                        why: setting_power(why),
                    });
                }
                continue;
            }
            // Letting a role log in (or setting its password) while it
            // keeps a declared attribute that is power needs the attribute
            // listed too.
            Action::SetPassword { role, .. } => {
                grants.extend(listed_attributes(&allowed, role, POWER_ATTRIBUTES.to_vec()));
                continue;
            }
            Action::AlterRole { role, options } => {
                let mut given = options.given();
                if options.login == Some(true) {
                    given.extend(POWER_ATTRIBUTES);
                }
                grants.extend(listed_attributes(&allowed, role, given));
                continue;
            }
            _ => continue,
        };
        if let Some(why) = allowed.get(&(grantee.clone(), what.clone())) {
            grants.push(PowerGrant {
                grantee,
                what,
                why: why.clone(),
            });
        }
    }
    grants.sort();
    grants.dedup();
    Ok(grants)
}

/// The attributes that are power (see [`attribute_power`]).
const POWER_ATTRIBUTES: [&str; 4] = ["SUPERUSER", "CREATEROLE", "REPLICATION", "BYPASSRLS"];

/// The header lines for `attributes` of `role` the file allows.
fn listed_attributes(
    allowed: &BTreeMap<(String, PowerWhat), Why>,
    role: &str,
    attributes: Vec<&str>,
) -> Vec<PowerGrant> {
    attributes
        .into_iter()
        .filter_map(|a| {
            let what = PowerWhat::Attribute(a.to_owned());
            let why = allowed.get(&(role.to_owned(), what.clone()))?;
            Some(PowerGrant {
                grantee: role.to_owned(),
                what,
                why: why.clone(),
            })
        })
        .collect()
}

/// The powerful roles of the catalog as the plan leaves it.
fn after_plan(f: &Facts) -> BTreeMap<String, Why> {
    let snapshot = f.ctx.ix.snapshot;
    let roles: Vec<Role> = snapshot
        .catalog
        .roles
        .iter()
        .map(|r| {
            if let Some(declared) = f.ctx.managed.get(r.name.as_str()) {
                let a = &declared.attributes;
                let on =
                    |v: &Option<crate::desired::Spanned<bool>>| v.as_ref().is_some_and(|v| v.value);
                Role {
                    superuser: on(&a.superuser),
                    createrole: on(&a.createrole),
                    replication: on(&a.replication),
                    bypassrls: on(&a.bypassrls),
                    ..Role::new(r.name.clone(), r.oid)
                }
            } else {
                r.clone()
            }
        })
        .collect();
    let mut memberships: Vec<(&str, &str)> = snapshot
        .catalog
        .memberships
        .iter()
        .filter(|m| !f.ctx.managed.contains_key(m.member.as_str()))
        .map(|m| (m.role.as_str(), m.member.as_str()))
        .collect();
    for (member, targets) in &f.memberships {
        for target in targets.keys() {
            memberships.push((target.as_str(), member));
        }
    }
    powerful_roles(&roles, memberships)
}

/// A power grant as one header line's words, for reviewers.
pub fn describe(grant: &PowerGrant) -> String {
    let what = match &grant.what {
        PowerWhat::Membership(r) => format!("becomes a member of {}", quote_ident(r)),
        PowerWhat::SchemaOwner(s) => format!("owns schema {}", quote_ident(s)),
        PowerWhat::RelationOwner(t) => format!("owns {t}"),
        PowerWhat::DatabaseOwner(d) => format!("owns database {}", quote_ident(d)),
        PowerWhat::Parameter(p) => format!("holds privileges on parameter {p}"),
        PowerWhat::DefinerExecute(r) => format!("may execute {r}"),
        PowerWhat::Attribute(a) => format!("gets {a}"),
        PowerWhat::Retirement(r) => format!("receives what {} owns as it retires", quote_ident(r)),
        PowerWhat::Rename(r) => format!("is the new name of {}", quote_ident(r)),
        PowerWhat::Setting(name) => format!("gets setting {name}"),
    };
    format!("{} {what}: {}", quote_ident(&grant.grantee), grant.why)
}
