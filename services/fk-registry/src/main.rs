use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = fk_registry::Cli::parse();
    regstat_server::telemetry::init(&cli.telemetry);
    let server = fk_registry::build(cli.config()?).await?;
    server.run(regstat_server::shutdown_signal()).await?;
    Ok(())
}
