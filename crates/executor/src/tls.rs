//! TLS for libpq's `prefer` and `require`: encryption without
//! authentication of the server, so without trust roots.
//!
//! These modes use rustls (with ring's cryptography), not OpenSSL: a
//! process that syncs once spends most of its time starting up, and
//! OpenSSL 3 takes about 2 ms of it to read its configuration file and
//! build a context (`SSL_CTX_new` fetches every algorithm of its
//! providers), where rustls builds its configuration in microseconds and
//! reads nothing from disk. `verify-ca` and `verify-full` use `native-tls`
//! (OpenSSL), which loads the trust roots and checks the chain and the
//! name as libpq does.
//!
//! The server's certificate is not checked against any root, as libpq
//! does not in these modes, but the handshake's signature is checked with
//! the certificate's key (a server cannot present a certificate whose key
//! it does not hold), and the certificate's hash is the channel binding of
//! SCRAM-SHA-256-PLUS, as with OpenSSL.

use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{ring, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::client::TlsStream as RustlsStream;

/// Makes TLS sessions that accept any server certificate, as libpq does
/// in `sslmode=prefer` and `require` without a root certificate.
#[derive(Clone)]
pub struct Unverified {
    /// Sends the host name (SNI).
    named: Arc<ClientConfig>,
    /// For a host that is an address (or no host name): no SNI, as libpq.
    unnamed: Arc<ClientConfig>,
}

impl Unverified {
    /// A configuration with no trust store: nothing is read from disk.
    pub fn new() -> Result<Unverified, rustls::Error> {
        let mut provider = ring::default_provider();
        // The key share sent first is for P-256: PostgreSQL up to 17 accepts
        // only that group by default (`ssl_ecdh_curve = prime256v1`), so a
        // first share for X25519 costs a HelloRetryRequest, a round trip and
        // a second key; PostgreSQL 18 accepts both.
        provider.kx_groups = vec![
            ring::kx_group::SECP256R1,
            ring::kx_group::X25519,
            ring::kx_group::SECP384R1,
        ];
        let provider = Arc::new(provider);
        let verifier = Arc::new(AnyCertificate {
            algorithms: provider.signature_verification_algorithms,
        });
        // TLS 1.2 and 1.3: libpq's default ssl_min_protocol_version is 1.2.
        let config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        let mut unnamed = config.clone();
        unnamed.enable_sni = false;
        Ok(Unverified {
            named: Arc::new(config),
            unnamed: Arc::new(unnamed),
        })
    }
}

impl<S> MakeTlsConnect<S> for Unverified
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Stream<S>;
    type TlsConnect = Connect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<Connect, io::Error> {
        // Server name indication, as libpq (sslsni=1) sends it: for host
        // names only, never for addresses. The name is not checked (no
        // certificate is), so any placeholder will do without SNI.
        let named = if domain.parse::<std::net::IpAddr>().is_ok() {
            None
        } else {
            ServerName::try_from(domain.to_owned()).ok()
        };
        Ok(match named {
            Some(name) => Connect {
                config: self.named.clone(),
                name,
            },
            None => Connect {
                config: self.unnamed.clone(),
                name: ServerName::IpAddress(std::net::Ipv4Addr::UNSPECIFIED.into()),
            },
        })
    }
}

/// One handshake to make.
pub struct Connect {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for Connect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Stream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Stream<S>, io::Error>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let tls = tokio_rustls::TlsConnector::from(self.config)
                .connect(self.name, stream)
                .await?;
            Ok(Stream(tls))
        })
    }
}

/// An established TLS session.
pub struct Stream<S>(RustlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Stream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for Stream<S> {
    /// `tls-server-end-point`, for SCRAM-SHA-256-PLUS.
    fn channel_binding(&self) -> ChannelBinding {
        let (_, session) = self.0.get_ref();
        match session
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|cert| server_end_point(cert))
        {
            Some(hash) => ChannelBinding::tls_server_end_point(hash),
            None => ChannelBinding::none(),
        }
    }
}

