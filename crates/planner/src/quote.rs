//! Quoting of identifiers and literals.
//!
//! Every name and every string that reaches a rendered statement goes through
//! exactly one of these two functions; nothing else in pgsr builds SQL text
//! from data.

/// Quotes an identifier the way PostgreSQL's `quote_ident` does: bare when it
/// is a lower-case, non-keyword identifier, otherwise in double quotes with
/// embedded double quotes doubled.
pub fn quote_ident(name: &str) -> String {
    if is_bare_identifier(name) {
        return name.to_owned();
    }
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Quotes a string literal: single quotes, embedded single quotes doubled.
/// A value with a backslash is written as PostgreSQL's own `quote_literal`
/// writes it, `E'…'` with backslashes doubled, which reads the same whatever
/// `standard_conforming_strings` says (plans never hold one: their
/// literals are timestamps and verifiers).
pub fn quote_literal(value: &str) -> String {
    let escape = value.contains('\\');
    let mut out = String::with_capacity(value.len() + 3);
    if escape {
        out.push('E');
    }
    out.push('\'');
    for c in value.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' if escape => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn is_bare_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_lowercase() || first == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !is_keyword(name)
}

/// PostgreSQL keywords that are reserved in some context, and the words that
/// give a GRANT, REVOKE or ALTER statement its shape (privilege names,
/// object kinds, clauses). PostgreSQL would accept some of these bare, but
/// quoting a name that did not need it is harmless, and it keeps every
/// statement unambiguous to pgsr's own validator.
fn is_keyword(name: &str) -> bool {
    KEYWORDS.binary_search(&name).is_ok()
}

const KEYWORDS: &[&str] = &[
    "admin",
    "all",
    "alter",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "by",
    "cascade",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "connect",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "data",
    "database",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "delete",
    "desc",
    "distinct",
    "do",
    "domain",
    "else",
    "end",
    "except",
    "execute",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "function",
    "functions",
    "grant",
    "granted",
    "greatest",
    "group",
    "grouping",
    "having",
    "if",
    "ilike",
    "in",
    "inherit",
    "initially",
    "inner",
    "inout",
    "insert",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "json",
    "json_array",
    "json_arrayagg",
    "json_exists",
    "json_object",
    "json_objectagg",
    "json_query",
    "json_scalar",
    "json_serialize",
    "json_table",
    "json_value",
    "language",
    "large",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "login",
    "maintain",
    "merge_action",
    "national",
    "natural",
    "nchar",
    "nologin",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "object",
    "objects",
    "offset",
    "on",
    "only",
    "option",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "owner",
    "parameter",
    "placing",
    "position",
    "precision",
    "primary",
    "privileges",
    "procedure",
    "public",
    "real",
    "references",
    "restrict",
    "returning",
    "right",
    "role",
    "routine",
    "routines",
    "row",
    "schema",
    "schemas",
    "select",
    "sequence",
    "sequences",
    "server",
    "session",
    "session_user",
    "set",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system",
    "system_user",
    "table",
    "tables",
    "tablesample",
    "tablespace",
    "temp",
    "temporary",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trigger",
    "trim",
    "true",
    "truncate",
    "type",
    "types",
    "union",
    "unique",
    "update",
    "usage",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "wrapper",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_sorted_for_binary_search() {
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn identifiers() {
        assert_eq!(quote_ident("alice"), "alice");
        assert_eq!(quote_ident("_pgsr_x1"), "_pgsr_x1");
        assert_eq!(quote_ident("Alice"), "\"Alice\"");
        assert_eq!(quote_ident("a b"), "\"a b\"");
        assert_eq!(quote_ident("1a"), "\"1a\"");
        assert_eq!(quote_ident(""), "\"\"");
        assert_eq!(quote_ident("user"), "\"user\"");
        assert_eq!(quote_ident("public"), "\"public\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident("é"), "\"é\"");
    }

    #[test]
    fn literals() {
        assert_eq!(quote_literal("x"), "'x'");
        assert_eq!(quote_literal("it's"), "'it''s'");
        // Read the same whatever standard_conforming_strings says.
        assert_eq!(quote_literal("a\\b"), "E'a\\\\b'");
        assert_eq!(quote_literal("a\\'b"), "E'a\\\\''b'");
    }
}
