//! The statistics catalogue (SPEC §5). Each statistic is one SQL definition over the views of
//! [`crate::definitions`] that counts persons in the *finest* cells of its dimensions; the
//! published cube — `TOTAL` margins over each margin dimension, complete grids with zero cells,
//! denominators and shares — is derived from those cells by [`cube`]. Because every person has
//! exactly one value of each margin dimension, a margin is the sum of its finest cells; that is
//! also what makes release-wide disclosure control exact linear algebra (SPEC §6).

use std::collections::{BTreeMap, HashMap};

use arrow::array::{Array, Int64Array, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;

use crate::error::{Error, Result};

pub const TOTAL: &str = "TOTAL";

/// The values of a dimension (complete grids). `decision_year` is taken from the parameters.
pub fn domain(dim: &str) -> &'static [&'static str] {
    match dim {
        "outcome" => &["AVSLAG", "BIFALL"],
        "period" => &["BEFORE", "AFTER"],
        "sex" => &["K", "M"],
        "age_group" => &["2-6", "7-11", "12-17", "18-29", "30-49", "50-64", "65+"],
        "sex_age" => &["FLICKOR", "POJKAR", "KVINNOR", "MAN"],
        "child_adult" => &["BARN", "VUXNA"],
        "birth_country" => &["INRIKES", "UTRIKES"],
        "lss_group" => &["1", "2", "3", "NONE"],
        "municipal_support" => &["YES", "NO"],
        "support_type" => &["BOTH", "MUNICIPAL_ONLY", "SOCIAL_INSURANCE_ONLY", "NONE"],
        "rule" => &[
            "DECISIONS",
            "QUALIFYING",
            "FIRST_PER_PERSON",
            "REGISTERED_D_MINUS_2",
            "REGISTERED_D_MINUS_1",
            "REGISTERED_D",
            "REGISTERED_D_PLUS_1",
        ],
        _ => &[],
    }
}

/// The three published breakdowns of the support statistics (SPEC §5).
pub const BREAKDOWNS: &[&[&str]] = &[&["sex", "age_group"], &["birth_country", "sex_age"], &["lss_group", "sex_age"]];

/// One statistic of the catalogue.
#[derive(Debug)]
pub struct Statistic {
    pub id: &'static str,
    /// What it counts, for statisticians (also served by the API).
    pub doc: &'static str,
    pub report_tables: &'static str,
    /// Dimensions published in full without a margin (e.g. `period`).
    pub fixed: &'static [&'static str],
    /// Margin dimensions in every breakdown (e.g. `outcome`).
    pub always: &'static [&'static str],
    pub breakdowns: &'static [&'static [&'static str]],
    /// The category dimension (its total is the denominator); `None` = counts only.
    pub category: Option<&'static str>,
    /// SQL over the views, for decision years `from..=to`: one row per finest cell, with every
    /// dimension column above and `n`.
    pub sql: fn(i32, i32) -> String,
}

fn cohort_flow_sql(from: i32, to: i32) -> String {
    let years = format!("decision_year BETWEEN {from} AND {to}");
    format!(
        "SELECT CAST(decision_year AS VARCHAR) AS decision_year, 'DECISIONS' AS rule, count(*) AS n FROM decisions_y WHERE {years} GROUP BY decision_year \
         UNION ALL SELECT CAST(decision_year AS VARCHAR), 'QUALIFYING', count(*) FROM qualifying WHERE {years} GROUP BY decision_year \
         UNION ALL SELECT CAST(decision_year AS VARCHAR), 'FIRST_PER_PERSON', count(*) FROM flow GROUP BY decision_year \
         UNION ALL SELECT CAST(decision_year AS VARCHAR), 'REGISTERED_D_MINUS_2', count(*) FROM flow WHERE reg_m2 GROUP BY decision_year \
         UNION ALL SELECT CAST(decision_year AS VARCHAR), 'REGISTERED_D_MINUS_1', count(*) FROM flow WHERE reg_m2 AND reg_m1 GROUP BY decision_year \
         UNION ALL SELECT CAST(decision_year AS VARCHAR), 'REGISTERED_D', count(*) FROM flow WHERE reg_m2 AND reg_m1 AND reg_0 GROUP BY decision_year \
         UNION ALL SELECT CAST(decision_year AS VARCHAR), 'REGISTERED_D_PLUS_1', count(*) FROM flow WHERE reg_m2 AND reg_m1 AND reg_0 AND reg_p1 GROUP BY decision_year"
    )
}

