//! The applicants: everyone with a decision on assistansersättning 2002–2022, generated at the
//! published national volume whatever the population size (SPEC §8).
//!
//! # Model
//!
//! Year by year, the persons granted and refused in each sex × age-group cell are exactly the
//! numbers of Tabell 19 and 20 (whose sum is Tabell 17). A share of each cell applies again after
//! an earlier refusal (Tabell 41; time since that refusal as in Tabell 36): they are drawn from the
//! earlier refused of the right sex and age who are still alive and in Sweden. The others are new
//! applicants, born abroad with the probability of Tabell 21. A grant makes a person a recipient:
//! they do not apply again (Bilaga 1, *Beslut*), but may get a decision on a change later.
//!
//! From 2018 (HAPO, Bilaga 1) decisions carry FK's assessment of the LSS group (Tabell 22), the
//! reason for a refusal (Tabell 24, by birth country Tabell 25) and the assessed hours of basic
//! needs (Tabell 28; above 20 hours for a grant).
//!
//! Besides the qualifying decisions the register holds reconsiderations, refusals changed on
//! appeal, dismissed and written-off applications and decisions on changes, so that the cohort
//! rules of SPEC §4 have something to exclude.
//!
//! Applicants die at a higher rate than the general population (calibrated against the cohort
//! sizes of Tabell 56), some born abroad immigrated shortly before the decision, some leave the
//! country for a while and a few hold only a coordination number: all of these fall out of the
//! cohort by the registration rule.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use rand::Rng;
use rand_distr::{Distribution, Gamma};

use crate::calibration::{self as cal, published as pb, SexAge, AGE_GROUP_FROM};
use crate::population::{
    date_between, draw_death, foreign_country, municipality, slot_birth, slot_pnr, ymd, Life,
    SegmentKey,
};
use crate::rng::{chance, pick, round_random, stream, Domain};
use crate::rows::{DecisionRow, Txt};
use crate::support::SupportPlan;
use crate::GenError;

/// Kind of decision (contract codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ansokan,
    Anmalan,
    Omprovning,
    Forandring,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::Ansokan => "ANSOKAN",
            Kind::Anmalan => "ANMALAN",
            Kind::Omprovning => "OMPROVNING",
            Kind::Forandring => "FORANDRING",
        }
    }
}

/// Outcome of a decision (contract codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Bifall,
    Avslag,
    Avvisning,
    Avskrivning,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Bifall => "BIFALL",
            Outcome::Avslag => "AVSLAG",
            Outcome::Avvisning => "AVVISNING",
            Outcome::Avskrivning => "AVSKRIVNING",
        }
    }

    /// Index of the published tables: 0 = AVSLAG, 1 = BIFALL.
    pub fn from_index(i: usize) -> Outcome {
        if i == 0 {
            Outcome::Avslag
        } else {
            Outcome::Bifall
        }
    }
}

/// Reason for a refusal (contract codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    GrundlaggandeForutsattningar,
    Personkrets,
    BehovHogst20h,
    Annan,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::GrundlaggandeForutsattningar => "GRUNDLAGGANDE_FORUTSATTNINGAR",
            Reason::Personkrets => "PERSONKRETS",
            Reason::BehovHogst20h => "BEHOV_HOGST_20H",
            Reason::Annan => "ANNAN",
        }
    }
}

/// One decision.
#[derive(Debug, Clone)]
pub struct Decision {
    pub id: Txt,
    pub date: NaiveDate,
    pub kind: Kind,
    pub outcome: Outcome,
    pub reason: Option<Reason>,
    pub lss_group: Option<u8>,
    pub hours: Option<f64>,
    pub changed_on_appeal: bool,
}

impl Decision {
    /// A qualifying decision (SPEC §4.1).
    pub fn is_qualifying(&self) -> bool {
        matches!(self.kind, Kind::Ansokan | Kind::Anmalan)
            && matches!(self.outcome, Outcome::Bifall | Outcome::Avslag)
            && !(self.outcome == Outcome::Avslag && self.changed_on_appeal)
    }

