//! Temporary files for tests: desired files, plans and snapshots.

use std::path::PathBuf;

/// A temporary directory for desired files, plans and snapshots.
pub struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    pub fn new() -> Files {
        Files {
            dir: tempfile::Builder::new()
                .prefix("pgsr-test-")
                .tempdir()
                .expect("temp dir"),
        }
    }

    /// The directory itself.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `text` to `name` and returns the path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    pub fn read(&self, name: &str) -> String {
        let path = self.path(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }
}

impl Default for Files {
    fn default() -> Files {
        Files::new()
    }
}
