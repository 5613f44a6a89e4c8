//! Property tests of `regstat-pnr`: round trips through every printed form and detection of
//! single-digit errors.

use chrono::{Datelike, Days, Months, NaiveDate};
use proptest::prelude::*;
use regstat_pnr::{Pnr, PnrError};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// Birth dates 1900-01-01..=2025-12-31, uniformly, with extra weight on 29 February.
fn birth_date() -> impl Strategy<Value = NaiveDate> {
    let first = date(1900, 1, 1);
    let span = (date(2025, 12, 31) - first).num_days() as u64;
    let uniform = (0..=span).prop_map(move |n| first + Days::new(n));
    let leap_years: Vec<i32> = (1900..=2025)
        .filter(|&y| NaiveDate::from_ymd_opt(y, 2, 29).is_some())
        .collect();
    let leap_day = proptest::sample::select(leap_years).prop_map(|y| date(y, 2, 29));
    prop_oneof![9 => uniform, 1 => leap_day]
}

/// A valid number built with `from_parts`, together with its parts.
fn valid() -> impl Strategy<Value = (Pnr, NaiveDate, u16, bool)> {
    (birth_date(), 1u16..=999, any::<bool>()).prop_map(|(d, serial, coordination)| {
        let p = Pnr::from_parts(d.year(), d.month(), d.day(), serial, coordination)
            .expect("generated parts are valid");
        (p, d, serial, coordination)
    })
}

/// Age in whole years on `reference`, computed independently of the crate: the birthday of
/// someone born on 29 February is 1 March in common years.
fn age_on(birth: NaiveDate, reference: NaiveDate) -> i32 {
    let before_birthday = (reference.month(), reference.day()) < (birth.month(), birth.day());
    reference.year() - birth.year() - i32::from(before_birthday)
}

/// A valid number and a reference date after its birth date: either `days` days after birth
/// (uniform), or within two days of an anniversary `years` years after birth (the century
/// boundaries of the 10-digit forms; tests discard ages outside their range).
fn with_reference(
    days: std::ops::Range<u64>,
    years: std::ops::RangeInclusive<u32>,
) -> impl Strategy<Value = ((Pnr, NaiveDate, u16, bool), NaiveDate)> {
    (valid(), days, years, -2i64..=2, any::<bool>()).prop_map(
        |(v, n, years, delta, anniversary)| {
            let birth = v.1;
            let reference = if anniversary {
                let a = birth
                    .checked_add_months(Months::new(12 * years))
                    .expect("in range");
                if delta >= 0 {
                    a + Days::new(delta as u64)
                } else {
                    a - Days::new(delta.unsigned_abs())
                }
            } else {
                birth + Days::new(n)
            };
            (v, reference)
        },
    )
}