    pub fn row(&self, pnr: Txt) -> DecisionRow {
        DecisionRow {
            decision_id: self.id,
            personnummer: pnr,
            decision_date: self.date,
            kind: Txt::new(self.kind.code()),
            outcome: Txt::new(self.outcome.code()),
            rejection_reason: self.reason.map(|r| Txt::new(r.code())),
            lss_group: self.lss_group.map(i32::from),
            assessed_hours: self.hours,
            changed_on_appeal: self.changed_on_appeal,
        }
    }
}

/// The cohort decision of a person (SPEC §4.2–4.4), if they are in the cohort.
#[derive(Debug, Clone, Copy)]
pub struct CohortMembership {
    /// Decision year `D`.
    pub year: i32,
    /// Index into [`Applicant::decisions`].
    pub decision: usize,
}

/// A person with at least one decision.
#[derive(Debug, Clone)]
pub struct Applicant {
    /// Applicant number (order of creation); keys the person's random streams.
    pub id: u32,
    /// Position in their population segment.
    pub k: u32,
    pub life: Life,
    /// FK's assessment of the LSS group, once made (used from 2018).
    pub lss_group: Option<u8>,
    pub decisions: Vec<Decision>,
    /// Support from the municipality and the social insurance, 2015–2024.
    pub plan: SupportPlan,
    /// Membership of the default cohort (decision years 2018–2020).
    pub cohort: Option<CohortMembership>,
}

impl Applicant {
    pub fn segment_key(&self) -> SegmentKey {
        (
            self.life.coordination,
            self.life.birth_year(),
            self.life.sex,
        )
    }

    /// Index of the first qualifying decision dated in `years` (earliest date, then id).
    pub fn first_qualifying_in(&self, years: std::ops::RangeInclusive<i32>) -> Option<usize> {
        self.decisions
            .iter()
            .enumerate()
            .filter(|(_, d)| d.is_qualifying() && years.contains(&d.date.year()))
            .min_by(|(_, a), (_, b)| {
                a.date
                    .cmp(&b.date)
                    .then_with(|| a.id.as_str().cmp(b.id.as_str()))
            })
            .map(|(i, _)| i)
    }

    /// Registered on 31 December of D−2, D−1, D and D+1 (SPEC §4.3).
    pub fn registered_around(&self, d: i32) -> bool {
        !self.life.coordination && (d - 2..=d + 1).all(|y| self.life.registered_on(ymd(y, 12, 31)))
    }
}

/// Default decision years of the cohort (SPEC §4.2).
pub const COHORT_YEARS: std::ops::RangeInclusive<i32> = 2018..=2020;

/// Last day decisions may be dated (the register covers 2002–2022).
fn last_decision_day() -> NaiveDate {
    ymd(cal::LAST_DECISION_YEAR, 12, 31)
}

/// Internal state of the generation of applicants.
struct Builder {
    seed: u64,
    rng: rand_chacha::ChaCha8Rng,
    applicants: Vec<Applicant>,
    slots: BTreeMap<SegmentKey, u32>,
    /// Refused persons who may apply again: applicant id → year of their last decision.
    pool: BTreeMap<u32, i32>,
    /// Persons granted in a year, for decisions on changes.
    recipients: Vec<(u32, i32)>,
}

/// Generate all applicants and their decisions, 2002–2022. The result does not depend on the
/// population size.
pub fn generate(seed: u64) -> Result<Vec<Applicant>, GenError> {
    let mut b = Builder {
        seed,
        rng: stream(seed, Domain::Applicants, 0),
        applicants: Vec::new(),
        slots: BTreeMap::new(),
        pool: BTreeMap::new(),
        recipients: Vec::new(),
    };
    for year in cal::FIRST_DECISION_YEAR..=cal::LAST_DECISION_YEAR {
        b.year(year)?;
    }
    b.changes();
    b.history_before_2002();
    let mut applicants = b.applicants;
    assign_ids(&mut applicants);
    for a in &mut applicants {
        a.cohort = a
            .first_qualifying_in(COHORT_YEARS)
            .map(|i| CohortMembership {
                year: a.decisions[i].date.year(),
                decision: i,
            })
            .filter(|c| a.registered_around(c.year));
    }
    Ok(applicants)
}

