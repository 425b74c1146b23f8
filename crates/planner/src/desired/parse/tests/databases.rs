//! `databases` at the top level and `database` on a grant.

use super::*;
use crate::desired::DatabaseSet;

fn sets(text: &str) -> (Option<DatabaseSet>, Vec<Option<DatabaseSet>>) {
    let d = ok(text);
    let grants = d.roles[0]
        .grants
        .iter()
        .map(|g| g.databases.clone())
        .collect();
    (d.databases, grants)
}

#[test]
fn the_three_forms_of_a_set_of_databases() {
    for (form, include, exclude) in [
        ("\"*\"", vec!["*"], vec![]),
        ("[app, \"web_*\"]", vec!["app", "web_*"], vec![]),
        ("{exclude: [postgres]}", vec!["*"], vec!["postgres"]),
        ("{include: \"a*\", exclude: ab}", vec!["a*"], vec!["ab"]),
    ] {
        let (top, _) = sets(&format!("databases: {form}\nroles:\n  - name: r\n"));
        let top = top.expect("databases");
        assert_eq!(top.include, include, "{form}");
        assert_eq!(top.exclude, exclude, "{form}");
    }
}

#[test]
fn a_set_holds_what_it_includes_and_does_not_exclude() {
    let (top, _) =
        sets("databases: {include: [\"app_*\", web], exclude: app_old}\nroles:\n  - name: r\n");
    let top = top.expect("databases");
    for (name, held) in [
        ("app_1", true),
        ("web", true),
        ("app_old", false),
        ("apps", false),
        ("postgres", false),
    ] {
        assert_eq!(top.contains(name), held, "{name}");
    }
}

#[test]
fn a_grant_names_its_databases_beside_its_kind() {
    let (top, grants) = sets(&role_with(&[
        "schema_usage: s\n        database: app",
        "database: [a, b]\n        table_select: {schema: s, table: t}",
        "schema_create: s",
        "profile: {name: read, schema: s}\n        database: \"*\"",
    ]));
    assert_eq!(top, None);
    let names: Vec<Option<Vec<String>>> = grants
        .iter()
        .map(|g| g.as_ref().map(|s| s.include.clone()))
        .collect();
    assert_eq!(names[0], Some(vec!["app".to_owned()]));
    assert_eq!(names[1], Some(vec!["a".to_owned(), "b".to_owned()]));
    assert_eq!(names[2], None);
    // Every grant a profile expands to takes the profile's databases.
    assert!(names.len() > 3);
    assert!(names[3..].iter().all(|n| *n == Some(vec!["*".to_owned()])));
}

#[test]
fn for_database_keeps_the_grants_that_apply_there() {
    let d = ok(&format!(
        "databases: \"*\"\n{}",
        role_with(&[
            "schema_usage: s\n        database: app",
            "schema_create: s\n        database: {exclude: app}",
            "schema_ownership: everywhere",
            "database_connect: app",
        ])
    ));
    let kinds = |db: &str| -> Vec<String> {
        d.for_database(db).roles[0]
            .grants
            .iter()
            .map(|g| {
                format!("{:?}", g.kind)
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(
        kinds("app"),
        ["SchemaUsage", "SchemaOwnership", "DatabaseConnect"]
    );
    assert_eq!(
        kinds("web"),
        ["SchemaCreate", "SchemaOwnership", "DatabaseConnect"]
    );
}

#[test]
fn bad_sets_of_databases_say_where() {
    for (text, marker, needle) in [
        (
            role_with(&["database_connect: app\n        database: zz"]),
            "zz",
            "`database` applies to grants on objects inside a database; this grant is on the cluster's shared objects or a role",
        ),
        (
            role_with(&["role_membership: g\n        database: zz"]),
            "zz",
            "`database` applies to grants on objects inside a database",
        ),
        (
            role_with(&["login: {}\n        database: zz"]),
            "zz",
            "`database` applies to grants on objects inside a database, not to `login`",
        ),
        (
            role_with(&["database: app"]),
            "database: app",
            "expected a grant kind beside `database`",
        ),
        (
            "databases: []\nroles: []\n".to_owned(),
            "[]",
            "expected `databases` to name at least one database",
        ),
        (
            "databases: {include: a, other: b}\nroles: []\n".to_owned(),
            "other",
            "unknown key `other` in `databases`; expected one of: include, exclude",
        ),
        (
            "databases: {include: {a: b}}\nroles: []\n".to_owned(),
            "{a: b}",
            "expected `include` to be a database name, a pattern or a list of them, found a mapping",
        ),
    ] {
        fails_at(text, marker, needle);
    }
}
