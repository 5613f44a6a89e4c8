//! Calibration check against Tabell 17, computed from the written `decisions` extract.
//!
//! Tabell 17 counts *persons* granted and refused per year (Bilaga 1, *Beslut*: at most one
//! refusal and one grant per person and year), on qualifying decisions (SPEC §4.1: an
//! application or notification, granted or refused, refusals changed on appeal left out). The
//! generator writes at most one qualifying decision per person, year and outcome, so this is
//! also the number of qualifying decisions.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::GenError;

/// `(year, outcome)` → count; outcome is `AVSLAG` or `BIFALL`.
pub type YearOutcomeCounts = BTreeMap<(i32, String), u64>;

/// Persons with a qualifying decision per year and outcome, read from a `decisions.csv`.
/// Rows that do not parse (defects) are skipped.
pub fn qualifying_by_year(decisions_csv: &Path) -> Result<YearOutcomeCounts, GenError> {
    let file = File::open(decisions_csv).map_err(|e| GenError::io(decisions_csv, e))?;
    let mut persons: BTreeSet<(i32, String, String)> = BTreeSet::new();
    let mut lines = BufReader::new(file).lines();
    let header = lines
        .next()
        .transpose()
        .map_err(|e| GenError::io(decisions_csv, e))?
        .unwrap_or_default();
    let col = |name: &str| header.split(',').position(|c| c == name);
    let (Some(pnr), Some(date), Some(kind), Some(outcome), Some(appeal)) = (
        col("personnummer"),
        col("decision_date"),
        col("kind"),
        col("outcome"),
        col("changed_on_appeal"),
    ) else {
        return Err(GenError::Config(format!(
            "{}: not a decisions extract",
            decisions_csv.display()
        )));
    };
    for line in lines {
        let line = line.map_err(|e| GenError::io(decisions_csv, e))?;
        let f: Vec<&str> = line.split(',').collect();
        let get = |i: usize| f.get(i).copied().unwrap_or("");
        let qualifying = matches!(get(kind), "ANSOKAN" | "ANMALAN")
            && matches!(get(outcome), "AVSLAG" | "BIFALL")
            && !(get(outcome) == "AVSLAG" && get(appeal) == "true");
        let Some(year) = get(date).get(..4).and_then(|y| y.parse::<i32>().ok()) else {
            continue;
        };
        if qualifying {
            persons.insert((year, get(outcome).to_string(), get(pnr).to_string()));
        }
    }
    let mut counts = YearOutcomeCounts::new();
    for (year, outcome, _) in persons {
        *counts.entry((year, outcome)).or_insert(0) += 1;
    }
    Ok(counts)
}

/// Tabell 17 (`tabell_17.csv` of the reference transcription), outcomes as contract codes.
pub fn read_table17(path: &Path) -> Result<YearOutcomeCounts, GenError> {
    let text = std::fs::read_to_string(path).map_err(|e| GenError::io(path, e))?;
    let mut counts = YearOutcomeCounts::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (Some(year), Some(outcome), Some(value)) = (f.first(), f.get(1), f.get(2)) else {
            continue;
        };
        let outcome = match *outcome {
            "Avslag" => "AVSLAG",
            "Bifall" => "BIFALL",
            _ => continue,
        };
        if let (Ok(year), Ok(value)) = (year.parse(), value.parse()) {
            counts.insert((year, outcome.to_string()), value);
        }
    }
    Ok(counts)
}

/// One cell of the comparison.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub year: i32,
    pub outcome: String,
    pub generated: u64,
    pub published: u64,
    /// `(generated − published) / published`.
    pub relative_difference: f64,
}

/// Compare generated counts with the published ones, cell by cell of the published table.
pub fn compare(generated: &YearOutcomeCounts, published: &YearOutcomeCounts) -> Vec<Comparison> {
    published
        .iter()
        .map(|((year, outcome), &p)| {
            let g = generated
                .get(&(*year, outcome.clone()))
                .copied()
                .unwrap_or(0);
            Comparison {
                year: *year,
                outcome: outcome.clone(),
                generated: g,
                published: p,
                relative_difference: if p > 0 {
                    (g as f64 - p as f64) / p as f64
                } else {
                    0.0
                },
            }
        })
        .collect()
}
