//! Realistic defects (`DIRT=<rate>`, SPEC §3 and §8): a share of the rows of every dataset gets
//! exactly one defect each, of the kinds the contract's validation rejects, spread evenly over the
//! kinds that apply to the dataset.
//!
//! Kinds and what they look like (the names are the validator's reason codes):
//!
//! | kind | how |
//! |---|---|
//! | `INVALID_PERSONNUMMER` | a wrong check digit, an impossible date (with a correct check digit) or a malformed number, in `personnummer` or `recipient_personnummer` |
//! | `UNKNOWN_CODE` | a code not in the contract's lists: `sex`, `kind`, `outcome`, `rejection_reason`, `benefit`, `law`, `provider_category` |
//! | `UNKNOWN_INTERVENTION` | an intervention code valid under another law only (never `KONTAKTPERSON`, which SoL and LSS share) |
//! | `INVALID_DATE` | a semantically impossible date: `death_date` before `birth_date`, `registered_to` not after `registered_from` |
//! | `INVALID_MONTH` | `2019-15`, `2019-3`, `2019/03`, `201903` |
//! | `MISSING_VALUE` | an empty required text field (`sex`, `birth_country`, `kind`, `outcome`, `benefit`, `municipality`) |
//! | `INVALID_VALUE` | `birth_country` not two capital letters, `lss_group` not 1–3, negative `assessed_hours`, `municipality` not four digits, `granted_hours_week` 0, negative or above 168 |
//! | `DUPLICATE_ROW` | an exact copy of the row before it (inserted) |
//! | `DUPLICATE_KEY` | a second `persons` row for the same personnummer, `decisions` row for the same `decision_id` or `assistance_months` row for the same person and month, with other content (inserted) |
//!
//! Not injected, because the contract's validation accepts them: a `decision_date` before 2002
//! (a real date; the register simply starts in 2002) and `amount_sek` ≤ 0 (a correction: SPEC
//! §4.11 counts only payments above zero). So `decisions` has no `INVALID_DATE` and
//! `benefit_payments` no `INVALID_VALUE`.
//!
//! Dates are defective only semantically, so that the same value fits a Parquet `Date32` column
//! and CSV and Parquet hold the same rows; syntactically bad text appears only in text columns
//! (months). A missing value is the empty string (an empty CSV field; an empty string in
//! Parquet, whose canonical columns are not nullable). Corrupted personnummer are invalid, so they
//! cannot collide with a valid one, and distinct numbers stay distinct when corrupted. Duplicates
//! are made only of clean rows, and the original comes first. So every defective row has exactly
//! one reason, and no clean row becomes defective.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration};
use rand::Rng;
use serde::Serialize;

use crate::population::ymd;
use crate::rng::pick;
use crate::rows::{
    AssistanceRow, BenefitRow, ChangeRow, DecisionRow, InterventionRow, PersonRow, RegistrationRow,
    Txt,
};

/// A kind of defect is the validator's reason for rejecting it: one enum for both sides, so the
/// ground truth in `generation.json` and the quarantine files use the same codes.
pub use regstat_contract::Reason as DefectKind;

/// Defects written into one dataset.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DefectCounts {
    pub rows: u64,
    pub defective_rows: u64,
    pub by_kind: BTreeMap<&'static str, u64>,
}

impl DefectCounts {
    pub fn for_kinds(kinds: &[DefectKind]) -> DefectCounts {
        DefectCounts {
            by_kind: kinds.iter().map(|k| (k.code(), 0)).collect(),
            ..DefectCounts::default()
        }
    }

    fn add(&mut self, kind: DefectKind) {
        self.defective_rows += 1;
        *self.by_kind.entry(kind.code()).or_insert(0) += 1;
    }
}

/// How defects are put into the rows of a dataset.
pub trait Dirty: Copy {
    /// The kinds that apply to the dataset.
    const KINDS: &'static [DefectKind];
    /// Change the row in place to carry a defect of `kind` (not a duplicate kind).
    fn corrupt<R: Rng + ?Sized>(&mut self, kind: DefectKind, rng: &mut R);
    /// A row with the same key and different content (only for datasets with a key).
    fn key_duplicate<R: Rng + ?Sized>(&self, _rng: &mut R) -> Self {
        *self
    }
}

