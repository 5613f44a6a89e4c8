//! Runs linkage jobs: the domain side of the linkage service (no gRPC server code here).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use regstat_proto::linkage::v1::{JobProgress, JobResult, JobState};
use regstat_pseudo::{MasterSecret, Pseudonymiser};
use regstat_registry::RegistryClient;
use arrow_flight::error::FlightError;
use regstat_server::retry::{retry, Authority, Backoff, Deadlines};
use regstat_server::tls::TlsMaterial;
use tokio::sync::watch;

use crate::audit::AuditLog;
use crate::delivery::{self, InputFingerprint, KeyInfo, Published};
use crate::error::{Error, Result};
use crate::job::{self, JobParams, Pulled};

/// Where the registries are and how to reach them: every call has a deadline, and a call that
/// fails transiently (a registry restarting, unreachable, overloaded) is retried with backoff.
/// Reads from a registry are idempotent, so a retried pull starts the dataset again.
#[derive(Debug, Clone)]
pub struct Upstreams {
    pub fk: Authority,
    pub sos: Authority,
    /// `None` = plain text (development only).
    pub tls: Option<TlsMaterial>,
    pub deadlines: Deadlines,
    pub backoff: Backoff,
}

impl Upstreams {
    /// Default deadlines and backoff (see [`regstat_server::retry`]).
    pub fn new(fk: impl Into<Authority>, sos: impl Into<Authority>, tls: Option<TlsMaterial>) -> Self {
        Upstreams { fk: fk.into(), sos: sos.into(), tls, deadlines: Deadlines::default(), backoff: Backoff::default() }
    }

    fn client(&self, service: &'static str, addr: &Authority) -> Result<RegistryClient> {
        regstat_server::retry::channel(addr, self.tls.as_ref(), service, self.deadlines)
            .map(RegistryClient::new)
            .map_err(|e| Error::Registry { service, reason: e.to_string() })
    }
}

/// Whether a registry call's failure may pass on retrying.
fn transient(e: &FlightError) -> bool {
    match e {
        FlightError::Tonic(s) => regstat_server::retry::transient(s.code()),
        // A stream cut off mid-way (the registry went away while sending).
        FlightError::ProtocolError(_) | FlightError::ExternalError(_) => true,
        _ => false,
    }
}

/// Where a job's delivery goes.
#[derive(Debug, Clone)]
pub enum DeliveryTarget {
    /// Pushed to the query service over Arrow Flight (`DoPut`, mutual TLS with the upstreams'
    /// material): the deployment's way, no storage shared with the query side (SPEC §2).
    Query(Authority),
    /// Stored in a local store directory by the same code the query service stores a push with
    /// (a single-host setup, in-process tests, benchmarks).
    Store(PathBuf),
}

impl std::fmt::Display for DeliveryTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeliveryTarget::Query(a) => write!(f, "query service at {a}"),
            DeliveryTarget::Store(p) => write!(f, "store {}", p.display()),
        }
    }
}

struct JobEntry {
    progress: watch::Receiver<JobProgress>,
    result: Arc<Mutex<Option<JobResult>>>,
}

/// The linkage engine: jobs, the secret, the store, the audit log.
pub struct Linker {
    upstreams: Upstreams,
    master: MasterSecret,
    target: DeliveryTarget,
    audit: Arc<AuditLog>,
    jobs: Mutex<HashMap<String, JobEntry>>,
    next: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Linker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linker").field("target", &self.target).finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Linker {
    pub fn new(upstreams: Upstreams, master: MasterSecret, target: DeliveryTarget, audit: Arc<AuditLog>) -> Self {
        Linker { upstreams, master, target, audit, jobs: Mutex::new(HashMap::new()), next: 1.into() }
    }

