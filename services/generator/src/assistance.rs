//! Personal assistance by payer (SPEC-DECISIONS §5c): FK's `assistance_months` and the
//! municipal personal assistance (LSS `PERSONLIG_ASSISTANS`) of persons without
//! assistansersättning, both at national volume whatever `PERSONS`, like the applicants.
//!
//! # FK recipients (`assistance_months`, 2014-01 to 2024-12)
//!
//! * **Applicants** granted assistansersättning (a qualifying `BIFALL`, or the grant after a
//!   refusal changed on appeal) have the right from the month of the grant until they die or
//!   leave the country, or lose it ([`cal::FK_LOSS_RATE`]). A grant is never followed by another
//!   application (see [`crate::applicants`]), so no qualifying decision follows a month with a
//!   row (flow rule `CURRENT_RECIPIENT` of SPEC-DECISIONS D1 drops nothing).
//! * **Long-standing recipients**: persons of the general population with a right granted
//!   before 2002 (no decision in the register), chosen per birth year and sex
//!   ([`cal::fk_stock_weight`]) in exact numbers, then given rights month by month so that
//!   applicants + stock equal the national series [`cal::FK_RECIPIENTS`] exactly: in 2014-01
//!   the stock is filled up to the target; each month, recipients who die or leave drop out, and
//!   if there are still too many the excess loses the right (order by a personal key). New
//!   stock recipients start only in 2023–24, after the decision register ends (before that a
//!   right would need a decision in the register).
//! * **Hours and provider** of a month: a personal level `20.5 + 147.5 · Beta` times the month's
//!   common factor, which makes the month's mean [`cal::FK_MEAN_HOURS`] (rounded to 0.5, at most
//!   168); a personal uniform `u` against the month's cut, which makes the share with a private
//!   provider [`cal::FK_PRIVATE_SHARE`] exactly; above the cut the municipality, and at the top
//!   cooperatives, own employers and unknown ([`cal::FK_PROVIDER_TAIL`]).
//!
//! # Municipal PA without FK (`interventions`, 2014-01 to 2023-12)
//!
//! The generator already writes LSS `PERSONLIG_ASSISTANS` for applicants and, at national rates
//! scaled by `PERSONS`, for the general population ([`crate::support`], 2016–2023 only). Those
//! rows are measured here exactly as they will be written (the applicants' and the general
//! population's support replayed; at more than [`EXACT_GENERAL`] general persons, every
//! `stride`-th person, scaled), persons with an FK row that month left out. Only the rest up
//! to [`cal::MUNICIPAL_PA`] is added: non-applicants of the general population without any PA of
//! their own and outside the FK stock, entering and leaving ([`cal::MUNICIPAL_PA_EXIT_RATE`]) so
//! that the month's total is on target. So at the default size the published series is met, and
//! at national size (where the general population's LSS model alone gives about 4 500 PA
//! recipients in 2016–2023) only the shortfall is added: the 2014–15 months, which have no other
//! rows, and the rise to 2020.
//!
//! The rows of both go through the person's changes of personnummer like the other rows.
//! Everything is decided before the chunks are written ([`plan`]) and kept per person index,
//! a few tens of thousands of entries whatever `PERSONS`.

use std::collections::{HashMap, HashSet};

use chrono::Datelike;
use rand::Rng;
use rand_distr::{Beta, Distribution};

use crate::applicants::{Applicant, Kind, Outcome};
use crate::calibration::{self as cal};
use crate::population::{general_life, Layout, Life};
use crate::rng::{chance, stream, Domain};
use crate::rows::{AssistanceRow, InterventionRow, Txt};
use crate::support;
use crate::GenError;

/// Months of `assistance_months`.
pub const FK_MONTHS: usize = cal::PA_FK_MONTHS;
/// Months of the added municipal PA.
pub const PA_MONTHS: usize = cal::PA_MUNICIPAL_MONTHS;
/// Up to this many general-population persons their existing PA is measured person by person;
/// above it, a systematic sample.
pub const EXACT_GENERAL: u64 = 2_000_000;
/// First month in which a new long-standing FK recipient may start (2023-01: the decision
/// register ends in 2022).
const STOCK_ENTRY_FROM: usize = ((cal::LAST_DECISION_YEAR + 1) * 12 - cal::PA_FIRST_MONTH) as usize;

