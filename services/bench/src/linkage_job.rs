//! Benchmarks of the linkage side: the pseudonymisation kernel, and a whole linkage job.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use regstat_pnr::Pnr;
use regstat_proto::linkage::v1 as pb;
use regstat_proto::linkage::v1::linkage_client::LinkageClient;
use regstat_pseudo::{MasterSecret, Pseudonymiser};
use regstat_registry::RegistryConfig;
use regstat_server::tls::{self, TlsMaterial};
use regstat_server::Access;
use sha2::{Digest, Sha256};

use crate::{peak_mib, reset_peak, Row};

const KERNEL_IDS: usize = 5_000_000;

/// Pseudonyms per second on one core, next to raw SHA-256 of the same 12-byte input.
pub fn kernel() -> Vec<Row> {
    let secret = MasterSecret::from_bytes(vec![7u8; 64]).expect("64 bytes is long enough");
    let key = Pseudonymiser::new(&secret, "bench", 1).expect("valid project");
    let ids: Vec<Pnr> = (0..KERNEL_IDS)
        .map(|i| {
            let day = (i % 28) as u32 + 1;
            let month = ((i / 28) % 12) as u32 + 1;
            let year = 1920 + ((i / 336) % 100) as i32;
            let serial = ((i / 33_600) % 999) as u16 + 1;
            Pnr::from_parts(year, month, day, serial, false).expect("valid parts")
        })
        .collect();
    let mut rows = Vec::new();

    reset_peak();
    let t = Instant::now();
    let mut acc = 0u8;
    for p in &ids {
        acc ^= key.pseudonym(*p)[0];
    }
    let seconds = t.elapsed().as_secs_f64();
    std::hint::black_box(acc);
    rows.push(Row { stage: "kernel: HMAC-SHA-256 pseudonym, 1 core (ids)".into(), seconds, rows: ids.len() as u64, bytes: 12 * ids.len() as u64, peak_mib: peak_mib() });

    let t = Instant::now();
    let mut acc = 0u8;
    let mut buf = [0u8; 12];
    for p in &ids {
        p.write_canonical(&mut buf);
        acc ^= Sha256::digest(buf)[0];
    }
    let seconds = t.elapsed().as_secs_f64();
    std::hint::black_box(acc);
    rows.push(Row { stage: "kernel: raw SHA-256 of the same 12 bytes, 1 core".into(), seconds, rows: ids.len() as u64, bytes: 12 * ids.len() as u64, peak_mib: peak_mib() });
    rows
}

/// Generate (if needed), start both registries and the linkage service in-process with mutual
/// TLS on loopback, run one job for 2018–2020 and time it. Peak RSS covers the whole process
/// (registries' in-memory extracts included).
pub async fn run(persons: u64, seed: u64, data: &Path, work: &Path) -> anyhow::Result<Row> {
    run_years(persons, seed, data, work, (2018, 2020)).await
}

/// [`run`] for other decision years.
pub async fn run_years(persons: u64, seed: u64, data: &Path, work: &Path, years: (i32, i32)) -> anyhow::Result<Row> {
    run_job(persons, seed, data, work, years, "bench", &[]).await
}

