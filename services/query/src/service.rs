//! The query service over gRPC (SPEC §2, §7): `regstat.query.v1.Query` (catalogue,
//! deliveries, whole productions) and Arrow Flight on the same port (one statistic as Arrow).
//!
//! Everything released is a statistic of the catalogue out of a release protected as a whole
//! ([`crate::output::release`]): a statistic fetched on its own carries exactly the numbers and
//! suppressions of the production for the same delivery and years, so fetching statistics one
//! by one never reveals more than the production does. Releases are cached per (delivery,
//! years) and every release — a production or a statistic fetched — is appended to the
//! hash-chained audit log with the caller's identity.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest,
    HandshakeResponse, PollInfo, PutResult, SchemaAsIpc, SchemaResult, Ticket,
};
use futures::stream;
use futures::{StreamExt, TryStreamExt};
use regstat_proto::query::v1 as pb;
use regstat_server::audit::AuditLog;
use regstat_server::Access;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tonic::{Request, Response, Status, Streaming};

use crate::delivery::Delivery;
use crate::disclosure::{Policy, Ranges};
use crate::engine::{Engine, Years};
use crate::error::Error;
use crate::ledger::Ledger;
use crate::output::{self, Release};
use crate::sql::{is_flight_sql, SqlService};
use crate::stats;

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        match e {
            Error::BadRequest(m) => Status::invalid_argument(m),
            Error::NotFound(m) => Status::not_found(m),
            e @ Error::Delivery { .. } => Status::failed_precondition(e.to_string()),
            Error::Precondition(m) => Status::failed_precondition(m),
            Error::Busy(m) => Status::unavailable(m),
            e => {
                tracing::error!(error = %e, "query failed");
                Status::internal(e.to_string())
            }
        }
    }
}

/// A Flight ticket: the JSON of `regstat.query.v1.ComputeRequest` (every field but
/// `statistic` optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputeTicket {
    pub statistic: String,
    #[serde(default)]
    pub delivery_id: String,
    #[serde(default)]
    pub from_year: i32,
    #[serde(default)]
    pub to_year: i32,
}

/// The decision years asked for; none (0, 0) = every year the delivery was linked for.
fn years_of(d: &Delivery, from: i32, to: i32) -> Result<Years, Error> {
    if from == 0 && to == 0 {
        let (f, t) = d.manifest.years().unwrap_or((2018, 2020));
        return Years::new(f, t);
    }
    Years::new(from, to)
}

/// The state behind both APIs.
pub struct QueryState {
    pub store: PathBuf,
    /// Runs are written to `out/runs/<run_id>/`; `out/` itself holds the newest run's files.
    pub out: PathBuf,
    pub policy: Policy,
    pub audit: Arc<AuditLog>,
    cache: Mutex<HashMap<(String, Years), Arc<Release>>>,
    /// The release ledgers of the projects answered so far (opened on first use, held locked).
    ledgers: Arc<std::sync::Mutex<HashMap<String, Ledger>>>,
}

impl std::fmt::Debug for QueryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryState").field("store", &self.store).field("out", &self.out).finish_non_exhaustive()
    }
}

impl QueryState {
    pub fn new(store: PathBuf, out: PathBuf, policy: Policy, audit: Arc<AuditLog>) -> Self {
        QueryState { store, out, policy, audit, cache: Mutex::new(HashMap::new()), ledgers: Default::default() }
    }

    fn delivery(&self, id: &str) -> Result<Delivery, Error> {
        if id.is_empty() {
            Delivery::latest(&self.store)
        } else {
            Delivery::open(&self.store, id)
        }
    }

