//! `pgsr plan`: the SQL that brings the catalog to the desired state.

use crate::cli::PlanArgs;
use crate::exit::{Code, Failure, Result};
use crate::files::{read_input, read_text, write_output, DESIRED_FILE, PASSWORD_FILE, SNAPSHOT};
use pgsr_planner::desired::{self, Desired};
use pgsr_planner::plan::{plan, render, PlanOptions};
use pgsr_planner::snapshot::{self, Snapshot};
use std::path::Path;

pub fn run(args: PlanArgs) -> Result<Code> {
    let desired = read_desired(&args.file)?;
    let options = PlanOptions {
        strict: args.strict,
        drop_unused: args.drop_unused,
    };
    let snapshot = match (&args.snapshot, &args.db.db) {
        (Some(path), _) => read_snapshot(path)?,
        (None, _) => {
            let mut client = crate::inspect::connect(&args.db)?;
            let scope = pgsr_executor::sync::scope(&desired, &options, args.full_scope);
            pgsr_executor::inspect::inspect_scope(&mut client, &scope)?
        }
    };
    let plan = plan(&snapshot, &desired, &options)
        .map_err(|e| located(&args.file, e.span.map(|s| (s.line, s.column)), &e.message))?;
    write_output(args.output.as_deref(), render(&plan).as_bytes())?;
    Ok(if args.exit_code && !plan.is_empty() {
        Code::Changes
    } else {
        Code::Ok
    })
}

/// Reads, parses and resolves the passwords of a desired file.
pub fn read_desired(path: &Path) -> Result<Desired> {
    let bytes = read_input(path, &DESIRED_FILE)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
    let mut desired = desired::parse(&bytes)
        .map_err(|e| located(path, Some((e.span.line, e.span.column)), &e.message))?;
    desired
        .resolve_passwords(
            |name| std::env::var(name).ok(),
            |file| read_text(Path::new(file), &PASSWORD_FILE),
        )
        .map_err(|e| located(path, Some((e.span.line, e.span.column)), &e.message))?;
    Ok(desired)
}

pub fn read_snapshot(path: &Path) -> Result<Snapshot> {
    let bytes = read_input(path, &SNAPSHOT)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
    snapshot::from_json(&bytes).map_err(|e| located(path, e.position, &e.message))
}

/// `file:line:column: message`, the way compilers report.
pub fn located(path: &Path, position: Option<(usize, usize)>, message: &str) -> Failure {
    match position {
        Some((line, column)) => {
            Failure::new(format!("{}:{line}:{column}: {message}", path.display()))
        }
        None => Failure::new(format!("{}: {message}", path.display())),
    }
}
