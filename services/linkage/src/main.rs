//! `linkage serve …` runs the service; `linkage submit …` runs a job against it and shows its
//! progress; `linkage verify-audit --log …` checks the audit log.

use anyhow::Context;
use linkage::cli::{Cli, Command};
use regstat_proto::linkage::v1 as pb;
use regstat_proto::linkage::v1::linkage_client::LinkageClient;
use tonic::transport::Channel;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli: Cli = regstat_server::config::parse();
    regstat_server::telemetry::init(&cli.telemetry);
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => regstat_server::config::report("linkage", &e),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            regstat_server::telemetry::start_metrics(&cli.telemetry).await?;
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
