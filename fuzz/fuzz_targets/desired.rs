//! The desired-file parser on arbitrary bytes: it returns a value or an
//! error with a position inside the file, and never panics.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match pgsr_planner::desired::parse(data) {
        Ok(mut desired) => {
            // What the CLI does next: resolving passwords from lookups.
            let _ = desired.resolve_passwords(|_| Some("secret".to_owned()), |_| Ok(String::new()));
        }
        Err(e) => {
            // Line breaks as YAML counts them: `\r\n`, `\r`, `\n`.
            let breaks = data
                .iter()
                .enumerate()
                .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && data.get(i + 1) != Some(&b'\n')));
            let lines = breaks.count() + 1;
            assert!(
                e.span.line >= 1 && e.span.line <= lines.max(1),
                "line {} of {lines}: {e}",
                e.span.line
            );
            assert!(e.span.column >= 1, "column 0: {e}");
        }
    }
});
