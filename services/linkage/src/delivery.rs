//! Publishing a delivery to the query side's store: Parquet files plus `manifest.json`,
//! written into a staging directory and renamed into place in one step, so that a reader never
//! sees half a delivery and a failed job leaves nothing behind.
//!
//! Layout: `<query store>/deliveries/<delivery_id>/{persons,registered,decisions,benefits,
//! interventions}.parquet` and `manifest.json`. The delivery id is derived from the content
//! (parameters, key id, inputs, file hashes), and nothing time-dependent is written, so the same
//! inputs and key give a byte-identical delivery under the same id.

use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde::Serialize;
use sha2::{Digest, Sha256};

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
pub struct FileEntry {
    pub name: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub format: &'static str,
    pub delivery_id: String,
    pub parameters: JobParams,
    pub key: KeyInfo,
    pub inputs: Vec<InputFingerprint>,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone)]
pub struct Published {
    pub delivery_id: String,
    pub dir: PathBuf,
    pub manifest_path: PathBuf,
    pub manifest: Manifest,
}

fn storage(what: &Path, e: impl std::fmt::Display) -> Error {
    Error::Storage { what: what.display().to_string(), reason: e.to_string() }
}

fn write_parquet(path: &Path, batch: &RecordBatch) -> Result<FileEntry> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by("regstat linkage".to_string())
        .build();
    let file = std::fs::File::create(path).map_err(|e| storage(path, e))?;
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(|e| storage(path, e))?;
    w.write(batch).map_err(|e| storage(path, e))?;
    let file = w.into_inner().map_err(|e| storage(path, e))?;
    file.sync_all().map_err(|e| storage(path, e))?;
    let bytes = std::fs::read(path).map_err(|e| storage(path, e))?;
    Ok(FileEntry {
        name: path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        rows: batch.num_rows() as u64,
        bytes: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(&bytes)),
    })
}

/// Write `tables` and publish them atomically under `store/deliveries/<delivery_id>/`.
pub fn publish(
    store: &Path,
    tables: &Tables,
    params: &JobParams,
    key: KeyInfo,
    inputs: Vec<InputFingerprint>,
) -> Result<Published> {
    let root = store.join("deliveries");
    std::fs::create_dir_all(&root).map_err(|e| storage(&root, e))?;
    let staging = root.join(format!(".staging-{}-{}", std::process::id(), chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)));
    let result = write_and_rename(&root, &staging, tables, params, key, inputs);
    if staging.exists() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

fn write_and_rename(
    root: &Path,
    staging: &Path,
    tables: &Tables,
    params: &JobParams,
    key: KeyInfo,
    inputs: Vec<InputFingerprint>,
) -> Result<Published> {
    std::fs::create_dir(staging).map_err(|e| storage(staging, e))?;
    let mut files = Vec::new();
    for (name, batch) in tables {
        files.push(write_parquet(&staging.join(format!("{name}.parquet")), batch)?);
    }
    let mut manifest = Manifest { format: "regstat-delivery/1", delivery_id: String::new(), parameters: params.clone(), key, inputs, files };
    let body = serde_json::to_vec(&manifest).map_err(|e| storage(staging, e))?;
    manifest.delivery_id = hex::encode(&Sha256::digest(&body)[..10]);
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| storage(staging, e))?;
    let mpath = staging.join("manifest.json");
    std::fs::write(&mpath, json).map_err(|e| storage(&mpath, e))?;
    let dir = root.join(&manifest.delivery_id);
    if dir.exists() {
        // Same id = same content (the id hashes every file): the delivery is already there.
        tracing::info!(delivery_id = %manifest.delivery_id, "delivery already published; identical content");
    } else {
        std::fs::rename(staging, &dir).map_err(|e| storage(&dir, e))?;
        if let Ok(d) = std::fs::File::open(root) {
            let _ = d.sync_all();
        }
    }
    Ok(Published { delivery_id: manifest.delivery_id.clone(), manifest_path: dir.join("manifest.json"), dir, manifest })
}
