//! Every script the planner renders passes the checks `pgsr apply` makes
//! before sending anything: the header parses, and each statement has one
//! of the allowed shapes, as many as the header says, kind by kind.

#[path = "../../planner/tests/support/gen/mod.rs"]
mod gen;
#[path = "../../planner/tests/support/gen_privileges.rs"]
mod gen_privileges;
#[path = "../../planner/tests/support/mini.rs"]
mod mini;
#[path = "../../planner/tests/support/model/mod.rs"]
mod model;

use std::collections::BTreeMap;

use gen::Case;
use mini::{desired, snapshot};
use pgsr_executor::validate::validate_script;
use pgsr_planner::plan::{plan, render};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// `-- statements: 3 (create-role 1, grant 2)` as kind label -> count.
fn header_counts(script: &str) -> BTreeMap<String, usize> {
    let line = script
        .lines()
        .find_map(|l| l.strip_prefix("-- statements: "))
        .expect("a statements header line");
    let Some((_, detail)) = line.split_once(" (") else {
        return BTreeMap::new();
    };
    detail
        .trim_end_matches(')')
        .split(", ")
        .map(|item| {
            let (label, n) = item.rsplit_once(' ').expect("label and count");
            (label.to_owned(), n.parse().expect("a count"))
        })
        .collect()
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    let p = match plan(&case.snapshot, &case.desired, &case.options) {
        Ok(p) => p,
        // Refused: the desired file names no role to receive ownership
        // that acts with its owner's rights, the connecting role may not
        // change a database's owner, or it would have to act as a
        // superuser without being one (see the planner's properties).
        Err(e)
            if e.message
                .contains("taking it away would give it to the connecting role")
                || e.message.contains("has neither SUPERUSER nor CREATEDB")
                || (e.message.contains(" is a superuser, which ")
                    && !case.snapshot.connecting_role.superuser) =>
        {
            return Ok(())
        }
        Err(e) => return Err(TestCaseError::fail(format!("planning failed: {e}"))),
    };
    let script = render(&p);
    let parsed = pgsr_planner::script::parse(&script).map_err(|e| {
        TestCaseError::fail(format!("script::parse refused the plan: {e}\n{script}"))
    })?;
    let statements = validate_script(&parsed)
        .map_err(|e| TestCaseError::fail(format!("validation refused the plan: {e}\n{script}")))?;
    prop_assert_eq!(
        statements.len(),
        parsed.header.statement_count,
        "validated statements vs the header's count\n{}",
        script
    );
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for s in &statements {
        *kinds.entry(s.kind.label().to_owned()).or_default() += 1;
    }
    prop_assert_eq!(
        kinds,
        header_counts(&script),
        "statement kinds vs the header\n{}",
        script
    );
    Ok(())
}

/// A role named like a privilege is quoted in `GRANT role TO …`, so plans
/// granting it validate (the validator refuses a bare `GRANT usage TO alice`,
/// which PostgreSQL itself reads as a role grant).
#[test]
fn roles_named_like_privileges_validate() {
    let refused: Vec<String> = gen::PRIVILEGE_WORDS
        .iter()
        .filter_map(|word| {
            let d = desired(&format!(
                "roles:\n  - name: alice\n    grants:\n      - role_membership: {word}\n"
            ));
            let case = Case {
                snapshot: snapshot(150018, "postgres", true, &["alice"]),
                desired: d,
                options: Default::default(),
            };
            check(&case).err().map(|e| format!("{word}: {e}"))
        })
        .collect();
    assert!(
        refused.is_empty(),
        "plans granting roles named like privileges are refused:\n{}",
        refused.join("\n")
    );
}

