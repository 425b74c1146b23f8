//! The planner's state: what each managed role should hold, and the steps
//! found so far.

use super::action::{Action, RoleOptions, Step};
use super::actual::Actual;
use super::index::Index;
use super::intermediate::{self, Need};
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
    /// Intermediate roles this plan relies on (kept by --drop-unused).
    pub used_intermediates: BTreeSet<String>,
    /// The intermediate role chosen for each needed privilege.
    pub chosen: BTreeMap<(ObjectRef, Privilege), String>,
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
            used_intermediates: BTreeSet::new(),
            chosen: BTreeMap::new(),
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
        let need = self
            .needs
            .entry((object.clone(), privilege))
            .or_insert_with(|| Need::new(&object, privilege));
        need.members.entry(role).or_insert(reason);
    }

    /// Chooses (or creates) the intermediate role of each needed privilege
    /// and declares the memberships in it.
    pub fn resolve_intermediates(&mut self) {
        intermediate::resolve(self);
    }

    /// The owner an object has once the plan has run.
    pub fn final_owner(&self, object: &ObjectRef) -> Option<&str> {
        if let Some((role, _)) = self.owners.get(object) {
            return Some(role);
        }
        // A sequence owned by a table column changes owner with its table.
        if let ObjectRef::Relation {
            schema,
            name,
            kind: RelKind::Sequence,
        } = object
        {
            if let Some(table) = self
                .ix
                .relations
                .get(&(schema.as_str(), name.as_str()))
                .and_then(|r| r.owned_by.as_ref())
            {
                if let Some(rel) = self
                    .ix
                    .relations
                    .get(&(table.schema.as_str(), table.name.as_str()))
                {
                    let table = ObjectRef::Relation {
                        schema: rel.schema.clone(),
                        name: rel.name.clone(),
                        kind: rel.kind,
                    };
                    return self.final_owner(&table);
                }
            }
        }
        let actual = self.actual_owner(object)?;
        match self.managed.get(actual) {
            Some(role) if !preserved(role, object) => Some(self.conn),
            _ => Some(actual),
        }
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
        self.plan_ownership(actual);
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

    fn plan_ownership(&mut self, actual: &Actual<'a>) {
        for (object, (role, reason)) in self.owners.clone() {
            if let ObjectRef::Schema(s) = &object {
                if self.create_schemas.contains_key(s) {
                    continue;
                }
            }
            if self.actual_owner(&object) != Some(role) {
                self.push(
                    Action::AlterOwner {
                        object,
                        owner: role.to_owned(),
                    },
                    reason,
                );
            }
        }
        for (role, owned) in &actual.owned {
            for object in owned {
                if !self.owners.contains_key(object) {
                    let reason = format!(
                        "{role}: ownership of {} not declared; it goes to {}",
                        object.describe(),
                        self.conn
                    );
                    self.push(
                        Action::AlterOwner {
                            object: object.clone(),
                            owner: self.conn.to_owned(),
                        },
                        reason,
                    );
                }
            }
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
                let revocable = self.revocable_grantors(object);
                let declared = wanted.contains_key(&(object.clone(), *privilege));
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
                    let dependents = self.dependents(object, *privilege, role);
                    let cascade = !dependents.is_empty();
                    cascaded.extend(dependents);
                    let reason = if declared {
                        format!("{role}: grant option on {} not declared", object.describe())
                    } else {
                        format!("{role}: not declared")
                    };
                    self.push(
                        Action::Revoke {
                            object: object.clone(),
                            privilege: *privilege,
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
        }
        for &role in &roles {
            let held = actual.held.get(role).unwrap_or(&empty);
            let wanted = self.privileges.get(role).cloned().unwrap_or_default();
            for ((object, privilege), reason) in wanted {
                if self.final_owner(&object) == Some(role) {
                    continue;
                }
                let kept = held.contains_key(&(object.clone(), privilege))
                    && !cascaded.contains(&(object.clone(), privilege, role.to_owned()));
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
        for ((object, privilege), role) in self.chosen.clone() {
            if cascaded.contains(&(object.clone(), privilege, role.clone())) {
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
            if pg16 || !self.steps.iter().any(|s| s.action == action) {
                self.push(
                    action,
                    format!("{member}: membership of {role} not declared"),
                );
            }
        }
    }

    fn plan_attributes(&mut self) -> Result<(), PlanError> {
        let roles: Vec<&'a DesiredRole> = self.managed.values().copied().collect();
        let mut set_password = Vec::new();
        for role in roles {
            let actual = self.ix.roles.get(role.name.as_str());
            let mut o = RoleOptions::default();
            let flag = |f: fn(&crate::snapshot::Role) -> bool| {
                actual.is_some_and(|r| f(r)).then_some(false)
            };
            o.superuser = flag(|r| r.superuser);
            o.createdb = flag(|r| r.createdb);
            o.createrole = flag(|r| r.createrole);
            o.replication = flag(|r| r.replication);
            o.bypassrls = flag(|r| r.bypassrls);
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
        Ok(())
    }

    /// Drops intermediate roles of this database (and global ones) that hold
    /// no privilege anywhere in the snapshot and that this plan does not use.
    pub fn drop_unused(&mut self) {
        let local = format!(
            "{}{}_",
            intermediate::LOCAL_PREFIX,
            self.ix.snapshot.database.oid
        );
        // ACL entries per grantee, less those a planned CASCADE takes away.
        let mut in_use: HashMap<&str, usize> = HashMap::new();
        let c = &self.ix.snapshot.catalog;
        crate::snapshot::for_each_acl(c, |acl| {
            for e in acl {
                *in_use.entry(e.grantee.as_str()).or_default() += 1;
            }
        });
        for (_, _, grantee) in &self.cascaded {
            if let Some(n) = in_use.get_mut(grantee.as_str()) {
                *n = n.saturating_sub(1);
            }
        }
        in_use.retain(|_, n| *n > 0);
        let candidates: Vec<String> = c
            .roles
            .iter()
            .map(|r| r.name.as_str())
            .filter(|n| n.starts_with(intermediate::GLOBAL_CONNECT_PREFIX) || n.starts_with(&local))
            .filter(|n| !in_use.contains_key(n) && !self.used_intermediates.contains(*n))
            .map(str::to_owned)
            .collect();
        for role in candidates {
            self.push(
                Action::DropRole { role },
                "intermediate role holds no privilege (--drop-unused)",
            );
        }
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
            self.push(
                Action::TemporaryRevoke { role: role.clone() },
                "end of temporary grants",
            );
        }
    }

    /// Whether `role` holds CREATE on a schema or database directly (or owns
    /// it) in the snapshot.
    fn holds_create(&self, container: &ObjectRef, role: &str) -> bool {
        if self.actual_owner(container) == Some(role) {
            return true;
        }
        self.object_acl(container)
            .unwrap_or_default()
            .iter()
            .any(|e| e.grantee == role && e.privilege == Privilege::Create)
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
