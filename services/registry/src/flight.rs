//! The Arrow Flight adapter over [`RegistryStore`]: a thin translation of Flight calls into
//! store calls. Bulk data leaves as Arrow IPC record batches.
//!
//! - `ListFlights`: one `FlightInfo` per dataset (schema, row count, bytes; ticket = the whole
//!   dataset).
//! - `GetFlightInfo` / `GetSchema`: descriptor `PATH [dataset]`, or `CMD` = protobuf
//!   `DatasetTicket` (dataset + month range).
//! - `DoGet`: ticket = protobuf `DatasetTicket`; with a `selection`, only the rows of one
//!   intervention, for the linkage projects the register authorises (SPEC-DECISIONS §5c.1).
//! - `DoExchange`: first message's descriptor `CMD` = protobuf `PersonFilterCommand`; the client
//!   streams batches with a Utf8 `personnummer` column, closes its side, and receives the rows
//!   of exactly those persons (a semi-join).

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;

use ahash::RandomState;
use arrow::array::{Array, RecordBatch, StringArray};
use arrow::datatypes::SchemaRef;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo,
    HandshakeRequest, HandshakeResponse, PollInfo, PutResult, SchemaAsIpc, SchemaResult, Ticket,
};
use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use prost::Message;
use regstat_pnr::Pnr;
use regstat_proto::registry::v1 as pb;
use tonic::{Request, Response, Status, Streaming};
use tracing::instrument;

use regstat_server::Access;
use crate::error::Error;
use crate::held::PersonSet;
use crate::store::{MonthRange, Query, RegistryStore};

/// Flight adapter for one register.
#[derive(Clone)]
pub struct RegistryFlight {
    service: &'static str,
    store: Arc<RegistryStore>,
    access: Access,
    /// Linkage projects authorised for a selection by intervention.
    selection_projects: Arc<Vec<String>>,
}

impl RegistryFlight {
    pub fn new(service: &'static str, store: Arc<RegistryStore>, access: Access) -> Self {
        RegistryFlight { service, store, access, selection_projects: Arc::new(Vec::new()) }
    }

    /// Authorise these linkage projects for selections by intervention (none by default).
    pub fn with_selection_projects(mut self, projects: Vec<String>) -> Self {
        self.selection_projects = Arc::new(projects);
        self
    }

    /// The rows of a selection by intervention, for an authorised project only.
    fn select(&self, dataset: &str, range: MonthRange, sel: &pb::InterventionSelection) -> Result<Query, Status> {
        if sel.project.is_empty() {
            return Err(Status::invalid_argument("a selection by intervention names its linkage project"));
        }
        if !self.selection_projects.contains(&sel.project) {
            return Err(Status::permission_denied(
                "this linkage project is not authorised for a selection by intervention at this register",
            ));
        }
        Ok(self.store.select_intervention(dataset, &sel.law, &sel.intervention, range)?)
    }

    fn info(&self, name: &str, range: MonthRange, ticket: pb::DatasetTicket) -> Result<FlightInfo, Status> {
        let d = self.store.dataset(name)?;
        let rows = self.store.count(name, range)?;
        let info = FlightInfo::new()
            .try_with_schema(d.schema())
            .map_err(|e| Status::internal(e.to_string()))?
            .with_descriptor(FlightDescriptor::new_path(vec![name.to_string()]))
            .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket.encode_to_vec())))
            .with_total_records(rows as i64)
            .with_total_bytes(if range.is_open() { d.num_bytes() as i64 } else { -1 });
        Ok(info)
    }

    /// Resolve a descriptor to (dataset, range, ticket).
    fn resolve(desc: &FlightDescriptor) -> Result<(String, MonthRange, pb::DatasetTicket), Status> {
        let ticket = match desc.r#type() {
            arrow_flight::flight_descriptor::DescriptorType::Path => match desc.path.as_slice() {
                [name] => pb::DatasetTicket { dataset: name.clone(), range: None, selection: None },
                _ => return Err(Status::invalid_argument("descriptor path must be exactly [dataset]")),
            },
            arrow_flight::flight_descriptor::DescriptorType::Cmd => pb::DatasetTicket::decode(desc.cmd.as_ref())
                .map_err(|_| Status::invalid_argument("descriptor cmd is not a DatasetTicket"))?,
            _ => return Err(Status::invalid_argument("descriptor type must be PATH or CMD")),
        };
        let range = range_of(ticket.range.as_ref())?;
        Ok((ticket.dataset.clone(), range, ticket))
    }
}

