//! The statement shapes a plan may hold, one recognizer per statement:
//! exactly the forms the planner's renderer writes, and nothing else.

use super::cursor::{bare, describe, eq, listed, shown_name, Cursor};
use super::StatementKind;
use pgsr_planner::power::is_system_schema;
use sqlparser::tokenizer::{Token, TokenWithSpan};

/// PostgreSQL truncates longer names (NAMEDATALEN - 1), which would make the
/// server act on a different name than the one reviewed.
pub(super) const MAX_NAME_BYTES: usize = 63;

/// PostgreSQL's fully reserved keywords: never a bare name.
pub(super) const RESERVED: &str = "\
    ALL ANALYSE ANALYZE AND ANY ARRAY AS ASC ASYMMETRIC BOTH CASE CAST CHECK COLLATE COLUMN \
    CONSTRAINT CREATE CURRENT_CATALOG CURRENT_DATE CURRENT_ROLE CURRENT_TIME \
    CURRENT_TIMESTAMP CURRENT_USER DEFAULT DEFERRABLE DESC DISTINCT DO ELSE END EXCEPT FALSE \
    FETCH FOR FOREIGN FROM GRANT GROUP HAVING IN INITIALLY INTERSECT INTO LATERAL LEADING \
    LIMIT LOCALTIME LOCALTIMESTAMP NOT NULL OFFSET ON ONLY OR ORDER PLACING PRIMARY \
    REFERENCES RETURNING SELECT SESSION_USER SOME SYMMETRIC SYSTEM_USER TABLE THEN TO \
    TRAILING TRUE UNION UNIQUE USER USING VARIADIC WHEN WHERE WINDOW WITH";

/// Single-word privileges (`ALTER SYSTEM` is handled separately).
pub(super) const PRIVILEGES: &str = "\
    SELECT INSERT UPDATE DELETE TRUNCATE REFERENCES TRIGGER MAINTAIN EXECUTE USAGE CREATE \
    CONNECT TEMPORARY TEMP SET";

pub(super) const COLUMN_PRIVILEGES: &str = "SELECT INSERT UPDATE REFERENCES";

/// The attributes a plan may set, in the order the planner writes them:
/// pgsr only ever takes attributes away (and sets LOGIN), so a script that
/// would grant SUPERUSER, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS
/// is refused.
const ROLE_FLAGS: &[&[&str]] = &[
    &["LOGIN", "NOLOGIN"],
    &["SUPERUSER", "NOSUPERUSER"],
    &["CREATEDB", "NOCREATEDB"],
    &["CREATEROLE", "NOCREATEROLE"],
    &["REPLICATION", "NOREPLICATION"],
    &["BYPASSRLS", "NOBYPASSRLS"],
    &["INHERIT", "NOINHERIT"],
];

const DEFAULT_PRIVILEGE_KINDS: &[&[&str]] = &[
    &["TABLES"],
    &["SEQUENCES"],
    &["FUNCTIONS"],
    &["ROUTINES"],
    &["TYPES"],
    &["SCHEMAS"],
    &["LARGE", "OBJECTS"],
];

/// How the object after an object-kind keyword is named.
#[derive(Clone, Copy)]
pub(super) enum Name {
    Ident,
    Qualified,
    Oid,
    Signature,
    /// `name` or `extension.name`.
    Parameter,
}

/// Object kinds after `GRANT … ON`.
pub(super) const GRANT_OBJECTS: &[(&[&str], Name)] = &[
    (&["TABLE"], Name::Qualified),
    (&["SEQUENCE"], Name::Qualified),
    (&["DATABASE"], Name::Ident),
    (&["SCHEMA"], Name::Ident),
    (&["TABLESPACE"], Name::Ident),
    (&["LANGUAGE"], Name::Ident),
    (&["FOREIGN", "DATA", "WRAPPER"], Name::Ident),
    (&["FOREIGN", "SERVER"], Name::Ident),
    (&["TYPE"], Name::Qualified),
    (&["DOMAIN"], Name::Qualified),
    (&["LARGE", "OBJECT"], Name::Oid),
    (&["PARAMETER"], Name::Parameter),
    (&["FUNCTION"], Name::Signature),
    (&["PROCEDURE"], Name::Signature),
    (&["ROUTINE"], Name::Signature),
];

