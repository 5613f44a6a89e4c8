use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli: sos_register::Cli = regstat_server::config::parse();
    regstat_server::telemetry::init(&cli.telemetry);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => regstat_server::config::report(sos_register::SERVICE, &e),
    }
}

async fn run(cli: sos_register::Cli) -> anyhow::Result<()> {
    regstat_server::telemetry::start_metrics(&cli.telemetry).await?;
    let server = sos_register::build(cli.config()?).await?;
    server.run(regstat_server::shutdown_signal()).await?;
    Ok(())
}
