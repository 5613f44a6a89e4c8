//! The registry's own store of validated extracts: validate once, restart in seconds, validate
//! an added month's file alone.
//!
//! A dataset's extract is a base file plus optional increments next to it
//! (`<name>.<label>.parquet|csv`, [`regstat_contract::source_paths`]). The accepted rows are
//! written, a batch at a time as they are validated, to the registry's state directory as **parts**:
//! `store/<name>.parquet` for the first load, `store/<name>.<k>.parquet` for the k-th increment
//! (the canonical schema plus the compact person key, Snappy, in row order), each with
//! `store/<name>[.<k>].seen`: the fingerprints and key hashes that load's duplicate checks added
//! (raw little-endian `u128`s and `u64`s). The stamp `store/<name>.json` lists the parts, every
//! extract file's report (path, SHA-256, reference date, read / accepted / quarantined per
//! reason), the quarantine file's length and the store format version.
//!
//! On the next start, with `F` the dataset's files now and `S` the files of the stamp:
//! - `F = S` (same paths and content hashes, read under the same reference dates): the parts are
//!   served **without validating a row** ([`Origin::Store`]): from disk, where only their
//!   footers are read at start ([`crate::held`]), or read whole into memory with
//!   [`Hold::Memory`];
//! - `S` a strict prefix of `F`: only the added files are validated, the stored rows are not
//!   read ([`Origin::Increment`]); their duplicates are judged against everything loaded before (the
//!   stored fingerprints seed the duplicate sets, so the first occurrence across all files is
//!   kept exactly as a load of every file in one pass), their quarantined rows are appended to
//!   the quarantine file, and one new part is written;
//! - anything else (a changed, removed or reordered file; another reference date or format
//!   preference; a damaged store; `personnummer_changes`, whose forks and cycles are judged over
//!   the whole extract; hashes from a build whose fixed-seed hashing differs): every file is
//!   validated again and the store rewritten ([`Origin::Validated`]).
//!
//! Files are written to a temporary name and renamed, the stamp last, so a crash leaves the old
//! store (an increment's part written but not in the stamp is overwritten next time, and the
//! quarantine file is cut back to the stamp's length before an increment appends to it) or none.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, RecordBatch, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use regstat_contract::{
    effective_reference_date, hash_canary, load_dataset, load_files, load_files_into, sha256_file, source_paths, Dataset, DatasetReport, FileReport,
    LoadError, LoadOptions, LoadedDataset, Seen,
};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::held::{Held, Hold, Stored, KEY_COLUMN};

/// Bumped whenever validation rules or the stored layout change: an older store is revalidated.
pub const STORE_VERSION: u32 = 3;

const SEEN_MAGIC: &[u8; 8] = b"RSSEEN01";

/// How a dataset came to be in memory at this start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Every row of every file was read and validated at this start.
    Validated,
    /// Read from the registry's store (validated at an earlier start, same files).
    Store,
    /// Read from the store, and `files` added extract files (`rows` rows) validated at this start.
    Increment { files: usize, rows: u64 },
}

impl Origin {
    /// Rows read and validated at this start.
    pub fn rows_validated(self, report: &DatasetReport) -> u64 {
        match self {
            Origin::Validated => report.rows_read,
            Origin::Store => 0,
            Origin::Increment { rows, .. } => rows,
        }
    }

