//! One release per project, measured: a new answer (every statistic for 2018–2020) protected
//! against a release ledger of N earlier answers of the same project (other ranges of decision
//! years of one delivery linked for 2006–2021), N = 1, 10, 100. Per N: the new answer's cells,
//! the union's cells and coordinates, the whole protection (span + differences + LP intervals +
//! the audit of the union), the LP part alone, and the peak memory.

use std::path::Path;
use std::time::Instant;

use regstat_query::delivery::Delivery;
use regstat_query::disclosure::{self, Policy};
use regstat_query::engine::{Engine, Years};
use regstat_query::ledger::{Answer, Ledger};
use regstat_query::output::{self, LedgerAnswer};

use crate::{linkage_job, peak_mib, reset_peak, Row};

const SPAN: (i32, i32) = (2006, 2021);
const PROBE: (i32, i32) = (2018, 2020);

async fn tables(d: &Delivery, years: (i32, i32)) -> anyhow::Result<(Vec<regstat_query::stats::Table>, Vec<String>)> {
    let engine = Engine::new(d, Years::new(years.0, years.1)?).await?;
    let tables = engine.compute_all().await?;
    Ok((tables, engine.unit_names()?))
}

pub async fn run(persons: u64, seed: u64, data: &Path, work: &Path, sizes: &[usize]) -> anyhow::Result<Vec<Row>> {
    let mut rows = vec![linkage_job::run_years(persons, seed, data, work, SPAN).await?];
    let d = Delivery::latest(&work.join("query"))?;
    let fingerprint = d.manifest.key_fingerprint().to_string();
    let policy = Policy::default();
    // Earlier answers: every other range of the delivery's years, shortest first.
    let mut ranges: Vec<(i32, i32)> = (SPAN.0..=SPAN.1).flat_map(|a| (a..=SPAN.1).map(move |b| (a, b))).filter(|r| *r != PROBE).collect();
    ranges.sort_by_key(|&(a, b)| (b - a, a));
    let ledger_dir = work.join("ledger");
    let _ = std::fs::remove_dir_all(&ledger_dir);
    let mut ledger = Ledger::open(&ledger_dir, "bench")?;
    let (probe_tables, probe_names) = tables(&d, PROBE).await?;
    let mut next = 0;
    let mut refused = 0;
    for &n in sizes {
        let building = Instant::now();
        while ledger.answers.len() < n && next < ranges.len() {
            let (t, names) = tables(&d, ranges[next]).await?;
            let answer = Answer { delivery_id: d.manifest.delivery_id.clone(), years: ranges[next] };
            // Asked one at a time (not as a family), an answer can be refused: it would narrow
            // a count of an earlier one. Counted, and the next range is asked.
            match output::protect_answer(t, Some(LedgerAnswer { ledger: &mut ledger, names: &names, answer, key_fingerprint: &fingerprint }), policy) {
                Ok(_) => {}
                Err(regstat_query::error::Error::Precondition(_)) => refused += 1,
                Err(e) => return Err(e.into()),
            }
            next += 1;
        }
        eprintln!("ledger of {} answers built in {:.1} s ({refused} refused)", ledger.answers.len(), building.elapsed().as_secs_f64());
        // The probe against the ledger as it stands (not appended, so each N is measured alone).
        reset_peak();
        let t = Instant::now();
        let before = ledger.units_len();
        let probe = output::to_ledger_units(probe_tables.clone(), &probe_names, &mut ledger);
        let (released, summary, _) = match disclosure::protect_with_prior(&probe, ledger.prior(), policy) {
            Ok(r) => r,
            Err(regstat_query::bounds::BoundsError::Unreleasable) => {
                ledger.truncate_units(before);
                rows.push(Row {
                    stage: format!("new answer {}–{} vs a ledger of {} answers: refused (it would narrow an earlier count)", PROBE.0, PROBE.1, ledger.answers.len()),
                    seconds: t.elapsed().as_secs_f64(),
                    rows: 0,
                    bytes: 0,
                    peak_mib: peak_mib(),
                });
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let protect_s = t.elapsed().as_secs_f64();
        let a = Instant::now();
        let audit = disclosure::audit(&probe, &released, ledger.prior(), policy, &summary.certificates);
        let audit_s = a.elapsed().as_secs_f64();
        ledger.truncate_units(before);
        anyhow::ensure!(audit.passed, "audit failed: {:?}", audit.problems);
        rows.push(Row {
            stage: format!(
                "new answer {}–{} vs a ledger of {} answers ({refused} refused on the way): {} cells ({} new), union {} cells / {} coordinates, {} primary + {} secondary ({} for intervals); LP {:.2} s ({} solves); protect {:.2} s + audit {:.2} s",
                PROBE.0,
                PROBE.1,
                ledger.answers.len(),
                summary.cells,
                summary.cells - summary.cells_released_before,
                summary.ledger_cells + summary.cells - summary.cells_released_before,
                summary.coordinates,
                summary.primary,
                summary.secondary,
                summary.secondary_for_intervals,
                summary.lp_seconds,
                summary.lp_solves,
                protect_s,
                audit_s
            ),
            seconds: t.elapsed().as_secs_f64(),
            rows: summary.cells as u64,
            bytes: 0,
            peak_mib: peak_mib(),
        });
    }
    Ok(rows)
}
