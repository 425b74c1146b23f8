//! The catalog statement: one part per kind of object, as rows of text.

use super::{Args, Parts, Reader};
use pgsr_planner::quote::quote_literal;
use pgsr_planner::snapshot::{PartialScope, Scope};

/// Objects in these schemas are read only when their ACL is not NULL: their
/// built-in defaults are the same in every database and nobody manages them.
pub(super) const SYSTEM_SCHEMAS: &str = "('pg_catalog', 'information_schema')";

/// Schemas that are per-session or internal and never hold managed objects.
pub(super) const HIDDEN_SCHEMA_FILTER: &str = "n.nspname !~ '^pg_(toast$|temp_|toast_temp_)'";

/// `ARRAY[…]::text[]` of `values`.
fn text_array<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = values.into_iter().map(quote_literal).collect();
    format!("ARRAY[{}]::text[]", items.join(","))
}

/// A partial scope's lists, as the catalog statement names them: the roles
/// (with the roles they are to be members of), the role name prefixes, the
/// schemas, the schemas and names of the relations, the regex schemas.
pub(super) fn scope_arrays(p: &PartialScope, args: Args) -> [String; PARAMETERS] {
    if args == Args::Parameters {
        return std::array::from_fn(|i| format!("${}", i + 1));
    }
    let names = |v: &[String]| text_array(v.iter().map(String::as_str));
    [
        names(&p.roles),
        names(&p.role_prefixes),
        names(&p.schemas),
        text_array(p.relations.iter().map(|q| q.schema.as_str())),
        text_array(p.relations.iter().map(|q| q.name.as_str())),
        names(&p.regex_schemas),
    ]
}

/// How many parameters the prepared catalog statement of a partial scope
/// takes (each `text[]`).
pub(super) const PARAMETERS: usize = 6;

/// Data columns of every row of the catalog statement (the most any kind
/// of object has: roles).
pub(super) const COLUMNS: usize = 11;

/// One part of the catalog statement: the rows of one kind of object.
fn part(kind: char, columns: &[&str], from: &str) -> String {
    assert!(columns.len() <= COLUMNS);
    let mut select = vec![format!("'{kind}'::text")];
    select.extend(columns.iter().map(|c| format!("({c})::text")));
    select.extend((columns.len()..COLUMNS).map(|_| "NULL::text".to_owned()));
    format!("(SELECT {} {from})", select.join(", "))
}