    /// The protected release of every statistic for a delivery and years (computed once),
    /// protected together with everything released before for the delivery's project and
    /// recorded in the project's ledger and the audit log before it is returned.
    ///
    /// The first request for any range of a delivery protects the delivery's whole *release
    /// family* (every range the policy serves for it, [`Ranges::of`]) in one pass and records
    /// each member; later requests for its ranges are answered from that (the cache, or after a
    /// restart the ledger, which holds every member's cells with their statuses).
    pub async fn release(&self, delivery: &Delivery, years: Years, caller: &str) -> Result<Arc<Release>, Status> {
        let delivery_id = delivery.manifest.delivery_id.clone();
        let key = (delivery_id.clone(), years);
        let mut cache = self.cache.lock().await;
        if let Some(r) = cache.get(&key) {
            return Ok(r.clone());
        }
        let policy = self.policy;
        let (from, to) = delivery.manifest.years().unwrap_or((years.from, years.to));
        if years.from < from || years.to > to {
            // Engine::new names the delivery's years.
            Engine::new(delivery, years).await?;
        }
        let served = policy.ranges.of(from, to);
        if !served.contains(&(years.from, years.to)) {
            return Err(Status::failed_precondition(format!(
                "this service releases delivery {delivery_id} (linked for decision years {from}-{to}) only for the ranges {}",
                served.iter().map(|(a, b)| format!("{a}-{b}")).collect::<Vec<_>>().join(", ")
            )));
        }
        if !policy.project_ledger {
            let engine = Engine::new(delivery, years).await?;
            let (tables, names) = (engine.compute_all().await?, engine.unit_names()?);
            let rel = tokio::task::spawn_blocking(move || output::protect_answer(output::to_canonical_units(tables, &names), None, policy))
                .await
                .map_err(|e| Status::internal(format!("protection task failed: {e}")))??;
            let rel = Arc::new(rel);
            self.record_release(caller, "default", delivery, years, &rel, &[])?;
            cache.insert(key, rel.clone());
            return Ok(rel);
        }
        let project = delivery.manifest.project().unwrap_or("default").to_string();
        let fingerprint = delivery.manifest.key_fingerprint().to_string();
        // The members: the asked range alone when the ledger has it (its cells keep their
        // statuses), else every served range of the delivery the ledger does not have yet.
        let recorded = {
            let (ledgers, dir, p, d) = (self.ledgers.clone(), self.store.join("ledger"), project.clone(), delivery_id.clone());
            tokio::task::spawn_blocking(move || -> Result<Vec<(i32, i32)>, Error> {
                let mut map = ledgers.lock().map_err(|_| Error::Disclosure("ledger state poisoned".into()))?;
                if !map.contains_key(&p) {
                    map.insert(p.clone(), Ledger::open(&dir, &p)?);
                }
                Ok(map[&p].answers.iter().filter(|a| a.delivery_id == d).map(|a| a.years).collect())
            })
            .await
            .map_err(|e| Status::internal(format!("ledger task failed: {e}")))??
        };
        let members: Vec<(i32, i32)> = if recorded.contains(&(years.from, years.to)) {
            vec![(years.from, years.to)]
        } else {
            served.into_iter().filter(|r| !recorded.contains(r)).collect()
        };
        let computed = output::family_members(delivery, &members).await?;
        let (ledgers, p) = (self.ledgers.clone(), project.clone());
        let releases = tokio::task::spawn_blocking(move || -> Result<Vec<Release>, Error> {
            let mut map = ledgers.lock().map_err(|_| Error::Disclosure("ledger state poisoned".into()))?;
            let ledger = map.get_mut(&p).ok_or_else(|| Error::Disclosure("ledger vanished".into()))?;
            output::protect_family(computed, ledger, &fingerprint, policy)
        })
        .await
        .map_err(|e| Status::internal(format!("protection task failed: {e}")))?
        .map_err(|e| {
            if let Error::Precondition(m) = &e {
                tracing::warn!(delivery_id = %delivery_id, message = %m, "answer refused");
            }
            Status::from(e)
        })?;
        let mut asked = None;
        for (&(a, b), rel) in members.iter().zip(releases) {
            let y = Years { from: a, to: b };
            let rel = Arc::new(rel);
            self.record_release(caller, &project, delivery, y, &rel, &members)?;
            if y == years {
                asked = Some(rel.clone());
            }
            cache.insert((delivery_id.clone(), y), rel);
        }
        asked.ok_or_else(|| Status::internal("the asked range was not among the protected ones"))
    }

