//! Owner changes, revokes and dropped roles in the model.

use super::*;

impl Model {
    pub(super) fn alter_owner(&mut self, object: &ObjectRef, owner: &str) -> Result<(), String> {
        self.need_role(owner)?;
        let roles = self.s.catalog.roles.clone();
        let role = |name: &str| roles.iter().find(|r| r.name == name);
        match object {
            ObjectRef::Column { .. } | ObjectRef::Parameter(_) => {
                return Err(format!("{} has no owner of its own", object.describe()))
            }
            ObjectRef::ForeignDataWrapper(_) if !role(owner).is_some_and(|r| r.superuser) => {
                return Err(format!(
                    "permission denied to change owner of {}: the owner of a foreign-data wrapper must be a superuser",
                    object.describe()
                ))
            }
            _ => {}
        }
        if !self.s.connecting_role.superuser {
            // The role running ALTER … OWNER TO must be able to become the
            // new owner, and act as the current one.
            let current = slot(&mut self.s.catalog, object)?.0.cloned();
            for (who, what) in [(Some(owner.to_owned()), "new"), (current, "current")] {
                if let Some(who) = who.filter(|w| !self.acts_as(w)) {
                    return Err(format!(
                        "must be able to act as {who}, the {what} owner of {}",
                        object.describe()
                    ));
                }
            }
            let container = match object {
                ObjectRef::Schema(_) => Some(ObjectRef::Database(self.s.database.name.clone())),
                // ALTER DATABASE … OWNER TO needs CREATEDB of the role
                // that runs it.
                ObjectRef::Database(_) => {
                    let conn = self.conn();
                    if !role(&conn).is_some_and(|r| r.createdb) {
                        return Err(format!(
                            "permission denied to change owner of {}: {conn} lacks CREATEDB",
                            object.describe()
                        ));
                    }
                    None
                }
                // A foreign server's new owner must hold USAGE on its
                // foreign-data wrapper (the snapshot has one, if any).
                ObjectRef::ForeignServer(_) => {
                    let fdw = self.s.catalog.foreign_data_wrappers.first();
                    let fdw = fdw.map(|w| ObjectRef::ForeignDataWrapper(w.name.clone()));
                    if let Some(fdw) = fdw {
                        if !self.holds(&fdw, owner, Privilege::Usage)? {
                            return Err(format!(
                                "permission denied for {}: {owner} lacks USAGE to own {}",
                                fdw.describe(),
                                object.describe()
                            ));
                        }
                    }
                    None
                }
                other => other.schema().map(|s| ObjectRef::Schema(s.to_owned())),
            };
            // For a schema, ALTER SCHEMA … OWNER TO checks the role that
            // runs it (CREATE on the database), not the new owner.
            let who = match object {
                ObjectRef::Schema(_) => self.conn(),
                _ => owner.to_owned(),
            };
            if let Some(container) = container {
                if !self.holds(&container, &who, Privilege::Create)? {
                    return Err(format!(
                        "permission denied for {}: {who} lacks CREATE there to give {owner} {}",
                        container.describe(),
                        object.describe()
                    ));
                }
            }
        }
        if let ObjectRef::Relation {
            schema,
            name,
            kind: RelKind::Sequence,
        } = object
        {
            let linked = self
                .s
                .catalog
                .relations
                .iter()
                .any(|r| &r.schema == schema && &r.name == name && r.owned_by.is_some());
            if linked {
                return Err(format!(
                    "cannot change owner of sequence {schema}.{name}: it is linked to a table"
                ));
            }
        }
        let (current, acl) = slot(&mut self.s.catalog, object)?;
        let current = current.ok_or("no owner")?;
        let old = std::mem::replace(current, owner.to_owned());
        if old == owner {
            self.warn(format!("{} is already owned by {owner}", object.describe()));
            return Ok(());
        }
        if let Some(acl) = acl {
            acl_new_owner(acl, &old, owner);
        }
        if let ObjectRef::Relation { schema, name, kind } = object {
            if *kind != RelKind::Sequence {
                let table = QualifiedName {
                    schema: schema.clone(),
                    name: name.clone(),
                };
                for r in &mut self.s.catalog.relations {
                    if r.schema == *schema && r.name == *name {
                        for col in &mut r.columns {
                            acl_new_owner(&mut col.acl, &old, owner);
                        }
                    }
                    if r.owned_by.as_ref() == Some(&table) {
                        let seq_old = std::mem::replace(&mut r.owner, owner.to_owned());
                        if let Some(acl) = &mut r.acl {
                            acl_new_owner(acl, &seq_old, owner);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    pub(super) fn revoke(
        &mut self,
        object: &ObjectRef,
        privilege: Privilege,
        grantee: &str,
        grant_option_only: bool,
        cascade: bool,
    ) -> Result<(), String> {
        self.need_grantee(grantee)?;
        let version = self.version();
        let bootstrap = self.bootstrap();
        let Some((owner, acl)) = acl_of(&mut self.s.catalog, object, version, bootstrap, false)?
        else {
            self.warnings
                .push(format!("no privileges on {}", object.describe()));
            return Ok(());
        };
        let Some(pos) = acl
            .iter()
            .position(|e| e.grantee == grantee && e.grantor == owner && e.privilege == privilege)
        else {
            self.warnings.push(format!(
                "no privileges could be revoked: {privilege} on {} from {grantee}",
                object.describe()
            ));
            return Ok(());
        };
        let had_option = acl[pos].grantable;
        if grant_option_only {
            if !had_option {
                self.warnings.push(format!(
                    "no grant option to revoke: {privilege} on {} from {grantee}",
                    object.describe()
                ));
            }
            acl[pos].grantable = false;
        } else {
            acl.remove(pos);
        }
        if had_option {
            recursive_revoke(acl, grantee, &owner, privilege, cascade)?;
        }
        if let ObjectRef::Column {
            schema,
            table,
            column,
        } = object
        {
            // An empty column ACL is stored as NULL, i.e. no entry.
            if let Some(r) = self
                .s
                .catalog
                .relations
                .iter_mut()
                .find(|r| &r.schema == schema && &r.name == table)
            {
                r.columns.retain(|c| &c.name != column || !c.acl.is_empty());
            }
        }
        Ok(())
    }

    pub(super) fn drop_role(&mut self, role: &str) -> Result<(), String> {
        self.need_role(role)?;
        if role == self.conn() {
            return Err("current user cannot be dropped".into());
        }
        let c = &self.s.catalog;
        let mut depends = Vec::new();
        pgsr_planner::snapshot::for_each_acl(c, |acl| {
            if acl.iter().any(|e| e.grantee == role || e.grantor == role) {
                depends.push("privileges");
            }
        });
        let owns = c.databases.iter().any(|o| o.owner == role)
            || c.tablespaces.iter().any(|o| o.owner == role)
            || c.schemas.iter().any(|o| o.owner == role)
            || c.relations.iter().any(|o| o.owner == role)
            || c.routines.iter().any(|o| o.owner == role)
            || c.types.iter().any(|o| o.owner == role)
            || c.languages.iter().any(|o| o.owner == role)
            || c.large_objects.iter().any(|o| o.owner == role)
            || c.foreign_data_wrappers.iter().any(|o| o.owner == role)
            || c.foreign_servers.iter().any(|o| o.owner == role);
        if owns {
            depends.push("owned objects");
        }
        if c.default_privileges.iter().any(|d| d.role == role) {
            depends.push("default privileges");
        }
        if !depends.is_empty() {
            return Err(format!(
                "role {role:?} cannot be dropped because some objects depend on it: {depends:?}"
            ));
        }
        let c = &mut self.s.catalog;
        c.roles.retain(|r| r.name != role);
        c.memberships.retain(|m| m.role != role && m.member != role);
        Ok(())
    }
}
