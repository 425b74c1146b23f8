//! The snapshot reader on arbitrary bytes. A random input never carries a
//! matching fingerprint, so every input that has the shape of a snapshot is
//! also read a second time with its fingerprint recomputed: that reaches the
//! checks behind the fingerprint (format version, references) too.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pgsr_planner::snapshot::{from_json, to_json, Snapshot};

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Ok(mut shaped) = serde_json::from_slice::<Snapshot>(data) {
        shaped.fingerprint = shaped.compute_fingerprint();
        check(&to_json(&shaped));
    }
});

fn check(bytes: &[u8]) {
    match from_json(bytes) {
        // What is accepted is written back identically.
        Ok(snapshot) => {
            let again = from_json(&to_json(&snapshot)).expect("a written snapshot reads back");
            assert_eq!(again, snapshot);
        }
        Err(_) => {}
    }
}
