//! Production outputs (SPEC §7): one tidy file per statistic, CSV and Parquet, and a manifest
//! from which the run can be reproduced byte for byte (nothing time-dependent is written).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::delivery::Delivery;
use crate::disclosure::{self, Policy, Prior, Released};
use crate::ledger::{Answer, Ledger};
use crate::stats::{Table, Units};
use crate::engine::{Engine, Years};
use crate::error::{Error, Result};
use crate::stats;

#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    pub name: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunManifest {
    pub run_id: String,
    pub code_version: &'static str,
    pub delivery_id: String,
    pub inputs: Vec<FileEntry>,
    pub parameters: Parameters,
    pub disclosure_control: &'static str,
    pub disclosure: disclosure::Summary,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Parameters {
    pub decision_years: Years,
    pub policy: Policy,
    pub statistics: Vec<&'static str>,
}

fn out_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Output { path: path.display().to_string(), reason: e.to_string() }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The columns after the dimensions: the values, then which of them are hidden and by which
/// rule (`suppressed` is the count's; empty = shown).
pub const VALUE_COLUMNS: [&str; 6] = ["n", "denominator", "share_pct", "suppressed", "denominator_suppressed", "share_suppressed"];

/// Tidy CSV text of a released table.
pub fn tidy_csv(dims: &[&str], rows: &[Released]) -> String {
    let mut out = String::new();
    let header: Vec<&str> = dims.iter().copied().chain(VALUE_COLUMNS).collect();
    out.push_str(&header.join(","));
    out.push('\n');
    for r in rows {
        let mut fields: Vec<String> = r.values.iter().map(|v| csv_field(v)).collect();
        fields.push(r.n.map(|n| n.to_string()).unwrap_or_default());
        fields.push(r.denominator.map(|n| n.to_string()).unwrap_or_default());
        fields.push(r.share_pct.map(|s| s.to_string()).unwrap_or_default());
        for rule in [r.suppressed, r.denominator_suppressed, r.share_suppressed] {
            fields.push(rule.map(|s| s.code().to_string()).unwrap_or_default());
        }
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

/// The released table as an Arrow batch (the Parquet file and the Flight answer).
pub fn to_batch(dims: &[&str], rows: &[Released]) -> Result<RecordBatch> {
    let mut fields: Vec<Field> = dims.iter().map(|d| Field::new(*d, DataType::Utf8, false)).collect();
    fields.push(Field::new("n", DataType::Int64, true));
    fields.push(Field::new("denominator", DataType::Int64, true));
    fields.push(Field::new("share_pct", DataType::Float64, true));
    fields.push(Field::new("suppressed", DataType::Utf8, true));
    fields.push(Field::new("denominator_suppressed", DataType::Utf8, true));
    fields.push(Field::new("share_suppressed", DataType::Utf8, true));
    let mut cols: Vec<ArrayRef> = (0..dims.len())
        .map(|i| Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.values[i].as_str()))) as ArrayRef)
        .collect();
    cols.push(Arc::new(Int64Array::from(rows.iter().map(|r| r.n).collect::<Vec<_>>())));
    cols.push(Arc::new(Int64Array::from(rows.iter().map(|r| r.denominator).collect::<Vec<_>>())));
    cols.push(Arc::new(Float64Array::from(rows.iter().map(|r| r.share_pct).collect::<Vec<_>>())));
    cols.push(Arc::new(StringArray::from(rows.iter().map(|r| r.suppressed.map(|s| s.code())).collect::<Vec<_>>())));
    cols.push(Arc::new(StringArray::from(rows.iter().map(|r| r.denominator_suppressed.map(|s| s.code())).collect::<Vec<_>>())));
    cols.push(Arc::new(StringArray::from(rows.iter().map(|r| r.share_suppressed.map(|s| s.code())).collect::<Vec<_>>())));
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?)
}

