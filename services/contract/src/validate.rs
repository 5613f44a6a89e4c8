//! Row validation of the data contract (SPEC §3).
//!
//! Every source row is read as a set of [`Cell`]s (text from CSV, typed values from Parquet),
//! checked field by field in contract column order — the first failing field gives the reason —
//! then checked for being an exact duplicate of an earlier accepted row (after normalisation:
//! the same person printed in two forms is the same value), then for repeating a key
//! (`persons.personnummer`, `decisions.decision_id`). The first occurrence is kept.
//!
//! A [`Defect`] names the rule and the column, never the offending value: a value in the wrong
//! column may itself be a personnummer.

use std::hash::{BuildHasher, Hash};

use chrono::{Datelike, NaiveDate};
use regstat_pnr::Pnr;

use crate::codes;

/// Why a row was quarantined. The codes are stable (quarantine files, load reports, tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// A personnummer (or recipient_personnummer) that is not valid per SPEC §3.
    InvalidPersonnummer,
    /// A value outside a code list (sex, kind, outcome, rejection reason, benefit, law,
    /// provider category).
    UnknownCode,
    /// A `(law, intervention)` pair that is not in the intervention list.
    UnknownIntervention,
    /// Not a real `YYYY-MM-DD` date, or an impossible one (death before birth, a registration
    /// period that ends before it starts).
    InvalidDate,
    /// Not a real `YYYY-MM` month.
    InvalidMonth,
    /// A required value is empty.
    MissingValue,
    /// A value of the wrong shape (municipality not 4 digits, LSS group not 1–3, hours not a
    /// number in 0–168 (granted hours: in (0, 168]), amount not an integer, birth country not two upper-case letters, …).
    InvalidValue,
    /// An exact duplicate of an earlier row.
    DuplicateRow,
    /// A second row for the same `persons.personnummer`, `decisions.decision_id` or
    /// `assistance_months` (`personnummer`, `month`).
    DuplicateKey,
    /// A CSV record with the wrong number of fields or bytes that are not UTF-8.
    MalformedRow,
    /// `personnummer_changes`: a number changed to two different numbers (every row of that
    /// old number is quarantined).
    ChangeFork,
    /// `personnummer_changes`: a row on a cycle of changes (A→B, B→A; or A→A): every row of
    /// the cycle is quarantined.
    ChangeCycle,
}

impl Reason {
    pub const ALL: [Reason; 12] = [
        Reason::InvalidPersonnummer,
        Reason::UnknownCode,
        Reason::UnknownIntervention,
        Reason::InvalidDate,
        Reason::InvalidMonth,
        Reason::MissingValue,
        Reason::InvalidValue,
        Reason::DuplicateRow,
        Reason::DuplicateKey,
        Reason::MalformedRow,
        Reason::ChangeFork,
        Reason::ChangeCycle,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Reason::InvalidPersonnummer => "INVALID_PERSONNUMMER",
            Reason::UnknownCode => "UNKNOWN_CODE",
            Reason::UnknownIntervention => "UNKNOWN_INTERVENTION",
            Reason::InvalidDate => "INVALID_DATE",
            Reason::InvalidMonth => "INVALID_MONTH",
            Reason::MissingValue => "MISSING_VALUE",
            Reason::InvalidValue => "INVALID_VALUE",
            Reason::DuplicateRow => "DUPLICATE_ROW",
            Reason::DuplicateKey => "DUPLICATE_KEY",
            Reason::MalformedRow => "MALFORMED_ROW",
            Reason::ChangeFork => "CHANGE_FORK",
            Reason::ChangeCycle => "CHANGE_CYCLE",
        }
    }

    pub fn from_code(code: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// One rejected row: the rule it broke and where. Never carries the value itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defect {
    pub reason: Reason,
    pub column: &'static str,
    pub detail: &'static str,
}

impl Defect {
    pub(crate) fn new(reason: Reason, column: &'static str, detail: &'static str) -> Self {
        Defect { reason, column, detail }
    }
}

/// One field of a source row, as the source holds it.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    Null,
    Text(&'a str),
    /// Days since 1970-01-01 (Arrow Date32).
    Date(i32),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// A source row: `cell(i)` is the field of the i-th canonical column.
pub trait Row {
    fn cell(&self, column: usize) -> Cell<'_>;
}

type Check<T> = std::result::Result<T, Defect>;

const EPOCH_DAYS_CE: i32 = 719_163; // NaiveDate(1970-01-01).num_days_from_ce()

pub fn date_to_days(d: NaiveDate) -> i32 {
    d.num_days_from_ce() - EPOCH_DAYS_CE
}

pub fn days_to_date(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days + EPOCH_DAYS_CE)
}

