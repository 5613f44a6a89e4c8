use std::path::PathBuf;

/// Errors that stop a whole file from loading (row-level problems are quarantined instead).
///
/// Messages name files, columns and rules — never a value from the data.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Bad input: no extract for a dataset in the directory.
    #[error("no extract for dataset {dataset} in {dir} (expected {dataset}.parquet or {dataset}.csv)")]
    Missing { dataset: String, dir: PathBuf },
    /// Bad input: a required column is absent.
    #[error("{file}: required column `{column}` is missing")]
    MissingColumn { file: PathBuf, column: String },
    /// Bad input: a Parquet column has a type that is neither the contract's nor text.
    #[error("{file}: column `{column}` has type {found}, expected {expected} or Utf8")]
    ColumnType { file: PathBuf, column: String, found: String, expected: String },
    /// Bad input: the file cannot be read as CSV / Parquet at all.
    #[error("{file}: unreadable {format} file: {reason}")]
    Unreadable { file: PathBuf, format: &'static str, reason: String },
    /// Environment: I/O on the source or quarantine file.
    #[error("{file}: {source}")]
    Io { file: PathBuf, source: std::io::Error },
    /// Bug: building Arrow arrays failed.
    #[error("internal error building Arrow data for {dataset}: {source}")]
    Arrow { dataset: String, source: arrow::error::ArrowError },
}

pub type Result<T, E = LoadError> = std::result::Result<T, E>;
