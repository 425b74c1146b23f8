//! A snapshot of several databases of one cluster (`pgsr inspect
//! --all-databases`): one section per database, each a whole snapshot of
//! that database with its own fingerprint.
//!
//! PostgreSQL keeps roles, memberships, databases, tablespaces, parameter
//! privileges and role settings in shared catalogs that every database
//! sees alike; everything else (schemas, table-likes, routines, …, default
//! privileges) belongs to one database. [`Snapshot::shared_fingerprint`]
//! and [`Snapshot::database_fingerprint`] name the two parts apart: a
//! multi-database plan changes the shared part first, then checks each
//! database's own part before changing it.

use super::json::{check, digest_of, parse};
use super::{Catalog, ReadError, Scope, Snapshot, FORMAT_VERSION};
use serde::{Deserialize, Serialize};

/// What `kind` says in a cluster snapshot.
const KIND: &str = "cluster";

/// Snapshots of several databases of one cluster, by database name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterSnapshot {
    /// The database the snapshot was taken from: a multi-database plan
    /// changes the shared catalogs there.
    pub connected_database: String,
    /// One per database that allows connections and is not a template,
    /// sorted by name.
    pub databases: Vec<Snapshot>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    format_version: u32,
    kind: String,
    connected_database: String,
    databases: Vec<Snapshot>,
}

impl ClusterSnapshot {
    /// The section of the database named `name`.
    pub fn database(&self, name: &str) -> Option<&Snapshot> {
        self.databases.iter().find(|s| s.database.name == name)
    }

    /// The section of the connected database.
    pub fn connected(&self) -> &Snapshot {
        self.database(&self.connected_database)
            .expect("a cluster snapshot holds its connected database")
    }

    /// Checks that the sections belong together: one server and one
    /// connecting role, each database once, the connected one among them,
    /// and the same shared catalogs in every section (a change made while
    /// the databases were read shows as a difference).
    pub fn check(&self) -> Result<(), String> {
        let first = self
            .databases
            .first()
            .ok_or("a cluster snapshot holds at least one database")?;
        if !self
            .databases
            .windows(2)
            .all(|w| w[0].database.name < w[1].database.name)
        {
            return Err("the databases of a cluster snapshot are sorted by name, each once".into());
        }
        if self.database(&self.connected_database).is_none() {
            return Err(format!(
                "the connected database {:?} has no section in the snapshot",
                self.connected_database
            ));
        }
        let shared = first.shared_fingerprint();
        for s in &self.databases[1..] {
            if s.server_version_num != first.server_version_num
                || s.connecting_role.name != first.connecting_role.name
            {
                return Err(format!(
                    "database {:?} was read from another server or as another role than {:?}",
                    s.database.name, first.database.name
                ));
            }
            if s.shared_fingerprint() != shared {
                return Err(format!(
                    "roles, memberships or other shared catalogs changed while the databases were read (database {:?} saw them otherwise than {:?}): take the snapshot again",
                    s.database.name, first.database.name
                ));
            }
        }
        Ok(())
    }
}

impl Snapshot {
    /// The fingerprint of what the shared catalogs hold: roles,
    /// memberships, databases, tablespaces, parameters and role settings.
    pub fn shared_fingerprint(&self) -> String {
        let c = &self.catalog;
        digest_of(&(
            "shared",
            &self.scope,
            (
                &c.roles,
                &c.memberships,
                &c.databases,
                &c.tablespaces,
                &c.parameters,
                &c.role_settings,
            ),
        ))
    }

    /// The fingerprint of what belongs to the snapshot's database alone:
    /// the catalog without the shared catalogs. A multi-database plan
    /// checks it before changing the database, after the shared part was
    /// changed.
    pub fn database_fingerprint(&self) -> String {
        let own = Catalog {
            roles: Vec::new(),
            memberships: Vec::new(),
            databases: Vec::new(),
            tablespaces: Vec::new(),
            parameters: Vec::new(),
            role_settings: Vec::new(),
            ..self.catalog.clone()
        };
        digest_of(&("database", &self.scope, &own))
    }
}

/// Writes a cluster snapshot: a header, then each database's snapshot as
/// `to_json` writes it alone.
pub fn cluster_to_json(cluster: &ClusterSnapshot) -> Vec<u8> {
    let mut out = format!(
        "{{\"format_version\":{FORMAT_VERSION},\"kind\":\"{KIND}\",\"connected_database\":{},\"databases\":[\n",
        serde_json::to_string(&cluster.connected_database).expect("strings serialize")
    )
    .into_bytes();
    for (i, s) in cluster.databases.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b",\n");
        }
        let mut one = super::to_json(s);
        one.pop();
        out.extend_from_slice(&one);
    }
    out.extend_from_slice(b"\n]}\n");
    out
}

/// Whether JSON text is a cluster snapshot (its top-level `kind` is
/// `cluster`) rather than one database's.
pub fn is_cluster_json(bytes: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(default)]
        kind: Option<String>,
    }
    serde_json::from_slice::<Probe>(bytes).is_ok_and(|p| p.kind.as_deref() == Some(KIND))
}

/// Reads and checks a cluster snapshot: each section as
/// [`from_json`](super::from_json) checks a snapshot, and the sections
/// together as [`ClusterSnapshot::check`] does.
pub fn cluster_from_json(bytes: &[u8]) -> Result<ClusterSnapshot, ReadError> {
    let doc: Document = parse(bytes).map_err(|mut e| {
        e.message = crate::display::escape(&e.message);
        e
    })?;
    let whole = |message: String| ReadError {
        position: None,
        message: crate::display::escape(&message),
    };
    if doc.format_version != FORMAT_VERSION || doc.kind != KIND {
        return Err(whole(format!(
            "cluster snapshot format version {} of kind {:?} is not supported (this pgsr reads version {FORMAT_VERSION}, kind {KIND:?})",
            doc.format_version, doc.kind
        )));
    }
    for s in &doc.databases {
        if s.scope != Scope::Full {
            return Err(whole(format!(
                "database {:?}: a cluster snapshot holds whole databases",
                s.database.name
            )));
        }
        check(s).map_err(|e| whole(format!("database {:?}: {}", s.database.name, e.message)))?;
    }
    let cluster = ClusterSnapshot {
        connected_database: doc.connected_database,
        databases: doc.databases,
    };
    cluster.check().map_err(whole)?;
    Ok(cluster)
}