/// Put defects into `rows` at `rate` and count them; returns the rows to write.
pub fn apply<T: Dirty, R: Rng + ?Sized>(
    rows: Vec<T>,
    rate: f64,
    rng: &mut R,
    counts: &mut DefectCounts,
) -> Vec<T> {
    if rate <= 0.0 {
        counts.rows += rows.len() as u64;
        return rows;
    }
    let mut out = Vec::with_capacity(rows.len() + (rows.len() as f64 * rate * 0.5) as usize + 1);
    let weights = vec![1.0; T::KINDS.len()];
    for mut row in rows {
        if rng.random::<f64>() >= rate {
            out.push(row);
            continue;
        }
        let kind = T::KINDS[pick(rng, &weights)];
        match kind {
            DefectKind::DuplicateRow => {
                out.push(row);
                out.push(row);
            }
            DefectKind::DuplicateKey => {
                let dup = row.key_duplicate(rng);
                out.push(row);
                out.push(dup);
            }
            _ => {
                row.corrupt(kind, rng);
                out.push(row);
            }
        }
        counts.add(kind);
    }
    counts.rows += out.len() as u64;
    out
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

fn choose<R: Rng + ?Sized>(rng: &mut R, options: &[&str]) -> Txt {
    Txt::new(options[rng.random_range(0..options.len())])
}

/// Luhn check digit over nine digits.
fn luhn(digits: &[u8; 9]) -> u8 {
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let v = d as u32 * if i % 2 == 0 { 2 } else { 1 };
            v / 10 + v % 10
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// An invalid personnummer derived from a valid canonical one.
fn corrupt_pnr<R: Rng + ?Sized>(rng: &mut R, pnr: &Txt) -> Txt {
    let b = pnr.as_bytes();
    if b.len() != 12 || !b.iter().all(u8::is_ascii_digit) {
        return Txt::new("0000000000");
    }
    let mut v = [0u8; 12];
    v.copy_from_slice(b);
    match rng.random_range(0..3) {
        // Wrong check digit.
        0 => {
            let c = v[11] - b'0';
            v[11] = b'0' + (c + rng.random_range(1..=9)) % 10;
            Txt::from_ascii(&v)
        }
        // Impossible date (the month plus 20), with a correct check digit. Different numbers stay
        // different, so corrupted numbers do not collide either.
        1 => {
            let month = (v[4] - b'0') * 10 + (v[5] - b'0') + 20;
            v[4] = b'0' + month / 10;
            v[5] = b'0' + month % 10;
            let mut nine = [0u8; 9];
            for i in 0..9 {
                nine[i] = v[2 + i] - b'0';
            }
            v[11] = b'0' + luhn(&nine);
            Txt::from_ascii(&v)
        }
        // Malformed: a digit missing, a letter, a wrong separator.
        _ => {
            let s = std::str::from_utf8(&v).unwrap_or_default().to_string();
            let bad = match rng.random_range(0..3) {
                0 => s[..11].to_string(),
                1 => format!("{}X{}", &s[..9], &s[9..]),
                _ => format!("{}/{}", &s[..8], &s[8..]),
            };
            Txt::new(&bad)
        }
    }
}

/// A malformed month that still tells the original apart (so two corrupted months of one
/// person never make the rows exact duplicates of each other).
fn bad_month<R: Rng + ?Sized>(rng: &mut R, month: &Txt) -> Txt {
    let year = month.as_str().get(..4).unwrap_or("2019");
    let m = month.as_str().get(5..7).unwrap_or("03");
    let number: u32 = m.parse().unwrap_or(3);
    let s = match rng.random_range(0..4) {
        // Month out of range: 13–24.
        0 => format!("{year}-{}", number + 12),
        // One-digit month (`2019-3`), or three digits where the month has two (`2019-110`).
        1 => match m.strip_prefix('0') {
            Some(single) => format!("{year}-{single}"),
            None => format!("{year}-{m}0"),
        },
        2 => format!("{year}/{m}"),
        _ => format!("{year}{m}"),
    };
    Txt::new(&s)
}

/// An intervention code valid only under another law than `law`, distinct for each original
/// code (`KONTAKTPERSON`, valid under both SoL and LSS, is never used).
fn foreign_intervention(law: &str, code: &str) -> Txt {
    let own: Vec<&str> = regstat_contract::codes::INTERVENTIONS
        .iter()
        .filter(|i| i.0 == law)
        .map(|i| i.1)
        .collect();
    let others: Vec<&str> = regstat_contract::codes::INTERVENTIONS
        .iter()
        .filter(|i| i.0 != law && !own.contains(&i.1))
        .map(|i| i.1)
        .collect();
    let index = own.iter().position(|c| *c == code).unwrap_or(0);
    Txt::new(
        others
            .get(index % others.len().max(1))
            .copied()
            .unwrap_or("HEMTJANST"),
    )
}

// ---------------------------------------------------------------------------------------------
// Datasets
// ---------------------------------------------------------------------------------------------

use DefectKind::*;

impl Dirty for PersonRow {
    const KINDS: &'static [DefectKind] = &[
        InvalidPersonnummer,
        UnknownCode,
        InvalidDate,
        MissingValue,
        InvalidValue,
        DuplicateRow,
        DuplicateKey,
    ];

    fn corrupt<R: Rng + ?Sized>(&mut self, kind: DefectKind, rng: &mut R) {
        match kind {
            InvalidPersonnummer => self.personnummer = corrupt_pnr(rng, &self.personnummer),
            UnknownCode => self.sex = choose(rng, &["X", "U", "O"]),
            InvalidDate => {
                self.death_date = Some(self.birth_date - Duration::days(rng.random_range(1..=3650)))
            }
            MissingValue => {
                if rng.random_bool(0.5) {
                    self.sex = Txt::EMPTY;
                } else {
                    self.birth_country = Txt::EMPTY;
                }
            }
            InvalidValue => self.birth_country = choose(rng, &["SWE", "S", "Sverige", "1A"]),
            _ => {}
        }
    }

    fn key_duplicate<R: Rng + ?Sized>(&self, rng: &mut R) -> Self {
        let mut dup = *self;
        if rng.random_bool(0.5) {
            dup.birth_country = Txt::new(if self.birth_country.as_str() == "SE" {
                "FI"
            } else {
                "SE"
            });
        } else {
            dup.death_date = match self.death_date {
                Some(_) => None,
                None => Some(ymd(2023, 6, 1).max(self.birth_date + Duration::days(1))),
            };
        }
        dup
    }
}

/// Forks and cycles are not injected: they are judged across rows, and the ground truth
/// counts one defect per defective row.
impl Dirty for ChangeRow {
    const KINDS: &'static [DefectKind] = &[InvalidPersonnummer, DuplicateRow];

    fn corrupt<R: Rng + ?Sized>(&mut self, kind: DefectKind, rng: &mut R) {
        if kind == InvalidPersonnummer {
            if rng.random_bool(0.5) {
                self.old_personnummer = corrupt_pnr(rng, &self.old_personnummer);
            } else {
                self.new_personnummer = corrupt_pnr(rng, &self.new_personnummer);
            }
        }
    }
}

impl Dirty for RegistrationRow {
    const KINDS: &'static [DefectKind] = &[InvalidPersonnummer, InvalidDate, DuplicateRow];

    fn corrupt<R: Rng + ?Sized>(&mut self, kind: DefectKind, rng: &mut R) {
        match kind {
            InvalidPersonnummer => self.personnummer = corrupt_pnr(rng, &self.personnummer),
            InvalidDate => {
                self.registered_to =
                    Some(self.registered_from - Duration::days(rng.random_range(0..=30)))
            }
            _ => {}
        }
    }
}

impl Dirty for DecisionRow {
    const KINDS: &'static [DefectKind] = &[
        InvalidPersonnummer,
        UnknownCode,
        MissingValue,
        InvalidValue,
        DuplicateRow,
        DuplicateKey,
    ];

    fn corrupt<R: Rng + ?Sized>(&mut self, kind: DefectKind, rng: &mut R) {
        match kind {
            InvalidPersonnummer => self.personnummer = corrupt_pnr(rng, &self.personnummer),
            UnknownCode => match rng.random_range(0..3) {
                0 => self.kind = choose(rng, &["OVERKLAGAN", "ANSOKAN_NY"]),
                1 if self.rejection_reason.is_some() => {
                    self.rejection_reason = Some(choose(rng, &["OKAND", "ALDER"]))
                }
                _ => self.outcome = choose(rng, &["DELBIFALL", "UNDANROJT"]),
            },
            MissingValue => {
                if rng.random_bool(0.5) {
                    self.kind = Txt::EMPTY;
                } else {
                    self.outcome = Txt::EMPTY;
                }
            }
            InvalidValue => {
                if rng.random_bool(0.5) {
                    self.lss_group = Some([0, 4, 9][rng.random_range(0..3)]);
                } else {
                    self.assessed_hours = Some(-[0.5, 5.0, 12.5][rng.random_range(0..3)]);
                }
            }
            _ => {}
        }
    }

    fn key_duplicate<R: Rng + ?Sized>(&self, rng: &mut R) -> Self {
        let mut dup = *self;
        let shifted = self.decision_date + Duration::days(rng.random_range(1..=40));
        dup.decision_date = if shifted.year() > 2022 {
            self.decision_date - Duration::days(10)
        } else {
            shifted
        };
        dup
    }
}

