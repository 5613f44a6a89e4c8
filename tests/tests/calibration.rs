//! On the default generated registers, through registries → linkage → query, the shares
//! corresponding to the report's tables 4, 10, 47 and 56 are within 5 percentage points of the
//! published ones (cells whose published denominator is at least 50 persons); the whole
//! production passes its disclosure audit; and no personnummer reaches `OUT_DIR`.

mod common;

use std::collections::HashMap;
use std::path::Path;

use regstat_query::engine::{Engine, Years};
use regstat_query::stats::{self, Table};

fn reference(name: &str) -> Vec<HashMap<String, String>> {
    let path = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string())).join("../../shared/reference").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().expect("header").split(',').map(str::to_string).collect();
    lines.map(|l| header.iter().cloned().zip(l.split(',').map(str::to_string)).collect()).collect()
}

fn sex(v: &str) -> &'static str {
    match v {
        "Kvinnor" => "K",
        "Män" => "M",
        _ => "TOTAL",
    }
}

fn age(v: &str) -> String {
    if v == "Totalt" { "TOTAL".into() } else { v.to_string() }
}

fn share(t: &Table, want: &[(&str, &str)]) -> Option<f64> {
    let idx: Vec<(usize, &str)> = want.iter().map(|(d, v)| (t.dims.iter().position(|x| x == d).expect("dim"), *v)).collect();
    t.rows.iter().find(|r| idx.iter().all(|(i, v)| r.values[*i] == *v)).and_then(|r| r.share_pct())
}

