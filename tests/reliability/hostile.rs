//! Hostile names: tables, views, sequences, functions, procedures, a
//! domain, schemas, databases and roles whose names hold quotes,
//! semicolons, backslashes, `$$`, comment starts, psql syntax, control
//! characters, bidirectional controls, emoji and 63 bytes (multi-byte
//! too), created by a role that only has CREATE. pgsr grants on them and
//! revokes from them through desired files naming them, and exactly the
//! intended changes happen: a catalog dump of our own (not pgsr's inspect)
//! changes only where intended, every plan passes `pgsr apply`'s
//! validation, the roles' access is what was declared (acting as them and
//! logging in as them), and the same plans run by `psql -1 -v
//! ON_ERROR_STOP=1 -f` give the same catalog.
//!
//! Phases A and B run pgsr as the superuser over 23 hostile names (grants,
//! then revokes); phases C and D as the maker itself, a non-superuser with
//! CREATEROLE and a hostile name, which then appears in the plan header
//! and in `OWNER TO`.

use crate::common::*;
use pgsr_e2e::{pg_test, Pg};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

const PASSWORD: &str = "hostile horse battery staple";

/// The names: each becomes a managed role, a table, and (with a prefix)
/// a view, a sequence, a function, a group role and more.
fn hostile_names() -> Vec<String> {
    let names: Vec<String> = vec![
        "a\"b".into(),
        "it's".into(),
        "x; DROP ROLE victim; --".into(),
        "back\\slash\\".into(),
        "$$dollar$$".into(),
        "dash--dash".into(),
        "/* open".into(),
        "new\nline".into(),
        "cr\r\nlf".into(),
        "tab\there".into(),
        "\u{202e}evil\u{200f}rtl".into(),
        "🦀 crab".into(),
        "Upper Case".into(),
        "select".into(),
        "a=b/c,d".into(),
        "\"".into(),
        "'); DROP TABLE public.victim; --".into(),
        "\\! echo pwned".into(),
        ":\"var\" :'v' :x".into(),
        "nel\u{85}ls\u{2028}bom\u{feff}".into(),
        "'\";".repeat(21),
        format!("{}x", "é".repeat(31)),
        format!("{}abc", "🦀".repeat(15)),
    ];
    for n in &names {
        assert!(n.len() <= 63, "{n:?} is {} bytes", n.len());
    }
    assert_eq!(names[20].len(), 63);
    assert_eq!(names[21].len(), 63);
    assert_eq!(names[22].len(), 63);
    names
}

/// `prefix` and as much of `name` as fits in 63 bytes.
fn fit(prefix: &str, name: &str) -> String {
    let mut out = prefix.to_owned();
    for c in name.chars() {
        if out.len() + c.len_utf8() > 63 {
            break;
        }
        out.push(c);
    }
    out
}

const MAIN_DB: &str = "wäre\"house' ; -- $$ 🦀";
const OTHER_DB: &str = "other\ndb\\ 'x'";
const SCHEMA_A: &str = "sch\"ema; DROP SCHEMA public; --";
const SCHEMA_B: &str = "🦀\nregex 'schema'";
const SCHEMA_NEW: &str = "new'schema$$ \"x\" /*";
const DOMAIN: &str = "dom'ain\"; --";
const MAKER: &str = "mak\"er; --\n🦀";
const COLUMN: &str = "c\"ol;";
/// Roles that the maker (a non-superuser with CREATEROLE and a hostile
/// name) manages with pgsr in phases C and D.
const C1: &str = "c\"1; --\n🦀";
const C2: &str = "c2 ' $$ \\";
/// The maker's schema for phases C and D, its tables and view that a regex
/// selects, the table granted by name, and the one given away. C2 also gets
/// USAGE on SCHEMA_A, whose intermediate role the superuser made in phase
/// A: on PostgreSQL 16 and later the maker may not grant that role, and
/// makes one of its own.
const SCHEMA_C: &str = "c\"schema; --";
const C_RELATIONS: [&str; 3] = ["c\"t1", "c\"t2 'x'", "c\"v ;"];
const C_BY_NAME: &str = "by name $$";
const C_OWNED: &str = "owned /* x";

/// The regexes that select tables of SCHEMA_B, by role index.
const REGEXES: &[&str] = &["^r\"", "^q (?:🦀|é)", "^r\"v "];

/// The scenario: who gets what in phase A and phase B.
struct Scenario {
    names: Vec<String>,
}

