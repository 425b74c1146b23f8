//! The catalog statement's rows, read into a snapshot.

use crate::Error;
use pgsr_planner::acl::{parse_aclitem, AclEntry};
use pgsr_planner::snapshot::*;
use postgres::SimpleQueryRow;
use std::collections::HashMap;

/// A row of the catalog statement: every column text or NULL. Read from
/// the server by this crate, or handed over by a caller that ran the
/// statement on a connection of its own (the Python package).
pub trait TextRow {
    fn get(&self, i: usize) -> Option<&str>;
}

impl TextRow for SimpleQueryRow {
    fn get(&self, i: usize) -> Option<&str> {
        SimpleQueryRow::get(self, i)
    }
}

impl TextRow for Vec<Option<String>> {
    fn get(&self, i: usize) -> Option<&str> {
        self.as_slice().get(i).and_then(|v| v.as_deref())
    }
}

/// The fields of one row of the catalog statement, as text.
struct Fields<'a, R: TextRow> {
    row: &'a R,
    kind: &'a str,
}

impl<R: TextRow> Fields<'_, R> {
    fn bad(&self, i: usize, what: &str) -> Error {
        Error::database(format!(
            "reading the catalog failed: a {:?} row has {what} in column {i}",
            self.kind
        ))
    }

    fn opt_text(&self, i: usize) -> Option<String> {
        self.row.get(i + 1).map(str::to_owned)
    }

    fn text(&self, i: usize) -> Result<String, Error> {
        self.opt_text(i).ok_or_else(|| self.bad(i, "NULL"))
    }

    fn number<T: std::str::FromStr>(&self, i: usize) -> Result<T, Error> {
        self.row
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| self.bad(i, "no number"))
    }

    fn opt_bool(&self, i: usize) -> Result<Option<bool>, Error> {
        match self.row.get(i + 1) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(self.bad(i, "no boolean")),
        }
    }

    fn boolean(&self, i: usize) -> Result<bool, Error> {
        self.opt_bool(i)?.ok_or_else(|| self.bad(i, "NULL"))
    }

    /// An ACL (`aclitem[]` as text), NULL for the built-in default.
    fn acl(&self, i: usize) -> Result<Option<Vec<AclEntry>>, Error> {
        let Some(text) = self.row.get(i + 1) else {
            return Ok(None);
        };
        let items = parse_array(text).ok_or_else(|| self.bad(i, "no array"))?;
        let mut entries = Vec::with_capacity(items.len() * 2);
        for item in &items {
            parse_aclitem(item, &mut entries).map_err(|e| Error::database(e.to_string()))?;
        }
        Ok(Some(entries))
    }
}

/// The elements of a one-dimensional array in PostgreSQL's text form
/// (`{a,"b c","d\"e"}`), none of them NULL.
fn parse_array(text: &str) -> Option<Vec<String>> {
    let inner = text.strip_prefix('{')?.strip_suffix('}')?;
    let mut out = Vec::new();
    if inner.is_empty() {
        return Some(out);
    }
    let mut chars = inner.chars();
    loop {
        let mut item = String::new();
        let mut next = chars.next();
        if next == Some('"') {
            loop {
                match chars.next()? {
                    '\\' => item.push(chars.next()?),
                    '"' => break,
                    c => item.push(c),
                }
            }
            next = chars.next();
        } else {
            while let Some(c) = next.filter(|c| *c != ',') {
                item.push(c);
                next = chars.next();
            }
            if item.eq_ignore_ascii_case("NULL") {
                return None;
            }
        }
        out.push(item);
        match next {
            Some(',') => continue,
            None => return Some(out),
            Some(_) => return None,
        }
    }
}

