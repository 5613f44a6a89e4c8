//! The decision statistics (SPEC-DECISIONS §5b) on a hand-built delivery with one person per
//! rule of §5b.1, exact values. The delivery is linked for the decision statistics only, so it
//! has no registration snapshots, benefits or interventions.

mod common;

use std::collections::BTreeMap;

use arrow::array::RecordBatch;
use common::row;
use regstat_query::delivery::Delivery;
use regstat_query::engine::{Engine, Years};
use regstat_query::stats::{self, Table};

const DECISIONS: &[common::Decision] = &[
    // a1, girl born 2015 (4 in 2019: 0-6, no population restriction, D4): a first refusal, a
    // second refusal the same year (D2: only the first counts), a grant after a refusal.
    ("a1", 1, "2019-03-01", "ANSOKAN", "AVSLAG", Some("BEHOV_HOGST_20H"), Some(1), None, false),
    ("a1", 2, "2019-09-01", "ANSOKAN", "AVSLAG", Some("PERSONKRETS"), Some(1), Some(3.0), false),
    ("a1", 3, "2020-05-01", "ANMALAN", "BIFALL", None, Some(1), None, false),
    // a2, man born 1990, abroad: refused (ANNAN counts as BEHOV, 5.0 h is in 0.1-5) and granted in
    // 2018 (both count, D2), then refused after the grant (AFTER_GRANT, out of T31-T45); 30 in 2020.
    ("a2", 1, "2018-02-01", "ANSOKAN", "AVSLAG", Some("ANNAN"), Some(3), Some(5.0), false),
    ("a2", 2, "2018-06-01", "ANSOKAN", "BIFALL", None, Some(3), None, false),
    ("a2", 3, "2020-01-01", "ANSOKAN", "AVSLAG", Some("GRUNDLAGGANDE_FORUTSATTNINGAR"), Some(3), None, false),
    // a3, woman born 1950: a reconsideration, a dismissal and a refusal changed on appeal do not
    // qualify (D1); her refusal without a reason is UNKNOWN (D6) and her first decision.
    ("a3", 1, "2019-04-04", "OMPROVNING", "AVSLAG", Some("PERSONKRETS"), None, None, false),
    ("a3", 2, "2019-05-05", "ANSOKAN", "AVVISNING", None, None, None, false),
    ("a3", 3, "2019-06-06", "ANSOKAN", "AVSLAG", Some("PERSONKRETS"), None, None, true),
    ("a3", 4, "2019-07-07", "ANSOKAN", "AVSLAG", None, None, None, false),
    // a4, boy born 2005: refused 2008 and again on 2019-01-09, one day short of 11 years: 10
    // completed years (D9), 7+; assessed 0 hours.
    ("a4", 1, "2008-01-10", "ANSOKAN", "AVSLAG", None, None, None, false),
    ("a4", 2, "2019-01-09", "ANSOKAN", "AVSLAG", Some("BEHOV_HOGST_20H"), Some(2), Some(0.0), false),
    // a5, woman born 1980: refused twice with 18 and 20 hours (both 15.1-20: one person in the P cell).
    ("a5", 1, "2018-10-10", "ANSOKAN", "AVSLAG", Some("BEHOV_HOGST_20H"), Some(1), Some(18.0), false),
    ("a5", 2, "2020-10-10", "ANSOKAN", "AVSLAG", Some("BEHOV_HOGST_20H"), Some(1), Some(20.0), false),
    // a6, man born 1970: a refusal in 1999 (HISTORY_BEFORE_2002), and a decision after the years.
    ("a6", 1, "1999-05-05", "ANSOKAN", "AVSLAG", None, None, None, false),
    ("a6", 2, "2019-05-05", "ANSOKAN", "AVSLAG", Some("PERSONKRETS"), None, None, false),
    ("a6", 3, "2021-01-01", "ANSOKAN", "BIFALL", None, None, None, false),
    // a7 has no persons row (NO_PERSON).
    ("a7", 1, "2019-08-08", "ANSOKAN", "BIFALL", None, None, None, false),
    // a8, woman born 1960 abroad: granted 2005, refused 2019 (AFTER_GRANT).
    ("a8", 1, "2005-03-03", "ANSOKAN", "BIFALL", None, None, None, false),
    ("a8", 2, "2019-03-03", "ANSOKAN", "AVSLAG", Some("GRUNDLAGGANDE_FORUTSATTNINGAR"), None, None, false),
    // a9, man born 1985, had a right to assistansersättning in January 2019 (recipient_months): his
    // application in February is a recipient's request (D1 CURRENT_RECIPIENT), not counted.
    ("a9", 1, "2019-02-10", "ANSOKAN", "BIFALL", None, None, None, false),
];

