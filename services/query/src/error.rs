/// Errors of the query service; each says whose fault it is.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid request: {0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// The delivery on disk does not match its manifest (tampered or incomplete).
    #[error("delivery {id}: {problem}")]
    Delivery { id: String, problem: String },
    #[error("query engine: {0}")]
    Engine(#[from] datafusion::error::DataFusionError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// The release failed its disclosure audit (a bug; nothing is released).
    #[error("disclosure audit failed: {0}")]
    Disclosure(String),
    /// The request cannot be answered in the present state (e.g. decision years outside what
    /// the delivery was linked for).
    #[error("{0}")]
    Precondition(String),
    /// A resource is held by another process.
    #[error("{0}")]
    Busy(String),
    #[error("writing {path}: {reason}")]
    Output { path: String, reason: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
