//! Files the parser refuses: one line each, with where and what was expected.

use super::*;

#[test]
fn syntax_errors() {
    fails_with("roles: [\n", at(2, 1), "invalid YAML");
    fails_with("roles:\n  - name: a\n   x: 1\n", at(3, 5), "invalid YAML");
    fails_with("{\"roles\": [}\n", at(1, 12), "invalid YAML");
    fails_with("roles:\n\t- name: a\n", at(2, 2), "invalid YAML: tabs");
}

#[test]
fn empty_files() {
    for text in ["", "\n\n", "# only a comment\n", "---\n", "~\n", "\u{feff}"] {
        fails_with(
            text,
            at(1, 1),
            "empty file: expected a mapping with `roles`",
        );
    }
}

#[test]
fn top_level_not_a_mapping() {
    let needle = "expected a mapping with `roles` at the top level, found a sequence";
    fails_with("- name: a\n", at(1, 1), needle);
    fails_with("[]", at(1, 1), needle);
    fails_with("roles\n", at(1, 1), "found string `roles`");
}

#[test]
fn unknown_keys() {
    fails_at(
        "roles: []\nrole: []\n",
        "role:",
        "unknown key `role` in the top level; expected one of: lock_key, roles",
    );
    fails_at(
        "roles:\n  - name: a\n    grant: []\n",
        "grant",
        "unknown key `grant` in a role; expected one of: name, grants, \
             preserve_existing_grants_in_schemas",
    );
    let cases = [
            ("login: { pasword: x }", "pasword", "unknown key in login; expected one of: password, password_env, password_file, valid_until"),
            ("table_select: { schema: s, tables: t }", "tables", "unknown key `tables` in table_select; expected one of: schema, table, table_regex, direct"),
            ("schema_usage: { schema: s, drect: true }", "drect", "in schema_usage; expected one of: schema, direct"),
            ("schema_create: { schema: s, drect: true }", "drect", "in schema_create; expected one of: schema, direct"),
            ("schema_ownership: { schema: s, direct: true }", "direct", "in schema_ownership; expected one of: schema"),
            ("table_ownership: { schema: s, table: t, direct: true }", "direct", "in table_ownership; expected one of: schema, table"),
            ("role_membership: { name: m }", "name: m", "in role_membership; expected one of: role"),
            ("database_connect: { db: d }", "db", "in database_connect; expected one of: database"),
        ];
    for (item, marker, needle) in cases {
        fails_at(role_with(&[item]), marker, needle);
    }
    fails_at(
        "roles: []\n[a]: 1\n",
        "[a]",
        "expected a key in the top level, found a sequence",
    );
}

#[test]
fn wrong_value_types() {
    let cases = [
            ("schema_usage: { schema: s, direct: \"yes\" }", "\"yes\"", "expected `direct` to be true or false, found string `yes`"),
            ("table_select: { schema: s, table: t, direct: 1 }", "1", "expected `direct` to be true or false, found integer `1`"),
            ("login: true", "true", "expected `login` to be a mapping of login options or nothing, found a boolean (not shown)"),
            ("login: { valid_until: 5 }", "5", "expected `valid_until` to be an RFC 3339 timestamp, `infinity` or null, found an integer (not shown)"),
            ("login: { password_env: 5 }", "5", "expected `password_env` (a string), found an integer (not shown)"),
            ("login: { password_file: [f] }", "[f]", "expected `password_file` (a string), found a sequence"),
            ("schema_usage: [s]", "[s]", "expected `schema_usage` to be a schema name or a mapping with `schema`, found a sequence"),
            ("schema_usage: { schema: 1 }", "1", "expected schema name (a string), found integer `1`"),
            ("table_select: s.t", "s.t", "expected `table_select` to be a mapping with `schema` and `table` or `table_regex`, found string `s.t`"),
            ("table_select: { schema: s, table_regex: 5 }", "5", "expected table_regex (a string), found integer `5`"),
            ("table_ownership: t", "t\n", "expected `table_ownership` to be a mapping with `schema` and `table`, found string `t`"),
        ];
    for (item, marker, needle) in cases {
        fails_at(role_with(&[item]), marker, needle);
    }
    let lock_key = |value: &str| format!("lock_key: {value}\nroles: []\n");
    fails_at(
        lock_key("1.5"),
        "1.5",
        "expected `lock_key` to be an integer, found number `1.5`",
    );
    fails_at(
        lock_key("\"1\""),
        "\"1\"",
        "expected `lock_key` to be an integer, found string `1`",
    );
    fails_at(
        lock_key("9223372036854775808"),
        "9",
        "`lock_key` `9223372036854775808` is out of range",
    );
    fails_at(
        lock_key("-9223372036854775809"),
        "-",
        "out of range (a 64-bit signed integer)",
    );
    fails_at(lock_key("0x8000000000000000"), "0x", "out of range");
    fails_at(
        "roles: {}\n",
        "{}",
        "expected `roles` to be a sequence of roles, found a mapping",
    );
    fails_at(
        "roles:\n",
        "roles",
        "expected `roles` to be a sequence of roles, found nothing",
    );
    fails_at(
        "roles:\n  - alice\n",
        "alice",
        "expected a role (a mapping with `name`), found string `alice`",
    );
    fails_at(
        "roles:\n  - name: a\n    grants: login\n",
        "login",
        "expected `grants` to be a sequence, found string `login`",
    );
    fails_at(
        "roles:\n  - name: a\n    preserve_existing_grants_in_schemas: s\n",
        "s\n",
        "expected `preserve_existing_grants_in_schemas` to be a sequence, found string `s`",
    );
}

