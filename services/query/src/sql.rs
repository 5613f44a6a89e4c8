//! Arrow Flight SQL over the **released** statistics (issue 13): what ADBC, the Flight SQL JDBC
//! driver (DBeaver, BI tools) and DataFusion/DuckDB clients speak, on the query service's port,
//! for the analytics identities only.
//!
//! The catalog `regstat` has one schema per release the service serves: `latest` (the newest
//! delivery, every decision year it was linked for) and `d_<delivery id>_<from>_<to>` for each
//! delivery and each range of decision years the release policy serves for it ([`Ranges::of`]).
//! Each schema's tables are the statistics of the catalogue ([`stats::CATALOGUE`]), with the
//! columns of the Flight tickets: the dimensions, then `n`, `denominator`, `share_pct` and the
//! rule that hid each (`suppressed`, `denominator_suppressed`, `share_suppressed`).
//!
//! **A query can never reach a hidden number.** The tables a statement names are filled from the
//! protected release of their delivery and years ([`QueryState::release`]: protected together
//! with everything released before for the project, recorded in the ledger and the audit log,
//! exactly what a production or a Flight ticket releases), where a hidden value is already NULL.
//! The delivery's own tables (pseudonymised persons, decisions, interventions) are not in the
//! catalog; a statement naming one is refused with `PERMISSION_DENIED`. Only queries run: DDL,
//! DML (`COPY`, `INSERT`), `SET` and the like are refused, and nothing else is registered in the
//! session (no files, no URL tables, no information schema). Every executed statement is in the
//! audit log with the caller, the releases it read and its row count; a statement refused when
//! it is planned or executed too, with the reason.
//!
//! Planning (`GetFlightInfo`, creating a prepared statement) uses empty tables of the same
//! schemas: it validates the SQL and answers its result schema without releasing anything; the
//! release happens when the statement is executed (`DoGet`).

use std::collections::{BTreeMap, BTreeSet};
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder};
use arrow_flight::sql::server::FlightSqlService;
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest, ActionCreatePreparedStatementResult, CommandGetCatalogs,
    CommandGetDbSchemas, CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables, CommandPreparedStatementQuery, CommandStatementQuery,
    ProstMessageExt, SqlInfo, SqlSupportedTransaction, TicketStatementQuery,
};
use arrow_flight::{Action, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo, IpcMessage, SchemaAsIpc, Ticket};
use datafusion::catalog::{CatalogProvider, MemoryCatalogProvider, MemorySchemaProvider, SchemaProvider};
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{SQLOptions, SessionConfig, SessionContext};
use futures::{stream, StreamExt, TryStreamExt};
use prost::Message;
use regstat_server::Access;
use tonic::{Request, Response, Status};

use crate::delivery::Delivery;
use crate::engine::Years;
use crate::error::Error;
use crate::output;
use crate::service::QueryState;
use crate::stats;

/// The one catalog.
pub const CATALOG: &str = "regstat";
/// The schema of the newest delivery's whole linked range (the session's default schema).
pub const LATEST: &str = "latest";
/// The table type of every table.
const TABLE_TYPE: &str = "TABLE";
/// An executed statement returns at most this many rows (the statistics are small; a cross join
/// of two of them is not an analysis).
pub const MAX_ROWS: usize = 1_000_000;
/// An executed statement runs at most this long.
const TIMEOUT: Duration = Duration::from_secs(120);
/// Memory all SQL statements together may hold in joins, sorts and aggregations.
const MEMORY: usize = 1 << 30;

/// One schema of the catalog: the release of a delivery for a range of decision years.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseSchema {
    pub name: String,
    pub delivery_id: String,
    pub years: Years,
}

/// Every schema of the catalog, `latest` first, then by delivery and range.
pub fn schemas(state: &QueryState) -> Result<Vec<ReleaseSchema>, Error> {
    Ok(catalogue(state)?.0)
}

/// The schemas and the names of the delivery's own tables (pseudonymised microdata, never
/// reachable over SQL), from one listing of the store.
fn catalogue(state: &QueryState) -> Result<(Vec<ReleaseSchema>, BTreeSet<String>), Error> {
    let manifests = Delivery::list(&state.store)?;
    let forbidden = manifests.iter().flat_map(|m| m.files.iter().map(|f| f.name.trim_end_matches(".parquet").to_string())).collect();
    let mut out = Vec::new();
    if let Some(id) = Delivery::latest_id(&state.store)? {
        if let Some((from, to)) = manifests.iter().find(|m| m.delivery_id == id).and_then(|m| m.years()) {
            out.push(ReleaseSchema { name: LATEST.into(), delivery_id: id, years: Years { from, to } });
        }
    }
    for m in &manifests {
        let Some((from, to)) = m.years() else { continue };
        let mut ranges = state.policy.ranges.of(from, to);
        ranges.sort_unstable();
        for (a, b) in ranges {
            out.push(ReleaseSchema { name: format!("d_{}_{a}_{b}", m.delivery_id), delivery_id: m.delivery_id.clone(), years: Years { from: a, to: b } });
        }
    }
    Ok((out, forbidden))
}

