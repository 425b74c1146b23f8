//! The planner's state: what each managed role should hold, and the steps
//! found so far.

use super::action::{Action, Step};
use super::actual::Actual;
use super::index::Index;
use super::intermediate::{self, Kind, Need};
use super::object::ObjectRef;
use super::{Plan, PlanError, PlanOptions};
use crate::acl::{AclEntry, Privilege};
use crate::desired::{Desired, DesiredRole, Grant, GrantKind, TableName};
use crate::snapshot::{RelKind, Snapshot};
use std::collections::{BTreeMap, HashMap, HashSet};

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
