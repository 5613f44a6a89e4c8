//! Deadlines and retries for calls between services.
//!
//! Every outgoing call has a deadline: channels are built with a connect timeout and a per-call
//! timeout (sent to the server as `grpc-timeout`). A call that fails for a reason that may pass
//! (the peer is restarting, unreachable, overloaded, or the deadline ran out) is retried with
//! exponential backoff and jitter until a total budget is spent; any other failure (bad input,
//! permission, not found, a bug) is returned at once.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tonic::transport::{Channel, Endpoint};
use tonic::Code;

use crate::tls::TlsMaterial;

/// How long and how often to retry.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The first wait.
    pub initial: Duration,
    /// No wait is longer than this.
    pub max: Duration,
    /// No new attempt starts after this much time since the first.
    pub budget: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { initial: Duration::from_millis(200), max: Duration::from_secs(10), budget: Duration::from_secs(120) }
    }
}

impl Backoff {
    /// The wait before attempt `attempt` (1-based retries): doubling, capped, with ±25 % jitter.
    pub fn wait(&self, attempt: u32) -> Duration {
        let base = self.initial.saturating_mul(1u32 << attempt.min(16)).min(self.max);
        let clock = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let nanos = clock ^ std::process::id() ^ attempt.wrapping_mul(0x9E37_79B9);
        let jitter = 0.75 + (nanos % 1000) as f64 / 2000.0;
        base.mul_f64(jitter)
    }
}

/// Whether a failed call may succeed when tried again.
pub fn transient(code: Code) -> bool {
    matches!(code, Code::Unavailable | Code::DeadlineExceeded | Code::Aborted | Code::ResourceExhausted | Code::Cancelled | Code::Unknown)
}

/// Run `call` until it succeeds, fails for good (`is_transient` false), or the budget is spent;
/// each retry is logged with what was called (never with data).
pub async fn retry<T, E, F, Fut>(what: &str, backoff: Backoff, is_transient: impl Fn(&E) -> bool, mut call: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let start = Instant::now();
    let mut attempt = 0u32;
    loop {
        match call().await {
            Ok(v) => {
                if attempt > 0 {
                    tracing::info!(call = what, attempts = attempt + 1, "succeeded after retrying");
                }
                return Ok(v);
            }
            Err(e) if is_transient(&e) && start.elapsed() < backoff.budget => {
                attempt += 1;
                let wait = backoff.wait(attempt).min(backoff.budget.saturating_sub(start.elapsed()));
                tracing::warn!(call = what, attempt, wait_ms = wait.as_millis() as u64, error = %e, "transient failure; retrying");
                crate::metrics::get().retries.get_or_create(&crate::metrics::labels(&[("call", what)])).inc();
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// A peer's address as `host:port`, where host is a DNS name (`linkage`, `fk-registry.regstat.svc`)
/// or an IP address: what a service is given in Kubernetes or compose. Checked at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority(String);

impl std::str::FromStr for Authority {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (host, port) = s.rsplit_once(':').ok_or_else(|| format!("{s:?} is not host:port"))?;
        let port: u16 = port.parse().map_err(|_| format!("{s:?}: the port is not a number 1-65535"))?;
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let valid = !bare.is_empty()
            && (bare.parse::<std::net::IpAddr>().is_ok() || bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
        if port == 0 || !valid {
            return Err(format!("{s:?} is not host:port"));
        }
        Ok(Authority(s.to_string()))
    }
}

impl From<SocketAddr> for Authority {
    fn from(a: SocketAddr) -> Self {
        Authority(a.to_string())
    }
}

impl std::fmt::Display for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Deadlines for a channel: connecting, and each call.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    pub connect: Duration,
    pub call: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines { connect: Duration::from_secs(5), call: Duration::from_secs(600) }
    }
}

/// A lazily connecting channel to `addr` (mutual TLS expecting `server_identity` when `tls` is
/// given): it connects on first use and reconnects after the peer restarts, so a peer that is
/// down surfaces as a retryable `UNAVAILABLE` on the call, not as a start-up failure.
pub fn channel(addr: &Authority, tls: Option<&TlsMaterial>, server_identity: &str, deadlines: Deadlines) -> Result<Channel, tonic::transport::Error> {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut endpoint = Endpoint::from_shared(format!("{scheme}://{addr}"))?
        .connect_timeout(deadlines.connect)
        .timeout(deadlines.call)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_while_idle(true);
    if let Some(t) = tls {
        endpoint = endpoint.tls_config(t.client(server_identity))?;
    }
    Ok(endpoint.connect_lazy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn retries_transient_failures_and_stops_at_permanent_ones() {
        let fast = Backoff { initial: Duration::from_millis(1), max: Duration::from_millis(2), budget: Duration::from_secs(5) };
        let mut calls = 0;
        let r: Result<u32, tonic::Status> = retry("test", fast, |s: &tonic::Status| transient(s.code()), || {
            calls += 1;
            let n = calls;
            async move { if n < 3 { Err(tonic::Status::unavailable("restarting")) } else { Ok(n) } }
        })
        .await;
        assert_eq!(r.expect("third attempt succeeds"), 3);

        let mut calls = 0;
        let r: Result<u32, tonic::Status> = retry("test", fast, |s: &tonic::Status| transient(s.code()), || {
            calls += 1;
            async { Err(tonic::Status::invalid_argument("bad")) }
        })
        .await;
        assert_eq!((r.expect_err("permanent").code(), calls), (Code::InvalidArgument, 1));

        let short = Backoff { budget: Duration::from_millis(20), ..fast };
        let r: Result<u32, tonic::Status> =
            retry("test", short, |s: &tonic::Status| transient(s.code()), || async { Err(tonic::Status::unavailable("down")) }).await;
        assert_eq!(r.expect_err("budget spent").code(), Code::Unavailable);
    }

    #[test]
    fn authorities_are_host_and_port() {
        for ok in ["linkage:50053", "127.0.0.1:1", "fk-registry.regstat.svc.cluster.local:50051", "[::1]:50054"] {
            assert!(ok.parse::<Authority>().is_ok(), "{ok}");
        }
        for bad in ["linkage", "linkage:", "linkage:0", "linkage:99999", ":50053", "http://linkage:1", "a b:1"] {
            assert!(bad.parse::<Authority>().is_err(), "{bad}");
        }
    }

    #[test]
    fn waits_double_up_to_the_cap() {
        let b = Backoff { initial: Duration::from_millis(100), max: Duration::from_secs(1), budget: Duration::from_secs(10) };
        assert!(b.wait(1) >= Duration::from_millis(150) && b.wait(1) <= Duration::from_millis(250));
        assert!(b.wait(10) <= Duration::from_millis(1250));
    }
}
