//! End-to-end tests of the generator: calibration to Tabell 17, determinism, the data contract's
//! columns, valid personnummer, CSV and Parquet holding the same rows, and the dirt's ground truth.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Date32Type, Float64Type, Int32Type, Int64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use regstat_contract::Dataset;
use regstat_gen::{check, generate, GenConfig, GenReport};
use regstat_pnr::Pnr;

/// Small populations: the applicants are generated at national volume anyway.
const PERSONS: u64 = 5_000;

fn run(name: &str, seed: u64, dirt: f64) -> (PathBuf, GenReport) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("regstat-gen-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = GenConfig {
        persons: PERSONS,
        seed,
        dirt,
        out_dir: dir.clone(),
    };
    let report = generate(&cfg).expect("generation succeeds");
    (dir, report)
}

fn clean() -> &'static (PathBuf, GenReport) {
    static CLEAN: OnceLock<(PathBuf, GenReport)> = OnceLock::new();
    CLEAN.get_or_init(|| run("clean", 7, 0.0))
}

fn dirty() -> &'static (PathBuf, GenReport) {
    static DIRTY: OnceLock<(PathBuf, GenReport)> = OnceLock::new();
    DIRTY.get_or_init(|| run("dirty", 7, 0.05))
}

fn files(dir: &Path) -> Vec<PathBuf> {
    Dataset::ALL
        .into_iter()
        .flat_map(|d| {
            let base = dir.join(d.register().dir_name()).join(d.name());
            [base.with_extension("csv"), base.with_extension("parquet")]
        })
        .collect()
}

fn csv_path(dir: &Path, d: Dataset) -> PathBuf {
    dir.join(d.register().dir_name())
        .join(format!("{}.csv", d.name()))
}

fn parquet_path(dir: &Path, d: Dataset) -> PathBuf {
    dir.join(d.register().dir_name())
        .join(format!("{}.parquet", d.name()))
}

fn csv_lines(path: &Path) -> Vec<String> {
    BufReader::new(File::open(path).expect("csv exists"))
        .lines()
        .map(|l| l.expect("utf-8 line"))
        .collect()
}

/// The Parquet rows, formatted as the generator formats CSV rows.
fn parquet_lines(path: &Path) -> (Vec<String>, arrow::datatypes::SchemaRef) {
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(File::open(path).expect("parquet exists"))
            .expect("parquet");
    let schema = builder.schema().clone();
    let mut lines = Vec::new();
    for batch in builder.build().expect("reader") {
        let batch = batch.expect("batch");
        for row in 0..batch.num_rows() {
            let fields: Vec<String> = batch
                .columns()
                .iter()
                .map(|col| {
                    if col.is_null(row) {
                        return String::new();
                    }
                    match col.data_type() {
                        DataType::Utf8 => col.as_string::<i32>().value(row).to_string(),
                        DataType::Date32 => col
                            .as_primitive::<Date32Type>()
                            .value_as_date(row)
                            .map(|d| d.format("%Y-%m-%d").to_string())
                            .unwrap_or_default(),
                        DataType::Int32 => col.as_primitive::<Int32Type>().value(row).to_string(),
                        DataType::Int64 => col.as_primitive::<Int64Type>().value(row).to_string(),
                        DataType::Float64 => {
                            format!("{:.1}", col.as_primitive::<Float64Type>().value(row))
                        }
                        DataType::Boolean => col.as_boolean().value(row).to_string(),
                        other => panic!("unexpected type {other}"),
                    }
                })
                .collect();
            lines.push(fields.join(","));
        }
    }
    (lines, schema)
}

#[test]
fn table17_within_five_percent() {
    let (dir, _) = clean();
    let generated =
        check::qualifying_by_year(&csv_path(dir, Dataset::Decisions)).expect("decisions readable");
    let reference =
        Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string())).join("../../../shared/reference/tabell_17.csv");
    let published = check::read_table17(&reference).expect("tabell_17.csv readable");
    assert_eq!(published.len(), 42, "21 years × 2 outcomes");
    for c in check::compare(&generated, &published) {
        assert!(
            c.relative_difference.abs() <= 0.05,
            "{} {}: generated {}, published {}",
            c.year,
            c.outcome,
            c.generated,
            c.published
        );
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, _) = clean();
    let (b, _) = run("clean-again", 7, 0.0);
    for (fa, fb) in files(a).iter().zip(files(&b)) {
        let (x, y) = (
            std::fs::read(fa).expect("file"),
            std::fs::read(&fb).expect("file"),
        );
        assert!(
            x == y,
            "{} differs between two runs with the same seed",
            fa.display()
        );
    }
    assert_eq!(
        std::fs::read(a.join("generation.json")).expect("json"),
        std::fs::read(b.join("generation.json")).expect("json")
    );
    let (c, _) = run("other-seed", 8, 0.0);
    for d in [Dataset::Persons, Dataset::Decisions, Dataset::Interventions] {
        let (x, y) = (
            std::fs::read(csv_path(a, d)).expect("file"),
            std::fs::read(csv_path(&c, d)).expect("file"),
        );
        assert!(x != y, "{d} is the same for two seeds");
    }
}

