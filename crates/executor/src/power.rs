//! The power rule, checked against the live catalog under the lock.
//!
//! The planner refuses to give power unless the desired file opts in, and
//! lists what it gives in the plan's header. A plan file can still be
//! edited, header and all, by whoever can write it; so `apply` reads the
//! roles a plan's statements hand out (memberships, owners) with everything
//! above them, decides with the planner's own rule which are powerful, and
//! refuses a statement that gives power unless the header lists it *and*
//! the plan was reviewed: signed with the plan key, or its checksum
//! approved (`--expect-checksum`).

use crate::inspect::{query_typed, PgType};
use crate::validate::{Effect, ValidatedStatement};
use crate::Error;
use pgsr_planner::power::{
    attribute_review, is_system_schema, powerful_roles, schema_power, setting_power, PowerGrant,
    PowerWhat, DATABASE_OWNER_POWER, PARAMETER_POWER, POWERFUL_PREDEFINED, RENAME_POWER,
    RETIREMENT_POWER,
};
use pgsr_planner::quote::quote_ident;
use pgsr_planner::snapshot::Role;
use postgres::GenericClient;
use std::collections::{BTreeMap, BTreeSet};

/// One statement's grant of something that may be power.
struct Candidate<'s> {
    statement: &'s ValidatedStatement,
    grantee: &'s str,
    what: PowerWhat,
}

