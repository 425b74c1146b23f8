//! Privilege profiles: named bundles of grants, defined at the top level
//! (`profiles:`) or built in, used in a role's grants with `profile`, and
//! parameterized by schema, owner and database. A profile may include
//! others; a cycle is an error that shows its path. Profiles are expanded
//! here, so the planner sees only ordinary grants.
//!
//! Built in:
//! - `read` and `write` as PUM defines them: `read` is USAGE on the schema
//!   and SELECT on its tables; `write` is INSERT, UPDATE and DELETE on its
//!   tables, and USAGE on its sequences (what `nextval` on a `serial`
//!   column needs). `write` does not include `read`: give both.
//! - ldap2pg's well-known privileges, one to one: `__connect__`,
//!   `__temporary__`, `__usage_on_schema__`, `__create_on_schema__` (also
//!   with `schemas`), `__<privilege>_on_tables__`, `__all_on_tables__`,
//!   `__<privilege>_on_sequences__`, `__all_on_sequences__`,
//!   `__execute_on_functions__`, `__usage_on_types__`, and the default
//!   privileges `__default_<privilege>_on_tables__` (and so on), which need
//!   `owner`.

use super::grant::{default_privileges, privileges, Params};
use super::parse::*;
use super::{DefaultGrant, Grant, GrantKind, Objects, PrivilegeGrant, Privileges, Span};
use crate::acl::Privilege;
use crate::display::quoted;
use crate::kind::ObjectKind;
use std::collections::BTreeMap;

/// The profiles a desired file defines, by name.
#[derive(Default)]
pub(super) struct Profiles<'a> {
    defined: BTreeMap<String, &'a [Node]>,
}

/// Reads the top-level `profiles` mapping.
pub(super) fn profiles(node: Option<&Node>) -> Result<Profiles<'_>> {
    let Some(node) = node.filter(|n| !is_null_node(n)) else {
        return Ok(Profiles::default());
    };
    let Kind::Map(entries) = &node.kind else {
        return Err(error(
            node.span,
            format!(
                "expected `profiles` to be a mapping of profile names to lists of grants, found {}",
                describe(node)
            ),
        ));
    };
    let mut defined = BTreeMap::new();
    for (key, value) in entries {
        let name = name(key, "profile name")?;
        if is_builtin(&name) {
            return Err(error(
                key.span,
                format!("profile {} is built in: choose another name", quoted(&name)),
            ));
        }
        let items = optional_list(Some(value), &name)?;
        defined.insert(name, items);
    }
    Ok(Profiles { defined })
}

/// Expands `profile: name` or `profile: {name, schema, owner, database}`
/// into grants.
pub(super) fn expand(profiles: &Profiles, value: &Node, span: Span) -> Result<Vec<Grant>> {
    let mut out = Vec::new();
    use_profile(
        profiles,
        value,
        &Params::default(),
        &mut Vec::new(),
        span,
        &mut out,
    )?;
    Ok(out)
}

fn use_profile(
    profiles: &Profiles,
    value: &Node,
    inherited: &Params,
    stack: &mut Vec<String>,
    span: Span,
    out: &mut Vec<Grant>,
) -> Result<()> {
    let (name_node, params) = match &value.kind {
        Kind::Map(_) => {
            let fields = Fields::of(value, "profile", &["name", "schema", "owner", "database"])?;
            let param = |key: &str, inherited: &Option<String>| -> Result<Option<String>> {
                match fields.get(key) {
                    Some(node) => Ok(Some(name(node, &format!("{key} name"))?)),
                    None => Ok(inherited.clone()),
                }
            };
            let params = Params {
                schema: param("schema", &inherited.schema)?,
                owner: param("owner", &inherited.owner)?,
                database: param("database", &inherited.database)?,
            };
            (fields.require("name")?, params)
        }
        _ => (value, inherited.clone()),
    };
    let profile = name(name_node, "profile name")?;
    if let Some(i) = stack.iter().position(|p| *p == profile) {
        let mut path = stack[i..].to_vec();
        path.push(profile);
        return Err(error(
            name_node.span,
            format!(
                "profiles include each other in a cycle: {}",
                path.join(" -> ")
            ),
        ));
    }
    if let Some(items) = profiles.defined.get(&profile) {
        stack.push(profile);
        for item in *items {
            let (kind, item_value) = single_key(item)?;
            match kind {
                "grant" => out.push(Grant {
                    kind: GrantKind::Privileges(privileges(item_value, Some(&params))?),
                    span: item.span,
                    databases: None,
                }),
                "default_privileges" => out.push(Grant {
                    kind: GrantKind::DefaultPrivileges(default_privileges(
                        item_value,
                        Some(&params),
                    )?),
                    span: item.span,
                    databases: None,
                }),
                "profile" => use_profile(profiles, item_value, &params, stack, item.span, out)?,
                other => {
                    return Err(error(
                        item.span,
                        format!(
                            "a profile holds `grant`, `default_privileges` and `profile` items, found {}",
                            quoted(other)
                        ),
                    ))
                }
            }
        }
        stack.pop();
        return Ok(());
    }
    let kinds = builtin(&profile, &params).ok_or_else(|| {
        error(
            name_node.span,
            format!(
                "unknown profile {}: define it under `profiles`, or use a built-in one (read, write, or one of ldap2pg's such as __select_on_tables__)",
                quoted(&profile)
            ),
        )
    })?;
    let kinds = kinds.map_err(|message| error(name_node.span, message))?;
    out.extend(kinds.into_iter().map(|kind| Grant {
        kind,
        span,
        databases: None,
    }));
    Ok(())
}

