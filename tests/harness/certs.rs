//! Certificates for TLS tests, made with the openssl CLI: a CA, a server
//! certificate for `localhost` (only: connecting to 127.0.0.1 with
//! verify-full must fail), and client certificates signed by the CA.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Certs {
    dir: tempfile::TempDir,
}

impl Certs {
    pub fn new() -> Certs {
        let certs = Certs {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(
            certs.path("server.ext"),
            "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        certs.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-sha256",
            "-days",
            "2",
            "-subj",
            "/CN=pgsr test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        certs.signed("server", "localhost", "server.ext");
        certs
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("run openssl (install the openssl CLI)");
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `<name>.key` and `<name>.crt` for the common name `cn`, signed by
    /// the CA with the extensions in `ext`.
    fn signed(&self, name: &str, cn: &str, ext: &str) {
        let key = format!("{name}.key");
        let csr = format!("{name}.csr");
        let crt = format!("{name}.crt");
        let subject = format!("/CN={cn}");
        self.openssl(&[
            "req", "-newkey", "rsa:2048", "-nodes", "-sha256", "-subj", &subject, "-keyout", &key,
            "-out", &csr,
        ]);
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-sha256",
            "-days",
            "2",
            "-extfile",
            ext,
            "-out",
            &crt,
        ]);
    }

    /// A client certificate for the role `user` (`client-<user>.crt`, its
    /// key `client-<user>.key`, mode 0600), and the same key encrypted
    /// with `password` (`client-<user>.enc.key`).
    pub fn client(&self, user: &str, password: &str) -> (PathBuf, PathBuf, PathBuf) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(
            self.path("client.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n",
        )
        .unwrap();
        let name = format!("client-{user}");
        self.signed(&name, user, "client.ext");
        let key = format!("{name}.key");
        let encrypted = format!("{name}.enc.key");
        let pass = format!("pass:{password}");
        self.openssl(&[
            "pkey", "-in", &key, "-aes256", "-passout", &pass, "-out", &encrypted,
        ]);
        for k in [&key, &encrypted] {
            std::fs::set_permissions(self.path(k), std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        (
            self.path(&format!("{name}.crt")),
            self.path(&key),
            self.path(&encrypted),
        )
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn ca(&self) -> String {
        self.path("ca.pem").display().to_string()
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Default for Certs {
    fn default() -> Certs {
        Certs::new()
    }
}