    /// Extract files validated at this start.
    pub fn files_validated(self, report: &DatasetReport) -> usize {
        match self {
            Origin::Validated => report.files.len(),
            Origin::Store => 0,
            Origin::Increment { files, .. } => files,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Part {
    /// File name of the part's rows in the store directory (its `.seen` beside it).
    file: String,
    rows: u64,
    seen_rows: u64,
    seen_keys: u64,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Stamp {
    version: u32,
    dataset: String,
    /// [`hash_canary`] of the build that wrote the `.seen` files.
    hash_canary: u64,
    parts: Vec<Part>,
    files: Vec<FileReport>,
    quarantine_file: PathBuf,
    /// The quarantine file's length after the last load.
    quarantine_bytes: u64,
}

fn store_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("store")
}

fn stamp_path(state_dir: &Path, dataset: Dataset) -> PathBuf {
    store_dir(state_dir).join(format!("{}.json", dataset.name()))
}

fn part_name(dataset: Dataset, k: usize) -> String {
    if k == 0 {
        format!("{}.parquet", dataset.name())
    } else {
        format!("{}.{k}.parquet", dataset.name())
    }
}

fn seen_path(part: &Path) -> PathBuf {
    part.with_extension("seen")
}

fn io(file: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Internal(format!("registry store {}: {e}", file.display()))
}

/// What this start does with a dataset's files.
enum Plan {
    Store(Stamp),
    Increment(Stamp),
    Validate,
}

/// Load `dataset` from the store when its files are unchanged, validate only its added files
/// when the store holds the earlier ones, else validate every file (and store it). With
/// [`Hold::Store`] the dataset is then served from the store's parts on disk (nothing of it
/// stays in memory); with [`Hold::Memory`], or where it could not be stored, from memory.
pub fn load_or_validate(extracts_dir: &Path, dataset: Dataset, state_dir: &Path, opts: &LoadOptions, hold: Hold) -> Result<(Held, Origin)> {
    let quarantine = state_dir.join("quarantine");
    let paths = match source_paths(extracts_dir, dataset, opts.format) {
        Ok(p) => p,
        // An optional dataset without an extract: nothing to store.
        Err(LoadError::Missing { .. }) if dataset.optional() => {
            return Ok((Held::Memory(load_dataset(extracts_dir, dataset, &quarantine, opts)?), Origin::Validated))
        }
        Err(e) => return Err(e.into()),
    };
    let mut now = Vec::with_capacity(paths.len());
    for p in &paths {
        now.push((p.clone(), sha256_file(p)?, effective_reference_date(p, opts)?.to_string()));
    }
    let plan = match plan(state_dir, dataset, &now) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(dataset = dataset.name(), error = %e, "registry store unreadable: validating the extract again");
            Plan::Validate
        }
    };
    match plan {
        Plan::Store(stamp) => match serve(state_dir, dataset, &stamp, opts, hold).and_then(|d| cut_quarantine(&stamp.quarantine_file, stamp.quarantine_bytes).map(|_| d)) {
            Ok(d) => {
                tracing::info!(dataset = dataset.name(), rows = d.num_rows(), files = now.len(), on_disk = d.on_disk(), "extracts unchanged: read from the registry's store, not revalidated");
                return Ok((d, Origin::Store));
            }
            Err(e) => tracing::warn!(dataset = dataset.name(), error = %e, "registry store unreadable: validating the extract again"),
        },
        // The stored parts are checked before the added files are judged against them.
        Plan::Increment(stamp) => match open_parts(state_dir, dataset, &stamp, opts).and_then(|_| read_seen(state_dir, &stamp)) {
            Ok(seen) => return increment(state_dir, dataset, &quarantine, opts, &now, stamp, seen, hold),
            Err(e) => tracing::warn!(dataset = dataset.name(), error = %e, "registry store unreadable: validating every file again"),
        },
        Plan::Validate => {}
    }
    // Everything again: forget the old store first, so a crash cannot pair it with new files.
    let _ = std::fs::remove_file(stamp_path(state_dir, dataset));
    if let Some(held) = validate_and_store(&paths, dataset, state_dir, &quarantine, opts, &now, hold)? {
        return Ok((held, Origin::Validated));
    }
    // Not stored, and the rows went to the store as they were accepted: validated again, into
    // memory (a failed write; an extract changed while it was validated).
    let (loaded, _) = load_files(&paths, dataset, &quarantine, opts, None)?;
    Ok((Held::Memory(loaded), Origin::Validated))
}

/// Validate every file, each batch of accepted rows written to the store's first part as soon
/// as it is full (on the part writer's thread, while the next rows are checked), then the
/// duplicate hashes and the stamp. With [`Hold::Store`] no row is held in memory; with
/// [`Hold::Memory`] the batches are also kept and served. `None`: nothing could be served
/// (the store was not written and the rows were not held); the caller validates again.
fn validate_and_store(
    paths: &[PathBuf],
    dataset: Dataset,
    state_dir: &Path,
    quarantine: &Path,
    opts: &LoadOptions,
    now: &[(PathBuf, String, String)],
    hold: Hold,
) -> Result<Option<Held>> {
    let not_stored = |e: &Error| tracing::warn!(dataset = dataset.name(), error = %e, "could not write the registry's store: the next start validates again");
    let mut writer = PartWriter::create(state_dir, dataset, 0).map_err(|e| not_stored(&e)).ok();
    // Without a store to write to, the rows are held whatever the configuration.
    let keep = hold == Hold::Memory || writer.is_none();
    let (mut batches, mut person_keys) = (Vec::new(), Vec::new());
    let mut write_error: Option<Error> = None;
    let loaded = load_files_into(paths, dataset, quarantine, opts, None, &mut |b, k| {
        if let (Some(w), None) = (writer.as_mut(), &write_error) {
            if let Err(e) = w.write(&b, &k) {
                let file = w.path().to_path_buf();
                write_error = Some(e);
                if !keep {
                    // These rows are not held either: stop here.
                    return Err(LoadError::Io { file, source: std::io::Error::other("the registry's store could not be written") });
                }
            }
        }
        if keep {
            batches.push(b);
            person_keys.push(k);
        }
        Ok(())
    });
    if let Some(e) = &write_error {
        not_stored(e);
        writer = None; // its temporary file is removed
    }
    let (report, seen) = match loaded {
        Err(_) if write_error.is_some() && !keep => return Ok(None),
        other => other?,
    };
    let memory = move |report: DatasetReport| keep.then(|| Held::Memory(LoadedDataset { dataset, schema: dataset.schema(), batches, person_keys, report }));
    if !same_files(&report.files, now) {
        // A file changed while it was validated: store nothing; serve what was validated if
        // it is held, else the caller validates the files as they are now.
        tracing::warn!(dataset = dataset.name(), "extract changed while it was validated: not stored");
        return Ok(memory(report));
    }
    let Some(writer) = writer else { return Ok(memory(report)) };
    let stamp = writer
        .finish()
        .and_then(|part| write_seen(state_dir, part, &seen))
        .and_then(|part| write_stamp(state_dir, dataset, vec![part], &report));
    drop(seen);
    let stamp = match stamp {
        Ok(s) => s,
        Err(e) => {
            not_stored(&e);
            return Ok(memory(report));
        }
    };
    if hold == Hold::Memory {
        return Ok(memory(report));
    }
    // Served from the store from now on.
    match open_parts(state_dir, dataset, &stamp, opts) {
        Ok(s) => Ok(Some(Held::Stored(s))),
        Err(e) => {
            tracing::warn!(dataset = dataset.name(), error = %e, "the registry's store just written is unreadable: validating again into memory");
            let _ = std::fs::remove_file(stamp_path(state_dir, dataset));
            Ok(None)
        }
    }
}

/// The stored parts, served from disk or read into memory.
fn serve(state_dir: &Path, dataset: Dataset, stamp: &Stamp, opts: &LoadOptions, hold: Hold) -> Result<Held> {
    match hold {
        Hold::Store => Ok(Held::Stored(open_parts(state_dir, dataset, stamp, opts)?)),
        Hold::Memory => Ok(Held::Memory(read_parts(state_dir, dataset, stamp, opts)?)),
    }
}

/// Validate the files after the stamp's, against what the stored parts saw; store one part
/// more. The stored rows themselves are not read.
#[allow(clippy::too_many_arguments)]
fn increment(
    state_dir: &Path,
    dataset: Dataset,
    quarantine: &Path,
    opts: &LoadOptions,
    now: &[(PathBuf, String, String)],
    stamp: Stamp,
    seen: Seen,
    hold: Hold,
) -> Result<(Held, Origin)> {
    let added: Vec<PathBuf> = now[stamp.files.len()..].iter().map(|(p, _, _)| p.clone()).collect();
    // A crash after an earlier increment appended to the quarantine but before its stamp was
    // written: cut those rows away, this increment writes them again.
    cut_quarantine(&stamp.quarantine_file, stamp.quarantine_bytes)?;
    let (new, fresh) = load_files(&added, dataset, quarantine, opts, Some(&seen))?;
    drop(seen); // the duplicate sets were seeded from it
    let rows = new.report.rows_read;
    let origin = Origin::Increment { files: added.len(), rows };
    let mut files = stamp.files.clone();
    files.extend(new.report.files.iter().cloned());
    let report = DatasetReport::from_files(dataset, files, new.report.quarantine_file.clone())?;
    tracing::info!(dataset = dataset.name(), files = added.len(), rows_read = rows, rows_accepted = new.report.rows_accepted, "added extract files validated alone");
    let stored = if same_files(&new.report.files, &now[stamp.files.len()..]) {
        let mut parts = stamp.parts.clone();
        write_part(state_dir, dataset, stamp.parts.len(), &new.batches, &new.person_keys, &fresh)
            .and_then(|part| {
                parts.push(part);
                write_stamp(state_dir, dataset, parts, &report)
            })
            .map_err(|e| tracing::warn!(dataset = dataset.name(), error = %e, "could not write the registry's store: the next start validates the added files again"))
            .ok()
    } else {
        tracing::warn!(dataset = dataset.name(), "extract changed while it was validated: not stored");
        None
    };
    drop(fresh);
    if let Some(new_stamp) = &stored {
        if let Ok(d) = serve(state_dir, dataset, new_stamp, opts, hold) {
            return Ok((d, origin));
        }
    }
    // Not stored: the earlier parts and the added rows in memory.
    let LoadedDataset { schema, mut batches, mut person_keys, .. } = read_parts(state_dir, dataset, &stamp, opts)?;
    batches.extend(new.batches);
    person_keys.extend(new.person_keys);
    Ok((Held::Memory(LoadedDataset { dataset, schema, batches, person_keys, report }), origin))
}

/// Cut the quarantine file back to the length a stamp recorded (rows appended by a load whose
/// stamp was never written).
fn cut_quarantine(path: &Path, len: u64) -> Result<()> {
    let f = std::fs::OpenOptions::new().write(true).open(path).map_err(io(path))?;
    if f.metadata().map_err(io(path))?.len() > len {
        f.set_len(len).map_err(io(path))?;
    }
    Ok(())
}

fn same_files(files: &[FileReport], now: &[(PathBuf, String, String)]) -> bool {
    files.len() == now.len() && files.iter().zip(now).all(|(f, (p, sha, reference))| &f.file == p && &f.sha256 == sha && &f.reference_date == reference)
}

fn plan(state_dir: &Path, dataset: Dataset, now: &[(PathBuf, String, String)]) -> Result<Plan> {
    let Ok(text) = std::fs::read_to_string(stamp_path(state_dir, dataset)) else {
        return Ok(Plan::Validate);
    };
    let stamp: Stamp = serde_json::from_str(&text).map_err(|e| Error::Internal(format!("store stamp: {e}")))?;
    let quarantine_ok = std::fs::metadata(&stamp.quarantine_file).is_ok_and(|m| m.len() >= stamp.quarantine_bytes);
    if stamp.version != STORE_VERSION || stamp.dataset != dataset.name() || !quarantine_ok || stamp.files.is_empty() {
        return Ok(Plan::Validate);
    }
    let n = stamp.files.len();
    if n > now.len() || !same_files(&stamp.files, &now[..n]) {
        return Ok(Plan::Validate);
    }
    if n == now.len() {
        return Ok(Plan::Store(stamp));
    }
    // Forks and cycles of personnummer changes are judged over the whole extract.
    if dataset == Dataset::PersonnummerChanges || stamp.hash_canary != hash_canary() {
        return Ok(Plan::Validate);
    }
    Ok(Plan::Increment(stamp))
}

fn read_parts(state_dir: &Path, dataset: Dataset, stamp: &Stamp, opts: &LoadOptions) -> Result<LoadedDataset> {
    let schema = dataset.schema();
    let (mut batches, mut person_keys) = (Vec::new(), Vec::new());
    for part in &stamp.parts {
        let path = store_dir(state_dir).join(&part.file);
        let file = File::open(&path).map_err(io(&path))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)?.with_batch_size(opts.batch_rows.max(1)).build()?;
        let mut rows = 0u64;
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
            rows += b.num_rows() as u64;
            batches.push(RecordBatch::try_new(schema.clone(), columns)?);
            person_keys.push(keys);
        }
        if rows != part.rows {
            return Err(Error::Internal(format!("store part {} holds {rows} rows, its stamp {}", part.file, part.rows)));
        }
    }
    let report = DatasetReport::from_files(dataset, stamp.files.clone(), stamp.quarantine_file.clone())?;
    let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
    if rows != report.rows_accepted {
        return Err(Error::Internal(format!("store holds {rows} rows, its files' reports {}", report.rows_accepted)));
    }
    Ok(LoadedDataset { dataset, schema, batches, person_keys, report })
}

