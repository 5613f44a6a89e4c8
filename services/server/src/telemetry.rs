//! `tracing` set-up shared by every binary: `RUST_LOG`-style filtering, text or JSON lines.

#[derive(Debug, Clone, clap::Args)]
pub struct TelemetryArgs {
    /// Log filter, `RUST_LOG` syntax (e.g. `info,regstat_registry=debug`).
    #[arg(long = "log", env = "RUST_LOG", default_value = "info")]
    pub filter: String,
    /// Emit logs as JSON lines.
    #[arg(long = "log-json", env = "LOG_JSON", default_value_t = false)]
    pub json: bool,
}

/// Install the global subscriber (idempotent: a second call is ignored).
pub fn init(args: &TelemetryArgs) {
    let filter = tracing_subscriber::EnvFilter::try_new(&args.filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if args.json { builder.json().try_init() } else { builder.try_init() };
}
