//! Prometheus metrics of every service, and the HTTP endpoint that serves them.
//!
//! One registry per process ([`get`]); every series carries a `service` label so that the
//! in-process test stack (all four services in one process) still tells them apart. Served as
//! OpenMetrics text on `GET /metrics` of a plain HTTP listener (`--metrics-listen`), separate
//! from the mTLS gRPC port so that a Prometheus scraper needs no client certificate. Metrics
//! carry counts and durations only: never an identifier, a pseudonym or a row of data.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A label set: `(name, value)` pairs.
pub type Labels = Vec<(String, String)>;
type Histograms = Family<Labels, Histogram, fn() -> Histogram>;

/// Build a label set.
pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn latency_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 18)) // 1 ms .. ~131 s
}

fn job_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.05, 2.0, 16)) // 50 ms .. ~27 min
}

/// Every metric of the platform.
pub struct Metrics {
    registry: Registry,
    /// `regstat_rpc_requests_total{service, method, code}`.
    pub rpc_requests: Family<Labels, Counter>,
    /// `regstat_rpc_duration_seconds{service, method}`: until the response headers.
    pub rpc_seconds: Histograms,
    /// `regstat_rows_total{service, dataset, direction}`: rows served by a registry, pulled by linkage.
    pub rows: Family<Labels, Counter>,
    /// `regstat_extract_rows{service, dataset, state=read|accepted|quarantined}` of the loaded extracts.
    pub extract_rows: Family<Labels, Gauge>,
    /// `regstat_released_cells_total{service}`: distinct cells in releases.
    pub released_cells: Family<Labels, Counter>,
    /// `regstat_suppressed_cells_total{service, rule=primary|secondary}`.
    pub suppressed_cells: Family<Labels, Counter>,
    /// `regstat_job_duration_seconds{service, job, outcome}`: linkage jobs, productions.
    pub job_seconds: Histograms,
    /// `regstat_call_retries_total{call}`: retried calls to other services.
    pub retries: Family<Labels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("regstat");
        let rpc_requests = Family::<Labels, Counter>::default();
        registry.register("rpc_requests", "gRPC requests by method and status code", rpc_requests.clone());
        let rpc_seconds: Histograms = Family::new_with_constructor(latency_buckets);
        registry.register("rpc_duration_seconds", "gRPC request latency until the response headers", rpc_seconds.clone());
        let rows = Family::<Labels, Counter>::default();
        registry.register("rows", "Rows moved: served by a registry (direction=served), pulled by linkage (direction=pulled_from_<registry>)", rows.clone());
        let extract_rows = Family::<Labels, Gauge>::default();
        registry.register("extract_rows", "Rows of the loaded extracts: read, accepted and quarantined", extract_rows.clone());
        let released_cells = Family::<Labels, Counter>::default();
        registry.register("released_cells", "Distinct cells in disclosure-controlled releases", released_cells.clone());
        let suppressed_cells = Family::<Labels, Counter>::default();
        registry.register("suppressed_cells", "Cells suppressed in releases, by rule", suppressed_cells.clone());
        let job_seconds: Histograms = Family::new_with_constructor(job_buckets);
        registry.register("job_duration_seconds", "Duration of linkage jobs and productions, by outcome", job_seconds.clone());
        let retries = Family::<Labels, Counter>::default();
        registry.register("call_retries", "Calls to other services retried after a transient failure", retries.clone());
        Metrics { registry, rpc_requests, rpc_seconds, rows, extract_rows, released_cells, suppressed_cells, job_seconds, retries }
    }

    /// The OpenMetrics text of every series.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// The process's metrics.
pub fn get() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// Record a job's duration and outcome.
pub fn job(service: &str, job: &str, ok: bool, elapsed: Duration) {
    let outcome = if ok { "succeeded" } else { "failed" };
    get().job_seconds.get_or_create(&labels(&[("service", service), ("job", job), ("outcome", outcome)])).observe(elapsed.as_secs_f64());
}

/// Count rows moved.
pub fn rows(service: &str, dataset: &str, direction: &str, n: u64) {
    get().rows.get_or_create(&labels(&[("service", service), ("dataset", dataset), ("direction", direction)])).inc_by(n);
}

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Bind the metrics endpoint and serve it in the background until the process ends; returns
/// the bound address (port 0 picks one).
pub async fn spawn_exporter(addr: SocketAddr) -> Result<SocketAddr, crate::ServeError> {
    let (listener, local) = crate::bind(addr).await?;
    tokio::spawn(serve(listener));
    tracing::info!(addr = %local, "metrics on http://{local}/metrics");
    Ok(local)
}

async fn serve(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(Duration::from_secs(10), answer(stream)).await;
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics listener accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// A minimal HTTP/1.1 exchange: one request, one response, then close.
async fn answer(mut stream: TcpStream) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut chunk = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&chunk[..n]);
    }
    let line = String::from_utf8_lossy(&request);
    let mut parts = line.lines().next().unwrap_or_default().split(' ');
    let (method, path) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let path = path.split('?').next().unwrap_or_default();
    let (status, content_type, body) = match (method, path) {
        ("GET", "/metrics") => ("200 OK", OPENMETRICS, get().render()),
        ("GET", "/") => ("200 OK", "text/plain; charset=utf-8", "regstat metrics: GET /metrics\n".to_string()),
        ("GET", _) => ("404 Not Found", "text/plain; charset=utf-8", "not found\n".to_string()),
        _ => ("405 Method Not Allowed", "text/plain; charset=utf-8", "only GET\n".to_string()),
    };
    let head = format!("HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

/// Fetch `http://addr/metrics` (for tests and the demo's checks).
pub async fn scrape(addr: SocketAddr) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    match response.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.1 200") => Ok(body.to_string()),
        _ => Err(std::io::Error::other("metrics endpoint did not answer 200")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_endpoint_serves_openmetrics_text() {
        rows("test-service", "persons", "served", 42);
        let addr = spawn_exporter("127.0.0.1:0".parse().expect("addr")).await.expect("bind");
        let body = scrape(addr).await.expect("scrape");
        assert!(body.contains("regstat_rows_total{service=\"test-service\",dataset=\"persons\",direction=\"served\"} 42"), "{body}");
        assert!(body.trim_end().ends_with("# EOF"));
    }
}