/// A person's FK right within 2014-01..2024-12: months `start..end` (month numbers from
/// 2014-01), their level of hours and their provider draw.
#[derive(Debug, Clone, Copy)]
pub struct FkRight {
    pub start: usize,
    pub end: usize,
    pub level: f64,
    pub u: f64,
}

/// A person's added municipal PA: months `start..end` from 2014-01.
#[derive(Debug, Clone, Copy)]
pub struct MunicipalPa {
    pub start: usize,
    pub end: usize,
}

/// Everything decided about personal assistance before the chunks are written.
#[derive(Debug, Default)]
pub struct Assistance {
    /// FK rights by person index.
    pub fk: HashMap<u64, FkRight>,
    /// Added municipal PA by person index.
    pub municipal: HashMap<u64, MunicipalPa>,
    /// The month's factor on the levels of hours.
    factor: Vec<f64>,
    /// The month's cut of `u` below which the provider is private.
    private_cut: Vec<f64>,
    /// Planned FK recipients per month (what the rows will give).
    pub fk_per_month: Vec<u64>,
    /// Planned municipal PA recipients without FK per month: existing rows (measured,
    /// estimated when sampled) + added.
    pub municipal_per_month: Vec<f64>,
}

/// Month number (from 2014-01) of a date's month; negative before 2014.
fn month_of(d: chrono::NaiveDate) -> i32 {
    d.year() * 12 + d.month0() as i32 - cal::PA_FIRST_MONTH
}

/// `YYYY-MM` of month `t` from 2014-01.
pub fn month_txt(t: usize) -> Txt {
    let m = cal::PA_FIRST_MONTH + t as i32;
    Txt::month(m.div_euclid(12), m.rem_euclid(12) as u32 + 1)
}

/// Month `t` (from 2014-01) of a `YYYY-MM` text.
fn parse_month(m: &Txt) -> Option<i32> {
    let s = m.as_str();
    let y: i32 = s.get(0..4)?.parse().ok()?;
    let mo: i32 = s.get(5..7)?.parse().ok()?;
    Some(y * 12 + mo - 1 - cal::PA_FIRST_MONTH)
}

/// Whether the person is alive and registered in month `t` (any `t`, also before 2014).
struct Activity<'a> {
    life: &'a Life,
    cache: HashMap<i32, u16>,
}

impl<'a> Activity<'a> {
    fn new(life: &'a Life) -> Self {
        Activity {
            life,
            cache: HashMap::new(),
        }
    }

    fn at(&mut self, t: i32) -> bool {
        let m = cal::PA_FIRST_MONTH + t;
        let (y, mo) = (m.div_euclid(12), m.rem_euclid(12));
        let life = self.life;
        let bits = *self.cache.entry(y).or_insert_with(|| life.active_months(y));
        bits & (1 << mo) != 0
    }
}

/// Active months `0..n` of a life as a vector of flags.
fn active_flags(life: &Life, n: usize) -> Vec<bool> {
    let mut a = Activity::new(life);
    (0..n as i32).map(|t| a.at(t)).collect()
}

/// A candidate chosen from the general population.
struct Candidate {
    index: u64,
    active: Vec<bool>,
    /// Order of entry (low first) and of exit (high first).
    entry: f64,
    exit: f64,
}

/// Distinct positions `k` of general persons in a segment, `n` of them, avoiding `exclude`.
fn choose_in_segment<R: Rng + ?Sized>(
    rng: &mut R,
    from: u32,
    count: u32,
    n: u64,
    exclude: &HashSet<u32>,
) -> Vec<u32> {
    let free = (count as u64).saturating_sub(exclude.len() as u64);
    let n = n.min(free);
    let mut out: Vec<u32> = Vec::with_capacity(n as usize);
    if n == 0 {
        return out;
    }
    if n * 2 >= free {
        let mut all: Vec<u32> = (from..from + count).filter(|k| !exclude.contains(k)).collect();
        for i in 0..n as usize {
            let j = rng.random_range(i..all.len());
            all.swap(i, j);
        }
        all.truncate(n as usize);
        out = all;
    } else {
        let mut seen = HashSet::new();
        while (out.len() as u64) < n {
            let k = from + rng.random_range(0..count);
            if !exclude.contains(&k) && seen.insert(k) {
                out.push(k);
            }
        }
    }
    out.sort_unstable();
    out
}

