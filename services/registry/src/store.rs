//! The domain side of a register holder: validated datasets (served from the registry's store on
//! disk, or from memory), scans restricted to a month range, selections by intervention and
//! semi-joins on a set of persons, answered a batch at a time. No gRPC here.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, BooleanArray, Date32Array, RecordBatch, StringArray};
use arrow::compute::kernels::boolean::{and, or};
use arrow::compute::kernels::cmp::{gt, gt_eq, lt_eq};
use arrow::compute::{filter_record_batch, is_null};
use arrow::datatypes::SchemaRef;
use chrono::NaiveDate;
use regstat_contract::{
    format_month, parse_month, Dataset, DatasetReport, LoadOptions, LoadedDataset, Register, TimeAxis,
};

use crate::held::{Held, Hold, PersonSet};
use crate::persist::{self, Origin};

use crate::error::{Error, Result};

/// An inclusive range of months, as month numbers (`year * 12 + month - 1`); ends may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MonthRange {
    pub from: Option<i32>,
    pub to: Option<i32>,
}

impl MonthRange {
    /// Parse `YYYY-MM` ends (empty = open). Errors name the rule, not the value.
    pub fn parse(from: &str, to: &str) -> Result<Self> {
        let end = |s: &str, which: &'static str| -> Result<Option<i32>> {
            if s.is_empty() {
                Ok(None)
            } else {
                parse_month(s).map(Some).ok_or(Error::BadRequest(format!("{which} is not a YYYY-MM month")))
            }
        };
        let r = MonthRange { from: end(from, "from_month")?, to: end(to, "to_month")? };
        if let (Some(a), Some(b)) = (r.from, r.to) {
            if a > b {
                return Err(Error::BadRequest("from_month is after to_month".into()));
            }
        }
        Ok(r)
    }

    pub fn is_open(&self) -> bool {
        self.from.is_none() && self.to.is_none()
    }

    fn first_day(m: i32) -> i32 {
        day_number(m.div_euclid(12), (m.rem_euclid(12) + 1) as u32, 1)
    }
    fn last_day(m: i32) -> i32 {
        Self::first_day(m + 1) - 1
    }
}

fn day_number(y: i32, m: u32, d: u32) -> i32 {
    let date = NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN);
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN)).num_days() as i32
}

/// Summary of one dataset for listings.
#[derive(Debug, Clone)]
pub struct DatasetInfo {
    pub dataset: Dataset,
    pub schema: SchemaRef,
    pub rows: usize,
    pub bytes: usize,
}

/// What a request asks of one dataset, checked before any row is read ([`RegistryStore::run`]
/// then streams the answer a batch at a time).
#[derive(Debug, Clone)]
pub struct Query {
    dataset: Dataset,
    range: MonthRange,
    filter: Filter,
}

#[derive(Debug, Clone)]
enum Filter {
    All,
    Intervention { law: String, code: String },
    Persons(Arc<PersonSet>),
}

impl Query {
    pub fn dataset(&self) -> Dataset {
        self.dataset
    }
}

/// The validated extracts of one register.
#[derive(Debug)]
pub struct RegistryStore {
    register: Register,
    datasets: BTreeMap<Dataset, Held>,
    /// Whether each dataset was validated at this start or read from the registry's store.
    origins: BTreeMap<Dataset, Origin>,
    reference_date: NaiveDate,
    /// When false, whole-dataset streams of person-level data are refused and only semi-joins
    /// are answered (Socialstyrelsen returns only the persons asked for, SPEC §2).
    full_export: bool,
}

impl RegistryStore {
    /// Load every dataset of `register` from `extracts_dir`; quarantine files go to
    /// `state_dir/quarantine/`. A dataset whose extract is unchanged since it was validated is
    /// read from the registry's store (`state_dir/store/`, [`crate::persist`]) instead. With
    /// [`Hold::Store`] answers are then read from the store's files a batch at a time.
    pub fn load(
        register: Register,
        extracts_dir: &Path,
        state_dir: &Path,
        opts: &LoadOptions,
        full_export: bool,
        hold: Hold,
    ) -> Result<Self> {
        let mut datasets = BTreeMap::new();
        let mut origins = BTreeMap::new();
        for &d in register.datasets() {
            let (held, origin) = persist::load_or_validate(extracts_dir, d, state_dir, opts, hold)?;
            datasets.insert(d, held);
            origins.insert(d, origin);
        }
        let reference_date = opts
            .reference_date
            .unwrap_or_else(|| chrono::Utc::now().date_naive());
        Ok(RegistryStore { register, datasets, origins, reference_date, full_export })
    }