impl Scenario {
    fn n(&self, i: usize) -> &str {
        &self.names[i]
    }
    fn view(&self, i: usize) -> String {
        fit("v ", self.n(i))
    }
    fn sequence(&self, i: usize) -> String {
        fit("s ", self.n(i))
    }
    fn function(&self, i: usize) -> String {
        fit("f ", self.n(i))
    }
    fn procedure(&self, i: usize) -> String {
        fit("p ", self.n(i))
    }
    fn owned(&self, i: usize) -> String {
        fit("o ", self.n(i))
    }
    fn group(&self, i: usize) -> String {
        fit("g ", self.n(i))
    }
    /// SCHEMA_B: tables matching `^r"`, views matching `^r"v `, sequences
    /// matching `^r"` (never granted: not table-likes), and tables matching
    /// `^q ` and then 🦀 or é, or not.
    fn b_table(&self, i: usize) -> String {
        fit("r\"", self.n(i))
    }
    fn b_view(&self, i: usize) -> String {
        fit("r\"v ", self.n(i))
    }
    fn b_sequence(&self, i: usize) -> String {
        fit("r\"seq ", self.n(i))
    }
    fn b_other(&self, i: usize) -> String {
        fit("q ", self.n(i))
    }
    fn len(&self) -> usize {
        self.names.len()
    }
    /// Roles that exist (with junk to revoke) before pgsr first runs.
    fn preexisting(&self, i: usize) -> bool {
        i.is_multiple_of(2)
    }
    fn logs_in(&self, i: usize) -> bool {
        [1, 2, 7, 11, 21, 22].contains(&i)
    }
}