fn range_of(r: Option<&pb::MonthRange>) -> Result<MonthRange, Status> {
    Ok(match r {
        None => MonthRange::default(),
        Some(r) => MonthRange::parse(&r.from_month, &r.to_month)?,
    })
}

type FlightStream<T> = Pin<Box<dyn futures::Stream<Item = Result<T, Status>> + Send + 'static>>;

/// Batches in flight between the reading thread and the encoder: the answer's memory stays
/// bounded by this many batches whatever its size.
const IN_FLIGHT: usize = 4;

impl RegistryFlight {
    /// Stream the answer to `q`: read a batch at a time on a blocking thread (from the
    /// registry's store on disk, or memory), encode as it arrives. A reader that stops reading
    /// stops the thread; an error after the first batch ends the stream with its status.
    /// `done` is logged (in the call's span) when the whole answer has been handed over.
    fn answer(&self, q: Query, schema: SchemaRef, done: &'static str) -> FlightStream<FlightData> {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<RecordBatch, FlightError>>(IN_FLIGHT);
        let store = Arc::clone(&self.store);
        let service = self.service;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let name = q.dataset().name();
            match store.run(&q, &mut |b| tx.blocking_send(Ok(b)).is_ok()) {
                Ok(rows) => {
                    span.record("rows", rows);
                    tracing::info!(rows, "{done}");
                    regstat_server::metrics::rows(service, name, "served", rows);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "answer failed while streaming");
                    let _ = tx.blocking_send(Err(FlightError::from(Status::from(e))));
                }
            }
        });
        FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .build(tokio_stream::wrappers::ReceiverStream::new(rx))
            .map_err(Status::from)
            .boxed()
    }
}

#[tonic::async_trait]
impl FlightService for RegistryFlight {
    type HandshakeStream = FlightStream<HandshakeResponse>;
    type ListFlightsStream = FlightStream<FlightInfo>;
    type DoGetStream = FlightStream<FlightData>;
    type DoPutStream = FlightStream<PutResult>;
    type DoExchangeStream = FlightStream<FlightData>;
    type DoActionStream = FlightStream<arrow_flight::Result>;
    type ListActionsStream = FlightStream<ActionType>;

    async fn handshake(
        &self,
        _request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        Err(Status::unimplemented("no handshake: callers are authenticated by their TLS certificate"))
    }

    #[instrument(skip_all, fields(register = ?self.store.register()))]
    async fn list_flights(
        &self,
        request: Request<Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        self.access.check(&request, "ListFlights")?;
        let infos = self
            .store
            .infos()
            .into_iter()
            .map(|i| {
                let name = i.dataset.name().to_string();
                self.info(&name, MonthRange::default(), pb::DatasetTicket { dataset: name.clone(), range: None, selection: None })
            })
            .collect::<Vec<_>>();
        Ok(Response::new(stream::iter(infos).boxed()))
    }