/// Accepts any certificate; checks the handshake's signature with the
/// certificate's public key.
#[derive(Debug)]
struct AnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl AnyCertificate {
    /// The signature `dss` of `message` by the key of `cert`, checked with
    /// the algorithm of its scheme for that kind of key. Only the key is
    /// read from the certificate (no other field is parsed, so a version 1
    /// certificate, as OpenSSL accepts, does too).
    fn verify(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let bad = |what: &str| {
            rustls::Error::General(format!("the server's certificate is malformed: {what}"))
        };
        let (key_algorithm, key) =
            public_key(cert).ok_or_else(|| bad("no subject public key info"))?;
        let candidates = self
            .algorithms
            .mapping
            .iter()
            .find(|(scheme, _)| *scheme == dss.scheme)
            .map(|(_, algorithms)| *algorithms)
            .ok_or(rustls::Error::PeerMisbehaved(
                rustls::PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme,
            ))?;
        let algorithm = candidates
            .iter()
            .find(|a| a.public_key_alg_id().as_ref() == key_algorithm)
            .ok_or_else(|| {
                rustls::Error::General(
                    "the server signed with a scheme its certificate's key is not for".into(),
                )
            })?;
        algorithm
            .verify_signature(key, message, dss.signature())
            .map(|()| HandshakeSignatureValid::assertion())
            .map_err(|_| rustls::Error::InvalidCertificate(rustls::CertificateError::BadSignature))
    }
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verify(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        // TLS 1.3 forbids PKCS #1 v1.5 and SHA-1 signatures (RFC 8446,
        // 4.2.3).
        let tls13 = matches!(
            dss.scheme,
            SignatureScheme::ECDSA_NISTP256_SHA256
                | SignatureScheme::ECDSA_NISTP384_SHA384
                | SignatureScheme::ECDSA_NISTP521_SHA512
                | SignatureScheme::RSA_PSS_SHA256
                | SignatureScheme::RSA_PSS_SHA384
                | SignatureScheme::RSA_PSS_SHA512
                | SignatureScheme::ED25519
                | SignatureScheme::ED448
        );
        if !tls13 {
            return Err(rustls::Error::PeerMisbehaved(
                rustls::PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme,
            ));
        }
        self.verify(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// One DER element: its tag, its contents, and what follows it.
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

const SEQUENCE: u8 = 0x30;

/// The certificate's parts: to-be-signed, signature algorithm.
fn certificate(cert: &[u8]) -> Option<(&[u8], &[u8])> {
    let (SEQUENCE, body, _) = der(cert)? else {
        return None;
    };
    let (SEQUENCE, tbs, rest) = der(body)? else {
        return None;
    };
    let (SEQUENCE, algorithm, _) = der(rest)? else {
        return None;
    };
    Some((tbs, algorithm))
}

/// The subject's public key: its algorithm identifier (the contents of
/// the DER sequence) and the key (the bit string's bits).
fn public_key(cert: &[u8]) -> Option<(&[u8], &[u8])> {
    let (tbs, _) = certificate(cert)?;
    let mut rest = tbs;
    // The version, [0] EXPLICIT, absent in version 1 certificates.
    if rest.first() == Some(&0xa0) {
        rest = der(rest)?.2;
    }
    // Serial number, signature algorithm, issuer, validity, subject.
    for _ in 0..5 {
        rest = der(rest)?.2;
    }
    let (SEQUENCE, spki, _) = der(rest)? else {
        return None;
    };
    let (SEQUENCE, algorithm, rest) = der(spki)? else {
        return None;
    };
    let (0x03, bits, _) = der(rest)? else {
        return None;
    };
    let (0, key) = bits.split_first()? else {
        return None;
    };
    Some((algorithm, key))
}

/// RFC 5929: the hash of the server's certificate, with the hash of its
/// signature algorithm (SHA-256 in place of MD5 and SHA-1), as OpenSSL
/// maps the algorithms PostgreSQL's server does; none for an algorithm
/// without one hash (RSASSA-PSS, Ed25519), as with OpenSSL.
fn server_end_point(cert: &[u8]) -> Option<Vec<u8>> {
    use sha2::Digest;
    let (_, algorithm) = certificate(cert)?;
    let (0x06, oid, _) = der(algorithm)? else {
        return None;
    };
    Some(match signature_hash(oid)? {
        Hash::Sha224 => sha2::Sha224::digest(cert).to_vec(),
        Hash::Sha256 => sha2::Sha256::digest(cert).to_vec(),
        Hash::Sha384 => sha2::Sha384::digest(cert).to_vec(),
        Hash::Sha512 => sha2::Sha512::digest(cert).to_vec(),
        Hash::Sha3_224 => sha3::Sha3_224::digest(cert).to_vec(),
        Hash::Sha3_256 => sha3::Sha3_256::digest(cert).to_vec(),
        Hash::Sha3_384 => sha3::Sha3_384::digest(cert).to_vec(),
        Hash::Sha3_512 => sha3::Sha3_512::digest(cert).to_vec(),
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hash {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha3_224,
    Sha3_256,
    Sha3_384,
    Sha3_512,
}

/// The hash of a signature algorithm, by its object identifier (DER
/// contents), for RSA (PKCS #1 v1.5), ECDSA and DSA signatures.
fn signature_hash(oid: &[u8]) -> Option<Hash> {
    // 1.2.840.113549.1.1.n: RSA with MD5 (4), SHA-1 (5), SHA-256 (11),
    // SHA-384 (12), SHA-512 (13), SHA-224 (14).
    const PKCS1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
    // 1.2.840.10045.4.1 (ECDSA with SHA-1) and 1.2.840.10045.4.3.n: ECDSA
    // with SHA-224 (1), SHA-256 (2), SHA-384 (3), SHA-512 (4).
    const ECDSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04];
    // 1.2.840.10040.4.3: DSA with SHA-1.
    const DSA_SHA1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x03];
    // 2.16.840.1.101.3.4.3.n: DSA with SHA-224 (1), SHA-256 (2); ECDSA with
    // SHA3-224 to SHA3-512 (9 to 12); RSA with SHA3-224 to SHA3-512 (13
    // to 16).
    const NIST: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03];
    if let Some(&[n]) = oid.strip_prefix(PKCS1) {
        return match n {
            4 | 5 | 11 => Some(Hash::Sha256),
            12 => Some(Hash::Sha384),
            13 => Some(Hash::Sha512),
            14 => Some(Hash::Sha224),
            _ => None,
        };
    }
    if let Some(rest) = oid.strip_prefix(ECDSA) {
        return match rest {
            [1] | [3, 2] => Some(Hash::Sha256),
            [3, 1] => Some(Hash::Sha224),
            [3, 3] => Some(Hash::Sha384),
            [3, 4] => Some(Hash::Sha512),
            _ => None,
        };
    }
    if oid == DSA_SHA1 {
        return Some(Hash::Sha256);
    }
    if let Some(&[n]) = oid.strip_prefix(NIST) {
        return match n {
            1 => Some(Hash::Sha224),
            2 => Some(Hash::Sha256),
            9 | 13 => Some(Hash::Sha3_224),
            10 | 14 => Some(Hash::Sha3_256),
            11 | 15 => Some(Hash::Sha3_384),
            12 | 16 => Some(Hash::Sha3_512),
            _ => None,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_by_signature_algorithm() {
        let oid = |s: &[u8]| signature_hash(s);
        // sha256WithRSAEncryption, sha1WithRSAEncryption, md5WithRSAEncryption.
        assert_eq!(
            oid(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 11]),
            Some(Hash::Sha256)
        );
        assert_eq!(
            oid(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 5]),
            Some(Hash::Sha256)
        );
        assert_eq!(
            oid(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 4]),
            Some(Hash::Sha256)
        );
        assert_eq!(
            oid(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 13]),
            Some(Hash::Sha512)
        );
        // RSASSA-PSS: no single hash.
        assert_eq!(oid(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 10]), None);
        // ecdsa-with-SHA384, ecdsa-with-SHA1.
        assert_eq!(
            oid(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 4, 3, 3]),
            Some(Hash::Sha384)
        );
        assert_eq!(
            oid(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 4, 1]),
            Some(Hash::Sha256)
        );
        // Ed25519.
        assert_eq!(oid(&[0x2b, 0x65, 0x70]), None);
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256
    /// -sha384`: version 3, ECDSA with SHA-384.
    const EC_CERT: &[u8] = include_bytes!("testdata/ec-cert.der");
    const EC_SPKI: &[u8] = include_bytes!("testdata/ec-spki.der");
    /// `openssl x509 -req -signkey` of an RSA key (what PostgreSQL's
    /// documentation shows): version 1, without extensions, SHA-256.
    const RSA_CERT: &[u8] = include_bytes!("testdata/rsa-cert.der");
    const RSA_SPKI: &[u8] = include_bytes!("testdata/rsa-spki.der");

    #[test]
    fn reads_the_public_key_of_version_1_and_3_certificates() {
        for (cert, spki) in [(EC_CERT, EC_SPKI), (RSA_CERT, RSA_SPKI)] {
            let (algorithm, key) = public_key(cert).unwrap();
            let (_, body, _) = der(spki).unwrap();
            let (_, spki_algorithm, rest) = der(body).unwrap();
            assert_eq!(algorithm, spki_algorithm);
            assert_eq!(&der(rest).unwrap().1[1..], key);
        }
        // As the verification algorithms name the kinds of key.
        use rustls::pki_types::alg_id;
        assert_eq!(public_key(EC_CERT).unwrap().0, alg_id::ECDSA_P256.as_ref());
        assert_eq!(
            public_key(RSA_CERT).unwrap().0,
            alg_id::RSA_ENCRYPTION.as_ref()
        );
        assert_eq!(public_key(&EC_CERT[..100]), None);
    }

    /// The hashes `openssl dgst` gives for the certificates' DER.
    #[test]
    fn channel_binding_hashes_as_openssl() {
        assert_eq!(
            hex(&server_end_point(EC_CERT).unwrap()),
            "e90fdaa86c5876c4281d1a3f4d10d828c55bd925a823cddd889a113fe67b07966ded6000fba8b36107598849a300b5a1"
        );
        assert_eq!(
            hex(&server_end_point(RSA_CERT).unwrap()),
            "b0285b2bee00feca5e2213f38334aa08485f26ec2c4029bec3e83d24709cdf79"
        );
    }

    #[test]
    fn der_lengths() {
        assert_eq!(
            der(&[0x30, 0x01, 0xff, 0x00]),
            Some((0x30, &[0xff][..], &[0x00][..]))
        );
        let long = [&[0x04, 0x81, 0x80][..], &[7; 0x80]].concat();
        assert_eq!(
            der(&long).map(|(_, c, r)| (c.len(), r.len())),
            Some((0x80, 0))
        );
        assert_eq!(der(&[0x04, 0x82, 0x01]), None);
        assert_eq!(der(&[0x04, 0x05, 0x00]), None);
    }
}
