//! The decision statistics (SPEC-DECISIONS §5b) on the default generated registers, linked by a
//! decision-only job for 2002–2022 (nothing from Socialstyrelsen), against the calibration
//! targets of §5b.5 with its tolerance classes: C (counts), S (shares), R (odds ratios). Every
//! check is printed; the ones the generator does not meet yet are listed in `KNOWN_MISSES`.

mod common;

use std::path::Path;

use common::row;
use regstat_query::engine::{Engine, Years};
use regstat_query::stats::{self, Row};

/// Tolerance class C: |x − v| ≤ 10 % of v (v ≥ 100), ≤ max(5, 25 % of v) (10 ≤ v < 100), ≤ 5 below.
fn c_ok(v: f64, x: f64) -> bool {
    let d = (x - v).abs();
    if v >= 100.0 {
        d <= 0.10 * v
    } else if v >= 10.0 {
        d <= 5f64.max(0.25 * v)
    } else {
        d <= 5.0
    }
}

/// Tolerance class S by the denominator: ±3 pp (≥ 1000), ±5 pp (200–999), ±8 pp (50–199).
fn s_ok(v: f64, x: f64, denominator: i64) -> bool {
    let tol = if denominator >= 1000 {
        3.0
    } else if denominator >= 200 {
        5.0
    } else {
        8.0
    };
    (x - v).abs() <= tol
}

#[derive(Default)]
struct Checks {
    lines: Vec<String>,
    failed: Vec<String>,
}

impl Checks {
    fn count(&mut self, what: &str, published: f64, ours: i64) {
        let ok = c_ok(published, ours as f64);
        self.record(ok, format!("C {what}: published {published}, ours {ours}"));
    }
    fn share(&mut self, what: &str, published: f64, row: &Row) {
        let ours = row.share_pct().unwrap_or(f64::NAN);
        let den = row.denominator.unwrap_or(0);
        let ok = den >= 50 && s_ok(published, ours, den);
        self.record(ok, format!("S {what}: published {published}, ours {ours:.1} of {den}"));
    }
    fn record(&mut self, ok: bool, line: String) {
        println!("{} {line}", if ok { "ok  " } else { "MISS" });
        if !ok {
            self.failed.push(line.clone());
        }
        self.lines.push(line);
    }
}

