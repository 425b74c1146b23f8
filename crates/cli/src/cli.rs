//! Command-line arguments.

use clap::{Args as ClapArgs, Parser, Subcommand};
use pgsr_executor::wait::Timeouts;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "pgsr",
    version,
    about = "Keep PostgreSQL roles and privileges exactly as declared"
)]
pub struct Args {
    /// Colour on terminals: never, auto (a terminal, and NO_COLOR unset),
    /// always.
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = crate::color::When::Auto, global = true)]
    pub color: crate::color::When,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(ClapArgs, Debug)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(ClapArgs, Debug)]
pub struct ManArgs {
    /// Write pgsr.1 and a page per command (pgsr-plan.1, …) in this
    /// directory instead of pgsr.1 on standard output.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Read the catalog into a snapshot (JSON).
    Inspect(InspectArgs),
    /// Plan the SQL that makes the catalog match the desired file.
    Plan(PlanArgs),
    /// Apply a plan made by `pgsr plan`, if the catalog has not changed since.
    Apply(ApplyArgs),
    /// Print the summary of a plan made by `pgsr plan` (read only, no
    /// connection).
    Show(ShowArgs),
    /// Plan and apply in one step (pg-sync-roles' sync_roles).
    Sync(SyncArgs),
    /// Who can do what, and how: roles, a role's privileges, an object's
    /// holders, or a desired file checked against the catalog (read only).
    Inventory(InventoryArgs),
    /// Write a desired file describing what roles hold today (read only):
    /// its plan against the same catalog is empty.
    Generate(GenerateArgs),
    /// Print shell completions for pgsr (bash, zsh, fish, …).
    Completions(CompletionsArgs),
    /// Print the manual page (or write every page with --dir).
    Man(ManArgs),
}

#[derive(ClapArgs, Debug)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Read this snapshot instead of connecting.
    #[arg(long, value_name = "FILE", conflicts_with = "db")]
    pub snapshot: Option<PathBuf>,
    /// Only the roles whose whole name matches this regex (default: every
    /// role but PostgreSQL's own, pgsr's intermediate roles and the
    /// connecting role).
    #[arg(long, value_name = "REGEX")]
    pub roles: Option<String>,
    /// Write the desired file here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(ClapArgs, Debug)]
pub struct ShowArgs {
    /// The plan (SQL script).
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// text (the default) or json.
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
}

#[derive(ClapArgs, Debug)]
pub struct InventoryArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Read this snapshot instead of connecting.
    #[arg(long, value_name = "FILE", conflicts_with = "db")]
    pub snapshot: Option<PathBuf>,
    /// Check this desired file against the catalog.
    #[arg(short = 'f', long = "file", value_name = "FILE", conflicts_with_all = ["role", "object"])]
    pub file: Option<PathBuf>,
    /// Every privilege this role holds, and how.
    #[arg(long, value_name = "NAME", conflicts_with = "object")]
    pub role: Option<String>,
    /// Who holds what on this object: `schema.table`, `schema.table.column`,
    /// a schema's name, or `kind:name` (`database:app`, `function:s.f`, …).
    #[arg(long, value_name = "OBJECT")]
    pub object: Option<String>,
    /// Every role's privileges beyond what PUBLIC holds (superusers, who
    /// hold everything, left out).
    #[arg(long, conflicts_with_all = ["role", "object", "file"])]
    pub all: bool,
    /// Also show PostgreSQL's own `pg_*` roles, and objects in its own
    /// schemas (`pg_catalog`, `information_schema`).
    #[arg(long)]
    pub include_system: bool,
    /// table (the default), json, csv or markdown.
    #[arg(long, value_name = "FORMAT", default_value = "table", value_parser = ["table", "json", "csv", "markdown"])]
    pub format: String,
    /// With -f: exit 2 when something configured is not satisfied or a role
    /// not in the file has access.
    #[arg(long)]
    pub exit_code: bool,
    /// Write here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
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

/// How long `apply` and `sync` wait. A DURATION is a number with a unit,
/// `ms`, `s`, `min` or `h` (`500ms`, `60s`, `2min`), or plain seconds;
/// 0 is no limit.
#[derive(ClapArgs, Debug, Clone)]
pub struct TimeoutArgs {
    /// Give up when the advisory lock (held by another pgsr or
    /// pg-sync-roles run) is not free within DURATION.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub lock_timeout: Duration,
    /// Give up when a statement waits longer than DURATION for a lock on an
    /// object it changes (PostgreSQL's lock_timeout): `ALTER … OWNER`
    /// behind a long transaction would otherwise block every new reader of
    /// that table.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub object_lock_timeout: Duration,
    /// Cancel a statement that runs longer than DURATION (PostgreSQL's
    /// statement_timeout). Without it, the server's setting holds.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub statement_timeout: Option<Duration>,
}

impl TimeoutArgs {
    pub fn timeouts(&self) -> Timeouts {
        let limit = |d: Duration| (!d.is_zero()).then_some(d);
        Timeouts {
            advisory_lock: limit(self.lock_timeout),
            lock: limit(self.object_lock_timeout),
            statement: self.statement_timeout,
        }
    }
}

