//! The plan script reader and the statement validator on arbitrary text.
//!
//! A random input never carries a matching checksum, so each input is also
//! read with its checksum line recomputed (reaching the header fields), and
//! the validator runs on the body when the header is accepted and on the
//! whole text otherwise. Every accepted statement, validated again on its
//! own, must be exactly one statement of the same kind and text: a
//! statement the validator splits differently from how it was accepted
//! could hide another one.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pgsr_executor::validate::validate_statements;
use pgsr_planner::script;
use sha2::{Digest, Sha256};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return; // `pgsr apply` refuses a file that is not UTF-8 before parsing.
    };
    match script::parse(text) {
        Ok(parsed) => validate(parsed.body, parsed.body_first_line),
        Err(_) => validate(text, 1),
    }
    if let Some(signed) = signed(text) {
        if let Ok(parsed) = script::parse(&signed) {
            validate(parsed.body, parsed.body_first_line);
        }
    }
});

fn validate(body: &str, first_line: usize) {
    let total_lines = first_line + body.matches('\n').count();
    match validate_statements(body, first_line) {
        Ok(statements) => {
            for s in statements {
                assert!(s.line >= first_line && s.line <= total_lines);
                let alone = validate_statements(&format!("{};\n", s.sql), 1).unwrap_or_else(|e| {
                    panic!("{:?} accepted in the script, refused alone: {e}", s.sql)
                });
                assert_eq!(alone.len(), 1, "{:?} is more than one statement", s.sql);
                assert_eq!(alone[0].kind, s.kind);
                assert_eq!(alone[0].sql, s.sql);
            }
        }
        Err(_) => {}
    }
}

/// `text` with the value of its header's checksum line replaced by the
/// right one (the SHA-256 of every other byte), as `pgsr plan` writes it.
fn signed(text: &str) -> Option<String> {
    let mut start = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let content = line.trim_end_matches(['\n', '\r']);
        if i > 0 && content.is_empty() {
            return None;
        }
        if i > 0 && content.starts_with("-- checksum: ") {
            let end = start + line.len();
            let mut h = Sha256::new();
            h.update(&text.as_bytes()[..start]);
            h.update(&text.as_bytes()[end..]);
            let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
            let newline = if line.ends_with('\n') { "\n" } else { "" };
            return Some(format!(
                "{}-- checksum: sha256:{hex}{newline}{}",
                &text[..start],
                &text[end..]
            ));
        }
        start += line.len();
    }
    None
}
