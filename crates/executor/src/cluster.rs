//! Several databases of one cluster: reading them into one snapshot, and
//! applying a multi-database plan part by part.
//!
//! PostgreSQL has no transaction across databases, so a multi-database
//! plan is applied one part at a time, each in its own transaction under
//! the advisory lock of the database it runs in, each checked for
//! freshness under that lock: the shared part in the connected database,
//! then each database's part, then the last part. When a part fails, the
//! parts before it stay applied, the rest are not run, and the error says
//! which is which; planning again from the catalog as it then is picks up
//! where it stopped.

use crate::apply::{apply, Prepared, Trust};
use crate::connect::Session;
use crate::password::Resolver;
use crate::validate::validate_script;
use crate::wait::Watch;
use crate::{Error, ErrorKind};
use pgsr_planner::desired::Desired;
use pgsr_planner::display::quoted;
use pgsr_planner::plan::Part;
use pgsr_planner::script;
use pgsr_planner::snapshot::{ClusterSnapshot, Snapshot};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Opens a session to the named database, as the connection settings say
/// but for the database.
pub type Connector<'a> = dyn Fn(&str) -> Result<Session, Error> + Sync + 'a;

/// The databases `*` stands for: every database that allows connections
/// and is not a template, by name.
const DATABASES: &str = "SELECT current_database()::text, \
    ARRAY(SELECT datname::text FROM pg_catalog.pg_database \
          WHERE datallowconn AND NOT datistemplate ORDER BY datname) AS names";

/// Reads every database that allows connections and is not a template,
/// `jobs` at a time: the connected one on `session`, each other on a
/// session of its own. What the roles `desired` retires own in each
/// database is read once, from the connected database. `progress` is told
/// how many databases are read, of how many, after each.
pub fn inspect_cluster(
    session: &mut Session,
    connect: &Connector,
    jobs: usize,
    desired: Option<&Desired>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<ClusterSnapshot, Error> {
    let row = session.query_one(DATABASES, &[]).map_err(|e| {
        Error::database(format!(
            "cannot list databases: {}",
            crate::connect::describe(&e)
        ))
    })?;
    let connected: String = row.get(0);
    let names: Vec<String> = row.get(1);
    if !names.contains(&connected) {
        return Err(Error::usage(format!(
            "connected to {}, a template or a database that does not allow connections: connect to another database to read the cluster",
            quoted(&connected)
        )));
    }
    let others: Vec<&String> = names.iter().filter(|n| **n != connected).collect();
    let mut snapshots: Vec<Snapshot> = Vec::with_capacity(names.len());
    let mut own = crate::inspect::inspect(session)?;
    if let Some(desired) = desired {
        crate::inspect::read_dependencies(&mut **session, &mut own, desired)?;
    }
    snapshots.push(own.clone());
    let total = names.len();
    progress(1, total);
    let next = AtomicUsize::new(0);
    let read: Mutex<Vec<Result<Snapshot, Error>>> = Mutex::new(Vec::new());
    let worker = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(name) = others.get(i) else { break };
        let one = connect(name).and_then(|mut s| crate::inspect::inspect(&mut s));
        let failed = one.is_err();
        let mut read = read.lock().expect("not poisoned");
        read.push(one);
        progress(read.len() + 1, total);
        drop(read);
        if failed {
            // The others stop at their next database.
            next.store(others.len(), Ordering::Relaxed);
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..jobs.max(1).min(others.len().max(1)) {
            scope.spawn(worker);
        }
        worker();
    });
    for one in read.into_inner().expect("not poisoned") {
        let mut snapshot = one?;
        snapshot.dependencies = own.dependencies.clone();
        snapshots.push(snapshot);
    }
    snapshots.sort_by(|a, b| a.database.name.cmp(&b.database.name));
    let cluster = ClusterSnapshot {
        connected_database: connected,
        databases: snapshots,
    };
    cluster.check().map_err(|message| Error {
        kind: ErrorKind::Stale,
        message,
        details: Vec::new(),
    })?;
    Ok(cluster)
}

/// A multi-database script that passed validation.
#[derive(Clone, Debug)]
pub struct PreparedCluster {
    pub connected_database: String,
    /// In the order they run: each part's database and prepared script.
    pub parts: Vec<(String, Prepared)>,
    pub checksum: String,
}

impl PreparedCluster {
    pub fn is_empty(&self) -> bool {
        self.parts.iter().all(|(_, p)| p.is_empty())
    }
}

