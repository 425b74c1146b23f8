//! pg-sync-roles' `TableSelect(…, grant_on_partitions=DIRECT_CHILDREN)`:
//! SELECT on the tables a grant names and on each of their direct children
//! in `pg_inherits` (partitions, and tables that inherit), as the catalog
//! holds them when the sync begins. The children become `table_select`
//! grants of the desired state, with the same `direct`; the planner sees
//! nothing else.

use pgsr_planner::desired::Pattern;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The direct children of every table of the schemas in `%(p1)s`: the
/// parent's schema and name, then the child's.
pub(crate) const STATEMENT: &str =
    "SELECT pn.nspname::text, p.relname::text, cn.nspname::text, c.relname::text \
     FROM pg_catalog.pg_inherits i \
     JOIN pg_catalog.pg_class p ON p.oid = i.inhparent \
     JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace \
     JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid \
     JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace \
     WHERE pn.nspname = ANY(%(p1)s::text[]) \
     ORDER BY 1, 2, 3, 4";

/// A `table_select` of `role` that reaches the children of the tables it
/// names: one (`table`) or those whose names match `regex` (anchored at
/// the start, as `table_regex`).
#[derive(Clone, Debug)]
pub(crate) struct Wanted {
    pub role: String,
    pub schema: String,
    pub table: Option<String>,
    pub regex: Option<String>,
    pub direct: bool,
}

/// The schemas whose tables' children `wanted` asks for.
pub(crate) fn schemas(wanted: &[Wanted]) -> Vec<String> {
    let set: BTreeSet<&str> = wanted.iter().map(|w| w.schema.as_str()).collect();
    set.into_iter().map(str::to_owned).collect()
}

/// `desired` (a desired file's JSON) with a `table_select` for each direct
/// child, in the rows of [`STATEMENT`], of a table that `wanted` names.
pub(crate) fn add(
    desired: &str,
    wanted: &[Wanted],
    rows: &[Vec<Option<String>>],
) -> Result<String, String> {
    let mut document: Value =
        serde_json::from_str(desired).map_err(|e| format!("the desired state: {e}"))?;
    let text = |row: &[Option<String>], i: usize| -> Result<String, String> {
        row.get(i)
            .cloned()
            .flatten()
            .ok_or_else(|| "reading the children of tables failed: a row without a name".to_owned())
    };
    for w in wanted {
        let pattern = match &w.regex {
            Some(source) => Some(Pattern::new(source).map_err(|e| e.to_string())?),
            None => None,
        };
        let mut grants = Vec::new();
        for row in rows {
            let (schema, parent) = (text(row, 0)?, text(row, 1)?);
            let named = match (&w.table, &pattern) {
                (Some(table), _) => *table == parent,
                (None, Some(pattern)) => pattern.matches(&parent),
                (None, None) => false,
            };
            if schema == w.schema && named {
                grants.push(json!({"table_select": {
                    "schema": text(row, 2)?,
                    "table": text(row, 3)?,
                    "direct": w.direct,
                }}));
            }
        }
        let role = document["roles"]
            .as_array_mut()
            .and_then(|roles| roles.iter_mut().find(|r| r["name"] == w.role.as_str()))
            .ok_or_else(|| format!("{}: no such role in the desired state", w.role))?;
        if !role["grants"].is_array() {
            role["grants"] = json!([]);
        }
        let list = role["grants"].as_array_mut().expect("made an array");
        for grant in grants {
            if !list.contains(&grant) {
                list.push(grant);
            }
        }
    }
    Ok(document.to_string())
}
