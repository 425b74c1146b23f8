//! Reading the catalog into a snapshot.
//!
//! A fixed number of queries, one per kind of catalog object (never one per
//! object), all inside one REPEATABLE READ transaction so that they see one
//! consistent state. Only world-readable catalogs are read (`pg_roles`, never
//! `pg_authid`), so a non-superuser can inspect.

use crate::connect::describe;
use crate::Error;
use pgsr_planner::acl::{parse_aclitem, AclEntry};
use pgsr_planner::snapshot::*;
pub(crate) use postgres::types::Type as PgType;
use postgres::{Client, GenericClient, IsolationLevel, Row};
use std::collections::HashMap;

/// Objects in these schemas are read only when their ACL is not NULL: their
/// built-in defaults are the same in every database and nobody manages them.
const SYSTEM_SCHEMAS: &str = "('pg_catalog', 'information_schema')";

/// Schemas that are per-session or internal and never hold managed objects.
const HIDDEN_SCHEMA_FILTER: &str = "n.nspname !~ '^pg_(toast$|temp_|toast_temp_)'";

/// Takes a full snapshot in its own read-only REPEATABLE READ transaction.
pub fn inspect(client: &mut Client) -> Result<Snapshot, Error> {
    inspect_scope(client, &Scope::Full)
}

/// Reads a full snapshot with whatever transaction the caller has open.
pub fn read_snapshot(client: &mut impl GenericClient) -> Result<Snapshot, Error> {
    read_snapshot_in(client, &Scope::Full)
}

/// Takes a snapshot of `scope` in its own read-only REPEATABLE READ
/// transaction.
pub fn inspect_scope(client: &mut Client, scope: &Scope) -> Result<Snapshot, Error> {
    let mut tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(db_error)?;
    let snapshot = read_snapshot_in(&mut tx, scope)?;
    tx.commit().map_err(db_error)?;
    Ok(snapshot)
}

/// Reads the part of the catalog `scope` names, with whatever transaction
/// the caller has open. A partial scope reads every role, database, schema
/// and default privilege (few, and all needed to plan), but only the
/// memberships of its roles (those it names and those its prefixes match),
/// and only the objects it names, the table-likes of its regex schemas, and
/// the objects where its roles hold privileges or ownership, found through
/// the indexed `pg_shdepend` rather than by scanning every ACL.
pub fn read_snapshot_in(client: &mut impl GenericClient, scope: &Scope) -> Result<Snapshot, Error> {
    let header = client
        .query_typed_one(
            "SELECT current_setting('server_version_num')::int4, current_database()::text, \
                    d.oid, current_user::text, r.rolsuper, r.rolcreaterole \
             FROM pg_database d, pg_roles r \
             WHERE d.datname = current_database() AND r.rolname = current_user",
            &[],
        )
        .map_err(db_error)?;
    let server_version_num = header.get::<_, i32>(0) as u32;
    let superuser: bool = header.get(4);
    let mut snapshot = Snapshot {
        format_version: FORMAT_VERSION,
        server_version_num,
        database: DatabaseIdent {
            name: header.get(1),
            oid: header.get(2),
        },
        connecting_role: ConnectingRole {
            name: header.get(3),
            superuser,
            createrole: header.get(5),
            memberships: if superuser {
                Vec::new()
            } else {
                connecting_memberships(client, server_version_num)?
            },
        },
        scope: scope.clone(),
        fingerprint: String::new(),
        catalog: Catalog::default(),
    };
    let objects = match scope {
        Scope::Full => None,
        Scope::Partial(partial) => Some(scoped_objects(client, partial)?),
    };
    let only = |class: &str| {
        objects
            .as_ref()
            .map(|o| o.get(class).cloned().unwrap_or_default())
    };
    let c = &mut snapshot.catalog;
    c.roles = roles(client)?;
    let members = match scope {
        Scope::Full => None,
        Scope::Partial(p) => Some(p),
    };
    c.memberships = memberships(client, server_version_num, members)?;
    c.databases = shared_objects(
        client,
        "SELECT oid, datname::text, pg_get_userbyid(datdba)::text, datacl::text[] FROM pg_database",
    )?;
    c.tablespaces = shared_objects(client, "SELECT oid, spcname::text, pg_get_userbyid(spcowner)::text, spcacl::text[] FROM pg_tablespace")?;
    if server_version_num >= 150000 {
        c.parameters = parameters(client)?;
    }
    c.schemas = schemas(client)?;
    c.relations = relations(client, only("pg_class").as_deref())?;
    c.routines = routines(client, only("pg_proc").as_deref())?;
    c.types = types(client, only("pg_type").as_deref())?;
    c.languages = named_objects(
        client,
        "SELECT oid, lanname::text, pg_get_userbyid(lanowner)::text, lanacl::text[] FROM pg_language",
        only("pg_language").as_deref(),
    )?;
    c.large_objects = large_objects(client, only("pg_largeobject").as_deref())?;
    c.foreign_data_wrappers = named_objects(
        client,
        "SELECT oid, fdwname::text, pg_get_userbyid(fdwowner)::text, fdwacl::text[] FROM pg_foreign_data_wrapper",
        only("pg_foreign_data_wrapper").as_deref(),
    )?;
    c.foreign_servers = named_objects(
        client,
        "SELECT oid, srvname::text, pg_get_userbyid(srvowner)::text, srvacl::text[] FROM pg_foreign_server",
        only("pg_foreign_server").as_deref(),
    )?;
    c.default_privileges = default_privileges(client)?;
    snapshot.canonicalize();
    Ok(snapshot)
}

