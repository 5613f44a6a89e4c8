//! Personal assistance by payer (SPEC-DECISIONS §5c) end to end on hand-built registers: FK's
//! `assistance_months` validated and quarantined like every dataset, Socialstyrelsen's selection
//! by intervention (authorised per linkage project, never a whole-register export), a linkage job
//! for the payer statistics alone (no cohort, no persons or decisions delivered), and exact values
//! of `pa_by_payer`, `fk_recipients_by_provider` and `fk_hours_per_recipient` (C1-C3).

mod common;

use std::path::Path;

use arrow::array::{Array, RecordBatch, StringArray};
use common::row;
use regstat_query::engine::{Engine, Years};
use regstat_query::stats::{self, Table};

// Valid personnummer (Luhn): p4 changed number (old → new) in 2019.
const P1: &str = "198001012346";
const P2: &str = "198502023453";
const P3: &str = "199003034569";
const P4_OLD: &str = "197504045670";
const P4_NEW: &str = "197504045787";
const P5: &str = "200006066898";
const P6: &str = "196007077917";

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    std::fs::write(path, text).expect("write");
}

/// FK and Socialstyrelsen extracts. FK: p1 recipient 2018-12 (PRIVAT, 120 h), 2019-11
/// (KOMMUN, 100 h), 2019-12 (PRIVAT, 130 h); p2 2018-12 (KOMMUN, 40 h); p4 2019-12 under the
/// old number (provider unknown, 50 h); p5 2020-01 (after the years); and five defective rows.
/// Decisions: p1 applies in December 2019 while a recipient (D1 CURRENT_RECIPIENT), p2 in
/// March 2019 with no right since December 2018.
/// Socialstyrelsen: municipal personal assistance for p2 2018-12 (BOTH), p3 2018-12 and 2019-12
/// (KOMMUN), p4 2019-12 under the new number (BOTH), p5 2017-12 (before the years); other
/// interventions of p3 and p6 that a selection never returns.
fn registers(data: &Path) {
    let fk = data.join("fk");
    write(
        &fk.join("persons.csv"),
        &format!("personnummer,sex,birth_date,birth_country,death_date\n{P1},K,1980-01-01,SE,\n{P2},M,1985-02-02,SE,\n"),
    );
    write(&fk.join("registrations.csv"), "personnummer,registered_from,registered_to\n");
    write(
        &fk.join("decisions.csv"),
        &format!(
            "decision_id,personnummer,decision_date,kind,outcome,rejection_reason,lss_group,assessed_hours,changed_on_appeal\n\
             d1,{P1},2019-12-05,ANSOKAN,BIFALL,,1,,false\n\
             d2,{P2},2019-03-01,ANSOKAN,AVSLAG,PERSONKRETS,1,,false\n"
        ),
    );
    write(&fk.join("benefit_payments.csv"), "personnummer,recipient_personnummer,benefit,month,amount_sek\n");
    write(&fk.join("personnummer_changes.csv"), &format!("old_personnummer,new_personnummer,change_date\n{P4_OLD},{P4_NEW},2019-06-01\n"));
    write(
        &fk.join("assistance_months.csv"),
        &format!(
            "personnummer,month,granted_hours_week,provider_category\n\
             {P1},2018-12,120,PRIVAT\n\
             {P1},2019-11,100.0,KOMMUN\n\
             {P1},2019-12,130,PRIVAT\n\
             {P2},2018-12,40,KOMMUN\n\
             {P4_OLD},2019-12,50,\n\
             {P5},2020-01,160,EGEN\n\
             {P1},2018-12,90,PRIVAT\n\
             {P3},2018-12,0,KOMMUN\n\
             {P3},2018-11,168.5,KOMMUN\n\
             {P3},2018-10,20,STATLIG\n\
             {P3},2018-13,20,PRIVAT\n"
        ),
    );
    write(
        &data.join("sos/interventions.csv"),
        &format!(
            "personnummer,law,intervention,municipality,month\n\
             {P2},LSS,PERSONLIG_ASSISTANS,0180,2018-12\n\
             {P3},LSS,PERSONLIG_ASSISTANS,0180,2018-12\n\
             {P3},LSS,PERSONLIG_ASSISTANS,0180,2019-12\n\
             {P3},LSS,KONTAKTPERSON,0180,2018-12\n\
             {P4_NEW},LSS,PERSONLIG_ASSISTANS,1480,2019-12\n\
             {P5},LSS,PERSONLIG_ASSISTANS,1480,2017-12\n\
             {P6},SOL,HEMTJANST,1480,2018-12\n"
        ),
    );
}

