//! Time each statistic of a delivery: its SQL, then its cells and cube (a profiling aid).
//!
//! `cargo run --release -p regstat-query --example profile_stats -- <query data dir> [from to]`

use std::time::Instant;

use regstat_query::delivery::Delivery;
use regstat_query::engine::{Engine, Years};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).ok_or_else(|| anyhow::anyhow!("usage: profile_stats <query data dir> [from to]"))?;
    let from = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(2018);
    let to = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(2020);
    let d = Delivery::latest(std::path::Path::new(dir))?;
    let t0 = Instant::now();
    let engine = Engine::new(&d, Years::new(from, to)?).await?;
    println!("engine: {:.3} s", t0.elapsed().as_secs_f64());
    for stat in engine.statistics() {
        let t = Instant::now();
        let batches = engine.sql(&(stat.sql)(from, to)).await?;
        let sql = t.elapsed().as_secs_f64();
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        let t = Instant::now();
        let table = engine.compute(stat).await?;
        let all = t.elapsed().as_secs_f64();
        println!("{:<40} SQL {sql:>7.3} s ({rows:>6} rows)  SQL+cells+cube {all:>7.3} s {:>6} rows out", stat.id, table.rows.len());
    }
    println!("total: {:.3} s", t0.elapsed().as_secs_f64());
    if std::env::var_os("STATS_ONLY").is_some() {
        return Ok(());
    }
    // Numbered by the units' identifiers, as every service path does (reproducible).
    let tables = regstat_query::output::to_canonical_units(engine.compute_all().await?, &engine.unit_names()?);
    let policy = regstat_query::disclosure::Policy::default();
    let t = Instant::now();
    let (released, summary) = regstat_query::disclosure::protect_release(&tables, policy);
    println!(
        "disclosure: {:.3} s ({} cells, {} primary, {} secondary; {} LP solves in {:.3} s, {} looks settled at earlier optima)",
        t.elapsed().as_secs_f64(),
        summary.cells,
        summary.primary,
        summary.secondary,
        summary.lp_solves,
        summary.lp_seconds,
        summary.settled_by_points
    );
    // A digest of what is shown, to compare runs.
    let digest = released.iter().flatten().fold(0xcbf2_9ce4_8422_2325u64, |h, r| (h ^ r.n.map_or(u64::MAX, |n| n as u64)).wrapping_mul(0x100_0000_01b3));
    println!("released digest: {digest:016x}");
    let t = Instant::now();
    let audit = regstat_query::disclosure::audit(&tables, &released, regstat_query::disclosure::Prior::EMPTY, policy, &summary.certificates);
    println!("audit: {:.3} s (passed: {})", t.elapsed().as_secs_f64(), audit.passed);
    Ok(())
}