fn fixture() -> BTreeMap<&'static str, RecordBatch> {
    let persons: &[(&str, &str, i32, &str)] = &[
        ("a1", "K", 2015, "INRIKES"),
        ("a2", "M", 1990, "UTRIKES"),
        ("a3", "K", 1950, "INRIKES"),
        ("a4", "M", 2005, "INRIKES"),
        ("a5", "K", 1980, "INRIKES"),
        ("a6", "M", 1970, "INRIKES"),
        ("a8", "K", 1960, "UTRIKES"),
        ("a9", "M", 1985, "INRIKES"),
    ];
    // D11: a2 (born abroad) arrived 2014-02-01; a later registration start (2025) is after his
    // decisions. a8, born abroad, has no registration start: residence time UNKNOWN.
    let arrivals: &[(&str, &str)] = &[("a2", "2014-02-01"), ("a2", "2025-01-01")];
    let arrivals = common::batch(
        vec![("pseudonym", arrow::datatypes::DataType::Utf8, false), ("arrival_date", arrow::datatypes::DataType::Date32, false)],
        vec![
            common::s(&arrivals.iter().map(|a| a.0).collect::<Vec<_>>()),
            std::sync::Arc::new(arrow::array::Date32Array::from_iter_values(arrivals.iter().map(|a| common::day(a.1)))),
        ],
    );
    // D1 CURRENT_RECIPIENT: a9's right in the month before his application; a5's right in August
    // 2018 is two months before her refusal of 2018-10-10, so it does not make her a recipient.
    let recipients: &[(&str, &str)] = &[("a5", "2018-08"), ("a9", "2019-01")];
    let recipients = common::batch(
        vec![("pseudonym", arrow::datatypes::DataType::Utf8, false), ("month", arrow::datatypes::DataType::Utf8, false)],
        vec![common::s(&recipients.iter().map(|r| r.0).collect::<Vec<_>>()), common::s(&recipients.iter().map(|r| r.1).collect::<Vec<_>>())],
    );
    BTreeMap::from([
        ("persons", common::persons(persons)),
        ("decisions", common::decisions(DECISIONS)),
        ("arrivals", arrivals),
        ("recipient_months", recipients),
    ])
}

const DECISION_STATISTICS: &[&str] = &[
    "decision_flow",
    "decisions_by_group",
    "refusal_reasons",
    "assessed_hours",
    "decision_number",
    "time_since_previous",
    "refusal_by_previous_application",
    "reapplication_after_refusal",
    "refusal_regression",
    "refusal_by_residence_time",
    "refusal_reasons_by_residence_time",
];

async fn engine() -> (tempfile::TempDir, Delivery, Engine) {
    let store = tempfile::tempdir().expect("tempdir");
    let ids: Vec<String> = DECISION_STATISTICS.iter().map(|s| s.to_string()).collect();
    let params = linkage::job::JobParams::new("fixture", 1, 2018, 2020, &ids).expect("params");
    assert!(!params.needs_registrations() && !params.needs_benefits() && !params.needs_interventions());
    let key = linkage::delivery::KeyInfo { project: "fixture".into(), version: 1, fingerprint: "0".into() };
    let p = linkage::delivery::publish(store.path(), &fixture(), &params, key, vec![]).expect("publish");
    let d = Delivery::open(store.path(), &p.delivery_id).expect("opens and verifies");
    let e = Engine::new(&d, Years::new(2018, 2020).expect("years")).await.expect("engine");
    (store, d, e)
}

async fn compute(e: &Engine, id: &str) -> Table {
    e.compute(stats::find(id).expect("statistic")).await.expect("computes")
}

fn n(t: &Table, want: &[(&str, &str)]) -> i64 {
    row(t, want).n
}

fn nd(t: &Table, want: &[(&str, &str)]) -> (i64, Option<i64>) {
    let r = row(t, want);
    (r.n, r.denominator)
}

