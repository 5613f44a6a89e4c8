//! Loading an extract (CSV or Parquet) into validated Arrow record batches, with every rejected
//! row written to a quarantine file. Counts reconcile: read = accepted + quarantined.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ahash::RandomState;
use arrow::array::{
    ArrayRef, BooleanArray, BooleanBuilder, Date32Array, Date32Builder, Float64Array, Float64Builder,
    Int32Builder, Int64Array, Int64Builder, RecordBatch, StringArray, StringBuilder, UInt64Array,
    UInt64Builder,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, SchemaRef};
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{LoadError, Result};
use crate::validate::{check_row, Cell, Defect, Reason, Row, Valid};
use crate::Dataset;

/// Which file to read when a directory holds both forms of an extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormatPreference {
    /// Parquet if present, else CSV.
    #[default]
    Auto,
    Csv,
    Parquet,
}

impl std::str::FromStr for FormatPreference {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "csv" => Ok(Self::Csv),
            "parquet" => Ok(Self::Parquet),
            _ => Err(format!("unknown format `{s}` (auto, csv, parquet)")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Reference date for the century of 10-digit personnummer. `None`: the extract's date,
    /// i.e. the source file's modification date.
    pub reference_date: Option<NaiveDate>,
    pub format: FormatPreference,
    /// Accepted rows per output record batch.
    pub batch_rows: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { reference_date: None, format: FormatPreference::Auto, batch_rows: 64 * 1024 }
    }
}

/// The reconciliation of one dataset's load.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DatasetReport {
    pub dataset: String,
    pub source_file: PathBuf,
    pub source_format: &'static str,
    pub source_sha256: String,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_quarantined: u64,
    /// Quarantined rows per reason code.
    pub reasons: BTreeMap<&'static str, u64>,
    pub quarantine_file: PathBuf,
    /// Per extract file, in load order: the base extract, then its increments
    /// ([`source_paths`]). The totals above are their sums.
    pub files: Vec<FileReport>,
}

/// The reconciliation of one extract file of a dataset (read = accepted + quarantined).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct FileReport {
    pub file: PathBuf,
    pub format: String,
    pub sha256: String,
    /// ISO date: the reference date for 10-digit personnummer this file was read under.
    pub reference_date: String,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_quarantined: u64,
    pub reasons: BTreeMap<String, u64>,
}

impl DatasetReport {
    /// The report of a dataset made of `files` (in load order). The content hash is the file's
    /// own for a single extract, else the SHA-256 of every file's name and hash in order.
    pub fn from_files(dataset: Dataset, files: Vec<FileReport>, quarantine_file: PathBuf) -> Result<Self> {
        let mut reasons: BTreeMap<&'static str, u64> = BTreeMap::new();
        for f in &files {
            for (code, n) in &f.reasons {
                let reason = Reason::from_code(code).ok_or_else(|| LoadError::Unreadable {
                    file: f.file.clone(),
                    format: "load report",
                    reason: format!("unknown reason {code}"),
                })?;
                *reasons.entry(reason.code()).or_default() += n;
            }
        }
        let first = files.first();
        Ok(DatasetReport {
            dataset: dataset.name().into(),
            source_file: first.map_or_else(PathBuf::new, |f| f.file.clone()),
            source_format: match first.map(|f| f.format.as_str()) {
                Some("parquet") => "parquet",
                Some("csv") => "csv",
                _ => "absent",
            },
            source_sha256: combined_sha256(&files),
            rows_read: files.iter().map(|f| f.rows_read).sum(),
            rows_accepted: files.iter().map(|f| f.rows_accepted).sum(),
            rows_quarantined: files.iter().map(|f| f.rows_quarantined).sum(),
            reasons,
            quarantine_file,
            files,
        })
    }
}

/// The content hash of a dataset's files: a single file's own SHA-256, else the SHA-256 of
/// `name<TAB>sha256<LF>` for every file in load order (so an added, removed, reordered or
/// changed increment changes it).
pub fn combined_sha256(files: &[FileReport]) -> String {
    match files {
        [] => String::new(),
        [one] => one.sha256.clone(),
        many => {
            let mut h = Sha256::new();
            for f in many {
                let name = f.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                h.update(format!("{name}\t{}\n", f.sha256).as_bytes());
            }
            hex::encode(h.finalize())
        }
    }
}

/// What the duplicate checks of a load have seen: the fingerprint of every valid row and the
/// key hash of every row kept. A registry keeps it beside its store so that an increment's rows
/// are judged against everything loaded before without reading those rows again. The hashes are
/// only comparable under the same [`hash_canary`].
///
/// A whole load's hashes are handed over as the duplicate sets themselves (no copy: at national
/// scale they are gigabytes), an increment's as the lists of what it added.
#[derive(Debug, Clone)]
pub struct Seen(SeenInner);

#[derive(Debug, Clone)]
enum SeenInner {
    Lists { rows: Vec<u128>, keys: Vec<u64> },
    Sets { rows: Vec<FingerprintSet<u128>>, keys: Vec<FingerprintSet<u64>> },
}

impl Default for Seen {
    fn default() -> Self {
        Seen::from_lists(Vec::new(), Vec::new())
    }
}

impl Seen {
    /// Hashes read back from where an earlier load's were stored.
    pub fn from_lists(rows: Vec<u128>, keys: Vec<u64>) -> Self {
        Seen(SeenInner::Lists { rows, keys })
    }
    /// Number of row fingerprints.
    pub fn rows_len(&self) -> usize {
        match &self.0 {
            SeenInner::Lists { rows, .. } => rows.len(),
            SeenInner::Sets { rows, .. } => rows.iter().map(FingerprintSet::len).sum(),
        }
    }
    /// Number of key hashes.
    pub fn keys_len(&self) -> usize {
        match &self.0 {
            SeenInner::Lists { keys, .. } => keys.len(),
            SeenInner::Sets { keys, .. } => keys.iter().map(FingerprintSet::len).sum(),
        }
    }
    /// The row fingerprints (in no particular order).
    pub fn rows(&self) -> Box<dyn Iterator<Item = u128> + '_> {
        match &self.0 {
            SeenInner::Lists { rows, .. } => Box::new(rows.iter().copied()),
            SeenInner::Sets { rows, .. } => Box::new(rows.iter().flat_map(FingerprintSet::iter)),
        }
    }
    /// The key hashes (in no particular order).
    pub fn keys(&self) -> Box<dyn Iterator<Item = u64> + '_> {
        match &self.0 {
            SeenInner::Lists { keys, .. } => Box::new(keys.iter().copied()),
            SeenInner::Sets { keys, .. } => Box::new(keys.iter().flat_map(FingerprintSet::iter)),
        }
    }
}

type FingerprintSet<T> = crate::fpset::FpSet<T>;