async fn decision_delivery(dir: &Path) -> regstat_query::delivery::Delivery {
    let data = dir.join("data");
    let d = data.clone();
    tokio::task::spawn_blocking(move || regstat_gen::generate(&regstat_gen::GenConfig { out_dir: d, ..Default::default() }))
        .await
        .expect("join")
        .expect("generates");
    let server = regstat_registry::build(fk_registry::test_config(&data.join("fk"), &dir.join("fk-registry"))).await.expect("registry");
    let fk = server.local_addr;
    tokio::spawn(server.run(std::future::pending()));
    // No sos-register runs at all: a decision-only job must not need it.
    let nobody: std::net::SocketAddr = "127.0.0.1:9".parse().expect("addr");
    let ids: Vec<String> = stats::CATALOGUE
        .iter()
        .filter(|s| matches!(s.family, stats::Family::Decisions | stats::Family::Residence))
        .map(|s| s.id.to_string())
        .collect();
    common::link(dir, fk, nobody, linkage::job::JobParams::new("decisions", 1, 2002, 2022, &ids).expect("params")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_decisions_reproduce_the_published_tables_within_tolerance() {
    let dir = tempfile::tempdir().expect("tempdir");
    let delivery = decision_delivery(dir.path()).await;
    assert!(!delivery.has("interventions") && !delivery.has("registered"), "minimised to the decision statistics");
    assert!(delivery.has("arrivals"), "the residence-time statistics were asked for");
    // FK has assistance_months: D1's CURRENT_RECIPIENT rule reads the persons' rights in the
    // months before their applications, and nothing else of FK's STORE is delivered.
    assert!(delivery.has("recipient_months") && !delivery.has("assistance"), "minimised to D1's rule");
    // Y statistics over every year; P and D statistics over the default period 2018–2022.
    let all = Engine::new(&delivery, Years::new(2002, 2022).expect("years")).await.expect("engine");
    let period = Engine::new(&delivery, Years::new(2018, 2022).expect("years")).await.expect("engine");
    let get = |e: &'static str| stats::find(e).expect("statistic");
    let mut c = Checks::default();

    // decisions_by_group (T17-T22)
    let t = all.compute(get("decisions_by_group")).await.expect("computes");
    let y = |year: &'static str, extra: &[(&'static str, &'static str)], outcome: &'static str| -> Row {
        let mut w = vec![("decision_year", year), ("counting_unit", "Y"), ("outcome", outcome)];
        w.extend_from_slice(extra);
        row(&t, &w).clone()
    };
    c.count("T17 2022 Avslag", 1501.0, y("2022", &[], "AVSLAG").n);
    c.count("T17 2022 Bifall", 449.0, y("2022", &[], "BIFALL").n);
    c.count("T17 2002 Totalt", 2279.0, y("2002", &[], "AVSLAG").denominator.unwrap_or(0));
    c.share("T17 2017 refusal share", 84.0, &y("2017", &[], "AVSLAG"));
    c.share("T17 2022 refusal share", 77.0, &y("2022", &[], "AVSLAG"));
    for (age, v) in [("0-6", 60.9), ("7-11", 77.9), ("12-17", 82.9)] {
        c.share(&format!("T19 2022 {age}"), v, &y("2022", &[("child_adult", "BARN"), ("sex", "TOTAL"), ("age_group", age)], "AVSLAG"));
    }
    for (age, v) in [("18-29", 85.9), ("30-49", 84.0), ("50-64", 75.4), ("65+", 78.2)] {
        c.share(&format!("T20 2022 {age}"), v, &y("2022", &[("child_adult", "VUXNA"), ("sex", "TOTAL"), ("age_group", age)], "AVSLAG"));
    }
    for (bc, sa, v) in [("INRIKES", "KVINNOR", 77.9), ("INRIKES", "MAN", 74.6), ("UTRIKES", "KVINNOR", 84.4), ("UTRIKES", "MAN", 85.3)] {
        c.share(&format!("T21 2022 {bc} {sa}"), v, &y("2022", &[("birth_country", bc), ("sex_age", sa)], "AVSLAG"));
    }
    c.count("T22 Grupp 1 2022 Avslag", 734.0, y("2022", &[("lss_group", "1"), ("sex_age", "TOTAL")], "AVSLAG").n);
    c.count("T22 Grupp 3 2022 Bifall", 278.0, y("2022", &[("lss_group", "3"), ("sex_age", "TOTAL")], "BIFALL").n);

    // refusal_reasons (T3, T23-T25)
    let t = period.compute(get("refusal_reasons")).await.expect("computes");
    let d = |extra: &[(&'static str, &'static str)], reason: &'static str| -> Row {
        let mut w = vec![("counting_unit", "D"), ("rejection_reason", reason)];
        w.extend_from_slice(extra);
        row(&t, &w).clone()
    };
    c.count("T23 Totalt BEHOV", 5627.0, d(&[("sex_age", "TOTAL")], "BEHOV_HOGST_20H").n);
    c.count("T23 Totalt PERSONKRETS", 2134.0, d(&[("sex_age", "TOTAL")], "PERSONKRETS").n);
    c.count("T23 Totalt GF", 171.0, d(&[("sex_age", "TOTAL")], "GRUNDLAGGANDE_FORUTSATTNINGAR").n);
    c.count("T24 Män 65+ GF", 62.0, d(&[("sex", "M"), ("age_group", "65+")], "GRUNDLAGGANDE_FORUTSATTNINGAR").n);
    c.count("T25 Utrikes Totalt PERSONKRETS", 1253.0, d(&[("birth_country", "UTRIKES"), ("sex_age", "TOTAL")], "PERSONKRETS").n);
    let published_t3 = reference_t3();
    for reason in ["GRUNDLAGGANDE_FORUTSATTNINGAR", "PERSONKRETS", "BEHOV_HOGST_20H"] {
        for year in 2018..=2022 {
            let v = published_t3.iter().find(|(r, y, _)| *r == reason && *y == year).map(|x| x.2).expect("published T3 cell");
            let ys = year.to_string();
            let r = row(&t, &[("decision_year", ys.as_str()), ("counting_unit", "Y"), ("rejection_reason", reason)]).clone();
            c.share(&format!("T3 {reason} {year}"), v, &r);
        }
    }

    // assessed_hours (T26-T30)
    let t = period.compute(get("assessed_hours")).await.expect("computes");
    for (year, v) in [("2018", 1105.0), ("2019", 1064.0), ("2020", 1241.0), ("2021", 1088.0), ("2022", 1129.0)] {
        c.count(&format!("T26 {year} Totalt"), v, row(&t, &[("decision_year", year), ("counting_unit", "Y"), ("hours_bin", "0")]).denominator.unwrap_or(0));
    }
    for (bin, v) in [("0", 9.4), ("0.1-5", 28.5), ("5.1-10", 26.4), ("10.1-15", 22.2), ("15.1-20", 13.5)] {
        c.share(&format!("T26 2022 {bin}"), v, row(&t, &[("decision_year", "2022"), ("counting_unit", "Y"), ("hours_bin", bin)]));
    }
    c.count("T27 Totalt", 5191.0, row(&t, &[("counting_unit", "P"), ("sex_age", "TOTAL"), ("hours_bin", "0")]).denominator.unwrap_or(0));
    c.count("T28 Totalt", 5282.0, row(&t, &[("counting_unit", "P"), ("sex", "TOTAL"), ("age_group", "TOTAL"), ("hours_bin", "0")]).denominator.unwrap_or(0));

    // decision_number (T31-T35), time_since_previous (T36-T40), refusal_by_previous_application (T41-T45)
    let t = all.compute(get("decision_number")).await.expect("computes");
    for (k, v) in [("FIRST", 63.2), ("SECOND", 22.7), ("THIRD_PLUS", 14.0)] {
        c.share(&format!("T31 2022 {k}"), v, row(&t, &[("decision_year", "2022"), ("counting_unit", "Y"), ("decision_number", k)]));
    }
    let first_2012 = row(&t, &[("decision_year", "2012"), ("counting_unit", "Y"), ("decision_number", "FIRST")]).clone();
    let repeat_2012 = Row { n: first_2012.denominator.unwrap_or(0) - first_2012.n, ..first_2012.clone() };
    c.share("T31 2012 repeat share", 22.2, &repeat_2012);
    let t = period.compute(get("decision_number")).await.expect("computes");
    c.count("T32 Totalt 3+", 1006.0, row(&t, &[("counting_unit", "P"), ("sex_age", "TOTAL"), ("decision_number", "THIRD_PLUS")]).n);
    c.count("T35 Grupp 1 Totalt FIRST", 2383.0, row(&t, &[("counting_unit", "P"), ("lss_group", "1"), ("sex_age", "TOTAL"), ("decision_number", "FIRST")]).n);
    let t = all.compute(get("time_since_previous")).await.expect("computes");
    for (bin, v) in [("0-3", 68.9), ("4-6", 18.9), ("7+", 12.3)] {
        c.share(&format!("T36 2022 {bin}"), v, row(&t, &[("decision_year", "2022"), ("counting_unit", "Y"), ("time_since_previous", bin)]));
    }
    let t = period.compute(get("time_since_previous")).await.expect("computes");
    for sex in ["K", "M"] {
        let r = row(&t, &[("counting_unit", "P"), ("sex", sex), ("age_group", "0-6"), ("time_since_previous", "7+")]);
        assert_eq!(r.n, 0, "T38 {sex} 0-6 7+ is a structural zero");
    }
    let t = all.compute(get("refusal_by_previous_application")).await.expect("computes");
    let f = |year: &'static str, prev: &'static str, outcome: &'static str| -> Row {
        row(&t, &[("decision_year", year), ("counting_unit", "Y"), ("previous_application", prev), ("outcome", outcome)]).clone()
    };
    c.count("T41 2022 FORSTA Avslag", 958.0, f("2022", "FORSTA", "AVSLAG").n);
    c.share("T41 2014 grant share at first decision", 42.2, &f("2014", "FORSTA", "BIFALL"));
    c.share("T41 2022 refusal share FORSTA", 77.9, &f("2022", "FORSTA", "AVSLAG"));
    c.share("T41 2022 refusal share TIDIGARE", 75.4, &f("2022", "TIDIGARE", "AVSLAG"));
    let t = period.compute(get("refusal_by_previous_application")).await.expect("computes");
    c.count(
        "T42 Totalt TIDIGARE Avslag",
        2249.0,
        row(&t, &[("counting_unit", "P"), ("previous_application", "TIDIGARE"), ("sex_age", "TOTAL"), ("outcome", "AVSLAG")]).n,
    );
    c.count(
        "T45 Grupp 3 Totalt FORSTA Bifall",
        851.0,
        row(&t, &[("counting_unit", "P"), ("previous_application", "FORSTA"), ("lss_group", "3"), ("sex_age", "TOTAL"), ("outcome", "BIFALL")]).n,
    );

    // reapplication_after_refusal (T46)
    let t = period.compute(get("reapplication_after_refusal")).await.expect("computes");
    let r = |reason: &'static str, stage: &'static str, next: &'static str| -> i64 {
        row(&t, &[("rejection_reason", reason), ("sex_age", "TOTAL"), ("stage", stage), ("next_outcome", next)]).n
    };
    c.count("T46 BEHOV persons 2018", 1105.0, r("BEHOV_HOGST_20H", "REFUSED", "TOTAL"));
    c.count("T46 BEHOV reapplied", 438.0, r("BEHOV_HOGST_20H", "REAPPLIED", "TOTAL"));
    c.count("T46 BEHOV reapplied Avslag", 329.0, r("BEHOV_HOGST_20H", "REAPPLIED", "AVSLAG"));
    c.count("T46 BEHOV reapplied Bifall", 109.0, r("BEHOV_HOGST_20H", "REAPPLIED", "BIFALL"));
    c.count("T46 PERSONKRETS persons 2018", 459.0, r("PERSONKRETS", "REFUSED", "TOTAL"));
    c.count("T46 PERSONKRETS reapplied Avslag", 139.0, r("PERSONKRETS", "REAPPLIED", "AVSLAG"));
    c.count("T46 PERSONKRETS reapplied Bifall", 20.0, r("PERSONKRETS", "REAPPLIED", "BIFALL"));

    // refusal_regression (T67, T68): model sizes (C) and odds ratios (R)
    let models = regstat_query::regression::fit_models(&period).await.expect("fits");
    for (m, n) in [("BARN", 3939.0), ("VUXNA", 4103.0)] {
        let model = models.iter().find(|x| x.name == m).expect("model");
        c.count(&format!("{m} model n"), n, model.n_decisions as i64);
        let estimates = model.result.as_ref().expect("model released");
        for (variable, level, published, lo, hi) in reference_or(m) {
            let e = estimates.iter().find(|e| e.variable == variable && e.level == level).expect("estimate");
            let se_pub = (hi.ln() - lo.ln()) / 3.92;
            let ok = (e.odds_ratio.ln() - published.ln()).abs() <= 2.0 * se_pub
                && e.significant == Some(lo > 1.0 || hi < 1.0);
            c.record(ok, format!("R {m} {variable} {level}: published {published} ({lo}-{hi}), ours {:.2} ({:.2}-{:.2})", e.odds_ratio, e.ci_low.unwrap_or(0.0), e.ci_high.unwrap_or(0.0)));
        }
    }

    // refusal_by_residence_time (D11, text only): arrival dates are delivered for persons born
    // abroad only; adults' refusal share is higher at 5-9 years than at 0-4 (L1049-1053), and the
    // PERSONKRETS share of refusals is within ±5 pp across the bins (L1440-1444).
    let native = period.sql("SELECT count(*) AS n FROM arrivals a JOIN persons p ON p.pseudonym = a.pseudonym WHERE p.birth_country <> 'UTRIKES'").await.expect("sql");
    let native = native[0].column(0).as_any().downcast_ref::<arrow::array::Int64Array>().expect("count").value(0);
    assert_eq!(native, 0, "arrivals of persons born in Sweden were delivered");
    let t = period.compute(get("refusal_by_residence_time")).await.expect("computes");
    let share = |bin: &'static str| row(&t, &[("counting_unit", "D"), ("child_adult", "VUXNA"), ("residence_years", bin), ("outcome", "AVSLAG")]).share_pct().unwrap_or(f64::NAN);
    let (early, later) = (share("0-4"), share("5-9"));
    c.record(later > early, format!("D D11 adults refusal share 5-9 above 0-4: ours {later:.1} vs {early:.1}"));
    let t = period.compute(get("refusal_reasons_by_residence_time")).await.expect("computes");
    let pk: Vec<f64> = ["0-4", "5-9", "10+"]
        .iter()
        .map(|bin| row(&t, &[("counting_unit", "D"), ("child_adult", "TOTAL"), ("residence_years", bin), ("rejection_reason", "PERSONKRETS")]).share_pct().unwrap_or(f64::NAN))
        .collect();
    let spread = pk.iter().copied().fold(f64::MIN, f64::max) - pk.iter().copied().fold(f64::MAX, f64::min);
    c.record(spread <= 10.0, format!("D D11 PERSONKRETS share within ±5 pp across residence bins: ours {pk:.1?}"));

    println!("{} of {} targets within tolerance", c.lines.len() - c.failed.len(), c.lines.len());
    // The generator is not yet calibrated for these (issue 11: hours bins, reason shares by year,
    // repeat intervals and counts, the regression's age gradient); every other target must hold,
    // and a target listed here that comes within tolerance must be taken off the list.
    let unexpected: Vec<&String> = c.failed.iter().filter(|l| !KNOWN_MISSES.iter().any(|k| l.contains(k))).collect();
    assert!(unexpected.is_empty(), "outside tolerance:\n{}", unexpected.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n"));
    let healed: Vec<&&str> = KNOWN_MISSES.iter().filter(|k| !c.failed.iter().any(|l| l.contains(**k))).collect();
    assert!(healed.is_empty(), "now within tolerance, take off KNOWN_MISSES: {healed:?}");
}

