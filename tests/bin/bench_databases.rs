//! Benchmark of multi-database plans (see BENCHMARKS.md):
//!
//! ```text
//! cargo run --release -p pgsr-e2e --bin bench-databases -- --databases 50 --tables 2000 --roles 200
//! ```
//!
//! Starts a throwaway cluster with `--roles` roles and `--databases`
//! databases made from one template of `--tables` tables in ten schemas
//! (table `i` in schema `bench_{i % 10}`, readable by role `r{i % roles}`).
//! The desired file manages every database (`"*"`): role `r{j}` reads
//! every table of schema `bench_{j % 10}`, so each database's part grants
//! what the template did not. Times, with the release `pgsr`:
//! `inspect --all-databases` with `--jobs 1` and `--jobs 4`; `plan` from
//! that snapshot; `apply` of the plan; and `sync` with nothing left to do
//! with `--jobs 1` and `--jobs 4`. A measurement, not a test: it asserts
//! only that each command succeeds and that the second plan is empty.

use pgsr_e2e::{pgsr_bin, Pg};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const SCHEMAS: usize = 10;

struct Options {
    databases: usize,
    tables: usize,
    roles: usize,
    major: u32,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        databases: 50,
        tables: 2000,
        roles: 200,
        major: 15,
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
            "--databases" => o.databases = value("--databases")?.max(1),
            "--tables" => o.tables = value("--tables")?,
            "--roles" => o.roles = value("--roles")?.max(1),
            "--major" => o.major = value("--major")? as u32,
            _ => {
                return Err(format!(
                    "unknown argument {flag:?}\nusage: bench-databases [--databases N] [--tables N] [--roles N] [--major N]"
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
            eprintln!("bench-databases: {e}");
            std::process::exit(2);
        }
    };
    if cfg!(debug_assertions) {
        eprintln!("bench-databases: warning: a debug build; run with `cargo run --release` for figures worth reporting");
    }
    pgsr_e2e::build_pgsr();
    let pg = Pg::start_with(
        o.major,
        &[
            ("shared_buffers", "256MB"),
            ("max_locks_per_transaction", "1024"),
            ("max_connections", "100"),
            ("autovacuum", "off"),
        ],
    );
    let created = Instant::now();
    populate(&pg, &o);
    eprintln!(
        "bench-databases: created {} databases of {} tables in {:.1} s",
        o.databases,
        o.tables,
        created.elapsed().as_secs_f64()
    );
    let dir = tempfile::tempdir().unwrap();
    let desired = dir.path().join("desired.yaml");
    std::fs::write(&desired, desired_file(&o)).unwrap();
    let desired = desired.to_str().unwrap();
    let conninfo = pg.conninfo("postgres", "postgres");
    let snapshot = dir.path().join("cluster.json");
    let snapshot = snapshot.to_str().unwrap();
    let script = dir.path().join("change.sql");
    let script = script.to_str().unwrap();

    println!("PostgreSQL {}", o.major);
    println!(
        "{} databases x {} tables in {SCHEMAS} schemas, {} roles",
        o.databases, o.tables, o.roles
    );
    for jobs in ["1", "4"] {
        let r = run(
            &conninfo,
            &["inspect", "--all-databases", "--jobs", jobs, "-o", snapshot],
        );
        let size = std::fs::metadata(snapshot).unwrap().len();
        println!(
            "inspect --all-databases --jobs {jobs}: {:.2} s, peak RSS {}, snapshot {:.1} MiB",
            r.0,
            r.1,
            size as f64 / (1024.0 * 1024.0)
        );
    }
    let r = run(
        &conninfo,
        &["plan", "--snapshot", snapshot, "-f", desired, "-o", script],
    );
    let text = std::fs::read_to_string(script).unwrap();
    let statements = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with("--"))
        .count();
    println!(
        "plan --snapshot (pure): {:.2} s, peak RSS {}, {statements} statements",
        r.0, r.1
    );
    let r = run(&conninfo, &["apply", script]);
    println!("apply (one part at a time): {:.2} s, peak RSS {}", r.0, r.1);
    for jobs in ["1", "4"] {
        let r = run(&conninfo, &["sync", "-f", desired, "--jobs", jobs]);
        println!(
            "sync --jobs {jobs}, nothing left to do: {:.2} s, peak RSS {}",
            r.0, r.1
        );
    }
    let again = Command::new(pgsr_bin())
        .args(["plan", "--exit-code", "-f", desired, "--db", &conninfo])
        .env_remove("DATABASE_URL")
        .output()
        .expect("run pgsr");
    assert!(
        again.status.success(),
        "the plan after apply is not empty: {}",
        String::from_utf8_lossy(&again.stderr)
    );
    println!("load average (1 min) at the end: {}", load_average());
}