fn setup(pg: &Pg, s: &Scenario) {
    let mut su = pg.superuser("postgres");
    exec(&mut su, &format!("CREATE DATABASE {}", ident(MAIN_DB)));
    exec(&mut su, &format!("CREATE DATABASE {}", ident(OTHER_DB)));
    exec(
        &mut su,
        &format!(
            "REVOKE CONNECT ON DATABASE {main} FROM PUBLIC; REVOKE CONNECT ON DATABASE {other} FROM PUBLIC;
             CREATE ROLE {maker} LOGIN; GRANT CONNECT, CREATE ON DATABASE {main} TO {maker};
             CREATE ROLE victim;",
            main = ident(MAIN_DB),
            other = ident(OTHER_DB),
            maker = ident(MAKER)
        ),
    );
    let mut db = pg.superuser(MAIN_DB);
    exec(
        &mut db,
        "CREATE TABLE public.victim (i int); GRANT SELECT ON public.victim TO victim;",
    );
    // Everything else is made by the maker, who holds only CREATE.
    let mut maker = pg
        .connect(MAKER, MAIN_DB)
        .unwrap_or_else(|e| panic!("connect as the maker: {}", describe(&e)));
    let (a, b, dom) = (ident(SCHEMA_A), ident(SCHEMA_B), ident(DOMAIN));
    let mut sql = format!(
        "CREATE SCHEMA {a}; CREATE SCHEMA {b}; CREATE DOMAIN {a}.{dom} AS int;
         CREATE TABLE {a}.unrelated (i int);"
    );
    for i in 0..s.len() {
        let t = ident(s.n(i));
        sql.push_str(&format!(
            "CREATE TABLE {a}.{t} ({col} int, ok int);
             CREATE VIEW {a}.{v} AS SELECT * FROM {a}.{t};
             CREATE SEQUENCE {a}.{seq};
             CREATE FUNCTION {a}.{f}({arg} {a}.{dom}, \"b;\" int) RETURNS int LANGUAGE sql AS 'SELECT 1';
             CREATE PROCEDURE {a}.{p}(x int) LANGUAGE sql AS 'SELECT 1';
             CREATE TABLE {a}.{o} (i int);
             CREATE TABLE {b}.{bt} (i int);
             CREATE VIEW {b}.{bv} AS SELECT 1 AS one;
             CREATE SEQUENCE {b}.{bs};
             CREATE TABLE {b}.{bo} (i int);",
            col = ident(COLUMN),
            v = ident(&s.view(i)),
            seq = ident(&s.sequence(i)),
            f = ident(&s.function(i)),
            arg = ident("a\"rg"),
            p = ident(&s.procedure(i)),
            o = ident(&s.owned(i)),
            bt = ident(&s.b_table(i)),
            bv = ident(&s.b_view(i)),
            bs = ident(&s.b_sequence(i)),
            bo = ident(&s.b_other(i)),
        ));
    }
    sql.push_str(&format!(
        "CREATE SCHEMA {c}; CREATE TABLE {c}.{t1} (i int); CREATE TABLE {c}.{t2} (i int);
         CREATE VIEW {c}.{v} AS SELECT 1 AS one; CREATE TABLE {c}.{n} (i int); CREATE TABLE {c}.{o} (i int);",
        c = ident(SCHEMA_C),
        t1 = ident(C_RELATIONS[0]),
        t2 = ident(C_RELATIONS[1]),
        v = ident(C_RELATIONS[2]),
        n = ident(C_BY_NAME),
        o = ident(C_OWNED),
    ));
    exec(&mut maker, &sql);
    exec(&mut su, &format!("ALTER ROLE {} CREATEROLE", ident(MAKER)));
    // Roles that exist already, holding what no desired file declares:
    // pgsr must revoke all of it.
    let mut junk = String::new();
    let mut owners = String::new();
    for i in (0..s.len()).filter(|&i| s.preexisting(i)) {
        let r = ident(s.n(i));
        exec(&mut su, &format!("CREATE ROLE {r}; GRANT victim TO {r};"));
        let next = ident(s.n((i + 1) % s.len()));
        junk.push_str(&format!(
            "GRANT USAGE, SELECT ON SEQUENCE {a}.{seq} TO {r};
             GRANT EXECUTE ON FUNCTION {a}.{f}({a}.{dom}, int) TO {r};
             GRANT EXECUTE ON PROCEDURE {a}.{p}(int) TO {r};
             GRANT USAGE ON DOMAIN {a}.{dom} TO {r};
             GRANT SELECT ({col}) ON {a}.{next} TO {r};
             GRANT INSERT ON {a}.{t} TO {r};",
            seq = ident(&s.sequence(i)),
            f = ident(&s.function(i)),
            p = ident(&s.procedure(i)),
            col = ident(COLUMN),
            t = r,
        ));
        if i.is_multiple_of(4) {
            junk.push_str(&format!(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {a} GRANT SELECT ON TABLES TO {r};"
            ));
        } else {
            owners.push_str(&format!(
                "ALTER FUNCTION {a}.{f}({a}.{dom}, int) OWNER TO {r};",
                f = ident(&s.function(i))
            ));
        }
    }
    exec(&mut maker, &junk);
    exec(&mut db, &owners);
}

/// The desired file of a phase. `passwords`: logins read a password from
/// the environment (else the password is kept, and a converged plan is
/// empty).
fn desired(s: &Scenario, phase: char, passwords: bool) -> String {
    let mut out = String::from("roles:\n");
    for i in 0..s.len() {
        let n = s.n(i);
        let mut grants: Vec<String> = Vec::new();
        if s.logs_in(i) {
            grants.push(if passwords {
                "login: { password_env: HOSTILE_PW }".into()
            } else {
                "login: {}".into()
            });
        }
        grants.push(format!("database_connect: {}", yq(MAIN_DB)));
        if i % 2 == 1 && phase == 'A' {
            grants.push(format!("database_connect: {}", yq(OTHER_DB)));
        }
        grants.push(format!("schema_usage: {}", yq(SCHEMA_A)));
        if phase == 'A' || i % 2 == 1 {
            grants.push(format!(
                "table_select: {{ schema: {}, table: {} }}",
                yq(SCHEMA_A),
                yq(n)
            ));
        }
        if phase == 'B' && i % 5 == 2 {
            grants.push(format!(
                "table_select: {{ schema: {}, table: {}, direct: true }}",
                yq(SCHEMA_A),
                yq(n)
            ));
        }
        if i.is_multiple_of(3) {
            grants.push(format!(
                "table_select: {{ schema: {}, table: {} }}",
                yq(SCHEMA_A),
                yq(&s.view(i))
            ));
        }
        if let Some(regex) = regex_of(i, phase) {
            grants.push(format!("schema_usage: {}", yq(SCHEMA_B)));
            grants.push(format!(
                "table_select: {{ schema: {}, table_regex: {} }}",
                yq(SCHEMA_B),
                yq(regex)
            ));
        }
        if phase == 'A' || i % 3 != 1 {
            grants.push(format!("role_membership: {}", yq(&s.group(i))));
        }
        if i % 4 == 1 && phase == 'A' {
            grants.push(format!(
                "table_ownership: {{ schema: {}, table: {} }}",
                yq(SCHEMA_A),
                yq(&s.owned(i))
            ));
        }
        if i == 3 {
            grants.push(format!("schema_ownership: {}", yq(SCHEMA_NEW)));
        }
        out.push_str(&format!("  - name: {}\n    grants:\n", yq(n)));
        for g in grants {
            out.push_str(&format!("      - {g}\n"));
        }
    }
    out
}

/// Phases C and D, run by the maker: new roles, grants on its objects,
/// ownership given and taken back (to the connecting role, the maker).
fn desired_maker(phase: char) -> String {
    let c = yq(SCHEMA_C);
    let mut c1 = vec![format!("schema_usage: {c}")];
    let mut c2 = vec![
        format!("schema_usage: {c}"),
        format!("schema_usage: {}", yq(SCHEMA_A)),
        format!(
            "table_select: {{ schema: {c}, table_regex: {} }}",
            yq("^c\"")
        ),
    ];
    if phase == 'C' {
        c1.push(format!(
            "table_select: {{ schema: {c}, table: {} }}",
            yq(C_BY_NAME)
        ));
        c1.push(format!(
            "table_ownership: {{ schema: {c}, table: {} }}",
            yq(C_OWNED)
        ));
        c2.push(format!("role_membership: {}", yq(C1)));
    }
    let block = |name: &str, grants: &[String]| {
        let mut out = format!("  - name: {}\n    grants:\n", yq(name));
        for g in grants {
            out.push_str(&format!("      - {g}\n"));
        }
        out
    };
    format!("roles:\n{}{}", block(C1, &c1), block(C2, &c2))
}

/// The desired file of a phase, and who runs pgsr in it.
fn desired_of(s: &Scenario, phase: char, passwords: bool) -> (String, &'static str) {
    match phase {
        'A' | 'B' => (desired(s, phase, passwords), "postgres"),
        _ => (desired_maker(phase), MAKER),
    }
}

/// What phases C and D may change.
fn allowed_maker(key: &(String, String, String)) -> bool {
    let (kind, container, name) = (key.0.as_str(), key.1.as_str(), key.2.as_str());
    let ours = |r: &str| r.starts_with("_pgsr_");
    match kind {
        "role" => name == C1 || name == C2 || ours(name),
        "membership" => [C1, C2, MAKER].contains(&name) || ours(name) || ours(container),
        "schema" => name == SCHEMA_C || name == SCHEMA_A,
        "relation" => {
            container == SCHEMA_C
                && (name == C_BY_NAME || name == C_OWNED || C_RELATIONS.contains(&name))
        }
        // The given-away table's row type and array type change owner too.
        "type" => container == SCHEMA_C && (name == C_OWNED || name == format!("_{C_OWNED}")),
        _ => false,
    }
}

fn check_maker_access(pg: &Pg, phase: char) {
    let c = ident(SCHEMA_C);
    let mut k = Checker::new(pg);
    let by_name = format!("SELECT * FROM {c}.{}", ident(C_BY_NAME));
    let a_usage = format!("SELECT * FROM {}.unrelated", ident(SCHEMA_A));
    k.cannot(C2, &a_usage); // usage of the schema, but no SELECT on the table
    assert!(k.try_as(C2, &a_usage).unwrap_err().contains("for table"));
    assert!(k.try_as(C1, &a_usage).unwrap_err().contains("for schema"));
    for r in C_RELATIONS {
        let sql = format!("SELECT * FROM {c}.{}", ident(r));
        k.can(C2, &sql);
        k.cannot(C1, &sql);
    }
    if phase == 'C' {
        k.can(C1, &by_name);
        k.can(C2, &by_name);
        assert!(k.is_member(C2, C1));
        assert_eq!(k.relation_owner(SCHEMA_C, C_OWNED), C1);
    } else {
        k.cannot(C1, &by_name);
        k.cannot(C2, &by_name);
        assert!(!k.is_member(C2, C1));
        assert_eq!(
            k.relation_owner(SCHEMA_C, C_OWNED),
            MAKER,
            "ownership goes back to the connecting role"
        );
    }
}

fn regex_of(i: usize, phase: char) -> Option<&'static str> {
    if !i.is_multiple_of(5) {
        return None;
    }
    let k = i / 5 + if phase == 'B' { 1 } else { 0 };
    Some(REGEXES[k % REGEXES.len()])
}

