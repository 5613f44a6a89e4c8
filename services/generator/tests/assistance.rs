//! Personal assistance by payer (SPEC-DECISIONS §5c.2) recomputed from the written files of a
//! run at the default size: FK recipients in `fk/assistance_months`, municipal PA without FK in
//! `sos/interventions`, against the published figures of the seed (F03–F19); and the same seed
//! giving the same bytes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use regstat_contract::Dataset;
use regstat_gen::{generate, GenConfig, DEFAULT_PERSONS, DEFAULT_SEED};

fn run(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("regstat-gen-assistance")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = GenConfig {
        persons: DEFAULT_PERSONS,
        seed: DEFAULT_SEED,
        dirt: 0.0,
        out_dir: dir.clone(),
    };
    generate(&cfg).expect("generation succeeds");
    dir
}

/// Rows of a CSV file as field vectors (the generator never quotes).
fn rows(path: &Path) -> impl Iterator<Item = Vec<String>> {
    BufReader::new(File::open(path).expect("csv exists"))
        .lines()
        .skip(1)
        .map(|l| l.expect("utf-8").split(',').map(str::to_string).collect())
}

/// Old personnummer → current one (following chains).
fn current_numbers(dir: &Path) -> HashMap<String, String> {
    let next: HashMap<String, String> = rows(&dir.join("fk/personnummer_changes.csv"))
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    next.keys()
        .map(|old| {
            let mut p = old.clone();
            for _ in 0..8 {
                match next.get(&p) {
                    Some(n) => p = n.clone(),
                    None => break,
                }
            }
            (old.clone(), p)
        })
        .collect()
}

struct Month {
    fk: HashSet<String>,
    hours: f64,
    private: usize,
}

fn within(value: f64, target: f64, tolerance: f64, what: &str) {
    assert!(
        (value - target).abs() <= tolerance * target,
        "{what}: generated {value:.1}, published {target} (±{:.0} %)",
        tolerance * 100.0
    );
}

#[test]
fn personal_assistance_by_payer_matches_the_seed() {
    let dir = run("a");
    let current = current_numbers(&dir);
    let cur = |p: &str| current.get(p).cloned().unwrap_or_else(|| p.to_string());

    let mut fk: BTreeMap<String, Month> = BTreeMap::new();
    for r in rows(&dir.join("fk/assistance_months.csv")) {
        let m = fk.entry(r[1].clone()).or_insert(Month {
            fk: HashSet::new(),
            hours: 0.0,
            private: 0,
        });
        assert!(m.fk.insert(cur(&r[0])), "one row per person and month");
        let h: f64 = r[2].parse().expect("hours");
        assert!(h > 0.0 && h <= 168.0, "hours {h}");
        m.hours += h;
        m.private += usize::from(r[3] == "PRIVAT");
        assert!(["", "KOMMUN", "PRIVAT", "KOOPERATIV", "EGEN"].contains(&r[3].as_str()));
    }
    let mut pa: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    for r in rows(&dir.join("sos/interventions.csv")) {
        if r[1] == "LSS" && r[2] == "PERSONLIG_ASSISTANS" {
            pa.entry(r[4].clone()).or_default().insert(cur(&r[0]));
        }
    }
    let n_fk = |m: &str| fk.get(m).map_or(0, |x| x.fk.len()) as f64;
    let kommun = |m: &str| {
        let empty = HashSet::new();
        let f = fk.get(m).map_or(&empty, |x| &x.fk);
        pa.get(m).map_or(0, |p| p.difference(f).count()) as f64
    };

    // C1: FK in December, 16 200 (2014) falling every year to 13 000–13 300 (2023).
    let december: Vec<f64> = (2014..=2023).map(|y| n_fk(&format!("{y}-12"))).collect();
    eprintln!("FK December 2014–2023: {december:?}");
    within(december[0], 16_200.0, 0.05, "FK December 2014 (F06, F18)");
    within(december[9], 13_300.0, 0.05, "FK December 2023 (F07)");
    within(december[9], 13_000.0, 0.05, "FK December 2023 (F19)");
    for w in december.windows(2) {
        assert!(w[1] < w[0], "FK December series falls every year: {december:?}");
    }

    // May 2024: 13 308, −29 on May 2023 (F10, F11).
    let (may23, may24) = (n_fk("2023-05"), n_fk("2024-05"));
    eprintln!("FK May 2023 {may23}, May 2024 {may24}");
    within(may24, 13_308.0, 0.05, "FK May 2024 (F10)");
    assert!(may24 - may23 < 0.0, "May 2024 − May 2023 = {} (F11: −29)", may24 - may23);

    // Provider and hours, May 2024 (F13–F16).
    let m24 = &fk["2024-05"];
    let m23 = &fk["2023-05"];
    let private = 100.0 * m24.private as f64 / m24.fk.len() as f64;
    let hours24 = m24.hours / m24.fk.len() as f64;
    let hours23 = m23.hours / m23.fk.len() as f64;
    eprintln!("PRIVAT May 2024 {private:.2} %, hours May 2023 {hours23:.2}, May 2024 {hours24:.2}");
    assert!((private - 73.0).abs() <= 3.0, "PRIVAT share May 2024 {private:.1} % (F13: 73 %)");
    assert!((hours24 - 135.0).abs() <= 3.0, "mean hours May 2024 {hours24:.1} (F15: 135.0)");
    assert!(hours24 - hours23 > 0.0, "hours change {:.2} (F16: +2.0)", hours24 - hours23);

    // C2: municipal PA without FK, December: 4 100 (2014), maximum 5 300 (2020), 4 700 (2023).
    let k: Vec<f64> = (2014..=2023).map(|y| kommun(&format!("{y}-12"))).collect();
    eprintln!("KOMMUN (not FK) December 2014–2023: {k:?}");
    within(k[0], 4_100.0, 0.05, "KOMMUN December 2014 (F03)");
    within(k[6], 5_300.0, 0.05, "KOMMUN December 2020 (F05)");
    within(k[9], 4_700.0, 0.05, "KOMMUN December 2023 (F04)");
    assert!(
        k.iter().all(|&v| v <= k[6]),
        "2020 is the maximum of the KOMMUN series: {k:?}"
    );

    // The same seed gives the same bytes.
    let again = run("b");
    for d in Dataset::ALL {
        for ext in ["csv", "parquet"] {
            let rel = Path::new(d.register().dir_name()).join(format!("{}.{ext}", d.name()));
            let (x, y) = (
                std::fs::read(dir.join(&rel)).expect("file"),
                std::fs::read(again.join(&rel)).expect("file"),
            );
            assert!(x == y, "{} differs between two runs with the same seed", rel.display());
        }
    }
}
