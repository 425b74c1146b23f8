//! Resolving the desired file against the snapshot: every declared grant
//! becomes target facts (owners, schemas and roles to create, memberships,
//! direct privileges, privileges to hold through an intermediate role), or
//! a skip when its object is missing.

use super::context::Context;
use super::describe::describe_grant;
use super::object::ObjectRef;
use super::output::PlanError;
use crate::acl::Privilege;
use crate::desired::{DesiredRole, Grant, GrantKind, MembershipOptions, Objects, Privileges};
use crate::kind::ObjectKind;
use crate::snapshot::{DefaultObjectType, RelKind};
use std::collections::BTreeMap;

/// One default privilege: objects of `object_type` that `owner` creates
/// (in `schema`, or anywhere) get `privilege`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct DefaultKey {
    pub owner: String,
    pub schema: Option<String>,
    pub object_type: DefaultObjectType,
    pub privilege: Privilege,
}

/// A direct privilege as declared: why, and whether with grant option.
#[derive(Clone, Debug)]
pub(crate) struct Declared {
    pub reason: String,
    pub grant_option: bool,
}

/// A membership as declared: why, and with which options.
#[derive(Clone, Debug)]
pub(crate) struct Wanted {
    pub reason: String,
    pub options: MembershipOptions,
}

/// What the desired file asks for, resolved against the snapshot.
#[derive(Default)]
pub(crate) struct Target<'a> {
    /// Declared owner of each object, with the reason.
    pub owners: BTreeMap<ObjectRef, (&'a str, String)>,
    /// Schemas to create, with their owner.
    pub create_schemas: BTreeMap<String, &'a str>,
    /// Roles to create that are not managed (targets of role_membership).
    pub create_roles: BTreeMap<String, String>,
    /// Declared memberships: member -> role -> why and with which options.
    pub memberships: BTreeMap<&'a str, BTreeMap<String, Wanted>>,
    /// Declared direct privileges: grantee -> (object, privilege) -> how.
    pub privileges: BTreeMap<&'a str, BTreeMap<(ObjectRef, Privilege), Declared>>,
    /// Privileges to be held through an intermediate role: the roles that
    /// need each, with the grant that asks for it.
    pub needs: BTreeMap<(ObjectRef, Privilege), BTreeMap<&'a str, String>>,
    /// Declared default privileges: grantee -> what -> how.
    pub defaults: BTreeMap<&'a str, BTreeMap<DefaultKey, Declared>>,
    /// Declared grants skipped because their object is missing.
    pub skipped: Vec<String>,
}

impl<'a> Target<'a> {
    /// The owner of a schema this plan creates.
    pub fn actual_owner(&self, object: &ObjectRef) -> Option<&'a str> {
        match object {
            ObjectRef::Schema(n) => self.create_schemas.get(n).copied(),
            _ => None,
        }
    }

    fn schema_will_exist(&self, ctx: &Context, schema: &str) -> bool {
        ctx.ix.schemas.contains_key(schema) || self.create_schemas.contains_key(schema)
    }
}

/// Turns every declared grant into target facts.
pub(crate) fn resolve<'a>(ctx: &Context<'a>) -> Result<Target<'a>, PlanError> {
    let mut r = Resolver {
        ctx,
        t: Target::default(),
    };
    r.resolve_grants()?;
    Ok(r.t)
}

/// Objects with a lower oid were made by initdb (PostgreSQL's
/// `FirstNormalObjectId`).
const FIRST_NORMAL_OBJECT_ID: u32 = 16384;

/// What a grant or an ownership selects.
#[derive(Clone, Copy)]
struct Selection<'g> {
    on: ObjectKind,
    objects: &'g Objects,
    columns: &'g [String],
}

pub(super) struct Resolver<'c, 'a> {
    pub ctx: &'c Context<'a>,
    pub t: Target<'a>,
}