#[test]
fn passwords_are_not_echoed() {
    let text = role_with(&["login: { password: 12345678 }"]);
    let e = fails(&text);
    assert_eq!(e.span, position(&text, "1234"));
    assert!(!e.message.contains("1234"), "{e}");
    assert!(
        e.message
            .contains("expected `password` to be a string (quote it)"),
        "{e}"
    );
    let cases = [
        (
            "login: { password: '' }",
            "''",
            "`password` must not be empty; leave it out to keep the existing one",
        ),
        (
            "login: { password: \"a\\0b\" }",
            "\"a",
            "`password` contains a NUL character",
        ),
        (
            "login: { password_env: 'A=B' }",
            "'A",
            "`password_env` is not an environment variable name",
        ),
        (
            "login: { password_env: '' }",
            "''",
            "is not an environment variable name",
        ),
        (
            "login: { password_file: '' }",
            "''",
            "`password_file` is not a file path",
        ),
    ];
    for (item, marker, needle) in cases {
        fails_at(role_with(&[item]), marker, needle);
    }
}

#[test]
fn unknown_grant_kinds() {
    fails_at(
        role_with(&["table_insert: { schema: s, table: t }"]),
        "table_insert",
        "unknown grant kind `table_insert`; expected one of: login, database_connect, \
             schema_usage, schema_create, schema_ownership, table_select, table_ownership, \
             role_membership",
    );
}

#[test]
fn grant_items_must_be_one_key_mappings() {
    fails_at(
        role_with(&["table_select:\n        schema: s\n        table: t"]),
        "schema: s",
        "a grant has exactly one key (its kind; `database` may stand beside it), found 3: \
             table_select, schema, table; indent a grant's options under its kind",
    );
    let cases = [
            ("login", "login", "expected a grant (a mapping with one key, such as `schema_usage: sales`), found string `login`"),
            ("{}", "{}", "expected a grant, found an empty mapping"),
            ("[login]", "[login]", "expected a grant (a mapping with one key, such as `schema_usage: sales`), found a sequence"),
            ("? [a]\n        : b", "[a]", "expected a grant kind, found a sequence"),
        ];
    for (item, marker, needle) in cases {
        fails_at(role_with(&[item]), marker, needle);
    }
}

#[test]
fn missing_keys() {
    fails_at(
        "lock_key: 1\n",
        "lock_key",
        "missing `roles` in the top level",
    );
    fails_at(
        "roles:\n  - grants: []\n",
        "grants",
        "missing `name` in a role",
    );
    let cases = [
        (
            "schema_usage: { direct: true }",
            "missing `schema` in schema_usage",
        ),
        (
            "schema_create: { direct: true }",
            "missing `schema` in schema_create",
        ),
        (
            "schema_ownership: {}",
            "missing `schema` in schema_ownership",
        ),
        (
            "database_connect: {}",
            "missing `database` in database_connect",
        ),
        (
            "table_select: { table: t }",
            "missing `schema` in table_select",
        ),
        (
            "table_select: { schema: s }",
            "missing `table` or `table_regex` in table_select",
        ),
        (
            "table_ownership: { schema: s }",
            "missing `table` in table_ownership",
        ),
        (
            "table_ownership: { table: t }",
            "missing `schema` in table_ownership",
        ),
        ("role_membership: {}", "missing `role` in role_membership"),
    ];
    for (item, needle) in cases {
        fails_at(role_with(&[item]), "{", needle);
    }
}

