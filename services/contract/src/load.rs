//! Loading an extract (CSV or Parquet) into validated Arrow record batches, with every rejected
//! row written to a quarantine file. Counts reconcile: read = accepted + quarantined.

use std::collections::{BTreeMap, HashSet};
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

/// Load, validate and quarantine one dataset from `dir` (`<name>.parquet` / `<name>.csv`).
/// The quarantine file is `quarantine_dir/<name>.quarantine.csv` (always written, header only
/// when nothing was rejected).
pub fn load_dataset(
    dir: &Path,
    dataset: Dataset,
    quarantine_dir: &Path,
    opts: &LoadOptions,
) -> Result<LoadedDataset> {
    let path = match source_path(dir, dataset, opts.format) {
        Err(LoadError::Missing { .. }) if dataset.optional() => return empty_dataset(dir, dataset, quarantine_dir),
        other => other?,
    };
    load_file(&path, dataset, quarantine_dir, opts)
}

/// An optional dataset whose extract is absent: no rows, reported as such (source format
/// `absent`, no hash), with an empty quarantine file like every other load.
fn empty_dataset(dir: &Path, dataset: Dataset, quarantine_dir: &Path) -> Result<LoadedDataset> {
    std::fs::create_dir_all(quarantine_dir)
        .map_err(|source| LoadError::Io { file: quarantine_dir.to_path_buf(), source })?;
    let qpath = quarantine_dir.join(format!("{}.quarantine.csv", dataset.name()));
    let source = dir.join(format!("{}.csv", dataset.name()));
    let sink = Sink::new(dataset, &source, &qpath, NaiveDate::MIN, 1)?;
    tracing::info!(dataset = dataset.name(), "no extract: an optional dataset, loaded as empty");
    sink.finish("absent", String::new())
}

