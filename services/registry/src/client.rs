//! A typed client of a register holder, over Arrow Flight and RegistryAdmin. Used by the
//! linkage service and the tests; any plain Flight client works too.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::{FlightClient, FlightDescriptor, FlightInfo, Ticket};
use futures::{stream, StreamExt, TryStreamExt};
use prost::Message;
use regstat_proto::registry::v1 as pb;
use regstat_proto::registry::v1::registry_admin_client::RegistryAdminClient;
use tonic::transport::Channel;

/// Rows per request batch when sending a person set.
const PERSONS_PER_BATCH: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct RegistryClient {
    channel: Channel,
}

fn month_range(range: Option<(&str, &str)>) -> Option<pb::MonthRange> {
    range.map(|(from, to)| pb::MonthRange { from_month: from.to_string(), to_month: to.to_string() })
}

impl RegistryClient {
    pub fn new(channel: Channel) -> Self {
        RegistryClient { channel }
    }

    /// Connect over plain HTTP/2 (development / tests without TLS).
    pub async fn connect(addr: std::net::SocketAddr) -> Result<Self, ConnectError> {
        let channel = Channel::from_shared(format!("http://{addr}"))
            .map_err(|_| ConnectError::Address)?
            .connect()
            .await?;
        Ok(RegistryClient { channel })
    }

    /// Connect with mutual TLS, expecting the server to be `server_identity`
    /// (`fk-registry`, `sos-register`).
    pub async fn connect_tls(
        addr: std::net::SocketAddr,
        tls: &regstat_server::tls::TlsMaterial,
        server_identity: &str,
    ) -> Result<Self, ConnectError> {
        let channel = Channel::from_shared(format!("https://{addr}"))
            .map_err(|_| ConnectError::Address)?
            .tls_config(tls.client(server_identity))?
            .connect()
            .await?;
        Ok(RegistryClient { channel })
    }

    /// A Flight client whose calls carry the current trace context.
    fn flight(&self) -> FlightClient {
        let mut client = FlightClient::new(self.channel.clone());
        // A traceparent value is plain ASCII, so adding it cannot fail.
        let _ = client.add_header(regstat_server::trace::TRACEPARENT, &regstat_server::trace::outgoing().header());
        client
    }

    /// Every dataset with schema and counts.
    pub async fn list(&self) -> Result<Vec<FlightInfo>, FlightError> {
        self.flight().list_flights(Vec::<u8>::new()).await?.try_collect().await
    }

    /// Stream a whole dataset, optionally restricted to an inclusive `YYYY-MM` range.
    pub async fn fetch(&self, dataset: &str, range: Option<(&str, &str)>) -> Result<Vec<RecordBatch>, FlightError> {
        self.stream(dataset, range).await?.try_collect().await
    }

    /// Like [`fetch`](Self::fetch), as a stream of record batches (bounded memory).
    pub async fn stream(
        &self,
        dataset: &str,
        range: Option<(&str, &str)>,
    ) -> Result<arrow_flight::decode::FlightRecordBatchStream, FlightError> {
        let ticket = pb::DatasetTicket { dataset: dataset.to_string(), range: month_range(range), selection: None };
        self.flight().do_get(Ticket::new(ticket.encode_to_vec())).await
    }

    /// A selection by intervention (SPEC-DECISIONS §5c.1): the rows of `(law, intervention)` in
    /// `interventions` for everyone who has it, within the months, for linkage `project`.
    pub async fn fetch_selection(
        &self,
        project: &str,
        law: &str,
        intervention: &str,
        range: Option<(&str, &str)>,
    ) -> Result<Vec<RecordBatch>, FlightError> {
        let selection = pb::InterventionSelection { project: project.to_string(), law: law.to_string(), intervention: intervention.to_string() };
        let ticket = pb::DatasetTicket { dataset: "interventions".into(), range: month_range(range), selection: Some(selection) };
        self.flight().do_get(Ticket::new(ticket.encode_to_vec())).await?.try_collect().await
    }

    /// The rows of `dataset` for exactly these persons (any accepted printed form), via the
    /// person-filter exchange (semi-join at the register).
    pub async fn fetch_persons(
        &self,
        dataset: &str,
        persons: Vec<String>,
        range: Option<(&str, &str)>,
    ) -> Result<Vec<RecordBatch>, FlightError> {
        let cmd = pb::PersonFilterCommand { dataset: dataset.to_string(), range: month_range(range) };
        let schema = Arc::new(Schema::new(vec![Field::new("personnummer", DataType::Utf8, false)]));
        let mut batches = Vec::new();
        for chunk in persons.chunks(PERSONS_PER_BATCH) {
            let col: ArrayRef = Arc::new(StringArray::from_iter_values(chunk));
            batches.push(RecordBatch::try_new(schema.clone(), vec![col])?);
        }
        let request = FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .with_flight_descriptor(Some(FlightDescriptor::new_cmd(cmd.encode_to_vec())))
            .build(stream::iter(batches.into_iter().map(Ok)));
        self.flight().do_exchange(request.boxed()).await?.try_collect().await
    }

    /// The registry's load report (read = accepted + quarantined per dataset).
    pub async fn load_report(&self) -> Result<pb::LoadReport, tonic::Status> {
        Ok(RegistryAdminClient::with_interceptor(self.channel.clone(), regstat_server::trace::interceptor)
            .get_load_report(pb::GetLoadReportRequest {})
            .await?
            .into_inner())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("not a valid server address")]
    Address,
    #[error("cannot connect: {0}")]
    Transport(#[from] tonic::transport::Error),
}
