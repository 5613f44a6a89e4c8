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
use crate::runner::{Linker, Upstreams};
use crate::service::LinkageService;

#[derive(Debug, Clone, clap::Args)]
pub struct LinkageArgs {
    #[arg(long, env = "LINKAGE_LISTEN_ADDR", default_value = "127.0.0.1:50053")]
    pub listen: SocketAddr,
    /// This service's state directory (STATE_DIR/linkage): the audit log.
    #[arg(long, env = "LINKAGE_STATE_DIR")]
    pub state: PathBuf,
    /// The query side's store (STATE_DIR/query): deliveries are published under `deliveries/`.
    #[arg(long, env = "LINKAGE_QUERY_STORE")]
    pub query_store: PathBuf,
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
    pub query_store: PathBuf,
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
            query_store: a.query_store,
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
    let linker = Arc::new(Linker::new(config.upstreams, config.master, config.query_store, audit));
    let (listener, local_addr) = regstat_server::bind(config.listen).await?;
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