/// A value of the load's fixed-seed hashes: stored beside [`Seen`], a different value (another
/// build or CPU's hash implementation) means the stored hashes cannot be reused.
pub fn hash_canary() -> u64 {
    RandomState::with_seeds(1, 2, 3, 4).hash_one(0x5eed_cafe_u64) ^ RandomState::with_seeds(13, 14, 15, 16).hash_one(42u64)
}

/// A validated dataset in the canonical schema, plus each row's person as a compact key
/// (`Pnr::as_u64`, parallel to `batches`) for semi-joins. The keys are never served.
#[derive(Debug, Clone)]
pub struct LoadedDataset {
    pub dataset: Dataset,
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub person_keys: Vec<UInt64Array>,
    pub report: DatasetReport,
}

impl LoadedDataset {
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
    pub fn num_bytes(&self) -> usize {
        self.batches.iter().map(RecordBatch::get_array_memory_size).sum()
    }
}

/// The source file of `dataset` in `dir` for a format preference.
pub fn source_path(dir: &Path, dataset: Dataset, format: FormatPreference) -> Result<PathBuf> {
    let pq = dir.join(format!("{}.parquet", dataset.name()));
    let csv = dir.join(format!("{}.csv", dataset.name()));
    let pick = match format {
        FormatPreference::Parquet => pq.exists().then_some(pq),
        FormatPreference::Csv => csv.exists().then_some(csv),
        FormatPreference::Auto => {
            if pq.exists() {
                Some(pq)
            } else {
                csv.exists().then_some(csv)
            }
        }
    };
    pick.ok_or_else(|| LoadError::Missing { dataset: dataset.name().into(), dir: dir.to_path_buf() })
}

/// Every extract file of `dataset` in `dir`, in load order: the base extract
/// ([`source_path`]), then its increments `<name>.<label>.parquet|csv` (e.g.
/// `interventions.2024-02.parquet`) in the order of their labels, each label in the preferred
/// format. An increment without a base extract is an error.
pub fn source_paths(dir: &Path, dataset: Dataset, format: FormatPreference) -> Result<Vec<PathBuf>> {
    let name = dataset.name();
    let mut labels: BTreeMap<String, (Option<PathBuf>, Option<PathBuf>)> = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let file = e.file_name();
            let Some(file) = file.to_str() else { continue };
            let Some(rest) = file.strip_prefix(name).and_then(|r| r.strip_prefix('.')) else { continue };
            let (label, pq) = if let Some(l) = rest.strip_suffix(".parquet") {
                (l, true)
            } else if let Some(l) = rest.strip_suffix(".csv") {
                (l, false)
            } else {
                continue;
            };
            if label.is_empty() || label.contains('.') || !e.path().is_file() {
                continue;
            }
            let slot = labels.entry(label.to_string()).or_default();
            if pq {
                slot.0 = Some(e.path());
            } else {
                slot.1 = Some(e.path());
            }
        }
    }
    let base = match source_path(dir, dataset, format) {
        Ok(p) => p,
        Err(e) if labels.is_empty() => return Err(e),
        Err(_) => {
            return Err(LoadError::Unreadable {
                file: dir.to_path_buf(),
                format: "extract",
                reason: format!("increments of {name} without a base extract {name}.parquet or {name}.csv"),
            })
        }
    };
    let mut out = vec![base];
    for (_, (pq, csv)) in labels {
        let pick = match format {
            FormatPreference::Csv => csv.or(pq),
            _ => pq.or(csv),
        };
        out.extend(pick);
    }
    Ok(out)
}

/// Load, validate and quarantine one dataset from `dir` (`<name>.parquet` / `<name>.csv`).
/// The quarantine file is `quarantine_dir/<name>.quarantine.csv` (always written, header only
/// when nothing was rejected).
pub fn load_dataset(
    dir: &Path,
    dataset: Dataset,
    quarantine_dir: &Path,
    opts: &LoadOptions,
) -> Result<LoadedDataset> {
    let paths = match source_paths(dir, dataset, opts.format) {
        Err(LoadError::Missing { .. }) if dataset.optional() => return empty_dataset(dir, dataset, quarantine_dir),
        other => other?,
    };
    Ok(load_files(&paths, dataset, quarantine_dir, opts, None)?.0)
}

/// An optional dataset whose extract is absent: no rows, reported as such (source format
/// `absent`, no hash), with an empty quarantine file like every other load.
fn empty_dataset(dir: &Path, dataset: Dataset, quarantine_dir: &Path) -> Result<LoadedDataset> {
    std::fs::create_dir_all(quarantine_dir)
        .map_err(|source| LoadError::Io { file: quarantine_dir.to_path_buf(), source })?;
    let qpath = quarantine_dir.join(format!("{}.quarantine.csv", dataset.name()));
    let source = dir.join(format!("{}.csv", dataset.name()));
    let mut nothing = |_: RecordBatch, _: UInt64Array| -> Result<()> { Ok(()) };
    let sink = Sink::new(dataset, &qpath, 1, false, &mut nothing)?;
    tracing::info!(dataset = dataset.name(), "no extract: an optional dataset, loaded as empty");
    let (mut report, _) = sink.finish()?;
    report.source_file = source;
    Ok(LoadedDataset { dataset, schema: dataset.schema(), batches: Vec::new(), person_keys: Vec::new(), report })
}

/// Load one file (format from its extension). Rows are checked on every core
/// ([`par_map`]); the result is the same as a load on one thread.
pub fn load_file(
    path: &Path,
    dataset: Dataset,
    quarantine_dir: &Path,
    opts: &LoadOptions,
) -> Result<LoadedDataset> {
    load_file_threads(path, dataset, quarantine_dir, opts, std::thread::available_parallelism().map_or(1, |n| n.get()).min(16))
}

/// [`load_file`] with the checks on `threads` threads (1: the sequential load, for comparison;
/// the result is the same for every count).
pub fn load_file_threads(path: &Path, dataset: Dataset, quarantine_dir: &Path, opts: &LoadOptions, threads: usize) -> Result<LoadedDataset> {
    Ok(load_files_threads(&[path.to_path_buf()], dataset, quarantine_dir, opts, None, threads)?.0)
}

/// Load the extract files of one dataset in order ([`source_paths`]) as one sequence: row
/// numbers count within each file, and the first occurrence of a row or key across all of them
/// is the one kept. With `earlier`, the files are an increment of a dataset loaded before: its
/// duplicate checks start from what that load saw, and the quarantine file is appended to
/// instead of replaced. Returns the rows and report of these files, and what the duplicate
/// checks saw (including `earlier`).
pub fn load_files(paths: &[PathBuf], dataset: Dataset, quarantine_dir: &Path, opts: &LoadOptions, earlier: Option<&Seen>) -> Result<(LoadedDataset, Seen)> {
    load_files_threads(paths, dataset, quarantine_dir, opts, earlier, default_threads())
}