/// Targets the generator misses today (SPEC-DECISIONS §5b.5), by the start of their check line.
const KNOWN_MISSES: &[&str] = &[
    // D11: the generator draws outcomes and reasons without regard to residence time.
    "D D11 adults refusal share 5-9 above 0-4:",
    "D D11 PERSONKRETS share within ±5 pp across residence bins:",
    "C T22 Grupp 3 2022 Bifall:",
    "C T23 Totalt GF:",
    "S T3 PERSONKRETS 2020:",
    "S T3 PERSONKRETS 2021:",
    "S T3 PERSONKRETS 2022:",
    "S T3 BEHOV_HOGST_20H 2021:",
    "S T26 2022 0:",
    "S T26 2022 0.1-5:",
    "S T31 2022 THIRD_PLUS:",
    "C T32 Totalt 3+:",
    "C T35 Grupp 1 Totalt FIRST:",
    "S T36 2022 0-3:",
    "S T36 2022 7+:",
    "C T46 BEHOV reapplied Bifall:",
    "C T46 PERSONKRETS reapplied Avslag:",
    "C T46 PERSONKRETS reapplied Bifall:",
    "R BARN age_group 7-11:",
    "R BARN age_group 12-17:",
    "R VUXNA age_group 30-49:",
    "R VUXNA age_group 50-64:",
    "R VUXNA age_group 65+:",
    "R VUXNA lss_group 3:",
];

