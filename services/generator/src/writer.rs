//! Chunked writers of the datasets in both formats of the contract (SPEC §3).
//!
//! * CSV: UTF-8, comma-separated, a header row, ISO dates, `YYYY-MM` months, `.` as decimal
//!   point, an empty field for null, `true` / `false`. No field the generator writes contains a
//!   comma, a quote or a line break, so nothing is quoted.
//! * Parquet: the canonical Arrow schema of [`Dataset::schema`], Snappy-compressed, one row group
//!   per million rows. Nothing time- or machine-dependent is written, so the same rows give the
//!   same bytes.
//!
//! Rows arrive in chunks and are written as they come: memory is bounded by one chunk.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, Int64Builder,
    StringBuilder,
};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use chrono::{Datelike, NaiveDate};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use regstat_contract::Dataset;

use crate::rows::{
    AssistanceRow, BenefitRow, ChangeRow, DecisionRow, InterventionRow, PersonRow, RegistrationRow,
    Txt,
};
use crate::GenError;

/// Rows per Parquet row group.
const ROW_GROUP_ROWS: usize = 1 << 20;

/// A row of one of the datasets: how it is written in each format.
pub trait Row: Sized + Send + Sync + 'static {
    const DATASET: Dataset;
    /// Append the row as one CSV line (with the trailing newline).
    fn write_csv(&self, out: &mut Vec<u8>);
    /// Build the Arrow columns of `rows` in the canonical column order.
    fn columns(rows: &[Self]) -> Vec<ArrayRef>;
}

/// Paths of a dataset's two files under `DATA_DIR`.
pub fn dataset_paths(out_dir: &Path, dataset: Dataset) -> (PathBuf, PathBuf) {
    let dir = out_dir.join(dataset.register().dir_name());
    (
        dir.join(format!("{}.csv", dataset.name())),
        dir.join(format!("{}.parquet", dataset.name())),
    )
}

/// Writes one dataset as CSV.
pub struct CsvWriter<R: Row> {
    out: BufWriter<File>,
    line: Vec<u8>,
    _row: std::marker::PhantomData<R>,
}

