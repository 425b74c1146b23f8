//! An in-memory model of what PostgreSQL does with a plan's statements.
//!
//! [`apply`] runs a plan's steps against a snapshot the way the server would
//! run the rendered statements, so that a test can plan again from the
//! result. Statements the server would refuse are errors; statements that
//! change nothing (PostgreSQL's "no privileges could be revoked" warnings,
//! grants of what is already held) are collected as warnings.
//!
//! Semantics modelled (PostgreSQL 15 to 17):
//! - `GRANT`/`REVOKE` on objects act as the object's owner (superusers and
//!   members of the owner do): grants are recorded with the owner as grantor,
//!   and REVOKE removes the entry granted by the owner. A NULL ACL is
//!   materialized as `acldefault` first. Losing a grant option revokes what
//!   the grantee granted with it (`recursive_revoke`), which needs CASCADE
//!   unless the grantee still holds the grant option from elsewhere.
//! - `ALTER … OWNER TO` rewrites the ACL as `aclnewowner` does; a table
//!   takes its column ACLs and owned sequences along. An owned sequence
//!   cannot be given away on its own. Without SUPERUSER, the new owner must
//!   hold CREATE on the object's schema, and the role running the statement
//!   CREATE on the database for a schema (with the privileges of the roles
//!   granted to it for the plan), as ALTER … OWNER TO checks; changing a
//!   database's owner needs CREATEDB of its own, a foreign server's new
//!   owner USAGE on its wrapper, a foreign-data wrapper's a superuser.
//! - GRANT and REVOKE name PUBLIC too; a grant option goes to roles only.
//!   A column ACL starts empty. `ALTER DEFAULT PRIVILEGES` without a schema
//!   starts from the built-in defaults (a row equal to them is removed);
//!   with one, from nothing.
//! - The end of a temporary privilege never takes from an object's owner a
//!   privilege of its own (pgsr's rule, not the server's).
//! - Role grants: since PostgreSQL 16 each grantor's grant is its own row and
//!   a superuser's grants (and plain REVOKEs) are recorded as made by the
//!   bootstrap superuser; before 16 there is one row per pair. Revoking a
//!   grant WITH ADMIN OPTION on which other grants depend needs CASCADE.
//!   A grant that would close a membership loop is refused, and only a
//!   superuser may grant a superuser role.

#![allow(dead_code)]

mod acl;
mod owner;

pub use acl::acl_new_owner;
use acl::{acl_of, default_type, recursive_revoke, slot};

use pgsr_planner::acl::{default_acl, AclEntry, Privilege, PUBLIC};
use pgsr_planner::desired::SettingValue;
use pgsr_planner::plan::{Action, ObjectRef, Plan, RoleOptions};
use pgsr_planner::snapshot::{Membership, QualifiedName, RelKind, Role, RoleSetting, Snapshot};

/// The catalog after a plan, and the statements that changed nothing.
#[derive(Debug)]
pub struct Applied {
    pub snapshot: Snapshot,
    pub warnings: Vec<String>,
}

/// Runs `plan` against `snapshot`. An error is what the server would say
/// when refusing a statement.
pub fn apply(snapshot: &Snapshot, plan: &Plan) -> Result<Applied, String> {
    let mut m = Model {
        s: snapshot.clone(),
        warnings: Vec::new(),
        next_oid: 900_000,
        temporary: Vec::new(),
    };
    for (i, step) in plan.steps.iter().enumerate() {
        m.step(&step.action)
            .map_err(|e| format!("step {i} {:?}: {e}", step.action))?;
    }
    m.s.canonicalize();
    Ok(Applied {
        snapshot: m.s,
        warnings: m.warnings,
    })
}

struct Model {
    s: Snapshot,
    warnings: Vec<String>,
    next_oid: u32,
    /// The roles granted to the connecting role for the length of the plan.
    temporary: Vec<String>,
}

impl Model {
    fn version(&self) -> u32 {
        self.s.server_version_num
    }

    fn conn(&self) -> String {
        self.s.connecting_role.name.clone()
    }

