//! Shared server plumbing for the four services: telemetry, binding, serving with gRPC health
//! and reflection, and graceful shutdown.
//!
//! The pattern (ROAPI, Quickwit): a service's `build(config)` binds its listener and returns
//! the bound address; `run(shutdown)` serves. Tests bind `127.0.0.1:0` and never probe ports.

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::server::Router;
use tonic::transport::Server;

pub mod access;
pub mod audit;
pub mod config;
pub mod metrics;
pub mod retry;
pub mod telemetry;
pub mod tls;
pub mod trace;

pub use access::{Access, Peer, Policy};

pub use tonic_health::server::HealthReporter;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot bind {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot read the bound address: {0}")]
    LocalAddr(std::io::Error),
    #[error("gRPC transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("reflection service: {0}")]
    Reflection(String),
}

/// Bind a listener (port 0 picks a free port; the bound address is returned).
pub async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), ServeError> {
    let listener = TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })?;
    let local = listener.local_addr().map_err(ServeError::LocalAddr)?;
    Ok((listener, local))
}

/// The layers every server runs: trace context, `rpc` span and request metrics.
pub type Layers = tower::layer::util::Stack<trace::ObserveLayer, tower::layer::util::Identity>;

/// A tonic server builder with the platform's defaults (HTTP/2 keepalive, TCP_NODELAY) and the
/// observing layer ([`trace::ObserveLayer`]) for `service`.
pub fn server_builder(service: &'static str) -> Server<Layers> {
    Server::builder()
        .tcp_nodelay(true)
        .http2_keepalive_interval(Some(std::time::Duration::from_secs(30)))
        .layer(trace::ObserveLayer::new(service))
}

/// Add gRPC health (`grpc.health.v1`) and reflection (v1, listing our protos and health) to a
/// router. The returned reporter marks services serving / not serving.
pub async fn with_health_and_reflection(
    mut builder: Server<Layers>,
    serving: &[&str],
) -> Result<(Router<Layers>, HealthReporter), ServeError> {
    let (reporter, health) = tonic_health::server::health_reporter();
    for name in serving {
        reporter.set_service_status(*name, tonic_health::ServingStatus::Serving).await;
    }
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(regstat_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| ServeError::Reflection(e.to_string()))?;
    let router = builder.add_service(health).add_service(reflection);
    Ok((router, reporter))
}

/// Serve `router` on an already-bound listener until `shutdown` resolves.
pub async fn serve(
    router: Router<Layers>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    router
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await
        .map_err(ServeError::from)
}

/// Resolves on Ctrl-C or SIGTERM (for `main.rs`).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested");
}