/// Read a released table back from Arrow (a Flight answer or a Parquet file).
pub fn from_batches(statistic: &'static str, batches: &[RecordBatch]) -> Result<ReleasedTable> {
    use arrow::array::Array;
    let bad = |m: &str| Error::BadRequest(format!("{statistic}: {m}"));
    let schema = batches.first().map(|b| b.schema()).ok_or_else(|| bad("no data"))?;
    let ndims = schema.fields().len().checked_sub(VALUE_COLUMNS.len()).ok_or_else(|| bad("too few columns"))?;
    let stat = stats::find(statistic)?;
    let dims = stat.out_dims();
    if dims.len() != ndims || dims.iter().zip(schema.fields()).any(|(d, f)| f.name() != d) {
        return Err(bad("columns do not match the statistic"));
    }
    let mut rows = Vec::new();
    for b in batches {
        let text = |i: usize| b.column(i).as_any().downcast_ref::<StringArray>().cloned().ok_or_else(|| bad("a dimension is not text"));
        let int = |i: usize| b.column(i).as_any().downcast_ref::<Int64Array>().cloned().ok_or_else(|| bad("n/denominator not Int64"));
        let cols: Vec<StringArray> = (0..ndims).map(text).collect::<Result<_>>()?;
        let (n, d) = (int(ndims)?, int(ndims + 1)?);
        let share = b.column(ndims + 2).as_any().downcast_ref::<Float64Array>().cloned().ok_or_else(|| bad("share not Float64"))?;
        let rules = [text(ndims + 3)?, text(ndims + 4)?, text(ndims + 5)?];
        let rule = |a: &StringArray, i: usize| match (!a.is_null(i)).then(|| a.value(i)) {
            Some("primary") => Some(disclosure::Rule::Primary),
            Some("secondary") => Some(disclosure::Rule::Secondary),
            Some("share_denominator") => Some(disclosure::Rule::ShareDenominator),
            _ => None,
        };
        for i in 0..b.num_rows() {
            let get = |a: &Int64Array| (!a.is_null(i)).then(|| a.value(i));
            rows.push(Released {
                values: cols.iter().map(|c| c.value(i).to_string()).collect(),
                n: get(&n),
                denominator: get(&d),
                share_pct: (!share.is_null(i)).then(|| share.value(i)),
                suppressed: rule(&rules[0], i),
                denominator_suppressed: rule(&rules[1], i),
                share_suppressed: rule(&rules[2], i),
            });
        }
    }
    Ok(ReleasedTable { statistic: stat.id, dims, rows })
}

fn write(path: &Path, bytes: &[u8], files: &mut Vec<FileEntry>) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| out_err(path, e))?;
    files.push(FileEntry {
        name: path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        sha256: hex::encode(Sha256::digest(bytes)),
    });
    Ok(())
}

/// One released statistic of a production.
#[derive(Debug, Clone)]
pub struct ReleasedTable {
    pub statistic: &'static str,
    pub dims: Vec<&'static str>,
    pub rows: Vec<Released>,
}

/// A protected, audited release of the whole catalogue (what production writes and the API serves).
#[derive(Debug, Clone)]
pub struct Release {
    pub tables: Vec<ReleasedTable>,
    pub summary: disclosure::Summary,
    pub audit: disclosure::Audit,
    /// SHA-256 of the ledger line that recorded this answer (none without a ledger).
    pub ledger_line: Option<String>,
}

impl Release {
    pub fn table(&self, id: &str) -> Result<&ReleasedTable> {
        let stat = stats::find(id)?;
        self.tables.iter().find(|t| t.statistic == id).ok_or_else(|| {
            Error::Precondition(match stat.family {
                stats::Family::Assistance | stats::Family::Payer => format!(
                    "statistic {id} is not in this release: it counts months and is released with its delivery's whole \
                     years only, and only from a delivery linked for it (ask for the delivery's years)"
                ),
                _ => format!("statistic {id} is not in this release: its delivery was not linked for it (link a delivery for it)"),
            })
        })
    }
}

