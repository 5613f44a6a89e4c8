//! `regstat-gen`: write synthetic register extracts into `DATA_DIR` (SPEC §8, §10 `make data`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use regstat_gen::{generate, GenConfig, DEFAULT_PERSONS, DEFAULT_SEED};

/// Deterministic synthetic register extracts (persons, registrations, decisions, benefit
/// payments, interventions) as CSV and Parquet, calibrated to Socialförsäkringsrapport 2024:1.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Size of the population register (national scale: 10500000).
    #[arg(long, env = "PERSONS", default_value_t = DEFAULT_PERSONS)]
    persons: u64,
    /// Seed: the same seed gives the same bytes.
    #[arg(long, env = "SEED", default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Output directory (`DATA_DIR`).
    #[arg(long = "out", env = "DATA_DIR", default_value = "data/demo")]
    out_dir: PathBuf,
    /// Share of rows per dataset with one realistic defect (0 = clean).
    #[arg(long, env = "DIRT", default_value_t = 0.0)]
    dirt: f64,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let cfg = GenConfig {
        persons: args.persons,
        seed: args.seed,
        dirt: args.dirt,
        out_dir: args.out_dir,
    };
    match generate(&cfg) {
        Ok(report) => {
            println!(
                "generated {} persons ({} applicants), seed {}, dirt {} into {}",
                report.persons,
                report.applicants,
                report.seed,
                report.dirt,
                cfg.out_dir.display()
            );
            for (name, d) in &report.datasets {
                println!(
                    "  {:<9} {:<17} {:>12} rows ({} with a defect)",
                    d.register, name, d.rows, d.defective_rows
                );
            }
            let rows = report.total_rows();
            let secs = report.elapsed_seconds.max(1e-9);
            println!(
                "{rows} rows in {secs:.1} s ({:.0} rows/s)",
                rows as f64 / secs
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("regstat-gen: {e}");
            ExitCode::FAILURE
        }
    }
}
