//! Effective access: whether a role holds a privilege on an object, and
//! the path that gives it, decided as PostgreSQL's `has_*_privilege`
//! functions decide it.

use super::reach::Graph;
use crate::acl::{effective_acl, AclEntry, AclObjectType, Privilege, PUBLIC};
use crate::plan::ObjectRef;
use crate::snapshot::{RelKind, Snapshot};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// How a role holds a privilege.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum How {
    /// The role is a superuser: every privilege, whatever the ACLs say.
    Superuser,
    /// An ACL entry for `grantee` (the role itself, a role it has the
    /// privileges of, or PUBLIC); `owner` when the grantee owns the
    /// object (an owner's privileges are entries like any other).
    Entry {
        grantee: String,
        owner: bool,
        grant_option: bool,
    },
    /// A predefined role that grants it on every object of the kind
    /// (`pg_read_all_data`, `pg_write_all_data`, `pg_maintain`).
    Predefined { role: String },
}

/// How a role holds a privilege, and through which roles.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Path {
    pub how: How,
    /// The chain of roles from the role to the one that holds it, the role
    /// itself left out: empty when the role holds it itself.
    pub via: Vec<String>,
    /// For a column: held on the whole table.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub on_table: bool,
}

impl Path {
    /// The path in words: "directly", "as owner", "through PUBLIC",
    /// "through a → b", "as superuser", "through pg_read_all_data".
    pub fn describe(&self) -> String {
        let via = if self.via.is_empty() {
            String::new()
        } else {
            format!(" via {}", self.via.join(" → "))
        };
        let what = match &self.how {
            How::Superuser => return "as superuser".to_owned(),
            How::Entry { grantee, .. } if grantee == PUBLIC => "through PUBLIC".to_owned(),
            How::Entry { owner: true, .. } if self.via.is_empty() => "as owner".to_owned(),
            How::Entry { owner: true, .. } => format!("as owner{via}"),
            How::Entry { .. } if self.via.is_empty() => "directly".to_owned(),
            How::Entry { .. } => format!("through{}", via.trim_start_matches(" via")),
            How::Predefined { role } if self.via.len() <= 1 => format!("through {role}"),
            How::Predefined { .. } => format!("through{}", via.trim_start_matches(" via")),
        };
        if self.on_table {
            format!("{what} (on the table)")
        } else {
            what
        }
    }
}

/// An object with the entries in force on it.
pub(crate) struct Guarded {
    pub object: ObjectRef,
    /// The object's oid (a column's is its table's).
    pub oid: Option<u32>,
    pub owner: Option<String>,
    pub entries: Vec<AclEntry>,
    /// A table or sequence of PostgreSQL's own catalog schema: only a
    /// superuser changes it.
    pub system_table: bool,
}

