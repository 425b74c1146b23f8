//! The committed fixture snapshots match what their setup.sql produces.

use pgsr_e2e::fixtures::{cases, fixtures_dir, regenerate};
use serde_json::Value;

/// The snapshot as JSON, less `server_version_num`: the minor release of
/// PostgreSQL 15 differs between machines and nothing else depends on it.
fn comparable(bytes: &[u8], what: &str) -> Value {
    let mut value: Value =
        serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{what} is not JSON: {e}"));
    value
        .as_object_mut()
        .unwrap_or_else(|| panic!("{what} is not a JSON object"))
        .remove("server_version_num");
    value
}

/// Named `fixtures_are_current::pg15` so that the usual `::pg15` filter
/// selects it: fixtures are generated on PostgreSQL 15 only.
mod fixtures_are_current {
    use super::*;

    #[test]
    fn pg15() {
        let cases = cases();
        assert!(!cases.is_empty(), "no fixtures/<case>/setup.sql found");
        for case in cases {
            let committed_path = fixtures_dir().join(&case).join("snapshot.json");
            let committed = std::fs::read(&committed_path).unwrap_or_else(|e| {
                panic!(
                    "{}: {e}: run `cargo run -p pgsr-e2e --bin regen-fixtures {case}`",
                    committed_path.display()
                )
            });
            let tmp = tempfile::tempdir().unwrap();
            let fresh = std::fs::read(regenerate(&case, tmp.path())).unwrap();
            let (committed_value, fresh_value) = (
                comparable(&committed, "the committed snapshot"),
                comparable(&fresh, "the regenerated snapshot"),
            );
            if committed_value != fresh_value {
                let fresh_text = String::from_utf8_lossy(&fresh);
                let committed_text = String::from_utf8_lossy(&committed);
                let first_difference = committed_text
                    .lines()
                    .zip(fresh_text.lines())
                    .enumerate()
                    .find(|(_, (a, b))| a != b && !a.contains("server_version_num"))
                    .map(|(i, (a, b))| {
                        format!("line {}:\n  committed: {a}\n  now:       {b}", i + 1)
                    })
                    .unwrap_or_else(|| "(the files differ in length)".to_owned());
                panic!(
                    "fixtures/{case}/snapshot.json is out of date with its setup.sql; \
                     regenerate it with `cargo run -p pgsr-e2e --bin regen-fixtures {case}` \
                     and review the diff. First difference at {first_difference}"
                );
            }
        }
    }
}