/// The stored parts as a dataset served from disk, after checking each part's row count and
/// columns against the stamp (its metadata only: no row is read).
fn open_parts(state_dir: &Path, dataset: Dataset, stamp: &Stamp, opts: &LoadOptions) -> Result<Stored> {
    let schema = dataset.schema();
    let (mut parts, mut rows, mut bytes) = (Vec::new(), 0u64, 0u64);
    for part in &stamp.parts {
        let path = store_dir(state_dir).join(&part.file);
        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).map_err(io(&path))?)?;
        let n = builder.metadata().file_metadata().num_rows() as u64;
        if n != part.rows {
            return Err(Error::Internal(format!("store part {} holds {n} rows, its stamp {}", part.file, part.rows)));
        }
        for f in schema.fields().iter().chain([&Arc::new(Field::new(KEY_COLUMN, DataType::UInt64, false))]) {
            let ok = builder.schema().field_with_name(f.name()).is_ok_and(|g| g.data_type() == f.data_type());
            if !ok {
                return Err(Error::Internal(format!("store part {} lacks column {} of its type", part.file, f.name())));
            }
        }
        bytes += builder.metadata().row_groups().iter().map(|g| g.total_byte_size() as u64).sum::<u64>();
        rows += n;
        parts.push(path);
    }
    let report = DatasetReport::from_files(dataset, stamp.files.clone(), stamp.quarantine_file.clone())?;
    if rows != report.rows_accepted {
        return Err(Error::Internal(format!("store holds {rows} rows, its files' reports {}", report.rows_accepted)));
    }
    Ok(Stored { dataset, schema, parts, rows, bytes, report, batch_rows: opts.batch_rows })
}

