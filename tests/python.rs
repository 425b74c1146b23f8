//! The Python package's own tests (pytest, `crates/python/tests`), against
//! a throwaway cluster of each major from the harness. The package is
//! installed in the virtual environment `scripts/test` makes
//! (`.cache/python-venv`, or `PGSR_PYTHON` naming its interpreter).

use pgsr_e2e::{pg_test, workspace_root};
use std::process::Command;

fn python() -> std::path::PathBuf {
    let venv = workspace_root().join(".cache/python-venv/bin/python");
    let python = std::env::var_os("PGSR_PYTHON").map_or(venv, Into::into);
    assert!(
        python.exists(),
        "{} is missing: run scripts/test, which makes the virtual environment and installs the package",
        python.display()
    );
    python
}

pg_test!(fn pytest(pg) {
    let out = Command::new(python())
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "crates/python/tests"])
        .current_dir(workspace_root())
        .env("PGSR_TEST_PORT", pg.port.to_string())
        .output()
        .expect("run pytest");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pytest failed on PostgreSQL {}:\n{stdout}\n{}",
        pg.major,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" passed"), "{stdout}");
});
