//! The registries as their own processes (the release binaries beside this one), side by side:
//! holding their data in memory (`--hold memory`, the way registries served before they served
//! from their store) and serving it from the store on disk (`--hold store`). For each: the first
//! start (validate + write the store), a restart on unchanged extracts, each registry's peak
//! resident memory while serving a 2018–2020 linkage job, the job's time, and a DoGet of the
//! whole of `interventions` (the bench starts the registries with whole-dataset export allowed).
//!
//! A registry binds its port only once its data is loaded, so "started" is the first accepted
//! TCP connection. Each child's high-water mark (VmHWM) is read from `/proc/<pid>/status`: once
//! when it is up (the start's peak), and after the job, having been reset (`clear_refs`) when
//! the start was over (the serving peak).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use regstat_server::tls;

use crate::Row;

struct Registry {
    name: &'static str,
    dir: &'static str,
    datasets: &'static [&'static str],
}

const REGISTRIES: [Registry; 2] = [
    Registry { name: "fk-registry", dir: "fk", datasets: &["persons", "registrations", "decisions", "benefit_payments", "personnummer_changes", "assistance_months"] },
    Registry { name: "sos-register", dir: "sos", datasets: &["interventions"] },
];

struct Running {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

fn status_mib(pid: u32, key: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok())))
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// Start one registry and wait until it accepts connections; the time it took.
#[allow(clippy::too_many_arguments)]
fn start(bin: &Path, reg: &Registry, data: &Path, state: &Path, certs: &Path, hold: &str, project: &str, log: &Path) -> anyhow::Result<(Running, f64)> {
    let pending = crate::settle();
    eprintln!("{} start, --hold {hold}: {pending:.0} MiB written back before it", reg.name);
    let addr = free_port()?;
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
    let t = Instant::now();
    let child = Command::new(bin.join(reg.name))
        .env_clear()
        .env("REGISTRY_LISTEN_ADDR", addr.to_string())
        .env("REGISTRY_EXTRACTS_DIR", data.join(reg.dir))
        .env("REGISTRY_STATE_DIR", state)
        .env("REGISTRY_REFERENCE_DATE", "2024-01-01")
        .env("REGISTRY_SELECTION_PROJECTS", project)
        .env("REGISTRY_HOLD", hold)
        // for the whole-dataset stream measured after the job (Socialstyrelsen's register
        // refuses it by default)
        .env("REGISTRY_ALLOW_FULL_EXPORT", "true")
        .env("TLS_CERT", certs.join(format!("{}.pem", reg.name)))
        .env("TLS_KEY", certs.join(format!("{}.key", reg.name)))
        .env("TLS_CA", certs.join("ca.pem"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {} (build it with `make build`)", bin.join(reg.name).display()))?;
    let mut running = Running { child, addr };
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok((running, t.elapsed().as_secs_f64()));
        }
        if let Some(status) = running.child.try_wait()? {
            anyhow::bail!("{} exited while starting ({status}); see its log", reg.name);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Rows of a register's extracts, from the generator's report.
fn register_rows(data: &Path, reg: &Registry) -> u64 {
    let Ok(text) = std::fs::read_to_string(data.join("generation.json")) else { return 0 };
    let Ok(report) = serde_json::from_str::<serde_json::Value>(&text) else { return 0 };
    reg.datasets.iter().filter_map(|d| report["datasets"][*d]["rows"].as_u64()).sum()
}

/// One hold's figures, per registry (fk, sos) where an array.
struct Hold {
    first: [f64; 2],
    first_peak: [f64; 2],
    again: [f64; 2],
    again_peak: [f64; 2],
    serving_peak: [f64; 2],
    job: f64,
    whole: f64,
    whole_rows: u64,
    whole_peak: f64,
}

/// Both holds, side by side; returns the rows of the main table and a side-by-side table.
pub async fn run(persons: u64, seed: u64, data: &Path, work: &Path) -> anyhow::Result<(Vec<Row>, String)> {
    crate::ensure_generated(data, persons, seed).await?;
    let bin: PathBuf = std::env::current_exe()?.parent().context("binary directory")?.to_path_buf();
    let _ = std::fs::remove_dir_all(work);
    std::fs::create_dir_all(work)?;
    let certs = work.join("certs");
    tls::write_dev_certs(&certs, &["fk-registry", "sos-register", "linkage", "operator"])?;
    let secret = work.join("master.secret");
    std::fs::write(&secret, [42u8; 64])?;
    let project = "bench";
    let log = work.join("registries.log");

    let mut rows = Vec::new();
    let mut side: Vec<Hold> = Vec::new();
    for hold in ["memory", "store"] {
        let states: Vec<PathBuf> = REGISTRIES.iter().map(|r| work.join(hold).join(r.name)).collect();
        // First start: validate every extract and write the store. One registry at a time, so
        // that each has both cores.
        let (mut first, mut first_peak) = ([0.0; 2], [0.0; 2]);
        for (i, reg) in REGISTRIES.iter().enumerate() {
            let (r, s) = start(&bin, reg, data, &states[i], &certs, hold, project, &log)?;
            first[i] = s;
            first_peak[i] = status_mib(r.child.id(), "VmHWM:");
            rows.push(Row {
                stage: format!("{} first start, --hold {hold}: validate + write store", reg.name),
                seconds: s,
                rows: register_rows(data, reg),
                bytes: 0,
                peak_mib: first_peak[i],
            });
            drop(r);
        }
        // Restart on unchanged extracts, then serve one job.
        let (mut again, mut again_peak, mut serving_peak) = ([0.0; 2], [0.0; 2], [0.0; 2]);
        let mut running = Vec::new();
        for (i, reg) in REGISTRIES.iter().enumerate() {
            let (r, s) = start(&bin, reg, data, &states[i], &certs, hold, project, &log)?;
            again[i] = s;
            again_peak[i] = status_mib(r.child.id(), "VmHWM:");
            rows.push(Row {
                stage: format!("{} restart, --hold {hold}: extracts unchanged", reg.name),
                seconds: s,
                rows: 0,
                bytes: 0,
                peak_mib: again_peak[i],
            });
            running.push(r);
        }
        for r in &running {
            let _ = std::fs::write(format!("/proc/{}/clear_refs", r.child.id()), "5");
        }
        let job = crate::linkage_job::job(&certs, &secret, (running[0].addr, running[1].addr), &work.join(format!("{hold}-job")), (2018, 2020), project, &[], persons).await?;
        for (i, r) in running.iter().enumerate() {
            serving_peak[i] = status_mib(r.child.id(), "VmHWM:");
            rows.push(Row {
                stage: format!("{} serving the 2018–2020 linkage job, --hold {hold} (job s; registry's peak RSS)", REGISTRIES[i].name),
                seconds: job.seconds,
                rows: job.rows,
                bytes: job.bytes,
                peak_mib: serving_peak[i],
            });
        }
        // The whole of `interventions` in one DoGet, counted as it arrives.
        let sos = &running[1];
        let client = regstat_registry::RegistryClient::connect_tls(sos.addr, &tls::TlsMaterial::from_dir(&certs, "linkage")?, "sos-register").await?;
        let _ = std::fs::write(format!("/proc/{}/clear_refs", sos.child.id()), "5");
        let t = Instant::now();
        let mut stream = client.stream("interventions", None).await?;
        let (mut n, mut bytes) = (0u64, 0u64);
        while let Some(batch) = futures::StreamExt::next(&mut stream).await {
            let batch = batch?;
            n += batch.num_rows() as u64;
            bytes += crate::data_bytes(&batch);
        }
        let whole = t.elapsed().as_secs_f64();
        let whole_peak = status_mib(sos.child.id(), "VmHWM:");
        rows.push(Row { stage: format!("sos-register Flight DoGet interventions (whole), --hold {hold} (registry's peak RSS)"), seconds: whole, rows: n, bytes, peak_mib: whole_peak });
        drop(running);
        side.push(Hold { first, first_peak, again, again_peak, serving_peak, job: job.seconds, whole, whole_rows: n, whole_peak });
    }

    let mut t = String::new();
    t.push_str(&format!("\nRegistries as processes, PERSONS={persons}: held in memory (as until now) and served from the store on disk\n\n"));
    t.push_str("| | --hold memory | --hold store |\n|---|---:|---:|\n");
    let cell = |f: &dyn Fn(&Hold) -> String| side.iter().map(f).collect::<Vec<_>>().join(" | ");
    for (i, reg) in REGISTRIES.iter().enumerate() {
        let n = register_rows(data, reg) as f64;
        t.push_str(&format!("| {} first start: s (rows/s) | {} |\n", reg.name, cell(&|s| format!("{:.1} ({:.0})", s.first[i], n / s.first[i]))));
        t.push_str(&format!("| {} first start: peak RSS MiB | {} |\n", reg.name, cell(&|s| format!("{:.0}", s.first_peak[i]))));
        t.push_str(&format!("| {} restart: s | {} |\n", reg.name, cell(&|s| format!("{:.2}", s.again[i]))));
        t.push_str(&format!("| {} after restart: peak RSS MiB | {} |\n", reg.name, cell(&|s| format!("{:.0}", s.again_peak[i]))));
        t.push_str(&format!("| {} serving the 2018–2020 job: peak RSS MiB | {} |\n", reg.name, cell(&|s| format!("{:.0}", s.serving_peak[i]))));
    }
    t.push_str(&format!("| linkage job 2018–2020: s | {} |\n", cell(&|s| format!("{:.1}", s.job))));
    t.push_str(&format!("| sos-register DoGet of all interventions: s (rows/s) | {} |\n", cell(&|s| format!("{:.1} ({:.0})", s.whole, s.whole_rows as f64 / s.whole))));
    t.push_str(&format!("| sos-register during that DoGet: peak RSS MiB | {} |\n", cell(&|s| format!("{:.0}", s.whole_peak))));
    Ok((rows, t))
}
