//! Swedish personal identity numbers (*personnummer*) and coordination numbers
//! (*samordningsnummer*): parsing, validation and normalisation into the compact value type
//! [`Pnr`].
//!
//! # Rules (SPEC §3, "Data contract: register extracts")
//!
//! * **Canonical form** is 12 digits `YYYYMMDDNNNC`. Readers ([`Pnr::parse`]) also accept
//!   exactly `YYYYMMDD-NNNC`, `YYMMDD-NNNC` and `YYMMDD+NNNC` — nothing else: no surrounding or
//!   embedded whitespace, no 10 digits without a separator, no 12 digits with `+`, no
//!   non-ASCII digits.
//! * **Century of a 10-digit form** is inferred from a reference date (by default the extract's
//!   date, chosen by the caller):
//!   * with `-` the person is *under 100* on the reference date: the latest century such that
//!     the birth date is not after the reference date;
//!   * with `+` the person is *100 or older* on the reference date: the latest century such that
//!     the birth date is not after the reference date minus 100 years.
//!
//!   Birth dates are compared as `(year, month, day)` tuples, so a person born on 29 February
//!   has a birthday on 1 March in common years. The same age rule decides `-` / `+` when
//!   printing ([`Pnr::to_ten`]), so printing and parsing with the same reference date
//!   round-trip for anybody aged 0..200. If the inferred year is before 1800 (or after 9999)
//!   the result is [`PnrError::Century`].
//! * **Date**: `YYYYMMDD` must be a real calendar date (Gregorian leap years: 2000-02-29 is
//!   valid, 1900-02-29 and 2023-02-29 are not). For a *samordningsnummer* the stored day of
//!   month is the real day + 60 (61..=91), and the real day must be valid.
//! * **Year** must be >= 1800. No check against today's date is made: only calendar validity.
//! * **Serial** `NNN` is three digits; `000` is rejected (no real number has it). The third
//!   serial digit is the legal-sex digit: odd = male ([`Pnr::is_male_digit`]).
//! * **Check digit** `C` is the Luhn digit over the nine digits `YYMMDDNNN` (2-digit year):
//!   weights 2,1,2,1,… , digit sums of the products, `C = (10 - sum % 10) % 10`
//!   ([`luhn_check_digit`]).
//!
//! ## What the check digit does *not* protect
//!
//! The Luhn digit covers the ten digits `YYMMDDNNNC`, not the century digits (positions 0 and
//! 1 of the 12-digit form). A 12-digit string whose century was mistyped (e.g. `19…` → `29…`)
//! is therefore still accepted whenever the resulting year is >= 1800 and the date stays valid
//! (29 February may stop being one). Every other single-digit change is detected.
//!
//! # Privacy
//!
//! A personnummer is a personal identifier. [`Pnr`]'s `Debug` output is redacted, it has no
//! `Display` (format it explicitly with [`Pnr::to_canonical`] etc.), and [`PnrError`] messages
//! never contain the input text.
//!
//! # Example
//!
//! ```
//! use chrono::NaiveDate;
//! use regstat_pnr::Pnr;
//!
//! let reference = NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date");
//! let p = Pnr::parse("811218-9876", reference)?;
//! assert_eq!(p.to_canonical(), "198112189876");
//! assert_eq!(p.as_u64(), 198_112_189_876);
//! assert_eq!(format!("{p:?}"), "Pnr(…)");
//! # Ok::<(), regstat_pnr::PnrError>(())
//! ```

mod error;
#[cfg(test)]
mod tests;

use std::fmt;

use chrono::{Datelike, NaiveDate};

pub use crate::error::PnrError;

/// Lowest accepted year of birth.
const MIN_YEAR: i32 = 1800;
/// Highest representable year (four digits).
const MAX_YEAR: i32 = 9999;
/// Largest 12-digit value.
const MAX_VALUE: u64 = 999_999_999_999;
/// Offset added to the day of month of a samordningsnummer.
const COORDINATION_OFFSET: u32 = 60;

/// A valid Swedish personnummer or samordningsnummer.
///
/// Internally the 12 canonical digits `YYYYMMDDNNNC` read as a decimal number, so the derived
/// ordering equals the ordering of the canonical strings and the value fits a `u64` column.
/// Every `Pnr` value has passed all rules of the crate documentation.
///
/// `Debug` prints `Pnr(…)` (redacted); there is deliberately no `Display` and no `FromStr`
/// (parsing 10-digit forms needs a reference date).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pnr(u64);

impl fmt::Debug for Pnr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pnr(…)")
    }
}