async fn delivery_of_default_data(dir: &Path) -> regstat_query::delivery::Delivery {
    let data = dir.join("data");
    let d = data.clone();
    tokio::task::spawn_blocking(move || regstat_gen::generate(&regstat_gen::GenConfig { out_dir: d, ..Default::default() }))
        .await
        .expect("join")
        .expect("generates");
    let mut addrs = Vec::new();
    for cfg in [
        fk_registry::test_config(&data.join("fk"), &dir.join("fk-registry")),
        sos_register::test_config(&data.join("sos"), &dir.join("sos-register")),
    ] {
        let server = regstat_registry::build(cfg).await.expect("registry");
        addrs.push(server.local_addr);
        tokio::spawn(server.run(std::future::pending()));
    }
    common::link(dir, addrs[0], addrs[1], linkage::job::JobParams::new("calibration", 1, 2018, 2020, &[]).expect("params")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_4_10_47_and_56_are_within_five_points_and_the_release_is_safe() {
    let dir = tempfile::tempdir().expect("tempdir");
    let delivery = delivery_of_default_data(dir.path()).await;
    let engine = Engine::new(&delivery, Years::new(2018, 2020).expect("years")).await.expect("engine");

    // Table 56: municipal support yes/no by sex × age group, period and outcome.
    let t = engine.compute(stats::find("municipal_support_before_after").expect("stat")).await.expect("computes");
    let rows = reference("tabell_56.csv");
    let mut compared = 0;
    let mut worst: f64 = 0.0;
    for r in rows.iter().filter(|r| r["municipal_support"] == "Ja") {
        let nej = rows.iter().find(|o| {
            o["municipal_support"] == "Nej" && ["sex", "age_group", "period", "outcome"].iter().all(|k| o[*k] == r[*k])
        });
        let (Ok(ja), Some(Ok(nej))) = (r["value"].parse::<f64>(), nej.map(|n| n["value"].parse::<f64>())) else { continue };
        if ja + nej < 50.0 {
            continue;
        }
        let published = 100.0 * ja / (ja + nej);
        let ours = share(
            &t,
            &[
                ("period", if r["period"] == "before" { "BEFORE" } else { "AFTER" }),
                ("outcome", if r["outcome"] == "Avslag" { "AVSLAG" } else { "BIFALL" }),
                ("sex", sex(&r["sex"])),
                ("age_group", &age(&r["age_group"])),
                ("municipal_support", "YES"),
            ],
        )
        .expect("our share");
        worst = worst.max((ours - published).abs());
        compared += 1;
    }
    assert!(compared >= 40, "compared {compared} cells of table 56");
    assert!(worst <= 5.0, "table 56: worst difference {worst:.1} pp");

    // Table 47: type of other support, year before, by sex × age group.
    let t = engine.compute(stats::find("other_support_before").expect("stat")).await.expect("computes");
    let rows = reference("tabell_47.csv");
    let code = |label: &str| match label {
        "Både kommunalt stöd och socialförsäkring" => "BOTH",
        "Endast kommunalt stöd" => "MUNICIPAL_ONLY",
        "Endast socialförsäkring" => "SOCIAL_INSURANCE_ONLY",
        _ => "NONE",
    };
    let mut compared = 0;
    let mut worst: f64 = 0.0;
    for r in &rows {
        let group: Vec<&HashMap<String, String>> = rows.iter().filter(|o| o["sex"] == r["sex"] && o["age_group"] == r["age_group"]).collect();
        let total: f64 = group.iter().filter_map(|o| o["value"].parse::<f64>().ok()).sum();
        let Ok(v) = r["value"].parse::<f64>() else { continue };
        if total < 50.0 {
            continue;
        }
        let ours = share(&t, &[("sex", sex(&r["sex"])), ("age_group", &age(&r["age_group"])), ("support_type", code(&r["support_type"]))])
            .expect("our share");
        worst = worst.max((ours - 100.0 * v / total).abs());
        compared += 1;
    }
    assert!(compared >= 60, "compared {compared} cells of table 47");
    assert!(worst <= 5.0, "table 47: worst difference {worst:.1} pp");

    // Tables 4 (children) and 10 (adults): share with any LSS / any SoL intervention (distinct
    // persons), by outcome and period.
    let t = engine.compute(stats::find("interventions_before_after").expect("stat")).await.expect("computes");
    let mut compared = 0;
    let mut worst: f64 = 0.0;
    for (name, group) in [("tabell_04.csv", "BARN"), ("tabell_10.csv", "VUXNA")] {
        for r in reference(name) {
            let (law, all) = if r["support_type"] == "LSS" { ("LSS", "ALL_LSS") } else { ("SOL", "ALL_SOL") };
            let published: f64 = r["value"].parse().expect("a number");
            let ours = share(
                &t,
                &[
                    ("period", if r["period"] == "before" { "BEFORE" } else { "AFTER" }),
                    ("child_adult", group),
                    ("outcome", if r["outcome"] == "Avslag" { "AVSLAG" } else { "BIFALL" }),
                    ("age_group", "TOTAL"),
                    ("law", law),
                    ("intervention", all),
                ],
            )
            .expect("our share");
            worst = worst.max((ours - published).abs());
            compared += 1;
        }
    }
    assert_eq!(compared, 16);
    assert!(worst <= 5.0, "tables 4 and 10: worst difference {worst:.1} pp");

    // The whole production: every statistic, protected together; the audit passes and finds
    // secondary suppressions to have been necessary somewhere.
    let out = dir.path().join("out");
    let (manifest, rel) =
        regstat_query::output::produce(&delivery, Years::new(2018, 2020).expect("years"), Default::default(), &out).await.expect("produces");
    eprintln!("disclosure: {:?}\naudit: intervals {} narrowest {:?} notes {}", rel.summary, rel.audit.intervals_checked, rel.audit.narrowest_interval, rel.audit.notes.len());
    assert!(rel.audit.passed, "{:?}", rel.audit.problems);
    assert!(rel.summary.primary > 0 && rel.summary.secondary > 0, "{:?}", rel.summary);
    // a CSV and a Parquet file per statistic, report.xlsx, disclosure_audit.json, refusal_regression_estimates.csv
    assert_eq!(manifest.files.len(), 2 * common::cohort_statistics().len() + 3);

    // No personnummer in OUT_DIR: the ten-digit core of every generated number, searched in
    // every text file written (the tidy CSVs, the audit, the manifest).
    // Old numbers (`personnummer_changes`) as well.
    let persons = std::fs::read_to_string(dir.path().join("data/fk/persons.csv")).expect("persons.csv");
    let changes = std::fs::read_to_string(dir.path().join("data/fk/personnummer_changes.csv")).expect("personnummer_changes.csv");
    let cores: std::collections::HashSet<String> = persons
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .chain(changes.lines().skip(1).filter_map(|l| l.split(',').next()))
        .filter_map(|p| {
            let digits: String = p.chars().filter(char::is_ascii_digit).collect();
            (digits.len() >= 10).then(|| digits[digits.len() - 10..].to_string())
        })
        .collect();
    assert!(cores.len() > 40_000);
    let mut scanned = 0;
    for f in std::fs::read_dir(&out).expect("out dir").flatten() {
        let name = f.file_name().to_string_lossy().into_owned();
        if !(name.ends_with(".csv") || name.ends_with(".json")) {
            continue;
        }
        let text = std::fs::read_to_string(f.path()).expect("text");
        let digits: Vec<char> = text.chars().collect();
        for w in digits.windows(10) {
            if w.iter().all(char::is_ascii_digit) {
                let s: String = w.iter().collect();
                assert!(!cores.contains(&s), "a personnummer in {name}");
            }
        }
        scanned += 1;
    }
    assert_eq!(scanned, common::cohort_statistics().len() + 3);
}