/// The one statement that reads the catalog: a row per object, its kind
/// and then its fields as text.
///
/// A partial scope reads only the roles planning can ask about: the
/// scope's roles (those it names, among them the roles they are to be
/// members of and those that receive ownership taken away, and pgsr's
/// intermediate roles, matched by prefix) and every role above these
/// through any chain (what decides power, with their attributes), roles named like
/// the scope's schemas (`"$user"`), pgsr's intermediate roles, the
/// connecting role, the bootstrap superuser, and the roles whose names
/// differ from a scope role's only by case. It reads every database,
/// schema and default privilege (few, and all needed to plan), the
/// memberships of the scope's roles and of every role above them, and only the objects the scope names,
/// the table-likes of its regex schemas, and the objects where its roles
/// hold privileges or ownership, found through the indexed `pg_shdepend`
/// rather than by scanning every ACL. Lists of oids reach the index scans
/// as `= ANY(ARRAY(subquery))`.
pub(super) fn catalog_statement(
    scope: &Scope,
    v: u32,
    args: Args,
    which: Parts,
    reader: Reader,
) -> String {
    let roles_table = match reader {
        Reader::Any => "pg_roles",
        Reader::Superuser => "pg_authid",
    };
    let partial = match scope {
        Scope::Full => None,
        Scope::Partial(p) => Some(p),
    };
    let arrays = partial.map(|p| scope_arrays(p, args));
    let mut ctes: Vec<String> = Vec::new();
    // Restricts `column` to the oids of `class` the scope holds.
    let only = |column: &str, class: &str| -> String {
        match partial {
            None => String::new(),
            Some(_) if class == "pg_class" => {
                format!(" AND {column} = ANY(ARRAY(SELECT oid FROM scoped_relations))")
            }
            Some(_) => format!(
                " AND {column} = ANY(ARRAY(SELECT objid FROM held WHERE classid = '{class}'::regclass))"
            ),
        }
    };
    let mut roles_filter = String::new();
    let mut memberships_filter = String::new();
    if let Some([roles, prefixes, schemas, relation_schemas, relation_names, regex_schemas]) =
        &arrays
    {
        // The scope's roles: named, or with a name that starts with one of
        // its prefixes (pgsr's intermediate roles). Each prefix is looked
        // up as a range of pg_authid's name index (names sort bytewise; the
        // upper bound is the prefix with its last character incremented),
        // checked by `starts_with`.
        ctes.push(format!(
            "scoped(oid) AS (SELECT oid FROM {roles_table} WHERE rolname = ANY({roles}) \
             UNION SELECT x.oid FROM unnest({prefixes}) AS p(prefix), LATERAL ( \
               SELECT oid FROM {roles_table} WHERE rolname >= p.prefix::name \
                 AND rolname < (left(p.prefix, -1) || chr(ascii(right(p.prefix, 1)) + 1))::name \
                 AND starts_with(rolname::text, p.prefix) OFFSET 0) x)"
        ));
        // The named roles, and every role they are members of, through any
        // chain: what decides their power. Each step looks the members up
        // in pg_auth_members' index (OFFSET 0 keeps the planner from
        // turning the lookup into a scan of every membership).
        if which != Parts::Objects {
            ctes.push(
                "up(oid) AS (SELECT oid FROM scoped \
             UNION SELECT x.roleid FROM up, LATERAL ( \
               SELECT am.roleid FROM pg_auth_members am WHERE am.member = up.oid OFFSET 0) x)"
                    .to_owned(),
            );
        }
        memberships_filter = " WHERE am.member = ANY(ARRAY(SELECT oid FROM up))".to_owned();
        // The roles read, evaluated once for every part about roles. Every
        // branch but the last an index scan (pg_roles' rows are
        // pg_authid's, and names sort bytewise: '_pgsr`' is the first name
        // after every name that starts with '_pgsr_'). The last finds the
        // roles whose names differ from a scope role's only by case, which
        // the planner warns of when a scope role does not exist and would
        // be created: one pass over pg_authid, keeping few rows, and only
        // then (the EXISTS is evaluated once, before the scan).
        if which != Parts::Objects {
            ctes.push(format!(
                "read_roles(oid) AS MATERIALIZED ( \
                 SELECT oid FROM up \
                 UNION SELECT oid FROM {roles_table} WHERE rolname = ANY({schemas}) \
                 UNION SELECT oid FROM {roles_table} WHERE rolname >= '_pgsr_' AND rolname < '_pgsr`' \
                 UNION SELECT oid FROM {roles_table} WHERE rolname = current_user \
                 UNION SELECT 10::oid \
                 UNION SELECT oid FROM {roles_table} \
                   WHERE lower(rolname::text) = ANY(ARRAY(SELECT lower(n) FROM unnest({roles}) AS n)) \
                     AND EXISTS (SELECT FROM unnest({roles}) AS n \
                                 WHERE NOT EXISTS (SELECT FROM {roles_table} e WHERE e.rolname = n)))"
            ));
        }
        roles_filter = " WHERE oid = ANY(ARRAY(SELECT oid FROM read_roles))".to_owned();
        // Where the scope's roles hold privileges or ownership in this
        // database.
        ctes.push(
            "held AS MATERIALIZED (SELECT d.classid, d.objid FROM scoped r \
             JOIN pg_shdepend d ON d.refclassid = 'pg_authid'::regclass AND d.refobjid = r.oid \
             WHERE d.deptype IN ('a', 'o') \
               AND d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()))"
                .to_owned(),
        );
        // The named relations, and every relation of the regex schemas
        // through the indexed pg_depend (pg_class has no index on
        // relnamespace alone).
        if which != Parts::Base {
            ctes.push(format!(
            "scoped_relations AS MATERIALIZED ( \
               SELECT objid AS oid FROM held WHERE classid = 'pg_class'::regclass \
               UNION SELECT c.oid FROM unnest({relation_schemas}, {relation_names}) AS x(s, r) \
                 JOIN pg_namespace n ON n.nspname = x.s \
                 JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = x.r \
               UNION SELECT d.objid FROM pg_namespace n \
                 JOIN pg_depend d ON d.refclassid = 'pg_namespace'::regclass AND d.refobjid = n.oid \
                      AND d.classid = 'pg_class'::regclass \
                 WHERE n.nspname = ANY({regex_schemas}))"
        ));
        }
    }
    let member = if v >= 160000 { "SET" } else { "MEMBER" };
    let (inherit, set) = if v >= 160000 {
        ("am.inherit_option", "am.set_option")
    } else {
        ("NULL", "NULL")
    };
    let mut parts: Vec<String> = vec![
        part(
            'h',
            &[
                "current_setting('server_version_num')",
                "current_database()",
                "d.oid",
                "current_user",
                "r.rolsuper",
                "r.rolcreaterole",
            ],
            &format!(
                "FROM pg_database d, {roles_table} r \
                 WHERE d.datname = current_database() AND r.rolname = current_user"
            ),
        ),
        // A superuser holds everything: its memberships are not read (not
        // even asked for when it was one as it connected).
        part(
            'c',
            &[
                "r.rolname",
                "pg_has_role(current_user, r.oid, 'USAGE')",
                &format!("pg_has_role(current_user, r.oid, '{member}')"),
                "pg_has_role(current_user, r.oid, 'MEMBER WITH ADMIN OPTION')",
            ],
            "FROM pg_roles r \
             WHERE NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) \
               AND r.rolname <> current_user AND pg_has_role(current_user, r.oid, 'MEMBER')",
        ),
        part(
            'r',
            &[
                "oid",
                "rolname",
                "rolsuper",
                "rolinherit",
                "rolcreaterole",
                "rolcreatedb",
                "rolcanlogin",
                "rolreplication",
                "rolbypassrls",
                "rolconnlimit",
                "CASE WHEN rolvaliduntil IS NULL THEN NULL \
                      WHEN rolvaliduntil = 'infinity' THEN 'infinity' \
                      WHEN rolvaliduntil = '-infinity' THEN '-infinity' \
                      ELSE to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') END",
            ],
            &format!("FROM {roles_table}{roles_filter}"),
        ),
        part(
            'm',
            // Names by lookup rather than joins, which a generic plan may
            // make scans of every role: a membership's role and member
            // always exist; its grantor may not before PostgreSQL 16 (NULL
            // then: pg_get_userbyid says "unknown (OID=…)", and only a role
            // that could be so named is looked for).
            &[
                "pg_get_userbyid(am.roleid)",
                "pg_get_userbyid(am.member)",
                &format!(
                    "CASE WHEN pg_get_userbyid(am.grantor) <> 'unknown (OID=' || am.grantor || ')' \
                            OR EXISTS (SELECT FROM {roles_table} g WHERE g.oid = am.grantor) \
                          THEN pg_get_userbyid(am.grantor) END"
                ),
                "am.admin_option",
                inherit,
                set,
            ],
            &format!("FROM pg_auth_members am{memberships_filter}"),
        ),
        part(
            'd',
            &["oid", "datname", "pg_get_userbyid(datdba)", "datacl"],
            "FROM pg_database",
        ),
        part(
            't',
            &["oid", "spcname", "pg_get_userbyid(spcowner)", "spcacl"],
            "FROM pg_tablespace",
        ),
    ];
    // Comments and settings of the roles read.
    let read_roles = match partial {
        None => String::new(),
        Some(_) => " AND {} = ANY(ARRAY(SELECT oid FROM read_roles))".to_owned(),
    };
    parts.push(part(
        'e',
        &["pg_get_userbyid(ds.objoid)", "ds.description"],
        &format!(
            // 1260: pg_authid's oid, fixed in every version.
            "FROM pg_shdescription ds WHERE ds.classoid = 1260{}",
            read_roles.replace("{}", "ds.objoid")
        ),
    ));
    parts.push(part(
        'g',
        &["pg_get_userbyid(rs.setrole)", "rd.datname", "rs.setconfig"],
        &format!(
            "FROM pg_db_role_setting rs LEFT JOIN pg_database rd ON rd.oid = rs.setdatabase              WHERE rs.setrole <> 0{}",
            read_roles.replace("{}", "rs.setrole")
        ),
    ));
    if reader == Reader::Superuser {
        parts.retain(|p| !p.starts_with("(SELECT 'c'::text"));
    }
    if v >= 150000 {
        parts.push(part('p', &["parname", "paracl"], "FROM pg_parameter_acl"));
    }
    parts.push(part(
        's',
        &[
            "n.oid",
            "n.nspname",
            "pg_get_userbyid(n.nspowner)",
            "n.nspacl",
        ],
        &format!("FROM pg_namespace n WHERE {HIDDEN_SCHEMA_FILTER}"),
    ));
    parts.push(part(
        'x',
        &[
            "pg_get_userbyid(d.defaclrole)",
            "n.nspname",
            "d.defaclobjtype",
            "d.defaclacl",
        ],
        "FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace",
    ));
    if which == Parts::Base && partial.is_some() {
        parts.push(part('k', &["count(*)"], "FROM held"));
    }
    if which == Parts::Objects {
        parts.clear();
    }
    if which == Parts::Base {
        return statement(&ctes, &parts);
    }
    parts.push(part(
        'R',
        &[
            "c.oid",
            "n.nspname",
            "c.relname",
            "c.relkind",
            "pg_get_userbyid(c.relowner)",
            "c.relacl",
        ],
        &format!(
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND {HIDDEN_SCHEMA_FILTER} \
               AND (n.nspname NOT IN {SYSTEM_SCHEMAS} OR c.relacl IS NOT NULL){}",
            only("c.oid", "pg_class")
        ),
    ));
    parts.push(part(
        'a',
        &["a.attrelid", "a.attname", "a.attacl"],
        &format!(
            "FROM pg_attribute a \
             WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped{}",
            only("a.attrelid", "pg_class")
        ),
    ));
    parts.push(part(
        'o',
        &["s.oid", "tn.nspname", "t.relname"],
        &format!(
            "FROM pg_class s \
             JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid \
                  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') \
             JOIN pg_class t ON t.oid = d.refobjid \
             JOIN pg_namespace tn ON tn.oid = t.relnamespace \
             WHERE s.relkind = 'S'{}",
            only("s.oid", "pg_class")
        ),
    ));
    parts.push(part(
        'f',
        &[
            "p.oid",
            "n.nspname",
            "p.proname",
            "pg_get_function_identity_arguments(p.oid)",
            "p.prokind",
            "pg_get_userbyid(p.proowner)",
            "p.proacl",
            "p.prosecdef",
        ],
        &format!(
            "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE {HIDDEN_SCHEMA_FILTER} \
               AND (n.nspname NOT IN {SYSTEM_SCHEMAS} OR p.proacl IS NOT NULL){}",
            only("p.oid", "pg_proc")
        ),
    ));
    // Array types and the row types of relations other than composite types
    // take their privileges from elsewhere and cannot be granted on.
    parts.push(part(
        'y',
        &[
            "t.oid",
            "n.nspname",
            "t.typname",
            "t.typtype",
            "pg_get_userbyid(t.typowner)",
            "t.typacl",
        ],
        &format!(
            "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
             LEFT JOIN pg_class c ON c.oid = t.typrelid \
             WHERE {HIDDEN_SCHEMA_FILTER} \
               AND (t.typrelid = 0 OR c.relkind = 'c') \
               AND NOT (t.typelem <> 0 AND t.typlen = -1) \
               AND (n.nspname NOT IN {SYSTEM_SCHEMAS} OR t.typacl IS NOT NULL){}",
            only("t.oid", "pg_type")
        ),
    ));
    // Only trusted languages: USAGE on an untrusted one cannot be granted
    // or revoked (only superusers use them), so it has no privileges to read.
    for (kind, name, owner, acl, table, class, filter) in [
        (
            'l',
            "lanname",
            "lanowner",
            "lanacl",
            "pg_language",
            "pg_language",
            "lanpltrusted",
        ),
        (
            'w',
            "fdwname",
            "fdwowner",
            "fdwacl",
            "pg_foreign_data_wrapper",
            "pg_foreign_data_wrapper",
            "true",
        ),
        (
            'v',
            "srvname",
            "srvowner",
            "srvacl",
            "pg_foreign_server",
            "pg_foreign_server",
            "true",
        ),
    ] {
        parts.push(part(
            kind,
            &["oid", name, &format!("pg_get_userbyid({owner})"), acl],
            &format!("FROM {table} WHERE {filter}{}", only("oid", class)),
        ));
    }
    parts.push(part(
        'L',
        &["oid", "pg_get_userbyid(lomowner)", "lomacl"],
        &format!(
            "FROM pg_largeobject_metadata WHERE true{}",
            only("oid", "pg_largeobject")
        ),
    ));
    statement(&ctes, &parts)
}

/// `WITH RECURSIVE <ctes> <parts joined by UNION ALL>`.
fn statement(ctes: &[String], parts: &[String]) -> String {
    let with = if ctes.is_empty() {
        String::new()
    } else {
        format!("WITH RECURSIVE {} ", ctes.join(", "))
    };
    format!("{with}{}", parts.join("\nUNION ALL "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_literals_survive_either_string_syntax() {
        assert_eq!(quote_literal("a'b\\c"), "E'a''b\\\\c'");
        assert_eq!(quote_literal("a'b"), "'a''b'");
    }
}
