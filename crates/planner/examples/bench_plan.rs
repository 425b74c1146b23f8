//! Planner benchmark: a synthetic catalog of N tables (N/10 roles, about
//! 10·N ACL entries, intermediate roles, column privileges, default
//! privileges) and a desired file managing N/100 roles with every kind of
//! grant, the general ones (`grant` on all tables of a schema, on columns,
//! with grant option; `default_privileges`) included; times `plan` and
//! `render` and reports the process's peak resident memory.
//!
//! ```text
//! cargo run --release -p pgsr-planner --example bench_plan            # scaling table
//! cargo run --release -p pgsr-planner --example bench_plan -- 100000  # one size
//! cargo run --release -p pgsr-planner --example bench_plan -- 100000 inventory [ROLES]
//! ```
//!
//! `inventory` times the inventory on the same catalog instead: building
//! it, one role's privileges, one table's holders, and every role's
//! privileges (`--all`).
//!
//! Without an argument the binary runs itself once per size, so that each
//! size's peak memory is measured in a fresh process.

// Tests and benchmarks read fixtures and clocks; the planner itself does not.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::process::Command;
use std::time::{Duration, Instant};

use pgsr_planner::acl::{AclEntry, Privilege};
use pgsr_planner::desired::{
    DefaultGrant, Desired, DesiredRole, Grant, GrantKind, Login, Objects, PasswordSource, Pattern,
    PrivilegeGrant, Privileges, Span, TableName,
};
use pgsr_planner::kind::ObjectKind;
use pgsr_planner::plan::{plan, render, PlanOptions};
use pgsr_planner::snapshot::{
    Catalog, ColumnAcl, ConnectingRole, DatabaseIdent, DefaultObjectType, DefaultPrivilege,
    Membership, RelKind, Relation, Role, Schema, Scope, SharedObject, Snapshot,
};

const SIZES: [usize; 5] = [1_000, 3_000, 10_000, 30_000, 100_000];
const TABLES_PER_SCHEMA: usize = 1_000;
const DB_OID: u32 = 16384;
const TABLE_PRIVILEGES: [Privilege; 7] = [
    Privilege::Select,
    Privilege::Insert,
    Privilege::Update,
    Privilege::Delete,
    Privilege::Truncate,
    Privilege::References,
    Privilege::Trigger,
];

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn role(name: String, oid: u32) -> Role {
    Role::new(name, oid)
}

fn entry(grantee: &str, grantor: &str, privilege: Privilege) -> AclEntry {
    AclEntry {
        grantee: grantee.to_owned(),
        grantor: grantor.to_owned(),
        privilege,
        grantable: false,
    }
}

fn owner_entries(owner: &str, privileges: &[Privilege]) -> Vec<AclEntry> {
    privileges.iter().map(|&p| entry(owner, owner, p)).collect()
}

fn schema_name(i: usize) -> String {
    format!("s{i:03}")
}

fn table_name(i: usize) -> String {
    format!("t{i:06}")
}

fn plain_role(i: usize) -> String {
    format!("r{i:05}")
}

struct Sizes {
    tables: usize,
    schemas: usize,
    plain_roles: usize,
    intermediates: usize,
    managed: usize,
}

impl Sizes {
    fn for_tables(tables: usize) -> Sizes {
        let roles = tables / 10;
        Sizes {
            tables,
            schemas: tables.div_ceil(TABLES_PER_SCHEMA),
            plain_roles: roles - roles / 5,
            intermediates: roles / 5,
            managed: tables / 100,
        }
    }
}

