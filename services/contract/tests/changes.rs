//! SPEC §3.1 `personnummer_changes` on a hand-built extract: row checks, then the rules judged
//! on the whole extract (forks, repeated keys, cycles). Exact counts, exact quarantine rows,
//! reconciliation, no identifier in the quarantine file; an absent extract loads as empty.

use std::collections::BTreeMap;

use arrow::array::{Array, StringArray};
use chrono::NaiveDate;
use regstat_contract::changes::Renumbering;
use regstat_contract::{load_dataset, load_file, Dataset, FormatPreference, LoadOptions};
use regstat_pnr::Pnr;

fn pnr(y: i32, m: u32, d: u32, serial: u16) -> String {
    Pnr::from_parts(y, m, d, serial, false).expect("valid parts").to_canonical()
}

fn opts() -> LoadOptions {
    LoadOptions { reference_date: NaiveDate::from_ymd_opt(2024, 1, 1), format: FormatPreference::Csv, batch_rows: 2 }
}

#[test]
fn changes_are_quarantined_exactly_and_resolve_along_chains() {
    let dir = tempfile::tempdir().expect("tempdir");
    let q = dir.path().join("quarantine");
    let a = pnr(1980, 5, 17, 123); // A → B → C: a corrected birth date, then a change of legal sex
    let b = pnr(1980, 5, 7, 123);
    let c = pnr(1980, 5, 7, 128);
    let (d, e, f) = (pnr(1990, 1, 1, 11), pnr(1990, 1, 1, 21), pnr(1990, 1, 1, 31));
    let (j, k) = (pnr(1970, 2, 2, 44), pnr(1970, 2, 2, 55));
    let (g, h) = (pnr(1960, 3, 3, 66), pnr(1960, 3, 3, 77));
    let s = pnr(1950, 4, 4, 88);
    let coord = "197506705552"; // a samordningsnummer that got a personnummer
    let p = pnr(1975, 6, 10, 241);
    let rows = [
        format!("{a},{b},2001-02-03"),   // 1 accepted
        format!("{b},{c},2015-06-01"),   // 2 accepted
        format!("{d},{e},2010-01-01"),   // 3 fork
        format!("{d},{f},2011-01-01"),   // 4 fork
        format!("{j},{k},2012-01-01"),   // 5 cycle
        format!("{k},{j},2013-01-01"),   // 6 cycle
        format!("{s},{s},2013-01-01"),   // 7 cycle of one
        format!("{g},{h},2014-01-01"),   // 8 accepted
        format!("{g},{h},2014-01-01"),   // 9 exact duplicate
        format!("{g},{h},2014-02-01"),   // 10 second row for the same old number
        format!("{coord},{p},1999-09-09"), // 11 accepted
        format!("{a}X,{c},2001-02-03"),  // 12 invalid personnummer
        format!("{e},{f},"),             // 13 missing date
        format!("{e},{f},2019-02-30"),   // 14 not a date
    ];
    let path = dir.path().join("personnummer_changes.csv");
    std::fs::write(&path, format!("old_personnummer,new_personnummer,change_date\n{}\n", rows.join("\n"))).expect("write");
    let loaded = load_file(&path, Dataset::PersonnummerChanges, &q, &opts()).expect("loads");

    let r = &loaded.report;
    assert_eq!((r.rows_read, r.rows_accepted, r.rows_quarantined), (14, 4, 10));
    let want: BTreeMap<&str, u64> = [
        ("CHANGE_CYCLE", 3),
        ("CHANGE_FORK", 2),
        ("DUPLICATE_KEY", 1),
        ("DUPLICATE_ROW", 1),
        ("INVALID_DATE", 1),
        ("INVALID_PERSONNUMMER", 1),
        ("MISSING_VALUE", 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(r.reasons, want);
    assert_eq!(loaded.num_rows(), 4);

    let text = std::fs::read_to_string(q.join("personnummer_changes.quarantine.csv")).expect("quarantine");
    let mut got: Vec<(u64, String, String)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1].parse().expect("row number"), f[3].to_string(), f[4].to_string())
        })
        .collect();
    got.sort();
    let want: Vec<(u64, String, String)> = [
        (3, "CHANGE_FORK", "old_personnummer"),
        (4, "CHANGE_FORK", "old_personnummer"),
        (5, "CHANGE_CYCLE", "new_personnummer"),
        (6, "CHANGE_CYCLE", "new_personnummer"),
        (7, "CHANGE_CYCLE", "new_personnummer"),
        (9, "DUPLICATE_ROW", ""),
        (10, "DUPLICATE_KEY", "old_personnummer"),
        (12, "INVALID_PERSONNUMMER", "old_personnummer"),
        (13, "MISSING_VALUE", "change_date"),
        (14, "INVALID_DATE", "change_date"),
    ]
    .into_iter()
    .map(|(n, r, c)| (n, r.to_string(), c.to_string()))
    .collect();
    assert_eq!(got, want);
    for id in [&a, &b, &c, &d, &e, &f, &g, &h, &j, &k, &s, &p] {
        assert!(!text.contains(id.as_str()) && !text.contains(&id[2..]), "an identifier leaked into the quarantine file");
    }

    // The accepted rows, in row order, resolve along the chain.
    let col = |name: &str| -> Vec<String> {
        loaded
            .batches
            .iter()
            .flat_map(|batch| {
                let a = batch.column_by_name(name).and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned()).expect("utf8");
                (0..a.len()).map(move |i| a.value(i).to_string())
            })
            .collect()
    };
    assert_eq!(col("old_personnummer"), vec![a.clone(), b.clone(), g.clone(), coord.to_string()]);
    let key = |s: &str| Pnr::parse_canonical(s).expect("valid").as_u64();
    let pairs: Vec<(u64, u64)> =
        col("old_personnummer").iter().zip(col("new_personnummer")).map(|(o, n)| (key(o), key(&n))).collect();
    let renumber = Renumbering::new(&pairs);
    assert_eq!(renumber.resolve(key(&a)), key(&c));
    assert_eq!(renumber.resolve(key(&b)), key(&c));
    assert_eq!(renumber.resolve(key(coord)), key(&p));
    assert_eq!(renumber.resolve(key(&d)), key(&d), "forked rows are not followed");
    assert_eq!(renumber.resolve(key(&j)), key(&j), "cycles are not followed");
}

#[test]
fn an_absent_changes_extract_loads_as_empty_and_other_datasets_stay_required() {
    let dir = tempfile::tempdir().expect("tempdir");
    let q = dir.path().join("quarantine");
    let d = load_dataset(dir.path(), Dataset::PersonnummerChanges, &q, &opts()).expect("optional");
    assert_eq!((d.report.rows_read, d.report.rows_accepted, d.num_rows()), (0, 0, 0));
    assert_eq!(d.report.source_format, "absent");
    assert!(q.join("personnummer_changes.quarantine.csv").exists());
    assert!(load_dataset(dir.path(), Dataset::Persons, &q, &opts()).is_err());
}
