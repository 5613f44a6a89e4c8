//! A delivery: the pseudonymised tables with their manifest (the format is
//! [`regstat_contract::delivery`]), pushed to the query service over Arrow Flight (`DoPut`,
//! mutual TLS; the agencies share no storage, SPEC §2) or, in-process, stored in a store
//! directory by the same code the query service stores a push with.
//!
//! The delivery id is derived from the manifest (parameters, key id, inputs, and each table's
//! rows and content digest), and nothing time-dependent is in it, so the same inputs and key give
//! the same delivery under the same id, and pushing it again changes nothing.
//!
//! On the wire, one `DoPut` carries the whole delivery: the first message's descriptor is the
//! manifest (`CMD` = its JSON), then each table as an Arrow IPC stream whose schema message has
//! the table's name as `app_metadata`. The query service answers one `PutResult` whose
//! `app_metadata` is the JSON of what it stored.

use std::path::Path;

use arrow::array::RecordBatch;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::{FlightClient, FlightDescriptor};
use futures::{StreamExt, TryStreamExt};
use regstat_contract::delivery::{self as contract, AnnouncedFile, ContentDigest, StoredFile};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::job::{JobParams, Tables};

/// Where the pseudonymised data came from.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InputFingerprint {
    pub service: String,
    pub dataset: String,
    pub source_sha256: String,
    pub rows_accepted: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub project: String,
    pub version: u32,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub format: &'static str,
    pub delivery_id: String,
    pub parameters: JobParams,
    pub key: KeyInfo,
    pub inputs: Vec<InputFingerprint>,
    pub files: Vec<AnnouncedFile>,
}

/// A delivery ready to be stored or pushed: its manifest and the JSON that carries it.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub delivery_id: String,
    pub manifest: Manifest,
    pub json: Vec<u8>,
}

/// A delivery stored (by the query service, or in a store directory).
#[derive(Debug, Clone)]
pub struct Published {
    pub delivery_id: String,
    /// Where it is: `<store>/deliveries/<id>/manifest.json`, or `query:<addr>/deliveries/<id>`.
    pub location: String,
    pub manifest: Manifest,
    /// What the receiver stored (the Parquet files' sizes and hashes).
    pub stored: Vec<StoredFile>,
    /// `false` when the receiver had it already (same id, same content).
    pub newly_stored: bool,
}

fn contract_error(e: contract::DeliveryError) -> Error {
    Error::Storage { what: "delivery".into(), reason: e.to_string() }
}

/// The manifest of `tables`: each table's rows and content digest; the id from the content.
pub fn prepare(tables: &Tables, params: &JobParams, key: KeyInfo, inputs: Vec<InputFingerprint>) -> Result<Prepared> {
    let mut files = Vec::new();
    for (name, batch) in tables {
        let (rows, content_sha256) = ContentDigest::of(std::slice::from_ref(batch), batch.schema()).map_err(contract_error)?;
        files.push(AnnouncedFile { name: format!("{name}.parquet"), rows, content_sha256 });
    }
    let mut manifest = Manifest { format: contract::FORMAT, delivery_id: String::new(), parameters: params.clone(), key, inputs, files };
    let mut value = serde_json::to_value(&manifest).map_err(|e| Error::Internal(e.to_string()))?;
    let delivery_id = contract::seal(&mut value).map_err(contract_error)?;
    manifest.delivery_id = delivery_id.clone();
    let json = serde_json::to_vec(&value).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Prepared { delivery_id, manifest, json })
}

/// Store `tables` in `store/deliveries/<delivery_id>/` (in-process: fixtures, benchmarks, a
/// linkage service configured with a local store), exactly as the query service stores a push.
pub fn publish(store: &Path, tables: &Tables, params: &JobParams, key: KeyInfo, inputs: Vec<InputFingerprint>) -> Result<Published> {
    let p = prepare(tables, params, key, inputs)?;
    store_prepared(store, p, tables)
}

/// Store a prepared delivery in `store/deliveries/<delivery_id>/`.
pub fn store_prepared(store: &Path, p: Prepared, tables: &Tables) -> Result<Published> {
    let list: Vec<(&str, &RecordBatch)> = tables.iter().map(|(n, b)| (*n, b)).collect();
    let s = contract::store(store, &p.json, &list).map_err(contract_error)?;
    if !s.newly_stored {
        tracing::info!(delivery_id = %s.delivery_id, "delivery already stored; identical content");
    }
    Ok(Published {
        delivery_id: s.delivery_id,
        location: s.dir.join("manifest.json").display().to_string(),
        manifest: p.manifest,
        stored: s.files,
        newly_stored: s.newly_stored,
    })
}

/// The query service's answer to a push (the `app_metadata` of its `PutResult`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushAnswer {
    pub delivery_id: String,
    pub newly_stored: bool,
    pub files: Vec<StoredFile>,
}

/// The `DoPut` stream of a delivery (see the module documentation).
pub fn flight_data(p: &Prepared, tables: &Tables) -> impl futures::Stream<Item = std::result::Result<arrow_flight::FlightData, FlightError>> + Send + 'static {
    let mut streams = Vec::new();
    for (i, (name, batch)) in tables.iter().enumerate() {
        let mut b = FlightDataEncoderBuilder::new().with_schema(batch.schema()).with_metadata(name.as_bytes().to_vec().into());
        if i == 0 {
            b = b.with_flight_descriptor(Some(FlightDescriptor::new_cmd(p.json.clone())));
        }
        streams.push(b.build(futures::stream::iter([Ok(batch.clone())])));
    }
    futures::stream::iter(streams).flatten()
}

/// Push a delivery to the query service and return what it stored.
pub async fn push(client: &mut FlightClient, p: &Prepared, tables: &Tables) -> std::result::Result<PushAnswer, FlightError> {
    let results: Vec<arrow_flight::PutResult> = client.do_put(flight_data(p, tables)).await?.try_collect().await?;
    let first = results.first().ok_or_else(|| FlightError::ProtocolError("the query service answered the push with nothing".into()))?;
    let answer: PushAnswer =
        serde_json::from_slice(&first.app_metadata).map_err(|e| FlightError::ProtocolError(format!("the query service's answer: {e}")))?;
    if answer.delivery_id != p.delivery_id {
        return Err(FlightError::ProtocolError(format!("the query service stored {} for {}", answer.delivery_id, p.delivery_id)));
    }
    Ok(answer)
}
