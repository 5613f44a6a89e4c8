//! `linkage`: the trusted third party (SPEC §2). The only holder of the pseudonymisation
//! secret and the only place where both agencies' records meet — in memory, while a job runs.
//!
//! [`job`] defines what a job pulls and delivers (minimisation), [`runner::Linker`] runs jobs,
//! [`delivery`] publishes them atomically to the query side's store, [`audit`] is the
//! tamper-evident log; [`service`] and [`server`] are the gRPC adapter and wiring.

/// The hash-chained audit log (shared with the query service).
pub use regstat_server::audit;
pub mod cli;
pub mod delivery;
pub mod error;
pub mod job;
pub mod runner;
pub mod server;
pub mod service;

pub use error::{Error, Result};
pub use server::{build, BoundLinkage, LinkageArgs, LinkageConfig};