    /// A store over already-loaded datasets held in memory (tests, benchmarks).
    pub fn from_loaded(
        register: Register,
        loaded: Vec<LoadedDataset>,
        reference_date: NaiveDate,
        full_export: bool,
    ) -> Self {
        let origins = loaded.iter().map(|d| (d.dataset, Origin::Validated)).collect();
        let datasets = loaded.into_iter().map(|d| (d.dataset, Held::Memory(d))).collect();
        RegistryStore { register, datasets, origins, reference_date, full_export }
    }

    pub fn register(&self) -> Register {
        self.register
    }

    /// Reference date for 10-digit personnummer in requests.
    pub fn reference_date(&self) -> NaiveDate {
        self.reference_date
    }

    pub fn full_export(&self) -> bool {
        self.full_export
    }

    /// How `dataset` was loaded at this start (validated, or read from the store).
    pub fn origin(&self, dataset: Dataset) -> Option<Origin> {
        self.origins.get(&dataset).copied()
    }

    /// Rows read and validated at this start (0 when every extract came from the store; the
    /// added files' rows only after an increment).
    pub fn rows_validated(&self) -> u64 {
        self.datasets.iter().map(|(d, h)| self.origins.get(d).map_or(0, |o| o.rows_validated(h.report()))).sum()
    }

    pub fn reports(&self) -> Vec<DatasetReport> {
        self.datasets.values().map(|d| d.report().clone()).collect()
    }

    pub fn infos(&self) -> Vec<DatasetInfo> {
        self.datasets
            .values()
            .map(|d| DatasetInfo { dataset: d.dataset(), schema: d.schema().clone(), rows: d.num_rows(), bytes: d.num_bytes() })
            .collect()
    }

    pub fn dataset(&self, name: &str) -> Result<&Held> {
        Dataset::from_name(name)
            .and_then(|d| self.datasets.get(&d))
            .ok_or_else(|| Error::NotFound(format!("no dataset `{name}` in this register")))
    }

    fn check_range(dataset: Dataset, range: MonthRange) -> Result<()> {
        if !range.is_open() && dataset.time_axis() == TimeAxis::None {
            return Err(Error::BadRequest(format!("dataset {dataset} has no time axis; omit the range")));
        }
        Ok(())
    }

    /// The rows of `name` within `range` (whole dataset if the range is open).
    pub fn scan(&self, name: &str, range: MonthRange) -> Result<Query> {
        let d = self.dataset(name)?.dataset();
        if !self.full_export {
            return Err(Error::PermissionDenied(format!(
                "this register returns only the persons asked for: use the person-filter exchange for `{name}`"
            )));
        }
        Self::check_range(d, range)?;
        Ok(Query { dataset: d, range, filter: Filter::All })
    }

    /// The rows of one intervention `(law, code)` for everyone who has it, within `range` (a
    /// selection by intervention, SPEC-DECISIONS §5c.1). Answered whether or not whole-dataset
    /// streams are allowed: the caller's authorisation is checked by the adapter, per project.
    pub fn select_intervention(&self, name: &str, law: &str, code: &str, range: MonthRange) -> Result<Query> {
        let d = self.dataset(name)?.dataset();
        if d != Dataset::Interventions {
            return Err(Error::BadRequest(format!("a selection by intervention applies to `interventions`, not `{name}`")));
        }
        if !regstat_contract::codes::is_intervention(law, code) {
            return Err(Error::BadRequest("the selection's (law, intervention) is not in the intervention list".into()));
        }
        Self::check_range(d, range)?;
        Ok(Query { dataset: d, range, filter: Filter::Intervention { law: law.to_string(), code: code.to_string() } })
    }

    /// The rows of `name` concerning exactly `persons` (compact keys, `Pnr::as_u64`), within
    /// `range`: a semi-join on the dataset's person key.
    pub fn semi_join(&self, name: &str, persons: Arc<PersonSet>, range: MonthRange) -> Result<Query> {
        let d = self.dataset(name)?.dataset();
        Self::check_range(d, range)?;
        Ok(Query { dataset: d, range, filter: Filter::Persons(persons) })
    }

    pub fn schema(&self, q: &Query) -> Result<SchemaRef> {
        Ok(self.dataset(q.dataset.name())?.schema().clone())
    }