/// The longest timeout PostgreSQL takes: `i32::MAX` milliseconds.
const MAX_TIMEOUT_MS: u128 = i32::MAX as u128;

/// `60s`, `500ms`, `2min`, `1h`, `1.5s`, or plain seconds (`60`).
fn parse_suffix(text: &str) -> Result<String, String> {
    pgsr_planner::desired::check_suffix(text).map(|()| text.to_owned())
}

pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "min" => 60.0,
        "h" => 3600.0,
        "m" => {
            return Err("`m` is ambiguous: use `min` for minutes or `ms` for milliseconds".into())
        }
        other => {
            return Err(format!(
                "unknown unit `{other}`: use ms, s, min or h (e.g. 500ms, 60s, 2min)"
            ))
        }
    };
    let value: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("expected a duration such as 60s, 500ms or 2min, found `{text}`"))?;
    let duration = Duration::from_secs_f64(value * scale);
    if duration.as_millis() > MAX_TIMEOUT_MS {
        return Err("too long: at most 596h (PostgreSQL's limit)".into());
    }
    Ok(duration)
}

#[derive(ClapArgs, Debug)]
pub struct InspectArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Write the snapshot here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Read every database that allows connections and is not a template
    /// into one snapshot, a section per database.
    #[arg(long)]
    pub all_databases: bool,
    #[command(flatten)]
    pub jobs: JobsArgs,
}

/// How many databases are read at once.
#[derive(ClapArgs, Debug, Clone, Copy)]
pub struct JobsArgs {
    /// With several databases: read this many at once, each on its own
    /// connection.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
}

#[derive(ClapArgs, Debug)]
pub struct PlanArgs {
    /// The desired state (YAML or JSON); `-` reads standard input.
    #[arg(short = 'f', long = "file", value_name = "FILE", env = "PGSR_FILE")]
    pub file: PathBuf,
    /// Plan from this snapshot (made by `pgsr inspect`) instead of a database.
    #[arg(long, value_name = "FILE", conflicts_with = "db")]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub db: DbArgs,
    /// Write the plan here instead of standard output (its summary goes to
    /// standard error when that is a terminal).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// sql (the default: the script `apply` runs) or json (the same plan as
    /// a document for CI: header, summary, statements).
    #[arg(long, value_name = "FORMAT", default_value = "sql", value_parser = ["sql", "json"])]
    pub format: String,
    /// Exit 2 when the plan has changes, 0 when it has none.
    #[arg(long)]
    pub exit_code: bool,
    /// Grants on objects that do not exist are errors, not skips.
    #[arg(long)]
    pub strict: bool,
    /// Also drop intermediate roles that no longer hold any privilege.
    #[arg(long)]
    pub drop_unused: bool,
    /// PUM's per-database roles: each role without a login holds its
    /// privileges here through `<role>_<SUFFIX>` (overrides the desired
    /// file's `suffix`).
    #[arg(long, value_name = "SUFFIX", value_parser = parse_suffix)]
    pub suffix: Option<String>,
    /// With --db: read the whole catalog, not only the part the desired
    /// file can touch.
    #[arg(long)]
    pub full_scope: bool,
    /// Set every declared password, even one known to be current; with
    /// --exit-code, a plan that only sets passwords counts as changes.
    #[arg(long)]
    pub reset_passwords: bool,
    #[command(flatten)]
    pub jobs: JobsArgs,
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
    /// The snapshot the plan was made from: when the plan is stale, says
    /// what changed, one line per kind of object.
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
    #[command(flatten)]
    pub timeouts: TimeoutArgs,
}

#[derive(ClapArgs, Debug)]
pub struct SyncArgs {
    /// The desired state (YAML or JSON); `-` reads standard input.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        env = "PGSR_FILE",
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
    /// PUM's per-database roles: each role without a login holds its
    /// privileges here through `<role>_<SUFFIX>` (overrides the desired
    /// file's `suffix`).
    #[arg(long, value_name = "SUFFIX", value_parser = parse_suffix)]
    pub suffix: Option<String>,
    /// Read the whole catalog, not only the part the desired file can touch.
    #[arg(long)]
    pub full_scope: bool,
    /// Set every declared password, even one known to be current.
    #[arg(long)]
    pub reset_passwords: bool,
    #[command(flatten)]
    pub jobs: JobsArgs,
    #[command(flatten)]
    pub timeouts: TimeoutArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ok = |t: &str| parse_duration(t).unwrap_or_else(|e| panic!("{t}: {e}"));
        assert_eq!(ok("60s"), Duration::from_secs(60));
        assert_eq!(ok("60"), Duration::from_secs(60));
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok("2min"), Duration::from_secs(120));
        assert_eq!(ok("1h"), Duration::from_secs(3600));
        assert_eq!(ok("1.5s"), Duration::from_millis(1500));
        assert_eq!(ok(" 10 s "), Duration::from_secs(10));
        assert_eq!(ok("0"), Duration::ZERO);
        for bad in [
            "",
            "s",
            "-1s",
            "1m",
            "1d",
            "1.2.3s",
            "ten seconds",
            "1e3s",
            "600h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn the_arguments_are_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }
}