impl<R: Row> CsvWriter<R> {
    pub fn create(path: &Path) -> Result<Self, GenError> {
        let file = File::create(path).map_err(|e| GenError::io(path, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let schema = R::DATASET.schema();
        let header: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        writeln!(out, "{}", header.join(",")).map_err(|e| GenError::io(path, e))?;
        Ok(CsvWriter {
            out,
            line: Vec::with_capacity(1 << 16),
            _row: std::marker::PhantomData,
        })
    }

    pub fn write(&mut self, rows: &[R]) -> std::io::Result<()> {
        for row in rows {
            row.write_csv(&mut self.line);
            if self.line.len() >= 1 << 16 {
                self.out.write_all(&self.line)?;
                self.line.clear();
            }
        }
        self.out.write_all(&self.line)?;
        self.line.clear();
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Writes one dataset as Parquet.
pub struct ParquetWriter<R: Row> {
    schema: SchemaRef,
    writer: ArrowWriter<File>,
    _row: std::marker::PhantomData<R>,
}

impl<R: Row> ParquetWriter<R> {
    pub fn create(path: &Path) -> Result<Self, GenError> {
        let file = File::create(path).map_err(|e| GenError::io(path, e))?;
        let schema = R::DATASET.schema();
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_created_by(concat!("regstat-gen ", env!("CARGO_PKG_VERSION")).to_string())
            .build();
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props))?;
        Ok(ParquetWriter {
            schema,
            writer,
            _row: std::marker::PhantomData,
        })
    }

    pub fn write(&mut self, rows: &[R]) -> Result<(), GenError> {
        if rows.is_empty() {
            return Ok(());
        }
        let batch = RecordBatch::try_new(self.schema.clone(), R::columns(rows))?;
        self.writer.write(&batch)?;
        Ok(())
    }

    pub fn finish(self) -> Result<(), GenError> {
        self.writer.close()?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Formatting helpers
// ---------------------------------------------------------------------------------------------

fn push_txt(out: &mut Vec<u8>, t: &Txt) {
    out.extend_from_slice(t.as_bytes());
}

fn push_date(out: &mut Vec<u8>, d: NaiveDate) {
    let y = d.year();
    if (0..=9999).contains(&y) {
        let (m, day) = (d.month(), d.day());
        out.extend_from_slice(&[
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
            b'-',
            b'0' + (m / 10) as u8,
            b'0' + (m % 10) as u8,
            b'-',
            b'0' + (day / 10) as u8,
            b'0' + (day % 10) as u8,
        ]);
    } else {
        out.extend_from_slice(d.format("%Y-%m-%d").to_string().as_bytes());
    }
}

fn push_opt_date(out: &mut Vec<u8>, d: Option<NaiveDate>) {
    if let Some(d) = d {
        push_date(out, d);
    }
}

fn push_int(out: &mut Vec<u8>, v: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let neg = v < 0;
    let mut n = v.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    out.extend_from_slice(&buf[i..]);
}

/// Days since 1970-01-01 (Arrow `Date32`).
pub fn date32(d: NaiveDate) -> i32 {
    const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;
    d.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE
}

/// Assessed hours are written with one decimal in CSV (and hold that value in Parquet).
pub fn format_hours(h: f64) -> String {
    format!("{h:.1}")
}

fn strings<'a>(n: usize, values: impl Iterator<Item = &'a Txt>) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(n, n * 12);
    for v in values {
        b.append_value(v.as_str());
    }
    Arc::new(b.finish())
}

fn dates(n: usize, values: impl Iterator<Item = NaiveDate>) -> ArrayRef {
    let mut b = Date32Builder::with_capacity(n);
    for v in values {
        b.append_value(date32(v));
    }
    Arc::new(b.finish())
}

fn opt_dates(n: usize, values: impl Iterator<Item = Option<NaiveDate>>) -> ArrayRef {
    let mut b = Date32Builder::with_capacity(n);
    for v in values {
        b.append_option(v.map(date32));
    }
    Arc::new(b.finish())
}

// ---------------------------------------------------------------------------------------------
// The seven datasets
// ---------------------------------------------------------------------------------------------

impl Row for PersonRow {
    const DATASET: Dataset = Dataset::Persons;

    fn write_csv(&self, out: &mut Vec<u8>) {
        push_txt(out, &self.personnummer);
        out.push(b',');
        push_txt(out, &self.sex);
        out.push(b',');
        push_date(out, self.birth_date);
        out.push(b',');
        push_txt(out, &self.birth_country);
        out.push(b',');
        push_opt_date(out, self.death_date);
        out.push(b'\n');
    }

    fn columns(rows: &[Self]) -> Vec<ArrayRef> {
        let n = rows.len();
        vec![
            strings(n, rows.iter().map(|r| &r.personnummer)),
            strings(n, rows.iter().map(|r| &r.sex)),
            dates(n, rows.iter().map(|r| r.birth_date)),
            strings(n, rows.iter().map(|r| &r.birth_country)),
            opt_dates(n, rows.iter().map(|r| r.death_date)),
        ]
    }
}

impl Row for RegistrationRow {
    const DATASET: Dataset = Dataset::Registrations;

    fn write_csv(&self, out: &mut Vec<u8>) {
        push_txt(out, &self.personnummer);
        out.push(b',');
        push_date(out, self.registered_from);
        out.push(b',');
        push_opt_date(out, self.registered_to);
        out.push(b'\n');
    }

    fn columns(rows: &[Self]) -> Vec<ArrayRef> {
        let n = rows.len();
        vec![
            strings(n, rows.iter().map(|r| &r.personnummer)),
            dates(n, rows.iter().map(|r| r.registered_from)),
            opt_dates(n, rows.iter().map(|r| r.registered_to)),
        ]
    }
}

impl Row for DecisionRow {
    const DATASET: Dataset = Dataset::Decisions;

    fn write_csv(&self, out: &mut Vec<u8>) {
        push_txt(out, &self.decision_id);
        out.push(b',');
        push_txt(out, &self.personnummer);
        out.push(b',');
        push_date(out, self.decision_date);
        out.push(b',');
        push_txt(out, &self.kind);
        out.push(b',');
        push_txt(out, &self.outcome);
        out.push(b',');
        if let Some(r) = &self.rejection_reason {
            push_txt(out, r);
        }
        out.push(b',');
        if let Some(g) = self.lss_group {
            push_int(out, g as i64);
        }
        out.push(b',');
        if let Some(h) = self.assessed_hours {
            out.extend_from_slice(format_hours(h).as_bytes());
        }
        out.push(b',');
        out.extend_from_slice(if self.changed_on_appeal {
            b"true"
        } else {
            b"false"
        });
        out.push(b'\n');
    }

    fn columns(rows: &[Self]) -> Vec<ArrayRef> {
        let n = rows.len();
        let mut reason = StringBuilder::with_capacity(n, n * 8);
        let mut group = Int32Builder::with_capacity(n);
        let mut hours = Float64Builder::with_capacity(n);
        let mut appeal = BooleanBuilder::with_capacity(n);
        for r in rows {
            reason.append_option(r.rejection_reason.as_ref().map(|t| t.as_str()));
            group.append_option(r.lss_group);
            hours.append_option(r.assessed_hours);
            appeal.append_value(r.changed_on_appeal);
        }
        vec![
            strings(n, rows.iter().map(|r| &r.decision_id)),
            strings(n, rows.iter().map(|r| &r.personnummer)),
            dates(n, rows.iter().map(|r| r.decision_date)),
            strings(n, rows.iter().map(|r| &r.kind)),
            strings(n, rows.iter().map(|r| &r.outcome)),
            Arc::new(reason.finish()),
            Arc::new(group.finish()),
            Arc::new(hours.finish()),
            Arc::new(appeal.finish()),
        ]
    }
}

impl Row for BenefitRow {
    const DATASET: Dataset = Dataset::BenefitPayments;

    fn write_csv(&self, out: &mut Vec<u8>) {
        push_txt(out, &self.personnummer);
        out.push(b',');
        push_txt(out, &self.recipient_personnummer);
        out.push(b',');
        push_txt(out, &self.benefit);
        out.push(b',');
        push_txt(out, &self.month);
        out.push(b',');
        push_int(out, self.amount_sek);
        out.push(b'\n');
    }

    fn columns(rows: &[Self]) -> Vec<ArrayRef> {
        let n = rows.len();
        let mut amount = Int64Builder::with_capacity(n);
        for r in rows {
            amount.append_value(r.amount_sek);
        }
        vec![
            strings(n, rows.iter().map(|r| &r.personnummer)),
            strings(n, rows.iter().map(|r| &r.recipient_personnummer)),
            strings(n, rows.iter().map(|r| &r.benefit)),
            strings(n, rows.iter().map(|r| &r.month)),
            Arc::new(amount.finish()),
        ]
    }
}

impl Row for InterventionRow {
    const DATASET: Dataset = Dataset::Interventions;

    fn write_csv(&self, out: &mut Vec<u8>) {
        push_txt(out, &self.personnummer);
        out.push(b',');
        push_txt(out, &self.law);
        out.push(b',');
        push_txt(out, &self.intervention);
        out.push(b',');
        push_txt(out, &self.municipality);
        out.push(b',');
        push_txt(out, &self.month);
        out.push(b'\n');
    }

    fn columns(rows: &[Self]) -> Vec<ArrayRef> {
        let n = rows.len();
        vec![
            strings(n, rows.iter().map(|r| &r.personnummer)),
            strings(n, rows.iter().map(|r| &r.law)),
            strings(n, rows.iter().map(|r| &r.intervention)),
            strings(n, rows.iter().map(|r| &r.municipality)),
            strings(n, rows.iter().map(|r| &r.month)),
        ]
    }
}

impl Row for ChangeRow {
    const DATASET: Dataset = Dataset::PersonnummerChanges;

    fn write_csv(&self, out: &mut Vec<u8>) {
        push_txt(out, &self.old_personnummer);
        out.push(b',');
        push_txt(out, &self.new_personnummer);
        out.push(b',');
        push_date(out, self.change_date);
        out.push(b'\n');
    }

    fn columns(rows: &[Self]) -> Vec<ArrayRef> {
        let n = rows.len();
        vec![
            strings(n, rows.iter().map(|r| &r.old_personnummer)),
            strings(n, rows.iter().map(|r| &r.new_personnummer)),
            dates(n, rows.iter().map(|r| r.change_date)),
        ]
    }
}

impl Row for AssistanceRow {
    const DATASET: Dataset = Dataset::AssistanceMonths;

    fn write_csv(&self, out: &mut Vec<u8>) {
        push_txt(out, &self.personnummer);
        out.push(b',');
        push_txt(out, &self.month);
        out.push(b',');
        out.extend_from_slice(format_hours(self.granted_hours_week).as_bytes());
        out.push(b',');
        if let Some(p) = &self.provider_category {
            push_txt(out, p);
        }
        out.push(b'\n');
    }

    fn columns(rows: &[Self]) -> Vec<ArrayRef> {
        let n = rows.len();
        let mut hours = Float64Builder::with_capacity(n);
        let mut provider = StringBuilder::with_capacity(n, n * 6);
        for r in rows {
            hours.append_value(r.granted_hours_week);
            provider.append_option(r.provider_category.as_ref().map(|t| t.as_str()));
        }
        vec![
            strings(n, rows.iter().map(|r| &r.personnummer)),
            strings(n, rows.iter().map(|r| &r.month)),
            Arc::new(hours.finish()),
            Arc::new(provider.finish()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let mut out = Vec::new();
        push_date(
            &mut out,
            NaiveDate::from_ymd_opt(2019, 2, 3).unwrap_or_default(),
        );
        out.push(b' ');
        push_int(&mut out, -1234);
        out.push(b' ');
        push_int(&mut out, 0);
        assert_eq!(String::from_utf8_lossy(&out), "2019-02-03 -1234 0");
        assert_eq!(
            date32(NaiveDate::from_ymd_opt(1970, 1, 2).unwrap_or_default()),
            1
        );
        assert_eq!(format_hours(12.0), "12.0");
    }
}
