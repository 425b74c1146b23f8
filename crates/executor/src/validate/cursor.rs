//! A cursor over one statement's significant tokens.

use super::recognize::{
    Name, COLUMN_PRIVILEGES, GRANT_OBJECTS, MAX_NAME_BYTES, PRIVILEGES, RESERVED,
};
use sqlparser::tokenizer::{Token, TokenWithSpan, Word};

/// Quotes text in backticks, control characters escaped, shortened.
pub use pgsr_planner::display::quoted as show;

/// A position in one statement's significant tokens.
pub struct Cursor<'t> {
    tokens: &'t [&'t TokenWithSpan],
    pub pos: usize,
}

impl<'t> Cursor<'t> {
    pub fn new(tokens: &'t [&'t TokenWithSpan]) -> Cursor<'t> {
        Cursor { tokens, pos: 0 }
    }

    pub fn peek_at(&self, n: usize) -> Option<&Token> {
        self.tokens.get(self.pos + n).map(|t| &t.token)
    }

    pub fn peek_bare(&self) -> Option<&str> {
        self.peek_at(0).and_then(bare)
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.tokens.len()
    }

    /// Whether the token `n` ahead is the bare (unquoted) keyword `kw`.
    pub fn is_kw(&self, n: usize, kw: &str) -> bool {
        self.peek_at(n).and_then(bare).is_some_and(|w| eq(w, kw))
    }

    pub fn eat_kw(&mut self, kw: &str) -> bool {
        self.eat_kws(&[kw])
    }

    /// Consumes the keyword sequence `kws` only if all of it is there.
    pub fn eat_kws(&mut self, kws: &[&str]) -> bool {
        let all = kws.iter().enumerate().all(|(i, kw)| self.is_kw(i, kw));
        if all {
            self.pos += kws.len();
        }
        all
    }

    pub fn expect_kw(&mut self, kw: &str) -> Result<(), String> {
        self.expect_kws(&[kw])
    }

    pub fn expect_kws(&mut self, kws: &[&str]) -> Result<(), String> {
        for kw in kws {
            if !self.eat_kw(kw) {
                return self.expected(kw);
            }
        }
        Ok(())
    }

    pub fn eat(&mut self, token: &Token) -> bool {
        let found = self.peek_at(0) == Some(token);
        if found {
            self.pos += 1;
        }
        found
    }

    pub fn found(&self) -> String {
        match self.peek_at(0) {
            None => "the end of the statement".into(),
            Some(Token::RParen) => "`)` (unbalanced parentheses)".into(),
            Some(t) => describe(t),
        }
    }

    pub fn expected<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("expected {what}, found {}", self.found()))
    }

    pub fn end(&self) -> Result<(), String> {
        if self.at_end() {
            Ok(())
        } else {
            self.expected("the end of the statement")
        }
    }

    pub fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        let mut out = Vec::new();
        loop {
            out.push(item(self)?);
            if !self.eat(&Token::Comma) {
                return Ok(out);
            }
        }
    }

    /// A bare name (not a reserved word) or a double-quoted one, as the
    /// server reads it: bare names folded to lower case.
    pub fn ident(&mut self, what: &str) -> Result<String, String> {
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
        let name = match w.quote_style {
            None => w.value.to_ascii_lowercase(),
            Some(_) => w.value.clone(),
        };
        self.pos += 1;
        Ok(name)
    }

    /// `IDENT.IDENT`: the planner always names the schema.
    fn qualified(&mut self, what: &str) -> Result<Vec<String>, String> {
        let schema = self.ident(what)?;
        if !self.eat(&Token::Period) {
            return self
                .expected("`.` and the object's name (a plan names the schema of every object)");
        }
        Ok(vec![schema, self.ident(what)?])
    }

    /// A role named explicitly: never PUBLIC or a CURRENT_USER-like keyword.
    pub fn role(&mut self, what: &str) -> Result<String, String> {
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

    /// A grantee of an object privilege: a role, or PUBLIC (unquoted), which
    /// a desired file's `public` section manages.
    pub fn grantee(&mut self) -> Result<String, String> {
        if let Some(Token::Word(w)) = self.peek_at(0) {
            if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("PUBLIC") {
                self.pos += 1;
                return Ok("PUBLIC".to_owned());
            }
        }
        self.role("a grantee")
    }

    /// A role being granted or revoked; a bare privilege keyword here means
    /// an object privilege whose `ON` is missing.
    pub fn granted_role(&mut self) -> Result<String, String> {
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

    /// Refuses the `WITH …` options and `GRANTED BY` of a GRANT: the
    /// planner writes neither.
    pub fn no_options(&self, with: &str) -> Result<(), String> {
        if self.is_kw(0, "WITH") {
            return Err(format!("{with} is not allowed in a plan"));
        }
        if self.is_kw(0, "GRANTED") {
            return Err("GRANTED BY is not allowed on a GRANT in a plan".into());
        }
        Ok(())
    }

    fn integer(&mut self, what: &str) -> Result<Vec<String>, String> {
        match self.peek_at(0) {
            Some(Token::Number(n, false))
                if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) =>
            {
                let n = n.clone();
                self.pos += 1;
                Ok(vec![n])
            }
            _ => self.expected(what),
        }
    }

    /// A string literal (`'…'` or `E'…'`), its value.
    pub fn literal(&mut self, what: &str) -> Result<String, String> {
        match self.peek_at(0) {
            Some(Token::SingleQuotedString(v)) | Some(Token::EscapedStringLiteral(v)) => {
                let v = v.clone();
                self.pos += 1;
                Ok(v)
            }
            _ => self.expected(what),
        }
    }

    /// `TRUE` or `FALSE`.
    pub fn boolean(&mut self) -> Result<bool, String> {
        if self.eat_kw("TRUE") {
            Ok(true)
        } else if self.eat_kw("FALSE") {
            Ok(false)
        } else {
            self.expected("TRUE or FALSE")
        }
    }

    /// An unsigned integer, or -1.
    pub fn limit(&mut self) -> Result<i64, String> {
        let negative = self.eat(&Token::Minus);
        let n = self.integer("a number")?;
        let n: i64 = n[0]
            .parse()
            .map_err(|_| "a number out of range".to_owned())?;
        if negative && n != 1 {
            return Err("a connection limit is -1 or a count".into());
        }
        Ok(if negative { -1 } else { n })
    }

    /// `:'password_N'`, a psql variable standing for a password.
    pub fn password_variable(&mut self) -> Result<String, String> {
        match self.peek_at(0) {
            Some(Token::SingleQuotedString(v))
                if v.strip_prefix("password_")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) =>
            {
                let v = v.clone();
                self.pos += 1;
                Ok(v)
            }
            _ => self.expected(":'password_N'"),
        }
    }

    /// The `VALID UNTIL` time as the planner writes it: `'infinity'` or
    /// `'YYYY-MM-DDTHH:MM:SS.ffffffZ'`.
    pub fn valid_until(&mut self) -> Result<(), String> {
        let ok = match self.peek_at(0) {
            Some(Token::SingleQuotedString(s)) => {
                s == "infinity"
                    || (s.len() == 27
                        && s.bytes().enumerate().all(|(i, b)| match i {
                            4 | 7 => b == b'-',
                            10 => b == b'T',
                            13 | 16 => b == b':',
                            19 => b == b'.',
                            26 => b == b'Z',
                            _ => b.is_ascii_digit(),
                        }))
            }
            _ => false,
        };
        if !ok {
            return self.expected("'infinity' or a UTC time 'YYYY-MM-DDTHH:MM:SS.ffffffZ'");
        }
        self.pos += 1;
        Ok(())
    }

    /// A list of privileges (never ALL: the planner names each one), with
    /// their keywords.
    pub fn privileges(&mut self, columns_allowed: bool) -> Result<Vec<String>, String> {
        if self.is_kw(0, "ALL") {
            return Err("ALL is not allowed in a plan: a plan names each privilege".into());
        }
        self.list(|c| {
            if c.eat_kws(&["ALTER", "SYSTEM"]) {
                return Ok("ALTER SYSTEM".to_owned());
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
            Ok(word)
        })
    }

    /// The object class after `ON`, always written by the planner.
    pub fn object_class(&mut self) -> Result<String, String> {
        if self.is_kw(0, "ALL") {
            return Err("ON ALL … IN SCHEMA is not allowed in a plan: name each object".into());
        }
        match GRANT_OBJECTS.iter().find(|(w, _)| self.eat_kws(w)) {
            Some((words, _)) => Ok(words.join(" ")),
            None => self.expected("the object class (TABLE, SCHEMA, DATABASE, …) after ON"),
        }
    }

    /// The objects of an object-privilege GRANT or REVOKE on `class`.
    pub fn objects(&mut self, class: &str) -> Result<Vec<Vec<String>>, String> {
        let name = GRANT_OBJECTS
            .iter()
            .find(|(w, _)| w.join(" ") == class)
            .map_or(Name::Qualified, |&(_, n)| n);
        self.list(|c| c.name(name))
    }

    /// An object's name, as its parts.
    pub fn name(&mut self, name: Name) -> Result<Vec<String>, String> {
        match name {
            Name::Ident => Ok(vec![self.ident("a name")?]),
            Name::Qualified => self.qualified("a name"),
            Name::Oid => self.integer("a large object OID"),
            Name::Signature => self.signature(),
            Name::Parameter => {
                let mut parts = vec![self.ident("a parameter name")?];
                if self.eat(&Token::Period) {
                    parts.push(self.ident("a parameter name")?);
                }
                Ok(parts)
            }
        }
    }

    /// `QNAME ( args )` with args as pg_get_function_identity_arguments
    /// prints them: words, quoted names, periods, brackets, numbers and
    /// balanced parentheses, in non-empty comma-separated items.
    fn signature(&mut self) -> Result<Vec<String>, String> {
        let name = self.qualified("a function name")?;
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
                return Ok(name);
            }
            item_empty = false;
        }
    }
}

