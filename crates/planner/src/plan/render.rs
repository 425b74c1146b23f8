//! Rendering a plan as SQL: sections in apply order, compatible changes
//! combined into few statements, each with a comment saying why.

use super::action::{Action, RoleOptions, Step};
use super::object::ObjectRef;
use super::order::Section;
use super::output::Plan;
use crate::acl::Privilege;
use crate::desired::{MembershipOptions, SettingValue};
use crate::quote::{quote_ident, quote_literal};
use crate::script::{self, Heading};
use crate::statement::{PasswordSlot, Statement, StatementKind};
use std::collections::BTreeMap;

/// Upper bound on the length of one combined statement.
const MAX_STATEMENT_BYTES: usize = 64 * 1024;

/// The whole script: header and body.
pub fn render(plan: &Plan) -> String {
    render_signed(plan, None)
}

/// The whole script, signed with the plan key when one is given.
pub fn render_signed(plan: &Plan, key: Option<&[u8]>) -> String {
    let statements = statements(plan);
    let passwords = password_slots(plan);
    let heading = Heading {
        server_version_num: plan.server_version_num,
        database: &plan.database,
        connecting_role: &plan.connecting_role,
        fingerprint: &plan.fingerprint,
        scope: &plan.scope,
        part: plan.part,
        lock_key: plan.lock_key,
        passwords: &passwords,
        power: &plan.power,
        skipped: &plan.skipped,
        notes: &plan.notes,
        warnings: &plan.warnings,
        summary: &plan.summary,
    };
    script::write(&heading, &statements, key)
}

/// Groups the plan's steps into statements, in order.
pub fn statements(plan: &Plan) -> Vec<Statement> {
    let mut out = Vec::new();
    let slots = password_slots(plan);
    let mut i = 0;
    while i < plan.steps.len() {
        let section = Section::of(&plan.steps[i].action);
        let end = plan.steps[i..]
            .iter()
            .position(|s| Section::of(&s.action) != section)
            .map_or(plan.steps.len(), |n| i + n);
        render_section(
            section,
            &plan.steps[i..end],
            &plan.connecting_role,
            &slots,
            &mut out,
        );
        i = end;
    }
    out
}

fn render_section(
    section: Section,
    steps: &[Step],
    conn: &str,
    slots: &[PasswordSlot],
    out: &mut Vec<Statement>,
) {
    match section {
        Section::TemporaryGrant | Section::TemporaryRevoke => {
            let memberships: Vec<&Step> = steps
                .iter()
                .filter(|s| role_of(&s.action).is_some())
                .collect();
            let roles: Vec<String> = memberships
                .iter()
                .filter_map(|s| role_of(&s.action))
                .map(quote_ident)
                .collect();
            for chunk in chunks(&roles) {
                let (kind, sql) = if section == Section::TemporaryGrant {
                    (
                        StatementKind::GrantRole,
                        format!("GRANT {} TO {}", chunk.join(", "), quote_ident(conn)),
                    )
                } else {
                    (
                        StatementKind::RevokeRole,
                        format!("REVOKE {} FROM {}", chunk.join(", "), quote_ident(conn)),
                    )
                };
                out.push(Statement {
                    kind,
                    reason: memberships[0].reason.clone(),
                    sql,
                    objects: chunk.clone(),
                    grantees: vec![quote_ident(conn)],
                });
            }
            for step in steps {
                match &step.action {
                    Action::TemporaryPrivilege {
                        object,
                        privilege,
                        grantee,
                    } => out.push(Statement {
                        kind: StatementKind::Grant,
                        reason: step.reason.clone(),
                        sql: format!(
                            "GRANT {privilege} ON {} {} TO {}",
                            object.grant_class(),
                            object.sql_name(),
                            quote_ident(grantee)
                        ),
                        objects: vec![object.sql_name()],
                        grantees: vec![quote_ident(grantee)],
                    }),
                    Action::TemporaryPrivilegeRevoke {
                        object,
                        privilege,
                        grantee,
                    } => out.push(Statement {
                        kind: StatementKind::Revoke,
                        reason: step.reason.clone(),
                        sql: format!(
                            "REVOKE {privilege} ON {} {} FROM {}",
                            object.grant_class(),
                            object.sql_name(),
                            quote_ident(grantee)
                        ),
                        objects: vec![object.sql_name()],
                        grantees: vec![quote_ident(grantee)],
                    }),
                    _ => {}
                }
            }
        }
        Section::Revoke | Section::Grant => render_privileges(steps, out),
        Section::GrantMembership => render_membership_grants(steps, out),
        Section::RevokeMembership => render_membership_revokes(steps, out),
        Section::DropRole => {
            let roles: Vec<String> = steps
                .iter()
                .filter_map(|s| role_of(&s.action))
                .map(quote_ident)
                .collect();
            for chunk in chunks(&roles) {
                out.push(Statement {
                    kind: StatementKind::DropRole,
                    reason: steps[0].reason.clone(),
                    sql: format!("DROP ROLE {}", chunk.join(", ")),
                    objects: chunk,
                    grantees: Vec::new(),
                });
            }
        }
        _ => {
            for step in steps {
                out.push(single(step, slots));
            }
        }
    }
}

