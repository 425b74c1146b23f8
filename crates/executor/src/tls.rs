//! TLS for libpq's `prefer` and `require`: encryption without
//! authentication of the server, so without trust roots.
//!
//! `native-tls` (used for `verify-ca` and `verify-full`) loads the system's
//! CA bundle whenever it builds a connector, even one told to accept any
//! certificate: OpenSSL parses every certificate of the bundle, twice,
//! which costs tens of milliseconds per process. These modes never look at
//! a root, so they use an OpenSSL context that has none.

use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::ssl::{Ssl, SslContext, SslContextBuilder, SslMethod, SslRef, SslVerifyMode};
use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, BufReader, ReadBuf};
use tokio_openssl::SslStream;

/// Ciphers as `openssl::ssl::SslConnector` (and so `native-tls`) offers them.
const CIPHERS: &str = "DEFAULT:!aNULL:!eNULL:!MD5:!3DES:!DES:!RC4:!IDEA:!SEED:!aDSS:!SRP:!PSK";

/// Makes TLS sessions that accept any server certificate, as libpq does
/// in `sslmode=prefer` and `require` without a root certificate.
#[derive(Clone)]
pub struct Unverified {
    context: SslContext,
}

impl Unverified {
    /// A context with no trust store: nothing is read from disk.
    pub fn new() -> Result<Unverified, ErrorStack> {
        let mut builder = SslContextBuilder::new(SslMethod::tls_client())?;
        builder.set_verify(SslVerifyMode::NONE);
        builder.set_cipher_list(CIPHERS)?;
        // libpq's default ssl_min_protocol_version.
        builder.set_min_proto_version(Some(openssl::ssl::SslVersion::TLS1_2))?;
        Ok(Unverified {
            context: builder.build(),
        })
    }
}

impl<S> MakeTlsConnect<S> for Unverified
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Stream<S>;
    type TlsConnect = Connect;
    type Error = ErrorStack;

    fn make_tls_connect(&mut self, domain: &str) -> Result<Connect, ErrorStack> {
        let mut ssl = Ssl::new(&self.context)?;
        // Server name indication, as libpq (sslsni=1) sends it: for host
        // names only, never for addresses.
        if !domain.is_empty() && domain.parse::<std::net::IpAddr>().is_err() {
            ssl.set_hostname(domain)?;
        }
        Ok(Connect { ssl })
    }
}

/// One handshake to make.
pub struct Connect {
    ssl: Ssl,
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
            let stream = BufReader::with_capacity(8192, stream);
            let mut tls = SslStream::new(self.ssl, stream).map_err(io::Error::other)?;
            Pin::new(&mut tls)
                .connect()
                .await
                .map_err(|e| io::Error::other(e.to_string()))?;
            Ok(Stream(tls))
        })
    }
}

/// An established TLS session.
pub struct Stream<S>(SslStream<BufReader<S>>);

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
        match server_end_point(self.0.ssl()) {
            Some(hash) => ChannelBinding::tls_server_end_point(hash),
            None => ChannelBinding::none(),
        }
    }
}

/// RFC 5929: the hash of the server's certificate, with the hash of its
/// signature algorithm (SHA-256 in place of MD5 and SHA-1).
fn server_end_point(ssl: &SslRef) -> Option<Vec<u8>> {
    let cert = ssl.peer_certificate()?;
    let algorithms = cert
        .signature_algorithm()
        .object()
        .nid()
        .signature_algorithms()?;
    let digest = match algorithms.digest {
        Nid::MD5 | Nid::SHA1 => MessageDigest::sha256(),
        nid => MessageDigest::from_nid(nid)?,
    };
    cert.digest(digest).ok().map(|d| d.to_vec())
}
