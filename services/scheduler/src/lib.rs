//! Scheduled production: what a CronJob or a systemd timer runs (`regstat-scheduler run`).
//!
//! One run = a linkage job for the decision years (registries → pseudonymised delivery), then
//! the whole production on that delivery (`RunProduction` on the query service), which writes
//! `OUT_DIR/runs/<run_id>/` with its manifest. The scheduler is a client of two services with
//! the operator identity; it holds no data.
//!
//! Keeping going across a restart of any one service:
//! - every call has a deadline (connect timeout, per-call `grpc-timeout`; the job as a whole has
//!   its own deadline), and calls that fail transiently are retried with exponential backoff;
//! - a registry restarting mid-job is absorbed by the linkage service's own retries; if a job
//!   still fails, or the linkage service restarts and forgets it, the job is submitted again (a
//!   failed job publishes nothing: deliveries are written to a staging directory and renamed);
//! - the query service restarting mid-production loses nothing: runs are written to a staging
//!   directory and renamed into `runs/<run_id>/` complete; the run id is a hash of code version,
//!   delivery and parameters, so a retried `RunProduction` finds or writes the same run, and an
//!   earlier run directory is never overwritten.

pub mod cli;

use std::time::{Duration, Instant};

use regstat_proto::linkage::v1 as lpb;
use regstat_proto::linkage::v1::linkage_client::LinkageClient;
use regstat_proto::query::v1 as qpb;
use regstat_proto::query::v1::query_client::QueryClient;
use regstat_server::retry::{self, Authority, Backoff, Deadlines};
use regstat_server::tls::TlsMaterial;
use regstat_server::trace::{self, TraceContext};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

/// What to run and how patiently.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub linkage: Authority,
    pub query: Authority,
    /// The operator identity's certificate; `None` = plain text (development only).
    pub tls: Option<TlsMaterial>,
    pub project: String,
    pub key_version: u32,
    pub from_year: i32,
    pub to_year: i32,
    /// Deadline of each unary call (submit, result, production).
    pub call_timeout: Duration,
    /// Deadline of a whole linkage job, from submission to its end.
    pub job_timeout: Duration,
    /// How many times a linkage job is submitted before giving up.
    pub job_attempts: u32,
    /// Backoff between retries; its budget bounds the retrying of each call.
    pub backoff: Backoff,
}

impl Schedule {
    /// Defaults for everything but the addresses and the years.
    pub fn new(linkage: impl Into<Authority>, query: impl Into<Authority>, tls: Option<TlsMaterial>, from_year: i32, to_year: i32) -> Self {
        Schedule {
            linkage: linkage.into(),
            query: query.into(),
            tls,
            project: "assistans-support".into(),
            key_version: 1,
            from_year,
            to_year,
            call_timeout: Duration::from_secs(900),
            job_timeout: Duration::from_secs(3600),
            job_attempts: 3,
            backoff: Backoff { budget: Duration::from_secs(300), ..Backoff::default() },
        }
    }
}

