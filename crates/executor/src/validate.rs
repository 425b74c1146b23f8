//! Checks a plan script before `pgsr apply` sends any of it to the server.
//!
//! A plan is reviewed by a person and then applied, so the apply step must
//! refuse anything that is not role or privilege DDL of the shapes the planner
//! emits — whoever edited the file in between. The script is tokenized with
//! sqlparser's PostgreSQL tokenizer, which knows quoted identifiers, strings,
//! dollar quotes and (nested) comments, so a `;` only ends a statement where
//! PostgreSQL would end it too. Each statement is then matched by a strict
//! recognizer over its tokens: sqlparser's parser does not cover membership
//! grants, default privileges or most `OWNER TO` forms, and a recognizer that
//! only knows the allowed shapes cannot accept something by accident.

use std::fmt;

/// Quotes text in backticks, control characters escaped, shortened.
use pgsr_planner::display::quoted as show;

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer, Word};

/// One statement of a plan that passed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatedStatement {
    /// Line of the statement's first token, counted in the whole file.
    pub line: usize,
    /// The statement as written, from its first to its last token, without `;`.
    pub sql: String,
    pub kind: StatementKind,
}

/// The kinds of statement a plan holds (shared with the planner, which
/// counts them in the header).
pub use pgsr_planner::script::StatementKind;

/// Why a plan script was refused; `line` is a line of the whole file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ValidationError {}

/// PostgreSQL truncates longer names (NAMEDATALEN - 1), which would make the
/// server act on a different name than the one reviewed.
const MAX_NAME_BYTES: usize = 63;

/// PostgreSQL's fully reserved keywords: never a bare name.
const RESERVED: &str = "\
    ALL ANALYSE ANALYZE AND ANY ARRAY AS ASC ASYMMETRIC BOTH CASE CAST CHECK COLLATE COLUMN \
    CONSTRAINT CREATE CURRENT_CATALOG CURRENT_DATE CURRENT_ROLE CURRENT_TIME \
    CURRENT_TIMESTAMP CURRENT_USER DEFAULT DEFERRABLE DESC DISTINCT DO ELSE END EXCEPT FALSE \
    FETCH FOR FOREIGN FROM GRANT GROUP HAVING IN INITIALLY INTERSECT INTO LATERAL LEADING \
    LIMIT LOCALTIME LOCALTIMESTAMP NOT NULL OFFSET ON ONLY OR ORDER PLACING PRIMARY \
    REFERENCES RETURNING SELECT SESSION_USER SOME SYMMETRIC SYSTEM_USER TABLE THEN TO \
    TRAILING TRUE UNION UNIQUE USER USING VARIADIC WHEN WHERE WINDOW WITH";

/// Single-word privileges (`ALTER SYSTEM` is handled separately).
const PRIVILEGES: &str = "\
    SELECT INSERT UPDATE DELETE TRUNCATE REFERENCES TRIGGER MAINTAIN EXECUTE USAGE CREATE \
    CONNECT TEMPORARY TEMP SET";

const COLUMN_PRIVILEGES: &str = "SELECT INSERT UPDATE REFERENCES";

/// The attributes a plan may set: pgsr only ever takes privileges away
/// from a role's attributes (and sets LOGIN), so a script that would grant
/// SUPERUSER, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS is refused.
const ROLE_FLAGS: &str = "\
    LOGIN NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS";

/// Attributes that escalate a role, named in the refusal.
const ESCALATING_FLAGS: &str =
    "SUPERUSER CREATEDB CREATEROLE REPLICATION BYPASSRLS INHERIT NOINHERIT";

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
enum Name {
    Ident,
    Qualified,
    Oid,
    Signature,
}

/// Object kinds after `GRANT … ON`; a bare name means a table.
const GRANT_OBJECTS: &[(&[&str], Name)] = &[
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
    (&["PARAMETER"], Name::Qualified),
    (&["FUNCTION"], Name::Signature),
    (&["PROCEDURE"], Name::Signature),
    (&["ROUTINE"], Name::Signature),
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

/// Splits `body` into statements and checks each against the allowed shapes.
///
/// `first_line` is the file line of the body's first line, so that every
/// reported line is a line of the whole file.
pub fn validate_statements(
    body: &str,
    first_line: usize,
) -> Result<Vec<ValidatedStatement>, ValidationError> {
    let line_of = |loc: Location| {
        let line = usize::try_from(loc.line).unwrap_or(usize::MAX);
        first_line.saturating_add(line.saturating_sub(1))
    };
    let error = |line: usize, message: String| ValidationError { line, message };

    // The wire protocol cannot carry NUL, and clients that cut the text there
    // would run something other than what was reviewed.
    if let Some(pos) = body.find('\0') {
        let line = first_line.saturating_add(body[..pos].matches('\n').count());
        return Err(error(line, "NUL character is not allowed in a plan".into()));
    }

    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, body)
        .tokenize_with_location()
        .map_err(|e| {
            error(
                line_of(e.location),
                format!("cannot read SQL: {}", e.message),
            )
        })?;
    let lines = LineIndex::new(body);

    let mut statements = Vec::new();
    let mut current: Vec<&TokenWithSpan> = Vec::new();
    for tok in &tokens {
        match &tok.token {
            Token::Whitespace(_) | Token::EOF => {}
            Token::Backslash => {
                let start = lines.offset(tok.span.start);
                let rest = body.get(start..).and_then(|r| r.lines().next());
                return Err(error(
                    line_of(tok.span.start),
                    format!(
                        "psql meta-command {} is not allowed in a plan",
                        show(rest.unwrap_or("\\"))
                    ),
                ));
            }
            Token::SemiColon => {
                let (Some(first), Some(last)) = (current.first(), current.last()) else {
                    return Err(error(
                        line_of(tok.span.start),
                        "empty statement: `;` with nothing before it".into(),
                    ));
                };
                let line = line_of(first.span.start);
                let kind = recognize(&current).map_err(|m| error(line, m))?;
                let (start, end) = (lines.offset(first.span.start), lines.offset(last.span.end));
                let sql = body.get(start..end).unwrap_or_default().to_string();
                statements.push(ValidatedStatement { line, sql, kind });
                current.clear();
            }
            _ => current.push(tok),
        }
    }
    if let Some(first) = current.first() {
        return Err(error(
            line_of(first.span.start),
            format!(
                "statement starting with {} does not end with `;`",
                describe(&first.token)
            ),
        ));
    }
    Ok(statements)
}