/// Compute every statistic, protect them together (on their own: no ledger), and audit the
/// result. A release that fails its audit is an error: nothing unprotected leaves the service.
pub async fn release(engine: &Engine, policy: Policy) -> Result<Release> {
    let tables = to_canonical_units(engine.compute_all().await?, &engine.unit_names()?);
    // The linear algebra and the LPs are seconds of CPU: keep them off the async runtime.
    tokio::task::spawn_blocking(move || protect_answer(tables, None, policy))
        .await
        .map_err(|e| Error::Disclosure(format!("protection task failed: {e}")))?
}

/// The project's ledger and what this answer is, for [`protect_answer`].
#[derive(Debug)]
pub struct LedgerAnswer<'a> {
    pub ledger: &'a mut Ledger,
    /// Unit identifiers by the numbers the tables use (the engine's universe).
    pub names: &'a [String],
    pub answer: Answer,
    pub key_fingerprint: &'a str,
}

/// Renumber every unit set of the tables into the ledger's numbering. Units new to the ledger
/// are interned in the order of their identifiers, not in the order the SQL engine happened to
/// return them (its partitions run in parallel): the numbering, and with it every tie-break of
/// the protection, is a function of the data alone, so the same answers asked in the same order
/// get the same cells hidden on every run.
pub fn to_ledger_units(tables: Vec<Table>, names: &[String], ledger: &mut Ledger) -> Vec<Table> {
    let mut fresh: Vec<&str> = names.iter().map(String::as_str).filter(|n| !ledger.knows(n)).collect();
    fresh.sort_unstable();
    for n in fresh {
        ledger.intern(n);
    }
    let map: Vec<u32> = names.iter().map(|n| ledger.intern(n)).collect();
    renumber(tables, &map)
}

/// Renumber every unit set of the tables by the order of the units' identifiers (an answer
/// protected on its own: deterministic like [`to_ledger_units`]).
pub fn to_canonical_units(tables: Vec<Table>, names: &[String]) -> Vec<Table> {
    let mut order: Vec<u32> = (0..names.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| names[a as usize].cmp(&names[b as usize]));
    let mut map = vec![0u32; names.len()];
    for (rank, &i) in order.iter().enumerate() {
        map[i as usize] = rank as u32;
    }
    renumber(tables, &map)
}

fn renumber(tables: Vec<Table>, map: &[u32]) -> Vec<Table> {
    let mut done: HashMap<*const Vec<u32>, Units> = HashMap::new();
    let mut convert = |u: &Units| -> Units {
        done.entry(Arc::as_ptr(u))
            .or_insert_with(|| {
                let mut v: Vec<u32> = u.iter().map(|&x| map[x as usize]).collect();
                v.sort_unstable();
                Arc::new(v)
            })
            .clone()
    };
    tables
        .into_iter()
        .map(|mut t| {
            for r in &mut t.rows {
                r.units = convert(&r.units);
                r.denominator_units = r.denominator_units.as_ref().map(&mut convert);
            }
            t
        })
        .collect()
}

/// One answer of a family protected together: its tables (numbered by the engine's
/// universe), the unit identifiers of that universe, and what it is.
#[derive(Debug)]
pub struct Member {
    pub tables: Vec<Table>,
    pub names: Vec<String>,
    pub answer: Answer,
}

/// Compute every statistic of a delivery for each of `ranges`: the members of its release
/// family, in that order, for [`protect_family`].
pub async fn family_members(delivery: &Delivery, ranges: &[(i32, i32)]) -> Result<Vec<Member>> {
    let mut members = Vec::new();
    for &(a, b) in ranges {
        let engine = Engine::new(delivery, Years::new(a, b)?).await?;
        let tables = engine.compute_all().await?;
        let names = engine.unit_names()?;
        members.push(Member { tables, names, answer: Answer { delivery_id: delivery.manifest.delivery_id.clone(), years: (a, b) } });
    }
    Ok(members)
}

