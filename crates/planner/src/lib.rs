//! The pure core of pgsr.
//!
//! This crate turns a catalog [`snapshot`] and a desired state into a
//! reviewable SQL script. It does no I/O of any kind: no files, no database,
//! no clock, no randomness. The same inputs always give the same bytes.
//! `clippy.toml` beside this crate's manifest refuses file, clock,
//! environment, process and network calls, and the lints below printing.

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod acl;
pub mod desired;
pub mod display;
pub mod generate;
pub mod inventory;
pub mod kind;
pub mod plan;
pub mod power;
pub mod quote;
pub mod scram;
pub mod script;
pub mod snapshot;
pub mod statement;