    /// The audit-log entry of a released answer (and its metrics).
    fn record_release(&self, caller: &str, project: &str, delivery: &Delivery, years: Years, rel: &Release, family: &[(i32, i32)]) -> Result<(), Status> {
        let s = &rel.summary;
        self.record(
            caller,
            "answer_released",
            serde_json::json!({
                "project": project,
                "delivery_id": delivery.manifest.delivery_id,
                "decision_years": [years.from, years.to],
                "protected_with": family.iter().map(|(a, b)| [a, b]).collect::<Vec<_>>(),
                "ledger_line_sha256": rel.ledger_line,
                "cells": s.cells,
                "cells_released_before": s.cells_released_before,
                "ledger_cells": s.ledger_cells,
                "primary": s.primary,
                "secondary": s.secondary,
                "secondary_for_intervals": s.secondary_for_intervals,
                "difference_cells": s.difference_cells,
                "narrowest_interval": s.narrowest_interval,
                "audit_passed": rel.audit.passed,
            }),
        )?;
        let m = regstat_server::metrics::get();
        m.released_cells.get_or_create(&regstat_server::metrics::labels(&[("service", "query")])).inc_by(s.cells as u64);
        for (rule, n) in [("primary", s.primary), ("secondary", s.secondary)] {
            m.suppressed_cells.get_or_create(&regstat_server::metrics::labels(&[("service", "query"), ("rule", rule)])).inc_by(n as u64);
        }
        Ok(())
    }

    pub(crate) fn record(&self, caller: &str, action: &str, details: serde_json::Value) -> Result<String, Status> {
        self.audit.append(caller, action, details).map_err(|e| {
            tracing::error!(error = %e, "audit log refused the entry");
            Status::internal("the audit log refused the entry: nothing is released")
        })
    }

    /// Run a whole production into a new run directory (never overwriting an earlier one: the
    /// run id is a hash of code version, delivery and parameters, so an existing directory holds
    /// the same bytes), then refresh `out/` with it.
    pub async fn produce(&self, delivery_id: &str, from_year: i32, to_year: i32, caller: &str) -> Result<pb::RunProductionResponse, Status> {
        let started = std::time::Instant::now();
        let result = self.produce_inner(delivery_id, from_year, to_year, caller).await;
        regstat_server::metrics::job("query", "production", result.is_ok(), started.elapsed());
        result
    }

