//! `pgsr inspect`: write a snapshot of the catalog.

use crate::cli::{DbArgs, InspectArgs};
use crate::exit::{Code, Result};
use crate::files::write_output;
use pgsr_executor::conninfo::ConnInfo;
use pgsr_planner::snapshot;

pub fn run(args: InspectArgs) -> Result<Code> {
    let mut client = connect(&args.db)?;
    let snapshot = pgsr_executor::inspect::inspect(&mut client)?;
    write_output(args.output.as_deref(), &snapshot::to_json(&snapshot))?;
    Ok(Code::Ok)
}

/// Resolves the connection settings and connects.
pub fn connect(db: &DbArgs) -> Result<pgsr_executor::connect::Session> {
    let info = ConnInfo::parse(db.db.as_deref().unwrap_or(""))
        .map_err(|e| crate::exit::Failure::new(e.to_string()))?
        .with_defaults(|k| std::env::var(k).ok());
    Ok(pgsr_executor::connect::connect(&info)?)
}
