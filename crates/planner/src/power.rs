//! Power: what a role can do beyond the privileges pgsr declares.
//!
//! Membership of a role lets the member `SET ROLE` to it, so a member of a
//! superuser can become superuser, and a member of `pg_execute_server_program`
//! can run shell commands through `COPY … TO PROGRAM`. A role is *powerful*
//! when it has an attribute that reaches past privileges (SUPERUSER,
//! BYPASSRLS, REPLICATION, CREATEROLE), is one of the predefined roles that
//! reach the server's files, processes or every row, or is a member (through
//! any chain) of a powerful role.
//!
//! pgsr never hands out power silently: the planner refuses a declared
//! membership of a powerful role unless the desired file opts in for the
//! member, and `pgsr apply` checks the same rule against the live catalog
//! under the lock. Both use [`powerful_roles`].

use crate::snapshot::Role;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// Predefined roles whose membership reaches past privileges.
pub const POWERFUL_PREDEFINED: &[&str] = &[
    "pg_execute_server_program",
    "pg_read_server_files",
    "pg_write_server_files",
    "pg_read_all_data",
    "pg_write_all_data",
    "pg_signal_backend",
    "pg_checkpoint",
];

/// Why a role is powerful, in words ("SUPERUSER", "member of \"admins\" (SUPERUSER)").
pub type Why = String;

/// The power a role holds by itself: its attributes, or being predefined.
pub fn own_power(role: &Role) -> Option<Why> {
    let mut attributes = Vec::new();
    for (set, name) in [
        (role.superuser, "SUPERUSER"),
        (role.bypassrls, "BYPASSRLS"),
        (role.replication, "REPLICATION"),
        (role.createrole, "CREATEROLE"),
    ] {
        if set {
            attributes.push(name);
        }
    }
    if !attributes.is_empty() {
        return Some(attributes.join(", "));
    }
    POWERFUL_PREDEFINED
        .contains(&role.name.as_str())
        .then(|| format!("predefined role {}", role.name))
}

/// Every powerful role among `roles` (by name, with why), given the
/// memberships as (role, member) pairs. Roles named in memberships but not
/// in `roles` count only when predefined.
pub fn powerful_roles<'a>(
    roles: impl IntoIterator<Item = &'a Role>,
    memberships: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> BTreeMap<String, Why> {
    let mut powerful: BTreeMap<String, Why> = BTreeMap::new();
    for role in roles {
        if let Some(why) = own_power(role) {
            powerful.insert(role.name.clone(), why);
        }
    }
    let mut members_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (role, member) in memberships {
        if POWERFUL_PREDEFINED.contains(&role) && !powerful.contains_key(role) {
            powerful.insert(role.to_owned(), format!("predefined role {role}"));
        }
        members_of.entry(role).or_default().push(member);
    }
    // Breadth first from every powerful role down to its members, so each
    // role's reason names the shortest chain.
    let mut queue: VecDeque<String> = powerful.keys().cloned().collect();
    while let Some(role) = queue.pop_front() {
        let why = powerful[&role].clone();
        for member in members_of.get(role.as_str()).into_iter().flatten() {
            if !powerful.contains_key(*member) {
                powerful.insert(
                    (*member).to_owned(),
                    format!("member of {} ({why})", crate::quote::quote_ident(&role)),
                );
                queue.push_back((*member).to_owned());
            }
        }
    }
    powerful
}

/// A grant of power a plan contains, listed in its header: `grantee`
/// becomes a member of `role`, or the owner of `object`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PowerGrant {
    pub grantee: String,
    #[serde(flatten)]
    pub what: PowerWhat,
    /// Why it is power, in words.
    pub why: String,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerWhat {
    /// Membership of this role.
    Membership(String),
    /// Ownership of this schema.
    SchemaOwner(String),
    /// Ownership of this table-like (`schema.name`, as written in SQL).
    RelationOwner(String),
    /// Ownership of this database.
    DatabaseOwner(String),
    /// A privilege (SET or ALTER SYSTEM) on this configuration parameter.
    Parameter(String),
    /// EXECUTE on a `SECURITY DEFINER` routine (`schema.name`, as written
    /// in SQL, every overload) whose owner is powerful: it runs with the
    /// owner's rights.
    DefinerExecute(String),
    /// A role attribute that reaches past privileges: SUPERUSER,
    /// CREATEROLE, REPLICATION or BYPASSRLS (see [`attribute_power`]).
    Attribute(String),
    /// The retirement of this role: its sessions ended, what it owns given
    /// to the grantee, the rest of what it owns and holds dropped, and the
    /// role itself.
    Retirement(String),
    /// The renaming of this role to the grantee's name: whoever used the
    /// new name now reaches what the old one held.
    Rename(String),
    /// A setting of the grantee, a powerful role (`name`, or `name in
    /// database d`): it applies to every session the role opens.
    Setting(String),
}

