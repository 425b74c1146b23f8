//! Reliability of pgsr against real clusters: concurrent syncs, a change
//! racing between plan and apply, faults in the middle of large applies,
//! and hostile object and role names. See RELIABILITY.md for what each
//! test proves, its figures and how to run the long versions.

#[path = "reliability/common.rs"]
mod common;
#[path = "reliability/concurrency.rs"]
mod concurrency;
#[path = "reliability/faults.rs"]
mod faults;
#[path = "reliability/hostile.rs"]
mod hostile;
#[path = "reliability/race.rs"]
mod race;
