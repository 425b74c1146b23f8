//! The summary a reviewer reads first: per role, what it gains and loses;
//! the roles created, renamed and retired; ownership that moves; and, for
//! each role others are members of, how many roles gain or lose through it.

use super::action::{Action, Step};
use super::facts::Facts;
use crate::quote::quote_ident;
use std::collections::{BTreeMap, BTreeSet};

/// What the plan gives and takes, per role.
#[derive(Default)]
struct Changes {
    gains: Vec<String>,
    losses: Vec<String>,
}

/// Names shown in full up to this many; counts beyond.
const FEW: usize = 3;

/// The summary's lines, in a stable order.
pub(crate) fn summarize(f: &Facts, steps: &[Step]) -> Vec<String> {
    // What each intermediate role the plan grants on serves.
    let serves: BTreeMap<&str, String> = steps
        .iter()
        .filter_map(|s| match &s.action {
            Action::Grant {
                object,
                privilege,
                grantee,
                ..
            } if crate::plan::is_intermediate(grantee) => Some((
                grantee.as_str(),
                format!("{privilege} on {}", object.describe()),
            )),
            _ => None,
        })
        .collect();
    let through = |role: &str| match serves.get(role) {
        Some(what) => format!("{what} (through {})", quote_ident(role)),
        None if crate::plan::is_intermediate(role) => format!("what {} holds", quote_ident(role)),
        None => format!("membership of {}", quote_ident(role)),
    };
    let mut per_role: BTreeMap<String, Changes> = BTreeMap::new();
    let mut created = Vec::new();
    let mut renamed = Vec::new();
    let mut retired = Vec::new();
    let mut intermediates = 0;
    let mut owners: BTreeMap<&str, usize> = BTreeMap::new();
    for step in steps {
        match &step.action {
            Action::Grant {
                object,
                privilege,
                grantee,
                ..
            } => per_role
                .entry(grantee.clone())
                .or_default()
                .gains
                .push(format!("{privilege} on {}", object.describe())),
            Action::Revoke {
                object,
                privilege,
                grantee,
                grant_option_only,
                ..
            } => per_role
                .entry(grantee.clone())
                .or_default()
                .losses
                .push(format!(
                    "{}{privilege} on {}",
                    if *grant_option_only {
                        "grant option of "
                    } else {
                        ""
                    },
                    object.describe()
                )),
            Action::GrantDefault {
                privilege,
                grantee,
                owner,
                ..
            }
            | Action::RevokeDefault {
                privilege,
                grantee,
                owner,
                ..
            } => {
                let c = per_role.entry(grantee.clone()).or_default();
                let list = if matches!(step.action, Action::GrantDefault { .. }) {
                    &mut c.gains
                } else {
                    &mut c.losses
                };
                list.push(format!("default {privilege} on what {owner} creates"));
            }
            Action::GrantMembership { role, member, .. } => per_role
                .entry(member.clone())
                .or_default()
                .gains
                .push(through(role)),
            Action::RevokeMembership { role, member, .. } => per_role
                .entry(member.clone())
                .or_default()
                .losses
                .push(through(role)),
            Action::AlterRole { role, options } => {
                let c = per_role.entry(role.clone()).or_default();
                c.gains
                    .extend(options.given().iter().map(|a| (*a).to_owned()));
                if options.login == Some(true) {
                    c.gains.push("LOGIN".into());
                }
                c.losses
                    .extend(options.removed_by_default().iter().map(|a| (*a).to_owned()));
                if options.login == Some(false) {
                    c.losses.push("LOGIN".into());
                }
            }
            Action::CreateRole { role } if !crate::plan::is_intermediate(role) => {
                created.push(quote_ident(role))
            }
            Action::CreateRole { .. } => intermediates += 1,
            Action::RenameRole { from, to } => {
                renamed.push(format!("{} to {}", quote_ident(from), quote_ident(to)))
            }
            Action::RetireRole { role } => retired.push(quote_ident(role)),
            Action::AlterOwner { owner, .. } | Action::CreateSchema { owner, .. } => {
                *owners.entry(owner).or_default() += 1
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (role, c) in &per_role {
        if crate::plan::is_intermediate(role) {
            continue;
        }
        let mut parts = Vec::new();
        if !c.gains.is_empty() {
            parts.push(format!("gains {}", listed(&c.gains)));
        }
        if !c.losses.is_empty() {
            parts.push(format!("loses {}", listed(&c.losses)));
        }
        let who = if role == crate::acl::PUBLIC {
            "PUBLIC".to_owned()
        } else {
            quote_ident(role)
        };
        out.push(format!("{who}: {}", parts.join("; ")));
    }
    for (what, names) in [
        ("created", created),
        ("renamed", renamed),
        ("retired", retired),
    ] {
        if !names.is_empty() {
            out.push(format!("roles {what}: {}", names.join(", ")));
        }
    }
    if intermediates > 0 {
        out.push(format!("intermediate roles created: {intermediates}"));
    }
    if !owners.is_empty() {
        let moves: Vec<String> = owners
            .iter()
            .map(|(owner, n)| format!("{n} to {}", quote_ident(owner)))
            .collect();
        out.push(format!("ownership: {}", moves.join(", ")));
    }
    out.extend(blast_radius(f, &per_role));
    out
}

/// `3 (a, b, c)` or `12 (5 SELECT on …, …)`: the names when few, else the
/// count.
fn listed(items: &[String]) -> String {
    if items.len() <= FEW {
        format!("{} ({})", items.len(), items.join(", "))
    } else {
        format!("{}", items.len())
    }
}

/// For each changed role that others are members of (through any chain):
/// how many roles gain or lose through it.
fn blast_radius(f: &Facts, per_role: &BTreeMap<String, Changes>) -> Vec<String> {
    let memberships = &f.ctx.ix.snapshot.catalog.memberships;
    let mut out = Vec::new();
    for (role, _) in per_role
        .iter()
        .filter(|(_, c)| !c.gains.is_empty() || !c.losses.is_empty())
    {
        let mut members: BTreeSet<&str> = BTreeSet::new();
        let mut queue = vec![role.as_str()];
        while let Some(r) = queue.pop() {
            for m in memberships.iter().filter(|m| m.role == r) {
                if members.insert(m.member.as_str()) {
                    queue.push(m.member.as_str());
                }
            }
        }
        if !members.is_empty() {
            out.push(format!(
                "blast radius of {}: {} role{} gain or lose through it",
                quote_ident(role),
                members.len(),
                if members.len() == 1 { "" } else { "s" }
            ));
        }
    }
    out
}
