//! Client certificates (`sslcert`, `sslkey`, `sslpassword`): the identity
//! pgsr shows a server that authenticates clients by certificate
//! (`clientcert=verify-full` or the `cert` method in `pg_hba.conf`).
//!
//! The key is read as libpq reads it: PEM, in any of OpenSSL's forms
//! (PKCS#8, PKCS#1, SEC1), encrypted when `sslpassword` is given, and
//! refused when other users may read it. The password is never shown.

use crate::Error;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::PKey;
use openssl::stack::Stack;
use openssl::x509::X509;
use std::io::Read;

/// A certificate or key file larger than this is the wrong file.
const MAX_BYTES: u64 = 1 << 20;

/// The identity in `cert` and `key`, the key decrypted with `password`.
pub fn identity(
    cert: &str,
    key: &str,
    password: Option<&str>,
) -> Result<native_tls::Identity, Error> {
    let certs = X509::stack_from_pem(&read(cert, "sslcert")?).map_err(|e| {
        Error::usage(format!(
            "sslcert {cert}: not a PEM certificate: {}",
            first(&e)
        ))
    })?;
    let mut certs = certs.into_iter();
    let leaf = certs
        .next()
        .ok_or_else(|| Error::usage(format!("sslcert {cert} holds no PEM certificate")))?;
    check_mode(key)?;
    let pem = read(key, "sslkey")?;
    let pkey = match password {
        Some(p) => PKey::private_key_from_pem_passphrase(&pem, p.as_bytes()),
        // No prompt for a passphrase (OpenSSL's default): an encrypted
        // key without sslpassword is an error, not a question.
        None => PKey::private_key_from_pem_callback(&pem, |_| Ok(0)),
    }
    .map_err(|_| {
        Error::usage(format!(
            "sslkey {key}: cannot read the private key (not a PEM key, or encrypted and sslpassword{} wrong)",
            if password.is_some() { " is" } else { " is not given or" }
        ))
    })?;
    let mut chain = Stack::new().map_err(|e| Error::connection(first(&e)))?;
    for c in certs {
        chain.push(c).map_err(|e| Error::connection(first(&e)))?;
    }
    // native-tls takes an identity as PKCS#12; this one never leaves the
    // process, so its own password is empty.
    let mut builder = Pkcs12::builder();
    builder.name("pgsr").pkey(&pkey).cert(&leaf).ca(chain);
    let der = builder
        .build2("")
        .and_then(|p| p.to_der())
        .map_err(|_| Error::usage(format!("sslcert {cert} and sslkey {key} do not make an identity (is the key the certificate's?)")))?;
    native_tls::Identity::from_pkcs12(&der, "")
        .map_err(|e| Error::connection(format!("cannot set up the client certificate: {e}")))
}

fn read(path: &str, what: &str) -> Result<Vec<u8>, Error> {
    let fail = |reason: String| Error::usage(format!("cannot read {what} {path}: {reason}"));
    let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(fail("it is larger than 1 MiB".into()));
    }
    Ok(bytes)
}

/// libpq's rule: a key owned by the user may be read by the user alone
/// (0600 or less); one owned by root may also be read by its group (0640).
fn check_mode(path: &str) -> Result<(), Error> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::usage(format!("cannot read sslkey {path}: {e}")))?;
    let mode = meta.mode() & 0o777;
    let allowed = if meta.uid() == 0 { 0o640 } else { 0o600 };
    if mode & !allowed != 0 {
        return Err(Error::usage(format!(
            "sslkey {path} has permissions {mode:04o}: other users may read it; it must be u=rw (0600) or less{}",
            if meta.uid() == 0 { ", or u=rw,g=r (0640) when root owns it" } else { "" }
        )));
    }
    Ok(())
}

fn first(e: &openssl::error::ErrorStack) -> String {
    e.errors()
        .first()
        .and_then(|e| e.reason())
        .unwrap_or("unknown error")
        .to_owned()
}
