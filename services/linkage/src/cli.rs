//! The `linkage` command line (in the library so that tests and `deploy/` checks can build it).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "linkage", version, about = "The trusted linkage service: keyed pseudonyms, linkage jobs, deliveries, audit log")]
pub struct Cli {
    #[command(flatten)]
    pub config_file: regstat_server::config::ConfigArgs,
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub telemetry: regstat_server::telemetry::TelemetryArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service.
    Serve(crate::LinkageArgs),
    /// Submit a linkage job and follow it to the end (exit code 1 if it fails).
    Submit {
        /// Address of the service, host:port.
        #[arg(long, env = "LINKAGE_ADDR", default_value = "127.0.0.1:50053")]
        addr: SocketAddr,
        /// Linkage project: the pseudonym key is derived per project.
        #[arg(long, default_value = "assistans-support")]
        project: String,
        /// Version of the project's pseudonym key.
        #[arg(long, default_value_t = 1)]
        key_version: u32,
        /// First decision year.
        #[arg(long, default_value_t = 2018)]
        from_year: i32,
        /// Last decision year.
        #[arg(long, default_value_t = 2020)]
        to_year: i32,
        /// Statistic ids whose variables are needed (repeatable); none = every cohort statistic
        /// (the payer statistics of SPEC-DECISIONS §5c are asked for by name).
        #[arg(long = "statistic")]
        statistics: Vec<String>,
        /// Our certificate (the operator identity) and the CA.
        #[command(flatten)]
        tls: regstat_server::tls::TlsArgs,
    },
    /// Verify the audit log's hash chain; reports the first edited, removed or reordered entry.
    VerifyAudit {
        /// The audit log (audit.jsonl) to verify.
        #[arg(long)]
        log: PathBuf,
    },
}

