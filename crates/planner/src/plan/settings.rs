//! Role settings (`ALTER ROLE … [IN DATABASE …] SET`) exactly as declared,
//! every other setting of a managed role reset; and the role's comment.

use super::action::Action;
use super::diff::Diff;
use crate::desired::{split_list, DesiredRole, SettingValue, LIST_QUOTED};
use std::collections::BTreeMap;

/// (database, name) -> the value PostgreSQL records (`name=value`).
type Recorded<'s> = BTreeMap<(Option<&'s str>, &'s str), &'s str>;

impl<'a> Diff<'_, 'a> {
    pub(super) fn plan_settings(&mut self) {
        let roles: Vec<&'a DesiredRole> = self.f.ctx.managed.values().copied().collect();
        for role in roles {
            let recorded = self.recorded(&role.name);
            for s in &role.settings {
                let key = (s.database.as_deref(), s.name.as_str());
                if let Some(database) = &s.database {
                    if !self
                        .f
                        .ctx
                        .ix
                        .snapshot
                        .catalog
                        .databases
                        .iter()
                        .any(|d| &d.name == database)
                    {
                        self.out.warnings.push(format!(
                            "{}: database_settings: database {database} does not exist: its settings are not set",
                            role.name
                        ));
                        continue;
                    }
                }
                if recorded
                    .get(&key)
                    .is_some_and(|now| same(&s.name, now, &s.value))
                {
                    continue;
                }
                self.push(
                    Action::SetSetting {
                        role: role.name.clone(),
                        database: s.database.clone(),
                        name: s.name.clone(),
                        value: s.value.clone(),
                    },
                    format!("{}: {} declared", role.name, where_(&s.database, &s.name)),
                );
            }
            for (database, name) in recorded.keys() {
                let declared = role
                    .settings
                    .iter()
                    .any(|s| s.database.as_deref() == *database && s.name == *name);
                if !declared {
                    let database = database.map(str::to_owned);
                    self.push(
                        Action::ResetSetting {
                            role: role.name.clone(),
                            name: (*name).to_owned(),
                            database: database.clone(),
                        },
                        format!("{}: {} not declared", role.name, where_(&database, name)),
                    );
                }
            }
            if let Some(text) = &role.description {
                let wanted = Some(text.as_str()).filter(|t| !t.is_empty());
                let now = self
                    .f
                    .ctx
                    .ix
                    .roles
                    .get(role.name.as_str())
                    .and_then(|r| r.description.as_deref());
                if wanted != now {
                    self.push(
                        Action::CommentRole {
                            role: role.name.clone(),
                            description: wanted.map(str::to_owned),
                        },
                        format!("{}: description declared", role.name),
                    );
                }
            }
        }
    }

    /// The settings the catalog records for `role`.
    fn recorded(&self, role: &str) -> Recorded<'a> {
        let mut out = BTreeMap::new();
        for rs in self
            .f
            .ctx
            .ix
            .snapshot
            .catalog
            .role_settings
            .iter()
            .filter(|s| s.role == role)
        {
            for item in &rs.settings {
                let (name, value) = item.split_once('=').unwrap_or((item, ""));
                out.insert((rs.database.as_deref(), name), value);
            }
        }
        out
    }
}

fn where_(database: &Option<String>, name: &str) -> String {
    match database {
        Some(d) => format!("setting {name} in database {d}"),
        None => format!("setting {name}"),
    }
}

/// Whether the value PostgreSQL records is the one declared. Elements of
/// the parameters whose lists PostgreSQL quotes as identifiers
/// (`search_path`) are compared unquoted.
fn same(name: &str, recorded: &str, declared: &SettingValue) -> bool {
    let items: Vec<&str> = match declared {
        SettingValue::Text(t) => vec![t.as_str()],
        SettingValue::List(items) => items.iter().map(String::as_str).collect(),
    };
    if LIST_QUOTED.contains(&name) {
        split_list(recorded) == items
    } else {
        recorded == items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_as_postgresql_records_them() {
        assert_eq!(split_list("app, public"), ["app", "public"]);
        assert_eq!(split_list("\"$user\", public"), ["$user", "public"]);
        assert_eq!(split_list("\"a \"\"b\"\", c\""), ["a \"b\", c"]);
        let list = SettingValue::List(vec!["$user".into(), "app".into()]);
        assert!(same("search_path", "\"$user\", app", &list));
        assert!(!same("search_path", "\"$user\", app, x", &list));
        assert!(same("work_mem", "64MB", &SettingValue::Text("64MB".into())));
        assert!(!same(
            "work_mem",
            "64MB",
            &SettingValue::Text("64mb".into())
        ));
    }
}