/// The privileges a plan may grant, per object class: every privilege of
/// the class (a desired file can declare any), but none on parameters,
/// whose privileges are superuser-level power.
const GRANTED: &[(&str, &str)] = &[
    ("DATABASE", "CONNECT CREATE TEMPORARY TEMP"),
    ("SCHEMA", "USAGE CREATE"),
    (
        "TABLE",
        "SELECT INSERT UPDATE DELETE TRUNCATE REFERENCES TRIGGER MAINTAIN",
    ),
    ("SEQUENCE", "USAGE SELECT UPDATE"),
    ("FUNCTION", "EXECUTE"),
    ("PROCEDURE", "EXECUTE"),
    ("ROUTINE", "EXECUTE"),
    ("TYPE", "USAGE"),
    ("DOMAIN", "USAGE"),
    ("LANGUAGE", "USAGE"),
    ("FOREIGN DATA WRAPPER", "USAGE"),
    ("FOREIGN SERVER", "USAGE"),
    ("LARGE OBJECT", "SELECT UPDATE"),
    ("TABLESPACE", "CREATE"),
    // Power: apply checks the header lists each one (see `Effect`).
    ("PARAMETER", "SET ALTER_SYSTEM"),
];

/// Object kinds whose owner a plan changes: every kind a desired file can
/// declare ownership of (`schema_ownership`, `table_ownership`,
/// `ownership`). A foreign-data wrapper's owner must be a superuser, which
/// no managed role is, so a plan never gives one away.
const DECLARED_OWNERSHIP: &[&str] = &[
    "SCHEMA",
    "TABLE",
    "VIEW",
    "MATERIALIZED VIEW",
    "FOREIGN TABLE",
    "SEQUENCE",
    "DATABASE",
    "TABLESPACE",
    "LANGUAGE",
    "SERVER",
    "TYPE",
    "DOMAIN",
    "LARGE OBJECT",
    "FUNCTION",
    "PROCEDURE",
    "AGGREGATE",
];

/// Object kinds of `ALTER … OWNER TO`.
const OWNED_OBJECTS: &[(&[&str], Name)] = &[
    (&["TABLE"], Name::Qualified),
    (&["VIEW"], Name::Qualified),
    (&["MATERIALIZED", "VIEW"], Name::Qualified),
    (&["FOREIGN", "TABLE"], Name::Qualified),
    (&["SEQUENCE"], Name::Qualified),
    (&["SCHEMA"], Name::Ident),
    (&["DATABASE"], Name::Ident),
    (&["TABLESPACE"], Name::Ident),
    (&["LANGUAGE"], Name::Ident),
    (&["FOREIGN", "DATA", "WRAPPER"], Name::Ident),
    (&["SERVER"], Name::Ident),
    (&["TYPE"], Name::Qualified),
    (&["DOMAIN"], Name::Qualified),
    (&["LARGE", "OBJECT"], Name::Oid),
    (&["FUNCTION"], Name::Signature),
    (&["PROCEDURE"], Name::Signature),
    (&["AGGREGATE"], Name::Signature),
    (&["ROUTINE"], Name::Signature),
];

