//! ACLs in the model: where an object's owner and ACL are, an owner
//! change's rewrite, and what losing a grant option takes along.

use pgsr_planner::acl::{default_acl, AclEntry, AclObjectType, Privilege};
use pgsr_planner::plan::ObjectRef;
use pgsr_planner::snapshot::{Catalog, ColumnAcl, DefaultObjectType, RelKind, TypeKind};

pub(super) type Slot<'c> = (Option<&'c mut String>, &'c mut Option<Vec<AclEntry>>);

/// The owner and ACL of an object (not a column).
pub(super) fn slot<'c>(c: &'c mut Catalog, o: &ObjectRef) -> Result<Slot<'c>, String> {
    let missing = || format!("{} does not exist", o.describe());
    match o {
        ObjectRef::Database(n) => c
            .databases
            .iter_mut()
            .find(|d| &d.name == n)
            .map(|d| (Some(&mut d.owner), &mut d.acl))
            .ok_or_else(missing),
        ObjectRef::Tablespace(n) => c
            .tablespaces
            .iter_mut()
            .find(|d| &d.name == n)
            .map(|d| (Some(&mut d.owner), &mut d.acl))
            .ok_or_else(missing),
        ObjectRef::Parameter(n) => c
            .parameters
            .iter_mut()
            .find(|d| &d.name == n)
            .map(|d| (None, &mut d.acl))
            .ok_or_else(missing),
        ObjectRef::Schema(n) => c
            .schemas
            .iter_mut()
            .find(|d| &d.name == n)
            .map(|d| (Some(&mut d.owner), &mut d.acl))
            .ok_or_else(missing),
        ObjectRef::Relation { schema, name, kind } => {
            let r = c
                .relations
                .iter_mut()
                .find(|r| &r.schema == schema && &r.name == name)
                .ok_or_else(missing)?;
            if r.kind != *kind {
                return Err(format!("{schema}.{name} is a {:?}, not a {kind:?}", r.kind));
            }
            Ok((Some(&mut r.owner), &mut r.acl))
        }
        ObjectRef::Column { .. } => Err("columns have no owner of their own".into()),
        ObjectRef::Routine {
            schema,
            name,
            arguments,
            ..
        } => c
            .routines
            .iter_mut()
            .find(|r| &r.schema == schema && &r.name == name && &r.arguments == arguments)
            .map(|r| (Some(&mut r.owner), &mut r.acl))
            .ok_or_else(missing),
        ObjectRef::Type {
            schema,
            name,
            domain,
        } => {
            let t = c
                .types
                .iter_mut()
                .find(|t| &t.schema == schema && &t.name == name)
                .ok_or_else(missing)?;
            if (t.kind == TypeKind::Domain) != *domain {
                return Err(format!("{schema}.{name}: wrong TYPE/DOMAIN keyword"));
            }
            Ok((Some(&mut t.owner), &mut t.acl))
        }
        ObjectRef::Language(n) => c
            .languages
            .iter_mut()
            .find(|d| &d.name == n)
            .map(|d| (Some(&mut d.owner), &mut d.acl))
            .ok_or_else(missing),
        ObjectRef::LargeObject(oid) => c
            .large_objects
            .iter_mut()
            .find(|d| d.oid == *oid)
            .map(|d| (Some(&mut d.owner), &mut d.acl))
            .ok_or_else(missing),
        ObjectRef::ForeignDataWrapper(n) => c
            .foreign_data_wrappers
            .iter_mut()
            .find(|d| &d.name == n)
            .map(|d| (Some(&mut d.owner), &mut d.acl))
            .ok_or_else(missing),
        ObjectRef::ForeignServer(n) => c
            .foreign_servers
            .iter_mut()
            .find(|d| &d.name == n)
            .map(|d| (Some(&mut d.owner), &mut d.acl))
            .ok_or_else(missing),
    }
}

