//! Mutual TLS (rustls via tonic) and caller identities.
//!
//! Every service and client has a certificate from the platform CA. A certificate's identity
//! is the DNS subject-alternative name `<identity>.regstat.internal` (e.g.
//! `linkage.regstat.internal`); service certificates also name `localhost` and `127.0.0.1` so
//! that loopback clients can verify them. Servers require a client certificate from the
//! configured CA; [`IdentityPolicy`] then maps the caller's identity to the RPCs it may call.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType};
use rustls_pki_types::{CertificateDer, ServerName};
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};
use tonic::Status;

use crate::access::{Peer, Policy};

/// Domain under which identities are named in certificates.
pub const IDENTITY_DOMAIN: &str = "regstat.internal";

/// The identities of the platform (service identities and the development analytics client).
pub const SERVICE_IDENTITIES: [&str; 4] = ["fk-registry", "sos-register", "linkage", "query"];
pub const ANALYTICS_IDENTITY: &str = "analytics";
/// The identity that submits linkage jobs and production runs (an operator or the scheduler).
pub const OPERATOR_IDENTITY: &str = "operator";

/// `<identity>.regstat.internal`.
pub fn identity_name(identity: &str) -> String {
    format!("{identity}.{IDENTITY_DOMAIN}")
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {what} {path}: {source}")]
    Read { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{0}")]
    Config(String),
}

/// PEM material of one identity plus the CA it trusts.
#[derive(Clone)]
pub struct TlsMaterial {
    pub cert_pem: String,
    pub key_pem: String,
    pub ca_pem: String,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsMaterial(…)")
    }
}

/// Where a service finds its certificate, key and CA.
#[derive(Debug, Clone, clap::Args)]
pub struct TlsArgs {
    /// This service's certificate (PEM).
    #[arg(long, env = "TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// This service's private key (PEM).
    #[arg(long, env = "TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// The platform CA (PEM): peers must present certificates it signed.
    #[arg(long, env = "TLS_CA")]
    pub tls_ca: Option<PathBuf>,
    /// Serve and call plain-text gRPC without certificates. Development only; logged loudly.
    #[arg(long, env = "INSECURE_PLAINTEXT", default_value_t = false)]
    pub insecure_plaintext: bool,
}

impl TlsArgs {
    /// `Ok(None)` only with `--insecure-plaintext`; a missing or unreadable file fails with one
    /// clear line.
    pub fn load(&self) -> Result<Option<TlsMaterial>, TlsError> {
        if self.insecure_plaintext {
            tracing::warn!("INSECURE: plain-text gRPC without certificates or caller authorisation (--insecure-plaintext)");
            return Ok(None);
        }
        let need = |p: &Option<PathBuf>, what: &'static str, flag: &str| {
            p.clone().ok_or_else(|| TlsError::Config(format!("no {what}: pass {flag} (or --insecure-plaintext for development)")))
        };
        TlsMaterial::from_files(
            &need(&self.tls_cert, "certificate", "--tls-cert")?,
            &need(&self.tls_key, "private key", "--tls-key")?,
            &need(&self.tls_ca, "CA certificate", "--tls-ca")?,
        )
        .map(Some)
    }
}

fn read(path: &Path, what: &'static str) -> Result<String, TlsError> {
    std::fs::read_to_string(path).map_err(|source| TlsError::Read { what, path: path.to_path_buf(), source })
}

impl TlsMaterial {
    pub fn from_files(cert: &Path, key: &Path, ca: &Path) -> Result<Self, TlsError> {
        Ok(TlsMaterial { cert_pem: read(cert, "certificate")?, key_pem: read(key, "private key")?, ca_pem: read(ca, "CA certificate")? })
    }

    /// `STATE_DIR/certs/<identity>.{pem,key}` and `ca.pem`, as `make certs` writes them.
    pub fn from_dir(dir: &Path, identity: &str) -> Result<Self, TlsError> {
        Self::from_files(&dir.join(format!("{identity}.pem")), &dir.join(format!("{identity}.key")), &dir.join("ca.pem"))
    }

    /// Server side: present our certificate, require a client certificate from the CA.
    pub fn server(&self) -> ServerTlsConfig {
        ServerTlsConfig::new()
            .identity(Identity::from_pem(&self.cert_pem, &self.key_pem))
            .client_ca_root(Certificate::from_pem(&self.ca_pem))
            .client_auth_optional(false)
    }