/// Load one file (format from its extension).
pub fn load_file(
    path: &Path,
    dataset: Dataset,
    quarantine_dir: &Path,
    opts: &LoadOptions,
) -> Result<LoadedDataset> {
    let reference = effective_reference_date(path, opts)?;
    std::fs::create_dir_all(quarantine_dir)
        .map_err(|source| LoadError::Io { file: quarantine_dir.to_path_buf(), source })?;
    let qpath = quarantine_dir.join(format!("{}.quarantine.csv", dataset.name()));
    let mut sink = Sink::new(dataset, path, &qpath, reference, opts.batch_rows)?;
    let is_parquet = path.extension().is_some_and(|e| e == "parquet");
    if is_parquet {
        read_parquet(path, dataset, &mut sink)?;
    } else {
        read_csv(path, dataset, &mut sink)?;
    }
    let sha = sha256_file(path)?;
    sink.finish(if is_parquet { "parquet" } else { "csv" }, sha)
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
    let mut rec = csv::ByteRecord::new();
    let mut row_number = 0u64;
    while rdr.read_byte_record(&mut rec).map_err(unreadable)? {
        row_number += 1;
        if rec.len() != width {
            sink.reject(
                row_number,
                &Defect::new(Reason::MalformedRow, "", "wrong number of fields"),
            )?;
            continue;
        }
        // At most 9 contract columns per dataset.
        let mut fields: [Option<&str>; 9] = [None; 9];
        let mut utf8 = true;
        for (slot, &i) in fields.iter_mut().zip(&index) {
            match std::str::from_utf8(&rec[i]) {
                Ok(s) => *slot = Some(s),
                Err(_) => {
                    utf8 = false;
                    break;
                }
            }
        }
        if !utf8 {
            sink.reject(row_number, &Defect::new(Reason::MalformedRow, "", "not UTF-8"))?;
            continue;
        }
        sink.push(row_number, &CsvRow { fields: &fields[..index.len()] })?;
    }
    Ok(())
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
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| unreadable(e.to_string()))?
        .with_batch_size(64 * 1024)
        .build()
        .map_err(|e| unreadable(e.to_string()))?;
    let schema = dataset.schema();
    let mut row_number = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| unreadable(e.to_string()))?;
        let mut cols = Vec::with_capacity(schema.fields().len());
        for field in schema.fields() {
            let array = batch.column_by_name(field.name()).ok_or_else(|| LoadError::MissingColumn {
                file: path.to_path_buf(),
                column: field.name().clone(),
            })?;
            cols.push(to_col(path, field.name(), array, field.data_type())?);
        }
        for row in 0..batch.num_rows() {
            row_number += 1;
            sink.push(row_number, &ArrowRow { cols: &cols, row })?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Sink: dedup, build Arrow, quarantine

struct Sink {
    dataset: Dataset,
    schema: SchemaRef,
    source: PathBuf,
    source_name: String,
    reference: NaiveDate,
    quarantine: csv::Writer<std::io::BufWriter<File>>,
    quarantine_path: PathBuf,
    h1: RandomState,
    h2: RandomState,
    rows_seen: HashSet<u128, RandomState>,
    keys_seen: HashSet<u64, RandomState>,
    builders: Builders,
    batch_rows: usize,
    batches: Vec<RecordBatch>,
    person_keys: Vec<UInt64Array>,
    rows_read: u64,
    rows_accepted: u64,
    reasons: BTreeMap<&'static str, u64>,
    /// `personnummer_changes`: rows that passed the row checks, judged together at the end
    /// (forks and cycles are properties of the whole extract): (row number, old, new, date).
    pending_changes: Vec<(u64, regstat_pnr::Pnr, regstat_pnr::Pnr, i32)>,
}

impl Sink {
    fn new(
        dataset: Dataset,
        source: &Path,
        quarantine_path: &Path,
        reference: NaiveDate,
        batch_rows: usize,
    ) -> Result<Self> {
        let qio = |source| LoadError::Io { file: quarantine_path.to_path_buf(), source };
        let file = File::create(quarantine_path).map_err(qio)?;
        let mut quarantine = csv::Writer::from_writer(std::io::BufWriter::new(file));
        quarantine
            .write_record(["source_file", "row_number", "dataset", "reason", "column", "detail"])
            .map_err(|e| qio(e.into()))?;
        let schema = dataset.schema();
        Ok(Sink {
            dataset,
            builders: Builders::new(&schema),
            schema,
            source: source.to_path_buf(),
            source_name: source.display().to_string(),
            reference,
            quarantine,
            quarantine_path: quarantine_path.to_path_buf(),
            // Fixed seeds: fingerprints only ever compare within one load.
            h1: RandomState::with_seeds(1, 2, 3, 4),
            h2: RandomState::with_seeds(5, 6, 7, 8),
            rows_seen: HashSet::with_hasher(RandomState::with_seeds(9, 10, 11, 12)),
            keys_seen: HashSet::with_hasher(RandomState::with_seeds(13, 14, 15, 16)),
            batch_rows: batch_rows.max(1),
            batches: Vec::new(),
            person_keys: Vec::new(),
            rows_read: 0,
            rows_accepted: 0,
            reasons: BTreeMap::new(),
            pending_changes: Vec::new(),
        })
    }

    fn push(&mut self, row_number: u64, row: &dyn Row) -> Result<()> {
        let valid = match check_row(self.dataset, row, self.reference) {
            Ok(v) => v,
            Err(defect) => return self.reject(row_number, &defect),
        };
        if !self.rows_seen.insert(valid.fingerprint(&self.h1, &self.h2)) {
            return self.reject(
                row_number,
                &Defect::new(Reason::DuplicateRow, "", "exact duplicate of an earlier row"),
            );
        }
        if let Some(k) = valid.key_hash(&self.h1) {
            if !self.keys_seen.insert(k) {
                let column = if self.dataset == Dataset::Decisions { "decision_id" } else { "personnummer" };
                return self.reject(
                    row_number,
                    &Defect::new(Reason::DuplicateKey, column, "second row for the same key"),
                );
            }
        }
        if let Valid::Change { old, new, date } = valid {
            self.pending_changes.push((row_number, old, new, date));
            return Ok(());
        }
        self.rows_read += 1;
        self.rows_accepted += 1;
        self.builders.append(&valid);
        if self.builders.len >= self.batch_rows {
            self.flush()?;
        }
        Ok(())
    }

    fn reject(&mut self, row_number: u64, defect: &Defect) -> Result<()> {
        self.rows_read += 1;
        *self.reasons.entry(defect.reason.code()).or_default() += 1;
        let row = row_number.to_string();
        self.quarantine
            .write_record([
                self.source_name.as_str(),
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
        self.batches.push(batch);
        self.person_keys.push(keys);
        Ok(())
    }

    /// Judge the changes of personnummer together (`changes::check`), quarantine forks,
    /// repeated keys and cycles, and append the rest in row order.
    fn settle_changes(&mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending_changes);
        let pairs: Vec<(u64, u64)> = pending.iter().map(|(_, o, n, _)| (o.as_u64(), n.as_u64())).collect();
        let verdict = crate::changes::check(&pairs);
        for ((row_number, old, new, date), v) in pending.into_iter().zip(verdict) {
            match v {
                Some(reason) => {
                    let (column, detail) = match reason {
                        Reason::ChangeFork => ("old_personnummer", "changed to two different numbers"),
                        Reason::ChangeCycle => ("new_personnummer", "the changes form a cycle"),
                        _ => ("old_personnummer", "second row for the same key"),
                    };
                    self.reject(row_number, &Defect::new(reason, column, detail))?;
                }
                None => {
                    self.rows_read += 1;
                    self.rows_accepted += 1;
                    self.builders.append(&Valid::Change { old, new, date });
                    if self.builders.len >= self.batch_rows {
                        self.flush()?;
                    }
                }
            }
        }
        Ok(())
    }

    fn finish(mut self, format: &'static str, sha: String) -> Result<LoadedDataset> {
        self.settle_changes()?;
        self.flush()?;
        self.quarantine
            .flush()
            .map_err(|source| LoadError::Io { file: self.quarantine_path.clone(), source })?;
        let rows_quarantined = self.reasons.values().sum();
        debug_assert_eq!(self.rows_read, self.rows_accepted + rows_quarantined);
        let report = DatasetReport {
            dataset: self.dataset.name().into(),
            source_file: self.source,
            source_format: format,
            source_sha256: sha,
            rows_read: self.rows_read,
            rows_accepted: self.rows_accepted,
            rows_quarantined,
            reasons: self.reasons,
            quarantine_file: self.quarantine_path,
        };
        tracing::info!(
            dataset = %report.dataset,
            rows_read = report.rows_read,
            rows_accepted = report.rows_accepted,
            rows_quarantined = report.rows_quarantined,
            "dataset loaded"
        );
        Ok(LoadedDataset {
            dataset: self.dataset,
            schema: self.schema,
            batches: self.batches,
            person_keys: self.person_keys,
            report,
        })
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
}

impl Builders {
    fn new(schema: &SchemaRef) -> Self {
        let cols = schema
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Date32 => ColBuilder::Date(Date32Builder::new()),
                DataType::Int32 => ColBuilder::Int32(Int32Builder::new()),
                DataType::Int64 => ColBuilder::Int64(Int64Builder::new()),
                DataType::Float64 => ColBuilder::Float(Float64Builder::new()),
                DataType::Boolean => ColBuilder::Bool(BooleanBuilder::new()),
                _ => ColBuilder::Text(StringBuilder::new()),
            })
            .collect();
        Builders { cols, keys: UInt64Builder::new(), len: 0 }
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
        }
    }

    fn finish(&mut self) -> (Vec<ArrayRef>, UInt64Array) {
        let cols = self
            .cols
            .iter_mut()
            .map(|b| -> ArrayRef {
                match b {
                    ColBuilder::Text(b) => Arc::new(b.finish()),
                    ColBuilder::Date(b) => Arc::new(b.finish()),
                    ColBuilder::Int32(b) => Arc::new(b.finish()),
                    ColBuilder::Int64(b) => Arc::new(b.finish()),
                    ColBuilder::Float(b) => Arc::new(b.finish()),
                    ColBuilder::Bool(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        self.len = 0;
        (cols, self.keys.finish())
    }
}