/// Builds the snapshot from the catalog statement's rows.
pub fn snapshot_from_rows<R: TextRow>(scope: &Scope, rows: &[R]) -> Result<Snapshot, Error> {
    let mut header = None;
    let mut connecting = Vec::new();
    let mut c = Catalog::default();
    let mut columns: Vec<(u32, ColumnAcl)> = Vec::new();
    let mut owned: Vec<(u32, QualifiedName)> = Vec::new();
    let mut descriptions: Vec<(String, String)> = Vec::new();
    for row in rows {
        let Some(kind) = row.get(0) else {
            return Err(Error::database(
                "reading the catalog failed: a catalog row without its kind",
            ));
        };
        let f = Fields { row, kind };
        match kind {
            // What the roles hold, counted for the reader.
            "k" => {}
            "h" => {
                header = Some((
                    f.number::<u32>(0)?,
                    f.text(1)?,
                    f.number::<u32>(2)?,
                    f.text(3)?,
                    f.boolean(4)?,
                    f.boolean(5)?,
                ))
            }
            "c" => connecting.push(ConnectingMembership {
                role: f.text(0)?,
                usage: f.boolean(1)?,
                member: f.boolean(2)?,
                admin: f.boolean(3)?,
            }),
            "r" => c.roles.push(Role {
                oid: f.number(0)?,
                name: f.text(1)?,
                superuser: f.boolean(2)?,
                inherit: f.boolean(3)?,
                createrole: f.boolean(4)?,
                createdb: f.boolean(5)?,
                canlogin: f.boolean(6)?,
                replication: f.boolean(7)?,
                bypassrls: f.boolean(8)?,
                connection_limit: f.number(9)?,
                valid_until: f.opt_text(10),
                description: None,
            }),
            "e" => descriptions.push((f.text(0)?, f.text(1)?)),
            "g" => c.role_settings.push(RoleSetting {
                role: f.text(0)?,
                database: f.opt_text(1),
                settings: parse_array(&f.text(2)?).ok_or_else(|| f.bad(2, "no array"))?,
            }),
            "m" => c.memberships.push(Membership {
                role: f.text(0)?,
                member: f.text(1)?,
                grantor: f.opt_text(2),
                admin_option: f.boolean(3)?,
                inherit_option: f.opt_bool(4)?,
                set_option: f.opt_bool(5)?,
            }),
            "d" | "t" => {
                let object = SharedObject {
                    oid: f.number(0)?,
                    name: f.text(1)?,
                    owner: f.text(2)?,
                    acl: f.acl(3)?,
                };
                if kind == "d" {
                    c.databases.push(object);
                } else {
                    c.tablespaces.push(object);
                }
            }
            "p" => c.parameters.push(Parameter {
                name: f.text(0)?,
                acl: f.acl(1)?,
            }),
            "s" => c.schemas.push(Schema {
                oid: f.number(0)?,
                name: f.text(1)?,
                owner: f.text(2)?,
                acl: f.acl(3)?,
            }),
            "R" => {
                let relkind = f.text(3)?;
                c.relations.push(Relation {
                    oid: f.number(0)?,
                    schema: f.text(1)?,
                    name: f.text(2)?,
                    kind: RelKind::from_relkind(&relkind).ok_or_else(|| {
                        Error::database(format!("unexpected relkind {relkind:?}"))
                    })?,
                    owner: f.text(4)?,
                    acl: f.acl(5)?,
                    columns: Vec::new(),
                    owned_by: None,
                });
            }
            "a" => columns.push((
                f.number(0)?,
                ColumnAcl {
                    name: f.text(1)?,
                    acl: f.acl(2)?.unwrap_or_default(),
                },
            )),
            "o" => owned.push((
                f.number(0)?,
                QualifiedName {
                    schema: f.text(1)?,
                    name: f.text(2)?,
                },
            )),
            "f" => {
                let prokind = f.text(4)?;
                c.routines.push(Routine {
                    oid: f.number(0)?,
                    schema: f.text(1)?,
                    name: f.text(2)?,
                    arguments: f.text(3)?,
                    kind: RoutineKind::from_prokind(&prokind).ok_or_else(|| {
                        Error::database(format!("unexpected prokind {prokind:?}"))
                    })?,
                    owner: f.text(5)?,
                    acl: f.acl(6)?,
                    security_definer: f.boolean(7)?,
                });
            }
            "y" => {
                let typtype = f.text(3)?;
                c.types.push(Type {
                    oid: f.number(0)?,
                    schema: f.text(1)?,
                    name: f.text(2)?,
                    kind: TypeKind::from_typtype(&typtype).ok_or_else(|| {
                        Error::database(format!("unexpected typtype {typtype:?}"))
                    })?,
                    owner: f.text(4)?,
                    acl: f.acl(5)?,
                });
            }
            "l" | "w" | "v" => {
                let object = NamedObject {
                    oid: f.number(0)?,
                    name: f.text(1)?,
                    owner: f.text(2)?,
                    acl: f.acl(3)?,
                };
                match kind {
                    "l" => c.languages.push(object),
                    "w" => c.foreign_data_wrappers.push(object),
                    _ => c.foreign_servers.push(object),
                }
            }
            "L" => c.large_objects.push(LargeObject {
                oid: f.number(0)?,
                owner: f.text(1)?,
                acl: f.acl(2)?,
            }),
            "x" => {
                let objtype = f.text(2)?;
                c.default_privileges.push(DefaultPrivilege {
                    role: f.text(0)?,
                    schema: f.opt_text(1),
                    object_type: DefaultObjectType::from_defaclobjtype(&objtype).ok_or_else(
                        || Error::database(format!("unexpected defaclobjtype {objtype:?}")),
                    )?,
                    acl: f.acl(3)?.unwrap_or_default(),
                });
            }
            other => {
                return Err(Error::database(format!(
                    "reading the catalog failed: unexpected row kind {other:?}"
                )))
            }
        }
    }
    let Some((server_version_num, database, database_oid, role, superuser, createrole)) = header
    else {
        return Err(Error::database(
            "reading the catalog failed: the connecting role or the database was not found",
        ));
    };
    let by_oid: HashMap<u32, usize> = c
        .relations
        .iter()
        .enumerate()
        .map(|(i, r)| (r.oid, i))
        .collect();
    for (oid, column) in columns {
        if let Some(&i) = by_oid.get(&oid) {
            c.relations[i].columns.push(column);
        }
    }
    for (oid, table) in owned {
        if let Some(&i) = by_oid.get(&oid) {
            c.relations[i].owned_by = Some(table);
        }
    }
    for (role, description) in descriptions {
        if let Some(r) = c.roles.iter_mut().find(|r| r.name == role) {
            r.description = Some(description);
        }
    }
    let mut snapshot = Snapshot {
        dependencies: Vec::new(),
        format_version: FORMAT_VERSION,
        server_version_num,
        database: DatabaseIdent {
            name: database,
            oid: database_oid,
        },
        connecting_role: ConnectingRole {
            name: role,
            superuser,
            createrole,
            memberships: connecting,
        },
        scope: scope.clone(),
        fingerprint: String::new(),
        catalog: c,
    };
    snapshot.canonicalize();
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_in_text_form() {
        let parse = |s: &str| parse_array(s);
        assert_eq!(parse("{}"), Some(vec![]));
        assert_eq!(
            parse(r#"{postgres=arwdDxt/postgres,"\"a b\"=r/postgres",=r/x}"#),
            Some(vec![
                "postgres=arwdDxt/postgres".to_owned(),
                r#""a b"=r/postgres"#.to_owned(),
                "=r/x".to_owned()
            ])
        );
        assert_eq!(
            parse(r#"{"a\\b","c,d"}"#),
            Some(vec![r"a\b".to_owned(), "c,d".to_owned()])
        );
        for bad in ["", "{", "{a", r#"{"a}"#, "{NULL}", r#"{"a"b}"#] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
