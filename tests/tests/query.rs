//! Statistics on a hand-built delivery with one person per rule of SPEC §4, exact values.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use regstat_query::delivery::Delivery;
use regstat_query::engine::{Engine, Years};
use regstat_query::stats::{self, Table};

fn s(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(v.iter().copied()))
}

fn batch(fields: Vec<(&str, DataType, bool)>, cols: Vec<ArrayRef>) -> RecordBatch {
    let schema = Schema::new(fields.into_iter().map(|(n, t, null)| Field::new(n, t, null)).collect::<Vec<_>>());
    RecordBatch::try_new(Arc::new(schema), cols).expect("batch")
}

fn day(d: &str) -> i32 {
    regstat_contract::date_to_days(chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("date"))
}

/// The fixture (see the comments per person). Pseudonyms are readable names here.
fn fixture() -> BTreeMap<&'static str, RecordBatch> {
    let mut t = BTreeMap::new();
    // p01 girl 2012 (7 in 2019), p02 man 1970, p05 man 1990, p06/p07/p08 adults, p11 woman 1950.
    // p09 has no persons row (and therefore no registration snapshots either).
    let persons: &[(&str, &str, i32, &str)] = &[
        ("p01", "K", 2012, "INRIKES"),
        ("p02", "M", 1970, "UTRIKES"),
        ("p03", "K", 1980, "INRIKES"),
        ("p04", "M", 1981, "INRIKES"),
        ("p05", "M", 1990, "INRIKES"),
        ("p06", "K", 1985, "UTRIKES"),
        ("p07", "M", 1960, "INRIKES"),
        ("p08", "K", 1975, "INRIKES"),
        ("p10", "M", 2000, "INRIKES"),
        ("p11", "K", 1950, "UTRIKES"),
    ];
    t.insert(
        "persons",
        batch(
            vec![("pseudonym", DataType::Utf8, false), ("sex", DataType::Utf8, false), ("birth_year", DataType::Int32, false), ("birth_country", DataType::Utf8, false)],
            vec![
                s(&persons.iter().map(|p| p.0).collect::<Vec<_>>()),
                s(&persons.iter().map(|p| p.1).collect::<Vec<_>>()),
                Arc::new(Int32Array::from_iter_values(persons.iter().map(|p| p.2))),
                s(&persons.iter().map(|p| p.3).collect::<Vec<_>>()),
            ],
        ),
    );
    let mut reg: Vec<(&str, i32)> = Vec::new();
    for p in ["p01", "p02", "p03", "p04", "p05", "p10"] {
        reg.extend((2016..=2021).map(|y| (p, y)));
    }
    reg.extend((2019..=2021).map(|y| ("p06", y))); // immigrated 2019: not registered at D-2 = 2018
    reg.extend((2016..=2018).map(|y| ("p07", y))); // gone before 31 Dec 2019 = D+1
    reg.extend([("p08", 2018), ("p08", 2020), ("p08", 2021)]); // abroad on 31 Dec 2019 = D-1
    reg.extend((2016..=2019).map(|y| ("p11", y)));
    t.insert(
        "registered",
        batch(
            vec![("pseudonym", DataType::Utf8, false), ("year", DataType::Int32, false)],
            vec![s(&reg.iter().map(|r| r.0).collect::<Vec<_>>()), Arc::new(Int32Array::from_iter_values(reg.iter().map(|r| r.1)))],
        ),
    );
    // (pseudonym, seq, date, kind, outcome, reason, lss_group, appeal)
    type D = (&'static str, i32, &'static str, &'static str, &'static str, Option<&'static str>, Option<i32>, bool);
    let decisions: &[D] = &[
        ("p01", 1, "2019-03-01", "ANSOKAN", "AVSLAG", Some("BEHOV_HOGST_20H"), Some(1), false),
        ("p02", 1, "2018-05-05", "ANMALAN", "BIFALL", None, None, false),
        ("p03", 1, "2019-02-02", "OMPROVNING", "AVSLAG", Some("PERSONKRETS"), None, false), // not qualifying
        ("p04", 1, "2019-04-04", "ANSOKAN", "AVSLAG", Some("PERSONKRETS"), None, true), // changed on appeal
        ("p05", 1, "2010-01-15", "ANSOKAN", "AVSLAG", None, None, false), // earlier refusal: TIDIGARE
        ("p05", 2, "2019-06-01", "ANSOKAN", "AVSLAG", Some("ANNAN"), Some(2), false), // same day, lower decision_id: first
        ("p05", 3, "2019-06-01", "ANSOKAN", "BIFALL", None, Some(2), false),
        ("p06", 1, "2020-02-02", "ANSOKAN", "AVSLAG", Some("BEHOV_HOGST_20H"), None, false),
        ("p07", 1, "2018-08-08", "ANSOKAN", "BIFALL", None, Some(3), false),
        ("p08", 1, "2020-09-09", "ANSOKAN", "AVSLAG", None, None, false),
        ("p09", 1, "2019-10-10", "ANSOKAN", "AVSLAG", None, None, false),
        ("p10", 1, "2017-05-05", "ANSOKAN", "AVSLAG", None, None, false), // outside the years
        ("p11", 1, "2018-11-11", "ANSOKAN", "BIFALL", None, Some(3), false),
    ];
    t.insert(
        "decisions",
        batch(
            vec![
                ("pseudonym", DataType::Utf8, false),
                ("decision_seq", DataType::Int32, false),
                ("decision_ref", DataType::Utf8, false),
                ("decision_date", DataType::Date32, false),
                ("kind", DataType::Utf8, false),
                ("outcome", DataType::Utf8, false),
                ("rejection_reason", DataType::Utf8, true),
                ("lss_group", DataType::Int32, true),
                ("assessed_hours", DataType::Float64, true),
                ("changed_on_appeal", DataType::Boolean, false),
            ],
            vec![
                s(&decisions.iter().map(|d| d.0).collect::<Vec<_>>()),
                Arc::new(Int32Array::from_iter_values(decisions.iter().map(|d| d.1))),
                s(&decisions.iter().map(|d| d.2).collect::<Vec<_>>()),
                Arc::new(Date32Array::from_iter_values(decisions.iter().map(|d| day(d.2)))),
                s(&decisions.iter().map(|d| d.3).collect::<Vec<_>>()),
                s(&decisions.iter().map(|d| d.4).collect::<Vec<_>>()),
                Arc::new(StringArray::from(decisions.iter().map(|d| d.5).collect::<Vec<_>>())),
                Arc::new(Int32Array::from(decisions.iter().map(|d| d.6).collect::<Vec<_>>())),
                Arc::new(Float64Array::from(vec![None; decisions.len()])),
                Arc::new(BooleanArray::from(decisions.iter().map(|d| d.7).collect::<Vec<_>>())),
            ],
        ),
    );
    let benefits: &[(&str, &str, &str)] = &[
        ("p01", "OMVARDNADSBIDRAG", "2018-04"),
        ("p05", "MERKOSTNADSERSATTNING", "2018-12"),
        ("p11", "HANDIKAPPERSATTNING", "2019-01"), // the year after, not before
    ];
    t.insert(
        "benefits",
        batch(
            vec![("pseudonym", DataType::Utf8, false), ("benefit", DataType::Utf8, false), ("month", DataType::Utf8, false)],
            vec![
                s(&benefits.iter().map(|b| b.0).collect::<Vec<_>>()),
                s(&benefits.iter().map(|b| b.1).collect::<Vec<_>>()),
                s(&benefits.iter().map(|b| b.2).collect::<Vec<_>>()),
            ],
        ),
    );
    let interventions: &[(&str, &str, &str, &str)] = &[
        ("p01", "LSS", "KORTTIDSVISTELSE", "2018-03"), // before (D-1 = 2018)
        ("p01", "SOL", "KONTAKTPERSON", "2020-07"),    // after
        ("p02", "HSL", "LAKEMEDEL", "2019-05"),        // HSL is not municipal support
        ("p05", "LSS", "DAGLIG_VERKSAMHET", "2020-01"), // after
        ("p11", "SOL", "HEMTJANST", "2016-06"),         // D-2: neither before nor after
        ("p11", "SOL", "HEMTJANST", "2019-02"),         // after
    ];
    t.insert(
        "interventions",
        batch(
            vec![("pseudonym", DataType::Utf8, false), ("law", DataType::Utf8, false), ("intervention", DataType::Utf8, false), ("month", DataType::Utf8, false)],
            vec![
                s(&interventions.iter().map(|i| i.0).collect::<Vec<_>>()),
                s(&interventions.iter().map(|i| i.1).collect::<Vec<_>>()),
                s(&interventions.iter().map(|i| i.2).collect::<Vec<_>>()),
                s(&interventions.iter().map(|i| i.3).collect::<Vec<_>>()),
            ],
        ),
    );
    t
}

