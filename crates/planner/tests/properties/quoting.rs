//! The quoting property: whatever the names, a plan's script tokenizes as
//! the renderer meant it. Every word is a keyword the renderer writes or a
//! name of the plan (each of them present), no comment spans lines, every
//! line is empty, a comment or part of a statement, and the header counts
//! the statements there are.

use super::*;

/// Words the renderer writes itself.
const KEYWORDS: &str = "CREATE ROLE SCHEMA AUTHORIZATION ALTER OWNER TO WITH GRANT REVOKE ON FROM \
    OPTION FOR CASCADE DEFAULT PRIVILEGES IN TABLE SEQUENCE DATABASE TABLESPACE PARAMETER \
    FUNCTION PROCEDURE AGGREGATE ROUTINE DOMAIN TYPE LANGUAGE LARGE OBJECT OBJECTS FOREIGN DATA \
    WRAPPER SERVER VIEW MATERIALIZED TABLES SEQUENCES FUNCTIONS TYPES SCHEMAS ROUTINES GRANTED \
    BY DROP LOGIN NOLOGIN SUPERUSER NOSUPERUSER CREATEDB NOCREATEDB CREATEROLE NOCREATEROLE \
    REPLICATION NOREPLICATION BYPASSRLS NOBYPASSRLS PASSWORD NULL VALID UNTIL SELECT INSERT \
    UPDATE DELETE TRUNCATE REFERENCES TRIGGER MAINTAIN EXECUTE USAGE CONNECT TEMPORARY SET \
    SYSTEM INTEGER PUBLIC INHERIT NOINHERIT CONNECTION LIMIT ADMIN TRUE FALSE";

fn is_keyword(word: &str) -> bool {
    KEYWORDS
        .split_ascii_whitespace()
        .any(|k| k.eq_ignore_ascii_case(word))
}

fn object_names(o: &ObjectRef, out: &mut BTreeSet<String>) {
    match o {
        ObjectRef::Database(n)
        | ObjectRef::Tablespace(n)
        | ObjectRef::Schema(n)
        | ObjectRef::Language(n)
        | ObjectRef::ForeignDataWrapper(n)
        | ObjectRef::ForeignServer(n) => {
            out.insert(n.clone());
        }
        ObjectRef::Parameter(n) => out.extend(n.split('.').map(str::to_owned)),
        ObjectRef::Relation { schema, name, .. }
        | ObjectRef::Routine { schema, name, .. }
        | ObjectRef::Type { schema, name, .. } => {
            out.insert(schema.clone());
            out.insert(name.clone());
        }
        ObjectRef::Column {
            schema,
            table,
            column,
        } => {
            out.extend([schema.clone(), table.clone(), column.clone()]);
        }
        ObjectRef::LargeObject(_) => {}
    }
}

/// Every name the plan's statements mention.
fn plan_names(p: &Plan) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for step in &p.steps {
        match &step.action {
            Action::CreateRole { role }
            | Action::AlterRole { role, .. }
            | Action::SetPassword { role, .. }
            | Action::DropRole { role }
            | Action::SetSetting { role, .. }
            | Action::ResetSetting { role, .. }
            | Action::CommentRole { role, .. }
            | Action::TerminateSessions { role }
            | Action::DropOwned { role }
            | Action::RetireRole { role } => {
                out.insert(role.clone());
            }
            Action::RenameRole {
                from: role,
                to: other,
            }
            | Action::ReassignOwned {
                role,
                target: other,
            } => {
                out.insert(role.clone());
                out.insert(other.clone());
            }
            Action::TemporaryGrant { role } | Action::TemporaryRevoke { role } => {
                out.insert(role.clone());
                out.insert(p.connecting_role.clone());
            }
            Action::TemporaryPrivilege {
                object, grantee, ..
            }
            | Action::TemporaryPrivilegeRevoke {
                object, grantee, ..
            } => {
                object_names(object, &mut out);
                out.insert(grantee.clone());
            }
            Action::CreateSchema { schema, owner } => {
                out.insert(schema.clone());
                out.insert(owner.clone());
            }
            Action::AlterOwner { object, owner } => {
                object_names(object, &mut out);
                out.insert(owner.clone());
            }
            Action::Grant {
                object, grantee, ..
            }
            | Action::Revoke {
                object, grantee, ..
            } => {
                object_names(object, &mut out);
                // PUBLIC is a keyword, not a name.
                if grantee != PUBLIC {
                    out.insert(grantee.clone());
                }
            }
            Action::RevokeDefault {
                owner,
                schema,
                grantee,
                ..
            }
            | Action::GrantDefault {
                owner,
                schema,
                grantee,
                ..
            } => {
                out.insert(owner.clone());
                out.extend(schema.clone());
                if grantee != PUBLIC {
                    out.insert(grantee.clone());
                }
            }
            Action::GrantMembership { role, member, .. } => {
                out.insert(role.clone());
                out.insert(member.clone());
            }
            Action::RevokeMembership {
                role,
                member,
                granted_by,
                ..
            } => {
                out.insert(role.clone());
                out.insert(member.clone());
                out.extend(granted_by.clone());
            }
        }
    }
    out
}