/// What a statement does that the live catalog must be checked for under
/// the lock (see `apply`): who gains a membership or an ownership.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    None,
    /// `GRANT roles TO members`.
    Membership {
        roles: Vec<String>,
        members: Vec<String>,
    },
    /// `ALTER <class> <object> OWNER TO owner`; `object` is the name's parts
    /// (`["s", "t"]`, or `["s", "f"]` for a routine, without arguments).
    Owner {
        class: String,
        object: Vec<String>,
        owner: String,
    },
    /// `CREATE SCHEMA schema AUTHORIZATION owner`.
    CreateSchema {
        schema: String,
        owner: String,
    },
    /// `GRANT SET|ALTER SYSTEM ON PARAMETER parameters TO grantees`: power,
    /// always.
    ParameterPrivileges {
        parameters: Vec<String>,
        grantees: Vec<String>,
    },
    /// `GRANT EXECUTE ON FUNCTION … TO grantees`: power when a routine is
    /// `SECURITY DEFINER` and its owner powerful (decided under the lock).
    /// Each routine is its name's parts (`["s", "f"]`, without arguments).
    Execute {
        routines: Vec<Vec<String>>,
        grantees: Vec<String>,
    },
    /// `ALTER ROLE role WITH PASSWORD :'variable'`.
    SetPassword {
        role: String,
        variable: String,
    },
    /// `ALTER ROLE role WITH …`: whether it gives LOGIN, the attributes
    /// it removes (`SUPERUSER` for `NOSUPERUSER`, …) and those it gives
    /// (`SUPERUSER`, `CREATEDB`, …).
    Attributes {
        role: String,
        login: bool,
        removes: Vec<String>,
        gives: Vec<String>,
    },
    /// A step of retiring `role`: ending its sessions, `DROP OWNED`,
    /// `REASSIGN OWNED … TO receiver`, or `DROP ROLE` of a role that is
    /// not an intermediate one.
    Retire {
        role: String,
        receiver: Option<String>,
    },
    /// `ALTER ROLE from RENAME TO to`.
    Rename {
        from: String,
        to: String,
    },
    /// `ALTER ROLE role [IN DATABASE d] SET name = …`: `setting` is `name`
    /// or `name in database d`. Power when the role is powerful.
    Setting {
        role: String,
        setting: String,
    },
}

type Recognized = Result<(StatementKind, Effect), String>;

/// Decides which shape a statement (its tokens without whitespace and
/// comments) has, or says why it has none.
pub(super) fn recognize(tokens: &[&TokenWithSpan]) -> Recognized {
    let mut c = Cursor::new(tokens);
    let refuse = || {
        Err(format!(
            "{} is not allowed in a plan: only role and privilege statements are",
            lead(tokens)
        ))
    };
    // Only object privileges have ON, which is reserved, so a bare ON
    // anywhere tells the two GRANT and REVOKE forms apart.
    let object_privileges = tokens
        .iter()
        .any(|t| bare(&t.token).is_some_and(|w| eq(w, "ON")));
    let (head, result) = if c.eat_kw("CREATE") {
        if c.eat_kw("ROLE") {
            ("CREATE ROLE".to_owned(), create_role(&mut c))
        } else if c.eat_kw("SCHEMA") {
            ("CREATE SCHEMA".to_owned(), create_schema(&mut c))
        } else {
            return refuse();
        }
    } else if c.eat_kw("ALTER") {
        if c.eat_kw("ROLE") {
            ("ALTER ROLE".to_owned(), alter_role(&mut c))
        } else if c.eat_kws(&["DEFAULT", "PRIVILEGES"]) {
            (
                "ALTER DEFAULT PRIVILEGES".to_owned(),
                default_privileges(&mut c),
            )
        } else if let Some(&(words, name)) = OWNED_OBJECTS.iter().find(|(w, _)| c.eat_kws(w)) {
            let class = words.join(" ");
            (format!("ALTER {class}"), alter_owner(&mut c, class, name))
        } else {
            return refuse();
        }
    } else if c.eat_kw("DROP") {
        if c.eat_kw("ROLE") {
            ("DROP ROLE".to_owned(), drop_role(&mut c))
        } else if c.eat_kw("OWNED") {
            ("DROP OWNED".to_owned(), drop_owned(&mut c))
        } else {
            return refuse();
        }
    } else if c.eat_kws(&["REASSIGN", "OWNED"]) {
        ("REASSIGN OWNED".to_owned(), reassign_owned(&mut c))
    } else if c.eat_kws(&["COMMENT", "ON", "ROLE"]) {
        ("COMMENT ON ROLE".to_owned(), comment(&mut c))
    } else if c.eat_kw("SELECT") {
        ("SELECT".to_owned(), terminate(&mut c))
    } else if c.eat_kw("GRANT") {
        let recognizer = if object_privileges { grant } else { grant_role };
        ("GRANT".to_owned(), recognizer(&mut c))
    } else if c.eat_kw("REVOKE") {
        let recognizer = if object_privileges {
            revoke
        } else {
            revoke_role
        };
        ("REVOKE".to_owned(), recognizer(&mut c))
    } else {
        return refuse();
    };
    result.map_err(|m| format!("{head}: {m}"))
}

