//! Scheduled production over the whole in-process stack (two registries, linkage, query; real
//! gRPC with mutual TLS on 127.0.0.1:0): a run survives a registry restart mid-run, writes a
//! new complete run directory and never touches an earlier one; so does a run that starts while
//! the linkage service is down; the trace id of the run reaches
//! the registry's logs; every service's metrics are scrapeable.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use regstat_registry::RegistryConfig;
use regstat_scheduler::{run_once, Schedule};
use regstat_server::retry::Backoff;
use regstat_server::tls::{self, TlsMaterial};
use regstat_server::Access;
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Log lines of the whole process (every service runs in it), for the trace-propagation check.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Running {
    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = self.task.await;
    }
}

fn spawn<F>(addr: SocketAddr, run: impl FnOnce(oneshot::Receiver<()>) -> F) -> Running
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    Running { addr, stop: Some(tx), task: tokio::spawn(run(rx)) }
}

async fn start_registry(cfg: RegistryConfig, certs: &Path, identity: &str, addr: Option<SocketAddr>) -> Running {
    let cfg = RegistryConfig {
        tls: Some(TlsMaterial::from_dir(certs, identity).expect("cert")),
        access: Access::new(regstat_registry::server::registry_policy()),
        load: regstat_contract::LoadOptions { reference_date: chrono::NaiveDate::from_ymd_opt(2024, 1, 1), ..Default::default() },
        listen: addr.unwrap_or(cfg.listen),
        ..cfg
    };
    let server = regstat_registry::build(cfg).await.expect("registry builds");
    spawn(server.local_addr, |rx| async move {
        server.run(async move { let _ = rx.await; }).await.expect("serves")
    })
}

fn sha256(p: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(p).expect("read")))
}

/// Every file of every run directory with its hash, and the names under `runs/`.
fn runs(out: &Path) -> (Vec<String>, BTreeMap<PathBuf, String>) {
    let mut names: Vec<String> = std::fs::read_dir(out.join("runs"))
        .expect("runs")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut files = BTreeMap::new();
    for n in &names {
        for e in std::fs::read_dir(out.join("runs").join(n)).expect("run dir") {
            let p = e.expect("entry").path();
            files.insert(p.clone(), sha256(&p));
        }
    }
    (names, files)
}

