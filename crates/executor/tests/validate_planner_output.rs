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
        // that acts with its owner's rights, or the connecting role may not
        // change a database's owner (see the planner's properties).
        Err(e)
            if e.message
                .contains("taking it away would give it to the connecting role")
                || e.message.contains("has neither SUPERUSER nor CREATEDB") =>
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
