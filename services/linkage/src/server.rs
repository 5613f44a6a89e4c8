//! Configuration and wiring: `build(config)` opens the audit log and binds; `run(shutdown)`
//! serves the Linkage API with health and reflection.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use regstat_proto::linkage::v1::linkage_server::LinkageServer;
use regstat_pseudo::MasterSecret;
use regstat_server::tls::{IdentityPolicy, TlsArgs, TlsMaterial, OPERATOR_IDENTITY};
use regstat_server::{Access, ServeError};
use tokio::net::TcpListener;

use crate::audit::AuditLog;
use crate::runner::{DeliveryTarget, Linker, Upstreams};
use crate::service::LinkageService;

#[derive(Debug, Clone, clap::Args)]
pub struct LinkageArgs {
    #[arg(long, env = "LINKAGE_LISTEN_ADDR", default_value = "127.0.0.1:50053")]
    pub listen: SocketAddr,
    /// This service's state directory (STATE_DIR/linkage): the audit log.
    #[arg(long, env = "LINKAGE_STATE_DIR")]
    pub state: PathBuf,
    /// The query service as host:port: deliveries are pushed to it over Arrow Flight (`DoPut`,
    /// mutual TLS). The deployment's way: no storage is shared with the query side.
    /// Exactly one of `--query-addr` and `--query-store` is given.
    #[arg(long, env = "LINKAGE_QUERY_ADDR")]
    pub query_addr: Option<regstat_server::retry::Authority>,
    /// Instead of pushing: a store directory that deliveries are written into, as the query
    /// service would store them (a single host with one file system; development).
    #[arg(long, env = "LINKAGE_QUERY_STORE")]
    pub query_store: Option<PathBuf>,
    /// fk-registry as host:port (a DNS name or an IP address).
    #[arg(long, env = "LINKAGE_FK_ADDR", default_value = "127.0.0.1:50051")]
    pub fk_addr: regstat_server::retry::Authority,
    /// sos-register as host:port.
    #[arg(long, env = "LINKAGE_SOS_ADDR", default_value = "127.0.0.1:50052")]
    pub sos_addr: regstat_server::retry::Authority,
    /// File holding the pseudonymisation master secret (at least 32 bytes). Never logged.
    #[arg(long, env = "LINKAGE_MASTER_SECRET_FILE")]
    pub master_secret_file: PathBuf,
    /// Deadline of each call to a registry, in seconds (a dataset's stream must start within it).
    #[arg(long, env = "LINKAGE_CALL_TIMEOUT_SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    pub call_timeout_secs: u64,
    /// How long a job keeps retrying a registry that is unavailable (e.g. restarting), seconds.
    #[arg(long, env = "LINKAGE_RETRY_BUDGET_SECS", default_value_t = 120)]
    pub retry_budget_secs: u64,
    #[command(flatten)]
    pub tls: TlsArgs,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Tls(#[from] regstat_server::tls::TlsError),
    #[error("master secret: {0}")]
    Secret(#[from] regstat_pseudo::PseudoError),
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl LinkageArgs {
    fn deadlines(&self) -> regstat_server::retry::Deadlines {
        regstat_server::retry::Deadlines { call: std::time::Duration::from_secs(self.call_timeout_secs), ..Default::default() }
    }

    fn backoff(&self) -> regstat_server::retry::Backoff {
        regstat_server::retry::Backoff { budget: std::time::Duration::from_secs(self.retry_budget_secs), ..Default::default() }
    }
}

/// Typed configuration.
pub struct LinkageConfig {
    pub listen: SocketAddr,
    pub state: PathBuf,
    /// Where deliveries go.
    pub target: DeliveryTarget,
    pub upstreams: Upstreams,
    pub master: MasterSecret,
    pub tls: Option<TlsMaterial>,
    pub access: Access,
}

impl std::fmt::Debug for LinkageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkageConfig").field("listen", &self.listen).field("state", &self.state).finish_non_exhaustive()
    }
}

/// Who may call what: jobs are submitted and watched by the operator identity.
pub fn linkage_policy() -> IdentityPolicy {
    IdentityPolicy::new().allow("*", &[OPERATOR_IDENTITY])
}

impl LinkageConfig {
    pub fn from_args(a: LinkageArgs) -> Result<Self, BuildError> {
        let (deadlines, backoff) = (a.deadlines(), a.backoff());
        let tls = a.tls.load()?;
        let master = MasterSecret::from_file(&a.master_secret_file)?;
        let access = if tls.is_some() { Access::new(linkage_policy()) } else { Access::allow_all() };
        Ok(LinkageConfig {
            listen: a.listen,
            state: a.state,
            target: match (a.query_addr, a.query_store) {
                (Some(addr), None) => DeliveryTarget::Query(addr),
                (None, Some(store)) => DeliveryTarget::Store(store),
                (None, None) => return Err(BuildError::Config("give the query service's address (--query-addr) or a store (--query-store)".into())),
                (Some(_), Some(_)) => return Err(BuildError::Config("give either --query-addr or --query-store, not both".into())),
            },
            upstreams: Upstreams { fk: a.fk_addr, sos: a.sos_addr, tls: tls.clone(), deadlines, backoff },
            master,
            tls,
            access,
        })
    }
}

/// The bound linkage server.
pub struct BoundLinkage {
    pub local_addr: SocketAddr,
    pub linker: Arc<Linker>,
    listener: TcpListener,
    tls: Option<TlsMaterial>,
    access: Access,
}

impl std::fmt::Debug for BoundLinkage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkageServer").field("local_addr", &self.local_addr).finish()
    }
}

pub async fn build(config: LinkageConfig) -> Result<BoundLinkage, BuildError> {
    let audit = Arc::new(AuditLog::open(&config.state.join("audit.jsonl"))?);
    let linker = Arc::new(Linker::new(config.upstreams, config.master, config.target, audit));
    let (listener, local_addr) = regstat_server::bind(config.listen).await?;
    tracing::info!(deliveries = %linker.target(), "deliveries go to");
    Ok(BoundLinkage { local_addr, linker, listener, tls: config.tls, access: config.access })
}

impl BoundLinkage {
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send) -> Result<(), ServeError> {
        let mut builder = regstat_server::server_builder("linkage");
        if let Some(tls) = &self.tls {
            builder = builder.tls_config(tls.server())?;
        }
        let (router, _health) = regstat_server::with_health_and_reflection(builder, &["regstat.linkage.v1.Linkage"]).await?;
        let router = router.add_service(LinkageServer::new(LinkageService::new(self.linker.clone(), self.access.clone())));
        tracing::info!(addr = %self.local_addr, "linkage serving");
        regstat_server::serve(router, self.listener, shutdown).await
    }
}