impl Dirty for BenefitRow {
    const KINDS: &'static [DefectKind] = &[
        InvalidPersonnummer,
        UnknownCode,
        InvalidMonth,
        MissingValue,
        DuplicateRow,
    ];

    fn corrupt<R: Rng + ?Sized>(&mut self, kind: DefectKind, rng: &mut R) {
        match kind {
            InvalidPersonnummer => {
                if rng.random_bool(0.5) {
                    self.personnummer = corrupt_pnr(rng, &self.personnummer);
                } else {
                    self.recipient_personnummer = corrupt_pnr(rng, &self.recipient_personnummer);
                }
            }
            UnknownCode => self.benefit = choose(rng, &["BOSTADSBIDRAG", "AKTIVITETSERSATTNING"]),
            InvalidMonth => self.month = bad_month(rng, &self.month),
            MissingValue => self.benefit = Txt::EMPTY,
            _ => {}
        }
    }
}

impl Dirty for InterventionRow {
    const KINDS: &'static [DefectKind] = &[
        InvalidPersonnummer,
        UnknownCode,
        UnknownIntervention,
        InvalidMonth,
        MissingValue,
        InvalidValue,
        DuplicateRow,
    ];

    fn corrupt<R: Rng + ?Sized>(&mut self, kind: DefectKind, rng: &mut R) {
        match kind {
            InvalidPersonnummer => self.personnummer = corrupt_pnr(rng, &self.personnummer),
            // Other acts, one per law (so rows that differed only in the law still differ).
            UnknownCode => {
                self.law = Txt::new(match self.law.as_str() {
                    "LSS" => "SFB",
                    "SOL" => "PBL",
                    _ => "HSLF",
                })
            }
            UnknownIntervention => {
                self.intervention =
                    foreign_intervention(self.law.as_str(), self.intervention.as_str())
            }
            InvalidMonth => self.month = bad_month(rng, &self.month),
            MissingValue => self.municipality = Txt::EMPTY,
            InvalidValue => self.municipality = choose(rng, &["123", "12345", "01X0", "180"]),
            _ => {}
        }
    }
}

