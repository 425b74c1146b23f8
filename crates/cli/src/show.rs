//! `pgsr show`: the summary of a plan, read from its header.

use crate::cli::ShowArgs;
use crate::exit::{Code, Failure, Result};
use crate::files::{read_text, SCRIPT};
use pgsr_planner::display::escape;
use pgsr_planner::plan::Part;
use pgsr_planner::script::{self, Header, ScriptError};

pub fn run(args: ShowArgs) -> Result<Code> {
    let text = read_text(&args.plan, &SCRIPT)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", args.plan.display())))?;
    let bad = |e: ScriptError| crate::plan::located(&args.plan, Some((e.line, 1)), &e.message);
    if !script::is_cluster_script(&text) {
        let one = script::parse(&text).map_err(bad)?;
        if args.format == "json" {
            print_json(&document(&one.header));
        } else {
            print_text(&one.header);
        }
        return Ok(Code::Ok);
    }
    let cluster = script::parse_cluster(&text).map_err(bad)?;
    let mut headers = Vec::new();
    for p in &cluster.parts {
        let one = script::parse(p.text).map_err(|mut e| {
            e.line += p.first_line - 1;
            bad(e)
        })?;
        headers.push(one.header);
    }
    if args.format == "json" {
        let parts: Vec<serde_json::Value> = headers
            .iter()
            .map(|h| {
                let mut v = document(h);
                v["part"] = h.part.word().into();
                v
            })
            .collect();
        print_json(&serde_json::json!({
            "format_version": 1,
            "kind": "cluster",
            "connected_database": cluster.connected_database,
            "checksum": cluster.checksum,
            "parts": parts,
        }));
    } else {
        let total: usize = headers.iter().map(|h| h.statement_count).sum();
        println!(
            "plan for {} databases from {}: {total} statements",
            headers.iter().filter(|h| h.part == Part::Database).count(),
            escape(&cluster.connected_database),
        );
        for h in &headers {
            print!("{} part, ", h.part.word());
            print_text(h);
        }
    }
    Ok(Code::Ok)
}

fn print_json(doc: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(doc).expect("serializes"));
}

/// The header's part of `plan --format json`.
fn document(h: &Header) -> serde_json::Value {
    {
        serde_json::json!({
            "format_version": 1,
            "database": h.database,
            "connecting_role": h.connecting_role,
            "snapshot_fingerprint": h.fingerprint,
            "statement_count": h.statement_count,
            "checksum": h.checksum,
            "summary": h.summary,
            "power": h.power,
        })
    }
}

fn print_text(h: &Header) {
    println!(
        "plan for database {} as {}: {} statements",
        escape(&h.database),
        escape(&h.connecting_role),
        h.statement_count
    );
    for line in &h.summary {
        println!("  {}", escape(line));
    }
    for p in &h.power {
        println!("  power: {}", pgsr_planner::plan::power::describe(p));
    }
}