fn required<'a>(cell: Cell<'a>, column: &'static str) -> Check<Cell<'a>> {
    match cell {
        Cell::Null | Cell::Text("") => Err(Defect::new(Reason::MissingValue, column, "required value is empty")),
        c => Ok(c),
    }
}

fn optional(cell: Cell<'_>) -> Option<Cell<'_>> {
    match cell {
        Cell::Null | Cell::Text("") => None,
        c => Some(c),
    }
}

fn pnr(cell: Cell<'_>, column: &'static str, reference: NaiveDate) -> Check<Pnr> {
    match required(cell, column)? {
        Cell::Text(s) => Pnr::parse(s, reference)
            .map_err(|e| Defect::new(Reason::InvalidPersonnummer, column, e.code())),
        _ => Err(Defect::new(Reason::InvalidPersonnummer, column, "not text")),
    }
}

fn code(cell: Cell<'_>, column: &'static str, list: &'static [&'static str]) -> Check<&'static str> {
    match required(cell, column)? {
        Cell::Text(s) => list
            .iter()
            .find(|c| **c == s)
            .copied()
            .ok_or(Defect::new(Reason::UnknownCode, column, "not in the code list")),
        _ => Err(Defect::new(Reason::UnknownCode, column, "not text")),
    }
}

fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
    };
    let y = num(0..4)?;
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, num(5..7)?, num(8..10)?)
}

fn date_value(cell: Cell<'_>, column: &'static str) -> Check<i32> {
    match cell {
        Cell::Date(d) => Ok(d),
        Cell::Text(s) => parse_iso_date(s)
            .map(date_to_days)
            .ok_or(Defect::new(Reason::InvalidDate, column, "not a real YYYY-MM-DD date")),
        _ => Err(Defect::new(Reason::InvalidDate, column, "not a date")),
    }
}

fn date(cell: Cell<'_>, column: &'static str) -> Check<i32> {
    date_value(required(cell, column)?, column)
}

fn opt_date(cell: Cell<'_>, column: &'static str) -> Check<Option<i32>> {
    optional(cell).map(|c| date_value(c, column)).transpose()
}

/// A month `YYYY-MM` as the number `year * 12 + (month - 1)`.
pub fn parse_month(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    if b.len() != 7 || b[4] != b'-' || !b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit) {
        return None;
    }
    let y = i32::from(b[0] - b'0') * 1000
        + i32::from(b[1] - b'0') * 100
        + i32::from(b[2] - b'0') * 10
        + i32::from(b[3] - b'0');
    let m = i32::from(b[5] - b'0') * 10 + i32::from(b[6] - b'0');
    ((1..=12).contains(&m) && (1800..=2200).contains(&y)).then_some(y * 12 + m - 1)
}

fn month(cell: Cell<'_>, column: &'static str) -> Check<i32> {
    match required(cell, column)? {
        Cell::Text(s) => {
            parse_month(s).ok_or(Defect::new(Reason::InvalidMonth, column, "not a real YYYY-MM month"))
        }
        _ => Err(Defect::new(Reason::InvalidMonth, column, "not text")),
    }
}

fn int(cell: Cell<'_>, column: &'static str) -> Check<i64> {
    match cell {
        Cell::Int(v) => Ok(v),
        Cell::Text(s) => s
            .parse::<i64>()
            .map_err(|_| Defect::new(Reason::InvalidValue, column, "not an integer")),
        _ => Err(Defect::new(Reason::InvalidValue, column, "not an integer")),
    }
}

fn boolean(cell: Cell<'_>, column: &'static str) -> Check<bool> {
    match required(cell, column)? {
        Cell::Bool(b) => Ok(b),
        Cell::Text("true" | "TRUE" | "True" | "1") => Ok(true),
        Cell::Text("false" | "FALSE" | "False" | "0") => Ok(false),
        _ => Err(Defect::new(Reason::InvalidValue, column, "not true/false")),
    }
}

fn text<'a>(cell: Cell<'a>, column: &'static str) -> Check<&'a str> {
    match required(cell, column)? {
        Cell::Text(s) => Ok(s),
        _ => Err(Defect::new(Reason::InvalidValue, column, "not text")),
    }
}

