//! The delivery contract between the linkage service and the query service (SPEC §2): what a
//! pseudonymised delivery is, how its content is fingerprinted, and how it is stored — the same
//! code on both sides, so a delivery pushed over Arrow Flight and one written in-process are
//! stored identically.
//!
//! A delivery is a **manifest** (JSON: `format`, `delivery_id`, the job's parameters, the key's
//! id, the inputs' fingerprints, and per table `name`, `rows` and `content_sha256`) and one
//! Arrow table per file. `content_sha256` is a [`ContentDigest`]: SHA-256 over the schema and
//! the values row by row in a canonical byte form, so it does not depend on how the rows were
//! split into batches, encoded for the wire or written to Parquet. The `delivery_id` is the first
//! 10 bytes of the SHA-256 of the manifest without its id ([`delivery_id_of`]); the receiver
//! recomputes it, so an id names exactly one content.
//!
//! [`Incoming`] stores a delivery: tables are written as Parquet into
//! `<store>/deliveries/.incoming-<pid>-<nanos>/` as they arrive, each checked against the
//! manifest (rows and content digest) when it ends; the stored manifest (the delivery's
//! manifest with each file's Parquet `sha256` and `bytes` added) is written last and the
//! directory renamed into place in one step. A delivery that is interrupted or does not match
//! leaves nothing visible (the staging directory is removed on drop, and at start-up by
//! [`clean_incoming`]); a delivery whose id is already stored with the same content is
//! acknowledged without writing anything (pushing is idempotent).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The manifest format this code writes and reads.
pub const FORMAT: &str = "regstat-delivery/2";

/// The tables a delivery may hold (SPEC §4: what the statistics use, nothing else).
pub const TABLES: [&str; 9] =
    ["persons", "registered", "arrivals", "decisions", "benefits", "interventions", "recipient_months", "assistance", "municipal_pa"];

/// A table as the manifest announces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnouncedFile {
    /// `<table>.parquet`.
    pub name: String,
    pub rows: u64,
    pub content_sha256: String,
}

/// A table as stored: the announcement plus the Parquet file's own size and hash (what the
/// query side verifies each time it opens the delivery).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    pub name: String,
    pub rows: u64,
    pub content_sha256: String,
    pub bytes: u64,
    pub sha256: String,
}

/// What storing a delivery did.
#[derive(Debug, Clone)]
pub struct Stored {
    pub delivery_id: String,
    pub dir: PathBuf,
    pub files: Vec<StoredFile>,
    /// `false` when the delivery was already stored with the same content (nothing written).
    pub newly_stored: bool,
}

/// Why a delivery was not stored. Nothing of it is visible in the store.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The manifest or the stream is malformed.
    #[error("invalid delivery: {0}")]
    Invalid(String),
    /// The data does not match the manifest (rows, content, tables).
    #[error("delivery does not match its manifest: {0}")]
    Mismatch(String),
    /// The id is stored already with other content.
    #[error("{0}")]
    Conflict(String),
    #[error("storing the delivery: {0}")]
    Storage(String),
}

type Result<T, E = DeliveryError> = std::result::Result<T, E>;

fn storage(what: &Path, e: impl std::fmt::Display) -> DeliveryError {
    DeliveryError::Storage(format!("{}: {e}", what.display()))
}

/// SHA-256 over a table's schema and values in a canonical byte form, row by row: independent
/// of batch boundaries and of any encoding. Per field: name, type and nullability; per value:
/// `0` for null, else `1` and the value's bytes (integers, dates and floats little-endian at
/// their width, booleans one byte, strings and binaries length-prefixed).
pub struct ContentDigest {
    hasher: Sha256,
    schema: SchemaRef,
    rows: u64,
}

