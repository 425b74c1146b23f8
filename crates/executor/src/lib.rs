//! The part of pgsr that talks to PostgreSQL.
//!
//! It reads the catalog into a [`Snapshot`](pgsr_planner::snapshot::Snapshot)
//! ([`inspect`]) and applies a reviewed plan. Everything else — deciding what
//! to change — is the planner's job; this crate only does I/O and checks.

pub mod apply;
pub mod cluster;
pub mod connect;
pub mod conninfo;
mod error;
pub mod identity;
pub mod inspect;
pub mod passfile;
pub mod password;
pub mod power;
pub mod sync;
pub mod tls;
pub mod validate;
pub mod wait;

pub use error::{Error, ErrorKind};