fn read_seen(state_dir: &Path, stamp: &Stamp) -> Result<Seen> {
    let mut rows = Vec::with_capacity(stamp.parts.iter().map(|p| p.seen_rows as usize).sum());
    let mut keys = Vec::with_capacity(stamp.parts.iter().map(|p| p.seen_keys as usize).sum());
    for part in &stamp.parts {
        let path = seen_path(&store_dir(state_dir).join(&part.file));
        let mut r = BufReader::with_capacity(1 << 20, File::open(&path).map_err(io(&path))?);
        let mut head = [0u8; 24];
        r.read_exact(&mut head).map_err(io(&path))?;
        let word = |i: usize| u64::from_le_bytes(head[i..i + 8].try_into().unwrap_or_default());
        if &head[..8] != SEEN_MAGIC || word(8) != part.seen_rows || word(16) != part.seen_keys {
            return Err(Error::Internal(format!("{}: not the duplicate hashes its stamp names", path.display())));
        }
        let mut buf = [0u8; 16];
        for _ in 0..part.seen_rows {
            r.read_exact(&mut buf).map_err(io(&path))?;
            rows.push(u128::from_le_bytes(buf));
        }
        let mut buf = [0u8; 8];
        for _ in 0..part.seen_keys {
            r.read_exact(&mut buf).map_err(io(&path))?;
            keys.push(u64::from_le_bytes(buf));
        }
        if r.read(&mut buf).map_err(io(&path))? != 0 {
            return Err(Error::Internal(format!("{}: longer than its stamp says", path.display())));
        }
    }
    Ok(Seen::from_lists(rows, keys))
}

