//! Unit tests of edge cases. Property tests live in `tests/properties.rs`.

use chrono::NaiveDate;

use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("test date is valid")
}

fn r2024() -> NaiveDate {
    date(2024, 1, 1)
}

fn parts(y: i32, m: u32, d: u32, serial: u16, coordination: bool) -> Pnr {
    Pnr::from_parts(y, m, d, serial, coordination).expect("test parts are valid")
}

/// Replaces the last character (check digit) of `s` by `c`.
fn with_check(s: &str, c: u8) -> String {
    let mut b = s.as_bytes().to_vec();
    let last = b.len() - 1;
    b[last] = b'0' + c;
    String::from_utf8(b).expect("ascii")
}

// ---------------------------------------------------------------- Luhn

#[test]
fn luhn_known_values() {
    assert_eq!(luhn_check_digit(&[8, 1, 1, 2, 1, 8, 9, 8, 7]), 6);
    assert_eq!(luhn_check_digit(&[1, 2, 1, 2, 1, 2, 1, 2, 1]), 2);
    assert_eq!(luhn_check_digit(&[7, 0, 1, 0, 6, 3, 2, 3, 9]), 1);
    // sum % 10 == 0 gives 0, not 10
    assert_eq!(luhn_check_digit(&[0; 9]), 0);
    // 5*2 = 10 -> digit sum 1; 9*2 = 18 -> 9
    assert_eq!(luhn_check_digit(&[5, 0, 0, 0, 0, 0, 0, 0, 0]), 9);
    assert_eq!(luhn_check_digit(&[9, 0, 0, 0, 0, 0, 0, 0, 0]), 1);
    // values outside 0..=9 do not panic
    let _ = luhn_check_digit(&[255; 9]);
}

// ---------------------------------------------------------------- known valid numbers

#[test]
fn known_ten_digit_number() {
    let p = Pnr::parse("811218-9876", r2024()).expect("valid");
    assert_eq!(p.as_u64(), 198_112_189_876);
    assert_eq!(p.to_canonical(), "198112189876");
    assert_eq!(p.to_dashed12(), "19811218-9876");
    assert_eq!(p.to_ten(r2024()), "811218-9876");
    assert_eq!(p.birth_date(), date(1981, 12, 18));
    assert_eq!(p.year(), 1981);
    assert_eq!(p.serial(), 987);
    assert_eq!(p.check_digit(), 6);
    assert!(p.is_male_digit());
    assert!(!p.is_coordination());
    assert_eq!(p, parts(1981, 12, 18, 987, false));
}

#[test]
fn known_twelve_digit_number_in_all_forms() {
    let want = parts(1912, 12, 12, 121, false);
    assert_eq!(want.check_digit(), 2);
    for s in ["191212121212", "19121212-1212"] {
        assert_eq!(Pnr::parse(s, r2024()), Ok(want), "{s}");
    }
    assert_eq!(Pnr::parse_canonical("191212121212"), Ok(want));
    assert_eq!(Pnr::parse_canonical_bytes(b"191212121212"), Ok(want));
    // 111 years old on 2024-01-01 -> '+'
    assert_eq!(want.to_ten(r2024()), "121212+1212");
    assert_eq!(Pnr::parse("121212+1212", r2024()), Ok(want));
    // the same ten digits with '-' mean 2012
    let young = Pnr::parse("121212-1212", r2024()).expect("valid");
    assert_eq!(young.year(), 2012);
    assert_eq!(young.to_canonical(), "201212121212");
}

#[test]
fn female_digit() {
    let p = parts(1990, 1, 15, 248, false);
    assert!(!p.is_male_digit());
    let p = parts(1990, 1, 15, 249, false);
    assert!(p.is_male_digit());
}

#[test]
fn debug_is_redacted_and_error_messages_hold_no_input() {
    let p = parts(1981, 12, 18, 987, false);
    assert_eq!(format!("{p:?}"), "Pnr(…)");
    assert_eq!(format!("{p:#?}"), "Pnr(…)");
    for e in PnrError::ALL {
        let msg = e.to_string();
        assert!(!msg.is_empty());
        assert!(!msg.contains("8112"), "{msg}");
    }
}

