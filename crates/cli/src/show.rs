//! `pgsr show`: the summary of a plan, read from its header.

use crate::cli::ShowArgs;
use crate::exit::{Code, Failure, Result};
use crate::files::{read_text, SCRIPT};

pub fn run(args: ShowArgs) -> Result<Code> {
    let text = read_text(&args.plan, &SCRIPT)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", args.plan.display())))?;
    let script = pgsr_planner::script::parse(&text)
        .map_err(|e| crate::plan::located(&args.plan, Some((e.line, 1)), &e.message))?;
    let h = &script.header;
    if args.format == "json" {
        let doc = serde_json::json!({
            "format_version": 1,
            "database": h.database,
            "connecting_role": h.connecting_role,
            "snapshot_fingerprint": h.fingerprint,
            "statement_count": h.statement_count,
            "checksum": h.checksum,
            "summary": h.summary,
            "power": h.power,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).expect("serializes")
        );
    } else {
        println!(
            "plan for database {} as {}: {} statements",
            h.database, h.connecting_role, h.statement_count
        );
        for line in &h.summary {
            println!("  {}", pgsr_planner::display::escape(line));
        }
        for p in &h.power {
            println!("  power: {}", pgsr_planner::plan::power::describe(p));
        }
    }
    Ok(Code::Ok)
}