#[tokio::test]
async fn decision_flow_follows_each_rule_of_d1_to_d8() {
    let (_s, _d, e) = engine().await;
    let t = compute(&e, "decision_flow").await;
    let want: [(&str, [i64; 3]); 9] = [
        ("DECISIONS", [3, 11, 3]),
        ("KIND", [3, 10, 3]),
        ("OUTCOME", [3, 9, 3]),
        ("NOT_CHANGED_ON_APPEAL", [3, 8, 3]),
        ("CURRENT_RECIPIENT", [3, 7, 3]),
        ("ONE_PER_YEAR", [3, 6, 3]),
        ("NO_PERSON", [3, 5, 3]),
        ("HISTORY_BEFORE_2002", [3, 4, 3]),
        ("AFTER_GRANT", [3, 3, 2]),
    ];
    for (rule, per_year) in want {
        for (y, v) in ["2018", "2019", "2020"].iter().zip(per_year) {
            assert_eq!(n(&t, &[("rule", rule), ("decision_year", y)]), v, "{rule} {y}");
        }
        assert_eq!(n(&t, &[("rule", rule), ("decision_year", "TOTAL")]), per_year.iter().sum::<i64>(), "{rule}");
    }
    assert_eq!(t.rows.len(), 9 * 4);
}

#[tokio::test]
async fn decisions_by_group_counts_one_refusal_and_one_grant_per_person_and_year() {
    let (_s, _d, e) = engine().await;
    let t = compute(&e, "decisions_by_group").await;
    let y = |year: &'static str, outcome: &'static str| n(&t, &[("decision_year", year), ("counting_unit", "Y"), ("outcome", outcome)]);
    assert_eq!((y("2018", "AVSLAG"), y("2018", "BIFALL")), (2, 1)); // a2 refused and granted, a5
    assert_eq!((y("2019", "AVSLAG"), y("2019", "BIFALL")), (5, 0)); // a1 once, a3, a4, a6, a8; not a7
    assert_eq!((y("2020", "AVSLAG"), y("2020", "BIFALL")), (2, 1));
    assert_eq!(nd(&t, &[("decision_year", "2018"), ("counting_unit", "Y"), ("outcome", "AVSLAG")]).1, Some(3));
    let g = |year: &'static str, extra: &[(&'static str, &'static str)], outcome: &'static str| {
        let mut w = vec![("decision_year", year), ("counting_unit", "Y"), ("outcome", outcome)];
        w.extend_from_slice(extra);
        nd(&t, &w)
    };
    assert_eq!(g("2019", &[("sex_age", "KVINNOR")], "AVSLAG"), (2, Some(2))); // a3, a8
    assert_eq!(g("2019", &[("child_adult", "BARN"), ("sex", "K"), ("age_group", "0-6")], "AVSLAG"), (1, Some(1))); // a1, aged 4
    assert_eq!(g("2019", &[("child_adult", "BARN"), ("sex", "TOTAL"), ("age_group", "TOTAL")], "AVSLAG"), (2, Some(2))); // a1, a4
    assert_eq!(g("2020", &[("child_adult", "VUXNA"), ("sex", "M"), ("age_group", "30-49")], "AVSLAG"), (1, Some(1))); // a2 turned 30
    assert_eq!(g("2018", &[("birth_country", "UTRIKES"), ("sex_age", "MAN")], "BIFALL"), (1, Some(2)));
    assert_eq!(g("2020", &[("lss_group", "1"), ("sex_age", "TOTAL")], "BIFALL"), (1, Some(2))); // a1 granted, a5 refused
    assert_eq!(g("2019", &[("lss_group", "NONE"), ("sex_age", "TOTAL")], "AVSLAG"), (3, Some(3))); // a3, a6, a8
    // the age groups start at 0-6 (no population restriction); no 2-6
    assert!(t.rows.iter().all(|r| !r.values.contains(&"2-6".to_string())));
    // every row is a Y count
    let at = t.dims.iter().position(|d| *d == "counting_unit").expect("counting_unit");
    assert!(t.rows.iter().all(|r| r.values[at] == "Y"));
}

