//! Never waiting forever, never hiding a hang: the advisory lock
//! (`--lock-timeout`), each statement's wait for locks
//! (`--object-lock-timeout`), long statements (`--statement-timeout`), and
//! a server that accepts a connection and never answers (`connect_timeout`).
//! A wait of more than a second is said on standard error while it lasts;
//! a timeout exits 1 naming what was waited for, and nothing is applied.

mod support;

use pgsr_e2e::{pg_test, Pg};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

/// A superuser session in an open transaction that ran `sql`: it holds
/// what `sql` locked until it is dropped.
struct Holder {
    client: postgres::Client,
    pid: i32,
}

impl Holder {
    fn new(pg: &Pg, sql: &str) -> Holder {
        let mut client = pg.superuser("postgres");
        client.batch_execute("BEGIN").unwrap();
        client
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let pid = client
            .query_one("SELECT pg_backend_pid()", &[])
            .unwrap()
            .get(0);
        Holder { client, pid }
    }

    fn release(mut self) {
        self.client.batch_execute("COMMIT").unwrap();
    }
}

/// Runs `args` in the background, and checks that while it runs it says
/// that it waits for `what`, held by `holder`.
#[track_caller]
fn says_it_waits(pg: &Pg, args: &[&str], what: &str, holder: &Holder) -> Live {
    let mut run = Live::spawn(pgsr_command(pg, "postgres", "postgres", args));
    let line = run
        .next_line(Duration::from_secs(20))
        .unwrap_or_else(|| panic!("pgsr {args:?} said nothing while it waited"));
    assert!(
        line.starts_with(&format!(
            "pgsr: waiting for {what}, held by pid {} (",
            holder.pid
        )),
        "pgsr {args:?}: {line}"
    );
    assert!(line.contains(" so far; gives up after "), "{line}");
    assert!(
        run.running(),
        "pgsr {args:?} said it waits, but had finished: {line}"
    );
    run
}

// ---------------------------------------------------------------------------
// The advisory lock

pg_test!(fn the_advisory_lock_is_waited_for_a_bounded_time_and_said(pg) {
    let f = Files::new();
    let file = f.write("r.yaml", &doc(&[role("r", &[])]));
    let sync_args = ["sync", "-f", path_str(&file), "--lock-timeout", "3s"];

    // Held all along: pgsr says what it waits for, then gives up, naming
    // the lock and who holds it; nothing is applied.
    let holder = Holder::new(pg, "SELECT pg_advisory_xact_lock(1)");
    let started = Instant::now();
    let run = says_it_waits(pg, &sync_args, "advisory lock 1", &holder);
    let out = run.finish(Duration::from_secs(30));
    let took = started.elapsed();
    no_panic(&out);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "the waiting line, then the error:\n{}", out.stderr);
    assert!(
        lines[1].starts_with(&format!(
            "pgsr: error: timed out after 3 s waiting for advisory lock 1, held by pid {} (",
            holder.pid
        )) && lines[1].ends_with("(--lock-timeout): another pgsr or pg-sync-roles run holds it; nothing was applied"),
        "{}",
        out.stderr
    );
    assert!(took >= Duration::from_secs(3) && took < Duration::from_secs(15), "took {took:?}");
    assert!(!role_exists(pg, "r"));

    // apply too, with the plan's lock key.
    let plan = f.path("p.sql");
    pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&file), "-o", path_str(&plan)])
        .expect_code(0);
    let out = pg.pgsr("postgres", "postgres", &["apply", path_str(&plan), "--lock-timeout", "1500ms"]);
    no_panic(&out);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("pgsr: error: {}: timed out after 1.5 s waiting for advisory lock 1, held by pid {}", path_str(&plan), holder.pid)),
        "{}",
        out.stderr
    );
    assert!(!role_exists(pg, "r"));

    // Released while pgsr waits: it says it waited, then applies.
    let run = says_it_waits(pg, &["sync", "-f", path_str(&file), "--lock-timeout", "60s"], "advisory lock 1", &holder);
    holder.release();
    let out = run.finish(Duration::from_secs(30));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(role_exists(pg, "r"));
});

// The wait for the advisory lock is not bounded by --statement-timeout,
// which still bounds the statements after it.
pg_test!(fn statement_timeout_bounds_statements_not_the_lock_wait(pg) {
    pg.execute("postgres", "CREATE SCHEMA s;");
    pg.execute(
        "postgres",
        "CREATE FUNCTION public.slow_grants() RETURNS event_trigger LANGUAGE plpgsql AS $$
         BEGIN PERFORM pg_sleep(120); END $$;
         CREATE EVENT TRIGGER slow_grants ON ddl_command_start WHEN TAG IN ('GRANT')
             EXECUTE FUNCTION public.slow_grants();",
    );
    let f = Files::new();
    let file = f.write("r.yaml", &doc(&[role("r", &["schema_usage: { schema: s, direct: true }"])]));
    let holder = Holder::new(pg, "SELECT pg_advisory_xact_lock(1)");
    let mut run = says_it_waits(
        pg,
        &["sync", "-f", path_str(&file), "--statement-timeout", "2s"],
        "advisory lock 1",
        &holder,
    );
    // Longer than the statement timeout.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(run.running(), "the lock wait was cut short:\n{}", run.seen.join("\n"));
    holder.release();
    let out = run.finish(Duration::from_secs(30));
    no_panic(&out);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("pgsr: error: the statement")
            && last.ends_with("were cancelled: ERROR: canceling statement due to statement timeout (--statement-timeout 2 s); nothing was applied"),
        "{}",
        out.stderr
    );
    assert!(!role_exists(pg, "r"));
});

