//! What the diff, the brackets and the power rule read: the inputs, the
//! resolved targets and the chosen intermediate roles, together and
//! read-only, with the questions they answer (who owns an object once the
//! plan has run, where ownership taken away goes).

use super::context::{preserved, Context};
use super::intermediate::Routing;
use super::object::ObjectRef;
use super::resolve::{Target, Wanted};
use crate::acl::AclEntry;
use crate::snapshot::RelKind;
use std::collections::BTreeMap;

pub(crate) struct Facts<'a> {
    pub ctx: Context<'a>,
    pub target: Target<'a>,
    pub routing: Routing,
    /// Every membership managed roles should hold: declared ones and those
    /// in the intermediate roles chosen for them (member -> role -> reason).
    pub memberships: BTreeMap<&'a str, BTreeMap<String, Wanted>>,
}

impl<'a> Facts<'a> {
    pub fn new(ctx: Context<'a>, target: Target<'a>, routing: Routing) -> Facts<'a> {
        let mut memberships = target.memberships.clone();
        for (member, roles) in &routing.memberships {
            let Some((&member, _)) = ctx.managed.get_key_value(member.as_str()) else {
                continue;
            };
            let held = memberships.entry(member).or_default();
            for (role, reason) in roles {
                held.entry(role.clone()).or_insert_with(|| Wanted {
                    reason: reason.clone(),
                    options: Default::default(),
                });
            }
        }
        Facts {
            ctx,
            target,
            routing,
            memberships,
        }
    }

    /// The owner an object has once the plan has run.
    pub fn final_owner(&self, object: &ObjectRef) -> Option<&'a str> {
        if let Some((role, _)) = self.target.owners.get(object) {
            return Some(role);
        }
        let ix = &self.ctx.ix;
        match object {
            // A column belongs to its table.
            ObjectRef::Column { schema, table, .. } => {
                let rel = ix.relations.get(&(schema.as_str(), table.as_str()))?;
                return self.final_owner(&ObjectRef::Relation {
                    schema: rel.schema.clone(),
                    name: rel.name.clone(),
                    kind: rel.kind,
                });
            }
            // A sequence owned by a table column changes owner with its table.
            ObjectRef::Relation {
                schema,
                name,
                kind: RelKind::Sequence,
            } => {
                let owned_by = ix
                    .relations
                    .get(&(schema.as_str(), name.as_str()))
                    .and_then(|r| r.owned_by.as_ref());
                if let Some(rel) =
                    owned_by.and_then(|t| ix.relations.get(&(t.schema.as_str(), t.name.as_str())))
                {
                    return self.final_owner(&ObjectRef::Relation {
                        schema: rel.schema.clone(),
                        name: rel.name.clone(),
                        kind: rel.kind,
                    });
                }
            }
            _ => {}
        }
        let actual = self.actual_owner(object)?;
        Some(self.taken_to(actual, object).unwrap_or(actual))
    }

    /// The object's owner in the snapshot (or in this plan, for a schema it
    /// creates).
    pub fn actual_owner(&self, object: &ObjectRef) -> Option<&'a str> {
        self.target
            .actual_owner(object)
            .or_else(|| self.ctx.ix.entry(object).and_then(|e| e.owner))
    }

    /// The object's ACL in the snapshot (None when NULL or unknown).
    pub fn object_acl(&self, object: &ObjectRef) -> Option<&'a [AclEntry]> {
        self.ctx.ix.entry(object).and_then(|e| e.acl)
    }

    /// Where `object`, owned by `owner`, goes when the plan takes its
    /// ownership away; `None` when it stays (not a managed role, a kind
    /// pgsr does not manage, a preserved schema, or a role that keeps what
    /// it owns).
    pub fn taken_to(&self, owner: &str, object: &ObjectRef) -> Option<&'a str> {
        // An intermediate role owns nothing: its schemas and table-likes go
        // where the file says ownership taken away goes (other kinds are
        // refused by the diff).
        if super::intermediate::is_intermediate(owner) {
            let to = self.ctx.destination(owner);
            return (object.ownership_managed() && to != owner).then_some(to);
        }
        let role = self.ctx.managed.get(owner)?;
        if !object.ownership_managed() || preserved(role, object) {
            return None;
        }
        let to = self.ctx.destination(owner);
        (to != owner).then_some(to)
    }
}