/// Choose about `total` persons of the general population (registered persons, not applicants)
/// in proportion to `weight(birth year, sex)`, excluding `exclude` (segment, k); returns
/// (segment number, k).
fn choose_candidates(
    seed: u64,
    domain: Domain,
    layout: &Layout,
    total: u64,
    weight: impl Fn(i32, usize) -> f64,
    exclude: &HashMap<usize, HashSet<u32>>,
) -> Vec<(usize, u32)> {
    let weights: Vec<f64> = layout
        .segments
        .iter()
        .map(|s| {
            if s.coordination || s.general == 0 {
                0.0
            } else {
                weight(s.birth_year, s.sex)
            }
        })
        .collect();
    let counts = crate::population::apportion(total, &weights);
    let empty = HashSet::new();
    let mut out = Vec::new();
    for (s, seg) in layout.segments.iter().enumerate() {
        if counts[s] == 0 {
            continue;
        }
        let mut rng = stream(seed, domain, s as u64);
        let ex = exclude.get(&s).unwrap_or(&empty);
        for k in choose_in_segment(&mut rng, seg.applicants, seg.general, counts[s], ex) {
            out.push((s, k));
        }
    }
    out
}

/// The month at which each person of `c` gets / loses a right, so that the number with a right
/// is `target[t]` each month as far as the candidates allow; `entry_from` is the first month
/// after 0 in which persons may start. Returns `(start, end)` per candidate (`start == end` =
/// never).
fn fill(c: &[Candidate], target: &[f64], entry_from: usize) -> Vec<(usize, usize)> {
    let n = target.len();
    let mut span = vec![(usize::MAX, usize::MAX); c.len()];
    let mut entry_order: Vec<usize> = (0..c.len()).collect();
    entry_order.sort_by(|&a, &b| c[a].entry.total_cmp(&c[b].entry).then(a.cmp(&b)));
    let mut on: Vec<usize> = Vec::new();
    for t in 0..n {
        // Drop out: dead or emigrated.
        on.retain(|&i| {
            let keep = c[i].active[t];
            if !keep {
                span[i].1 = t;
            }
            keep
        });
        let want = target[t].round().max(0.0) as usize;
        if on.len() > want {
            on.sort_by(|&a, &b| c[b].exit.total_cmp(&c[a].exit).then(a.cmp(&b)));
            for &i in &on[..on.len() - want] {
                span[i].1 = t;
            }
            on.drain(..on.len() - want);
        } else if on.len() < want && (t == 0 || t >= entry_from) {
            for &i in &entry_order {
                if on.len() >= want {
                    break;
                }
                if span[i].0 == usize::MAX && c[i].active[t] {
                    span[i] = (t, usize::MAX);
                    on.push(i);
                }
            }
        }
    }
    span.into_iter()
        .map(|(s, e)| {
            if s == usize::MAX {
                (0, 0)
            } else {
                (s, e.min(n))
            }
        })
        .collect()
}

/// LSS `PERSONLIG_ASSISTANS` months (from 2014-01) among intervention rows.
fn pa_months(rows: &[InterventionRow]) -> Vec<usize> {
    rows.iter()
        .filter(|r| r.law.as_str() == "LSS" && r.intervention.as_str() == "PERSONLIG_ASSISTANS")
        .filter_map(|r| parse_month(&r.month))
        .filter(|&t| t >= 0 && (t as usize) < PA_MONTHS)
        .map(|t| t as usize)
        .collect()
}