const PAYER: &[&str] = &["pa_by_payer", "fk_recipients_by_provider", "fk_hours_per_recipient"];

struct Stack {
    fk: std::net::SocketAddr,
    sos: std::net::SocketAddr,
    fk_store: std::sync::Arc<regstat_registry::RegistryStore>,
}

async fn start(dir: &Path) -> Stack {
    registers(&dir.join("data"));
    let load = regstat_contract::LoadOptions { reference_date: chrono::NaiveDate::from_ymd_opt(2024, 1, 1), ..Default::default() };
    let fk = regstat_registry::build(regstat_registry::RegistryConfig {
        load: load.clone(),
        ..fk_registry::test_config(&dir.join("data/fk"), &dir.join("fk-registry"))
    })
    .await
    .expect("fk-registry");
    let sos = regstat_registry::build(regstat_registry::RegistryConfig {
        load,
        selection_projects: vec!["payer".into()],
        ..sos_register::test_config(&dir.join("data/sos"), &dir.join("sos-register"))
    })
    .await
    .expect("sos-register");
    let stack = Stack { fk: fk.local_addr, sos: sos.local_addr, fk_store: fk.store.clone() };
    tokio::spawn(fk.run(std::future::pending()));
    tokio::spawn(sos.run(std::future::pending()));
    stack
}

fn texts(batches: &[RecordBatch], column: &str) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        let c = arrow::compute::cast(b.column_by_name(column).expect("column"), &arrow::datatypes::DataType::Utf8).expect("cast");
        let c = c.as_any().downcast_ref::<StringArray>().expect("text");
        out.extend((0..c.len()).map(|i| if c.is_null(i) { String::new() } else { c.value(i).to_string() }));
    }
    out
}

#[tokio::test]
async fn assistance_months_are_validated_quarantined_and_reconciled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stack = start(dir.path()).await;
    let report = stack.fk_store.reports().into_iter().find(|r| r.dataset == "assistance_months").expect("loaded");
    assert_eq!((report.rows_read, report.rows_accepted, report.rows_quarantined), (11, 6, 5));
    let reasons: Vec<(&str, u64)> = report.reasons.iter().map(|(k, v)| (*k, *v)).collect();
    assert_eq!(reasons, [("DUPLICATE_KEY", 1), ("INVALID_MONTH", 1), ("INVALID_VALUE", 2), ("UNKNOWN_CODE", 1)]);
    let quarantine = std::fs::read_to_string(&report.quarantine_file).expect("quarantine");
    let lines: Vec<&str> = quarantine.lines().collect();
    // Row numbers of the extract (the header is not a row), the rule, the column; never a value.
    assert!(lines[1].ends_with(",7,assistance_months,DUPLICATE_KEY,month,second row for the same person and month"), "{}", lines[1]);
    assert!(lines[2].contains(",8,assistance_months,INVALID_VALUE,granted_hours_week,"), "{}", lines[2]);
    assert!(lines[3].contains(",9,assistance_months,INVALID_VALUE,granted_hours_week,"), "{}", lines[3]);
    assert!(lines[4].contains(",10,assistance_months,UNKNOWN_CODE,provider_category,"), "{}", lines[4]);
    assert!(lines[5].contains(",11,assistance_months,INVALID_MONTH,month,"), "{}", lines[5]);
    assert!(!quarantine.contains(P3), "no personnummer in a quarantine reason");
}

#[tokio::test]
async fn socialstyrelsen_answers_a_selection_by_intervention_only_for_an_authorised_project() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stack = start(dir.path()).await;
    let sos = regstat_registry::RegistryClient::connect(stack.sos).await.expect("connect");
    let rows = sos.fetch_selection("payer", "LSS", "PERSONLIG_ASSISTANS", Some(("2018-01", "2019-12"))).await.expect("selection");
    let people = texts(&rows, "personnummer");
    assert_eq!(people, [P2, P3, P3, P4_NEW], "the personal assistance of everyone in the months, nothing else");
    assert!(texts(&rows, "intervention").iter().all(|i| i == "PERSONLIG_ASSISTANS"));
    let refused = sos.fetch_selection("another-project", "LSS", "PERSONLIG_ASSISTANS", None).await.expect_err("not authorised");
    assert!(matches!(&refused, arrow_flight::error::FlightError::Tonic(s) if s.code() == tonic::Code::PermissionDenied), "{refused}");
    let bad = sos.fetch_selection("payer", "LSS", "NO_SUCH", None).await.expect_err("unknown intervention");
    assert!(matches!(&bad, arrow_flight::error::FlightError::Tonic(s) if s.code() == tonic::Code::InvalidArgument), "{bad}");
    // Still no whole-register export.
    let whole = sos.fetch("interventions", None).await.expect_err("no export");
    assert!(matches!(&whole, arrow_flight::error::FlightError::Tonic(s) if s.code() == tonic::Code::PermissionDenied), "{whole}");
}