// ---------------------------------------------------------------- leap years

#[test]
fn leap_days() {
    let p = parts(2000, 2, 29, 123, false);
    assert_eq!(Pnr::parse_canonical(&p.to_canonical()), Ok(p));
    assert_eq!(p.birth_date(), date(2000, 2, 29));

    assert_eq!(
        Pnr::from_parts(1900, 2, 29, 123, false),
        Err(PnrError::Date)
    );
    assert_eq!(
        Pnr::from_parts(2023, 2, 29, 123, false),
        Err(PnrError::Date)
    );
    assert_eq!(
        Pnr::from_parts(2024, 2, 30, 123, false),
        Err(PnrError::Date)
    );
    assert!(Pnr::from_parts(2024, 2, 29, 123, false).is_ok());
    assert!(Pnr::from_parts(1600 + 400, 2, 29, 1, true).is_ok());

    // Same ten digits, valid in 2000 but not in 1900: the check digit of "000229123" is
    // the same, so only the calendar decides.
    let s2000 = p.to_canonical();
    let s1900 = format!("19{}", &s2000[2..]);
    assert_eq!(Pnr::parse_canonical(&s1900), Err(PnrError::Date));
    let s2023 = format!(
        "20230229123{}",
        luhn_check_digit(&[2, 3, 0, 2, 2, 9, 1, 2, 3])
    );
    assert_eq!(Pnr::parse_canonical(&s2023), Err(PnrError::Date));

    // 10-digit: "000229-1234" means 2000 on 2024-01-01; "+" would mean 1900 -> not a date.
    let ten = p.to_ten(r2024());
    assert_eq!(ten, format!("000229-{}", &s2000[8..]));
    assert_eq!(Pnr::parse(&ten, r2024()), Ok(p));
    let plus = ten.replace('-', "+");
    assert_eq!(Pnr::parse(&plus, r2024()), Err(PnrError::Date));
}