    async fn produce_inner(&self, delivery_id: &str, from_year: i32, to_year: i32, caller: &str) -> Result<pb::RunProductionResponse, Status> {
        let d = self.delivery(delivery_id)?;
        let years = years_of(&d, from_year, to_year)?;
        let runs = self.out.join("runs");
        std::fs::create_dir_all(&runs).map_err(|e| Status::internal(format!("{}: {e}", runs.display())))?;
        let staging = runs.join(format!(".staging-{}-{}", std::process::id(), rand_suffix()));
        // The same cached release a Flight fetch serves; writing the files is blocking I/O.
        let rel = self.release(&d, years, caller).await?;
        // The regression estimates (written only where the release publishes their counts).
        let models = crate::regression::fit_models(&Engine::new(&d, years).await?).await?;
        let (policy, rel2, stage) = (self.policy, rel.clone(), staging.clone());
        let written = tokio::task::spawn_blocking(move || output::write_release(&d, years, policy, &rel2, &models, &stage))
            .await
            .map_err(|e| Status::internal(format!("writing the production: {e}")))?;
        let manifest = match written {
            Ok(m) => m,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(e.into());
            }
        };
        let run_dir = runs.join(&manifest.run_id);
        if run_dir.exists() {
            let _ = std::fs::remove_dir_all(&staging);
        } else {
            std::fs::rename(&staging, &run_dir).map_err(|e| Status::internal(format!("{}: {e}", run_dir.display())))?;
        }
        refresh_latest(&run_dir, &self.out).map_err(|e| Status::internal(format!("{}: {e}", self.out.display())))?;
        let files: Vec<String> = manifest.files.iter().map(|f| f.name.clone()).chain(["manifest.json".to_string()]).collect();
        let entry = self.record(
            caller,
            "production_released",
            serde_json::json!({
                "run_id": manifest.run_id,
                "delivery_id": manifest.delivery_id,
                "decision_years": [years.from, years.to],
                "files": manifest.files.iter().map(|f| serde_json::json!({"name": f.name, "sha256": f.sha256})).collect::<Vec<_>>(),
                "cells": rel.summary.cells,
                "primary": rel.summary.primary,
                "secondary": rel.summary.secondary,
                "audit_passed": rel.audit.passed,
            }),
        )?;
        tracing::info!(run_id = %manifest.run_id, delivery_id = %manifest.delivery_id, "production released");
        Ok(pb::RunProductionResponse {
            run_id: manifest.run_id.clone(),
            delivery_id: manifest.delivery_id,
            run_dir: format!("runs/{}", manifest.run_id),
            files,
            cells: rel.summary.cells as u32,
            primary_suppressed: rel.summary.primary as u32,
            secondary_suppressed: rel.summary.secondary as u32,
            audit_passed: rel.audit.passed,
            audit_entry: entry,
        })
    }
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    format!("{:x}", SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0))
}

/// Copy a run's files to the top of the output directory (each replaced atomically; the
/// manifest last, so a top-level manifest names files that are already in place). The run
/// directory under `runs/` is the complete, immutable record; the top level is a convenience.
fn refresh_latest(run_dir: &Path, out: &Path) -> std::io::Result<()> {
    let mut names: Vec<std::ffi::OsString> = std::fs::read_dir(run_dir)?.map(|e| e.map(|e| e.file_name())).collect::<Result<_, _>>()?;
    names.sort_by_key(|n| (n == "manifest.json", n.clone()));
    for name in names {
        let tmp = out.join(format!(".{}.tmp", name.to_string_lossy()));
        std::fs::copy(run_dir.join(&name), &tmp)?;
        std::fs::rename(&tmp, out.join(&name))?;
    }
    Ok(())
}

/// Remove staging directories left by a production that was killed mid-write (its process is
/// gone), so that no partial run lingers under `runs/`. Finished runs are never touched. Called
/// once when the server starts.
pub fn clean_stale_staging(runs: &Path) -> std::io::Result<usize> {
    let removed = regstat_contract::delivery::remove_abandoned(runs, ".staging-")?;
    for dir in &removed {
        tracing::warn!(dir = %dir, "removed the staging directory of an interrupted production");
    }
    Ok(removed.len())
}

/// `regstat.query.v1.Query` and Arrow Flight over one [`QueryState`].
#[derive(Clone)]
pub struct QueryService {
    state: Arc<QueryState>,
    access: Access,
    /// Flight SQL over the released statistics: Flight calls carrying a Flight SQL message.
    sql: SqlService,
}

impl QueryService {
    pub fn new(state: Arc<QueryState>, access: Access) -> Result<Self, Error> {
        let sql = SqlService::new(state.clone(), access.clone())?;
        Ok(QueryService { state, access, sql })
    }

    async fn compute(&self, t: &ComputeTicket, caller: &str) -> Result<(Arc<Release>, String, Years), Status> {
        stats::find(&t.statistic)?;
        let d = self.state.delivery(&t.delivery_id)?;
        let years = years_of(&d, t.from_year, t.to_year)?;
        let rel = self.state.release(&d, years, caller).await?;
        Ok((rel, d.manifest.delivery_id, years))
    }
}

