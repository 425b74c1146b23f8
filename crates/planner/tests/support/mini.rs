//! A terse builder of small snapshots for hand-written cases.

#![allow(dead_code)]

use pgsr_planner::acl::{parse_aclitem, AclEntry};
use pgsr_planner::desired::Desired;
use pgsr_planner::plan::{plan, render, Plan, PlanOptions};
use pgsr_planner::snapshot::{
    Catalog, ColumnAcl, ConnectingRole, DatabaseIdent, Membership, Parameter, RelKind, Relation,
    Role, Schema, Scope, SharedObject, Snapshot,
};

use super::model;

/// `aclitem` texts as entries, e.g. `["alice=r*/postgres"]`.
pub fn acl(items: &[&str]) -> Option<Vec<AclEntry>> {
    let mut out = Vec::new();
    for item in items {
        parse_aclitem(item, &mut out).unwrap_or_else(|e| panic!("{e}"));
    }
    out.sort();
    Some(out)
}

fn role(name: &str, oid: u32) -> Role {
    Role::new(name, oid)
}

/// A snapshot of database `db` (owned by `postgres`, the bootstrap
/// superuser) taken as `conn`, with the roles `roles`.
pub fn snapshot(version: u32, conn: &str, superuser: bool, roles: &[&str]) -> Snapshot {
    let mut c = Catalog::default();
    let mut postgres = role("postgres", 10);
    postgres.superuser = true;
    c.roles.push(postgres);
    if conn != "postgres" {
        let mut r = role(conn, 16383);
        r.superuser = superuser;
        r.createrole = true;
        c.roles.push(r);
    }
    for (i, name) in roles.iter().enumerate() {
        c.roles.push(role(name, 16400 + i as u32));
    }
    c.databases.push(SharedObject {
        name: "db".into(),
        oid: 16384,
        owner: "postgres".into(),
        acl: None,
    });
    let mut s = Snapshot {
        dependencies: Vec::new(),
        format_version: 1,
        server_version_num: version,
        database: DatabaseIdent {
            name: "db".into(),
            oid: 16384,
        },
        connecting_role: ConnectingRole {
            name: conn.to_owned(),
            superuser,
            createrole: true,
            memberships: Vec::new(),
        },
        scope: Scope::Full,
        fingerprint: String::new(),
        catalog: c,
    };
    s.canonicalize();
    s
}

pub fn schema(s: &mut Snapshot, name: &str, owner: &str, items: &[&str]) {
    s.catalog.schemas.push(Schema {
        name: name.to_owned(),
        oid: 20000 + s.catalog.schemas.len() as u32,
        owner: owner.to_owned(),
        acl: acl(items),
    });
    s.canonicalize();
}

pub fn table(s: &mut Snapshot, schema: &str, name: &str, owner: &str, items: &[&str]) {
    relation(s, schema, name, RelKind::Table, owner, items);
}

pub fn relation(
    s: &mut Snapshot,
    schema: &str,
    name: &str,
    kind: RelKind,
    owner: &str,
    items: &[&str],
) {
    s.catalog.relations.push(Relation {
        schema: schema.to_owned(),
        name: name.to_owned(),
        oid: 30000 + s.catalog.relations.len() as u32,
        kind,
        owner: owner.to_owned(),
        acl: acl(items),
        columns: Vec::new(),
        owned_by: None,
    });
    s.canonicalize();
}

/// A column ACL on an existing table.
pub fn column(s: &mut Snapshot, schema: &str, table: &str, column: &str, items: &[&str]) {
    let rel = s
        .catalog
        .relations
        .iter_mut()
        .find(|r| r.schema == schema && r.name == table)
        .expect("the table exists");
    rel.columns.push(ColumnAcl {
        name: column.to_owned(),
        acl: acl(items).unwrap_or_default(),
    });
    s.canonicalize();
}

pub fn database_acl(s: &mut Snapshot, owner: &str, items: &[&str]) {
    let db = &mut s.catalog.databases[0];
    db.owner = owner.to_owned();
    db.acl = acl(items);
    s.canonicalize();
}

pub fn parameter(s: &mut Snapshot, name: &str, items: &[&str]) {
    s.catalog.parameters.push(Parameter {
        name: name.to_owned(),
        acl: acl(items),
    });
    s.canonicalize();
}

/// `member` is a member of `role`, granted by `grantor`.
pub fn member(s: &mut Snapshot, role: &str, member: &str, grantor: &str, admin: bool) {
    let pg16 = s.server_version_num >= 160000;
    s.catalog.memberships.push(Membership {
        role: role.to_owned(),
        member: member.to_owned(),
        grantor: Some(grantor.to_owned()),
        admin_option: admin,
        inherit_option: pg16.then_some(true),
        set_option: pg16.then_some(true),
    });
    s.canonicalize();
}

pub fn desired(yaml: &str) -> Desired {
    pgsr_planner::desired::parse(yaml.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

/// Plans, applies the plan to the model and plans again.
pub struct Run {
    pub first: Plan,
    pub applied: Result<model::Applied, String>,
    pub second: Option<Plan>,
}

pub fn run(s: &Snapshot, d: &Desired) -> Run {
    let options = PlanOptions::default();
    let first = plan(s, d, &options).unwrap_or_else(|e| panic!("planning failed: {e}"));
    let applied = model::apply(s, &first);
    let second = applied
        .as_ref()
        .ok()
        .map(|a| plan(&a.snapshot, d, &options).unwrap_or_else(|e| panic!("{e}")));
    Run {
        first,
        applied,
        second,
    }
}

impl Run {
    /// Statements of the first plan, without comments.
    pub fn sql(&self) -> String {
        statements(&self.first)
    }

    pub fn assert_applies(&self) -> &model::Applied {
        match &self.applied {
            Ok(a) => a,
            Err(e) => panic!(
                "PostgreSQL would refuse the plan: {e}\n{}",
                render(&self.first)
            ),
        }
    }

    pub fn assert_converges(&self) {
        let applied = self.assert_applies();
        assert!(
            applied.warnings.is_empty(),
            "statements that change nothing: {:?}\n{}",
            applied.warnings,
            render(&self.first)
        );
        let second = self.second.as_ref().expect("applied");
        assert!(
            second.steps.is_empty(),
            "not converged: after\n{}\nthe next plan is\n{}",
            self.sql(),
            statements(second)
        );
    }
}

/// The statements of a plan, one per line, without comments and header.
pub fn statements(p: &Plan) -> String {
    render(p)
        .lines()
        .skip_while(|l| !l.is_empty())
        .filter(|l| !l.is_empty() && !l.starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
}
