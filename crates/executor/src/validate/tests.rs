use super::StatementKind::*;
use super::*;

fn accept(body: &str) -> Vec<ValidatedStatement> {
    validate_statements(body, 1).unwrap_or_else(|e| panic!("refused {body:?}: {e}"))
}

fn kind(body: &str) -> StatementKind {
    let statements = accept(body);
    assert_eq!(statements.len(), 1, "{body:?}");
    statements[0].kind
}

fn effect(body: &str) -> Effect {
    accept(body).remove(0).effect
}

#[track_caller]
fn refuse(body: &str, needle: &str) -> ValidationError {
    let e = match validate_statements(body, 1) {
        Ok(s) => panic!("accepted {body:?}: {s:?}"),
        Err(e) => e,
    };
    assert!(
        e.message.contains(needle),
        "{body:?}: expected {needle:?} in {:?}",
        e.message
    );
    assert!(!e.message.contains('\n'), "one line: {e}");
    e
}

#[test]
fn roles() {
    assert_eq!(kind("CREATE ROLE r;"), CreateRole);
    assert_eq!(kind("create role \"a\"\"b\";"), CreateRole);
    assert_eq!(
        kind("DROP ROLE \"_pgsr_local_1_x\", _pgsr_global_y;"),
        DropRole
    );
    for body in [
        "ALTER ROLE r WITH LOGIN;",
        "ALTER ROLE r WITH NOLOGIN PASSWORD NULL;",
        "ALTER ROLE r WITH NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;",
        "ALTER ROLE r WITH LOGIN VALID UNTIL 'infinity';",
        "ALTER ROLE r WITH VALID UNTIL '2026-12-20T00:00:00.000000Z';",
        "ALTER ROLE \"é\" WITH NOLOGIN NOSUPERUSER PASSWORD NULL VALID UNTIL 'infinity';",
    ] {
        assert_eq!(kind(body), AlterRole, "{body}");
    }
    assert_eq!(
        effect("ALTER ROLE \"Alice\" WITH PASSWORD :'password_2';"),
        Effect::SetPassword {
            role: "Alice".into(),
            variable: "password_2".into()
        }
    );
}

#[test]
fn role_refusals() {
    refuse("CREATE ROLE r NOLOGIN;", "nothing may follow the role name");
    refuse(
        "CREATE ROLE r SUPERUSER;",
        "nothing may follow the role name",
    );
    refuse(
        "CREATE ROLE r WITH LOGIN;",
        "nothing may follow the role name",
    );
    // Attributes that escalate are recognized, for apply's power check.
    for escalation in [
        "SUPERUSER",
        "CREATEDB",
        "CREATEROLE",
        "REPLICATION",
        "BYPASSRLS",
    ] {
        assert_eq!(
            effect(&format!("ALTER ROLE r WITH LOGIN {escalation};")),
            Effect::Attributes {
                role: "r".into(),
                login: true,
                removes: vec![],
                gives: vec![escalation.into()],
            }
        );
    }
    refuse("ALTER ROLE r LOGIN;", "expected WITH");
    refuse(
        "ALTER ROLE r WITH NOSUPERUSER LOGIN;",
        "in the order pgsr writes them",
    );
    refuse(
        "ALTER ROLE r WITH CONNECTION LIMIT 1 NOINHERIT;",
        "in the order pgsr writes them",
    );
    refuse("ALTER ROLE r WITH CONNECTION LIMIT -2;", "-1 or a count");
    refuse("ALTER ROLE r WITH;", "expected a role attribute");
    let e = refuse(
        "ALTER ROLE r WITH LOGIN PASSWORD 'hunter2-secret';",
        "a password or verifier written in a plan is not allowed",
    );
    assert!(!e.message.contains("hunter2"), "{e}");
    refuse(
        "ALTER ROLE r WITH PASSWORD 'SCRAM-SHA-256$4096:a=$b=:c=';",
        "not allowed",
    );
    refuse("ALTER ROLE r WITH PASSWORD E'x';", "not allowed");
    refuse("ALTER ROLE r WITH PASSWORD $$x$$;", "not allowed");
    refuse(
        "ALTER ROLE r WITH PASSWORD :'other';",
        "expected :'password_N'",
    );
    refuse(
        "ALTER ROLE r WITH PASSWORD :'password_1' LOGIN;",
        "end of the statement",
    );
    refuse(
        "ALTER ROLE r WITH VALID UNTIL 'tomorrow';",
        "'infinity' or a UTC time",
    );
    refuse(
        "ALTER ROLE r WITH VALID UNTIL '2026-12-20';",
        "'infinity' or a UTC time",
    );
    refuse(
        "ALTER ROLE r SET search_path = x;",
        "a value as a string literal",
    );
    refuse("ALTER ROLE r SET search_path TO 'x';", "expected =");
    refuse("ALTER ROLE r RESET ALL;", "RESET ALL is not allowed");
    refuse("ALTER ROLE r IN DATABASE d WITH LOGIN;", "SET or RESET");
    refuse("ALTER ROLE r RENAME TO s, t;", "end of the statement");
    refuse("DROP ROLE _pgsr_x, alice;", "not an intermediate role");
    refuse("DROP OWNED BY a, b;", "end of the statement");
    refuse("DROP OWNED BY a CASCADE;", "end of the statement");
    refuse("REASSIGN OWNED BY a TO CURRENT_USER;", "explicitly");
    refuse("COMMENT ON ROLE r IS 1;", "string literal");
    refuse(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'r';",
        "the one SELECT a plan holds",
    );
    refuse(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'r' OR true AND pid <> pg_backend_pid();",
        "the one SELECT a plan holds",
    );
    refuse("DROP ROLE IF EXISTS _pgsr_x;", "found `EXISTS`");
}

