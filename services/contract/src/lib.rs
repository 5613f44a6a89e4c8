//! The input data contract of SPEC §3: the six datasets' schemas and code lists, row
//! validation, and loading CSV/Parquet extracts into Arrow with a quarantine of rejected rows.
pub mod changes;
pub mod codes;
pub mod delivery;
mod error;
mod fpset;
mod load;
pub mod schema;
pub mod validate;

pub use error::{LoadError, Result};
pub use load::{
    combined_sha256, effective_reference_date, hash_canary, load_dataset, load_file, load_file_threads, load_files, load_files_into, sha256_file, source_path,
    source_paths, BatchOut, DatasetReport, FileReport, FormatPreference, LoadOptions, LoadedDataset, Seen,
};
pub use schema::{Dataset, Register, TimeAxis};
pub use validate::{date_to_days, days_to_date, format_month, parse_month, Reason};
