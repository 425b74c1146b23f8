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
    /// Plan the SQL that makes the catalog match the desired file.
    Plan(PlanArgs),
    /// Apply a plan made by `pgsr plan`, if the catalog has not changed since.
    Apply(ApplyArgs),
    /// Plan and apply in one step (pg-sync-roles' sync_roles).
    Sync(SyncArgs),
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

/// The plan key: plans are signed with it, and only plans signed with it
/// are applied.
#[derive(ClapArgs, Debug, Clone)]
pub struct KeyArgs {
    /// A file holding the plan key (at least 16 bytes). Without it,
    /// PGSR_PLAN_KEY holds the key, if set.
    #[arg(long, value_name = "FILE")]
    pub plan_key_file: Option<PathBuf>,
}

#[derive(ClapArgs, Debug)]
pub struct InspectArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Write the snapshot here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(ClapArgs, Debug)]
pub struct PlanArgs {
    /// The desired state (YAML or JSON).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: PathBuf,
    /// Plan from this snapshot (made by `pgsr inspect`) instead of a database.
    #[arg(long, value_name = "FILE", conflicts_with = "db")]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub db: DbArgs,
    /// Write the plan here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 2 when the plan has changes, 0 when it has none.
    #[arg(long)]
    pub exit_code: bool,
    /// Grants on objects that do not exist are errors, not skips.
    #[arg(long)]
    pub strict: bool,
    /// Also drop intermediate roles that no longer hold any privilege.
    #[arg(long)]
    pub drop_unused: bool,
    /// With --db: read the whole catalog, not only the part the desired
    /// file can touch.
    #[arg(long)]
    pub full_scope: bool,
    /// Set every declared password, even one known to be current; with
    /// --exit-code, a plan that only sets passwords counts as changes.
    #[arg(long)]
    pub reset_passwords: bool,
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(ClapArgs, Debug)]
pub struct ApplyArgs {
    /// The plan script.
    #[arg(value_name = "SCRIPT")]
    pub script: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
    /// The snapshot the plan was made from: shows what changed when the
    /// plan is stale.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Apply only if the plan's checksum is this one (`sha256:…`, from the
    /// reviewed plan's header).
    #[arg(long, value_name = "CHECKSUM")]
    pub expect_checksum: Option<String>,
    /// The desired file the plan was made from: needed only when it gives
    /// a password literally (`password:`).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(ClapArgs, Debug)]
pub struct SyncArgs {
    /// The desired state (YAML or JSON).
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        required_unless_present = "stdin_batch"
    )]
    pub file: Option<PathBuf>,
    /// Sync one desired document per line of standard input (JSON, or YAML
    /// in flow style), on one connection, and write one JSON result per
    /// document to standard output. Exits 1 if any document failed.
    #[arg(long, conflicts_with_all = ["file", "dry_run"])]
    pub stdin_batch: bool,
    #[command(flatten)]
    pub db: DbArgs,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Grants on objects that do not exist are errors, not skips.
    #[arg(long)]
    pub strict: bool,
    /// Also drop intermediate roles that no longer hold any privilege.
    #[arg(long)]
    pub drop_unused: bool,
    /// Advisory lock key (overrides the desired file's `lock_key`).
    #[arg(long, value_name = "KEY", allow_negative_numbers = true)]
    pub lock_key: Option<i64>,
    /// Read the whole catalog, not only the part the desired file can touch.
    #[arg(long)]
    pub full_scope: bool,
    /// Set every declared password, even one known to be current.
    #[arg(long)]
    pub reset_passwords: bool,
}