async fn payer_delivery(dir: &Path, stack: &Stack) -> regstat_query::delivery::Delivery {
    let ids: Vec<String> = PAYER.iter().map(|s| s.to_string()).collect();
    let params = linkage::job::JobParams::new("payer", 1, 2018, 2019, &ids).expect("params");
    assert!(!params.needs_cohort() && params.needs_assistance() && params.needs_municipal_pa());
    common::link(dir, stack.fk, stack.sos, params).await
}

async fn compute(e: &Engine, id: &str) -> Table {
    e.compute(stats::find(id).expect("statistic")).await.expect("computes")
}

#[tokio::test]
async fn the_payer_statistics_count_everyone_with_personal_assistance_by_payer_provider_and_hours() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stack = start(dir.path()).await;
    let d = payer_delivery(dir.path(), &stack).await;
    // Minimised: no cohort is linked, so no persons or decisions leave FK.
    let tables: Vec<&str> = d.manifest.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(tables, ["assistance.parquet", "municipal_pa.parquet"]);
    let e = Engine::new(&d, Years::new(2018, 2019).expect("years")).await.expect("engine");
    let covered: Vec<&str> = e.statistics().iter().map(|s| s.id).collect();
    assert_eq!(covered, PAYER);
    // p4 is one person under both numbers, in both registers.
    let persons = e.sql("SELECT count(DISTINCT pseudonym) AS n FROM (SELECT pseudonym FROM assistance UNION SELECT pseudonym FROM municipal_pa)").await.expect("sql");
    let n = persons[0].column(0).as_any().downcast_ref::<arrow::array::Int64Array>().expect("int").value(0);
    assert_eq!(n, 4, "p1, p2, p3, p4 (p5's months are outside the years)");

    // C1-C3: December, FK = a right that month; KOMMUN = municipal and not FK; BOTH counted as FK.
    let t = compute(&e, "pa_by_payer").await;
    let cell = |year: &str, payer: &str| {
        let r = row(&t, &[("year", year), ("payer", payer)]);
        (r.n, r.denominator)
    };
    for year in ["2018", "2019"] {
        assert_eq!(cell(year, "FK"), (2, Some(3)), "{year}");
        assert_eq!(cell(year, "KOMMUN"), (1, Some(3)), "{year}");
        assert_eq!(cell(year, "BOTH"), (1, Some(3)), "{year}");
        assert_eq!(cell(year, "TOTAL"), (3, Some(3)), "{year}");
    }
    assert_eq!(t.rows.len(), 2 * 4, "years 2014-2023 within 2018-2019, four payers");

    let t = compute(&e, "fk_recipients_by_provider").await;
    let cell = |month: &str, provider: &str| {
        let r = row(&t, &[("month", month), ("provider_category", provider)]);
        (r.n, r.denominator)
    };
    assert_eq!(cell("2018-12", "PRIVAT"), (1, Some(2)));
    assert_eq!(cell("2018-12", "KOMMUN"), (1, Some(2)));
    assert_eq!(cell("2019-11", "KOMMUN"), (1, Some(1)));
    assert_eq!(cell("2019-12", "PRIVAT"), (1, Some(2)));
    assert_eq!(cell("2019-12", "UNKNOWN"), (1, Some(2)));
    assert_eq!(cell("2019-12", "EGEN"), (0, Some(2)));
    assert_eq!(cell("2018-06", "PRIVAT"), (0, Some(0)));
    assert_eq!(t.rows.len(), 24 * 5, "every month of 2018-2019, five categories");

    let t = compute(&e, "fk_hours_per_recipient").await;
    assert_eq!(t.dims, ["month", "mean_hours_week"]);
    let at = |month: &str| t.rows.iter().find(|r| r.values[0] == month).map(|r| (r.n, r.values[1].clone())).expect("month");
    assert_eq!(at("2018-12"), (2, "80.0".to_string()));
    assert_eq!(at("2019-11"), (1, "100.0".to_string()));
    assert_eq!(at("2019-12"), (2, "90.0".to_string()));
    assert_eq!(at("2019-01"), (0, String::new()));

    // A month is one cell in every range that holds it: the payer statistics are released with
    // the delivery's whole years only, and a sub-range says so (never zeros, never a repeat).
    let sub = Engine::new(&d, Years::new(2019, 2019).expect("years")).await.expect("engine");
    assert!(sub.statistics().is_empty());
    let refused = sub.compute(stats::find("pa_by_payer").expect("statistic")).await.expect_err("sub-range");
    assert!(matches!(&refused, regstat_query::Error::Precondition(m) if m.contains("whole years")), "{refused}");

    // Released: counts under the threshold are hidden, and a mean is released only with a
    // published count of at least 50 persons, so none is here.
    let out = tempfile::tempdir().expect("tempdir");
    let (manifest, rel) = regstat_query::output::produce(&d, Years::new(2018, 2019).expect("years"), Default::default(), out.path()).await.expect("produces");
    assert!(rel.audit.passed, "{:?}", rel.audit.problems);
    assert_eq!(manifest.parameters.statistics, PAYER);
    let hours = rel.table("fk_hours_per_recipient").expect("released");
    assert!(hours.rows.iter().all(|r| r.values[1].is_empty()), "no mean below 50 persons");
    let csv = std::fs::read_to_string(out.path().join("fk_hours_per_recipient.csv")).expect("csv");
    assert!(csv.starts_with("month,mean_hours_week,n,"), "{csv}");
    // The workbook has the three sheets of §5c (and nothing of the cohort statistics).
    let sheets = regstat_query::layout::sheets(&rel.tables, &[], Years::new(2018, 2019).expect("years"));
    let names: Vec<&str> = sheets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Assistans efter huvudman", "Assistans och utförare", "Beviljade timmar"]);
    let text: String = sheets.iter().map(|s| s.text()).collect::<Vec<_>>().join("\n");
    insta::assert_snapshot!("payer_sheets", text);
    assert!(manifest.files.iter().any(|f| f.name == "report.xlsx"));
    assert!(regstat_query::layout::specs().iter().all(|s| s.name.chars().count() <= 31), "Excel sheet names have at most 31 characters");
}

