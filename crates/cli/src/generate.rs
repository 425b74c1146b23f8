//! `pgsr generate`: a desired file describing what roles hold today.

use crate::cli::GenerateArgs;
use crate::exit::{Code, Failure, Result};
use crate::files::write_output;
use crate::plan::read_snapshot;
use pgsr_planner::desired::Pattern;

pub fn run(args: GenerateArgs) -> Result<Code> {
    let pattern = args
        .roles
        .as_deref()
        .map(|r| Pattern::whole(r).map_err(|e| Failure::new(format!("--roles: not a regex: {e}"))))
        .transpose()?;
    let snapshot = match &args.snapshot {
        Some(path) => read_snapshot(path)?,
        None => {
            let mut client = crate::inspect::connect(&args.db, &Default::default())?;
            pgsr_executor::inspect::inspect(&mut client)?
        }
    };
    let yaml = pgsr_planner::generate::generate(&snapshot, |role| {
        pattern.as_ref().is_none_or(|p| p.matches(role))
    });
    write_output(args.output.as_deref(), yaml.as_bytes())?;
    Ok(Code::Ok)
}
