//! Configuration and wiring of a registry server: `build(config)` loads the extracts and binds
//! the listener; `RegistryServer::run(shutdown)` serves.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_flight::flight_service_server::FlightServiceServer;
use chrono::NaiveDate;
use regstat_contract::{FormatPreference, LoadOptions, Register};
use regstat_proto::registry::v1::registry_admin_server::RegistryAdminServer;
use regstat_server::tls::{IdentityPolicy, TlsArgs, TlsMaterial};
use regstat_server::{Access, ServeError};
use tokio::net::TcpListener;

use crate::admin::AdminService;
use crate::held::Hold;
use crate::store::RegistryStore;

/// Command-line / environment configuration shared by both registries (`REGISTRY_*` variables;
/// each registry runs as its own process with its own environment).
#[derive(Debug, Clone, clap::Args)]
pub struct RegistryArgs {
    /// Address to listen on (port 0 = any free port).
    #[arg(long, env = "REGISTRY_LISTEN_ADDR", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Directory holding this register's extracts (`<dataset>.parquet` or `.csv`).
    #[arg(long, env = "REGISTRY_EXTRACTS_DIR")]
    pub extracts: PathBuf,
    /// Directory this service keeps its state in (quarantine files under `quarantine/`).
    #[arg(long, env = "REGISTRY_STATE_DIR")]
    pub state: PathBuf,
    /// Which file to read when both exist: auto (Parquet first), csv, parquet.
    #[arg(long, env = "REGISTRY_EXTRACT_FORMAT", default_value = "auto")]
    pub format: FormatPreference,
    /// Reference date (YYYY-MM-DD) for the century of 10-digit personnummer; default: the
    /// extract file's date.
    #[arg(long, env = "REGISTRY_REFERENCE_DATE")]
    pub reference_date: Option<NaiveDate>,
    /// Linkage projects authorised for a selection by intervention (comma-separated; none by
    /// default): the rows of one intervention for everyone who has it, e.g. Socialstyrelsen's
    /// personal-assistance months for the payer statistics (SPEC-DECISIONS §5c.1).
    #[arg(long, env = "REGISTRY_SELECTION_PROJECTS", value_delimiter = ',')]
    pub selection_projects: Vec<String>,
    /// Where validated data is served from: `store` (the registry's store on disk, a batch at
    /// a time: memory stays bounded) or `memory` (read whole at start: faster answers, memory
    /// growing with the register).
    #[arg(long, env = "REGISTRY_HOLD", value_enum, default_value_t = Hold::Store)]
    pub hold: Hold,
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// Typed configuration of a registry server.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    pub service: &'static str,
    pub register: Register,
    pub listen: SocketAddr,
    pub extracts: PathBuf,
    pub state: PathBuf,
    pub load: LoadOptions,
    /// Allow whole-dataset streams (`DoGet`) of person-level data; otherwise only the
    /// person-filter exchange answers.
    pub full_export: bool,
    /// Linkage projects authorised for a selection by intervention (SPEC-DECISIONS §5c.1).
    pub selection_projects: Vec<String>,
    /// Serve from the registry's store on disk or from memory.
    pub hold: Hold,
    /// `None` = plain text (development only).
    pub tls: Option<TlsMaterial>,
    pub access: Access,
}

/// The authorisation table of a register: it answers the linkage service only (SPEC §2).
pub fn registry_policy() -> IdentityPolicy {
    IdentityPolicy::new().allow("*", &["linkage"])
}

impl RegistryConfig {
    pub fn from_args(
        service: &'static str,
        register: Register,
        args: RegistryArgs,
        full_export: bool,
    ) -> Result<Self, regstat_server::tls::TlsError> {
        let tls = args.tls.load()?;
        let access = if tls.is_some() { Access::new(registry_policy()) } else { Access::allow_all() };
        Ok(RegistryConfig {
            service,
            register,
            listen: args.listen,
            extracts: args.extracts,
            state: args.state,
            load: LoadOptions { reference_date: args.reference_date, format: args.format, ..LoadOptions::default() },
            full_export,
            selection_projects: args.selection_projects.into_iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect(),
            hold: args.hold,
            tls,
            access,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Load(#[from] crate::Error),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error(transparent)]
    Tls(#[from] regstat_server::tls::TlsError),
    #[error("loader task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// A loaded, bound registry, ready to serve.
pub struct RegistryServer {
    pub local_addr: SocketAddr,
    pub store: Arc<RegistryStore>,
    listener: TcpListener,
    config: RegistryConfig,
}

impl std::fmt::Debug for RegistryServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryServer").field("local_addr", &self.local_addr).finish()
    }
}

/// Load and validate the extracts (off the async runtime), then bind the listener.
pub async fn build(config: RegistryConfig) -> Result<RegistryServer, BuildError> {
    let store = {
        let c = config.clone();
        tokio::task::spawn_blocking(move || {
            RegistryStore::load(c.register, &c.extracts, &c.state, &c.load, c.full_export, c.hold)
        })
        .await??
    };
    build_with_store(config, Arc::new(store)).await
}

/// Bind a server over an already-loaded store.
pub async fn build_with_store(config: RegistryConfig, store: Arc<RegistryStore>) -> Result<RegistryServer, BuildError> {
    for r in store.reports() {
        tracing::info!(
            service = config.service,
            dataset = %r.dataset,
            rows_read = r.rows_read,
            rows_accepted = r.rows_accepted,
            rows_quarantined = r.rows_quarantined,
            files = r.files.len(),
            files_validated = regstat_contract::Dataset::from_name(&r.dataset).and_then(|d| store.origin(d)).map_or(0, |o| o.files_validated(&r)),
            "extract loaded"
        );
        let m = regstat_server::metrics::get();
        for (state, n) in [("read", r.rows_read), ("accepted", r.rows_accepted), ("quarantined", r.rows_quarantined)] {
            let labels = regstat_server::metrics::labels(&[("service", config.service), ("dataset", &r.dataset.to_string()), ("state", state)]);
            m.extract_rows.get_or_create(&labels).set(n as i64);
        }
    }
    let (listener, local_addr) = regstat_server::bind(config.listen).await?;
    Ok(RegistryServer { local_addr, store, listener, config })
}

impl RegistryServer {
    /// Serve Flight, RegistryAdmin, health and reflection until `shutdown` resolves.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send) -> Result<(), ServeError> {
        let flight = crate::flight::RegistryFlight::new(self.config.service, self.store.clone(), self.config.access.clone())
            .with_selection_projects(self.config.selection_projects.clone());
        let admin = AdminService::new(self.config.service, self.store.clone(), self.config.access.clone());
        let mut builder = regstat_server::server_builder(self.config.service);
        if let Some(tls) = &self.config.tls {
            builder = builder.tls_config(tls.server())?;
        }
        let (router, _health) = regstat_server::with_health_and_reflection(
            builder,
            &["arrow.flight.protocol.FlightService", "regstat.registry.v1.RegistryAdmin"],
        )
        .await?;
        let router = router
            .add_service(FlightServiceServer::new(flight).max_decoding_message_size(64 << 20))
            .add_service(RegistryAdminServer::new(admin));
        tracing::info!(service = self.config.service, addr = %self.local_addr, "serving");
        regstat_server::serve(router, self.listener, shutdown).await
    }
}
