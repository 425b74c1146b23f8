//! What managed roles and intermediate roles actually hold: one pass over
//! every ACL and owner in the snapshot, keeping only what concerns them.

use super::context::{preserved, Context};
use super::intermediate::is_intermediate;
use super::object::ObjectRef;
use crate::acl::{default_acl, AclEntry, Privilege, PUBLIC};
use crate::desired::DesiredRole;
use crate::power::is_system_schema;
use crate::snapshot::{DefaultObjectType, RelKind};
use std::collections::{BTreeMap, BTreeSet};

/// A privilege a managed or intermediate role holds on an object it does
/// not own: every grant of it, by grantor. Who may revoke which grant is
/// decided later, when the object's owner after the plan is known.
#[derive(Debug, Default)]
pub(crate) struct Held {
    /// (grantor, WITH GRANT OPTION).
    pub grants: Vec<(String, bool)>,
}

/// A default privilege (pg_default_acl) naming a managed or intermediate
/// role as grantee.
pub(crate) struct HeldDefault<'a> {
    pub owner: &'a str,
    pub schema: Option<&'a str>,
    pub object_type: DefaultObjectType,
    pub privilege: Privilege,
    pub grantee: &'a str,
    pub grantable: bool,
    /// In one of the grantee's preserved schemas: left as it is.
    pub preserved: bool,
}

pub(crate) struct Actual<'a> {
    /// By role: managed roles and intermediate roles.
    pub held: BTreeMap<&'a str, BTreeMap<(ObjectRef, Privilege), Held>>,
    /// Objects each intermediate role owns, and the schemas and table-likes
    /// each managed role owns (outside its preserved schemas): the
    /// ownership pgsr manages.
    pub owned: BTreeMap<&'a str, BTreeSet<ObjectRef>>,
    pub defaults: Vec<HeldDefault<'a>>,
    /// What PUBLIC holds where the file does not manage its privileges
    /// (other databases, tablespaces, parameters, system schemas), when it
    /// has a public section: a declared grant there is made once, and
    /// nothing there is revoked.
    pub public_elsewhere: BTreeSet<(ObjectRef, Privilege)>,
}

pub(crate) fn collect<'a>(ctx: &Context<'a>) -> Actual<'a> {
    let mut s = Scanner {
        managed: &ctx.managed,
        public: ctx.public,
        database: &ctx.ix.snapshot.database.name,
        version: ctx.ix.snapshot.server_version_num,
        actual: Actual {
            held: BTreeMap::new(),
            owned: BTreeMap::new(),
            defaults: Vec::new(),
            public_elsewhere: BTreeSet::new(),
        },
    };
    let c = &ctx.ix.snapshot.catalog;
    for d in &c.databases {
        s.visit(
            || ObjectRef::Database(d.name.clone()),
            Some(&d.owner),
            d.acl.as_deref(),
        );
    }
    for t in &c.tablespaces {
        s.visit(
            || ObjectRef::Tablespace(t.name.clone()),
            Some(&t.owner),
            t.acl.as_deref(),
        );
    }
    for param in &c.parameters {
        s.visit(
            || ObjectRef::Parameter(param.name.clone()),
            None,
            param.acl.as_deref(),
        );
    }
    for n in &c.schemas {
        s.visit(
            || ObjectRef::Schema(n.name.clone()),
            Some(&n.owner),
            n.acl.as_deref(),
        );
    }
    for r in &c.relations {
        let object = || ObjectRef::Relation {
            schema: r.schema.clone(),
            name: r.name.clone(),
            kind: r.kind,
        };
        if r.kind == RelKind::Sequence && r.owned_by.is_some() {
            // A sequence owned by a table column changes owner with its table.
            s.visit_acl(object, &r.owner, r.acl.as_deref());
        } else {
            s.visit(object, Some(&r.owner), r.acl.as_deref());
        }
        for col in &r.columns {
            let object = || ObjectRef::Column {
                schema: r.schema.clone(),
                table: r.name.clone(),
                column: col.name.clone(),
            };
            s.visit_acl(object, &r.owner, Some(&col.acl));
        }
    }
    for f in &c.routines {
        let object = || ObjectRef::Routine {
            schema: f.schema.clone(),
            name: f.name.clone(),
            arguments: f.arguments.clone(),
            kind: f.kind,
        };
        s.visit(object, Some(&f.owner), f.acl.as_deref());
    }
    for t in &c.types {
        let object = || ObjectRef::Type {
            schema: t.schema.clone(),
            name: t.name.clone(),
            domain: t.kind == crate::snapshot::TypeKind::Domain,
        };
        s.visit(object, Some(&t.owner), t.acl.as_deref());
    }
    for l in &c.languages {
        s.visit(
            || ObjectRef::Language(l.name.clone()),
            Some(&l.owner),
            l.acl.as_deref(),
        );
    }
    for lo in &c.large_objects {
        s.visit(
            || ObjectRef::LargeObject(lo.oid),
            Some(&lo.owner),
            lo.acl.as_deref(),
        );
    }
    for w in &c.foreign_data_wrappers {
        s.visit(
            || ObjectRef::ForeignDataWrapper(w.name.clone()),
            Some(&w.owner),
            w.acl.as_deref(),
        );
    }
    for v in &c.foreign_servers {
        s.visit(
            || ObjectRef::ForeignServer(v.name.clone()),
            Some(&v.owner),
            v.acl.as_deref(),
        );
    }
    for d in &c.default_privileges {
        for e in &d.acl {
            let Some(role) = s.tracked(&e.grantee) else {
                continue;
            };
            // The defaults' owner's own entry describes its objects, not a grant.
            if e.grantee == d.role {
                continue;
            }
            // In a preserved schema: held, and never revoked.
            let preserved = d.schema.as_ref().is_some_and(|schema| {
                role.is_some_and(|r| r.preserve_existing_grants_in_schemas.contains(schema))
            });
            s.actual.defaults.push(HeldDefault {
                preserved,
                owner: &d.role,
                schema: d.schema.as_deref(),
                object_type: d.object_type,
                privilege: e.privilege,
                grantee: &e.grantee,
                grantable: e.grantable,
            });
        }
    }
    s.actual
}

