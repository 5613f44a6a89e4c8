//! Changes of personnummer (SPEC §3.1 `personnummer_changes`): a few thousand nationally.
//!
//! Skatteverket gives a new number after a corrected birth date or a change of legal sex, and a
//! samordningsnummer holder gets a personnummer when registered. The person's number in the
//! population register (`persons`, `registrations`) is the current one; other rows keep the old
//! number where registers are slow to follow:
//! - FK's own older rows (`decisions`, `benefit_payments` dated before the change) keep it with
//!   probability [`FK_KEEPS_OLD`];
//! - Socialstyrelsen's `interventions` keep it for 0–[`SOS_LAG_MONTHS`] months after the change.
//!
//! Rates: [`RATE`] per person of the register (about 4 200 of 10.5 million), [`CHAIN`] of them a
//! chain of two changes (A→B→C). Sources: Skatteverket's counts of changed numbers are not
//! published per year; the SPEC's "a few thousand nationally" (issue 12) sets the order of
//! magnitude, and the split between kinds is a modelling choice (corrections of birth date are
//! the most common, changes of legal sex a few hundred a year).
//!
//! Old numbers use birth numbers 001–009, which the population layout never assigns
//! ([`crate::population::slot_serial`] starts at 010), so an old number never collides with a
//! person's current one; collisions between old numbers are avoided by [`Taken`].

use std::collections::HashSet;

use chrono::{Datelike, Duration, NaiveDate};
use rand::Rng;
use regstat_pnr::Pnr;

use crate::population::{ymd, Life};
use crate::rng::chance;
use crate::rows::{AssistanceRow, BenefitRow, ChangeRow, DecisionRow, InterventionRow, Txt};

/// Share of persons with a changed number.
pub const RATE: f64 = 4.0e-4;
/// Share of those with two changes (a chain).
pub const CHAIN: f64 = 0.1;
/// Probability that an FK row dated before the change still carries the old number.
pub const FK_KEEPS_OLD: f64 = 0.8;
/// Socialstyrelsen's rows keep the old number for up to this many months after the change.
pub const SOS_LAG_MONTHS: u32 = 6;

/// Old numbers handed out so far (one set for the whole run).
pub type Taken = HashSet<u64>;

/// A person's earlier numbers, oldest first: each with the day it stopped being used.
#[derive(Debug, Clone)]
pub struct Renumbered {
    pub old: Vec<(Txt, NaiveDate)>,
    /// Months Socialstyrelsen lags behind.
    pub sos_lag_months: u32,
}

impl Renumbered {
    /// The number a register up to date on `day` holds for the person.
    fn number_on(&self, day: NaiveDate, current: Txt) -> Txt {
        self.old.iter().find(|(_, until)| day < *until).map_or(current, |(t, _)| *t)
    }

    /// The rows of `personnummer_changes`: each old number to the next one.
    pub fn rows(&self, current: Txt, out: &mut Vec<ChangeRow>) {
        for (i, (old, date)) in self.old.iter().enumerate() {
            let new = self.old.get(i + 1).map_or(current, |(t, _)| *t);
            out.push(ChangeRow { old_personnummer: *old, new_personnummer: new, change_date: *date });
        }
    }

    /// Put old numbers into the person's rows as the registers would hold them.
    pub fn apply<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        current: Txt,
        decisions: &mut [DecisionRow],
        benefits: &mut [BenefitRow],
        interventions: &mut [InterventionRow],
    ) {
        for d in decisions {
            let n = self.number_on(d.decision_date, current);
            if n != current && chance(rng, FK_KEEPS_OLD) {
                d.personnummer = n;
            }
        }
        for b in benefits {
            if b.personnummer != current {
                continue; // a parent's row
            }
            let n = self.number_on(month_start(&b.month), current);
            if n != current && chance(rng, FK_KEEPS_OLD) {
                b.personnummer = n;
            }
        }
        for i in interventions {
            let start = month_start(&i.month);
            let seen = shift_months(start, -(self.sos_lag_months as i32));
            i.personnummer = self.number_on(seen, current);
        }
    }
}

impl Renumbered {
    /// As [`Renumbered::apply`] for the rows added for SPEC-DECISIONS §5c, called after it with
    /// the same stream (so the other rows are as without them): FK's `assistance_months` keep
    /// the old number before the change like FK's payments; the added interventions follow
    /// Socialstyrelsen's lag like the other interventions.
    pub fn apply_assistance<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        current: Txt,
        assistance: &mut [AssistanceRow],
        interventions: &mut [InterventionRow],
    ) {
        for a in assistance {
            let n = self.number_on(month_start(&a.month), current);
            if n != current && chance(rng, FK_KEEPS_OLD) {
                a.personnummer = n;
            }
        }
        for i in interventions {
            let seen = shift_months(month_start(&i.month), -(self.sos_lag_months as i32));
            i.personnummer = self.number_on(seen, current);
        }
    }
}

