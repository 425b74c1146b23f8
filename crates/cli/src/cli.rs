//! Command-line arguments.

use clap::{Args as ClapArgs, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "pgsr",
    version,
    about = "Keep PostgreSQL roles and privileges exactly as declared"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Read the catalog into a snapshot (JSON).
    Inspect(InspectArgs),
}

/// Where to connect. Without --db: DATABASE_URL, then the libpq environment
/// variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, ...).
#[derive(ClapArgs, Debug, Clone)]
pub struct DbArgs {
    /// A postgresql:// URI or a key=value connection string.
    #[arg(
        long,
        value_name = "CONNINFO",
        env = "DATABASE_URL",
        hide_env_values = true
    )]
    pub db: Option<String>,
}

#[derive(ClapArgs, Debug)]
pub struct InspectArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Write the snapshot here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}