#[tonic::async_trait]
impl pb::query_server::Query for QueryService {
    async fn list_statistics(&self, request: Request<pb::ListStatisticsRequest>) -> Result<Response<pb::ListStatisticsResponse>, Status> {
        self.access.check(&request, "ListStatistics")?;
        let statistics = stats::CATALOGUE
            .iter()
            .map(|s| pb::StatisticInfo {
                id: s.id.into(),
                doc: s.doc.split_whitespace().collect::<Vec<_>>().join(" "),
                report_tables: s.report_tables.into(),
                columns: s.out_dims().iter().map(|d| d.to_string()).chain(output::VALUE_COLUMNS.map(String::from)).collect(),
                category: s.category.iter().map(|c| c.to_string()).collect(),
            })
            .collect();
        let available = Delivery::list(&self.state.store)?.iter().flat_map(|m| availability(m, self.state.policy.ranges)).collect();
        Ok(Response::new(pb::ListStatisticsResponse { statistics, available }))
    }

    async fn list_deliveries(&self, request: Request<pb::ListDeliveriesRequest>) -> Result<Response<pb::ListDeliveriesResponse>, Status> {
        self.access.check(&request, "ListDeliveries")?;
        let deliveries = Delivery::list(&self.state.store)?
            .into_iter()
            .map(|m| pb::DeliveryInfo {
                delivery_id: m.delivery_id.clone(),
                table_rows: m.files.iter().map(|f| (f.name.trim_end_matches(".parquet").to_string(), f.rows)).collect(),
                project: m.project().unwrap_or_default().to_string(),
                from_year: m.years().map_or(0, |y| y.0),
                to_year: m.years().map_or(0, |y| y.1),
            })
            .collect();
        Ok(Response::new(pb::ListDeliveriesResponse { deliveries }))
    }

    async fn run_production(&self, request: Request<pb::RunProductionRequest>) -> Result<Response<pb::RunProductionResponse>, Status> {
        self.access.check(&request, "RunProduction")?;
        let caller = self.access.caller(&request);
        let r = request.into_inner();
        Ok(Response::new(self.state.produce(&r.delivery_id, r.from_year, r.to_year, &caller).await?))
    }
}

type FlightStream<T> = Pin<Box<dyn futures::Stream<Item = Result<T, Status>> + Send + 'static>>;

fn parse_ticket(bytes: &[u8]) -> Result<ComputeTicket, Status> {
    serde_json::from_slice(bytes).map_err(|e| {
        Status::invalid_argument(format!("ticket must be JSON {{\"statistic\", \"delivery_id\", \"from_year\", \"to_year\"}}: {e}"))
    })
}

/// Each delivery with every range of decision years the policy serves for it (in year order).
fn availability(m: &crate::delivery::Manifest, ranges: Ranges) -> Vec<pb::Availability> {
    let Some((from, to)) = m.years() else { return Vec::new() };
    let project = m.project().unwrap_or_default().to_string();
    let mut served = ranges.of(from, to);
    served.sort_unstable();
    served
        .into_iter()
        .map(|(a, b)| pb::Availability { delivery_id: m.delivery_id.clone(), project: project.clone(), from_year: a, to_year: b })
        .collect()
}

fn flight_info(t: &ComputeTicket, schema: &arrow::datatypes::Schema, rows: Option<usize>) -> Result<FlightInfo, Status> {
    let ticket = serde_json::to_vec(t).map_err(|e| Status::internal(e.to_string()))?;
    FlightInfo::new()
        .try_with_schema(schema)
        .map_err(|e| Status::internal(e.to_string()))
        .map(|i| {
            i.with_descriptor(FlightDescriptor::new_cmd(ticket.clone()))
                .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket)))
                .with_total_records(rows.map_or(-1, |r| r as i64))
        })
}