#[test]
fn roles_as_declared() {
    refuse("SELECT 1;", "the one SELECT a plan holds");
    for body in [
        "ALTER ROLE r SET statement_timeout = '5s';",
        "ALTER ROLE r IN DATABASE app SET search_path = '$user', 'app';",
        "ALTER ROLE r IN DATABASE app RESET work_mem;",
        "ALTER ROLE r SET app.tenant = E'a\\\\b';",
        "COMMENT ON ROLE r IS 'reads';",
        "COMMENT ON ROLE r IS NULL;",
        "ALTER ROLE r WITH NOINHERIT CONNECTION LIMIT 5;",
        "ALTER ROLE r WITH INHERIT CONNECTION LIMIT -1;",
    ] {
        accept(body);
    }
    assert_eq!(
        effect("ALTER ROLE old RENAME TO new;"),
        Effect::Rename {
            from: "old".into(),
            to: "new".into()
        }
    );
    let retire = |role: &str, receiver: Option<&str>| Effect::Retire {
        role: role.into(),
        receiver: receiver.map(Into::into),
    };
    assert_eq!(effect("DROP ROLE alice;"), retire("alice", None));
    assert_eq!(effect("DROP OWNED BY alice;"), retire("alice", None));
    assert_eq!(
        effect("REASSIGN OWNED BY alice TO bob;"),
        retire("alice", Some("bob"))
    );
    assert_eq!(
        effect("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'alice' AND pid <> pg_backend_pid();"),
        retire("alice", None)
    );
    for body in [
        "GRANT p TO c WITH ADMIN OPTION;",
        "GRANT p TO c WITH INHERIT FALSE;",
        "GRANT p TO c WITH ADMIN OPTION, INHERIT TRUE, SET FALSE;",
        "GRANT p TO c WITH SET FALSE;",
    ] {
        accept(body);
    }
}

