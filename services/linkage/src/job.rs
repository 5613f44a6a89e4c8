//! One linkage job: pull the cohort's records from both registries, pseudonymise every
//! identifier, keep only the variables the statistics need, and hand the tables to
//! [`crate::delivery`].
//!
//! Who is pulled: every person with a decision dated in the decision years (the cohort of
//! SPEC §4 is chosen among them on the query side). What is kept (minimisation, SPEC §2):
//!
//! | table | columns | rows |
//! |---|---|---|
//! | `persons` | pseudonym, sex, birth_year, birth_country (`INRIKES`/`UTRIKES`) | those persons with an accepted persons row |
//! | `registered` | pseudonym, year | only when a support statistic (SPEC §5) is asked for: registered in Sweden on 31 December of `year` (SPEC §4.3: a period covers the day, the person is born on or before it and has no death on or before it), years `from-2 ..= to+1`; only persons with an accepted `persons` row (SPEC §4.3: without one a person is out); never a samordningsnummer, whatever registration rows the extract has |
//! | `arrivals` | pseudonym, arrival_date | only when a residence-time statistic (SPEC-DECISIONS D11) is asked for: the start of every registration period (`registered_from`, a registration reads as an immigration: the register carries no reason) on or before 31 December of `to`, of persons born abroad with an accepted `persons` row; never under a samordningsnummer |
//! | `decisions` | pseudonym, decision_seq, decision_ref (keyed tag of decision_id), decision_date, kind, outcome, rejection_reason, lss_group, assessed_hours, changed_on_appeal | every decision 1994 ..= `to` of those persons (earlier ones decide *first vs earlier application*, and SPEC-DECISIONS D8 needs those before 2002); `decision_seq` = 1, 2, … in the order (decision_date, decision_id) within the person, so that SPEC §4.2's tie-break by decision_id survives pseudonymisation |
//! | `benefits` | pseudonym (of the person it concerns: the child), benefit, month | distinct months with a payment > 0, years `from-1 ..= to+1`; `recipient_personnummer` is never delivered |
//! | `interventions` | pseudonym, law, intervention, month | distinct, years `from-1 ..= to+1`; the municipality is dropped |
//! | `recipient_months` | pseudonym, month | only for the decision statistics (SPEC-DECISIONS §5b) and only where FK has an `assistance_months` extract: the linked persons' months with a right to assistansersättning that are the month before one of their applications or notifications (D1's `CURRENT_RECIPIENT` rule reads nothing else) |
//! | `assistance` | pseudonym, month, granted_hours_week, provider_category | only for the payer statistics (SPEC-DECISIONS §5c): FK's `assistance_months` of **everyone** with a right, months of the years from 2014 (`max(from, 2014)`-01 ..= `to`-12); one row per person and month (rows under an old and the current number in one month: the nearest number's) |
//! | `municipal_pa` | pseudonym, month | only for `pa_by_payer`: Socialstyrelsen's executed LSS personal assistance of everyone who has it (a selection by intervention, authorised per project at the register), distinct, the same months |
//!
//! A job for the payer statistics alone pulls and delivers no `persons` or `decisions`: they
//! count everyone with personal assistance, not a cohort.
//!
//! Birth dates become birth years, identifiers become pseudonyms, and rows are sorted by
//! pseudonym, so the original order (and thus the registers' order) is not revealed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, BooleanBuilder, Date32Array, Date32Builder, Float64Array, Float64Builder, Int32Array,
    Int32Builder, Int64Array, RecordBatch, StringArray, StringBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use chrono::{Datelike, NaiveDate};
use regstat_contract::changes::Renumbering;
use regstat_pnr::Pnr;
use regstat_pseudo::Pseudonymiser;

use crate::error::{Error, Result};

/// Statistic ids of SPEC §5 and SPEC-DECISIONS §5b, and whether they need benefits /
/// interventions. The decision statistics (§5b) read FK's persons and decisions only.
pub const STATISTICS: &[(&str, bool, bool)] = &[
    ("cohort_flow", false, false),
    ("other_support_before", true, true),
    ("municipal_law_before", false, true),
    ("benefits_before", true, false),
    ("hsl_before", false, true),
    ("municipal_support_before_after", false, true),
    ("interventions_before_after", false, true),
    ("top_interventions", false, true),
    ("no_support_after", true, true),
    ("pa_by_previous_application", false, true),
    ("decision_flow", false, false),
    ("decisions_by_group", false, false),
    ("refusal_reasons", false, false),
    ("assessed_hours", false, false),
    ("decision_number", false, false),
    ("time_since_previous", false, false),
    ("refusal_by_previous_application", false, false),
    ("reapplication_after_refusal", false, false),
    ("refusal_regression", false, false),
    ("refusal_by_residence_time", false, false),
    ("refusal_reasons_by_residence_time", false, false),
    ("pa_by_payer", false, false),
    ("fk_recipients_by_provider", false, false),
    ("fk_hours_per_recipient", false, false),
];

/// The statistics of SPEC-DECISIONS §5c (personal assistance by payer): they read FK's
/// `assistance_months` of everyone with a right (and, for `pa_by_payer`, Socialstyrelsen's
/// personal-assistance months of everyone), no cohort.
pub const PAYER_STATISTICS: &[&str] = &["pa_by_payer", "fk_recipients_by_provider", "fk_hours_per_recipient"];

/// First year of `assistance_months` (FK's STORE, SPEC-DECISIONS §5c.1).
pub const FIRST_ASSISTANCE_YEAR: i32 = 2014;

/// The statistics of SPEC-DECISIONS D11 (residence time): they need, besides FK's persons and
/// decisions, the arrival dates of the persons born abroad (`arrivals`).
pub const RESIDENCE_STATISTICS: &[&str] = &["refusal_by_residence_time", "refusal_reasons_by_residence_time"];

/// The statistics of SPEC-DECISIONS §5b (everything after `pa_by_previous_application`): they
/// need no registration snapshots and nothing from Socialstyrelsen.
pub fn is_decision_statistic(id: &str) -> bool {
    let first = STATISTICS.iter().position(|(s, _, _)| *s == "decision_flow").unwrap_or(STATISTICS.len());
    STATISTICS[first..].iter().any(|(s, _, _)| *s == id)
}

/// First year of the decision statistics (the support statistics need D-2 from here on too).
pub const FIRST_DECISION_YEAR: i32 = 2002;