async fn engine() -> (tempfile::TempDir, Delivery, Engine) {
    let store = tempfile::tempdir().expect("tempdir");
    let params = linkage::job::JobParams::new("fixture", 1, 2018, 2020, &[]).expect("params");
    let key = linkage::delivery::KeyInfo { project: "fixture".into(), version: 1, fingerprint: "0".into() };
    let p = linkage::delivery::publish(store.path(), &fixture(), &params, key, vec![]).expect("publish");
    let d = Delivery::open(store.path(), &p.delivery_id).expect("opens and verifies");
    let e = Engine::new(&d, Years::new(2018, 2020).expect("years")).await.expect("engine");
    (store, d, e)
}

/// n (and denominator) of the row with these dimension values (others must be empty/any).
fn cell(t: &Table, want: &[(&str, &str)]) -> (i64, Option<i64>) {
    let idx: Vec<(usize, &str)> = want.iter().map(|(d, v)| (t.dims.iter().position(|x| x == d).expect("dim"), *v)).collect();
    let rows: Vec<_> = t.rows.iter().filter(|r| idx.iter().all(|(i, v)| r.values[*i] == *v)).collect();
    assert!(!rows.is_empty(), "no row {want:?}");
    assert!(rows.windows(2).all(|w| w[0].n == w[1].n), "ambiguous {want:?}");
    (rows[0].n, rows[0].denominator)
}