#[test]
fn table_and_table_regex_are_exclusive() {
    fails_at(
        role_with(&["table_select: { schema: s, table: t, table_regex: x }"]),
        "table_regex",
        "`table` and `table_regex` cannot both be given; use one",
    );
}

#[test]
fn one_password_source() {
    fails_at(
        role_with(&["login: { password_env: A, valid_until: null, password_file: /f }"]),
        "password_file",
        "`password_env` and `password_file` both given; a login has at most one of \
             password, password_env, password_file",
    );
    fails_at(
        role_with(&["login: { password: a, password_env: A }"]),
        "password_env",
        "`password` and `password_env` both given",
    );
}

#[test]
fn bad_regexes() {
    let regex = |source: &str| {
        role_with(&[&format!(
            "table_select: {{ schema: s, table_regex: '{source}' }}"
        )])
    };
    fails_at(
        regex("a(b"),
        "'a(b'",
        "invalid table_regex `a(b`: unclosed group",
    );
    fails_at(
        regex("a)|(b"),
        "'a)",
        "invalid table_regex `a)|(b`: unopened group",
    );
    fails_at(regex("(?=x)"), "'(", "look-around");
    fails_at(regex("(a)\\1"), "'(", "backreferences");
    fails_at(regex("a{99999999}"), "'a", "invalid table_regex");
}

#[test]
fn bad_timestamps() {
    let login = |value: &str| role_with(&[&format!("login: {{ valid_until: {value} }}")]);
    fails_at(
        login("'2026-02-30T00:00:00Z'"),
        "'2026",
        "invalid `valid_until`: day 30 is out of range for 2026-02 (01-28)",
    );
    fails_at(
        login("2026-12-20"),
        "2026",
        "invalid `valid_until`: missing the time",
    );
    fails_at(
        login("forever"),
        "forever",
        "expected a 4-digit year at character 1",
    );
    fails_at(
        login("'2026-12-20T00:00:00'"),
        "'2026",
        "missing the UTC offset",
    );
}

#[test]
fn duplicate_roles() {
    fails_with(
        "roles:\n  - name: a\n  - name: b\n  - name: a\n",
        at(4, 11),
        "duplicate role `a` (first defined on line 2)",
    );
}

#[test]
fn two_logins() {
    let text = role_with(&["login: {}", "schema_usage: s", "login: { password_env: X }"]);
    fails_with(
        text,
        at(6, 9),
        "a role has at most one `login`; this is the second",
    );
}

#[test]
fn bad_names() {
    let long = "x".repeat(64);
    let nul = "\"a\\0b\"";
    let role = |value: &str| format!("roles:\n  - name: {value}\n");
    let one = |item: String| role_with(&[&item]);
    let cases = [
        (role("''"), "''", "role name must not be empty"),
        (
            role(nul),
            nul,
            "role name `a\\u{0}b` contains a NUL character",
        ),
        (role(&long), "xxx", "role name `xxxx"),
        (
            one(format!("database_connect: {long}")),
            "xxx",
            "database name `xxx",
        ),
        (
            one("database_connect: { database: '' }".into()),
            "''",
            "database name must not be empty",
        ),
        (
            one(format!("schema_usage: {nul}")),
            nul,
            "schema name `a\\u{0}b` contains a NUL",
        ),
        (
            one(format!("schema_create: {{ schema: {long} }}")),
            "xxx",
            "schema name `xxx",
        ),
        (
            one(format!("schema_ownership: {long}")),
            "xxx",
            "is 64 bytes long; PostgreSQL names are at most 63 bytes",
        ),
        (
            one(format!("table_select: {{ schema: s, table: {long} }}")),
            "xxx",
            "table name `xxx",
        ),
        (
            one("table_select: { schema: '', table: t }".into()),
            "''",
            "schema name must not be empty",
        ),
        (
            one(format!("table_ownership: {{ schema: s, table: {nul} }}")),
            nul,
            "table name `a\\u{0}b` contains a NUL",
        ),
        (
            one(format!("table_ownership: {{ schema: {long}, table: t }}")),
            "xxx",
            "schema name `xxx",
        ),
        (
            one(format!("role_membership: {long}")),
            "xxx",
            "role name `xxx",
        ),
        (
            one("role_membership: { role: '' }".into()),
            "''",
            "role name must not be empty",
        ),
        (
            format!("roles:\n  - name: a\n    preserve_existing_grants_in_schemas: [ok, {long}]\n"),
            "xxx",
            "schema name `xxx",
        ),
        (
            "roles:\n  - name: a\n    preserve_existing_grants_in_schemas: [ok, '']\n".into(),
            "''",
            "schema name must not be empty",
        ),
    ];
    for (text, marker, needle) in cases {
        fails_at(text, marker, needle);
    }
}