/// Luhn check digit over nine digits `YYMMDDNNN` given as values `0..=9`.
///
/// Weights 2,1,2,1,… from the left; the digit sums of the products are added and the check
/// digit is `(10 - sum % 10) % 10`. (Values above 9 are not meaningful; they give some digit
/// without panicking.)
pub fn luhn_check_digit(nine_digits: &[u8; 9]) -> u8 {
    let mut sum: u32 = 0;
    for (i, &d) in nine_digits.iter().enumerate() {
        let d = u32::from(d);
        let p = if i % 2 == 0 { 2 * d } else { d };
        sum += p / 10 + p % 10;
    }
    ((10 - sum % 10) % 10) as u8
}

/// Whether `year` is a Gregorian leap year.
#[inline]
fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Number of days in `month` (1..=12) of `year`; 0 for an invalid month.
#[inline]
fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// The real day of month for a stored day (01..=31 or 61..=91), or `None` if the stored day
/// is in neither range.
#[inline]
fn real_day(stored_day: u32) -> Option<u32> {
    match stored_day {
        1..=31 => Some(stored_day),
        61..=91 => Some(stored_day - COORDINATION_OFFSET),
        _ => None,
    }
}

/// `value` of two decimal digits.
#[inline]
fn two(hi: u8, lo: u8) -> u32 {
    u32::from(hi) * 10 + u32::from(lo)
}

/// Converts ASCII digits into digit values; `None` if any byte is not `b'0'..=b'9'`.
#[inline]
fn ascii_digits<const N: usize>(b: &[u8]) -> Option<[u8; N]> {
    if b.len() != N {
        return None;
    }
    let mut out = [0u8; N];
    for (o, &c) in out.iter_mut().zip(b) {
        let v = c.wrapping_sub(b'0');
        if v > 9 {
            return None;
        }
        *o = v;
    }
    Some(out)
}

/// Validates the ten digits `YYMMDDNNNC` for a known 4-digit `year` (whose last two digits
/// must equal `YY`) and returns the 12-digit value. Checks date, serial and Luhn, in that
/// order; the year range is the caller's business.
#[inline]
fn validate_ten(year: i32, t: &[u8; 10]) -> Result<u64, PnrError> {
    let month = two(t[2], t[3]);
    let day = real_day(two(t[4], t[5])).ok_or(PnrError::Date)?;
    if day > days_in_month(year, month) {
        return Err(PnrError::Date);
    }
    if t[6] == 0 && t[7] == 0 && t[8] == 0 {
        return Err(PnrError::Serial);
    }
    let mut nine = [0u8; 9];
    nine.copy_from_slice(&t[..9]);
    if luhn_check_digit(&nine) != t[9] {
        return Err(PnrError::CheckDigit);
    }
    let tail = t.iter().fold(0u64, |acc, &d| acc * 10 + u64::from(d));
    // `year` is 1800..=9999 here, so the cast is lossless.
    Ok((year as u64 / 100) * 10_000_000_000 + tail)
}

/// Validates 12 digit values `YYYYMMDDNNNC`.
#[inline]
fn validate_twelve(d: &[u8; 12]) -> Result<Pnr, PnrError> {
    let year = (two(d[0], d[1]) * 100 + two(d[2], d[3])) as i32;
    if year < MIN_YEAR {
        return Err(PnrError::Year);
    }
    let mut ten = [0u8; 10];
    ten.copy_from_slice(&d[2..]);
    validate_ten(year, &ten).map(Pnr)
}

/// Whether someone born on `(year, month, day)` is 100 or older on `reference`.
///
/// Uses tuple comparison: the 100th birthday of someone born on 29 February is 1 March in a
/// common year. This is the same rule [`infer_year`] uses, which makes `to_ten` / `parse`
/// round-trip.
fn is_hundred_plus(year: i32, month: u32, day: u32, reference: NaiveDate) -> bool {
    (year + 100, month, day) <= (reference.year(), reference.month(), reference.day())
}

/// Infers the 4-digit year of a 10-digit form: the latest year ending in `yy` such that
/// `(year, month, day)` is not after the reference date (`-`) or the reference date minus 100
/// years (`+`). `None` if that year is outside 1800..=9999.
fn infer_year(
    yy: u32,
    month: u32,
    day: u32,
    reference: NaiveDate,
    hundred_plus: bool,
) -> Option<i32> {
    let target_year = reference.year() - if hundred_plus { 100 } else { 0 };
    let target = (target_year, reference.month(), reference.day());
    // Latest year <= target_year with the right last two digits (yy < 100).
    let mut year = target_year - (target_year - yy as i32).rem_euclid(100);
    if (year, month, day) > target {
        year -= 100;
    }
    (MIN_YEAR..=MAX_YEAR).contains(&year).then_some(year)
}