/// Blocking file work (listing the store, hashing a delivery's files) off the async runtime.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, Error> + Send + 'static) -> Result<T, Status> {
    Ok(tokio::task::spawn_blocking(f).await.map_err(|e| Status::internal(format!("a blocking task failed: {e}")))??)
}

/// A statistic's table schema (known without computing anything).
fn table_schema(statistic: &stats::Statistic) -> Result<SchemaRef, Error> {
    Ok(output::to_batch(&statistic.out_dims(), &[])?.schema())
}

/// Planning only (schemas, no release) or executing for a caller (releases, audited).
#[derive(Debug, Clone, Copy)]
enum Mode<'a> {
    Plan,
    Execute { caller: &'a str },
}

/// A statement planned against the released tables it names.
struct Planned {
    ctx: SessionContext,
    plan: LogicalPlan,
    /// The releases read: (schema, delivery, years).
    releases: Vec<ReleaseSchema>,
}

/// The result of an executed statement.
#[derive(Debug)]
pub struct Executed {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub rows: usize,
    pub releases: Vec<ReleaseSchema>,
}

fn user_error(e: DataFusionError) -> Status {
    match e.find_root() {
        DataFusionError::ResourcesExhausted(m) => Status::resource_exhausted(format!("the statement needs more memory than SQL may use: {m}")),
        DataFusionError::Internal(_) | DataFusionError::IoError(_) | DataFusionError::ObjectStore(_) => {
            tracing::error!(error = %e, "SQL statement failed");
            Status::internal(e.to_string())
        }
        _ => Status::invalid_argument(e.to_string()),
    }
}

/// SQL over the released statistics of one [`QueryState`].
#[derive(Clone)]
pub struct Sql {
    state: Arc<QueryState>,
    runtime: Arc<RuntimeEnv>,
}

impl std::fmt::Debug for Sql {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sql").finish_non_exhaustive()
    }
}

impl Sql {
    pub fn new(state: Arc<QueryState>) -> Result<Self, Error> {
        let runtime = RuntimeEnvBuilder::new().with_memory_limit(MEMORY, 1.0).build_arc()?;
        Ok(Sql { state, runtime })
    }

    fn session(&self) -> SessionContext {
        let config = SessionConfig::new()
            .with_default_catalog_and_schema(CATALOG, LATEST)
            .with_create_default_catalog_and_schema(false)
            .with_information_schema(false)
            .with_target_partitions(2);
        SessionContext::new_with_config_rt(config, self.runtime.clone())
    }