#[test]
fn files_have_exactly_the_contract_columns() {
    let (dir, _) = clean();
    for d in Dataset::ALL {
        let schema = d.schema();
        let header = csv_lines(&csv_path(dir, d))
            .into_iter()
            .next()
            .expect("header");
        let expected: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(header, expected.join(","), "{d} CSV header");
        let (_, parquet_schema) = parquet_lines(&parquet_path(dir, d));
        assert_eq!(
            parquet_schema.fields().len(),
            schema.fields().len(),
            "{d} Parquet columns"
        );
        for (got, want) in parquet_schema.fields().iter().zip(schema.fields()) {
            assert_eq!(got.name(), want.name(), "{d}");
            assert_eq!(got.data_type(), want.data_type(), "{d}.{}", want.name());
        }
    }
}

#[test]
fn every_personnummer_of_a_clean_run_is_valid() {
    let (dir, report) = clean();
    let mut persons = HashSet::new();
    for d in Dataset::ALL {
        let lines = csv_lines(&csv_path(dir, d));
        let header: Vec<String> = lines[0].split(',').map(str::to_string).collect();
        let columns: Vec<usize> = d
            .identifier_columns()
            .iter()
            .map(|c| header.iter().position(|h| h == c).expect("column"))
            .collect();
        for line in &lines[1..] {
            let f: Vec<&str> = line.split(',').collect();
            for &c in &columns {
                let pnr = Pnr::parse_canonical(f[c])
                    .unwrap_or_else(|e| panic!("{d}: invalid personnummer ({e:?})"));
                if d == Dataset::Persons {
                    // The third serial digit is odd for men, even for women.
                    assert_eq!(pnr.is_male_digit(), f[1] == "M", "sex digit");
                    assert!(
                        persons.insert(f[c].to_string()),
                        "a personnummer twice in persons"
                    );
                }
            }
        }
    }
    assert_eq!(persons.len() as u64, report.persons);
    // Changes of number: an old number is nobody's current one, the new one is someone's
    // current number or the next old number of a chain; there are some.
    let changes = csv_lines(&csv_path(dir, Dataset::PersonnummerChanges));
    let pairs: Vec<(String, String)> = changes[1..]
        .iter()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[1].to_string())
        })
        .collect();
    assert!(pairs.len() >= 5, "only {} changes of number", pairs.len());
    let old: HashSet<String> = pairs.iter().map(|p| p.0.clone()).collect();
    assert_eq!(old.len(), pairs.len(), "an old number changed twice");
    for (o, n) in &pairs {
        assert!(!persons.contains(o), "an old number is also a current one");
        assert!(persons.contains(n) || old.contains(n), "a change to an unknown number");
    }
    // Everyone in the other datasets is in the population register, under their current
    // number or an old one.
    let persons: HashSet<String> = persons.union(&old).cloned().collect();
    let mut under_old = 0;
    for d in [
        Dataset::Registrations,
        Dataset::Decisions,
        Dataset::BenefitPayments,
        Dataset::Interventions,
    ] {
        for line in csv_lines(&csv_path(dir, d)).iter().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let pnr = if d == Dataset::Decisions { f[1] } else { f[0] };
            under_old += usize::from(old.contains(pnr));
            assert!(
                persons.contains(pnr),
                "{d}: a person outside the population register"
            );
            if d == Dataset::BenefitPayments {
                assert!(
                    persons.contains(f[1]),
                    "a recipient outside the population register"
                );
            }
        }
    }
    assert!(under_old > 0, "no row is held under an old number");
}

#[test]
fn csv_and_parquet_hold_the_same_rows() {
    for (dir, report) in [clean(), dirty()] {
        for d in Dataset::ALL {
            let csv = csv_lines(&csv_path(dir, d));
            let (parquet, _) = parquet_lines(&parquet_path(dir, d));
            assert_eq!(csv.len() - 1, parquet.len(), "{d}: rows");
            assert_eq!(
                report.datasets[d.name()].rows as usize,
                parquet.len(),
                "{d}: rows reported"
            );
            for (i, (c, p)) in csv[1..].iter().zip(&parquet).enumerate() {
                assert_eq!(c, p, "{d}: row {}", i + 1);
            }
        }
    }
}