#[tokio::test]
async fn cohort_flow_counts_each_rule_exactly() {
    let (_s, _d, e) = engine().await;
    let t = e.compute(stats::find("cohort_flow").expect("stat")).await.expect("computes");
    let want = [
        ("DECISIONS", [3, 6, 2]),
        ("QUALIFYING", [3, 4, 2]),
        ("FIRST_PER_PERSON", [3, 3, 2]),
        ("REGISTERED_D_MINUS_2", [3, 2, 1]),
        ("REGISTERED_D_MINUS_1", [3, 2, 0]),
        ("REGISTERED_D", [3, 2, 0]),
        ("REGISTERED_D_PLUS_1", [2, 2, 0]),
    ];
    for (rule, per_year) in want {
        for (y, n) in ["2018", "2019", "2020"].iter().zip(per_year) {
            assert_eq!(cell(&t, &[("rule", rule), ("decision_year", y)]).0, n, "{rule} {y}");
        }
        assert_eq!(cell(&t, &[("rule", rule), ("decision_year", "TOTAL")]).0, per_year.iter().sum::<i64>(), "{rule} TOTAL");
    }
    assert_eq!(t.rows.len(), 7 * 4);
}

#[tokio::test]
async fn the_cohort_has_the_definitions_dimensions() {
    let (_s, _d, e) = engine().await;
    let b = e
        .sql("SELECT pseudonym, decision_year, outcome, age_group, sex_age, lss_group, \
                CASE WHEN rejection_reason = '' THEN '(none)' ELSE rejection_reason END AS reason, previous_application, child_adult \
              FROM cohort_dims ORDER BY pseudonym")
        .await
        .expect("query");
    let b = arrow::compute::concat_batches(&b[0].schema(), &b).expect("concat");
    let text = arrow::util::pretty::pretty_format_batches(&[b]).expect("format").to_string();
    let rows: Vec<Vec<String>> = text
        .lines()
        .filter(|l| l.starts_with("| p") && !l.starts_with("| pseudonym"))
        .map(|l| l.split('|').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect())
        .collect();
    let want = [
        ["p01", "2019", "AVSLAG", "7-11", "FLICKOR", "1", "BEHOV_HOGST_20H", "FORSTA", "BARN"],
        ["p02", "2018", "BIFALL", "30-49", "MAN", "NONE", "(none)", "FORSTA", "VUXNA"],
        ["p05", "2019", "AVSLAG", "18-29", "MAN", "2", "BEHOV_HOGST_20H", "TIDIGARE", "VUXNA"],
        ["p11", "2018", "BIFALL", "65+", "KVINNOR", "3", "(none)", "FORSTA", "VUXNA"],
    ];
    let want: Vec<Vec<String>> = want.iter().map(|r| r.iter().map(|s| s.to_string()).collect()).collect();
    assert_eq!(rows, want);
}