#[test]
fn long_names_are_shortened_in_messages() {
    let long = "y".repeat(200);
    let e = fails(format!("roles:\n  - name: {long}\n"));
    assert!(e.message.contains(&format!("`{}…`", "y".repeat(60))), "{e}");
    assert!(e.message.contains("200 bytes"), "{e}");
}

#[test]
fn reserved_role_names() {
    let role = |name: &str| format!("roles:\n  - name: {name}\n");
    fails_at(
            role("pg_monitor"),
            "pg_",
            "role name `pg_monitor` cannot be managed: names starting with pg_ are reserved by PostgreSQL",
        );
    fails_at(role("_pgsr_x"), "_pgsr_", "role name `_pgsr_x` cannot be managed: names starting with _pgsr_ are pgsr's intermediate roles");
    fails_at(
        role("public"),
        "public",
        "role name `public` cannot be managed: PostgreSQL reserves it",
    );
    fails_at(role("none"), "none", "PostgreSQL reserves it");
    assert_eq!(ok(&role("PG_upper")).roles[0].name, "PG_upper");
    let membership = |item: &str| role_with(&[item]);
    fails_at(
            membership("role_membership: _pgsr_abc"),
            "_pgsr_",
            "cannot grant membership of `_pgsr_abc`: roles starting with _pgsr_ are pgsr's intermediate roles",
        );
    fails_at(
        membership("role_membership: { role: r }"),
        "r }",
        "cannot grant membership of `r`: a role cannot be a member of itself",
    );
    fails_at(
        membership("role_membership: public"),
        "public",
        "PostgreSQL reserves that name",
    );
}

#[test]
fn duplicate_keys() {
    fails_with(
        "roles: []\nroles: []\n",
        at(2, 1),
        "duplicate key `roles` (first on line 1)",
    );
    fails_at(
        role_with(&["table_select: { schema: a, schema: b, table: t }"]),
        "schema: b",
        "duplicate key `schema` (first on line 4)",
    );
    fails_with(
        "{\"roles\": [], \"roles\": []}",
        at(1, 15),
        "duplicate key `roles`",
    );
    fails_at(
        "roles:\n  - name: a\n    'name': b\n",
        "'name'",
        "duplicate key `name` (first on line 2)",
    );
}

#[test]
fn anchors_and_aliases() {
    let needle = "YAML anchors and aliases are not supported";
    fails_at("roles: []\nlock_key: &k 1\n", "1\n", needle);
    fails_at("roles:\n  - name: &n a\n", "a\n", needle);
    fails_at("roles: &r []\n", "[]", needle);
    // An anchored block sequence is reported where its first item starts.
    let text = "roles:\n  - name: a\n    grants: &g\n      - schema_usage: s\n  - name: b\n    grants: *g\n";
    fails_at(text, "- schema_usage", needle);
}

#[test]
fn several_documents() {
    let needle = "more than one YAML document; put everything in one";
    fails_with("roles: []\n---\nroles: []\n", at(2, 1), needle);
    fails_with("roles: []\n...\n---\n", at(3, 1), needle);
    assert_eq!(ok("---\nroles: []\n...\n").roles, []);
}