/// First year of the decisions pulled: assistansersättning started in 1994, and the decision
/// statistics' history rule (SPEC-DECISIONS D8) needs each person's decisions before 2002.
pub const FIRST_HISTORY_YEAR: i32 = 1994;

/// Validated job parameters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JobParams {
    pub project: String,
    pub key_version: u32,
    pub from_year: i32,
    pub to_year: i32,
    /// Sorted, distinct; every cohort statistic (all but [`PAYER_STATISTICS`]) when the request
    /// named none.
    pub statistics: Vec<String>,
}

impl JobParams {
    pub fn new(project: &str, key_version: u32, from_year: i32, to_year: i32, statistics: &[String]) -> Result<Self> {
        if project.is_empty() || project.len() > 128 || !project.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
            return Err(Error::BadRequest("project must be 1-128 characters of [A-Za-z0-9._-]".into()));
        }
        let (from_year, to_year) = if from_year == 0 && to_year == 0 { (2018, 2020) } else { (from_year, to_year) };
        let mut stats: BTreeSet<String> = BTreeSet::new();
        for s in statistics {
            if !STATISTICS.iter().any(|(id, _, _)| id == s) {
                return Err(Error::BadRequest(format!("unknown statistic `{s}`")));
            }
            stats.insert(s.clone());
        }
        if stats.is_empty() {
            // None named: the cohort statistics (§5, §5b). The payer statistics (§5c) count
            // everyone with personal assistance, which a register answers only for a project it
            // authorises, so a job asks for them by name.
            stats = STATISTICS.iter().filter(|(id, _, _)| !PAYER_STATISTICS.contains(id)).map(|(id, _, _)| (*id).to_string()).collect();
        }
        // The support statistics look at D-2 and need it within the registers; the decision
        // statistics alone start with the decision register.
        let support = stats.iter().any(|s| !is_decision_statistic(s));
        let first = if support { FIRST_DECISION_YEAR + 2 } else { FIRST_DECISION_YEAR };
        if from_year > to_year || from_year < first || to_year > 2100 {
            return Err(Error::BadRequest(format!(
                "decision years must satisfy {first} <= from_year <= to_year{}",
                if support { " (D-2 must be within the registers)" } else { "" }
            )));
        }
        if to_year < FIRST_ASSISTANCE_YEAR && stats.iter().any(|s| PAYER_STATISTICS.contains(&s.as_str())) {
            return Err(Error::BadRequest(format!(
                "the personal-assistance statistics start in {FIRST_ASSISTANCE_YEAR} (assistance_months): to_year must be {FIRST_ASSISTANCE_YEAR} or later"
            )));
        }
        Ok(JobParams {
            project: project.to_string(),
            key_version: key_version.max(1),
            from_year,
            to_year,
            statistics: stats.into_iter().collect(),
        })
    }

    pub fn needs_benefits(&self) -> bool {
        STATISTICS.iter().any(|(id, b, _)| *b && self.statistics.iter().any(|s| s == id))
    }

    /// Registration snapshots (SPEC §4.3) are needed by the support statistics only.
    pub fn needs_registrations(&self) -> bool {
        self.statistics.iter().any(|s| !is_decision_statistic(s))
    }

    /// Arrival dates (SPEC-DECISIONS D11) are needed by the residence-time statistics only.
    pub fn needs_arrivals(&self) -> bool {
        self.statistics.iter().any(|s| RESIDENCE_STATISTICS.contains(&s.as_str()))
    }

    /// Whether FK's registrations are pulled: for the snapshots or the arrival dates.
    pub fn pulls_registrations(&self) -> bool {
        self.needs_registrations() || self.needs_arrivals()
    }

    /// Whether the job links a cohort (persons with decisions): every statistic but the payer
    /// statistics of §5c.
    pub fn needs_cohort(&self) -> bool {
        self.statistics.iter().any(|s| !PAYER_STATISTICS.contains(&s.as_str()))
    }

    /// D1's `CURRENT_RECIPIENT` rule (where FK has `assistance_months`): the decision statistics
    /// of §5b read whether a linked person had a right in the month before an application.
    pub fn needs_recipient_check(&self) -> bool {
        self.statistics.iter().any(|s| is_decision_statistic(s) && !PAYER_STATISTICS.contains(&s.as_str()))
    }

    /// FK's `assistance_months` (everyone's), for the payer statistics.
    pub fn needs_assistance(&self) -> bool {
        self.statistics.iter().any(|s| PAYER_STATISTICS.contains(&s.as_str()))
    }

    /// Socialstyrelsen's personal-assistance months of everyone, for `pa_by_payer` only.
    pub fn needs_municipal_pa(&self) -> bool {
        self.statistics.iter().any(|s| s == "pa_by_payer")
    }

    /// Inclusive month range of the payer statistics: `max(from, 2014)`-01 ..= `to`-12.
    pub fn assistance_months(&self) -> (String, String) {
        (format!("{:04}-01", self.from_year.max(FIRST_ASSISTANCE_YEAR)), format!("{:04}-12", self.to_year))
    }

    /// Whether this job pulls FK's `dataset` (its load report's fingerprint is an input).
    pub fn pulls_fk(&self, dataset: &str) -> bool {
        match dataset {
            "personnummer_changes" => true,
            "persons" | "decisions" => self.needs_cohort(),
            "registrations" => self.pulls_registrations(),
            "benefit_payments" => self.needs_benefits(),
            "assistance_months" => self.needs_assistance() || self.needs_recipient_check(),
            _ => false,
        }
    }

    pub fn needs_interventions(&self) -> bool {
        STATISTICS.iter().any(|(id, _, i)| *i && self.statistics.iter().any(|s| s == id))
    }

    /// Inclusive month range of the support variables: `from-1`-01 ..= `to+1`-12.
    pub fn support_months(&self) -> (String, String) {
        (format!("{:04}-01", self.from_year - 1), format!("{:04}-12", self.to_year + 1))
    }

    /// Years of the registration snapshots: `from-2 ..= to+1`.
    pub fn snapshot_years(&self) -> std::ops::RangeInclusive<i32> {
        (self.from_year - 2)..=(self.to_year + 1)
    }
}