    /// Parse, check every table the statement names, fill those tables (empty when planning,
    /// from the protected release when executing) and plan.
    async fn plan(&self, sql: &str, mode: Mode<'_>) -> Result<Planned, Status> {
        let ctx = self.session();
        let state = ctx.state();
        let dialect = state.config().options().sql_parser.dialect;
        let statement = state.sql_to_statement(sql, &dialect).map_err(|e| Status::invalid_argument(e.to_string()))?;
        let references = state.resolve_table_references(&statement).map_err(user_error)?;
        let st = self.state.clone();
        let (schemas, forbidden) = blocking(move || catalogue(&st)).await?;
        let schemas: BTreeMap<String, ReleaseSchema> = schemas.into_iter().map(|s| (s.name.clone(), s)).collect();
        // (schema, statistic) pairs, checked before anything is computed.
        let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for r in references {
            let r = r.resolve(CATALOG, LATEST);
            let (catalog, schema, table) = (r.catalog.as_ref(), r.schema.as_ref(), r.table.as_ref());
            if forbidden.contains(table) && stats::find(table).is_err() {
                return Err(Status::permission_denied(format!(
                    "`{table}` is a table of the pseudonymised delivery: SQL reaches only the released statistics (GetTables lists them)"
                )));
            }
            if catalog != CATALOG || !schemas.contains_key(schema) {
                return Err(Status::not_found(format!("no schema {catalog}.{schema}: the schemas are the releases the service serves (GetDbSchemas lists them)")));
            }
            if stats::find(table).is_err() {
                return Err(Status::not_found(format!("no table {catalog}.{schema}.{table}: the tables are the released statistics (GetTables lists them)")));
            }
            wanted.entry(schema.to_string()).or_default().insert(table.to_string());
        }
        let catalog = MemoryCatalogProvider::new();
        let mut releases = Vec::new();
        for (schema, tables) in &wanted {
            let rs = &schemas[schema];
            let provider = MemorySchemaProvider::new();
            let release = match mode {
                Mode::Plan => None,
                Mode::Execute { caller } => {
                    let (store, id) = (self.state.store.clone(), rs.delivery_id.clone());
                    let d = blocking(move || Delivery::open(&store, &id)).await?;
                    Some(self.state.release(&d, rs.years, caller).await?)
                }
            };
            for t in tables {
                let s = stats::find(t)?;
                let batch = match &release {
                    None => RecordBatch::new_empty(table_schema(s)?),
                    Some(rel) => {
                        let table = rel.table(t)?;
                        output::to_batch(&table.dims, &table.rows)?
                    }
                };
                let mem = MemTable::try_new(batch.schema(), vec![vec![batch]]).map_err(user_error)?;
                provider.register_table(t.clone(), Arc::new(mem)).map_err(user_error)?;
            }
            catalog.register_schema(schema, Arc::new(provider)).map_err(user_error)?;
            releases.push(rs.clone());
        }
        ctx.register_catalog(CATALOG, Arc::new(catalog));
        let plan = ctx.state().statement_to_plan(statement).await.map_err(user_error)?;
        SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false)
            .verify_plan(&plan)
            .map_err(|e| Status::permission_denied(format!("only queries run here (the released statistics are read-only): {e}")))?;
        if !plan.get_parameter_types().map_err(user_error)?.is_empty() {
            return Err(Status::invalid_argument("statements with parameters are not supported: write the values into the SQL"));
        }
        Ok(Planned { ctx, plan, releases })
    }

    /// The result schema of a statement, without releasing anything. A refused statement is
    /// recorded in the audit log with the caller.
    pub async fn schema(&self, sql: &str, caller: &str) -> Result<SchemaRef, Status> {
        match self.plan(sql, Mode::Plan).await {
            Ok(p) => Ok(Arc::new(p.plan.schema().as_arrow().clone())),
            Err(s) => {
                self.state.record(caller, "sql_query", serde_json::json!({"sql": sql, "refused": format!("{:?}", s.code()), "message": s.message()}))?;
                Err(s)
            }
        }
    }

    /// Run a statement over the released tables it names, for `caller`, and record it in the
    /// audit log (a refused or failed statement too).
    pub async fn execute(&self, sql: &str, caller: &str) -> Result<Executed, Status> {
        let result = self.execute_inner(sql, caller).await;
        let details = match &result {
            Ok(x) => serde_json::json!({
                "sql": sql,
                "rows": x.rows,
                "releases": x.releases.iter().map(|r| serde_json::json!({"schema": r.name, "delivery_id": r.delivery_id, "decision_years": [r.years.from, r.years.to]})).collect::<Vec<_>>(),
            }),
            Err(s) => serde_json::json!({"sql": sql, "refused": format!("{:?}", s.code()), "message": s.message()}),
        };
        self.state.record(caller, "sql_query", details)?;
        result
    }

    async fn execute_inner(&self, sql: &str, caller: &str) -> Result<Executed, Status> {
        let p = self.plan(sql, Mode::Execute { caller }).await?;
        let run = async {
            let df = p.ctx.execute_logical_plan(p.plan).await.map_err(user_error)?;
            let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
            let mut s = df.execute_stream().await.map_err(user_error)?;
            let (mut batches, mut rows) = (Vec::new(), 0usize);
            while let Some(b) = s.next().await {
                let b = b.map_err(user_error)?;
                rows += b.num_rows();
                if rows > MAX_ROWS {
                    return Err(Status::resource_exhausted(format!("the result has more than {MAX_ROWS} rows: aggregate or filter")));
                }
                batches.push(b);
            }
            Ok::<_, Status>((schema, batches, rows))
        };
        let (schema, batches, rows) =
            tokio::time::timeout(TIMEOUT, run).await.map_err(|_| Status::deadline_exceeded(format!("the statement ran longer than {} s", TIMEOUT.as_secs())))??;
        Ok(Executed { schema, batches, rows, releases: p.releases })
    }
}

type DoGetStream = Pin<Box<dyn futures::Stream<Item = Result<FlightData, Status>> + Send + 'static>>;