/// The plans of the fixture cases (`fixtures/<case>/*.yaml` against its
/// `snapshot.json`) validate too.
#[test]
fn fixture_plans_validate() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut checked = 0;
    for dir in std::fs::read_dir(&root).expect("a fixtures directory") {
        let dir = dir.expect("a directory entry").path();
        let Ok(json) = std::fs::read(dir.join("snapshot.json")) else {
            continue;
        };
        if pgsr_planner::snapshot::is_cluster_json(&json) {
            checked += check_cluster_case(&dir, &json);
            continue;
        }
        let snapshot = pgsr_planner::snapshot::from_json(&json).expect("a snapshot");
        for file in std::fs::read_dir(&dir).expect("a case directory") {
            let file = file.expect("a directory entry").path();
            if file.extension().is_none_or(|e| e != "yaml") {
                continue;
            }
            let text = std::fs::read(&file).expect("readable");
            let case = Case {
                snapshot: snapshot.clone(),
                desired: pgsr_planner::desired::parse(&text).expect("a desired file"),
                options: Default::default(),
            };
            if let Err(e) = check(&case) {
                panic!("{}: {e}", file.display());
            }
            checked += 1;
        }
    }
    assert!(checked > 0, "no fixture plans under {}", root.display());
}

/// The multi-database plans of a case validate part by part, as many
/// statements as were planned; a part moved to another database, or a
/// script edited after planning, is refused.
fn check_cluster_case(dir: &std::path::Path, json: &[u8]) -> usize {
    use pgsr_executor::apply::Trust;
    use pgsr_executor::cluster::prepare_cluster;
    use pgsr_planner::plan::Part;
    use pgsr_planner::script::write_cluster;
    let cluster = pgsr_planner::snapshot::cluster_from_json(json).expect("a cluster snapshot");
    let mut checked = 0;
    for file in std::fs::read_dir(dir).expect("a case directory") {
        let file = file.expect("a directory entry").path();
        if file.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let desired = pgsr_planner::desired::parse(&std::fs::read(&file).expect("readable"))
            .expect("a desired file");
        let plan = pgsr_planner::plan::plan_cluster(&cluster, &desired, &Default::default())
            .expect("plans");
        let key = b"a plan key";
        let script = pgsr_planner::plan::render_cluster(&plan, Some(key));
        let trust = Trust {
            key: Some(key),
            expect_checksum: None,
        };
        let prepared = prepare_cluster(&script, &trust)
            .unwrap_or_else(|e| panic!("{}: {}", file.display(), e.message));
        let planned: usize = plan
            .parts
            .iter()
            .map(|p| pgsr_planner::plan::statements(p).len())
            .sum();
        let validated: usize = prepared.parts.iter().map(|(_, p)| p.statements.len()).sum();
        assert_eq!(planned, validated, "{}", file.display());
        assert!(prepared.parts.iter().all(|(_, p)| p.reviewed));
        // Signed with another key, or not signed at all: refused.
        let other = Trust {
            key: Some(b"another key"),
            expect_checksum: None,
        };
        assert!(prepare_cluster(&script, &other).is_err());
        let unsigned = pgsr_planner::plan::render_cluster(&plan, None);
        assert!(prepare_cluster(&unsigned, &trust).is_err());
        // A part's database renamed in the cluster header: the checksum
        // no longer matches.
        let first_db = &plan.parts[1].database.name;
        let moved = unsigned.replacen(
            &format!("-- part: database \"{first_db}\""),
            "-- part: database \"elsewhere\"",
            1,
        );
        let e = prepare_cluster(&moved, &Trust::default()).expect_err("refused");
        assert!(e.message.contains("checksum mismatch"), "{}", e.message);
        // Rewritten whole, with a fresh checksum, as someone without the
        // plan key could: the parts in another order, or the shared part
        // run in another database, are refused all the same.
        let parts: Vec<(Part, &str, String)> = plan
            .parts
            .iter()
            .map(|p| {
                (
                    p.part,
                    p.database.name.as_str(),
                    pgsr_planner::plan::render(p),
                )
            })
            .collect();
        let mut reordered = parts.clone();
        reordered.rotate_left(1);
        let e = prepare_cluster(
            &write_cluster(&plan.connected_database, &reordered, None),
            &Trust::default(),
        )
        .expect_err("refused");
        assert!(
            e.message.contains("runs its shared part first"),
            "{}",
            e.message
        );
        let e = prepare_cluster(&write_cluster(first_db, &parts, None), &Trust::default())
            .expect_err("refused");
        assert!(
            e.message.contains("outside the connected database"),
            "{}",
            e.message
        );
        checked += 1;
    }
    checked
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn rendered_plans_validate(case in gen::fixed_case()) {
        check(&case)?;
    }

    #[test]
    fn rendered_plans_with_awkward_names_validate(case in gen::arbitrary_case()) {
        check(&case)?;
    }
}
