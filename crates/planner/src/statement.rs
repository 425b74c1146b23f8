//! Statements as a plan holds them: their kinds (counted in the script's
//! header), the rendered statements, and the password variables.

use crate::desired::PasswordRef;

/// The kinds of statement a plan holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StatementKind {
    CreateRole,
    AlterRole,
    DropRole,
    CreateSchema,
    AlterOwner,
    Grant,
    Revoke,
    AlterDefaultPrivileges,
    GrantRole,
    RevokeRole,
    SetPassword,
    RenameRole,
    RoleSetting,
    Comment,
    TerminateSessions,
    ReassignOwned,
    DropOwned,
}

impl StatementKind {
    pub const ALL: [StatementKind; 17] = [
        StatementKind::CreateRole,
        StatementKind::AlterRole,
        StatementKind::DropRole,
        StatementKind::CreateSchema,
        StatementKind::AlterOwner,
        StatementKind::Grant,
        StatementKind::Revoke,
        StatementKind::AlterDefaultPrivileges,
        StatementKind::GrantRole,
        StatementKind::RevokeRole,
        StatementKind::SetPassword,
        StatementKind::RenameRole,
        StatementKind::RoleSetting,
        StatementKind::Comment,
        StatementKind::TerminateSessions,
        StatementKind::ReassignOwned,
        StatementKind::DropOwned,
    ];

    pub fn from_label(label: &str) -> Option<StatementKind> {
        StatementKind::ALL.into_iter().find(|k| k.label() == label)
    }

    pub fn label(self) -> &'static str {
        match self {
            StatementKind::CreateRole => "create-role",
            StatementKind::AlterRole => "alter-role",
            StatementKind::DropRole => "drop-role",
            StatementKind::CreateSchema => "create-schema",
            StatementKind::AlterOwner => "alter-owner",
            StatementKind::Grant => "grant",
            StatementKind::Revoke => "revoke",
            StatementKind::AlterDefaultPrivileges => "default-privileges",
            StatementKind::GrantRole => "grant-role",
            StatementKind::RevokeRole => "revoke-role",
            StatementKind::SetPassword => "password",
            StatementKind::RenameRole => "rename-role",
            StatementKind::RoleSetting => "role-setting",
            StatementKind::Comment => "comment",
            StatementKind::TerminateSessions => "terminate-sessions",
            StatementKind::ReassignOwned => "reassign-owned",
            StatementKind::DropOwned => "drop-owned",
        }
    }
}

/// One rendered statement, without its terminating semicolon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub kind: StatementKind,
    pub reason: String,
    pub sql: String,
    /// What the statement acts on, as the SQL names them: objects, or the
    /// roles granted, created, altered or dropped.
    pub objects: Vec<String>,
    /// Whom it grants to or revokes from, or the new owner, as the SQL
    /// names them.
    pub grantees: Vec<String>,
}

/// A password a plan sets: the psql variable that stands for it in the
/// script, whose password, and where the secret comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordSlot {
    pub variable: String,
    pub role: String,
    pub source: PasswordRef,
}