fn municipal_support_before_after_sql(_: i32, _: i32) -> String {
    "SELECT p.period, p.outcome, p.sex, p.age_group, p.birth_country, p.sex_age, p.lss_group, \
       CASE WHEN m.pseudonym IS NULL THEN 'NO' ELSE 'YES' END AS municipal_support, count(*) AS n \
     FROM periods p \
     LEFT JOIN municipal_years m ON m.pseudonym = p.pseudonym AND m.year = p.support_year \
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
        .into()
}

fn other_support_before_sql(_: i32, _: i32) -> String {
    "SELECT c.sex, c.age_group, c.birth_country, c.sex_age, c.lss_group, \
       CASE WHEN m.pseudonym IS NOT NULL AND b.pseudonym IS NOT NULL THEN 'BOTH' \
            WHEN m.pseudonym IS NOT NULL THEN 'MUNICIPAL_ONLY' \
            WHEN b.pseudonym IS NOT NULL THEN 'SOCIAL_INSURANCE_ONLY' \
            ELSE 'NONE' END AS support_type, count(*) AS n \
     FROM cohort_dims c \
     LEFT JOIN municipal_years m ON m.pseudonym = c.pseudonym AND m.year = c.decision_year - 1 \
     LEFT JOIN (SELECT DISTINCT pseudonym, year FROM benefit_years) b \
       ON b.pseudonym = c.pseudonym AND b.year = c.decision_year - 1 \
     GROUP BY 1, 2, 3, 4, 5, 6"
        .into()
}

/// The statistics implemented so far (the rest of SPEC §5 follows the same pattern).
pub const CATALOGUE: &[Statistic] = &[
    Statistic {
        id: "cohort_flow",
        doc: "How many pass each rule of SPEC §4, cumulatively, by decision year: DECISIONS (all decisions dated in the year), \
              QUALIFYING (qualifying decisions), FIRST_PER_PERSON (persons, from here on: the first qualifying decision in the years), \
              then registered on 31 December of D-2, D-1, D and D+1 (the last is the cohort). n only.",
        report_tables: "(method transparency)",
        fixed: &["rule"],
        always: &["decision_year"],
        breakdowns: &[&[]],
        category: None,
        sql: cohort_flow_sql,
    },
    Statistic {
        id: "municipal_support_before_after",
        doc: "Cohort persons with and without municipal support (an executed SoL or LSS intervention in any month of the \
              year; HSL does not count) in the year before (D-1) and the year after (D+1) the decision, by outcome. \
              Denominator: cohort persons in the group; share = 100 · n / denominator.",
        report_tables: "56, 57, 58; 4, 10; fig. 31, 33",
        fixed: &["period"],
        always: &["outcome"],
        breakdowns: BREAKDOWNS,
        category: Some("municipal_support"),
        sql: municipal_support_before_after_sql,
    },
    Statistic {
        id: "other_support_before",
        doc: "Cohort persons by type of other support in the year before the decision: BOTH municipal support (SoL/LSS) and \
              social insurance (a payment > 0 of omvårdnadsbidrag/vårdbidrag, merkostnadsersättning or handikappersättning, \
              attributed to the child for child benefits), MUNICIPAL_ONLY, SOCIAL_INSURANCE_ONLY, NONE.",
        report_tables: "47, 48, 49; fig. 25-29",
        fixed: &[],
        always: &[],
        breakdowns: BREAKDOWNS,
        category: Some("support_type"),
        sql: other_support_before_sql,
    },
];

pub fn find(id: &str) -> Result<&'static Statistic> {
    CATALOGUE.iter().find(|s| s.id == id).ok_or_else(|| Error::NotFound(format!("no statistic `{id}`")))
}

/// A computed statistic before disclosure control.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub statistic: &'static str,
    /// Dimension columns, in output order.
    pub dims: Vec<&'static str>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Values of `dims` (empty = the dimension does not apply to this row's breakdown).
    pub values: Vec<String>,
    pub n: i64,
    pub denominator: Option<i64>,
}