/// The leading words of a refused statement, e.g. `DROP TABLE`, `SET ROLE`.
fn lead(tokens: &[&TokenWithSpan]) -> String {
    let words: Vec<String> = tokens
        .iter()
        .take(4)
        .map_while(|t| bare(&t.token).map(str::to_ascii_uppercase))
        .collect();
    let Some(first) = words.first() else {
        return match tokens.first() {
            Some(t) => format!("a statement starting with {}", describe(&t.token)),
            None => "an empty statement".into(),
        };
    };
    let n = match (first.as_str(), words.get(1).map(String::as_str)) {
        ("CREATE" | "DROP" | "ALTER" | "SET" | "RESET" | "COMMENT", second) => match second {
            Some("OR") => 4,
            Some(
                "SESSION" | "LOCAL" | "MATERIALIZED" | "FOREIGN" | "UNIQUE" | "EVENT" | "TEXT"
                | "LARGE" | "DEFAULT" | "TEMP" | "TEMPORARY" | "UNLOGGED",
            ) => 3,
            _ => 2,
        },
        _ => 1,
    };
    words[..n.min(words.len())].join(" ")
}

fn create_role(c: &mut Cursor) -> Recognized {
    c.role("a role name")?;
    if !c.at_end() {
        return Err(format!(
            "nothing may follow the role name (a plan creates roles bare and sets attributes with ALTER ROLE), found {}",
            c.found()
        ));
    }
    Ok((StatementKind::CreateRole, Effect::None))
}

