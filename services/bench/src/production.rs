//! The full production at a population size: extract → link (a whole linkage job over mTLS),
//! then the statistics stage split into its parts (SQL + cubes for every statistic; release-wide
//! disclosure control; the audit; writing the outputs), and the same statistics' SQL on DuckDB
//! from the same Parquet files, in the same run (`peer/duckdb_statistics.py`, if `duckdb` is
//! importable by `python3`), with our time ÷ DuckDB's; then the same for a delivery of more
//! decision years (how the statistics grow with the cohort).

use std::path::Path;
use std::time::Instant;

use regstat_query::delivery::Delivery;
use regstat_query::disclosure;
use regstat_query::engine::{Engine, Years};

use crate::{linkage_job, peak_mib, reset_peak, Row};

pub async fn run(persons: u64, seed: u64, data: &Path, work: &Path) -> anyhow::Result<Vec<Row>> {
    let mut rows = vec![linkage_job::run(persons, seed, data, work).await?];
    let d = Delivery::latest(&work.join("query"))?;
    let input_rows: u64 = d.manifest.files.iter().map(|f| f.rows).sum();
    let input_bytes: u64 = d.manifest.files.iter().filter_map(|f| std::fs::metadata(d.dir.join(&f.name)).ok()).map(|m| m.len()).sum();
    let years = Years::new(2018, 2020)?;
    let policy = disclosure::Policy::default();

    reset_peak();
    let t = Instant::now();
    let engine = Engine::new(&d, years).await?;
    let tables = engine.compute_all().await?;
    let seconds = t.elapsed().as_secs_f64();
    let published: usize = tables.iter().map(|t| t.rows.len()).sum();
    // Units numbered by their identifiers, as every production path does (untimed): protection's
    // tie-breaks, and so the cells it hides, do not depend on the SQL's partition order.
    let tables = regstat_query::output::to_canonical_units(tables, &engine.unit_names()?);
    rows.push(Row {
        stage: format!("statistics: SQL + cubes, all {} (PERSONS={persons}; {published} rows out)", tables.len()),
        seconds,
        rows: input_rows,
        bytes: input_bytes,
        peak_mib: peak_mib(),
    });

    let (support_s, cohort) = support_statistics(&d, years).await?;
    rows.push(Row {
        stage: format!("statistics: SQL + cubes, the 10 support statistics (the DuckDB peer's SQL and more; cohort {cohort})"),
        seconds: support_s,
        rows: input_rows,
        bytes: input_bytes,
        peak_mib: peak_mib(),
    });
    let sql_cubes_s = seconds;

    reset_peak();
    let t = Instant::now();
    let (released, summary) = disclosure::protect_release(&tables, policy);
    let seconds = t.elapsed().as_secs_f64();
    rows.push(Row {
        stage: format!(
            "disclosure: primary + secondary over the release ({} cells, {} coordinates, {} primary, {} secondary)",
            summary.cells, summary.coordinates, summary.primary, summary.secondary
        ),
        seconds,
        rows: summary.cells as u64,
        bytes: 0,
        peak_mib: peak_mib(),
    });
    let t = Instant::now();
    let audit = disclosure::audit(&tables, &released, disclosure::Prior::EMPTY, policy, &summary.certificates);
    anyhow::ensure!(audit.passed, "disclosure audit failed: {:?}", audit.problems);
    rows.push(Row { stage: "disclosure audit (independent re-check)".into(), seconds: t.elapsed().as_secs_f64(), rows: audit.cells as u64, bytes: 0, peak_mib: peak_mib() });

    let t = Instant::now();
    let (m, _) = regstat_query::output::produce(&d, years, policy, &work.join("out")).await?;
    let production_s = t.elapsed().as_secs_f64();
    let bytes: u64 = m.files.iter().filter_map(|f| std::fs::metadata(work.join("out").join(&f.name)).ok()).map(|x| x.len()).sum();
    rows.push(Row {
        stage: "whole production (all of the above + CSV, Parquet, xlsx, manifest)".into(),
        seconds: production_s,
        rows: input_rows,
        bytes,
        peak_mib: peak_mib(),
    });

    // What the service does on the first request for the delivery: every served range of its
    // linked years (a release family) computed and protected together against the project's
    // ledger (empty here), audited once, each range recorded.
    reset_peak();
    let t = Instant::now();
    let ranges = policy.ranges.of(years.from, years.to);
    let members = regstat_query::output::family_members(&d, &ranges).await?;
    let sql_s = t.elapsed().as_secs_f64();
    let ledger_dir = work.join("family-ledger");
    let _ = std::fs::remove_dir_all(&ledger_dir);
    let mut ledger = regstat_query::ledger::Ledger::open(&ledger_dir, "bench")?;
    let fingerprint = d.manifest.key_fingerprint().to_string();
    let releases = regstat_query::output::protect_family(members, &mut ledger, &fingerprint, policy)?;
    let s = &releases[0].summary;
    rows.push(Row {
        stage: format!(
            "release family: all {} ranges of {}–{} protected together ({:.1} s SQL; {} cells of the union, {} coordinates; LP {:.1} s, {} solves, {} looks settled at earlier optima; the whole range: {} primary + {} secondary of {} cells)",
            ranges.len(),
            years.from,
            years.to,
            sql_s,
            s.ledger_cells + ledger.cells(),
            s.coordinates,
            s.lp_seconds,
            s.lp_solves,
            s.settled_by_points,
            s.primary,
            s.secondary,
            s.cells
        ),
        seconds: t.elapsed().as_secs_f64(),
        rows: ledger.cells() as u64,
        bytes: 0,
        peak_mib: peak_mib(),
    });

    if let Some(v) = duckdb_peer(&d.dir, years, cohort)? {
        let peer_s = v["seconds"].as_f64().unwrap_or(f64::NAN);
        rows.push(Row {
            stage: format!(
                "peer: DuckDB {} — the same SQL, finest cells only (cohort {cohort} = ours); ours ÷ DuckDB: support SQL + cubes {:.2}, all 21 statistics' SQL + cubes {:.2}, whole production {:.1}",
                v["duckdb"].as_str().unwrap_or("?"),
                support_s / peer_s,
                sql_cubes_s / peer_s,
                production_s / peer_s
            ),
            seconds: peer_s,
            rows: input_rows,
            bytes: input_bytes,
            peak_mib: v["peak_mib"].as_f64().unwrap_or(f64::NAN),
        });
    }
    rows.extend(scaling(persons, seed, data, work, (2004, 2021)).await?);
    rows.extend(payer(persons, seed, data, work).await?);
    Ok(rows)
}