fn reference_rows(name: &str) -> Vec<Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().skip(1).map(|l| l.split(',').map(str::to_string).collect()).collect()
}

/// T3 as published: (reason code, year, whole percent).
fn reference_t3() -> Vec<(&'static str, i32, f64)> {
    reference_rows("tabell_03.csv")
        .into_iter()
        .filter_map(|r| {
            let code = match r[0].as_str() {
                "Uppfyller inte grundläggande förutsättningar" => "GRUNDLAGGANDE_FORUTSATTNINGAR",
                "Omfattas inte av LSS personkrets" => "PERSONKRETS",
                "Överstiger inte 20 h grundläggande behov" => "BEHOV_HOGST_20H",
                _ => return None,
            };
            Some((code, r[1].parse().ok()?, r[2].parse().ok()?))
        })
        .collect()
}

/// T67 (BARN) / T68 (VUXNA) as published: (variable, level code, OR, CI low, CI high), the
/// non-reference levels only.
fn reference_or(model: &str) -> Vec<(&'static str, &'static str, f64, f64, f64)> {
    let file = if model == "BARN" { "tabell_67.csv" } else { "tabell_68.csv" };
    reference_rows(file)
        .into_iter()
        .filter_map(|r| {
            let (lo, hi) = (r[3].parse::<f64>().ok()?, r[4].parse::<f64>().ok()?);
            let (variable, level) = match (r[0].as_str(), r[1].as_str()) {
                ("Kön", "Flickor") => ("sex_age", "FLICKOR"),
                ("Kön", "Kvinnor") => ("sex_age", "KVINNOR"),
                ("Födelseland", "Utrikes född") => ("birth_country", "UTRIKES"),
                ("Ålder", "7–11" | "7-11") => ("age_group", "7-11"),
                ("Ålder", "12–17" | "12-17") => ("age_group", "12-17"),
                ("Ålder", "30–49" | "30-49") => ("age_group", "30-49"),
                ("Ålder", "50–64" | "50-64") => ("age_group", "50-64"),
                ("Ålder", "65+" | "65–") => ("age_group", "65+"),
                (_, "Grupp 2") => ("lss_group", "2"),
                (_, "Grupp 3") => ("lss_group", "3"),
                _ => return None,
            };
            Some((variable, level, r[2].parse().ok()?, lo, hi))
        })
        .collect()
}

