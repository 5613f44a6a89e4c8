//! Receiving a delivery from the linkage service over Arrow Flight (`DoPut`, SPEC §2: the
//! agencies share no storage). The wire format and the storing are the delivery contract's
//! ([`regstat_contract::delivery`]): the first message's descriptor carries the manifest, then
//! each table is an Arrow IPC stream whose schema message names the table in `app_metadata`.
//!
//! Tables are written to Parquet in a staging directory as they arrive (bounded memory) on a
//! blocking thread, each checked against the manifest when it ends; the delivery becomes
//! visible in one rename only when the stream ended cleanly and everything matched. A stream
//! cut off mid-way, a table that does not match, or a manifest that is not its id's leaves
//! nothing visible. The same delivery pushed again is acknowledged without writing.

use std::path::PathBuf;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow_flight::decode::{DecodedPayload, FlightDataDecoder};
use arrow_flight::error::FlightError;
use arrow_flight::FlightData;
use futures::{Stream, StreamExt};
use regstat_contract::delivery::{DeliveryError, Incoming, Stored};
use tonic::Status;

enum Msg {
    Begin(Vec<u8>),
    Table(String, SchemaRef),
    Batch(RecordBatch),
    /// The stream ended cleanly: commit.
    End,
}

fn status(e: DeliveryError) -> Status {
    match e {
        DeliveryError::Invalid(_) => Status::invalid_argument(e.to_string()),
        DeliveryError::Mismatch(_) => Status::data_loss(e.to_string()),
        DeliveryError::Conflict(_) => Status::already_exists(e.to_string()),
        DeliveryError::Storage(_) => {
            tracing::error!(error = %e, "storing a delivery failed");
            Status::internal(e.to_string())
        }
    }
}

fn started(i: &mut Option<Incoming>) -> Result<&mut Incoming, DeliveryError> {
    i.as_mut().ok_or_else(|| DeliveryError::Invalid("the first message must carry the manifest as its descriptor".into()))
}

/// Store the delivery a `DoPut` stream carries under `<store>/deliveries/`.
pub async fn receive<S>(store: PathBuf, stream: S) -> Result<Stored, Status>
where
    S: Stream<Item = Result<FlightData, Status>> + Send + Unpin + 'static,
{
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Msg>(4);
    let writer = tokio::task::spawn_blocking(move || -> Result<Stored, DeliveryError> {
        let mut incoming: Option<Incoming> = None;
        while let Some(m) = rx.blocking_recv() {
            match m {
                Msg::Begin(json) => incoming = Some(Incoming::begin(&store, &json)?),
                Msg::Table(name, schema) => started(&mut incoming)?.start_table(&name, schema)?,
                Msg::Batch(b) => started(&mut incoming)?.write(&b)?,
                Msg::End => {
                    let i = incoming.take().ok_or_else(|| DeliveryError::Invalid("an empty push".into()))?;
                    return i.commit();
                }
            }
        }
        // The sender went away without End: the push was interrupted. Dropping `incoming`
        // removes its staging directory.
        Err(DeliveryError::Invalid("the push ended before the delivery was complete".into()))
    });

    let mut decoder = FlightDataDecoder::new(stream.map(|r| r.map_err(FlightError::from)));
    let mut first = true;
    let mut failed: Option<Status> = None;
    while let Some(item) = decoder.next().await {
        let data = match item {
            Ok(d) => d,
            Err(e) => {
                failed = Some(match e {
                    FlightError::Tonic(s) => Status::cancelled(format!("the push was interrupted: {}", s.message())),
                    e => Status::invalid_argument(format!("the push is not a valid Arrow Flight stream: {e}")),
                });
                break;
            }
        };
        let mut msgs = Vec::new();
        if first {
            first = false;
            match data.inner.flight_descriptor.as_ref() {
                Some(d) if !d.cmd.is_empty() => msgs.push(Msg::Begin(d.cmd.to_vec())),
                _ => {
                    failed = Some(Status::invalid_argument("the first message must carry the delivery's manifest as its descriptor (CMD)"));
                    break;
                }
            }
        }
        match data.payload {
            DecodedPayload::Schema(schema) => match std::str::from_utf8(&data.inner.app_metadata) {
                Ok(name) if !name.is_empty() => msgs.push(Msg::Table(name.to_string(), schema)),
                _ => {
                    failed = Some(Status::invalid_argument("each table's schema message must name the table in app_metadata"));
                    break;
                }
            },
            DecodedPayload::RecordBatch(b) => msgs.push(Msg::Batch(b)),
            DecodedPayload::None => {}
        }
        for m in msgs {
            if tx.send(m).await.is_err() {
                // The writer stopped on an error: it is returned below.
                break;
            }
        }
        if tx.is_closed() {
            break;
        }
    }
    if failed.is_none() && !tx.is_closed() {
        let _ = tx.send(Msg::End).await;
    }
    drop(tx);
    let written = writer.await.map_err(|e| Status::internal(format!("the delivery writer failed: {e}")))?;
    match (failed, written) {
        (Some(s), _) => Err(s),
        (None, r) => r.map_err(status),
    }
}