#[tonic::async_trait]
impl FlightService for QueryService {
    type HandshakeStream = FlightStream<HandshakeResponse>;
    type ListFlightsStream = FlightStream<FlightInfo>;
    type DoGetStream = FlightStream<FlightData>;
    type DoPutStream = FlightStream<PutResult>;
    type DoExchangeStream = FlightStream<FlightData>;
    type DoActionStream = FlightStream<arrow_flight::Result>;
    type ListActionsStream = FlightStream<ActionType>;

    async fn handshake(&self, _r: Request<Streaming<HandshakeRequest>>) -> Result<Response<Self::HandshakeStream>, Status> {
        Err(Status::unimplemented("no handshake: callers are authenticated by their TLS certificate"))
    }

    /// One flight per statistic, delivery and range of decision years the delivery covers. Nothing
    /// is computed (or released) to list them: the record count is unknown (-1).
    async fn list_flights(&self, request: Request<Criteria>) -> Result<Response<Self::ListFlightsStream>, Status> {
        self.access.check(&request, "ListFlights")?;
        let mut infos = Vec::new();
        for a in Delivery::list(&self.state.store)?.iter().flat_map(|m| availability(m, self.state.policy.ranges)) {
            for s in stats::CATALOGUE {
                let t = ComputeTicket { statistic: s.id.into(), delivery_id: a.delivery_id.clone(), from_year: a.from_year, to_year: a.to_year };
                let schema = output::to_batch(&s.out_dims(), &[])?.schema();
                infos.push(flight_info(&t, &schema, None));
            }
        }
        Ok(Response::new(stream::iter(infos).boxed()))
    }

    /// Descriptor `CMD` = the JSON ticket, or `PATH [statistic]`.
    async fn get_flight_info(&self, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        self.access.check(&request, "GetFlightInfo")?;
        if is_flight_sql(&request.get_ref().cmd) {
            return self.sql.forward_get_flight_info(request).await;
        }
        let d = request.get_ref().clone();
        let mut t = match d.path.as_slice() {
            [statistic] => ComputeTicket { statistic: statistic.clone(), ..Default::default() },
            _ => parse_ticket(&d.cmd)?,
        };
        let caller = self.access.caller(&request);
        let (rel, delivery_id, years) = self.compute(&t, &caller).await?;
        (t.delivery_id, t.from_year, t.to_year) = (delivery_id, years.from, years.to);
        let table = rel.table(&t.statistic)?;
        let batch = output::to_batch(&table.dims, &table.rows)?;
        Ok(Response::new(flight_info(&t, &batch.schema(), Some(batch.num_rows()))?))
    }

    async fn poll_flight_info(&self, _r: Request<FlightDescriptor>) -> Result<Response<PollInfo>, Status> {
        Err(Status::unimplemented("use GetFlightInfo"))
    }

    async fn get_schema(&self, request: Request<FlightDescriptor>) -> Result<Response<SchemaResult>, Status> {
        self.access.check(&request, "GetSchema")?;
        let d = request.into_inner();
        let statistic = match d.path.as_slice() {
            [statistic] => statistic.clone(),
            _ => parse_ticket(&d.cmd)?.statistic,
        };
        let s = stats::find(&statistic)?;
        let schema = output::to_batch(&s.out_dims(), &[])?.schema();
        let options = arrow::ipc::writer::IpcWriteOptions::default();
        SchemaResult::try_from(SchemaAsIpc::new(&schema, &options)).map(Response::new).map_err(|e| Status::internal(e.to_string()))
    }

