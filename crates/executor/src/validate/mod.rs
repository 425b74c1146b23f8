//! Checks a plan script before `pgsr apply` sends any of it to the server.
//!
//! A plan is reviewed by a person and then applied, so the apply step must
//! refuse anything that is not role or privilege DDL of the shapes the planner
//! emits — whoever edited the file in between. The script is tokenized with
//! sqlparser's PostgreSQL tokenizer, which knows quoted identifiers, strings,
//! dollar quotes and (nested) comments, so a `;` only ends a statement where
//! PostgreSQL would end it too. Each statement is then matched by a strict
//! recognizer over its tokens (`recognize.rs`): sqlparser's parser does not
//! cover membership grants, default privileges or most `OWNER TO` forms, and
//! a recognizer that only knows the forms the planner's renderer writes
//! cannot accept something by accident. Last, the header must describe the
//! body: the same counts per kind, the same passwords.

mod cursor;
mod recognize;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

pub use cursor::show as shown;
use cursor::{describe, show};
use pgsr_planner::script::Script;
pub use recognize::Effect;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

/// One statement of a plan that passed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatedStatement {
    /// Line of the statement's first token, counted in the whole file.
    pub line: usize,
    /// The statement as written, from its first to its last token, without `;`.
    pub sql: String,
    pub kind: StatementKind,
    /// What the live catalog is checked for before it runs.
    pub effect: Effect,
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
                let (kind, effect) = recognize::recognize(&current).map_err(|m| error(line, m))?;
                let (start, end) = (lines.offset(first.span.start), lines.offset(last.span.end));
                let sql = body.get(start..end).unwrap_or_default().to_string();
                statements.push(ValidatedStatement {
                    line,
                    sql,
                    kind,
                    effect,
                });
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

/// Validates a whole script: every statement has a form the planner
/// writes, and the header says exactly what the body holds — as many
/// statements of each kind, and one password line per password statement,
/// naming the same role.
pub fn validate_script(script: &Script) -> Result<Vec<ValidatedStatement>, ValidationError> {
    let header = &script.header;
    let statements = validate_statements(script.body, script.body_first_line)?;
    let error = |line: usize, message: String| ValidationError { line, message };
    let mut counts: BTreeMap<StatementKind, usize> = BTreeMap::new();
    for s in &statements {
        *counts.entry(s.kind).or_default() += 1;
    }
    if statements.len() != header.statement_count || counts != header.statement_counts {
        let describe = |c: &BTreeMap<StatementKind, usize>| {
            c.iter()
                .map(|(k, n)| format!("{} {n}", k.label()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(error(
            header.statements_line,
            format!(
                "the header announces {} statements ({}) but the script holds {} ({})",
                header.statement_count,
                describe(&header.statement_counts),
                statements.len(),
                describe(&counts)
            ),
        ));
    }
    let mut used = vec![false; header.passwords.len()];
    for s in &statements {
        let Effect::SetPassword { role, variable } = &s.effect else {
            continue;
        };
        let slot = header
            .passwords
            .iter()
            .position(|p| &p.variable == variable)
            .filter(|&i| header.passwords[i].role == *role);
        match slot {
            Some(i) if !used[i] => used[i] = true,
            Some(_) => {
                return Err(error(
                    s.line,
                    format!("{} is set twice", show(&format!(":'{variable}'"))),
                ))
            }
            None => {
                return Err(error(
                    s.line,
                    format!(
                        "the header has no password line for :'{variable}' of {}",
                        cursor::shown_name(role)
                    ),
                ))
            }
        }
    }
    if let Some(i) = used.iter().position(|u| !u) {
        return Err(error(
            header.statements_line,
            format!(
                "the header names {} but no statement sets it",
                header.passwords[i].variable
            ),
        ));
    }
    Ok(statements)
}