/// Refuses any statement that gives power the plan may not give.
pub fn check(
    client: &mut impl GenericClient,
    statements: &[ValidatedStatement],
    connecting_role: &str,
    listed: &[PowerGrant],
    reviewed: bool,
) -> Result<(), Error> {
    // Nothing in a system schema changes hands: a catalog function or table
    // owned by another role runs or reads with that role's rights.
    for s in statements {
        if let Effect::Owner { class, object, .. } = &s.effect {
            let schema = if class == "SCHEMA" {
                object.first()
            } else {
                object.first().filter(|_| object.len() > 1)
            };
            if let Some(schema) = schema.filter(|s| is_system_schema(s)) {
                return Err(Error::usage(format!(
                    "line {}: {} is a system schema: a plan never changes the owner of it or of anything in it; nothing was applied",
                    s.line,
                    quote_ident(schema)
                )));
            }
        }
    }
    refuse_initdb_objects(client, statements)?;
    let definers = definers(client, statements)?;
    let candidates = candidates(statements, connecting_role, &definers);
    let logins = logins(statements);
    if candidates.is_empty() && logins.is_empty() {
        return Ok(());
    }
    let mut names: BTreeSet<&str> = logins.iter().map(|(_, role, _)| *role).collect();
    for c in &candidates {
        names.insert(c.grantee);
        match &c.what {
            PowerWhat::Membership(r) | PowerWhat::SchemaOwner(r) => names.insert(r),
            PowerWhat::DefinerExecute(r) => names.insert(definers[r].as_str()),
            PowerWhat::Attribute(_) | PowerWhat::Setting(_) => names.insert(c.grantee),
            PowerWhat::RelationOwner(_)
            | PowerWhat::DatabaseOwner(_)
            | PowerWhat::Parameter(_)
            | PowerWhat::Retirement(_)
            | PowerWhat::Rename(_) => false,
        };
    }
    let names: Vec<&str> = names.into_iter().collect();
    let (roles, memberships) = roles_above(client, &names)?;
    let powerful = powerful_roles(
        &roles,
        memberships.iter().map(|(r, m)| (r.as_str(), m.as_str())),
    );
    let exists = |n: &str| roles.iter().any(|r| r.name == n);
    // LOGIN or a password for a role that keeps an attribute beyond
    // privileges: pgsr removes those from every role it lets log in.
    for (statement, role, removed) in &logins {
        let Some(r) = roles.iter().find(|r| r.name == *role) else {
            continue;
        };
        let kept: Vec<&str> = [
            (r.superuser, "SUPERUSER"),
            (r.bypassrls, "BYPASSRLS"),
            (r.replication, "REPLICATION"),
            (r.createrole, "CREATEROLE"),
        ]
        .into_iter()
        .filter(|(set, name)| *set && !removed.contains(name))
        .filter(|(_, name)| {
            // Declared by the file: listed in the header of a reviewed plan.
            !(reviewed
                && listed.iter().any(|g| {
                    g.grantee == *role && g.what == PowerWhat::Attribute((*name).to_owned())
                }))
        })
        .map(|(_, name)| name)
        .collect();
        if !kept.is_empty() {
            return Err(Error::usage(format!(
                "line {}: lets {} log in while it keeps {}: a plan never does; nothing was applied",
                statement.line,
                quote_ident(role),
                kept.join(", ")
            )));
        }
    }
    for c in candidates {
        let why = match &c.what {
            PowerWhat::Membership(role) => powerful.get(role).cloned().or_else(|| {
                POWERFUL_PREDEFINED
                    .contains(&role.as_str())
                    .then(|| format!("predefined role {role}"))
            }),
            PowerWhat::SchemaOwner(schema) => {
                schema_power(schema, c.grantee, exists).or_else(|| {
                    powerful
                        .get(c.grantee)
                        .map(|w| format!("{} is powerful: {w}", c.grantee))
                })
            }
            PowerWhat::RelationOwner(_) => powerful
                .get(c.grantee)
                .map(|w| format!("{} is powerful: {w}", c.grantee)),
            PowerWhat::DatabaseOwner(_) => Some(DATABASE_OWNER_POWER.to_owned()),
            PowerWhat::Parameter(_) => Some(PARAMETER_POWER.to_owned()),
            PowerWhat::DefinerExecute(r) => {
                let owner = definers[r].as_str();
                powerful.get(owner).map(|w| {
                    format!("it is SECURITY DEFINER and runs as {owner}: {owner} is powerful: {w}")
                })
            }
            PowerWhat::Attribute(a) => attribute_review(a).map(str::to_owned),
            PowerWhat::Setting(_) => powerful.get(c.grantee).map(|w| setting_power(w)),
            PowerWhat::Retirement(_) => Some(RETIREMENT_POWER.to_owned()),
            PowerWhat::Rename(_) => Some(RENAME_POWER.to_owned()),
        };
        let Some(why) = why else { continue };
        let gives = match &c.what {
            PowerWhat::Membership(r) => format!("membership of {}", quote_ident(r)),
            PowerWhat::SchemaOwner(s) => format!("ownership of schema {}", quote_ident(s)),
            PowerWhat::RelationOwner(t) => format!("ownership of {t}"),
            PowerWhat::DatabaseOwner(d) => format!("ownership of database {}", quote_ident(d)),
            PowerWhat::Parameter(p) => format!("privileges on parameter {p}"),
            PowerWhat::DefinerExecute(r) => format!("EXECUTE on {r}"),
            PowerWhat::Attribute(a) => a.clone(),
            PowerWhat::Setting(name) => format!("setting {name}"),
            PowerWhat::Retirement(r) => format!("the retirement of {}", quote_ident(r)),
            PowerWhat::Rename(r) => format!("the name of {}", quote_ident(r)),
        };
        // A retirement is listed once, with the role receiving what the
        // retired role owns; its other statements name no receiver.
        let is_listed = listed.iter().any(|g| {
            g.what == c.what
                && (g.grantee == c.grantee || matches!(c.what, PowerWhat::Retirement(_)))
        });
        let refusal = if !is_listed {
            "the plan's header does not list it, so the desired file did not allow it"
        } else if !reviewed {
            "the header lists it, but the plan is neither signed with the plan key nor approved by --expect-checksum, which a plan that gives power must be"
        } else {
            continue;
        };
        return Err(Error::usage(format!(
            "line {}: gives {} {gives} ({why}): {refusal}; nothing was applied",
            c.statement.line,
            quote_ident(c.grantee)
        )));
    }
    Ok(())
}