impl ContentDigest {
    pub fn new(schema: SchemaRef) -> Result<Self> {
        let mut hasher = Sha256::new();
        hasher.update((schema.fields().len() as u64).to_le_bytes());
        for f in schema.fields() {
            supported(f.data_type()).map_err(|t| DeliveryError::Invalid(format!("column {} has type {t}, which a delivery cannot hold", f.name())))?;
            hasher.update((f.name().len() as u64).to_le_bytes());
            hasher.update(f.name().as_bytes());
            let t = f.data_type().to_string();
            hasher.update((t.len() as u64).to_le_bytes());
            hasher.update(t.as_bytes());
            hasher.update([u8::from(f.is_nullable())]);
        }
        Ok(ContentDigest { hasher, schema, rows: 0 })
    }

    pub fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.schema().fields() != self.schema.fields() {
            return Err(DeliveryError::Invalid("a batch's schema differs from its table's".into()));
        }
        let cols = batch.columns();
        for i in 0..batch.num_rows() {
            for c in cols {
                value(&mut self.hasher, c.as_ref(), i);
            }
        }
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// (rows, hex digest).
    pub fn finish(self) -> (u64, String) {
        let mut h = self.hasher;
        h.update(self.rows.to_le_bytes());
        (self.rows, hex::encode(h.finalize()))
    }

    /// The digest of a whole table.
    pub fn of(batches: &[RecordBatch], schema: SchemaRef) -> Result<(u64, String)> {
        let mut d = ContentDigest::new(schema)?;
        for b in batches {
            d.update(b)?;
        }
        Ok(d.finish())
    }
}

fn supported(t: &DataType) -> std::result::Result<(), String> {
    use DataType::*;
    match t {
        Boolean | Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 | Float32 | Float64 | Date32 | Date64 | Utf8 | LargeUtf8
        | Utf8View | Binary | LargeBinary => Ok(()),
        t => Err(t.to_string()),
    }
}

fn value(h: &mut Sha256, a: &dyn Array, i: usize) {
    use arrow::datatypes::*;
    if a.is_null(i) {
        h.update([0u8]);
        return;
    }
    h.update([1u8]);
    let bytes = |h: &mut Sha256, b: &[u8]| {
        h.update((b.len() as u64).to_le_bytes());
        h.update(b);
    };
    match a.data_type() {
        DataType::Boolean => h.update([u8::from(a.as_boolean().value(i))]),
        DataType::Int8 => h.update(a.as_primitive::<Int8Type>().value(i).to_le_bytes()),
        DataType::Int16 => h.update(a.as_primitive::<Int16Type>().value(i).to_le_bytes()),
        DataType::Int32 => h.update(a.as_primitive::<Int32Type>().value(i).to_le_bytes()),
        DataType::Int64 => h.update(a.as_primitive::<Int64Type>().value(i).to_le_bytes()),
        DataType::UInt8 => h.update(a.as_primitive::<UInt8Type>().value(i).to_le_bytes()),
        DataType::UInt16 => h.update(a.as_primitive::<UInt16Type>().value(i).to_le_bytes()),
        DataType::UInt32 => h.update(a.as_primitive::<UInt32Type>().value(i).to_le_bytes()),
        DataType::UInt64 => h.update(a.as_primitive::<UInt64Type>().value(i).to_le_bytes()),
        DataType::Float32 => h.update(a.as_primitive::<Float32Type>().value(i).to_bits().to_le_bytes()),
        DataType::Float64 => h.update(a.as_primitive::<Float64Type>().value(i).to_bits().to_le_bytes()),
        DataType::Date32 => h.update(a.as_primitive::<Date32Type>().value(i).to_le_bytes()),
        DataType::Date64 => h.update(a.as_primitive::<Date64Type>().value(i).to_le_bytes()),
        DataType::Utf8 => bytes(h, a.as_string::<i32>().value(i).as_bytes()),
        DataType::LargeUtf8 => bytes(h, a.as_string::<i64>().value(i).as_bytes()),
        DataType::Utf8View => bytes(h, a.as_string_view().value(i).as_bytes()),
        DataType::Binary => bytes(h, a.as_binary::<i32>().value(i)),
        DataType::LargeBinary => bytes(h, a.as_binary::<i64>().value(i)),
        // ContentDigest::new refuses every other type.
        _ => unreachable!("unsupported types are refused up front"),
    }
}