/// Number of applicants per population segment (for the population layout).
pub fn segment_counts(applicants: &[Applicant]) -> BTreeMap<SegmentKey, u32> {
    let mut counts = BTreeMap::new();
    for a in applicants {
        *counts.entry(a.segment_key()).or_insert(0) += 1;
    }
    counts
}

/// Share of a year's decisions with an outcome that follow an earlier refusal (Tabell 41).
fn repeat_share(year: i32, outcome: usize) -> f64 {
    let share = |y: i32| {
        let t = pb::FIRST_OR_REPEATED[(y - 2012) as usize];
        t[1][outcome] as f64 / (t[0][outcome] + t[1][outcome]).max(1) as f64
    };
    if year >= 2012 {
        share(year)
    } else {
        share(2012) * ((year - cal::FIRST_DECISION_YEAR) as f64 / cal::REPEAT_RAMP_YEARS).min(1.0)
    }
}

/// Age in years at the end of `year` for a new applicant of age group `group`.
fn draw_age<R: Rng + ?Sized>(rng: &mut R, group: usize) -> i32 {
    match group {
        // Young children: decisions for children aged 0 or 1 are rare (the cohort, which leaves
        // them out, keeps about as large a share of the 0–6 year olds as of the 7–11 year olds:
        // Tabell 56 against Tabell 19).
        0 => pick(rng, &[0.05, 0.15, 1.0, 1.0, 1.0, 1.0, 1.0]) as i32,
        // Young adults: many apply at 18–20, on leaving school.
        3 => {
            let w: Vec<f64> = (18..=29)
                .map(|a| 1.0 / (1.0 + (a - 18) as f64 / 2.0))
                .collect();
            18 + pick(rng, &w) as i32
        }
        // 65+: mostly just above 65 (a person must have applied before 65, Bilaga 2).
        6 => (65.0 - 4.0 * (1.0 - rng.random::<f64>()).ln()).min(90.0) as i32,
        g => {
            let to = AGE_GROUP_FROM.get(g + 1).map_or(90, |&next| next - 1);
            rng.random_range(AGE_GROUP_FROM[g]..=to)
        }
    }
}