/// A run directory is complete: its manifest lists files that exist with the stated hashes.
fn assert_complete(run_dir: &Path) {
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(run_dir.join("manifest.json")).expect("manifest")).expect("json");
    let files = m["files"].as_array().expect("files");
    assert!(files.len() >= 20, "every statistic as CSV and Parquet, the workbook, the audit: {}", files.len());
    for f in files {
        let name = f["name"].as_str().expect("name");
        assert_eq!(sha256(&run_dir.join(name)), f["sha256"].as_str().expect("sha256"), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_production_survives_a_registry_restart_and_never_overwrites_a_run() {
    let logs = Logs::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter("info")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init()
        .expect("the only subscriber of this test binary");

    let tmp = tempfile::tempdir().expect("tempdir");
    let (data, certs, state, out) = (tmp.path().join("data"), tmp.path().join("certs"), tmp.path().join("state"), tmp.path().join("out"));
    let d = data.clone();
    tokio::task::spawn_blocking(move || regstat_gen::generate(&regstat_gen::GenConfig { persons: 3_000, seed: 11, dirt: 0.01, out_dir: d }))
        .await
        .expect("join")
        .expect("generates");
    tls::write_dev_certs(&certs, &["fk-registry", "sos-register", "linkage", "query", "operator"]).expect("certs");
    let secret = tmp.path().join("master.secret");
    std::fs::write(&secret, b"a test master secret of more than 32 bytes, never logged").expect("secret");
    let metrics = regstat_server::metrics::spawn_exporter("127.0.0.1:0".parse().expect("addr")).await.expect("metrics");

    let fk_cfg = || fk_registry::test_config(&data.join("fk"), &state.join("fk-registry"));
    let fk = start_registry(fk_cfg(), &certs, "fk-registry", None).await;
    let sos = start_registry(sos_register::test_config(&data.join("sos"), &state.join("sos-register")), &certs, "sos-register", None).await;
    let material = TlsMaterial::from_dir(&certs, "linkage").expect("cert");
    // The query service first: the linkage service pushes its deliveries to it over Arrow
    // Flight (no directory is shared between them).
    let query_server = regstat_query::server::build(regstat_query::server::QueryConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        store: state.join("query"),
        out: out.clone(),
        policy: Default::default(),
        tls: Some(TlsMaterial::from_dir(&certs, "query").expect("cert")),
        access: Access::new(regstat_query::server::query_policy()),
    })
    .await
    .expect("query builds");
    let query = spawn(query_server.local_addr, |rx| async move {
        query_server.run(async move { let _ = rx.await; }).await.expect("serves")
    });

    let (fk_addr, sos_addr, query_addr) = (fk.addr, sos.addr, query.addr);
    let start_linkage = |addr: SocketAddr| {
        let mut upstreams = linkage::runner::Upstreams::new(fk_addr, sos_addr, Some(material.clone()));
        upstreams.backoff = Backoff { initial: Duration::from_millis(100), max: Duration::from_millis(500), budget: Duration::from_secs(30) };
        let config = linkage::LinkageConfig {
            listen: addr,
            state: state.join("linkage"),
            target: linkage::runner::DeliveryTarget::Query(query_addr.into()),
            upstreams,
            master: regstat_pseudo::MasterSecret::from_file(&secret).expect("secret"),
            tls: Some(material.clone()),
            access: Access::new(linkage::server::linkage_policy()),
        };
        async move {
            let server = linkage::build(config).await.expect("linkage builds");
            spawn(server.local_addr, |rx| async move {
                server.run(async move { let _ = rx.await; }).await.expect("serves")
            })
        }
    };
    let linkage = start_linkage(SocketAddr::from(([127, 0, 0, 1], 0))).await;
    let operator = TlsMaterial::from_dir(&certs, "operator").expect("cert");
    let linkage_addr = linkage.addr;
    let schedule = |from, to| {
        let mut s = Schedule::new(linkage_addr, query.addr, Some(operator.clone()), from, to);
        s.backoff = Backoff { initial: Duration::from_millis(100), max: Duration::from_millis(500), budget: Duration::from_secs(30) };
        s
    };
    let quiet = |_: &str| {};

    // The first scheduled run, everything up.
    let first = run_once(&schedule(2018, 2020), &quiet).await.expect("first run");
    assert!(first.production.audit_passed);
    let (names, before) = runs(&out);
    assert_eq!(names, vec![first.production.run_id.clone()]);
    assert_complete(&out.join(&first.production.run_dir));

    // The next run starts while fk-registry is down and it comes back mid-run.
    fk.stop().await;
    let s2 = schedule(2019, 2020);
    let second = tokio::spawn(async move { run_once(&s2, &|_: &str| {}).await });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!second.is_finished(), "the run waits for the registry instead of failing");
    let fk = start_registry(fk_cfg(), &certs, "fk-registry", Some(fk_addr)).await;
    let second = second.await.expect("join").expect("the run survives the restart");
    assert_eq!(second.job_attempts, 1, "the linkage service's retries absorbed the restart");
    assert_ne!(second.production.run_id, first.production.run_id);

    // A new complete run directory; the earlier one untouched; no staging left anywhere.
    let (names, after) = runs(&out);
    let mut want = vec![first.production.run_id.clone(), second.production.run_id.clone()];
    want.sort();
    assert_eq!(names, want, "exactly the two runs, no staging directory");
    assert_complete(&out.join(&second.production.run_dir));
    for (path, hash) in &before {
        assert_eq!(after.get(path), Some(hash), "{} changed", path.display());
    }
    let deliveries: Vec<String> = std::fs::read_dir(state.join("query/deliveries"))
        .expect("deliveries")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(deliveries.iter().all(|d| !d.starts_with('.')), "no staged delivery left: {deliveries:?}");
    // The top of OUT_DIR is the newest run.
    assert_eq!(sha256(&out.join("manifest.json")), sha256(&out.join(&second.production.run_dir).join("manifest.json")));

    // Running the same production again finds the same run and rewrites nothing.
    let again = run_once(&schedule(2019, 2020), &quiet).await.expect("third run");
    assert_eq!(again.production.run_id, second.production.run_id);
    assert_eq!(runs(&out), (names, after.clone()));

    // The linkage service is down when a run starts and comes back: the submission is retried.
    linkage.stop().await;
    let s4 = schedule(2020, 2020);
    let fourth = tokio::spawn(async move { run_once(&s4, &|_: &str| {}).await });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!fourth.is_finished(), "the run waits for the linkage service instead of failing");
    let linkage = start_linkage(linkage_addr).await;
    let fourth = fourth.await.expect("join").expect("the run survives the linkage restart");
    assert_complete(&out.join(&fourth.production.run_dir));
    assert_eq!(runs(&out).0.len(), 3, "one more run, nothing else");
    assert!(runs(&out).1.iter().all(|(p, h)| after.get(p).is_none_or(|old| old == h)), "earlier runs untouched");

    // The scheduler's trace id reached the registry through the linkage service.
    let text = String::from_utf8(logs.0.lock().expect("logs").clone()).expect("utf-8 logs");
    let registry_lines: Vec<&str> = text.lines().filter(|l| l.contains("service=\"fk-registry\"") && l.contains("person-filter exchange answered")).collect();
    assert!(registry_lines.iter().any(|l| l.contains(&format!("trace_id={}", second.trace_id))), "no fk-registry log line of trace {}", second.trace_id);
    assert!(text.lines().any(|l| l.contains("transient failure; retrying") && l.contains("fk-registry")), "the retries are logged");

    // Metrics of every service are scrapeable.
    let body = regstat_server::metrics::scrape(metrics).await.expect("scrape");
    for service in ["fk-registry", "sos-register", "linkage", "query"] {
        assert!(body.contains(&format!("regstat_rpc_requests_total{{service=\"{service}\"")), "no request counts of {service}");
    }
    for series in [
        "regstat_extract_rows{service=\"fk-registry\",dataset=\"persons\",state=\"quarantined\"}",
        "regstat_rows_total{service=\"sos-register\",dataset=\"interventions\",direction=\"served\"}",
        "regstat_rows_total{service=\"linkage\",dataset=\"decisions\",direction=\"pulled_from_fk-registry\"}",
        "regstat_suppressed_cells_total{service=\"query\",rule=\"secondary\"}",
        "regstat_job_duration_seconds_count{service=\"linkage\",job=\"linkage_job\",outcome=\"succeeded\"}",
        "regstat_job_duration_seconds_count{service=\"query\",job=\"production\",outcome=\"succeeded\"}",
        // The first call of a job to FK (it is down when the run starts).
        "regstat_call_retries_total{call=\"fk-registry personnummer_changes\"}",
        "regstat_call_retries_total{call=\"linkage SubmitJob\"}",
    ] {
        assert!(body.contains(series), "missing {series}");
    }

    for r in [query, linkage, fk, sos] {
        r.stop().await;
    }
}