/// Maps the tokenizer's 1-based (line, character column) to byte offsets.
struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        // Only '\n' advances the tokenizer's line counter, so only it counts here.
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { text, starts }
    }

    fn offset(&self, loc: Location) -> usize {
        let line = usize::try_from(loc.line)
            .unwrap_or(usize::MAX)
            .saturating_sub(1);
        let column = usize::try_from(loc.column)
            .unwrap_or(usize::MAX)
            .saturating_sub(1);
        let Some(&start) = self.starts.get(line) else {
            return self.text.len();
        };
        self.text[start..]
            .char_indices()
            .nth(column)
            .map_or(self.text.len(), |(i, _)| start + i)
    }
}

/// Decides which shape a statement (its tokens without whitespace and
/// comments) has, or says why it has none.
fn recognize(tokens: &[&TokenWithSpan]) -> Result<StatementKind, String> {
    let mut c = Cursor { tokens, pos: 0 };
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
            ("CREATE ROLE", create_role(&mut c))
        } else if c.eat_kw("SCHEMA") {
            ("CREATE SCHEMA", create_schema(&mut c))
        } else {
            return refuse();
        }
    } else if c.eat_kw("ALTER") {
        if c.eat_kw("ROLE") {
            ("ALTER ROLE", alter_role(&mut c))
        } else if c.eat_kws(&["DEFAULT", "PRIVILEGES"]) {
            ("ALTER DEFAULT PRIVILEGES", default_privileges(&mut c))
        } else if let Some(&(words, name)) = OWNED_OBJECTS.iter().find(|(w, _)| c.eat_kws(w)) {
            let head = format!("ALTER {}", words.join(" "));
            return alter_owner(&mut c, name).map_err(|m| format!("{head}: {m}"));
        } else {
            return refuse();
        }
    } else if c.eat_kw("DROP") {
        if c.eat_kw("ROLE") {
            ("DROP ROLE", drop_role(&mut c))
        } else {
            return refuse();
        }
    } else if c.eat_kw("GRANT") {
        let recognizer = if object_privileges { grant } else { grant_role };
        ("GRANT", recognizer(&mut c))
    } else if c.eat_kw("REVOKE") {
        let recognizer = if object_privileges {
            revoke
        } else {
            revoke_role
        };
        ("REVOKE", recognizer(&mut c))
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

fn create_role(c: &mut Cursor) -> Result<StatementKind, String> {
    c.role("a role name")?;
    c.eat_kw("NOLOGIN");
    if !c.at_end() {
        return Err(format!(
            "only NOLOGIN may follow the role name (attributes are set with ALTER ROLE), found {}",
            c.found()
        ));
    }
    Ok(StatementKind::CreateRole)
}

fn alter_role(c: &mut Cursor) -> Result<StatementKind, String> {
    c.role("a role name")?;
    c.eat_kw("WITH");
    let mut options = 0;
    while !c.at_end() {
        let word = c
            .peek_bare()
            .map(str::to_ascii_uppercase)
            .unwrap_or_default();
        match word.as_str() {
            w if listed(ROLE_FLAGS, w) => c.pos += 1,
            "PASSWORD" => {
                c.pos += 1;
                if !c.eat_kw("NULL") {
                    c.plain_string("the password")?;
                }
            }
            "VALID" => {
                c.pos += 1;
                c.expect_kw("UNTIL")?;
                c.plain_string("the VALID UNTIL time")?;
            }
            w if listed(ESCALATING_FLAGS, w) => {
                return Err(format!(
                "ALTER ROLE … {word} is not allowed in a plan: pgsr never grants that attribute"
            ))
            }
            "SET" | "RESET" | "RENAME" => {
                return Err(format!(
                    "{word} is not allowed in a plan: only role attributes may be changed"
                ))
            }
            _ => return c.expected(
                "a role attribute (LOGIN, NOLOGIN, PASSWORD '…', VALID UNTIL '…', NOSUPERUSER, …)",
            ),
        }
        options += 1;
    }
    if options == 0 {
        return c.expected("a role attribute");
    }
    Ok(StatementKind::AlterRole)
}

fn drop_role(c: &mut Cursor) -> Result<StatementKind, String> {
    if c.is_kw(0, "IF") && c.is_kw(1, "EXISTS") {
        c.pos += 2;
    }
    c.list(|c| c.role("a role name"))?;
    c.end()?;
    Ok(StatementKind::DropRole)
}

fn create_schema(c: &mut Cursor) -> Result<StatementKind, String> {
    if c.eat_kw("IF") {
        c.expect_kw("NOT")?;
        c.expect_kw("EXISTS")?;
    }
    if c.is_kw(0, "AUTHORIZATION") {
        return Err("the schema must be named explicitly".into());
    }
    c.ident("a schema name")?;
    if c.eat_kw("AUTHORIZATION") {
        c.role("the owner")?;
    }
    c.end()?;
    Ok(StatementKind::CreateSchema)
}

fn alter_owner(c: &mut Cursor, name: Name) -> Result<StatementKind, String> {
    c.name(name)?;
    if !c.is_kw(0, "OWNER") {
        return Err(format!(
            "only OWNER TO is allowed in a plan, found {}",
            c.found()
        ));
    }
    c.pos += 1;
    c.expect_kw("TO")?;
    c.role("the new owner")?;
    c.end()?;
    Ok(StatementKind::AlterOwner)
}

fn grant(c: &mut Cursor) -> Result<StatementKind, String> {
    c.privileges(true)?;
    c.expect_kw("ON")?;
    c.objects()?;
    c.expect_kw("TO")?;
    c.list(|c| c.role("a grantee"))?;
    if c.eat_kw("WITH") {
        c.expect_kws(&["GRANT", "OPTION"])?;
    }
    c.granted_by()?;
    c.end()?;
    Ok(StatementKind::Grant)
}

fn revoke(c: &mut Cursor) -> Result<StatementKind, String> {
    c.eat_kws(&["GRANT", "OPTION", "FOR"]);
    c.privileges(true)?;
    c.expect_kw("ON")?;
    c.objects()?;
    c.expect_kw("FROM")?;
    c.list(|c| c.role("a grantee"))?;
    c.granted_by()?;
    c.drop_behavior();
    c.end()?;
    Ok(StatementKind::Revoke)
}

fn grant_role(c: &mut Cursor) -> Result<StatementKind, String> {
    c.list(|c| c.granted_role())?;
    c.expect_kw("TO")?;
    c.list(|c| c.role("a member role"))?;
    if c.eat_kw("WITH") {
        c.list(|c| {
            c.expect_one_of(&["ADMIN", "INHERIT", "SET"])?;
            c.expect_one_of(&["OPTION", "TRUE", "FALSE"])
        })?;
    }
    c.granted_by()?;
    c.end()?;
    Ok(StatementKind::GrantRole)
}

fn revoke_role(c: &mut Cursor) -> Result<StatementKind, String> {
    let option = ["ADMIN", "INHERIT", "SET"].iter().any(|w| c.is_kw(0, w));
    if option && c.is_kw(1, "OPTION") && c.is_kw(2, "FOR") {
        c.pos += 3;
    }
    c.list(|c| c.granted_role())?;
    c.expect_kw("FROM")?;
    c.list(|c| c.role("a member role"))?;
    c.granted_by()?;
    c.drop_behavior();
    c.end()?;
    Ok(StatementKind::RevokeRole)
}

fn default_privileges(c: &mut Cursor) -> Result<StatementKind, String> {
    if c.eat_kw("FOR") {
        c.expect_kw("ROLE")?;
        c.list(|c| c.role("a role name"))?;
    }
    if c.eat_kw("IN") {
        c.expect_kw("SCHEMA")?;
        c.list(|c| c.ident("a schema name"))?;
    }
    let is_grant = c.eat_kw("GRANT");
    if !is_grant {
        if !c.eat_kw("REVOKE") {
            return c.expected("GRANT or REVOKE");
        }
        c.eat_kws(&["GRANT", "OPTION", "FOR"]);
    }
    c.privileges(false)?;
    c.expect_kw("ON")?;
    if !DEFAULT_PRIVILEGE_KINDS.iter().any(|w| c.eat_kws(w)) {
        return c
            .expected("TABLES, SEQUENCES, FUNCTIONS, ROUTINES, TYPES, SCHEMAS or LARGE OBJECTS");
    }
    c.expect_kw(if is_grant { "TO" } else { "FROM" })?;
    c.list(|c| c.role("a grantee"))?;
    if is_grant {
        if c.eat_kw("WITH") {
            c.expect_kws(&["GRANT", "OPTION"])?;
        }
    } else {
        c.drop_behavior();
    }
    c.end()?;
    Ok(StatementKind::AlterDefaultPrivileges)
}

/// A position in one statement's significant tokens.
struct Cursor<'t> {
    tokens: &'t [&'t TokenWithSpan],
    pos: usize,
}