/// The kind and value of a one-key item.
fn single_key(item: &Node) -> Result<(&str, &Node)> {
    match &item.kind {
        Kind::Map(entries) if entries.len() == 1 => {
            let (key, value) = &entries[0];
            let kind = scalar_text(key).ok_or_else(|| {
                error(key.span, format!("expected a grant kind, found {}", describe(key)))
            })?;
            Ok((kind, value))
        }
        _ => Err(error(
            item.span,
            format!(
                "expected a profile item (a mapping with one key: grant, default_privileges or profile), found {}",
                describe(item)
            ),
        )),
    }
}

fn is_builtin(name: &str) -> bool {
    builtin(name, &Params::default()).is_some()
}

/// A built-in profile's grants, or why the parameters do not fit it; `None`
/// for a name that is not built in.
fn builtin(name: &str, p: &Params) -> Option<std::result::Result<Vec<GrantKind>, String>> {
    use Privilege::*;
    let schema = || {
        p.schema
            .clone()
            .ok_or_else(|| format!("profile {name} needs `schema`"))
    };
    let grant = |privileges: Privileges, on: ObjectKind, objects: Objects| {
        GrantKind::Privileges(PrivilegeGrant {
            privileges,
            on,
            objects,
            columns: Vec::new(),
            with_grant_option: false,
            direct: true,
        })
    };
    let listed = |list: &[Privilege]| Privileges::Listed(list.to_vec());
    let all_in = |schema: String| Objects::All {
        schema: Some(schema),
        except: Vec::new(),
    };
    let database = || match &p.database {
        Some(d) => Objects::Named {
            schema: None,
            names: vec![d.clone()],
        },
        None => Objects::Current,
    };
    let on_schema = |privilege: Privilege| -> std::result::Result<Vec<GrantKind>, String> {
        Ok(vec![grant(
            listed(&[privilege]),
            ObjectKind::Schema,
            Objects::Named {
                schema: None,
                names: vec![schema()?],
            },
        )])
    };
    let result = match name {
        "read" => (|| {
            let s = schema()?;
            Ok(vec![
                grant(
                    listed(&[Usage]),
                    ObjectKind::Schema,
                    Objects::Named {
                        schema: None,
                        names: vec![s.clone()],
                    },
                ),
                grant(listed(&[Select]), ObjectKind::Table, all_in(s)),
            ])
        })(),
        "write" => (|| {
            let s = schema()?;
            Ok(vec![
                grant(
                    listed(&[Insert, Update, Delete]),
                    ObjectKind::Table,
                    all_in(s.clone()),
                ),
                grant(listed(&[Usage]), ObjectKind::Sequence, all_in(s)),
            ])
        })(),
        "__connect__" => Ok(vec![grant(
            listed(&[Connect]),
            ObjectKind::Database,
            database(),
        )]),
        "__temporary__" => Ok(vec![grant(
            listed(&[Temporary]),
            ObjectKind::Database,
            database(),
        )]),
        "__usage_on_schema__" | "__usage_on_schemas__" => on_schema(Usage),
        "__create_on_schema__" | "__create_on_schemas__" => on_schema(Create),
        other => {
            let (default, rest) = match other.strip_prefix("__default_") {
                Some(rest) => (true, rest),
                None => (false, other.strip_prefix("__")?),
            };
            let (privilege, kind) = rest.strip_suffix("__")?.split_once("_on_")?;
            let on = match kind {
                "tables" => ObjectKind::Table,
                "sequences" => ObjectKind::Sequence,
                "functions" => ObjectKind::Routine,
                "types" => ObjectKind::Type,
                _ => return None,
            };
            let privileges = if privilege == "all" {
                Privileges::All
            } else {
                let p = Privilege::ALL
                    .into_iter()
                    .find(|p| p.keyword().eq_ignore_ascii_case(privilege))?;
                if !on.privileges(u32::MAX).contains(&p) {
                    return None;
                }
                listed(&[p])
            };
            if default {
                let owner = match &p.owner {
                    Some(o) => o.clone(),
                    None => return Some(Err(format!("profile {name} needs `owner`"))),
                };
                Ok(vec![GrantKind::DefaultPrivileges(DefaultGrant {
                    privileges,
                    on,
                    owner,
                    schema: p.schema.clone(),
                    with_grant_option: false,
                })])
            } else {
                schema().map(|s| vec![grant(privileges, on, all_in(s))])
            }
        }
    };
    Some(result)
}