struct Scanner<'m, 'a> {
    managed: &'m BTreeMap<&'a str, &'a DesiredRole>,
    /// PUBLIC, when the file declares what it holds: its privileges in the
    /// database planned for are recorded too, the built-in ones of a NULL
    /// ACL included.
    public: Option<&'a DesiredRole>,
    database: &'m str,
    version: u32,
    actual: Actual<'a>,
}

impl<'a> Scanner<'_, 'a> {
    /// Whether what `role` holds is recorded: `Some` with its declaration
    /// for a managed role, `Some(None)` for an intermediate role.
    fn tracked(&self, role: &str) -> Option<Option<&'a DesiredRole>> {
        match self.managed.get(role) {
            Some(r) => Some(Some(r)),
            None if role == PUBLIC => self.public.map(Some),
            None => is_intermediate(role).then_some(None),
        }
    }

    /// Whether PUBLIC's privileges on `object` are managed: those in the
    /// database planned for, but on PostgreSQL's own schemas and what is in
    /// them (other databases, tablespaces and parameters are the cluster's).
    fn public_scope(&self, object: &ObjectRef) -> bool {
        match object {
            ObjectRef::Database(n) => n == self.database,
            ObjectRef::Tablespace(_) | ObjectRef::Parameter(_) => false,
            ObjectRef::Schema(n) => !is_system_schema(n),
            other => other.schema().is_none_or(|s| !is_system_schema(s)),
        }
    }

    /// Records ownership by a managed or intermediate role, then the
    /// object's ACL.
    fn visit(
        &mut self,
        object: impl Fn() -> ObjectRef,
        owner: Option<&'a str>,
        acl: Option<&'a [AclEntry]>,
    ) {
        if let Some(owner) = owner {
            if let Some(role) = self.tracked(owner) {
                let o = object();
                // An intermediate role owns nothing; a managed role's
                // ownership is managed for schemas and table-likes only.
                let tracked = match role {
                    None => true,
                    Some(r) => o.ownership_managed() && !preserved(r, &o),
                };
                if tracked {
                    self.actual.owned.entry(owner).or_default().insert(o);
                }
            }
            self.visit_acl(object, owner, acl);
        } else {
            self.visit_acl(object, "", acl);
        }
    }

    /// Records the privileges managed and intermediate roles hold in `acl`.
    /// A NULL ACL grants nothing to anyone but the owner and PUBLIC, so it
    /// is skipped.
    fn visit_acl(
        &mut self,
        object: impl Fn() -> ObjectRef,
        owner: &str,
        acl: Option<&'a [AclEntry]>,
    ) {
        let mut built: Option<ObjectRef> = None;
        let Some(acl) = acl else {
            // A NULL ACL gives PUBLIC PostgreSQL's built-in privileges.
            if self.public.is_none() {
                return;
            }
            let o = object();
            let defaults = default_acl(o.acl_object_type(), Some(owner), self.version);
            if !self.public_scope(&o) {
                for e in defaults.iter().filter(|e| e.is_public()) {
                    self.actual
                        .public_elsewhere
                        .insert((o.clone(), e.privilege));
                }
                return;
            }
            for e in defaults.iter().filter(|e| e.is_public()) {
                let held = self
                    .actual
                    .held
                    .entry(PUBLIC)
                    .or_default()
                    .entry((o.clone(), e.privilege))
                    .or_default();
                held.grants.push((e.grantor.clone(), e.grantable));
            }
            return;
        };
        for e in acl {
            let grantee = e.grantee.as_str();
            if self.tracked(grantee).is_none() {
                continue;
            }
            if grantee == PUBLIC && !self.public_scope(built.get_or_insert_with(&object)) {
                let o = built.get_or_insert_with(&object).clone();
                self.actual.public_elsewhere.insert((o, e.privilege));
                continue;
            }
            // The owner's own entries come with ownership.
            if grantee == owner {
                continue;
            }
            let o = built.get_or_insert_with(&object);
            let held = self
                .actual
                .held
                .entry(grantee)
                .or_default()
                .entry((o.clone(), e.privilege))
                .or_default();
            held.grants.push((e.grantor.clone(), e.grantable));
        }
    }
}