#[test]
fn object_grants_and_revokes() {
    for body in [
        "GRANT CONNECT ON DATABASE \"é\" TO r;",
        "GRANT CREATE ON DATABASE d TO \"new owner\";",
        "GRANT USAGE, CREATE ON SCHEMA s TO a, b;",
        "GRANT SELECT ON TABLE \"My Schema\".\"select\", b.\"a\"\"b\" TO r;",
    ] {
        assert_eq!(kind(body), Grant, "{body}");
    }
    let objects = [
        "TABLE public.t",
        "SEQUENCE s.\"semi;colon\"",
        "DATABASE \"é\", db2",
        "SCHEMA \"new\nline\"",
        "TABLESPACE ts",
        "LANGUAGE plpgsql",
        "FOREIGN DATA WRAPPER postgres_fdw",
        "FOREIGN SERVER srv",
        "TYPE public.mood",
        "DOMAIN s.d",
        "LARGE OBJECT 16384, 16385",
        "PARAMETER work_mem, plpgsql.extra_warnings",
        "FUNCTION s.f()",
        "FUNCTION public.f(integer, text), s.g()",
        "FUNCTION s.f(a integer, VARIADIC b text[])",
        "PROCEDURE s.p(character varying, double precision)",
        "ROUTINE s.r(timestamp with time zone)",
        "FUNCTION s.f(public.\"My Type\")",
        "FUNCTION s.f(integer ORDER BY double precision)",
        "FUNCTION s.f(numeric(10,2), \"a\"\"b\"[])",
    ];
    for o in objects {
        assert_eq!(
            kind(&format!("REVOKE SELECT ON {o} FROM r;")),
            Revoke,
            "{o}"
        );
    }
    for body in [
        "REVOKE GRANT OPTION FOR SELECT ON TABLE s.t FROM r CASCADE;",
        "REVOKE SELECT (a, \"B\"), INSERT (c) ON TABLE s.t FROM r;",
        "REVOKE SET, ALTER SYSTEM ON PARAMETER work_mem FROM r;",
        "REVOKE TEMPORARY, TEMP, CONNECT ON DATABASE d FROM r, s;",
    ] {
        assert_eq!(kind(body), Revoke, "{body}");
    }
}

#[test]
fn object_grant_refusals() {
    refuse(
        "GRANT USAGE ON TABLE s.t TO r;",
        "GRANT USAGE ON TABLE is not allowed",
    );
    refuse(
        "GRANT SELECT ON TABLE s.t TO r WITH ADMIN OPTION;",
        "WITH … other than WITH GRANT OPTION",
    );
    refuse(
        "GRANT SELECT ON TABLE s.t TO r WITH GRANT OPTION GRANTED BY o;",
        "GRANTED BY",
    );
    refuse("GRANT SELECT ON TABLE s.t TO r GRANTED BY o;", "GRANTED BY");
    refuse("GRANT ALL ON TABLE s.t TO r;", "ALL is not allowed");
    refuse(
        "GRANT ALL PRIVILEGES ON SCHEMA s TO r;",
        "ALL is not allowed",
    );
    refuse(
        "GRANT USAGE ON PARAMETER work_mem TO r;",
        "GRANT USAGE ON PARAMETER is not allowed",
    );
    refuse("GRANT SELECT ON s.t TO r;", "the object class");
    refuse(
        "GRANT SELECT ON TABLE t TO r;",
        "names the schema of every object",
    );
    refuse(
        "GRANT SELECT ON ALL TABLES IN SCHEMA s TO r;",
        "name each object",
    );
    refuse("REVOKE ALL ON TABLE s.t FROM r;", "ALL is not allowed");
    refuse(
        "REVOKE SELECT ON TABLE s.t FROM r GRANTED BY o;",
        "end of the statement",
    );
    refuse(
        "REVOKE SELECT ON TABLE s.t FROM r RESTRICT;",
        "end of the statement",
    );
}

#[test]
fn membership() {
    assert_eq!(
        effect("GRANT parent, \"Other\" TO child, \"é\";"),
        Effect::Membership {
            roles: vec!["parent".into(), "Other".into()],
            members: vec!["child".into(), "é".into()]
        }
    );
    assert_eq!(kind("grant \"on\" to \"to\";"), GrantRole);
    for body in [
        "REVOKE p FROM c;",
        "REVOKE p, q FROM c GRANTED BY g CASCADE;",
        "REVOKE admin FROM c;",
    ] {
        assert_eq!(kind(body), RevokeRole, "{body}");
    }
    refuse("GRANT p TO c WITH INHERIT OPTION;", "TRUE or FALSE");
    refuse(
        "GRANT p TO c WITH SET FALSE, ADMIN OPTION;",
        "end of the statement",
    );
    refuse("GRANT p TO c GRANTED BY g;", "GRANTED BY");
    refuse(
        "REVOKE ADMIN OPTION FOR p FROM c;",
        "OPTION FOR is not allowed",
    );
    refuse(
        "REVOKE SET OPTION FOR p FROM c;",
        "OPTION FOR is not allowed",
    );
}