/// [`load_files`] handing each batch of accepted rows (`opts.batch_rows`, in row order, with
/// their person keys) to `out` as soon as it is full instead of holding them: a registry
/// writes them to its store while the rows after them are still being checked, so a load's
/// memory is its duplicate sets, not the register. Returns the report and what the duplicate
/// checks saw.
pub fn load_files_into(
    paths: &[PathBuf],
    dataset: Dataset,
    quarantine_dir: &Path,
    opts: &LoadOptions,
    earlier: Option<&Seen>,
    out: &mut BatchOut<'_>,
) -> Result<(DatasetReport, Seen)> {
    run_load(paths, dataset, quarantine_dir, opts, earlier, default_threads(), out)
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(16)
}

fn load_files_threads(
    paths: &[PathBuf],
    dataset: Dataset,
    quarantine_dir: &Path,
    opts: &LoadOptions,
    earlier: Option<&Seen>,
    threads: usize,
) -> Result<(LoadedDataset, Seen)> {
    let (mut batches, mut person_keys) = (Vec::new(), Vec::new());
    let mut hold = |b: RecordBatch, k: UInt64Array| -> Result<()> {
        batches.push(b);
        person_keys.push(k);
        Ok(())
    };
    let (report, seen) = run_load(paths, dataset, quarantine_dir, opts, earlier, threads, &mut hold)?;
    Ok((LoadedDataset { dataset, schema: dataset.schema(), batches, person_keys, report }, seen))
}

fn run_load(
    paths: &[PathBuf],
    dataset: Dataset,
    quarantine_dir: &Path,
    opts: &LoadOptions,
    earlier: Option<&Seen>,
    threads: usize,
    out: &mut BatchOut<'_>,
) -> Result<(DatasetReport, Seen)> {
    std::fs::create_dir_all(quarantine_dir)
        .map_err(|source| LoadError::Io { file: quarantine_dir.to_path_buf(), source })?;
    let qpath = quarantine_dir.join(format!("{}.quarantine.csv", dataset.name()));
    let mut sink = Sink::new(dataset, &qpath, opts.batch_rows, earlier.is_some(), out)?;
    sink.set_threads(threads);
    if let Some(seen) = earlier {
        sink.seed(seen);
    }
    for path in paths {
        let reference = effective_reference_date(path, opts)?;
        let is_parquet = path.extension().is_some_and(|e| e == "parquet");
        sink.begin_file(path, reference, if is_parquet { "parquet" } else { "csv" });
        if is_parquet {
            read_parquet(path, dataset, &mut sink)?;
        } else {
            read_csv(path, dataset, &mut sink)?;
        }
        let sha = sha256_file(path)?;
        sink.end_file(sha);
    }
    sink.finish()
}

/// The reference date for the century of 10-digit personnummer in `path`: the configured one,
/// else the extract's date (the file's modification date).
pub fn effective_reference_date(path: &Path, opts: &LoadOptions) -> Result<NaiveDate> {
    match opts.reference_date {
        Some(d) => Ok(d),
        None => {
            let modified = std::fs::metadata(path)
                .and_then(|m| m.modified())
                .map_err(|source| LoadError::Io { file: path.to_path_buf(), source })?;
            Ok(chrono::DateTime::<chrono::Utc>::from(modified).date_naive())
        }
    }
}

/// Hex SHA-256 of a file's bytes (the extract's content hash in load reports).
pub fn sha256_file(path: &Path) -> Result<String> {
    let io = |source| LoadError::Io { file: path.to_path_buf(), source };
    let mut f = BufReader::with_capacity(1 << 20, File::open(path).map_err(io)?);
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

// ---------------------------------------------------------------------------------------------
// Sources

struct CsvRow<'a> {
    fields: &'a [Option<&'a str>],
}

impl Row for CsvRow<'_> {
    fn cell(&self, column: usize) -> Cell<'_> {
        match self.fields[column] {
            Some(s) if !s.is_empty() => Cell::Text(s),
            _ => Cell::Null,
        }
    }
}