/// The identifiable inputs of a job, as pulled from the registries (in memory only).
#[derive(Debug, Default)]
pub struct Pulled {
    /// `personnummer_changes` (whole): every identifier below is resolved through it.
    pub changes: Vec<RecordBatch>,
    pub decisions: Vec<RecordBatch>,
    pub persons: Vec<RecordBatch>,
    pub registrations: Vec<RecordBatch>,
    pub benefits: Option<Vec<RecordBatch>>,
    pub interventions: Option<Vec<RecordBatch>>,
    /// FK's `assistance_months` of everyone (payer statistics only).
    pub assistance: Option<Vec<RecordBatch>>,
    /// Socialstyrelsen's LSS personal-assistance rows of everyone (`pa_by_payer` only).
    pub municipal_pa: Option<Vec<RecordBatch>>,
    /// FK's `assistance_months` of the linked persons (D1 `CURRENT_RECIPIENT`), when FK has
    /// the extract.
    pub recipients: Option<Vec<RecordBatch>>,
}

/// The pseudonymised, minimised tables of a delivery, by file stem.
pub type Tables = BTreeMap<&'static str, RecordBatch>;

fn col<'a, T: 'static>(b: &'a RecordBatch, name: &str) -> Result<&'a T> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| Error::Internal(format!("registry batch lacks column {name} of the contract type")))
}

fn pnr_at(a: &StringArray, i: usize) -> Result<Pnr> {
    // The registries serve canonical, validated numbers; anything else is a bug upstream.
    Pnr::parse_canonical(a.value(i)).map_err(|e| Error::Internal(format!("registry served an invalid personnummer ({})", e.code())))
}

/// Every personnummer change FK knows (SPEC §3.1 `personnummer_changes`), resolved along chains
/// to the number in use today.
pub fn renumbering(changes: &[RecordBatch]) -> Result<Renumbering> {
    let mut pairs = Vec::new();
    for b in changes {
        let old = col::<StringArray>(b, "old_personnummer")?;
        let new = col::<StringArray>(b, "new_personnummer")?;
        for i in 0..b.num_rows() {
            pairs.push((pnr_at(old, i)?.as_u64(), pnr_at(new, i)?.as_u64()));
        }
    }
    Ok(Renumbering::new(&pairs))
}

/// Everyone with a decision dated in the decision years, as the number in use today (person
/// keys): a decision held under an old number belongs to the person it refers to now.
pub fn persons_with_decisions(decisions: &[RecordBatch], params: &JobParams, renumber: &Renumbering) -> Result<BTreeSet<u64>> {
    let mut out = BTreeSet::new();
    for b in decisions {
        let pnr = col::<StringArray>(b, "personnummer")?;
        let date = col::<Date32Array>(b, "decision_date")?;
        for i in 0..b.num_rows() {
            let year = date.value_as_date(i).map(|d| d.year()).unwrap_or(0);
            if (params.from_year..=params.to_year).contains(&year) {
                out.insert(renumber.resolve(pnr_at(pnr, i)?.as_u64()));
            }
        }
    }
    Ok(out)
}

/// What the registries are asked for (canonical 12-digit numbers, sorted): the linked persons'
/// current numbers and every old number that refers to one of them — registers may still hold
/// rows under an old number — and nobody else's.
pub fn request_numbers(linked: &BTreeSet<u64>, renumber: &Renumbering) -> Result<Vec<String>> {
    let old = renumber.old_numbers_of(&|c| linked.contains(&c));
    let mut keys: Vec<u64> = linked.iter().copied().chain(old).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .map(|k| Pnr::from_u64(k).map(|p| p.to_canonical()).map_err(|_| Error::Internal("person key".into())))
        .collect()
}

fn days(d: NaiveDate) -> i32 {
    regstat_contract::date_to_days(d)
}

fn utf8(name: &str) -> Field {
    Field::new(name, DataType::Utf8, false)
}

fn batch(fields: Vec<Field>, columns: Vec<ArrayRef>) -> Result<RecordBatch> {
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    Ok(RecordBatch::try_new(schema, columns)?)
}

fn strings<'a>(values: impl IntoIterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

/// Whether a person born on `birth`, dead on `death` (if ever) and with registration periods
/// `periods` (`[from, to)`, `to = None` while still registered) is registered on day `d`
/// (SPEC §4.3). All dates are days since 1970-01-01. Nobody is registered before their birth
/// date, whatever the periods say, nor on or after their death date.
fn registered_on(d: i32, birth: i32, death: Option<i32>, periods: &[(i32, Option<i32>)]) -> bool {
    let born = birth <= d;
    let alive = death.is_none_or(|death| death > d);
    let covered = periods.iter().any(|(from, to)| *from <= d && to.is_none_or(|t| d < t));
    born && alive && covered
}

