//! The population register: who exists, their personnummer, birth, country of birth,
//! registration periods and death (SPEC §3.1 `persons`, `registrations`; §8).
//!
//! # Layout and personnummer
//!
//! Persons are numbered `0..total` and laid out in *segments*, one per (birth year, sex) for
//! registered persons (birth years 1910–2023, the age structure of [`POPULATION_2023`]) and one per
//! (birth year, sex) for holders of a coordination number only. Within a segment the applicants
//! (always generated, see [`crate::applicants`]) come first, then the general population.
//!
//! The `k`-th person of a segment gets a birth date and serial number from `k` alone: day
//! `(97·k + offset) mod days-in-year` and *slot* `k / days-in-year`, the slot giving the serial
//! number `NNN = 10·(1 + slot / 5) + 2·(slot mod 5) + sex`. So the third serial digit is odd for
//! men and even for women, and no two persons can share a personnummer: up to 495 persons per day
//! and sex, enough for any Swedish birth cohort. A person's number is thus known without
//! generating them, which is how a child's parent is found in another chunk.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use regstat_pnr::Pnr;

use crate::calibration::{
    self as cal, BIRTH_COUNTRIES, COORDINATION_SHARE, EMIGRATION_PROB, EXTRACT_YEAR,
    MIN_GENERAL_PERSONS, MUNICIPALITIES, POPULATION_2023, RETURN_PROB,
};
use crate::rng::{chance, pick, stream, Domain};
use crate::rows::{PersonRow, RegistrationRow, Txt};
use crate::GenError;

/// First birth year of the population register. The general population is at most 104 at the
/// end of 2023 (born 1919 or later); the earliest applicants (2002, aged up to 90) are older.
pub const FIRST_BIRTH_YEAR: i32 = 1910;
/// Highest age of the general population at the end of 2023.
const MAX_AGE: i32 = 104;
/// Last birth year (nobody is born after 2023, SPEC §8).
pub const LAST_BIRTH_YEAR: i32 = 2023;
/// Persons per day of birth and sex that the serial numbers can tell apart.
pub const SLOTS_PER_DAY: u32 = 495;
/// Birth years of the holders of a coordination number in the general population (aged 20–65 in
/// 2023: mostly people working or studying in Sweden for a while).
const COORDINATION_BIRTH_YEARS: (i32, i32) = (1958, 2003);

/// Women = 0, men = 1 (the contract codes `K` and `M`).
pub const SEX_CODES: [&str; 2] = ["K", "M"];

/// A date, which the generator only builds from valid parts.
pub fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// Number of days in `year`.
pub fn days_in_year(year: i32) -> u32 {
    if ymd(year, 12, 31).ordinal() == 366 {
        366
    } else {
        365
    }
}

/// A uniformly drawn day in `[from, to]` (`from` if the range is empty).
pub fn date_between<R: Rng + ?Sized>(rng: &mut R, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days();
    if span <= 0 {
        return from;
    }
    from + Duration::days(rng.random_range(0..=span))
}

/// The last day of a month.
pub fn month_end(year: i32, month: u32) -> NaiveDate {
    if month == 12 {
        ymd(year, 12, 31)
    } else {
        ymd(year, month + 1, 1) - Duration::days(1)
    }
}

/// One segment of the person numbering (see the module documentation).
#[derive(Debug, Clone)]
pub struct Segment {
    /// Index of the first person of the segment.
    pub start: u64,
    pub birth_year: i32,
    /// 0 = woman, 1 = man.
    pub sex: usize,
    /// Holders of a coordination number only (never registered).
    pub coordination: bool,
    /// Applicants at the start of the segment.
    pub applicants: u32,
    /// General-population persons after them.
    pub general: u32,
}

