use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli: fk_registry::Cli = regstat_server::config::parse();
    regstat_server::telemetry::init(&cli.telemetry);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => regstat_server::config::report(fk_registry::SERVICE, &e),
    }
}

async fn run(cli: fk_registry::Cli) -> anyhow::Result<()> {
    regstat_server::telemetry::start_metrics(&cli.telemetry).await?;
    let server = fk_registry::build(cli.config()?).await?;
    server.run(regstat_server::shutdown_signal()).await?;
    Ok(())
}