/// Pseudonymise and minimise. CPU-bound: call from `spawn_blocking`.
///
/// Every identifier is first resolved to the number in use today (`personnummer_changes`), so
/// rows held under an old number — Socialstyrelsen's, or FK's own older rows — belong to the
/// person they refer to, and one person is one pseudonym. Readings (ARCHITECTURE.md):
/// - several `persons` rows for one person (under the current and an old number): the row of
///   the number fewest changes away from the current one is used (the current number's own row
///   first; ties by the smaller number);
/// - registration periods under any of a person's numbers count, except those held under a
///   samordningsnummer (a samordningsnummer is never registered, SPEC §4.3), and a person whose
///   current number is a samordningsnummer is never registered.
pub fn build_tables(pulled: &Pulled, params: &JobParams, key: &Pseudonymiser) -> Result<Tables> {
    let renumber = renumbering(&pulled.changes)?;
    let cohort = persons_with_decisions(&pulled.decisions, params, &renumber)?;
    // The current number of a served identifier, if it is a linked person's.
    let linked = |a: &StringArray, i: usize| -> Result<Option<(Pnr, Pnr)>> {
        let own = pnr_at(a, i)?;
        let current = renumber.resolve(own.as_u64());
        if !cohort.contains(&current) {
            return Ok(None); // a registry that answers more than asked is not trusted
        }
        let current = Pnr::from_u64(current).map_err(|_| Error::Internal("person key".into()))?;
        Ok(Some((own, current)))
    };
    let mut cache: HashMap<u64, String> = HashMap::new();
    let mut pseudo = |p: Pnr| -> String { cache.entry(p.as_u64()).or_insert_with(|| key.pseudonym_hex(p)).clone() };
    let mut tables = Tables::new();

    // persons: one row per current number, the nearest one (see above)
    struct PersonRow {
        rank: (u32, u64),
        sex: String,
        birth: Option<i32>,
        year: i32,
        region: &'static str,
        death: Option<i32>,
    }
    let mut chosen: HashMap<u64, PersonRow> = HashMap::new();
    for b in &pulled.persons {
        let pnr = col::<StringArray>(b, "personnummer")?;
        let sex = col::<StringArray>(b, "sex")?;
        let birth = col::<Date32Array>(b, "birth_date")?;
        let country = col::<StringArray>(b, "birth_country")?;
        let death = col::<Date32Array>(b, "death_date")?;
        for i in 0..b.num_rows() {
            let Some((own, current)) = linked(pnr, i)? else {
                continue;
            };
            let row = PersonRow {
                rank: (renumber.distance(own.as_u64()), own.as_u64()),
                sex: sex.value(i).to_string(),
                birth: birth.is_valid(i).then(|| birth.value(i)),
                year: birth.value_as_date(i).map(|d| d.year()).unwrap_or(0),
                region: if country.value(i) == "SE" { "INRIKES" } else { "UTRIKES" },
                death: death.is_valid(i).then(|| death.value(i)),
            };
            match chosen.get(&current.as_u64()) {
                Some(have) if have.rank <= row.rank => {}
                _ => {
                    chosen.insert(current.as_u64(), row);
                }
            }
        }
    }
    let mut persons: Vec<(String, String, i32, &'static str)> = Vec::new();
    let mut deaths: HashMap<u64, i32> = HashMap::new();
    // Birth date (days) of everyone with an accepted persons row.
    let mut births: HashMap<u64, i32> = HashMap::new();
    let born_abroad: BTreeSet<u64> = chosen.iter().filter(|(_, r)| r.region == "UTRIKES").map(|(k, _)| *k).collect();
    for (current, row) in &chosen {
        let p = Pnr::from_u64(*current).map_err(|_| Error::Internal("person key".into()))?;
        if let Some(d) = row.death {
            deaths.insert(*current, d);
        }
        if let Some(b) = row.birth {
            births.insert(*current, b);
        }
        persons.push((pseudo(p), row.sex.clone(), row.year, row.region));
    }
    persons.sort();
    if params.needs_cohort() {
    tables.insert(
        "persons",
        batch(
            vec![utf8("pseudonym"), utf8("sex"), Field::new("birth_year", DataType::Int32, false), utf8("birth_country")],
            vec![
                strings(persons.iter().map(|r| r.0.as_str())),
                strings(persons.iter().map(|r| r.1.as_str())),
                Arc::new(Int32Array::from_iter_values(persons.iter().map(|r| r.2))),
                strings(persons.iter().map(|r| r.3)),
            ],
        )?,
    );
    }

    // registered on 31 December (SPEC §4.3), for the support statistics only
    let mut periods: HashMap<u64, Vec<(i32, Option<i32>)>> = HashMap::new();
    for b in &pulled.registrations {
        let pnr = col::<StringArray>(b, "personnummer")?;
        let from = col::<Date32Array>(b, "registered_from")?;
        let to = col::<Date32Array>(b, "registered_to")?;
        for i in 0..b.num_rows() {
            let Some((own, current)) = linked(pnr, i)? else {
                continue;
            };
            // A samordningsnummer is never registered (folkbokförd), even when an inconsistent
            // extract has a registration row for it (SPEC §4.3): enforced, not assumed.
            if own.is_coordination() {
                continue;
            }
            periods.entry(current.as_u64()).or_default().push((from.value(i), to.is_valid(i).then(|| to.value(i))));
        }
    }
    let mut registered: Vec<(String, i32)> = Vec::new();
    for (key_u64, ps) in &periods {
        // Without an accepted persons row (no birth date, sex or birth country) a person is
        // not in the population register as delivered, and so never counts as registered.
        let Some(&birth) = births.get(key_u64) else {
            continue;
        };
        let p = Pnr::from_u64(*key_u64).map_err(|_| Error::Internal("person key".into()))?;
        if p.is_coordination() {
            continue;
        }
        let death = deaths.get(key_u64).copied();
        for year in params.snapshot_years() {
            let d = days(NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| Error::Internal("date".into()))?);
            if registered_on(d, birth, death, ps) {
                registered.push((pseudo(p), year));
            }
        }
    }
    registered.sort();
    if params.needs_arrivals() {
        // D11: the registration starts of the persons born abroad, up to the last decision year.
        let last = days(NaiveDate::from_ymd_opt(params.to_year, 12, 31).ok_or_else(|| Error::Internal("date".into()))?);
        let mut arrivals: Vec<(String, i32)> = Vec::new();
        for (key_u64, ps) in &periods {
            if !births.contains_key(key_u64) || !born_abroad.contains(key_u64) {
                continue;
            }
            let p = Pnr::from_u64(*key_u64).map_err(|_| Error::Internal("person key".into()))?;
            if p.is_coordination() {
                continue;
            }
            let name = pseudo(p);
            arrivals.extend(ps.iter().filter(|(from, _)| *from <= last).map(|(from, _)| (name.clone(), *from)));
        }
        arrivals.sort();
        arrivals.dedup();
        tables.insert(
            "arrivals",
            batch(
                vec![utf8("pseudonym"), Field::new("arrival_date", DataType::Date32, false)],
                vec![strings(arrivals.iter().map(|r| r.0.as_str())), Arc::new(Date32Array::from_iter_values(arrivals.iter().map(|r| r.1)))],
            )?,
        );
    }
    if params.needs_registrations() {
        tables.insert(
        "registered",
        batch(
            vec![utf8("pseudonym"), Field::new("year", DataType::Int32, false)],
            vec![strings(registered.iter().map(|r| r.0.as_str())), Arc::new(Int32Array::from_iter_values(registered.iter().map(|r| r.1)))],
        )?,
    );
    }

    // decisions of those persons, 2002..=to, ordered within the person by (date, decision_id)
    let mut raw: Vec<(u64, i32, String, DecisionRow)> = Vec::new();
    for b in &pulled.decisions {
        let pnr = col::<StringArray>(b, "personnummer")?;
        let id = col::<StringArray>(b, "decision_id")?;
        let date = col::<Date32Array>(b, "decision_date")?;
        let kind = col::<StringArray>(b, "kind")?;
        let outcome = col::<StringArray>(b, "outcome")?;
        let reason = col::<StringArray>(b, "rejection_reason")?;
        let group = col::<Int32Array>(b, "lss_group")?;
        let hours = col::<Float64Array>(b, "assessed_hours")?;
        let appeal = col::<BooleanArray>(b, "changed_on_appeal")?;
        for i in 0..b.num_rows() {
            let Some((_, p)) = linked(pnr, i)? else {
                continue;
            };
            raw.push((
                p.as_u64(),
                date.value(i),
                id.value(i).to_string(),
                DecisionRow {
                    pseudonym: pseudo(p),
                    seq: 0,
                    decision_ref: hex::encode(key.tag("decision_id", id.value(i).as_bytes())),
                    date: date.value(i),
                    kind: kind.value(i).to_string(),
                    outcome: outcome.value(i).to_string(),
                    reason: reason.is_valid(i).then(|| reason.value(i).to_string()),
                    lss_group: group.is_valid(i).then(|| group.value(i)),
                    hours: hours.is_valid(i).then(|| hours.value(i)),
                    appeal: appeal.value(i),
                },
            ));
        }
    }
    raw.sort_by(|a, b| (a.0, a.1, &a.2).cmp(&(b.0, b.1, &b.2)));
    let mut decisions: Vec<DecisionRow> = Vec::with_capacity(raw.len());
    let mut last: Option<u64> = None;
    let mut seq = 0;
    for (person, _, _, mut row) in raw {
        seq = if last == Some(person) { seq + 1 } else { 1 };
        last = Some(person);
        row.seq = seq;
        decisions.push(row);
    }
    decisions.sort_by(|a, b| (&a.pseudonym, a.seq).cmp(&(&b.pseudonym, b.seq)));
    if params.needs_cohort() {
        tables.insert("decisions", decisions_batch(&decisions)?);
    }

    if let Some(recipients) = &pulled.recipients {
        // D1 CURRENT_RECIPIENT: the months before each application or notification (month
        // numbers year * 12 + month - 1) of each linked person, and their rights in exactly those.
        let mut before: BTreeSet<(String, i32)> = BTreeSet::new();
        for d in &decisions {
            if d.kind == "ANSOKAN" || d.kind == "ANMALAN" {
                if let Some(date) = regstat_contract::days_to_date(d.date) {
                    before.insert((d.pseudonym.clone(), date.year() * 12 + date.month0() as i32 - 1));
                }
            }
        }
        let mut rows: BTreeSet<(String, String)> = BTreeSet::new();
        for b in recipients {
            let pnr = col::<StringArray>(b, "personnummer")?;
            let month = col::<StringArray>(b, "month")?;
            for i in 0..b.num_rows() {
                let Some((_, p)) = linked(pnr, i)? else {
                    continue;
                };
                let Some(m) = regstat_contract::parse_month(month.value(i)) else {
                    continue;
                };
                let name = pseudo(p);
                if before.contains(&(name.clone(), m)) {
                    rows.insert((name, month.value(i).to_string()));
                }
            }
        }
        tables.insert(
            "recipient_months",
            batch(
                vec![utf8("pseudonym"), utf8("month")],
                vec![strings(rows.iter().map(|r| r.0.as_str())), strings(rows.iter().map(|r| r.1.as_str()))],
            )?,
        );
    }

    if let Some(benefits) = &pulled.benefits {
        let mut rows: BTreeSet<(String, String, String)> = BTreeSet::new();
        for b in benefits {
            let pnr = col::<StringArray>(b, "personnummer")?;
            let benefit = col::<StringArray>(b, "benefit")?;
            let month = col::<StringArray>(b, "month")?;
            let amount = col::<Int64Array>(b, "amount_sek")?;
            for i in 0..b.num_rows() {
                // The person the benefit concerns (the child); the recipient is never read.
                if amount.value(i) <= 0 {
                    continue;
                }
                if let Some((_, p)) = linked(pnr, i)? {
                    rows.insert((pseudo(p), benefit.value(i).to_string(), month.value(i).to_string()));
                }
            }
        }
        tables.insert(
            "benefits",
            batch(
                vec![utf8("pseudonym"), utf8("benefit"), utf8("month")],
                vec![
                    strings(rows.iter().map(|r| r.0.as_str())),
                    strings(rows.iter().map(|r| r.1.as_str())),
                    strings(rows.iter().map(|r| r.2.as_str())),
                ],
            )?,
        );
    }

    if let Some(interventions) = &pulled.interventions {
        let mut rows: BTreeSet<(String, String, String, String)> = BTreeSet::new();
        for b in interventions {
            let pnr = col::<StringArray>(b, "personnummer")?;
            let law = col::<StringArray>(b, "law")?;
            let code = col::<StringArray>(b, "intervention")?;
            let month = col::<StringArray>(b, "month")?;
            for i in 0..b.num_rows() {
                if let Some((_, p)) = linked(pnr, i)? {
                    rows.insert((
                        pseudo(p),
                        law.value(i).to_string(),
                        code.value(i).to_string(),
                        month.value(i).to_string(),
                    ));
                }
            }
        }
        tables.insert(
            "interventions",
            batch(
                vec![utf8("pseudonym"), utf8("law"), utf8("intervention"), utf8("month")],
                vec![
                    strings(rows.iter().map(|r| r.0.as_str())),
                    strings(rows.iter().map(|r| r.1.as_str())),
                    strings(rows.iter().map(|r| r.2.as_str())),
                    strings(rows.iter().map(|r| r.3.as_str())),
                ],
            )?,
        );
    }
    if let Some(assistance) = &pulled.assistance {
        tables.insert("assistance", assistance_table(assistance, params, &renumber, &mut pseudo)?);
    }
    if let Some(rows) = &pulled.municipal_pa {
        tables.insert("municipal_pa", municipal_pa_table(rows, params, &renumber, &mut pseudo)?);
    }
    Ok(tables)
}