fn alter_role(c: &mut Cursor) -> Recognized {
    let role = c.role("a role name")?;
    if c.eat_kw("RENAME") {
        c.expect_kw("TO")?;
        let to = c.role("the new name")?;
        c.end()?;
        return Ok((StatementKind::RenameRole, Effect::Rename { from: role, to }));
    }
    let mut database = None;
    if c.eat_kw("IN") {
        c.expect_kw("DATABASE")?;
        database = Some(c.ident("a database name")?);
        if !c.is_kw(0, "SET") && !c.is_kw(0, "RESET") {
            return c.expected("SET or RESET");
        }
    }
    if c.eat_kw("SET") {
        let mut name = c.ident("a parameter name")?;
        if c.eat(&Token::Period) {
            name = format!("{name}.{}", c.ident("a parameter name")?);
        }
        if !c.eat(&Token::Eq) {
            return c.expected("=");
        }
        c.list(|c| c.literal("a value as a string literal"))?;
        c.end()?;
        let setting = match database {
            Some(d) => format!("{name} in database {d}"),
            None => name,
        };
        return Ok((
            StatementKind::RoleSetting,
            Effect::Setting { role, setting },
        ));
    }
    if c.eat_kw("RESET") {
        if c.is_kw(0, "ALL") {
            return Err("RESET ALL is not allowed in a plan: a plan resets each setting".into());
        }
        c.ident("a parameter name")?;
        if c.eat(&Token::Period) {
            c.ident("a parameter name")?;
        }
        c.end()?;
        return Ok((StatementKind::RoleSetting, Effect::None));
    }
    c.expect_kw("WITH")?;
    if c.is_kw(0, "PASSWORD") && c.peek_at(1) == Some(&Token::Colon) {
        c.pos += 2;
        let variable = c.password_variable()?;
        c.end()?;
        return Ok((
            StatementKind::SetPassword,
            Effect::SetPassword { role, variable },
        ));
    }
    let mut options = 0;
    let mut login = false;
    let mut removes = Vec::new();
    let mut gives = Vec::new();
    for flags in ROLE_FLAGS {
        if let Some(flag) = flags.iter().find(|f| c.eat_kw(f)) {
            options += 1;
            login |= *flag == "LOGIN";
            match flag.strip_prefix("NO") {
                Some(attribute) if attribute != "LOGIN" => removes.push(attribute.to_owned()),
                Some(_) => {}
                None if *flag != "LOGIN" && *flag != "INHERIT" => gives.push((*flag).to_owned()),
                None => {}
            }
        }
    }
    if c.eat_kw("CONNECTION") {
        c.expect_kw("LIMIT")?;
        c.limit()?;
        options += 1;
    }
    if c.eat_kw("PASSWORD") {
        if !c.eat_kw("NULL") {
            return Err(match c.peek_at(0) {
                Some(Token::SingleQuotedString(_))
                | Some(Token::EscapedStringLiteral(_))
                | Some(Token::DollarQuotedString(_))
                | Some(Token::UnicodeStringLiteral(_)) => {
                    "a password or verifier written in a plan is not allowed: a plan names where the password comes from (PASSWORD :'password_N')".to_owned()
                }
                _ => format!("expected NULL or :'password_N' after PASSWORD, found {}", c.found()),
            });
        }
        options += 1;
    }
    if c.eat_kw("VALID") {
        c.expect_kw("UNTIL")?;
        c.valid_until()?;
        options += 1;
    }
    if !c.at_end() {
        return c.expected(
            "the role attributes in the order pgsr writes them (LOGIN, SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS, INHERIT (each or its NO form), CONNECTION LIMIT n, PASSWORD NULL, VALID UNTIL '…')",
        );
    }
    if options == 0 {
        return c.expected("a role attribute");
    }
    Ok((
        StatementKind::AlterRole,
        Effect::Attributes {
            role,
            login,
            removes,
            gives,
        },
    ))
}

/// `DROP ROLE` of unused intermediate roles, or of one retired role.
fn drop_role(c: &mut Cursor) -> Recognized {
    let roles = c.list(|c| c.role("a role name"))?;
    c.end()?;
    match roles.as_slice() {
        [role] if !role.starts_with("_pgsr_") => Ok((
            StatementKind::DropRole,
            Effect::Retire {
                role: role.clone(),
                receiver: None,
            },
        )),
        _ => {
            if let Some(role) = roles.iter().find(|r| !r.starts_with("_pgsr_")) {
                return Err(format!(
                    "{} is not an intermediate role: a plan drops unused _pgsr_ roles together, and a retired role alone",
                    shown_name(role)
                ));
            }
            Ok((StatementKind::DropRole, Effect::None))
        }
    }
}

fn drop_owned(c: &mut Cursor) -> Recognized {
    c.expect_kw("BY")?;
    let role = c.role("a role name")?;
    c.end()?;
    Ok((
        StatementKind::DropOwned,
        Effect::Retire {
            role,
            receiver: None,
        },
    ))
}

fn reassign_owned(c: &mut Cursor) -> Recognized {
    c.expect_kw("BY")?;
    let role = c.role("a role name")?;
    c.expect_kw("TO")?;
    let receiver = c.role("the role receiving")?;
    c.end()?;
    Ok((
        StatementKind::ReassignOwned,
        Effect::Retire {
            role,
            receiver: Some(receiver),
        },
    ))
}

fn comment(c: &mut Cursor) -> Recognized {
    c.role("a role name")?;
    c.expect_kw("IS")?;
    if !c.eat_kw("NULL") {
        c.literal("the comment as a string literal, or NULL")?;
    }
    c.end()?;
    Ok((StatementKind::Comment, Effect::None))
}