/// Whether `name` matches a desired-file regex the way pgsr matches
/// (anchored at the start), for the three regexes used here.
fn regex_matches(regex: &str, name: &str) -> bool {
    match regex {
        "^r\"" => name.starts_with("r\""),
        "^q (?:🦀|é)" => name.starts_with("q 🦀") || name.starts_with("q é"),
        "^r\"v " => name.starts_with("r\"v "),
        other => panic!("unknown regex {other}"),
    }
}

/// The dump keys pgsr may change: the scenario's objects and roles, and
/// its own intermediate roles. Anything else changing is a failure.
fn allowed(s: &Scenario, key: &(String, String, String)) -> bool {
    let managed: BTreeSet<&str> = s.names.iter().map(String::as_str).collect();
    let groups: BTreeSet<String> = (0..s.len()).map(|i| s.group(i)).collect();
    let (kind, container, name) = (key.0.as_str(), key.1.as_str(), key.2.as_str());
    let ours = |r: &str| r.starts_with("_pgsr_");
    match kind {
        "role" => managed.contains(name) || groups.contains(name) || ours(name),
        "membership" => managed.contains(name) || ours(name) || ours(container),
        "database" => name == MAIN_DB || name == OTHER_DB,
        "schema" => [SCHEMA_A, SCHEMA_B, SCHEMA_NEW].contains(&name),
        "relation" if container == SCHEMA_A => (0..s.len()).any(|i| {
            [s.n(i).to_owned(), s.view(i), s.sequence(i), s.owned(i)].contains(&name.to_owned())
        }),
        "relation" => container == SCHEMA_B,
        "column" | "routine" | "default acl" => container == SCHEMA_A,
        // A table's row type (and its array type, `_` and the name cut to
        // 63 bytes) changes owner with the table.
        "type" => {
            container == SCHEMA_A
                && (name == DOMAIN
                    || (0..s.len()).any(|i| {
                        let owned = s.owned(i);
                        name == owned
                            || name.strip_prefix('_').is_some_and(|n| owned.starts_with(n))
                    }))
        }
        _ => false,
    }
}