/// The current number of a served identifier (everyone: the payer statistics have no cohort).
fn current_of(renumber: &Renumbering, own: Pnr) -> Result<Pnr> {
    Pnr::from_u64(renumber.resolve(own.as_u64())).map_err(|_| Error::Internal("person key".into()))
}

/// Whether a served `YYYY-MM` lies in the job's payer months (a registry that answers more than
/// asked is not trusted).
fn in_months(month: &str, params: &JobParams) -> bool {
    let (first, last) = params.assistance_months();
    first.as_str() <= month && month <= last.as_str()
}

/// FK's `assistance_months`, pseudonymised: one row per current number and month. When rows
/// under an old and the current number fall in one month, the row of the number fewest changes
/// away from the current one is kept (ties: the smaller number), as for `persons`.
fn assistance_table(batches: &[RecordBatch], params: &JobParams, renumber: &Renumbering, pseudo: &mut impl FnMut(Pnr) -> String) -> Result<RecordBatch> {
    // (current number, month) → (rank of the served number, hours, provider)
    type Chosen = ((u32, u64), f64, Option<String>);
    let mut chosen: BTreeMap<(u64, String), Chosen> = BTreeMap::new();
    for b in batches {
        let pnr = col::<StringArray>(b, "personnummer")?;
        let month = col::<StringArray>(b, "month")?;
        let hours = col::<Float64Array>(b, "granted_hours_week")?;
        let provider = col::<StringArray>(b, "provider_category")?;
        for i in 0..b.num_rows() {
            if !in_months(month.value(i), params) {
                continue;
            }
            let own = pnr_at(pnr, i)?;
            let current = current_of(renumber, own)?;
            let rank = (renumber.distance(own.as_u64()), own.as_u64());
            let row = (rank, hours.value(i), provider.is_valid(i).then(|| provider.value(i).to_string()));
            let key = (current.as_u64(), month.value(i).to_string());
            match chosen.get(&key) {
                Some(have) if have.0 <= rank => {}
                _ => {
                    chosen.insert(key, row);
                }
            }
        }
    }
    let mut rows: Vec<(String, String, f64, Option<String>)> = Vec::with_capacity(chosen.len());
    for ((current, month), (_, hours, provider)) in chosen {
        let p = Pnr::from_u64(current).map_err(|_| Error::Internal("person key".into()))?;
        rows.push((pseudo(p), month, hours, provider));
    }
    rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    batch(
        vec![
            utf8("pseudonym"),
            utf8("month"),
            Field::new("granted_hours_week", DataType::Float64, false),
            Field::new("provider_category", DataType::Utf8, true),
        ],
        vec![
            strings(rows.iter().map(|r| r.0.as_str())),
            strings(rows.iter().map(|r| r.1.as_str())),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.2))),
            Arc::new(StringArray::from_iter(rows.iter().map(|r| r.3.as_deref()))),
        ],
    )
}