fn candidates<'s>(
    statements: &'s [ValidatedStatement],
    conn: &str,
    definers: &BTreeMap<String, String>,
) -> Vec<Candidate<'s>> {
    let mut out = Vec::new();
    for s in statements {
        match &s.effect {
            Effect::Execute { routines, grantees } => {
                for routine in routines {
                    let name = routine_name(routine);
                    if !definers.contains_key(&name) {
                        continue;
                    }
                    for grantee in grantees {
                        out.push(Candidate {
                            statement: s,
                            grantee,
                            what: PowerWhat::DefinerExecute(name.clone()),
                        });
                    }
                }
            }
            // Roles granted to the connecting role are the plan's own
            // brackets: it takes them to act as an object's owner.
            Effect::Membership { roles, members } => {
                for member in members.iter().filter(|m| *m != conn) {
                    for role in roles {
                        out.push(Candidate {
                            statement: s,
                            grantee: member,
                            what: PowerWhat::Membership(role.clone()),
                        });
                    }
                }
            }
            Effect::Owner {
                class,
                object,
                owner,
            } if owner != conn => {
                let what = if class == "SCHEMA" {
                    PowerWhat::SchemaOwner(object.join("."))
                } else if class == "DATABASE" {
                    PowerWhat::DatabaseOwner(object.join("."))
                } else {
                    PowerWhat::RelationOwner(
                        object
                            .iter()
                            .map(|p| quote_ident(p))
                            .collect::<Vec<_>>()
                            .join("."),
                    )
                };
                out.push(Candidate {
                    statement: s,
                    grantee: owner,
                    what,
                });
            }
            Effect::ParameterPrivileges {
                parameters,
                grantees,
            } => {
                for grantee in grantees {
                    for parameter in parameters {
                        out.push(Candidate {
                            statement: s,
                            grantee,
                            what: PowerWhat::Parameter(parameter.clone()),
                        });
                    }
                }
            }
            Effect::Attributes { role, gives, .. } => {
                for attribute in gives {
                    out.push(Candidate {
                        statement: s,
                        grantee: role,
                        what: PowerWhat::Attribute(attribute.clone()),
                    });
                }
            }
            Effect::Retire { role, receiver } => out.push(Candidate {
                statement: s,
                grantee: receiver.as_ref().unwrap_or(role),
                what: PowerWhat::Retirement(role.clone()),
            }),
            Effect::Setting { role, setting } => out.push(Candidate {
                statement: s,
                grantee: role,
                what: PowerWhat::Setting(setting.clone()),
            }),
            Effect::Rename { from, to } => out.push(Candidate {
                statement: s,
                grantee: to,
                what: PowerWhat::Rename(from.clone()),
            }),
            Effect::CreateSchema { schema, owner } => out.push(Candidate {
                statement: s,
                grantee: owner,
                what: PowerWhat::SchemaOwner(schema.clone()),
            }),
            _ => {}
        }
    }
    out
}

/// Roles, and memberships as (role, member).
type RolesAbove = (Vec<Role>, Vec<(String, String)>);

/// The statements that let a role log in (LOGIN, or a password), with the
/// attributes that statement and the ones before it take from that role.
fn logins(statements: &[ValidatedStatement]) -> Vec<(&ValidatedStatement, &str, Vec<&str>)> {
    let mut removed: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    let mut out = Vec::new();
    for s in statements {
        let (role, login) = match &s.effect {
            Effect::Attributes {
                role,
                login,
                removes,
                ..
            } => {
                removed
                    .entry(role)
                    .or_default()
                    .extend(removes.iter().map(String::as_str));
                (role, *login)
            }
            Effect::SetPassword { role, .. } => (role, true),
            _ => continue,
        };
        if login {
            out.push((
                s,
                role.as_str(),
                removed.get(role.as_str()).cloned().unwrap_or_default(),
            ));
        }
    }
    out
}

/// The roles named, every role they are members of (through any chain),
/// and those memberships as (role, member): one round trip.
fn roles_above(client: &mut impl GenericClient, names: &[&str]) -> Result<RolesAbove, Error> {
    let rows = query_typed(
        client,
        "WITH RECURSIVE up(oid) AS ( \
             SELECT oid FROM pg_roles WHERE rolname = ANY($1) \
             UNION SELECT am.roleid FROM pg_auth_members am JOIN up ON am.member = up.oid) \
         SELECT r.oid, r.rolname::text, r.rolsuper, r.rolbypassrls, r.rolreplication, r.rolcreaterole, \
                ARRAY(SELECT g.rolname::text FROM pg_auth_members am \
                      JOIN pg_roles g ON g.oid = am.roleid WHERE am.member = r.oid) \
         FROM pg_roles r WHERE r.oid IN (SELECT oid FROM up)",
        &[(&names, PgType::TEXT_ARRAY)],
    )?;
    let mut roles = Vec::new();
    let mut memberships = Vec::new();
    for row in rows {
        let mut role = Role::new(row.get::<_, String>(1), row.get(0));
        role.superuser = row.get(2);
        role.bypassrls = row.get(3);
        role.replication = row.get(4);
        role.createrole = row.get(5);
        for group in row.get::<_, Vec<String>>(6) {
            memberships.push((group, role.name.clone()));
        }
        roles.push(role);
    }
    Ok((roles, memberships))
}

