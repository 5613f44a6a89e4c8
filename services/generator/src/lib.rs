//! `regstat-gen`: deterministic synthetic register extracts (SPEC §8).
//!
//! [`generate`] writes the seven datasets of the data contract (SPEC §3, SPEC-DECISIONS §5c.1)
//! as CSV and Parquet into `DATA_DIR` —
//! `fk/{persons,registrations,decisions,benefit_payments,personnummer_changes,assistance_months}`
//! and `sos/interventions` —
//! plus `generation.json`, the ground truth of the run (rows and injected defects per dataset).
//!
//! * **A model, not a copy.** A population register of `PERSONS` persons with a Swedish age
//!   structure, migration and deaths ([`population`]); everyone with a decision on
//!   assistansersättning 2002–2022 at the published national volume ([`applicants`]); their
//!   support from the municipality and the social insurance before and after the decision, and
//!   the general population's support at national rates ([`support`]); FK's months with a right
//!   to assistansersättning and the municipalities' personal assistance for others, at the
//!   national volume of SPEC-DECISIONS §5c whatever `PERSONS` ([`assistance`]). Every parameter
//!   and the published figure it comes from is in [`calibration`].
//! * **Deterministic.** Every random draw comes from a ChaCha8 stream keyed by the seed and by
//!   whose draw it is ([`rng`]), so the same seed gives the same bytes, in both formats.
//! * **Bounded memory.** The applicants (about 44 000 persons) and the plan of personal
//!   assistance (some 40 000 persons' months, [`assistance::plan`]) are held in memory; the rest of
//!   the population is generated and written in chunks of at most [`CHUNK_PERSONS`] persons and
//!   about [`CHUNK_ROWS`] rows of support (the oldest birth cohorts have many).
//! * **Dirt.** With `dirt > 0` a share of each dataset's rows carries one defect each ([`dirt`]).
//!
//! Calibration checks: [`check`] compares the written decisions with Tabell 17 (a test);
//! `tools/cohort_check.py DATA_DIR` recomputes the cohort statistics of SPEC §4 from the CSV
//! files with the standard library only and compares them with Tabell 4, 10, 47, 50, 53, 56–58.

// Loops over the dimensions of the published tables index several tables at once; they are
// kept as index loops so that they read like the tables' cells.
#![allow(clippy::needless_range_loop)]

pub mod applicants;
pub mod assistance;
pub mod calibration;
pub mod check;
pub mod dirt;
pub mod population;
pub mod renumber;
pub mod rng;
pub mod rows;
pub mod support;
pub mod writer;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::time::Instant;

use rand::Rng;
use regstat_contract::Dataset;
use serde::Serialize;

use crate::applicants::Applicant;
use crate::assistance::Assistance;
use crate::dirt::{DefectCounts, Dirty};
use crate::population::{general_life, Layout, Life, SegmentKey};
use crate::rng::{chance, stream, Domain};
use crate::rows::{BenefitRow, Chunk, InterventionRow, Txt};
use crate::support::SupportPlan;
use crate::writer::{dataset_paths, CsvWriter, ParquetWriter, Row};

/// Most persons per chunk: the unit of generation and writing.
pub const CHUNK_PERSONS: u64 = 1 << 16;
/// A chunk also ends after the person that brings its intervention and benefit rows to this many
/// (bounds the memory where the elderly have much care).
pub const CHUNK_ROWS: usize = 1 << 20;

/// Default seed (`SEED`).
pub const DEFAULT_SEED: u64 = 20_240_101;
/// Default population size (`PERSONS`): small enough to run in seconds.
pub const DEFAULT_PERSONS: u64 = 100_000;
/// Population of Sweden, the national scale of SPEC §8.
pub const NATIONAL_PERSONS: u64 = 10_500_000;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenConfig {
    /// Size of the population register (raised to the applicants plus a minimum when smaller).
    pub persons: u64,
    /// Seed: the same seed gives the same bytes.
    pub seed: u64,
    /// Share of rows per dataset with a defect, in `[0, 0.5]`.
    pub dirt: f64,
    /// `DATA_DIR`.
    pub out_dir: PathBuf,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            persons: DEFAULT_PERSONS,
            seed: DEFAULT_SEED,
            dirt: 0.0,
            out_dir: PathBuf::from("data/demo"),
        }
    }
}

