//! `tracing` set-up shared by every binary: `RUST_LOG`-style filtering, text or JSON lines.

#[derive(Debug, Clone, clap::Args)]
pub struct TelemetryArgs {
    /// Log filter, `RUST_LOG` syntax (e.g. `info,regstat_registry=debug`).
    #[arg(long = "log", env = "RUST_LOG", default_value = "info")]
    pub filter: String,
    /// Emit logs as JSON lines.
    #[arg(long = "log-json", env = "LOG_JSON", default_value_t = false)]
    pub json: bool,
    /// Serve Prometheus metrics (OpenMetrics text, `GET /metrics`, plain HTTP) on this address,
    /// e.g. `0.0.0.0:9090`; unset = no metrics endpoint. Only servers use it.
    #[arg(long = "metrics-listen", env = "METRICS_LISTEN_ADDR", value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
}

/// Start the metrics endpoint when `--metrics-listen` is set; returns its bound address.
pub async fn start_metrics(args: &TelemetryArgs) -> Result<Option<std::net::SocketAddr>, crate::ServeError> {
    match args.metrics_listen {
        Some(addr) => crate::metrics::spawn_exporter(addr).await.map(Some),
        None => Ok(None),
    }
}

/// Install the global subscriber (idempotent: a second call is ignored).
pub fn init(args: &TelemetryArgs) {
    let filter = tracing_subscriber::EnvFilter::try_new(&args.filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only on a terminal: service logs redirected to files stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = if args.json { builder.json().try_init() } else { builder.try_init() };
}