#[track_caller]
fn assert_only_allowed(context: &str, s: &Scenario, before: &Dump, after: &Dump) {
    let bad: Vec<_> = changed_keys(before, after)
        .into_iter()
        .filter(|k| !allowed(s, k))
        .collect();
    assert!(
        bad.is_empty(),
        "{context}: pgsr changed what it was not asked to: {bad:?}\nall changes:\n{}",
        show_changes(before, after)
    );
}

/// Checks of what roles can do, on one superuser connection: each runs
/// as the role (SET ROLE) in a transaction that is rolled back.
struct Checker {
    c: postgres::Client,
}

impl Checker {
    fn new(pg: &Pg) -> Checker {
        Checker {
            c: pg.superuser(MAIN_DB),
        }
    }

    fn try_as(&mut self, role: &str, sql: &str) -> Result<(), String> {
        let mut tx = self.c.transaction().unwrap();
        tx.batch_execute(&format!("SET ROLE {}", ident(role)))
            .map_err(|e| format!("SET ROLE: {}", describe(&e)))?;
        tx.batch_execute(sql).map_err(|e| describe(&e))
    }

    #[track_caller]
    fn can(&mut self, role: &str, sql: &str) {
        if let Err(e) = self.try_as(role, sql) {
            panic!("{role:?} cannot run {sql:?}: {e}");
        }
    }

    #[track_caller]
    fn cannot(&mut self, role: &str, sql: &str) {
        match self.try_as(role, sql) {
            Ok(()) => panic!("{role:?} can run {sql:?}"),
            Err(e) => assert!(
                e.contains("permission denied"),
                "{role:?} running {sql:?}: {e}"
            ),
        }
    }

    /// Membership, asked with the names as parameters (never quoted).
    fn is_member(&mut self, member: &str, role: &str) -> bool {
        self.c
            .query_one(
                "SELECT pg_has_role((SELECT oid FROM pg_roles WHERE rolname = $1), \
                        (SELECT oid FROM pg_roles WHERE rolname = $2), 'MEMBER')",
                &[&member, &role],
            )
            .unwrap_or_else(|e| panic!("{}", describe(&e)))
            .get(0)
    }

    fn relation_owner(&mut self, schema: &str, relation: &str) -> String {
        self.c
            .query_one(
                "SELECT pg_get_userbyid(c.relowner)::text FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
                &[&schema, &relation],
            )
            .unwrap_or_else(|e| panic!("{}", describe(&e)))
            .get(0)
    }

    fn schema_owner(&mut self, schema: &str) -> String {
        self.c
            .query_one(
                "SELECT pg_get_userbyid(nspowner)::text FROM pg_namespace WHERE nspname = $1",
                &[&schema],
            )
            .unwrap_or_else(|e| panic!("{}", describe(&e)))
            .get(0)
    }
}