/// Protect an answer (blocking): against the project's ledger when one is given, audit the
/// union, rank the rankings from published counts, and record the answer in the ledger. A
/// release that fails its audit is an error, and the ledger is left as it was.
pub fn protect_answer(tables: Vec<Table>, ledger: Option<LedgerAnswer<'_>>, policy: Policy) -> Result<Release> {
    match ledger {
        Some(LedgerAnswer { ledger, names, answer, key_fingerprint }) => {
            let member = Member { tables, names: names.to_vec(), answer };
            protect_family(vec![member], ledger, key_fingerprint, policy)?.pop().ok_or_else(|| Error::Disclosure("no answer protected".into()))
        }
        None => {
            let started = std::time::Instant::now();
            let (released, mut summary, _) = disclosure::protect_with_prior(&tables, Prior::EMPTY, policy).map_err(protection_error)?;
            let audit = disclosure::audit(&tables, &released, Prior::EMPTY, policy, &std::mem::take(&mut summary.certificates));
            if !audit.passed {
                return Err(audit_failed(&audit));
            }
            let tables = ranked(tables, released)?;
            log_protected(&summary, started);
            Ok(Release { tables, summary, audit, ledger_line: None })
        }
    }
}

/// Protect several answers of one project together, against its ledger (blocking): every
/// member's cells are decided in one pass over the union of the ledger and all the members, the
/// union is audited once, and each member is recorded in the ledger (in the given order, each
/// line with the cells new to the ledger that the member is the first to hold). Protecting
/// together the answers a project will be asked for is what lets a later answer add nothing
/// that narrows an earlier one: every member's hidden cells are known to be non-zero while the
/// others are decided (see ARCHITECTURE.md, "Release families"). On any error the ledger is left
/// as it was.
pub fn protect_family(members: Vec<Member>, ledger: &mut Ledger, key_fingerprint: &str, policy: Policy) -> Result<Vec<Release>> {
    let started = std::time::Instant::now();
    ledger.check_key(key_fingerprint)?;
    let units_before = ledger.units_len();
    let result = protect_family_inner(members, ledger, key_fingerprint, units_before, policy);
    if result.is_err() {
        ledger.truncate_units(units_before);
    }
    let releases = result?;
    if let Some(r) = releases.first() {
        log_protected(&r.summary, started);
    }
    Ok(releases)
}

