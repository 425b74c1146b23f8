//! Role attributes: LOGIN and VALID UNTIL as declared, passwords named by
//! their source, and every attribute pgsr never declares taken away, from
//! managed and intermediate roles alike.

use super::action::{Action, RoleOptions};
use super::diff::Diff;
use super::intermediate;
use super::output::PlanError;
use crate::desired::{DesiredRole, PasswordRef};

impl<'a> Diff<'_, 'a> {
    pub(super) fn plan_attributes(&mut self) -> Result<(), PlanError> {
        let roles: Vec<&'a DesiredRole> = self.f.ctx.managed.values().copied().collect();
        let mut set_password = Vec::new();
        for role in roles {
            let actual = self.f.ctx.ix.roles.get(role.name.as_str()).copied();
            let mut o = never_declared(actual);
            let can_login = actual.is_some_and(|r| r.canlogin);
            let loses_login: String;
            let mut why: Vec<&str> = Vec::new();
            if !o.is_empty() {
                why.push(
                    "SUPERUSER, CREATEDB, CREATEROLE, REPLICATION and BYPASSRLS are never declared",
                );
            }
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

/// Takes away what no role pgsr manages ever has: SUPERUSER, CREATEDB,
/// CREATEROLE, REPLICATION and BYPASSRLS, where `actual` has them.
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