/// Decide the FK rights and the added municipal PA (see the module documentation).
pub fn plan(seed: u64, layout: &Layout, applicants: &[Applicant]) -> Result<Assistance, GenError> {
    let mut out = Assistance::default();
    let beta = Beta::new(cal::FK_HOURS_BETA.0, cal::FK_HOURS_BETA.1)
        .map_err(|e| GenError::Internal(format!("hours distribution: {e}")))?;
    let level = |rng: &mut rand_chacha::ChaCha8Rng| 20.5 + 147.5 * beta.sample(rng);
    let annual = |rate: f64| 1.0 - (1.0 - rate).powf(1.0 / 12.0);

    // Applicants granted assistansersättning.
    let mut applicant_fk = vec![0u64; FK_MONTHS];
    for a in applicants {
        let grant = a
            .decisions
            .iter()
            .filter(|d| {
                d.outcome == Outcome::Bifall
                    && matches!(d.kind, Kind::Ansokan | Kind::Anmalan | Kind::Omprovning)
            })
            .map(|d| d.date)
            .min();
        let Some(grant) = grant else { continue };
        let Some(seg) = layout.segment(a.life.coordination, a.life.birth_year(), a.life.sex) else {
            continue;
        };
        let index = seg.start + a.k as u64;
        let mut rng = stream(seed, Domain::Assistance, index);
        let lvl = level(&mut rng);
        let u: f64 = rng.random();
        let loss = annual(cal::FK_LOSS_RATE);
        let mut act = Activity::new(&a.life);
        let g = month_of(grant);
        let mut t = g;
        while t < FK_MONTHS as i32 && act.at(t) && !(t > g && chance(&mut rng, loss)) {
            t += 1;
        }
        let (start, end) = (g.max(0) as usize, t.max(0) as usize);
        if end > start {
            for m in start..end {
                applicant_fk[m] += 1;
            }
            out.fk.insert(index, FkRight { start, end, level: lvl, u });
        }
    }

    // Long-standing recipients from the general population.
    let stock_cands = choose_candidates(
        seed,
        Domain::AssistanceStock,
        layout,
        cal::FK_STOCK_CANDIDATES,
        cal::fk_stock_weight,
        &HashMap::new(),
    );
    let mut stock = Vec::with_capacity(stock_cands.len());
    let mut stock_draws = Vec::with_capacity(stock_cands.len());
    let mut taken: HashMap<usize, HashSet<u32>> = HashMap::new();
    for &(s, k) in &stock_cands {
        let seg = &layout.segments[s];
        let index = seg.start + k as u64;
        taken.entry(s).or_default().insert(k);
        let (life, _) = general_life(seed, seg, k, index)?;
        let mut rng = stream(seed, Domain::Assistance, index);
        let lvl = level(&mut rng);
        let u: f64 = rng.random();
        let (entry, exit) = (rng.random(), rng.random());
        stock.push(Candidate {
            index,
            active: active_flags(&life, FK_MONTHS),
            entry,
            exit,
        });
        stock_draws.push((lvl, u));
    }
    let target: Vec<f64> = (0..FK_MONTHS)
        .map(|t| {
            cal::interpolate(&cal::FK_RECIPIENTS, cal::PA_FIRST_MONTH + t as i32)
                - applicant_fk[t] as f64
        })
        .collect();
    let spans = fill(&stock, &target, STOCK_ENTRY_FROM);
    for (i, &(start, end)) in spans.iter().enumerate() {
        if end > start {
            let (level, u) = stock_draws[i];
            out.fk.insert(stock[i].index, FkRight { start, end, level, u });
        }
    }

    // The month's factor on hours and cut for private providers.
    let mut by_month: Vec<Vec<(f64, f64)>> = vec![Vec::new(); FK_MONTHS];
    let mut keys: Vec<&u64> = out.fk.keys().collect();
    keys.sort_unstable();
    for k in keys {
        let r = out.fk[k];
        for m in r.start..r.end {
            by_month[m].push((r.level, r.u));
        }
    }
    for (t, people) in by_month.iter_mut().enumerate() {
        let m = cal::PA_FIRST_MONTH + t as i32;
        out.fk_per_month.push(people.len() as u64);
        let mean = cal::interpolate(&cal::FK_MEAN_HOURS, m);
        let mut f = 1.0;
        if !people.is_empty() {
            for _ in 0..8 {
                let got: f64 = people.iter().map(|p| hours(p.0, f)).sum::<f64>() / people.len() as f64;
                f *= mean / got;
            }
        }
        out.factor.push(f);
        let share = cal::interpolate(&cal::FK_PRIVATE_SHARE, m);
        people.sort_by(|a, b| a.1.total_cmp(&b.1));
        let k = (share * people.len() as f64).round() as usize;
        let cut = match (k.checked_sub(1).and_then(|i| people.get(i)), people.get(k)) {
            (Some(lo), Some(hi)) => 0.5 * (lo.1 + hi.1),
            (Some(lo), None) => lo.1 + 1e-12,
            (None, _) => share,
        };
        out.private_cut.push(cut);
    }

    // Municipal PA already written: applicants and the general population, without FK.
    let fk_in = |out: &Assistance, index: u64, t: usize| {
        out.fk.get(&index).is_some_and(|r| (r.start..r.end).contains(&t))
    };
    let mut existing = vec![0f64; PA_MONTHS];
    let (mut iv, mut ben) = (Vec::new(), Vec::new());
    for a in applicants {
        if !a.plan.municipal.iter().any(|m| m & 1 != 0) {
            continue;
        }
        let Some(seg) = layout.segment(a.life.coordination, a.life.birth_year(), a.life.sex) else {
            continue;
        };
        let index = seg.start + a.k as u64;
        iv.clear();
        ben.clear();
        crate::applicant_support(seed, layout, a, &mut iv, &mut ben)?;
        let mut months = pa_months(&iv);
        months.sort_unstable();
        months.dedup();
        for t in months {
            if !fk_in(&out, index, t) {
                existing[t] += 1.0;
            }
        }
    }
    let general: u64 = layout.segments.iter().filter(|s| !s.coordination).map(|s| s.general as u64).sum();
    let stride = general.div_ceil(EXACT_GENERAL).max(1);
    for seg in layout.segments.iter().filter(|s| !s.coordination) {
        for k in seg.applicants..seg.applicants + seg.general {
            let index = seg.start + k as u64;
            if !index.is_multiple_of(stride) {
                continue;
            }
            let (life, mut rng) = general_life(seed, seg, k, index)?;
            let plan = support::plan_general(&mut rng, &life);
            if !plan.municipal.iter().any(|m| m & 1 != 0) {
                continue;
            }
            iv.clear();
            ben.clear();
            crate::general_emit(seed, layout, &life, &plan, &mut rng, &mut iv, &mut ben)?;
            let mut months = pa_months(&iv);
            months.sort_unstable();
            months.dedup();
            for t in months {
                if !fk_in(&out, index, t) {
                    existing[t] += stride as f64;
                }
            }
        }
    }

    // The rest: municipal PA for non-applicants without PA of their own, outside the FK stock.
    let cands = choose_candidates(
        seed,
        Domain::MunicipalPaStock,
        layout,
        cal::MUNICIPAL_PA_CANDIDATES,
        |y, _| cal::municipal_pa_weight(y),
        &taken,
    );
    let mut pool = Vec::new();
    let mut duration = Vec::new();
    let exit = annual(cal::MUNICIPAL_PA_EXIT_RATE);
    for (s, k) in cands {
        let seg = &layout.segments[s];
        let index = seg.start + k as u64;
        let (life, mut grng) = general_life(seed, seg, k, index)?;
        let plan = support::plan_general(&mut grng, &life);
        if plan.municipal.iter().any(|m| m & 1 != 0) {
            continue; // PA of their own already
        }
        let mut rng = stream(seed, Domain::MunicipalPa, index);
        let (entry, exit_key) = (rng.random(), rng.random());
        // A planned duration in months (geometric).
        let mut months = 1usize;
        while months < PA_MONTHS && !chance(&mut rng, exit) {
            months += 1;
        }
        pool.push(Candidate {
            index,
            active: active_flags(&life, PA_MONTHS),
            entry,
            exit: exit_key,
        });
        duration.push(months);
    }
    let target: Vec<f64> = (0..PA_MONTHS)
        .map(|t| {
            (cal::interpolate(&cal::MUNICIPAL_PA, cal::PA_FIRST_MONTH + t as i32) - existing[t]).max(0.0)
        })
        .collect();
    let spans = fill_with_durations(&pool, &target, &duration);
    let mut added = vec![0u64; PA_MONTHS];
    for (i, &(start, end)) in spans.iter().enumerate() {
        if end > start {
            for m in start..end {
                added[m] += 1;
            }
            out.municipal.insert(pool[i].index, MunicipalPa { start, end });
        }
    }
    out.municipal_per_month = (0..PA_MONTHS).map(|t| existing[t] + added[t] as f64).collect();
    Ok(out)
}