#[tokio::test]
async fn refusal_reasons_merge_annan_and_leave_unknown_out_of_the_denominators() {
    let (_s, _d, e) = engine().await;
    let t = compute(&e, "refusal_reasons").await;
    let y = |year: &'static str, unit: &'static str, reason: &'static str| {
        nd(&t, &[("decision_year", year), ("counting_unit", unit), ("rejection_reason", reason)])
    };
    assert_eq!(y("2018", "Y", "BEHOV_HOGST_20H"), (2, Some(2))); // a2 (ANNAN), a5
    assert_eq!(y("2019", "Y", "BEHOV_HOGST_20H"), (2, Some(4))); // a1, a4; of a1, a4, a6, a8 (a3 UNKNOWN)
    assert_eq!(y("2019", "Y", "UNKNOWN"), (1, Some(4)));
    assert_eq!(y("2019", "Y", "PERSONKRETS"), (1, Some(4)));
    assert_eq!(y("2020", "Y", "GRUNDLAGGANDE_FORUTSATTNINGAR"), (1, Some(2)));
    // the TOTAL year sums the years: D
    assert_eq!(y("TOTAL", "D", "BEHOV_HOGST_20H"), (5, Some(8)));
    assert_eq!(y("TOTAL", "D", "GRUNDLAGGANDE_FORUTSATTNINGAR"), (2, Some(8)));
    // D over the period: a5's two refusals are two
    assert_eq!(nd(&t, &[("counting_unit", "D"), ("sex_age", "KVINNOR"), ("rejection_reason", "BEHOV_HOGST_20H")]), (2, Some(3)));
    assert_eq!(nd(&t, &[("counting_unit", "D"), ("sex", "M"), ("age_group", "TOTAL"), ("rejection_reason", "PERSONKRETS")]), (1, Some(4)));
    assert_eq!(nd(&t, &[("counting_unit", "D"), ("birth_country", "UTRIKES"), ("sex_age", "TOTAL"), ("rejection_reason", "GRUNDLAGGANDE_FORUTSATTNINGAR")]), (2, Some(3)));
}

#[tokio::test]
async fn assessed_hours_count_decisions_by_year_and_distinct_persons_per_cell() {
    let (_s, _d, e) = engine().await;
    let t = compute(&e, "assessed_hours").await;
    let y = |year: &'static str, unit: &'static str, bin: &'static str| nd(&t, &[("decision_year", year), ("counting_unit", unit), ("hours_bin", bin)]);
    assert_eq!(y("2018", "Y", "0.1-5"), (1, Some(2))); // a2: 5.0 h is in (0, 5]
    assert_eq!(y("2018", "Y", "15.1-20"), (1, Some(2))); // a5: 18 h
    assert_eq!(y("2019", "Y", "0"), (1, Some(2))); // a4
    assert_eq!(y("2019", "Y", "UNKNOWN"), (1, Some(2))); // a1: none recorded
    assert_eq!(y("2020", "Y", "15.1-20"), (1, Some(1))); // a5: 20 h
    assert_eq!(y("TOTAL", "D", "15.1-20"), (2, Some(5)));
    assert_eq!(y("TOTAL", "D", "5.1-10"), (0, Some(5)));
    // P: a5's two refusals in 15.1-20 are one person
    let p = |want: &[(&'static str, &'static str)]| {
        let mut w = vec![("counting_unit", "P")];
        w.extend_from_slice(want);
        nd(&t, &w)
    };
    assert_eq!(p(&[("sex_age", "KVINNOR"), ("hours_bin", "15.1-20")]), (1, Some(1)));
    // TOTAL rows of P are sums of the cells: FLICKOR 1 + POJKAR 1 + KVINNOR 1 + MAN 1
    assert_eq!(p(&[("sex_age", "TOTAL"), ("hours_bin", "15.1-20")]), (1, Some(4)));
    assert_eq!(p(&[("sex", "K"), ("age_group", "30-49"), ("hours_bin", "15.1-20")]), (1, Some(1)));
    assert_eq!(p(&[("birth_country", "UTRIKES"), ("sex_age", "MAN"), ("hours_bin", "0.1-5")]), (1, Some(1)));
    assert_eq!(p(&[("lss_group", "2"), ("sex_age", "POJKAR"), ("hours_bin", "0")]), (1, Some(1)));
    assert_eq!(p(&[("lss_group", "1"), ("sex_age", "TOTAL"), ("hours_bin", "UNKNOWN")]), (1, Some(2))); // a1; of a1, a5
}