pub(crate) fn db_error(e: postgres::Error) -> Error {
    Error::database(format!("reading the catalog failed: {}", describe(&e)))
}

fn query(client: &mut impl GenericClient, sql: &str) -> Result<Vec<Row>, Error> {
    client.query_typed(sql, &[]).map_err(db_error)
}

/// One round trip with typed parameters (no prepared statement).
pub(crate) fn query_typed(
    client: &mut impl GenericClient,
    sql: &str,
    params: &[(&(dyn postgres::types::ToSql + Sync), PgType)],
) -> Result<Vec<Row>, Error> {
    client.query_typed(sql, params).map_err(db_error)
}

/// Runs `sql` (which ends in a WHERE clause), restricted to rows whose
/// `column` is one of `only` when a scope gives such a list.
fn query_in(
    client: &mut impl GenericClient,
    sql: &str,
    column: &str,
    only: Option<&[u32]>,
) -> Result<Vec<Row>, Error> {
    match only {
        None => query(client, sql),
        // Nothing of this kind is in scope: no round trip.
        Some([]) => Ok(Vec::new()),
        Some(oids) => client
            .query_typed(
                &format!("{sql} AND {column} = ANY($1)"),
                &[(&oids, PgType::OID_ARRAY)],
            )
            .map_err(db_error),
    }
}

/// The objects of a partial scope, by catalog (`pg_class`, `pg_proc`, …).
fn scoped_objects(
    client: &mut impl GenericClient,
    p: &PartialScope,
) -> Result<HashMap<String, Vec<u32>>, Error> {
    let mut out: HashMap<String, Vec<u32>> = HashMap::new();
    // Where the scope's roles hold privileges or ownership in this database.
    let held = client
        .query_typed(
            &format!(
                "SELECT d.classid::regclass::text, d.objid FROM pg_roles r \
                 JOIN pg_shdepend d ON d.refclassid = 'pg_authid'::regclass AND d.refobjid = r.oid \
                 WHERE {} AND d.deptype IN ('a', 'o') \
                   AND d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
                in_scope("r")
            ),
            &[
                (&p.roles, PgType::TEXT_ARRAY),
                (&p.role_prefixes, PgType::TEXT_ARRAY),
            ],
        )
        .map_err(db_error)?;
    for r in &held {
        out.entry(r.get(0)).or_default().push(r.get(1));
    }
    let (schemas, names): (Vec<&str>, Vec<&str>) = p
        .relations
        .iter()
        .map(|q| (q.schema.as_str(), q.name.as_str()))
        .unzip();
    let named = client
        .query_typed(
            "SELECT c.oid FROM unnest($1::text[], $2::text[]) AS x(s, r) \
             JOIN pg_namespace n ON n.nspname = x.s \
             JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = x.r",
            &[(&schemas, PgType::TEXT_ARRAY), (&names, PgType::TEXT_ARRAY)],
        )
        .map_err(db_error)?;
    // Every relation of the regex schemas, through the indexed pg_depend
    // (pg_class has no index on relnamespace alone).
    let searched = client
        .query_typed(
            "SELECT d.objid FROM pg_namespace n \
             JOIN pg_depend d ON d.refclassid = 'pg_namespace'::regclass AND d.refobjid = n.oid \
                  AND d.classid = 'pg_class'::regclass \
             WHERE n.nspname = ANY($1)",
            &[(&p.regex_schemas, PgType::TEXT_ARRAY)],
        )
        .map_err(db_error)?;
    let relations = out.entry("pg_class".to_owned()).or_default();
    relations.extend(named.iter().chain(&searched).map(|r| r.get::<_, u32>(0)));
    for oids in out.values_mut() {
        oids.sort_unstable();
        oids.dedup();
    }
    Ok(out)
}