/// `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename =
/// 'role' AND pid <> pg_backend_pid()`, word for word.
fn terminate(c: &mut Cursor) -> Recognized {
    let shape = "the one SELECT a plan holds (a SELECT is not allowed in a plan but this one, which ends a retired role's sessions): SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '…' AND pid <> pg_backend_pid()";
    let word = |c: &mut Cursor, w: &str| -> Result<(), String> {
        if c.eat_kw(w) {
            Ok(())
        } else {
            c.expected(shape)
        }
    };
    let token = |c: &mut Cursor, t: Token| -> Result<(), String> {
        if c.eat(&t) {
            Ok(())
        } else {
            c.expected(shape)
        }
    };
    word(c, "pg_terminate_backend")?;
    token(c, Token::LParen)?;
    word(c, "pid")?;
    token(c, Token::RParen)?;
    word(c, "FROM")?;
    word(c, "pg_stat_activity")?;
    word(c, "WHERE")?;
    word(c, "usename")?;
    token(c, Token::Eq)?;
    let role = c.literal("the role's name as a string literal")?;
    word(c, "AND")?;
    word(c, "pid")?;
    token(c, Token::Neq)?;
    word(c, "pg_backend_pid")?;
    token(c, Token::LParen)?;
    token(c, Token::RParen)?;
    c.end()?;
    Ok((
        StatementKind::TerminateSessions,
        Effect::Retire {
            role,
            receiver: None,
        },
    ))
}

fn create_schema(c: &mut Cursor) -> Recognized {
    if c.is_kw(0, "AUTHORIZATION") || c.is_kw(0, "IF") {
        return c.expected("the schema's name");
    }
    let schema = c.ident("a schema name")?;
    c.expect_kw("AUTHORIZATION")?;
    let owner = c.role("the owner")?;
    c.end()?;
    Ok((
        StatementKind::CreateSchema,
        Effect::CreateSchema { schema, owner },
    ))
}

fn alter_owner(c: &mut Cursor, class: String, name: Name) -> Recognized {
    let object = c.name(name)?;
    if !c.is_kw(0, "OWNER") {
        return Err(format!(
            "only OWNER TO is allowed in a plan, found {}",
            c.found()
        ));
    }
    c.pos += 1;
    c.expect_kw("TO")?;
    let owner = c.role("the new owner")?;
    c.end()?;
    if !DECLARED_OWNERSHIP.contains(&class.as_str()) {
        return Err(format!(
            "a plan never changes the owner of a {class}: a desired file cannot declare it"
        ));
    }
    Ok((
        StatementKind::AlterOwner,
        Effect::Owner {
            class,
            object,
            owner,
        },
    ))
}

fn grant(c: &mut Cursor) -> Recognized {
    let privileges = c.privileges(true)?;
    c.expect_kw("ON")?;
    let class = c.object_class()?;
    let allowed = GRANTED
        .iter()
        .find(|(k, _)| *k == class)
        .map_or("", |(_, p)| *p);
    if let Some(p) = privileges
        .iter()
        .find(|p| !listed(allowed, &p.replace(' ', "_")))
    {
        return Err(format!(
            "GRANT {p} ON {class} is not allowed in a plan: not a privilege of the class"
        ));
    }
    let objects = c.objects(&class)?;
    let schema = |o: &Vec<String>| match class.as_str() {
        "SCHEMA" => o.first().cloned(),
        "DATABASE" => None,
        _ => o.first().filter(|_| o.len() > 1).cloned(),
    };
    if let Some(s) = objects
        .iter()
        .filter_map(schema)
        .find(|s| is_system_schema(s))
    {
        return Err(format!(
            "GRANT on system schema {}: a plan never grants on PostgreSQL's own objects",
            shown_name(&s)
        ));
    }
    c.expect_kw("TO")?;
    let grantees = c.list(|c| c.grantee())?;
    // A declared `with_grant_option`.
    c.eat_kws(&["WITH", "GRANT", "OPTION"]);
    c.no_options("WITH … other than WITH GRANT OPTION")?;
    c.end()?;
    let effect = match class.as_str() {
        "PARAMETER" => Effect::ParameterPrivileges {
            parameters: objects.iter().map(|o| o.join(".")).collect(),
            grantees,
        },
        "FUNCTION" | "PROCEDURE" | "ROUTINE" => Effect::Execute {
            routines: objects,
            grantees,
        },
        _ => Effect::None,
    };
    Ok((StatementKind::Grant, effect))
}