fn build_snapshot(z: &Sizes, rng: &mut Rng) -> Snapshot {
    let mut c = Catalog::default();
    let mut postgres = role("postgres".into(), 10);
    postgres.superuser = true;
    c.roles.push(postgres);
    for i in 0..z.plain_roles {
        c.roles.push(role(plain_role(i), 20_000 + i as u32));
    }
    let intermediates: Vec<String> = (0..z.intermediates)
        .map(|i| format!("_pgsr_local_{DB_OID}_table_select_{i:08x}"))
        .collect();
    for (i, name) in intermediates.iter().enumerate() {
        c.roles.push(role(name.clone(), 100_000 + i as u32));
    }
    let connect = format!("_pgsr_global_database_connect_{:08x}", 1);
    c.roles.push(role(connect.clone(), 99_999));

    let mut db_acl = owner_entries(
        "postgres",
        &[Privilege::Create, Privilege::Connect, Privilege::Temporary],
    );
    db_acl.push(entry(&connect, "postgres", Privilege::Connect));
    c.databases.push(SharedObject {
        name: "warehouse".into(),
        oid: DB_OID,
        owner: "postgres".into(),
        acl: Some(db_acl),
    });
    for s in 0..z.schemas {
        let mut acl = owner_entries("postgres", &[Privilege::Usage, Privilege::Create]);
        for _ in 0..5 {
            let grantee = plain_role(rng.below(z.plain_roles));
            acl.push(entry(&grantee, "postgres", Privilege::Usage));
        }
        c.schemas.push(Schema {
            name: schema_name(s),
            oid: 30_000 + s as u32,
            owner: "postgres".into(),
            acl: Some(acl),
        });
    }
    // Tables: the owner's 7 entries and 3 grants each (10 entries a table);
    // one in 50 owned by a plain role, some of which are managed.
    for t in 0..z.tables {
        let owner = if t % 50 == 0 {
            plain_role(rng.below(z.plain_roles))
        } else {
            "postgres".to_owned()
        };
        let mut acl = owner_entries(&owner, &TABLE_PRIVILEGES);
        for k in 0..3 {
            let (grantee, privilege) = if k == 0 && rng.below(4) == 0 {
                (
                    intermediates[rng.below(intermediates.len())].clone(),
                    Privilege::Select,
                )
            } else {
                (
                    plain_role(rng.below(z.plain_roles)),
                    TABLE_PRIVILEGES[rng.below(TABLE_PRIVILEGES.len())],
                )
            };
            if grantee != owner {
                acl.push(entry(&grantee, &owner, privilege));
            }
        }
        acl.sort();
        acl.dedup();
        // One table in 20 has a column privilege for a random role.
        let columns = if t % 20 == 7 {
            vec![ColumnAcl {
                name: "c".into(),
                acl: vec![entry(
                    &plain_role(rng.below(z.plain_roles)),
                    &owner,
                    Privilege::Select,
                )],
            }]
        } else {
            Vec::new()
        };
        c.relations.push(Relation {
            schema: schema_name(t / TABLES_PER_SCHEMA),
            name: table_name(t),
            oid: 1_000_000 + t as u32,
            kind: if t % 10 == 9 {
                RelKind::View
            } else {
                RelKind::Table
            },
            owner,
            acl: Some(acl),
            columns,
            owned_by: None,
        });
    }
    // Default privileges of postgres in each schema, for a few roles.
    for s in 0..z.schemas {
        let mut acl = Vec::new();
        for _ in 0..3 {
            let grantee = plain_role(rng.below(z.plain_roles));
            acl.push(entry(&grantee, "postgres", Privilege::Select));
        }
        acl.sort();
        acl.dedup();
        c.default_privileges.push(DefaultPrivilege {
            role: "postgres".into(),
            schema: Some(schema_name(s)),
            object_type: DefaultObjectType::Tables,
            acl,
        });
    }
    // Members of intermediate roles, and plain roles in plain roles (the
    // member's index above the role's: no cycles).
    for name in &intermediates {
        for _ in 0..3 {
            c.memberships.push(Membership {
                role: name.clone(),
                member: plain_role(rng.below(z.plain_roles)),
                grantor: Some("postgres".into()),
                admin_option: false,
                inherit_option: None,
                set_option: None,
            });
        }
    }
    for m in 1..z.plain_roles {
        c.memberships.push(Membership {
            role: plain_role(rng.below(m)),
            member: plain_role(m),
            grantor: Some("postgres".into()),
            admin_option: false,
            inherit_option: None,
            set_option: None,
        });
    }
    c.memberships
        .sort_by(|a, b| (&a.role, &a.member).cmp(&(&b.role, &b.member)));
    c.memberships
        .dedup_by(|a, b| a.role == b.role && a.member == b.member);
    let mut s = Snapshot {
        dependencies: Vec::new(),
        format_version: 1,
        server_version_num: 150018,
        database: DatabaseIdent {
            name: "warehouse".into(),
            oid: DB_OID,
        },
        connecting_role: ConnectingRole {
            name: "postgres".into(),
            superuser: true,
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

fn grant(kind: GrantKind) -> Grant {
    Grant {
        kind,
        span: Span::default(),
        databases: None,
    }
}

/// Managed roles: the first `managed` plain roles, each with a database
/// connect, a schema usage, five tables by name; every tenth a membership,
/// every hundredth a regex over a whole schema, every fiftieth an
/// ownership, every other one a login.
fn build_desired(z: &Sizes, rng: &mut Rng) -> Desired {
    let mut roles = Vec::new();
    for i in 0..z.managed {
        let mut grants = vec![
            grant(GrantKind::DatabaseConnect {
                database: "warehouse".into(),
            }),
            grant(GrantKind::SchemaUsage {
                schema: schema_name(i % z.schemas),
                direct: i % 3 == 0,
            }),
        ];
        for k in 0..5 {
            let t = rng.below(z.tables);
            grants.push(grant(GrantKind::TableSelect {
                schema: schema_name(t / TABLES_PER_SCHEMA),
                table: TableName::Exact(table_name(t)),
                direct: k % 2 == 0,
            }));
        }
        if i % 100 == 0 {
            grants.push(grant(GrantKind::TableSelect {
                schema: schema_name(rng.below(z.schemas)),
                table: TableName::Regex(Pattern::new(".*").expect("a regex")),
                direct: false,
            }));
            grants.push(grant(GrantKind::TableSelect {
                schema: schema_name(rng.below(z.schemas)),
                table: TableName::Regex(Pattern::new("t0+1").expect("a regex")),
                direct: true,
            }));
        }
        // The general grants: CRUD on a whole schema for one role in 20,
        // with grant option for one in 100; a column privilege; default
        // privileges for what postgres creates.
        if i % 20 == 5 {
            grants.push(grant(GrantKind::Privileges(PrivilegeGrant {
                privileges: Privileges::Listed(vec![
                    Privilege::Select,
                    Privilege::Insert,
                    Privilege::Update,
                    Privilege::Delete,
                ]),
                on: ObjectKind::Table,
                objects: Objects::All {
                    schema: Some(schema_name(rng.below(z.schemas))),
                    except: Vec::new(),
                },
                columns: Vec::new(),
                with_grant_option: i % 100 == 5,
                direct: true,
            })));
        }
        let t = rng.below(z.tables);
        grants.push(grant(GrantKind::Privileges(PrivilegeGrant {
            privileges: Privileges::Listed(vec![Privilege::Select, Privilege::Update]),
            on: ObjectKind::Column,
            objects: Objects::Named {
                schema: Some(schema_name(t / TABLES_PER_SCHEMA)),
                names: vec![table_name(t)],
            },
            columns: vec!["c".into()],
            with_grant_option: false,
            direct: true,
        })));
        if i % 10 == 3 {
            grants.push(grant(GrantKind::DefaultPrivileges(DefaultGrant {
                privileges: Privileges::Listed(vec![Privilege::Select]),
                on: ObjectKind::Table,
                owner: "postgres".into(),
                schema: Some(schema_name(i % z.schemas)),
                with_grant_option: false,
            })));
        }
        if i % 50 == 0 {
            let t = 50 * (i / 50) + 1;
            grants.push(grant(GrantKind::TableOwnership {
                schema: schema_name(t / TABLES_PER_SCHEMA),
                table: table_name(t),
            }));
        }
        if i % 10 == 0 && i > 0 {
            grants.push(grant(GrantKind::RoleMembership {
                role: plain_role(rng.below(i)),
                options: Default::default(),
            }));
            grants.push(grant(GrantKind::RoleMembership {
                role: format!("team{}", i / 100),
                options: Default::default(),
            }));
        }
        roles.push(DesiredRole {
            name: plain_role(i),
            span: Span::default(),
            login: (i % 2 == 0).then(|| Login {
                password: PasswordSource::Keep,
                valid_until: None,
                span: Span::default(),
            }),
            grants,
            preserve_existing_grants_in_schemas: if i % 200 == 0 {
                vec![schema_name((i / 200) % z.schemas)]
            } else {
                Vec::new()
            },
            allow_power: false,
            reassign_owned_to: None,
            ..DesiredRole::default()
        });
    }
    Desired {
        public: None,
        lock_key: 1,
        roles,
        allow_power: Vec::new(),
        // Ownership taken away goes to postgres, as the file says (tables
        // that others use are not given to the connecting role silently).
        reassign_owned_to: Some(pgsr_planner::desired::RoleRef {
            name: "postgres".into(),
            span: Span::default(),
        }),
        ..Desired::default()
    }
}

/// `VmHWM` (peak resident set) of this process, in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Time this thread has spent on a CPU (`/proc/thread-self/schedstat`):
/// unlike wall time, it does not grow when other processes take the CPU.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = stat
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs one size and prints one line of figures.
fn run(tables: usize) {
    let z = Sizes::for_tables(tables);
    let mut rng = Rng(42);
    let t0 = Instant::now();
    let snapshot = build_snapshot(&z, &mut rng);
    let desired = build_desired(&z, &mut rng);
    let build = t0.elapsed();
    let entries: usize = snapshot
        .catalog
        .relations
        .iter()
        .map(|r| r.acl.as_ref().map_or(0, Vec::len))
        .sum::<usize>()
        + snapshot
            .catalog
            .schemas
            .iter()
            .map(|s| s.acl.as_ref().map_or(0, Vec::len))
            .sum::<usize>();
    let before = peak_mib();
    // Best of three, so that one scheduling hiccup on a shared machine does
    // not decide the figure.
    let mut best = (Duration::MAX / 4, Duration::MAX / 4);
    let mut best_cpu = Duration::MAX;
    let mut out = (0, 0, 0);
    for _ in 0..3 {
        let cpu = cpu_time();
        let t1 = Instant::now();
        let p = plan(&snapshot, &desired, &PlanOptions::default()).expect("plans");
        let planned = t1.elapsed();
        let t2 = Instant::now();
        let script = render(&p);
        let rendered = t2.elapsed();
        best_cpu = best_cpu.min(cpu_time() - cpu);
        if planned + rendered < best.0 + best.1 {
            best = (planned, rendered);
        }
        let statements = script.lines().filter(|l| l.ends_with(';')).count();
        out = (p.steps.len(), statements, script.len());
        std::hint::black_box(script);
    }
    let after = peak_mib();
    println!(
        "{tables:>7} {roles:>6} {entries:>8} {managed:>5} | {build:>8.0} {plan:>8.1} {render:>8.1} {total:>8.1} {cpu:>8.1} | {steps:>6} {stmts:>6} {kib:>7} | {before:>7.0} {after:>7.0}",
        roles = snapshot.catalog.roles.len(),
        managed = desired.roles.len(),
        build = ms(build),
        plan = ms(best.0),
        render = ms(best.1),
        total = ms(best.0 + best.1),
        cpu = ms(best_cpu),
        steps = out.0,
        stmts = out.1,
        kib = out.2 / 1024,
    );
}

/// Times the inventory of one catalog and prints its figures.
fn inventory(tables: usize) {
    use pgsr_planner::inventory::Inventory;
    let mut z = Sizes::for_tables(tables);
    // `… inventory ROLES`: that many roles instead of one per ten tables.
    if let Some(roles) = std::env::args()
        .nth(3)
        .and_then(|r| r.parse::<usize>().ok())
    {
        z.plain_roles = roles - roles / 5;
        z.intermediates = roles / 5;
        z.managed = z.managed.min(z.plain_roles);
    }
    let mut rng = Rng(42);
    let snapshot = build_snapshot(&z, &mut rng);
    let best = |f: &mut dyn FnMut() -> usize| {
        let mut best = Duration::MAX;
        let mut n = 0;
        for _ in 0..3 {
            let cpu = cpu_time();
            n = f();
            best = best.min(cpu_time() - cpu);
        }
        (best, n)
    };
    let (new, _) = best(&mut || Inventory::new(&snapshot).objects().len());
    let inventory = Inventory::new(&snapshot);
    let role = plain_role(1);
    let (one, held) = best(&mut || inventory.of_role(&role, false).expect("a role").held.len());
    let table = format!("{}.{}", schema_name(0), table_name(0));
    let (object, holders) = best(&mut || {
        inventory
            .on_object(&table, false)
            .expect("a table")
            .holders
            .len()
    });
    let (all, every) = best(&mut || inventory.all(false).iter().map(|r| r.held.len()).sum());
    println!(
        "tables {tables}, roles {}: build {:.0} ms; one role {:.0} ms ({held} privileges); one table {:.0} ms ({holders} holders); every role {:.0} ms ({every} privileges); peak {:.0} MiB (CPU time, best of 3)",
        snapshot.catalog.roles.len(),
        ms(new),
        ms(one),
        ms(object),
        ms(all),
        peak_mib()
    );
}

fn header() {
    println!(
        "{:>7} {:>6} {:>8} {:>5} | {:>8} {:>8} {:>8} {:>8} {:>8} | {:>6} {:>6} {:>7} | {:>7} {:>7}",
        "tables",
        "roles",
        "entries",
        "manag",
        "build ms",
        "plan ms",
        "rend ms",
        "total ms",
        "cpu ms",
        "steps",
        "stmts",
        "KiB",
        "MiB@in",
        "MiB@end"
    );
}

fn main() {
    match std::env::args().nth(1) {
        Some(arg) => {
            let tables: usize = arg.parse().expect("a number of tables");
            match std::env::args().nth(2).as_deref() {
                Some("inventory") => return inventory(tables),
                None => header(),
                Some(_) => {}
            }
            run(tables);
        }
        None => {
            header();
            let exe = std::env::current_exe().expect("own path");
            for tables in SIZES {
                let status = Command::new(&exe)
                    .args([tables.to_string(), "--no-header".into()])
                    .status()
                    .expect("runs itself");
                assert!(status.success(), "size {tables} failed");
            }
        }
    }
}