impl Builder {
    fn year(&mut self, year: i32) -> Result<(), GenError> {
        let t = pb::PERSONS_DECIDED[(year - cal::FIRST_DECISION_YEAR) as usize];
        let mut refused_today = Vec::new();
        for outcome in 0..2 {
            for sex in 0..2 {
                for group in 0..7 {
                    let n = t[sex][group][outcome] as usize;
                    if n == 0 {
                        continue;
                    }
                    let repeats =
                        round_random(&mut self.rng, n as f64 * repeat_share(year, outcome)).min(n);
                    let chosen = self.choose_repeaters(year, sex, group, repeats);
                    let mut foreign_repeaters = 0;
                    for &id in &chosen {
                        foreign_repeaters +=
                            usize::from(self.applicants[id as usize].life.foreign_born());
                        let d = self.decide(id, year, group, outcome);
                        if outcome == 0 {
                            refused_today.push((id, d));
                        }
                    }
                    // New applicants, born abroad so that the cell's share matches Tabell 21.
                    let new = n - chosen.len();
                    let sexage = SexAge::of(sex, AGE_GROUP_FROM[group]) as usize;
                    let c = pb::PERSONS_DECIDED_BY_BIRTH_COUNTRY
                        [(year - cal::FIRST_DECISION_YEAR) as usize];
                    let utrikes = c[1][sexage][outcome] as f64
                        / (c[0][sexage][outcome] + c[1][sexage][outcome]).max(1) as f64;
                    let p_new = if new > 0 {
                        ((utrikes * n as f64 - foreign_repeaters as f64) / new as f64)
                            .clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    for _ in 0..new {
                        let foreign = chance(&mut self.rng, p_new);
                        let coordination = group >= 3
                            && outcome == 0
                            && chance(&mut self.rng, cal::COORDINATION_APPLICANT_SHARE);
                        let id = self.new_applicant(
                            year,
                            sex,
                            group,
                            outcome,
                            foreign || coordination,
                            coordination,
                        )?;
                        let d = self.decide(id, year, group, outcome);
                        if outcome == 0 {
                            refused_today.push((id, d));
                        }
                    }
                }
            }
        }
        self.reconsiderations(&refused_today);
        self.non_qualifying(year, &t)?;
        Ok(())
    }

    /// Draw `m` earlier refused persons of this sex and age to apply again in `year`, weighting
    /// the time since their last decision as Tabell 36.
    fn choose_repeaters(&mut self, year: i32, sex: usize, group: usize, m: usize) -> Vec<u32> {
        if m == 0 {
            return Vec::new();
        }
        let bins = pb::YEARS_SINCE_PREVIOUS[(year.max(2012) - 2012) as usize];
        let bin_of = |last: i32| match year - last {
            0..=3 => 0,
            4..=6 => 1,
            _ => 2,
        };
        let mid = ymd(year, 7, 1);
        let candidates: Vec<(u32, usize)> = self
            .pool
            .iter()
            .filter(|(&id, &last)| {
                let a = &self.applicants[id as usize];
                let age = year - a.life.birth_year();
                last < year
                    && a.life.sex == sex
                    && crate::calibration::age_group(age) == group
                    && (a.life.coordination || a.life.registered_on(mid))
                    && a.life.death.is_none_or(|d| d > mid)
            })
            .map(|(&id, &last)| (id, bin_of(last)))
            .collect();
        let mut per_bin = [0usize; 3];
        for &(_, bin) in &candidates {
            per_bin[bin] += 1;
        }
        // Weighted sampling without replacement (Efraimidis–Spirakis keys).
        let mut keyed: Vec<(f64, u32)> = candidates
            .iter()
            .map(|&(id, bin)| {
                let w = bins[bin] as f64 / per_bin[bin] as f64;
                let u: f64 = self.rng.random::<f64>().max(1e-300);
                (
                    if w > 0.0 {
                        u.ln() / w
                    } else {
                        f64::NEG_INFINITY
                    },
                    id,
                )
            })
            .collect();
        keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        keyed.into_iter().take(m).map(|(_, id)| id).collect()
    }

    /// Create a new applicant whose first decision is in `year`.
    fn new_applicant(
        &mut self,
        year: i32,
        sex: usize,
        group: usize,
        outcome: usize,
        foreign: bool,
        coordination: bool,
    ) -> Result<u32, GenError> {
        let id = self.applicants.len() as u32;
        let mut rng = stream(self.seed, Domain::ApplicantLife, id as u64);
        let age = draw_age(&mut rng, group);
        let birth_year = year - age;
        let key = (coordination, birth_year, sex);
        let k = *self.slots.get(&key).unwrap_or(&0);
        self.slots.insert(key, k + 1);
        let (birth, _) = slot_birth(birth_year, k);
        let pnr = slot_pnr(birth_year, sex, coordination, k)?;
        let country = if foreign {
            foreign_country(&mut rng, birth_year)
        } else {
            "SE"
        };
        let mut life = Life {
            pnr,
            sex,
            birth,
            country,
            coordination,
            periods: Vec::new(),
            death: None,
            municipality: municipality(&mut rng),
        };
        // The first decision: a day of the year after birth.
        let first = date_between(
            &mut rng,
            ymd(year, 1, 1)
                .max(birth + Duration::days(30))
                .min(ymd(year, 12, 31)),
            ymd(year, 12, 31),
        );
        if !coordination {
            let start = if foreign {
                let lag_years = if chance(
                    &mut rng,
                    cal::APPLICANT_RECENT_IMMIGRANT_SHARE[usize::from(group >= 3)],
                ) {
                    0.1 + 1.9 * rng.random::<f64>()
                } else {
                    2.0 + 23.0 * rng.random::<f64>()
                };
                let arrival = first - Duration::days((lag_years * 365.25) as i64);
                if arrival > birth {
                    arrival
                } else {
                    date_between(&mut rng, birth, (first - Duration::days(7)).max(birth))
                }
            } else {
                birth
            };
            life.periods.push((start, None));
            // A few months abroad around the decision (a second registration period).
            if chance(&mut rng, cal::APPLICANT_STAY_ABROAD_PROB) {
                let y = (year + rng.random_range(-2..=2))
                    .clamp(start.year() + 1, cal::SUPPORT_LAST_YEAR);
                let leave = ymd(y, rng.random_range(1..=6), rng.random_range(1..=28));
                let back = leave + Duration::days(rng.random_range(60..=240));
                if leave > start && back < ymd(y + 1, 1, 1) {
                    life.periods = vec![(start, Some(leave)), (back, None)];
                }
            }
            if chance(
                &mut rng,
                cal::APPLICANT_EMIGRATION_PROB[usize::from(foreign)],
            ) {
                let leave = date_between(
                    &mut rng,
                    first + Duration::days(30),
                    ymd(cal::SUPPORT_LAST_YEAR, 12, 31),
                );
                if let Some(last) = life.periods.last_mut() {
                    if leave > last.0 {
                        last.1 = Some(leave);
                    }
                }
            }
            let excess = cal::APPLICANT_EXCESS_MORTALITY[group][outcome];
            // Death after the first decision; known to the registers only while registered.
            let death = draw_death(&mut rng, birth, first + Duration::days(1), |a| {
                cal::mortality(a, sex) + excess
            });
            if death.is_some_and(|d| life.registered_on(d)) {
                life.death = death;
                life.truncate_at_death();
            }
        }
        self.applicants.push(Applicant {
            id,
            k,
            life,
            lss_group: None,
            decisions: Vec::new(),
            plan: SupportPlan::default(),
            cohort: None,
        });
        // Remember the drawn date of the first decision as a placeholder decision to be filled.
        self.applicants[id as usize].decisions.push(Decision {
            id: Txt::EMPTY,
            date: first,
            kind: Kind::Ansokan,
            outcome: Outcome::from_index(outcome),
            reason: None,
            lss_group: None,
            hours: None,
            changed_on_appeal: false,
        });
        Ok(id)
    }

    /// Record a qualifying decision for applicant `id` in `year`; returns its index.
    fn decide(&mut self, id: u32, year: i32, group: usize, outcome: usize) -> usize {
        let a = &self.applicants[id as usize];
        // A new applicant's first decision was dated when they were created.
        let placeholder = a.decisions.len() == 1
            && a.decisions[0].id.is_empty()
            && a.decisions[0].date.year() == year;
        let date = if placeholder {
            a.decisions[0].date
        } else {
            let mut from = ymd(year, 1, 1);
            let mut to = ymd(year, 12, 31);
            if let Some(death) = a.life.death {
                to = to.min(death - Duration::days(1));
            }
            // Within the registration period that holds 1 July (they were chosen registered then).
            if let Some(&(p_from, p_to)) = a
                .life
                .periods
                .iter()
                .find(|&&(f, t)| f <= ymd(year, 7, 1) && t.is_none_or(|t| t > ymd(year, 7, 1)))
            {
                from = from.max(p_from);
                if let Some(t) = p_to {
                    to = to.min(t - Duration::days(1));
                }
            }
            date_between(&mut self.rng, from, to.max(from))
        };
        let kind = if chance(&mut self.rng, cal::ANMALAN_SHARE) {
            Kind::Anmalan
        } else {
            Kind::Ansokan
        };
        let mut d = Decision {
            id: Txt::new("pending"),
            date,
            kind,
            outcome: Outcome::from_index(outcome),
            reason: None,
            lss_group: None,
            hours: None,
            changed_on_appeal: false,
        };
        self.hapo_details(id, group, &mut d);
        let a = &mut self.applicants[id as usize];
        if placeholder {
            a.decisions[0] = d;
        } else {
            a.decisions.push(d);
        }
        if outcome == 0 {
            self.pool.insert(id, year);
        } else {
            self.pool.remove(&id);
            self.recipients.push((id, year));
        }
        self.applicants[id as usize].decisions.len() - 1
    }

    /// LSS group, rejection reason and assessed hours, recorded from 2018 (HAPO).
    fn hapo_details(&mut self, id: u32, group: usize, d: &mut Decision) {
        let year = d.date.year();
        if year < 2018 {
            return;
        }
        let a = &self.applicants[id as usize];
        let sex = a.life.sex;
        let sexage = SexAge::of(sex, AGE_GROUP_FROM[group]) as usize;
        let outcome = usize::from(d.outcome == Outcome::Bifall);
        let y = (year - 2018) as usize;
        let groups: Vec<f64> = (0..3)
            .map(|g| pb::PERSONS_DECIDED_BY_LSS_GROUP[g][sexage][y][outcome] as f64)
            .collect();
        let foreign = usize::from(a.life.foreign_born());
        let coordination = a.life.coordination;
        let person_group = match a.lss_group {
            Some(g) => g,
            None => {
                let g = pick(&mut self.rng, &groups) as u8 + 1;
                self.applicants[id as usize].lss_group = Some(g);
                g
            }
        };
        match d.outcome {
            Outcome::Avslag => {
                let reason = if coordination {
                    Some(Reason::GrundlaggandeForutsattningar)
                } else if chance(&mut self.rng, cal::REASON_MISSING_SHARE) {
                    None
                } else {
                    // Tabell 24 by sex and age, tilted by the relative frequency of each reason
                    // among the born in Sweden / abroad (Tabell 25).
                    let by_country = pb::REJECTION_REASONS_BY_BIRTH_COUNTRY;
                    let all: Vec<f64> = (0..3)
                        .map(|r| (by_country[0][r] + by_country[1][r]) as f64)
                        .collect();
                    let total_all: f64 = all.iter().sum();
                    let total_c: f64 = by_country[foreign].iter().map(|&v| v as f64).sum();
                    let w: Vec<f64> = (0..3)
                        .map(|r| {
                            let tilt =
                                (by_country[foreign][r] as f64 / total_c) / (all[r] / total_all);
                            pb::REJECTION_REASONS[sex][group][r] as f64 * tilt
                        })
                        .collect();
                    Some(match pick(&mut self.rng, &w) {
                        0 => Reason::GrundlaggandeForutsattningar,
                        1 => Reason::Personkrets,
                        _ if chance(&mut self.rng, cal::REASON_OTHER_SHARE) => Reason::Annan,
                        _ => Reason::BehovHogst20h,
                    })
                };
                d.reason = reason;
                if matches!(reason, Some(Reason::BehovHogst20h | Reason::Annan)) {
                    d.lss_group = Some(person_group);
                    let hours = pb::ASSESSED_HOURS_REFUSED[sex][group].map(f64::from);
                    let interval = pick(&mut self.rng, &hours);
                    d.hours = Some(match interval {
                        0 => 0.0,
                        i => {
                            let lo = 5.0 * (i - 1) as f64;
                            ((lo + 0.1 + (4.9 * self.rng.random::<f64>())) * 10.0).round() / 10.0
                        }
                    });
                }
            }
            Outcome::Bifall => {
                // Grants without a recorded group: the residual of Tabell 22 against Tabell 21.
                let c = pb::PERSONS_DECIDED_BY_BIRTH_COUNTRY
                    [(year - cal::FIRST_DECISION_YEAR) as usize];
                let total = (c[0][sexage][1] + c[1][sexage][1]) as f64;
                let with_group: f64 = groups.iter().sum();
                let missing = if total > 0.0 {
                    (1.0 - with_group / total).clamp(0.0, 0.5)
                } else {
                    0.0
                };
                if !chance(&mut self.rng, missing) {
                    d.lss_group = Some(person_group);
                    d.hours = Some(granted_hours(&mut self.rng));
                }
            }
            _ => {}
        }
    }

    /// Reconsiderations that confirm a refusal, one to four months later.
    fn reconsiderations(&mut self, refused: &[(u32, usize)]) {
        for &(id, i) in refused {
            if !chance(&mut self.rng, cal::RECONSIDERATION_SHARE) {
                continue;
            }
            let a = &self.applicants[id as usize];
            let original = a.decisions[i].clone();
            let date = original.date + Duration::days(self.rng.random_range(30..=120));
            if date > last_decision_day() || a.life.death.is_some_and(|death| death <= date) {
                continue;
            }
            let d = Decision {
                id: Txt::new("pending"),
                date,
                kind: Kind::Omprovning,
                changed_on_appeal: false,
                ..original
            };
            self.applicants[id as usize].decisions.push(d);
        }
    }

    /// Decisions that are not qualifying: refusals changed on appeal (with the grant that
    /// followed), dismissed and written-off applications. They go to new persons (drawn in
    /// proportion to the year's cells), who are therefore outside Tabell 17.
    fn non_qualifying(&mut self, year: i32, t: &[[[u32; 2]; 7]; 2]) -> Result<(), GenError> {
        let refused: f64 = t.iter().flatten().map(|c| c[0] as f64).sum();
        let all: f64 = t.iter().flatten().map(|c| (c[0] + c[1]) as f64).sum();
        let cells: Vec<(usize, usize)> = (0..2).flat_map(|s| (0..7).map(move |g| (s, g))).collect();
        let refused_w: Vec<f64> = cells.iter().map(|&(s, g)| t[s][g][0] as f64).collect();
        let all_w: Vec<f64> = cells
            .iter()
            .map(|&(s, g)| (t[s][g][0] + t[s][g][1]) as f64)
            .collect();

        let appeals = round_random(&mut self.rng, refused * cal::CHANGED_ON_APPEAL_SHARE);
        for _ in 0..appeals {
            let (sex, group) = cells[pick(&mut self.rng, &refused_w)];
            let foreign = chance(&mut self.rng, 0.3);
            let id = self.new_applicant(year, sex, group, 0, foreign, false)?;
            let i = self.decide(id, year, group, 0);
            self.pool.remove(&id);
            let a = &mut self.applicants[id as usize];
            a.decisions[i].changed_on_appeal = true;
            let regrant = a.decisions[i].date + Duration::days(self.rng.random_range(60..=150));
            let alive = a.life.death.is_none_or(|d| d > regrant);
            if regrant <= last_decision_day() && alive {
                let mut grant = a.decisions[i].clone();
                grant.kind = Kind::Omprovning;
                grant.outcome = Outcome::Bifall;
                grant.reason = None;
                grant.changed_on_appeal = false;
                if grant.date.year() >= 2018 || regrant.year() >= 2018 {
                    grant.lss_group = a.lss_group.or(Some(1));
                    grant.hours = Some(granted_hours(&mut self.rng));
                }
                grant.date = regrant;
                a.decisions.push(grant);
            }
            self.recipients.push((id, year));
        }
        for (share, outcome) in [
            (cal::DISMISSED_SHARE, Outcome::Avvisning),
            (cal::WRITTEN_OFF_SHARE, Outcome::Avskrivning),
        ] {
            let n = round_random(&mut self.rng, all * share);
            for _ in 0..n {
                let (sex, group) = cells[pick(&mut self.rng, &all_w)];
                let foreign = chance(&mut self.rng, 0.3);
                let id = self.new_applicant(year, sex, group, 0, foreign, false)?;
                let d = &mut self.applicants[id as usize].decisions[0];
                d.id = Txt::new("pending");
                d.kind = Kind::Ansokan;
                d.outcome = outcome;
            }
        }
        Ok(())
    }

    /// Decisions on a change for current recipients, in a later year.
    fn changes(&mut self) {
        let recipients = std::mem::take(&mut self.recipients);
        for (id, year) in recipients {
            if year >= cal::LAST_DECISION_YEAR || !chance(&mut self.rng, cal::CHANGE_SHARE) {
                continue;
            }
            let y = self.rng.random_range(year + 1..=cal::LAST_DECISION_YEAR);
            let date = date_between(&mut self.rng, ymd(y, 1, 1), ymd(y, 12, 31));
            let a = &self.applicants[id as usize];
            if a.life.death.is_some_and(|d| d <= date)
                || !(a.life.coordination || a.life.registered_on(date))
            {
                continue;
            }
            let outcome = if chance(&mut self.rng, 0.7) {
                Outcome::Bifall
            } else {
                Outcome::Avslag
            };
            let hapo = y >= 2018;
            let d = Decision {
                id: Txt::new("pending"),
                date,
                kind: Kind::Forandring,
                outcome,
                reason: None,
                lss_group: if hapo { a.lss_group.or(Some(3)) } else { None },
                hours: if hapo {
                    Some(granted_hours(&mut self.rng))
                } else {
                    None
                },
                changed_on_appeal: false,
            };
            self.applicants[id as usize].decisions.push(d);
        }
    }
}

impl Builder {
    /// Refusals in 1994–2001 (SPEC §3: the register from 1994) for persons who apply again from
    /// 2002 on, so that each year 2012–2022 has about [`cal::DECIDED_BEFORE_2002`] decisions by
    /// persons with an earlier history (out of the history tables, SPEC-DECISIONS D8). Years are
    /// filled in order; a person chosen for one year counts in every year they have a decision.
    /// Persons whose register history starts early are preferred (weight 1 / (first year − 2001)).
    fn history_before_2002(&mut self) {
        let mut rng = stream(self.seed, Domain::Applicants, 1);
        let early = ymd(cal::FIRST_DECISION_YEAR, 1, 1);
        // Qualifying (year, outcome) pairs of each person: at most one counted decision each.
        let years_of = |a: &Applicant| -> Vec<(i32, u8)> {
            let mut v: Vec<(i32, u8)> = a.decisions.iter().filter(|d| d.is_qualifying()).map(|d| (d.date.year(), d.outcome as u8)).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let mut marked = vec![false; self.applicants.len()];
        for &(year, target) in &cal::DECIDED_BEFORE_2002 {
            let have: u32 = self
                .applicants
                .iter()
                .filter(|a| marked[a.id as usize])
                .map(|a| years_of(a).iter().filter(|(y, _)| *y == year).count() as u32)
                .sum();
            let mut candidates: Vec<(f64, u32)> = self
                .applicants
                .iter()
                // Born, and registered in Sweden (not a coordination number), well before 2002.
                .filter(|a| !marked[a.id as usize] && a.life.periods.first().is_some_and(|p| p.0.max(a.life.birth) + Duration::days(365) < early))
                .filter_map(|a| {
                    let first = a.decisions.iter().map(|d| d.date.year()).min()?;
                    years_of(a).iter().any(|(y, _)| *y == year).then(|| (rng.random::<f64>() / f64::from((first - 2001).max(1)), a.id))
                })
                .collect();
            candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut have = have;
            for (_, id) in candidates {
                if have >= target {
                    break;
                }
                let a = &self.applicants[id as usize];
                have += years_of(a).iter().filter(|(y, _)| *y == year).count() as u32;
                marked[id as usize] = true;
            }
        }
        for (i, m) in marked.iter().enumerate() {
            if !m {
                continue;
            }
            let life = &self.applicants[i].life;
            let arrived = life.periods.first().map_or(life.birth, |p| p.0.max(life.birth));
            let from = ymd(cal::FIRST_HISTORY_YEAR, 1, 1).max(arrived + Duration::days(180));
            let date = date_between(&mut rng, from, ymd(cal::FIRST_DECISION_YEAR - 1, 12, 31).max(from));
            self.applicants[i].decisions.push(Decision {
                id: Txt::new("pending"),
                date,
                kind: Kind::Ansokan,
                outcome: Outcome::Avslag,
                reason: None,
                lss_group: None,
                hours: None,
                changed_on_appeal: false,
            });
        }
    }
}

/// Assessed hours of basic needs for a grant (above 20 hours a week).
fn granted_hours<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let (shape, scale) = cal::GRANTED_HOURS_GAMMA;
    let excess = Gamma::new(shape, scale)
        .map(|g| g.sample(rng))
        .unwrap_or(10.0);
    ((20.1 + excess.min(140.0)) * 10.0).round() / 10.0
}

/// Sort each person's decisions by date and number all decisions `AE<year><serial>` in date
/// order (then by person), so that ids are unique and ordered like the dates.
fn assign_ids(applicants: &mut [Applicant]) {
    let mut all: Vec<(NaiveDate, u32, usize)> = Vec::new();
    for a in applicants.iter_mut() {
        a.decisions.sort_by_key(|d| d.date);
        for (i, d) in a.decisions.iter().enumerate() {
            all.push((d.date, a.id, i));
        }
    }
    all.sort();
    let mut serial_in_year: BTreeMap<i32, u32> = BTreeMap::new();
    for (date, id, i) in all {
        let serial = serial_in_year.entry(date.year()).or_insert(0);
        *serial += 1;
        applicants[id as usize].decisions[i].id =
            Txt::new(&format!("AE{}{:06}", date.year(), serial));
    }
}