    /// Answer `q` a batch at a time into `sink` (which returns `false` to stop: the caller went
    /// away). Returns the rows answered.
    pub fn run(&self, q: &Query, sink: &mut dyn FnMut(RecordBatch) -> bool) -> Result<u64> {
        let held = self.dataset(q.dataset.name())?;
        let persons = match &q.filter {
            Filter::Persons(p) => Some(p),
            _ => None,
        };
        let mut rows = 0u64;
        held.for_each(persons, &mut |batch, _keys| {
            let batch = match &q.filter {
                Filter::Intervention { law, code } => {
                    let column = |c: &str| {
                        batch
                            .column_by_name(c)
                            .and_then(|a| a.as_any().downcast_ref::<StringArray>().cloned())
                            .ok_or_else(|| Error::Internal(format!("column {c} missing")))
                    };
                    let mask = and(
                        &arrow::compute::kernels::cmp::eq(&column("law")?, &StringArray::new_scalar(law.as_str()))?,
                        &arrow::compute::kernels::cmp::eq(&column("intervention")?, &StringArray::new_scalar(code.as_str()))?,
                    )?;
                    if mask.true_count() == 0 {
                        return Ok(true);
                    }
                    filter_record_batch(&batch, &mask)?
                }
                _ => batch,
            };
            let batch = Self::restrict(q.dataset, &batch, q.range)?;
            if batch.num_rows() == 0 {
                return Ok(true);
            }
            rows += batch.num_rows() as u64;
            Ok(sink(batch))
        })?;
        Ok(rows)
    }

    /// The whole answer to `q` in memory (tests, small answers).
    pub fn collect(&self, q: &Query) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let mut out = Vec::new();
        self.run(q, &mut |b| {
            out.push(b);
            true
        })?;
        Ok((self.schema(q)?, out))
    }

    /// Number of rows `scan` would return, without the export check (for FlightInfo).
    pub fn count(&self, name: &str, range: MonthRange) -> Result<usize> {
        let d = self.dataset(name)?;
        if range.is_open() {
            return Ok(d.num_rows());
        }
        Self::check_range(d.dataset(), range)?;
        let mut n = 0usize;
        d.for_each(None, &mut |b, _| {
            n += Self::restrict(d.dataset(), &b, range)?.num_rows();
            Ok(true)
        })?;
        Ok(n)
    }

    fn restrict(dataset: Dataset, batch: &RecordBatch, range: MonthRange) -> Result<RecordBatch> {
        if range.is_open() {
            return Ok(batch.clone());
        }
        let column = |name: &str| {
            batch.column_by_name(name).cloned().ok_or_else(|| Error::Internal(format!("column {name} missing")))
        };
        let all = || BooleanArray::from(vec![true; batch.num_rows()]);
        let mask = match dataset.time_axis() {
            TimeAxis::None => {
                return Err(Error::BadRequest(format!("dataset {dataset} has no time axis; omit the range")))
            }
            TimeAxis::Month(col) => {
                let values = column(col)?;
                let values = values.as_any().downcast_ref::<StringArray>().ok_or_else(|| Error::Internal("month column type".into()))?;
                let lo = match range.from {
                    Some(m) => gt_eq(values, &StringArray::new_scalar(format_month(m)))?,
                    None => all(),
                };
                let hi = match range.to {
                    Some(m) => lt_eq(values, &StringArray::new_scalar(format_month(m)))?,
                    None => all(),
                };
                and(&lo, &hi)?
            }
            TimeAxis::Date(col) => {
                let values = column(col)?;
                let values = values.as_any().downcast_ref::<Date32Array>().ok_or_else(|| Error::Internal("date column type".into()))?;
                let lo = match range.from {
                    Some(m) => gt_eq(values, &Date32Array::new_scalar(MonthRange::first_day(m)))?,
                    None => all(),
                };
                let hi = match range.to {
                    Some(m) => lt_eq(values, &Date32Array::new_scalar(MonthRange::last_day(m)))?,
                    None => all(),
                };
                and(&lo, &hi)?
            }
            TimeAxis::Period(from_col, to_col) => {
                // Overlap of [from, to) with [first day of range, last day of range].
                let from = column(from_col)?;
                let from = from.as_any().downcast_ref::<Date32Array>().ok_or_else(|| Error::Internal("date column type".into()))?;
                let to = column(to_col)?;
                let to_dates = to.as_any().downcast_ref::<Date32Array>().ok_or_else(|| Error::Internal("date column type".into()))?;
                let starts_before_end = match range.to {
                    Some(m) => lt_eq(from, &Date32Array::new_scalar(MonthRange::last_day(m)))?,
                    None => all(),
                };
                let ends_after_start = match range.from {
                    Some(m) => {
                        let open = is_null(to_dates)?;
                        let later = gt(to_dates, &Date32Array::new_scalar(MonthRange::first_day(m)))?;
                        // null comparisons are null; treat as false before OR-ing with `open`.
                        let later = BooleanArray::from(
                            (0..later.len()).map(|i| later.is_valid(i) && later.value(i)).collect::<Vec<_>>(),
                        );
                        or(&open, &later)?
                    }
                    None => all(),
                };
                and(&starts_before_end, &ends_after_start)?
            }
        };
        Ok(filter_record_batch(batch, &mask)?)
    }
}
