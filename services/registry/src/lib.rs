//! A register holder (`fk-registry`, `sos-register`): loads its extracts, validates every row
//! (quarantining the rest), holds them as Arrow and serves them over Arrow Flight, with a
//! person-set semi-join so that a register never sends more than is asked for.
//!
//! Layers: [`store::RegistryStore`] is the domain (no gRPC); [`flight::RegistryFlight`] and
//! [`admin::AdminService`] are thin adapters; [`server`] wires config → bound server.

pub mod admin;
pub mod client;
pub mod error;
pub mod flight;
pub mod held;
pub mod persist;
pub mod server;
pub mod store;

pub use client::RegistryClient;
pub use error::{Error, Result};
pub use server::{build, RegistryArgs, RegistryConfig, RegistryServer};
pub use held::{Hold, PersonSet};
pub use store::{MonthRange, Query, RegistryStore};