/// Errors of the generator.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl GenError {
    pub fn io(path: &Path, source: std::io::Error) -> GenError {
        GenError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// One dataset in the ground truth.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetReport {
    /// `fk` or `sos`.
    pub register: &'static str,
    /// Rows written (the same in both files).
    pub rows: u64,
    /// Rows without a defect.
    pub clean_rows: u64,
    /// Rows with exactly one defect.
    pub defective_rows: u64,
    /// Defective rows per kind (the validator's reason codes), every applicable kind listed.
    pub defects: BTreeMap<&'static str, u64>,
    /// Files, relative to `DATA_DIR`.
    pub files: [String; 2],
}

/// What a run generated; written (without the timing) as `DATA_DIR/generation.json`.
#[derive(Debug, Clone, Serialize)]
pub struct GenReport {
    pub generator: String,
    pub seed: u64,
    pub persons_requested: u64,
    /// Persons generated (more than requested when the applicants need it).
    pub persons: u64,
    /// Persons with at least one decision.
    pub applicants: u64,
    pub dirt: f64,
    /// Per dataset, by contract name.
    pub datasets: BTreeMap<&'static str, DatasetReport>,
    /// Cohort persons (SPEC §4, decision years 2018–2020) per decision year, as the generator
    /// built them: a check for the linkage and the statistics.
    pub cohort_persons: BTreeMap<i32, u64>,
    /// Wall time of the run (not written to `generation.json`, which stays deterministic).
    #[serde(skip)]
    pub elapsed_seconds: f64,
}

impl GenReport {
    /// Rows written in total.
    pub fn total_rows(&self) -> u64 {
        self.datasets.values().map(|d| d.rows).sum()
    }
}