fn encode(schema: SchemaRef, batches: Vec<RecordBatch>) -> Response<DoGetStream> {
    let input = stream::iter(batches.into_iter().map(Ok::<_, FlightError>));
    Response::new(FlightDataEncoderBuilder::new().with_schema(schema).build(input).map_err(Status::from).boxed())
}

fn one_batch<E: std::fmt::Display>(schema: SchemaRef, batch: Result<RecordBatch, E>) -> Result<Response<DoGetStream>, Status> {
    let batch = batch.map_err(|e| Status::internal(e.to_string()))?;
    Ok(encode(schema, vec![batch]))
}

fn info(schema: &arrow::datatypes::Schema, descriptor: FlightDescriptor, ticket: Vec<u8>) -> Result<Response<FlightInfo>, Status> {
    let info = FlightInfo::new()
        .try_with_schema(schema)
        .map_err(|e| Status::internal(e.to_string()))?
        .with_descriptor(descriptor)
        .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket)))
        .with_total_records(-1)
        .with_ordered(true);
    Ok(Response::new(info))
}

static SQL_INFO: LazyLock<SqlInfoData> = LazyLock::new(|| {
    let mut b = SqlInfoDataBuilder::new();
    b.append(SqlInfo::FlightSqlServerName, "regstat query (released statistics)");
    b.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
    b.append(SqlInfo::FlightSqlServerArrowVersion, "1.3");
    b.append(SqlInfo::FlightSqlServerReadOnly, true);
    b.append(SqlInfo::FlightSqlServerSql, true);
    b.append(SqlInfo::FlightSqlServerSubstrait, false);
    b.append(SqlInfo::FlightSqlServerTransaction, SqlSupportedTransaction::None as i32);
    b.append(SqlInfo::FlightSqlServerCancel, false);
    b.append(SqlInfo::FlightSqlServerStatementTimeout, TIMEOUT.as_secs() as i32);
    b.append(SqlInfo::SqlDdlCatalog, false);
    b.append(SqlInfo::SqlDdlSchema, false);
    b.append(SqlInfo::SqlDdlTable, false);
    b.append(SqlInfo::SqlIdentifierQuoteChar, "\"");
    b.append(SqlInfo::SqlAllTablesAreSelectable, true);
    b.build().expect("static SQL info")
});

/// The Flight SQL service: [`FlightSqlService`] over [`Sql`]. The query service's Flight
/// endpoint hands it every Flight SQL message (see [`is_flight_sql`]); callers are checked by
/// the same identity policy.
#[derive(Clone)]
pub struct SqlService {
    sql: Sql,
    access: Access,
}

impl SqlService {
    pub fn new(state: Arc<QueryState>, access: Access) -> Result<Self, Error> {
        Ok(SqlService { sql: Sql::new(state)?, access })
    }

    async fn run<T>(&self, sql: &str, request: &Request<T>) -> Result<Response<DoGetStream>, Status> {
        self.access.check(request, "FlightSql")?;
        let caller = self.access.caller(request);
        let x = self.sql.execute(sql, &caller).await?;
        tracing::info!(rows = x.rows, releases = x.releases.len(), "SQL statement executed");
        Ok(encode(x.schema, x.batches))
    }
}