#[test]
fn ownership() {
    for o in [
        "TABLE s.t",
        "VIEW s.\"v;\"",
        "MATERIALIZED VIEW s.m",
        "FOREIGN TABLE s.ft",
        "SCHEMA \"new\nline\"",
    ] {
        assert_eq!(
            kind(&format!("ALTER {o} OWNER TO \"a\"\"b\";")),
            AlterOwner,
            "{o}"
        );
    }
    // Every kind a desired file can declare the ownership of (whether it is
    // power is decided under the lock); never a foreign-data wrapper.
    for o in [
        "SEQUENCE s.\"select\"",
        "DATABASE d",
        "TABLESPACE ts",
        "LANGUAGE plpgsql",
        "SERVER srv",
        "TYPE t.\"My Type\"",
        "DOMAIN s.d",
        "LARGE OBJECT 42",
        "FUNCTION s.f(integer, text)",
        "PROCEDURE s.p()",
        "AGGREGATE s.a(integer ORDER BY double precision)",
    ] {
        assert_eq!(
            kind(&format!("ALTER {o} OWNER TO admin;")),
            AlterOwner,
            "{o}"
        );
    }
    for o in ["FOREIGN DATA WRAPPER w", "ROUTINE s.r(OUT x integer)"] {
        refuse(
            &format!("ALTER {o} OWNER TO admin;"),
            "a plan never changes the owner of a",
        );
    }
    assert_eq!(
        effect("ALTER VIEW pg_catalog.v OWNER TO admin;"),
        Effect::Owner {
            class: "VIEW".into(),
            object: vec!["pg_catalog".into(), "v".into()],
            owner: "admin".into()
        }
    );
    assert_eq!(
        effect("CREATE SCHEMA \"Postgres\" AUTHORIZATION attacker;"),
        Effect::CreateSchema {
            schema: "Postgres".into(),
            owner: "attacker".into()
        }
    );
    refuse(
        "ALTER TABLE s.t ADD COLUMN c int;",
        "only OWNER TO is allowed",
    );
    refuse("ALTER TABLE s.t OWNER TO r, s;", "end of the statement");
    refuse("CREATE SCHEMA s;", "expected AUTHORIZATION");
    refuse("CREATE SCHEMA AUTHORIZATION r;", "the schema's name");
    refuse(
        "CREATE SCHEMA IF NOT EXISTS s AUTHORIZATION r;",
        "the schema's name",
    );
    refuse(
        "CREATE SCHEMA s AUTHORIZATION r CREATE TABLE t (a int);",
        "end of the statement",
    );
}

#[test]
fn default_privileges() {
    for body in [
        "ALTER DEFAULT PRIVILEGES FOR ROLE o REVOKE SELECT ON TABLES FROM r;",
        "ALTER DEFAULT PRIVILEGES FOR ROLE \"o\" IN SCHEMA \"t;\" REVOKE USAGE, CREATE ON SCHEMAS FROM r, s;",
        "alter default privileges for role o revoke execute on routines from r;",
        "ALTER DEFAULT PRIVILEGES FOR ROLE o REVOKE SELECT, UPDATE ON LARGE OBJECTS FROM r;",
        "ALTER DEFAULT PRIVILEGES FOR ROLE o REVOKE GRANT OPTION FOR SELECT ON TABLES FROM r;",
        "ALTER DEFAULT PRIVILEGES FOR ROLE o GRANT SELECT ON TABLES TO r;",
        "ALTER DEFAULT PRIVILEGES FOR ROLE o IN SCHEMA s GRANT USAGE ON TYPES TO r, q WITH GRANT OPTION;",
    ] {
        assert_eq!(kind(body), AlterDefaultPrivileges, "{body}");
    }
    refuse(
        "ALTER DEFAULT PRIVILEGES FOR ROLE o GRANT SELECT ON TABLES TO r WITH ADMIN OPTION;",
        "other than WITH GRANT OPTION",
    );
    refuse(
        "ALTER DEFAULT PRIVILEGES FOR ROLE o GRANT SELECT ON TABLES FROM r;",
        "expected TO",
    );
    refuse(
        "ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM r;",
        "expected FOR",
    );
    refuse(
        "ALTER DEFAULT PRIVILEGES FOR ROLE o REVOKE SELECT (a) ON TABLES FROM r;",
        "column list",
    );
    refuse(
        "ALTER DEFAULT PRIVILEGES FOR ROLE o REVOKE SELECT ON VIEWS FROM r;",
        "expected TABLES",
    );
}

