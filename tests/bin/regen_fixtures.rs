//! Regenerates fixture snapshots:
//!
//! ```text
//! cargo run -p pgsr-e2e --bin regen-fixtures [case...]
//! ```
//!
//! For each case (default: every `fixtures/<case>/setup.sql`), builds its
//! state in a fresh PostgreSQL cluster and writes what `pgsr inspect` sees to
//! `fixtures/<case>/snapshot.json`. See `pgsr_e2e::fixtures`.

use pgsr_e2e::fixtures::{cases, fixtures_dir, regenerate, FIXTURE_MAJOR};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a.starts_with('-')) {
        eprintln!("usage: regen-fixtures [case...]   (cases are directories under fixtures/)");
        return ExitCode::from(2);
    }
    let all = cases();
    let selected = if args.is_empty() { all.clone() } else { args };
    if let Some(unknown) = selected.iter().find(|c| !all.contains(c)) {
        eprintln!(
            "regen-fixtures: no fixtures/{unknown}/setup.sql (cases: {})",
            all.join(", ")
        );
        return ExitCode::FAILURE;
    }
    pgsr_e2e::build_pgsr();
    for case in &selected {
        let out = regenerate(case, &fixtures_dir().join(case));
        eprintln!(
            "regen-fixtures: {case}: wrote {} (PostgreSQL {FIXTURE_MAJOR})",
            out.display()
        );
    }
    ExitCode::SUCCESS
}