pub fn bare(token: &Token) -> Option<&str> {
    match token {
        Token::Word(Word {
            value,
            quote_style: None,
            ..
        }) => Some(value),
        _ => None,
    }
}

pub fn eq(word: &str, keyword: &str) -> bool {
    word.eq_ignore_ascii_case(keyword)
}

/// Whether `word` is one of the space-separated keywords in `list`.
pub fn listed(list: &str, word: &str) -> bool {
    list.split_ascii_whitespace().any(|k| eq(word, k))
}

/// A token for an error message: kind and text, on one line.
pub fn describe(token: &Token) -> String {
    let text = show(&token.to_string());
    match token {
        Token::Word(Word {
            quote_style: Some(_),
            ..
        }) => format!("quoted name {text}"),
        Token::Word(_) => text,
        Token::Number(..) => format!("number {text}"),
        Token::DollarQuotedString(_) => "a dollar-quoted string".to_owned(),
        // A string's text is not shown: it may be a secret.
        Token::SingleQuotedString(_)
        | Token::EscapedStringLiteral(_)
        | Token::UnicodeStringLiteral(_)
        | Token::NationalStringLiteral(_)
        | Token::HexStringLiteral(_)
        | Token::SingleQuotedByteStringLiteral(_) => "a string literal".to_owned(),
        _ => text,
    }
}

/// A name for an error message: quoted as SQL would, control characters
/// escaped.
pub fn shown_name(name: &str) -> String {
    show(&pgsr_planner::quote::quote_ident(name))
}