#[test]
fn not_utf8() {
    fails_with(
        b"roles:\n  - name: a\xffb\n",
        at(2, 12),
        "the file is not valid UTF-8 (byte 0xFF here)",
    );
    fails_with(b"\xc3", at(1, 1), "not valid UTF-8 (byte 0xC3 here)");
    let text: Vec<u8> = "roles:\n  - name: é".bytes().chain([0x80]).collect();
    fails_with(text, at(2, 12), "(byte 0x80 here)");
    let bom_then_bad = b"\xEF\xBB\xBFroles: [\xfe]";
    fails_with(bom_then_bad, at(1, 9), "0xFE");
}

#[test]
fn a_nul_byte_is_refused_where_it_is() {
    // The YAML parser would take the NUL for the end of the file and
    // plan the grants after it as revokes.
    let text =
        "roles:\n  - name: a\n    grants:\n      - schema_usage: s\n\0      - schema_usage: t\n";
    fails_with(
        text,
        at(5, 1),
        "the file holds a NUL byte, which YAML does not allow",
    );
    fails_with("roles: [\0]", at(1, 9), "NUL byte");
    fails_with("\0", at(1, 1), "NUL byte");
    // Lines end as the YAML parser ends them, at `\r` too.
    fails_with("roles:\r  - name: a\r\0", at(3, 1), "NUL byte");
    fails_with("roles:\r\n  - name: é\0", at(2, 12), "NUL byte");
}

#[test]
fn characters_yaml_does_not_allow_are_refused_where_they_are() {
    for (c, code) in [
        ('\u{1}', "U+0001"),
        ('\u{7}', "U+0007"),
        ('\u{8}', "U+0008"),
        ('\u{b}', "U+000B"),
        ('\u{c}', "U+000C"),
        ('\u{1b}', "U+001B"),
        ('\u{7f}', "U+007F"),
        ('\u{80}', "U+0080"),
        ('\u{9b}', "U+009B"),
        ('\u{9f}', "U+009F"),
        ('\u{fffe}', "U+FFFE"),
    ] {
        let needle = format!("the file holds the character {code}, which YAML does not allow");
        for text in [
            format!("roles:\n  - name: a{c}b\n"),
            format!("roles:\n  - name: \"a{c}b\"\n"),
            format!("roles:\n  - name: ab # {c}\n"),
        ] {
            let column = text.lines().nth(1).unwrap().find(c).unwrap() + 1;
            fails_with(&text, at(2, column), &needle);
        }
    }
    // What YAML allows: tabs, NEL, and escapes standing for the others.
    let d = ok("roles:\n  - name: \"a\tb\u{85}c\"\n  - name: \"d\\e[31me\"\n");
    assert_eq!(d.roles[0].name, "a\tb\u{85}c");
    assert_eq!(d.roles[1].name, "d\u{1b}[31me");
}

#[test]
fn names_in_messages_have_control_characters_escaped() {
    let e = fails("roles:\n  - name: \"pg_\\e]0;owned\\a\\x9b2J\"\n");
    assert!(!e.message.chars().any(char::is_control), "{e:?}");
    assert!(
        e.message.contains("`pg_\\u{1b}]0;owned\\u{7}\\u{9b}2J`"),
        "{e}"
    );
    let e = fails("roles:\n  - name: a\n    grants:\n      - \"\\r\\e[2Kx\": y\n");
    assert!(
        e.message.contains("unknown grant kind `\\r\\u{1b}[2Kx`"),
        "{e}"
    );
}