    #[instrument(skip_all)]
    async fn get_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.access.check(&request, "GetFlightInfo")?;
        let (name, range, ticket) = Self::resolve(request.get_ref())?;
        Ok(Response::new(self.info(&name, range, ticket)?))
    }

    async fn poll_flight_info(
        &self,
        _request: Request<FlightDescriptor>,
    ) -> Result<Response<PollInfo>, Status> {
        Err(Status::unimplemented("datasets are ready at once: use GetFlightInfo"))
    }

    #[instrument(skip_all)]
    async fn get_schema(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<SchemaResult>, Status> {
        self.access.check(&request, "GetSchema")?;
        let (name, _, _) = Self::resolve(request.get_ref())?;
        let d = self.store.dataset(&name)?;
        let options = arrow::ipc::writer::IpcWriteOptions::default();
        let result = SchemaResult::try_from(SchemaAsIpc::new(d.schema(), &options))
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(result))
    }

    #[instrument(skip_all, fields(dataset, rows))]
    async fn do_get(&self, request: Request<Ticket>) -> Result<Response<Self::DoGetStream>, Status> {
        self.access.check(&request, "DoGet")?;
        let ticket = pb::DatasetTicket::decode(request.get_ref().ticket.as_ref())
            .map_err(|_| Status::invalid_argument("ticket is not a DatasetTicket"))?;
        let range = range_of(ticket.range.as_ref())?;
        let query = match &ticket.selection {
            Some(sel) => self.select(&ticket.dataset, range, sel)?,
            None => self.store.scan(&ticket.dataset, range)?,
        };
        let schema = self.store.schema(&query)?;
        tracing::Span::current().record("dataset", ticket.dataset.as_str());
        match &ticket.selection {
            Some(sel) => tracing::info!(project = %sel.project, law = %sel.law, intervention = %sel.intervention, "streaming a selection by intervention"),
            None => tracing::info!("streaming dataset"),
        }
        Ok(Response::new(self.answer(query, schema, "dataset streamed")))
    }

    async fn do_put(
        &self,
        _request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        Err(Status::unimplemented("a register is read-only"))
    }

    #[instrument(skip_all, fields(dataset, persons, rows))]
    async fn do_exchange(
        &self,
        request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        self.access.check(&request, "DoExchange")?;
        let mut incoming = request.into_inner();
        let first = incoming
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("empty exchange: expected a PersonFilterCommand descriptor"))?;
        let cmd = first
            .flight_descriptor
            .as_ref()
            .filter(|d| d.r#type() == arrow_flight::flight_descriptor::DescriptorType::Cmd)
            .ok_or_else(|| Status::invalid_argument("first message must carry a CMD descriptor"))?;
        let cmd = pb::PersonFilterCommand::decode(cmd.cmd.as_ref())
            .map_err(|_| Status::invalid_argument("descriptor cmd is not a PersonFilterCommand"))?;
        let range = range_of(cmd.range.as_ref())?;
        self.store.dataset(&cmd.dataset)?;

        let data = stream::once(async move { Ok(first) }).chain(incoming).map_err(FlightError::from);
        let mut batches = FlightRecordBatchStream::new_from_flight_data(data);
        let reference = self.store.reference_date();
        let mut persons: PersonSet = HashSet::with_hasher(RandomState::new());
        let mut batch_no = 0usize;
        while let Some(batch) = batches.next().await {
            let batch = batch.map_err(|e| match e {
                FlightError::Tonic(s) => *s,
                _ => Status::invalid_argument("request stream is not valid Arrow Flight data"),
            })?;
            batch_no += 1;
            let col = batch
                .column_by_name("personnummer")
                .and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned())
                .ok_or_else(|| Status::invalid_argument("request batches need a Utf8 column `personnummer`"))?;
            for i in 0..col.len() {
                if col.is_null(i) {
                    return Err(Error::BadRequest(format!("request batch {batch_no} row {}: empty personnummer", i + 1)).into());
                }
                let p = Pnr::parse(col.value(i), reference).map_err(|e| {
                    Error::BadRequest(format!("request batch {batch_no} row {}: invalid personnummer ({})", i + 1, e.code()))
                })?;
                persons.insert(p.as_u64());
            }
        }
        let n = persons.len();
        let query = self.store.semi_join(&cmd.dataset, Arc::new(persons), range)?;
        let schema = self.store.schema(&query)?;
        tracing::Span::current().record("dataset", cmd.dataset.as_str()).record("persons", n);
        tracing::info!("person-filter exchange: answering");
        Ok(Response::new(self.answer(query, schema, "person-filter exchange answered")))
    }

    async fn do_action(&self, request: Request<Action>) -> Result<Response<Self::DoActionStream>, Status> {
        self.access.check(&request, "DoAction")?;
        Err(Status::invalid_argument("no actions: use the RegistryAdmin service for load reports"))
    }

    async fn list_actions(&self, request: Request<Empty>) -> Result<Response<Self::ListActionsStream>, Status> {
        self.access.check(&request, "ListActions")?;
        Ok(Response::new(stream::empty().boxed()))
    }
}

/// Boxed stream alias used by tests.
pub type BoxedBatches = BoxStream<'static, Result<RecordBatch, FlightError>>;
