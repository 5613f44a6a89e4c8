//! The registry's own store of validated extracts: validate once, restart in seconds.
//!
//! After a dataset is validated, its accepted rows are written to `store/<dataset>.parquet` in
//! the registry's state directory (the canonical schema plus the compact person key, Snappy, in
//! the extract's row order — not sorted by person) and a stamp `store/<dataset>.json`: the load report, the extract's
//! SHA-256, the effective reference date for 10-digit numbers and the store format version. On the
//! next start, a dataset whose extract has the same content hash, read under the same options, is
//! read from the store **without revalidating a row**; anything else (a changed or replaced
//! extract, another format preference or reference date, a missing quarantine file, a damaged
//! store) is validated again and the store rewritten. Files are written to a temporary name and
//! renamed, the stamp last, so a crash mid-write leaves either the old store or none.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, RecordBatch, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use regstat_contract::{
    effective_reference_date, load_dataset, sha256_file, source_path, Dataset, DatasetReport, LoadError, LoadOptions,
    LoadedDataset, Reason,
};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Bumped whenever validation rules or the stored layout change: an older store is revalidated.
pub const STORE_VERSION: u32 = 2;

const KEY_COLUMN: &str = "__person_key";

/// How a dataset came to be in memory at this start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Every row was read and validated at this start.
    Validated,
    /// Read from the registry's store (validated at an earlier start, same extract).
    Store,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Stamp {
    version: u32,
    dataset: String,
    source_file: PathBuf,
    source_format: String,
    source_sha256: String,
    /// ISO date.
    reference_date: String,
    rows_read: u64,
    rows_accepted: u64,
    rows_quarantined: u64,
    reasons: BTreeMap<String, u64>,
    quarantine_file: PathBuf,
}

fn paths(state_dir: &Path, dataset: Dataset) -> (PathBuf, PathBuf) {
    let dir = state_dir.join("store");
    (dir.join(format!("{}.parquet", dataset.name())), dir.join(format!("{}.json", dataset.name())))
}

fn io(file: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Internal(format!("registry store {}: {e}", file.display()))
}