    fn bootstrap(&self) -> String {
        self.s
            .catalog
            .roles
            .iter()
            .find(|r| r.oid == 10)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| "postgres".into())
    }

    fn role_exists(&self, name: &str) -> bool {
        self.s.catalog.roles.iter().any(|r| r.name == name)
    }

    fn need_role(&self, name: &str) -> Result<(), String> {
        if name == PUBLIC {
            return Err("PUBLIC where a role is needed".into());
        }
        if self.role_exists(name) {
            Ok(())
        } else {
            Err(format!("role {name:?} does not exist"))
        }
    }

    /// A role, or PUBLIC.
    fn need_grantee(&self, name: &str) -> Result<(), String> {
        if name == PUBLIC {
            Ok(())
        } else {
            self.need_role(name)
        }
    }

    fn warn(&mut self, w: String) {
        self.warnings.push(w);
    }

    /// The grantor PostgreSQL records for a role grant made without
    /// GRANTED BY by the connecting role.
    fn role_grantor(&self) -> String {
        if self.version() >= 160000 && self.s.connecting_role.superuser {
            self.bootstrap()
        } else {
            self.conn()
        }
    }

    /// Whether `from` is (transitively) a member of `to`.
    fn member_of(&self, from: &str, to: &str) -> bool {
        let mut seen = std::collections::BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(r) = stack.pop() {
            if r == to {
                return true;
            }
            if seen.insert(r.clone()) {
                stack.extend(
                    self.s
                        .catalog
                        .memberships
                        .iter()
                        .filter(|m| m.member == r)
                        .map(|m| m.role.clone()),
                );
            }
        }
        false
    }

    fn step(&mut self, action: &Action) -> Result<(), String> {
        let version = self.version();
        match action {
            Action::CreateRole { role } => {
                if self.role_exists(role) {
                    return Err(format!("role {role:?} already exists"));
                }
                self.next_oid += 1;
                self.s.catalog.roles.push(Role::new(role, self.next_oid));
            }
            Action::TemporaryGrant { role } | Action::TemporaryRevoke { role } => {
                self.need_role(role)?;
                let conn = self.conn();
                if matches!(action, Action::TemporaryGrant { .. })
                    && (role == &conn || self.member_of(role, &conn))
                {
                    return Err(format!("role {role:?} is a member of role {conn:?}"));
                }
                if matches!(action, Action::TemporaryGrant { .. })
                    && !self.s.connecting_role.superuser
                    && self
                        .s
                        .catalog
                        .roles
                        .iter()
                        .any(|r| &r.name == role && r.superuser)
                {
                    return Err(format!(
                        "only roles with the SUPERUSER attribute may grant {role:?}"
                    ));
                }
                match action {
                    Action::TemporaryGrant { .. } => self.temporary.push(role.clone()),
                    _ => self.temporary.retain(|r| r != role),
                }
            }
            Action::CreateSchema { schema, owner } => {
                self.need_role(owner)?;
                if self.s.catalog.schemas.iter().any(|s| &s.name == schema) {
                    return Err(format!("schema {schema:?} already exists"));
                }
                self.next_oid += 1;
                self.s.catalog.schemas.push(pgsr_planner::snapshot::Schema {
                    name: schema.clone(),
                    oid: self.next_oid,
                    owner: owner.clone(),
                    acl: None,
                });
            }
            Action::AlterOwner { object, owner } => self.alter_owner(object, owner)?,
            Action::TemporaryPrivilege {
                object,
                privilege,
                grantee,
            } => self.step(&Action::Grant {
                object: object.clone(),
                privilege: *privilege,
                grantee: grantee.clone(),
                grant_option: false,
            })?,
            Action::TemporaryPrivilegeRevoke {
                object,
                privilege,
                grantee,
            } => {
                let (owner, _) = slot(&mut self.s.catalog, object)?;
                if owner.is_some_and(|o| o == grantee) {
                    return Err(format!(
                        "the temporary {privilege} on {} is revoked from its owner {grantee}",
                        object.describe()
                    ));
                }
                self.revoke(object, *privilege, grantee, false, false)?
            }
            Action::Grant {
                object,
                privilege,
                grantee,
                grant_option,
            } => {
                self.need_grantee(grantee)?;
                if *grant_option && grantee == PUBLIC {
                    return Err("grant options can only be granted to roles".into());
                }
                let bootstrap = self.bootstrap();
                let ty = object.acl_object_type();
                if !ty.privileges(version).contains(privilege) {
                    return Err(format!("invalid privilege type {privilege} for {ty:?}"));
                }
                let (owner, entries) =
                    acl_of(&mut self.s.catalog, object, version, bootstrap, true)?
                        .expect("a column's ACL is made when missing");
                let held = entries.iter().any(|e| {
                    &e.grantee == grantee
                        && e.grantor == owner
                        && e.privilege == *privilege
                        && (!*grant_option || e.grantable)
                });
                if held {
                    self.warn(format!(
                        "{grantee} already holds {privilege} on {}",
                        object.describe()
                    ));
                } else {
                    entries.retain(|e| {
                        !(&e.grantee == grantee && e.grantor == owner && e.privilege == *privilege)
                    });
                    entries.push(AclEntry {
                        grantee: grantee.clone(),
                        grantor: owner,
                        privilege: *privilege,
                        grantable: *grant_option,
                    });
                    entries.sort();
                }
            }
            Action::Revoke {
                object,
                privilege,
                grantee,
                grant_option_only,
                cascade,
            } => self.revoke(object, *privilege, grantee, *grant_option_only, *cascade)?,
            Action::GrantDefault {
                owner,
                schema,
                object_type,
                privilege,
                grantee,
                grant_option,
            } => {
                self.need_grantee(grantee)?;
                self.need_role(owner)?;
                if *grant_option && grantee == PUBLIC {
                    return Err("grant options can only be granted to roles".into());
                }
                self.need_default_schema(schema)?;
                let ty = default_type(*object_type);
                if !ty.privileges(version).contains(privilege) {
                    return Err(format!("invalid privilege type {privilege} for {ty:?}"));
                }
                let c = &mut self.s.catalog;
                let pos = match c.default_privileges.iter().position(|d| {
                    &d.role == owner && &d.schema == schema && d.object_type == *object_type
                }) {
                    Some(pos) => pos,
                    None => {
                        // A global row starts from the built-in defaults, a
                        // schema's from nothing.
                        let acl = match schema {
                            Some(_) => Vec::new(),
                            None => default_acl(default_type(*object_type), Some(owner), version),
                        };
                        c.default_privileges
                            .push(pgsr_planner::snapshot::DefaultPrivilege {
                                role: owner.clone(),
                                schema: schema.clone(),
                                object_type: *object_type,
                                acl,
                            });
                        c.default_privileges.len() - 1
                    }
                };
                let row = &mut c.default_privileges[pos];
                row.acl.retain(|e| {
                    !(&e.grantee == grantee && &e.grantor == owner && e.privilege == *privilege)
                });
                let before = row.acl.clone();
                let kept = row.acl.iter().find(|e| {
                    &e.grantee == grantee && &e.grantor == owner && e.privilege == *privilege
                });
                let grantable = *grant_option || kept.is_some_and(|e| e.grantable);
                row.acl.retain(|e| {
                    !(&e.grantee == grantee && &e.grantor == owner && e.privilege == *privilege)
                });
                row.acl.push(AclEntry {
                    grantee: grantee.clone(),
                    grantor: owner.clone(),
                    privilege: *privilege,
                    grantable,
                });
                row.acl.sort();
                let unchanged = row.acl == before;
                // A row equal to the built-in defaults is removed.
                let builtin = match schema {
                    Some(_) => Vec::new(),
                    None => default_acl(default_type(*object_type), Some(owner), version),
                };
                if row.acl == builtin {
                    c.default_privileges.remove(pos);
                }
                if unchanged {
                    self.warn(format!(
                        "default {privilege} of {owner} for {grantee}: already granted"
                    ));
                }
            }
            Action::RevokeDefault {
                owner,
                schema,
                object_type,
                privilege,
                grantee,
                grant_option_only,
            } => {
                self.need_grantee(grantee)?;
                self.need_role(owner)?;
                self.need_default_schema(schema)?;
                let c = &mut self.s.catalog;
                let found = c.default_privileges.iter().position(|d| {
                    &d.role == owner && &d.schema == schema && d.object_type == *object_type
                });
                let pos = match (found, schema) {
                    (Some(pos), _) => pos,
                    (None, Some(_)) => {
                        self.warn(format!("no default privileges of {owner} to revoke"));
                        return Ok(());
                    }
                    // A global row starts from the built-in defaults.
                    (None, None) => {
                        c.default_privileges
                            .push(pgsr_planner::snapshot::DefaultPrivilege {
                                role: owner.clone(),
                                schema: None,
                                object_type: *object_type,
                                acl: default_acl(default_type(*object_type), Some(owner), version),
                            });
                        c.default_privileges.len() - 1
                    }
                };
                let row = &mut c.default_privileges[pos];
                let before = row.acl.clone();
                if *grant_option_only {
                    for e in row.acl.iter_mut().filter(|e| {
                        &e.grantee == grantee && &e.grantor == owner && e.privilege == *privilege
                    }) {
                        e.grantable = false;
                    }
                } else {
                    row.acl.retain(|e| {
                        !(&e.grantee == grantee && &e.grantor == owner && e.privilege == *privilege)
                    });
                }
                let changed = row.acl != before;
                let empty = match schema {
                    Some(_) => row.acl.is_empty(),
                    None => {
                        row.acl == default_acl(default_type(*object_type), Some(owner), version)
                    }
                };
                if empty {
                    c.default_privileges.remove(pos);
                }
                if !changed {
                    self.warn(format!(
                        "default {privilege} of {owner} for {grantee}: nothing to revoke"
                    ));
                }
            }
            Action::GrantMembership {
                role,
                member,
                options,
            } => {
                self.need_role(role)?;
                self.need_role(member)?;
                if role == member || self.member_of(role, member) {
                    return Err(format!("role {role:?} is a member of role {member:?}"));
                }
                let grantor = self.role_grantor();
                let pg16 = version >= 160000;
                let exists = self.s.catalog.memberships.iter().any(|m| {
                    &m.role == role
                        && &m.member == member
                        && (!pg16 || m.grantor.as_deref() == Some(&grantor))
                });
                if exists {
                    self.warn(format!("{member} is already a member of {role}"));
                } else {
                    self.s.catalog.memberships.push(Membership {
                        role: role.clone(),
                        member: member.clone(),
                        grantor: Some(grantor),
                        admin_option: options.admin,
                        inherit_option: pg16.then_some(options.inherit.unwrap_or_else(|| {
                            self.s
                                .catalog
                                .roles
                                .iter()
                                .find(|r| &r.name == member)
                                .is_none_or(|r| r.inherit)
                        })),
                        set_option: pg16.then_some(options.set.unwrap_or(true)),
                    });
                }
            }
            Action::RevokeMembership {
                role,
                member,
                granted_by,
                cascade,
            } => {
                self.need_role(role)?;
                self.need_role(member)?;
                let pg16 = version >= 160000;
                let grantor = granted_by.clone().unwrap_or_else(|| self.role_grantor());
                let ms = &self.s.catalog.memberships;
                let Some(pos) = ms.iter().position(|m| {
                    &m.role == role
                        && &m.member == member
                        && (!pg16 || m.grantor.as_deref() == Some(&grantor))
                }) else {
                    self.warn(format!(
                        "{member} has not been granted membership in {role} by {grantor}"
                    ));
                    return Ok(());
                };
                if pg16 && ms[pos].admin_option {
                    let other_admin = ms.iter().enumerate().any(|(i, m)| {
                        i != pos && &m.role == role && &m.member == member && m.admin_option
                    });
                    let dependents = ms
                        .iter()
                        .any(|m| &m.role == role && m.grantor.as_deref() == Some(member));
                    if !other_admin && dependents && !cascade {
                        return Err(format!(
                            "dependent privileges exist: {member} granted {role} to others; use CASCADE"
                        ));
                    }
                }
                self.s.catalog.memberships.remove(pos);
                if *cascade {
                    // The grants the member made with its ADMIN OPTION go too.
                    let mut grantors = vec![member.clone()];
                    while let Some(g) = grantors.pop() {
                        let ms = &mut self.s.catalog.memberships;
                        let gone: Vec<String> = ms
                            .iter()
                            .filter(|m| &m.role == role && m.grantor.as_deref() == Some(g.as_str()))
                            .map(|m| m.member.clone())
                            .collect();
                        ms.retain(|m| {
                            !(&m.role == role && m.grantor.as_deref() == Some(g.as_str()))
                        });
                        grantors.extend(gone);
                    }
                }
            }
            Action::AlterRole { role, options } => {
                self.need_role(role)?;
                let RoleOptions {
                    login,
                    remove_password: _,
                    valid_until,
                    superuser,
                    createdb,
                    createrole,
                    replication,
                    bypassrls,
                    inherit,
                    connection_limit,
                } = options.clone();
                let r = self
                    .s
                    .catalog
                    .roles
                    .iter_mut()
                    .find(|r| &r.name == role)
                    .expect("checked above");
                if r.oid == 10 {
                    return Err("the bootstrap superuser cannot be altered this way".into());
                }
                let set = |field: &mut bool, v: Option<bool>| {
                    if let Some(v) = v {
                        *field = v;
                    }
                };
                set(&mut r.canlogin, login);
                set(&mut r.superuser, superuser);
                set(&mut r.createdb, createdb);
                set(&mut r.createrole, createrole);
                set(&mut r.replication, replication);
                set(&mut r.bypassrls, bypassrls);
                set(&mut r.inherit, inherit);
                if let Some(n) = connection_limit {
                    r.connection_limit = n;
                }
                if let Some(v) = valid_until {
                    r.valid_until = Some(v);
                }
            }
            Action::DropRole { role } => self.drop_role(role)?,
            // Passwords are not modelled: setting one changes no privilege.
            Action::SetPassword { role, .. } => self.need_role(role)?,
            Action::CommentRole { role, description } => {
                self.need_role(role)?;
                let r = self.s.catalog.roles.iter_mut().find(|r| &r.name == role);
                r.expect("checked above").description = description.clone();
            }
            Action::SetSetting {
                role,
                database,
                name,
                value,
            } => {
                self.need_role(role)?;
                let text = match value {
                    SettingValue::Text(t) => t.clone(),
                    SettingValue::List(items) => items.join(", "),
                };
                let settings = self.role_settings(role, database);
                settings.retain(|s| !s.starts_with(&format!("{name}=")));
                settings.push(format!("{name}={text}"));
            }
            Action::ResetSetting {
                role,
                database,
                name,
            } => {
                self.need_role(role)?;
                let settings = self.role_settings(role, database);
                let before = settings.len();
                settings.retain(|s| !s.starts_with(&format!("{name}=")));
                if settings.len() == before {
                    self.warn(format!("{role}: no setting {name} to reset"));
                }
            }
            // Generated files neither rename nor retire.
            other => return Err(format!("not modelled: {other:?}")),
        }
        Ok(())
    }

    /// The settings of `role` in `database` (or everywhere), made empty
    /// when it has none.
    fn role_settings(&mut self, role: &str, database: &Option<String>) -> &mut Vec<String> {
        let list = &mut self.s.catalog.role_settings;
        let at = match list
            .iter()
            .position(|s| s.role == role && &s.database == database)
        {
            Some(i) => i,
            None => {
                list.push(RoleSetting {
                    role: role.to_owned(),
                    database: database.clone(),
                    settings: Vec::new(),
                });
                list.len() - 1
            }
        };
        &mut list[at].settings
    }

    /// Whether the connecting role is `role`, or a member of it (for the
    /// plan, or in the catalog).
    fn acts_as(&self, role: &str) -> bool {
        let conn = self.conn();
        role == conn
            || self
                .temporary
                .iter()
                .any(|t| t == role || self.member_of(t, role))
            || self.member_of(&conn, role)
            || self
                .s
                .connecting_role
                .memberships
                .iter()
                .any(|m| m.role == role && m.member)
    }

    /// `IN SCHEMA schema` names a schema that exists.
    fn need_default_schema(&self, schema: &Option<String>) -> Result<(), String> {
        match schema {
            Some(n) if !self.s.catalog.schemas.iter().any(|s| &s.name == n) => {
                Err(format!("schema {n:?} does not exist"))
            }
            _ => Ok(()),
        }
    }

    /// Whether `role` holds `privilege` on `object`: granted to it, to
    /// PUBLIC or to a role it is a member of, or as the owner when the ACL
    /// is NULL.
    fn holds(
        &mut self,
        object: &ObjectRef,
        role: &str,
        privilege: Privilege,
    ) -> Result<bool, String> {
        let version = self.version();
        let ty = object.acl_object_type();
        let (owner, acl) = slot(&mut self.s.catalog, object)?;
        let owner = owner.map(|o| o.clone());
        let acl = match acl {
            Some(acl) => acl.clone(),
            None => default_acl(ty, owner.as_deref(), version),
        };
        // The connecting role has the privileges of the roles granted to it
        // for the plan, and of those it is a member of.
        let mut holders = vec![role.to_owned()];
        if role == self.conn() {
            holders.extend(self.temporary.iter().cloned());
            let memberships = &self.s.connecting_role.memberships;
            holders.extend(
                memberships
                    .iter()
                    .filter(|m| m.usage)
                    .map(|m| m.role.clone()),
            );
        }
        Ok(acl.iter().any(|e| {
            e.privilege == privilege
                && (e.is_public()
                    || holders
                        .iter()
                        .any(|h| e.grantee == *h || self.member_of(h, &e.grantee)))
        }))
    }
}