#[tokio::test]
async fn the_history_statistics_follow_d8_and_d9() {
    let (_s, _d, e) = engine().await;
    let t = compute(&e, "decision_number").await;
    let y = |t: &Table, year: &'static str, unit: &'static str, dim: &'static str, v: &'static str| {
        nd(t, &[("decision_year", year), ("counting_unit", unit), (dim, v)])
    };
    // D8 population: a6 (1999) and the decisions after a grant (a2 2020, a8 2019) are out
    assert_eq!(y(&t, "2018", "Y", "decision_number", "FIRST"), (2, Some(3))); // a2, a5; a2's grant is SECOND
    assert_eq!(y(&t, "2019", "Y", "decision_number", "FIRST"), (2, Some(3))); // a1, a3; a4 SECOND
    assert_eq!(y(&t, "2020", "Y", "decision_number", "SECOND"), (2, Some(2))); // a1 (its second refusal of 2019 is not kept), a5
    assert_eq!(y(&t, "TOTAL", "D", "decision_number", "THIRD_PLUS"), (0, Some(8)));
    assert_eq!(nd(&t, &[("counting_unit", "P"), ("sex_age", "KVINNOR"), ("decision_number", "FIRST")]), (2, Some(3))); // a3, a5
    assert_eq!(nd(&t, &[("counting_unit", "P"), ("sex_age", "MAN"), ("decision_number", "SECOND")]), (1, Some(2)));

    let t = compute(&e, "time_since_previous").await;
    assert_eq!(y(&t, "2018", "Y", "time_since_previous", "0-3"), (1, Some(1))); // a2: months after the refusal
    assert_eq!(y(&t, "2019", "Y", "time_since_previous", "7+"), (1, Some(1))); // a4: 10 completed years
    assert_eq!(y(&t, "2020", "Y", "time_since_previous", "0-3"), (2, Some(2))); // a1, a5
    assert_eq!(nd(&t, &[("counting_unit", "P"), ("sex", "K"), ("age_group", "0-6"), ("time_since_previous", "7+")]), (0, Some(1)));

    let t = compute(&e, "refusal_by_previous_application").await;
    let f = |year: &'static str, prev: &'static str, outcome: &'static str| {
        nd(&t, &[("decision_year", year), ("counting_unit", "Y"), ("previous_application", prev), ("outcome", outcome)])
    };
    assert_eq!(f("2018", "FORSTA", "AVSLAG"), (2, Some(2)));
    assert_eq!(f("2018", "TIDIGARE", "BIFALL"), (1, Some(1))); // a2 granted after a refusal the same year
    assert_eq!(f("2019", "TIDIGARE", "AVSLAG"), (1, Some(1))); // a4
    assert_eq!(f("2020", "TIDIGARE", "BIFALL"), (1, Some(2))); // a1 granted, a5 refused
    assert_eq!(f("2019", "TOTAL", "AVSLAG"), (3, Some(3)));
    assert_eq!(nd(&t, &[("counting_unit", "P"), ("previous_application", "FORSTA"), ("sex_age", "KVINNOR"), ("outcome", "AVSLAG")]), (2, Some(2)));
}

#[tokio::test]
async fn reapplication_after_a_refusal_in_the_base_year() {
    let (_s, _d, e) = engine().await;
    let t = compute(&e, "reapplication_after_refusal").await;
    let r = |reason: &'static str, sa: &'static str, stage: &'static str, next: &'static str| {
        nd(&t, &[("rejection_reason", reason), ("sex_age", sa), ("stage", stage), ("next_outcome", next)])
    };
    // refused in 2018: a2 (ANNAN, counted as BEHOV; granted in June) and a5 (refused again 2020)
    assert_eq!(r("BEHOV_HOGST_20H", "TOTAL", "REFUSED", "TOTAL"), (2, Some(2)));
    assert_eq!(r("BEHOV_HOGST_20H", "TOTAL", "REAPPLIED", "TOTAL"), (2, Some(2)));
    assert_eq!(r("BEHOV_HOGST_20H", "MAN", "REAPPLIED", "BIFALL"), (1, Some(1)));
    assert_eq!(r("BEHOV_HOGST_20H", "KVINNOR", "REAPPLIED", "AVSLAG"), (1, Some(1)));
    assert_eq!(r("PERSONKRETS", "TOTAL", "REFUSED", "TOTAL"), (0, Some(0)));
}