/// As [`fill`], with entries in any month and a personal duration (months) from the start.
fn fill_with_durations(c: &[Candidate], target: &[f64], duration: &[usize]) -> Vec<(usize, usize)> {
    let n = target.len();
    let mut span = vec![(usize::MAX, usize::MAX); c.len()];
    let mut entry_order: Vec<usize> = (0..c.len()).collect();
    entry_order.sort_by(|&a, &b| c[a].entry.total_cmp(&c[b].entry).then(a.cmp(&b)));
    let mut on: Vec<usize> = Vec::new();
    for t in 0..n {
        on.retain(|&i| {
            // Those on at the start have been on for a while already: half their duration.
            let planned = if span[i].0 == 0 { duration[i] / 2 } else { duration[i] };
            let keep = c[i].active[t] && t < span[i].0 + planned.max(1);
            if !keep {
                span[i].1 = t;
            }
            keep
        });
        let want = target[t].round().max(0.0) as usize;
        if on.len() > want {
            on.sort_by(|&a, &b| c[b].exit.total_cmp(&c[a].exit).then(a.cmp(&b)));
            for &i in &on[..on.len() - want] {
                span[i].1 = t;
            }
            on.drain(..on.len() - want);
        } else if on.len() < want {
            for &i in &entry_order {
                if on.len() >= want {
                    break;
                }
                if span[i].0 == usize::MAX && c[i].active[t] {
                    span[i] = (t, usize::MAX);
                    on.push(i);
                }
            }
        }
    }
    span.into_iter()
        .map(|(s, e)| if s == usize::MAX { (0, 0) } else { (s, e.min(n)) })
        .collect()
}