    pub fn target(&self) -> &DeliveryTarget {
        &self.target
    }

    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// Accept a job (audited) and start it in the background.
    pub fn submit(self: &Arc<Self>, params: JobParams, caller: &str) -> Result<String> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let job_id = format!("job-{}-{n}", chrono::Utc::now().format("%Y%m%dT%H%M%S"));
        self.audit.append(
            caller,
            "job_submitted",
            serde_json::json!({ "job_id": job_id, "parameters": params }),
        )?;
        let (tx, rx) = watch::channel(JobProgress {
            job_id: job_id.clone(),
            state: JobState::Queued as i32,
            stage: "queued".into(),
            ..Default::default()
        });
        let result = Arc::new(Mutex::new(None));
        lock(&self.jobs).insert(job_id.clone(), JobEntry { progress: rx, result: result.clone() });
        let this = self.clone();
        let id = job_id.clone();
        // The job continues the submitter's trace: its registry calls carry the same trace id.
        let trace = regstat_server::trace::outgoing();
        let span = tracing::info_span!("job", job_id = %job_id, trace_id = %trace.trace_hex());
        let job = async move {
            let started = std::time::Instant::now();
            let outcome = this.run(&id, &params, &tx).await;
            regstat_server::metrics::job("linkage", "linkage_job", outcome.is_ok(), started.elapsed());
            let final_result = match outcome {
                Ok(p) => {
                    let _ = this.audit.append(
                        "linkage",
                        "delivery_published",
                        serde_json::json!({
                            "job_id": id, "delivery_id": p.delivery_id, "location": p.location, "newly_stored": p.newly_stored,
                            "inputs": p.manifest.inputs, "files": p.stored, "key": p.manifest.key,
                        }),
                    );
                    tracing::info!(job_id = %id, delivery_id = %p.delivery_id, "job succeeded");
                    JobResult {
                        job_id: id.clone(),
                        state: JobState::Succeeded as i32,
                        delivery_id: p.delivery_id,
                        manifest_path: p.location.clone(),
                        error: String::new(),
                    }
                }
                Err(e) => {
                    let _ = this.audit.append("linkage", "job_failed", serde_json::json!({ "job_id": id, "error": e.to_string() }));
                    tracing::warn!(job_id = %id, error = %e, "job failed");
                    JobResult { job_id: id.clone(), state: JobState::Failed as i32, error: e.to_string(), ..Default::default() }
                }
            };
            let state = final_result.state;
            let message = if final_result.error.is_empty() { format!("delivery {}", final_result.delivery_id) } else { final_result.error.clone() };
            *lock(&result) = Some(final_result);
            tx.send_modify(|p| {
                p.state = state;
                p.stage = "done".into();
                p.fraction = 1.0;
                p.message = message;
            });
        };
        tokio::spawn(regstat_server::trace::scope(trace, tracing::Instrument::instrument(job, span)));
        Ok(job_id)
    }

    pub fn watch(&self, job_id: &str) -> Result<watch::Receiver<JobProgress>> {
        lock(&self.jobs).get(job_id).map(|j| j.progress.clone()).ok_or_else(|| Error::NotFound(job_id.to_string()))
    }

    pub fn result(&self, job_id: &str) -> Result<JobResult> {
        let jobs = lock(&self.jobs);
        let j = jobs.get(job_id).ok_or_else(|| Error::NotFound(job_id.to_string()))?;
        let r = lock(&j.result).clone();
        Ok(r.unwrap_or_else(|| {
            let p = j.progress.borrow();
            JobResult { job_id: job_id.to_string(), state: p.state, ..Default::default() }
        }))
    }

    /// Identifiable records live only in this function's memory; nothing is written before
    /// pseudonymisation.
    async fn run(&self, job_id: &str, params: &JobParams, tx: &watch::Sender<JobProgress>) -> Result<Published> {
        let step = |stage: &str, fraction: f64, rows: u64| {
            tx.send_modify(|p| {
                p.state = JobState::Running as i32;
                p.stage = stage.to_string();
                p.fraction = fraction;
                p.rows = rows;
                p.message = format!("{stage}: {rows} rows so far");
            });
        };
        let fk = self.upstreams.client("fk-registry", &self.upstreams.fk)?;
        let fk_err = |e: FlightError| Error::Registry { service: "fk-registry", reason: e.to_string() };
        let sos_err = |e: FlightError| Error::Registry { service: "sos-register", reason: e.to_string() };
        let rows = |b: &[arrow::array::RecordBatch]| b.iter().map(|b| b.num_rows() as u64).sum::<u64>();
        let backoff = self.upstreams.backoff;
        let mut moved = 0u64;
        let pulled = |service: &str, dataset: &str, b: &[arrow::array::RecordBatch]| {
            regstat_server::metrics::rows("linkage", dataset, &format!("pulled_from_{service}"), rows(b));
        };

        step("personnummer_changes", 0.02, moved);
        // Every change (thousands nationally): chains must be followed whole, and FK answers
        // only the linkage service.
        let changes = retry("fk-registry personnummer_changes", backoff, transient, || fk.fetch("personnummer_changes", None)).await.map_err(fk_err)?;
        moved += rows(&changes);
        pulled("fk-registry", "personnummer_changes", &changes);
        let renumber = job::renumbering(&changes)?;

        // A job for the payer statistics alone (SPEC-DECISIONS §5c) links no cohort: it pulls no
        // decisions, persons or registrations.
        let (decisions, cohort, persons, registrations) = if params.needs_cohort() {
            step("decisions", 0.05, moved);
            let last = format!("{:04}-12", params.to_year);
            let first = format!("{:04}-01", job::FIRST_HISTORY_YEAR);
            let decisions = retry("fk-registry decisions", backoff, transient, || fk.fetch("decisions", Some((&first, &last)))).await.map_err(fk_err)?;
            moved += rows(&decisions);
            pulled("fk-registry", "decisions", &decisions);
            let linked = job::persons_with_decisions(&decisions, params, &renumber)?;
            // The linked persons' current numbers and the old numbers that refer to them: the
            // registers may still hold rows under an old number. Nobody else's.
            let cohort: Vec<String> = job::request_numbers(&linked, &renumber)?;
            tracing::info!(
                job_id,
                persons = linked.len(),
                old_numbers = cohort.len() - linked.len(),
                "persons with a decision in the years"
            );

            step("persons", 0.2, moved);
            let persons = retry("fk-registry persons", backoff, transient, || fk.fetch_persons("persons", cohort.clone(), None)).await.map_err(fk_err)?;
            moved += rows(&persons);
            pulled("fk-registry", "persons", &persons);
            // Registrations only for the support statistics' snapshots and the residence-time
            // statistics' arrival dates (minimisation, SPEC §2).
            let registrations = if params.pulls_registrations() {
                step("registrations", 0.3, moved);
                let r = retry("fk-registry registrations", backoff, transient, || fk.fetch_persons("registrations", cohort.clone(), None))
                    .await
                    .map_err(fk_err)?;
                moved += rows(&r);
                pulled("fk-registry", "registrations", &r);
                r
            } else {
                Vec::new()
            };
            (decisions, cohort, persons, registrations)
        } else {
            (Vec::new(), Vec::new(), Vec::new(), Vec::new())
        };
        let (m0, m1) = params.support_months();
        let benefits = if params.needs_benefits() {
            step("benefit_payments", 0.4, moved);
            let b = retry("fk-registry benefit_payments", backoff, transient, || {
                fk.fetch_persons("benefit_payments", cohort.clone(), Some((&m0, &m1)))
            })
            .await
            .map_err(fk_err)?;
            moved += rows(&b);
            pulled("fk-registry", "benefit_payments", &b);
            Some(b)
        } else {
            None
        };
        let report = retry("fk-registry load report", backoff, transient, || async { fk.load_report().await.map_err(FlightError::from) })
            .await
            .map_err(fk_err)?;
        if params.needs_assistance() {
            if let Some(d) = report.datasets.iter().find(|d| d.dataset == "assistance_months") {
                if d.source_format == "absent" {
                    return Err(Error::BadRequest(
                        "the personal-assistance statistics need FK's assistance_months, which fk-registry was given no extract of".into(),
                    ));
                }
            }
        }
        // D1 CURRENT_RECIPIENT: the linked persons' rights, where FK has assistance_months.
        let has_assistance = report.datasets.iter().any(|d| d.dataset == "assistance_months" && d.source_format != "absent");
        let recipients = if params.needs_recipient_check() && has_assistance {
            step("recipient_months", 0.45, moved);
            let last = format!("{:04}-12", params.to_year);
            let r = retry("fk-registry assistance_months", backoff, transient, || {
                fk.fetch_persons("assistance_months", cohort.clone(), Some(("1994-01", &last)))
            })
            .await
            .map_err(fk_err)?;
            moved += rows(&r);
            pulled("fk-registry", "assistance_months", &r);
            Some(r)
        } else {
            None
        };
        let mut inputs = fingerprints("fk-registry", report, params, false);
        let assistance = if params.needs_assistance() {
            step("assistance_months", 0.5, moved);
            let (a0, a1) = params.assistance_months();
            // Everyone with a right in the months: the payer statistics count them all.
            let a = retry("fk-registry assistance_months", backoff, transient, || fk.fetch("assistance_months", Some((&a0, &a1))))
                .await
                .map_err(fk_err)?;
            moved += rows(&a);
            pulled("fk-registry", "assistance_months", &a);
            Some(a)
        } else {
            None
        };
        let sos_client = || self.upstreams.client("sos-register", &self.upstreams.sos);
        let interventions = if params.needs_interventions() {
            step("interventions", 0.55, moved);
            let sos = sos_client()?;
            // Only the cohort's identifiers go to Socialstyrelsen (a semi-join).
            let i = retry("sos-register interventions", backoff, transient, || {
                sos.fetch_persons("interventions", cohort.clone(), Some((&m0, &m1)))
            })
            .await
            .map_err(sos_err)?;
            moved += rows(&i);
            pulled("sos-register", "interventions", &i);
            let report = retry("sos-register load report", backoff, transient, || async { sos.load_report().await.map_err(FlightError::from) })
                .await
                .map_err(sos_err)?;
            inputs.extend(fingerprints("sos-register", report, params, true));
            Some(i)
        } else {
            None
        };
        let municipal_pa = if params.needs_municipal_pa() {
            step("municipal personal assistance", 0.65, moved);
            let sos = sos_client()?;
            let (a0, a1) = params.assistance_months();
            // A selection by intervention: everyone's LSS personal assistance in the months,
            // authorised for this project at the register (SPEC-DECISIONS §5c.1).
            let project = params.project.clone();
            let m = retry("sos-register personal assistance", backoff, transient, || {
                sos.fetch_selection(&project, "LSS", "PERSONLIG_ASSISTANS", Some((&a0, &a1)))
            })
            .await
            .map_err(sos_err)?;
            moved += rows(&m);
            pulled("sos-register", "interventions", &m);
            if !params.needs_interventions() {
                let report = retry("sos-register load report", backoff, transient, || async { sos.load_report().await.map_err(FlightError::from) })
                    .await
                    .map_err(sos_err)?;
                inputs.extend(fingerprints("sos-register", report, params, true));
            }
            Some(m)
        } else {
            None
        };

        step("pseudonymise", 0.75, moved);
        let key = Pseudonymiser::new(&self.master, &params.project, params.key_version)
            .map_err(|e| Error::BadRequest(e.to_string()))?;
        let key_info = KeyInfo {
            project: key.key_id().project.clone(),
            version: key.key_id().version,
            fingerprint: key.key_id().fingerprint.clone(),
        };
        let pulled = Pulled { changes, decisions, persons, registrations, benefits, interventions, assistance, municipal_pa, recipients };
        let params_owned = params.clone();
        let tables = tokio::task::spawn_blocking(move || job::build_tables(&pulled, &params_owned, &key))
            .await
            .map_err(|e| Error::Internal(e.to_string()))??;

        step("publish", 0.9, moved);
        let params_owned = params.clone();
        let (tables, prepared) = tokio::task::spawn_blocking(move || {
            let p = delivery::prepare(&tables, &params_owned, key_info, inputs);
            (tables, p)
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
        let prepared = prepared?;
        match &self.target {
            DeliveryTarget::Store(store) => {
                let store = store.clone();
                tokio::task::spawn_blocking(move || delivery::store_prepared(&store, prepared, &tables))
                    .await
                    .map_err(|e| Error::Internal(e.to_string()))?
            }
            DeliveryTarget::Query(addr) => {
                let channel = regstat_server::retry::channel(addr, self.upstreams.tls.as_ref(), "query", self.upstreams.deadlines)
                    .map_err(|e| Error::Delivery(e.to_string()))?;
                let tables = Arc::new(tables);
                // A push is idempotent (the id names the content): a retried push stores once.
                let answer = retry("query delivery", backoff, transient, || {
                    let (channel, tables, prepared) = (channel.clone(), tables.clone(), &prepared);
                    async move { delivery::push(&mut arrow_flight::FlightClient::new(channel), prepared, &tables).await }
                })
                .await
                .map_err(|e| Error::Delivery(e.to_string()))?;
                tracing::info!(delivery_id = %answer.delivery_id, newly_stored = answer.newly_stored, "delivery pushed to the query service");
                Ok(Published {
                    location: format!("query:{addr}/deliveries/{}", prepared.delivery_id),
                    delivery_id: prepared.delivery_id,
                    manifest: prepared.manifest,
                    stored: answer.files,
                    newly_stored: answer.newly_stored,
                })
            }
        }
    }
}

fn fingerprints(
    service: &str,
    report: regstat_proto::registry::v1::LoadReport,
    params: &JobParams,
    sos: bool,
) -> Vec<InputFingerprint> {
    report
        .datasets
        .into_iter()
        .filter(|d| sos || params.pulls_fk(&d.dataset))
        // FK's STORE extract, when the register was not given one, is no input.
        .filter(|d| d.dataset != "assistance_months" || d.source_format != "absent")
        .map(|d| InputFingerprint {
            service: service.to_string(),
            dataset: d.dataset,
            source_sha256: d.source_sha256,
            rows_accepted: d.rows_accepted,
        })
        .collect()
}