/// Every object of the snapshot that privileges apply to, with the entries
/// in force (the built-in defaults where the ACL is NULL).
pub(crate) fn guarded(snapshot: &Snapshot) -> Vec<Guarded> {
    let v = snapshot.server_version_num;
    let c = &snapshot.catalog;
    let mut out = Vec::new();
    let entry =
        |object: ObjectRef, oid: u32, owner: Option<&str>, acl: Option<&[AclEntry]>, t| Guarded {
            oid: Some(oid),
            entries: effective_acl(acl, t, owner, v),
            owner: owner.map(str::to_owned),
            system_table: false,
            object,
        };
    for d in &c.databases {
        out.push(entry(
            ObjectRef::Database(d.name.clone()),
            d.oid,
            Some(&d.owner),
            d.acl.as_deref(),
            AclObjectType::Database,
        ));
    }
    for t in &c.tablespaces {
        out.push(entry(
            ObjectRef::Tablespace(t.name.clone()),
            t.oid,
            Some(&t.owner),
            t.acl.as_deref(),
            AclObjectType::Tablespace,
        ));
    }
    for s in &c.schemas {
        out.push(entry(
            ObjectRef::Schema(s.name.clone()),
            s.oid,
            Some(&s.owner),
            s.acl.as_deref(),
            AclObjectType::Schema,
        ));
    }
    for r in &c.relations {
        let object = ObjectRef::Relation {
            schema: r.schema.clone(),
            name: r.name.clone(),
            kind: r.kind,
        };
        out.push(entry(
            object,
            r.oid,
            Some(&r.owner),
            r.acl.as_deref(),
            r.kind.acl_object_type(),
        ));
        let last = out.last_mut().expect("pushed");
        last.system_table = r.schema == "pg_catalog" && r.kind != RelKind::View;
        for col in &r.columns {
            out.push(Guarded {
                oid: Some(r.oid),
                object: ObjectRef::Column {
                    schema: r.schema.clone(),
                    table: r.name.clone(),
                    column: col.name.clone(),
                },
                owner: Some(r.owner.clone()),
                entries: col.acl.clone(),
                system_table: false,
            });
        }
    }
    for f in &c.routines {
        out.push(entry(
            ObjectRef::Routine {
                schema: f.schema.clone(),
                name: f.name.clone(),
                arguments: f.arguments.clone(),
                kind: f.kind,
            },
            f.oid,
            Some(&f.owner),
            f.acl.as_deref(),
            AclObjectType::Function,
        ));
    }
    for t in &c.types {
        out.push(entry(
            ObjectRef::Type {
                schema: t.schema.clone(),
                name: t.name.clone(),
                domain: t.kind == crate::snapshot::TypeKind::Domain,
            },
            t.oid,
            Some(&t.owner),
            t.acl.as_deref(),
            AclObjectType::Type,
        ));
    }
    for l in &c.languages {
        out.push(entry(
            ObjectRef::Language(l.name.clone()),
            l.oid,
            Some(&l.owner),
            l.acl.as_deref(),
            AclObjectType::Language,
        ));
    }
    for w in &c.foreign_data_wrappers {
        out.push(entry(
            ObjectRef::ForeignDataWrapper(w.name.clone()),
            w.oid,
            Some(&w.owner),
            w.acl.as_deref(),
            AclObjectType::ForeignDataWrapper,
        ));
    }
    for s in &c.foreign_servers {
        out.push(entry(
            ObjectRef::ForeignServer(s.name.clone()),
            s.oid,
            Some(&s.owner),
            s.acl.as_deref(),
            AclObjectType::ForeignServer,
        ));
    }
    for l in &c.large_objects {
        out.push(entry(
            ObjectRef::LargeObject(l.oid),
            l.oid,
            Some(&l.owner),
            l.acl.as_deref(),
            AclObjectType::LargeObject,
        ));
    }
    for p in &c.parameters {
        out.push(Guarded {
            object: ObjectRef::Parameter(p.name.clone()),
            oid: None,
            owner: None,
            entries: effective_acl(p.acl.as_deref(), AclObjectType::Parameter, None, v),
            system_table: false,
        });
    }
    out
}

/// Decides effective access on the snapshot's objects.
pub(crate) struct Judge<'a> {
    pub snapshot: &'a Snapshot,
    pub graph: Graph<'a>,
    pub superusers: HashMap<&'a str, bool>,
    /// Objects by themselves, for columns to find their table.
    pub tables: HashMap<(&'a str, &'a str), usize>,
    pub objects: &'a [Guarded],
}

/// The privileges a column has, which its table's give too.
const COLUMN: [Privilege; 4] = [
    Privilege::Select,
    Privilege::Insert,
    Privilege::Update,
    Privilege::References,
];

