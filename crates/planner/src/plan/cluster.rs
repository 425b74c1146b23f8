//! Multi-database plans: one desired file with a top-level `databases`,
//! planned against a [`ClusterSnapshot`], gives one plan per part: the
//! shared part (planned once, from the connected database), one part per
//! managed database, and the last part (retired roles dropped).
//!
//! Each part is an ordinary [`Plan`] made by [`plan`](super::plan) with
//! [`PlanOptions::part`] set: the phases are the same, and a part keeps
//! the steps that belong to it before temporary grants and power are
//! worked out, so each part's script stands on its own.

use super::options::PlanOptions;
use super::output::{Plan, PlanError};
use super::part::Part;
use crate::desired::{is_local, Desired};
use crate::snapshot::ClusterSnapshot;

/// The plans of a multi-database plan, in the order they are applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterPlan {
    /// The database the shared and last parts run in.
    pub connected_database: String,
    /// The shared part, each managed database's part (by name), then the
    /// last part.
    pub parts: Vec<Plan>,
}

impl ClusterPlan {
    /// Whether no part has a statement.
    pub fn is_empty(&self) -> bool {
        self.parts.iter().all(Plan::is_empty)
    }

    /// Whether some part has a change `plan --exit-code` counts.
    pub fn has_known_changes(&self) -> bool {
        self.parts.iter().any(Plan::has_known_changes)
    }
}

/// Plans every database `desired.databases` selects among the snapshot's.
pub fn plan_cluster(
    cluster: &ClusterSnapshot,
    desired: &Desired,
    options: &PlanOptions,
) -> Result<ClusterPlan, PlanError> {
    let Some(set) = &desired.databases else {
        return Err(PlanError {
            span: None,
            message: "the snapshot holds several databases, but the desired file has no top-level `databases` saying which it manages".into(),
        });
    };
    let managed: Vec<String> = cluster
        .databases
        .iter()
        .map(|s| s.database.name.clone())
        .filter(|name| set.contains(name))
        .collect();
    if managed.is_empty() {
        let known: Vec<&str> = cluster
            .databases
            .iter()
            .map(|s| s.database.name.as_str())
            .collect();
        return Err(PlanError {
            span: Some(set.span),
            message: format!(
                "`databases` selects none of the cluster's databases ({})",
                known.join(", ")
            ),
        });
    }
    let with = |part: Part| PlanOptions {
        part,
        managed_databases: managed.clone(),
        ..options.clone()
    };
    let shared_only = desired.without_local_grants();
    let connected = cluster.connected();
    let mut parts = vec![super::plan(connected, &shared_only, &with(Part::Shared))?];
    for name in &managed {
        let snapshot = cluster
            .database(name)
            .expect("managed databases are the snapshot's");
        parts.push(super::plan(
            snapshot,
            &desired.for_database(name),
            &with(Part::Database),
        )?);
    }
    parts.push(super::plan(connected, &shared_only, &with(Part::Last))?);
    Ok(ClusterPlan {
        connected_database: cluster.connected_database.clone(),
        parts,
    })
}

impl Desired {
    /// The desired file without its grants on objects inside a database:
    /// what the shared and last parts are planned from.
    fn without_local_grants(&self) -> Desired {
        let mut out = self.clone();
        for role in out.roles.iter_mut().chain(out.public.iter_mut()) {
            role.grants.retain(|g| !is_local(&g.kind));
        }
        out
    }
}

/// The script of a multi-database plan: each part's script, under a
/// header that lists them (see [`crate::script::write_cluster`]), signed
/// with the plan key when one is given.
pub fn render_cluster(plan: &ClusterPlan, key: Option<&[u8]>) -> String {
    let parts: Vec<(Part, &str, String)> = plan
        .parts
        .iter()
        .map(|p| (p.part, p.database.name.as_str(), super::render(p)))
        .collect();
    crate::script::write_cluster(&plan.connected_database, &parts, key)
}
