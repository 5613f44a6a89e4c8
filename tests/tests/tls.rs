//! Mutual TLS on a registry: only the linkage identity, with a certificate from the platform
//! CA, is answered.

use regstat_registry::{RegistryClient, RegistryConfig};
use regstat_server::tls::{self, TlsMaterial};
use regstat_server::Access;
use regstat_tests::fixture;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

struct Running {
    addr: std::net::SocketAddr,
    certs: tempfile::TempDir,
    _state: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start_fk_with_tls() -> Running {
    let certs = tempfile::tempdir().expect("tempdir");
    tls::write_dev_certs(certs.path(), &["fk-registry", "linkage", "query"]).expect("certs");
    let state = tempfile::tempdir().expect("tempdir");
    let material = TlsMaterial::from_dir(certs.path(), "fk-registry").expect("material");
    let cfg = RegistryConfig {
        tls: Some(material),
        access: Access::new(regstat_registry::server::registry_policy()),
        load: regstat_contract::LoadOptions {
            reference_date: chrono::NaiveDate::from_ymd_opt(2024, 1, 1),
            ..Default::default()
        },
        ..fk_registry::test_config(&fixture("defects/fk"), state.path())
    };
    let server = regstat_registry::build(cfg).await.expect("builds");
    let addr = server.local_addr;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    Running { addr, certs, _state: state, _stop: tx }
}

async fn list_with(addr: std::net::SocketAddr, tls: ClientTlsConfig) -> Result<usize, tonic::Status> {
    let channel = Channel::from_shared(format!("https://{addr}"))
        .expect("uri")
        .tls_config(tls)
        .expect("tls config")
        .connect()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    RegistryClient::new(channel).load_report().await.map(|r| r.datasets.len())
}

#[tokio::test]
async fn linkage_identity_is_answered() {
    let r = start_fk_with_tls().await;
    let linkage = TlsMaterial::from_dir(r.certs.path(), "linkage").expect("linkage cert");
    let client = RegistryClient::connect_tls(r.addr, &linkage, "fk-registry").await.expect("connects");
    assert_eq!(client.load_report().await.expect("report").datasets.len(), 6);
    assert_eq!(client.list().await.expect("list").len(), 6);
}

#[tokio::test]
async fn another_identity_is_permission_denied() {
    let r = start_fk_with_tls().await;
    let query = TlsMaterial::from_dir(r.certs.path(), "query").expect("query cert");
    let err = list_with(r.addr, query.client("fk-registry")).await.expect_err("refused");
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    let client = RegistryClient::connect_tls(r.addr, &query, "fk-registry").await.expect("tls connects");
    let err = client.fetch("persons", None).await.expect_err("flight refused too");
    match err {
        arrow_flight::error::FlightError::Tonic(s) => assert_eq!(s.code(), tonic::Code::PermissionDenied),
        other => panic!("expected a status, got {other}"),
    }
}

#[tokio::test]
async fn no_client_certificate_is_refused() {
    let r = start_fk_with_tls().await;
    let ca = std::fs::read_to_string(r.certs.path().join("ca.pem")).expect("ca");
    let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca)).domain_name(tls::identity_name("fk-registry"));
    let err = list_with(r.addr, tls).await.expect_err("refused");
    // The TLS handshake (or the first request) fails: no application status is ever produced.
    assert!(matches!(err.code(), tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Internal), "{err:?}");
    assert_ne!(err.code(), tonic::Code::Ok);
}

#[tokio::test]
async fn certificate_from_another_ca_is_refused() {
    let r = start_fk_with_tls().await;
    let (other_ca_pem, _, other_issuer) = tls::dev_ca("some other CA").expect("ca");
    let (cert, key) = tls::issue(&other_issuer, "linkage").expect("cert");
    let platform_ca = std::fs::read_to_string(r.certs.path().join("ca.pem")).expect("ca");
    // Trusts the server's CA, but presents a "linkage" certificate signed by another CA.
    let forged = TlsMaterial { cert_pem: cert, key_pem: key, ca_pem: platform_ca };
    let err = list_with(r.addr, forged.client("fk-registry")).await.expect_err("refused");
    assert!(matches!(err.code(), tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Internal), "{err:?}");
    // And a client that trusts only the other CA does not accept the server either.
    let (cert, key) = tls::issue(&other_issuer, "linkage").expect("cert");
    let foreign = TlsMaterial { cert_pem: cert, key_pem: key, ca_pem: other_ca_pem };
    assert!(RegistryClient::connect_tls(r.addr, &foreign, "fk-registry").await.is_err());
}
