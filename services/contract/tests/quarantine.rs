//! SPEC §3 on a hand-built `persons` extract: birth number `000` (in every accepted form, also
//! for a samordningsnummer) is an invalid personnummer, and a `death_date` before the
//! `birth_date` is a bad date. Exact counts, exact quarantine rows, and no identifier in the
//! quarantine file.

use std::collections::BTreeMap;

use arrow::array::{Array, StringArray};
use chrono::NaiveDate;
use regstat_contract::{load_file, Dataset, FormatPreference, LoadOptions};
use regstat_pnr::{luhn_check_digit, Pnr};

/// The Luhn digit of nine ASCII digits `YYMMDDNNN`.
fn luhn(nine: &str) -> u8 {
    let mut d = [0u8; 9];
    for (o, c) in d.iter_mut().zip(nine.bytes()) {
        *o = c - b'0';
    }
    luhn_check_digit(&d)
}

#[test]
fn serial_000_and_death_before_birth_are_quarantined_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let q = dir.path().join("quarantine");
    // Serial 000 with a correct check digit, so the serial is the only defect.
    let twelve = format!("19800517000{}", luhn("800517000"));
    let dashed = format!("19810101-000{}", luhn("810101000"));
    let ten = format!("820202-000{}", luhn("820202000"));
    let plus = format!("120314+000{}", luhn("120314000")); // 1912 on the reference date
    let coord_twelve = format!("19750670000{}", luhn("750670000")); // day 10 + 60
    let coord_ten = format!("750670-000{}", luhn("750670000"));
    let born_and_died = Pnr::from_parts(2001, 3, 4, 123, false)
        .expect("pnr")
        .to_canonical();
    let rows = [
        "198005171239,K,1980-05-17,SE,".to_string(), // 1: accepted
        format!("{twelve},K,1980-05-17,SE,"),        // 2: 000, 12 digits
        format!("{dashed},M,1981-01-01,SE,"),        // 3: 000, YYYYMMDD-NNNC
        format!("{ten},K,1982-02-02,SE,"),           // 4: 000, YYMMDD-NNNC
        format!("{plus},M,1912-03-14,SE,"),          // 5: 000, YYMMDD+NNNC
        format!("{coord_twelve},M,1975-06-10,SE,"),  // 6: 000, samordningsnummer, 12 digits
        format!("{coord_ten},M,1975-06-10,SE,"),     // 7: 000, samordningsnummer, 10 digits
        "197506705552,M,1975-06-10,SE,".to_string(), // 8: accepted (a valid samordningsnummer)
        "199007314579,M,1990-07-31,SE,1990-07-30".to_string(), // 9: death the day before birth
        format!("{born_and_died},K,2001-03-04,SE,2001-03-04"), // 10: accepted (death on the birth date)
        "198511022462,M,1985-11-02,FI,1970-01-01".to_string(), // 11: death years before birth
    ];
    let csv = format!(
        "personnummer,sex,birth_date,birth_country,death_date\n{}\n",
        rows.join("\n")
    );
    let path = dir.path().join("persons.csv");
    std::fs::write(&path, csv).expect("write extract");
    let opts = LoadOptions {
        reference_date: NaiveDate::from_ymd_opt(2024, 1, 1),
        format: FormatPreference::Csv,
        batch_rows: 2,
    };
    let d = load_file(&path, Dataset::Persons, &q, &opts).expect("loads");

    assert_eq!(d.report.rows_read, 11);
    assert_eq!(d.report.rows_accepted, 3);
    assert_eq!(d.report.rows_quarantined, 8);
    assert_eq!(
        d.report.rows_read,
        d.report.rows_accepted + d.report.rows_quarantined
    );
    let want: BTreeMap<&str, u64> = [("INVALID_DATE", 2), ("INVALID_PERSONNUMMER", 6)]
        .into_iter()
        .collect();
    assert_eq!(d.report.reasons, want);

    let accepted: Vec<String> = d
        .batches
        .iter()
        .flat_map(|b| {
            let a = b
                .column(0)
                .as_any()
                .downcast_ref::<StringArray>()
                .expect("utf8")
                .clone();
            (0..a.len()).map(move |i| a.value(i).to_string())
        })
        .collect();
    assert_eq!(
        accepted,
        [
            "198005171239".to_string(),
            "197506705552".to_string(),
            born_and_died.clone()
        ]
    );

    // Row numbers count data rows from 1 (the header is not a row), as in the fixture test.
    let text = std::fs::read_to_string(q.join("persons.quarantine.csv")).expect("quarantine file");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("source_file,row_number,dataset,reason,column,detail")
    );
    let got: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert!(got
        .iter()
        .all(|r| r.len() == 6 && r[0].ends_with("persons.csv")));
    let got: Vec<[&str; 5]> = got
        .iter()
        .map(|r| [r[1].as_str(), &r[2], &r[3], &r[4], &r[5]])
        .collect();
    let want = [
        [
            "2",
            "persons",
            "INVALID_PERSONNUMMER",
            "personnummer",
            "SERIAL",
        ],
        [
            "3",
            "persons",
            "INVALID_PERSONNUMMER",
            "personnummer",
            "SERIAL",
        ],
        [
            "4",
            "persons",
            "INVALID_PERSONNUMMER",
            "personnummer",
            "SERIAL",
        ],
        [
            "5",
            "persons",
            "INVALID_PERSONNUMMER",
            "personnummer",
            "SERIAL",
        ],
        [
            "6",
            "persons",
            "INVALID_PERSONNUMMER",
            "personnummer",
            "SERIAL",
        ],
        [
            "7",
            "persons",
            "INVALID_PERSONNUMMER",
            "personnummer",
            "SERIAL",
        ],
        [
            "9",
            "persons",
            "INVALID_DATE",
            "death_date",
            "before birth_date",
        ],
        [
            "11",
            "persons",
            "INVALID_DATE",
            "death_date",
            "before birth_date",
        ],
    ];
    assert_eq!(got, want);

    // Never the identifier, in any of its printed forms.
    let mut forms: Vec<String> = Vec::new();
    for s in [&twelve, &dashed, &ten, &plus, &coord_twelve, &coord_ten] {
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        let last_ten = digits[digits.len() - 10..].to_string();
        forms.extend([s.clone(), digits, last_ten]);
    }
    for s in [
        "198005171239",
        "197506705552",
        "199007314579",
        "198511022462",
        born_and_died.as_str(),
    ] {
        forms.extend([s.to_string(), s[2..].to_string()]);
    }
    for f in &forms {
        assert!(
            !text.contains(f.as_str()),
            "an identifier leaked into the quarantine file"
        );
    }
}