/// Our SQL + cubes of the support statistics (SPEC §5: the DuckDB peer's set, with cubes and
/// unit sets besides), from a fresh engine (its views materialised); seconds and the cohort.
async fn support_statistics(d: &Delivery, years: Years) -> anyhow::Result<(f64, u64)> {
    let t = Instant::now();
    let engine = Engine::new(d, years).await?;
    for stat in engine.statistics().into_iter().filter(|s| s.family == regstat_query::stats::Family::Support) {
        engine.compute(stat).await?;
    }
    let seconds = t.elapsed().as_secs_f64();
    let n = engine.sql("SELECT count(*) AS n FROM cohort").await?;
    let n = arrow::compute::cast(n[0].column(0), &arrow::datatypes::DataType::UInt64)?;
    let n = n.as_any().downcast_ref::<arrow::array::UInt64Array>().map(|a| a.value(0)).unwrap_or(0);
    Ok((seconds, n))
}

/// The DuckDB peer (`peer/duckdb_statistics.py`) on a delivery, if `python3` can import
/// `duckdb`: its JSON (seconds, cohort, rows, version, peak). An error when its cohort is not
/// ours (`cohort`): then the two did not compute the same thing.
fn duckdb_peer(dir: &Path, years: Years, cohort: u64) -> anyhow::Result<Option<serde_json::Value>> {
    let script = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string())).join("peer/duckdb_statistics.py");
    match std::process::Command::new("python3").arg(&script).arg(dir).arg(years.from.to_string()).arg(years.to.to_string()).output() {
        Ok(out) if out.status.success() => {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
            let peer = v["cohort"].as_u64().unwrap_or(0);
            anyhow::ensure!(peer == cohort, "DuckDB's cohort ({peer}) differs from ours ({cohort})");
            Ok(Some(v))
        }
        Ok(out) => {
            eprintln!("DuckDB peer skipped: {}", String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or(""));
            Ok(None)
        }
        Err(e) => {
            eprintln!("DuckDB peer skipped: python3: {e}");
            Ok(None)
        }
    }
}