/// The payer statistics (SPEC-DECISIONS §5c) on the default generated registers, linked by a
/// job for them alone over 2014–2024 (Socialstyrelsen's selection by intervention authorised for
/// the project), against the reference figures of §5c.2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_personal_assistance_reproduces_the_seeds_figures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let d = data.clone();
    tokio::task::spawn_blocking(move || regstat_gen::generate(&regstat_gen::GenConfig { out_dir: d, ..Default::default() }))
        .await
        .expect("join")
        .expect("generates");
    let fk = regstat_registry::build(fk_registry::test_config(&data.join("fk"), &dir.path().join("fk-registry"))).await.expect("fk-registry");
    let sos = regstat_registry::build(regstat_registry::RegistryConfig {
        selection_projects: vec!["payer".into()],
        ..sos_register::test_config(&data.join("sos"), &dir.path().join("sos-register"))
    })
    .await
    .expect("sos-register");
    let (fk_addr, sos_addr) = (fk.local_addr, sos.local_addr);
    tokio::spawn(fk.run(std::future::pending()));
    tokio::spawn(sos.run(std::future::pending()));
    let ids: Vec<String> = linkage::job::PAYER_STATISTICS.iter().map(|s| s.to_string()).collect();
    let delivery = common::link(dir.path(), fk_addr, sos_addr, linkage::job::JobParams::new("payer", 1, 2014, 2024, &ids).expect("params")).await;
    assert!(!delivery.has("persons") && !delivery.has("decisions"), "no cohort is linked");
    let e = Engine::new(&delivery, Years::new(2014, 2024).expect("years")).await.expect("engine");
    let get = |id: &'static str| stats::find(id).expect("statistic");
    let mut c = Checks::default();

    let t = e.compute(get("pa_by_payer")).await.expect("computes");
    let n = |year: &str, payer: &str| row(&t, &[("year", year), ("payer", payer)]).n;
    within_5_pct(&mut c, "F06 FK December 2014", 16_200.0, n("2014", "FK"));
    let fk23 = n("2023", "FK");
    c.record((fk23 as f64 - 13_000.0).abs() <= 650.0 || (fk23 as f64 - 13_300.0).abs() <= 665.0, format!("F19/F07 FK 2023: 13 000 or 13 300 ±5 %, got {fk23}"));
    within_5_pct(&mut c, "F03 KOMMUN 2014", 4_100.0, n("2014", "KOMMUN"));
    within_5_pct(&mut c, "F04 KOMMUN 2023", 4_700.0, n("2023", "KOMMUN"));
    within_5_pct(&mut c, "F05 KOMMUN 2020", 5_300.0, n("2020", "KOMMUN"));
    let kommun: Vec<i64> = (2014..=2023).map(|y| n(&y.to_string(), "KOMMUN")).collect();
    c.record(kommun.iter().max() == Some(&n("2020", "KOMMUN")), format!("F05 KOMMUN 2020 the series maximum: {kommun:?}"));
    c.record(n("2014", "TOTAL") as f64 >= 0.95 * 20_000.0, format!("F01 TOTAL 2014 over 20 000 (±5 %): {}", n("2014", "TOTAL")));
    within_5_pct(&mut c, "F02 TOTAL 2023", 18_000.0, n("2023", "TOTAL"));
    for year in 2014..=2023 {
        let y = year.to_string();
        assert_eq!(n(&y, "TOTAL"), n(&y, "FK") + n(&y, "KOMMUN"), "C2: TOTAL = FK + KOMMUN in {year}");
    }
    let fk: Vec<i64> = (2014..=2023).map(|y| n(&y.to_string(), "FK")).collect();
    c.record(fk.windows(2).all(|w| w[1] < w[0]), format!("FK December falls every year: {fk:?}"));
    let index = |payer: &str| 100.0 * n("2023", payer) as f64 / n("2014", payer) as f64;
    c.record((index("FK") - 80.0).abs() <= 3.0, format!("F08 FK index 2023 ≈ 80 ±3: {:.1}", index("FK")));
    c.record(index("KOMMUN") >= 110.0 - 3.0, format!("F09 KOMMUN index 2023 ≥ 110 (−3): {:.1}", index("KOMMUN")));

    let t = e.compute(get("fk_recipients_by_provider")).await.expect("computes");
    let may24 = row(&t, &[("month", "2024-05"), ("provider_category", "PRIVAT")]).clone();
    let may23 = row(&t, &[("month", "2023-05"), ("provider_category", "PRIVAT")]).clone();
    within_5_pct(&mut c, "F10 FK May 2024", 13_308.0, may24.denominator.unwrap_or(0));
    c.record(may24.denominator < may23.denominator, format!("F11 FK May 2024 below May 2023: {:?} vs {:?}", may24.denominator, may23.denominator));
    c.share("F13 PRIVAT share May 2024", 73.0, &may24);

    let t = e.compute(get("fk_hours_per_recipient")).await.expect("computes");
    let mean = |month: &str| -> f64 { t.rows.iter().find(|r| r.values[0] == month).and_then(|r| r.values[1].parse().ok()).expect("a mean") };
    c.record((mean("2024-05") - 135.0).abs() <= 3.0, format!("F15 mean hours May 2024 135 ±3: {:.1}", mean("2024-05")));
    c.record(mean("2024-05") > mean("2023-05"), format!("F16 mean hours rose on May 2023: {:.1} → {:.1}", mean("2023-05"), mean("2024-05")));
    assert!(c.failed.is_empty(), "outside tolerance:\n{}", c.failed.join("\n"));
}

/// §5c.2's count tolerance: ±5 % of the published figure.
fn within_5_pct(c: &mut Checks, what: &str, published: f64, ours: i64) {
    c.record((ours as f64 - published).abs() <= 0.05 * published, format!("C5 {what}: published {published}, ours {ours}"));
}
