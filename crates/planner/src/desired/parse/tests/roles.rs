//! A role's own keys: attributes, memberships, settings, description,
//! renames, retirement, unlisted roles and the suffix.

use super::*;
use crate::desired::{MembershipOptions, SettingValue, UnlistedAction};

#[test]
fn attributes_and_their_defaults() {
    let d = ok(
        "roles:\n  - name: a\n    createdb: true\n    inherit: false\n    connection_limit: 4\n",
    );
    let a = &d.roles[0].attributes;
    assert_eq!(a.createdb.as_ref().map(|v| v.value), Some(true));
    assert_eq!(a.inherit.as_ref().map(|v| v.value), Some(false));
    assert_eq!(a.connection_limit.as_ref().map(|v| v.value), Some(4));
    assert!(a.superuser.is_none() && a.createrole.is_none());
    let text = "roles:\n  - name: a\n    createdb: yes\n";
    fails_at(text, "yes", "expected `createdb` to be true or false");
    let text = "roles:\n  - name: a\n    connection_limit: -2\n";
    fails_at(text, "-2", "-1 (no limit) or a count");
    let text = "roles:\n  - name: a\n    createdatabase: true\n";
    fails_at(text, "createdatabase", "unknown key");
}

#[test]
fn memberships_from_either_side_with_options() {
    let d = ok("roles:
  - name: a
    member_of: [g, {role: h, admin: true, inherit: false, set: false}]
    inherit: k
  - name: g
    members: [b, {role: c, admin: true}]
");
    let kinds: Vec<&GrantKind> = d.roles[0].grants.iter().map(|g| &g.kind).collect();
    assert_eq!(
        kinds,
        [
            &GrantKind::RoleMembership {
                role: "g".into(),
                options: MembershipOptions::default()
            },
            &GrantKind::RoleMembership {
                role: "h".into(),
                options: MembershipOptions {
                    admin: true,
                    inherit: Some(false),
                    set: Some(false)
                }
            },
            &GrantKind::RoleMembership {
                role: "k".into(),
                options: MembershipOptions::default()
            },
        ]
    );
    // `inherit: k` is PUM's inheritance, not the attribute.
    assert!(d.roles[0].attributes.inherit.is_none());
    let members = d.roles[1].members.as_ref().expect("members");
    assert_eq!(
        members.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
        ["b", "c"]
    );
    assert!(members[1].options.admin);
    let text = "roles:\n  - name: a\n    member_of: [{role: g, sett: true}]\n";
    fails_at(text, "sett", "unknown key");
    let text = "roles:\n  - name: a\n    member_of: [a]\n";
    fails_at(text, "a]", "a role cannot be a member of itself");
}

#[test]
fn a_membership_cycle_shows_its_path() {
    let text = "roles:\n  - name: a\n    inherit: b\n    members: [c]\n  - name: b\n    member_of: [c]\n  - name: c\n";
    let e = fails(text);
    assert!(e.message.contains("memberships form a cycle"), "{e}");
    assert!(
        e.message
            .contains("a is a member of b is a member of c is a member of a"),
        "{e}"
    );
}

#[test]
fn settings_globally_and_per_database() {
    let d = ok("roles:
  - name: a
    settings: {Statement_Timeout: 5s, search_path: [\"$user\", app], jit: false, work_mem: 65536}
    database_settings:
      app: {app.tenant: acme}
");
    let s = &d.roles[0].settings;
    let shown: Vec<(Option<&str>, &str, &SettingValue)> = s
        .iter()
        .map(|s| (s.database.as_deref(), s.name.as_str(), &s.value))
        .collect();
    assert_eq!(
        shown,
        [
            (None, "statement_timeout", &SettingValue::Text("5s".into())),
            (
                None,
                "search_path",
                &SettingValue::List(vec!["$user".into(), "app".into()])
            ),
            (None, "jit", &SettingValue::Text("false".into())),
            (None, "work_mem", &SettingValue::Text("65536".into())),
            (
                Some("app"),
                "app.tenant",
                &SettingValue::Text("acme".into())
            ),
        ]
    );
    let text = "roles:\n  - name: a\n    settings: {search_path: 'app, public'}\n";
    fails_at(text, "'app, public'", "write it as one");
    let text = "roles:\n  - name: a\n    settings: {\"bad name\": x}\n";
    fails_at(text, "\"bad name\"", "is not a parameter name");
    let text = "roles:\n  - name: a\n    settings: {work_mem: }\n";
    fails_at(text, "work_mem", "has no value");
}

#[test]
fn description_rename_and_retirement() {
    let d = ok("roles:
  - name: new
    renamed_from: old
    description: Reads things
  - name: gone
    state: absent
    terminate_sessions: true
retired: [x, {name: y, reassign_owned_to: keeper}]
unlisted_roles: {match: 'app_.*', action: retire}
suffix: lausanne
");
    assert_eq!(d.roles.len(), 1);
    assert_eq!(
        d.roles[0].renamed_from.as_ref().map(|r| r.name.as_str()),
        Some("old")
    );
    assert_eq!(d.roles[0].description.as_deref(), Some("Reads things"));
    let retired: Vec<(&str, bool)> = d
        .retired
        .iter()
        .map(|r| (r.name.as_str(), r.terminate_sessions))
        .collect();
    assert_eq!(retired, [("gone", true), ("x", false), ("y", false)]);
    assert_eq!(
        d.retired[2]
            .reassign_owned_to
            .as_ref()
            .map(|r| r.name.as_str()),
        Some("keeper")
    );
    let u = d.unlisted_roles.as_ref().expect("unlisted_roles");
    assert_eq!(u.action, UnlistedAction::Retire);
    assert!(
        u.pattern.matches("app_old") && !u.pattern.matches("xapp_old") && !u.pattern.matches("app")
    );
    assert_eq!(
        d.suffix.as_ref().map(|s| s.value.as_str()),
        Some("lausanne")
    );
    // A null description removes the comment.
    let d = ok("roles:\n  - name: a\n    description: null\n");
    assert_eq!(d.roles[0].description.as_deref(), Some(""));
}

#[test]
fn retirement_mistakes() {
    let text = "roles:\n  - name: a\nretired: [a]\n";
    fails_at(text, "a]", "retired and also listed");
    let text = "roles:\n  - name: a\n    renamed_from: b\nretired: [b]\n";
    fails_at(text, "b\nretired", "also listed or retired");
    let text = "roles:\n  - name: a\n    state: absent\n    createdb: true\n";
    fails_at(text, "createdb", "a role that exists");
    let text = "roles:\n  - name: a\n    terminate_sessions: true\n";
    fails_at(text, "terminate_sessions", "for a role being retired");
    let text = "roles: []\nunlisted_roles: {match: 'a', action: drop}\n";
    fails_at(text, "drop", "expected report or retire");
    let text = "roles: []\nsuffix: 'a-b'\n";
    fails_at(text, "'a-b'", "letters, digits or underscores");
}

#[test]
fn a_suffix_spells_out_per_database_roles() {
    let d = ok("suffix: lausanne
roles:
  - name: viewer
    grants: [schema_usage: s]
  - name: user
    inherit: viewer
    grants: [schema_create: s]
  - name: alice
    member_of: [user]
    grants: [login: {}]
");
    let e = d.per_database();
    let names: Vec<&str> = e.roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "viewer",
            "viewer_lausanne",
            "user",
            "user_lausanne",
            "alice"
        ]
    );
    let memberships = |name: &str| -> Vec<String> {
        e.roles
            .iter()
            .find(|r| r.name == name)
            .unwrap()
            .grants
            .iter()
            .filter_map(|g| match &g.kind {
                GrantKind::RoleMembership { role, .. } => Some(role.clone()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(memberships("user"), ["user_lausanne"]);
    assert_eq!(memberships("user_lausanne"), ["viewer_lausanne"]);
    assert_eq!(memberships("alice"), ["user"]);
    assert!(e.is_other_specific("user", "user_zurich"));
    assert!(!e.is_other_specific("user", "user_lausanne"));
}

#[test]
fn templates_are_reused_with_parameters() {
    let d = ok("templates:
  schema_reader:
    description: Reads {schema}
    connection_limit: 2
    grants:
      - schema_usage: {schema: '{schema}', direct: true}
      - grant: {privileges: [SELECT], on: tables, schema: '{schema}', all: true}
roles:
  - name: sales_reader
    template: {name: schema_reader, schema: sales}
    connection_limit: 5
    grants:
      - database_connect: app
  - name: hr_reader
    template: {name: schema_reader, schema: hr}
");
    let names: Vec<&str> = d.roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        ["sales_reader", "hr_reader"],
        "a template is not a role"
    );
    let sales = &d.roles[0];
    assert_eq!(sales.description.as_deref(), Some("Reads sales"));
    assert_eq!(
        sales.attributes.connection_limit.as_ref().map(|l| l.value),
        Some(5),
        "the role's own key wins"
    );
    let keys: Vec<&str> = sales.grants.iter().map(|g| g.kind.key()).collect();
    assert_eq!(
        keys,
        ["schema_usage", "grant", "database_connect"],
        "the template's grants first"
    );
    assert_eq!(
        d.roles[1].grants[0].kind,
        GrantKind::SchemaUsage {
            schema: "hr".into(),
            direct: true
        }
    );
    assert_eq!(
        d.roles[1]
            .attributes
            .connection_limit
            .as_ref()
            .map(|l| l.value),
        Some(2)
    );
    let text = "templates: {t: {grants: [schema_usage: '{schema}']}}\nroles:\n  - name: a\n    template: t\n";
    fails_at(text, "'{schema}'", "give `schema`");
    let text = "roles:\n  - name: a\n    template: nope\n";
    fails_at(text, "nope", "unknown template");
    let text = "templates: {t: {name: x}}\nroles: []\n";
    fails_at(text, "name: x", "a template has no `name`");
}