#[tokio::test]
async fn residence_time_counts_completed_years_since_the_latest_arrival_before_the_decision() {
    let (_s, _d, e) = engine().await;
    let t = compute(&e, "refusal_by_residence_time").await;
    let r = |ca: &'static str, ry: &'static str, outcome: &'static str| nd(&t, &[("counting_unit", "D"), ("child_adult", ca), ("residence_years", ry), ("outcome", outcome)]);
    // a2: 2018-02-01 (4 years to the day: 0-4) refused and 2018-06-01 granted; 2020-01-01 refused
    // (5 completed years: 5-9; the 2025 registration is after it). a8 2019: no arrival, UNKNOWN.
    assert_eq!(r("VUXNA", "0-4", "AVSLAG"), (1, Some(2)));
    assert_eq!(r("VUXNA", "0-4", "BIFALL"), (1, Some(2)));
    assert_eq!(r("VUXNA", "5-9", "AVSLAG"), (1, Some(1)));
    assert_eq!(r("VUXNA", "10+", "AVSLAG"), (0, Some(0)));
    assert_eq!(r("VUXNA", "UNKNOWN", "AVSLAG"), (1, Some(1)));
    assert_eq!(r("VUXNA", "TOTAL", "AVSLAG"), (3, Some(4)));
    // only decisions of persons born abroad: the children here were born in Sweden
    assert_eq!(r("BARN", "TOTAL", "AVSLAG"), (0, Some(0)));
    assert_eq!(r("TOTAL", "TOTAL", "BIFALL"), (1, Some(4)));
    assert!(t.rows.iter().all(|row| row.values[t.dims.iter().position(|d| *d == "counting_unit").expect("unit")] == "D"));
    let t = compute(&e, "refusal_reasons_by_residence_time").await;
    let r = |ry: &'static str, reason: &'static str| nd(&t, &[("counting_unit", "D"), ("child_adult", "VUXNA"), ("residence_years", ry), ("rejection_reason", reason)]);
    assert_eq!(r("0-4", "BEHOV_HOGST_20H"), (1, Some(1)), "ANNAN counts as BEHOV_HOGST_20H");
    assert_eq!(r("5-9", "GRUNDLAGGANDE_FORUTSATTNINGAR"), (1, Some(1)));
    assert_eq!(r("UNKNOWN", "GRUNDLAGGANDE_FORUTSATTNINGAR"), (1, Some(1)));
    assert_eq!(r("TOTAL", "GRUNDLAGGANDE_FORUTSATTNINGAR"), (2, Some(3)));
    assert_eq!(r("TOTAL", "PERSONKRETS"), (0, Some(3)));
}

#[tokio::test]
async fn a_delivery_linked_for_the_decision_statistics_answers_nothing_else() {
    let (_s, d, e) = engine().await;
    assert!(!d.has("registered") && !d.has("benefits") && !d.has("interventions"));
    let ids: Vec<&str> = e.statistics().iter().map(|s| s.id).collect();
    assert_eq!(ids, DECISION_STATISTICS);
    let err = e.compute(stats::find("cohort_flow").expect("statistic")).await.expect_err("not linked for it");
    assert!(matches!(err, regstat_query::Error::Precondition(_)), "{err}");
    // and the support statistics' year rule does not apply: 2002 is a decision year
    let ids: Vec<String> = DECISION_STATISTICS.iter().map(|s| s.to_string()).collect();
    assert!(linkage::job::JobParams::new("p", 1, 2002, 2022, &ids).is_ok());
    assert!(linkage::job::JobParams::new("p", 1, 2002, 2022, &[]).is_err());
}

#[tokio::test]
async fn the_release_protects_the_regression_counts_with_everything_else() {
    let (_s, d, e) = engine().await;
    let out = tempfile::tempdir().expect("tempdir");
    let (manifest, rel) = regstat_query::output::produce(&d, Years::new(2018, 2020).expect("years"), Default::default(), out.path()).await.expect("produces");
    assert!(rel.audit.passed, "{:?}", rel.audit);
    // the model counts are cells of the release: BARN 2018-2020 groups 1 and 3 (a1 2019 and 2020), VUXNA (a2 x3, a5 x2)
    let t = e.compute(stats::find("refusal_regression").expect("statistic")).await.expect("computes");
    assert_eq!(nd(&t, &[("model", "BARN"), ("outcome", "AVSLAG")]), (1, Some(2)));
    assert_eq!(nd(&t, &[("model", "VUXNA"), ("outcome", "AVSLAG")]), (4, Some(5)));
    // too few decisions for a model: withheld, with the reason
    let csv = std::fs::read_to_string(out.path().join("refusal_regression_estimates.csv")).expect("estimates");
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.lines().skip(1).all(|l| l.ends_with("withheld: fewer than 50 decisions")), "{csv}");
    assert!(manifest.files.iter().any(|f| f.name == "refusal_regression_estimates.csv"));
}

