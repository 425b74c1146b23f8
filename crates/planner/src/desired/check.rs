//! Checks across roles, once the whole file is read: a role is listed or
//! retired, never both; a former name is no role's present one; and the
//! declared memberships have no cycle (PostgreSQL refuses one).

use super::parse::{error, Result};
use super::{Desired, GrantKind, Span};
use crate::display::quoted;
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn roles(desired: &Desired) -> Result<()> {
    let listed: BTreeMap<&str, Span> = desired
        .roles
        .iter()
        .map(|r| (r.name.as_str(), r.span))
        .collect();
    let mut retired: BTreeMap<&str, Span> = BTreeMap::new();
    for r in &desired.retired {
        if let Some(span) = listed.get(r.name.as_str()) {
            return Err(error(
                r.span,
                format!(
                    "role {} is retired and also listed under roles (line {}): keep one",
                    quoted(&r.name),
                    span.line
                ),
            ));
        }
        if let Some(first) = retired.insert(&r.name, r.span) {
            return Err(error(
                r.span,
                format!(
                    "role {} is retired twice (first on line {})",
                    quoted(&r.name),
                    first.line
                ),
            ));
        }
    }
    let mut former: BTreeMap<&str, Span> = BTreeMap::new();
    for role in &desired.roles {
        let Some(from) = &role.renamed_from else {
            continue;
        };
        if from.name == role.name {
            return Err(error(from.span, "`renamed_from` names the role itself"));
        }
        if listed.contains_key(from.name.as_str()) || retired.contains_key(from.name.as_str()) {
            return Err(error(
                from.span,
                format!(
                    "renamed_from: {} is also listed or retired in this file: a renamed role has one name",
                    quoted(&from.name)
                ),
            ));
        }
        if let Some(first) = former.insert(&from.name, from.span) {
            return Err(error(
                from.span,
                format!(
                    "two roles are renamed from {} (the first on line {})",
                    quoted(&from.name),
                    first.line
                ),
            ));
        }
    }
    memberships_without_cycle(desired)
}

/// Every declared membership as member -> group -> where; a cycle is an
/// error at the membership that closes it, showing its path.
fn memberships_without_cycle(desired: &Desired) -> Result<()> {
    let mut edges: BTreeMap<&str, BTreeMap<&str, Span>> = BTreeMap::new();
    for role in &desired.roles {
        for g in &role.grants {
            if let GrantKind::RoleMembership { role: group, .. } = &g.kind {
                edges
                    .entry(role.name.as_str())
                    .or_default()
                    .entry(group.as_str())
                    .or_insert(g.span);
            }
        }
        for m in role.members.iter().flatten() {
            edges
                .entry(m.name.as_str())
                .or_default()
                .entry(role.name.as_str())
                .or_insert(m.span);
        }
    }
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for &start in edges.keys() {
        let mut path = vec![start];
        if let Some((span, cycle)) = visit(start, &edges, &mut path, &mut done) {
            return Err(error(
                span,
                format!(
                    "memberships form a cycle, which PostgreSQL refuses: {}",
                    cycle.join(" is a member of ")
                ),
            ));
        }
    }
    Ok(())
}

fn visit<'a>(
    role: &'a str,
    edges: &BTreeMap<&'a str, BTreeMap<&'a str, Span>>,
    path: &mut Vec<&'a str>,
    done: &mut BTreeSet<&'a str>,
) -> Option<(Span, Vec<&'a str>)> {
    if done.contains(role) {
        return None;
    }
    for (&group, &span) in edges.get(role).into_iter().flatten() {
        if let Some(at) = path.iter().position(|r| *r == group) {
            let mut cycle = path[at..].to_vec();
            cycle.push(group);
            return Some((span, cycle));
        }
        path.push(group);
        if let Some(found) = visit(group, edges, path, done) {
            return Some(found);
        }
        path.pop();
    }
    done.insert(role);
    None
}