/// What each role can do after a phase.
fn check_access(pg: &Pg, s: &Scenario, phase: char) {
    let (a, b) = (ident(SCHEMA_A), ident(SCHEMA_B));
    let mut k = Checker::new(pg);
    for i in 0..s.len() {
        let r = s.n(i);
        let own = format!("SELECT ok FROM {a}.{}", ident(r));
        if reads_own_table(i, phase) {
            k.can(r, &own);
        } else {
            k.cannot(r, &own);
        }
        // What was granted by hand is gone: INSERT, the column of the next
        // table, the sequence, the victim's table and membership.
        k.cannot(r, &format!("INSERT INTO {a}.{} VALUES (1, 1)", ident(r)));
        let next = s.n((i + 1) % s.len());
        k.cannot(
            r,
            &format!("SELECT {} FROM {a}.{}", ident(COLUMN), ident(next)),
        );
        let sequence = literal(&format!("{a}.{}", ident(&s.sequence(i))));
        k.cannot(r, &format!("SELECT nextval({sequence})"));
        k.cannot(r, "SELECT * FROM public.victim");
        assert!(
            !k.is_member(r, "victim"),
            "{r:?} is still a member of victim"
        );
        let view = format!("SELECT * FROM {a}.{}", ident(&s.view(i)));
        if i.is_multiple_of(3) {
            k.can(r, &view);
        } else {
            k.cannot(r, &view);
        }
        // Regex-selected table-likes of SCHEMA_B, never its sequences.
        let regex = regex_of(i, phase);
        let others: Vec<usize> = if regex.is_some() {
            (0..s.len()).collect()
        } else {
            vec![i]
        };
        for j in others {
            for name in [s.b_table(j), s.b_view(j), s.b_other(j)] {
                let sql = format!("SELECT * FROM {b}.{}", ident(&name));
                if regex.is_some_and(|re| regex_matches(re, &name)) {
                    k.can(r, &sql);
                } else {
                    k.cannot(r, &sql);
                }
            }
            if regex.is_some() {
                k.cannot(r, &format!("SELECT * FROM {b}.{}", ident(&s.b_sequence(j))));
            }
        }
        let member = phase == 'A' || i % 3 != 1;
        assert_eq!(
            k.is_member(r, &s.group(i)),
            member,
            "{r:?} in {:?}",
            s.group(i)
        );
        if i % 4 == 1 {
            let owner = k.relation_owner(SCHEMA_A, &s.owned(i));
            let expected = if phase == 'A' { r } else { "postgres" };
            assert_eq!(owner, expected, "owner of {:?}", s.owned(i));
        }
    }
    assert_eq!(
        k.schema_owner(SCHEMA_NEW),
        s.n(3),
        "owner of the schema pgsr created"
    );
    // Logging in as them, with SCRAM over TCP: the connect privilege on
    // both databases goes through pgsr's intermediate roles.
    for i in (0..s.len()).filter(|&i| s.logs_in(i)) {
        let r = s.n(i);
        let mut c = pg
            .connect_with_password(r, PASSWORD, MAIN_DB)
            .unwrap_or_else(|e| panic!("{r:?} cannot log in: {}", describe(&e)));
        let me: String = c
            .query_one("SELECT current_user::text", &[])
            .unwrap()
            .get(0);
        assert_eq!(me, r);
        if reads_own_table(i, phase) {
            c.batch_execute(&format!("SELECT ok FROM {a}.{}", ident(r)))
                .unwrap_or_else(|e| {
                    panic!("{r:?}, logged in, cannot read its table: {}", describe(&e))
                });
        }
        let other = pg.connect_with_password(r, PASSWORD, OTHER_DB);
        assert_eq!(
            other.is_ok(),
            i % 2 == 1 && phase == 'A',
            "{r:?} connecting to the other database: {:?}",
            other.err().map(|e| describe(&e))
        );
    }
}

fn reads_own_table(i: usize, phase: char) -> bool {
    phase == 'A' || i % 2 == 1 || i % 5 == 2
}