/// Write part `k`: its rows (with the person keys) and what its duplicate checks added.
fn write_part(state_dir: &Path, dataset: Dataset, k: usize, batches: &[RecordBatch], keys: &[UInt64Array], seen: &Seen) -> Result<Part> {
    let mut writer = PartWriter::create(state_dir, dataset, k)?;
    for (b, keys) in batches.iter().zip(keys) {
        writer.write(b, keys)?;
    }
    let part = writer.finish()?;
    write_seen(state_dir, part, seen)
}

/// A store part being written: batches go over a channel of 4 to a thread that encodes them
/// (Parquet, Snappy, row groups of 1 Mi rows) into a temporary file, renamed by
/// [`PartWriter::finish`]; dropped unfinished, the temporary file is removed.
struct PartWriter {
    name: String,
    data: PathBuf,
    tmp: PathBuf,
    schema: Arc<Schema>,
    rows: u64,
    tx: Option<std::sync::mpsc::SyncSender<RecordBatch>>,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
}

impl PartWriter {
    fn create(state_dir: &Path, dataset: Dataset, k: usize) -> Result<Self> {
        let dir = store_dir(state_dir);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let name = part_name(dataset, k);
        let data = dir.join(&name);
        let mut fields: Vec<Field> = dataset.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(Field::new(KEY_COLUMN, DataType::UInt64, false));
        let schema = Arc::new(Schema::new(fields));
        let tmp = data.with_extension("parquet.tmp");
        let file = File::create(&tmp).map_err(io(&tmp))?;
        // No min/max statistics: nothing prunes by them (a cohort spreads over every row group),
        // and for the text columns they cost two comparisons per value.
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(1 << 20))
            .set_statistics_enabled(EnabledStatistics::None)
            .build();
        let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props))?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<RecordBatch>(4);
        let thread = std::thread::Builder::new()
            .name("store-part-writer".into())
            .spawn(move || -> Result<()> {
                for batch in rx {
                    writer.write(&batch)?;
                }
                writer.close()?;
                Ok(())
            })
            .map_err(io(&tmp))?;
        Ok(PartWriter { name, data, tmp, schema, rows: 0, tx: Some(tx), thread: Some(thread) })
    }

    fn path(&self) -> &Path {
        &self.tmp
    }

    /// Queue a batch (waits while 4 are queued). A failed write is reported here or by
    /// [`PartWriter::finish`].
    fn write(&mut self, batch: &RecordBatch, keys: &UInt64Array) -> Result<()> {
        let mut columns = batch.columns().to_vec();
        columns.push(Arc::new(keys.clone()));
        let batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        self.rows += batch.num_rows() as u64;
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(batch).is_ok());
        if !sent {
            // The thread stopped on an error: that error.
            self.tx = None;
            return Err(self.join().err().unwrap_or_else(|| Error::Internal("the store's part writer stopped".into())));
        }
        Ok(())
    }

    fn join(&mut self) -> Result<()> {
        self.tx = None;
        match self.thread.take() {
            Some(t) => t.join().unwrap_or_else(|_| Err(Error::Internal("the store's part writer panicked".into()))),
            None => Ok(()),
        }
    }

    /// Every batch written and the file closed and renamed into place: the part, its
    /// duplicate hashes still to be written ([`write_seen`]).
    fn finish(mut self) -> Result<Part> {
        self.join()?;
        std::fs::rename(&self.tmp, &self.data).map_err(io(&self.data))?;
        Ok(Part { file: std::mem::take(&mut self.name), rows: self.rows, seen_rows: 0, seen_keys: 0 })
    }
}

