//! Test harness: throwaway PostgreSQL clusters of any supported major.
//!
//! Each [`Pg`] is a cluster of its own: a copy of a per-major template made
//! once with `initdb`, started on a free port with its own unix socket
//! directory, and stopped and deleted when dropped. Tests therefore never
//! share roles or databases and can run in parallel.
//!
//! Binaries for a major come from `PGSR_PG<major>_BIN` (a bin directory),
//! else `/usr/lib/postgresql/<major>/bin`, else `.cache/postgres/<major>/bin`
//! (filled by `scripts/fetch-postgres`). A missing major is a test failure
//! that says what to install, never a skip.

mod certs;
mod cluster;
mod files;
pub mod fixtures;
mod macros;
mod process;
mod sql;

pub use certs::Certs;
pub use cluster::{
    build_pgsr, free_port, give_to_server_user, pgsr_bin, workspace_root, Pg, PgsrOutput,
};
pub use files::Files;
pub use process::{no_panic, no_panic_in, pgsr_command, wait_until, Background};
pub use sql::{describe, ident, literal};

/// The majors pgsr supports.
pub const MAJORS: [u32; 6] = [13, 14, 15, 16, 17, 18];