/// Malformed logins around the password `hunter2`: no error shows it,
/// nor a part of it.
#[test]
fn a_literal_password_is_never_in_a_message() {
    let cases = [
        ("login: hunter2", "found a string (not shown)"),
        ("login: { password hunter2 }", "unknown key in login"),
        (
            "login: { password: hunter2, hunter2 }",
            "unknown key in login",
        ),
        ("login: { hunter2: x }", "unknown key in login"),
        (
            "login: { password: hunter2, pasword: hunter2 }",
            "unknown key in login",
        ),
        (
            "login: { password: hunter2, password: hunter2 }",
            "duplicate key `password`",
        ),
        (
            "login: { hunter2: 1, hunter2: 2 }",
            "duplicate key (first on line 4)",
        ),
        ("login: { password: [hunter2] }", "the value is not shown"),
        (
            "login: { password: { hunter2: 1 } }",
            "the value is not shown",
        ),
        (
            "login: { password: hunter2, valid_until: hunter2 }",
            "invalid `valid_until`",
        ),
        (
            "login: { password: hunter2, valid_until: [hunter2] }",
            "found a sequence",
        ),
        (
            "login: { password: hunter2, password_env: \"hunt=er2\" }",
            "both given",
        ),
        (
            "login: { password_env: \"hunt=er2\" }",
            "not an environment variable name",
        ),
        ("login: { password_env: [hunter2] }", "found a sequence"),
        (
            "login: { password_file: { hunter2: 1 } }",
            "found a mapping",
        ),
        (
            "login: { password: \"hunter2\\0\" }",
            "contains a NUL character",
        ),
        (
            "login: { password: @hunter2 }",
            "a value cannot start with `@`",
        ),
        (
            "login: { password: `hunter2 }",
            "a value cannot start with `@`",
        ),
        ("login: { password: \"hunter2 }", "invalid YAML"),
        (
            "login: { password: \"hunter2\\q\" }",
            "unknown escape character",
        ),
        (
            "login: { password: hunter2 valid_until: x }",
            "invalid YAML",
        ),
        ("login: { password: !!str hunter2 }", "YAML tags"),
        ("login: { password: &a hunter2 }", "anchors"),
    ];
    for (item, needle) in cases {
        let text = role_with(&[item]);
        let e = fails(&text);
        assert!(e.message.contains(needle), "{item}: {e}");
        for part in ["hunt", "ter2"] {
            assert!(!e.message.contains(part), "{item}: {e}");
        }
    }
    let text = "roles:\n  - name: a\n    grants:\n      - login:\n          password hunter2\n";
    let e = fails(text);
    assert!(!e.message.contains("hunt"), "{e}");
}

#[test]
fn debug_output_never_shows_a_literal_password() {
    let d = ok(&role_with(&["login: { password: hunter2 }"]));
    assert_eq!(
        d.roles[0].login.as_ref().unwrap().password,
        PasswordSource::Literal(Secret::new("hunter2"))
    );
    for shown in [format!("{d:?}"), format!("{d:#?}")] {
        assert!(!shown.contains("hunt"), "{shown}");
        assert!(shown.contains("Literal(***)"), "{shown}");
    }
}

#[test]
fn tags_are_refused() {
    let needle = "YAML tags (such as `!!str`) are not supported; quote the value instead";
    fails_at("roles:\n  - name: !!str 5\n", "5", needle);
    fails_at("roles: !!seq []\n", "[]", needle);
    fails_at("roles:\n  - name: !custom x\n", "x", needle);
}

#[test]
fn deep_nesting_is_refused() {
    let deep = format!("roles: {}{}", "[".repeat(100), "]".repeat(100));
    let e = fails(deep);
    assert!(e.message.contains("nesting deeper than 32 levels"), "{e}");
}

proptest! {
    #[test]
    fn never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Err(e) = parse(&bytes) {
            prop_assert!(!e.message.contains('\n'), "{}", e);
            prop_assert!(e.span.line >= 1 && e.span.column >= 1, "{}", e);
        }
    }

    #[test]
    fn never_panics_on_mutated_examples(
        json in any::<bool>(),
        edits in prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                0..3u8,
                prop_oneof![
                    any::<u8>(),
                    prop::sample::select(b":-[]{},&*!|>'\"#?%@` \t\n\r\\0x~.e".to_vec()),
                ],
            ),
            1..10,
        ),
    ) {
        let mut bytes = if json { EXAMPLE_JSON } else { EXAMPLE }.as_bytes().to_vec();
        for (index, op, byte) in edits {
            let i = index.index(bytes.len());
            match op {
                0 => bytes.insert(i, byte),
                1 => bytes[i] = byte,
                _ => {
                    bytes.remove(i);
                }
            }
        }
        if let Err(e) = parse(&bytes) {
            prop_assert!(!e.message.contains('\n'), "{}", e);
            prop_assert!(e.span.line >= 1 && e.span.column >= 1, "{}", e);
        }
    }
}

#[test]
fn all_privileges_stand_alone() {
    for list in ["[ALL, SELECT]", "[SELECT, ALL]"] {
        let text = format!(
            "roles:\n  - name: r\n    grants:\n      - grant: {{privileges: {list}, on: table, schema: s, name: t}}\n"
        );
        let e = fails(&text);
        assert!(e.message.contains("`ALL` stands alone"), "{list}: {e}");
    }
}