/// Asserts that `p` parses back from its 10-digit form on `reference`, and that the form
/// uses `expected_sep`.
fn check_ten(p: Pnr, reference: NaiveDate, expected_sep: char) -> Result<(), TestCaseError> {
    let ten = p.to_ten(reference);
    prop_assert_eq!(ten.len(), 11);
    prop_assert_eq!(ten.as_bytes()[6], expected_sep as u8);
    prop_assert_eq!(Pnr::parse(&ten, reference), Ok(p));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Every valid number round-trips through the canonical and dashed 12-digit forms, the
    /// byte parser and the compact integer, and its accessors return its parts.
    #[test]
    fn round_trips_through_twelve_digit_forms_and_u64((p, d, serial, coordination) in valid()) {
        let canonical = p.to_canonical();
        prop_assert_eq!(canonical.len(), 12);
        prop_assert_eq!(Pnr::parse_canonical(&canonical), Ok(p));
        prop_assert_eq!(Pnr::parse_canonical_bytes(canonical.as_bytes()), Ok(p));
        let any_reference = date(2024, 1, 1);
        prop_assert_eq!(Pnr::parse(&canonical, any_reference), Ok(p));

        let dashed = p.to_dashed12();
        prop_assert_eq!(&dashed[..8], &canonical[..8]);
        prop_assert_eq!(&dashed[8..9], "-");
        prop_assert_eq!(&dashed[9..], &canonical[8..]);
        prop_assert_eq!(Pnr::parse(&dashed, any_reference), Ok(p));

        let mut buf = [0u8; 12];
        p.write_canonical(&mut buf);
        prop_assert_eq!(&buf[..], canonical.as_bytes());

        prop_assert_eq!(&p.as_u64().to_string(), &canonical);
        prop_assert_eq!(Pnr::from_u64(p.as_u64()), Ok(p));

        prop_assert_eq!(p.birth_date(), d);
        prop_assert_eq!(p.year(), d.year());
        prop_assert_eq!(p.serial(), serial);
        prop_assert_eq!(p.is_coordination(), coordination);
        prop_assert_eq!(p.is_male_digit(), serial % 2 == 1);
        prop_assert_eq!(u32::from(p.check_digit()), canonical.as_bytes()[11] as u32 - u32::from(b'0'));
        let stored_day: u32 = canonical[6..8].parse().expect("digits");
        prop_assert_eq!(stored_day, d.day() + if coordination { 60 } else { 0 });
    }

    /// Ten-digit form with a reference date less than 100 years after birth: `-`.
    #[test]
    fn round_trips_through_ten_digit_form_under_100(
        ((p, d, _, _), reference) in with_reference(0..36_500, 0..=99),
    ) {
        let age = age_on(d, reference);
        prop_assume!((0..100).contains(&age));
        check_ten(p, reference, '-')?;
    }

    /// Ten-digit form with a reference date 100..200 years after birth: `+`.
    #[test]
    fn round_trips_through_ten_digit_form_100_plus(
        ((p, d, _, _), reference) in with_reference(36_525..72_000, 100..=199),
    ) {
        let age = age_on(d, reference);
        prop_assume!((100..200).contains(&age));
        check_ten(p, reference, '+')?;
    }

    /// Every single-digit change of the canonical 12-digit string.
    ///
    /// * Positions 2..=11 (`YYMMDDNNNC`) are covered by the Luhn digit, which detects every
    ///   single-digit change (weight 1 shifts the sum by the change, weight 2 maps digits
    ///   bijectively through 0,2,4,6,8,1,3,5,7,9), so such a change is **always rejected**.
    /// * Positions 0..=1 are the century digits of the 4-digit year. The Luhn digit does not
    ///   cover them, so a changed century is **accepted** whenever the new year is >= 1800 and
    ///   the date is still a calendar date — it is then a different, valid number with the
    ///   same ten digits. It is rejected only with `Year` (year before 1800) or `Date`
    ///   (29 February moved into a common year).
    #[test]
    fn single_digit_changes((p, d, _, _) in valid()) {
        let canonical = p.to_canonical();
        for pos in 0..12 {
            for digit in b'0'..=b'9' {
                if canonical.as_bytes()[pos] == digit {
                    continue;
                }
                let mut changed = canonical.as_bytes().to_vec();
                changed[pos] = digit;
                let result = Pnr::parse_canonical_bytes(&changed);
                if pos >= 2 {
                    prop_assert!(result.is_err(), "change at position {} accepted", pos);
                } else {
                    match result {
                        Ok(q) => {
                            prop_assert_ne!(q, p);
                            prop_assert_eq!(q.as_u64() % 10_000_000_000, p.as_u64() % 10_000_000_000);
                            prop_assert!(q.year() >= 1800);
                            prop_assert_eq!(q.year() % 100, p.year() % 100);
                        }
                        Err(PnrError::Year) => {
                            let year: i32 = std::str::from_utf8(&changed[..4])
                                .expect("ascii")
                                .parse()
                                .expect("digits");
                            prop_assert!(year < 1800);
                        }
                        Err(PnrError::Date) => {
                            prop_assert_eq!((d.month(), d.day()), (2, 29));
                        }
                        Err(e) => prop_assert!(false, "unexpected error {:?}", e),
                    }
                }
            }
        }
    }

    /// Any value `from_u64` accepts is a fixed point of the integer and string forms.
    #[test]
    fn from_u64_accepts_only_consistent_values(v in any::<u64>(), w in 180_000_000_000u64..=999_999_999_999) {
        for v in [v, w] {
            if let Ok(p) = Pnr::from_u64(v) {
                prop_assert_eq!(p.as_u64(), v);
                prop_assert_eq!(Pnr::parse_canonical(&p.to_canonical()), Ok(p));
            }
        }
    }

    /// Arbitrary text never panics, and whatever is accepted re-parses from its canonical
    /// form to the same value (the same property as the fuzz target).
    #[test]
    fn arbitrary_text_is_parsed_consistently(
        s in "[0-9+ -]{0,14}|[0-9]{6}[-+][0-9]{4}|[0-9]{8}-?[0-9]{4}|\\PC{0,14}",
        bytes in proptest::collection::vec(any::<u8>(), 0..16),
    ) {
        let reference = date(2024, 1, 1);
        if let Ok(p) = Pnr::parse(&s, reference) {
            prop_assert_eq!(Pnr::parse_canonical(&p.to_canonical()), Ok(p));
            if s.len() == 12 {
                prop_assert_eq!(p.to_canonical(), s.clone());
            }
        }
        if s.len() == 12 {
            prop_assert_eq!(Pnr::parse(&s, reference), Pnr::parse_canonical(&s));
        }
        if let Ok(p) = Pnr::parse_canonical_bytes(&bytes) {
            let canonical = p.to_canonical();
            prop_assert_eq!(canonical.as_bytes(), &bytes[..]);
        }
    }
}
