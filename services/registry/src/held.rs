//! A dataset as a registry serves it: from its parts in the registry's store on disk, read a
//! batch at a time so that memory stays bounded whatever the register's size, or from memory
//! (a dataset that could not be stored, or a registry told to hold its data in memory).

use std::collections::HashSet;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use ahash::RandomState;
use arrow::array::{AsArray, BooleanArray, RecordBatch, UInt64Array};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{SchemaRef, UInt64Type};
use parquet::arrow::arrow_reader::{ArrowPredicateFn, ParquetRecordBatchReaderBuilder, RowFilter};
use parquet::arrow::ProjectionMask;
use regstat_contract::{Dataset, DatasetReport, LoadedDataset};

use crate::error::{Error, Result};

/// Name of the compact person key column in a store part.
pub(crate) const KEY_COLUMN: &str = "__person_key";

/// A set of persons, as compact keys (`Pnr::as_u64`).
pub type PersonSet = HashSet<u64, RandomState>;

/// Where a registry holds a dataset it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Hold {
    /// Serve from the registry's store on disk, a batch at a time: memory stays bounded.
    #[default]
    Store,
    /// Read every dataset into memory at start (the way registries served before they had a
    /// store): faster answers, memory growing with the register.
    Memory,
}

/// A validated dataset in the registry's store: the parts' files, their row count and the
/// report of every extract file.
#[derive(Debug)]
pub struct Stored {
    pub(crate) dataset: Dataset,
    pub(crate) schema: SchemaRef,
    pub(crate) parts: Vec<PathBuf>,
    pub(crate) rows: u64,
    /// Uncompressed size of the parts' data (Parquet row groups).
    pub(crate) bytes: u64,
    pub(crate) report: DatasetReport,
    pub(crate) batch_rows: usize,
}

/// A dataset a registry serves.
#[derive(Debug)]
pub enum Held {
    Memory(LoadedDataset),
    Stored(Stored),
}

impl Held {
    pub fn dataset(&self) -> Dataset {
        match self {
            Held::Memory(d) => d.dataset,
            Held::Stored(s) => s.dataset,
        }
    }

    pub fn schema(&self) -> &SchemaRef {
        match self {
            Held::Memory(d) => &d.schema,
            Held::Stored(s) => &s.schema,
        }
    }

    pub fn report(&self) -> &DatasetReport {
        match self {
            Held::Memory(d) => &d.report,
            Held::Stored(s) => &s.report,
        }
    }

    pub fn num_rows(&self) -> usize {
        match self {
            Held::Memory(d) => d.num_rows(),
            Held::Stored(s) => s.rows as usize,
        }
    }

    /// Bytes of the data: Arrow memory in memory, uncompressed Parquet data on disk.
    pub fn num_bytes(&self) -> usize {
        match self {
            Held::Memory(d) => d.num_bytes(),
            Held::Stored(s) => s.bytes as usize,
        }
    }

    /// Whether answers are read from the registry's store on disk.
    pub fn on_disk(&self) -> bool {
        matches!(self, Held::Stored(_))
    }

    /// Call `f` with every batch (canonical schema) and its person keys, in row order; with
    /// `persons`, only the rows of those persons (on disk, a Parquet row filter on the key
    /// column: the other columns are decoded for the matching rows only). Stops early when `f`
    /// returns `false`.
    pub fn for_each(
        &self,
        persons: Option<&Arc<PersonSet>>,
        f: &mut dyn FnMut(RecordBatch, UInt64Array) -> Result<bool>,
    ) -> Result<()> {
        match self {
            Held::Memory(d) => {
                for (batch, keys) in d.batches.iter().zip(&d.person_keys) {
                    let (batch, keys) = match persons {
                        None => (batch.clone(), keys.clone()),
                        Some(p) => {
                            let mask: BooleanArray = keys.values().iter().map(|k| Some(p.contains(k))).collect();
                            if mask.true_count() == 0 {
                                continue;
                            }
                            let keys = arrow::compute::filter(keys, &mask)?;
                            (filter_record_batch(batch, &mask)?, keys.as_primitive::<UInt64Type>().clone())
                        }
                    };
                    if !f(batch, keys)? {
                        return Ok(());
                    }
                }
                Ok(())
            }
            Held::Stored(s) => s.for_each(persons, f),
        }
    }

    /// Every row in memory (tests, comparisons).
    pub fn read_all(&self) -> Result<LoadedDataset> {
        let (mut batches, mut person_keys) = (Vec::new(), Vec::new());
        self.for_each(None, &mut |b, k| {
            batches.push(b);
            person_keys.push(k);
            Ok(true)
        })?;
        Ok(LoadedDataset { dataset: self.dataset(), schema: self.schema().clone(), batches, person_keys, report: self.report().clone() })
    }
}

impl Stored {
    fn for_each(&self, persons: Option<&Arc<PersonSet>>, f: &mut dyn FnMut(RecordBatch, UInt64Array) -> Result<bool>) -> Result<()> {
        let mut rows = 0u64;
        for path in &self.parts {
            let file = File::open(path).map_err(|e| Error::Internal(format!("registry store {}: {e}", path.display())))?;
            let mut builder = ParquetRecordBatchReaderBuilder::try_new(file)?.with_batch_size(self.batch_rows.max(1));
            // The canonical columns and the key, by position in this part.
            let file_schema = builder.schema().clone();
            let index = |name: &str| {
                file_schema.index_of(name).map_err(|_| Error::Internal(format!("store part {} lacks column {name}", path.display())))
            };
            let columns = self.schema.fields().iter().map(|f| index(f.name())).collect::<Result<Vec<_>>>()?;
            let key = index(KEY_COLUMN)?;
            if let Some(p) = persons {
                let leaf = builder
                    .parquet_schema()
                    .columns()
                    .iter()
                    .position(|c| c.name() == KEY_COLUMN)
                    .ok_or_else(|| Error::Internal("store part lacks the person keys".into()))?;
                let mask = ProjectionMask::leaves(builder.parquet_schema(), [leaf]);
                let p = Arc::clone(p);
                let predicate = ArrowPredicateFn::new(mask, move |b: RecordBatch| {
                    Ok(b.column(0).as_primitive::<UInt64Type>().values().iter().map(|k| Some(p.contains(k))).collect::<BooleanArray>())
                });
                builder = builder.with_row_filter(RowFilter::new(vec![Box::new(predicate)]));
            }
            for b in builder.build()? {
                let b = b?;
                if b.num_rows() == 0 {
                    continue;
                }
                rows += b.num_rows() as u64;
                let keys = b.column(key).as_primitive_opt::<UInt64Type>().ok_or_else(|| Error::Internal("person key column type".into()))?.clone();
                let batch = RecordBatch::try_new(self.schema.clone(), columns.iter().map(|&i| b.column(i).clone()).collect())?;
                if !f(batch, keys)? {
                    return Ok(());
                }
            }
        }
        if persons.is_none() && rows != self.rows {
            return Err(Error::Internal(format!("the registry's store holds {rows} rows of {}, its stamp {}", self.dataset, self.rows)));
        }
        Ok(())
    }
}