/// Validated rows, normalised. `Hash` over the whole row finds exact duplicates.
#[derive(Debug, Clone, PartialEq, Hash)]
pub(crate) enum Valid<'a> {
    Person { pnr: Pnr, sex: &'static str, birth: i32, country: &'a str, death: Option<i32> },
    Registration { pnr: Pnr, from: i32, to: Option<i32> },
    Decision {
        id: &'a str,
        pnr: Pnr,
        date: i32,
        kind: &'static str,
        outcome: &'static str,
        reason: Option<&'static str>,
        lss_group: Option<i32>,
        hours_bits: Option<u64>,
        appeal: bool,
    },
    Benefit { pnr: Pnr, recipient: Pnr, benefit: &'static str, month: i32, amount: i64 },
    Intervention { pnr: Pnr, law: &'static str, code: &'static str, municipality: &'a str, month: i32 },
    Change { old: Pnr, new: Pnr, date: i32 },
    Assistance { pnr: Pnr, month: i32, hours_bits: u64, provider: Option<&'static str> },
}

impl Valid<'_> {
    /// The key that must be unique within the dataset, if any.
    pub(crate) fn key_hash(&self, hasher: &impl BuildHasher) -> Option<u64> {
        match self {
            Valid::Person { pnr, .. } => Some(hasher.hash_one(pnr.as_u64())),
            Valid::Decision { id, .. } => Some(hasher.hash_one(id)),
            // One row per person and month (SPEC-DECISIONS §5c.1).
            Valid::Assistance { pnr, month, .. } => Some(hasher.hash_one((pnr.as_u64(), *month))),
            _ => None,
        }
    }

    /// A 128-bit fingerprint of the whole normalised row (two independent 64-bit hashes).
    pub(crate) fn fingerprint(&self, h1: &impl BuildHasher, h2: &impl BuildHasher) -> u128 {
        (u128::from(h1.hash_one(self)) << 64) | u128::from(h2.hash_one(self))
    }

    pub(crate) fn person(&self) -> Pnr {
        match self {
            Valid::Person { pnr, .. }
            | Valid::Registration { pnr, .. }
            | Valid::Decision { pnr, .. }
            | Valid::Benefit { pnr, .. }
            | Valid::Intervention { pnr, .. }
            | Valid::Assistance { pnr, .. } => *pnr,
            Valid::Change { old, .. } => *old,
        }
    }
}

/// Field-by-field checks of one row of `dataset` (columns in canonical order).
pub(crate) fn check_row<'a>(
    dataset: crate::Dataset,
    row: &'a dyn Row,
    reference: NaiveDate,
) -> Check<Valid<'a>> {
    use crate::Dataset as D;
    Ok(match dataset {
        D::Persons => {
            let pnr = pnr(row.cell(0), "personnummer", reference)?;
            let sex = code(row.cell(1), "sex", codes::SEX)?;
            let birth = date(row.cell(2), "birth_date")?;
            let country = text(row.cell(3), "birth_country")?;
            if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(Defect::new(
                    Reason::InvalidValue,
                    "birth_country",
                    "not an ISO 3166-1 alpha-2 code",
                ));
            }
            let death = opt_date(row.cell(4), "death_date")?;
            if death.is_some_and(|d| d < birth) {
                return Err(Defect::new(Reason::InvalidDate, "death_date", "before birth_date"));
            }
            Valid::Person { pnr, sex, birth, country, death }
        }
        D::Registrations => {
            let pnr = pnr(row.cell(0), "personnummer", reference)?;
            let from = date(row.cell(1), "registered_from")?;
            let to = opt_date(row.cell(2), "registered_to")?;
            if to.is_some_and(|t| t <= from) {
                return Err(Defect::new(
                    Reason::InvalidDate,
                    "registered_to",
                    "not after registered_from",
                ));
            }
            Valid::Registration { pnr, from, to }
        }
        D::Decisions => {
            let id = text(row.cell(0), "decision_id")?;
            let pnr = pnr(row.cell(1), "personnummer", reference)?;
            let date = date(row.cell(2), "decision_date")?;
            let kind = code(row.cell(3), "kind", codes::DECISION_KINDS)?;
            let outcome = code(row.cell(4), "outcome", codes::OUTCOMES)?;
            let reason = optional(row.cell(5))
                .map(|c| code(c, "rejection_reason", codes::REJECTION_REASONS))
                .transpose()?;
            let lss_group = optional(row.cell(6))
                .map(|c| int(c, "lss_group"))
                .transpose()?
                .map(|g| {
                    (1..=3).contains(&g).then_some(g as i32).ok_or(Defect::new(
                        Reason::InvalidValue,
                        "lss_group",
                        "not 1, 2 or 3",
                    ))
                })
                .transpose()?;
            let hours = optional(row.cell(7))
                .map(|c| {
                    let v = match c {
                        Cell::Float(f) => Some(f),
                        Cell::Int(i) => Some(i as f64),
                        Cell::Text(s) => s.parse::<f64>().ok(),
                        _ => None,
                    };
                    v.filter(|h| h.is_finite() && (0.0..=168.0).contains(h)).ok_or(Defect::new(
                        Reason::InvalidValue,
                        "assessed_hours",
                        "not a number of hours per week in 0-168",
                    ))
                })
                .transpose()?;
            let appeal = boolean(row.cell(8), "changed_on_appeal")?;
            Valid::Decision {
                id,
                pnr,
                date,
                kind,
                outcome,
                reason,
                lss_group,
                hours_bits: hours.map(f64::to_bits),
                appeal,
            }
        }
        D::BenefitPayments => {
            let pnr = pnr(row.cell(0), "personnummer", reference)?;
            let recipient = pnr_recipient(row.cell(1), reference)?;
            let benefit = code(row.cell(2), "benefit", codes::BENEFITS)?;
            let month = month(row.cell(3), "month")?;
            let amount = int(required(row.cell(4), "amount_sek")?, "amount_sek")?;
            Valid::Benefit { pnr, recipient, benefit, month, amount }
        }
        D::Interventions => {
            let pnr = pnr(row.cell(0), "personnummer", reference)?;
            let law = code(row.cell(1), "law", codes::LAWS)?;
            let raw = text(row.cell(2), "intervention")?;
            let code = codes::intervention_code(law, raw).ok_or(Defect::new(
                    Reason::UnknownIntervention,
                    "intervention",
                    "(law, intervention) is not in the intervention list",
                ))?;
            let municipality = text(row.cell(3), "municipality")?;
            if municipality.len() != 4 || !municipality.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Defect::new(Reason::InvalidValue, "municipality", "not a 4-digit kommunkod"));
            }
            let month = month(row.cell(4), "month")?;
            Valid::Intervention { pnr, law, code, municipality, month }
        }
        D::PersonnummerChanges => {
            let old = pnr(row.cell(0), "old_personnummer", reference)?;
            let new = pnr(row.cell(1), "new_personnummer", reference)?;
            let date = date(row.cell(2), "change_date")?;
            // A self-change (A→A) is a cycle of one: judged with the other cycles, after the
            // whole extract is read (see `changes::check`).
            Valid::Change { old, new, date }
        }
        D::AssistanceMonths => {
            let pnr = pnr(row.cell(0), "personnummer", reference)?;
            let month = month(row.cell(1), "month")?;
            let hours = match required(row.cell(2), "granted_hours_week")? {
                Cell::Float(f) => Some(f),
                Cell::Int(i) => Some(i as f64),
                Cell::Text(s) => s.parse::<f64>().ok(),
                _ => None,
            }
            .filter(|h| h.is_finite() && *h > 0.0 && *h <= 168.0)
            .ok_or(Defect::new(Reason::InvalidValue, "granted_hours_week", "not a number of hours per week in (0, 168]"))?;
            let provider = optional(row.cell(3))
                .map(|c| code(c, "provider_category", codes::PROVIDER_CATEGORIES))
                .transpose()?;
            Valid::Assistance { pnr, month, hours_bits: hours.to_bits(), provider }
        }
    })
}