impl Segment {
    pub fn len(&self) -> u64 {
        self.applicants as u64 + self.general as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The numbering of all persons.
#[derive(Debug, Clone)]
pub struct Layout {
    pub segments: Vec<Segment>,
    pub total: u64,
    pub applicants: u64,
}

/// Key of an applicant segment: (coordination number, birth year, sex).
pub type SegmentKey = (bool, i32, usize);

impl Layout {
    /// Lay out `persons` persons (raised if needed, see [`MIN_GENERAL_PERSONS`]) around the given
    /// numbers of applicants per segment.
    pub fn new(persons: u64, applicants: &BTreeMap<SegmentKey, u32>) -> Result<Layout, GenError> {
        let n_applicants: u64 = applicants.values().map(|&n| n as u64).sum();
        let coordination = (persons as f64 * COORDINATION_SHARE).round() as u64;
        let general = persons
            .saturating_sub(n_applicants + coordination)
            .max(MIN_GENERAL_PERSONS);

        // Age structure of the general population, per (birth year, sex).
        let mut weights = Vec::new();
        for year in FIRST_BIRTH_YEAR..=LAST_BIRTH_YEAR {
            let age = LAST_BIRTH_YEAR - year;
            let (_, thousands, women, _) = population_group(age);
            let per_year = if age > MAX_AGE { 0.0 } else { thousands / 5.0 };
            weights.push(per_year * women);
            weights.push(per_year * (1.0 - women));
        }
        let general_counts = apportion(general, &weights);
        let coord_years = COORDINATION_BIRTH_YEARS.1 - COORDINATION_BIRTH_YEARS.0 + 1;
        let coord_weights: Vec<f64> = (0..coord_years).flat_map(|_| [0.45, 0.55]).collect();
        let coord_counts = apportion(coordination, &coord_weights);

        let mut segments = Vec::new();
        let mut start = 0u64;
        for coord in [false, true] {
            for year in FIRST_BIRTH_YEAR..=LAST_BIRTH_YEAR {
                for sex in 0..2 {
                    let apps = applicants.get(&(coord, year, sex)).copied().unwrap_or(0);
                    let gen = if coord {
                        if (COORDINATION_BIRTH_YEARS.0..=COORDINATION_BIRTH_YEARS.1).contains(&year)
                        {
                            coord_counts[((year - COORDINATION_BIRTH_YEARS.0) * 2) as usize + sex]
                                as u32
                        } else {
                            0
                        }
                    } else {
                        general_counts[((year - FIRST_BIRTH_YEAR) * 2) as usize + sex] as u32
                    };
                    let capacity = SLOTS_PER_DAY * days_in_year(year);
                    if apps + gen > capacity {
                        return Err(GenError::Config(format!(
                            "PERSONS too large: {} persons born in {year} exceed the {capacity} personnummer of a year",
                            apps + gen
                        )));
                    }
                    let seg = Segment {
                        start,
                        birth_year: year,
                        sex,
                        coordination: coord,
                        applicants: apps,
                        general: gen,
                    };
                    start += seg.len();
                    segments.push(seg);
                }
            }
        }
        for key in applicants.keys() {
            if key.1 < FIRST_BIRTH_YEAR || key.1 > LAST_BIRTH_YEAR {
                return Err(GenError::Config(format!(
                    "applicant born in {} outside the population",
                    key.1
                )));
            }
        }
        Ok(Layout {
            segments,
            total: start,
            applicants: n_applicants,
        })
    }

    /// The segment holding person `index` and the person's position `k` in it.
    pub fn locate(&self, index: u64) -> (usize, u32) {
        let s = self
            .segments
            .partition_point(|seg| seg.start + seg.len() <= index);
        (s, (index - self.segments[s].start) as u32)
    }

    /// The segment of (coordination, birth year, sex).
    pub fn segment(&self, coordination: bool, birth_year: i32, sex: usize) -> Option<&Segment> {
        if !(FIRST_BIRTH_YEAR..=LAST_BIRTH_YEAR).contains(&birth_year) {
            return None;
        }
        let per_kind = ((LAST_BIRTH_YEAR - FIRST_BIRTH_YEAR + 1) * 2) as usize;
        let i = usize::from(coordination) * per_kind
            + ((birth_year - FIRST_BIRTH_YEAR) * 2) as usize
            + sex;
        self.segments.get(i)
    }
}

/// The five-year group of [`POPULATION_2023`] holding `age`.
fn population_group(age: i32) -> (i32, f64, f64, f64) {
    let i = POPULATION_2023
        .iter()
        .rposition(|g| age >= g.0)
        .unwrap_or(0);
    POPULATION_2023[i]
}

/// Split `total` over `weights` by largest remainders (deterministic, sums exactly to `total`).
pub fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if sum <= 0.0 || weights.is_empty() {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut counts: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let assigned: u64 = counts.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &i in order.iter().take((total - assigned) as usize) {
        counts[i] += 1;
    }
    counts
}

/// Birth date of the `k`-th person of a segment and their slot on that day.
pub fn slot_birth(birth_year: i32, k: u32) -> (NaiveDate, u32) {
    let days = days_in_year(birth_year);
    let offset = (birth_year.rem_euclid(days as i32) as u32 * 37) % days;
    let day = ((k % days) as u64 * 97 + offset as u64) % days as u64;
    let date = ymd(birth_year, 1, 1) + Duration::days(day as i64);
    (date, k / days)
}

/// Serial number (`NNN`) of a slot: the third digit is odd for men, even for women.
pub fn slot_serial(slot: u32, sex: usize) -> u16 {
    (10 * (1 + slot / 5) + 2 * (slot % 5) + sex as u32) as u16
}

/// Canonical personnummer (`YYYYMMDDNNNC`) of the `k`-th person of a segment.
pub fn slot_pnr(
    birth_year: i32,
    sex: usize,
    coordination: bool,
    k: u32,
) -> Result<[u8; 12], GenError> {
    let (birth, slot) = slot_birth(birth_year, k);
    let pnr = Pnr::from_parts(
        birth.year(),
        birth.month(),
        birth.day(),
        slot_serial(slot, sex),
        coordination,
    )
    .map_err(|e| GenError::Internal(format!("personnummer of {birth} slot {slot}: {e}")))?;
    let mut out = [0u8; 12];
    pnr.write_canonical(&mut out);
    Ok(out)
}

/// Everything the registers know about a person's life.
#[derive(Debug, Clone)]
pub struct Life {
    pub pnr: [u8; 12],
    /// 0 = woman, 1 = man.
    pub sex: usize,
    pub birth: NaiveDate,
    /// ISO 3166-1 alpha-2, `SE` for born in Sweden.
    pub country: &'static str,
    pub coordination: bool,
    /// Registration periods `[from, to)`, in order; `to = None` while still registered.
    pub periods: Vec<(NaiveDate, Option<NaiveDate>)>,
    pub death: Option<NaiveDate>,
    /// Municipality of residence (*kommunkod*).
    pub municipality: &'static str,
}

impl Life {
    pub fn pnr_txt(&self) -> Txt {
        Txt::from_ascii(&self.pnr)
    }

    pub fn birth_year(&self) -> i32 {
        self.birth.year()
    }

    pub fn foreign_born(&self) -> bool {
        self.country != "SE"
    }

    /// Registered in Sweden on day `d` (SPEC §4.3).
    pub fn registered_on(&self, d: NaiveDate) -> bool {
        self.death.is_none_or(|death| d < death)
            && self
                .periods
                .iter()
                .any(|&(from, to)| from <= d && to.is_none_or(|to| d < to))
    }

    /// Months of `year` (bit `m − 1` for month `m`) in which the person is alive and registered
    /// for at least one day.
    pub fn active_months(&self, year: i32) -> u16 {
        let mut mask = 0u16;
        for m in 1..=12u32 {
            let first = ymd(year, m, 1);
            let last = month_end(year, m);
            let alive = self.birth <= last && self.death.is_none_or(|death| death > first);
            let registered = self
                .periods
                .iter()
                .any(|&(from, to)| from <= last && to.is_none_or(|to| to > first));
            if alive && registered {
                mask |= 1 << (m - 1);
            }
        }
        mask
    }

    /// End the registration at death (the day of death is the first day not registered).
    pub fn truncate_at_death(&mut self) {
        if let Some(death) = self.death {
            self.periods.retain(|&(from, _)| from < death);
            for period in &mut self.periods {
                if period.1.is_none_or(|to| to > death) {
                    period.1 = Some(death);
                }
            }
        }
    }

    pub fn person_row(&self) -> PersonRow {
        PersonRow {
            personnummer: self.pnr_txt(),
            sex: Txt::new(SEX_CODES[self.sex]),
            birth_date: self.birth,
            birth_country: Txt::new(self.country),
            death_date: self.death,
        }
    }

    pub fn registration_rows(&self, out: &mut Vec<RegistrationRow>) {
        let pnr = self.pnr_txt();
        for &(from, to) in &self.periods {
            out.push(RegistrationRow {
                personnummer: pnr,
                registered_from: from,
                registered_to: to,
            });
        }
    }
}

/// A country of birth for a person born abroad in `birth_year`.
pub fn foreign_country<R: Rng + ?Sized>(rng: &mut R, birth_year: i32) -> &'static str {
    let old = birth_year < 1960;
    let weights: Vec<f64> = BIRTH_COUNTRIES
        .iter()
        .map(|c| if old { c.1 } else { c.2 })
        .collect();
    BIRTH_COUNTRIES[pick(rng, &weights)].0
}

/// A municipality of residence.
pub fn municipality<R: Rng + ?Sized>(rng: &mut R) -> &'static str {
    let weights: Vec<f64> = MUNICIPALITIES.iter().map(|m| m.1).collect();
    MUNICIPALITIES[pick(rng, &weights)].0
}