impl<'a> Judge<'a> {
    pub fn new(snapshot: &'a Snapshot, objects: &'a [Guarded]) -> Judge<'a> {
        let tables = objects
            .iter()
            .enumerate()
            .filter_map(|(i, o)| match &o.object {
                ObjectRef::Relation { schema, name, .. } => {
                    Some(((schema.as_str(), name.as_str()), i))
                }
                _ => None,
            })
            .collect();
        Judge {
            snapshot,
            graph: Graph::new(snapshot),
            superusers: snapshot
                .catalog
                .roles
                .iter()
                .map(|r| (r.name.as_str(), r.superuser))
                .collect(),
            tables,
            objects,
        }
    }

    /// The path by which `role` (with `reach`, from [`Graph::reach`]) holds
    /// `privilege` on `object`, if it does.
    pub fn access(
        &self,
        role: &str,
        reach: &BTreeMap<&'a str, Vec<&'a str>>,
        object: &Guarded,
        privilege: Privilege,
    ) -> Option<Path> {
        if self.superusers.get(role).copied().unwrap_or(false) {
            return Some(Path {
                how: How::Superuser,
                via: Vec::new(),
                on_table: false,
            });
        }
        if let ObjectRef::Column { schema, table, .. } = &object.object {
            if COLUMN.contains(&privilege) {
                if let Some(&t) = self.tables.get(&(schema.as_str(), table.as_str())) {
                    if let Some(mut path) = self.access(role, reach, &self.objects[t], privilege) {
                        path.on_table = true;
                        return Some(path);
                    }
                }
            }
        }
        if blocked(object, privilege) {
            return None;
        }
        let mut best: Option<Path> = None;
        for e in object.entries.iter().filter(|e| e.privilege == privilege) {
            let via = if e.grantee == PUBLIC {
                None
            } else {
                reach.get(e.grantee.as_str())
            };
            let path = match via {
                Some(chain) => Path {
                    how: How::Entry {
                        grantee: e.grantee.clone(),
                        owner: object.owner.as_deref() == Some(e.grantee.as_str()),
                        grant_option: e.grantable,
                    },
                    via: chain.iter().map(|r| (*r).to_owned()).collect(),
                    on_table: false,
                },
                None if e.grantee == PUBLIC => Path {
                    how: How::Entry {
                        grantee: PUBLIC.to_owned(),
                        owner: false,
                        grant_option: false,
                    },
                    via: Vec::new(),
                    on_table: false,
                },
                None => continue,
            };
            if best.as_ref().is_none_or(|b| rank(&path) < rank(b)) {
                best = Some(path);
            }
        }
        best.or_else(|| self.predefined(reach, object, privilege))
    }

    /// `pg_read_all_data`, `pg_write_all_data` (PostgreSQL 14 and later)
    /// and `pg_maintain` (17 and later).
    fn predefined(
        &self,
        reach: &BTreeMap<&'a str, Vec<&'a str>>,
        object: &Guarded,
        privilege: Privilege,
    ) -> Option<Path> {
        let candidates = predefined_roles(object, privilege, self.snapshot.server_version_num);
        candidates.iter().find_map(|role| {
            reach.get(role).map(|chain| Path {
                how: How::Predefined {
                    role: (*role).to_owned(),
                },
                via: chain.iter().map(|r| (*r).to_owned()).collect(),
                on_table: false,
            })
        })
    }
}

/// Whether PostgreSQL refuses `privilege` on `object` to everyone but a
/// superuser, whatever its ACL says: writing to a table of `pg_catalog`.
pub(crate) fn blocked(object: &Guarded, privilege: Privilege) -> bool {
    object.system_table
        && matches!(
            privilege,
            Privilege::Insert
                | Privilege::Update
                | Privilege::Delete
                | Privilege::Truncate
                | Privilege::Usage
        )
}

/// The predefined roles that hold `privilege` on every object like
/// `object`: `pg_read_all_data` and `pg_write_all_data` (PostgreSQL 14 and
/// later), `pg_maintain` (17 and later).
pub(crate) fn predefined_roles(
    object: &Guarded,
    privilege: Privilege,
    v: u32,
) -> &'static [&'static str] {
    let relation = matches!(object.object, ObjectRef::Relation { .. });
    let schema = matches!(object.object, ObjectRef::Schema(_));
    if blocked(object, privilege) {
        return &[];
    }
    match privilege {
        Privilege::Select if relation && v >= 140000 => &["pg_read_all_data"],
        Privilege::Insert | Privilege::Update | Privilege::Delete if relation && v >= 140000 => {
            &["pg_write_all_data"]
        }
        Privilege::Usage if schema && v >= 140000 => &["pg_read_all_data", "pg_write_all_data"],
        Privilege::Maintain if relation && v >= 170000 => &["pg_maintain"],
        _ => &[],
    }
}

/// Which of two paths to show: the role's own entries first, then the
/// shortest chain, PUBLIC last.
fn rank(p: &Path) -> (bool, usize) {
    let public = matches!(&p.how, How::Entry { grantee, .. } if grantee == PUBLIC);
    (public, p.via.len())
}