/// SQL that holds for a role (`pg_roles` as `alias`) of a partial scope:
/// named in `$1`, or with a name starting with one of the prefixes in `$2`.
fn in_scope(alias: &str) -> String {
    format!(
        "({alias}.rolname = ANY($1) OR EXISTS (SELECT FROM unnest($2::text[]) AS p(prefix) \
         WHERE starts_with({alias}.rolname::text, p.prefix)))"
    )
}

fn acl(row: &Row, index: usize) -> Result<Option<Vec<AclEntry>>, Error> {
    let items: Option<Vec<String>> = row.get(index);
    items
        .map(|items| {
            let mut entries = Vec::with_capacity(items.len() * 2);
            for item in &items {
                parse_aclitem(item, &mut entries).map_err(|e| Error::database(e.to_string()))?;
            }
            Ok(entries)
        })
        .transpose()
}

fn connecting_memberships(
    client: &mut impl GenericClient,
    server_version_num: u32,
) -> Result<Vec<ConnectingMembership>, Error> {
    let member = if server_version_num >= 160000 {
        "SET"
    } else {
        "MEMBER"
    };
    let sql = format!(
        "SELECT r.rolname::text, pg_has_role(current_user, r.oid, 'USAGE'), \
                pg_has_role(current_user, r.oid, '{member}'), \
                pg_has_role(current_user, r.oid, 'MEMBER WITH ADMIN OPTION') \
         FROM pg_roles r \
         WHERE r.rolname <> current_user AND pg_has_role(current_user, r.oid, 'MEMBER')"
    );
    Ok(query(client, &sql)?
        .iter()
        .map(|r| ConnectingMembership {
            role: r.get(0),
            usage: r.get(1),
            member: r.get(2),
            admin: r.get(3),
        })
        .collect())
}

fn roles(client: &mut impl GenericClient) -> Result<Vec<Role>, Error> {
    let rows = query(
        client,
        "SELECT oid, rolname::text, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, \
                rolreplication, rolbypassrls, rolconnlimit, \
                CASE WHEN rolvaliduntil IS NULL THEN NULL \
                     WHEN rolvaliduntil = 'infinity' THEN 'infinity' \
                     WHEN rolvaliduntil = '-infinity' THEN '-infinity' \
                     ELSE to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') END \
         FROM pg_roles",
    )?;
    Ok(rows
        .iter()
        .map(|r| Role {
            oid: r.get(0),
            name: r.get(1),
            superuser: r.get(2),
            inherit: r.get(3),
            createrole: r.get(4),
            createdb: r.get(5),
            canlogin: r.get(6),
            replication: r.get(7),
            bypassrls: r.get(8),
            connection_limit: r.get(9),
            valid_until: r.get(10),
        })
        .collect())
}

