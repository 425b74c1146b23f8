//! Role attributes: as declared (SUPERUSER, CREATEDB, CREATEROLE, INHERIT,
//! REPLICATION, BYPASSRLS, CONNECTION LIMIT, LOGIN and VALID UNTIL), each
//! one left out at its safe default; passwords named by their source;
//! intermediate roles without any.

use super::action::{Action, RoleOptions};
use super::diff::Diff;
use super::intermediate;
use super::output::PlanError;
use crate::desired::{DesiredRole, PasswordRef, Spanned};

impl<'a> Diff<'_, 'a> {
    pub(super) fn plan_attributes(&mut self) -> Result<(), PlanError> {
        let roles: Vec<&'a DesiredRole> = self.f.ctx.managed.values().copied().collect();
        let mut set_password = Vec::new();
        for role in roles {
            let actual = self.f.ctx.ix.roles.get(role.name.as_str()).copied();
            let (mut o, declared) = self.declared(role, actual)?;
            let can_login = actual.is_some_and(|r| r.canlogin);
            let loses_login: String;
            let mut why: Vec<String> = Vec::new();
            if !declared.is_empty() {
                why.push(format!("declared {}", declared.join(", ")));
            }
            let mut undeclared = o.removed_by_default();
            undeclared.retain(|a| {
                !declared
                    .iter()
                    .any(|d| d.starts_with(&format!("{}:", a.to_ascii_lowercase())))
            });
            if !undeclared.is_empty() {
                why.push(format!(
                    "{} not declared: taken away",
                    undeclared.join(", ")
                ));
            }
            let mut why: Vec<&str> = why.iter().map(String::as_str).collect();
            match &role.login {
                Some(login) => {
                    if !can_login {
                        o.login = Some(true);
                    }
                    let wanted = login.valid_until.as_deref().unwrap_or("infinity");
                    if let Some(now) = &self.f.ctx.options.now {
                        if wanted != "infinity" && wanted <= now.as_str() {
                            self.out.warnings.push(format!(
                                "{}: valid_until {wanted} is in the past: {} could not log in after this sync",
                                role.name, role.name
                            ));
                        }
                    }
                    let current = actual
                        .and_then(|r| r.valid_until.as_deref())
                        .unwrap_or("infinity");
                    if wanted != current {
                        o.valid_until = Some(wanted.to_owned());
                    }
                    if o.login.is_some() || o.valid_until.is_some() {
                        why.push("login");
                    }
                    if let Some(source) = login.password.reference() {
                        if !self.f.ctx.options.passwords.is_current(&role.name) {
                            set_password.push((role.name.clone(), source));
                        }
                    }
                }
                None if can_login => {
                    o.login = Some(false);
                    o.remove_password = true;
                    loses_login = format!(
                        "no login declared: {} loses LOGIN and its password",
                        role.name
                    );
                    why.push(&loses_login);
                }
                None => {}
            }
            if !o.is_empty() {
                let reason = format!("{}: {}", role.name, why.join("; "));
                self.push(
                    Action::AlterRole {
                        role: role.name.clone(),
                        options: o,
                    },
                    reason,
                );
            }
        }
        for (role, source) in set_password {
            let reason = match &source {
                PasswordRef::Env(name) => {
                    format!("{role}: password from environment variable {name}")
                }
                PasswordRef::File(path) => format!("{role}: password from file {path}"),
                PasswordRef::DesiredFile => format!("{role}: password given in the desired file"),
            };
            self.push(Action::SetPassword { role, source }, reason);
        }
        self.plan_intermediate_attributes();
        Ok(())
    }

    /// Intermediate roles (of any database) have no attributes: NOLOGIN,
    /// without a password, and none of those never declared.
    pub(super) fn plan_intermediate_attributes(&mut self) {
        let c = &self.f.ctx.ix.snapshot.catalog;
        let roles: Vec<&'a crate::snapshot::Role> = c
            .roles
            .iter()
            .filter(|r| intermediate::is_intermediate(&r.name))
            .collect();
        for r in roles {
            let mut o = never_declared(Some(r));
            if r.canlogin {
                o.login = Some(false);
                o.remove_password = true;
            }
            if !o.is_empty() {
                self.push(
                    Action::AlterRole {
                        role: r.name.clone(),
                        options: o,
                    },
                    format!("{}: an intermediate role has no attributes", r.name),
                );
            }
        }
    }
}

