//! SCRAM-SHA-256 verifiers, so that plans never carry a plaintext password.
//!
//! PostgreSQL stores a password given in verifier form as it is. The salt is
//! derived from the password and the role name (HMAC-SHA-256) rather than
//! drawn at random, because the planner must be deterministic: the same
//! inputs give the same plan, byte for byte.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

const ITERATIONS: u32 = 4096;

type HmacSha256 = Hmac<Sha256>;

/// The `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` verifier
/// of `password` for `role`.
pub fn verifier(role: &str, password: &str) -> String {
    // PostgreSQL normalizes with SASLprep and falls back to the raw bytes
    // when the password is not valid for it; do the same so logins match.
    let prepared = stringprep::saslprep(password)
        .map(|p| p.into_owned())
        .unwrap_or_else(|_| password.to_owned());
    let password = prepared.as_bytes();
    let mut salt_mac = hmac(password, b"pgsr scram salt\0");
    salt_mac.update(role.as_bytes());
    let salt = &salt_mac.finalize().into_bytes()[..16];
    let salted = hi(password, salt, ITERATIONS);
    let client_key = mac(&salted, b"Client Key");
    let stored_key = Sha256::digest(client_key);
    let server_key = mac(&salted, b"Server Key");
    format!(
        "SCRAM-SHA-256${ITERATIONS}:{}${}:{}",
        base64(salt),
        base64(&stored_key),
        base64(&server_key)
    )
}

fn hmac(key: &[u8], data: &[u8]) -> HmacSha256 {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(data);
    m
}

fn mac(key: &[u8], data: &[u8]) -> [u8; 32] {
    hmac(key, data).finalize().into_bytes().into()
}

/// PBKDF2-HMAC-SHA-256 with one block: RFC 5802's `Hi()`.
fn hi(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut first = hmac(password, salt);
    first.update(&1u32.to_be_bytes());
    let mut u: [u8; 32] = first.finalize().into_bytes().into();
    let mut result = u;
    for _ in 1..iterations {
        u = mac(password, &u);
        for (r, x) in result.iter_mut().zip(u.iter()) {
            *r ^= x;
        }
    }
    result
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn pbkdf2_matches_published_vector() {
        // RFC 7914 section 11, PBKDF2-HMAC-SHA256 with one iteration.
        let out = hi(b"passwd", b"salt", 1);
        assert_eq!(hex(&out[..8]), "55ac046e56e3089f");
    }

    #[test]
    fn verifier_is_deterministic_and_salted_per_role() {
        let a = verifier("alice", "secret");
        assert_eq!(a, verifier("alice", "secret"));
        assert_ne!(a, verifier("bob", "secret"));
        assert!(a.starts_with("SCRAM-SHA-256$4096:"));
        assert!(!a.contains("secret"));
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