fn memberships(
    client: &mut impl GenericClient,
    server_version_num: u32,
    members: Option<&PartialScope>,
) -> Result<Vec<Membership>, Error> {
    let options = if server_version_num >= 160000 {
        "am.inherit_option, am.set_option"
    } else {
        "NULL::bool, NULL::bool"
    };
    let sql = format!(
        "SELECT r.rolname::text, m.rolname::text, g.rolname::text, am.admin_option, {options} \
         FROM pg_auth_members am \
         JOIN pg_roles r ON r.oid = am.roleid \
         JOIN pg_roles m ON m.oid = am.member \
         LEFT JOIN pg_roles g ON g.oid = am.grantor"
    );
    let rows = match members {
        None => query(client, &sql)?,
        // The scope's roles' memberships, and those of every role they are
        // members of, through any chain: what decides their power.
        Some(p) => client
            .query_typed(
                &format!(
                    "WITH RECURSIVE up(oid) AS ( \
                         SELECT oid FROM pg_roles m WHERE {} \
                         UNION SELECT am.roleid FROM pg_auth_members am JOIN up ON am.member = up.oid) \
                     {sql} WHERE am.member IN (SELECT oid FROM up)",
                    in_scope("m")
                ),
                &[
                    (&p.roles, PgType::TEXT_ARRAY),
                    (&p.role_prefixes, PgType::TEXT_ARRAY),
                ],
            )
            .map_err(db_error)?,
    };
    Ok(rows
        .iter()
        .map(|r| Membership {
            role: r.get(0),
            member: r.get(1),
            grantor: r.get(2),
            admin_option: r.get(3),
            inherit_option: r.get(4),
            set_option: r.get(5),
        })
        .collect())
}

fn shared_objects(client: &mut impl GenericClient, sql: &str) -> Result<Vec<SharedObject>, Error> {
    query(client, sql)?
        .iter()
        .map(|r| {
            Ok(SharedObject {
                oid: r.get(0),
                name: r.get(1),
                owner: r.get(2),
                acl: acl(r, 3)?,
            })
        })
        .collect()
}

fn named_objects(
    client: &mut impl GenericClient,
    sql: &str,
    only: Option<&[u32]>,
) -> Result<Vec<NamedObject>, Error> {
    query_in(client, &format!("{sql} WHERE true"), "oid", only)?
        .iter()
        .map(|r| {
            Ok(NamedObject {
                oid: r.get(0),
                name: r.get(1),
                owner: r.get(2),
                acl: acl(r, 3)?,
            })
        })
        .collect()
}

fn parameters(client: &mut impl GenericClient) -> Result<Vec<Parameter>, Error> {
    query(
        client,
        "SELECT parname::text, paracl::text[] FROM pg_parameter_acl",
    )?
    .iter()
    .map(|r| {
        Ok(Parameter {
            name: r.get(0),
            acl: acl(r, 1)?,
        })
    })
    .collect()
}

fn schemas(client: &mut impl GenericClient) -> Result<Vec<Schema>, Error> {
    let sql = format!(
        "SELECT n.oid, n.nspname::text, pg_get_userbyid(n.nspowner)::text, n.nspacl::text[] \
         FROM pg_namespace n WHERE {HIDDEN_SCHEMA_FILTER}"
    );
    query(client, &sql)?
        .iter()
        .map(|r| {
            Ok(Schema {
                oid: r.get(0),
                name: r.get(1),
                owner: r.get(2),
                acl: acl(r, 3)?,
            })
        })
        .collect()
}

fn relations(
    client: &mut impl GenericClient,
    only: Option<&[u32]>,
) -> Result<Vec<Relation>, Error> {
    let sql = format!(
        "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text, \
                pg_get_userbyid(c.relowner)::text, c.relacl::text[] \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND {HIDDEN_SCHEMA_FILTER} \
           AND (n.nspname NOT IN {SYSTEM_SCHEMAS} OR c.relacl IS NOT NULL)"
    );
    let rows = query_in(client, &sql, "c.oid", only)?;
    let mut relations = Vec::with_capacity(rows.len());
    let mut by_oid = HashMap::with_capacity(rows.len());
    for r in &rows {
        let relkind: String = r.get(3);
        let kind = RelKind::from_relkind(&relkind)
            .ok_or_else(|| Error::database(format!("unexpected relkind {relkind:?}")))?;
        by_oid.insert(r.get::<_, u32>(0), relations.len());
        relations.push(Relation {
            oid: r.get(0),
            schema: r.get(1),
            name: r.get(2),
            kind,
            owner: r.get(4),
            acl: acl(r, 5)?,
            columns: Vec::new(),
            owned_by: None,
        });
    }
    for r in &query_in(
        client,
        "SELECT a.attrelid, a.attname::text, a.attacl::text[] FROM pg_attribute a \
         WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped",
        "a.attrelid",
        only,
    )? {
        if let Some(&i) = by_oid.get(&r.get::<_, u32>(0)) {
            let entries = acl(r, 2)?.unwrap_or_default();
            relations[i].columns.push(ColumnAcl {
                name: r.get(1),
                acl: entries,
            });
        }
    }
    for r in &query_in(
        client,
        "SELECT s.oid, tn.nspname::text, t.relname::text \
         FROM pg_class s \
         JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid \
              AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') \
         JOIN pg_class t ON t.oid = d.refobjid \
         JOIN pg_namespace tn ON tn.oid = t.relnamespace \
         WHERE s.relkind = 'S'",
        "s.oid",
        only,
    )? {
        if let Some(&i) = by_oid.get(&r.get::<_, u32>(0)) {
            relations[i].owned_by = Some(QualifiedName {
                schema: r.get(1),
                name: r.get(2),
            });
        }
    }
    Ok(relations)
}

