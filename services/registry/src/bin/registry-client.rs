//! `registry-client`: look at a register holder over Arrow Flight — list its datasets, show its
//! load report, count or print a dataset (whole, by month range, or for given persons).
//!
//! Examples:
//!   registry-client --addr 127.0.0.1:50051 --tls-cert var/demo/certs/linkage.pem \
//!       --tls-key var/demo/certs/linkage.key --tls-ca var/demo/certs/ca.pem list
//!   registry-client --addr 127.0.0.1:50051 --insecure-plaintext report
//!   registry-client --addr 127.0.0.1:50051 fetch decisions --from 2019-01 --to 2019-12 --show 5
//!   registry-client --addr 127.0.0.1:50052 persons interventions --file cohort.txt

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use arrow::array::RecordBatch;
use arrow::util::pretty::pretty_format_batches;
use clap::{Parser, Subcommand};
use regstat_registry::RegistryClient;

#[derive(Debug, Parser)]
#[command(name = "registry-client", version, about = "Inspect a register holder (fk-registry, sos-register) over Arrow Flight")]
struct Cli {
    /// Address of the registry.
    #[arg(long, env = "REGISTRY_ADDR", default_value = "127.0.0.1:50051")]
    addr: SocketAddr,
    /// The registry's identity, checked against its certificate: fk-registry or sos-register.
    #[arg(long, env = "REGISTRY_IDENTITY", default_value = "fk-registry")]
    server_identity: String,
    /// Our certificate: registries answer only the linkage identity.
    #[command(flatten)]
    tls: regstat_server::tls::TlsArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List datasets with row counts and schemas.
    List,
    /// Show the load report: rows read, accepted and quarantined per dataset and reason.
    Report,
    /// Stream a dataset (optionally a month range) and print the row count and first rows.
    Fetch {
        dataset: String,
        /// First month, YYYY-MM (inclusive).
        #[arg(long, default_value = "")]
        from: String,
        /// Last month, YYYY-MM (inclusive).
        #[arg(long, default_value = "")]
        to: String,
        /// How many rows to print (identifiers included: use only where you may see them).
        #[arg(long, default_value_t = 0)]
        show: usize,
    },
    /// Stream the rows of a dataset for the persons listed in a file (one per line).
    Persons {
        dataset: String,
        #[arg(long)]
        file: PathBuf,
        #[arg(long, default_value = "")]
        from: String,
        #[arg(long, default_value = "")]
        to: String,
    },
}

fn summary(batches: &[RecordBatch]) -> (usize, usize) {
    (batches.iter().map(RecordBatch::num_rows).sum(), batches.iter().map(RecordBatch::get_array_memory_size).sum())
}

fn range<'a>(from: &'a str, to: &'a str) -> Option<(&'a str, &'a str)> {
    (!from.is_empty() || !to.is_empty()).then_some((from, to))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let client = match cli.tls.load()? {
        Some(tls) => RegistryClient::connect_tls(cli.addr, &tls, &cli.server_identity).await,
        None => RegistryClient::connect(cli.addr).await,
    }
    .with_context(|| format!("connecting to {}", cli.addr))?;
    match cli.command {
        Command::List => {
            for info in client.list().await? {
                let name = info.flight_descriptor.as_ref().map(|d| d.path.join("/")).unwrap_or_default();
                let schema = info.clone().try_decode_schema()?;
                let cols: Vec<String> = schema.fields().iter().map(|f| format!("{}:{}", f.name(), f.data_type())).collect();
                println!("{name:<18} {:>12} rows  {:>8.1} MiB  [{}]", info.total_records, info.total_bytes as f64 / 1048576.0, cols.join(", "));
            }
        }
        Command::Report => {
            let r = client.load_report().await?;
            println!("{}", r.service);
            for d in r.datasets {
                let reasons: Vec<String> = d.reasons.iter().map(|r| format!("{}={}", r.reason, r.rows)).collect();
                println!(
                    "  {:<18} read {:>10}  accepted {:>10}  quarantined {:>8}  {}",
                    d.dataset, d.rows_read, d.rows_accepted, d.rows_quarantined, reasons.join(" ")
                );
                if d.files.len() > 1 {
                    // a base extract and its increments, each reconciled on its own
                    for f in &d.files {
                        println!("    {:<40} read {:>10}  accepted {:>10}  quarantined {:>8}", f.file, f.rows_read, f.rows_accepted, f.rows_quarantined);
                    }
                }
                println!("    {} of {} file(s) validated at this start", d.files_validated, d.files.len());
            }
        }
        Command::Fetch { dataset, from, to, show } => {
            let t = std::time::Instant::now();
            let batches = client.fetch(&dataset, range(&from, &to)).await?;
            let (rows, bytes) = summary(&batches);
            let s = t.elapsed().as_secs_f64();
            println!("{dataset}: {rows} rows, {:.1} MiB in {s:.2}s ({:.0} rows/s)", bytes as f64 / 1048576.0, rows as f64 / s);
            if show > 0 {
                let first: Vec<RecordBatch> = batches.first().map(|b| vec![b.slice(0, show.min(b.num_rows()))]).unwrap_or_default();
                println!("{}", pretty_format_batches(&first)?);
            }
        }
        Command::Persons { dataset, file, from, to } => {
            let persons: Vec<String> = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            let n = persons.len();
            let batches = client.fetch_persons(&dataset, persons, range(&from, &to)).await?;
            let (rows, _) = summary(&batches);
            println!("{dataset}: {rows} rows for {n} persons asked");
        }
    }
    Ok(())
}