/// Takes away SUPERUSER, CREATEDB, CREATEROLE, REPLICATION and
/// BYPASSRLS where `actual` has them: what an intermediate role never has.
fn never_declared(actual: Option<&crate::snapshot::Role>) -> RoleOptions {
    let flag = |f: fn(&crate::snapshot::Role) -> bool| actual.is_some_and(f).then_some(false);
    RoleOptions {
        superuser: flag(|r| r.superuser),
        createdb: flag(|r| r.createdb),
        createrole: flag(|r| r.createrole),
        replication: flag(|r| r.replication),
        bypassrls: flag(|r| r.bypassrls),
        ..RoleOptions::default()
    }
}

/// An attribute: its key, what is declared, its default, and how to read
/// it from the catalog.
type Flag<'d> = (
    &'static str,
    &'d Option<Spanned<bool>>,
    bool,
    fn(&crate::snapshot::Role) -> bool,
);

impl<'a> Diff<'_, 'a> {
    /// The attribute changes a managed role's declaration asks for (LOGIN
    /// and VALID UNTIL aside), and the attributes it declares, in words.
    fn declared(
        &self,
        role: &DesiredRole,
        actual: Option<&crate::snapshot::Role>,
    ) -> Result<(RoleOptions, Vec<String>), PlanError> {
        let a = &role.attributes;
        let conn = &self.f.ctx.ix.snapshot.connecting_role;
        let v = self.f.ctx.ix.snapshot.server_version_num;
        let conn_role = self.f.ctx.ix.roles.get(self.f.ctx.conn).copied();
        let mut o = RoleOptions::default();
        let mut declared = Vec::new();
        let flags: [Flag; 6] = [
            ("superuser", &a.superuser, false, |r| r.superuser),
            ("createdb", &a.createdb, false, |r| r.createdb),
            ("createrole", &a.createrole, false, |r| r.createrole),
            ("inherit", &a.inherit, true, |r| r.inherit),
            ("replication", &a.replication, false, |r| r.replication),
            ("bypassrls", &a.bypassrls, false, |r| r.bypassrls),
        ];
        for (key, value, default, get) in flags {
            let wanted = value.as_ref().map_or(default, |v| v.value);
            if let Some(v_) = value {
                declared.push(format!("{key}: {}", v_.value));
                // Only a superuser gives SUPERUSER; REPLICATION and BYPASSRLS
                // too before PostgreSQL 16, and from 16 a role that has them.
                let has = |f: fn(&crate::snapshot::Role) -> bool| conn_role.is_some_and(f);
                let refused = v_.value
                    && !conn.superuser
                    && match key {
                        "superuser" => true,
                        "replication" => v < 160000 || !has(|r| r.replication),
                        "bypassrls" => v < 160000 || !has(|r| r.bypassrls),
                        _ => false,
                    };
                if refused {
                    return Err(PlanError {
                        span: Some(v_.span),
                        message: format!(
                            "{}: {key}: true needs a superuser: {} is not one{}",
                            role.name,
                            self.f.ctx.conn,
                            if key == "superuser" {
                                String::new()
                            } else {
                                format!(
                                    " (nor, on PostgreSQL 16 and later, has {} itself)",
                                    key.to_ascii_uppercase()
                                )
                            }
                        ),
                    });
                }
            }
            let current = actual.map_or(default, get);
            if wanted != current {
                let slot = match key {
                    "superuser" => &mut o.superuser,
                    "createdb" => &mut o.createdb,
                    "createrole" => &mut o.createrole,
                    "inherit" => &mut o.inherit,
                    "replication" => &mut o.replication,
                    _ => &mut o.bypassrls,
                };
                *slot = Some(wanted);
            }
        }
        let limit = a.connection_limit.as_ref().map_or(-1, |l| l.value);
        if let Some(l) = &a.connection_limit {
            declared.push(format!("connection_limit: {}", l.value));
        }
        if actual.map_or(-1, |r| r.connection_limit) != limit {
            o.connection_limit = Some(limit);
        }
        Ok((o, declared))
    }
}
