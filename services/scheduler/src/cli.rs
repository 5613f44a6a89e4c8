//! The `regstat-scheduler` command line (in the library so that `deploy/` checks can build it).

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "regstat-scheduler",
    version,
    about = "Scheduled production: a linkage job for the decision years, then the whole production on its delivery",
    after_help = "Example (the demo's services, operator certificate):\n  regstat-scheduler run --linkage-addr 127.0.0.1:50053 --query-addr 127.0.0.1:50054 \\\n    --tls-cert var/demo/certs/operator.crt --tls-key var/demo/certs/operator.key --tls-ca var/demo/certs/ca.crt"
)]
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
    /// Run one production now and exit: 0 when a complete run directory with its manifest
    /// exists, 1 otherwise. Retries transient failures (a service restarting) with backoff.
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The linkage service.
    #[arg(long, env = "SCHEDULER_LINKAGE_ADDR", default_value = "127.0.0.1:50053")]
    pub linkage_addr: regstat_server::retry::Authority,
    /// The query service.
    #[arg(long, env = "SCHEDULER_QUERY_ADDR", default_value = "127.0.0.1:50054")]
    pub query_addr: regstat_server::retry::Authority,
    /// Linkage project (the pseudonym key is derived per project).
    #[arg(long, env = "SCHEDULER_PROJECT", default_value = "assistans-support")]
    pub project: String,
    /// Version of the project's pseudonym key.
    #[arg(long, env = "SCHEDULER_KEY_VERSION", default_value_t = 1)]
    pub key_version: u32,
    /// First decision year.
    #[arg(long, env = "SCHEDULER_FROM_YEAR", default_value_t = 2018)]
    pub from_year: i32,
    /// Last decision year.
    #[arg(long, env = "SCHEDULER_TO_YEAR", default_value_t = 2020)]
    pub to_year: i32,
    /// Deadline of each call, seconds (RunProduction included).
    #[arg(long, env = "SCHEDULER_CALL_TIMEOUT_SECS", default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..))]
    pub call_timeout_secs: u64,
    /// Deadline of a whole linkage job, seconds.
    #[arg(long, env = "SCHEDULER_JOB_TIMEOUT_SECS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    pub job_timeout_secs: u64,
    /// Linkage job submissions before giving up.
    #[arg(long, env = "SCHEDULER_JOB_ATTEMPTS", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub job_attempts: u32,
    /// How long each call keeps retrying a service that is unavailable, seconds.
    #[arg(long, env = "SCHEDULER_RETRY_BUDGET_SECS", default_value_t = 300)]
    pub retry_budget_secs: u64,
    /// The operator identity's certificate, key and the CA.
    #[command(flatten)]
    pub tls: regstat_server::tls::TlsArgs,
}