/// Generate the fourteen files and `generation.json` into `cfg.out_dir`.
pub fn generate(cfg: &GenConfig) -> Result<GenReport, GenError> {
    let started = Instant::now();
    if !(0.0..=0.5).contains(&cfg.dirt) {
        return Err(GenError::Config(format!(
            "DIRT must be in [0, 0.5], got {}",
            cfg.dirt
        )));
    }

    let mut applicants = applicants::generate(cfg.seed)?;
    support::plan_applicants(cfg.seed, &mut applicants);
    let layout = Layout::new(cfg.persons, &applicants::segment_counts(&applicants))?;
    let mut by_slot: HashMap<SegmentKey, Vec<u32>> = HashMap::new();
    for a in &applicants {
        let ids = by_slot.entry(a.segment_key()).or_default();
        debug_assert_eq!(ids.len(), a.k as usize);
        ids.push(a.id);
    }
    tracing::info!(
        persons = layout.total,
        applicants = applicants.len(),
        "population laid out"
    );
    let assistance = assistance::plan(cfg.seed, &layout, &applicants)?;
    tracing::info!(
        fk_recipients = assistance.fk.len(),
        municipal_pa_added = assistance.municipal.len(),
        "personal assistance planned"
    );

    for register in ["fk", "sos"] {
        let dir = cfg.out_dir.join(register);
        std::fs::create_dir_all(&dir).map_err(|e| GenError::io(&dir, e))?;
    }
    let mut csv = CsvWriters::create(&cfg.out_dir)?;
    let (tx, rx) = sync_channel::<Arc<Chunk>>(1);
    let out_dir = cfg.out_dir.clone();
    let parquet = std::thread::spawn(move || write_parquet(&out_dir, rx));

    let mut counts = DatasetCounts::new();
    let mut next_progress = 1;
    let mut result = Ok(());
    let (mut c, mut lo) = (0, 0);
    let mut taken = renumber::Taken::new();
    while lo < layout.total {
        let hi = (lo + CHUNK_PERSONS).min(layout.total);
        let (chunk, end) = match build_chunk(cfg.seed, &layout, &applicants, &by_slot, &assistance, &mut taken, lo, hi) {
            Ok(built) => built,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        let hi = end;
        let chunk = Arc::new(add_dirt(cfg, c, chunk, &mut counts));
        if tx.send(chunk.clone()).is_err() {
            break; // The Parquet writer failed; its error is reported below.
        }
        if let Err(e) = csv.write(&chunk) {
            result = Err(e);
            break;
        }
        if layout.total >= 1_000_000 && hi * 10 >= next_progress * layout.total {
            let secs = started.elapsed().as_secs_f64();
            tracing::info!(
                "{:>3} % of {} persons, {:.0} s",
                hi * 100 / layout.total,
                layout.total,
                secs
            );
            next_progress = hi * 10 / layout.total + 1;
        }
        (c, lo) = (c + 1, hi);
    }
    drop(tx);
    let parquet_result = parquet
        .join()
        .map_err(|_| GenError::Internal("Parquet writer panicked".into()))?;
    result?;
    parquet_result?;
    csv.finish()?;

    let mut cohort_persons = BTreeMap::new();
    for a in &applicants {
        if let Some(c) = a.cohort {
            *cohort_persons.entry(c.year).or_insert(0) += 1;
        }
    }
    let datasets = Dataset::ALL
        .into_iter()
        .map(|d| {
            let c = counts.get(d);
            let (csv_path, parquet_path) = dataset_paths(Path::new(""), d);
            let report = DatasetReport {
                register: d.register().dir_name(),
                rows: c.rows,
                clean_rows: c.rows - c.defective_rows,
                defective_rows: c.defective_rows,
                defects: c.by_kind.clone(),
                files: [
                    csv_path.display().to_string(),
                    parquet_path.display().to_string(),
                ],
            };
            (d.name(), report)
        })
        .collect();
    let report = GenReport {
        generator: concat!("regstat-gen ", env!("CARGO_PKG_VERSION")).to_string(),
        seed: cfg.seed,
        persons_requested: cfg.persons,
        persons: layout.total,
        applicants: applicants.len() as u64,
        dirt: cfg.dirt,
        datasets,
        cohort_persons,
        elapsed_seconds: started.elapsed().as_secs_f64(),
    };
    let path = cfg.out_dir.join("generation.json");
    let mut json = serde_json::to_string_pretty(&report)?;
    json.push('\n');
    std::fs::write(&path, json).map_err(|e| GenError::io(&path, e))?;
    Ok(report)
}

/// Generate the rows of persons `lo..hi`, or of `lo..end` if [`CHUNK_ROWS`] is reached first;
/// returns the rows and `end`.
#[allow(clippy::too_many_arguments)]
fn build_chunk(
    seed: u64,
    layout: &Layout,
    applicants: &[Applicant],
    by_slot: &HashMap<SegmentKey, Vec<u32>>,
    assistance: &Assistance,
    taken: &mut renumber::Taken,
    lo: u64,
    hi: u64,
) -> Result<(Chunk, u64), GenError> {
    let mut chunk = Chunk::default();
    let (mut s, mut k) = layout.locate(lo);
    for index in lo..hi {
        if chunk.interventions.len() + chunk.benefits.len() >= CHUNK_ROWS {
            return Ok((chunk, index));
        }
        while k as u64 >= layout.segments[s].len() {
            s += 1;
            k = 0;
        }
        let seg = &layout.segments[s];
        let starts = (chunk.decisions.len(), chunk.benefits.len(), chunk.interventions.len());
        let added = (chunk.assistance.len(), chunk.municipal_pa.len());
        let renumbered: Option<(renumber::Renumbered, rows::Txt)>;
        // The person's own stream for changes of number: drawn from nowhere else, so the rest
        // of the register is the same with or without them.
        let mut rr = stream(seed, Domain::Renumber, index);
        if k < seg.applicants {
            let key = (seg.coordination, seg.birth_year, seg.sex);
            let id = by_slot
                .get(&key)
                .and_then(|ids| ids.get(k as usize))
                .copied();
            let a = id
                .and_then(|id| applicants.get(id as usize))
                .ok_or_else(|| GenError::Internal(format!("no applicant in slot {key:?}/{k}")))?;
            let life = &a.life;
            renumbered = renumber::draw(&mut rr, life, taken).map(|r| (r, life.pnr_txt()));
            chunk.persons.push(life.person_row());
            life.registration_rows(&mut chunk.registrations);
            chunk
                .decisions
                .extend(a.decisions.iter().map(|d| d.row(life.pnr_txt())));
            applicant_support(seed, layout, a, &mut chunk.interventions, &mut chunk.benefits)?;
            assistance.fk_rows(index, life.pnr_txt(), &mut chunk.assistance);
        } else {
            let (life, mut rng) = general_life(seed, seg, k, index)?;
            renumbered = renumber::draw(&mut rr, &life, taken).map(|r| (r, life.pnr_txt()));
            chunk.persons.push(life.person_row());
            life.registration_rows(&mut chunk.registrations);
            if !life.coordination {
                let plan = support::plan_general(&mut rng, &life);
                general_emit(
                    seed,
                    layout,
                    &life,
                    &plan,
                    &mut rng,
                    &mut chunk.interventions,
                    &mut chunk.benefits,
                )?;
            }
            assistance.fk_rows(index, life.pnr_txt(), &mut chunk.assistance);
            assistance.municipal_rows(index, &life, &mut chunk.municipal_pa);
        }
        if let Some((r, current)) = renumbered {
            r.apply(
                &mut rr,
                current,
                &mut chunk.decisions[starts.0..],
                &mut chunk.benefits[starts.1..],
                &mut chunk.interventions[starts.2..],
            );
            r.apply_assistance(
                &mut rr,
                current,
                &mut chunk.assistance[added.0..],
                &mut chunk.municipal_pa[added.1..],
            );
            r.rows(current, &mut chunk.changes);
        }
        k += 1;
    }
    Ok((chunk, hi))
}

/// An applicant's interventions and benefit payments (their support plan's months), from their
/// own stream.
pub(crate) fn applicant_support(
    seed: u64,
    layout: &Layout,
    a: &Applicant,
    interventions: &mut Vec<InterventionRow>,
    benefits: &mut Vec<BenefitRow>,
) -> Result<(), GenError> {
    let life = &a.life;
    let mut rng = stream(seed, Domain::ApplicantMonths, a.id as u64);
    let parent = if a.plan.needs_parent(life.birth_year()) {
        pick_parent(seed, layout, life.birth_year(), &mut rng)?
    } else {
        None
    };
    support::emit(&mut rng, life, &a.plan, parent, interventions, benefits);
    Ok(())
}

/// A general-population person's interventions and benefit payments for their support `plan`,
/// drawing on from `rng` (their own stream as [`support::plan_general`] left it).
pub(crate) fn general_emit(
    seed: u64,
    layout: &Layout,
    life: &Life,
    plan: &SupportPlan,
    rng: &mut rand_chacha::ChaCha8Rng,
    interventions: &mut Vec<InterventionRow>,
    benefits: &mut Vec<BenefitRow>,
) -> Result<(), GenError> {
    let parent = if plan.needs_parent(life.birth_year()) {
        pick_parent(seed, layout, life.birth_year(), rng)?
    } else {
        None
    };
    support::emit(rng, life, plan, parent, interventions, benefits);
    Ok(())
}

/// A parent for a child born in `child_birth_year`, to receive child benefits: a person of the
/// general population aged 21–42 at the birth, a mother more often than a father, alive and in
/// Sweden at the end of 2023 if such a person is found within a few tries.
fn pick_parent<R: Rng + ?Sized>(
    seed: u64,
    layout: &Layout,
    child_birth_year: i32,
    rng: &mut R,
) -> Result<Option<Txt>, GenError> {
    let mut fallback = None;
    for _ in 0..8 {
        let sex = usize::from(!chance(rng, 0.7));
        let year = child_birth_year - rng.random_range(21..=42);
        let Some(seg) = layout.segment(false, year, sex) else {
            continue;
        };
        if seg.general == 0 {
            continue;
        }
        let k = seg.applicants + rng.random_range(0..seg.general);
        let (life, _) = general_life(seed, seg, k, seg.start + k as u64)?;
        let txt = life.pnr_txt();
        if life.registered_on(population::ymd(2023, 12, 31)) {
            return Ok(Some(txt));
        }
        fallback.get_or_insert(txt);
    }
    Ok(fallback)
}

/// Injected defects per dataset.
struct DatasetCounts([DefectCounts; 7]);

impl DatasetCounts {
    fn new() -> Self {
        DatasetCounts([
            DefectCounts::for_kinds(<rows::PersonRow as Dirty>::KINDS),
            DefectCounts::for_kinds(<rows::RegistrationRow as Dirty>::KINDS),
            DefectCounts::for_kinds(<rows::DecisionRow as Dirty>::KINDS),
            DefectCounts::for_kinds(<rows::BenefitRow as Dirty>::KINDS),
            DefectCounts::for_kinds(<rows::InterventionRow as Dirty>::KINDS),
            DefectCounts::for_kinds(<rows::ChangeRow as Dirty>::KINDS),
            DefectCounts::for_kinds(<rows::AssistanceRow as Dirty>::KINDS),
        ])
    }

    fn get(&self, d: Dataset) -> &DefectCounts {
        &self.0[Dataset::ALL.iter().position(|x| *x == d).unwrap_or(0)]
    }
}

fn add_dirt(cfg: &GenConfig, chunk_no: u64, chunk: Chunk, counts: &mut DatasetCounts) -> Chunk {
    let rate = cfg.dirt;
    let rng = |d: u64| stream(cfg.seed, Domain::Dirt, chunk_no * 8 + d);
    let [persons, registrations, decisions, benefits, interventions, changes, assistance] =
        &mut counts.0;
    Chunk {
        persons: dirt::apply(chunk.persons, rate, &mut rng(0), persons),
        registrations: dirt::apply(chunk.registrations, rate, &mut rng(1), registrations),
        decisions: dirt::apply(chunk.decisions, rate, &mut rng(2), decisions),
        benefits: dirt::apply(chunk.benefits, rate, &mut rng(3), benefits),
        interventions: dirt::apply(chunk.interventions, rate, &mut rng(4), interventions),
        changes: dirt::apply(chunk.changes, rate, &mut rng(5), changes),
        assistance: dirt::apply(chunk.assistance, rate, &mut rng(6), assistance),
        municipal_pa: dirt::apply(chunk.municipal_pa, rate, &mut rng(7), interventions),
    }
}

/// The seven CSV writers.
struct CsvWriters {
    persons: CsvWriter<rows::PersonRow>,
    registrations: CsvWriter<rows::RegistrationRow>,
    decisions: CsvWriter<rows::DecisionRow>,
    benefits: CsvWriter<rows::BenefitRow>,
    interventions: CsvWriter<rows::InterventionRow>,
    changes: CsvWriter<rows::ChangeRow>,
    assistance: CsvWriter<rows::AssistanceRow>,
    dir: PathBuf,
}

fn csv_path<R: Row>(dir: &Path) -> PathBuf {
    dataset_paths(dir, R::DATASET).0
}

impl CsvWriters {
    fn create(dir: &Path) -> Result<Self, GenError> {
        Ok(CsvWriters {
            persons: CsvWriter::create(&csv_path::<rows::PersonRow>(dir))?,
            registrations: CsvWriter::create(&csv_path::<rows::RegistrationRow>(dir))?,
            decisions: CsvWriter::create(&csv_path::<rows::DecisionRow>(dir))?,
            benefits: CsvWriter::create(&csv_path::<rows::BenefitRow>(dir))?,
            interventions: CsvWriter::create(&csv_path::<rows::InterventionRow>(dir))?,
            changes: CsvWriter::create(&csv_path::<rows::ChangeRow>(dir))?,
            assistance: CsvWriter::create(&csv_path::<rows::AssistanceRow>(dir))?,
            dir: dir.to_path_buf(),
        })
    }

    fn write(&mut self, c: &Chunk) -> Result<(), GenError> {
        let err = |e| GenError::io(&self.dir, e);
        self.persons.write(&c.persons).map_err(err)?;
        self.registrations.write(&c.registrations).map_err(err)?;
        self.decisions.write(&c.decisions).map_err(err)?;
        self.benefits.write(&c.benefits).map_err(err)?;
        self.interventions.write(&c.interventions).map_err(err)?;
        self.interventions.write(&c.municipal_pa).map_err(err)?;
        self.changes.write(&c.changes).map_err(err)?;
        self.assistance.write(&c.assistance).map_err(err)?;
        Ok(())
    }

    fn finish(self) -> Result<(), GenError> {
        let err = |e| GenError::io(&self.dir, e);
        self.persons.finish().map_err(err)?;
        self.registrations.finish().map_err(err)?;
        self.decisions.finish().map_err(err)?;
        self.benefits.finish().map_err(err)?;
        self.interventions.finish().map_err(err)?;
        self.changes.finish().map_err(err)?;
        self.assistance.finish().map_err(err)?;
        Ok(())
    }
}

fn parquet_path<R: Row>(dir: &Path) -> PathBuf {
    dataset_paths(dir, R::DATASET).1
}

/// The Parquet side of the pipeline: runs on its own thread, fed chunk by chunk.
fn write_parquet(dir: &Path, rx: Receiver<Arc<Chunk>>) -> Result<(), GenError> {
    let mut persons =
        ParquetWriter::<rows::PersonRow>::create(&parquet_path::<rows::PersonRow>(dir))?;
    let mut registrations = ParquetWriter::<rows::RegistrationRow>::create(&parquet_path::<
        rows::RegistrationRow,
    >(dir))?;
    let mut decisions =
        ParquetWriter::<rows::DecisionRow>::create(&parquet_path::<rows::DecisionRow>(dir))?;
    let mut benefits =
        ParquetWriter::<rows::BenefitRow>::create(&parquet_path::<rows::BenefitRow>(dir))?;
    let mut interventions = ParquetWriter::<rows::InterventionRow>::create(&parquet_path::<
        rows::InterventionRow,
    >(dir))?;
    let mut changes = ParquetWriter::<rows::ChangeRow>::create(&parquet_path::<rows::ChangeRow>(dir))?;
    let mut assistance = ParquetWriter::<rows::AssistanceRow>::create(&parquet_path::<
        rows::AssistanceRow,
    >(dir))?;
    for c in rx {
        persons.write(&c.persons)?;
        registrations.write(&c.registrations)?;
        decisions.write(&c.decisions)?;
        benefits.write(&c.benefits)?;
        interventions.write(&c.interventions)?;
        interventions.write(&c.municipal_pa)?;
        changes.write(&c.changes)?;
        assistance.write(&c.assistance)?;
    }
    persons.finish()?;
    registrations.finish()?;
    decisions.finish()?;
    benefits.finish()?;
    interventions.finish()?;
    changes.finish()?;
    assistance.finish()?;
    Ok(())
}