/// The roles, a template database of `tables` tables, and the databases
/// made from it.
fn populate(pg: &Pg, o: &Options) {
    let mut setup = String::new();
    for r in 0..o.roles {
        setup += &format!("CREATE ROLE r{r};");
    }
    setup += "CREATE DATABASE bench_template;";
    for statement in setup.split_inclusive(';') {
        pg.execute("postgres", statement);
    }
    let mut schema = String::new();
    for s in 0..SCHEMAS {
        schema += &format!("CREATE SCHEMA bench_{s};");
    }
    pg.execute("bench_template", &schema);
    for start in (0..o.tables).step_by(1000) {
        let last = (start + 1000).min(o.tables) - 1;
        pg.execute(
            "bench_template",
            &format!(
                "DO $$ BEGIN
                   FOR i IN {start}..{last} LOOP
                     EXECUTE format(
                       'CREATE TABLE bench_%s.t_%s (id bigint); GRANT SELECT ON bench_%s.t_%s TO r%s',
                       i % {SCHEMAS}, i, i % {SCHEMAS}, i, i % {roles});
                   END LOOP;
                 END $$",
                roles = o.roles
            ),
        );
    }
    pg.execute("bench_template", "VACUUM ANALYZE");
    // A template: `"*"` leaves it out.
    pg.execute("postgres", "ALTER DATABASE bench_template IS_TEMPLATE true");
    for d in 0..o.databases {
        pg.execute(
            "postgres",
            &format!("CREATE DATABASE db_{d:02} TEMPLATE bench_template"),
        );
    }
}

fn desired_file(o: &Options) -> String {
    let mut text = String::from("databases: {exclude: [postgres]}\nroles:\n");
    for r in 0..o.roles {
        let s = r % SCHEMAS;
        text += &format!(
            "  - name: r{r}\n    grants:\n      - schema_usage: {{schema: bench_{s}, direct: true}}\n      - grant: {{privileges: [SELECT], on: tables, schema: bench_{s}, all: true}}\n"
        );
    }
    text
}

/// Runs the release `pgsr` with `args`, under `/usr/bin/time` when it is
/// installed: the wall time in seconds and the peak RSS.
fn run(conninfo: &str, args: &[&str]) -> (f64, String) {
    let time = Path::new("/usr/bin/time");
    let mut cmd = if time.exists() {
        let mut c = Command::new(time);
        c.arg("-f").arg("maxrss=%M").arg(pgsr_bin());
        c
    } else {
        Command::new(pgsr_bin())
    };
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null());
    // `plan --snapshot` does not connect.
    if args[0] != "plan" {
        cmd.arg("--db").arg(conninfo);
    }
    let started = Instant::now();
    let output = cmd.output().expect("run pgsr");
    let wall = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "pgsr {args:?} failed: {stderr}");
    let rss = stderr
        .lines()
        .find_map(|l| l.strip_prefix("maxrss="))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or("not measured".to_owned(), |kib| {
            format!("{} MiB", kib / 1024)
        });
    eprintln!("bench-databases: pgsr {} {:.2} s", args[0], wall);
    (wall, rss)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}