/// PostgreSQL's `aclnewowner`: the old owner, as grantee or grantor, becomes
/// the new one; entries that then coincide are merged.
pub fn acl_new_owner(acl: &mut Vec<AclEntry>, old: &str, new: &str) {
    for e in acl.iter_mut() {
        if e.grantee == old {
            e.grantee = new.to_owned();
        }
        if e.grantor == old {
            e.grantor = new.to_owned();
        }
    }
    acl.sort();
    let mut merged: Vec<AclEntry> = Vec::with_capacity(acl.len());
    for e in acl.drain(..) {
        match merged.last_mut() {
            Some(last)
                if last.grantee == e.grantee
                    && last.grantor == e.grantor
                    && last.privilege == e.privilege =>
            {
                last.grantable |= e.grantable
            }
            _ => merged.push(e),
        }
    }
    *acl = merged;
}

/// `recursive_revoke`: `grantee` lost the grant option for `privilege`;
/// what it granted with it goes too, if CASCADE allows.
pub(super) fn recursive_revoke(
    acl: &mut Vec<AclEntry>,
    grantee: &str,
    owner: &str,
    privilege: Privilege,
    cascade: bool,
) -> Result<(), String> {
    if grantee == owner {
        return Ok(());
    }
    let still_has = acl.iter().any(|e| {
        (e.grantee == grantee || e.is_public()) && e.privilege == privilege && e.grantable
    });
    if still_has {
        return Ok(());
    }
    let dependents: Vec<AclEntry> = acl
        .iter()
        .filter(|e| e.grantor == grantee && e.privilege == privilege)
        .cloned()
        .collect();
    if dependents.is_empty() {
        return Ok(());
    }
    if !cascade {
        return Err(format!(
            "dependent privileges exist (granted by {grantee:?}); use CASCADE"
        ));
    }
    for d in dependents {
        acl.retain(|e| *e != d);
        if d.grantable {
            recursive_revoke(acl, &d.grantee, owner, privilege, cascade)?;
        }
    }
    Ok(())
}

pub(super) fn default_type(t: DefaultObjectType) -> AclObjectType {
    match t {
        DefaultObjectType::Tables => AclObjectType::Relation,
        DefaultObjectType::Sequences => AclObjectType::Sequence,
        DefaultObjectType::Functions => AclObjectType::Function,
        DefaultObjectType::Types => AclObjectType::Type,
        DefaultObjectType::Schemas => AclObjectType::Schema,
        DefaultObjectType::LargeObjects => AclObjectType::LargeObject,
    }
}

/// The owner of an object and its ACL in force: a NULL ACL is made
/// PostgreSQL's `acldefault` first, as GRANT and REVOKE do. A column's ACL
/// starts empty: with `create_column` one is made when the column has
/// none, else there is none to change (`None`).
pub(super) fn acl_of<'c>(
    c: &'c mut Catalog,
    object: &ObjectRef,
    version: u32,
    bootstrap: String,
    create_column: bool,
) -> Result<Option<(String, &'c mut Vec<AclEntry>)>, String> {
    let ObjectRef::Column {
        schema,
        table,
        column,
    } = object
    else {
        let (owner, acl) = slot(c, object)?;
        let owner = owner.map_or(bootstrap, |o| o.clone());
        let acl =
            acl.get_or_insert_with(|| default_acl(object.acl_object_type(), Some(&owner), version));
        return Ok(Some((owner, acl)));
    };
    let r = c
        .relations
        .iter_mut()
        .find(|r| &r.schema == schema && &r.name == table)
        .ok_or_else(|| format!("{} does not exist", object.describe()))?;
    if r.kind == RelKind::Sequence {
        return Err(format!("{schema}.{table} is a sequence: it has no columns"));
    }
    if create_column && !r.columns.iter().any(|c| &c.name == column) {
        r.columns.push(ColumnAcl {
            name: column.clone(),
            acl: Vec::new(),
        });
    }
    let owner = r.owner.clone();
    Ok(r.columns
        .iter_mut()
        .find(|c| &c.name == column)
        .map(|col| (owner, &mut col.acl)))
}
