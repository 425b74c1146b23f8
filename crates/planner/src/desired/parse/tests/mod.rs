use super::*;
use crate::desired::{
    parse, Desired, GrantKind, Login, PasswordSource, Pattern, Secret, TableName, DEFAULT_LOCK_KEY,
};
use proptest::prelude::*;

const EXAMPLE: &str = r#"lock_key: 1                  # optional
roles:                       # required
  - name: alice
    grants:
      - login: { password_env: ALICE_PASSWORD, valid_until: "2026-12-20T00:00:00Z" }
      - database_connect: warehouse
      - role_membership: analysts
  - name: analysts
    grants:
      - schema_usage: sales
      - schema_create: { schema: scratch, direct: true }
      - schema_ownership: scratch
      - table_select: { schema: sales, table: orders }
      - table_select: { schema: sales, table_regex: "^fact_", direct: true }
      - table_ownership: { schema: sales, table: orders }
    preserve_existing_grants_in_schemas: [ingest]
"#;

const EXAMPLE_JSON: &str = r#"{
	"lock_key": 1,
	"roles": [
		{
			"name": "alice",
			"grants": [
				{"login": {"password_env": "ALICE_PASSWORD", "valid_until": "2026-12-20T00:00:00Z"}},
				{"database_connect": "warehouse"},
				{"role_membership": {"role": "analysts"}}
			]
		},
		{
			"name": "analysts",
			"grants": [
				{"schema_usage": {"schema": "sales"}},
				{"schema_create": {"schema": "scratch", "direct": true}},
				{"schema_ownership": "scratch"},
				{"table_select": {"schema": "sales", "table": "orders"}},
				{"table_select": {"schema": "sales", "table_regex": "^fact_", "direct": true}},
				{"table_ownership": {"schema": "sales", "table": "orders"}}
			],
			"preserve_existing_grants_in_schemas": ["ingest"]
		}
	]
}
"#;

fn at(line: usize, column: usize) -> Span {
    Span { line, column }
}

