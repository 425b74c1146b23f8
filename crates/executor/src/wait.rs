//! Never waiting forever, and never silently: how long `apply` and `sync`
//! wait for locks and statements, and what they say while they wait.
//!
//! Every wait is bounded by a PostgreSQL setting, so that the server itself
//! gives up: `lock_timeout` bounds the wait for the advisory lock (set for
//! that one statement) and each statement's wait for the locks it needs,
//! `statement_timeout` (when asked for) each statement. While a statement
//! runs, a watcher thread looks, through a second connection, at what the
//! statement waits for; a wait of more than a second is reported through
//! the caller's callback, and a timeout names what was waited for and who
//! held it.

use crate::Error;
use postgres::types::Type;
use postgres::Client;
use std::fmt;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A wait is reported once it has lasted this long.
pub const REPORT_AFTER: Duration = Duration::from_secs(1);

/// How often the watcher looks again.
const POLL: Duration = Duration::from_millis(500);

/// How long to wait; `None` is no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// The wait for the advisory lock (`--lock-timeout`).
    pub advisory_lock: Option<Duration>,
    /// Each statement's wait for the locks it needs: PostgreSQL's
    /// `lock_timeout` (`--object-lock-timeout`).
    pub lock: Option<Duration>,
    /// Each statement: PostgreSQL's `statement_timeout`
    /// (`--statement-timeout`; zero is no limit). `None` leaves the
    /// server's setting.
    pub statement: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            advisory_lock: Some(Duration::from_secs(60)),
            lock: Some(Duration::from_secs(10)),
            statement: None,
        }
    }
}

impl Timeouts {
    /// `set_config` calls that put the session's timeouts in place, for
    /// the query run once connected.
    pub(crate) fn session_settings(&self) -> String {
        let mut sql = format!(
            ", pg_catalog.set_config('lock_timeout', '{}', false)",
            millis(self.lock)
        );
        if let Some(statement) = self.statement {
            sql.push_str(&format!(
                ", pg_catalog.set_config('statement_timeout', '{}', false)",
                millis(Some(statement))
            ));
        }
        sql
    }
}

/// A duration as PostgreSQL's timeout settings take it: milliseconds, `0`
/// for none. Durations are at most `i32::MAX` milliseconds (the CLI refuses
/// longer ones); a shorter non-zero one is at least 1 ms.
pub(crate) fn millis(duration: Option<Duration>) -> String {
    match duration {
        Some(d) if !d.is_zero() => d.as_millis().clamp(1, i32::MAX as u128).to_string(),
        _ => "0".to_owned(),
    }
}

/// A duration for people: `500 ms`, `10 s`, `2.5 s`, `2 min`.
pub fn shown(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(60_000) {
        format!("{} min", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

/// What a statement waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wait {
    /// `advisory lock 1`, `table s.t`, `role alice`, `transaction 1234`, …
    pub what: String,
    /// The lock mode wanted (`AccessExclusiveLock`); empty for an advisory
    /// lock.
    pub mode: String,
    /// The sessions in the way: `pid 4242 (psql, idle in transaction)`.
    pub holders: Vec<String>,
}

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mode.is_empty() {
            f.write_str(&self.what)?;
        } else {
            write!(f, "{} on {}", self.mode, self.what)?;
        }
        if !self.holders.is_empty() {
            write!(f, ", held by {}", self.holders.join(", "))?;
        }
        Ok(())
    }
}

/// What `apply` and `sync` tell their caller while they run, and how they
/// look at their own waits.
pub struct Watch<'a> {
    /// Called with (statements done, total).
    pub progress: &'a mut dyn FnMut(usize, usize),
    /// Called from another thread when a wait has lasted
    /// [`REPORT_AFTER`]: what is waited for, how long so far, and the limit.
    pub waiting: &'a (dyn Fn(&Wait, Duration, Option<Duration>) + Sync),
    /// Opens a second connection to the same database, to look at a wait.
    pub connect: &'a (dyn Fn() -> Result<Client, Error> + Sync),
    pub timeouts: Timeouts,
}