impl Drop for PartWriter {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.join();
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Write what a part's duplicate checks added beside it (straight from the duplicate sets
/// after a whole load: no copy of them is made).
fn write_seen(state_dir: &Path, mut part: Part, seen: &Seen) -> Result<Part> {
    let path = seen_path(&store_dir(state_dir).join(&part.file));
    let tmp = path.with_extension("seen.tmp");
    let (rows, keys) = (seen.rows_len() as u64, seen.keys_len() as u64);
    let fill = |w: &mut dyn Write| -> std::io::Result<()> {
        w.write_all(SEEN_MAGIC)?;
        w.write_all(&rows.to_le_bytes())?;
        w.write_all(&keys.to_le_bytes())?;
        for f in seen.rows() {
            w.write_all(&f.to_le_bytes())?;
        }
        for k in seen.keys() {
            w.write_all(&k.to_le_bytes())?;
        }
        Ok(())
    };
    // Past the page cache where the file system allows it: the file is gigabytes at national
    // scale, only read again by an increment, and copying it into fresh page-cache pages was a
    // quarter of a first start on a VM whose first touch of memory is slow.
    let direct = DirectWriter::create(&tmp).and_then(|mut w| {
        fill(&mut w)?;
        w.finish()
    });
    if let Err(e) = direct {
        tracing::debug!(error = %e, "duplicate hashes written through the page cache");
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&tmp).map_err(io(&tmp))?);
        fill(&mut w).map_err(io(&tmp))?;
        w.into_inner().map_err(|e| io(&tmp)(e.into_error()))?.sync_all().map_err(io(&tmp))?;
    }
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    part.seen_rows = rows;
    part.seen_keys = keys;
    Ok(part)
}