fn pnr_recipient(cell: Cell<'_>, reference: NaiveDate) -> Check<Pnr> {
    pnr(cell, "recipient_personnummer", reference)
}

/// `YYYY-MM` of a month number from [`parse_month`].
pub fn format_month(m: i32) -> String {
    format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months() {
        assert_eq!(parse_month("2019-01"), Some(2019 * 12));
        assert_eq!(parse_month("2019-12"), Some(2019 * 12 + 11));
        assert_eq!(parse_month("2019-13"), None);
        assert_eq!(parse_month("2019-00"), None);
        assert_eq!(parse_month("2019-1"), None);
        assert_eq!(parse_month("2019/01"), None);
        assert_eq!(format_month(2019 * 12 + 11), "2019-12");
    }

    #[test]
    fn dates() {
        assert!(parse_iso_date("2020-02-29").is_some());
        assert!(parse_iso_date("2019-02-29").is_none());
        assert!(parse_iso_date("2019-02-30").is_none());
        assert!(parse_iso_date("2019/02/03").is_none());
        assert!(parse_iso_date("2019-2-03").is_none());
        let d = NaiveDate::from_ymd_opt(2018, 12, 31).unwrap_or_default();
        assert_eq!(days_to_date(date_to_days(d)), Some(d));
        assert_eq!(date_to_days(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()), 0);
    }
}