/// Socialstyrelsen's executed LSS personal assistance, pseudonymised: distinct (person, month).
fn municipal_pa_table(batches: &[RecordBatch], params: &JobParams, renumber: &Renumbering, pseudo: &mut impl FnMut(Pnr) -> String) -> Result<RecordBatch> {
    let mut rows: BTreeSet<(String, String)> = BTreeSet::new();
    for b in batches {
        let pnr = col::<StringArray>(b, "personnummer")?;
        let law = col::<StringArray>(b, "law")?;
        let code = col::<StringArray>(b, "intervention")?;
        let month = col::<StringArray>(b, "month")?;
        for i in 0..b.num_rows() {
            if law.value(i) != "LSS" || code.value(i) != "PERSONLIG_ASSISTANS" || !in_months(month.value(i), params) {
                continue;
            }
            let p = current_of(renumber, pnr_at(pnr, i)?)?;
            rows.insert((pseudo(p), month.value(i).to_string()));
        }
    }
    batch(
        vec![utf8("pseudonym"), utf8("month")],
        vec![strings(rows.iter().map(|r| r.0.as_str())), strings(rows.iter().map(|r| r.1.as_str()))],
    )
}

/// One delivered decision.
#[derive(Debug)]
struct DecisionRow {
    pseudonym: String,
    seq: i32,
    decision_ref: String,
    date: i32,
    kind: String,
    outcome: String,
    reason: Option<String>,
    lss_group: Option<i32>,
    hours: Option<f64>,
    appeal: bool,
}