fn role_of(action: &Action) -> Option<&str> {
    match action {
        Action::TemporaryGrant { role }
        | Action::TemporaryRevoke { role }
        | Action::DropRole { role } => Some(role),
        _ => None,
    }
}

/// The passwords `plan` sets, numbered in plan order: `password_1`, ….
pub fn password_slots(plan: &Plan) -> Vec<PasswordSlot> {
    plan.steps
        .iter()
        .filter_map(|s| match &s.action {
            Action::SetPassword { role, source } => Some((role, source)),
            _ => None,
        })
        .enumerate()
        .map(|(i, (role, source))| PasswordSlot {
            variable: format!("password_{}", i + 1),
            role: role.clone(),
            source: source.clone(),
        })
        .collect()
}

fn password_variable<'s>(slots: &'s [PasswordSlot], role: &str) -> &'s str {
    slots
        .iter()
        .find(|s| s.role == role)
        .map(|s| s.variable.as_str())
        .expect("every SetPassword step has a slot")
}

/// Statements that never combine.
fn single(step: &Step, slots: &[PasswordSlot]) -> Statement {
    let (objects, grantees) = acted_on(&step.action);
    let (kind, sql) = match &step.action {
        Action::CreateRole { role } => (
            StatementKind::CreateRole,
            format!("CREATE ROLE {}", quote_ident(role)),
        ),
        Action::CreateSchema { schema, owner } => (
            StatementKind::CreateSchema,
            format!(
                "CREATE SCHEMA {} AUTHORIZATION {}",
                quote_ident(schema),
                quote_ident(owner)
            ),
        ),
        Action::AlterOwner { object, owner } => (
            StatementKind::AlterOwner,
            format!(
                "ALTER {} {} OWNER TO {}",
                object
                    .alter_class()
                    .expect("only objects with an owner of their own change owner"),
                object.sql_name(),
                quote_ident(owner)
            ),
        ),
        Action::AlterRole { role, options } => (
            StatementKind::AlterRole,
            format!(
                "ALTER ROLE {} WITH {}",
                quote_ident(role),
                role_options(options)
            ),
        ),
        Action::SetPassword { role, .. } => (
            StatementKind::SetPassword,
            format!(
                "ALTER ROLE {} WITH PASSWORD :'{}'",
                quote_ident(role),
                password_variable(slots, role)
            ),
        ),
        Action::RenameRole { from, to } => (
            StatementKind::RenameRole,
            format!(
                "ALTER ROLE {} RENAME TO {}",
                quote_ident(from),
                quote_ident(to)
            ),
        ),
        Action::SetSetting {
            role,
            database,
            name,
            value,
        } => (
            StatementKind::RoleSetting,
            format!(
                "ALTER ROLE {}{} SET {} = {}",
                quote_ident(role),
                in_database(database),
                quote_ident(name),
                setting_value(value)
            ),
        ),
        Action::ResetSetting {
            role,
            database,
            name,
        } => (
            StatementKind::RoleSetting,
            format!(
                "ALTER ROLE {}{} RESET {}",
                quote_ident(role),
                in_database(database),
                quote_ident(name)
            ),
        ),
        Action::CommentRole { role, description } => (
            StatementKind::Comment,
            format!(
                "COMMENT ON ROLE {} IS {}",
                quote_ident(role),
                description
                    .as_deref()
                    .map_or_else(|| "NULL".to_owned(), quote_literal)
            ),
        ),
        Action::TerminateSessions { role } => (
            StatementKind::TerminateSessions,
            format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = {} AND pid <> pg_backend_pid()",
                quote_literal(role)
            ),
        ),
        Action::ReassignOwned { role, target } => (
            StatementKind::ReassignOwned,
            format!(
                "REASSIGN OWNED BY {} TO {}",
                quote_ident(role),
                quote_ident(target)
            ),
        ),
        Action::DropOwned { role } => (
            StatementKind::DropOwned,
            format!("DROP OWNED BY {}", quote_ident(role)),
        ),
        Action::RetireRole { role } => (
            StatementKind::DropRole,
            format!("DROP ROLE {}", quote_ident(role)),
        ),
        other => unreachable!("{other:?} is rendered by its section"),
    };
    Statement {
        kind,
        reason: step.reason.clone(),
        sql,
        objects,
        grantees,
    }
}