impl Dirty for AssistanceRow {
    const KINDS: &'static [DefectKind] = &[
        InvalidPersonnummer,
        UnknownCode,
        InvalidMonth,
        InvalidValue,
        DuplicateRow,
        DuplicateKey,
    ];

    fn corrupt<R: Rng + ?Sized>(&mut self, kind: DefectKind, rng: &mut R) {
        match kind {
            InvalidPersonnummer => self.personnummer = corrupt_pnr(rng, &self.personnummer),
            UnknownCode => {
                self.provider_category = Some(choose(rng, &["STATLIG", "REGION", "PRIVATA", "BOLAG"]))
            }
            InvalidMonth => self.month = bad_month(rng, &self.month),
            InvalidValue => {
                self.granted_hours_week = [0.0, -8.0, 168.5, 200.0][rng.random_range(0..4)]
            }
            _ => {}
        }
    }

    /// The same person and month with other hours (a second decision on the month, say).
    fn key_duplicate<R: Rng + ?Sized>(&self, rng: &mut R) -> Self {
        let mut dup = *self;
        let delta = 0.5 * rng.random_range(1..=16) as f64;
        dup.granted_hours_week = if self.granted_hours_week + delta <= 168.0 {
            self.granted_hours_week + delta
        } else {
            self.granted_hours_week - delta
        };
        dup
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_matches_known_number() {
        // 811228-9874 is the textbook example.
        assert_eq!(luhn(&[8, 1, 1, 2, 2, 8, 9, 8, 7]), 4);
    }

    #[test]
    fn corrupted_numbers_differ() {
        let mut rng = crate::rng::stream(1, crate::rng::Domain::Dirt, 0);
        let good = Txt::new("198112289874");
        for _ in 0..100 {
            assert_ne!(corrupt_pnr(&mut rng, &good), good);
        }
    }
}