fn protect_family_inner(members: Vec<Member>, ledger: &mut Ledger, key_fingerprint: &str, units_before: usize, policy: Policy) -> Result<Vec<Release>> {
    // Number every member's units in the ledger's numbering (new units in identifier order
    // over the whole family, so the numbering does not depend on the members' order).
    let mut fresh: Vec<&str> = members.iter().flat_map(|m| m.names.iter().map(String::as_str)).filter(|n| !ledger.knows(n)).collect();
    fresh.sort_unstable();
    fresh.dedup();
    for n in fresh {
        ledger.intern(n);
    }
    let mut answers = Vec::new();
    let mut spans = Vec::new();
    let mut all: Vec<Table> = Vec::new();
    for m in members {
        let tables = to_ledger_units(m.tables, &m.names, ledger);
        spans.push(all.len()..all.len() + tables.len());
        all.extend(tables);
        answers.push(m.answer);
    }
    let (released, mut summary, new_cells) = disclosure::protect_with_prior(&all, ledger.prior(), policy).map_err(protection_error)?;
    let audit_started = std::time::Instant::now();
    let audit = disclosure::audit(&all, &released, ledger.prior(), policy, &std::mem::take(&mut summary.certificates));
    tracing::debug!(seconds = audit_started.elapsed().as_secs_f64(), intervals_checked = audit.intervals_checked, "family audited");
    if !audit.passed {
        return Err(audit_failed(&audit));
    }
    // Each new cell goes to the ledger line of the first member that holds it.
    let status_of: HashMap<Units, disclosure::Status> = new_cells.into_iter().collect();
    let prior = ledger.prior();
    let before: HashMap<&Units, disclosure::Status> = prior.sets.iter().zip(prior.status).map(|(u, s)| (u, *s)).collect();
    let mut per_member: Vec<Vec<(Units, disclosure::Status)>> = Vec::new();
    let mut member_summaries = Vec::new();
    let mut assigned: std::collections::HashSet<Units> = std::collections::HashSet::new();
    for span in &spans {
        let mut cells = Vec::new();
        let mut distinct: std::collections::HashSet<&Units> = std::collections::HashSet::new();
        for t in &all[span.clone()] {
            for r in &t.rows {
                for u in std::iter::once(&r.units).chain(r.denominator_units.as_ref()) {
                    distinct.insert(u);
                    if let Some(&st) = status_of.get(u) {
                        if assigned.insert(u.clone()) {
                            cells.push((u.clone(), st));
                        }
                    }
                }
            }
        }
        let mut s = summary.clone();
        s.cells = distinct.len();
        s.cells_released_before = distinct.iter().filter(|u| before.contains_key(*u)).count();
        s.zero_cells = distinct.iter().filter(|u| u.is_empty()).count();
        let rule = |u: &Units| status_of.get(u).or_else(|| before.get(u)).copied();
        s.primary = distinct.iter().filter(|u| rule(u) == Some(disclosure::Status::Hidden(disclosure::Rule::Primary))).count();
        s.secondary = distinct.iter().filter(|u| rule(u) == Some(disclosure::Status::Hidden(disclosure::Rule::Secondary))).count();
        member_summaries.push(s);
        per_member.push(cells);
    }
    let mut lines = Vec::new();
    let mut units_from = units_before;
    for (answer, cells) in answers.into_iter().zip(per_member) {
        lines.push(ledger.append(key_fingerprint, answer, units_from, cells)?);
        units_from = ledger.units_len();
    }
    let mut released = released.into_iter();
    let mut all = all.into_iter();
    let mut out = Vec::new();
    for ((span, s), line) in spans.into_iter().zip(member_summaries).zip(lines) {
        let n = span.len();
        let tables: Vec<Table> = all.by_ref().take(n).collect();
        let rows: Vec<Vec<Released>> = released.by_ref().take(n).collect();
        out.push(Release { tables: ranked(tables, rows)?, summary: s, audit: audit.clone(), ledger_line: Some(line) });
    }
    Ok(out)
}

/// A protection error: an answer that cannot be released without narrowing an earlier one is
/// the caller's precondition, anything else the service's failure.
fn protection_error(e: crate::bounds::BoundsError) -> Error {
    match e {
        crate::bounds::BoundsError::Unreleasable => Error::Precondition(e.to_string()),
        e => Error::Disclosure(e.to_string()),
    }
}

/// The released tables, with rankings ranked from published counts.
fn ranked(tables: Vec<Table>, released: Vec<Vec<Released>>) -> Result<Vec<ReleasedTable>> {
    tables
        .into_iter()
        .zip(released)
        .map(|(t, rows)| {
            let stat = stats::find(t.statistic)?;
            let rows = stats::rank_released(stat, &t.dims, rows);
            let rows = crate::assistance::release_means(stat, &t.dims, rows);
            Ok(ReleasedTable { statistic: t.statistic, dims: t.dims, rows })
        })
        .collect()
}

fn log_protected(summary: &disclosure::Summary, started: std::time::Instant) {
    tracing::info!(
        cells = summary.cells,
        primary = summary.primary,
        secondary = summary.secondary,
        ledger_cells = summary.ledger_cells,
        lp_solves = summary.lp_solves,
        settled_by_points = summary.settled_by_points,
        seconds = started.elapsed().as_secs_f64(),
        "answer protected"
    );
}

/// A failed audit: the problems go to the service's log, not to the caller (they name hidden
/// counts and their intervals).
fn audit_failed(audit: &disclosure::Audit) -> Error {
    tracing::error!(problems = ?audit.problems, "disclosure audit failed; nothing released");
    Error::Disclosure(format!("{} problem(s) found; nothing was released (details in the service log)", audit.problems.len()))
}

fn parquet_bytes(batch: &RecordBatch, out_dir: &Path) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    let props = WriterProperties::builder().set_created_by("regstat query".into()).build();
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), Some(props)).map_err(|e| out_err(out_dir, e))?;
    w.write(batch).map_err(|e| out_err(out_dir, e))?;
    w.close().map_err(|e| out_err(out_dir, e))?;
    Ok(buf)
}

