//! Benchmark of `pgsr inspect` on a large catalog (see BENCHMARKS.md):
//!
//! ```text
//! cargo run --release -p pgsr-e2e --bin bench-inspect -- --tables 100000
//! ```
//!
//! Starts a throwaway cluster, creates `--tables` tables spread over ten
//! schemas, each with ACL entries for one of `--roles` roles and for a
//! reporting role, and times `--runs` runs of the release `pgsr inspect`
//! (after one warm-up run), reporting wall time, peak RSS and snapshot size.
//! A measurement, not a test: it asserts nothing about the times. `--hold`
//! keeps the cluster running afterwards (until standard input ends), for
//! profiling.

use pgsr_e2e::{pgsr_bin, Pg};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SCHEMAS: usize = 10;
/// Tables created per transaction (each holds a lock per table until commit).
const BATCH: usize = 1000;

struct Options {
    tables: usize,
    roles: usize,
    runs: usize,
    major: u32,
    /// Keep the cluster up after measuring, until standard input ends.
    hold: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        tables: 100_000,
        roles: 100,
        runs: 5,
        major: 15,
        hold: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = |name: &str| -> Result<usize, String> {
            args.next()
                .ok_or_else(|| format!("{name} needs a value"))?
                .parse()
                .map_err(|e| format!("{name}: {e}"))
        };
        match flag.as_str() {
            "--tables" => o.tables = value("--tables")?,
            "--roles" => o.roles = value("--roles")?.max(1),
            "--runs" => o.runs = value("--runs")?.max(1),
            "--major" => o.major = value("--major")? as u32,
            "--hold" => o.hold = true,
            _ => {
                return Err(format!(
                    "unknown argument {flag:?}\nusage: bench-inspect [--tables N] [--roles N] [--runs N] [--major N] [--hold]"
                ))
            }
        }
    }
    Ok(o)
}

fn main() {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bench-inspect: {e}");
            std::process::exit(2);
        }
    };
    if cfg!(debug_assertions) {
        eprintln!("bench-inspect: warning: a debug build; run with `cargo run --release` for figures worth reporting");
    }
    pgsr_e2e::build_pgsr();

    let pg = Pg::start_with(
        o.major,
        &[
            ("shared_buffers", "256MB"),
            ("max_locks_per_transaction", "1024"),
            ("autovacuum", "off"),
        ],
    );
    let created = Instant::now();
    populate(&pg, &o);
    eprintln!(
        "bench-inspect: created {} tables in {:.1} s",
        o.tables,
        created.elapsed().as_secs_f64()
    );

    // Per-statement resource usage in the server log gives the CPU time of
    // pgsr's backend, which the wall time on a shared machine hides.
    pg.execute("postgres", "ALTER SYSTEM SET log_statement_stats = on");
    pg.execute("postgres", "SELECT pg_reload_conf()");

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snapshot.json");
    let conninfo = pg.conninfo("postgres", "postgres");
    let warm = run_inspect(&pg, &conninfo, &out);
    let size = std::fs::metadata(&out).unwrap().len();
    let relations = count_relations(&out);
    eprintln!(
        "bench-inspect: warm-up run {:.2} s",
        warm.wall.as_secs_f64()
    );
    let load_before = load_average();
    let runs: Vec<Run> = (0..o.runs)
        .map(|_| run_inspect(&pg, &conninfo, &out))
        .collect();
    let load_after = load_average();

    let mut walls: Vec<f64> = runs.iter().map(|r| r.wall.as_secs_f64()).collect();
    walls.sort_by(f64::total_cmp);
    let median = walls[walls.len() / 2];
    let peak_rss = runs.iter().filter_map(|r| r.peak_rss_kib).max();
    let median_of = |f: &dyn Fn(&Run) -> Option<f64>| {
        let mut v: Vec<f64> = runs.iter().filter_map(f).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied()
    };
    let client_cpu = median_of(&|r| r.client_cpu);
    let server_cpu = median_of(&|r| r.server_cpu);
    println!("PostgreSQL {} ({})", o.major, server_version(&pg));
    println!(
        "tables: {} in {SCHEMAS} schemas, {} roles; relations in the snapshot: {relations}",
        o.tables, o.roles
    );
    println!(
        "snapshot: {} bytes ({:.1} MiB)",
        size,
        size as f64 / (1024.0 * 1024.0)
    );
    println!(
        "wall time over {} runs: min {:.2} s, median {median:.2} s, max {:.2} s",
        runs.len(),
        walls[0],
        walls[walls.len() - 1]
    );
    match peak_rss {
        Some(kib) => println!("peak RSS: {:.0} MiB", kib as f64 / 1024.0),
        None => println!("peak RSS: not measured"),
    }
    let secs = |v: Option<f64>| v.map_or("not measured".to_owned(), |v| format!("{v:.2} s"));
    println!(
        "CPU time (median): pgsr {}, its server backend {}",
        secs(client_cpu),
        secs(server_cpu)
    );
    println!("load average (1 min) before and after the runs: {load_before} / {load_after}");
    if o.hold {
        // For profiling: the cluster stays up until standard input ends.
        println!("holding the cluster: pgsr inspect --db \"{conninfo}\"");
        let mut sink = String::new();
        while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
    }
}

