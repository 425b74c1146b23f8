//! The whole database at once: what every role holds beyond what everyone
//! holds (PUBLIC) and beyond SUPERUSER, computed per ACL entry rather than
//! per role × object: each entry reaches the roles that have its grantee's
//! privileges.

use super::access::{blocked, predefined_roles, How, Path};
use super::{is_system, kind_word, name_of, privileges, Held, Inventory, RoleAccess};
use crate::acl::{Privilege, PUBLIC};
use std::collections::{BTreeMap, HashMap};

impl Inventory<'_> {
    /// Every role's privileges (PostgreSQL's own roles only with
    /// `include_system`), leaving out what PUBLIC holds and superusers,
    /// who hold everything.
    pub fn all(&self, include_system: bool) -> Vec<RoleAccess> {
        let judge = super::access::Judge::new(self.snapshot, &self.objects);
        let roles: Vec<&str> = self
            .snapshot
            .catalog
            .roles
            .iter()
            .filter(|r| (include_system || !is_system(&r.name)) && !r.superuser)
            .map(|r| r.name.as_str())
            .collect();
        // Who has the privileges of each role, and through which chain.
        let mut reached_by: HashMap<&str, Vec<(&str, Vec<&str>)>> = HashMap::new();
        for &role in &roles {
            for (held, chain) in judge.graph.reach(role) {
                reached_by.entry(held).or_default().push((role, chain));
            }
        }
        let v = self.snapshot.server_version_num;
        // role -> (object index, privilege) -> path
        let mut found: HashMap<&str, BTreeMap<(usize, Privilege), Path>> = HashMap::new();
        for (i, o) in self.objects.iter().enumerate() {
            if !include_system && super::in_system_schema(&o.object) {
                continue;
            }
            for e in &o.entries {
                if e.grantee == PUBLIC {
                    continue;
                }
                if blocked(o, e.privilege) {
                    continue;
                }
                for (role, chain) in reached_by.get(e.grantee.as_str()).into_iter().flatten() {
                    offer(
                        &mut found,
                        role,
                        (i, e.privilege),
                        Path {
                            how: How::Entry {
                                grantee: e.grantee.clone(),
                                owner: o.owner.as_deref() == Some(e.grantee.as_str()),
                                grant_option: e.grantable,
                            },
                            via: chain.iter().map(|r| (*r).to_owned()).collect(),
                            on_table: false,
                        },
                    );
                }
            }
            // Predefined roles that reach every object of a kind.
            for &p in privileges(o, v) {
                if o.entries
                    .iter()
                    .any(|e| e.grantee == PUBLIC && e.privilege == p)
                {
                    continue;
                }
                let by = predefined_roles(o, p, v);
                for predefined in by {
                    for (role, chain) in reached_by.get(predefined).into_iter().flatten() {
                        let taken = found.get(role).is_some_and(|f| f.contains_key(&(i, p)));
                        if !taken {
                            offer(
                                &mut found,
                                role,
                                (i, p),
                                Path {
                                    how: How::Predefined {
                                        role: (*predefined).to_owned(),
                                    },
                                    via: chain.iter().map(|r| (*r).to_owned()).collect(),
                                    on_table: false,
                                },
                            );
                        }
                    }
                }
            }
        }
        let by_name: HashMap<&str, &crate::snapshot::Role> = self
            .snapshot
            .catalog
            .roles
            .iter()
            .map(|r| (r.name.as_str(), r))
            .collect();
        roles
            .iter()
            .map(|role| {
                let held = found
                    .remove(role)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|((i, privilege), path)| Held {
                        object: name_of(&self.objects[i].object),
                        kind: kind_word(&self.objects[i].object),
                        privilege,
                        path,
                    })
                    .collect();
                RoleAccess {
                    role: self.summary(by_name[role]),
                    held,
                }
            })
            .collect()
    }
}

/// Keeps `path` for `role` unless a shorter one is known.
fn offer<'r>(
    found: &mut HashMap<&'r str, BTreeMap<(usize, Privilege), Path>>,
    role: &'r str,
    key: (usize, Privilege),
    path: Path,
) {
    let slot = found.entry(role).or_default();
    if slot
        .get(&key)
        .is_none_or(|old| path.via.len() < old.via.len())
    {
        slot.insert(key, path);
    }
}