/// The id of a manifest: hex of the first 10 bytes of SHA-256 over its JSON without the
/// `delivery_id` key (as `serde_json` writes a `Value`).
pub fn delivery_id_of(manifest: &serde_json::Value) -> Result<String> {
    let mut m = manifest.clone();
    let obj = m.as_object_mut().ok_or_else(|| DeliveryError::Invalid("the manifest is not a JSON object".into()))?;
    obj.remove("delivery_id");
    let body = serde_json::to_vec(&m).map_err(|e| DeliveryError::Invalid(e.to_string()))?;
    Ok(hex::encode(&Sha256::digest(&body)[..10]))
}

/// Set a manifest's `delivery_id` from its content; returns the id.
pub fn seal(manifest: &mut serde_json::Value) -> Result<String> {
    let id = delivery_id_of(manifest)?;
    manifest
        .as_object_mut()
        .ok_or_else(|| DeliveryError::Invalid("the manifest is not a JSON object".into()))?
        .insert("delivery_id".into(), serde_json::Value::String(id.clone()));
    Ok(id)
}

/// The parts of a manifest this module checks.
#[derive(Debug, Deserialize)]
struct Header {
    format: String,
    delivery_id: String,
    files: Vec<AnnouncedFile>,
}

/// Check a manifest: format, id (recomputed), file names (known tables, once each).
pub fn check_manifest(json: &[u8]) -> Result<(serde_json::Value, String, Vec<AnnouncedFile>)> {
    let value: serde_json::Value = serde_json::from_slice(json).map_err(|e| DeliveryError::Invalid(format!("manifest: {e}")))?;
    let h: Header = serde_json::from_value(value.clone()).map_err(|e| DeliveryError::Invalid(format!("manifest: {e}")))?;
    if h.format != FORMAT {
        return Err(DeliveryError::Invalid(format!("manifest format {:?}; this service reads {FORMAT}", h.format)));
    }
    let id = delivery_id_of(&value)?;
    if h.delivery_id != id {
        return Err(DeliveryError::Mismatch(format!("delivery id {:?} is not its manifest's ({id})", h.delivery_id)));
    }
    let mut seen = BTreeSet::new();
    for f in &h.files {
        let table = f.name.strip_suffix(".parquet").unwrap_or_default();
        if !TABLES.contains(&table) {
            return Err(DeliveryError::Invalid(format!("file {:?} is not a table a delivery holds ({})", f.name, TABLES.join(", "))));
        }
        if !seen.insert(table) {
            return Err(DeliveryError::Invalid(format!("file {:?} is announced twice", f.name)));
        }
        if f.content_sha256.len() != 64 || !f.content_sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(DeliveryError::Invalid(format!("file {:?}: content_sha256 is not a SHA-256", f.name)));
        }
    }
    Ok((value, id, h.files))
}

struct Table {
    name: String,
    path: PathBuf,
    writer: ArrowWriter<std::fs::File>,
    digest: ContentDigest,
}

/// A delivery being stored (see the module documentation).
pub struct Incoming {
    root: PathBuf,
    staging: PathBuf,
    manifest: serde_json::Value,
    delivery_id: String,
    announced: Vec<AnnouncedFile>,
    current: Option<Table>,
    stored: Vec<StoredFile>,
}

impl std::fmt::Debug for Incoming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Incoming").field("delivery_id", &self.delivery_id).finish_non_exhaustive()
    }
}