    /// Client side: trust only the CA, present our certificate, and expect the server to be
    /// `server_identity`.
    pub fn client(&self, server_identity: &str) -> ClientTlsConfig {
        ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.ca_pem))
            .identity(Identity::from_pem(&self.cert_pem, &self.key_pem))
            .domain_name(identity_name(server_identity))
    }
}

/// Does this DER certificate carry `identity`?
pub fn has_identity(cert: &[u8], identity: &str) -> bool {
    let der = CertificateDer::from(cert);
    let Ok(ee) = webpki::EndEntityCert::try_from(&der) else { return false };
    let Ok(name) = ServerName::try_from(identity_name(identity)) else { return false };
    ee.verify_is_valid_for_subject_name(&name).is_ok()
}

/// Which of `candidates` the certificate carries (the first that matches).
pub fn identity_of<'a>(cert: &[u8], candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates.into_iter().find(|id| has_identity(cert, id))
}

/// An explicit authorisation table: RPC name (or `*`) → identities allowed to call it.
#[derive(Debug, Clone, Default)]
pub struct IdentityPolicy {
    table: BTreeMap<String, Vec<String>>,
}

impl IdentityPolicy {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every identity named anywhere in the table.
    pub fn identities(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.table.values().flatten().map(String::as_str).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Allow `identities` to call `rpc` (`*` = every RPC of the service).
    pub fn allow(mut self, rpc: &str, identities: &[&str]) -> Self {
        self.table.entry(rpc.to_string()).or_default().extend(identities.iter().map(|s| s.to_string()));
        self
    }
}

impl Policy for IdentityPolicy {
    fn check(&self, peer: &Peer, rpc: &str) -> Result<(), Status> {
        let Some(cert) = peer.certs.first() else {
            return Err(Status::unauthenticated("a client certificate is required"));
        };
        let allowed = self.table.get(rpc).into_iter().chain(self.table.get("*")).flatten();
        for identity in allowed {
            if has_identity(cert, identity) {
                return Ok(());
            }
        }
        tracing::warn!(rpc, "caller identity not authorised");
        Err(Status::permission_denied(format!("caller is not authorised to call {rpc}")))
    }

    fn identify(&self, peer: &Peer) -> Option<String> {
        let cert = peer.certs.first()?;
        identity_of(cert, self.identities()).map(str::to_string)
    }
}

/// Write a development CA and one certificate per identity into `dir`
/// (`ca.pem`, `ca.key`, `<identity>.pem`, `<identity>.key`). Keys are written mode 0600.
pub fn write_dev_certs(dir: &Path, identities: &[&str]) -> Result<(), TlsError> {
    std::fs::create_dir_all(dir).map_err(|source| TlsError::Write { path: dir.to_path_buf(), source })?;
    let (ca_pem, ca_key, issuer) = dev_ca("regstat development CA")?;
    write(dir.join("ca.pem"), &ca_pem, false)?;
    write(dir.join("ca.key"), &ca_key, true)?;
    for id in identities {
        let (cert, key) = issue(&issuer, id)?;
        write(dir.join(format!("{id}.pem")), &cert, false)?;
        write(dir.join(format!("{id}.key")), &key, true)?;
    }
    Ok(())
}

/// A fresh CA: (certificate PEM, key PEM, issuer).
pub fn dev_ca(name: &str) -> Result<(String, String, Issuer<'static, KeyPair>), TlsError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    let key_pem = key.serialize_pem();
    Ok((cert.pem(), key_pem, Issuer::new(params, key)))
}

/// A certificate for `identity` signed by `issuer`: (certificate PEM, key PEM). Valid as server
/// and client certificate, for `<identity>.regstat.internal`, `localhost` and `127.0.0.1`.
pub fn issue(issuer: &Issuer<'_, KeyPair>, identity: &str) -> Result<(String, String), TlsError> {
    let mut params = CertificateParams::new(vec![identity_name(identity), "localhost".to_string()])?;
    params.subject_alt_names.push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
    params.distinguished_name.push(DnType::CommonName, identity);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, issuer)?;
    Ok((cert.pem(), key.serialize_pem()))
}

fn write(path: PathBuf, contents: &str, secret: bool) -> Result<(), TlsError> {
    std::fs::write(&path, contents).map_err(|source| TlsError::Write { path: path.clone(), source })?;
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(|source| TlsError::Write { path: path.clone(), source })?;
    }
    #[cfg(not(unix))]
    let _ = secret;
    Ok(())
}