fn decisions_batch(rows: &[DecisionRow]) -> Result<RecordBatch> {
    let mut date = Date32Builder::new();
    let mut reason = StringBuilder::new();
    let mut group = Int32Builder::new();
    let mut hours = Float64Builder::new();
    let mut appeal = BooleanBuilder::new();
    for r in rows {
        date.append_value(r.date);
        reason.append_option(r.reason.as_deref());
        group.append_option(r.lss_group);
        hours.append_option(r.hours);
        appeal.append_value(r.appeal);
    }
    batch(
        vec![
            utf8("pseudonym"),
            Field::new("decision_seq", DataType::Int32, false),
            utf8("decision_ref"),
            Field::new("decision_date", DataType::Date32, false),
            utf8("kind"),
            utf8("outcome"),
            Field::new("rejection_reason", DataType::Utf8, true),
            Field::new("lss_group", DataType::Int32, true),
            Field::new("assessed_hours", DataType::Float64, true),
            Field::new("changed_on_appeal", DataType::Boolean, false),
        ],
        vec![
            strings(rows.iter().map(|r| r.pseudonym.as_str())),
            Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.seq))),
            strings(rows.iter().map(|r| r.decision_ref.as_str())),
            Arc::new(date.finish()),
            strings(rows.iter().map(|r| r.kind.as_str())),
            strings(rows.iter().map(|r| r.outcome.as_str())),
            Arc::new(reason.finish()),
            Arc::new(group.finish()),
            Arc::new(hours.finish()),
            Arc::new(appeal.finish()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use regstat_contract::Dataset;

    fn decisions(rows: &[(&str, &str, &str)]) -> RecordBatch {
        // (decision_id, personnummer, decision_date)
        let schema = Dataset::Decisions.schema();
        let date = |s: &str| days(NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date"));
        let n = rows.len();
        RecordBatch::try_new(
            schema,
            vec![
                strings(rows.iter().map(|r| r.0)),
                strings(rows.iter().map(|r| r.1)),
                Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| date(r.2)))),
                strings(std::iter::repeat_n("ANSOKAN", n)),
                strings(std::iter::repeat_n("AVSLAG", n)),
                Arc::new(StringArray::from(vec![None::<&str>; n])),
                Arc::new(Int32Array::from(vec![None; n])),
                Arc::new(Float64Array::from(vec![None; n])),
                Arc::new(BooleanArray::from(vec![false; n])),
            ],
        )
        .expect("batch")
    }

    fn date(s: &str) -> i32 {
        days(NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date"))
    }

    fn persons(rows: &[(&str, &str, &str, Option<&str>)]) -> RecordBatch {
        // (personnummer, sex, birth_date, death_date); birth country SE
        RecordBatch::try_new(
            Dataset::Persons.schema(),
            vec![
                strings(rows.iter().map(|r| r.0)),
                strings(rows.iter().map(|r| r.1)),
                Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| date(r.2)))),
                strings(std::iter::repeat_n("SE", rows.len())),
                Arc::new(Date32Array::from(rows.iter().map(|r| r.3.map(date)).collect::<Vec<_>>())),
            ],
        )
        .expect("batch")
    }

    fn registrations(rows: &[(&str, &str, Option<&str>)]) -> RecordBatch {
        // (personnummer, registered_from, registered_to)
        RecordBatch::try_new(
            Dataset::Registrations.schema(),
            vec![
                strings(rows.iter().map(|r| r.0)),
                Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| date(r.1)))),
                Arc::new(Date32Array::from(rows.iter().map(|r| r.2.map(date)).collect::<Vec<_>>())),
            ],
        )
        .expect("batch")
    }

    #[test]
    fn registered_on_needs_birth_a_period_and_no_death() {
        let d = date("2018-12-31");
        let open = [(date("2018-01-01"), None)];
        assert!(registered_on(d, date("2000-01-01"), None, &open));
        // born on the day: registered; born the day after: not, although a period covers it
        assert!(registered_on(d, d, None, &open));
        assert!(!registered_on(d, d + 1, None, &open));
        // died on the day: not registered; the day after: still registered on the day
        assert!(!registered_on(d, date("2000-01-01"), Some(d), &open));
        assert!(registered_on(d, date("2000-01-01"), Some(d + 1), &open));
        // period ends on the day (exclusive): not registered; no period: not registered
        assert!(!registered_on(d, date("2000-01-01"), None, &[(date("2018-01-01"), Some(d))]));
        assert!(registered_on(d, date("2000-01-01"), None, &[(date("2018-01-01"), Some(d + 1))]));
        assert!(!registered_on(d, date("2000-01-01"), None, &[]));
    }

    #[test]
    fn samordningsnummer_and_the_unborn_are_never_registered() {
        let secret = regstat_pseudo::MasterSecret::from_bytes(vec![1; 32]).expect("secret");
        let key = Pseudonymiser::new(&secret, "t", 1).expect("key");
        let params = JobParams::new("t", 1, 2018, 2020, &[]).expect("params");
        assert_eq!(params.snapshot_years(), 2016..=2021);
        let ordinary = "198005171239";
        let coordination = "197506705552"; // 1975-06-10, day 10 + 60
        let child = Pnr::from_parts(2019, 6, 1, 238, false).expect("pnr").to_canonical();
        let new_year_child = Pnr::from_parts(2018, 12, 31, 242, false).expect("pnr").to_canonical();
        let no_persons_row = "199007314579";
        assert!(Pnr::parse_canonical(coordination).expect("valid").is_coordination());
        for p in [ordinary, child.as_str(), new_year_child.as_str(), no_persons_row] {
            assert!(!Pnr::parse_canonical(p).expect("valid").is_coordination());
        }
        let pulled = Pulled {
            decisions: vec![decisions(&[
                ("D1", ordinary, "2019-03-01"),
                ("D2", coordination, "2019-03-01"),
                ("D3", &child, "2020-02-01"),
                ("D4", &new_year_child, "2020-02-01"),
                ("D5", no_persons_row, "2019-03-01"),
            ])],
            persons: vec![persons(&[
                (ordinary, "K", "1980-05-17", None),
                (coordination, "M", "1975-06-10", None),
                (&child, "K", "2019-06-01", None),
                (&new_year_child, "K", "2018-12-31", None),
            ])],
            // Inconsistent extract: the samordningsnummer has a registration row covering every
            // year, and both children are registered from before their birth.
            registrations: vec![registrations(&[
                (ordinary, "1980-05-17", None),
                (coordination, "1975-06-10", None),
                (&child, "2018-01-01", None),
                (&new_year_child, "2016-01-01", None),
                (no_persons_row, "1990-07-31", None),
            ])],
            ..Pulled::default()
        };
        let t = build_tables(&pulled, &params, &key).expect("tables");
        let pseudo = |s: &str| key.pseudonym_hex(Pnr::parse_canonical(s).expect("valid"));

        let reg = &t["registered"];
        let ps = reg.column_by_name("pseudonym").and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned()).expect("pseudonym");
        let ys = reg.column_by_name("year").and_then(|c| c.as_any().downcast_ref::<Int32Array>().cloned()).expect("year");
        let got: Vec<(String, i32)> = (0..reg.num_rows()).map(|i| (ps.value(i).to_string(), ys.value(i))).collect();
        let mut want: Vec<(String, i32)> = Vec::new();
        want.extend((2016..=2021).map(|y| (pseudo(ordinary), y)));
        want.extend((2019..=2021).map(|y| (pseudo(&child), y)));
        want.extend((2018..=2021).map(|y| (pseudo(&new_year_child), y)));
        want.sort();
        assert_eq!(got, want);
        assert_eq!(reg.num_rows(), 6 + 3 + 4);
        assert!(!got.iter().any(|(p, _)| *p == pseudo(coordination) || *p == pseudo(no_persons_row)));
        // The samordningsnummer holder is still delivered in persons (only never registered).
        let persons = &t["persons"];
        assert_eq!(persons.num_rows(), 4);
        let pp = persons.column_by_name("pseudonym").and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned()).expect("pseudonym");
        assert!((0..pp.len()).any(|i| pp.value(i) == pseudo(coordination)));
    }

    #[test]
    fn decision_seq_follows_date_then_decision_id_and_minimises() {
        let secret = regstat_pseudo::MasterSecret::from_bytes(vec![1; 32]).expect("secret");
        let key = Pseudonymiser::new(&secret, "t", 1).expect("key");
        let params = JobParams::new("t", 1, 2018, 2020, &[]).expect("params");
        // Same date: "A7" sorts before "B1" although it comes second; an earlier decision from 2015.
        let b = decisions(&[
            ("B1", "198005171239", "2019-03-01"),
            ("A7", "198005171239", "2019-03-01"),
            ("C3", "198005171239", "2015-06-01"),
            ("Z9", "199007314579", "2010-01-01"), // no decision in 2018–2020: not linked
        ]);
        let pulled = Pulled { decisions: vec![b], ..Pulled::default() };
        let t = build_tables(&pulled, &params, &key).expect("tables");
        let d = &t["decisions"];
        assert_eq!(d.num_rows(), 3);
        let seq = d.column_by_name("decision_seq").and_then(|c| c.as_any().downcast_ref::<Int32Array>().cloned()).expect("seq");
        let refs = d.column_by_name("decision_ref").and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned()).expect("ref");
        let tag = |id: &str| hex::encode(key.tag("decision_id", id.as_bytes()));
        let got: Vec<(i32, String)> = (0..3).map(|i| (seq.value(i), refs.value(i).to_string())).collect();
        assert_eq!(got, vec![(1, tag("C3")), (2, tag("A7")), (3, tag("B1"))]);
        assert!(d.column_by_name("personnummer").is_none() && d.column_by_name("decision_id").is_none());
    }

    fn changes(rows: &[(&str, &str, &str)]) -> RecordBatch {
        // (old, new, change_date)
        RecordBatch::try_new(
            Dataset::PersonnummerChanges.schema(),
            vec![
                strings(rows.iter().map(|r| r.0)),
                strings(rows.iter().map(|r| r.1)),
                Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| date(r.2)))),
            ],
        )
        .expect("batch")
    }

    fn interventions(rows: &[(&str, &str)]) -> RecordBatch {
        // (personnummer, month); LSS KONTAKTPERSON in municipality 0180
        RecordBatch::try_new(
            Dataset::Interventions.schema(),
            vec![
                strings(rows.iter().map(|r| r.0)),
                strings(std::iter::repeat_n("LSS", rows.len())),
                strings(std::iter::repeat_n("KONTAKTPERSON", rows.len())),
                strings(std::iter::repeat_n("0180", rows.len())),
                strings(rows.iter().map(|r| r.1)),
            ],
        )
        .expect("batch")
    }

    fn column(t: &RecordBatch, name: &str) -> Vec<String> {
        let a = t.column_by_name(name).and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned()).expect("utf8");
        (0..a.len()).map(|i| a.value(i).to_string()).collect()
    }

    #[test]
    fn a_chain_of_changed_numbers_is_one_pseudonym_with_all_its_rows_and_only_its_old_numbers_are_asked_for() {
        let secret = regstat_pseudo::MasterSecret::from_bytes(vec![1; 32]).expect("secret");
        let key = Pseudonymiser::new(&secret, "t", 1).expect("key");
        let params = JobParams::new("t", 1, 2018, 2020, &[]).expect("params");
        let p = |y: i32, m: u32, d: u32, serial: u16| Pnr::from_parts(y, m, d, serial, false).expect("pnr").to_canonical();
        // A → B (corrected birth date, 2012) → C (change of legal sex, 2019).
        let (a, b, c) = (p(1980, 5, 17, 123), p(1980, 5, 7, 123), p(1980, 5, 7, 128));
        // Someone else's change: D → E, E has no decision in the years.
        let (d, e) = (p(1970, 1, 1, 11), p(1970, 1, 1, 21));
        // A third person, never renumbered.
        let other = p(1990, 7, 31, 457);
        let renumbering_rows = changes(&[(&b, &c, "2019-05-01"), (&a, &b, "2012-01-01"), (&d, &e, "2015-01-01")]);
        let pulled = Pulled {
            changes: vec![renumbering_rows.clone()],
            // FK's older decision is still under A, the one in the years under B.
            decisions: vec![decisions(&[("D1", &a, "2010-03-01"), ("D2", &b, "2018-04-01"), ("D3", &other, "2019-01-01"), ("D4", &d, "2014-01-01")])],
            // Persons rows under the current number and (stale) under A: C's own row is used.
            persons: vec![persons(&[(&c, "M", "1980-05-07", None), (&a, "K", "1980-05-17", None), (&other, "K", "1990-07-31", None)])],
            // Registration under A until the change of birth date, then under C.
            registrations: vec![registrations(&[(&a, "1980-05-17", Some("2012-01-01")), (&c, "2012-01-01", None), (&other, "1990-07-31", None)])],
            benefits: None,
            // Socialstyrelsen still holds A for 2017 and C for 2019-2021; D is not linked.
            interventions: Some(vec![interventions(&[(&a, "2017-03"), (&c, "2019-06"), (&c, "2021-01"), (&d, "2019-06"), (&other, "2019-02")])]),
            ..Default::default()
        };

        // What the registries are asked for: C and its old numbers A and B, and the other
        // linked person; neither D nor E.
        let renumber = renumbering(&[renumbering_rows]).expect("changes");
        let linked = persons_with_decisions(&pulled.decisions, &params, &renumber).expect("linked");
        let key_of = |s: &str| Pnr::parse_canonical(s).expect("valid").as_u64();
        assert_eq!(linked, [key_of(&c), key_of(&other)].into_iter().collect());
        let mut want = vec![a.clone(), b.clone(), c.clone(), other.clone()];
        want.sort();
        assert_eq!(request_numbers(&linked, &renumber).expect("numbers"), want);

        let t = build_tables(&pulled, &params, &key).expect("tables");
        let (pc, po) = (key.pseudonym_hex(Pnr::parse_canonical(&c).expect("c")), key.pseudonym_hex(Pnr::parse_canonical(&other).expect("o")));
        let mut both = vec![pc.clone(), po.clone()];
        both.sort();
        assert_eq!(column(&t["persons"], "pseudonym"), both);
        // C's own persons row (sex M), not A's stale one.
        let sexes: Vec<(String, String)> = column(&t["persons"], "pseudonym").into_iter().zip(column(&t["persons"], "sex")).collect();
        assert!(sexes.contains(&(pc.clone(), "M".to_string())));
        // Both decisions (2010 under A, 2018 under B) are C's, numbered in date order.
        let d = &t["decisions"];
        let mut want = vec![pc.clone(), pc.clone(), po.clone()];
        want.sort();
        assert_eq!(column(d, "pseudonym"), want);
        let tag = |id: &str| hex::encode(key.tag("decision_id", id.as_bytes()));
        let refs: Vec<(String, String)> = column(d, "pseudonym").into_iter().zip(column(d, "decision_ref")).filter(|(p, _)| *p == pc).collect();
        assert_eq!(refs, vec![(pc.clone(), tag("D1")), (pc.clone(), tag("D2"))]);
        // Registered 2016-2021 through the periods under A and C together.
        let reg = &t["registered"];
        let years = reg.column_by_name("year").and_then(|c| c.as_any().downcast_ref::<Int32Array>().cloned()).expect("year");
        let c_years: Vec<i32> = column(reg, "pseudonym").iter().enumerate().filter(|(_, p)| **p == pc).map(|(i, _)| years.value(i)).collect();
        assert_eq!(c_years, (2016..=2021).collect::<Vec<_>>());
        // Interventions under A and C are one person's; D's are not delivered.
        let i = &t["interventions"];
        let got: Vec<(String, String)> = column(i, "pseudonym").into_iter().zip(column(i, "month")).collect();
        let mut want = vec![(pc.clone(), "2017-03".to_string()), (pc.clone(), "2019-06".to_string()), (pc.clone(), "2021-01".to_string()), (po.clone(), "2019-02".to_string())];
        want.sort();
        assert_eq!(got, want);
    }
}
