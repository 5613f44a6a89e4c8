//! Configuration and wiring of the query server: `build(config)` opens the audit log and binds;
//! `run(shutdown)` serves `regstat.query.v1.Query` and Arrow Flight with health and reflection.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_flight::flight_service_server::FlightServiceServer;
use regstat_proto::query::v1::query_server::QueryServer;
use regstat_server::audit::AuditLog;
use regstat_server::tls::{IdentityPolicy, TlsArgs, TlsMaterial, ANALYTICS_IDENTITY, OPERATOR_IDENTITY};
use regstat_server::{Access, ServeError};
use tokio::net::TcpListener;

use crate::disclosure::{Policy, Ranges};
use crate::service::{QueryService, QueryState};

#[derive(Debug, Clone, clap::Args)]
pub struct QueryArgs {
    /// Address to listen on (port 0 = any free port).
    #[arg(long, env = "QUERY_LISTEN_ADDR", default_value = "127.0.0.1:50054")]
    pub listen: SocketAddr,
    /// The query side's store (STATE_DIR/query): deliveries under `deliveries/`, the audit log.
    #[arg(long, env = "QUERY_STORE")]
    pub store: PathBuf,
    /// Output root: every production run goes to `<out>/runs/<run_id>/`; `<out>/` holds the newest.
    #[arg(long, env = "OUT_DIR", default_value = "out/demo")]
    pub out: PathBuf,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// The disclosure policy: the same flags (and config keys) for `query serve` and `query produce`.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct PolicyArgs {
    /// Counts of 1..=threshold persons are suppressed (primary suppression); every hidden count's
    /// feasible interval must be at least this wide.
    #[arg(long, env = "QUERY_SUPPRESSION_THRESHOLD", default_value_t = 2)]
    pub threshold: i64,
    /// Shares are released only with a denominator of at least this many persons.
    #[arg(long, env = "QUERY_MIN_SHARE_DENOMINATOR", default_value_t = 50)]
    pub min_share_denominator: i64,
    /// Decision-year ranges served per delivery: `every` range within its linked years, or
    /// only the `whole` linked range. A delivery's served ranges are protected together on the
    /// first request for any of them (its release family).
    #[arg(long, env = "QUERY_RELEASE_RANGES", value_enum, default_value_t = Ranges::Every)]
    pub release_ranges: Ranges,
}

impl PolicyArgs {
    pub fn policy(self) -> Result<Policy, BuildError> {
        if self.threshold < 0 || self.min_share_denominator < 0 {
            return Err(BuildError::Config("threshold and min share denominator must be >= 0".into()));
        }
        Ok(Policy { threshold: self.threshold, min_share_denominator: self.min_share_denominator, ranges: self.release_ranges, ..Policy::default() })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Tls(#[from] regstat_server::tls::TlsError),
    #[error(transparent)]
    Audit(#[from] regstat_server::audit::AuditError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// What the analytics identities may call: read statistics (gRPC, Flight tickets, Flight SQL)
/// and run productions. Not `DoPut`.
pub const ANALYTICS_RPCS: [&str; 10] =
    ["ListStatistics", "ListDeliveries", "RunProduction", "ListFlights", "GetFlightInfo", "GetSchema", "DoGet", "DoAction", "ListActions", "FlightSql"];

/// The identity that delivers (`DoPut`) and nothing else.
pub const LINKAGE_IDENTITY: &str = "linkage";

/// Who may call what: the analytics identities read statistics and run productions; the
/// operator (the scheduler) runs productions too; the linkage service pushes deliveries.
pub fn query_policy() -> IdentityPolicy {
    ANALYTICS_RPCS
        .iter()
        .fold(IdentityPolicy::new(), |p, rpc| p.allow(rpc, &[ANALYTICS_IDENTITY]))
        .allow("RunProduction", &[OPERATOR_IDENTITY])
        .allow("DoPut", &[LINKAGE_IDENTITY])
}

#[derive(Debug)]
pub struct QueryConfig {
    pub listen: SocketAddr,
    pub store: PathBuf,
    pub out: PathBuf,
    pub policy: Policy,
    pub tls: Option<TlsMaterial>,
    pub access: Access,
}

impl QueryConfig {
    pub fn from_args(a: QueryArgs) -> Result<Self, BuildError> {
        let policy = a.policy.policy()?;
        let tls = a.tls.load()?;
        let access = if tls.is_some() { Access::new(query_policy()) } else { Access::allow_all() };
        Ok(QueryConfig {
            listen: a.listen,
            store: a.store,
            out: a.out,
            policy,
            tls,
            access,
        })
    }
}

pub struct BoundQuery {
    pub local_addr: SocketAddr,
    pub state: Arc<QueryState>,
    listener: TcpListener,
    tls: Option<TlsMaterial>,
    service: QueryService,
}

impl std::fmt::Debug for BoundQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryServer").field("local_addr", &self.local_addr).finish()
    }
}

pub async fn build(config: QueryConfig) -> Result<BoundQuery, BuildError> {
    std::fs::create_dir_all(&config.store).map_err(|e| BuildError::Config(format!("{}: {e}", config.store.display())))?;
    let audit = Arc::new(AuditLog::open(&config.store.join("audit.jsonl"))?);
    crate::service::clean_stale_staging(&config.out.join("runs")).map_err(|e| BuildError::Config(format!("{}: {e}", config.out.display())))?;
    let removed = regstat_contract::delivery::clean_incoming(&config.store).map_err(|e| BuildError::Config(format!("{}: {e}", config.store.display())))?;
    if removed > 0 {
        tracing::warn!(removed, "removed the staging directories of interrupted deliveries");
    }
    let state = Arc::new(QueryState::new(config.store, config.out, config.policy, audit));
    let (listener, local_addr) = regstat_server::bind(config.listen).await?;
    let service = QueryService::new(state.clone(), config.access).map_err(|e| BuildError::Config(format!("SQL engine: {e}")))?;
    Ok(BoundQuery { local_addr, state, listener, tls: config.tls, service })
}

impl BoundQuery {
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send) -> Result<(), ServeError> {
        let mut builder = regstat_server::server_builder("query");
        if let Some(tls) = &self.tls {
            builder = builder.tls_config(tls.server())?;
        }
        let (router, _health) =
            regstat_server::with_health_and_reflection(builder, &["regstat.query.v1.Query", "arrow.flight.protocol.FlightService"]).await?;
        let service = self.service;
        let router = router.add_service(QueryServer::new(service.clone())).add_service(FlightServiceServer::new(service));
        tracing::info!(addr = %self.local_addr, "query serving");
        regstat_server::serve(router, self.listener, shutdown).await
    }
}