impl<'a> Resolver<'_, 'a> {
    fn skip(&mut self, role: &str, grant: &Grant, what: String) -> Result<(), PlanError> {
        let message = format!("{role}: {}: {what}", describe_grant(&grant.kind));
        if self.ctx.options.strict {
            return Err(PlanError {
                span: Some(grant.span),
                message: format!("{message} (--strict)"),
            });
        }
        self.t.skipped.push(message);
        Ok(())
    }

    /// Turns every declared grant into target facts.
    fn resolve_grants(&mut self) -> Result<(), PlanError> {
        let roles: Vec<&'a DesiredRole> = self
            .ctx
            .desired
            .roles
            .iter()
            .chain(self.ctx.desired.public.as_ref())
            .collect();
        for role in &roles {
            for grant in &role.grants {
                refuse_system_schema(role, grant)?;
            }
        }
        // Ownership first: a schema_ownership creates its schema, which
        // other grants (of any role) may then use, `ownership` among them.
        for creates in [true, false] {
            for role in &roles {
                for grant in &role.grants {
                    let general = matches!(grant.kind, GrantKind::Ownership { .. });
                    if general != creates {
                        self.resolve_ownership(role, grant)?;
                    }
                }
            }
        }
        for role in &roles {
            self.t.memberships.entry(role.name.as_str()).or_default();
            self.t.privileges.entry(role.name.as_str()).or_default();
            for grant in &role.grants {
                self.resolve_grant(role, grant)?;
            }
            self.resolve_members(role)?;
        }
        Ok(())
    }

    /// Declares `role` the owner of the objects an ownership selects.
    fn own(
        &mut self,
        role: &'a DesiredRole,
        grant: &Grant,
        on: &ObjectKind,
        objects: &Objects,
    ) -> Result<(), PlanError> {
        let selection = Selection {
            on: *on,
            objects,
            columns: &[],
        };
        let Some(objects) = self.select(role, grant, selection)? else {
            return Ok(());
        };
        for object in objects {
            // A sequence that belongs to a table column changes
            // owner with its table (PostgreSQL refuses it alone).
            if let ObjectRef::Relation {
                schema,
                name,
                kind: RelKind::Sequence,
            } = &object
            {
                let owned_by = self
                    .ctx
                    .ix
                    .relations
                    .get(&(schema.as_str(), name.as_str()))
                    .and_then(|r| r.owned_by.as_ref());
                if let Some(table) = owned_by {
                    self.skip(
                        &role.name,
                        grant,
                        format!(
                            "sequence {schema}.{name} belongs to table {}.{}: it changes owner with the table",
                            table.schema, table.name
                        ),
                    )?;
                    continue;
                }
            }
            // PostgreSQL's own objects (made by initdb) keep their owner.
            if self
                .ctx
                .ix
                .entry(&object)
                .and_then(|e| e.oid)
                .is_some_and(|oid| oid < FIRST_NORMAL_OBJECT_ID)
            {
                return Err(PlanError {
                    span: Some(grant.span),
                    message: format!(
                        "{}: {}: {} is PostgreSQL's own object (made by initdb): pgsr does not give it away",
                        role.name,
                        describe_grant(&grant.kind),
                        object.describe()
                    ),
                });
            }
            self.declare_owner(role, grant, object)?;
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
        if let Some((other, _)) = self.t.owners.get(&object) {
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
        self.t.owners.insert(object, (role.name.as_str(), reason));
        Ok(())
    }

    fn resolve_ownership(&mut self, role: &'a DesiredRole, grant: &Grant) -> Result<(), PlanError> {
        match &grant.kind {
            GrantKind::Ownership { on, objects } => self.own(role, grant, on, objects),
            GrantKind::SchemaOwnership { schema } => {
                if !self.ctx.ix.schemas.contains_key(schema.as_str()) {
                    if let Some(other) = self.t.create_schemas.get(schema) {
                        if *other != role.name {
                            return Err(PlanError {
                                span: Some(grant.span),
                                message: format!("schema {schema} is declared to be owned by both {other:?} and {:?}", role.name),
                            });
                        }
                    }
                    self.t
                        .create_schemas
                        .insert(schema.clone(), role.name.as_str());
                }
                self.declare_owner(role, grant, ObjectRef::Schema(schema.clone()))
            }
            // Sugar for `ownership` of one table-like.
            GrantKind::TableOwnership { schema, table } => {
                if !self.ctx.ix.schemas.contains_key(schema.as_str()) {
                    return self.skip(
                        &role.name,
                        grant,
                        format!("table {schema}.{table} does not exist"),
                    );
                }
                let objects = Objects::Named {
                    schema: Some(schema.clone()),
                    names: vec![table.clone()],
                };
                self.own(role, grant, &ObjectKind::Table, &objects)
            }
            _ => Ok(()),
        }
    }

    fn resolve_grant(&mut self, role: &'a DesiredRole, grant: &Grant) -> Result<(), PlanError> {
        let name = role.name.as_str();
        let reason = describe_grant(&grant.kind);
        match &grant.kind {
            GrantKind::SchemaOwnership { .. }
            | GrantKind::TableOwnership { .. }
            | GrantKind::Ownership { .. } => {}
            GrantKind::DatabaseConnect { .. }
            | GrantKind::SchemaUsage { .. }
            | GrantKind::SchemaCreate { .. }
            | GrantKind::TableSelect { .. }
            | GrantKind::Privileges(_) => {
                let sugar = grant.kind.as_privileges();
                let g = match &grant.kind {
                    GrantKind::Privileges(g) => g,
                    _ => sugar.as_ref().expect("pg-sync-roles' kinds are sugar"),
                };
                let selection = Selection {
                    on: g.on,
                    objects: &g.objects,
                    columns: &g.columns,
                };
                let objects = match self.select(role, grant, selection)? {
                    Some(objects) => objects,
                    None => return Ok(()),
                };
                let privileges = self.privileges_on(&g.privileges, g.on, name, grant, &reason)?;
                for object in objects {
                    for &privilege in &privileges {
                        self.declare(
                            object.clone(),
                            privilege,
                            name,
                            g.direct,
                            reason.clone(),
                            g.with_grant_option,
                        );
                    }
                }
            }
            GrantKind::DefaultPrivileges(d) => {
                let owner = d.owner.as_str();
                // A missing role_membership target is created by the plan
                // (but under --strict, which refuses it).
                let created = !self.ctx.options.strict
                    && self.ctx.desired.roles.iter().flat_map(|r| &r.grants).any(
                        |g| matches!(&g.kind, GrantKind::RoleMembership { role, .. } if role == owner),
                    );
                if !self.ctx.ix.role_exists(owner)
                    && !self.ctx.managed.contains_key(owner)
                    && !created
                {
                    return self.skip(name, grant, format!("role {owner} does not exist"));
                }
                if let Some(schema) = &d.schema {
                    if !self.t.schema_will_exist(self.ctx, schema) {
                        return self.skip(name, grant, format!("schema {schema} does not exist"));
                    }
                }
                let v = self.ctx.ix.snapshot.server_version_num;
                let Some(object_type) = d.on.def().default_privileges else {
                    unreachable!("the parser accepts only kinds with default privileges")
                };
                if object_type == DefaultObjectType::LargeObjects && v < 180000 {
                    return Err(PlanError {
                        span: Some(grant.span),
                        message: format!(
                            "{name}: {reason}: default privileges on large objects exist from PostgreSQL 18"
                        ),
                    });
                }
                let privileges = self.privileges_on(&d.privileges, d.on, name, grant, &reason)?;
                if owner == name {
                    // A role's own objects give it every privilege.
                    return Ok(());
                }
                for privilege in privileges {
                    let key = DefaultKey {
                        owner: owner.to_owned(),
                        schema: d.schema.clone(),
                        object_type,
                        privilege,
                    };
                    let declared = self
                        .t
                        .defaults
                        .entry(name)
                        .or_default()
                        .entry(key)
                        .or_insert(Declared {
                            reason: reason.clone(),
                            grant_option: false,
                        });
                    declared.grant_option |= d.with_grant_option;
                }
            }
            GrantKind::RoleMembership {
                role: target,
                options,
            } => {
                self.check_options(name, grant, options)?;
                if !self.ctx.ix.role_exists(target)
                    && !self.ctx.managed.contains_key(target.as_str())
                {
                    if self.ctx.options.strict {
                        let hint = self
                            .ctx
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
                    self.t
                        .create_roles
                        .entry(target.clone())
                        .or_insert_with(|| format!("{name}: {reason}: role does not exist"));
                }
                self.t.memberships.entry(name).or_default().insert(
                    target.clone(),
                    Wanted {
                        reason,
                        options: *options,
                    },
                );
            }
        }
        Ok(())
    }

    /// The objects a general grant selects; `None` when it is skipped (a
    /// named object or the schema is missing).
    fn select(
        &mut self,
        role: &'a DesiredRole,
        grant: &Grant,
        g: Selection,
    ) -> Result<Option<Vec<ObjectRef>>, PlanError> {
        let ix = &self.ctx.ix;
        let c = &ix.snapshot.catalog;
        let schema = g.objects.schema();
        let since = g.on.def().since;
        if ix.snapshot.server_version_num < since {
            return Err(PlanError {
                span: Some(grant.span),
                message: format!(
                    "{}: {}: privileges on a {} exist from PostgreSQL {}",
                    role.name,
                    describe_grant(&grant.kind),
                    g.on.word(),
                    since / 10000
                ),
            });
        }
        // Objects in a schema are looked for in one that exists: one this
        // plan creates holds none.
        if let Some(schema) = schema {
            if !ix.schemas.contains_key(schema) {
                self.skip(&role.name, grant, format!("schema {schema} does not exist"))?;
                return Ok(None);
            }
        }
        // Relations named: looked up by name, not found among every
        // relation of the schema.
        if let (
            Objects::Named { names, .. },
            ObjectKind::Table | ObjectKind::Column | ObjectKind::Sequence,
            Some(schema),
        ) = (g.objects, g.on, schema)
        {
            let sequence = g.on == ObjectKind::Sequence;
            let mut every: Vec<(String, ObjectRef)> = Vec::new();
            for name in names {
                match ix.relations.get(&(schema, name.as_str())) {
                    Some(r) if r.kind.is_table_like() != sequence => {
                        let object = ObjectRef::Relation {
                            schema: r.schema.clone(),
                            name: r.name.clone(),
                            kind: r.kind,
                        };
                        every.push((r.name.clone(), object));
                    }
                    Some(_) => {
                        let (is, not) = if sequence {
                            ("a table-like", "a sequence")
                        } else {
                            ("a sequence", "a table-like")
                        };
                        self.skip(
                            &role.name,
                            grant,
                            format!("{schema}.{name} is {is}, not {not}"),
                        )?;
                    }
                    None => {
                        let word = if sequence { "sequence" } else { "table" };
                        self.skip(
                            &role.name,
                            grant,
                            format!("{word} {schema}.{name} does not exist"),
                        )?;
                    }
                }
            }
            // What was found is what was named.
            let found = Objects::All {
                schema: None,
                except: Vec::new(),
            };
            let g = Selection {
                objects: &found,
                ..g
            };
            return self.pick(role, grant, g, Some(schema), every);
        }
        let in_schema = |s: &str| schema.is_none_or(|want| want == s);
        // Every object of the kind (in the schema): (name, object).
        let every: Vec<(String, ObjectRef)> = match g.on {
            ObjectKind::Database => c
                .databases
                .iter()
                .map(|d| (d.name.clone(), ObjectRef::Database(d.name.clone())))
                .collect(),
            ObjectKind::Schema => {
                let mut names: Vec<&str> = c.schemas.iter().map(|s| s.name.as_str()).collect();
                names.extend(self.t.create_schemas.keys().map(String::as_str));
                names.sort_unstable();
                names.dedup();
                names
                    .into_iter()
                    // Every schema: PostgreSQL's own are never among them.
                    .filter(|n| {
                        matches!(g.objects, Objects::Named { .. })
                            || !crate::power::is_system_schema(n)
                    })
                    .map(|n| (n.to_owned(), ObjectRef::Schema(n.to_owned())))
                    .collect()
            }
            ObjectKind::Table | ObjectKind::Column | ObjectKind::Sequence => {
                let sequence = g.on == ObjectKind::Sequence;
                schema
                    .and_then(|s| ix.relations_by_schema.get(s))
                    .into_iter()
                    .flatten()
                    .filter(|r| r.kind.is_table_like() != sequence)
                    .map(|r| {
                        let object = ObjectRef::Relation {
                            schema: r.schema.clone(),
                            name: r.name.clone(),
                            kind: r.kind,
                        };
                        (r.name.clone(), object)
                    })
                    .collect()
            }
            ObjectKind::Routine => c
                .routines
                .iter()
                .filter(|f| in_schema(&f.schema))
                .map(|f| {
                    let object = ObjectRef::Routine {
                        schema: f.schema.clone(),
                        name: f.name.clone(),
                        arguments: f.arguments.clone(),
                        kind: f.kind,
                    };
                    (f.name.clone(), object)
                })
                .collect(),
            ObjectKind::Type => c
                .types
                .iter()
                .filter(|t| in_schema(&t.schema))
                .map(|t| {
                    let object = ObjectRef::Type {
                        schema: t.schema.clone(),
                        name: t.name.clone(),
                        domain: t.kind == crate::snapshot::TypeKind::Domain,
                    };
                    (t.name.clone(), object)
                })
                .collect(),
            ObjectKind::Language => c
                .languages
                .iter()
                .map(|o| (o.name.clone(), ObjectRef::Language(o.name.clone())))
                .collect(),
            ObjectKind::ForeignDataWrapper => c
                .foreign_data_wrappers
                .iter()
                .map(|o| {
                    (
                        o.name.clone(),
                        ObjectRef::ForeignDataWrapper(o.name.clone()),
                    )
                })
                .collect(),
            ObjectKind::ForeignServer => c
                .foreign_servers
                .iter()
                .map(|o| (o.name.clone(), ObjectRef::ForeignServer(o.name.clone())))
                .collect(),
            ObjectKind::LargeObject => c
                .large_objects
                .iter()
                .map(|o| (o.oid.to_string(), ObjectRef::LargeObject(o.oid)))
                .collect(),
            ObjectKind::Tablespace => c
                .tablespaces
                .iter()
                .map(|o| (o.name.clone(), ObjectRef::Tablespace(o.name.clone())))
                .collect(),
            // A parameter is in pg_parameter_acl only once it has
            // privileges: every name is one (the server checks it).
            ObjectKind::Parameter => match g.objects {
                Objects::Named { names, .. } => names
                    .iter()
                    .map(|n| (n.clone(), ObjectRef::Parameter(n.clone())))
                    .collect(),
                _ => Vec::new(),
            },
        };
        self.pick(role, grant, g, schema, every)
    }

    /// Of `every` object of the kind (name, object), those the selection
    /// picks; a named one that is missing is skipped.
    fn pick(
        &mut self,
        role: &'a DesiredRole,
        grant: &Grant,
        g: Selection,
        schema: Option<&str>,
        mut every: Vec<(String, ObjectRef)>,
    ) -> Result<Option<Vec<ObjectRef>>, PlanError> {
        let ix = &self.ctx.ix;
        let mut selected: Vec<ObjectRef> = Vec::new();
        match &g.objects {
            Objects::Named { names, .. } => {
                for wanted in names {
                    let (name, arguments) = match wanted.split_once('(') {
                        Some((n, args)) if g.on == ObjectKind::Routine => {
                            (n.trim(), Some(normalize_arguments(&args[..args.len() - 1])))
                        }
                        _ => (wanted.as_str(), None),
                    };
                    let found: Vec<&ObjectRef> = every
                        .iter()
                        .filter(|(n, o)| {
                            n == name
                                && match (o, &arguments) {
                                    (ObjectRef::Routine { arguments: a, .. }, Some(want)) => {
                                        routine_arguments_match(a, want)
                                    }
                                    _ => true,
                                }
                        })
                        .map(|(_, o)| o)
                        .collect();
                    if found.is_empty() {
                        let what = match schema {
                            Some(s) => format!("{} {s}.{wanted} does not exist", g.on.word()),
                            None => format!("{} {wanted} does not exist", g.on.word()),
                        };
                        self.skip(&role.name, grant, what)?;
                        continue;
                    }
                    selected.extend(found.into_iter().cloned());
                }
            }
            Objects::Current => {
                let current = &ix.snapshot.database.name;
                selected.extend(
                    every
                        .into_iter()
                        .filter(|(n, _)| n == current)
                        .map(|(_, o)| o),
                );
            }
            Objects::Regex { pattern, .. } => {
                every.retain(|(n, _)| pattern.matches(n));
                selected.extend(every.into_iter().map(|(_, o)| o));
            }
            Objects::All { except, .. } => {
                every.retain(|(n, _)| !except.contains(n));
                selected.extend(every.into_iter().map(|(_, o)| o));
            }
        }
        if g.on == ObjectKind::Column {
            selected = selected
                .into_iter()
                .flat_map(|table| {
                    let ObjectRef::Relation { schema, name, .. } = table else {
                        unreachable!("columns are selected through their tables")
                    };
                    g.columns
                        .iter()
                        .map(|column| ObjectRef::Column {
                            schema: schema.clone(),
                            table: name.clone(),
                            column: column.clone(),
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
        }
        selected.sort();
        selected.dedup();
        Ok(Some(selected))
    }

    /// The privileges a grant names on the server planned for; one that
    /// the server's version lacks (MAINTAIN before 17) is an error.
    fn privileges_on(
        &self,
        privileges: &Privileges,
        on: ObjectKind,
        name: &str,
        grant: &Grant,
        reason: &str,
    ) -> Result<Vec<Privilege>, PlanError> {
        let v = self.ctx.ix.snapshot.server_version_num;
        let privileges = privileges.expand(on, v);
        match privileges.iter().find(|p| !on.privileges(v).contains(p)) {
            Some(p) => Err(PlanError {
                span: Some(grant.span),
                message: format!(
                    "{name}: {reason}: {p} is not a privilege of a {} on PostgreSQL {}",
                    on.word(),
                    v / 10000
                ),
            }),
            None => Ok(privileges),
        }
    }

    fn declare(
        &mut self,
        object: ObjectRef,
        privilege: Privilege,
        role: &'a str,
        direct: bool,
        reason: String,
        grant_option: bool,
    ) {
        if direct {
            let declared = self
                .t
                .privileges
                .entry(role)
                .or_default()
                .entry((object, privilege))
                .or_insert(Declared {
                    reason,
                    grant_option: false,
                });
            declared.grant_option |= grant_option;
        } else {
            self.need(object, privilege, role, reason);
        }
    }

    fn need(&mut self, object: ObjectRef, privilege: Privilege, role: &'a str, reason: String) {
        self.t
            .needs
            .entry((object, privilege))
            .or_default()
            .entry(role)
            .or_insert(reason);
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
        GrantKind::Ownership { objects, .. } => match objects.schema() {
            Some(schema) => schema,
            None => match objects {
                Objects::Named { names, .. } => {
                    match names.iter().find(|n| crate::power::is_system_schema(n)) {
                        Some(schema) => schema,
                        None => return Ok(()),
                    }
                }
                _ => return Ok(()),
            },
        },
        GrantKind::DefaultPrivileges(d) => match &d.schema {
            Some(schema) => schema,
            None => return Ok(()),
        },
        GrantKind::Privileges(g) => match (&g.objects, g.objects.schema()) {
            (_, Some(schema)) => schema,
            // USAGE on a system schema, which PUBLIC has, may be declared.
            (Objects::Named { names, .. }, None) if g.on == ObjectKind::Schema => {
                let usage_only = matches!(
                    &g.privileges,
                    Privileges::Listed(l) if l.iter().all(|p| *p == Privilege::Usage)
                );
                match names.iter().find(|n| crate::power::is_system_schema(n)) {
                    Some(schema) if !usage_only => schema,
                    _ => return Ok(()),
                }
            }
            _ => return Ok(()),
        },
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

/// Argument types as written in a desired file or by PostgreSQL, compared
/// without regard to spacing or case.
fn normalize_arguments(text: &str) -> String {
    text.split(',')
        .map(|a| {
            a.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a routine's identity arguments (`pg_get_function_identity_arguments`:
/// each `[mode] [name] type`) are the declared argument types: equal, or
/// equal once a leading argument name is left out of each.
fn routine_arguments_match(identity: &str, wanted: &str) -> bool {
    let identity = normalize_arguments(identity);
    if identity == wanted {
        return true;
    }
    let have: Vec<&str> = if identity.is_empty() {
        Vec::new()
    } else {
        identity.split(", ").collect()
    };
    let want: Vec<&str> = if wanted.is_empty() {
        Vec::new()
    } else {
        wanted.split(", ").collect()
    };
    have.len() == want.len()
        && have.iter().zip(&want).all(|(h, w)| {
            let h = h
                .strip_prefix("variadic ")
                .or_else(|| h.strip_prefix("inout "))
                .or_else(|| h.strip_prefix("in "))
                .unwrap_or(h);
            let w = w.strip_prefix("variadic ").unwrap_or(w);
            h == w || h.split_once(' ').is_some_and(|(_, t)| t == w)
        })
}
