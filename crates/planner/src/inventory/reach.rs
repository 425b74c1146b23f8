//! Whose privileges a role has: itself, and every role it reaches through
//! memberships that pass privileges on, as PostgreSQL decides it
//! (`has_privs_of_role`). Before PostgreSQL 16 a membership passes them on
//! when its member has INHERIT; from 16, when the membership's own INHERIT
//! option is true. The owner of the database planned for is, from
//! PostgreSQL 14, a member of `pg_database_owner`.

use crate::snapshot::Snapshot;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// The predefined role the current database's owner belongs to.
pub const DATABASE_OWNER: &str = "pg_database_owner";

/// The membership graph, by member: the roles each one's privileges reach
/// in one step.
pub(crate) struct Graph<'a> {
    up: HashMap<&'a str, Vec<&'a str>>,
    database_owner: Option<&'a str>,
}

impl<'a> Graph<'a> {
    pub fn new(snapshot: &'a Snapshot) -> Graph<'a> {
        let pg16 = snapshot.server_version_num >= 160000;
        let inherits: HashMap<&str, bool> = snapshot
            .catalog
            .roles
            .iter()
            .map(|r| (r.name.as_str(), r.inherit))
            .collect();
        let mut up: HashMap<&'a str, Vec<&'a str>> = HashMap::new();
        for m in &snapshot.catalog.memberships {
            let passes = if pg16 {
                m.inherit_option.unwrap_or(true)
            } else {
                inherits.get(m.member.as_str()).copied().unwrap_or(true)
            };
            if passes {
                let list = up.entry(m.member.as_str()).or_default();
                if !list.contains(&m.role.as_str()) {
                    list.push(m.role.as_str());
                }
            }
        }
        for list in up.values_mut() {
            list.sort_unstable();
        }
        let database_owner = (snapshot.server_version_num >= 140000)
            .then(|| {
                snapshot
                    .catalog
                    .databases
                    .iter()
                    .find(|d| d.name == snapshot.database.name)
                    .map(|d| d.owner.as_str())
            })
            .flatten();
        Graph { up, database_owner }
    }

    /// Every role whose privileges `role` has, each with the shortest
    /// chain of roles that leads there (empty for `role` itself).
    pub fn reach(&self, role: &'a str) -> BTreeMap<&'a str, Vec<&'a str>> {
        let mut out: BTreeMap<&'a str, Vec<&'a str>> = BTreeMap::new();
        out.insert(role, Vec::new());
        let mut queue = VecDeque::from([role]);
        while let Some(r) = queue.pop_front() {
            let chain = out[r].clone();
            let mut next: Vec<&'a str> = self.up.get(r).cloned().unwrap_or_default();
            if Some(r) == self.database_owner {
                next.push(DATABASE_OWNER);
            }
            for g in next {
                if !out.contains_key(g) {
                    let mut c = chain.clone();
                    c.push(g);
                    out.insert(g, c);
                    queue.push_back(g);
                }
            }
        }
        out
    }
}