impl Pnr {
    /// Parses any accepted form: `YYYYMMDDNNNC`, `YYYYMMDD-NNNC`, `YYMMDD-NNNC`, `YYMMDD+NNNC`.
    ///
    /// `reference` is used only for the 10-digit forms, to infer the century (see the crate
    /// documentation). The 12-digit forms are validated exactly as by
    /// [`parse_canonical`](Pnr::parse_canonical).
    pub fn parse(s: &str, reference: NaiveDate) -> Result<Pnr, PnrError> {
        let b = s.as_bytes();
        match b.len() {
            12 => Self::parse_canonical_bytes(b),
            13 if b[8] == b'-' => {
                let mut digits = [0u8; 12];
                let (date, rest) = (&b[..8], &b[9..]);
                digits[..8].copy_from_slice(&ascii_digits::<8>(date).ok_or(PnrError::Format)?);
                digits[8..].copy_from_slice(&ascii_digits::<4>(rest).ok_or(PnrError::Format)?);
                validate_twelve(&digits)
            }
            11 if b[6] == b'-' || b[6] == b'+' => {
                let mut t = [0u8; 10];
                t[..6].copy_from_slice(&ascii_digits::<6>(&b[..6]).ok_or(PnrError::Format)?);
                t[6..].copy_from_slice(&ascii_digits::<4>(&b[7..]).ok_or(PnrError::Format)?);
                Self::from_ten_digits(&t, reference, b[6] == b'+')
            }
            _ => Err(PnrError::Format),
        }
    }

    /// Validates ten digit values `YYMMDDNNNC` of a 10-digit form.
    fn from_ten_digits(
        t: &[u8; 10],
        reference: NaiveDate,
        hundred_plus: bool,
    ) -> Result<Pnr, PnrError> {
        let month = two(t[2], t[3]);
        let day = real_day(two(t[4], t[5])).ok_or(PnrError::Date)?;
        // A month/day that is invalid in every year (leap years included) is a date error,
        // whatever the century.
        if day > days_in_month(2000, month) {
            return Err(PnrError::Date);
        }
        let year = infer_year(two(t[0], t[1]), month, day, reference, hundred_plus)
            .ok_or(PnrError::Century)?;
        validate_ten(year, t).map(Pnr)
    }

    /// Parses only the canonical 12-digit form `YYYYMMDDNNNC` (no reference date needed), with
    /// the same validation as [`parse`](Pnr::parse).
    pub fn parse_canonical(s: &str) -> Result<Pnr, PnrError> {
        Self::parse_canonical_bytes(s.as_bytes())
    }

    /// Same as [`parse_canonical`](Pnr::parse_canonical) on raw bytes: the hot path for
    /// loaders. Does not allocate and does not call into `chrono`.
    #[inline]
    pub fn parse_canonical_bytes(b: &[u8]) -> Result<Pnr, PnrError> {
        let digits = ascii_digits::<12>(b).ok_or(PnrError::Format)?;
        validate_twelve(&digits)
    }

