//! Reading a delivery from the query side's store: check every file against the manifest's
//! SHA-256, then register the Parquet files as DataFusion tables.

use std::path::{Path, PathBuf};

use datafusion::prelude::{ParquetReadOptions, SessionContext};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize)]
pub struct ManifestFile {
    pub name: String,
    pub rows: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct KeyInfo {
    pub project: String,
    pub version: u32,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub delivery_id: String,
    pub files: Vec<ManifestFile>,
    pub parameters: serde_json::Value,
    /// The pseudonymisation key's project, version and fingerprint (never the key).
    #[serde(default)]
    pub key: Option<KeyInfo>,
}

impl Manifest {
    /// The decision years the delivery was linked for.
    pub fn years(&self) -> Option<(i32, i32)> {
        let y = |k: &str| self.parameters.get(k).and_then(|v| v.as_i64()).and_then(|v| i32::try_from(v).ok());
        Some((y("from_year")?, y("to_year")?))
    }

    /// The linkage project (deliveries of one project share pseudonyms).
    pub fn project(&self) -> Option<&str> {
        self.parameters.get("project").and_then(|v| v.as_str())
    }

    /// The fingerprint of the pseudonymisation key (empty when the manifest has none).
    pub fn key_fingerprint(&self) -> &str {
        self.key.as_ref().map_or("", |k| k.fingerprint.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Delivery {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// SHA-256 of manifest.json itself (an input hash for the production manifest).
    pub manifest_sha256: String,
}

impl Delivery {
    /// Open `store/deliveries/<id>` and verify it.
    pub fn open(store: &Path, id: &str) -> Result<Self> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::BadRequest("delivery id must be hexadecimal".into()));
        }
        let dir = store.join("deliveries").join(id);
        let bad = |problem: String| Error::Delivery { id: id.to_string(), problem };
        let raw = std::fs::read(dir.join("manifest.json")).map_err(|_| Error::NotFound(format!("no delivery {id}")))?;
        let manifest: Manifest = serde_json::from_slice(&raw).map_err(|e| bad(format!("manifest.json: {e}")))?;
        for f in &manifest.files {
            let bytes = std::fs::read(dir.join(&f.name)).map_err(|e| bad(format!("{}: {e}", f.name)))?;
            if hex::encode(Sha256::digest(&bytes)) != f.sha256 {
                return Err(bad(format!("{} does not match its manifest hash", f.name)));
            }
        }
        Ok(Delivery { dir, manifest, manifest_sha256: hex::encode(Sha256::digest(&raw)) })
    }

    /// The newest delivery in the store (by directory modification time).
    pub fn latest(store: &Path) -> Result<Self> {
        let root = store.join("deliveries");
        let id = Self::latest_id(store)?.ok_or_else(|| Error::NotFound(format!("no deliveries in {}", root.display())))?;
        Self::open(store, &id)
    }

    /// The id of the newest delivery in the store (by directory modification time), unverified.
    pub fn latest_id(store: &Path) -> Result<Option<String>> {
        let root = store.join("deliveries");
        let Ok(entries) = std::fs::read_dir(&root) else { return Ok(None) };
        Ok(entries
            .filter_map(|e| e.ok())
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.file_name().to_string_lossy().into_owned())))
            .max()
            .map(|(_, id)| id))
    }

    /// Every delivery in the store (manifests only, not verified), by id.
    pub fn list(store: &Path) -> Result<Vec<Manifest>> {
        let root = store.join("deliveries");
        let Ok(entries) = std::fs::read_dir(&root) else { return Ok(Vec::new()) };
        let mut out: Vec<Manifest> = entries
            .filter_map(|e| e.ok())
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .filter_map(|e| serde_json::from_slice(&std::fs::read(e.path().join("manifest.json")).ok()?).ok())
            .collect();
        out.sort_by(|a: &Manifest, b: &Manifest| a.delivery_id.cmp(&b.delivery_id));
        Ok(out)
    }

    pub fn has(&self, table: &str) -> bool {
        self.manifest.files.iter().any(|f| f.name == format!("{table}.parquet"))
    }

    /// Register every delivered table under its file stem, read from its Parquet file once
    /// into memory (every view and statistic of an engine reads it from there).
    pub async fn register(&self, ctx: &SessionContext) -> Result<()> {
        for f in &self.manifest.files {
            let stem = f.name.trim_end_matches(".parquet");
            let path = self.dir.join(&f.name);
            let table = crate::engine::materialise(ctx.read_parquet(path.to_string_lossy().as_ref(), ParquetReadOptions::default()).await?).await?;
            ctx.register_table(stem, table)?;
        }
        Ok(())
    }
}
