//! What a plan does, before it is rendered as SQL.

use super::object::ObjectRef;
use crate::acl::Privilege;
use crate::desired::{MembershipOptions, PasswordRef, SettingValue};
use crate::snapshot::DefaultObjectType;

/// One change. A plan is an ordered list of these; rendering groups
/// compatible ones into few statements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `CREATE ROLE role` (NOLOGIN, no attributes).
    CreateRole { role: String },
    /// `GRANT role TO <connecting role>` for the length of the plan, so it
    /// can act as an object's owner without being a superuser.
    TemporaryGrant { role: String },
    /// The matching `REVOKE` at the end.
    TemporaryRevoke { role: String },
    /// `GRANT CREATE ON SCHEMA … TO new_owner` for the length of the plan:
    /// without SUPERUSER, a new owner must be able to create the object in
    /// its schema (and a schema's new owner, in its database).
    TemporaryPrivilege {
        object: ObjectRef,
        privilege: Privilege,
        grantee: String,
    },
    /// The matching `REVOKE` at the end.
    TemporaryPrivilegeRevoke {
        object: ObjectRef,
        privilege: Privilege,
        grantee: String,
    },
    /// `CREATE SCHEMA schema AUTHORIZATION owner`.
    CreateSchema { schema: String, owner: String },
    /// `ALTER … OWNER TO owner`.
    AlterOwner { object: ObjectRef, owner: String },
    /// `GRANT privilege ON object TO grantee [WITH GRANT OPTION]`.
    Grant {
        object: ObjectRef,
        privilege: Privilege,
        grantee: String,
        grant_option: bool,
    },
    /// `REVOKE [GRANT OPTION FOR] privilege ON object FROM grantee [CASCADE]`.
    Revoke {
        object: ObjectRef,
        privilege: Privilege,
        grantee: String,
        grant_option_only: bool,
        cascade: bool,
    },
    /// `ALTER DEFAULT PRIVILEGES FOR ROLE owner [IN SCHEMA s] REVOKE
    /// [GRANT OPTION FOR] … FROM grantee`.
    RevokeDefault {
        owner: String,
        schema: Option<String>,
        object_type: DefaultObjectType,
        privilege: Privilege,
        grantee: String,
        grant_option_only: bool,
    },
    /// `ALTER DEFAULT PRIVILEGES FOR ROLE owner [IN SCHEMA s] GRANT … TO
    /// grantee [WITH GRANT OPTION]`.
    GrantDefault {
        owner: String,
        schema: Option<String>,
        object_type: DefaultObjectType,
        privilege: Privilege,
        grantee: String,
        grant_option: bool,
    },
    /// `GRANT role TO member [WITH ADMIN OPTION, INHERIT …, SET …]`:
    /// options left `None` are not written (PostgreSQL's defaults).
    GrantMembership {
        role: String,
        member: String,
        options: MembershipOptions,
    },
    /// `REVOKE role FROM member [GRANTED BY grantor] [CASCADE]`.
    RevokeMembership {
        role: String,
        member: String,
        granted_by: Option<String>,
        cascade: bool,
    },
    /// `ALTER ROLE role WITH …`.
    AlterRole { role: String, options: RoleOptions },
    /// `ALTER ROLE role WITH PASSWORD :'password_N'`: the plan names the
    /// source; whoever applies it reads the secret and sends a verifier.
    SetPassword { role: String, source: PasswordRef },
    /// `DROP ROLE role`.
    DropRole { role: String },
    /// `ALTER ROLE from RENAME TO to`.
    RenameRole { from: String, to: String },
    /// `ALTER ROLE role [IN DATABASE database] SET name = value`.
    SetSetting {
        role: String,
        database: Option<String>,
        name: String,
        value: SettingValue,
    },
    /// `ALTER ROLE role [IN DATABASE database] RESET name`.
    ResetSetting {
        role: String,
        database: Option<String>,
        name: String,
    },
    /// `COMMENT ON ROLE role IS 'text'` (or `IS NULL`).
    CommentRole {
        role: String,
        description: Option<String>,
    },
    /// `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE
    /// usename = 'role'`.
    TerminateSessions { role: String },
    /// `REASSIGN OWNED BY role TO target`.
    ReassignOwned { role: String, target: String },
    /// `DROP OWNED BY role`: the privileges it holds and what it still
    /// owns in this database.
    DropOwned { role: String },
    /// `DROP ROLE role` of a retired role.
    RetireRole { role: String },
}

/// The attribute changes of one `ALTER ROLE`; `None` leaves one as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleOptions {
    pub login: Option<bool>,
    /// `PASSWORD NULL`: the password is removed (a new one is set by
    /// [`Action::SetPassword`]).
    pub remove_password: bool,
    /// `infinity` or a UTC timestamp.
    pub valid_until: Option<String>,
    pub superuser: Option<bool>,
    pub createdb: Option<bool>,
    pub createrole: Option<bool>,
    pub replication: Option<bool>,
    pub bypassrls: Option<bool>,
    pub inherit: Option<bool>,
    /// -1: no limit.
    pub connection_limit: Option<i32>,
}

impl RoleOptions {
    pub fn is_empty(&self) -> bool {
        *self == RoleOptions::default()
    }

    /// The attributes this takes away, by their SQL name.
    pub fn removed_by_default(&self) -> Vec<&'static str> {
        self.set_to(false)
    }

    /// The attributes this gives that may need review (see
    /// [`crate::power::attribute_review`]), by their SQL name.
    pub fn given(&self) -> Vec<&'static str> {
        self.set_to(true)
    }

    fn set_to(&self, value: bool) -> Vec<&'static str> {
        [
            (self.superuser, "SUPERUSER"),
            (self.createdb, "CREATEDB"),
            (self.createrole, "CREATEROLE"),
            (self.replication, "REPLICATION"),
            (self.bypassrls, "BYPASSRLS"),
        ]
        .into_iter()
        .filter(|(v, _)| *v == Some(value))
        .map(|(_, name)| name)
        .collect()
    }
}

/// An action with the reason shown beside it in the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub action: Action,
    /// Which role and which grant it serves, or why it revokes.
    pub reason: String,
}