/// A finished scheduled run.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub trace_id: String,
    pub job_id: String,
    pub job_attempts: u32,
    pub delivery_id: String,
    pub production: qpb::RunProductionResponse,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{call}: {status_code:?}: {message}")]
    Call { call: &'static str, status_code: Code, message: String },
    #[error("linkage job failed {attempts} time(s); last error: {last}")]
    Job { attempts: u32, last: String },
    #[error("connecting: {0}")]
    Connect(#[from] tonic::transport::Error),
}

fn call_error(call: &'static str) -> impl Fn(Status) -> Error {
    move |s| Error::Call { call, status_code: s.code(), message: s.message().to_string() }
}

/// Progress of a run, for the command line.
pub trait Progress: Send + Sync {
    fn note(&self, line: &str);
}

impl<F: Fn(&str) + Send + Sync> Progress for F {
    fn note(&self, line: &str) {
        self(line)
    }
}

fn request<T>(message: T, timeout: Duration) -> Request<T> {
    let mut r = Request::new(message);
    r.set_timeout(timeout);
    trace::inject(r.metadata_mut());
    r
}

/// Run one scheduled production to its end.
pub async fn run_once(s: &Schedule, progress: &dyn Progress) -> Result<Outcome, Error> {
    let ctx = TraceContext::root();
    trace::scope(ctx, run_traced(s, progress, ctx)).await
}

async fn run_traced(s: &Schedule, progress: &dyn Progress, ctx: TraceContext) -> Result<Outcome, Error> {
    let deadlines = Deadlines { call: s.call_timeout, ..Deadlines::default() };
    let linkage = LinkageClient::new(retry::channel(&s.linkage, s.tls.as_ref(), "linkage", deadlines)?);
    let query = QueryClient::new(retry::channel(&s.query, s.tls.as_ref(), "query", deadlines)?);
    progress.note(&format!("trace {}: linkage job for {}–{}", ctx.trace_hex(), s.from_year, s.to_year));

    let mut attempt = 0;
    let (job_id, delivery_id) = loop {
        attempt += 1;
        match one_job(s, &linkage, progress).await {
            Ok(done) => break done,
            Err(e @ Error::Call { status_code, .. }) if !retry::transient(status_code) && status_code != Code::NotFound => return Err(e),
            Err(e) if attempt < s.job_attempts => {
                let wait = s.backoff.wait(attempt);
                progress.note(&format!("job attempt {attempt} did not finish ({e}); submitting again in {:.1} s", wait.as_secs_f64()));
                tracing::warn!(attempt, error = %e, "linkage job attempt failed; submitting again");
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(Error::Job { attempts: attempt, last: e.to_string() }),
        }
    };
    progress.note(&format!("delivery {delivery_id} published by {job_id}; running the production"));

    let production = retry::retry("query RunProduction", s.backoff, |st: &Status| retry::transient(st.code()), || {
        let mut q = query.clone();
        let r = request(qpb::RunProductionRequest { delivery_id: delivery_id.clone(), from_year: s.from_year, to_year: s.to_year }, s.call_timeout);
        async move { q.run_production(r).await.map(tonic::Response::into_inner) }
    })
    .await
    .map_err(call_error("RunProduction"))?;
    progress.note(&format!(
        "run {} written to OUT_DIR/{} ({} files; {} cells, {} primary and {} secondary suppressions; audit {})",
        production.run_id,
        production.run_dir,
        production.files.len(),
        production.cells,
        production.primary_suppressed,
        production.secondary_suppressed,
        if production.audit_passed { "passed" } else { "FAILED" },
    ));
    Ok(Outcome { trace_id: ctx.trace_hex(), job_id, job_attempts: attempt, delivery_id, production })
}

/// Submit a job and follow it to its end: `(job id, delivery id)`. A watch stream that breaks
/// (the linkage service restarting) falls back to polling the result; a job the service no
/// longer knows is `NotFound`, and the caller submits again.
async fn one_job(s: &Schedule, linkage: &LinkageClient<Channel>, progress: &dyn Progress) -> Result<(String, String), Error> {
    let submit = lpb::SubmitJobRequest {
        project: s.project.clone(),
        key_version: s.key_version,
        from_year: s.from_year,
        to_year: s.to_year,
        statistics: vec![],
    };
    let job_id = retry::retry("linkage SubmitJob", s.backoff, |st: &Status| retry::transient(st.code()), || {
        let mut c = linkage.clone();
        let r = request(submit.clone(), s.call_timeout);
        async move { c.submit_job(r).await.map(|r| r.into_inner().job_id) }
    })
    .await
    .map_err(call_error("SubmitJob"))?;
    progress.note(&format!("job {job_id} submitted"));
    let deadline = Instant::now() + s.job_timeout;
    let job = lpb::JobRef { job_id: job_id.clone() };

    // Follow the progress stream while it lasts.
    let mut c = linkage.clone();
    if let Ok(stream) = c.watch_job(request(job.clone(), s.call_timeout)).await {
        let mut stream = stream.into_inner();
        let mut last_stage = String::new();
        loop {
            let next = tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), stream.message()).await;
            match next {
                Ok(Ok(Some(p))) => {
                    if p.stage != last_stage {
                        progress.note(&format!("  [{:>3.0}%] {:<16} {} rows", p.fraction * 100.0, p.stage, p.rows));
                        last_stage = p.stage.clone();
                    }
                }
                Ok(Ok(None)) => break,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "progress stream broke; polling the job's result");
                    break;
                }
                Err(_) => return Err(Error::Call { call: "WatchJob", status_code: Code::DeadlineExceeded, message: "the job did not finish within its deadline".into() }),
            }
        }
    }

    // The result (polling while the job still runs, e.g. after a broken stream).
    loop {
        let r = retry::retry("linkage GetJobResult", s.backoff, |st: &Status| retry::transient(st.code()), || {
            let mut c = linkage.clone();
            let r = request(job.clone(), s.call_timeout);
            async move { c.get_job_result(r).await.map(tonic::Response::into_inner) }
        })
        .await
        .map_err(call_error("GetJobResult"))?;
        match lpb::JobState::try_from(r.state) {
            Ok(lpb::JobState::Succeeded) => return Ok((job_id, r.delivery_id)),
            Ok(lpb::JobState::Failed) => {
                return Err(Error::Call { call: "linkage job", status_code: Code::Aborted, message: r.error });
            }
            _ if Instant::now() >= deadline => {
                return Err(Error::Call { call: "linkage job", status_code: Code::DeadlineExceeded, message: "the job did not finish within its deadline".into() });
            }
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}
