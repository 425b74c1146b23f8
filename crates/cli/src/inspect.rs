//! `pgsr inspect`: write a snapshot of the catalog.

use crate::cli::{DbArgs, InspectArgs};
use crate::exit::{Code, Result};
use crate::files::write_output;
use pgsr_executor::conninfo::ConnInfo;
use pgsr_executor::wait::Timeouts;
use pgsr_planner::snapshot;

pub fn run(args: InspectArgs) -> Result<Code> {
    let mut client = connect(&args.db, &Timeouts::default())?;
    let snapshot = pgsr_executor::inspect::inspect(&mut client)?;
    write_output(args.output.as_deref(), &snapshot::to_json(&snapshot))?;
    Ok(Code::Ok)
}

/// Resolves the connection settings and connects; the session's lock and
/// statement timeouts are `timeouts`'.
pub fn connect(db: &DbArgs, timeouts: &Timeouts) -> Result<pgsr_executor::connect::Session> {
    Ok(pgsr_executor::connect::connect(&conninfo(db)?, timeouts)?)
}

/// The connection settings: `--db` (or `DATABASE_URL`), then the libpq
/// environment.
pub fn conninfo(db: &DbArgs) -> Result<ConnInfo> {
    Ok(ConnInfo::parse(db.db.as_deref().unwrap_or(""))
        .map_err(|e| crate::exit::Failure::new(e.to_string()))?
        .with_defaults(|k| std::env::var(k).ok()))
}