#[test]
fn lines_text_and_comments() {
    let body = "-- header comment; not a statement\n\
                /* block ; /* nested ; */ still comment */\n\
                \n\
                CREATE ROLE \"x\ny\"; CREATE ROLE b\n\
                \x20 -- trailing ; comment\n\
                ;\n\
                GRANT p /* inside */ TO c;\r\n\
                \tDROP ROLE _pgsr_z;  -- done\n";
    let s = validate_statements(body, 10).unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<(usize, &str)> = s.iter().map(|s| (s.line, s.sql.as_str())).collect();
    assert_eq!(
        got,
        [
            (13, "CREATE ROLE \"x\ny\""),
            (14, "CREATE ROLE b"),
            (17, "GRANT p /* inside */ TO c"),
            (18, "DROP ROLE _pgsr_z"),
        ]
    );
    assert_eq!(accept("").len(), 0);
    assert_eq!(accept(" -- only a comment\n/* and */\n").len(), 0);

    let e = validate_statements("CREATE ROLE a;\n-- x\n\nDROP\nTABLE t;", 7);
    assert_eq!(e.map_err(|e| e.line), Err(10));
    let e = validate_statements("CREATE ROLE \"a\nb\nc\"; TRUNCATE t;", 5);
    assert_eq!(
        e.map_err(|e| e.to_string()).err().as_deref(),
        Some("line 7: TRUNCATE is not allowed in a plan: only role and privilege statements are")
    );
}

#[test]
fn other_statements_are_refused() {
    let not_allowed = "is not allowed in a plan";
    for (body, what) in [
        ("DROP TABLE t;", "DROP TABLE is not allowed"),
        ("DROP SCHEMA s CASCADE;", "DROP SCHEMA is not allowed"),
        ("TRUNCATE t;", "TRUNCATE is not allowed"),
        ("COPY t FROM '/etc/passwd';", "COPY is not allowed"),
        ("COPY (SELECT 1) TO PROGRAM 'id';", "COPY is not allowed"),
        ("DO $$BEGIN DROP TABLE t; END$$;", "DO is not allowed"),
        ("DO $x$ ; $x$ LANGUAGE plpgsql;", "DO is not allowed"),
        ("SET ROLE admin;", "SET ROLE is not allowed"),
        ("RESET ROLE;", "RESET ROLE is not allowed"),
        (
            "SET SESSION AUTHORIZATION admin;",
            "SET SESSION AUTHORIZATION is not",
        ),
        ("BEGIN;", "BEGIN is not allowed"),
        ("COMMIT;", "COMMIT is not allowed"),
        ("rollback;", "ROLLBACK is not allowed"),
        (
            "CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql;",
            "CREATE FUNCTION",
        ),
        (
            "CREATE OR REPLACE FUNCTION f() RETURNS int;",
            "CREATE OR REPLACE FUNCTION",
        ),
        (
            "ALTER SYSTEM SET fsync = off;",
            "ALTER SYSTEM is not allowed",
        ),
        ("CREATE USER u;", "CREATE USER is not allowed"),
        ("\"create\" ROLE r;", "starting with quoted name"),
    ] {
        let e = refuse(body, what);
        assert!(e.message.contains(not_allowed), "{e}");
    }
}

