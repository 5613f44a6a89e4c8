//! `make bench`: generator throughput, load + validate throughput, and Arrow Flight streaming
//! throughput (whole dataset and person-filter semi-join) for `interventions`; both registries
//! as processes holding their data in memory or serving it from their store on disk (first
//! start, restart, peak RSS while serving a linkage job, side by side); the
//! pseudonymisation kernel next to raw SHA-256 on the same input; and whole linkage jobs
//! (registries → linkage → delivery, mutual TLS on loopback) at two population sizes — each
//! with the peak resident memory of its stage. Prints Markdown tables.
//!
//! Peak memory per stage: the kernel's high-water mark (VmHWM) is reset before each stage by
//! writing `5` to `/proc/self/clear_refs`, then read after it.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use futures::StreamExt;
use arrow::array::{Array, RecordBatch, StringArray};
use clap::Parser;
use regstat_contract::{Dataset, FormatPreference, LoadOptions, Register};
use regstat_registry::{RegistryClient, RegistryConfig, RegistryStore};

#[derive(Debug, Parser)]
#[command(name = "regstat-bench", about = "Benchmarks of the register side (generation, validation, Flight)")]
struct Cli {
    /// Population size to generate.
    #[arg(long, env = "PERSONS", default_value_t = 10_500_000)]
    persons: u64,
    #[arg(long, env = "SEED", default_value_t = 20240101)]
    seed: u64,
    /// Work directory (generated extracts, quarantine files).
    #[arg(long, default_value = "var/bench")]
    work: PathBuf,
    /// Reuse extracts already generated in the work directory (skips the generator stage).
    #[arg(long)]
    reuse: bool,
    /// Persons sent in the semi-join stage.
    #[arg(long, default_value_t = 100_000)]
    semi_join_persons: usize,
    /// Which stages: any of registers, serving, kernel, linkage, production, ledger
    /// (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "registers,serving,kernel,linkage,production,ledger")]
    stages: Vec<String>,
    /// Population sizes of the whole-linkage-job stage (the largest reuses the registers
    /// stage's data when sizes match).
    #[arg(long, value_delimiter = ',', default_value = "1000000,10500000")]
    linkage_sizes: Vec<u64>,
    /// Population sizes of the full-production stage (extract → link → all statistics).
    #[arg(long, value_delimiter = ',', default_value = "100000,10500000")]
    production_sizes: Vec<u64>,
    /// Ledger sizes (earlier answers of the project) to protect a new answer against, in the
    /// ledger stage (population: the smallest production size).
    #[arg(long, value_delimiter = ',', default_value = "1,10,100")]
    ledger_sizes: Vec<usize>,
}

mod ledger;
mod linkage_job;
mod production;
mod serving;

pub(crate) struct Row {
    pub(crate) stage: String,
    pub(crate) seconds: f64,
    pub(crate) rows: u64,
    pub(crate) bytes: u64,
    pub(crate) peak_mib: f64,
}

pub(crate) fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

pub(crate) fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok()))
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// Writes back what earlier stages left dirty in the page cache before a timed registry start
/// (first start, restart, a start with a file added), so that the start pays for its own
/// writes only (the stage before it may have written gigabytes: a store, the duplicate sets).
/// Returns the MiB that were dirty or under writeback, for the log.
pub(crate) fn settle() -> f64 {
    let pending = std::fs::read_to_string("/proc/meminfo")
        .map(|s| {
            s.lines()
                .filter(|l| l.starts_with("Dirty:") || l.starts_with("Writeback:"))
                .filter_map(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok()))
                .sum::<f64>()
                / 1024.0
        })
        .unwrap_or(f64::NAN);
    let _ = std::process::Command::new("sync").status();
    pending
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// Bytes of Arrow data a batch holds (its slices only: decoded Flight batches share their IPC
/// message buffers, so `get_array_memory_size` would count those once per column).
pub(crate) fn data_bytes(batch: &RecordBatch) -> u64 {
    batch.columns().iter().map(|c| c.to_data().get_slice_memory_size().unwrap_or(0) as u64).sum()
}

