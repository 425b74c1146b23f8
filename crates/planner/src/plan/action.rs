//! What a plan does, before it is rendered as SQL.

use super::object::ObjectRef;
use crate::acl::Privilege;
use crate::desired::PasswordRef;
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
    /// `GRANT role TO member`.
    GrantMembership { role: String, member: String },
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
}

impl RoleOptions {
    pub fn is_empty(&self) -> bool {
        *self == RoleOptions::default()
    }
}

/// An action with the reason shown beside it in the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub action: Action,
    /// Which role and which grant it serves, or why it revokes.
    pub reason: String,
}