/// Load `dataset` from the store when its extract is unchanged, else validate it (and store it).
pub fn load_or_validate(extracts_dir: &Path, dataset: Dataset, state_dir: &Path, opts: &LoadOptions) -> Result<(LoadedDataset, Origin)> {
    let quarantine = state_dir.join("quarantine");
    let source = match source_path(extracts_dir, dataset, opts.format) {
        Ok(p) => p,
        // An optional dataset without an extract: nothing to store.
        Err(LoadError::Missing { .. }) if dataset.optional() => {
            return Ok((load_dataset(extracts_dir, dataset, &quarantine, opts)?, Origin::Validated))
        }
        Err(e) => return Err(e.into()),
    };
    let sha = sha256_file(&source)?;
    let reference = effective_reference_date(&source, opts)?;
    match read_store(state_dir, dataset, &source, &sha, reference, opts) {
        Ok(Some(d)) => {
            tracing::info!(dataset = dataset.name(), rows = d.num_rows(), "extract unchanged: read from the registry's store, not revalidated");
            return Ok((d, Origin::Store));
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(dataset = dataset.name(), error = %e, "registry store unreadable: validating the extract again"),
    }
    let opts = LoadOptions { reference_date: Some(reference), ..opts.clone() };
    let loaded = regstat_contract::load_file(&source, dataset, &quarantine, &opts)?;
    if loaded.report.source_sha256 != sha {
        // The extract changed while it was read: serve what was validated, store nothing.
        tracing::warn!(dataset = dataset.name(), "extract changed while it was validated: not stored");
        return Ok((loaded, Origin::Validated));
    }
    if let Err(e) = write_store(state_dir, &loaded, reference) {
        tracing::warn!(dataset = dataset.name(), error = %e, "could not write the registry's store: the next start validates again");
    }
    Ok((loaded, Origin::Validated))
}

fn read_store(state_dir: &Path, dataset: Dataset, source: &Path, sha: &str, reference: NaiveDate, opts: &LoadOptions) -> Result<Option<LoadedDataset>> {
    let (data, stamp_path) = paths(state_dir, dataset);
    let Ok(text) = std::fs::read_to_string(&stamp_path) else {
        return Ok(None);
    };
    let stamp: Stamp = serde_json::from_str(&text).map_err(|e| Error::Internal(format!("store stamp: {e}")))?;
    let fresh = stamp.version == STORE_VERSION
        && stamp.dataset == dataset.name()
        && stamp.source_sha256 == sha
        && stamp.source_file == source
        && stamp.reference_date == reference.to_string()
        && stamp.quarantine_file.exists();
    if !fresh {
        return Ok(None);
    }
    let file = File::open(&data).map_err(io(&data))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)?.with_batch_size(opts.batch_rows.max(1)).build()?;
    let schema = dataset.schema();
    let (mut batches, mut person_keys) = (Vec::new(), Vec::new());
    for b in reader {
        let b = b?;
        let keys = b
            .column_by_name(KEY_COLUMN)
            .and_then(|c| c.as_any().downcast_ref::<UInt64Array>().cloned())
            .ok_or_else(|| Error::Internal("store lacks the person keys".into()))?;
        let columns = schema
            .fields()
            .iter()
            .map(|f| b.column_by_name(f.name()).cloned().ok_or_else(|| Error::Internal(format!("store lacks column {}", f.name()))))
            .collect::<Result<Vec<_>>>()?;
        batches.push(RecordBatch::try_new(schema.clone(), columns)?);
        person_keys.push(keys);
    }
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if rows as u64 != stamp.rows_accepted {
        return Err(Error::Internal(format!("store holds {rows} rows, its stamp {}", stamp.rows_accepted)));
    }
    let reasons = stamp
        .reasons
        .iter()
        .map(|(code, n)| Reason::from_code(code).map(|r| (r.code(), *n)).ok_or_else(|| Error::Internal(format!("unknown reason {code}"))))
        .collect::<Result<BTreeMap<_, _>>>()?;
    let report = DatasetReport {
        dataset: stamp.dataset,
        source_file: stamp.source_file,
        source_format: if stamp.source_format == "parquet" { "parquet" } else { "csv" },
        source_sha256: stamp.source_sha256,
        rows_read: stamp.rows_read,
        rows_accepted: stamp.rows_accepted,
        rows_quarantined: stamp.rows_quarantined,
        reasons,
        quarantine_file: stamp.quarantine_file,
    };
    Ok(Some(LoadedDataset { dataset, schema, batches, person_keys, report }))
}

fn write_store(state_dir: &Path, loaded: &LoadedDataset, reference: NaiveDate) -> Result<()> {
    let (data, stamp_path) = paths(state_dir, loaded.dataset);
    let dir = state_dir.join("store");
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let mut fields: Vec<Field> = loaded.schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(KEY_COLUMN, DataType::UInt64, false));
    let schema = Arc::new(Schema::new(fields));
    let tmp = data.with_extension("parquet.tmp");
    let file = File::create(&tmp).map_err(io(&tmp))?;
    let props = WriterProperties::builder().set_compression(Compression::SNAPPY).set_max_row_group_row_count(Some(1 << 20)).build();
    let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props))?;
    for (b, keys) in loaded.batches.iter().zip(&loaded.person_keys) {
        let mut columns = b.columns().to_vec();
        columns.push(Arc::new(keys.clone()));
        writer.write(&RecordBatch::try_new(schema.clone(), columns)?)?;
    }
    writer.close()?;
    std::fs::rename(&tmp, &data).map_err(io(&data))?;
    let r = &loaded.report;
    let stamp = Stamp {
        version: STORE_VERSION,
        dataset: r.dataset.clone(),
        source_file: r.source_file.clone(),
        source_format: r.source_format.to_string(),
        source_sha256: r.source_sha256.clone(),
        reference_date: reference.to_string(),
        rows_read: r.rows_read,
        rows_accepted: r.rows_accepted,
        rows_quarantined: r.rows_quarantined,
        reasons: r.reasons.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        quarantine_file: r.quarantine_file.clone(),
    };
    let tmp = stamp_path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&stamp).map_err(|e| Error::Internal(e.to_string()))?).map_err(io(&tmp))?;
    std::fs::rename(&tmp, &stamp_path).map_err(io(&stamp_path))?;
    Ok(())
}