/// How the statistics grow with the cohort: a delivery for more decision years (a larger
/// cohort from the same population), its support statistics' SQL + cubes beside the DuckDB
/// peer's, every statistic's SQL + cubes, and release-wide disclosure control over them.
async fn scaling(persons: u64, seed: u64, data: &Path, work: &Path, (from, to): (i32, i32)) -> anyhow::Result<Vec<Row>> {
    let work = work.join(format!("scaling-{from}-{to}"));
    let mut rows = vec![linkage_job::run_years(persons, seed, data, &work, (from, to)).await?];
    let d = Delivery::latest(&work.join("query"))?;
    let input_rows: u64 = d.manifest.files.iter().map(|f| f.rows).sum();
    let years = Years::new(from, to)?;
    reset_peak();
    let (support_s, cohort) = support_statistics(&d, years).await?;
    let peer = duckdb_peer(&d.dir, years, cohort)?;
    let peer_s = peer.as_ref().and_then(|v| v["seconds"].as_f64()).unwrap_or(f64::NAN);
    rows.push(Row {
        stage: format!("scaling {from}–{to}: support statistics' SQL + cubes (cohort {cohort}; DuckDB peer {peer_s:.2} s, ours ÷ DuckDB {:.2})", support_s / peer_s),
        seconds: support_s,
        rows: input_rows,
        bytes: 0,
        peak_mib: peak_mib(),
    });
    reset_peak();
    let t = Instant::now();
    let engine = Engine::new(&d, years).await?;
    let tables = engine.compute_all().await?;
    rows.push(Row {
        stage: format!("scaling {from}–{to}: all {} statistics' SQL + cubes (cohort {cohort})", tables.len()),
        seconds: t.elapsed().as_secs_f64(),
        rows: input_rows,
        bytes: 0,
        peak_mib: peak_mib(),
    });
    let tables = regstat_query::output::to_canonical_units(tables, &engine.unit_names()?);
    let t = Instant::now();
    let (_, summary) = disclosure::protect_release(&tables, disclosure::Policy::default());
    rows.push(Row {
        stage: format!(
            "scaling {from}–{to}: disclosure over the release ({} cells, {} primary, {} secondary; cohort {cohort})",
            summary.cells, summary.primary, summary.secondary
        ),
        seconds: t.elapsed().as_secs_f64(),
        rows: summary.cells as u64,
        bytes: 0,
        peak_mib: peak_mib(),
    });
    Ok(rows)
}

/// Personal assistance by payer (SPEC-DECISIONS §5c), its own job and production: everyone
/// with personal assistance 2014–2024 (a selection by intervention at Socialstyrelsen), then
/// the three statistics with disclosure control, audit and files.
async fn payer(persons: u64, seed: u64, data: &Path, work: &Path) -> anyhow::Result<Vec<Row>> {
    let work = work.join("payer");
    let statistics = ["pa_by_payer", "fk_recipients_by_provider", "fk_hours_per_recipient"];
    let mut rows = vec![linkage_job::run_job(persons, seed, data, &work, (2014, 2024), "bench-payer", &statistics).await?];
    let d = Delivery::latest(&work.join("query"))?;
    let input_rows: u64 = d.manifest.files.iter().map(|f| f.rows).sum();
    let years = Years::new(2014, 2024)?;
    reset_peak();
    let t = Instant::now();
    let engine = Engine::new(&d, years).await?;
    let tables = engine.compute_all().await?;
    let cells: usize = tables.iter().map(|t| t.rows.len()).sum();
    rows.push(Row {
        stage: format!("payer statistics: SQL + cubes ({} statistics, {cells} rows out)", tables.len()),
        seconds: t.elapsed().as_secs_f64(),
        rows: input_rows,
        bytes: 0,
        peak_mib: peak_mib(),
    });
    reset_peak();
    let t = Instant::now();
    let (m, rel) = regstat_query::output::produce(&d, years, disclosure::Policy::default(), &work.join("out")).await?;
    rows.push(Row {
        stage: format!(
            "payer production: statistics, disclosure ({} cells, {} primary, {} secondary), audit, files ({})",
            rel.summary.cells,
            rel.summary.primary,
            rel.summary.secondary,
            m.files.len()
        ),
        seconds: t.elapsed().as_secs_f64(),
        rows: input_rows,
        bytes: 0,
        peak_mib: peak_mib(),
    });
    Ok(rows)
}
