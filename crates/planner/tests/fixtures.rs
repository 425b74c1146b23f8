//! Plans of the desired files in `fixtures/<case>/*.yaml` against the
//! catalog `fixtures/<case>/snapshot.json` read by `pgsr inspect`, checked
//! as reviewed snapshots (`tests/snapshots/<case>__<file>.snap`).

// Tests and benchmarks read fixtures and clocks; the planner itself does not.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use pgsr_planner::desired::Desired;
use pgsr_planner::plan::{
    document_cluster, plan, plan_cluster, render, render_cluster, Action, Part, PlanOptions,
};
use pgsr_planner::snapshot::{
    cluster_from_json, from_json, is_cluster_json, ClusterSnapshot, Role, Snapshot,
};
use support::{mini, model};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// Each case with a snapshot, and its desired files by name.
fn cases() -> Vec<(String, Vec<PathBuf>)> {
    let mut cases = Vec::new();
    let dirs = fs::read_dir(fixtures_dir()).expect("a fixtures directory");
    for dir in dirs.map(|d| d.expect("a directory entry").path()) {
        if !dir.join("snapshot.json").is_file() {
            continue;
        }
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .expect("a readable case directory")
            .map(|f| f.expect("a directory entry").path())
            .filter(|f| f.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        let name = dir.file_name().expect("a name").to_string_lossy().into();
        cases.push((name, files));
    }
    cases.sort();
    cases
}

/// Whether a case's snapshot holds several databases.
fn is_cluster(case: &str) -> bool {
    let path = fixtures_dir().join(case).join("snapshot.json");
    is_cluster_json(&fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Each case of one database, and its desired files.
fn single_cases() -> Vec<(String, Vec<PathBuf>)> {
    cases()
        .into_iter()
        .filter(|(c, _)| !is_cluster(c))
        .collect()
}

fn read_cluster(case: &str) -> ClusterSnapshot {
    let path = fixtures_dir().join(case).join("snapshot.json");
    let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    cluster_from_json(&bytes).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
}

/// Multi-database cases: the script and the JSON document of each desired
/// file, as reviewed.
#[test]
fn cluster_desired_files_plan_as_reviewed() {
    let cases: Vec<_> = cases().into_iter().filter(|(c, _)| is_cluster(c)).collect();
    assert!(!cases.is_empty(), "no multi-database fixture");
    for (case, files) in cases {
        let cluster = read_cluster(&case);
        for file in files {
            let desired = read_desired(&file);
            let name = format!("{case}__{}", stem(&file));
            let p = plan_cluster(&cluster, &desired, &PlanOptions::default())
                .unwrap_or_else(|e| panic!("{name}: planning failed: {e}"));
            let yaml = fs::read_to_string(&file).expect("read above");
            let script = render_cluster(&p, None);
            settings(&yaml).bind(|| insta::assert_snapshot!(name.clone(), script));
            let json = format!("{name}__json");
            let doc = document_cluster(&p, None);
            let value: serde_json::Value = serde_json::from_str(&doc).expect("JSON");
            assert_valid(&plan_schema(), &json, &value);
            settings(&json).bind(|| insta::assert_snapshot!(json, doc));
        }
    }
}

/// Applying each part of a multi-database plan to the model of each
/// database it runs in (the shared and last parts to every database, as
/// they change catalogs every database sees) leaves nothing to do.
#[test]
fn cluster_desired_files_converge() {
    for (case, files) in cases().into_iter().filter(|(c, _)| is_cluster(c)) {
        let cluster = read_cluster(&case);
        for file in files {
            let desired = read_desired(&file);
            if !desired.retired.is_empty() {
                // The model has no REASSIGN/DROP OWNED: tests/databases.rs
                // retires across databases on PostgreSQL.
                continue;
            }
            let name = format!("{case}/{}", stem(&file));
            let first = plan_cluster(&cluster, &desired, &PlanOptions::default()).expect("plans");
            let shared = &first.parts[0];
            let last = first.parts.last().expect("a last part");
            let mut after = cluster.clone();
            for section in &mut after.databases {
                let own = first
                    .parts
                    .iter()
                    .find(|p| p.part == Part::Database && p.database.name == section.database.name);
                let mut s = section.clone();
                for part in [Some(shared), own, Some(last)].into_iter().flatten() {
                    s = model::apply(&s, part)
                        .unwrap_or_else(|e| {
                            panic!(
                                "{name}: PostgreSQL would refuse {:?} part of {}: {e}",
                                part.part, part.database.name
                            )
                        })
                        .snapshot;
                }
                s.canonicalize();
                *section = s;
            }
            let second = plan_cluster(&after, &desired, &PlanOptions::default()).expect("plans");
            for part in &second.parts {
                assert!(
                    part.steps.is_empty(),
                    "{name}: the next plan's {:?} part for {} is not empty:\n{}",
                    part.part,
                    part.database.name,
                    mini::statements(part)
                );
            }
        }
    }
}

fn read_snapshot(case: &str) -> Snapshot {
    let path = fixtures_dir().join(case).join("snapshot.json");
    let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    from_json(&bytes).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
}

fn read_desired(path: &Path) -> Desired {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    pgsr_planner::desired::parse(&bytes).unwrap_or_else(|e| panic!("{}:{e}", path.display()))
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .expect("a file name")
        .to_string_lossy()
        .into()
}

fn settings(description: &str) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    s.set_description(description);
    s
}

#[test]
fn desired_files_plan_as_reviewed() {
    let cases = single_cases();
    assert!(
        cases.iter().any(|(_, files)| !files.is_empty()),
        "no fixture case with desired files under {}",
        fixtures_dir().display()
    );
    for (case, files) in cases {
        let snapshot = read_snapshot(&case);
        for file in files {
            let desired = read_desired(&file);
            let name = format!("{case}__{}", stem(&file));
            let p = plan(&snapshot, &desired, &PlanOptions::default())
                .unwrap_or_else(|e| panic!("{name}: planning failed: {e}"));
            let yaml = fs::read_to_string(&file).expect("read above");
            settings(&yaml).bind(|| insta::assert_snapshot!(name, render(&p)));
        }
    }
}

/// The checked-in schema of the plan document (`docs/plan.schema.json`).
fn plan_schema() -> jsonschema::Validator {
    let path = fixtures_dir().join("../docs/plan.schema.json");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("a valid JSON schema")
}

#[track_caller]
fn assert_valid(schema: &jsonschema::Validator, name: &str, doc: &serde_json::Value) {
    let errors: Vec<String> = schema
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{name}: not as docs/plan.schema.json says:\n{}",
        errors.join("\n")
    );
}

/// The schema refuses what the document must not be: it is no schema that
/// anything passes.
#[test]
fn the_plan_schema_refuses_what_is_not_a_plan() {
    let schema = plan_schema();
    let (case, files) = single_cases()
        .into_iter()
        .find(|(_, f)| !f.is_empty())
        .expect("a case");
    let snapshot = read_snapshot(&case);
    let p = plan(&snapshot, &read_desired(&files[0]), &PlanOptions::default()).expect("plans");
    let good: serde_json::Value =
        serde_json::from_str(&pgsr_planner::plan::document(&p)).expect("JSON");
    assert_valid(&schema, "the plan", &good);
    type Spoil = fn(&mut serde_json::Value);
    let spoiled: [(&str, Spoil); 6] = [
        ("no statements", |d| {
            d.as_object_mut().unwrap().remove("statements");
        }),
        ("an unknown field", |d| d["extra"] = 1.into()),
        ("a bad checksum", |d| d["checksum"] = "md5:0".into()),
        (
            "a statement of no known kind",
            |d| d["statements"] = serde_json::json!([{"kind": "drop-table", "objects": [], "grantees": [], "reason": "", "sql": ""}]),
        ),
        (
            "a statement without grantees",
            |d| {
                d["statements"] =
                    serde_json::json!([{"kind": "grant", "objects": [], "reason": "", "sql": ""}])
            },
        ),
        ("a part outside a cluster plan", |d| {
            d["part"] = "database".into()
        }),
    ];
    for (what, spoil) in spoiled {
        let mut bad = good.clone();
        spoil(&mut bad);
        assert!(!schema.is_valid(&bad), "the schema accepts {what}");
    }
}

/// The same plans as the JSON document CI reads (`plan --format json`).
#[test]
fn desired_files_plan_as_json_documents() {
    let schema = plan_schema();
    for (case, files) in single_cases() {
        let snapshot = read_snapshot(&case);
        for file in files {
            let desired = read_desired(&file);
            let name = format!("{case}__{}__json", stem(&file));
            let p = plan(&snapshot, &desired, &PlanOptions::default()).expect("plans");
            let doc = pgsr_planner::plan::document(&p);
            let value: serde_json::Value = serde_json::from_str(&doc).expect("JSON");
            assert_eq!(
                value["format_version"],
                pgsr_planner::plan::DOCUMENT_VERSION
            );
            assert_eq!(
                value["statements"].as_array().map(Vec::len),
                Some(pgsr_planner::plan::statements(&p).len())
            );
            assert_valid(&schema, &name, &value);
            settings(&name).bind(|| insta::assert_snapshot!(name, doc));
        }
    }
}

/// Applying each fixture plan (to the model of PostgreSQL) leaves nothing
/// to do.
#[test]
fn desired_files_converge() {
    let mut failures = Vec::new();
    for (case, files) in single_cases() {
        let snapshot = read_snapshot(&case);
        for file in files {
            let desired = read_desired(&file);
            let name = format!("{case}/{}", stem(&file));
            let first = plan(&snapshot, &desired, &PlanOptions::default()).expect("plans");
            match model::apply(&snapshot, &first) {
                Err(e) => failures.push(format!("{name}: PostgreSQL would refuse the plan: {e}")),
                Ok(applied) => {
                    let second =
                        plan(&applied.snapshot, &desired, &PlanOptions::default()).expect("plans");
                    if !applied.warnings.is_empty() {
                        failures.push(format!(
                            "{name}: statements that change nothing: {:?}",
                            applied.warnings
                        ));
                    }
                    // Passwords are never read back, so a literal one is
                    // set again by every plan.
                    let rest: Vec<_> = second
                        .steps
                        .iter()
                        .filter(|s| !is_password_only(&s.action))
                        .collect();
                    if !rest.is_empty() {
                        failures.push(format!(
                            "{name}: the next plan is not empty:\n{}",
                            mini::statements(&second)
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn is_password_only(action: &Action) -> bool {
    matches!(action, Action::SetPassword { .. })
}

#[test]
fn strict_turns_the_first_skip_into_an_error() {
    let snapshot = read_snapshot("warehouse");
    let desired = read_desired(&fixtures_dir().join("warehouse/skipped.yaml"));
    let lenient = plan(&snapshot, &desired, &PlanOptions::default()).expect("plans");
    assert_eq!(lenient.skipped.len(), 6, "skipped: {:#?}", lenient.skipped);
    let strict = PlanOptions {
        strict: true,
        ..PlanOptions::default()
    };
    let error = plan(&snapshot, &desired, &strict).expect_err("--strict refuses skips");
    // Ownership grants are resolved first, so table_ownership is the first
    // skip met, though it comes last in the file.
    assert_eq!(
        error.to_string(),
        "12:9: analysts: table_ownership sales.gone: table sales.gone does not exist (--strict)"
    );
}

/// Intermediate roles with no privilege anywhere are dropped, those of
/// other databases and those in use are kept.
#[test]
fn drop_unused_drops_only_idle_intermediate_roles_of_this_database() {
    let mut snapshot = read_snapshot("warehouse");
    let role = |name: &str, oid: u32| Role::new(name, oid);
    let in_use = "_pgsr_local_16384_schema_usage_00000004";
    for (i, name) in [
        "_pgsr_local_16384_table_select_00000001",
        "_pgsr_global_database_connect_00000002",
        "_pgsr_local_99999_schema_usage_00000003",
        in_use,
    ]
    .into_iter()
    .enumerate()
    {
        snapshot.catalog.roles.push(role(name, 90000 + i as u32));
    }
    let sales = snapshot
        .catalog
        .schemas
        .iter_mut()
        .find(|s| s.name == "sales")
        .expect("schema sales");
    let acl = sales.acl.as_mut().expect("sales has an ACL");
    acl.extend(mini::acl(&[&format!("{in_use}=U/postgres")]).expect("an ACL"));
    snapshot.canonicalize();

    let desired = read_desired(&fixtures_dir().join("warehouse/analysts.yaml"));
    let options = PlanOptions {
        drop_unused: true,
        ..PlanOptions::default()
    };
    let p = plan(&snapshot, &desired, &options).expect("plans");
    let sql = mini::statements(&p);
    assert!(
        sql.contains(
            "DROP ROLE _pgsr_global_database_connect_00000002, _pgsr_local_16384_table_select_00000001;"
        ),
        "{sql}"
    );
    assert!(
        !sql.contains("DROP ROLE _pgsr_local_99999")
            && !sql.contains(&format!("DROP ROLE {in_use}")),
        "{sql}"
    );
    assert!(
        sql.contains(&format!("GRANT {in_use} TO analysts;")),
        "the existing intermediate role for USAGE on sales is reused:\n{sql}"
    );
    settings("analysts.yaml with drop_unused, four intermediate roles added")
        .bind(|| insta::assert_snapshot!("warehouse__analysts__drop_unused", render(&p)));
}

#[test]
fn passwords_are_planned_as_their_sources() {
    let snapshot = read_snapshot("warehouse");
    let desired = read_desired(&fixtures_dir().join("warehouse/password.yaml"));
    let script = render(&plan(&snapshot, &desired, &PlanOptions::default()).expect("plans"));
    for part in ["correct horse battery staple", "correct", "horse", "staple"] {
        assert!(
            !script.contains(part),
            "the script shows the password:\n{script}"
        );
    }
    assert!(
        !script.contains("SCRAM-SHA-256"),
        "the script holds a verifier:\n{script}"
    );
    assert!(
        script.contains("ALTER ROLE alice WITH PASSWORD :'password_1';")
            && script.contains("-- password: password_1 \"alice\" desired-file\n"),
        "alice's password is not named by its source:\n{script}"
    );
    assert!(
        script.contains("ALTER ROLE bob WITH NOLOGIN PASSWORD NULL"),
        "bob keeps his login:\n{script}"
    );
}