impl Cursor<'_> {
    fn peek_at(&self, n: usize) -> Option<&Token> {
        self.tokens.get(self.pos + n).map(|t| &t.token)
    }

    fn peek_bare(&self) -> Option<&str> {
        self.peek_at(0).and_then(bare)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.tokens.len()
    }

    /// Whether the token `n` ahead is the bare (unquoted) keyword `kw`.
    fn is_kw(&self, n: usize, kw: &str) -> bool {
        self.peek_at(n).and_then(bare).is_some_and(|w| eq(w, kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        self.eat_kws(&[kw])
    }

    /// Consumes the keyword sequence `kws` only if all of it is there.
    fn eat_kws(&mut self, kws: &[&str]) -> bool {
        let all = kws.iter().enumerate().all(|(i, kw)| self.is_kw(i, kw));
        if all {
            self.pos += kws.len();
        }
        all
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), String> {
        self.expect_kws(&[kw])
    }

    fn expect_kws(&mut self, kws: &[&str]) -> Result<(), String> {
        for kw in kws {
            if !self.eat_kw(kw) {
                return self.expected(kw);
            }
        }
        Ok(())
    }

    fn expect_one_of(&mut self, kws: &[&str]) -> Result<(), String> {
        if kws.iter().any(|kw| self.eat_kw(kw)) {
            Ok(())
        } else {
            self.expected(&kws.join(" or "))
        }
    }

    fn eat(&mut self, token: &Token) -> bool {
        let found = self.peek_at(0) == Some(token);
        if found {
            self.pos += 1;
        }
        found
    }

    fn found(&self) -> String {
        match self.peek_at(0) {
            None => "the end of the statement".into(),
            Some(Token::RParen) => "`)` (unbalanced parentheses)".into(),
            Some(t) => describe(t),
        }
    }

    fn expected<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("expected {what}, found {}", self.found()))
    }

    fn end(&self) -> Result<(), String> {
        if self.at_end() {
            Ok(())
        } else {
            self.expected("the end of the statement")
        }
    }

    fn list(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<(), String>,
    ) -> Result<(), String> {
        loop {
            item(self)?;
            if !self.eat(&Token::Comma) {
                return Ok(());
            }
        }
    }

    /// A bare name (not a reserved word) or a double-quoted one.
    fn ident(&mut self, what: &str) -> Result<(), String> {
        let Some(Token::Word(w)) = self.peek_at(0) else {
            return self.expected(what);
        };
        match w.quote_style {
            None if listed(RESERVED, &w.value) => {
                return Err(format!(
                    "expected {what}, found reserved word {} (quote it to use it as a name)",
                    w.value.to_ascii_uppercase()
                ));
            }
            None | Some('"') => {}
            Some(_) => return self.expected(what),
        }
        if w.quote_style.is_some() && w.value.is_empty() {
            return Err(format!("expected {what}, found a zero-length quoted name"));
        }
        if w.value.len() > MAX_NAME_BYTES {
            return Err(format!(
                "{} is longer than {MAX_NAME_BYTES} bytes and PostgreSQL would truncate it",
                describe(&Token::Word(w.clone()))
            ));
        }
        self.pos += 1;
        Ok(())
    }

    /// `IDENT` or `IDENT.IDENT`.
    fn qualified(&mut self, what: &str) -> Result<(), String> {
        self.ident(what)?;
        if self.eat(&Token::Period) {
            self.ident(what)?;
        }
        Ok(())
    }

    /// A role named explicitly: never PUBLIC or a CURRENT_USER-like keyword.
    fn role(&mut self, what: &str) -> Result<(), String> {
        if let Some(Token::Word(w)) = self.peek_at(0) {
            let upper = w.value.to_ascii_uppercase();
            if w.quote_style.is_none() && upper == "PUBLIC" {
                return Err(
                    "PUBLIC is not allowed: pgsr never grants to or revokes from PUBLIC".into(),
                );
            }
            // The server maps the name "public" to PUBLIC even when quoted.
            if w.quote_style == Some('"') && w.value == "public" {
                return Err(
                    "\"public\" means PUBLIC, which pgsr never grants to or revokes from".into(),
                );
            }
            if w.quote_style.is_none()
                && matches!(
                    upper.as_str(),
                    "CURRENT_USER" | "SESSION_USER" | "CURRENT_ROLE"
                )
            {
                return Err(format!(
                    "{upper} is not allowed: a plan names roles explicitly"
                ));
            }
        }
        self.ident(what)
    }

    /// A role being granted or revoked; a bare privilege keyword here means
    /// an object privilege whose `ON` is missing.
    fn granted_role(&mut self) -> Result<(), String> {
        if let Some(w) = self.peek_bare() {
            let upper = w.to_ascii_uppercase();
            if upper == "ALL" || upper == "ALTER" || listed(PRIVILEGES, &upper) {
                return Err(format!(
                    "{upper} without ON: object privileges need ON …, and a role named like a \
                     privilege must be quoted"
                ));
            }
        }
        self.role("a role name")
    }

    fn granted_by(&mut self) -> Result<(), String> {
        if self.eat_kw("GRANTED") {
            self.expect_kw("BY")?;
            self.role("the grantor")?;
        }
        Ok(())
    }

    fn drop_behavior(&mut self) {
        let _ = self.eat_kw("CASCADE") || self.eat_kw("RESTRICT");
    }

    fn integer(&mut self, what: &str) -> Result<(), String> {
        match self.peek_at(0) {
            Some(Token::Number(n, false))
                if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) =>
            {
                self.pos += 1;
                Ok(())
            }
            _ => self.expected(what),
        }
    }

    /// A standard `'…'` literal; other literal forms are refused because
    /// their escapes make the reviewed text differ from the value sent.
    fn plain_string(&mut self, what: &str) -> Result<(), String> {
        match self.peek_at(0) {
            Some(Token::SingleQuotedString(s)) => {
                // Backslashes mean different things depending on
                // standard_conforming_strings; the planner never writes them.
                if s.contains('\\') {
                    return Err(format!("{what} must not contain a backslash"));
                }
                self.pos += 1;
                Ok(())
            }
            _ => self.expected(&format!("{what} as a plain '…' string literal")),
        }
    }

    /// `ALL [PRIVILEGES]` or a list of privileges.
    fn privileges(&mut self, columns_allowed: bool) -> Result<(), String> {
        if self.eat_kw("ALL") {
            self.eat_kw("PRIVILEGES");
            return Ok(());
        }
        self.list(|c| {
            if c.eat_kws(&["ALTER", "SYSTEM"]) {
                return Ok(());
            }
            let word = c
                .peek_bare()
                .map(str::to_ascii_uppercase)
                .unwrap_or_default();
            if !listed(PRIVILEGES, &word) {
                return c.expected("a privilege (SELECT, INSERT, USAGE, …)");
            }
            c.pos += 1;
            if c.peek_at(0) == Some(&Token::LParen) {
                if !columns_allowed || !listed(COLUMN_PRIVILEGES, &word) {
                    return Err(format!("{word} does not take a column list here"));
                }
                c.pos += 1;
                c.list(|c| c.ident("a column name"))?;
                if !c.eat(&Token::RParen) {
                    return c.expected("`)` closing the column list");
                }
            }
            Ok(())
        })
    }

    /// The objects of an object-privilege GRANT or REVOKE.
    fn objects(&mut self) -> Result<(), String> {
        let name = GRANT_OBJECTS
            .iter()
            .find(|(w, _)| self.eat_kws(w))
            .map(|&(_, n)| n);
        if name.is_none() && self.is_kw(0, "ALL") {
            return Err("ON ALL … IN SCHEMA is not allowed in a plan: name each object".into());
        }
        let name = name.unwrap_or(Name::Qualified);
        self.list(|c| c.name(name))
    }

    fn name(&mut self, name: Name) -> Result<(), String> {
        match name {
            Name::Ident => self.ident("a name"),
            Name::Qualified => self.qualified("a name"),
            Name::Oid => self.integer("a large object OID"),
            Name::Signature => self.signature(),
        }
    }

    /// `QNAME ( args )` with args as pg_get_function_identity_arguments
    /// prints them: words, quoted names, periods, brackets, numbers and
    /// balanced parentheses, in non-empty comma-separated items.
    fn signature(&mut self) -> Result<(), String> {
        self.qualified("a function name")?;
        if !self.eat(&Token::LParen) {
            return self.expected("`(` and the argument types");
        }
        let mut depth = 1usize;
        let (mut items, mut item_empty) = (0usize, true);
        loop {
            let Some(token) = self.peek_at(0) else {
                return Err("unbalanced parentheses: the argument list is not closed".into());
            };
            match token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                Token::Comma if depth == 1 => {
                    if item_empty {
                        return Err("empty item in the argument list".into());
                    }
                    items += 1;
                    item_empty = true;
                    self.pos += 1;
                    continue;
                }
                Token::Comma | Token::Period | Token::LBracket | Token::RBracket => {}
                Token::Number(_, false) => {}
                Token::Word(w) if w.quote_style.is_none() || w.quote_style == Some('"') => {}
                other => {
                    return Err(format!(
                        "unexpected {} in the argument list",
                        describe(other)
                    ));
                }
            }
            self.pos += 1;
            if depth == 0 {
                if item_empty && items > 0 {
                    return Err("empty item in the argument list".into());
                }
                return Ok(());
            }
            item_empty = false;
        }
    }
}

