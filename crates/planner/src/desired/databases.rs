//! Which databases a desired file manages (top-level `databases`), and in
//! which of them a grant applies (a grant's `database`).
//!
//! Both take one form: a name or pattern (`appdb`, `app_*`, `"*"`), a list
//! of them, or `{include: …, exclude: …}`. A pattern's `*` matches any run
//! of characters and `?` any one; nothing else is special. `"*"` is every
//! database that allows connections and is not a template.

use super::parse::*;
use super::{Desired, Grant, GrantKind, Span};
use crate::display::quoted;
use crate::kind::ObjectKind;

/// A set of databases, by name or pattern, with exclusions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseSet {
    /// Names or patterns; a database must match one.
    pub include: Vec<String>,
    /// Names or patterns; a database matching one is left out.
    pub exclude: Vec<String>,
    pub span: Span,
}

impl DatabaseSet {
    /// Whether the set holds the database `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.include.iter().any(|p| glob(p, name)) && !self.exclude.iter().any(|p| glob(p, name))
    }

    /// Whether the set names exactly one database, without a pattern.
    pub fn single(&self) -> Option<&str> {
        match (self.include.as_slice(), self.exclude.is_empty()) {
            ([one], true) if !one.contains(['*', '?']) => Some(one),
            _ => None,
        }
    }
}

/// `*` matches any run of characters, `?` any one character.
fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // The classic two-pointer match with backtracking to the last `*`.
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

/// Reads a set of databases: a name or pattern, a list of them, or
/// `{include, exclude}`.
pub(super) fn database_set(node: &Node, key: &str) -> Result<DatabaseSet> {
    let names = |node: &Node, what: &str| -> Result<Vec<String>> {
        match &node.kind {
            Kind::Seq(items) if !items.is_empty() => items
                .iter()
                .map(|n| name(n, "database name or pattern"))
                .collect(),
            Kind::Seq(_) => Err(error(
                node.span,
                format!("expected `{what}` to name at least one database"),
            )),
            Kind::Scalar { .. } => Ok(vec![name(node, "database name or pattern")?]),
            Kind::Map(_) => Err(error(
                node.span,
                format!(
                    "expected `{what}` to be a database name, a pattern or a list of them, found a mapping"
                ),
            )),
        }
    };
    let (include, exclude) = match &node.kind {
        Kind::Map(_) => {
            let what = format!("`{key}`");
            let fields = Fields::of(node, &what, &["include", "exclude"])?;
            let include = match fields.get("include") {
                Some(n) => names(n, "include")?,
                None => vec!["*".to_owned()],
            };
            let exclude = match fields.get("exclude") {
                Some(n) => names(n, "exclude")?,
                None => Vec::new(),
            };
            (include, exclude)
        }
        _ => (names(node, key)?, Vec::new()),
    };
    Ok(DatabaseSet {
        include,
        exclude,
        span: node.span,
    })
}

/// Whether a grant is on objects inside a database (and so planned in each
/// database it applies to), rather than on the cluster's shared objects
/// (databases, tablespaces, parameters) or a role.
pub fn is_local(kind: &GrantKind) -> bool {
    let shared = |on: ObjectKind| {
        matches!(
            on,
            ObjectKind::Database | ObjectKind::Tablespace | ObjectKind::Parameter
        )
    };
    match kind {
        GrantKind::DatabaseConnect { .. } | GrantKind::RoleMembership { .. } => false,
        GrantKind::Privileges(p) => !shared(p.on),
        GrantKind::Ownership { on, .. } => !shared(*on),
        GrantKind::SchemaUsage { .. }
        | GrantKind::SchemaCreate { .. }
        | GrantKind::SchemaOwnership { .. }
        | GrantKind::TableSelect { .. }
        | GrantKind::TableOwnership { .. }
        | GrantKind::DefaultPrivileges(_) => true,
    }
}

/// The `database` of a grant item: only grants on objects inside a
/// database take one.
pub(super) fn grant_databases(node: &Node, kind: &GrantKind) -> Result<DatabaseSet> {
    if !is_local(kind) {
        return Err(error(
            node.span,
            "`database` applies to grants on objects inside a database; this grant is on the cluster's shared objects or a role, which every database sees",
        ));
    }
    database_set(node, "database")
}

impl Desired {
    /// The desired state of one database of a multi-database file: every
    /// role, with only the grants on objects inside a database that apply
    /// in `database` (a grant without `database` applies in every managed
    /// database), and the grants on shared objects.
    pub fn for_database(&self, database: &str) -> Desired {
        let keep = |g: &Grant| {
            !is_local(&g.kind) || g.databases.as_ref().is_none_or(|d| d.contains(database))
        };
        let mut out = self.clone();
        for role in out.roles.iter_mut().chain(out.public.iter_mut()) {
            role.grants.retain(keep);
        }
        out
    }

    /// Checks, for a file that manages only the connected database, that
    /// no grant names another one.
    pub fn check_single_database(
        &self,
        database: &str,
    ) -> std::result::Result<(), super::DesiredError> {
        for role in self.roles.iter().chain(self.public.iter()) {
            for grant in &role.grants {
                if let Some(set) = &grant.databases {
                    if !set.contains(database) {
                        return Err(error(
                            set.span,
                            format!(
                                "this grant applies in no database the plan manages: without a top-level `databases`, a plan manages only the database it connects to ({})",
                                quoted(database)
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn patterns_match_as_globs() {
        for (p, n, m) in [
            ("*", "app", true),
            ("*", "", true),
            ("app_*", "app_1", true),
            ("app_*", "app", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*_db_*", "x_db_y", true),
            ("*_db_*", "x_dby", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("é*", "été", true),
        ] {
            assert_eq!(glob(p, n), m, "{p} ~ {n}");
        }
    }
}
