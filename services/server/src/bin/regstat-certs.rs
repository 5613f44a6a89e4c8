//! `regstat-certs` (`make certs`): a development CA and one certificate per identity.
//!
//!   regstat-certs --out var/demo/certs
//!
//! Writes `ca.pem`, `ca.key` and `<identity>.pem` / `<identity>.key` for fk-registry,
//! sos-register, linkage, query, analytics and operator. Keys are mode 0600. For production, issue
//! certificates from your own CA with the same subject-alternative names
//! (`<identity>.regstat.internal`).

use std::path::PathBuf;

use clap::Parser;
use regstat_server::tls::{write_dev_certs, ANALYTICS_IDENTITY, OPERATOR_IDENTITY, SERVICE_IDENTITIES};

#[derive(Debug, Parser)]
#[command(name = "regstat-certs", version, about = "Create a development CA and one certificate per service identity")]
struct Cli {
    /// Output directory (STATE_DIR/certs).
    #[arg(long, default_value = "var/demo/certs")]
    out: PathBuf,
    /// Extra analytics-client identities to issue besides `analytics`.
    #[arg(long = "analytics")]
    extra_analytics: Vec<String>,
    /// Overwrite existing certificates.
    #[arg(long)]
    force: bool,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if cli.out.join("ca.pem").exists() && !cli.force {
        println!("certificates already in {} (use --force to replace them)", cli.out.display());
        return Ok(());
    }
    let mut ids: Vec<&str> = SERVICE_IDENTITIES.to_vec();
    ids.push(ANALYTICS_IDENTITY);
    ids.push(OPERATOR_IDENTITY);
    ids.extend(cli.extra_analytics.iter().map(String::as_str));
    write_dev_certs(&cli.out, &ids)?;
    println!("development CA and certificates for {} written to {}", ids.join(", "), cli.out.display());
    Ok(())
}