/// Why giving an attribute needs the plan reviewed: the attributes that are
/// power, and CREATEDB.
pub fn attribute_review(attribute: &str) -> Option<&'static str> {
    attribute_power(attribute).or(match attribute {
        "CREATEDB" => Some("a role with CREATEDB creates databases, and owns each one"),
        _ => None,
    })
}

/// Why a setting of a powerful role needs the plan reviewed.
pub fn setting_power(why: &str) -> String {
    format!("the role is powerful ({why}), and its settings (such as search_path) apply to every session it opens")
}

/// Why retiring a role needs the plan reviewed.
pub const RETIREMENT_POWER: &str = "retiring a role ends its sessions, gives what it owns away, drops the rest and the role: it cannot be undone";

/// Why renaming a role needs the plan reviewed.
pub const RENAME_POWER: &str =
    "a renamed role keeps its grants, ownerships and memberships under the new name";

/// Why a role attribute is power, if it is (the attributes [`own_power`]
/// counts).
pub fn attribute_power(attribute: &str) -> Option<&'static str> {
    match attribute {
        "SUPERUSER" => Some("a superuser bypasses every permission check"),
        "CREATEROLE" => Some("a role with CREATEROLE creates and alters roles, and before PostgreSQL 16 grants itself any role but a superuser"),
        "REPLICATION" => Some("a replication role streams every row of the cluster"),
        "BYPASSRLS" => Some("a role with BYPASSRLS reads past every row-level security policy"),
        _ => None,
    }
}

/// Why a privilege on a parameter is power, always.
pub const PARAMETER_POWER: &str = "SET and ALTER SYSTEM on a parameter are a superuser's: superuser-only settings (such as archive_command or session_preload_libraries) can run code as the server";

/// Why owning a database is power, always.
pub const DATABASE_OWNER_POWER: &str = "a database's owner sets defaults (such as search_path) for every session in it, and from PostgreSQL 15 owns its schema public through pg_database_owner";

/// `pg_catalog`, `pg_toast`, `information_schema` and the like: schemas
/// PostgreSQL itself owns and reads.
pub fn is_system_schema(schema: &str) -> bool {
    schema.starts_with("pg_") || schema == "information_schema"
}

/// Why owning schema `schema` is power, if it is: system schemas, `public`
/// (every role's default `search_path` finds what its owner puts there),
/// and a schema named like a role other than its owner (`"$user"` in the
/// default `search_path` makes that role find it first).
pub fn schema_power<'a>(
    schema: &str,
    owner: &str,
    mut role_exists: impl FnMut(&str) -> bool + 'a,
) -> Option<Why> {
    if is_system_schema(schema) {
        return Some(format!("{schema} is a system schema"));
    }
    if schema == "public" {
        return Some(
            "every role's default search_path finds what the owner of schema public puts there"
                .to_owned(),
        );
    }
    if schema != owner && role_exists(schema) {
        return Some(format!(
            "role {schema} finds this schema first on its default search_path (\"$user\")"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str, f: impl FnOnce(&mut Role)) -> Role {
        let mut r = Role::new(name, 1);
        f(&mut r);
        r
    }

    #[test]
    fn power_flows_down_membership_chains() {
        let roles = [
            role("postgres", |r| r.superuser = true),
            role("admins", |_| {}),
            role("alice", |_| {}),
            role("bob", |_| {}),
            role("mgr", |r| r.createrole = true),
        ];
        let memberships = [
            ("postgres", "admins"),
            ("admins", "alice"),
            ("pg_read_server_files", "bob"),
            ("readers", "carol"),
        ];
        let p = powerful_roles(&roles, memberships);
        assert_eq!(p["postgres"], "SUPERUSER");
        assert_eq!(p["mgr"], "CREATEROLE");
        assert_eq!(p["admins"], "member of postgres (SUPERUSER)");
        assert_eq!(
            p["alice"],
            "member of admins (member of postgres (SUPERUSER))"
        );
        assert_eq!(
            p["bob"],
            "member of pg_read_server_files (predefined role pg_read_server_files)"
        );
        assert!(!p.contains_key("carol"));
        assert!(!p.contains_key("readers"));
    }

    #[test]
    fn cycles_end() {
        let roles = [role("a", |r| r.bypassrls = true), role("b", |_| {})];
        let p = powerful_roles(&roles, [("a", "b"), ("b", "a")]);
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn schemas_that_are_power() {
        let exists = |n: &str| n == "postgres" || n == "alice";
        assert!(schema_power("pg_catalog", "alice", exists).is_some());
        assert!(schema_power("information_schema", "alice", exists).is_some());
        assert!(schema_power("public", "alice", exists).is_some());
        assert!(schema_power("postgres", "alice", exists).is_some());
        assert!(schema_power("alice", "alice", exists).is_none());
        assert!(schema_power("sales", "alice", exists).is_none());
    }
}