/// What a statement that never combines acts on, and for whom, as its
/// SQL names them.
fn acted_on(action: &Action) -> (Vec<String>, Vec<String>) {
    let one = |name: &str| vec![quote_ident(name)];
    match action {
        Action::CreateSchema { schema, owner } => (one(schema), one(owner)),
        Action::AlterOwner { object, owner } => (vec![object.sql_name()], one(owner)),
        Action::RenameRole { from, to } => (one(from), one(to)),
        Action::ReassignOwned { role, target } => (one(role), one(target)),
        Action::CreateRole { role }
        | Action::AlterRole { role, .. }
        | Action::SetPassword { role, .. }
        | Action::SetSetting { role, .. }
        | Action::ResetSetting { role, .. }
        | Action::CommentRole { role, .. }
        | Action::TerminateSessions { role }
        | Action::DropOwned { role }
        | Action::RetireRole { role } => (one(role), Vec::new()),
        _ => (Vec::new(), Vec::new()),
    }
}

fn in_database(database: &Option<String>) -> String {
    database
        .as_deref()
        .map(|d| format!(" IN DATABASE {}", quote_ident(d)))
        .unwrap_or_default()
}

/// A setting's value: each element one literal.
fn setting_value(value: &SettingValue) -> String {
    match value {
        SettingValue::Text(v) => quote_literal(v),
        SettingValue::List(items) => items
            .iter()
            .map(|v| quote_literal(v))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn role_options(o: &RoleOptions) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut flag = |value: Option<bool>, yes: &str, no: &str| {
        if let Some(v) = value {
            parts.push(if v { yes } else { no }.to_owned());
        }
    };
    flag(o.login, "LOGIN", "NOLOGIN");
    flag(o.superuser, "SUPERUSER", "NOSUPERUSER");
    flag(o.createdb, "CREATEDB", "NOCREATEDB");
    flag(o.createrole, "CREATEROLE", "NOCREATEROLE");
    flag(o.replication, "REPLICATION", "NOREPLICATION");
    flag(o.bypassrls, "BYPASSRLS", "NOBYPASSRLS");
    flag(o.inherit, "INHERIT", "NOINHERIT");
    if let Some(n) = o.connection_limit {
        parts.push(format!("CONNECTION LIMIT {n}"));
    }
    if o.remove_password {
        parts.push("PASSWORD NULL".to_owned());
    }
    if let Some(v) = &o.valid_until {
        parts.push(format!("VALID UNTIL {}", quote_literal(v)));
    }
    parts.join(" ")
}

/// The grouping of one privilege statement: everything but its objects and
/// grantees.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PrivilegeShape {
    reason: String,
    grant: bool,
    /// `ON <class>` or, for default privileges, `FOR ROLE … ON <TYPES>`.
    class: String,
    privileges: String,
    /// `GRANT OPTION FOR` in a revoke, `WITH GRANT OPTION` in a grant.
    grant_option_only: bool,
    cascade: bool,
}