pub(crate) fn check_quoting(case: &Case) -> Result<(), TestCaseError> {
    let Some(p) = planned(case)? else {
        return Ok(());
    };
    let script = render(&p);
    let parsed = pgsr_planner::script::parse(&script)
        .map_err(|e| TestCaseError::fail(format!("script::parse refused the plan: {e}")))?;
    prop_assert_eq!(&parsed.header.connecting_role, &p.connecting_role);
    prop_assert_eq!(&parsed.header.database, &p.database.name);

    let tokens = Tokenizer::new(&PostgreSqlDialect {}, &script)
        .tokenize_with_location()
        .map_err(|e| TestCaseError::fail(format!("the script does not tokenize: {e}")))?;
    let names = plan_names(&p);
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut semicolons = 0;
    // Lines holding part of a statement (1-based, split on '\n' only, as
    // the tokenizer counts them).
    let mut statement_lines: BTreeSet<u64> = BTreeSet::new();
    for t in &tokens {
        match &t.token {
            Token::Whitespace(Whitespace::SingleLineComment { comment, prefix }) => {
                prop_assert_eq!(prefix, "--");
                let text = comment.strip_suffix('\n').unwrap_or(comment);
                prop_assert!(
                    !text.contains(['\n', '\r']),
                    "a comment spans lines: {:?}",
                    comment
                );
                continue;
            }
            Token::Whitespace(Whitespace::Space | Whitespace::Newline) | Token::EOF => continue,
            Token::Whitespace(w) => {
                return Err(TestCaseError::fail(format!(
                    "unexpected whitespace token {w:?}"
                )))
            }
            Token::Word(w) => {
                match w.quote_style {
                    Some('"') => prop_assert!(
                        names.contains(&w.value),
                        "quoted identifier {:?} is not a name of the plan",
                        w.value
                    ),
                    None => prop_assert!(
                        is_keyword(&w.value) || names.contains(&w.value),
                        "bare word {:?} is neither a keyword nor a name of the plan",
                        w.value
                    ),
                    Some(q) => {
                        return Err(TestCaseError::fail(format!("identifier quoted with {q}")))
                    }
                }
                seen.insert(w.value.clone());
            }
            Token::SemiColon => semicolons += 1,
            Token::Comma | Token::Period | Token::LParen | Token::RParen => {}
            Token::Number(n, false) if n.bytes().all(|b| b.is_ascii_digit()) => {}
            Token::SingleQuotedString(_) => {}
            other => {
                return Err(TestCaseError::fail(format!(
                    "unexpected token {other:?} in\n{script}"
                )))
            }
        }
        statement_lines.extend(t.span.start.line..=t.span.end.line);
    }
    let missing: Vec<&String> = names.difference(&seen).collect();
    prop_assert!(
        missing.is_empty(),
        "names of the plan missing from the script: {:?}\n{}",
        missing,
        script
    );
    prop_assert_eq!(
        semicolons,
        parsed.header.statement_count,
        "statement count in the header"
    );
    for (i, line) in script.split('\n').enumerate() {
        let n = i as u64 + 1;
        prop_assert!(
            line.is_empty() || line.starts_with("--") || statement_lines.contains(&n),
            "line {} is neither empty, a comment nor part of a statement: {:?}",
            n,
            line
        );
    }
    Ok(())
}
