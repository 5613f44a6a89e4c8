//! The query service's engine (SPEC §4–§7): statistics on DataFusion over pseudonymised
//! deliveries, disclosure control, and production outputs. It only ever reads the query side's
//! store; it never sees a personnummer.

pub mod assistance;
pub mod bounds;
pub mod cli;
pub mod decisions;
pub mod definitions;
pub mod delivery;
pub mod disclosure;
pub mod engine;
pub mod error;
pub mod layout;
pub mod ledger;
pub mod output;
pub mod receive;
pub mod regression;
pub mod report;
pub mod server;
pub mod service;
pub mod sql;
pub mod stats;

pub use error::{Error, Result};