/// Runs `f` (a statement on the connection whose backend is `pid`) while a
/// watcher thread looks at what it waits for: from `limit / 2` or
/// [`REPORT_AFTER`], whichever is sooner, through a second connection
/// opened only then. Waits that last [`REPORT_AFTER`] are reported. Returns
/// what `f` returned, and the last wait seen.
pub(crate) fn watched<T>(
    watch: &Watch,
    pid: i32,
    limit: Option<Duration>,
    f: impl FnOnce() -> T,
) -> (T, Option<Wait>) {
    let seen: Mutex<Option<Wait>> = Mutex::new(None);
    let (done, finished) = mpsc::channel::<()>();
    let first_look = limit.map_or(REPORT_AFTER, |l| (l / 2).min(REPORT_AFTER));
    let (waiting, connect) = (watch.waiting, watch.connect);
    let result = std::thread::scope(|scope| {
        let seen = &seen;
        scope.spawn(move || {
            let started = Instant::now();
            if finished.recv_timeout(first_look) != Err(RecvTimeoutError::Timeout) {
                return;
            }
            // Without a second connection there is nothing to look with;
            // the timeouts still hold.
            let Ok(mut side) = connect() else {
                return;
            };
            let mut reported: Option<Wait> = None;
            loop {
                // A query that fails (the server going away) ends the
                // watch; the statement's own error says what happened.
                let Ok(wait) = wait_of(&mut side, pid) else {
                    return;
                };
                if let Some(wait) = wait {
                    let waited = started.elapsed();
                    if waited >= REPORT_AFTER && reported.as_ref() != Some(&wait) {
                        waiting(&wait, waited, limit);
                        reported = Some(wait.clone());
                    }
                    *seen.lock().expect("no thread panics holding it") = Some(wait);
                }
                if finished.recv_timeout(POLL) != Err(RecvTimeoutError::Timeout) {
                    return;
                }
            }
        });
        let result = f();
        drop(done);
        result
    });
    (
        result,
        seen.into_inner().expect("no thread panics holding it"),
    )
}

/// What the backend `pid` waits for, if anything: the first lock it has
/// asked for and not been granted, and the sessions that hold it.
fn wait_of(client: &mut Client, pid: i32) -> Result<Option<Wait>, postgres::Error> {
    let rows = client.query_typed(
        "SELECT l.locktype, l.mode, \
                CASE l.locktype \
                    WHEN 'relation' THEN pg_catalog.pg_describe_object('pg_catalog.pg_class'::pg_catalog.regclass, l.relation, 0) \
                    WHEN 'object' THEN pg_catalog.pg_describe_object(l.classid, l.objid, l.objsubid) \
                    WHEN 'tuple' THEN 'a row of ' || pg_catalog.pg_describe_object('pg_catalog.pg_class'::pg_catalog.regclass, l.relation, 0) \
                    WHEN 'transactionid' THEN 'transaction ' || l.transactionid::text \
                    WHEN 'virtualxid' THEN 'transaction ' || l.virtualxid \
                END, \
                l.classid::int8, l.objid::int8, l.objsubid::int4, \
                b.pid, a.application_name, a.state \
         FROM pg_catalog.pg_locks l \
         LEFT JOIN LATERAL pg_catalog.unnest(pg_catalog.pg_blocking_pids(l.pid)) AS b(pid) ON true \
         LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = b.pid \
         WHERE l.pid = $1 AND NOT l.granted \
         ORDER BY b.pid",
        &[(&pid, Type::INT4)],
    )?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let locktype: String = first.get(0);
    let advisory = locktype == "advisory";
    let what = if advisory {
        let (high, low, subid): (Option<i64>, Option<i64>, Option<i32>) =
            (first.get(3), first.get(4), first.get(5));
        let (high, low) = (high.unwrap_or(0), low.unwrap_or(0));
        if subid == Some(1) {
            // One int8 key: its high and low halves.
            format!("advisory lock {}", (high << 32) | low)
        } else {
            format!("advisory lock ({high}, {low})")
        }
    } else {
        first
            .get::<_, Option<String>>(2)
            .unwrap_or_else(|| locktype.clone())
    };
    let holders = rows
        .iter()
        .filter_map(|row| {
            let pid: i32 = row.get::<_, Option<i32>>(6)?;
            let about: Vec<String> = [row.get::<_, Option<String>>(7), row.get(8)]
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .collect();
            Some(if about.is_empty() {
                format!("pid {pid}")
            } else {
                format!("pid {pid} ({})", about.join(", "))
            })
        })
        .collect();
    Ok(Some(Wait {
        what,
        mode: if advisory {
            String::new()
        } else {
            first.get(1)
        },
        holders,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_as_postgresql_takes_them() {
        assert_eq!(millis(None), "0");
        assert_eq!(millis(Some(Duration::from_secs(60))), "60000");
        assert_eq!(millis(Some(Duration::from_micros(10))), "1");
        assert_eq!(millis(Some(Duration::ZERO)), "0");
        assert_eq!(
            Timeouts::default().session_settings(),
            ", pg_catalog.set_config('lock_timeout', '10000', false)"
        );
    }

    #[test]
    fn durations_for_people() {
        assert_eq!(shown(Duration::from_millis(500)), "500 ms");
        assert_eq!(shown(Duration::from_secs(10)), "10 s");
        assert_eq!(shown(Duration::from_millis(2500)), "2.5 s");
        assert_eq!(shown(Duration::from_secs(120)), "2 min");
    }

    #[test]
    fn waits_for_people() {
        let wait = Wait {
            what: "table s.t".into(),
            mode: "AccessExclusiveLock".into(),
            holders: vec!["pid 42 (psql, idle in transaction)".into()],
        };
        assert_eq!(
            wait.to_string(),
            "AccessExclusiveLock on table s.t, held by pid 42 (psql, idle in transaction)"
        );
        let wait = Wait {
            what: "advisory lock 1".into(),
            mode: String::new(),
            holders: Vec::new(),
        };
        assert_eq!(wait.to_string(), "advisory lock 1");
    }
}
