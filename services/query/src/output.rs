//! Production outputs (SPEC §7): one tidy file per statistic, CSV and Parquet, and a manifest
//! from which the run can be reproduced byte for byte (nothing time-dependent is written).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::delivery::Delivery;
use crate::disclosure::{self, Policy, Released};
use crate::engine::{Engine, Years};
use crate::error::{Error, Result};
use crate::stats;

#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    pub name: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunManifest {
    pub run_id: String,
    pub code_version: &'static str,
    pub delivery_id: String,
    pub inputs: Vec<FileEntry>,
    pub parameters: Parameters,
    pub disclosure_control: &'static str,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Parameters {
    pub decision_years: Years,
    pub policy: Policy,
    pub statistics: Vec<&'static str>,
}

fn out_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Output { path: path.display().to_string(), reason: e.to_string() }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Tidy CSV text of a released table.
pub fn tidy_csv(dims: &[&str], rows: &[Released]) -> String {
    let mut out = String::new();
    let header: Vec<&str> = dims.iter().copied().chain(["n", "denominator", "share_pct", "suppressed"]).collect();
    out.push_str(&header.join(","));
    out.push('\n');
    for r in rows {
        let mut fields: Vec<String> = r.values.iter().map(|v| csv_field(v)).collect();
        fields.push(r.n.map(|n| n.to_string()).unwrap_or_default());
        fields.push(r.denominator.map(|n| n.to_string()).unwrap_or_default());
        fields.push(r.share_pct.map(|s| s.to_string()).unwrap_or_default());
        fields.push(r.suppressed.map(|s| s.code().to_string()).unwrap_or_default());
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

/// The released table as an Arrow batch (the Parquet file and the Flight answer).
pub fn to_batch(dims: &[&str], rows: &[Released]) -> Result<RecordBatch> {
    let mut fields: Vec<Field> = dims.iter().map(|d| Field::new(*d, DataType::Utf8, false)).collect();
    fields.push(Field::new("n", DataType::Int64, true));
    fields.push(Field::new("denominator", DataType::Int64, true));
    fields.push(Field::new("share_pct", DataType::Float64, true));
    fields.push(Field::new("suppressed", DataType::Utf8, true));
    let mut cols: Vec<ArrayRef> = (0..dims.len())
        .map(|i| Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.values[i].as_str()))) as ArrayRef)
        .collect();
    cols.push(Arc::new(Int64Array::from(rows.iter().map(|r| r.n).collect::<Vec<_>>())));
    cols.push(Arc::new(Int64Array::from(rows.iter().map(|r| r.denominator).collect::<Vec<_>>())));
    cols.push(Arc::new(Float64Array::from(rows.iter().map(|r| r.share_pct).collect::<Vec<_>>())));
    cols.push(Arc::new(StringArray::from(rows.iter().map(|r| r.suppressed.map(|s| s.code())).collect::<Vec<_>>())));
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?)
}

fn write(path: &Path, bytes: &[u8], files: &mut Vec<FileEntry>) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| out_err(path, e))?;
    files.push(FileEntry {
        name: path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        sha256: hex::encode(Sha256::digest(bytes)),
    });
    Ok(())
}

/// One released statistic of a production.
#[derive(Debug, Clone)]
pub struct ReleasedTable {
    pub statistic: &'static str,
    pub dims: Vec<&'static str>,
    pub rows: Vec<Released>,
}

/// Compute every statistic of the catalogue for a delivery, protect it, and write the outputs.
pub async fn produce(delivery: &Delivery, years: Years, policy: Policy, out_dir: &Path) -> Result<(RunManifest, Vec<ReleasedTable>)> {
    std::fs::create_dir_all(out_dir).map_err(|e| out_err(out_dir, e))?;
    let engine = Engine::new(delivery, years).await?;
    let mut files = Vec::new();
    let mut tables = Vec::new();
    for stat in stats::CATALOGUE {
        let table = engine.compute(stat).await?;
        let released = disclosure::protect(&table, policy);
        write(&out_dir.join(format!("{}.csv", stat.id)), tidy_csv(&table.dims, &released).as_bytes(), &mut files)?;
        let batch = to_batch(&table.dims, &released)?;
        let mut buf = Vec::new();
        let props = WriterProperties::builder().set_created_by("regstat query".into()).build();
        let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), Some(props)).map_err(|e| out_err(out_dir, e))?;
        w.write(&batch).map_err(|e| out_err(out_dir, e))?;
        w.close().map_err(|e| out_err(out_dir, e))?;
        write(&out_dir.join(format!("{}.parquet", stat.id)), &buf, &mut files)?;
        tables.push(ReleasedTable { statistic: stat.id, dims: table.dims.clone(), rows: released });
    }
    let mut inputs = vec![FileEntry { name: "manifest.json".into(), sha256: delivery.manifest_sha256.clone() }];
    inputs.extend(delivery.manifest.files.iter().map(|f| FileEntry { name: f.name.clone(), sha256: f.sha256.clone() }));
    let parameters = Parameters { decision_years: years, policy, statistics: stats::CATALOGUE.iter().map(|s| s.id).collect() };
    let code_version = env!("CARGO_PKG_VERSION");
    let id_input = serde_json::to_vec(&(code_version, &delivery.manifest.delivery_id, &inputs, &parameters)).map_err(|e| out_err(out_dir, e))?;
    let manifest = RunManifest {
        run_id: hex::encode(&Sha256::digest(&id_input)[..10]),
        code_version,
        delivery_id: delivery.manifest.delivery_id.clone(),
        inputs,
        parameters,
        disclosure_control: "primary suppression of counts and denominators; shares only with denominator >= policy minimum; \
                             release-wide secondary suppression NOT yet applied",
        files,
    };
    let path: PathBuf = out_dir.join("manifest.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest).map_err(|e| out_err(&path, e))?).map_err(|e| out_err(&path, e))?;
    Ok((manifest, tables))
}