/// A job of `project` for these statistics (none: the cohort statistics); Socialstyrelsen
/// authorises the project for a selection by intervention (the payer statistics need it).
pub async fn run_job(persons: u64, seed: u64, data: &Path, work: &Path, years: (i32, i32), project: &str, statistics: &[&str]) -> anyhow::Result<Row> {
    crate::ensure_generated(data, persons, seed).await?;
    let _ = std::fs::remove_dir_all(work);
    let certs = work.join("certs");
    tls::write_dev_certs(&certs, &["fk-registry", "sos-register", "linkage", "operator"])?;
    let secret = work.join("master.secret");
    std::fs::write(&secret, [42u8; 64])?;
    let load = regstat_contract::LoadOptions {
        reference_date: chrono::NaiveDate::from_ymd_opt(2024, 1, 1),
        ..regstat_contract::LoadOptions::default()
    };

    let mut stops = Vec::new();
    let mut addrs = Vec::new();
    for (cfg, id) in [
        (fk_registry::test_config(&data.join("fk"), &work.join("fk-registry")), "fk-registry"),
        (sos_register::test_config(&data.join("sos"), &work.join("sos-register")), "sos-register"),
    ] {
        let cfg = RegistryConfig {
            tls: Some(TlsMaterial::from_dir(&certs, id)?),
            access: Access::new(regstat_registry::server::registry_policy()),
            load: load.clone(),
            selection_projects: vec![project.to_string()],
            ..cfg
        };
        let server = regstat_registry::build(cfg).await?;
        addrs.push(server.local_addr);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        stops.push(tx);
        tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
    }
    let row = job(&certs, &secret, (addrs[0], addrs[1]), work, years, project, statistics, persons).await;
    for s in stops {
        let _ = s.send(());
    }
    row
}

/// One linkage job of `project` against registries listening at `registries` (fk, sos), with
/// the linkage service in this process; its time and this process's peak RSS.
#[allow(clippy::too_many_arguments)]
pub async fn job(
    certs: &Path,
    secret: &Path,
    registries: (SocketAddr, SocketAddr),
    work: &Path,
    years: (i32, i32),
    project: &str,
    statistics: &[&str],
    persons: u64,
) -> anyhow::Result<Row> {
    let certs = certs.to_path_buf();
    let mut stops = Vec::new();
    let addrs = [registries.0, registries.1];
    let material = TlsMaterial::from_dir(&certs, "linkage")?;
    let config = linkage::LinkageConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        state: work.join("linkage"),
        target: linkage::runner::DeliveryTarget::Store(work.join("query")),
        upstreams: linkage::runner::Upstreams::new(addrs[0], addrs[1], Some(material.clone())),
        master: MasterSecret::from_file(secret)?,
        tls: Some(material),
        access: Access::new(linkage::server::linkage_policy()),
    };
    let server = linkage::build(config).await?;
    let addr = server.local_addr;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    stops.push(tx);
    tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));

    let op = TlsMaterial::from_dir(&certs, "operator")?;
    let channel = tonic::transport::Channel::from_shared(format!("https://{addr}"))?.tls_config(op.client("linkage"))?.connect().await?;
    let mut client = LinkageClient::new(channel);

    reset_peak();
    let t = Instant::now();
    let job_id = client
        .submit_job(pb::SubmitJobRequest {
            project: project.into(),
            key_version: 1,
            from_year: years.0,
            to_year: years.1,
            statistics: statistics.iter().map(|s| s.to_string()).collect(),
        })
        .await?
        .into_inner()
        .job_id;
    let mut progress = client.watch_job(pb::JobRef { job_id: job_id.clone() }).await?.into_inner();
    let mut rows = 0;
    while let Some(p) = progress.message().await? {
        rows = rows.max(p.rows);
    }
    let seconds = t.elapsed().as_secs_f64();
    let result = client.get_job_result(pb::JobRef { job_id }).await?.into_inner();
    anyhow::ensure!(result.state == pb::JobState::Succeeded as i32, "linkage job failed: {}", result.error);
    let bytes: u64 = std::fs::read_dir(work.join("query/deliveries").join(&result.delivery_id))?
        .filter_map(|e| e.ok().and_then(|e| e.metadata().ok()).map(|m| m.len()))
        .sum();
    for s in stops {
        let _ = s.send(());
    }
    Ok(Row {
        stage: format!(
            "linkage job {}–{}{}, PERSONS={persons} (rows moved; MB delivered)",
            years.0,
            years.1,
            if statistics.is_empty() { String::new() } else { format!(" for {}", statistics.join(", ")) }
        ),
        seconds,
        rows,
        bytes,
        peak_mib: peak_mib(),
    })
}