#[test]
fn public_and_session_roles_are_refused() {
    // A desired file's `public` section manages PUBLIC's object privileges.
    for body in [
        "GRANT SELECT ON TABLE s.t TO PUBLIC;",
        "REVOKE EXECUTE ON FUNCTION s.f() FROM r, Public;",
        "ALTER DEFAULT PRIVILEGES FOR ROLE o REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;",
    ] {
        accept(body);
    }
    // PUBLIC is no role: it is never granted, nor given anything as one.
    refuse("GRANT p TO PUBLIC;", "PUBLIC is not allowed");
    refuse("GRANT PUBLIC TO r;", "PUBLIC");
    refuse("ALTER TABLE s.t OWNER TO PUBLIC;", "PUBLIC is not allowed");
    refuse("GRANT SELECT ON TABLE s.t TO \"public\";", "means PUBLIC");
    refuse("GRANT p TO \"public\";", "means PUBLIC");
    refuse(
        "GRANT SELECT ON TABLE s.t TO current_user;",
        "CURRENT_USER is not allowed",
    );
    refuse(
        "ALTER TABLE s.t OWNER TO SESSION_USER;",
        "SESSION_USER is not allowed",
    );
    refuse(
        "REVOKE p FROM c GRANTED BY CURRENT_ROLE;",
        "CURRENT_ROLE is not allowed",
    );
    // A quoted keyword is just a name.
    assert_eq!(
        kind("GRANT SELECT ON TABLE s.t TO \"PUBLIC\", \"current_user\";"),
        Grant
    );
}

#[test]
fn hidden_statements() {
    // Inside quotes or comments the `;` is text, not a statement end …
    assert_eq!(accept("CREATE ROLE \"x; DROP TABLE t; --\";").len(), 1);
    assert_eq!(accept("CREATE ROLE a /* ; DROP TABLE t; */;").len(), 1);
    assert_eq!(
        accept("/* /* */ ; DROP TABLE t; */ CREATE ROLE a;").len(),
        1
    );
    assert_eq!(accept("CREATE ROLE a -- ; DROP TABLE t;\n;").len(), 1);
    // … and outside them it is, so the hidden statement is caught.
    refuse(
        "CREATE ROLE \"x\"; DROP TABLE t; --\";",
        "DROP TABLE is not allowed",
    );
    refuse(
        "CREATE ROLE a /* */; DROP TABLE t; /* */;",
        "DROP TABLE is not allowed",
    );
    refuse(
        "CREATE ROLE a -- c\n; DROP TABLE t;",
        "DROP TABLE is not allowed",
    );
    // PostgreSQL ends a `--` comment at a bare carriage return too.
    refuse(
        "CREATE ROLE a; -- c\rDROP TABLE t;",
        "DROP TABLE is not allowed",
    );
}

#[test]
fn malformed_input_is_refused() {
    let e = refuse(
        "CREATE ROLE a;\n\\! rm -rf /\nCREATE ROLE b;",
        "psql meta-command",
    );
    assert_eq!(e.line, 2);
    assert!(e.message.contains("rm -rf"), "{e}");
    refuse("\\connect other\n", "psql meta-command");
    refuse(
        "GRANT SELECT ON TABLE 'x' TO y;",
        "expected a name, found a string literal",
    );
    assert_eq!(
        refuse("CREATE ROLE a;\n\nCREATE ROLE b", "does not end with `;`").line,
        3
    );
    refuse(
        "CREATE ROLE a; -- fine\n CREATE ROLE b /* ; */",
        "does not end with `;`",
    );
    refuse(
        "REVOKE EXECUTE ON FUNCTION s.f(integer FROM r;",
        "unbalanced parentheses",
    );
    refuse(
        "REVOKE EXECUTE ON FUNCTION s.f(integer)) FROM r;",
        "unbalanced parentheses",
    );
    refuse(
        "REVOKE SELECT (a ON TABLE s.t FROM r;",
        "closing the column list",
    );
    refuse(
        "REVOKE EXECUTE ON FUNCTION s.f(integer, ) FROM r;",
        "empty item",
    );
    refuse(
        "REVOKE EXECUTE ON FUNCTION s.f(x = 1) FROM r;",
        "unexpected `=`",
    );
    refuse(
        "REVOKE EXECUTE ON FUNCTION s.f(text DEFAULT 'a') FROM r;",
        "string literal",
    );
    refuse("REVOKE EXECUTE ON FUNCTION s.f FROM r;", "expected `(`");
    assert_eq!(refuse("CREATE ROLE a;;", "empty statement").line, 1);
    refuse(";", "empty statement");
    refuse("GRANT SELECT TO r;", "SELECT without ON");
    refuse("GRANT all TO r;", "ALL without ON");
    refuse("REVOKE usage FROM r;", "USAGE without ON");
    refuse(
        "GRANT \"select\" ON TABLE s.t TO r;",
        "expected a privilege",
    );
    refuse("CREATE ROLE select;", "reserved word SELECT");
    refuse("CREATE ROLE \"\";", "zero-length");
    let long = "a".repeat(64);
    refuse(&format!("CREATE ROLE \"{long}\";"), "longer than 63 bytes");
    assert_eq!(
        refuse("CREATE ROLE a;\nCREATE ROLE \"b;\n", "cannot read SQL").line,
        2
    );
    refuse("CREATE ROLE a /* open", "cannot read SQL");
    refuse("CREATE ROLE \"a\0b\";", "NUL");
}

