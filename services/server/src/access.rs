//! Caller authorisation. Every RPC handler calls [`Access::check`] first.
//!
//! Today the only policy is [`Access::allow_all`] (development, plain loopback). The mTLS
//! issue replaces it with a table from caller identity (client certificate) to allowed RPCs;
//! handlers do not change.

use std::sync::Arc;

use tonic::{Request, Status};

/// Decides whether the caller of a request may call an RPC.
pub trait Policy: Send + Sync + 'static {
    fn check(&self, peer: &Peer, rpc: &str) -> Result<(), Status>;
    /// The caller's identity, when the policy can tell (for audit records).
    fn identify(&self, _peer: &Peer) -> Option<String> {
        None
    }
}

/// What is known of a caller.
#[derive(Debug, Clone, Default)]
pub struct Peer {
    /// DER certificates presented by the client (empty without TLS).
    pub certs: Vec<Vec<u8>>,
}

#[derive(Clone)]
pub struct Access {
    policy: Arc<dyn Policy>,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Access")
    }
}

struct AllowAll;

impl Policy for AllowAll {
    fn check(&self, _peer: &Peer, _rpc: &str) -> Result<(), Status> {
        Ok(())
    }
}

impl Access {
    /// Every caller may call everything (development only; logged loudly at start-up).
    pub fn allow_all() -> Self {
        Access { policy: Arc::new(AllowAll) }
    }

    pub fn new(policy: impl Policy) -> Self {
        Access { policy: Arc::new(policy) }
    }

    pub fn check<T>(&self, request: &Request<T>, rpc: &str) -> Result<(), Status> {
        self.policy.check(&peer(request), rpc)
    }

    /// Who is calling: the identity in the client certificate, or `unauthenticated` without
    /// TLS (development mode).
    pub fn caller<T>(&self, request: &Request<T>) -> String {
        self.policy.identify(&peer(request)).unwrap_or_else(|| "unauthenticated".to_string())
    }
}

fn peer<T>(request: &Request<T>) -> Peer {
    let certs = request
        .peer_certs()
        .map(|c| c.iter().map(|c| c.as_ref().to_vec()).collect())
        .unwrap_or_default();
    Peer { certs }
}