/// Checks a multi-database script without connecting: the cluster
/// header's checksum, the signature (with a key) or the approved
/// checksum, then each part as [`crate::apply::prepare`] checks a script,
/// and that the parts belong together.
pub fn prepare_cluster(text: &str, trust: &Trust) -> Result<PreparedCluster, Error> {
    let parsed = script::parse_cluster(text).map_err(|e| Error::usage(e.to_string()))?;
    trust.check(&parsed.checksum, |key| parsed.check_signature(key))?;
    let reviewed = trust.key.is_some() || trust.expect_checksum.is_some();
    let mut parts = Vec::with_capacity(parsed.parts.len());
    let mut role: Option<(String, i64)> = None;
    for p in &parsed.parts {
        let at = |line: usize| p.first_line + line - 1;
        let one = script::parse(p.text)
            .map_err(|e| Error::usage(format!("line {}: {}", at(e.line), e.message)))?;
        let statements = validate_script(&one)
            .map_err(|e| Error::usage(format!("line {}: {}", at(e.line), e.message)))?;
        let header = one.header;
        let mismatch = |what: String| {
            Error::usage(format!(
                "line {}: the part for {} {what}",
                p.first_line,
                quoted(&p.database)
            ))
        };
        if header.database != p.database || header.part != p.part {
            return Err(mismatch(format!(
                "is, by its own header, the {} part for {}",
                header.part.word(),
                quoted(&header.database)
            )));
        }
        if matches!(p.part, Part::Shared | Part::Last) && p.database != parsed.connected_database {
            return Err(mismatch(
                "runs the shared catalogs' changes outside the connected database".into(),
            ));
        }
        let this = (header.connecting_role.clone(), header.lock_key);
        match &role {
            Some(first) if *first != this => {
                return Err(mismatch(
                    "has another connecting role or lock key than the first part".into(),
                ))
            }
            _ => role = Some(this),
        }
        parts.push((
            p.database.clone(),
            Prepared {
                header,
                statements,
                reviewed,
            },
        ));
    }
    let order: Vec<Part> = parts.iter().map(|(_, p)| p.header.part).collect();
    let well_ordered = order.first() == Some(&Part::Shared)
        && order.last() == Some(&Part::Last)
        && order[1..order.len() - 1]
            .iter()
            .all(|p| *p == Part::Database);
    if !well_ordered {
        return Err(Error::usage(
            "a multi-database plan runs its shared part first, then the databases' parts, then its last part",
        ));
    }
    Ok(PreparedCluster {
        connected_database: parsed.connected_database,
        parts,
        checksum: parsed.checksum,
    })
}

/// What a multi-database apply did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterReport {
    /// Each part that had statements: its database and statement count.
    pub applied: Vec<(String, Part, usize)>,
    pub elapsed: Duration,
}

/// Applies the parts in order, each in its own transaction under the lock
/// of its database: the shared and last parts on `session` (the connected
/// database), each database's part on a session `connect` opens. Parts
/// without statements are not run. A failure names the databases already
/// applied and those not.
pub fn apply_cluster(
    session: &mut Session,
    connect: &Connector,
    prepared: &PreparedCluster,
    passwords: Resolver,
    watch: &mut Watch,
) -> Result<ClusterReport, Error> {
    let started = Instant::now();
    let total = prepared.parts.len();
    let mut applied = Vec::new();
    for (k, (database, part)) in prepared.parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        let result = if *database == prepared.connected_database {
            apply(session, part, None, passwords, watch)
        } else {
            connect(database).and_then(|mut s| apply(&mut s, part, None, passwords, watch))
        };
        match result {
            Ok(report) => applied.push((database.clone(), part.header.part, report.statements)),
            Err(mut e) => {
                let done: Vec<String> = applied.iter().map(|(d, p, _)| label(d, *p)).collect();
                let left: Vec<String> = prepared.parts[k..]
                    .iter()
                    .filter(|(_, p)| !p.is_empty())
                    .map(|(d, p)| label(d, p.header.part))
                    .collect();
                e.message = format!(
                    "part {} of {total} ({}) failed: {}",
                    k + 1,
                    label(database, part.header.part),
                    e.message
                );
                e.details.push(format!(
                    "applied: {}",
                    if done.is_empty() {
                        "nothing".to_owned()
                    } else {
                        done.join(", ")
                    }
                ));
                e.details.push(format!("not applied: {}", left.join(", ")));
                e.details.push(
                    "each part is its own transaction: plan again (or sync) to finish from the catalog as it now is".into(),
                );
                return Err(e);
            }
        }
    }
    Ok(ClusterReport {
        applied,
        elapsed: started.elapsed(),
    })
}

/// A part as messages name it: `database "app1"`, `shared part in "postgres"`.
fn label(database: &str, part: Part) -> String {
    match part {
        Part::Database | Part::Whole => format!("database {}", quoted(database)),
        Part::Shared => format!("shared part in {}", quoted(database)),
        Part::Last => format!("last part in {}", quoted(database)),
    }
}