impl Row {
    pub fn share_pct(&self) -> Option<f64> {
        self.denominator.filter(|d| *d > 0).map(|d| 100.0 * self.n as f64 / d as f64)
    }
}

/// Finest cells from query results: (dimension values in `dims` order) → n.
pub fn finest(batches: &[RecordBatch], dims: &[&str]) -> Result<HashMap<Vec<String>, i64>> {
    let mut out: HashMap<Vec<String>, i64> = HashMap::new();
    for b in batches {
        let cols: Vec<StringArray> = dims
            .iter()
            .map(|d| {
                let c = b.column_by_name(d).ok_or_else(|| Error::BadRequest(format!("definition lacks column {d}")))?;
                let c = cast(c, &DataType::Utf8)?;
                Ok(c.as_any().downcast_ref::<StringArray>().cloned().unwrap_or_else(|| StringArray::from(Vec::<&str>::new())))
            })
            .collect::<Result<_>>()?;
        let n = cast(b.column_by_name("n").ok_or_else(|| Error::BadRequest("definition lacks n".into()))?, &DataType::Int64)?;
        let n = n.as_any().downcast_ref::<Int64Array>().cloned().unwrap_or_else(|| Int64Array::from(Vec::<i64>::new()));
        for i in 0..b.num_rows() {
            let key: Vec<String> = cols.iter().map(|c| if c.is_null(i) { String::new() } else { c.value(i).to_string() }).collect();
            *out.entry(key).or_default() += n.value(i);
        }
    }
    Ok(out)
}

/// Build the published cube of a statistic from its finest cells.
pub fn cube(stat: &Statistic, cells: &HashMap<Vec<String>, i64>, cell_dims: &[&str], years: &[String]) -> Table {
    let values_of = |dim: &str| -> Vec<String> {
        if dim == "decision_year" {
            years.to_vec()
        } else {
            domain(dim).iter().map(|s| s.to_string()).collect()
        }
    };
    let mut out_dims: Vec<&'static str> = stat.fixed.to_vec();
    out_dims.extend(stat.always);
    for b in stat.breakdowns {
        for d in *b {
            if !out_dims.contains(d) {
                out_dims.push(d);
            }
        }
    }
    if let Some(c) = stat.category {
        out_dims.push(c);
    }
    let pos: BTreeMap<&str, usize> = cell_dims.iter().enumerate().map(|(i, d)| (*d, i)).collect();
    let mut rows = Vec::new();
    for breakdown in stat.breakdowns {
        // (dimension, its values incl. TOTAL when it has a margin)
        let mut axes: Vec<(&str, Vec<String>)> = Vec::new();
        for d in stat.fixed {
            axes.push((d, values_of(d)));
        }
        for d in stat.always.iter().chain(breakdown.iter()) {
            let mut v = values_of(d);
            v.push(TOTAL.to_string());
            axes.push((d, v));
        }
        if let Some(c) = stat.category {
            axes.push((c, values_of(c)));
        }
        let mut combo = vec![0usize; axes.len()];
        'combos: loop {
            let chosen: BTreeMap<&str, &str> = axes.iter().zip(&combo).map(|((d, v), i)| (*d, v[*i].as_str())).collect();
            let count = |with_category: bool| -> i64 {
                cells
                    .iter()
                    .filter(|(key, _)| {
                        chosen.iter().all(|(d, v)| {
                            if *v == TOTAL || (!with_category && Some(*d) == stat.category) {
                                return true;
                            }
                            pos.get(d).is_some_and(|&p| key[p] == *v)
                        })
                    })
                    .map(|(_, n)| *n)
                    .sum()
            };
            let values = out_dims.iter().map(|d| chosen.get(d).map(|v| v.to_string()).unwrap_or_default()).collect();
            rows.push(Row { values, n: count(true), denominator: stat.category.map(|_| count(false)) });
            // next combination (odometer)
            let mut k = axes.len();
            loop {
                if k == 0 {
                    break 'combos;
                }
                k -= 1;
                combo[k] += 1;
                if combo[k] < axes[k].1.len() {
                    break;
                }
                combo[k] = 0;
            }
        }
    }
    Table { statistic: stat.id, dims: out_dims, rows }
}