/// Whether `data` holds a complete generation of exactly this size and seed (its
/// `generation.json` says so), so that a stage may reuse it instead of generating again.
pub(crate) fn generated(data: &std::path::Path, persons: u64, seed: u64) -> bool {
    let Ok(text) = std::fs::read_to_string(data.join("generation.json")) else { return false };
    let Ok(report) = serde_json::from_str::<serde_json::Value>(&text) else { return false };
    report["persons_requested"].as_u64() == Some(persons)
        && report["seed"].as_u64() == Some(seed)
        && data.join("sos/interventions.parquet").exists()
}

/// Generate `persons` into `data` unless [`generated`] finds that generation there.
pub(crate) async fn ensure_generated(data: &std::path::Path, persons: u64, seed: u64) -> anyhow::Result<()> {
    if !generated(data, persons, seed) {
        let cfg = regstat_gen::GenConfig { persons, seed, dirt: 0.0, out_dir: data.to_path_buf() };
        tokio::task::spawn_blocking(move || regstat_gen::generate(&cfg)).await??;
    }
    Ok(())
}

fn rows_bytes(batches: &[RecordBatch]) -> (u64, u64) {
    (batches.iter().map(|b| b.num_rows() as u64).sum(), batches.iter().map(data_bytes).sum())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut table = Vec::new();
    let mut extra = String::new();
    if cli.stages.iter().any(|s| s == "registers" || s == "serving") {
        generate(&cli, &mut table).await?;
    }
    // The registries as processes first, while this process is small: the register stages
    // below leave gigabytes allocated here, which would crowd the children's memory.
    if cli.stages.iter().any(|s| s == "serving") {
        let (rows, side) = serving::run(cli.persons, cli.seed, &cli.work.join("data"), &cli.work.join("serving")).await?;
        table.extend(rows);
        extra.push_str(&side);
    }
    if cli.stages.iter().any(|s| s == "registers") {
        registers(&cli, &mut table).await?;
    }
    if cli.stages.iter().any(|s| s == "kernel") {
        table.extend(linkage_job::kernel());
    }
    if cli.stages.iter().any(|s| s == "linkage") {
        for &n in &cli.linkage_sizes {
            let data = if n == cli.persons { cli.work.join("data") } else { cli.work.join(format!("data-{n}")) };
            table.push(linkage_job::run(n, cli.seed, &data, &cli.work.join(format!("linkage-{n}"))).await?);
        }
    }
    if cli.stages.iter().any(|s| s == "ledger") {
        let n = cli.production_sizes.iter().copied().min().unwrap_or(100_000);
        let data = if n == cli.persons { cli.work.join("data") } else { cli.work.join(format!("data-{n}")) };
        table.extend(ledger::run(n, cli.seed, &data, &cli.work.join("ledger"), &cli.ledger_sizes).await?);
    }
    if cli.stages.iter().any(|s| s == "production") {
        for &n in &cli.production_sizes {
            let data = if n == cli.persons { cli.work.join("data") } else { cli.work.join(format!("data-{n}")) };
            table.extend(production::run(n, cli.seed, &data, &cli.work.join(format!("production-{n}"))).await?);
        }
    }
    print_table(&cli, &table);
    print!("{extra}");
    Ok(())
}

/// Generate the population of the register stages (unless `--reuse` finds it).
async fn generate(cli: &Cli, table: &mut Vec<Row>) -> anyhow::Result<()> {
    let data = cli.work.join("data");
    if !cli.reuse || !generated(&data, cli.persons, cli.seed) {
        reset_peak();
        let t = Instant::now();
        let cfg = regstat_gen::GenConfig { persons: cli.persons, seed: cli.seed, dirt: 0.0, out_dir: data.clone() };
        let report = tokio::task::spawn_blocking(move || regstat_gen::generate(&cfg)).await??;
        let seconds = t.elapsed().as_secs_f64();
        let bytes: u64 = ["fk/persons", "fk/registrations", "fk/decisions", "fk/benefit_payments", "fk/personnummer_changes", "sos/interventions"]
            .iter()
            .flat_map(|s| ["csv", "parquet"].map(|e| data.join(format!("{s}.{e}"))))
            .map(|p| file_size(&p))
            .sum();
        table.push(Row { stage: "generate all datasets (CSV+Parquet)".into(), seconds, rows: report.datasets.values().map(|d| d.rows).sum(), bytes, peak_mib: peak_mib() });
    }

    Ok(())
}