fn bare(token: &Token) -> Option<&str> {
    match token {
        Token::Word(Word {
            value,
            quote_style: None,
            ..
        }) => Some(value),
        _ => None,
    }
}

fn eq(word: &str, keyword: &str) -> bool {
    word.eq_ignore_ascii_case(keyword)
}

/// Whether `word` is one of the space-separated keywords in `list`.
fn listed(list: &str, word: &str) -> bool {
    list.split_ascii_whitespace().any(|k| eq(word, k))
}

/// A token for an error message: kind and text, on one line.
fn describe(token: &Token) -> String {
    let text = show(&token.to_string());
    match token {
        Token::Word(Word {
            quote_style: Some(_),
            ..
        }) => format!("quoted name {text}"),
        Token::Word(_) => text,
        Token::Number(..) => format!("number {text}"),
        Token::DollarQuotedString(_) => format!("dollar-quoted string {text}"),
        Token::SingleQuotedString(_)
        | Token::EscapedStringLiteral(_)
        | Token::UnicodeStringLiteral(_)
        | Token::NationalStringLiteral(_)
        | Token::HexStringLiteral(_)
        | Token::SingleQuotedByteStringLiteral(_) => format!("string literal {text}"),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
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

    fn refuse(body: &str, needle: &str) -> ValidationError {
        let e = match validate_statements(body, 1) {
            Ok(s) => panic!("accepted {body:?}: {s:?}"),
            Err(e) => e,
        };
        assert!(
            e.message.contains(needle),
            "{body:?}: {e} (wanted {needle:?})"
        );
        assert!(!e.message.contains('\n'), "multi-line message: {e}");
        e
    }

    const AWKWARD: &[&str] = &[
        "plain",
        "MixedCase",
        "\"a\"\"b\"",
        "\"semi;colon\"",
        "\"new\nline\"",
        "\"é\"",
        "é",
        "\"select\"",
        "\"-- not a comment /*\"",
        // 63 bytes: the longest name PostgreSQL keeps whole.
        "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
    ];

    #[test]
    fn role_statements_with_awkward_names() {
        for n in AWKWARD {
            assert_eq!(kind(&format!("CREATE ROLE {n};")), CreateRole);
            assert_eq!(kind(&format!("create role {n} nologin;")), CreateRole);
            assert_eq!(kind(&format!("ALTER ROLE {n} LOGIN;")), AlterRole);
            assert_eq!(kind(&format!("DROP ROLE {n};")), DropRole);
            assert_eq!(kind(&format!("DROP ROLE IF EXISTS x, {n};")), DropRole);
        }
    }

    #[test]
    fn alter_role_options() {
        for flag in ROLE_FLAGS.split_ascii_whitespace() {
            assert_eq!(kind(&format!("ALTER ROLE r {flag};")), AlterRole);
        }
        for body in [
            "ALTER ROLE r WITH LOGIN NOSUPERUSER NOCREATEDB;",
            "ALTER ROLE r PASSWORD 'it''s; -- secret';",
            "alter role r with password null;",
            "ALTER ROLE r VALID UNTIL 'infinity' NOLOGIN;",
            "ALTER ROLE r PASSWORD 'SCRAM-SHA-256$4096:abc=$def=:ghi=';",
        ] {
            assert_eq!(kind(body), AlterRole, "{body}");
        }
    }

    #[test]
    fn object_grants_and_revokes() {
        let objects = [
            "t",
            "public.t",
            "TABLE \"My Schema\".\"select\", b.\"a\"\"b\"",
            "SEQUENCE s.\"semi;colon\"",
            "DATABASE \"é\", db2",
            "SCHEMA \"new\nline\"",
            "TABLESPACE ts",
            "LANGUAGE plpgsql",
            "FOREIGN DATA WRAPPER postgres_fdw",
            "FOREIGN SERVER srv",
            "TYPE public.mood",
            "DOMAIN d",
            "LARGE OBJECT 16384, 16385",
            "PARAMETER work_mem, plpgsql.extra_warnings",
            "FUNCTION f()",
            "FUNCTION public.f(integer, text), g()",
            "FUNCTION f(a integer, VARIADIC b text[])",
            "PROCEDURE p(character varying, double precision)",
            "ROUTINE r(timestamp with time zone)",
            "FUNCTION f(public.\"My Type\")",
            "FUNCTION f(OUT x integer)",
            "FUNCTION f(integer ORDER BY double precision)",
            "FUNCTION f(numeric(10,2), \"a\"\"b\"[])",
        ];
        for o in objects {
            assert_eq!(kind(&format!("GRANT SELECT ON {o} TO r;")), Grant, "{o}");
            assert_eq!(kind(&format!("REVOKE ALL ON {o} FROM r;")), Revoke, "{o}");
        }
        for body in [
            "GRANT ALL PRIVILEGES ON t TO \"a\"\"b\", c WITH GRANT OPTION GRANTED BY owner;",
            "grant select (a, \"B\"), insert (c), update, references (\"select\") on t to r;",
            "GRANT DELETE, TRUNCATE, TRIGGER, MAINTAIN ON TABLE t TO r;",
            "GRANT EXECUTE ON FUNCTION f() TO r;",
            "GRANT USAGE, CREATE ON SCHEMA s TO r;",
            "GRANT CONNECT, TEMPORARY, TEMP, CREATE ON DATABASE d TO r;",
            "GRANT SET, ALTER SYSTEM ON PARAMETER work_mem TO r;",
        ] {
            assert_eq!(kind(body), Grant, "{body}");
        }
        for body in [
            "REVOKE GRANT OPTION FOR SELECT ON t FROM r CASCADE;",
            "REVOKE SELECT (a) ON t FROM r GRANTED BY \"owner\" RESTRICT;",
            "REVOKE ALL PRIVILEGES ON ALL_tables FROM r;",
        ] {
            assert_eq!(kind(body), Revoke, "{body}");
        }
    }

    #[test]
    fn membership() {
        for body in [
            "GRANT parent TO child;",
            "GRANT \"select\", \"a\"\"b\" TO \"semi;colon\", \"é\";",
            "GRANT p TO c WITH ADMIN OPTION;",
            "GRANT p TO c WITH INHERIT FALSE, SET TRUE, ADMIN FALSE GRANTED BY admin;",
            "grant \"on\" to \"to\";",
        ] {
            assert_eq!(kind(body), GrantRole, "{body}");
        }
        for body in [
            "REVOKE p FROM c;",
            "REVOKE ADMIN OPTION FOR p FROM c CASCADE;",
            "REVOKE INHERIT OPTION FOR p FROM c;",
            "REVOKE SET OPTION FOR p, q FROM c GRANTED BY g RESTRICT;",
            "REVOKE admin FROM c;",
        ] {
            assert_eq!(kind(body), RevokeRole, "{body}");
        }
    }

    #[test]
    fn ownership() {
        for o in [
            "TABLE s.t",
            "VIEW \"v;\"",
            "MATERIALIZED VIEW m",
            "FOREIGN TABLE ft",
            "SEQUENCE s.\"select\"",
            "SCHEMA \"new\nline\"",
            "DATABASE d",
            "TABLESPACE ts",
            "LANGUAGE plpgsql",
            "FOREIGN DATA WRAPPER w",
            "SERVER srv",
            "TYPE t.\"My Type\"",
            "DOMAIN d",
            "LARGE OBJECT 42",
            "FUNCTION f(integer, text)",
            "PROCEDURE p()",
            "AGGREGATE a(integer ORDER BY double precision)",
            "ROUTINE r(OUT x integer)",
        ] {
            assert_eq!(
                kind(&format!("ALTER {o} OWNER TO \"a\"\"b\";")),
                AlterOwner,
                "{o}"
            );
        }
    }

    #[test]
    fn schemas_and_default_privileges() {
        for body in [
            "CREATE SCHEMA s;",
            "CREATE SCHEMA \"select\" AUTHORIZATION \"a\"\"b\";",
            "CREATE SCHEMA IF NOT EXISTS s AUTHORIZATION r;",
        ] {
            assert_eq!(kind(body), CreateSchema, "{body}");
        }
        for body in [
            "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO r;",
            "ALTER DEFAULT PRIVILEGES FOR ROLE a, \"b\" IN SCHEMA s, \"t;\" \
             GRANT ALL ON SEQUENCES TO r WITH GRANT OPTION;",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT EXECUTE ON FUNCTIONS TO r;",
            "alter default privileges grant execute on routines to r;",
            "ALTER DEFAULT PRIVILEGES GRANT USAGE ON TYPES TO r;",
            "ALTER DEFAULT PRIVILEGES GRANT USAGE, CREATE ON SCHEMAS TO r;",
            "ALTER DEFAULT PRIVILEGES GRANT SELECT, UPDATE ON LARGE OBJECTS TO r;",
            "ALTER DEFAULT PRIVILEGES FOR ROLE o REVOKE GRANT OPTION FOR SELECT ON TABLES \
             FROM r CASCADE;",
        ] {
            assert_eq!(kind(body), AlterDefaultPrivileges, "{body}");
        }
    }

    #[test]
    fn lines_text_and_comments() {
        let body = "-- header comment; not a statement\n\
                    /* block ; /* nested ; */ still comment */\n\
                    \n\
                    CREATE ROLE \"x\ny\"; CREATE ROLE b\n\
                    \x20 NOLOGIN -- trailing ; comment\n\
                    ;\n\
                    GRANT p /* inside */ TO c;\r\n\
                    \tDROP ROLE z;  -- done\n";
        let s = validate_statements(body, 10).unwrap_or_else(|e| panic!("{e}"));
        let got: Vec<(usize, &str)> = s.iter().map(|s| (s.line, s.sql.as_str())).collect();
        assert_eq!(
            got,
            [
                (13, "CREATE ROLE \"x\ny\""),
                (14, "CREATE ROLE b\n  NOLOGIN"),
                (17, "GRANT p /* inside */ TO c"),
                (18, "DROP ROLE z"),
            ]
        );
        assert_eq!(accept("").len(), 0);
        assert_eq!(accept(" -- only a comment\n/* and */\n").len(), 0);

        let e = validate_statements("CREATE ROLE a;\n-- x\n\nDROP\nTABLE t;", 7);
        assert_eq!(e.map_err(|e| e.line), Err(10));
        let e = validate_statements("CREATE ROLE \"a\nb\nc\"; TRUNCATE t;", 5);
        assert_eq!(
            e.map_err(|e| e.to_string()).err().as_deref(),
            Some(
                "line 7: TRUNCATE is not allowed in a plan: only role and privilege statements are"
            )
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
            ("DO $$BEGIN DROP TABLE t; END$$;", "DO is not allowed"),
            ("DO $x$ ; $x$ LANGUAGE plpgsql;", "DO is not allowed"),
            ("SET ROLE admin;", "SET ROLE is not allowed"),
            ("RESET ROLE;", "RESET ROLE is not allowed"),
            (
                "SET SESSION AUTHORIZATION admin;",
                "SET SESSION AUTHORIZATION is not",
            ),
            ("SELECT 1;", "SELECT is not allowed"),
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
        refuse(
            "ALTER ROLE r SET search_path = x;",
            "SET is not allowed in a plan",
        );
        refuse(
            "ALTER ROLE r RENAME TO s;",
            "RENAME is not allowed in a plan",
        );
        refuse("ALTER ROLE r;", "expected a role attribute");
        refuse("CREATE ROLE r SUPERUSER;", "only NOLOGIN may follow");
        refuse("CREATE ROLE r WITH NOLOGIN;", "only NOLOGIN may follow");
        refuse(
            "ALTER TABLE t ADD COLUMN c int;",
            "ALTER TABLE: only OWNER TO is allowed",
        );
        refuse(
            "ALTER TABLE t OWNER TO r, s;",
            "expected the end of the statement",
        );
        refuse("CREATE SCHEMA s CREATE TABLE t (a int);", "found `CREATE`");
        refuse(
            "GRANT SELECT ON ALL TABLES IN SCHEMA s TO r;",
            "name each object",
        );
        refuse(
            "ALTER DEFAULT PRIVILEGES GRANT SELECT (a) ON TABLES TO r;",
            "column list",
        );
        refuse(
            "ALTER DEFAULT PRIVILEGES GRANT SELECT ON VIEWS TO r;",
            "expected TABLES",
        );
    }

    #[test]
    fn public_and_session_roles_are_refused() {
        refuse("GRANT SELECT ON t TO PUBLIC;", "PUBLIC is not allowed");
        refuse("GRANT SELECT ON t TO r, public;", "PUBLIC is not allowed");
        refuse("REVOKE ALL ON t FROM Public;", "PUBLIC is not allowed");
        refuse("GRANT p TO \"public\";", "means PUBLIC");
        refuse(
            "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO public;",
            "PUBLIC",
        );
        refuse(
            "GRANT SELECT ON t TO current_user;",
            "CURRENT_USER is not allowed",
        );
        refuse(
            "ALTER TABLE t OWNER TO SESSION_USER;",
            "SESSION_USER is not allowed",
        );
        refuse(
            "GRANT p TO c GRANTED BY CURRENT_ROLE;",
            "CURRENT_ROLE is not allowed",
        );
        // A quoted keyword is just a name.
        assert_eq!(
            kind("GRANT SELECT ON t TO \"PUBLIC\", \"current_user\";"),
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
        assert_eq!(
            accept("ALTER ROLE a PASSWORD 'x''; DROP TABLE t; --';").len(),
            1
        );
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
        // Backslashes do not escape quotes in standard strings.
        refuse(
            "ALTER ROLE a PASSWORD 'x\\'; DROP TABLE t; --';",
            "backslash",
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
            "expected a name, found string literal `'x'`",
        );
        refuse("ALTER ROLE r PASSWORD E'x';", "plain '…' string literal");
        refuse("ALTER ROLE r PASSWORD U&'x';", "plain '…' string literal");
        refuse("ALTER ROLE r PASSWORD $$x$$;", "plain '…' string literal");
        for escalation in [
            "SUPERUSER",
            "CREATEDB",
            "CREATEROLE",
            "REPLICATION",
            "BYPASSRLS",
        ] {
            refuse(&format!("ALTER ROLE r WITH {escalation};"), "never grants");
        }
        refuse("ALTER ROLE r CONNECTION LIMIT 1;", "role attribute");
        assert_eq!(
            refuse("CREATE ROLE a;\n\nCREATE ROLE b", "does not end with `;`").line,
            3
        );
        refuse(
            "CREATE ROLE a; -- fine\n CREATE ROLE b /* ; */",
            "does not end with `;`",
        );
        refuse(
            "GRANT EXECUTE ON FUNCTION f(integer TO r;",
            "unbalanced parentheses",
        );
        refuse(
            "GRANT EXECUTE ON FUNCTION f(integer)) TO r;",
            "unbalanced parentheses",
        );
        refuse("GRANT SELECT (a ON t TO r;", "closing the column list");
        refuse("GRANT EXECUTE ON FUNCTION f(integer, ) TO r;", "empty item");
        refuse("GRANT EXECUTE ON FUNCTION f(x = 1) TO r;", "unexpected `=`");
        refuse(
            "GRANT EXECUTE ON FUNCTION f(text DEFAULT 'a') TO r;",
            "string literal",
        );
        refuse("GRANT EXECUTE ON FUNCTION f TO r;", "expected `(`");
        assert_eq!(refuse("CREATE ROLE a;;", "empty statement").line, 1);
        refuse(";", "empty statement");
        refuse("GRANT SELECT TO r;", "SELECT without ON");
        refuse("GRANT all TO r;", "ALL without ON");
        refuse("REVOKE usage FROM r;", "USAGE without ON");
        refuse("GRANT \"select\" ON t TO r;", "expected a privilege");
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
            body in "([a-zA-Z_ ,.;()'\"$\\\\\n\r*/-]|GRANT |ON |TO |ROLE |é|--|/\\*|\\*/){0,60}"
        ) {
            let _ = validate_statements(&body, usize::MAX);
        }
    }
}