    /// One statistic, disclosure-controlled, as Arrow. Recorded in the audit log.
    async fn do_get(&self, request: Request<Ticket>) -> Result<Response<Self::DoGetStream>, Status> {
        self.access.check(&request, "DoGet")?;
        if is_flight_sql(&request.get_ref().ticket) {
            return self.sql.forward_do_get(request).await;
        }
        let caller = self.access.caller(&request);
        let t = parse_ticket(request.get_ref().ticket.as_ref())?;
        let (rel, delivery_id, years) = self.compute(&t, &caller).await?;
        let table = rel.table(&t.statistic)?;
        let batch = output::to_batch(&table.dims, &table.rows)?;
        let suppressed = table.rows.iter().filter(|r| r.n.is_none()).count();
        self.state.record(
            &caller,
            "statistic_released",
            serde_json::json!({
                "statistic": t.statistic,
                "delivery_id": delivery_id,
                "decision_years": [years.from, years.to],
                "rows": batch.num_rows(),
                "suppressed_counts": suppressed,
                "audit_passed": rel.audit.passed,
            }),
        )?;
        tracing::info!(statistic = %t.statistic, %delivery_id, rows = batch.num_rows(), "statistic released");
        let schema = batch.schema();
        let input = stream::iter([Ok::<_, FlightError>(batch)]);
        Ok(Response::new(FlightDataEncoderBuilder::new().with_schema(schema).build(input).map_err(Status::from).boxed()))
    }

    /// A delivery pushed by the linkage service (the only identity allowed to; see
    /// [`crate::receive`]). Answers one `PutResult` whose `app_metadata` is the JSON of what was
    /// stored: `{"delivery_id", "newly_stored", "files": [{name, rows, content_sha256, bytes,
    /// sha256}]}`. Recorded in the audit log.
    async fn do_put(&self, request: Request<Streaming<FlightData>>) -> Result<Response<Self::DoPutStream>, Status> {
        self.access.check(&request, "DoPut")?;
        let caller = self.access.caller(&request);
        let stored = crate::receive::receive(self.state.store.clone(), request.into_inner()).await.inspect_err(|s| {
            tracing::warn!(code = ?s.code(), message = %s.message(), "delivery refused");
        })?;
        let answer = serde_json::json!({"delivery_id": stored.delivery_id, "newly_stored": stored.newly_stored, "files": stored.files});
        self.state.record(&caller, "delivery_received", answer.clone())?;
        tracing::info!(delivery_id = %stored.delivery_id, newly_stored = stored.newly_stored, "delivery received");
        let result = PutResult { app_metadata: serde_json::to_vec(&answer).map_err(|e| Status::internal(e.to_string()))?.into() };
        Ok(Response::new(stream::iter([Ok(result)]).boxed()))
    }

    async fn do_exchange(&self, _r: Request<Streaming<FlightData>>) -> Result<Response<Self::DoExchangeStream>, Status> {
        Err(Status::unimplemented("no exchange: use DoGet"))
    }

    async fn do_action(&self, request: Request<Action>) -> Result<Response<Self::DoActionStream>, Status> {
        self.access.check(&request, "DoAction")?;
        // The only actions are Flight SQL's (prepared statements); the rest of the service is
        // regstat.query.v1.Query.
        self.sql.forward_do_action(request).await
    }

    async fn list_actions(&self, request: Request<Empty>) -> Result<Response<Self::ListActionsStream>, Status> {
        self.access.check(&request, "ListActions")?;
        self.sql.forward_list_actions(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_up_removes_interrupted_staging_but_no_run() {
        let out = tempfile::tempdir().expect("tempdir");
        let runs = out.path().join("runs");
        // An earlier incarnation with our pid (pid 1 in every container), one of a process that
        // is gone, and a finished run.
        for d in [format!(".staging-{}-1", std::process::id()), ".staging-4294967294-2".to_string(), "0123abcd".to_string()] {
            std::fs::create_dir_all(runs.join(&d)).expect("mkdir");
            std::fs::write(runs.join(&d).join("manifest.json"), "{}").expect("write");
        }
        assert_eq!(clean_stale_staging(&runs).expect("cleans"), 2);
        let left: Vec<String> = std::fs::read_dir(&runs).expect("runs").map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(left, vec!["0123abcd".to_string()]);
    }
}