impl Incoming {
    /// Check the manifest and open a staging directory under `<store>/deliveries/`.
    pub fn begin(store: &Path, manifest_json: &[u8]) -> Result<Self> {
        let (manifest, delivery_id, announced) = check_manifest(manifest_json)?;
        let root = store.join("deliveries");
        std::fs::create_dir_all(&root).map_err(|e| storage(&root, e))?;
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let staging = root.join(format!(".incoming-{}-{nanos}-{delivery_id}", std::process::id()));
        std::fs::create_dir(&staging).map_err(|e| storage(&staging, e))?;
        Ok(Incoming { root, staging, manifest, delivery_id, announced, current: None, stored: Vec::new() })
    }

    pub fn delivery_id(&self) -> &str {
        &self.delivery_id
    }

    /// Start the next table (finishing the one before).
    pub fn start_table(&mut self, table: &str, schema: SchemaRef) -> Result<()> {
        self.finish_table()?;
        let name = format!("{table}.parquet");
        if !self.announced.iter().any(|f| f.name == name) {
            return Err(DeliveryError::Mismatch(format!("table {table:?} is not in the manifest")));
        }
        if self.stored.iter().any(|f| f.name == name) {
            return Err(DeliveryError::Invalid(format!("table {table:?} sent twice")));
        }
        let path = self.staging.join(&name);
        let props = WriterProperties::builder().set_compression(Compression::SNAPPY).set_created_by("regstat delivery".to_string()).build();
        let file = std::fs::File::create(&path).map_err(|e| storage(&path, e))?;
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| storage(&path, e))?;
        self.current = Some(Table { name, path, writer, digest: ContentDigest::new(schema)? });
        Ok(())
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let t = self.current.as_mut().ok_or_else(|| DeliveryError::Invalid("rows before any table was started".into()))?;
        t.digest.update(batch)?;
        t.writer.write(batch).map_err(|e| storage(&t.path, e))
    }

    fn finish_table(&mut self) -> Result<()> {
        let Some(t) = self.current.take() else { return Ok(()) };
        let file = t.writer.into_inner().map_err(|e| storage(&t.path, e))?;
        file.sync_all().map_err(|e| storage(&t.path, e))?;
        let (rows, content) = t.digest.finish();
        let a = self.announced.iter().find(|f| f.name == t.name).ok_or_else(|| DeliveryError::Mismatch(format!("{} is not in the manifest", t.name)))?;
        if a.rows != rows {
            return Err(DeliveryError::Mismatch(format!("{}: {rows} rows arrived, the manifest says {}", t.name, a.rows)));
        }
        if a.content_sha256 != content {
            return Err(DeliveryError::Mismatch(format!("{}: the content does not match its content_sha256", t.name)));
        }
        let sha256 = crate::load::sha256_file(&t.path).map_err(|e| storage(&t.path, e))?;
        let bytes = std::fs::metadata(&t.path).map_err(|e| storage(&t.path, e))?.len();
        self.stored.push(StoredFile { name: t.name, rows, content_sha256: content, bytes, sha256 });
        Ok(())
    }

    /// Check that every announced table arrived whole, write the stored manifest and make the
    /// delivery visible in one rename (or find it stored already with the same content).
    pub fn commit(mut self) -> Result<Stored> {
        self.finish_table()?;
        let missing: Vec<&str> = self.announced.iter().filter(|a| !self.stored.iter().any(|s| s.name == a.name)).map(|a| a.name.as_str()).collect();
        if !missing.is_empty() {
            return Err(DeliveryError::Mismatch(format!("tables missing: {}", missing.join(", "))));
        }
        let dir = self.root.join(&self.delivery_id);
        if let Some(existing) = stored_files(&dir)? {
            return self.already(dir, existing);
        }
        // The manifest as announced, with what was stored for each file, in the announced order.
        let files: Vec<StoredFile> = self.announced.iter().filter_map(|a| self.stored.iter().find(|s| s.name == a.name).cloned()).collect();
        let mut manifest = self.manifest.clone();
        if let Some(obj) = manifest.as_object_mut() {
            obj.insert("files".into(), serde_json::to_value(&files).map_err(|e| DeliveryError::Storage(e.to_string()))?);
        }
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| DeliveryError::Storage(e.to_string()))?;
        let mpath = self.staging.join("manifest.json");
        std::fs::write(&mpath, json).map_err(|e| storage(&mpath, e))?;
        if let Ok(f) = std::fs::File::open(&mpath) {
            let _ = f.sync_all();
        }
        match std::fs::rename(&self.staging, &dir) {
            Ok(()) => {
                if let Ok(d) = std::fs::File::open(&self.root) {
                    let _ = d.sync_all();
                }
                Ok(Stored { delivery_id: self.delivery_id.clone(), dir, files, newly_stored: true })
            }
            // Another push of the same delivery won the race.
            Err(_) if dir.exists() => {
                let existing = stored_files(&dir)?.ok_or_else(|| DeliveryError::Storage(format!("{} appeared without a manifest", dir.display())))?;
                self.already(dir, existing)
            }
            Err(e) => Err(storage(&dir, e)),
        }
    }

    fn already(&self, dir: PathBuf, existing: Vec<StoredFile>) -> Result<Stored> {
        let same = existing.len() == self.announced.len()
            && self.announced.iter().all(|a| existing.iter().any(|e| e.name == a.name && e.rows == a.rows && e.content_sha256 == a.content_sha256));
        if !same {
            return Err(DeliveryError::Conflict(format!("delivery {} is stored already with other content", self.delivery_id)));
        }
        Ok(Stored { delivery_id: self.delivery_id.clone(), dir, files: existing, newly_stored: false })
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        if self.staging.exists() {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

#[derive(Deserialize)]
struct StoredHeader {
    files: Vec<StoredFile>,
}

/// The files of a stored delivery (`None`: no delivery there).
fn stored_files(dir: &Path) -> Result<Option<Vec<StoredFile>>> {
    let path = dir.join("manifest.json");
    let Ok(raw) = std::fs::read(&path) else { return Ok(None) };
    let h: StoredHeader = serde_json::from_slice(&raw).map_err(|e| DeliveryError::Conflict(format!("{}: {e}", path.display())))?;
    Ok(Some(h.files))
}

/// Store a whole delivery held in memory (the in-process path; the query service's `DoPut`
/// streams into [`Incoming`] the same way).
pub fn store(store: &Path, manifest_json: &[u8], tables: &[(&str, &RecordBatch)]) -> Result<Stored> {
    let mut incoming = Incoming::begin(store, manifest_json)?;
    for (name, batch) in tables {
        incoming.start_table(name, batch.schema())?;
        incoming.write(batch)?;
    }
    incoming.commit()
}

/// Remove staging directories of deliveries whose writer is gone (a process killed mid-push).
/// Called when a service that stores deliveries starts. Returns how many were removed.
pub fn clean_incoming(store: &Path) -> std::io::Result<usize> {
    Ok(remove_abandoned(&store.join("deliveries"), ".incoming-")?.len())
}

/// Remove the directories in `dir` named `<prefix><pid>-…` whose process is gone, and return
/// their names. Called at start-up, when nothing of this process is being written yet: a
/// directory with our own pid is an earlier incarnation's (a container's service is often pid 1
/// every time). Used for staged deliveries and staged production runs.
pub fn remove_abandoned(dir: &Path, prefix: &str) -> std::io::Result<Vec<String>> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(Vec::new()) };
    let mut removed = Vec::new();
    for e in entries {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(prefix) else { continue };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| p != std::process::id() && Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            std::fs::remove_dir_all(e.path())?;
            removed.push(name);
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Date32Array, Float64Array, Int32Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn table() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("pseudonym", DataType::Utf8, false),
            Field::new("year", DataType::Int32, true),
            Field::new("day", DataType::Date32, true),
            Field::new("amount", DataType::Float64, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["a", "b", "c"])),
                Arc::new(Int32Array::from(vec![Some(2018), None, Some(2020)])),
                Arc::new(Date32Array::from(vec![Some(1), Some(2), None])),
                Arc::new(Float64Array::from(vec![Some(1.5), None, Some(-0.0)])),
            ],
        )
        .expect("batch")
    }

    fn manifest(batch: &RecordBatch) -> Vec<u8> {
        let (rows, content) = ContentDigest::of(std::slice::from_ref(batch), batch.schema()).expect("digest");
        let mut m = serde_json::json!({
            "format": FORMAT, "delivery_id": "", "parameters": {"from_year": 2018, "to_year": 2020},
            "files": [{"name": "persons.parquet", "rows": rows, "content_sha256": content}],
        });
        seal(&mut m).expect("seals");
        serde_json::to_vec(&m).expect("json")
    }

    #[test]
    fn the_digest_ignores_batch_boundaries_and_sees_every_value() {
        let b = table();
        let whole = ContentDigest::of(std::slice::from_ref(&b), b.schema()).expect("digest");
        let split = ContentDigest::of(&[b.slice(0, 1), b.slice(1, 2)], b.schema()).expect("digest");
        assert_eq!(whole, split);
        assert_eq!(whole.0, 3);
        let other = RecordBatch::try_new(b.schema(), {
            let mut c = b.columns().to_vec();
            c[1] = Arc::new(Int32Array::from(vec![Some(2018), Some(0), Some(2020)]));
            c
        })
        .expect("batch");
        assert_ne!(ContentDigest::of(&[other], b.schema()).expect("digest").1, whole.1, "null and 0 differ");
    }

    #[test]
    fn stores_once_idempotently_and_refuses_what_does_not_match() {
        let dir = tempfile::tempdir().expect("tmp");
        let b = table();
        let json = manifest(&b);
        let s = store(dir.path(), &json, &[("persons", &b)]).expect("stores");
        assert!(s.newly_stored);
        assert_eq!(s.files[0].rows, 3);
        let written = std::fs::read(s.dir.join("persons.parquet")).expect("file");
        assert_eq!(hex::encode(Sha256::digest(&written)), s.files[0].sha256);
        // Again: acknowledged, nothing rewritten.
        let again = store(dir.path(), &json, &[("persons", &b)]).expect("idempotent");
        assert!(!again.newly_stored);
        assert_eq!(again.files, s.files);

        // Other rows under the manifest: refused, nothing left behind.
        let other = tempfile::tempdir().expect("tmp");
        let e = store(other.path(), &json, &[("persons", &b.slice(0, 2))]).expect_err("rows");
        assert!(matches!(e, DeliveryError::Mismatch(_)), "{e}");
        let e = store(other.path(), &json, &[]).expect_err("missing");
        assert!(e.to_string().contains("tables missing: persons.parquet"), "{e}");
        let mut tampered: serde_json::Value = serde_json::from_slice(&json).expect("json");
        tampered["parameters"]["to_year"] = serde_json::json!(2021);
        let e = store(other.path(), &serde_json::to_vec(&tampered).expect("json"), &[("persons", &b)]).expect_err("id");
        assert!(e.to_string().contains("is not its manifest's"), "{e}");
        let left: Vec<_> = std::fs::read_dir(other.path().join("deliveries")).expect("dir").collect();
        assert!(left.is_empty(), "nothing visible, no staging left");

        // An interrupted delivery (dropped mid-way) leaves nothing; a stale one is cleaned.
        let mut i = Incoming::begin(other.path(), &json).expect("begins");
        i.start_table("persons", b.schema()).expect("starts");
        i.write(&b.slice(0, 1)).expect("writes");
        drop(i);
        assert_eq!(std::fs::read_dir(other.path().join("deliveries")).expect("dir").count(), 0);
        std::fs::create_dir_all(other.path().join("deliveries/.incoming-4294967294-1-ab")).expect("mkdir");
        assert_eq!(clean_incoming(other.path()).expect("cleans"), 1);
    }
}