fn revoke(c: &mut Cursor) -> Recognized {
    c.eat_kws(&["GRANT", "OPTION", "FOR"]);
    c.privileges(true)?;
    c.expect_kw("ON")?;
    let class = c.object_class()?;
    c.objects(&class)?;
    c.expect_kw("FROM")?;
    c.list(|c| c.grantee())?;
    c.eat_kw("CASCADE");
    c.end()?;
    Ok((StatementKind::Revoke, Effect::None))
}

fn grant_role(c: &mut Cursor) -> Recognized {
    let roles = c.list(|c| c.granted_role())?;
    c.expect_kw("TO")?;
    let members = c.list(|c| c.role("a member role"))?;
    if c.eat_kw("WITH") {
        // ADMIN OPTION, INHERIT TRUE|FALSE, SET TRUE|FALSE, in this order,
        // separated by commas.
        let mut any = false;
        for option in ["ADMIN", "INHERIT", "SET"] {
            let at = c.pos;
            if any && !c.eat(&Token::Comma) {
                break;
            }
            if c.eat_kw(option) {
                if option == "ADMIN" {
                    c.expect_kw("OPTION")?;
                } else {
                    c.boolean()?;
                }
                any = true;
            } else {
                c.pos = at;
            }
        }
        if !any {
            return c.expected("ADMIN OPTION, INHERIT TRUE|FALSE or SET TRUE|FALSE");
        }
    }
    c.no_options("a second WITH")?;
    c.end()?;
    Ok((
        StatementKind::GrantRole,
        Effect::Membership { roles, members },
    ))
}

fn revoke_role(c: &mut Cursor) -> Recognized {
    if ["ADMIN", "INHERIT", "SET"].iter().any(|w| c.is_kw(0, w)) && c.is_kw(1, "OPTION") {
        return Err(
            "REVOKE … OPTION FOR is not allowed in a plan: pgsr revokes whole memberships".into(),
        );
    }
    c.list(|c| c.granted_role())?;
    c.expect_kw("FROM")?;
    c.list(|c| c.role("a member role"))?;
    if c.eat_kw("GRANTED") {
        c.expect_kw("BY")?;
        c.role("the grantor")?;
    }
    c.eat_kw("CASCADE");
    c.end()?;
    Ok((StatementKind::RevokeRole, Effect::None))
}

fn default_privileges(c: &mut Cursor) -> Recognized {
    c.expect_kws(&["FOR", "ROLE"])?;
    c.role("a role name")?;
    if c.eat_kw("IN") {
        c.expect_kw("SCHEMA")?;
        c.ident("a schema name")?;
    }
    let grant = c.eat_kw("GRANT");
    if !grant {
        c.expect_kw("REVOKE")?;
        c.eat_kws(&["GRANT", "OPTION", "FOR"]);
    }
    c.privileges(false)?;
    c.expect_kw("ON")?;
    if !DEFAULT_PRIVILEGE_KINDS.iter().any(|w| c.eat_kws(w)) {
        return c
            .expected("TABLES, SEQUENCES, FUNCTIONS, ROUTINES, TYPES, SCHEMAS or LARGE OBJECTS");
    }
    if grant {
        c.expect_kw("TO")?;
        c.list(|c| c.grantee())?;
        c.eat_kws(&["WITH", "GRANT", "OPTION"]);
        c.no_options("WITH … other than WITH GRANT OPTION")?;
    } else {
        c.expect_kw("FROM")?;
        c.list(|c| c.grantee())?;
        c.eat_kw("CASCADE");
    }
    c.end()?;
    Ok((StatementKind::AlterDefaultPrivileges, Effect::None))
}
