//! Trace context across service boundaries, and the server layer that observes every call.
//!
//! The context is W3C Trace Context (`traceparent: 00-<trace id>-<span id>-01`), carried in
//! gRPC metadata. A server takes the caller's trace id (or starts a new trace), opens a
//! `tracing` span `rpc{service, method, trace_id, span_id, parent_id}` around the handler and
//! keeps the context in a task-local; clients add a child context to every outgoing call
//! ([`inject`]). A linkage job, a registry's answer to it and the production that follows all
//! log the same `trace_id`, so one grep (or any collector that reads W3C ids from JSON logs)
//! follows a job across the four services. The same layer counts requests and their latency
//! for Prometheus ([`crate::metrics`]).

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use tonic::metadata::{MetadataMap, MetadataValue};
use tracing::Instrument;

/// The metadata key (and HTTP/2 header) of the trace context.
pub const TRACEPARENT: &str = "traceparent";

/// A W3C trace context: the trace, and the span that is the parent of the next hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: u128,
    pub span_id: u64,
}

fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // RandomState is seeded from the OS once per thread and varied per instance.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    match h.finish() {
        0 => 1,
        x => x,
    }
}

impl TraceContext {
    /// A new trace.
    pub fn root() -> Self {
        TraceContext { trace_id: ((random_u64() as u128) << 64) | random_u64() as u128, span_id: random_u64() }
    }

    /// A new span in the same trace.
    pub fn child(&self) -> Self {
        TraceContext { trace_id: self.trace_id, span_id: random_u64() }
    }

    /// Parse a `traceparent` value (version 00; all-zero ids are invalid).
    pub fn parse(value: &str) -> Option<Self> {
        let mut parts = value.trim().split('-');
        let (version, trace, span, _flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if version.len() != 2 || version == "ff" || trace.len() != 32 || span.len() != 16 {
            return None;
        }
        let trace_id = u128::from_str_radix(trace, 16).ok()?;
        let span_id = u64::from_str_radix(span, 16).ok()?;
        (trace_id != 0 && span_id != 0).then_some(TraceContext { trace_id, span_id })
    }

    /// The `traceparent` value (sampled).
    pub fn header(&self) -> String {
        format!("00-{:032x}-{:016x}-01", self.trace_id, self.span_id)
    }

    pub fn trace_hex(&self) -> String {
        format!("{:032x}", self.trace_id)
    }

    pub fn span_hex(&self) -> String {
        format!("{:016x}", self.span_id)
    }
}

tokio::task_local! {
    static CURRENT: TraceContext;
}

/// The context of the call (or job) this task is serving, if any.
pub fn current() -> Option<TraceContext> {
    CURRENT.try_with(|c| *c).ok()
}

/// Run `f` with `ctx` as the current context (for work spawned off a call, e.g. a job).
pub async fn scope<F: Future>(ctx: TraceContext, f: F) -> F::Output {
    CURRENT.scope(ctx, f).await
}

/// The context for an outgoing call: a child of the current one, or a new trace.
pub fn outgoing() -> TraceContext {
    current().map_or_else(TraceContext::root, |c| c.child())
}

/// Add `traceparent` for an outgoing call to its metadata.
pub fn inject(metadata: &mut MetadataMap) {
    if let Ok(v) = MetadataValue::try_from(outgoing().header()) {
        metadata.insert(TRACEPARENT, v);
    }
}

/// A tonic interceptor that adds `traceparent` (for generated clients: `with_interceptor`).
#[allow(clippy::result_large_err)] // tonic's interceptor signature
pub fn interceptor(mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
    inject(request.metadata_mut());
    Ok(request)
}

/// The tower layer every server of the platform runs: trace context, span, metrics.
#[derive(Debug, Clone, Copy)]
pub struct ObserveLayer {
    service: &'static str,
}

impl ObserveLayer {
    pub fn new(service: &'static str) -> Self {
        ObserveLayer { service }
    }
}

impl<S> tower::Layer<S> for ObserveLayer {
    type Service = Observe<S>;
    fn layer(&self, inner: S) -> Observe<S> {
        Observe { inner, service: self.service }
    }
}

#[derive(Debug, Clone)]
pub struct Observe<S> {
    inner: S,
    service: &'static str,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S, B, RB> tower::Service<http::Request<B>> for Observe<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // The clone that was polled ready serves this call (tower's rule for cloned services).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let service = self.service;
        let method = request.uri().path().to_string();
        let parent = request.headers().get(TRACEPARENT).and_then(|v| v.to_str().ok()).and_then(TraceContext::parse);
        let ctx = parent.map_or_else(TraceContext::root, |p| p.child());
        let span = tracing::info_span!(
            "rpc",
            service,
            method = %method,
            trace_id = %ctx.trace_hex(),
            span_id = %ctx.span_hex(),
            parent_id = %parent.map(|p| p.span_hex()).unwrap_or_default(),
        );
        Box::pin(async move {
            let start = Instant::now();
            let result = CURRENT.scope(ctx, inner.call(request).instrument(span)).await;
            // A trailers-only answer (every error before the body) carries grpc-status in the
            // headers; a streaming answer's final status is in its trailers: counted as "0" here.
            let code = match &result {
                Ok(response) => response.headers().get("grpc-status").and_then(|v| v.to_str().ok()).unwrap_or("0").to_string(),
                Err(_) => "transport".to_string(),
            };
            let m = crate::metrics::get();
            let method_labels = crate::metrics::labels(&[("service", service), ("method", &method)]);
            m.rpc_seconds.get_or_create(&method_labels).observe(start.elapsed().as_secs_f64());
            let mut with_code = method_labels;
            with_code.push(("code".to_string(), code));
            m.rpc_requests.get_or_create(&with_code).inc();
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_round_trips_and_rejects_malformed_values() {
        let c = TraceContext::root();
        assert_eq!(TraceContext::parse(&c.header()), Some(c));
        assert_eq!(c.child().trace_id, c.trace_id);
        assert_ne!(c.child().span_id, c.span_id);
        let w3c = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(TraceContext::parse(w3c).map(|c| c.trace_hex()), Some("4bf92f3577b34da6a3ce929d0e0e4736".to_string()));
        for bad in ["", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-xyz-00f067aa0ba902b7-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"] {
            assert_eq!(TraceContext::parse(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn outgoing_calls_continue_the_current_trace() {
        let c = TraceContext::root();
        let inner = scope(c, async { outgoing() }).await;
        assert_eq!(inner.trace_id, c.trace_id);
        assert_ne!(outgoing().trace_id, c.trace_id);
    }
}
