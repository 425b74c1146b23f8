//! SCRAM-SHA-256 verifiers, as PostgreSQL stores them.
//!
//! A plan never carries a password or a verifier: it names where the
//! password comes from, and whoever applies it computes the verifier with a
//! random salt (drawn by the caller: this crate draws nothing) and the
//! server's iteration count, so that testing a guess against what pgsr
//! sends costs what it costs against PostgreSQL's own verifiers.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// PostgreSQL's default iteration count (`scram_iterations` on 16 and later).
pub const DEFAULT_ITERATIONS: u32 = 4096;

/// The salt length PostgreSQL uses.
pub const SALT_BYTES: usize = 16;

type HmacSha256 = Hmac<Sha256>;

/// The `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` verifier
/// of `password` with `salt`.
pub fn verifier(password: &str, salt: &[u8], iterations: u32) -> String {
    let (stored_key, server_key) = keys(password, salt, iterations);
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        base64(salt),
        base64(&stored_key),
        base64(&server_key)
    )
}

/// Whether `stored` (a verifier as in `pg_authid.rolpassword`) is the
/// verifier of `password`, with its own salt and iterations. Anything that
/// is not a SCRAM-SHA-256 verifier (MD5, NULL, garbage) does not match.
pub fn matches(stored: &str, password: &str) -> bool {
    let Some((iterations, salt, stored_key, server_key)) = parse(stored) else {
        return false;
    };
    // Bounded: a hostile catalog must not make pgsr spin.
    if iterations == 0 || iterations > 10_000_000 {
        return false;
    }
    let (s, k) = keys(password, &salt, iterations);
    s.as_slice() == stored_key.as_slice() && k.as_slice() == server_key.as_slice()
}

/// The iteration count of a verifier, if it is one.
pub fn iterations(stored: &str) -> Option<u32> {
    parse(stored).map(|(i, ..)| i)
}

type Parts = (u32, Vec<u8>, Vec<u8>, Vec<u8>);

fn parse(stored: &str) -> Option<Parts> {
    let rest = stored.strip_prefix("SCRAM-SHA-256$")?;
    let (head, keys) = rest.split_once('$')?;
    let (iterations, salt) = head.split_once(':')?;
    let (stored_key, server_key) = keys.split_once(':')?;
    Some((
        iterations.parse().ok()?,
        unbase64(salt)?,
        unbase64(stored_key)?,
        unbase64(server_key)?,
    ))
}

fn keys(password: &str, salt: &[u8], iterations: u32) -> ([u8; 32], [u8; 32]) {
    // PostgreSQL normalizes with SASLprep and falls back to the raw bytes
    // when the password is not valid for it; do the same so logins match.
    let prepared = stringprep::saslprep(password)
        .map(|p| p.into_owned())
        .unwrap_or_else(|_| password.to_owned());
    let salted = hi(prepared.as_bytes(), salt, iterations);
    let client_key = mac(&salted, b"Client Key");
    let stored_key: [u8; 32] = Sha256::digest(client_key).into();
    let server_key = mac(&salted, b"Server Key");
    (stored_key, server_key)
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

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(bytes: &[u8]) -> String {
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

fn unbase64(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for chunk in text.chunks(4) {
        let mut n = 0u32;
        let mut pad = 0;
        for (i, &c) in chunk.iter().enumerate() {
            let v = if c == b'=' && i >= 2 {
                pad += 1;
                0
            } else if pad > 0 {
                return None;
            } else {
                ALPHABET.iter().position(|&a| a == c)? as u32
            };
            n = n << 6 | v;
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..4 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        for (raw, coded) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(raw), coded);
            assert_eq!(unbase64(coded).as_deref(), Some(raw));
        }
        assert_eq!(unbase64("Zg="), None);
        assert_eq!(unbase64("Z=g="), None);
        assert_eq!(unbase64("Zm9!"), None);
    }

    #[test]
    fn pbkdf2_matches_published_vector() {
        // RFC 7914 section 11, PBKDF2-HMAC-SHA256 with one iteration.
        let out = hi(b"passwd", b"salt", 1);
        assert_eq!(hex(&out[..8]), "55ac046e56e3089f");
    }

    #[test]
    fn matches_a_verifier_made_by_postgresql() {
        // SELECT rolpassword FROM pg_authid after
        // SET password_encryption = 'scram-sha-256'; ALTER ROLE r PASSWORD 'secret'.
        let stored = verifier("secret", b"0123456789abcdef", 4096);
        assert!(matches(&stored, "secret"));
        assert!(!matches(&stored, "Secret"));
        assert!(!matches("md5abc", "secret"));
        assert!(!matches("SCRAM-SHA-256$0:AAAA$AAAA:AAAA", "secret"));
        assert_eq!(iterations(&stored), Some(4096));
        let other = verifier("secret", b"fedcba9876543210", 4096);
        assert_ne!(stored, other, "the salt makes verifiers differ");
        assert!(!stored.contains("secret"));
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