fn read_csv(path: &Path, dataset: Dataset, sink: &mut Sink) -> Result<()> {
    let unreadable = |e: csv::Error| LoadError::Unreadable {
        file: path.to_path_buf(),
        format: "CSV",
        reason: match e.kind() {
            csv::ErrorKind::Io(io) => io.to_string(),
            _ => "malformed CSV".to_string(),
        },
    };
    let file = File::open(path).map_err(|source| LoadError::Io { file: path.to_path_buf(), source })?;
    let file_len = file.metadata().map_err(|source| LoadError::Io { file: path.to_path_buf(), source })?.len();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(file);
    let header = rdr.byte_headers().map_err(unreadable)?.clone();
    let schema = dataset.schema();
    let mut index = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let pos = header.iter().position(|h| h == field.name().as_bytes()).ok_or_else(|| {
            LoadError::MissingColumn { file: path.to_path_buf(), column: field.name().clone() }
        })?;
        index.push(pos);
    }
    let width = header.len();
    let ncols = index.len();
    // A reader thread parses chunks of records while the rows before them are checked (on every
    // core) and applied in order.
    let checker = sink.checker();
    std::thread::scope(|scope| -> Result<()> {
        // Chunks go back to the reader to be refilled: a record keeps its allocation.
        let (tx, rx) = std::sync::mpsc::sync_channel::<std::result::Result<(Vec<csv::ByteRecord>, usize, u64), csv::Error>>(2);
        let (pool_tx, pool_rx) = std::sync::mpsc::channel::<Vec<csv::ByteRecord>>();
        let reader = scope.spawn(move || loop {
            let mut chunk = pool_rx.try_recv().unwrap_or_default();
            let mut n = 0;
            let more = loop {
                if n == chunk.len() {
                    chunk.push(csv::ByteRecord::new());
                }
                match rdr.read_byte_record(&mut chunk[n]) {
                    Ok(true) => {
                        n += 1;
                        if n == CHUNK_ROWS {
                            break true;
                        }
                    }
                    Ok(false) => break false,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            };
            if n > 0 && tx.send(Ok((chunk, n, rdr.position().byte()))).is_err() {
                return;
            }
            if !more {
                return;
            }
        });
        let mut row_number = 0u64;
        let mut result = Ok(());
        for chunk in rx.iter() {
            let (buffer, n, offset) = match chunk {
                Ok(c) => c,
                Err(e) => {
                    result = Err(unreadable(e));
                    break;
                }
            };
            if row_number == 0 && n == CHUNK_ROWS && offset > 0 {
                // The file's rows estimated from the first chunk's bytes per row.
                sink.expect_rows((file_len as f64 / offset as f64 * n as f64) as u64);
            }
            let chunk = &buffer[..n];
            // At most 9 contract columns per dataset.
            let fields: Vec<std::result::Result<[Option<&str>; 9], Defect>> = par_map(sink.threads, chunk, |rec| {
                if rec.len() != width {
                    return Err(Defect::new(Reason::MalformedRow, "", "wrong number of fields"));
                }
                let mut fields: [Option<&str>; 9] = [None; 9];
                for (slot, &i) in fields.iter_mut().zip(&index) {
                    *slot = Some(std::str::from_utf8(&rec[i]).map_err(|_| Defect::new(Reason::MalformedRow, "", "not UTF-8"))?);
                }
                Ok(fields)
            });
            let rows: Vec<std::result::Result<CsvRow<'_>, Defect>> =
                fields.iter().map(|f| f.as_ref().map(|f| CsvRow { fields: &f[..ncols] }).map_err(|d| *d)).collect();
            let checked = par_map(sink.threads, &rows, |r| match r {
                Ok(row) => checker.check(row),
                Err(d) => Checked::Reject(*d),
            });
            let applied = sink.apply_chunk(row_number, checked);
            drop(rows);
            drop(fields);
            let _ = pool_tx.send(buffer);
            match applied {
                Ok(n) => row_number = n,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        drop(rx);
        let _ = reader.join();
        result
    })
}

/// Rows per chunk of the parallel checks.
const CHUNK_ROWS: usize = 64 * 1024;

/// `f` over `items` on every core, in order (the checks of a chunk's rows: parsing personnummer
/// and dates, code lists, hashing — the bulk of a load). The order of the result is the order of
/// `items`, so applying it afterwards on one thread gives exactly the sequential result.
fn par_map<'a, T: Sync, U: Send>(workers: usize, items: &'a [T], f: impl Fn(&'a T) -> U + Sync) -> Vec<U> {
    if workers <= 1 || items.len() < 2048 {
        return items.iter().map(f).collect();
    }
    let size = items.len().div_ceil(workers);
    let f = &f;
    std::thread::scope(|s| {
        let parts: Vec<_> = items.chunks(size).map(|c| s.spawn(move || c.iter().map(f).collect::<Vec<U>>())).collect();
        let mut out = Vec::with_capacity(items.len());
        for p in parts {
            out.extend(p.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        out
    })
}

/// A Parquet column after casting to its canonical type (or kept as text).
enum Col {
    Text(StringArray),
    Date(Date32Array),
    Int(Int64Array),
    Float(Float64Array),
    Bool(BooleanArray),
}

struct ArrowRow<'a> {
    cols: &'a [Col],
    row: usize,
}

impl Row for ArrowRow<'_> {
    fn cell(&self, column: usize) -> Cell<'_> {
        use arrow::array::Array;
        let i = self.row;
        match &self.cols[column] {
            Col::Text(a) => {
                if a.is_null(i) {
                    Cell::Null
                } else {
                    Cell::Text(a.value(i))
                }
            }
            Col::Date(a) => if a.is_null(i) { Cell::Null } else { Cell::Date(a.value(i)) },
            Col::Int(a) => if a.is_null(i) { Cell::Null } else { Cell::Int(a.value(i)) },
            Col::Float(a) => if a.is_null(i) { Cell::Null } else { Cell::Float(a.value(i)) },
            Col::Bool(a) => if a.is_null(i) { Cell::Null } else { Cell::Bool(a.value(i)) },
        }
    }
}

fn to_col(path: &Path, name: &str, array: &ArrayRef, expected: &DataType) -> Result<Col> {
    let type_err = || LoadError::ColumnType {
        file: path.to_path_buf(),
        column: name.to_string(),
        found: array.data_type().to_string(),
        expected: expected.to_string(),
    };
    let cast_to = |t: &DataType| cast(array, t).map_err(|_| type_err());
    let found = array.data_type();
    if matches!(found, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
        || matches!(found, DataType::Dictionary(_, v) if v.as_ref() == &DataType::Utf8)
    {
        let a = cast_to(&DataType::Utf8)?;
        return Ok(Col::Text(a.as_any().downcast_ref::<StringArray>().ok_or_else(type_err)?.clone()));
    }
    macro_rules! typed {
        ($t:expr, $arr:ty, $variant:ident) => {{
            let a = cast_to(&$t)?;
            Col::$variant(a.as_any().downcast_ref::<$arr>().ok_or_else(type_err)?.clone())
        }};
    }
    Ok(match (expected, found) {
        (DataType::Date32, DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _)) => {
            typed!(DataType::Date32, Date32Array, Date)
        }
        (DataType::Int32 | DataType::Int64, t) if t.is_integer() => {
            typed!(DataType::Int64, Int64Array, Int)
        }
        (DataType::Float64, t) if t.is_numeric() => typed!(DataType::Float64, Float64Array, Float),
        (DataType::Boolean, DataType::Boolean) => typed!(DataType::Boolean, BooleanArray, Bool),
        _ => return Err(type_err()),
    })
}

fn read_parquet(path: &Path, dataset: Dataset, sink: &mut Sink) -> Result<()> {
    let unreadable = |reason: String| LoadError::Unreadable { file: path.to_path_buf(), format: "Parquet", reason };
    let file = File::open(path).map_err(|source| LoadError::Io { file: path.to_path_buf(), source })?;
    let file_len = file.metadata().map_err(|source| LoadError::Io { file: path.to_path_buf(), source })?.len();
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| unreadable(e.to_string()))?;
    // The footer's count is the extract's word: a damaged or forged one must not size the sets
    // beyond what the file's bytes could hold (a national extract holds about 2 rows per byte).
    let claimed = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
    sink.expect_rows(claimed.min(file_len.saturating_mul(4)));
    let reader = builder.with_batch_size(CHUNK_ROWS).build().map_err(|e| unreadable(e.to_string()))?;
    let schema = dataset.schema();
    // A reader thread decodes the next batches while a batch's rows are checked (on every core)
    // and applied in order.
    let checker = sink.checker();
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        let decoder = scope.spawn(move || {
            for batch in reader {
                let stop = batch.is_err();
                if tx.send(batch).is_err() || stop {
                    return;
                }
            }
        });
        let mut row_number = 0u64;
        let mut result = Ok(());
        for batch in rx.iter() {
            let step = (|| -> Result<()> {
                let batch = batch.map_err(|e| unreadable(e.to_string()))?;
                let mut cols = Vec::with_capacity(schema.fields().len());
                for field in schema.fields() {
                    let array = batch.column_by_name(field.name()).ok_or_else(|| LoadError::MissingColumn {
                        file: path.to_path_buf(),
                        column: field.name().clone(),
                    })?;
                    cols.push(to_col(path, field.name(), array, field.data_type())?);
                }
                let rows: Vec<ArrowRow<'_>> = (0..batch.num_rows()).map(|row| ArrowRow { cols: &cols, row }).collect();
                let checked = par_map(sink.threads, &rows, |r| checker.check(r));
                row_number = sink.apply_chunk(row_number, checked)?;
                Ok(())
            })();
            if step.is_err() {
                result = step;
                break;
            }
        }
        drop(rx);
        let _ = decoder.join();
        result
    })
}

// ---------------------------------------------------------------------------------------------
// Sink: dedup, build Arrow, quarantine

/// A row after the checks that run in parallel: rejected, or valid with its fingerprints.
enum Checked<'a> {
    Reject(Defect),
    Valid(Valid<'a>, u128, Option<u64>),
}

