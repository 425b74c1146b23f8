//! `pgsr plan`: the SQL that brings the catalog to the desired state.

use crate::cli::PlanArgs;
use crate::exit::{write_output, Code, Failure, Result};
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
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
    let mut desired = desired::parse(&bytes)
        .map_err(|e| located(path, Some((e.span.line, e.span.column)), &e.message))?;
    desired
        .resolve_passwords(|name| std::env::var(name).ok(), read_password_file)
        .map_err(|e| located(path, Some((e.span.line, e.span.column)), &e.message))?;
    Ok(desired)
}

/// A password file larger than this is the wrong file, or a device such as
/// `/dev/zero` that would be read until memory runs out.
const MAX_PASSWORD_FILE_BYTES: u64 = 64 * 1024;

fn read_password_file(path: &str) -> std::result::Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut text = String::new();
    file.take(MAX_PASSWORD_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > MAX_PASSWORD_FILE_BYTES {
        return Err(format!(
            "it is larger than {} KiB, which is not a password",
            MAX_PASSWORD_FILE_BYTES / 1024
        ));
    }
    Ok(text)
}

pub fn read_snapshot(path: &Path) -> Result<Snapshot> {
    let bytes = std::fs::read(path)
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