async fn registers(cli: &Cli, table: &mut Vec<Row>) -> anyhow::Result<()> {
    let data = cli.work.join("data");

    let sos_dir = data.join("sos");
    let quarantine = cli.work.join("quarantine");

    // The registry's own store: a first start validates and writes it, a restart on the same
    // extract reads it without revalidating, and a start with a month's file added next to the
    // extract validates that file alone (regstat_registry::persist). The extract is linked into
    // a directory of its own so that the added file reaches no other stage.
    let store_state = cli.work.join("sos-store");
    let _ = std::fs::remove_dir_all(&store_state);
    let inc_dir = cli.work.join("sos-increment");
    let _ = std::fs::remove_dir_all(&inc_dir);
    std::fs::create_dir_all(&inc_dir)?;
    let base = sos_dir.join("interventions.parquet");
    if std::fs::hard_link(&base, inc_dir.join("interventions.parquet")).is_err() {
        std::fs::copy(&base, inc_dir.join("interventions.parquet"))?;
    }
    let mut added = 0u64;
    for stage in [
        "sos-register first start: validate + write store (parquet)",
        "sos-register restart: read store, no validation",
        "sos-register start with a month's file added: store + validate the file alone",
        "sos-register restart after the increment: read store (2 parts)",
    ] {
        if stage.contains("month's file added") {
            added = write_next_month(&base, &inc_dir.join("interventions.next-month.parquet"))?;
        }
        let pending = settle();
        eprintln!("{stage}: {pending:.0} MiB written back before it");
        reset_peak();
        let opts = LoadOptions { format: FormatPreference::Parquet, reference_date: chrono::NaiveDate::from_ymd_opt(2024, 1, 1), ..LoadOptions::default() };
        let t = Instant::now();
        let (d, origin) = {
            let (dir, state) = (inc_dir.clone(), store_state.clone());
            tokio::task::spawn_blocking(move || regstat_registry::persist::load_or_validate(&dir, Dataset::Interventions, &state, &opts, regstat_registry::Hold::Store)).await??
        };
        let seconds = t.elapsed().as_secs_f64();
        eprintln!("{stage}: {origin:?}");
        let validated = origin.rows_validated(d.report());
        let stage = if stage.contains("month's file added") { format!("{stage} ({added} rows added, {validated} validated)") } else { format!("{stage} ({validated} rows validated)") };
        table.push(Row { stage, seconds, rows: d.report().rows_read, bytes: d.report().files.iter().map(|f| file_size(&f.file)).sum(), peak_mib: peak_mib() });
        drop(d);
    }
    let _ = std::fs::remove_dir_all(&inc_dir);

    // The same loads with the row checks and the duplicate sets on one thread, then on every
    // core (the result is the same; the last one is kept for the Flight stages).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(16);
    let mut loaded = None;
    for (threads, label) in [(1, "checks on one thread"), (cores, "checks on every core")] {
        for format in [FormatPreference::Csv, FormatPreference::Parquet] {
            drop(loaded.take()); // free the previous load's data before measuring this one
            reset_peak();
            let opts = LoadOptions { format, reference_date: chrono::NaiveDate::from_ymd_opt(2024, 1, 1), ..LoadOptions::default() };
            let path = regstat_contract::source_path(&sos_dir, Dataset::Interventions, format)?;
            let t = Instant::now();
            let d = regstat_contract::load_file_threads(&path, Dataset::Interventions, &quarantine, &opts, threads).context("loading interventions")?;
            let seconds = t.elapsed().as_secs_f64();
            let name = if format == FormatPreference::Csv { "csv" } else { "parquet" };
            table.push(Row {
                stage: format!("load + validate interventions ({name}), {label}"),
                seconds,
                rows: d.report.rows_read,
                bytes: file_size(&d.report.source_file),
                peak_mib: peak_mib(),
            });
            loaded = Some(d);
        }
    }
    let loaded = loaded.context("nothing loaded")?;

    // Persons for the semi-join: the first distinct ones in the data.
    let mut persons = BTreeSet::new();
    'outer: for b in &loaded.batches {
        let col = b.column(0).as_any().downcast_ref::<StringArray>().context("personnummer column")?;
        for i in 0..col.len() {
            persons.insert(col.value(i).to_string());
            if persons.len() >= cli.semi_join_persons {
                break 'outer;
            }
        }
    }

    let store = Arc::new(RegistryStore::from_loaded(
        Register::Sos,
        vec![loaded],
        chrono::NaiveDate::from_ymd_opt(2024, 1, 1).context("date")?,
        true,
    ));
    let cfg = RegistryConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        full_export: true,
        ..sos_register::test_config(&sos_dir, &cli.work.join("sos-register"))
    };
    let server = regstat_registry::server::build_with_store(cfg, store).await?;
    let addr = server.local_addr;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(server.run(async move {
        let _ = stop_rx.await;
    }));
    let client = RegistryClient::connect(addr).await?;

    reset_peak();
    let t = Instant::now();
    // Count as the batches arrive; nothing is kept (the receiving side's memory stays bounded).
    let mut stream = client.stream("interventions", None).await?;
    let (mut rows, mut bytes) = (0u64, 0u64);
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows() as u64;
        bytes += data_bytes(&batch);
    }
    let seconds = t.elapsed().as_secs_f64();
    table.push(Row { stage: "Flight DoGet interventions (whole)".into(), seconds, rows, bytes, peak_mib: peak_mib() });

    reset_peak();
    let n = persons.len();
    let t = Instant::now();
    let batches = client.fetch_persons("interventions", persons.into_iter().collect(), None).await?;
    let seconds = t.elapsed().as_secs_f64();
    let (rows, bytes) = rows_bytes(&batches);
    table.push(Row { stage: format!("Flight semi-join interventions ({n} persons)"), seconds, rows, bytes, peak_mib: peak_mib() });

    let _ = stop_tx.send(());
    handle.await??;

    Ok(())
}

