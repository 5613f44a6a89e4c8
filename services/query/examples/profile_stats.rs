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
    if std::env::var_os("FAMILY").is_some() {
        // The release family: every served range protected together, as on a delivery's first
        // request (an empty ledger in a temporary directory).
        let policy = regstat_query::disclosure::Policy::default();
        let ranges = policy.ranges.of(from, to);
        let t = Instant::now();
        let members = regstat_query::output::family_members(&d, &ranges).await?;
        println!("family SQL ({} ranges): {:.3} s", ranges.len(), t.elapsed().as_secs_f64());
        let dir = std::env::temp_dir().join(format!("profile-family-{}", std::process::id()));
        let mut ledger = regstat_query::ledger::Ledger::open(&dir, "profile")?;
        let t = Instant::now();
        let releases = regstat_query::output::protect_family(members, &mut ledger, d.manifest.key_fingerprint(), policy);
        let _ = std::fs::remove_dir_all(&dir);
        let releases = releases?;
        let s = &releases[0].summary;
        let (seconds, lp, solves, points) = (t.elapsed().as_secs_f64(), s.lp_seconds, s.lp_solves, s.settled_by_points);
        println!("family protected and audited: {seconds:.3} s (LP {lp:.3} s, {solves} solves, {points} settled at points; {} primary + {} secondary of {} cells)", s.primary, s.secondary, s.cells);
        let digest = digest(releases.iter().flat_map(|r| r.tables.iter().flat_map(|t| t.rows.iter())));
        println!("family digest: {digest:016x}");
        return Ok(());
    }
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
    let digest = digest(released.iter().flatten());
    println!("released digest: {digest:016x}");
    let t = Instant::now();
    let audit = regstat_query::disclosure::audit(&tables, &released, regstat_query::disclosure::Prior::EMPTY, policy, &summary.certificates);
    println!("audit: {:.3} s (passed: {})", t.elapsed().as_secs_f64(), audit.passed);
    Ok(())
}

/// A digest of the counts shown (FNV-1a over each row's `n`, hidden as all ones), to compare
/// runs.
fn digest<'a>(rows: impl Iterator<Item = &'a regstat_query::disclosure::Released>) -> u64 {
    rows.fold(0xcbf2_9ce4_8422_2325u64, |h, r| (h ^ r.n.map_or(u64::MAX, |n| n as u64)).wrapping_mul(0x100_0000_01b3))
}
