//! A registry's start on one dataset, timed, with the process's peak RSS: the quick loop for
//! the first-load work of `make bench` (stage `registers` measures the same call).
//!
//! `cargo run --release -p regstat-registry --example first_start -- <extracts dir> <state dir> [store|memory] [dataset]`
//! A fresh (empty) state directory gives a first start; the same one again a restart.

use std::time::Instant;

use regstat_contract::{Dataset, FormatPreference, LoadOptions};
use regstat_registry::Hold;

fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(args.len() >= 3, "usage: first_start <extracts dir> <state dir> [store|memory] [dataset]");
    let hold = match args.get(3).map(String::as_str) {
        Some("memory") => Hold::Memory,
        _ => Hold::Store,
    };
    let dataset = match args.get(4) {
        Some(name) => Dataset::from_name(name).ok_or_else(|| anyhow::anyhow!("unknown dataset {name}"))?,
        None => Dataset::Interventions,
    };
    let opts = LoadOptions { format: FormatPreference::Parquet, reference_date: chrono::NaiveDate::from_ymd_opt(2024, 1, 1), ..LoadOptions::default() };
    let t = Instant::now();
    let (held, origin) = regstat_registry::persist::load_or_validate(args[1].as_ref(), dataset, args[2].as_ref(), &opts, hold)?;
    let seconds = t.elapsed().as_secs_f64();
    let rows = held.report().rows_read;
    println!(
        "{}: {origin:?}, {rows} rows read in {seconds:.2} s ({:.0} rows/s), {} held, peak RSS {:.0} MiB",
        dataset.name(),
        rows as f64 / seconds,
        if held.on_disk() { "on disk" } else { "in memory" },
        peak_mib()
    );
    Ok(())
}