fn routines(client: &mut impl GenericClient, only: Option<&[u32]>) -> Result<Vec<Routine>, Error> {
    let sql = format!(
        "SELECT p.oid, n.nspname::text, p.proname::text, pg_get_function_identity_arguments(p.oid), \
                p.prokind::text, pg_get_userbyid(p.proowner)::text, p.proacl::text[] \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE {HIDDEN_SCHEMA_FILTER} AND (n.nspname NOT IN {SYSTEM_SCHEMAS} OR p.proacl IS NOT NULL)"
    );
    query_in(client, &sql, "p.oid", only)?
        .iter()
        .map(|r| {
            let prokind: String = r.get(4);
            Ok(Routine {
                oid: r.get(0),
                schema: r.get(1),
                name: r.get(2),
                arguments: r.get(3),
                kind: RoutineKind::from_prokind(&prokind)
                    .ok_or_else(|| Error::database(format!("unexpected prokind {prokind:?}")))?,
                owner: r.get(5),
                acl: acl(r, 6)?,
            })
        })
        .collect()
}

fn types(client: &mut impl GenericClient, only: Option<&[u32]>) -> Result<Vec<Type>, Error> {
    // Array types and the row types of relations other than composite types
    // take their privileges from elsewhere and cannot be granted on.
    let sql = format!(
        "SELECT t.oid, n.nspname::text, t.typname::text, t.typtype::text, \
                pg_get_userbyid(t.typowner)::text, t.typacl::text[] \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         LEFT JOIN pg_class c ON c.oid = t.typrelid \
         WHERE {HIDDEN_SCHEMA_FILTER} \
           AND (t.typrelid = 0 OR c.relkind = 'c') \
           AND NOT (t.typelem <> 0 AND t.typlen = -1) \
           AND (n.nspname NOT IN {SYSTEM_SCHEMAS} OR t.typacl IS NOT NULL)"
    );
    query_in(client, &sql, "t.oid", only)?
        .iter()
        .map(|r| {
            let typtype: String = r.get(3);
            Ok(Type {
                oid: r.get(0),
                schema: r.get(1),
                name: r.get(2),
                kind: TypeKind::from_typtype(&typtype)
                    .ok_or_else(|| Error::database(format!("unexpected typtype {typtype:?}")))?,
                owner: r.get(4),
                acl: acl(r, 5)?,
            })
        })
        .collect()
}

fn large_objects(
    client: &mut impl GenericClient,
    only: Option<&[u32]>,
) -> Result<Vec<LargeObject>, Error> {
    query_in(
        client,
        "SELECT oid, pg_get_userbyid(lomowner)::text, lomacl::text[] FROM pg_largeobject_metadata WHERE true",
        "oid",
        only,
    )?
    .iter()
    .map(|r| {
        Ok(LargeObject {
            oid: r.get(0),
            owner: r.get(1),
            acl: acl(r, 2)?,
        })
    })
    .collect()
}

fn default_privileges(client: &mut impl GenericClient) -> Result<Vec<DefaultPrivilege>, Error> {
    query(
        client,
        "SELECT pg_get_userbyid(d.defaclrole)::text, n.nspname::text, d.defaclobjtype::text, d.defaclacl::text[] \
         FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace",
    )?
    .iter()
    .map(|r| {
        let objtype: String = r.get(2);
        Ok(DefaultPrivilege {
            role: r.get(0),
            schema: r.get(1),
            object_type: DefaultObjectType::from_defaclobjtype(&objtype)
                .ok_or_else(|| Error::database(format!("unexpected defaclobjtype {objtype:?}")))?,
            acl: acl(r, 3)?.unwrap_or_default(),
        })
    })
    .collect()
}