/// `pgsr plan -o` then `pgsr apply` (which validates first), as the
/// superuser in the main database; returns the plan.
fn plan_and_apply(pg: &Pg, files: &Files, phase: char, s: &Scenario) -> String {
    let (text, user) = desired_of(s, phase, true);
    let file = files.write(&format!("{phase}.yaml"), &text);
    let plan = files.path(&format!("{phase}.sql"));
    let env = [("HOSTILE_PW", PASSWORD)];
    let out = pg.pgsr_with_env(
        user,
        MAIN_DB,
        &["plan", "-f", p(&file), "-o", p(&plan)],
        &env,
    );
    assert_eq!(out.code, 0, "phase {phase}: plan failed:\n{}", out.stderr);
    let out = pg.pgsr_with_env(user, MAIN_DB, &["apply", p(&plan)], &env);
    no_panic_in("apply", &out);
    assert_eq!(
        out.code, 0,
        "phase {phase}: apply refused or failed:\n{}",
        out.stderr
    );
    // Converged: with the passwords kept, planning again finds nothing.
    let kept = files.write(
        &format!("{phase}-kept.yaml"),
        &desired_of(s, phase, false).0,
    );
    assert_converged(&format!("phase {phase}"), pg, user, MAIN_DB, &kept);
    std::fs::read_to_string(&plan).unwrap()
}

