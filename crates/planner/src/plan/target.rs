//! The planner's state: what each managed role should hold, and the steps
//! found so far.

use super::action::{Action, RoleOptions, Step};
use super::actual::{Actual, Held};
use super::index::Index;
use super::intermediate::{self, Kind, Need};
use super::object::ObjectRef;
use super::{Plan, PlanError, PlanOptions};
use crate::acl::{AclEntry, Privilege};
use crate::desired::{Desired, DesiredRole, Grant, GrantKind, PasswordRef, TableName};
use crate::snapshot::{RelKind, Snapshot};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

pub(crate) struct Planner<'a> {
    pub ix: Index<'a>,
    pub desired: &'a Desired,
    pub options: &'a PlanOptions,
    /// The role the plan runs as.
    pub conn: &'a str,
    /// Managed roles by name.
    pub managed: BTreeMap<&'a str, &'a DesiredRole>,
    /// Declared owner of each object, with the reason.
    pub owners: BTreeMap<ObjectRef, (&'a str, String)>,
    /// Schemas to create, with their owner.
    pub create_schemas: BTreeMap<String, &'a str>,
    /// Roles to create that are not managed (targets of role_membership).
    pub create_roles: BTreeMap<String, String>,
    /// Declared memberships: member -> role -> reason.
    pub memberships: BTreeMap<&'a str, BTreeMap<String, String>>,
    /// Declared direct privileges: grantee -> (object, privilege) -> reason.
    pub privileges: BTreeMap<&'a str, BTreeMap<(ObjectRef, Privilege), String>>,
    /// Privileges to be held through an intermediate role.
    pub needs: BTreeMap<(ObjectRef, Privilege), Need<'a>>,
    /// Roles that exist or will: names a new intermediate role must avoid.
    pub taken: HashSet<String>,
    /// The intermediate roles this plan routes grants through (kept by
    /// --drop-unused), each with the one privilege it serves.
    pub serves: BTreeMap<String, (ObjectRef, Privilege)>,
    /// Grants a planned REVOKE … CASCADE takes away: (object, privilege, grantee).
    pub cascaded: HashSet<(ObjectRef, Privilege, String)>,
    pub steps: Vec<Step>,
    pub skipped: Vec<String>,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

impl<'a> Planner<'a> {
    pub fn new(
        snapshot: &'a Snapshot,
        desired: &'a Desired,
        options: &'a PlanOptions,
    ) -> Result<Planner<'a>, PlanError> {
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
        let taken = snapshot
            .catalog
            .roles
            .iter()
            .map(|r| r.name.clone())
            .collect();
        Ok(Planner {
            ix,
            desired,
            options,
            conn,
            managed,
            owners: BTreeMap::new(),
            create_schemas: BTreeMap::new(),
            create_roles: BTreeMap::new(),
            memberships: BTreeMap::new(),
            privileges: BTreeMap::new(),
            needs: BTreeMap::new(),
            taken,
            serves: BTreeMap::new(),
            cascaded: HashSet::new(),
            steps: Vec::new(),
            skipped: Vec::new(),
            notes: Vec::new(),
            warnings: Vec::new(),
        })
    }

    pub fn push(&mut self, action: Action, reason: impl Into<String>) {
        self.steps.push(Step {
            action,
            reason: reason.into(),
        });
    }

    fn skip(&mut self, role: &str, grant: &Grant, what: String) -> Result<(), PlanError> {
        let message = format!("{role}: {}: {what}", describe_grant(&grant.kind));
        if self.options.strict {
            return Err(PlanError {
                span: Some(grant.span),
                message: format!("{message} (--strict)"),
            });
        }
        self.skipped.push(message);
        Ok(())
    }

    /// A role that exists or is managed, whose name differs from `name`
    /// only by case (the first in name order, when there are several).
    fn same_but_case(&self, name: &str) -> Option<&'a str> {
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
    fn roles_by_lower_case(&self) -> HashMap<String, Vec<&'a str>> {
        let mut out: HashMap<String, Vec<&'a str>> = HashMap::new();
        for role in self.ix.roles.keys().chain(self.managed.keys()).copied() {
            out.entry(role.to_lowercase()).or_default().push(role);
        }
        out
    }

    fn schema_will_exist(&self, schema: &str) -> bool {
        self.ix.schemas.contains_key(schema) || self.create_schemas.contains_key(schema)
    }

    /// Turns every declared grant into target facts.
    pub fn resolve_grants(&mut self) -> Result<(), PlanError> {
        let roles: Vec<&'a DesiredRole> = self.desired.roles.iter().collect();
        for role in &roles {
            for grant in &role.grants {
                refuse_system_schema(role, grant)?;
            }
        }
        // Ownership first: a schema_ownership creates its schema, which
        // other grants (of any role) may then use.
        for role in &roles {
            for grant in &role.grants {
                self.resolve_ownership(role, grant)?;
            }
        }
        for role in &roles {
            self.memberships.entry(role.name.as_str()).or_default();
            self.privileges.entry(role.name.as_str()).or_default();
            for grant in &role.grants {
                self.resolve_grant(role, grant)?;
            }
        }
        Ok(())
    }

    fn declare_owner(
        &mut self,
        role: &'a DesiredRole,
        grant: &Grant,
        object: ObjectRef,
    ) -> Result<(), PlanError> {
        let reason = format!("{}: {}", role.name, describe_grant(&grant.kind));
        if let Some((other, _)) = self.owners.get(&object) {
            if *other != role.name {
                return Err(PlanError {
                    span: Some(grant.span),
                    message: format!(
                        "{} is declared to be owned by both {other:?} and {:?}",
                        object.describe(),
                        role.name
                    ),
                });
            }
        }
        self.owners.insert(object, (role.name.as_str(), reason));
        Ok(())
    }

    fn resolve_ownership(&mut self, role: &'a DesiredRole, grant: &Grant) -> Result<(), PlanError> {
        match &grant.kind {
            GrantKind::SchemaOwnership { schema } => {
                if !self.ix.schemas.contains_key(schema.as_str()) {
                    if let Some(other) = self.create_schemas.get(schema) {
                        if *other != role.name {
                            return Err(PlanError {
                                span: Some(grant.span),
                                message: format!("schema {schema} is declared to be owned by both {other:?} and {:?}", role.name),
                            });
                        }
                    }
                    self.create_schemas
                        .insert(schema.clone(), role.name.as_str());
                }
                self.declare_owner(role, grant, ObjectRef::Schema(schema.clone()))
            }
            GrantKind::TableOwnership { schema, table } => {
                match self.ix.relations.get(&(schema.as_str(), table.as_str())) {
                    Some(rel) if rel.kind.is_table_like() => {
                        let object = ObjectRef::Relation {
                            schema: schema.clone(),
                            name: table.clone(),
                            kind: rel.kind,
                        };
                        self.declare_owner(role, grant, object)
                    }
                    Some(_) => self.skip(
                        &role.name,
                        grant,
                        format!("{schema}.{table} is a sequence, not a table-like"),
                    ),
                    None => self.skip(
                        &role.name,
                        grant,
                        format!("table {schema}.{table} does not exist"),
                    ),
                }
            }
            _ => Ok(()),
        }
    }

    fn resolve_grant(&mut self, role: &'a DesiredRole, grant: &Grant) -> Result<(), PlanError> {
        let name = role.name.as_str();
        let reason = describe_grant(&grant.kind);
        match &grant.kind {
            GrantKind::SchemaOwnership { .. } | GrantKind::TableOwnership { .. } => {}
            GrantKind::DatabaseConnect { database } => {
                if !self.ix.databases.contains_key(database.as_str()) {
                    return self.skip(name, grant, format!("database {database} does not exist"));
                }
                self.need(
                    ObjectRef::Database(database.clone()),
                    Privilege::Connect,
                    name,
                    reason,
                );
            }
            GrantKind::SchemaUsage { schema, direct }
            | GrantKind::SchemaCreate { schema, direct } => {
                if !self.schema_will_exist(schema) {
                    return self.skip(name, grant, format!("schema {schema} does not exist"));
                }
                let privilege = if matches!(grant.kind, GrantKind::SchemaUsage { .. }) {
                    Privilege::Usage
                } else {
                    Privilege::Create
                };
                self.direct_or_need(
                    ObjectRef::Schema(schema.clone()),
                    privilege,
                    name,
                    *direct,
                    reason,
                );
            }
            GrantKind::TableSelect {
                schema,
                table,
                direct,
            } => {
                if !self.ix.schemas.contains_key(schema.as_str()) {
                    return self.skip(name, grant, format!("schema {schema} does not exist"));
                }
                let tables: Vec<(String, RelKind)> = match table {
                    TableName::Exact(t) => {
                        match self.ix.relations.get(&(schema.as_str(), t.as_str())) {
                            Some(rel) if rel.kind.is_table_like() => vec![(t.clone(), rel.kind)],
                            Some(_) => {
                                return self.skip(
                                    name,
                                    grant,
                                    format!("{schema}.{t} is a sequence, not a table-like"),
                                )
                            }
                            None => {
                                return self.skip(
                                    name,
                                    grant,
                                    format!("table {schema}.{t} does not exist"),
                                )
                            }
                        }
                    }
                    TableName::Regex(pattern) => self
                        .ix
                        .relations_by_schema
                        .get(schema.as_str())
                        .into_iter()
                        .flatten()
                        .filter(|r| r.kind.is_table_like() && pattern.matches(&r.name))
                        .map(|r| (r.name.clone(), r.kind))
                        .collect(),
                };
                for (table, kind) in tables {
                    let object = ObjectRef::Relation {
                        schema: schema.clone(),
                        name: table,
                        kind,
                    };
                    self.direct_or_need(object, Privilege::Select, name, *direct, reason.clone());
                }
            }
            GrantKind::RoleMembership { role: target } => {
                if !self.ix.role_exists(target) && !self.managed.contains_key(target.as_str()) {
                    if self.options.strict {
                        let hint = self
                            .same_but_case(target)
                            .map(|r| format!("; did you mean {r:?}?"))
                            .unwrap_or_default();
                        return Err(PlanError {
                            span: Some(grant.span),
                            message: format!(
                                "{name}: {reason}: role {target} does not exist (--strict){hint}"
                            ),
                        });
                    }
                    // As pg-sync-roles: a missing role is created (NOLOGIN).
                    self.create_roles
                        .entry(target.clone())
                        .or_insert_with(|| format!("{name}: {reason}: role does not exist"));
                }
                self.memberships
                    .entry(name)
                    .or_default()
                    .insert(target.clone(), reason);
            }
        }
        Ok(())
    }

    fn direct_or_need(
        &mut self,
        object: ObjectRef,
        privilege: Privilege,
        role: &'a str,
        direct: bool,
        reason: String,
    ) {
        if direct {
            self.privileges
                .entry(role)
                .or_default()
                .entry((object, privilege))
                .or_insert(reason);
        } else {
            self.need(object, privilege, role, reason);
        }
    }

    fn need(&mut self, object: ObjectRef, privilege: Privilege, role: &'a str, reason: String) {
        let Some(kind) = Kind::of(&object, privilege) else {
            unreachable!("no intermediate role serves {privilege} on {object:?}")
        };
        let need = self
            .needs
            .entry((object.clone(), privilege))
            .or_insert_with(|| Need::new(kind));
        need.members.entry(role).or_insert(reason);
    }

    /// Chooses (or creates) the intermediate role of each needed privilege
    /// and declares the memberships in it.
    pub fn resolve_intermediates(&mut self) {
        intermediate::resolve(self);
    }

    /// The owner an object has once the plan has run.
    pub fn final_owner(&self, object: &ObjectRef) -> Option<&'a str> {
        if let Some((role, _)) = self.owners.get(object) {
            return Some(role);
        }
        match object {
            // A column belongs to its table.
            ObjectRef::Column { schema, table, .. } => {
                let rel = self.ix.relations.get(&(schema.as_str(), table.as_str()))?;
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
                let owned_by = self
                    .ix
                    .relations
                    .get(&(schema.as_str(), name.as_str()))
                    .and_then(|r| r.owned_by.as_ref());
                if let Some(rel) = owned_by
                    .and_then(|t| self.ix.relations.get(&(t.schema.as_str(), t.name.as_str())))
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
        if let ObjectRef::Schema(n) = object {
            if let Some(owner) = self.create_schemas.get(n) {
                return Some(owner);
            }
        }
        self.catalog_entry(object).and_then(|e| e.owner)
    }

    /// Compares what managed roles hold with what they should, and plans
    /// the difference.
    pub fn diff(&mut self, actual: &Actual<'a>) -> Result<(), PlanError> {
        self.plan_role_creation();
        self.plan_ownership(actual)?;
        self.plan_privileges(actual);
        self.plan_default_privileges(actual);
        self.plan_memberships();
        self.plan_attributes()
    }

    fn plan_role_creation(&mut self) {
        let managed: Vec<&str> = self
            .managed
            .keys()
            .copied()
            .filter(|r| !self.ix.role_exists(r))
            .collect();
        let created = managed.iter().map(|r| (*r, "managed role")).chain(
            self.create_roles
                .keys()
                .map(|r| (r.as_str(), "role_membership target")),
        );
        let mut warnings = Vec::new();
        let mut by_lower: Option<HashMap<String, Vec<&str>>> = None;
        for (role, what) in created {
            let by_lower = by_lower.get_or_insert_with(|| self.roles_by_lower_case());
            let existing = by_lower
                .get(&role.to_lowercase())
                .and_then(|names| names.iter().copied().filter(|e| *e != role).min());
            if let Some(existing) = existing {
                warnings.push(format!(
                    "{what} {role:?} does not exist and would be created, but role {existing:?} does: did you mean {existing:?}? (role names are case-sensitive)"
                ));
            }
        }
        self.warnings.extend(warnings);
        for role in managed {
            self.push(
                Action::CreateRole {
                    role: role.to_owned(),
                },
                format!("{role}: managed role does not exist"),
            );
        }
        for (role, reason) in std::mem::take(&mut self.create_roles) {
            self.push(Action::CreateRole { role }, reason);
        }
        for (schema, owner) in self.create_schemas.clone() {
            self.push(
                Action::CreateSchema {
                    schema: schema.clone(),
                    owner: owner.to_owned(),
                },
                format!("{owner}: schema_ownership {schema}: schema does not exist"),
            );
        }
    }

    fn plan_privileges(&mut self, actual: &Actual<'a>) {
        let roles: Vec<&'a str> = self.managed.keys().copied().collect();
        let empty = BTreeMap::new();
        // Revokes first, for every role: a CASCADE can take away what
        // another role (or an intermediate role) is to keep, which must then
        // be granted again.
        let mut cascaded: HashSet<(ObjectRef, Privilege, String)> = HashSet::new();
        for &role in &roles {
            let desired_role = self.managed[role];
            let held = actual.held.get(role).unwrap_or(&empty);
            let wanted = self.privileges.get(role).cloned().unwrap_or_default();
            for ((object, privilege), h) in held {
                if self.final_owner(object) == Some(role) || preserved(desired_role, object) {
                    continue;
                }
                let declared = wanted.contains_key(&(object.clone(), *privilege));
                self.revoke_held(role, object, *privilege, h, declared, &mut cascaded);
            }
        }
        // Intermediate roles: nothing but the privilege each serves.
        for (&role, held) in &actual.held {
            if !intermediate::is_intermediate(role) {
                continue;
            }
            for ((object, privilege), h) in held {
                let own = intermediate::may_hold(self, role, object, *privilege);
                self.revoke_held(role, object, *privilege, h, own, &mut cascaded);
            }
            self.note_ambiguous(role, held);
        }
        for &role in &roles {
            let held = actual.held.get(role).unwrap_or(&empty);
            let wanted = self.privileges.get(role).cloned().unwrap_or_default();
            for ((object, privilege), reason) in wanted {
                if self.final_owner(&object) == Some(role) {
                    continue;
                }
                let kept = held.contains_key(&(object.clone(), privilege))
                    && !self.loses_to_cascade(&object, privilege, role, &cascaded);
                if !kept {
                    self.push(
                        Action::Grant {
                            object,
                            privilege,
                            grantee: role.to_owned(),
                        },
                        reason,
                    );
                }
            }
        }
        // Intermediate roles keep their privilege through a CASCADE too.
        for (role, (object, privilege)) in self.serves.clone() {
            if self.loses_to_cascade(&object, privilege, &role, &cascaded) {
                let reason = format!(
                    "intermediate role for {privilege} on {}: restored after CASCADE",
                    object.describe()
                );
                self.push(
                    Action::Grant {
                        object,
                        privilege,
                        grantee: role,
                    },
                    reason,
                );
            }
        }
        self.cascaded = cascaded;
    }

    /// Revokes what `role` holds of `privilege` on `object` (`h`, every
    /// grant of it) unless `declared`, in which case only a grant option
    /// goes. Grants by others than the owner only the grantor can revoke:
    /// they are noted.
    fn revoke_held(
        &mut self,
        role: &str,
        object: &ObjectRef,
        privilege: Privilege,
        h: &Held,
        declared: bool,
        cascaded: &mut HashSet<(ObjectRef, Privilege, String)>,
    ) {
        let revocable = self.revocable_grantors(object);
        let by_owner: Vec<&(String, bool)> = h
            .grants
            .iter()
            .filter(|(g, _)| revocable.contains(g))
            .collect();
        let grant_option_only = declared;
        let needed = if declared {
            by_owner.iter().any(|(_, grantable)| *grantable)
        } else {
            !by_owner.is_empty()
        };
        if needed {
            let dependents = self.dependents(object, privilege, role);
            let cascade = !dependents.is_empty();
            cascaded.extend(dependents);
            let reason = match (declared, intermediate::is_intermediate(role)) {
                (true, false) => {
                    format!("{role}: grant option on {} not declared", object.describe())
                }
                (false, false) => format!("{role}: not declared"),
                (true, true) => {
                    format!("{role}: an intermediate role holds its privilege without grant option")
                }
                (false, true) => {
                    format!("{role}: an intermediate role holds only the privilege it serves")
                }
            };
            self.push(
                Action::Revoke {
                    object: object.clone(),
                    privilege,
                    grantee: role.to_owned(),
                    grant_option_only,
                    cascade,
                },
                reason,
            );
        }
        if !declared {
            for (grantor, _) in h.grants.iter().filter(|(g, _)| !revocable.contains(g)) {
                self.notes.push(format!(
                    "{role} holds {privilege} on {} granted by {grantor}, not by the owner: only {grantor} can revoke it",
                    object.describe()
                ));
            }
        }
    }

    /// Whether the CASCADEs planned so far take `privilege` on `object`
    /// from `role` altogether: a grant of it by a role that keeps its grant
    /// option survives them.
    fn loses_to_cascade(
        &self,
        object: &ObjectRef,
        privilege: Privilege,
        role: &str,
        cascaded: &HashSet<(ObjectRef, Privilege, String)>,
    ) -> bool {
        cascaded.contains(&(object.clone(), privilege, role.to_owned()))
            && !self
                .grants_after_revokes(object, privilege)
                .iter()
                .any(|e| e.grantee == role)
    }

    /// The grants of `privilege` on `object` left once the revokes planned
    /// so far have run. A REVOKE removes the owner's grants to its grantee
    /// (or their grant option), and, as PostgreSQL does, a role left
    /// without the grant option loses the grants it made with it.
    fn grants_after_revokes(&self, object: &ObjectRef, privilege: Privilege) -> Vec<AclEntry> {
        let revocable = self.revocable_grantors(object);
        let mut acl: Vec<AclEntry> = self
            .object_acl(object)
            .unwrap_or_default()
            .iter()
            .filter(|e| e.privilege == privilege)
            .cloned()
            .collect();
        let had_option: HashSet<String> = acl
            .iter()
            .filter(|e| e.grantable)
            .map(|e| e.grantee.clone())
            .collect();
        for step in &self.steps {
            let Action::Revoke {
                object: o,
                privilege: p,
                grantee,
                grant_option_only,
                ..
            } = &step.action
            else {
                continue;
            };
            if o != object || *p != privilege {
                continue;
            }
            let by_owner = |e: &AclEntry| &e.grantee == grantee && revocable.contains(&e.grantor);
            if *grant_option_only {
                acl.iter_mut()
                    .filter(|e| by_owner(e))
                    .for_each(|e| e.grantable = false);
            } else {
                acl.retain(|e| !by_owner(e));
            }
        }
        loop {
            let lost: HashSet<String> = had_option
                .iter()
                .filter(|g| !acl.iter().any(|e| &e.grantee == *g && e.grantable))
                .filter(|g| acl.iter().any(|e| &e.grantor == *g))
                .cloned()
                .collect();
            if lost.is_empty() {
                return acl;
            }
            acl.retain(|e| !lost.contains(&e.grantor));
        }
    }

    /// An intermediate role this plan does not use that holds its kind of
    /// privilege on several objects serves one of them, but which one
    /// cannot be told: a reviewer should know.
    fn note_ambiguous(&mut self, role: &str, held: &BTreeMap<(ObjectRef, Privilege), Held>) {
        if self.serves.contains_key(role) {
            return;
        }
        let Some(kind) = Kind::of_role(role, self.ix.snapshot.database.oid) else {
            return;
        };
        let objects: Vec<String> = held
            .keys()
            .filter(|(o, p)| kind.covers(o, *p))
            .map(|(o, _)| o.describe())
            .collect();
        if objects.len() > 1 {
            self.notes.push(format!(
                "intermediate role {role} holds its privilege on {}: it should serve one object, and which one cannot be told; the others were granted by hand",
                objects.join(", ")
            ));
        }
    }

    /// Grantors whose grants a REVOKE removes: the plan acts as the object's
    /// owner, and runs after ownership changes, which rewrite the old
    /// owner's grants as the new owner's. Parameters have no owner: a
    /// superuser's REVOKE acts as the bootstrap superuser.
    fn revocable_grantors(&self, object: &ObjectRef) -> Vec<String> {
        if let ObjectRef::Parameter(_) = object {
            return self
                .ix
                .snapshot
                .catalog
                .roles
                .iter()
                .filter(|r| r.oid == 10)
                .map(|r| r.name.clone())
                .collect();
        }
        let mut owners: Vec<String> = self
            .actual_owner(object)
            .into_iter()
            .chain(self.final_owner(object))
            .map(str::to_owned)
            .collect();
        owners.dedup();
        owners
    }

    /// The grants that depend on `grantee`'s `privilege` on `object` (made
    /// by it, and recursively by those it granted to): a REVOKE must
    /// CASCADE to them, and they are gone afterwards.
    fn dependents(
        &self,
        object: &ObjectRef,
        privilege: Privilege,
        grantee: &str,
    ) -> Vec<(ObjectRef, Privilege, String)> {
        let acl = self.object_acl(object).unwrap_or_default();
        let mut out: Vec<(ObjectRef, Privilege, String)> = Vec::new();
        let mut grantors = vec![grantee.to_owned()];
        while let Some(grantor) = grantors.pop() {
            for e in acl.iter().filter(|e| {
                e.privilege == privilege && e.grantor == grantor && e.grantee != grantor
            }) {
                let entry = (object.clone(), privilege, e.grantee.clone());
                if !out.contains(&entry) && e.grantee != grantee {
                    out.push(entry);
                    grantors.push(e.grantee.clone());
                }
            }
        }
        out
    }

    /// The object's ACL in the snapshot (None when NULL or unknown).
    pub fn object_acl(&self, object: &ObjectRef) -> Option<&'a [AclEntry]> {
        self.catalog_entry(object).and_then(|e| e.acl)
    }

    /// Where the snapshot holds the object: its owner and its ACL. A column
    /// has its table's owner; a parameter has none.
    fn catalog_entry(&self, object: &ObjectRef) -> Option<CatalogEntry<'a>> {
        fn entry<'a>(owner: &'a str, acl: &'a Option<Vec<AclEntry>>) -> CatalogEntry<'a> {
            CatalogEntry {
                owner: Some(owner),
                acl: acl.as_deref(),
            }
        }
        let c = &self.ix.snapshot.catalog;
        match object {
            ObjectRef::Database(n) => self
                .ix
                .databases
                .get(n.as_str())
                .map(|o| entry(&o.owner, &o.acl)),
            ObjectRef::Schema(n) => self
                .ix
                .schemas
                .get(n.as_str())
                .map(|o| entry(&o.owner, &o.acl)),
            ObjectRef::Relation { schema, name, .. } => self
                .ix
                .relations
                .get(&(schema.as_str(), name.as_str()))
                .map(|o| entry(&o.owner, &o.acl)),
            ObjectRef::Column {
                schema,
                table,
                column,
            } => {
                let rel = self.ix.relations.get(&(schema.as_str(), table.as_str()))?;
                let acl = rel
                    .columns
                    .iter()
                    .find(|c| &c.name == column)
                    .map(|c| c.acl.as_slice());
                Some(CatalogEntry {
                    owner: Some(&rel.owner),
                    acl,
                })
            }
            ObjectRef::Tablespace(n) => c
                .tablespaces
                .iter()
                .find(|o| &o.name == n)
                .map(|o| entry(&o.owner, &o.acl)),
            ObjectRef::Parameter(n) => {
                c.parameters
                    .iter()
                    .find(|o| &o.name == n)
                    .map(|o| CatalogEntry {
                        owner: None,
                        acl: o.acl.as_deref(),
                    })
            }
            ObjectRef::Routine {
                schema,
                name,
                arguments,
                ..
            } => c
                .routines
                .iter()
                .find(|o| &o.schema == schema && &o.name == name && &o.arguments == arguments)
                .map(|o| entry(&o.owner, &o.acl)),
            ObjectRef::Type { schema, name, .. } => c
                .types
                .iter()
                .find(|o| &o.schema == schema && &o.name == name)
                .map(|o| entry(&o.owner, &o.acl)),
            ObjectRef::Language(n) => c
                .languages
                .iter()
                .find(|o| &o.name == n)
                .map(|o| entry(&o.owner, &o.acl)),
            ObjectRef::LargeObject(oid) => c
                .large_objects
                .iter()
                .find(|o| o.oid == *oid)
                .map(|o| entry(&o.owner, &o.acl)),
            ObjectRef::ForeignDataWrapper(n) => c
                .foreign_data_wrappers
                .iter()
                .find(|o| &o.name == n)
                .map(|o| entry(&o.owner, &o.acl)),
            ObjectRef::ForeignServer(n) => c
                .foreign_servers
                .iter()
                .find(|o| &o.name == n)
                .map(|o| entry(&o.owner, &o.acl)),
        }
    }

    fn plan_default_privileges(&mut self, actual: &Actual<'a>) {
        for d in &actual.defaults {
            self.push(
                Action::RevokeDefault {
                    owner: d.owner.to_owned(),
                    schema: d.schema.map(str::to_owned),
                    object_type: d.object_type,
                    privilege: d.privilege,
                    grantee: d.grantee.to_owned(),
                },
                format!("{}: default privilege not declared", d.grantee),
            );
        }
    }

    fn plan_memberships(&mut self) {
        let pg16 = self.ix.snapshot.server_version_num >= 160000;
        let roles: Vec<&'a str> = self.managed.keys().copied().collect();
        let all = &self.ix.snapshot.catalog.memberships;
        let local = format!(
            "{}{}_",
            intermediate::LOCAL_PREFIX,
            self.ix.snapshot.database.oid
        );
        // Rows to revoke: (role, member, grantor) of undeclared memberships.
        let mut revoked: BTreeSet<(&'a str, &'a str, Option<&'a str>)> = BTreeSet::new();
        for &member in &roles {
            let wanted = self.memberships.get(member);
            for m in self
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
            let wanted = self.memberships.get(member).cloned().unwrap_or_default();
            for (role, reason) in &wanted {
                let kept = self
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
                self.notes.push(format!(
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

    fn plan_attributes(&mut self) -> Result<(), PlanError> {
        let roles: Vec<&'a DesiredRole> = self.managed.values().copied().collect();
        let mut set_password = Vec::new();
        for role in roles {
            let actual = self.ix.roles.get(role.name.as_str()).copied();
            let mut o = never_declared(actual);
            let can_login = actual.is_some_and(|r| r.canlogin);
            let loses_login: String;
            let mut why: Vec<&str> = Vec::new();
            if !o.is_empty() {
                why.push(
                    "SUPERUSER, CREATEDB, CREATEROLE, REPLICATION and BYPASSRLS are never declared",
                );
            }
            match &role.login {
                Some(login) => {
                    if !can_login {
                        o.login = Some(true);
                    }
                    let wanted = login.valid_until.as_deref().unwrap_or("infinity");
                    if let Some(now) = &self.options.now {
                        if wanted != "infinity" && wanted <= now.as_str() {
                            self.warnings.push(format!(
                                "{}: valid_until {wanted} is in the past: {} could not log in after this sync",
                                role.name, role.name
                            ));
                        }
                    }
                    let current = actual
                        .and_then(|r| r.valid_until.as_deref())
                        .unwrap_or("infinity");
                    if wanted != current {
                        o.valid_until = Some(wanted.to_owned());
                    }
                    if o.login.is_some() || o.valid_until.is_some() {
                        why.push("login");
                    }
                    if let Some(source) = login.password.reference() {
                        if !self.options.passwords.is_current(&role.name) {
                            set_password.push((role.name.clone(), source));
                        }
                    }
                }
                None if can_login => {
                    o.login = Some(false);
                    o.remove_password = true;
                    loses_login = format!(
                        "no login declared: {} loses LOGIN and its password",
                        role.name
                    );
                    why.push(&loses_login);
                }
                None => {}
            }
            if !o.is_empty() {
                let reason = format!("{}: {}", role.name, why.join("; "));
                self.push(
                    Action::AlterRole {
                        role: role.name.clone(),
                        options: o,
                    },
                    reason,
                );
            }
        }
        for (role, source) in set_password {
            let reason = match &source {
                PasswordRef::Env(name) => {
                    format!("{role}: password from environment variable {name}")
                }
                PasswordRef::File(path) => format!("{role}: password from file {path}"),
                PasswordRef::DesiredFile => format!("{role}: password given in the desired file"),
            };
            self.push(Action::SetPassword { role, source }, reason);
        }
        self.plan_intermediate_attributes();
        Ok(())
    }

    /// Intermediate roles (of any database) have no attributes: NOLOGIN,
    /// without a password, and none of those never declared.
    fn plan_intermediate_attributes(&mut self) {
        let c = &self.ix.snapshot.catalog;
        let roles: Vec<&'a crate::snapshot::Role> = c
            .roles
            .iter()
            .filter(|r| intermediate::is_intermediate(&r.name))
            .collect();
        for r in roles {
            let mut o = never_declared(Some(r));
            if r.canlogin {
                o.login = Some(false);
                o.remove_password = true;
            }
            if !o.is_empty() {
                self.push(
                    Action::AlterRole {
                        role: r.name.clone(),
                        options: o,
                    },
                    format!("{}: an intermediate role has no attributes", r.name),
                );
            }
        }
    }

    /// Drops intermediate roles of this database (and global ones) that this
    /// plan does not use and that hold no privilege once it has run.
    pub fn drop_unused(&mut self, actual: &Actual<'a>) {
        let local = format!(
            "{}{}_",
            intermediate::LOCAL_PREFIX,
            self.ix.snapshot.database.oid
        );
        let c = &self.ix.snapshot.catalog;
        let candidates: Vec<String> = c
            .roles
            .iter()
            .map(|r| r.name.as_str())
            .filter(|n| n.starts_with(intermediate::GLOBAL_CONNECT_PREFIX) || n.starts_with(&local))
            .filter(|n| !self.serves.contains_key(*n) && !self.keeps_privileges(actual, n))
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

    /// Without SUPERUSER, the connecting role must hold the privileges of
    /// every owner whose objects it changes, and be able to become every new
    /// owner; grant those roles to it for the length of the plan.
    pub fn bracket_owners(&mut self) {
        let connecting = &self.ix.snapshot.connecting_role;
        if connecting.superuser {
            return;
        }
        let mut needed: BTreeSet<String> = BTreeSet::new();
        for step in &self.steps {
            match &step.action {
                Action::AlterOwner { object, owner } => {
                    needed.extend(self.actual_owner(object).map(str::to_owned));
                    needed.insert(owner.clone());
                }
                Action::Grant { object, .. } | Action::Revoke { object, .. } => {
                    needed.extend(self.final_owner(object).map(str::to_owned));
                }
                Action::RevokeDefault { owner, .. } | Action::CreateSchema { owner, .. } => {
                    needed.insert(owner.clone());
                }
                _ => {}
            }
        }
        // Naming an object in a schema needs USAGE on the schema: without
        // USAGE of its own, the connecting role acts as the schema's owner
        // (as pg-sync-roles does), before and after the schema changes hands.
        let mut schemas: BTreeSet<&str> = BTreeSet::new();
        for step in &self.steps {
            if let Action::AlterOwner { object, .. }
            | Action::Grant { object, .. }
            | Action::Revoke { object, .. } = &step.action
            {
                schemas.extend(object.schema());
            }
        }
        for schema in schemas {
            let schema = ObjectRef::Schema(schema.to_owned());
            if !self.connecting_role_uses(&schema) {
                needed.extend(self.actual_owner(&schema).map(str::to_owned));
                needed.extend(self.final_owner(&schema).map(str::to_owned));
            }
        }
        // A new owner must be able to create the object where it lives.
        let mut creates: BTreeSet<(ObjectRef, String)> = BTreeSet::new();
        for step in &self.steps {
            if let Action::AlterOwner { object, owner } = &step.action {
                let container = match object.schema() {
                    Some(schema) => ObjectRef::Schema(schema.to_owned()),
                    None if matches!(object, ObjectRef::Schema(_)) => {
                        ObjectRef::Database(self.ix.snapshot.database.name.clone())
                    }
                    None => continue,
                };
                if !self.holds_create(&container, owner) {
                    creates.insert((container, owner.clone()));
                }
            }
        }
        for (container, owner) in &creates {
            // Granted before anything changes hands, revoked at the end.
            needed.extend(self.actual_owner(container).map(str::to_owned));
            needed.extend(self.final_owner(container).map(str::to_owned));
            let reason = format!(
                "temporary: {owner} may own objects in {} only with CREATE there",
                container.describe()
            );
            self.push(
                Action::TemporaryPrivilege {
                    object: container.clone(),
                    privilege: Privilege::Create,
                    grantee: owner.clone(),
                },
                reason,
            );
            let declared = self
                .privileges
                .get(owner.as_str())
                .is_some_and(|p| p.contains_key(&(container.clone(), Privilege::Create)));
            if declared {
                // Granted early for good: the declared grant is this one.
                let early = Action::Grant {
                    object: container.clone(),
                    privilege: Privilege::Create,
                    grantee: owner.clone(),
                };
                self.steps.retain(|s| s.action != early);
            } else if self.final_owner(container) == Some(owner.as_str())
                || self.actual_owner(container) == Some(owner.as_str())
            {
                // It owns the container in the end, and the privilege is its
                // own; or it owned it, and the privilege went to the new owner.
            } else {
                self.push(
                    Action::TemporaryPrivilegeRevoke {
                        object: container.clone(),
                        privilege: Privilege::Create,
                        grantee: owner.clone(),
                    },
                    "end of temporary grants",
                );
            }
        }
        needed.remove(self.conn);
        // No role can be granted pg_database_owner; the database's owner
        // (the usual connecting role) has its privileges anyway.
        needed.remove("pg_database_owner");
        needed.retain(|role| {
            !connecting
                .memberships
                .iter()
                .any(|m| &m.role == role && m.usage && m.member)
        });
        // A role that is itself a member of the connecting role cannot be
        // granted to it (a membership loop): such owners' objects are left
        // to fail visibly, with a note saying why.
        let members_of_conn = self.members_of(self.conn);
        for role in needed
            .iter()
            .filter(|r| members_of_conn.contains(r.as_str()))
        {
            self.notes.push(format!(
                "{role} is a member of {}, so {} cannot act as {role}; statements on objects {role} owns will fail",
                self.conn, self.conn
            ));
        }
        needed.retain(|role| !members_of_conn.contains(role.as_str()));
        for role in &needed {
            self.push(
                Action::TemporaryGrant { role: role.clone() },
                format!(
                    "temporary: let {} act as the owners of what it changes",
                    self.conn
                ),
            );
            // A role the plan drops takes its memberships along.
            let dropped = Action::DropRole { role: role.clone() };
            if !self.steps.iter().any(|s| s.action == dropped) {
                self.push(
                    Action::TemporaryRevoke { role: role.clone() },
                    "end of temporary grants",
                );
            }
        }
    }

    /// Whether `role` holds CREATE on a schema or database (directly, as its
    /// owner, or through PUBLIC) when objects in it are given to `role`.
    /// The container's owner holds what the old owner's entries give: its
    /// objects are given to it while it owns the container (before it
    /// changes hands, for the old owner; after, for the new one).
    fn holds_create(&self, container: &ObjectRef, role: &str) -> bool {
        let acl = self.object_acl(container);
        let before = self.actual_owner(container);
        if before == Some(role) || self.final_owner(container) == Some(role) {
            return acl.is_none_or(|acl| {
                acl.iter().any(|e| {
                    e.privilege == Privilege::Create
                        && (Some(e.grantee.as_str()) == before || e.grantee == role)
                })
            });
        }
        acl.unwrap_or_default()
            .iter()
            .any(|e| e.privilege == Privilege::Create && (e.grantee == role || e.is_public()))
    }

    /// Whether the connecting role has USAGE on a schema other than as its
    /// owner: granted to it, to PUBLIC, or to a role whose privileges it has.
    fn connecting_role_uses(&self, schema: &ObjectRef) -> bool {
        let owners = [self.actual_owner(schema), self.final_owner(schema)];
        let Some(acl) = self.object_acl(schema) else {
            return false;
        };
        let memberships = &self.ix.snapshot.connecting_role.memberships;
        acl.iter().any(|e| {
            e.privilege == Privilege::Usage
                && !owners.contains(&Some(e.grantee.as_str()))
                && (e.is_public()
                    || e.grantee == self.conn
                    || memberships.iter().any(|m| m.role == e.grantee && m.usage))
        })
    }

    /// Every role that is a member of `role`, directly or through others.
    fn members_of(&self, role: &str) -> HashSet<&'a str> {
        let mut out: HashSet<&'a str> = HashSet::new();
        let mut queue = vec![role.to_owned()];
        while let Some(r) = queue.pop() {
            for m in self
                .ix
                .snapshot
                .catalog
                .memberships
                .iter()
                .filter(|m| m.role == r)
            {
                if out.insert(m.member.as_str()) {
                    queue.push(m.member.clone());
                }
            }
        }
        out
    }

    pub fn finish(mut self) -> Plan {
        let snapshot = self.ix.snapshot;
        // Stable: within a section, steps keep the order they were planned in.
        self.steps
            .sort_by_key(|s| super::render::Section::of(&s.action));
        self.skipped.sort();
        self.skipped.dedup();
        self.notes.sort();
        self.notes.dedup();
        self.warnings.sort();
        self.warnings.dedup();
        Plan {
            server_version_num: snapshot.server_version_num,
            database: snapshot.database.clone(),
            connecting_role: self.conn.to_owned(),
            fingerprint: snapshot.fingerprint.clone(),
            scope: snapshot.scope.clone(),
            lock_key: self.desired.lock_key,
            steps: self.steps,
            skipped: self.skipped,
            notes: self.notes,
            warnings: self.warnings,
            power: Vec::new(),
            passwords_compared: matches!(self.options.passwords, super::Passwords::Compared { .. }),
        }
    }
}

/// PostgreSQL's own schemas are not pgsr's to grant on or give away
/// (USAGE on them, which every role has through PUBLIC, may be declared).
fn refuse_system_schema(role: &DesiredRole, grant: &Grant) -> Result<(), PlanError> {
    let schema = match &grant.kind {
        GrantKind::SchemaCreate { schema, .. }
        | GrantKind::SchemaOwnership { schema }
        | GrantKind::TableSelect { schema, .. }
        | GrantKind::TableOwnership { schema, .. } => schema,
        _ => return Ok(()),
    };
    if crate::power::is_system_schema(schema) {
        return Err(PlanError {
            span: Some(grant.span),
            message: format!(
                "{}: {}: {schema} is a system schema: pgsr does not grant on or give away PostgreSQL's own objects",
                role.name,
                describe_grant(&grant.kind)
            ),
        });
    }
    Ok(())
}

/// An object's owner and ACL as the snapshot holds them.
struct CatalogEntry<'a> {
    owner: Option<&'a str>,
    acl: Option<&'a [AclEntry]>,
}

/// Takes away what no role pgsr manages ever has: SUPERUSER, CREATEDB,
/// CREATEROLE, REPLICATION and BYPASSRLS, where `actual` has them.
fn never_declared(actual: Option<&crate::snapshot::Role>) -> RoleOptions {
    let flag = |f: fn(&crate::snapshot::Role) -> bool| actual.is_some_and(f).then_some(false);
    RoleOptions {
        superuser: flag(|r| r.superuser),
        createdb: flag(|r| r.createdb),
        createrole: flag(|r| r.createrole),
        replication: flag(|r| r.replication),
        bypassrls: flag(|r| r.bypassrls),
        ..RoleOptions::default()
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

/// A grant as the desired file says it, for comments and messages.
pub(crate) fn describe_grant(kind: &GrantKind) -> String {
    let direct = |d: &bool| if *d { " (direct)" } else { "" };
    match kind {
        GrantKind::DatabaseConnect { database } => format!("database_connect {database}"),
        GrantKind::SchemaUsage { schema, direct: d } => {
            format!("schema_usage {schema}{}", direct(d))
        }
        GrantKind::SchemaCreate { schema, direct: d } => {
            format!("schema_create {schema}{}", direct(d))
        }
        GrantKind::SchemaOwnership { schema } => format!("schema_ownership {schema}"),
        GrantKind::TableSelect {
            schema,
            table: TableName::Exact(t),
            direct: d,
        } => {
            format!("table_select {schema}.{t}{}", direct(d))
        }
        GrantKind::TableSelect {
            schema,
            table: TableName::Regex(p),
            direct: d,
        } => {
            format!("table_select {schema} /{}/{}", p.source, direct(d))
        }
        GrantKind::TableOwnership { schema, table } => format!("table_ownership {schema}.{table}"),
        GrantKind::RoleMembership { role } => format!("role_membership {role}"),
    }
}