/// Combines privilege changes: per grantee and object the privileges are
/// listed together, objects with the same privileges go in one statement,
/// and grantees with the same objects share it.
fn render_privileges(steps: &[Step], out: &mut Vec<Statement>) {
    // (reason, grant, class key, object-or-table, grantee, flags) -> privileges
    type Key = (String, bool, String, String, String, bool, bool);
    let mut per_object: BTreeMap<Key, Vec<String>> = BTreeMap::new();
    for step in steps {
        let (grant, class, target, privilege, grantee, grant_option_only, cascade) = match &step
            .action
        {
            Action::Grant {
                object,
                privilege,
                grantee,
                grant_option,
            } => (
                true,
                object_class(object),
                object.sql_name(),
                privilege_text(object, *privilege),
                grantee,
                *grant_option,
                false,
            ),
            Action::Revoke {
                object,
                privilege,
                grantee,
                grant_option_only,
                cascade,
            } => (
                false,
                object_class(object),
                object.sql_name(),
                privilege_text(object, *privilege),
                grantee,
                *grant_option_only,
                *cascade,
            ),
            Action::RevokeDefault {
                owner,
                schema,
                object_type,
                privilege,
                grantee,
                grant_option_only: option,
            }
            | Action::GrantDefault {
                owner,
                schema,
                object_type,
                privilege,
                grantee,
                grant_option: option,
            } => {
                let mut class = format!("ALTER DEFAULT PRIVILEGES FOR ROLE {}", quote_ident(owner));
                if let Some(s) = schema {
                    class.push_str(&format!(" IN SCHEMA {}", quote_ident(s)));
                }
                class.push_str(&format!("\0{}", object_type.keyword()));
                (
                    matches!(step.action, Action::GrantDefault { .. }),
                    class,
                    String::new(),
                    privilege.keyword().to_owned(),
                    grantee,
                    *option,
                    false,
                )
            }
            other => unreachable!("{other:?} is not a privilege change"),
        };
        let key = (
            step.reason.clone(),
            grant,
            class,
            target,
            grantee_sql(grantee),
            grant_option_only,
            cascade,
        );
        let privileges = per_object.entry(key).or_default();
        if !privileges.contains(&privilege) {
            privileges.push(privilege);
        }
    }
    // shape -> grantee -> objects
    let mut shapes: BTreeMap<PrivilegeShape, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for ((reason, grant, class, target, grantee, grant_option_only, cascade), privileges) in
        per_object
    {
        let shape = PrivilegeShape {
            reason,
            grant,
            class,
            privileges: privileges.join(", "),
            grant_option_only,
            cascade,
        };
        shapes
            .entry(shape)
            .or_default()
            .entry(grantee)
            .or_default()
            .push(target);
    }
    for (shape, grantees) in shapes {
        // Grantees with identical object lists share a statement.
        let mut by_objects: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
        for (grantee, objects) in grantees {
            by_objects.entry(objects).or_default().push(grantee);
        }
        for (objects, grantees) in by_objects {
            let columns = shape.class.starts_with("TABLE\0col");
            let object_chunks = if columns {
                objects.iter().map(|o| vec![o.clone()]).collect()
            } else {
                chunks(&objects)
            };
            for objects in object_chunks {
                for grantees in chunks(&grantees) {
                    out.push(privilege_statement(&shape, &objects, &grantees));
                }
            }
        }
    }
}

fn privilege_statement(
    shape: &PrivilegeShape,
    objects: &[String],
    grantees: &[String],
) -> Statement {
    let option = if shape.grant_option_only {
        "GRANT OPTION FOR "
    } else {
        ""
    };
    let cascade = if shape.cascade { " CASCADE" } else { "" };
    let (object_list, grantee_list) = (objects, grantees);
    let grantees = grantees.join(", ");
    if let Some((prefix, kind)) = shape
        .class
        .split_once('\0')
        .filter(|(p, _)| p.starts_with("ALTER DEFAULT"))
    {
        let sql = if shape.grant {
            let option = if shape.grant_option_only {
                " WITH GRANT OPTION"
            } else {
                ""
            };
            format!(
                "{prefix} GRANT {} ON {kind} TO {grantees}{option}",
                shape.privileges
            )
        } else {
            format!(
                "{prefix} REVOKE {option}{} ON {kind} FROM {grantees}{cascade}",
                shape.privileges
            )
        };
        return Statement {
            kind: StatementKind::AlterDefaultPrivileges,
            reason: shape.reason.clone(),
            sql,
            objects: Vec::new(),
            grantees: grantee_list.to_vec(),
        };
    }
    let class = shape.class.split('\0').next().unwrap_or_default();
    let objects = objects.join(", ");
    let (kind, sql) = if shape.grant {
        (
            StatementKind::Grant,
            format!(
                "GRANT {} ON {class} {objects} TO {grantees}{}",
                shape.privileges,
                if shape.grant_option_only {
                    " WITH GRANT OPTION"
                } else {
                    ""
                }
            ),
        )
    } else {
        (
            StatementKind::Revoke,
            format!(
                "REVOKE {option}{} ON {class} {objects} FROM {grantees}{cascade}",
                shape.privileges
            ),
        )
    };
    Statement {
        kind,
        reason: shape.reason.clone(),
        sql,
        objects: object_list.to_vec(),
        grantees: grantee_list.to_vec(),
    }
}

