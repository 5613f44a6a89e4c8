//! `linkage serve …` runs the service; `linkage submit …` runs a job against it and shows its
//! progress; `linkage verify-audit --log …` checks the audit log.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use regstat_proto::linkage::v1 as pb;
use regstat_proto::linkage::v1::linkage_client::LinkageClient;
use tonic::transport::Channel;

#[derive(Debug, Parser)]
#[command(name = "linkage", version, about = "The trusted linkage service: keyed pseudonyms, linkage jobs, deliveries, audit log")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    telemetry: regstat_server::telemetry::TelemetryArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service.
    Serve(linkage::LinkageArgs),
    /// Submit a linkage job and follow it to the end (exit code 1 if it fails).
    Submit {
        #[arg(long, env = "LINKAGE_ADDR", default_value = "127.0.0.1:50053")]
        addr: SocketAddr,
        #[arg(long, default_value = "assistans-support")]
        project: String,
        #[arg(long, default_value_t = 1)]
        key_version: u32,
        #[arg(long, default_value_t = 2018)]
        from_year: i32,
        #[arg(long, default_value_t = 2020)]
        to_year: i32,
        /// Statistic ids whose variables are needed (repeatable); none = all.
        #[arg(long = "statistic")]
        statistics: Vec<String>,
        /// Our certificate (the operator identity) and the CA.
        #[command(flatten)]
        tls: regstat_server::tls::TlsArgs,
    },
    /// Verify the audit log's hash chain; reports the first edited, removed or reordered entry.
    VerifyAudit {
        #[arg(long)]
        log: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    regstat_server::telemetry::init(&cli.telemetry);
    match cli.command {
        Command::Serve(args) => {
            let config = linkage::LinkageConfig::from_args(args)?;
            let server = linkage::build(config).await?;
            server.run(regstat_server::shutdown_signal()).await?;
        }
        Command::VerifyAudit { log } => match linkage::audit::verify(&log) {
            Ok(v) => println!("{}: {} entries, chain intact, head {}", log.display(), v.entries, v.head),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        },
        Command::Submit { addr, project, key_version, from_year, to_year, statistics, tls } => {
            let endpoint = match tls.load()? {
                Some(t) => Channel::from_shared(format!("https://{addr}"))?.tls_config(t.client("linkage"))?,
                None => Channel::from_shared(format!("http://{addr}"))?,
            };
            let mut client = LinkageClient::new(endpoint.connect().await.with_context(|| format!("connecting to linkage at {addr}"))?);
            let job_id = client
                .submit_job(pb::SubmitJobRequest { project, key_version, from_year, to_year, statistics })
                .await?
                .into_inner()
                .job_id;
            println!("job {job_id} submitted");
            let mut progress = client.watch_job(pb::JobRef { job_id: job_id.clone() }).await?.into_inner();
            while let Some(p) = progress.message().await? {
                eprintln!("  [{:>3.0}%] {:<16} {}", p.fraction * 100.0, p.stage, p.message);
            }
            let r = client.get_job_result(pb::JobRef { job_id }).await?.into_inner();
            if r.state == pb::JobState::Succeeded as i32 {
                println!("delivery {} published: {}", r.delivery_id, r.manifest_path);
            } else {
                eprintln!("job failed: {}", r.error);
                std::process::exit(1);
            }
        }
    }
    Ok(())
}