fn print_table(cli: &Cli, table: &[Row]) {
    println!("\nPERSONS={} SEED={} on {} cores\n", cli.persons, cli.seed, std::thread::available_parallelism().map_or(0, |n| n.get()));
    println!("| stage | wall s | rows | rows/s | MB | MB/s | peak RSS MiB |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in table {
        let mb = r.bytes as f64 / 1e6;
        println!(
            "| {} | {:.2} | {} | {:.0} | {:.1} | {:.1} | {:.0} |",
            r.stage, r.seconds, r.rows, r.rows as f64 / r.seconds, mb, mb / r.seconds, r.peak_mib
        );
    }
}

/// A month's extract after the last one in `base`: that month's rows again under the next
/// month (so no row repeats one of `base`). Returns its rows.
fn write_next_month(base: &Path, out: &Path) -> anyhow::Result<u64> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let month_of = |b: &RecordBatch| -> anyhow::Result<StringArray> {
        let c = b.column_by_name("month").context("month column")?;
        let c = arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8)?;
        Ok(c.as_any().downcast_ref::<StringArray>().context("utf8")?.clone())
    };
    let read = || -> anyhow::Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader> {
        Ok(ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(base)?)?.with_batch_size(1 << 16).build()?)
    };
    let mut last = String::new();
    for b in read()? {
        let m = month_of(&b?)?;
        for i in 0..m.len() {
            if m.is_valid(i) && m.value(i) > last.as_str() {
                last = m.value(i).to_string();
            }
        }
    }
    let (y, mo): (i32, u32) = (last.get(..4).context("month")?.parse()?, last.get(5..7).context("month")?.parse()?);
    let next = if mo == 12 { format!("{}-01", y + 1) } else { format!("{y}-{:02}", mo + 1) };
    let tmp = out.with_extension("parquet.tmp");
    let mut writer: Option<parquet::arrow::ArrowWriter<std::fs::File>> = None;
    let mut rows = 0u64;
    for b in read()? {
        let b = b?;
        let m = month_of(&b)?;
        let keep = arrow::compute::kernels::cmp::eq(&m, &StringArray::new_scalar(last.as_str()))?;
        let b = arrow::compute::filter_record_batch(&b, &keep)?;
        if b.num_rows() == 0 {
            continue;
        }
        let i = b.schema().index_of("month")?;
        let mut cols = b.columns().to_vec();
        cols[i] = arrow::compute::cast(&StringArray::from(vec![next.as_str(); b.num_rows()]), b.schema().field(i).data_type())?;
        let b = RecordBatch::try_new(b.schema(), cols)?;
        rows += b.num_rows() as u64;
        if writer.is_none() {
            writer = Some(parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&tmp)?, b.schema(), None)?);
        }
        writer.as_mut().context("writer")?.write(&b)?;
    }
    writer.context("the extract has no rows")?.close()?;
    std::fs::rename(&tmp, out)?;
    Ok(rows)
}