/// The checks of a row that need nothing of the rows before it (run in parallel).
struct Checker {
    dataset: Dataset,
    reference: NaiveDate,
    h1: RandomState,
    h2: RandomState,
}

impl Checker {
    fn check<'a>(&self, row: &'a (dyn Row + Sync)) -> Checked<'a> {
        match check_row(self.dataset, row, self.reference) {
            Ok(v) => {
                let fingerprint = v.fingerprint(&self.h1, &self.h2);
                let key = v.key_hash(&self.h1);
                debug_assert_eq!(key.is_some(), self.dataset.has_key());
                Checked::Valid(v, fingerprint, key)
            }
            Err(defect) => Checked::Reject(defect),
        }
    }
}

/// What the duplicate checks say of a valid row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Keep,
    DuplicateRow,
    DuplicateKey,
}

/// Run `f(shard index, shard)` for every shard, each on its own thread (one shard: this
/// thread), and collect what they return.
fn in_shards<S: Send, F: Fn(usize, &mut S) -> Vec<usize> + Sync>(shards: &mut [S], f: F) -> Vec<usize> {
    if shards.len() == 1 {
        return f(0, &mut shards[0]);
    }
    let f = &f;
    std::thread::scope(|s| {
        let parts: Vec<_> = shards.iter_mut().enumerate().map(|(i, shard)| s.spawn(move || f(i, shard))).collect();
        parts.into_iter().flat_map(|p| p.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}

/// One file's counts within a load.
struct FileCount {
    path: PathBuf,
    name: String,
    format: &'static str,
    sha256: String,
    reference: NaiveDate,
    read: u64,
    accepted: u64,
    reasons: BTreeMap<&'static str, u64>,
}

/// The receiver of a load's accepted rows, a batch at a time in row order: a batch of the
/// canonical schema and each row's person key (`Pnr::as_u64`). An error ends the load with it.
pub type BatchOut<'o> = dyn FnMut(RecordBatch, UInt64Array) -> Result<()> + 'o;

type Out<'o> = &'o mut (dyn FnMut(RecordBatch, UInt64Array) -> Result<()> + 'o);

struct Sink<'o> {
    dataset: Dataset,
    schema: SchemaRef,
    /// The files of this load, the current one last.
    files: Vec<FileCount>,
    reference: NaiveDate,
    quarantine: csv::Writer<std::io::BufWriter<File>>,
    quarantine_path: PathBuf,
    h1: RandomState,
    h2: RandomState,
    /// Fingerprints of the rows kept so far, in shards by fingerprint (a duplicate always falls
    /// in its original's shard), so the shards are searched in parallel.
    rows_seen: Vec<FingerprintSet<u128>>,
    /// Key hashes of the rows kept so far, sharded the same way.
    keys_seen: Vec<FingerprintSet<u64>>,
    builders: Builders,
    batch_rows: usize,
    /// Where each batch of accepted rows goes (with its person keys) once it is full.
    out: Out<'o>,
    /// `personnummer_changes`: rows that passed the row checks, judged together at the end
    /// (forks and cycles are properties of the whole extract): (file, row number, old, new, date).
    pending_changes: Vec<(usize, u64, regstat_pnr::Pnr, regstat_pnr::Pnr, i32)>,
    /// Threads of the parallel checks (1: none).
    threads: usize,
    /// After [`Sink::seed`]: what this load's duplicate checks added to the seeded sets.
    fresh: Option<Seen>,
}

impl<'o> Sink<'o> {
    /// `append`: add to an existing quarantine file (an increment), else start a new one.
    fn new(dataset: Dataset, quarantine_path: &Path, batch_rows: usize, append: bool, out: Out<'o>) -> Result<Self> {
        let qio = |source| LoadError::Io { file: quarantine_path.to_path_buf(), source };
        let file = if append {
            std::fs::OpenOptions::new().create(true).append(true).open(quarantine_path).map_err(qio)?
        } else {
            File::create(quarantine_path).map_err(qio)?
        };
        let empty = file.metadata().map_err(qio)?.len() == 0;
        let mut quarantine = csv::Writer::from_writer(std::io::BufWriter::new(file));
        if empty {
            quarantine
                .write_record(["source_file", "row_number", "dataset", "reason", "column", "detail"])
                .map_err(|e| qio(e.into()))?;
        }
        let schema = dataset.schema();
        let batch_rows = batch_rows.max(1);
        Ok(Sink {
            dataset,
            builders: Builders::new(&schema, batch_rows),
            schema,
            files: Vec::new(),
            reference: NaiveDate::MIN,
            quarantine,
            quarantine_path: quarantine_path.to_path_buf(),
            // Fixed seeds: fingerprints only ever compare within one load.
            h1: RandomState::with_seeds(1, 2, 3, 4),
            h2: RandomState::with_seeds(5, 6, 7, 8),
            rows_seen: vec![FingerprintSet::default()],
            keys_seen: vec![FingerprintSet::default()],
            batch_rows,
            out,
            pending_changes: Vec::new(),
            threads: 1,
            fresh: None,
        })
    }

    /// What the checks of the current file's rows need (shared by the threads that run them).
    fn checker(&self) -> Checker {
        Checker { dataset: self.dataset, reference: self.reference, h1: self.h1.clone(), h2: self.h2.clone() }
    }

    /// Start reading the next file of the load.
    fn begin_file(&mut self, path: &Path, reference: NaiveDate, format: &'static str) {
        self.reference = reference;
        self.files.push(FileCount {
            path: path.to_path_buf(),
            name: path.display().to_string(),
            format,
            sha256: String::new(),
            reference,
            read: 0,
            accepted: 0,
            reasons: BTreeMap::new(),
        });
    }

    fn end_file(&mut self, sha256: String) {
        if let Some(f) = self.files.last_mut() {
            f.sha256 = sha256;
        }
    }

    /// Start the duplicate checks from what an earlier load saw (after [`Sink::set_threads`]).
    fn seed(&mut self, seen: &Seen) {
        let shards = self.rows_seen.len() as u64;
        for set in &mut self.rows_seen {
            set.reserve(seen.rows_len() / shards as usize + 1);
        }
        for set in &mut self.keys_seen {
            set.reserve(seen.keys_len() / shards as usize + 1);
        }
        for f in seen.rows() {
            self.rows_seen[(((f >> 64) as u64) % shards) as usize].insert(f);
        }
        for k in seen.keys() {
            self.keys_seen[(k.rotate_left(17) % shards) as usize].insert(k);
        }
        self.fresh = Some(Seen::default());
    }

    /// Use `threads` threads (and as many shards of the duplicate sets).
    fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
        self.rows_seen = (0..self.threads).map(|_| FingerprintSet::default()).collect();
        self.keys_seen = (0..self.threads).map(|_| FingerprintSet::default()).collect();
    }

    /// About `rows` more rows are coming (a Parquet footer's count, or an estimate from a CSV
    /// file's size): size the duplicate sets for them at once. Growing them row by row instead
    /// allocates and rehashes every smaller table on the way (at national scale gigabytes of
    /// memory written once and thrown away).
    fn expect_rows(&mut self, rows: u64) {
        let shards = self.rows_seen.len();
        let per_shard = (rows as usize).div_ceil(shards);
        for set in &mut self.rows_seen {
            set.reserve(per_shard);
        }
        if self.dataset.has_key() {
            for set in &mut self.keys_seen {
                set.reserve(per_shard);
            }
        }
    }

    /// The duplicate checks of a chunk of checked rows, in row order within each shard (so the
    /// first occurrence of a row or key is the one kept, exactly as one pass in row order would):
    /// first exact duplicates among all valid rows, then repeated keys among the rows that are
    /// not duplicates. The shards are searched in parallel (the sets are large and their
    /// lookups are memory-bound: the bulk of a load's time). Returns one verdict per row.
    fn dedup(&mut self, checked: &[Checked<'_>]) -> Vec<Verdict> {
        let mut verdict = vec![Verdict::Keep; checked.len()];
        let shards = self.rows_seen.len();
        let shard_of = |h: u64| (h % shards as u64) as usize;
        // Each shard's fingerprints in row order, then searched on the shard's own thread.
        // (`vec![v; n]` would clone `v`, and a clone does not keep its capacity.)
        let mut by_shard: Vec<Vec<(usize, u128)>> = (0..shards).map(|_| Vec::with_capacity(checked.len() / shards + 16)).collect();
        for (i, c) in checked.iter().enumerate() {
            if let Checked::Valid(_, f, _) = c {
                by_shard[shard_of((f >> 64) as u64)].push((i, *f));
            }
        }
        let dups = in_shards(&mut self.rows_seen, |shard, set| {
            let mut out = Vec::new();
            set.insert_all(&by_shard[shard], &mut out);
            out
        });
        for i in dups {
            verdict[i] = Verdict::DuplicateRow;
        }
        let mut by_shard: Vec<Vec<(usize, u64)>> = vec![Vec::new(); shards];
        for (i, (c, v)) in checked.iter().zip(&verdict).enumerate() {
            if let (Checked::Valid(_, _, Some(k)), Verdict::Keep) = (c, v) {
                by_shard[shard_of(k.rotate_left(17))].push((i, *k));
            }
        }
        if by_shard.iter().any(|s| !s.is_empty()) {
            let dups = in_shards(&mut self.keys_seen, |shard, set| {
                let mut out = Vec::new();
                set.insert_all(&by_shard[shard], &mut out);
                out
            });
            for i in dups {
                verdict[i] = Verdict::DuplicateKey;
            }
        }
        verdict
    }

    /// Apply one checked row with its duplicate verdict, in row order: the quarantine, the
    /// builders.
    fn apply(&mut self, row_number: u64, checked: Checked<'_>, verdict: Verdict) -> Result<()> {
        let valid = match checked {
            Checked::Valid(v, _, _) => v,
            Checked::Reject(defect) => return self.reject(row_number, &defect),
        };
        match verdict {
            Verdict::Keep => {}
            Verdict::DuplicateRow => {
                return self.reject(row_number, &Defect::new(Reason::DuplicateRow, "", "exact duplicate of an earlier row"));
            }
            Verdict::DuplicateKey => {
                let (column, detail) = match self.dataset {
                    Dataset::Decisions => ("decision_id", "second row for the same key"),
                    Dataset::AssistanceMonths => ("month", "second row for the same person and month"),
                    _ => ("personnummer", "second row for the same key"),
                };
                return self.reject(row_number, &Defect::new(Reason::DuplicateKey, column, detail));
            }
        }
        if let Valid::Change { old, new, date } = valid {
            self.pending_changes.push((self.files.len() - 1, row_number, old, new, date));
            return Ok(());
        }
        self.accept(self.files.len() - 1, &valid)
    }

    fn accept(&mut self, file: usize, valid: &Valid<'_>) -> Result<()> {
        let f = &mut self.files[file];
        f.read += 1;
        f.accepted += 1;
        self.builders.append(valid);
        if self.builders.len >= self.batch_rows {
            self.flush()?;
        }
        Ok(())
    }

    /// Check and apply a chunk of checked rows numbered from `first`.
    fn apply_chunk(&mut self, first: u64, checked: Vec<Checked<'_>>) -> Result<u64> {
        let verdict = self.dedup(&checked);
        if let Some(Seen(SeenInner::Lists { rows, keys })) = &mut self.fresh {
            // A fingerprint was added unless the row repeats one; a key unless it repeats one.
            for (c, v) in checked.iter().zip(&verdict) {
                if let Checked::Valid(_, f, key) = c {
                    if *v != Verdict::DuplicateRow {
                        rows.push(*f);
                    }
                    if let (Verdict::Keep, Some(k)) = (v, key) {
                        keys.push(*k);
                    }
                }
            }
        }
        let mut row_number = first;
        for (c, v) in checked.into_iter().zip(verdict) {
            row_number += 1;
            self.apply(row_number, c, v)?;
        }
        Ok(row_number)
    }

    fn reject(&mut self, row_number: u64, defect: &Defect) -> Result<()> {
        self.reject_in(self.files.len() - 1, row_number, defect)
    }

    fn reject_in(&mut self, file: usize, row_number: u64, defect: &Defect) -> Result<()> {
        let f = &mut self.files[file];
        f.read += 1;
        *f.reasons.entry(defect.reason.code()).or_default() += 1;
        let row = row_number.to_string();
        self.quarantine
            .write_record([
                f.name.as_str(),
                row.as_str(),
                self.dataset.name(),
                defect.reason.code(),
                defect.column,
                defect.detail,
            ])
            .map_err(|e| LoadError::Io { file: self.quarantine_path.clone(), source: e.into() })
    }

    fn flush(&mut self) -> Result<()> {
        if self.builders.len == 0 {
            return Ok(());
        }
        let (columns, keys) = self.builders.finish();
        let batch = RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|source| LoadError::Arrow { dataset: self.dataset.name().into(), source })?;
        (self.out)(batch, keys)
    }

    /// Judge the changes of personnummer together (`changes::check`), quarantine forks,
    /// repeated keys and cycles, and append the rest in row order.
    fn settle_changes(&mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending_changes);
        let pairs: Vec<(u64, u64)> = pending.iter().map(|(_, _, o, n, _)| (o.as_u64(), n.as_u64())).collect();
        let verdict = crate::changes::check(&pairs);
        for ((file, row_number, old, new, date), v) in pending.into_iter().zip(verdict) {
            match v {
                Some(reason) => {
                    let (column, detail) = match reason {
                        Reason::ChangeFork => ("old_personnummer", "changed to two different numbers"),
                        Reason::ChangeCycle => ("new_personnummer", "the changes form a cycle"),
                        _ => ("old_personnummer", "second row for the same key"),
                    };
                    self.reject_in(file, row_number, &Defect::new(reason, column, detail))?;
                }
                None => self.accept(file, &Valid::Change { old, new, date })?,
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<(DatasetReport, Seen)> {
        self.settle_changes()?;
        self.flush()?;
        self.quarantine
            .flush()
            .map_err(|source| LoadError::Io { file: self.quarantine_path.clone(), source })?;
        let files: Vec<FileReport> = std::mem::take(&mut self.files)
            .into_iter()
            .map(|f| {
                let quarantined: u64 = f.reasons.values().sum();
                debug_assert_eq!(f.read, f.accepted + quarantined);
                FileReport {
                    file: f.path,
                    format: f.format.to_string(),
                    sha256: f.sha256,
                    reference_date: f.reference.to_string(),
                    rows_read: f.read,
                    rows_accepted: f.accepted,
                    rows_quarantined: quarantined,
                    reasons: f.reasons.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                }
            })
            .collect();
        let report = DatasetReport::from_files(self.dataset, files, self.quarantine_path.clone())?;
        let seen = self.fresh.take().unwrap_or_else(|| {
            Seen(SeenInner::Sets { rows: std::mem::take(&mut self.rows_seen), keys: std::mem::take(&mut self.keys_seen) })
        });
        tracing::info!(
            dataset = %report.dataset,
            rows_read = report.rows_read,
            rows_accepted = report.rows_accepted,
            rows_quarantined = report.rows_quarantined,
            "dataset loaded"
        );
        Ok((report, seen))
    }
}

enum ColBuilder {
    Text(StringBuilder),
    Date(Date32Builder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
}

struct Builders {
    cols: Vec<ColBuilder>,
    keys: UInt64Builder,
    len: usize,
    schema: SchemaRef,
    /// Rows per batch: the builders are allocated for a whole batch at once.
    rows: usize,
    /// Per column, the text bytes of the last batch (the next one's allocation).
    text_bytes: Vec<usize>,
}

impl Builders {
    fn new(schema: &SchemaRef, rows: usize) -> Self {
        Self::with_text_bytes(schema, rows, vec![rows.min(1 << 20) * 16; schema.fields().len()])
    }

    fn with_text_bytes(schema: &SchemaRef, rows: usize, text_bytes: Vec<usize>) -> Self {
        // Small batches (tests, empty loads) start small; full ones are allocated once rather
        // than doubled their way up (each doubling a copy of everything so far).
        let n = rows.min(1 << 20);
        let cols = schema
            .fields()
            .iter()
            .zip(&text_bytes)
            .map(|(f, &bytes)| match f.data_type() {
                DataType::Date32 => ColBuilder::Date(Date32Builder::with_capacity(n)),
                DataType::Int32 => ColBuilder::Int32(Int32Builder::with_capacity(n)),
                DataType::Int64 => ColBuilder::Int64(Int64Builder::with_capacity(n)),
                DataType::Float64 => ColBuilder::Float(Float64Builder::with_capacity(n)),
                DataType::Boolean => ColBuilder::Bool(BooleanBuilder::with_capacity(n)),
                _ => ColBuilder::Text(StringBuilder::with_capacity(n, bytes)),
            })
            .collect();
        Builders { cols, keys: UInt64Builder::with_capacity(n), len: 0, schema: schema.clone(), rows, text_bytes }
    }

    fn text(&mut self, i: usize, v: Option<&str>) {
        if let ColBuilder::Text(b) = &mut self.cols[i] {
            b.append_option(v);
        }
    }
    fn pnr(&mut self, i: usize, p: regstat_pnr::Pnr) {
        let mut buf = [0u8; 12];
        p.write_canonical(&mut buf);
        // The canonical form is 12 ASCII digits.
        self.text(i, std::str::from_utf8(&buf).ok());
    }
    /// `YYYY-MM` without allocating (hot path: one per intervention row).
    fn month(&mut self, i: usize, m: i32) {
        let (y, mo) = (m.div_euclid(12), m.rem_euclid(12) + 1);
        let mut buf = [b'0'; 7];
        let digits = |v: i32, out: &mut [u8]| {
            let mut v = v;
            for slot in out.iter_mut().rev() {
                *slot = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        digits(y, &mut buf[..4]);
        buf[4] = b'-';
        digits(mo, &mut buf[5..]);
        // Only ASCII digits and '-' were written.
        self.text(i, std::str::from_utf8(&buf).ok());
    }

    fn date(&mut self, i: usize, v: Option<i32>) {
        if let ColBuilder::Date(b) = &mut self.cols[i] {
            b.append_option(v);
        }
    }

    fn append(&mut self, v: &Valid<'_>) {
        self.keys.append_value(v.person().as_u64());
        self.len += 1;
        match v {
            Valid::Person { pnr, sex, birth, country, death } => {
                self.pnr(0, *pnr);
                self.text(1, Some(sex));
                self.date(2, Some(*birth));
                self.text(3, Some(country));
                self.date(4, *death);
            }
            Valid::Registration { pnr, from, to } => {
                self.pnr(0, *pnr);
                self.date(1, Some(*from));
                self.date(2, *to);
            }
            Valid::Decision { id, pnr, date, kind, outcome, reason, lss_group, hours_bits, appeal } => {
                self.text(0, Some(id));
                self.pnr(1, *pnr);
                self.date(2, Some(*date));
                self.text(3, Some(kind));
                self.text(4, Some(outcome));
                self.text(5, *reason);
                if let ColBuilder::Int32(b) = &mut self.cols[6] {
                    b.append_option(*lss_group);
                }
                if let ColBuilder::Float(b) = &mut self.cols[7] {
                    b.append_option(hours_bits.map(f64::from_bits));
                }
                if let ColBuilder::Bool(b) = &mut self.cols[8] {
                    b.append_value(*appeal);
                }
            }
            Valid::Benefit { pnr, recipient, benefit, month, amount } => {
                self.pnr(0, *pnr);
                self.pnr(1, *recipient);
                self.text(2, Some(benefit));
                self.month(3, *month);
                if let ColBuilder::Int64(b) = &mut self.cols[4] {
                    b.append_value(*amount);
                }
            }
            Valid::Intervention { pnr, law, code, municipality, month } => {
                self.pnr(0, *pnr);
                self.text(1, Some(law));
                self.text(2, Some(code));
                self.text(3, Some(municipality));
                self.month(4, *month);
            }
            Valid::Change { old, new, date } => {
                self.pnr(0, *old);
                self.pnr(1, *new);
                self.date(2, Some(*date));
            }
            Valid::Assistance { pnr, month, hours_bits, provider } => {
                self.pnr(0, *pnr);
                self.month(1, *month);
                if let ColBuilder::Float(b) = &mut self.cols[2] {
                    b.append_value(f64::from_bits(*hours_bits));
                }
                self.text(3, *provider);
            }
        }
    }

    /// The batch built so far; the builders start the next one.
    fn finish(&mut self) -> (Vec<ArrayRef>, UInt64Array) {
        let mut text_bytes = self.text_bytes.clone();
        let cols = self
            .cols
            .iter_mut()
            .zip(&mut text_bytes)
            .map(|(b, bytes)| -> ArrayRef {
                match b {
                    ColBuilder::Text(b) => {
                        let a = b.finish();
                        // A little more than this batch's text, so the next one rarely grows.
                        *bytes = a.value_data().len() + a.value_data().len() / 16 + 64;
                        Arc::new(a)
                    }
                    ColBuilder::Date(b) => Arc::new(b.finish()),
                    ColBuilder::Int32(b) => Arc::new(b.finish()),
                    ColBuilder::Int64(b) => Arc::new(b.finish()),
                    ColBuilder::Float(b) => Arc::new(b.finish()),
                    ColBuilder::Bool(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        let keys = self.keys.finish();
        *self = Builders::with_text_bytes(&self.schema.clone(), self.rows, text_bytes);
        (cols, keys)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use arrow::datatypes::{Field, Schema};
    use parquet::arrow::ArrowWriter;

    use super::*;

    /// 150 000 `persons` rows over three chunks: valid rows, exact duplicates and repeated keys
    /// (some right across a chunk boundary, some far apart), invalid values, and (CSV only) rows
    /// with a wrong number of fields or bytes that are not UTF-8.
    fn rows() -> Vec<Vec<u8>> {
        let n = 150_000usize;
        let mut out: Vec<Vec<u8>> = Vec::with_capacity(n);
        for i in 0..n {
            let line = match i % 9973 {
                // An exact duplicate of the row just before (across the boundary at 65 536 too).
                _ if i == CHUNK_ROWS || i == 2 * CHUNK_ROWS + 1 => out[i - 1].clone(),
                // A repeated key with other content: the first occurrence wins.
                7 => {
                    let p = regstat_pnr::Pnr::from_parts(1950 + (i as i32 - 7) % 50, 1 + ((i - 7) % 12) as u32, 1 + ((i - 7) % 28) as u32, (1 + (i - 7) % 900) as u16, false).expect("pnr");
                    format!("{},M,{},SE,", p.to_canonical(), p.birth_date()).into_bytes()
                }
                11 => b"19500101-0000,K,1950-01-01,SE,".to_vec(),
                13 => b"only,three,fields".to_vec(),
                17 => {
                    let mut b = out[i - 1].clone();
                    b[15] = 0xff;
                    b
                }
                19 => out[i / 2].clone(),
                _ => {
                    let p = regstat_pnr::Pnr::from_parts(1950 + i as i32 % 50, 1 + (i % 12) as u32, 1 + (i % 28) as u32, (1 + i % 900) as u16, false).expect("pnr");
                    let sex = if i % 2 == 0 { "K" } else { "M" };
                    format!("{},{sex},{},SE,", p.to_canonical(), p.birth_date()).into_bytes()
                }
            };
            out.push(line);
        }
        out
    }

    fn same(a: &LoadedDataset, b: &LoadedDataset) {
        assert_eq!(a.report.rows_read, b.report.rows_read);
        assert_eq!(a.report.rows_accepted, b.report.rows_accepted);
        assert_eq!(a.report.rows_quarantined, b.report.rows_quarantined);
        assert_eq!(a.report.reasons, b.report.reasons);
        assert_eq!(a.batches, b.batches);
        assert_eq!(a.person_keys, b.person_keys);
    }

    #[test]
    fn parallel_checks_give_exactly_the_sequential_load() {
        let dir = tempfile::tempdir().expect("tmp");
        let lines = rows();
        let csv = dir.path().join("persons.csv");
        let mut f = std::io::BufWriter::new(File::create(&csv).expect("csv"));
        f.write_all(b"personnummer,sex,birth_date,birth_country,death_date\n").expect("header");
        for l in &lines {
            f.write_all(l).expect("row");
            f.write_all(b"\n").expect("row");
        }
        drop(f);
        let opts = LoadOptions { reference_date: NaiveDate::from_ymd_opt(2024, 1, 1), format: FormatPreference::Csv, ..LoadOptions::default() };
        let (q1, q3) = (dir.path().join("q1"), dir.path().join("q3"));
        let one = load_file_threads(&csv, Dataset::Persons, &q1, &opts, 1).expect("one thread");
        let three = load_file_threads(&csv, Dataset::Persons, &q3, &opts, 3).expect("three threads");
        same(&one, &three);
        assert_eq!(one.report.rows_read, lines.len() as u64);
        assert_eq!(one.report.rows_read, one.report.rows_accepted + one.report.rows_quarantined);
        for reason in ["DUPLICATE_ROW", "DUPLICATE_KEY", "INVALID_PERSONNUMMER", "MALFORMED_ROW"] {
            assert!(one.report.reasons.get(reason).is_some_and(|&n| n > 0), "{reason}: {:?}", one.report.reasons);
        }
        let q = |d: &Path| std::fs::read(d.join("persons.quarantine.csv")).expect("quarantine");
        assert_eq!(q(&q1), q(&q3), "the same quarantine, row numbers and order");
        // The duplicate right after the first chunk boundary is quarantined under its own row.
        let text = String::from_utf8(q(&q1)).expect("utf-8");
        assert!(text.contains(&format!(",{},persons,DUPLICATE_ROW,", CHUNK_ROWS + 1)), "row {} is the duplicate", CHUNK_ROWS + 1);

        // The same rows as Parquet (text columns; no row can have the wrong number of fields).
        let schema = Arc::new(Schema::new(
            ["personnummer", "sex", "birth_date", "birth_country", "death_date"].iter().map(|c| Field::new(*c, DataType::Utf8, true)).collect::<Vec<_>>(),
        ));
        let parsed: Vec<Vec<Option<String>>> = lines
            .iter()
            .filter_map(|l| std::str::from_utf8(l).ok())
            .map(|l| l.split(',').map(|v| (!v.is_empty()).then(|| v.to_string())).collect::<Vec<_>>())
            .filter(|v| v.len() == 5)
            .collect();
        let cols: Vec<ArrayRef> = (0..5).map(|c| Arc::new(StringArray::from(parsed.iter().map(|r| r[c].clone()).collect::<Vec<_>>())) as ArrayRef).collect();
        let batch = RecordBatch::try_new(schema.clone(), cols).expect("batch");
        let pq = dir.path().join("persons.parquet");
        let mut w = ArrowWriter::try_new(File::create(&pq).expect("parquet"), schema, None).expect("writer");
        w.write(&batch).expect("write");
        w.close().expect("close");
        let opts = LoadOptions { format: FormatPreference::Parquet, ..opts };
        let one = load_file_threads(&pq, Dataset::Persons, &dir.path().join("p1"), &opts, 1).expect("one thread");
        let three = load_file_threads(&pq, Dataset::Persons, &dir.path().join("p3"), &opts, 3).expect("three threads");
        same(&one, &three);
        assert_eq!(one.report.rows_read, parsed.len() as u64);
        assert_eq!(q(&dir.path().join("p1")), q(&dir.path().join("p3")));
    }
}