/// A file written with `O_DIRECT` (Linux): whole aligned blocks from an aligned buffer, the
/// last one padded and the file cut back to its length.
struct DirectWriter {
    file: File,
    buf: Vec<u8>,
    /// Where the aligned part of `buf` starts, and how much of it is filled.
    start: usize,
    filled: usize,
    written: u64,
}

const DIRECT_BLOCK: usize = 4096;
const DIRECT_BUF: usize = 1 << 20;

impl DirectWriter {
    fn create(path: &Path) -> std::io::Result<Self> {
        #[cfg(target_os = "linux")]
        let file = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).custom_flags(libc::O_DIRECT).open(path)?
        };
        #[cfg(not(target_os = "linux"))]
        let file: File = return Err(std::io::Error::other(format!("{}: no O_DIRECT here", path.display())));
        let buf = vec![0u8; DIRECT_BUF + DIRECT_BLOCK];
        let start = (DIRECT_BLOCK - buf.as_ptr() as usize % DIRECT_BLOCK) % DIRECT_BLOCK;
        Ok(DirectWriter { file, buf, start, filled: 0, written: 0 })
    }

    fn flush_blocks(&mut self, len: usize) -> std::io::Result<()> {
        self.file.write_all(&self.buf[self.start..self.start + len])?;
        Ok(())
    }

    /// The rest written, the file cut to its length and synced.
    fn finish(mut self) -> std::io::Result<()> {
        let len = self.filled;
        let padded = len.div_ceil(DIRECT_BLOCK) * DIRECT_BLOCK;
        self.buf[self.start + len..self.start + padded].fill(0);
        self.flush_blocks(padded)?;
        self.written += len as u64;
        self.file.set_len(self.written)?;
        self.file.sync_all()
    }
}

impl Write for DirectWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let n = data.len().min(DIRECT_BUF - self.filled);
        self.buf[self.start + self.filled..self.start + self.filled + n].copy_from_slice(&data[..n]);
        self.filled += n;
        if self.filled == DIRECT_BUF {
            self.flush_blocks(DIRECT_BUF)?;
            self.written += DIRECT_BUF as u64;
            self.filled = 0;
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn write_stamp(state_dir: &Path, dataset: Dataset, parts: Vec<Part>, report: &DatasetReport) -> Result<Stamp> {
    let path = stamp_path(state_dir, dataset);
    let quarantine_bytes = std::fs::metadata(&report.quarantine_file).map_err(io(&report.quarantine_file))?.len();
    let stamp = Stamp {
        version: STORE_VERSION,
        dataset: dataset.name().to_string(),
        hash_canary: hash_canary(),
        parts,
        files: report.files.clone(),
        quarantine_file: report.quarantine_file.clone(),
        quarantine_bytes,
    };
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&stamp).map_err(|e| Error::Internal(e.to_string()))?).map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    Ok(stamp)
}