/// Draw a death date in `[from_year, 2023]` with the annual hazard `hazard(age)`, or none.
pub fn draw_death<R: Rng + ?Sized>(
    rng: &mut R,
    birth: NaiveDate,
    from: NaiveDate,
    hazard: impl Fn(i32) -> f64,
) -> Option<NaiveDate> {
    for year in from.year()..EXTRACT_YEAR {
        let start = if year == from.year() {
            from
        } else {
            ymd(year, 1, 1)
        };
        let end = ymd(year, 12, 31);
        let fraction = ((end - start).num_days() + 1) as f64 / days_in_year(year) as f64;
        if chance(rng, hazard(year - birth.year()) * fraction) {
            let earliest = start.max(birth + Duration::days(1));
            return Some(date_between(rng, earliest, end.max(earliest)));
        }
    }
    None
}

/// A person of the general population (not an applicant): their life from their own random
/// stream, which the caller goes on using for their support.
pub fn general_life(
    seed: u64,
    seg: &Segment,
    k: u32,
    index: u64,
) -> Result<(Life, ChaCha8Rng), GenError> {
    let mut rng = stream(seed, Domain::General, index);
    let pnr = slot_pnr(seg.birth_year, seg.sex, seg.coordination, k)?;
    let (birth, _) = slot_birth(seg.birth_year, k);
    let age = LAST_BIRTH_YEAR - seg.birth_year;
    let foreign = if seg.coordination {
        chance(&mut rng, 0.92)
    } else {
        chance(&mut rng, population_group(age).3)
    };
    let country = if foreign {
        foreign_country(&mut rng, seg.birth_year)
    } else {
        "SE"
    };
    let municipality = municipality(&mut rng);
    let mut life = Life {
        pnr,
        sex: seg.sex,
        birth,
        country,
        coordination: seg.coordination,
        periods: Vec::new(),
        death: None,
        municipality,
    };
    if seg.coordination {
        return Ok((life, rng));
    }

    let end = ymd(LAST_BIRTH_YEAR, 12, 31);
    // Registered from birth, or from immigration: children at any age, adults mostly as young
    // adults (16 + an exponential number of years, mean 12).
    let start = if foreign {
        let age_at_immigration = if age < 18 {
            rng.random::<f64>() * (age as f64 + 1.0)
        } else {
            (16.0 - 12.0 * (1.0 - rng.random::<f64>()).ln()).min(age as f64 + 0.9)
        };
        (birth + Duration::days((age_at_immigration * 365.25) as i64)).clamp(birth, end)
    } else {
        birth
    };
    life.periods.push((start, None));

    // Emigration during 2016–2023, and perhaps a return.
    if chance(&mut rng, EMIGRATION_PROB[usize::from(foreign)]) {
        let earliest = (start + Duration::days(180)).max(ymd(cal::SUPPORT_FIRST_YEAR, 1, 1));
        if earliest < end {
            let emigration = date_between(&mut rng, earliest, end);
            life.periods[0].1 = Some(emigration);
            if chance(&mut rng, RETURN_PROB) {
                let back = emigration + Duration::days(rng.random_range(90..2000));
                if back <= end {
                    life.periods.push((back, None));
                }
            }
        }
    }

    // Death during 2016–2023 (recorded only while registered: deaths abroad are unknown).
    let from = ymd(cal::SUPPORT_FIRST_YEAR, 1, 1).max(start);
    let death = draw_death(&mut rng, birth, from, |a| cal::mortality(a, seg.sex));
    if let Some(d) = death {
        if life.registered_on(d) {
            life.death = Some(d);
            life.truncate_at_death();
        }
    }
    Ok((life, rng))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_sums() {
        let c = apportion(10, &[1.0, 1.0, 1.0]);
        assert_eq!(c.iter().sum::<u64>(), 10);
        assert_eq!(c, vec![4, 3, 3]);
    }

    #[test]
    fn slots_are_unique_within_a_year() {
        let mut seen = std::collections::HashSet::new();
        for k in 0..(366 * 12) {
            let (date, slot) = slot_birth(2020, k);
            assert_eq!(date.year(), 2020);
            assert!(seen.insert((date, slot_serial(slot, 1))));
        }
    }

    #[test]
    fn serial_parity_follows_sex() {
        for slot in 0..SLOTS_PER_DAY {
            for sex in 0..2 {
                let s = slot_serial(slot, sex);
                assert!((1..=999).contains(&s));
                assert_eq!((s % 10) as usize % 2, sex);
            }
        }
    }
}