#[test]
fn a_mean_is_released_only_with_a_published_count_of_at_least_fifty() {
    use regstat_query::disclosure::{Released, Rule};
    let stat = stats::find("fk_hours_per_recipient").expect("statistic");
    let dims = stat.out_dims();
    let r = |n: Option<i64>| Released {
        values: vec!["2024-05".into(), "135.0".into()],
        n,
        denominator: None,
        share_pct: None,
        suppressed: n.is_none().then_some(Rule::Primary),
        denominator_suppressed: None,
        share_suppressed: None,
    };
    let out = regstat_query::assistance::release_means(stat, &dims, vec![r(Some(50)), r(Some(49)), r(None)]);
    let means: Vec<&str> = out.iter().map(|r| r.values[1].as_str()).collect();
    assert_eq!(means, ["135.0", "", ""]);
}

#[test]
fn payer_statistics_are_asked_for_by_name_and_need_years_from_2014() {
    let all = linkage::job::JobParams::new("p", 1, 2018, 2020, &[]).expect("params");
    assert!(!all.needs_assistance() && all.needs_cohort(), "a job naming no statistics links the cohort statistics");
    let early = linkage::job::JobParams::new("p", 1, 2010, 2013, &["pa_by_payer".to_string()]);
    assert!(early.is_err());
    let p = linkage::job::JobParams::new("p", 1, 2010, 2016, &["fk_recipients_by_provider".to_string()]).expect("params");
    assert_eq!(p.assistance_months(), ("2014-01".to_string(), "2016-12".to_string()));
    assert!(!p.needs_municipal_pa());
}

#[tokio::test]
async fn an_application_by_a_current_recipient_is_not_a_claim_to_the_right() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stack = start(dir.path()).await;
    let params = linkage::job::JobParams::new("decisions", 1, 2019, 2019, &["decision_flow".to_string()]).expect("params");
    assert!(params.needs_recipient_check() && !params.needs_assistance());
    let d = common::link(dir.path(), stack.fk, stack.sos, params).await;
    let tables: Vec<&str> = d.manifest.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(tables, ["decisions.parquet", "persons.parquet", "recipient_months.parquet"]);
    let e = Engine::new(&d, Years::new(2019, 2019).expect("years")).await.expect("engine");
    // Minimised: only p1's right in the month before his application, none of his other months.
    let months = e.sql("SELECT month FROM recipient_months").await.expect("sql");
    assert_eq!(texts(&months, "month"), ["2019-11"]);
    let t = compute(&e, "decision_flow").await;
    let n = |rule: &str| row(&t, &[("rule", rule), ("decision_year", "2019")]).n;
    assert_eq!((n("NOT_CHANGED_ON_APPEAL"), n("CURRENT_RECIPIENT"), n("NO_PERSON")), (2, 1, 1));
}