/// Runs a plan with psql in one transaction, stopping at the first error,
/// the way docs/plan.md says: each password the header names from an
/// environment variable is given as the psql variable that stands for it.
fn psql(pg: &Pg, user: &str, plan: &Path, env: &[(&str, &str)]) {
    let text = std::fs::read_to_string(plan).unwrap();
    let mut vars = Vec::new();
    for line in text.lines().filter_map(|l| l.strip_prefix("-- password: ")) {
        let (variable, rest) = line.split_once(' ').unwrap();
        let name = rest
            .rsplit_once(" env ")
            .map(|(_, n)| n.trim_matches('"'))
            .expect("an env source");
        let value = env
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .expect("a value");
        vars.push(format!("{variable}={value}"));
    }
    let mut cmd = Command::new("psql");
    for v in &vars {
        cmd.args(["-v", v]);
    }
    let out = cmd
        .args(["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-f"])
        .arg(plan)
        .env("PGHOST", pg.socket_dir())
        .env("PGPORT", pg.port.to_string())
        .env("PGUSER", user)
        .env("PGDATABASE", MAIN_DB)
        .env("PGSSLMODE", "disable")
        .env_remove("PGOPTIONS")
        .stdin(Stdio::null())
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql failed on {}:\n{}{}",
        plan.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The statements of a plan: everything after the header, which holds the
/// fingerprint of the cluster it was made from.
fn statements_of(plan: &str) -> &str {
    let at = plan.find("\n\n").expect("header ends with a blank line");
    &plan[at..]
}

/// A and B run as the superuser; C and D as the maker.
const PHASES: [char; 4] = ['A', 'B', 'C', 'D'];

pg_test!(fn hostile_names_get_exactly_the_intended_grants(pg) {
    let test = "hostile::hostile_names_get_exactly_the_intended_grants";
    let s = Scenario { names: hostile_names() };
    setup(pg, &s);
    let files = Files::new();
    let mut dumps = Vec::new();
    let mut plans = Vec::new();
    let mut before = dump(&mut pg.superuser(MAIN_DB));
    let t0 = std::time::Instant::now();
    dumps.push(before.clone());
    for phase in PHASES {
        let plan = plan_and_apply(pg, &files, phase, &s);
        let after = dump(&mut pg.superuser(MAIN_DB));
        if phase <= 'B' {
            assert_only_allowed(&format!("phase {phase}"), &s, &before, &after);
            check_access(pg, &s, phase);
        } else {
            let bad: Vec<_> = changed_keys(&before, &after).into_iter().filter(|k| !allowed_maker(k)).collect();
            assert!(bad.is_empty(), "phase {phase}: pgsr changed what it was not asked to: {bad:?}\n{}", show_changes(&before, &after));
            check_maker_access(pg, phase);
            // The maker's own name is in the header, one line.
            let header = format!("-- connecting-role: {}", serde_json::to_string(MAKER).unwrap());
            assert!(plan.lines().any(|l| l == header), "no {header:?} in:\n{plan}");
        }
        // The victims are untouched, whatever the names said.
        assert!(after.contains_key(&("role".into(), String::new(), "victim".into())));
        assert!(after.contains_key(&("relation".into(), "public".into(), "victim".into())));
        assert!(after.contains_key(&("schema".into(), String::new(), "public".into())));
        let changed = changed_keys(&before, &after).len();
        figure(test, pg, &format!(
            "phase {phase}: {} statements applied by pgsr apply; {changed} catalog entries changed, all intended",
            plan.lines().find_map(|l| l.strip_prefix("-- statements: ")).unwrap_or("?")
        ));
        plans.push(plan);
        dumps.push(after.clone());
        before = after;
    }

    // The same plans through psql, on a second cluster built the same way,
    // give the same catalog.
    let twin = Pg::start(pg.major);
    setup(&twin, &s);
    let mut twin_before = dump(&mut twin.superuser(MAIN_DB));
    assert!(twin_before == dumps[0], "the twin cluster differs before any plan:\n{}", show_changes(&dumps[0], &twin_before));
    for (k, phase) in PHASES.into_iter().enumerate() {
        let (text, user) = desired_of(&s, phase, true);
        let file = files.write(&format!("{phase}-twin.yaml"), &text);
        let plan_file = files.path(&format!("{phase}-twin.sql"));
        let out = twin.pgsr_with_env(user, MAIN_DB, &["plan", "-f", p(&file), "-o", p(&plan_file)], &[("HOSTILE_PW", PASSWORD)]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let plan = std::fs::read_to_string(&plan_file).unwrap();
        assert_eq!(statements_of(&plan), statements_of(&plans[k]), "phase {phase}: the twin's plan differs");
        psql(&twin, user, &plan_file, &[("HOSTILE_PW", PASSWORD)]);
        let after = dump(&mut twin.superuser(MAIN_DB));
        assert!(
            after == dumps[k + 1],
            "phase {phase}: psql -f gave a different catalog than pgsr apply:\n{}",
            show_changes(&dumps[k + 1], &after)
        );
        twin_before = after;
    }
    let _ = twin_before;
    figure(test, pg, &format!(
        "{} hostile names; all four plans run by psql -1 -v ON_ERROR_STOP=1 -f give the same catalog; {:.1} s",
        s.len(),
        t0.elapsed().as_secs_f64()
    ));
});

// A non-superuser (CREATEROLE) connecting role, with a hostile name, syncs
// a schema where a superuser's earlier sync made the intermediate role. On
// PostgreSQL 16 and later it cannot grant a role it has no ADMIN OPTION
// on, so it must not plan to: it makes an intermediate role of its own.
pg_test!(fn non_superuser_uses_only_intermediate_roles_it_can_grant(pg) {
    let adm = "adm\"in; --\n🦀";
    let schema = "s'hared \"schema\"";
    pg.execute(
        "postgres",
        &format!(
            "CREATE ROLE {adm} CREATEROLE LOGIN; CREATE SCHEMA {s} AUTHORIZATION {adm}; CREATE TABLE {s}.t (i int);
             ALTER TABLE {s}.t OWNER TO {adm};",
            adm = ident(adm),
            s = ident(schema)
        ),
    );
    let files = Files::new();
    let by_superuser = files.write(
        "a.yaml",
        &format!("roles:\n  - name: {}\n    grants:\n      - schema_usage: {}\n", yq("first ' one"), yq(schema)),
    );
    let out = run(pg, "postgres", "postgres", &["sync", "-f", p(&by_superuser)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let by_adm = files.write(
        "b.yaml",
        &format!(
            "roles:\n  - name: {}\n    grants:\n      - schema_usage: {}\n      - table_select: {{ schema: {}, table: t }}\n",
            yq("second \" one"),
            yq(schema),
            yq(schema)
        ),
    );
    let plan = files.path("b.sql");
    let out = run(pg, adm, "postgres", &["plan", "-f", p(&by_adm), "-o", p(&plan)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = run(pg, adm, "postgres", &["apply", p(&plan)]);
    assert_eq!(out.code, 0, "apply as {adm:?} failed:\n{}\nplan:\n{}", out.stderr, std::fs::read_to_string(&plan).unwrap());
    assert_converged("second sync", pg, adm, "postgres", &by_adm);
    assert_converged("first sync", pg, "postgres", "postgres", &by_superuser);
    let mut c = pg.superuser("postgres");
    for role in ["first ' one", "second \" one"] {
        let mut tx = c.transaction().unwrap();
        exec(&mut tx, &format!("SET ROLE {}", ident(role)));
        tx.batch_execute(&format!("SELECT has_schema_privilege({}, 'USAGE')", literal(schema)))
            .unwrap();
        let usage: bool = tx
            .query_one("SELECT has_schema_privilege($1, 'USAGE')", &[&schema])
            .unwrap()
            .get(0);
        assert!(usage, "{role:?} has no usage on the schema");
        tx.rollback().unwrap();
    }
});