// ---------------------------------------------------------------------------
// Locks on the objects a plan changes

// `ALTER TABLE … OWNER TO` needs ACCESS EXCLUSIVE. Behind a transaction
// that holds even ACCESS SHARE, it waits, and every new reader of the table
// queues behind it: pgsr gives up after --object-lock-timeout (10 s by
// default), naming the table and who holds it, and the readers go on.
pg_test!(fn a_statement_waits_for_object_locks_a_bounded_time_and_says_so(pg) {
    pg.execute("postgres", "CREATE SCHEMA s; CREATE TABLE s.t (i int); INSERT INTO s.t VALUES (1);");
    let f = Files::new();
    let file = f.write("o.yaml", &doc(&[role("o", &["table_ownership: { schema: s, table: t }"])]));
    let reader = Holder::new(pg, "LOCK TABLE s.t IN ACCESS SHARE MODE");
    let what = "AccessExclusiveLock on table s.t";

    let started = Instant::now();
    let run = says_it_waits(pg, &["sync", "-f", path_str(&file), "--object-lock-timeout", "3s"], what, &reader);
    // A new reader queues behind pgsr's wait, and goes on when pgsr gives up.
    let mut other = pg.superuser("postgres");
    let read = std::thread::spawn(move || {
        let started = Instant::now();
        other.batch_execute("SELECT * FROM s.t").expect("a new reader reads");
        started.elapsed()
    });
    let out = run.finish(Duration::from_secs(30));
    let took = started.elapsed();
    no_panic(&out);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "the waiting line, then the error:\n{}", out.stderr);
    assert!(
        lines[1].starts_with("pgsr: error: the statement")
            && lines[1].contains(&format!(" timed out after 3 s waiting for {what}, held by pid {} (", reader.pid))
            && lines[1].ends_with("(--object-lock-timeout): nothing was applied"),
        "{}",
        out.stderr
    );
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let waited = read.join().unwrap();
    assert!(waited < Duration::from_secs(10), "the new reader waited {waited:?}");
    assert!(!role_exists(pg, "o"), "nothing was applied");
    assert_eq!(relation_owner(pg, "postgres", "s.t"), "postgres");

    // apply, with the default of 10 s.
    let plan = f.path("p.sql");
    pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&file), "-o", path_str(&plan)])
        .expect_code(0);
    let started = Instant::now();
    let run = says_it_waits(pg, &["apply", path_str(&plan)], what, &reader);
    let out = run.finish(Duration::from_secs(60));
    let took = started.elapsed();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(" timed out after 10 s waiting for {what}, held by pid {}", reader.pid)),
        "{}",
        out.stderr
    );
    assert!(took >= Duration::from_secs(10) && took < Duration::from_secs(30), "took {took:?}");
    assert!(!role_exists(pg, "o"));

    // Once the reader is done, the same plan applies.
    reader.release();
    pg.pgsr("postgres", "postgres", &["apply", path_str(&plan)]).expect_code(0);
    assert_eq!(relation_owner(pg, "postgres", "s.t"), "o");
});

// ---------------------------------------------------------------------------
// connect_timeout

/// A TCP server that accepts connections and never answers, until dropped.
struct Silent {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Silent {
    fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((socket, _)) => held.push(socket),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Silent { port, stop }
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

// The server accepts the TCP connection and never says a word: neither to
// TLS's request nor to the start-up message. connect_timeout bounds the
// whole start-up, not only the TCP connect.
pg_test!(fn connect_timeout_covers_the_whole_start_up(pg) {
    let silent = Silent::start();
    let f = Files::new();
    let file = f.write("r.yaml", &doc(&[role("r", &[])]));
    for sslmode in ["disable", "require"] {
        let db = format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres connect_timeout=2 sslmode={sslmode}",
            silent.port
        );
        for args in [
            vec!["inspect", "--db", &db],
            vec!["sync", "--db", &db, "-f", path_str(&file)],
        ] {
            let started = Instant::now();
            let run = Background::spawn(pgsr_command(pg, "postgres", "postgres", &args));
            let out = run.wait(Duration::from_secs(30));
            let took = started.elapsed();
            assert_one_line_error(
                &format!("{args:?}"),
                &out,
                1,
                &format!(
                    "cannot connect to database \"postgres\" as \"postgres\" on 127.0.0.1:{}: timed out after 2 s (connect_timeout)",
                    silent.port
                ),
            );
            assert!(took < Duration::from_secs(10), "{args:?} took {took:?}");
        }
    }
});