fn month_start(m: &Txt) -> NaiveDate {
    let s = m.as_str();
    let y = s.get(0..4).and_then(|v| v.parse().ok()).unwrap_or(2000);
    let mo = s.get(5..7).and_then(|v| v.parse().ok()).unwrap_or(1);
    ymd(y, mo, 1)
}

fn shift_months(d: NaiveDate, by: i32) -> NaiveDate {
    let m = d.year() * 12 + d.month0() as i32 + by;
    ymd(m.div_euclid(12), m.rem_euclid(12) as u32 + 1, 1)
}

/// An old number for `life`: a corrected birth date, a change of legal sex, or (for persons born
/// abroad) a samordningsnummer. `None` when no free number was found.
fn old_number<R: Rng + ?Sized>(rng: &mut R, life: &Life, taken: &mut Taken) -> Option<Txt> {
    for _ in 0..16 {
        let kind = rng.random_range(0..100);
        let (birth, parity, coordination) = if life.foreign_born() && kind < 30 {
            (life.birth, life.sex, true)
        } else if kind < 70 {
            let shift = rng.random_range(1..=40) * if chance(rng, 0.5) { 1 } else { -1 };
            (life.birth + Duration::days(shift), life.sex, false)
        } else {
            (life.birth, 1 - life.sex, false)
        };
        // Birth numbers 001–009 with the sex digit's parity (odd = man).
        let serial = 2 * rng.random_range(0..=3u16) + 1 + if parity == 1 { 0 } else { 1 };
        let Ok(p) = Pnr::from_parts(birth.year(), birth.month(), birth.day(), serial, coordination) else {
            continue;
        };
        if taken.insert(p.as_u64()) {
            let mut out = [0u8; 12];
            p.write_canonical(&mut out);
            return Some(Txt::from_ascii(&out));
        }
    }
    None
}

/// Whether `life` has a changed number, and its old numbers. `rng` is the person's own stream
/// for this purpose (drawn from only here).
pub fn draw<R: Rng + ?Sized>(rng: &mut R, life: &Life, taken: &mut Taken) -> Option<Renumbered> {
    if life.coordination || !chance(rng, RATE) {
        return None;
    }
    let first = ymd(2003, 1, 1).max(life.birth + Duration::days(1));
    let last = ymd(2022, 12, 31);
    if first >= last {
        return None;
    }
    let span = (last - first).num_days();
    let last_change = first + Duration::days(rng.random_range(0..span));
    let mut old = Vec::new();
    if chance(rng, CHAIN) && (last_change - first).num_days() > 1 {
        let earlier = first + Duration::days(rng.random_range(0..(last_change - first).num_days()));
        old.push((old_number(rng, life, taken)?, earlier));
    }
    old.push((old_number(rng, life, taken)?, last_change));
    Some(Renumbered { old, sos_lag_months: rng.random_range(0..=SOS_LAG_MONTHS) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_follow_the_number_in_use_and_chains_link_up() {
        let a = Txt::new("198005170013");
        let b = Txt::new("198005170021");
        let c = Txt::new("198005070138");
        let r = Renumbered { old: vec![(a, ymd(2010, 1, 1)), (b, ymd(2019, 5, 1))], sos_lag_months: 2 };
        assert_eq!(r.number_on(ymd(2009, 12, 31), c), a);
        assert_eq!(r.number_on(ymd(2010, 1, 1), c), b);
        assert_eq!(r.number_on(ymd(2019, 5, 1), c), c);
        let mut rows = Vec::new();
        r.rows(c, &mut rows);
        let got: Vec<(&str, &str)> = rows.iter().map(|r| (r.old_personnummer.as_str(), r.new_personnummer.as_str())).collect();
        assert_eq!(got, vec![("198005170013", "198005170021"), ("198005170021", "198005070138")]);
        // Socialstyrelsen lags two months: June 2019 is still under B, July under C.
        let mk = |m: &str| InterventionRow { personnummer: c, law: Txt::new("LSS"), intervention: Txt::new("KONTAKTPERSON"), municipality: Txt::new("0180"), month: Txt::new(m) };
        let mut iv = vec![mk("2019-06"), mk("2019-07")];
        let mut rng = crate::rng::stream(1, crate::rng::Domain::Renumber, 0);
        r.apply(&mut rng, c, &mut [], &mut [], &mut iv);
        assert_eq!((iv[0].personnummer, iv[1].personnummer), (b, c));
    }
}