/// Compute every statistic of the catalogue for a delivery, protect the release, audit it, and
/// write the outputs: `<id>.csv` and `<id>.parquet` per statistic, `report.xlsx` (the report's
/// layout), `disclosure_audit.json`, and `manifest.json` (written last).
pub async fn produce(delivery: &Delivery, years: Years, policy: Policy, out_dir: &Path) -> Result<(RunManifest, Release)> {
    let engine = Engine::new(delivery, years).await?;
    let rel = release(&engine, policy).await?;
    let models = crate::regression::fit_models(&engine).await?;
    let manifest = write_release(delivery, years, policy, &rel, &models, out_dir)?;
    Ok((manifest, rel))
}

/// Write an already protected and audited release (blocking file I/O), with the regression
/// models' estimates where their counts are published (`refusal_regression_estimates.csv`).
pub fn write_release(delivery: &Delivery, years: Years, policy: Policy, rel: &Release, models: &[crate::regression::Model], out_dir: &Path) -> Result<RunManifest> {
    std::fs::create_dir_all(out_dir).map_err(|e| out_err(out_dir, e))?;
    let mut files = Vec::new();
    for t in &rel.tables {
        write(&out_dir.join(format!("{}.csv", t.statistic)), tidy_csv(&t.dims, &t.rows).as_bytes(), &mut files)?;
        let batch = to_batch(&t.dims, &t.rows)?;
        write(&out_dir.join(format!("{}.parquet", t.statistic)), &parquet_bytes(&batch, out_dir)?, &mut files)?;
    }
    if !models.is_empty() {
        let csv = crate::regression::estimates_csv(models, rel.table("refusal_regression").ok());
        write(&out_dir.join("refusal_regression_estimates.csv"), csv.as_bytes(), &mut files)?;
    }
    let xlsx = crate::report::workbook(&rel.tables, models, years).map_err(|e| out_err(&out_dir.join("report.xlsx"), e))?;
    write(&out_dir.join("report.xlsx"), &xlsx, &mut files)?;
    let audit = serde_json::to_vec_pretty(&(&rel.summary, &rel.audit)).map_err(|e| out_err(out_dir, e))?;
    write(&out_dir.join("disclosure_audit.json"), &audit, &mut files)?;
    let mut inputs = vec![FileEntry { name: "manifest.json".into(), sha256: delivery.manifest_sha256.clone() }];
    inputs.extend(delivery.manifest.files.iter().map(|f| FileEntry { name: f.name.clone(), sha256: f.sha256.clone() }));
    let parameters = Parameters { decision_years: years, policy, statistics: rel.tables.iter().map(|t| t.statistic).collect() };
    let code_version = env!("CARGO_PKG_VERSION");
    let id_input = serde_json::to_vec(&(code_version, &delivery.manifest.delivery_id, &inputs, &parameters)).map_err(|e| out_err(out_dir, e))?;
    let manifest = RunManifest {
        run_id: hex::encode(&Sha256::digest(&id_input)[..10]),
        code_version,
        delivery_id: delivery.manifest.delivery_id.clone(),
        inputs,
        parameters,
        disclosure_control: "primary suppression of counts and denominators (1..=threshold); secondary suppression over everything \
                             released for the project (the release ledger): no hidden cell in the span of the published cells \
                             (GaussSuppression approach), no published difference of 1..=threshold between nested cells, every \
                             hidden count's feasible interval (LP, HiGHS) at least threshold wide; rankings from published counts \
                             only; shares only with denominator >= policy minimum and both count and denominator published; \
                             audited (disclosure_audit.json)",
        disclosure: rel.summary.clone(),
        files,
    };
    let path: PathBuf = out_dir.join("manifest.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest).map_err(|e| out_err(&path, e))?).map_err(|e| out_err(&path, e))?;
    Ok(manifest)
}