#[tokio::test]
async fn municipal_support_before_and_after() {
    let (_s, _d, e) = engine().await;
    let t = e.compute(stats::find("municipal_support_before_after").expect("stat")).await.expect("computes");
    let c = |period, outcome, yes| {
        cell(&t, &[("period", period), ("outcome", outcome), ("sex", "TOTAL"), ("age_group", "TOTAL"), ("municipal_support", yes)])
    };
    assert_eq!(c("BEFORE", "TOTAL", "YES"), (1, Some(4)));
    assert_eq!(c("BEFORE", "TOTAL", "NO"), (3, Some(4)));
    assert_eq!(c("BEFORE", "BIFALL", "YES"), (0, Some(2))); // p11's SoL in D-2 does not count
    assert_eq!(c("AFTER", "AVSLAG", "YES"), (2, Some(2)));
    assert_eq!(c("AFTER", "BIFALL", "YES"), (1, Some(2))); // p02 has HSL only
    let by_lss = |g, yes| cell(&t, &[("period", "AFTER"), ("outcome", "TOTAL"), ("lss_group", g), ("sex_age", "TOTAL"), ("municipal_support", yes)]);
    assert_eq!(by_lss("NONE", "NO"), (1, Some(1)));
    assert_eq!(by_lss("2", "YES"), (1, Some(1)));
    assert_eq!(by_lss("1", "NO"), (0, Some(1)));
    // Complete grid: 2 periods × 3 outcome values × (3·8 + 3·5 + 5·5) × 2.
    assert_eq!(t.rows.len(), 2 * 3 * (3 * 8 + 3 * 5 + 5 * 5) * 2);
}

#[tokio::test]
async fn other_support_before_and_disclosure_rules() {
    let (_s, _d, e) = engine().await;
    let t = e.compute(stats::find("other_support_before").expect("stat")).await.expect("computes");
    let c = |st| cell(&t, &[("sex", "TOTAL"), ("age_group", "TOTAL"), ("support_type", st)]);
    assert_eq!(c("BOTH"), (1, Some(4)));
    assert_eq!(c("MUNICIPAL_ONLY"), (0, Some(4)));
    assert_eq!(c("SOCIAL_INSURANCE_ONLY"), (1, Some(4)));
    assert_eq!(c("NONE"), (2, Some(4)));
    let released = regstat_query::disclosure::protect(&t, Default::default());
    let csv = regstat_query::output::tidy_csv(&t.dims, &released);
    assert!(csv.starts_with("sex,age_group,birth_country,sex_age,lss_group,support_type,n,denominator,share_pct,suppressed\n"));
    // n = 2 and denominator 4: both primary-suppressed (1..=2 is hidden; 0 is released).
    assert!(csv.contains("\nTOTAL,TOTAL,,,,NONE,,4,,primary\n"), "{csv}");
    // 0 is released; the share needs a denominator of at least 50.
    assert!(csv.contains("\nTOTAL,TOTAL,,,,MUNICIPAL_ONLY,0,4,,share_denominator\n"), "{csv}");
}