/// The `ON` class; column privileges are kept apart from table ones because
/// their privileges carry a column list.
fn object_class(object: &ObjectRef) -> String {
    match object {
        ObjectRef::Column { .. } => "TABLE\0columns".to_owned(),
        other => other.grant_class().to_owned(),
    }
}

fn privilege_text(object: &ObjectRef, privilege: Privilege) -> String {
    match object {
        ObjectRef::Column { column, .. } => {
            format!("{} ({})", privilege.keyword(), quote_ident(column))
        }
        _ => privilege.keyword().to_owned(),
    }
}

fn render_membership_grants(steps: &[Step], out: &mut Vec<Statement>) {
    // (reason, options) -> member -> roles
    type Key<'s> = (&'s str, String);
    let mut by_reason: BTreeMap<Key, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for step in steps {
        if let Action::GrantMembership {
            role,
            member,
            options,
        } = &step.action
        {
            by_reason
                .entry((&step.reason, membership_options(options)))
                .or_default()
                .entry(quote_ident(member))
                .or_default()
                .push(quote_ident(role));
        }
    }
    for ((reason, with), members) in by_reason {
        let mut by_roles: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
        for (member, roles) in members {
            by_roles.entry(roles).or_default().push(member);
        }
        for (roles, members) in by_roles {
            for roles in chunks(&roles) {
                for members in chunks(&members) {
                    out.push(Statement {
                        kind: StatementKind::GrantRole,
                        reason: reason.to_owned(),
                        sql: format!("GRANT {} TO {}{with}", roles.join(", "), members.join(", ")),
                        objects: roles.clone(),
                        grantees: members,
                    });
                }
            }
        }
    }
}

/// ` WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`, as far as given.
fn membership_options(o: &MembershipOptions) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if o.admin {
        parts.push("ADMIN OPTION");
    }
    match o.inherit {
        Some(true) => parts.push("INHERIT TRUE"),
        Some(false) => parts.push("INHERIT FALSE"),
        None => {}
    }
    match o.set {
        Some(true) => parts.push("SET TRUE"),
        Some(false) => parts.push("SET FALSE"),
        None => {}
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" WITH {}", parts.join(", "))
    }
}

fn render_membership_revokes(steps: &[Step], out: &mut Vec<Statement>) {
    // (reason, member, granted by, cascade) -> roles
    type Key<'s> = (&'s str, String, Option<String>, bool);
    let mut groups: BTreeMap<Key, Vec<String>> = BTreeMap::new();
    for step in steps {
        if let Action::RevokeMembership {
            role,
            member,
            granted_by,
            cascade,
        } = &step.action
        {
            groups
                .entry((
                    &step.reason,
                    quote_ident(member),
                    granted_by.as_deref().map(quote_ident),
                    *cascade,
                ))
                .or_default()
                .push(quote_ident(role));
        }
    }
    for ((reason, member, granted_by, cascade), roles) in groups {
        let granted_by = granted_by
            .map(|g| format!(" GRANTED BY {g}"))
            .unwrap_or_default();
        let cascade = if cascade { " CASCADE" } else { "" };
        for roles in chunks(&roles) {
            out.push(Statement {
                kind: StatementKind::RevokeRole,
                reason: reason.to_owned(),
                sql: format!(
                    "REVOKE {} FROM {member}{granted_by}{cascade}",
                    roles.join(", ")
                ),
                objects: roles,
                grantees: vec![member.clone()],
            });
        }
    }
}

/// Splits a list so that each piece, joined, stays under the bound.
fn chunks(items: &[String]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut len = 0;
    for item in items {
        if out.is_empty() || len + item.len() + 2 > MAX_STATEMENT_BYTES {
            out.push(Vec::new());
            len = 0;
        }
        len += item.len() + 2;
        out.last_mut().expect("pushed above").push(item.clone());
    }
    out
}

/// A grantee in a privilege statement: PUBLIC as the keyword.
fn grantee_sql(grantee: &str) -> String {
    if grantee == crate::acl::PUBLIC {
        "PUBLIC".to_owned()
    } else {
        quote_ident(grantee)
    }
}
