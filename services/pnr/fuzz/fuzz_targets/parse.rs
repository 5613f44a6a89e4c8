//! Fuzz target for `regstat_pnr`: arbitrary bytes must never panic the parsers, and every
//! accepted value must re-parse from its canonical form to the same value.

#![no_main]

use chrono::{Datelike, NaiveDate};
use libfuzzer_sys::fuzz_target;
use regstat_pnr::Pnr;

/// Asserts the invariants every accepted value must satisfy.
fn check(p: Pnr, reference: NaiveDate) {
    let canonical = p.to_canonical();
    assert_eq!(canonical.len(), 12);
    assert_eq!(Pnr::parse_canonical(&canonical), Ok(p));
    assert_eq!(Pnr::parse_canonical_bytes(canonical.as_bytes()), Ok(p));
    assert_eq!(Pnr::parse(&canonical, reference), Ok(p));
    assert_eq!(Pnr::parse(&p.to_dashed12(), reference), Ok(p));
    assert_eq!(Pnr::from_u64(p.as_u64()), Ok(p));

    let mut buf = [0u8; 12];
    p.write_canonical(&mut buf);
    assert_eq!(&buf[..], canonical.as_bytes());

    // Exercise the accessors (they must not panic on any accepted value).
    let _ = (
        p.birth_date(),
        p.serial(),
        p.check_digit(),
        p.is_male_digit(),
    );
    assert_eq!(p.birth_date().year(), p.year());
}

fuzz_target!(|data: &[u8]| {
    let reference = NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid reference date");

    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(p) = Pnr::parse(s, reference) {
            check(p, reference);
            // The 10-digit forms are the only ones whose meaning depends on the reference.
            if s.len() == 11 {
                assert_eq!(p.to_ten(reference), s);
            } else if s.len() == 12 {
                assert_eq!(p.to_canonical(), s);
            } else {
                assert_eq!(p.to_dashed12(), s);
            }
        }
    }

    let canonical = Pnr::parse_canonical_bytes(data);
    if let Ok(p) = canonical {
        check(p, reference);
        assert_eq!(p.to_canonical().as_bytes(), data);
    }
    // Both parsers agree on 12-byte input.
    if let Ok(s) = std::str::from_utf8(data) {
        if s.len() == 12 {
            assert_eq!(Pnr::parse(s, reference), canonical);
        }
    }
});