impl SqlService {
    /// The `FlightInfo` of a metadata command: its result schema, and the command as the ticket.
    fn metadata_info(&self, cmd: &impl ProstMessageExt, schema: SchemaRef, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        self.access.check(&request, "FlightSql")?;
        info(&schema, request.into_inner(), cmd.as_any().encode_to_vec())
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, Status> {
    std::str::from_utf8(bytes).map_err(|_| Status::invalid_argument("the statement is not UTF-8"))
}

/// Whether a Flight descriptor command or ticket is a Flight SQL message (a protobuf `Any` of
/// the `arrow.flight.protocol.sql` package) rather than one of the service's JSON tickets.
pub fn is_flight_sql(bytes: &[u8]) -> bool {
    arrow_flight::sql::Any::decode(bytes).is_ok_and(|a| a.type_url.starts_with("type.googleapis.com/arrow.flight.protocol.sql."))
}

#[tonic::async_trait]
impl FlightSqlService for SqlService {
    type FlightService = SqlService;

    async fn get_flight_info_statement(&self, query: CommandStatementQuery, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        self.access.check(&request, "FlightSql")?;
        let schema = self.sql.schema(&query.query, &self.access.caller(&request)).await?;
        let ticket = TicketStatementQuery { statement_handle: query.query.into_bytes().into() }.as_any().encode_to_vec();
        info(&schema, request.into_inner(), ticket)
    }

    async fn get_flight_info_prepared_statement(
        &self,
        cmd: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.access.check(&request, "FlightSql")?;
        let schema = self.sql.schema(utf8(&cmd.prepared_statement_handle)?, &self.access.caller(&request)).await?;
        let ticket = cmd.as_any().encode_to_vec();
        info(&schema, request.into_inner(), ticket)
    }

    async fn get_flight_info_catalogs(&self, query: CommandGetCatalogs, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder().schema();
        self.metadata_info(&query, schema, request)
    }

    async fn get_flight_info_schemas(&self, query: CommandGetDbSchemas, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        self.metadata_info(&query, schema, request)
    }

    async fn get_flight_info_tables(&self, query: CommandGetTables, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        self.metadata_info(&query, schema, request)
    }

    async fn get_flight_info_table_types(&self, query: CommandGetTableTypes, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder().schema();
        self.metadata_info(&query, schema, request)
    }

    async fn get_flight_info_sql_info(&self, query: CommandGetSqlInfo, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder(&SQL_INFO).schema();
        self.metadata_info(&query, schema, request)
    }

    async fn do_get_statement(&self, ticket: TicketStatementQuery, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        self.run(utf8(&ticket.statement_handle)?, &request).await
    }

    async fn do_get_prepared_statement(&self, query: CommandPreparedStatementQuery, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        self.run(utf8(&query.prepared_statement_handle)?, &request).await
    }

    async fn do_get_catalogs(&self, query: CommandGetCatalogs, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        self.access.check(&request, "FlightSql")?;
        let mut b = query.into_builder();
        b.append(CATALOG);
        let schema = b.schema();
        one_batch(schema, b.build())
    }

    async fn do_get_schemas(&self, query: CommandGetDbSchemas, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        self.access.check(&request, "FlightSql")?;
        let mut b = query.into_builder();
        for s in schemas(&self.sql.state)? {
            b.append(CATALOG, &s.name);
        }
        let schema = b.schema();
        one_batch(schema, b.build())
    }

    async fn do_get_tables(&self, query: CommandGetTables, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        self.access.check(&request, "FlightSql")?;
        let mut b = query.into_builder();
        for s in schemas(&self.sql.state)? {
            for st in stats::CATALOGUE {
                b.append(CATALOG, &s.name, st.id, TABLE_TYPE, table_schema(st)?.as_ref()).map_err(|e| Status::internal(e.to_string()))?;
            }
        }
        let schema = b.schema();
        one_batch(schema, b.build())
    }

    async fn do_get_table_types(&self, query: CommandGetTableTypes, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        self.access.check(&request, "FlightSql")?;
        let mut b = query.into_builder();
        b.append(TABLE_TYPE);
        let schema = b.schema();
        one_batch(schema, b.build())
    }

    async fn do_get_sql_info(&self, query: CommandGetSqlInfo, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        self.access.check(&request, "FlightSql")?;
        let b = query.into_builder(&SQL_INFO);
        let schema = b.schema();
        one_batch(schema, b.build())
    }

    /// A prepared statement's handle is its SQL: nothing is held per client, and executing a
    /// handle is exactly executing its statement (checked and released then).
    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        self.access.check(&request, "FlightSql")?;
        let schema = self.sql.schema(&query.query, &self.access.caller(&request)).await?;
        let IpcMessage(dataset_schema) =
            SchemaAsIpc::new(&schema, &arrow::ipc::writer::IpcWriteOptions::default()).try_into().map_err(|e: arrow::error::ArrowError| Status::internal(e.to_string()))?;
        Ok(ActionCreatePreparedStatementResult { prepared_statement_handle: query.query.into_bytes().into(), dataset_schema, parameter_schema: Default::default() })
    }

    async fn do_action_close_prepared_statement(&self, _query: ActionClosePreparedStatementRequest, request: Request<Action>) -> Result<(), Status> {
        self.access.check(&request, "FlightSql")?;
        Ok(())
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}

/// The Flight SQL entry points the query service's Flight endpoint forwards to.
impl SqlService {
    pub async fn forward_get_flight_info(&self, r: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        FlightService::get_flight_info(self, r).await
    }

    pub async fn forward_do_get(&self, r: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        FlightService::do_get(self, r).await
    }

    pub async fn forward_do_action(&self, r: Request<Action>) -> Result<Response<<Self as FlightService>::DoActionStream>, Status> {
        FlightService::do_action(self, r).await
    }

    pub async fn forward_list_actions(
        &self,
        r: Request<arrow_flight::Empty>,
    ) -> Result<Response<<Self as FlightService>::ListActionsStream>, Status> {
        FlightService::list_actions(self, r).await
    }
}