#[test]
fn days_in_month_table() {
    let common: Vec<u32> = (1..=12).map(|m| days_in_month(2023, m)).collect();
    assert_eq!(common, [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);
    assert_eq!(days_in_month(2024, 2), 29);
    assert_eq!(days_in_month(2000, 2), 29);
    assert_eq!(days_in_month(1900, 2), 28);
    assert_eq!(days_in_month(2100, 2), 28);
    assert_eq!(days_in_month(2023, 0), 0);
    assert_eq!(days_in_month(2023, 13), 0);
    // agrees with chrono over the whole supported range
    for y in MIN_YEAR..=MAX_YEAR {
        for m in 1..=12 {
            let n = days_in_month(y, m);
            assert!(NaiveDate::from_ymd_opt(y, m, n).is_some(), "{y}-{m}-{n}");
            assert!(
                NaiveDate::from_ymd_opt(y, m, n + 1).is_none(),
                "{y}-{m}-{}",
                n + 1
            );
        }
    }
}

// ---------------------------------------------------------------- samordningsnummer

#[test]
fn samordningsnummer() {
    let p = parts(1970, 10, 3, 239, true);
    assert!(p.is_coordination());
    assert_eq!(p.to_canonical(), "197010632391");
    assert_eq!(p.to_dashed12(), "19701063-2391");
    assert_eq!(p.to_ten(r2024()), "701063-2391");
    assert_eq!(p.birth_date(), date(1970, 10, 3));
    assert_eq!(p.serial(), 239);
    assert_eq!(p.check_digit(), 1);
    assert!(p.is_male_digit());
    for s in ["701063-2391", "19701063-2391", "197010632391"] {
        assert_eq!(Pnr::parse(s, r2024()), Ok(p), "{s}");
    }
    // The same person without the +60 is a different (ordinary) number.
    let ordinary = parts(1970, 10, 3, 239, false);
    assert_ne!(ordinary, p);
    assert_eq!(ordinary.birth_date(), p.birth_date());
}

#[test]
fn samordningsnummer_day_ranges() {
    // stored day 91 = 31st; 92 and 60 are invalid; 61 = 1st
    assert_eq!(parts(1985, 1, 31, 5, true).to_canonical()[6..8], *"91");
    assert_eq!(parts(1985, 1, 1, 5, true).to_canonical()[6..8], *"61");
    let valid = parts(1985, 1, 31, 5, true).to_canonical();
    for day in ["92", "60", "32", "00", "99"] {
        let s = format!("{}{}{}", &valid[..6], day, &valid[8..11]);
        let nine: Vec<u8> = s.bytes().skip(2).map(|b| b - b'0').collect();
        let nine: [u8; 9] = nine.try_into().expect("nine digits");
        let s = format!("{s}{}", luhn_check_digit(&nine));
        assert_eq!(Pnr::parse_canonical(&s), Err(PnrError::Date), "day {day}");
    }
    // 30 February + 60 = 90 in February is invalid; 29 February + 60 only in leap years
    assert_eq!(Pnr::from_parts(1985, 2, 30, 5, true), Err(PnrError::Date));
    assert_eq!(Pnr::from_parts(1985, 2, 29, 5, true), Err(PnrError::Date));
    let leap = parts(1984, 2, 29, 5, true);
    assert_eq!(leap.to_canonical()[4..8], *"0289");
    assert_eq!(leap.birth_date(), date(1984, 2, 29));
}

// ---------------------------------------------------------------- century inference

#[test]
fn plus_form_is_a_hundred_years_older() {
    let p = Pnr::parse("811218+9876", r2024()).expect("valid");
    assert_eq!(p.year(), 1881);
    assert_eq!(p.to_canonical(), "188112189876");
    assert_eq!(p.to_ten(r2024()), "811218+9876");
    let minus = Pnr::parse("811218-9876", r2024()).expect("valid");
    assert_eq!(p.year() + 100, minus.year());
    // the birth year of a '+' number is always 100+ years before the reference date
    let c = luhn_check_digit(&[2, 4, 0, 1, 0, 1, 0, 0, 1]);
    let p = Pnr::parse(&format!("240101+001{c}"), date(2024, 6, 1)).expect("valid");
    assert_eq!(p.year(), 1924);
    let p = Pnr::parse(&format!("240101+001{c}"), date(2024, 1, 1)).expect("valid");
    assert_eq!(p.year(), 1924);
    let p = Pnr::parse(
        &format!(
            "240102+001{}",
            luhn_check_digit(&[2, 4, 0, 1, 0, 2, 0, 0, 1])
        ),
        date(2024, 1, 1),
    )
    .expect("valid");
    assert_eq!(p.year(), 1824);
}

#[test]
fn century_inference_at_the_hundredth_birthday() {
    // Born 1924-03-15; reference 2024-03-15 is the 100th birthday.
    let p = parts(1924, 3, 15, 42, false);
    let ten_digits = &p.to_canonical()[2..];
    let minus = format!("{}-{}", &ten_digits[..6], &ten_digits[6..]);
    let plus = format!("{}+{}", &ten_digits[..6], &ten_digits[6..]);

    let birthday = date(2024, 3, 15);
    let day_before = date(2024, 3, 14);

    // On the 100th birthday the person is 100: '+' -> 1924; '-' -> 2024 (born that day).
    assert_eq!(p.to_ten(birthday), plus);
    assert_eq!(Pnr::parse(&plus, birthday), Ok(p));
    assert_eq!(Pnr::parse(&minus, birthday).map(|q| q.year()), Ok(2024));

    // The day before, the person is 99: '-' -> 1924 (2024-03-15 would be in the future);
    // '+' -> 1824 (1924-03-15 is after 1924-03-14).
    assert_eq!(p.to_ten(day_before), minus);
    assert_eq!(Pnr::parse(&minus, day_before), Ok(p));
    assert_eq!(Pnr::parse(&plus, day_before).map(|q| q.year()), Ok(1824));
}

#[test]
fn century_inference_rules() {
    let r = date(2024, 5, 10);
    // '-': latest year ending in YY with (Y, M, D) <= reference
    assert_eq!(infer_year(24, 5, 10, r, false), Some(2024));
    assert_eq!(infer_year(24, 5, 11, r, false), Some(1924));
    assert_eq!(infer_year(23, 12, 31, r, false), Some(2023));
    assert_eq!(infer_year(25, 1, 1, r, false), Some(1925));
    assert_eq!(infer_year(0, 1, 1, r, false), Some(2000));
    assert_eq!(infer_year(99, 12, 31, r, false), Some(1999));
    // '+': latest year with (Y, M, D) <= reference - 100 years
    assert_eq!(infer_year(24, 5, 10, r, true), Some(1924));
    assert_eq!(infer_year(24, 5, 11, r, true), Some(1824));
    assert_eq!(infer_year(25, 1, 1, r, true), Some(1825));
    assert_eq!(infer_year(23, 12, 31, r, true), Some(1923));
    // out of range
    assert_eq!(infer_year(25, 1, 1, date(1900, 1, 1), true), None);
    assert_eq!(infer_year(1, 1, 1, date(1900, 1, 1), true), None);
    assert_eq!(infer_year(0, 1, 1, date(1900, 1, 1), true), Some(1800));
    assert_eq!(infer_year(0, 1, 2, date(1900, 1, 1), true), None);
    // reference dates far from today work too
    assert_eq!(infer_year(5, 6, 7, date(9999, 12, 31), false), Some(9905));
    assert_eq!(infer_year(5, 6, 7, date(20000, 1, 1), false), None);
}

#[test]
fn leap_day_birthdays_use_march_first() {
    // Born 1924-02-29: in 2023 (common year) the 99th birthday counts from 1 March.
    let p = parts(1924, 2, 29, 77, false);
    assert!(p.to_ten(date(2023, 2, 28)).contains('-'));
    assert!(p.to_ten(date(2023, 3, 1)).contains('-'));
    // 100th birthday in a leap year 2024: exactly 2024-02-29
    assert!(p.to_ten(date(2024, 2, 28)).contains('-'));
    assert!(p.to_ten(date(2024, 2, 29)).contains('+'));
    for r in [
        date(2023, 2, 28),
        date(2024, 2, 28),
        date(2024, 2, 29),
        date(2025, 2, 28),
        date(2025, 3, 1),
    ] {
        assert_eq!(Pnr::parse(&p.to_ten(r), r), Ok(p), "{r}");
    }
}

// ---------------------------------------------------------------- error variants

#[test]
fn error_format() {
    let r = r2024();
    for s in [
        "",
        " 198112189876",
        "198112189876 ",
        "19811218 9876",
        "811218 9876",
        "\t811218-9876",
        "811218-9876\n",
        "8112189876",    // 10 digits without separator
        "19811218987",   // 11 digits
        "1981121898761", // 13 digits
        "19811218+9876", // 12 digits with '+'
        "1981121-89876", // separator in the wrong place
        "811218--9876",
        "81121-89876",
        "811218_9876",
        "811218/9876",
        "19811218–9876", // en dash
        "81121A-9876",
        "x98112189876",
        "1981121898x6",
        "198112189876a",
        "١٩٨١١٢١٨٩٨٧٦", // Arabic-Indic digits
        "+811218-9876",
        "-98112189876",
        "+98112189876",
        "19811218-98-6",
    ] {
        assert_eq!(Pnr::parse(s, r), Err(PnrError::Format), "{s:?}");
    }
    for s in [
        "19811218-9876",
        "811218-9876",
        "1981121898761",
        "19811218987",
        " 98112189876",
    ] {
        assert_eq!(Pnr::parse_canonical(s), Err(PnrError::Format), "{s:?}");
        assert_eq!(
            Pnr::parse_canonical_bytes(s.as_bytes()),
            Err(PnrError::Format),
            "{s:?}"
        );
    }
    assert_eq!(
        Pnr::parse_canonical_bytes(&[0xff; 12]),
        Err(PnrError::Format)
    );
    assert_eq!(Pnr::from_u64(1_000_000_000_000), Err(PnrError::Format));
    assert_eq!(Pnr::from_u64(u64::MAX), Err(PnrError::Format));
}

#[test]
fn error_date() {
    let r = r2024();
    // month 13, month 00, day 32, day 00 with correct check digits
    for (yymmdd, twelve) in [
        ("811318", "19811318"),
        ("810018", "19810018"),
        ("811232", "19811232"),
        ("811200", "19811200"),
        ("810431", "19810431"),
    ] {
        let d: Vec<u8> = format!("{yymmdd}987").bytes().map(|b| b - b'0').collect();
        let c = luhn_check_digit(&d.try_into().expect("nine"));
        assert_eq!(
            Pnr::parse(&format!("{yymmdd}-987{c}"), r),
            Err(PnrError::Date),
            "{yymmdd}"
        );
        assert_eq!(
            Pnr::parse(&format!("{yymmdd}+987{c}"), r),
            Err(PnrError::Date),
            "{yymmdd}"
        );
        assert_eq!(
            Pnr::parse_canonical(&format!("{twelve}987{c}")),
            Err(PnrError::Date)
        );
        assert_eq!(
            Pnr::parse(&format!("{twelve}-987{c}"), r),
            Err(PnrError::Date)
        );
    }
    assert_eq!(Pnr::from_parts(1981, 13, 1, 1, false), Err(PnrError::Date));
    assert_eq!(Pnr::from_parts(1981, 0, 1, 1, false), Err(PnrError::Date));
    assert_eq!(Pnr::from_parts(1981, 1, 0, 1, false), Err(PnrError::Date));
    assert_eq!(Pnr::from_parts(1981, 1, 32, 1, true), Err(PnrError::Date));
    assert_eq!(Pnr::from_parts(1981, 1, 61, 1, false), Err(PnrError::Date));
}

#[test]
fn error_serial() {
    let p = with_check(
        "19811218-0000",
        luhn_check_digit(&[8, 1, 1, 2, 1, 8, 0, 0, 0]),
    );
    assert_eq!(Pnr::parse(&p, r2024()), Err(PnrError::Serial));
    assert_eq!(Pnr::parse(&p[2..], r2024()), Err(PnrError::Serial));
    assert_eq!(
        Pnr::parse_canonical(&p.replace('-', "")),
        Err(PnrError::Serial)
    );
    assert_eq!(
        Pnr::from_parts(1981, 12, 18, 0, false),
        Err(PnrError::Serial)
    );
    assert_eq!(
        Pnr::from_parts(1981, 12, 18, 1000, false),
        Err(PnrError::Serial)
    );
    // 001 and 999 are fine
    assert_eq!(parts(1981, 12, 18, 1, false).serial(), 1);
    assert_eq!(parts(1981, 12, 18, 999, false).serial(), 999);
}

#[test]
fn error_serial_samordningsnummer() {
    // 1975-06-10 as a samordningsnummer (day 10 + 60), serial 000, correct Luhn digit: the
    // serial alone is wrong, in every accepted form.
    let c = luhn_check_digit(&[7, 5, 0, 6, 7, 0, 0, 0, 0]);
    let twelve = format!("19750670000{c}");
    for s in [
        twelve.clone(),
        format!("19750670-000{c}"),
        format!("750670-000{c}"),
        format!("750670+000{c}"),
    ] {
        // `+` means 1875 on 2024-01-01: still a real date, so the serial is what fails.
        assert_eq!(Pnr::parse(&s, r2024()), Err(PnrError::Serial), "{s}");
    }
    assert_eq!(Pnr::parse_canonical(&twelve), Err(PnrError::Serial));
    assert_eq!(
        Pnr::from_u64(twelve.parse().expect("digits")),
        Err(PnrError::Serial)
    );
    assert_eq!(Pnr::from_parts(1975, 6, 10, 0, true), Err(PnrError::Serial));
    // serial 001 of the same samordningsnummer is fine
    let p = parts(1975, 6, 10, 1, true);
    assert!(p.is_coordination());
    assert_eq!(p.serial(), 1);
    assert_eq!(p.birth_date(), date(1975, 6, 10));
}

#[test]
fn error_check_digit() {
    let r = r2024();
    for c in (0..=9).filter(|&c| c != 6) {
        assert_eq!(
            Pnr::parse(&with_check("811218-9876", c), r),
            Err(PnrError::CheckDigit)
        );
        assert_eq!(
            Pnr::parse(&with_check("811218+9876", c), r),
            Err(PnrError::CheckDigit)
        );
        assert_eq!(
            Pnr::parse(&with_check("19811218-9876", c), r),
            Err(PnrError::CheckDigit)
        );
        assert_eq!(
            Pnr::parse_canonical(&with_check("198112189876", c)),
            Err(PnrError::CheckDigit)
        );
    }
    assert_eq!(Pnr::from_u64(198_112_189_875), Err(PnrError::CheckDigit));
}

#[test]
fn error_century() {
    // '+' pointing into the future of the earliest supported century: reference 1900-01-01,
    // born "01-01-01" aged 100+ would be 1801-01-01 > 1800-01-01 -> 1701 < 1800.
    let c = luhn_check_digit(&[0, 1, 0, 1, 0, 1, 1, 2, 3]);
    let s = format!("010101+123{c}");
    assert_eq!(Pnr::parse(&s, date(1900, 1, 1)), Err(PnrError::Century));
    // '-' with a reference so early that the only candidate is before 1800
    let c = luhn_check_digit(&[6, 0, 0, 1, 0, 1, 1, 2, 3]);
    assert_eq!(
        Pnr::parse(&format!("600101-123{c}"), date(1850, 6, 1)),
        Err(PnrError::Century)
    );
    // reference beyond year 9999
    assert_eq!(
        Pnr::parse("811218-9876", date(12_000, 1, 1)),
        Err(PnrError::Century)
    );
    // ...while the same strings are fine with a later reference date
    assert!(Pnr::parse(&s, date(1901, 1, 1)).is_ok());
}

#[test]
fn error_year() {
    // 1799-12-31 with a correct Luhn digit
    let c = luhn_check_digit(&[9, 9, 1, 2, 3, 1, 1, 2, 3]);
    let s = format!("17991231123{c}");
    assert_eq!(Pnr::parse_canonical(&s), Err(PnrError::Year));
    assert_eq!(Pnr::parse(&s, r2024()), Err(PnrError::Year));
    assert_eq!(
        Pnr::parse(&format!("17991231-123{c}"), r2024()),
        Err(PnrError::Year)
    );
    assert_eq!(
        Pnr::parse_canonical(&format!("00991231123{c}")),
        Err(PnrError::Year)
    );
    assert_eq!(
        Pnr::from_parts(1799, 12, 31, 123, false),
        Err(PnrError::Year)
    );
    assert_eq!(
        Pnr::from_parts(10_000, 1, 1, 123, false),
        Err(PnrError::Year)
    );
    assert_eq!(Pnr::from_parts(-5, 1, 1, 123, false), Err(PnrError::Year));
    // fewer than 12 digits as an integer = year < 1000
    assert_eq!(Pnr::from_u64(8_112_189_876), Err(PnrError::Year));
    assert_eq!(Pnr::from_u64(0), Err(PnrError::Year));
    // 1800 and 9999 are the bounds
    assert_eq!(parts(1800, 1, 1, 1, false).year(), 1800);
    assert_eq!(parts(9999, 12, 31, 999, true).year(), 9999);
}

#[test]
fn error_codes_are_stable() {
    let codes: Vec<&str> = PnrError::ALL.iter().map(PnrError::code).collect();
    assert_eq!(
        codes,
        ["FORMAT", "DATE", "SERIAL", "CHECK_DIGIT", "CENTURY", "YEAR"]
    );
}

// ---------------------------------------------------------------- representations

#[test]
fn compact_value_and_ordering() {
    let a = parts(1981, 12, 18, 987, false);
    let b = parts(1981, 12, 19, 1, false);
    let c = parts(2001, 1, 1, 1, false);
    assert!(a < b && b < c);
    assert_eq!(Pnr::from_u64(a.as_u64()), Ok(a));
    let mut buf = [0u8; 12];
    a.write_canonical(&mut buf);
    assert_eq!(&buf, b"198112189876");
    assert_eq!(parts(1800, 1, 1, 1, false).to_canonical().len(), 12);
    assert_eq!(parts(1800, 1, 1, 1, false).to_canonical(), "180001010016");
}