    /// Builds a number from its parts and computes the check digit.
    ///
    /// `day` is the *real* day of month; with `coordination = true` the stored day becomes
    /// `day + 60` (a samordningsnummer). `year` must be in 1800..=9999 ([`PnrError::Year`]),
    /// the date must be real ([`PnrError::Date`]) and `serial` in 1..=999
    /// ([`PnrError::Serial`]).
    pub fn from_parts(
        year: i32,
        month: u32,
        day: u32,
        serial: u16,
        coordination: bool,
    ) -> Result<Pnr, PnrError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(PnrError::Year);
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(PnrError::Date);
        }
        if serial == 0 || serial > 999 {
            return Err(PnrError::Serial);
        }
        let stored_day = if coordination {
            day + COORDINATION_OFFSET
        } else {
            day
        };
        let yy = (year % 100) as u32;
        let serial = u32::from(serial);
        let nine = [
            (yy / 10) as u8,
            (yy % 10) as u8,
            (month / 10) as u8,
            (month % 10) as u8,
            (stored_day / 10) as u8,
            (stored_day % 10) as u8,
            (serial / 100) as u8,
            (serial / 10 % 10) as u8,
            (serial % 10) as u8,
        ];
        let check = luhn_check_digit(&nine);
        let value = year as u64 * 100_000_000
            + u64::from(month) * 1_000_000
            + u64::from(stored_day) * 10_000
            + u64::from(serial) * 10
            + u64::from(check);
        Ok(Pnr(value))
    }

    /// Month of birth, 1..=12.
    #[inline]
    fn month(&self) -> u32 {
        (self.0 / 1_000_000 % 100) as u32
    }

    /// Stored day of month (real day, or real day + 60 for a samordningsnummer).
    #[inline]
    fn stored_day(&self) -> u32 {
        (self.0 / 10_000 % 100) as u32
    }

    /// Real day of month of birth.
    #[inline]
    fn real_day(&self) -> u32 {
        let d = self.stored_day();
        if d > COORDINATION_OFFSET {
            d - COORDINATION_OFFSET
        } else {
            d
        }
    }

    /// The real date of birth (day - 60 for a samordningsnummer).
    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year(), self.month(), self.real_day())
            .expect("a Pnr always holds a valid calendar date")
    }

    /// The 4-digit year of birth.
    #[inline]
    pub fn year(&self) -> i32 {
        (self.0 / 100_000_000) as i32
    }

    /// Whether this is a samordningsnummer (stored day of month is 61..=91).
    #[inline]
    pub fn is_coordination(&self) -> bool {
        self.stored_day() > COORDINATION_OFFSET
    }

    /// The serial number `NNN` (1..=999).
    #[inline]
    pub fn serial(&self) -> u16 {
        (self.0 / 10 % 1000) as u16
    }

    /// The Luhn check digit `C` (0..=9).
    #[inline]
    pub fn check_digit(&self) -> u8 {
        (self.0 % 10) as u8
    }

    /// The legal-sex digit — the third serial digit (9th of the ten digits) — is odd (male).
    /// Even means female.
    #[inline]
    pub fn is_male_digit(&self) -> bool {
        self.serial() % 2 == 1
    }

    /// The canonical form `"YYYYMMDDNNNC"`.
    pub fn to_canonical(&self) -> String {
        let mut buf = [0u8; 12];
        self.write_canonical(&mut buf);
        buf.iter().map(|&b| char::from(b)).collect()
    }

    /// Writes the 12 canonical ASCII digits into `buf` (no allocation; for hashing and Arrow
    /// builders).
    #[inline]
    pub fn write_canonical(&self, buf: &mut [u8; 12]) {
        let mut v = self.0;
        for b in buf.iter_mut().rev() {
            *b = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }

    /// The form `"YYYYMMDD-NNNC"`.
    pub fn to_dashed12(&self) -> String {
        let mut buf = [0u8; 12];
        self.write_canonical(&mut buf);
        let mut s = String::with_capacity(13);
        s.extend(buf[..8].iter().map(|&b| char::from(b)));
        s.push('-');
        s.extend(buf[8..].iter().map(|&b| char::from(b)));
        s
    }

    /// The 10-digit form: `"YYMMDD+NNNC"` if the person is 100 or older on `reference`,
    /// otherwise `"YYMMDD-NNNC"`.
    ///
    /// [`parse`](Pnr::parse) with the same `reference` gives back the same value whenever the
    /// person is aged 0..200 on `reference` (a 10-digit form cannot express other ages).
    pub fn to_ten(&self, reference: NaiveDate) -> String {
        let mut buf = [0u8; 12];
        self.write_canonical(&mut buf);
        let sep = if is_hundred_plus(self.year(), self.month(), self.real_day(), reference) {
            '+'
        } else {
            '-'
        };
        let mut s = String::with_capacity(11);
        s.extend(buf[2..8].iter().map(|&b| char::from(b)));
        s.push(sep);
        s.extend(buf[8..].iter().map(|&b| char::from(b)));
        s
    }

    /// The compact integer value: the 12 canonical digits read as a decimal number, so that
    /// integer ordering equals canonical string ordering.
    #[inline]
    pub fn as_u64(&self) -> u64 {
        self.0
    }

    /// Inverse of [`as_u64`](Pnr::as_u64), with full validation. Values above
    /// 999 999 999 999 are [`PnrError::Format`]; values with fewer than 12 digits fail the
    /// year rule ([`PnrError::Year`]).
    pub fn from_u64(v: u64) -> Result<Pnr, PnrError> {
        if v > MAX_VALUE {
            return Err(PnrError::Format);
        }
        let mut digits = [0u8; 12];
        let mut rest = v;
        for d in digits.iter_mut().rev() {
            *d = (rest % 10) as u8;
            rest /= 10;
        }
        validate_twelve(&digits)
    }
}