/// Granted hours per week of a level in a month with factor `f`: rounded to 0.5, in 20.5–168.
fn hours(level: f64, f: f64) -> f64 {
    ((level * f * 2.0).round() / 2.0).clamp(20.5, 168.0)
}

impl Assistance {
    /// The `assistance_months` rows of person `index`.
    pub fn fk_rows(&self, index: u64, pnr: Txt, out: &mut Vec<AssistanceRow>) {
        let Some(r) = self.fk.get(&index) else { return };
        for t in r.start..r.end {
            let provider = if r.u < self.private_cut[t] {
                Some("PRIVAT")
            } else {
                let mut top = 1.0;
                let mut code = Some("KOMMUN");
                for (c, share) in cal::FK_PROVIDER_TAIL.iter().rev() {
                    top -= share;
                    if r.u >= top {
                        code = if c.is_empty() { None } else { Some(*c) };
                        break;
                    }
                }
                code
            };
            out.push(AssistanceRow {
                personnummer: pnr,
                month: month_txt(t),
                granted_hours_week: hours(r.level, self.factor[t]),
                provider_category: provider.map(Txt::new),
            });
        }
    }

    /// The added municipal PA rows of person `index`.
    pub fn municipal_rows(&self, index: u64, life: &Life, out: &mut Vec<InterventionRow>) {
        let Some(r) = self.municipal.get(&index) else { return };
        let (pnr, municipality) = (life.pnr_txt(), Txt::new(life.municipality));
        let (law, code) = (Txt::new("LSS"), Txt::new("PERSONLIG_ASSISTANS"));
        for t in r.start..r.end {
            out.push(InterventionRow {
                personnummer: pnr,
                law,
                intervention: code,
                municipality,
                month: month_txt(t),
            });
        }
    }
}