/// Where the first `marker` in `text` starts.
fn position(text: &str, marker: &str) -> Span {
    let index = text
        .find(marker)
        .unwrap_or_else(|| panic!("{marker:?} not in {text:?}"));
    let before = &text[..index];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    at(
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

fn ok(text: &str) -> Desired {
    parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn fails(text: impl AsRef<[u8]>) -> DesiredError {
    match parse(text.as_ref()) {
        Ok(d) => panic!("parsed: {d:?}"),
        Err(e) => {
            assert!(!e.message.contains('\n'), "multi-line message: {e}");
            e
        }
    }
}

/// Asserts the error's position and that its message contains `needle`.
fn fails_with(text: impl AsRef<[u8]>, span: Span, needle: &str) {
    let e = fails(text);
    assert_eq!(e.span, span, "{e}");
    assert!(e.message.contains(needle), "{e:?} lacks {needle:?}");
}

/// Asserts the error points at the first `marker` in `text`.
fn fails_at(text: impl AsRef<str>, marker: &str, needle: &str) {
    let text = text.as_ref();
    fails_with(text, position(text, marker), needle);
}

/// A file with one role `r` holding the given grant items.
fn role_with(items: &[&str]) -> String {
    let mut text = "roles:\n  - name: r\n    grants:\n".to_owned();
    for item in items {
        text.push_str(&format!("      - {item}\n"));
    }
    text
}

fn grant_kinds(items: &[&str]) -> Vec<GrantKind> {
    let d = ok(&role_with(items));
    d.roles[0].grants.iter().map(|g| g.kind.clone()).collect()
}

fn login_of(item: &str) -> Login {
    ok(&role_with(&[item])).roles[0]
        .login
        .clone()
        .expect("a login")
}

fn schema_usage(schema: &str) -> GrantKind {
    GrantKind::SchemaUsage {
        schema: schema.to_owned(),
        direct: false,
    }
}

fn without_spans(mut d: Desired) -> Desired {
    for role in &mut d.roles {
        role.span = Span::default();
        for grant in &mut role.grants {
            grant.span = Span::default();
        }
        if let Some(login) = &mut role.login {
            login.span = Span::default();
            if let PasswordSource::Env { span, .. } | PasswordSource::File { span, .. } =
                &mut login.password
            {
                *span = Span::default();
            }
        }
    }
    d
}

#[test]
fn errors_at_the_end_of_a_file_are_on_its_last_line() {
    let at = |line, column| Span { line, column };
    // No final line break: the end is on the last line. `{` is what the
    // fuzzer found (reported on line 2 of a one-line file).
    fails_with("{", at(1, 2), "invalid YAML");
    fails_with("{\"roles\": [", at(1, 12), "invalid YAML");
    fails_with("roles:\n  - { name: a", at(2, 14), "invalid YAML");
    fails_with("{a: 1\r\n# c", at(2, 4), "invalid YAML");
    fails_with("{a: 1\r# c", at(2, 4), "invalid YAML");
    fails_with("roles:\n  - # c", at(2, 8), "expected a role");
    // A final line break: the end is the start of the (empty) next line.
    fails_with("{\"roles\": [\n", at(2, 1), "invalid YAML");
}

#[test]
fn example_parses() {
    let d = ok(EXAMPLE);
    assert_eq!(d.lock_key, 1);
    assert_eq!(d.roles.len(), 2);

    let alice = &d.roles[0];
    assert_eq!((alice.name.as_str(), alice.span), ("alice", at(3, 5)));
    let login = alice.login.as_ref().expect("login");
    assert_eq!(login.span, at(5, 9));
    assert_eq!(
        login.valid_until.as_deref(),
        Some("2026-12-20T00:00:00.000000Z")
    );
    let env = PasswordSource::Env {
        name: "ALICE_PASSWORD".into(),
        span: at(5, 32),
    };
    assert_eq!(login.password, env);
    let grants: Vec<_> = alice
        .grants
        .iter()
        .map(|g| (g.kind.clone(), g.span))
        .collect();
    let expected = [
        (
            GrantKind::DatabaseConnect {
                database: "warehouse".into(),
            },
            at(6, 9),
        ),
        (
            GrantKind::RoleMembership {
                role: "analysts".into(),
                options: Default::default(),
            },
            at(7, 9),
        ),
    ];
    assert_eq!(grants, expected);
    assert!(alice.preserve_existing_grants_in_schemas.is_empty());

    let analysts = &d.roles[1];
    assert_eq!(
        (analysts.name.as_str(), analysts.span),
        ("analysts", at(8, 5))
    );
    assert_eq!(analysts.login, None);
    let regex = TableName::Regex(Pattern::new("^fact_").expect("regex"));
    let kinds: Vec<_> = analysts.grants.iter().map(|g| g.kind.clone()).collect();
    let expected = [
        schema_usage("sales"),
        GrantKind::SchemaCreate {
            schema: "scratch".into(),
            direct: true,
        },
        GrantKind::SchemaOwnership {
            schema: "scratch".into(),
        },
        GrantKind::TableSelect {
            schema: "sales".into(),
            table: TableName::Exact("orders".into()),
            direct: false,
        },
        GrantKind::TableSelect {
            schema: "sales".into(),
            table: regex,
            direct: true,
        },
        GrantKind::TableOwnership {
            schema: "sales".into(),
            table: "orders".into(),
        },
    ];
    assert_eq!(kinds, expected);
    assert_eq!(analysts.grants[5].span, at(15, 9));
    assert_eq!(analysts.preserve_existing_grants_in_schemas, ["ingest"]);
}

#[test]
fn json_parses_like_yaml() {
    let json = ok(EXAMPLE_JSON);
    assert_eq!(json.roles[0].span, at(4, 3));
    assert_eq!(json.roles[0].grants[0].span, at(8, 5));
    assert_eq!(json.roles[1].grants[5].span, at(20, 5));
    assert_eq!(without_spans(json), without_spans(ok(EXAMPLE)));
    let compact: String = EXAMPLE_JSON
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    assert_eq!(without_spans(ok(&compact)), without_spans(ok(EXAMPLE)));
}

#[test]
fn regex_matches_from_the_start_only() {
    let d = ok(EXAMPLE);
    let GrantKind::TableSelect {
        table: TableName::Regex(p),
        ..
    } = &d.roles[1].grants[4].kind
    else {
        panic!("not a regex");
    };
    assert!(p.matches("fact_sales"));
    assert!(!p.matches("old_fact_sales"));
}

#[test]
fn defaults_and_empty_lists() {
    assert_eq!(
        ok("roles: []\n"),
        Desired {
            public: None,
            lock_key: DEFAULT_LOCK_KEY,
            roles: vec![],
            allow_power: vec![],
            reassign_owned_to: None,
            ..Desired::default()
        }
    );
    let d = ok("roles:\n  - name: r\n    grants:\n    preserve_existing_grants_in_schemas:\n");
    let role = &d.roles[0];
    assert!(role.grants.is_empty() && role.login.is_none());
    assert!(role.preserve_existing_grants_in_schemas.is_empty());
    assert!(ok("roles:\n  - name: r\n    grants: []\n").roles[0]
        .grants
        .is_empty());
}

#[test]
fn reassign_owned_to_top_level_and_per_role() {
    let d = ok("reassign_owned_to: keeper\nroles:\n  - name: a\n  - name: b\n    reassign_owned_to: \"Other One\"\n");
    let top = d.reassign_owned_to.as_ref().expect("top level");
    assert_eq!(
        (top.name.as_str(), top.span),
        (
            "keeper",
            Span {
                line: 1,
                column: 20
            }
        )
    );
    assert_eq!(
        d.reassign_target("a").map(|t| t.name.as_str()),
        Some("keeper")
    );
    assert_eq!(
        d.reassign_target("b").map(|t| t.name.as_str()),
        Some("Other One")
    );
    assert!(ok("roles: []\n").reassign_owned_to.is_none());
    let text = "reassign_owned_to: public\nroles: []\n";
    fails_at(
        text,
        "public",
        "reassign_owned_to: `public` cannot receive ownership",
    );
    let text = "roles:\n  - name: a\n    reassign_owned_to: _pgsr_x\n";
    fails_at(text, "_pgsr_x", "intermediate roles");
    fails_at(
        "reassign_owned_to: none\nroles: []\n",
        "none",
        "PostgreSQL reserves it",
    );
    fails_at(
        "reassign_owned_to: [a]\nroles: []\n",
        "[a]",
        "reassign_owned_to",
    );
    fails_at(
        "reassign_owned_to: \"\"\nroles: []\n",
        "\"\"",
        "must not be empty",
    );
}

#[test]
fn lock_key_forms() {
    let key = |text: &str| ok(&format!("lock_key: {text}\nroles: []\n")).lock_key;
    assert_eq!(key("-42"), -42);
    assert_eq!(key("+7"), 7);
    assert_eq!(key("0x10"), 16);
    assert_eq!(key("0o10"), 8);
    assert_eq!(key("-9223372036854775808"), i64::MIN);
    assert_eq!(key("9223372036854775807"), i64::MAX);
}

#[test]
fn login_forms() {
    for item in ["login:", "login: {}", "login: null", "login: ~"] {
        let login = login_of(item);
        assert_eq!(
            (login.password, login.valid_until),
            (PasswordSource::Keep, None)
        );
    }
    let literal = login_of("login: { password: 's3cret' }");
    assert_eq!(
        literal.password,
        PasswordSource::Literal(Secret::new("s3cret"))
    );
    let item = "login: { password_file: /run/secrets/r }";
    let span = position(&role_with(&[item]), "/run");
    let file = PasswordSource::File {
        path: "/run/secrets/r".into(),
        span,
    };
    assert_eq!(login_of(item).password, file);
    assert_eq!(
        login_of("login: { valid_until: infinity }").valid_until,
        None
    );
    assert_eq!(login_of("login: { valid_until: null }").valid_until, None);
    let plain = login_of("login: { valid_until: 2026-12-20T01:00:00+01:00 }");
    assert_eq!(
        plain.valid_until.as_deref(),
        Some("2026-12-20T00:00:00.000000Z")
    );
}

#[test]
fn shorthand_and_mapping_forms_are_equal() {
    let short = grant_kinds(&[
        "database_connect: d",
        "schema_usage: s",
        "schema_create: s",
        "schema_ownership: s",
        "role_membership: m",
    ]);
    let long = grant_kinds(&[
        "database_connect: { database: d }",
        "schema_usage: { schema: s }",
        "schema_create: { schema: s, direct: false }",
        "schema_ownership: { schema: s }",
        "role_membership: { role: m }",
    ]);
    assert_eq!(short, long);
}

#[test]
fn quoted_scalars_are_strings() {
    let kinds = grant_kinds(&[
        "schema_usage: \"5\"",
        "schema_usage: 'true'",
        "schema_usage: \"null\"",
        "schema_usage: 1.5x",
        "schema_usage: 0x1g",
        "schema_usage: |\n          multi",
    ]);
    let expected: Vec<_> = ["5", "true", "null", "1.5x", "0x1g", "multi\n"]
        .map(schema_usage)
        .into();
    assert_eq!(kinds, expected);
    assert_eq!(ok("roles:\n  - name: \"5\"\n").roles[0].name, "5");
}

#[test]
fn plain_scalars_are_typed() {
    let name = |value: &str| format!("roles:\n  - name: {value}\n");
    let cases = [
        (
            "5",
            "expected role name (a string), found integer `5`; quote it",
        ),
        ("-0x1F", "found string `-0x1F`"),
        ("true", "found boolean `true`; quote it"),
        ("FALSE", "found boolean `FALSE`"),
        ("1e3", "found number `1e3`"),
        ("-.5", "found number `-.5`"),
        (".inf", "found number `.inf`"),
        (".NaN", "found number `.NaN`"),
        ("~", "found null `~`"),
        ("Null", "found null `Null`"),
        ("[a]", "found a sequence"),
        ("{a: b}", "found a mapping"),
    ];
    for (value, needle) in cases {
        if value == "-0x1F" {
            // Not a core-schema integer (signs are decimal only): a name.
            assert_eq!(ok(&name(value)).roles[0].name, value);
            continue;
        }
        fails_at(name(value), value, needle);
    }
    fails_at("roles:\n  - name:\n", "name", "found nothing");
}

#[test]
fn order_and_duplicate_grants_are_kept() {
    let kinds = grant_kinds(&["schema_usage: b", "schema_usage: a", "schema_usage: b"]);
    assert_eq!(kinds, ["b", "a", "b"].map(schema_usage));
}

#[test]
fn predefined_roles_can_be_joined() {
    let kinds = grant_kinds(&["role_membership: pg_read_all_data"]);
    assert_eq!(
        kinds,
        [GrantKind::RoleMembership {
            role: "pg_read_all_data".into(),
            options: Default::default(),
        }]
    );
}

#[test]
fn byte_order_mark_and_crlf_are_fine() {
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), EXAMPLE.as_bytes()].concat();
    assert_eq!(parse(&with_bom), parse(EXAMPLE.as_bytes()));
    let crlf = EXAMPLE.replace('\n', "\r\n");
    assert_eq!(parse(crlf.as_bytes()), parse(EXAMPLE.as_bytes()));
}

#[test]
fn names_are_limited_in_bytes() {
    let longest = "€".repeat(21); // 63 bytes
    assert_eq!(
        ok(&format!("roles:\n  - name: {longest}\n")).roles[0].name,
        longest
    );
    let long = "é".repeat(32); // 32 characters, 64 bytes
    fails_at(
        format!("roles:\n  - name: {long}\n"),
        "é",
        "is 64 bytes long",
    );
}

mod databases;
mod errors;
mod roles;
