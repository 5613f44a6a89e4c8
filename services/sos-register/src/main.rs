use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = sos_register::Cli::parse();
    regstat_server::telemetry::init(&cli.telemetry);
    let server = sos_register::build(cli.config()?).await?;
    server.run(regstat_server::shutdown_signal()).await?;
    Ok(())
}
