//! The plan as a JSON document for CI (`plan --format json`): the header's
//! fields, the summary, and each statement with its kind, reason and SQL.
//! Its `checksum` is the script's, which `apply --expect-checksum` takes.

use super::cluster::ClusterPlan;
use super::output::Plan;
use super::render::{render, statements};

/// The version of the document.
pub const DOCUMENT_VERSION: u32 = 1;

/// `plan` as a pretty-printed JSON document, ending with a line break.
pub fn document(plan: &Plan) -> String {
    pretty(&value(plan))
}

/// A multi-database plan as a JSON document: `kind` `cluster`, the
/// connected database, the checksum of the cluster script (signed with
/// `key` when given, as `plan` writes it), and each part as [`document`]
/// writes a plan, with its `part`.
pub fn document_cluster(plan: &ClusterPlan, key: Option<&[u8]>) -> String {
    let script = super::render_cluster(plan, key);
    let checksum = crate::script::parse_cluster(&script)
        .expect("a rendered plan parses")
        .checksum;
    let parts: Vec<serde_json::Value> = plan
        .parts
        .iter()
        .map(|p| {
            let mut v = value(p);
            v["part"] = p.part.word().into();
            v
        })
        .collect();
    pretty(&serde_json::json!({
        "format_version": DOCUMENT_VERSION,
        "kind": "cluster",
        "connected_database": plan.connected_database,
        "checksum": checksum,
        "parts": parts,
    }))
}

fn pretty(doc: &serde_json::Value) -> String {
    let mut out = serde_json::to_string_pretty(doc).expect("the plan serializes");
    out.push('\n');
    out
}

fn value(plan: &Plan) -> serde_json::Value {
    let script = render(plan);
    let checksum = crate::script::parse(&script)
        .expect("a rendered plan parses")
        .header
        .checksum;
    let statements: Vec<serde_json::Value> = statements(plan)
        .into_iter()
        .map(|s| {
            serde_json::json!({
                "kind": s.kind.label(),
                "objects": s.objects,
                "grantees": s.grantees,
                "reason": s.reason,
                "sql": s.sql,
            })
        })
        .collect();
    serde_json::json!({
        "format_version": DOCUMENT_VERSION,
        "database": plan.database.name,
        "server_version_num": plan.server_version_num,
        "connecting_role": plan.connecting_role,
        "snapshot_fingerprint": plan.fingerprint,
        "lock_key": plan.lock_key,
        "checksum": checksum,
        "summary": plan.summary,
        "power": plan.power,
        "skipped": plan.skipped,
        "notes": plan.notes,
        "warnings": plan.warnings,
        "statements": statements,
    })
}