/// SPEC-DECISIONS §5b.3: the report's T22 hides LSS group 2 × women × 2019 × grants (one
/// decision), but the regression's n minus T22's published adult cells gives it back. Here the
/// same shape: the model count of the adults is a published number over the same decisions as
/// `decisions_by_group`, so the release must hide enough that the one grant is not derivable.
#[tokio::test]
async fn the_regression_counts_do_not_give_back_a_cell_hidden_in_decisions_by_group() {
    // 90 adults decided in 2019 in groups 1-3 (group 2 has one woman granted: the hidden cell)
    // and 10 without a group, who are outside the model.
    let mut persons: Vec<(&'static str, &'static str, i32, &'static str)> = Vec::new();
    let mut decisions: Vec<common::Decision> = Vec::new();
    let names: Vec<&'static str> = (0..100).map(|i| &*Box::leak(format!("v{i:03}").into_boxed_str())).collect();
    for (i, name) in names.iter().enumerate() {
        let (sex, group, outcome) = match i {
            0 => ("K", 2, "BIFALL"),
            1..=30 => (if i % 2 == 0 { "K" } else { "M" }, 1, if i % 3 == 0 { "BIFALL" } else { "AVSLAG" }),
            31..=50 => ("M", 2, if i % 4 == 0 { "BIFALL" } else { "AVSLAG" }),
            51..=89 => (if i % 2 == 0 { "K" } else { "M" }, 3, if i % 3 == 0 { "BIFALL" } else { "AVSLAG" }),
            _ => (if i % 2 == 0 { "K" } else { "M" }, 0, if i % 3 == 0 { "BIFALL" } else { "AVSLAG" }),
        };
        persons.push((name, sex, 1970 + (i as i32 % 40), if i % 5 == 0 { "UTRIKES" } else { "INRIKES" }));
        let reason = (outcome == "AVSLAG").then_some("BEHOV_HOGST_20H");
        decisions.push((name, 1, "2019-06-01", "ANSOKAN", outcome, reason, (group > 0).then_some(group), reason.map(|_| 12.0), false));
    }
    let store = tempfile::tempdir().expect("tempdir");
    let ids: Vec<String> = vec!["decisions_by_group".into(), "refusal_regression".into()];
    let params = linkage::job::JobParams::new("leak", 1, 2019, 2019, &ids).expect("params");
    let key = linkage::delivery::KeyInfo { project: "leak".into(), version: 1, fingerprint: "0".into() };
    let tables = BTreeMap::from([("persons", common::persons(&persons)), ("decisions", common::decisions(&decisions))]);
    let p = linkage::delivery::publish(store.path(), &tables, &params, key, vec![]).expect("publish");
    let d = Delivery::open(store.path(), &p.delivery_id).expect("delivery");
    let e = Engine::new(&d, Years::new(2019, 2019).expect("years")).await.expect("engine");
    let rel = regstat_query::output::release(&e, Default::default()).await.expect("released");
    assert!(rel.audit.passed, "{:?}", rel.audit.problems);
    let t = rel.table("decisions_by_group").expect("table");
    let at = |d: &str| t.dims.iter().position(|x| *x == d).expect("dim");
    let cell = t
        .rows
        .iter()
        .find(|r| r.values[at("lss_group")] == "2" && r.values[at("sex_age")] == "KVINNOR" && r.values[at("outcome")] == "BIFALL")
        .expect("the cell");
    assert_eq!(cell.n, None, "one grant: hidden");
    // the adults' model count is a published number, and with it the grant is still not derivable
    let model = rel.table("refusal_regression").expect("table");
    assert!(model.rows.iter().any(|r| r.values[0] == "VUXNA" && r.denominator.is_some()), "the model count is published");
}
