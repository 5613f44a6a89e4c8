/// Errors of a register holder. Each variant says whose fault it is; the mapping to
/// `tonic::Status` is exhaustive (no catch-all), so a new variant needs a decision.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller's request is malformed.
    #[error("invalid request: {0}")]
    BadRequest(String),
    /// The caller asked for something that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The caller may not have this.
    #[error("{0}")]
    PermissionDenied(String),
    /// Loading the extracts failed (bad input files or I/O).
    #[error("loading extracts: {0}")]
    Load(#[from] regstat_contract::LoadError),
    /// A bug: Arrow kernels failed on our own data.
    #[error("internal error: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// A bug.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<parquet::errors::ParquetError> for Error {
    fn from(e: parquet::errors::ParquetError) -> Self {
        Error::Internal(format!("registry store: {e}"))
    }
}

impl From<Error> for tonic::Status {
    fn from(e: Error) -> Self {
        match e {
            Error::BadRequest(m) => tonic::Status::invalid_argument(m),
            Error::NotFound(m) => tonic::Status::not_found(m),
            Error::PermissionDenied(m) => tonic::Status::permission_denied(m),
            Error::Load(e) => tonic::Status::failed_precondition(e.to_string()),
            Error::Arrow(e) => {
                tracing::error!(error = %e, "arrow kernel failed");
                tonic::Status::internal("internal error")
            }
            Error::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                tonic::Status::internal("internal error")
            }
        }
    }
}
