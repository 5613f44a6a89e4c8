//! The `query` command line (in the library so that tests and `deploy/` checks can build it).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tonic::transport::Channel;

#[derive(Debug, Parser)]
#[command(name = "query", version, about = "Statistics on pseudonymised deliveries, disclosure-controlled")]
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
    /// Run a production without a server, reading the store directly: the same policy flags,
    /// release ledger and audit log as the service (refused while a service holds the project's
    /// ledger). Every statistic, tidy CSV + Parquet and a manifest into --out.
    Produce {
        /// The query side's store (STATE_DIR/query).
        #[arg(long, env = "QUERY_STORE")]
        store: PathBuf,
        /// Delivery id; default: the newest delivery in the store.
        #[arg(long)]
        delivery: Option<String>,
        /// Output root: runs go to <out>/runs/<run_id>/, the newest is copied to <out>/.
        #[arg(long, env = "OUT_DIR", default_value = "out/demo")]
        out: PathBuf,
        #[command(flatten)]
        years: YearsArgs,
        #[command(flatten)]
        policy: crate::server::PolicyArgs,
    },
    /// List the statistics with their documentation (no server needed).
    List,
    /// Serve the Query API and Arrow Flight (mutual TLS; analytics identities).
    Serve(crate::server::QueryArgs),
    /// Ask the query service to run a whole production, then fetch the headline tables over
    /// Flight and print them (the equivalents of the report's tables 4, 10, 47 and 56).
    Run {
        #[command(flatten)]
        conn: Conn,
        /// Delivery id; default: the newest delivery in the store.
        #[arg(long, default_value = "")]
        delivery: String,
        #[command(flatten)]
        years: YearsArgs,
    },
    /// Fetch one statistic over Arrow Flight and print it as tidy CSV.
    Fetch {
        #[command(flatten)]
        conn: Conn,
        /// Statistic id (see `query list`).
        statistic: String,
        /// Delivery id (empty: the newest delivery in the store).
        #[arg(long, default_value = "")]
        delivery: String,
        #[command(flatten)]
        years: YearsArgs,
    },
}

/// The decision years of a production or a statistic (both 0: the years the delivery was
/// linked for). Years outside the delivery are refused.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct YearsArgs {
    /// First decision year (0 with --to-year 0: the delivery's first year).
    #[arg(long, default_value_t = 0)]
    pub from_year: i32,
    /// Last decision year (0 with --from-year 0: the delivery's last year).
    #[arg(long, default_value_t = 0)]
    pub to_year: i32,
}

/// How a client reaches the query service.
#[derive(Debug, clap::Args)]
pub struct Conn {
    /// Address of the service, host:port.
    #[arg(long, env = "QUERY_ADDR", default_value = "127.0.0.1:50054")]
    pub addr: SocketAddr,
    #[command(flatten)]
    pub tls: regstat_server::tls::TlsArgs,
}

impl Conn {
    pub async fn channel(&self) -> anyhow::Result<Channel> {
        let endpoint = match self.tls.load()? {
            Some(t) => Channel::from_shared(format!("https://{}", self.addr))?.tls_config(t.client("query"))?,
            None => Channel::from_shared(format!("http://{}", self.addr))?,
        };
        endpoint.connect().await.with_context(|| format!("connecting to the query service at {}", self.addr))
    }
}

