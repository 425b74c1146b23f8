//! Lookups over a snapshot, built once per plan.

use super::object::ObjectRef;
use crate::acl::AclEntry;
use crate::snapshot::{Membership, Relation, Role, Schema, SharedObject, Snapshot};
use std::collections::HashMap;

pub(crate) struct Index<'a> {
    pub snapshot: &'a Snapshot,
    pub roles: HashMap<&'a str, &'a Role>,
    pub memberships_by_member: HashMap<&'a str, Vec<&'a Membership>>,
    pub databases: HashMap<&'a str, &'a SharedObject>,
    pub schemas: HashMap<&'a str, &'a Schema>,
    pub relations: HashMap<(&'a str, &'a str), &'a Relation>,
    /// Relations of each schema, sorted by name.
    pub relations_by_schema: HashMap<&'a str, Vec<&'a Relation>>,
}

impl<'a> Index<'a> {
    pub fn new(snapshot: &'a Snapshot) -> Index<'a> {
        let c = &snapshot.catalog;
        let mut memberships_by_member: HashMap<&str, Vec<&Membership>> = HashMap::new();
        for m in &c.memberships {
            memberships_by_member
                .entry(m.member.as_str())
                .or_default()
                .push(m);
        }
        let mut relations_by_schema: HashMap<&str, Vec<&Relation>> = HashMap::new();
        for r in &c.relations {
            relations_by_schema
                .entry(r.schema.as_str())
                .or_default()
                .push(r);
        }
        Index {
            snapshot,
            roles: c.roles.iter().map(|r| (r.name.as_str(), r)).collect(),
            memberships_by_member,
            databases: c.databases.iter().map(|d| (d.name.as_str(), d)).collect(),
            schemas: c.schemas.iter().map(|s| (s.name.as_str(), s)).collect(),
            relations: c
                .relations
                .iter()
                .map(|r| ((r.schema.as_str(), r.name.as_str()), r))
                .collect(),
            relations_by_schema,
        }
    }

    pub fn role_exists(&self, name: &str) -> bool {
        self.roles.contains_key(name)
    }

    /// Whether `role` owns anything the snapshot holds.
    pub fn owned_by(&self, role: &str) -> bool {
        let c = &self.snapshot.catalog;
        c.databases
            .iter()
            .chain(&c.tablespaces)
            .any(|o| o.owner == role)
            || c.schemas.iter().any(|o| o.owner == role)
            || c.relations.iter().any(|o| o.owner == role)
            || c.routines.iter().any(|o| o.owner == role)
            || c.types.iter().any(|o| o.owner == role)
            || c.languages
                .iter()
                .chain(&c.foreign_data_wrappers)
                .chain(&c.foreign_servers)
                .any(|o| o.owner == role)
            || c.large_objects.iter().any(|o| o.owner == role)
    }

    /// Where the snapshot holds the object: its owner and its ACL. A column
    /// has its table's owner; a parameter has none.
    pub fn entry(&self, object: &ObjectRef) -> Option<CatalogEntry<'a>> {
        fn entry<'a>(oid: u32, owner: &'a str, acl: &'a Option<Vec<AclEntry>>) -> CatalogEntry<'a> {
            CatalogEntry {
                oid: Some(oid),
                owner: Some(owner),
                acl: acl.as_deref(),
            }
        }
        let c = &self.snapshot.catalog;
        match object {
            ObjectRef::Database(n) => self
                .databases
                .get(n.as_str())
                .map(|o| entry(o.oid, &o.owner, &o.acl)),
            ObjectRef::Schema(n) => self
                .schemas
                .get(n.as_str())
                .map(|o| entry(o.oid, &o.owner, &o.acl)),
            ObjectRef::Relation { schema, name, .. } => self
                .relations
                .get(&(schema.as_str(), name.as_str()))
                .map(|o| entry(o.oid, &o.owner, &o.acl)),
            ObjectRef::Column {
                schema,
                table,
                column,
            } => {
                let rel = self.relations.get(&(schema.as_str(), table.as_str()))?;
                let acl = rel
                    .columns
                    .iter()
                    .find(|c| &c.name == column)
                    .map(|c| c.acl.as_slice());
                Some(CatalogEntry {
                    oid: None,
                    owner: Some(&rel.owner),
                    acl,
                })
            }
            ObjectRef::Tablespace(n) => c
                .tablespaces
                .iter()
                .find(|o| &o.name == n)
                .map(|o| entry(o.oid, &o.owner, &o.acl)),
            ObjectRef::Parameter(n) => {
                c.parameters
                    .iter()
                    .find(|o| &o.name == n)
                    .map(|o| CatalogEntry {
                        oid: None,
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
                .map(|o| entry(o.oid, &o.owner, &o.acl)),
            ObjectRef::Type { schema, name, .. } => c
                .types
                .iter()
                .find(|o| &o.schema == schema && &o.name == name)
                .map(|o| entry(o.oid, &o.owner, &o.acl)),
            ObjectRef::Language(n) => c
                .languages
                .iter()
                .find(|o| &o.name == n)
                .map(|o| entry(o.oid, &o.owner, &o.acl)),
            ObjectRef::LargeObject(oid) => c
                .large_objects
                .iter()
                .find(|o| o.oid == *oid)
                .map(|o| entry(o.oid, &o.owner, &o.acl)),
            ObjectRef::ForeignDataWrapper(n) => c
                .foreign_data_wrappers
                .iter()
                .find(|o| &o.name == n)
                .map(|o| entry(o.oid, &o.owner, &o.acl)),
            ObjectRef::ForeignServer(n) => c
                .foreign_servers
                .iter()
                .find(|o| &o.name == n)
                .map(|o| entry(o.oid, &o.owner, &o.acl)),
        }
    }
}

/// An object's owner and ACL as the snapshot holds them.
pub(crate) struct CatalogEntry<'a> {
    /// None for columns and parameters.
    pub oid: Option<u32>,
    pub owner: Option<&'a str>,
    pub acl: Option<&'a [AclEntry]>,
}

/// Names of roles starting with `prefix` that hold `privilege` in `acl`,
/// sorted: the intermediate roles serving that privilege on the object.
pub(crate) fn grantees_with_prefix<'a>(
    acl: Option<&'a [AclEntry]>,
    prefix: &str,
    privilege: crate::acl::Privilege,
) -> Vec<&'a str> {
    let mut names: Vec<&str> = acl
        .into_iter()
        .flatten()
        .filter(|e| e.privilege == privilege && e.grantee.starts_with(prefix))
        .map(|e| e.grantee.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}