/// Refuses a change of owner of what initdb made (the `pg_default` and
/// `pg_global` tablespaces, the built-in languages, the `postgres` and
/// template databases): a desired file cannot declare it (the planner
/// refuses), so only a forged plan holds one.
fn refuse_initdb_objects(
    client: &mut impl GenericClient,
    statements: &[ValidatedStatement],
) -> Result<(), Error> {
    let mut named: Vec<(&ValidatedStatement, &str, &str)> = Vec::new();
    for s in statements {
        if let Effect::Owner { class, object, .. } = &s.effect {
            if let ("TABLESPACE" | "LANGUAGE" | "DATABASE", [name]) =
                (class.as_str(), object.as_slice())
            {
                named.push((s, class.as_str(), name.as_str()));
            }
        }
    }
    if named.is_empty() {
        return Ok(());
    }
    let names = |class: &str| -> Vec<&str> {
        named
            .iter()
            .filter(|(_, c, _)| *c == class)
            .map(|(_, _, n)| *n)
            .collect()
    };
    let (tablespaces, languages, databases) =
        (names("TABLESPACE"), names("LANGUAGE"), names("DATABASE"));
    let rows = query_typed(
        client,
        "SELECT 'TABLESPACE', spcname::text FROM pg_tablespace WHERE spcname = ANY($1) AND oid < 16384 \
         UNION ALL SELECT 'LANGUAGE', lanname::text FROM pg_language WHERE lanname = ANY($2) AND oid < 16384 \
         UNION ALL SELECT 'DATABASE', datname::text FROM pg_database WHERE datname = ANY($3) AND oid < 16384",
        &[
            (&tablespaces, PgType::TEXT_ARRAY),
            (&languages, PgType::TEXT_ARRAY),
            (&databases, PgType::TEXT_ARRAY),
        ],
    )?;
    if let Some(row) = rows.first() {
        let (class, name): (String, String) = (row.get(0), row.get(1));
        let line = named
            .iter()
            .find(|(_, c, n)| *c == class && *n == name)
            .map_or(0, |(s, _, _)| s.line);
        return Err(Error::usage(format!(
            "line {line}: changes the owner of {} {}, which initdb made: a plan never does; nothing was applied",
            class.to_lowercase(),
            quote_ident(&name)
        )));
    }
    Ok(())
}

/// `schema.name` of a routine as a power grant names it.
fn routine_name(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| quote_ident(p))
        .collect::<Vec<_>>()
        .join(".")
}

/// The `SECURITY DEFINER` routines among those the statements grant
/// EXECUTE on (every overload of a name counts), with their owners: one
/// round trip, only when a statement grants EXECUTE.
fn definers(
    client: &mut impl GenericClient,
    statements: &[ValidatedStatement],
) -> Result<BTreeMap<String, String>, Error> {
    let mut schemas: Vec<&str> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for s in statements {
        if let Effect::Execute { routines, .. } = &s.effect {
            for routine in routines {
                if let [schema, name] = routine.as_slice() {
                    schemas.push(schema);
                    names.push(name);
                }
            }
        }
    }
    if names.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows = query_typed(
        client,
        "SELECT n.nspname::text, p.proname::text, pg_get_userbyid(p.proowner)::text \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE p.prosecdef \
           AND (n.nspname::text, p.proname::text) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
        &[
            (&schemas, PgType::TEXT_ARRAY),
            (&names, PgType::TEXT_ARRAY),
        ],
    )?;
    Ok(rows
        .iter()
        .map(|row| {
            let parts = [row.get::<_, String>(0), row.get::<_, String>(1)];
            (routine_name(&parts), row.get::<_, String>(2))
        })
        .collect())
}