proptest::proptest! {
    #[test]
    fn never_panics(body in proptest::prelude::any::<String>(), first in 0usize..) {
        let _ = validate_statements(&body, first);
    }

    #[test]
    fn never_panics_on_sql_like_text(
        body in "([a-zA-Z_ ,.;()'\"$\\\\\n\r*/:-]|GRANT |ON |TO |ROLE |PASSWORD |é|--|/\\*|\\*/){0,60}"
    ) {
        let _ = validate_statements(&body, usize::MAX);
    }
}

/// Every privilege a desired file can declare, in the forms the renderer
/// writes: per class, with columns, and with grant option.
#[test]
fn general_grants() {
    for sql in [
        "GRANT INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON TABLE s.t TO r;",
        "GRANT MAINTAIN ON TABLE s.t, s.u TO r, q;",
        "GRANT SELECT (a, \"B\"), UPDATE (a) ON TABLE s.t TO r;",
        "GRANT USAGE, SELECT, UPDATE ON SEQUENCE s.q TO r;",
        "GRANT EXECUTE ON FUNCTION s.f(integer, text) TO r;",
        "GRANT EXECUTE ON PROCEDURE s.p() TO r;",
        "GRANT USAGE ON TYPE s.ty TO r;",
        "GRANT USAGE ON DOMAIN s.d TO r;",
        "GRANT USAGE ON LANGUAGE plpgsql TO r;",
        "GRANT USAGE ON FOREIGN DATA WRAPPER w TO r;",
        "GRANT USAGE ON FOREIGN SERVER v TO r;",
        "GRANT SELECT, UPDATE ON LARGE OBJECT 16390 TO r;",
        "GRANT CREATE ON TABLESPACE ts TO r;",
        "GRANT CONNECT, CREATE, TEMPORARY ON DATABASE d TO r;",
        "GRANT USAGE, CREATE ON SCHEMA s TO r WITH GRANT OPTION;",
        "GRANT SELECT ON TABLE s.t TO r WITH GRANT OPTION;",
    ] {
        assert_eq!(kind(sql), Grant, "{sql}");
    }
    // Privileges on parameters are power: their effect is checked under
    // the lock against the header.
    assert_eq!(
        effect(
            "GRANT SET, ALTER SYSTEM ON PARAMETER work_mem, plpgsql.extra_warnings TO r, PUBLIC;"
        ),
        Effect::ParameterPrivileges {
            parameters: vec!["work_mem".into(), "plpgsql.extra_warnings".into()],
            grantees: vec!["r".into(), "PUBLIC".into()],
        }
    );
    refuse(
        "GRANT EXECUTE ON TABLE s.t TO r;",
        "GRANT EXECUTE ON TABLE is not allowed",
    );
    refuse("GRANT INSERT (a) ON SEQUENCE s.q TO r;", "not allowed");
}

#[test]
fn execute_grants_name_their_routines() {
    assert_eq!(
        effect("GRANT EXECUTE ON FUNCTION s.f(integer, text), \"S\".g() TO r, PUBLIC;"),
        Effect::Execute {
            routines: vec![vec!["s".into(), "f".into()], vec!["S".into(), "g".into()]],
            grantees: vec!["r".into(), "PUBLIC".into()],
        }
    );
}