#[test]
fn dirt_ground_truth_adds_up() {
    let (dir, report) = dirty();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("generation.json")).expect("json"))
            .expect("valid json");
    for d in Dataset::ALL {
        let r = &report.datasets[d.name()];
        let lines = csv_lines(&csv_path(dir, d));
        assert_eq!(r.rows as usize, lines.len() - 1, "{d}: rows written");
        assert_eq!(
            r.clean_rows + r.defective_rows,
            r.rows,
            "{d}: clean + defective"
        );
        assert_eq!(
            r.defects.values().sum::<u64>(),
            r.defective_rows,
            "{d}: kinds add up"
        );
        // (A few dozen changes of number: too few rows for the rate to show.)
        if r.rows >= 1_000 {
            let share = r.defective_rows as f64 / r.rows as f64;
            assert!((0.03..0.07).contains(&share), "{d}: {share} defective");
            for (kind, n) in &r.defects {
                assert!(*n > 0, "{d}: no {kind}");
            }
        }
        assert_eq!(
            json["datasets"][d.name()]["rows"],
            r.rows,
            "{d}: generation.json"
        );

        // Invalid personnummer and exact duplicates are exactly the ones declared.
        let header: Vec<&str> = lines[0].split(',').collect();
        let columns: Vec<usize> = d
            .identifier_columns()
            .iter()
            .map(|c| header.iter().position(|h| h == c).expect("column"))
            .collect();
        let invalid = lines[1..]
            .iter()
            .filter(|l| {
                let f: Vec<&str> = l.split(',').collect();
                columns.iter().any(|&c| Pnr::parse_canonical(f[c]).is_err())
            })
            .count() as u64;
        assert_eq!(
            invalid, r.defects["INVALID_PERSONNUMMER"],
            "{d}: invalid personnummer"
        );
        let mut seen = HashSet::new();
        let duplicates = lines[1..]
            .iter()
            .filter(|l| !seen.insert(l.as_str()))
            .count() as u64;
        assert_eq!(
            duplicates, r.defects["DUPLICATE_ROW"],
            "{d}: exact duplicates"
        );
        if let Some(&declared) = r.defects.get("DUPLICATE_KEY") {
            // The key is the first column (personnummer of `persons`, `decision_id` of
            // `decisions`), or the first two (personnummer and month of `assistance_months`).
            let width = if d == Dataset::AssistanceMonths { 2 } else { 1 };
            let mut keys: BTreeMap<Vec<&str>, usize> = BTreeMap::new();
            let mut distinct = HashSet::new();
            for l in &lines[1..] {
                if distinct.insert(l.as_str()) {
                    let key: Vec<&str> = l.split(',').take(width).collect();
                    *keys.entry(key).or_insert(0) += 1;
                }
            }
            let repeated: u64 = keys.values().map(|&n| n.saturating_sub(1) as u64).sum();
            assert_eq!(repeated, declared, "{d}: key duplicates");
        }
    }
}

/// The contract's own validation (the registries' loader) quarantines exactly the rows the
/// generator declares defective, for the reasons it declares, from both formats.
#[test]
fn the_contract_validation_finds_exactly_the_declared_defects() {
    use regstat_contract::{load_file, LoadOptions};
    let opts = LoadOptions {
        reference_date: chrono::NaiveDate::from_ymd_opt(2024, 1, 1),
        ..LoadOptions::default()
    };
    for (name, (dir, report)) in [("clean", clean()), ("dirty", dirty())] {
        for d in Dataset::ALL {
            let declared = &report.datasets[d.name()];
            for path in [csv_path(dir, d), parquet_path(dir, d)] {
                let quarantine = dir
                    .join("quarantine")
                    .join(path.extension().unwrap_or_default());
                let loaded = load_file(&path, d, &quarantine, &opts).expect("loads");
                let r = &loaded.report;
                let what = format!("{name} {}", path.display());
                assert_eq!(r.rows_read, declared.rows, "{what}: rows read");
                assert_eq!(
                    r.rows_quarantined, declared.defective_rows,
                    "{what}: rows quarantined"
                );
                let found: BTreeMap<&str, u64> = r
                    .reasons
                    .iter()
                    .filter(|(_, n)| **n > 0)
                    .map(|(k, n)| (*k, *n))
                    .collect();
                let expected: BTreeMap<&str, u64> = declared
                    .defects
                    .iter()
                    .filter(|(_, n)| **n > 0)
                    .map(|(k, n)| (*k, *n))
                    .collect();
                assert_eq!(found, expected, "{what}: reasons");
            }
        }
    }
}
