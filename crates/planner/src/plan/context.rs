//! The planner's inputs, checked once: the snapshot's index, the desired
//! file, the options, the connecting role and the managed roles. Every
//! phase reads it; none changes it.

use super::index::Index;
use super::object::ObjectRef;
use super::options::PlanOptions;
use super::output::PlanError;
use crate::desired::{Desired, DesiredRole, RoleRef};
use crate::snapshot::Snapshot;
use std::collections::{BTreeMap, HashMap};

pub(crate) struct Context<'a> {
    pub ix: Index<'a>,
    pub desired: &'a Desired,
    pub options: &'a PlanOptions,
    /// The role the plan runs as.
    pub conn: &'a str,
    /// Managed roles by name.
    pub managed: BTreeMap<&'a str, &'a DesiredRole>,
    /// PUBLIC, when the desired file declares what it holds.
    pub public: Option<&'a DesiredRole>,
}

impl<'a> Context<'a> {
    /// Checks that the desired file manages neither the connecting role nor
    /// the bootstrap superuser, and that every `reassign_owned_to` names a
    /// role that exists or is managed and keeps what it receives.
    pub fn new(
        snapshot: &'a Snapshot,
        desired: &'a Desired,
        options: &'a PlanOptions,
    ) -> Result<Context<'a>, PlanError> {
        let ix = Index::new(snapshot);
        let conn = snapshot.connecting_role.name.as_str();
        let mut managed = BTreeMap::new();
        for role in &desired.roles {
            if role.name == conn {
                return Err(PlanError {
                    span: Some(role.span),
                    message: format!(
                        "role {:?} is the connecting role: pgsr cannot manage the role it runs as",
                        role.name
                    ),
                });
            }
            if ix
                .roles
                .get(role.name.as_str())
                .is_some_and(|r| r.oid == 10)
            {
                return Err(PlanError {
                    span: Some(role.span),
                    message: format!(
                        "role {:?} is the bootstrap superuser and cannot be managed",
                        role.name
                    ),
                });
            }
            managed.insert(role.name.as_str(), role);
        }
        let ctx = Context {
            ix,
            desired,
            options,
            conn,
            managed,
            public: desired.public.as_ref(),
        };
        ctx.check_reassign_targets()?;
        Ok(ctx)
    }

    /// A role that exists or is managed, whose name differs from `name`
    /// only by case (the first in name order, when there are several).
    pub fn same_but_case(&self, name: &str) -> Option<&'a str> {
        let lower = name.to_lowercase();
        self.ix
            .roles
            .keys()
            .copied()
            .chain(self.managed.keys().copied())
            .filter(|r| *r != name && r.to_lowercase() == lower)
            .min()
    }

    /// Every role that exists or is managed, by its name in lower case.
    pub fn roles_by_lower_case(&self) -> HashMap<String, Vec<&'a str>> {
        let mut out: HashMap<String, Vec<&'a str>> = HashMap::new();
        for role in self.ix.roles.keys().chain(self.managed.keys()).copied() {
            out.entry(role.to_lowercase()).or_default().push(role);
        }
        out
    }

    /// The grantees whose privileges the plan manages: the managed roles,
    /// and PUBLIC when the file declares what it holds.
    pub fn grantees(&self) -> Vec<(&'a str, &'a DesiredRole)> {
        let mut out: Vec<(&'a str, &'a DesiredRole)> =
            self.managed.iter().map(|(n, r)| (*n, *r)).collect();
        out.extend(self.public.map(|p| (crate::acl::PUBLIC, p)));
        out
    }

    /// Where ownership taken away from the managed role `role` goes: its
    /// `reassign_owned_to`, else the top-level one, else the connecting role.
    pub fn destination(&self, role: &str) -> &'a str {
        match self.reassign_target(role) {
            Some(target) => target.name.as_str(),
            None => self.conn,
        }
    }

    /// [`Desired::reassign_target`], through the index of managed roles.
    pub fn reassign_target(&self, role: &str) -> Option<&'a RoleRef> {
        self.managed
            .get(role)
            .and_then(|r| r.reassign_owned_to.as_ref())
            .or(self.desired.reassign_owned_to.as_ref())
    }

    /// Checks every `reassign_owned_to`: the role exists or the file
    /// manages it, and a managed one keeps what it receives (else the next
    /// run would move it again).
    fn check_reassign_targets(&self) -> Result<(), PlanError> {
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
}

/// Whether `object` lies in one of the role's preserved schemas.
pub(crate) fn preserved(role: &DesiredRole, object: &ObjectRef) -> bool {
    object.schema().is_some_and(|s| {
        role.preserve_existing_grants_in_schemas
            .iter()
            .any(|p| p == s)
    })
}