/// Roles, schemas and tables. Tables are made by server-side loops, one
/// transaction per [`BATCH`], on two connections at once.
fn populate(pg: &Pg, o: &Options) {
    let mut setup = String::from("CREATE ROLE reporting;");
    for r in 0..o.roles {
        setup += &format!("CREATE ROLE r{r};");
    }
    for s in 0..SCHEMAS {
        setup += &format!("CREATE SCHEMA bench_{s}; GRANT USAGE ON SCHEMA bench_{s} TO reporting;");
    }
    pg.execute("postgres", &setup);
    let batches: Vec<(usize, usize)> = (0..o.tables)
        .step_by(BATCH)
        .map(|start| (start, (start + BATCH).min(o.tables)))
        .collect();
    std::thread::scope(|scope| {
        for worker in 0..2 {
            let batches = &batches;
            scope.spawn(move || {
                let mut client = pg.superuser("postgres");
                for &(start, end) in batches.iter().skip(worker).step_by(2) {
                    let sql = format!(
                        "DO $$ BEGIN
                           FOR i IN {start}..{last} LOOP
                             EXECUTE format(
                               'CREATE TABLE bench_%s.t_%s (id bigint, payload text); \
                                GRANT SELECT ON bench_%s.t_%s TO r%s; \
                                GRANT SELECT, INSERT ON bench_%s.t_%s TO reporting',
                               i % {SCHEMAS}, i, i % {SCHEMAS}, i, i % {roles}, i % {SCHEMAS}, i);
                           END LOOP;
                         END $$",
                        last = end - 1,
                        roles = o.roles,
                    );
                    client
                        .batch_execute(&sql)
                        .unwrap_or_else(|e| panic!("creating tables {start}..{end}: {e:?}"));
                }
            });
        }
    });
    // A steady state: what autovacuum would have done by now.
    pg.execute("postgres", "VACUUM ANALYZE");
}

struct Run {
    wall: Duration,
    peak_rss_kib: Option<u64>,
    /// User plus system time of pgsr.
    client_cpu: Option<f64>,
    /// User plus system time of the backend serving it.
    server_cpu: Option<f64>,
}

/// One `pgsr inspect -o <out>`, under `/usr/bin/time` for the peak RSS and
/// CPU time when it is installed.
fn run_inspect(pg: &Pg, conninfo: &str, out: &Path) -> Run {
    let time = Path::new("/usr/bin/time");
    let log_start = pg.server_log().len();
    let mut cmd = if time.exists() {
        let mut c = Command::new(time);
        c.arg("-f").arg("maxrss=%M cpu=%U+%S").arg(pgsr_bin());
        c
    } else {
        Command::new(pgsr_bin())
    };
    cmd.args(["inspect", "--db", conninfo, "-o"])
        .arg(out)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null());
    let started = Instant::now();
    let output = cmd.output().expect("run pgsr");
    let wall = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "pgsr inspect failed: {stderr}");
    let stats = stderr.lines().find_map(|l| l.strip_prefix("maxrss="));
    let peak_rss_kib = stats
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok());
    let client_cpu = stats
        .and_then(|v| v.split_once("cpu="))
        .and_then(|(_, cpu)| cpu.trim().split_once('+'))
        .and_then(|(u, s)| Some(u.parse::<f64>().ok()? + s.parse::<f64>().ok()?));
    let server_cpu = backend_cpu(&pg.server_log()[log_start..]);
    eprintln!(
        "bench-inspect: run {:.2} s{}{}{}",
        wall.as_secs_f64(),
        peak_rss_kib
            .map(|k: u64| format!(", peak RSS {} MiB", k / 1024))
            .unwrap_or_default(),
        client_cpu
            .map(|c| format!(", pgsr CPU {c:.2} s"))
            .unwrap_or_default(),
        server_cpu
            .map(|c| format!(", backend CPU {c:.2} s"))
            .unwrap_or_default()
    );
    Run {
        wall,
        peak_rss_kib,
        client_cpu,
        server_cpu,
    }
}

/// The session's CPU time from `log_statement_stats` output: the running
/// total (`[u s user, s s system total]`) after its last statement.
fn backend_cpu(log: &str) -> Option<f64> {
    let line = log.lines().rev().find(|l| l.contains("s system total]"))?;
    let inside = line.split_once('[')?.1;
    let mut numbers = inside
        .split_whitespace()
        .filter_map(|w| w.trim_end_matches(',').parse::<f64>().ok());
    Some(numbers.next()? + numbers.next()?)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

fn count_relations(path: &Path) -> usize {
    let bytes = std::fs::read(path).unwrap();
    let snapshot = pgsr_planner::snapshot::from_json(&bytes).expect("a valid snapshot");
    snapshot.catalog.relations.len()
}

fn server_version(pg: &Pg) -> String {
    pg.superuser("postgres")
        .query_one("SHOW server_version", &[])
        .map(|r| r.get(0))
        .unwrap_or_default()
}
