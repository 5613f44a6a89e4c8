/// Errors of the linkage service; each says whose fault it is. The conversion to
/// `tonic::Status` is exhaustive. Messages never carry identifiers or data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller's request is malformed.
    #[error("invalid request: {0}")]
    BadRequest(String),
    #[error("no such job: {0}")]
    NotFound(String),
    /// A registry could not be reached or failed mid-transfer.
    #[error("registry {service} unavailable: {reason}")]
    Registry { service: &'static str, reason: String },
    /// The query service could not be reached or refused the delivery.
    #[error("delivering to the query service: {0}")]
    Delivery(String),
    /// Writing the delivery or the audit log failed.
    #[error("writing {what}: {reason}")]
    Storage { what: String, reason: String },
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    /// A bug.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<arrow::error::ArrowError> for Error {
    fn from(e: arrow::error::ArrowError) -> Self {
        Error::Internal(e.to_string())
    }
}

impl From<Error> for tonic::Status {
    fn from(e: Error) -> Self {
        match e {
            Error::BadRequest(m) => tonic::Status::invalid_argument(m),
            Error::NotFound(m) => tonic::Status::not_found(format!("no such job: {m}")),
            e @ (Error::Registry { .. } | Error::Delivery(_)) => tonic::Status::unavailable(e.to_string()),
            e @ (Error::Storage { .. } | Error::Audit(_)) => {
                tracing::error!(error = %e, "storage failure");
                tonic::Status::internal("storage failure (see the linkage service's log)")
            }
            Error::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                tonic::Status::internal("internal error")
            }
        }
    }
}
