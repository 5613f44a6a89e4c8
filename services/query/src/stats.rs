//! The statistics catalogue (SPEC §5). Each statistic is one SQL definition over the views of
//! [`crate::definitions`] that lists, for every *unit* it counts (a cohort person; for
//! `cohort_flow` also a decision), the unit's values of the statistic's dimensions — one row
//! per person (category empty: the person belongs to the population) and one more per category
//! value the person has (an intervention, a benefit, …). The published cube — `TOTAL` margins
//! over each margin dimension, complete grids with zero cells, denominators and shares — is
//! derived from those rows by [`cube`], and every published number keeps the *set of units* it
//! counts. A number is therefore exactly a sum over the finest cross-classification of the
//! cohort, which is what makes release-wide disclosure control exact linear algebra (SPEC §6,
//! [`crate::disclosure`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{Array, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;

use crate::error::{Error, Result};

pub const TOTAL: &str = "TOTAL";

/// The values of a dimension (complete grids). `decision_year` is taken from the parameters;
/// category dimensions take their values from the statistic ([`Statistic::categories`]).
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
        "rejection_reason" => &["GRUNDLAGGANDE_FORUTSATTNINGAR", "PERSONKRETS", "BEHOV_HOGST_20H", "UNKNOWN"],
        "previous_application" => &["FORSTA", "TIDIGARE"],
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

/// Children (`BARN`) or adults (`VUXNA`) implied by a value of `age_group` or `sex_age`.
fn child_adult_of(dim: &str, value: &str) -> Option<&'static str> {
    match (dim, value) {
        ("age_group", "0-6" | "2-6" | "7-11" | "12-17") | ("sex_age", "FLICKOR" | "POJKAR") => Some("BARN"),
        ("age_group", _) | ("sex_age", _) if value != TOTAL => Some("VUXNA"),
        _ => None,
    }
}

/// One published breakdown: its dimensions (each with a `TOTAL` margin), optionally restricted
/// to one value of another dimension (the rejection-reason breakdown is for refusals only).
#[derive(Debug, Clone, Copy)]
pub struct Breakdown {
    pub dims: &'static [&'static str],
    pub only: Option<(&'static str, &'static str)>,
    /// Decision years before this one have no rows in this breakdown (e.g. LSS group, recorded
    /// from 2018 only).
    pub min_year: Option<i32>,
}

pub(crate) const fn bd(dims: &'static [&'static str]) -> Breakdown {
    Breakdown { dims, only: None, min_year: None }
}

/// Which part of the catalogue a statistic belongs to, and so which delivered tables it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// SPEC §4-§5: the cohort and its support before and after (every delivered table).
    Support,
    /// SPEC-DECISIONS §5b: decision statistics (FK's `persons` and `decisions` only).
    Decisions,
    /// SPEC-DECISIONS D11: decision statistics by residence time (also the arrival dates of the
    /// persons born abroad).
    Residence,
    /// SPEC-DECISIONS §5c: FK's recipients of assistansersättning (everyone's `assistance`).
    Assistance,
    /// SPEC-DECISIONS §5c: personal assistance by payer (also everyone's municipal personal
    /// assistance, `municipal_pa`).
    Payer,
}

impl Family {
    /// The delivered tables the family's statistics read.
    pub fn tables(self) -> &'static [&'static str] {
        match self {
            Family::Support => &["persons", "registered", "decisions", "benefits", "interventions"],
            Family::Decisions => &["persons", "decisions"],
            Family::Residence => &["persons", "decisions", "arrivals"],
            Family::Assistance => &["assistance"],
            Family::Payer => &["assistance", "municipal_pa"],
        }
    }
}

/// The dimension that names a row's counting unit (SPEC-DECISIONS D10): `Y` decisions in one
/// decision year, `D` decisions summed over the period, `P` distinct persons per cell over the
/// period. Internally a P breakdown's rows carry `P:<tag>` so that each breakdown keeps its own
/// person-per-cell units; the published value is the letter.
pub const COUNTING_UNIT: &str = "counting_unit";

/// The three published breakdowns of the support statistics (SPEC §5).
pub const BREAKDOWNS: &[Breakdown] = &[bd(&["sex", "age_group"]), bd(&["birth_country", "sex_age"]), bd(&["lss_group", "sex_age"])];

/// The breakdowns of the intervention tables (59–66): by age group, birth country, LSS group,
/// and — for refusals — rejection reason.
const INTERVENTION_BREAKDOWNS: &[Breakdown] = &[
    bd(&["age_group"]),
    bd(&["birth_country"]),
    bd(&["lss_group"]),
    Breakdown { dims: &["rejection_reason"], only: Some(("outcome", "AVSLAG")), min_year: None },
];

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
    pub breakdowns: &'static [Breakdown],
    /// The category dimensions (their total is the denominator); empty = counts only.
    pub category: &'static [&'static str],
    /// The category values, one tuple per published category (in `category` order).
    pub categories: fn() -> Vec<Vec<&'static str>>,
    /// SQL over the views, for decision years `from..=to`: one row per unit and category value
    /// (category columns empty for the unit's population row), with `unit` and every dimension.
    pub sql: fn(i32, i32) -> String,
    /// Derived ranking: the `k` most common categories of each group (see `top_interventions`).
    pub top: Option<usize>,
    pub family: Family,
    /// Values of dimensions this statistic defines differently from [`domain`] (e.g. the
    /// decision statistics' age groups start at 0-6).
    pub domain: fn(&str) -> Option<&'static [&'static str]>,
    /// Category values published as counts but kept out of the denominators.
    pub not_in_denominator: &'static [&'static str],
}

fn no_override(_: &str) -> Option<&'static [&'static str]> {
    None
}

impl Statistic {
    /// The values of one of the statistic's dimensions (complete grids).
    pub fn values(&self, dim: &str) -> &'static [&'static str] {
        (self.domain)(dim).unwrap_or_else(|| domain(dim))
    }

    /// Every dimension the SQL returns, in order, without duplicates.
    pub fn cell_dims(&self) -> Vec<&'static str> {
        let mut dims: Vec<&'static str> = Vec::new();
        let all = self.fixed.iter().chain(self.always).chain(self.breakdowns.iter().flat_map(|b| b.dims.iter())).chain(self.category);
        for d in all {
            if !dims.contains(d) {
                dims.push(d);
            }
        }
        dims
    }

    /// The published columns: the cell dimensions, with `rank` before the category for a ranking.
    pub fn out_dims(&self) -> Vec<&'static str> {
        let mut dims = self.cell_dims();
        if self.top.is_some() {
            let at = dims.len() - self.category.len();
            dims.insert(at, "rank");
        }
        if let Some(mean) = crate::assistance::mean_column(self.id) {
            dims.push(mean);
        }
        dims
    }
}

pub(crate) fn no_categories() -> Vec<Vec<&'static str>> {
    vec![]
}
fn yes_no() -> Vec<Vec<&'static str>> {
    vec![vec!["YES"], vec!["NO"]]
}
fn support_types() -> Vec<Vec<&'static str>> {
    ["BOTH", "MUNICIPAL_ONLY", "SOCIAL_INSURANCE_ONLY", "NONE"].iter().map(|v| vec![*v]).collect()
}
fn none_only() -> Vec<Vec<&'static str>> {
    vec![vec!["NONE"]]
}
fn municipal_laws() -> Vec<Vec<&'static str>> {
    vec![vec!["SOL"], vec!["LSS"], vec!["NONE"]]
}
fn hsl_only() -> Vec<Vec<&'static str>> {
    vec![vec!["HSL"]]
}
fn benefit_categories() -> Vec<Vec<&'static str>> {
    vec![vec!["OMVARDNADSBIDRAG_VARDBIDRAG"], vec!["MERKOSTNADSERSATTNING"], vec!["HANDIKAPPERSATTNING"]]
}
/// Every SoL and LSS intervention, then the distinct-person subtotals `ALL_LSS`, `ALL_SOL`
/// (law `LSS` / `SOL`) and `ALL_MUNICIPAL` (law empty: SoL or LSS).
fn intervention_categories() -> Vec<Vec<&'static str>> {
    let mut out = Vec::new();
    for law in ["LSS", "SOL"] {
        out.extend(regstat_contract::codes::INTERVENTIONS.iter().filter(|(l, _, _)| *l == law).map(|(l, c, _)| vec![*l, *c]));
        out.push(vec![law, if law == "LSS" { "ALL_LSS" } else { "ALL_SOL" }]);
    }
    out.push(vec!["", "ALL_MUNICIPAL"]);
    out
}
fn single_interventions() -> Vec<Vec<&'static str>> {
    intervention_categories().into_iter().filter(|c| !c[1].starts_with("ALL_")).collect()
}
fn personal_assistance() -> Vec<Vec<&'static str>> {
    vec![vec!["LSS", "PERSONLIG_ASSISTANS"]]
}

/// The cohort's person-level dimensions, as selected by most statistics.
const PERSON_DIMS: &str = "c.sex, c.age_group, c.birth_country, c.sex_age, c.lss_group";

fn cohort_flow_sql(from: i32, to: i32) -> String {
    // A decision (rules DECISIONS, QUALIFYING) is one unit, named by its keyed reference: the
    // number of decisions dated in a year does not depend on the range asked for, and neither do
    // its units, so the release ledger sees the same cell in every range and delivery. From
    // FIRST_PER_PERSON on, the unit is the person (the same unit as in every other statistic).
    let unit = "d.pseudonym || '#' || d.decision_ref";
    let years = format!("d.decision_year BETWEEN {from} AND {to}");
    let flow = |rule: &str, cond: &str| {
        format!("SELECT pseudonym AS unit, CAST(decision_year AS VARCHAR) AS decision_year, '{rule}' AS rule FROM flow WHERE {cond}")
    };
    [
        format!(
            "SELECT {unit} AS unit, CAST(d.decision_year AS VARCHAR) AS decision_year, 'DECISIONS' AS rule \
             FROM decisions_y d WHERE {years}"
        ),
        format!(
            "SELECT {unit}, CAST(d.decision_year AS VARCHAR), 'QUALIFYING' \
             FROM qualifying d WHERE {years}"
        ),
        flow("FIRST_PER_PERSON", "true"),
        flow("REGISTERED_D_MINUS_2", "reg_m2"),
        flow("REGISTERED_D_MINUS_1", "reg_m2 AND reg_m1"),
        flow("REGISTERED_D", "reg_m2 AND reg_m1 AND reg_0"),
        flow("REGISTERED_D_PLUS_1", "reg_m2 AND reg_m1 AND reg_0 AND reg_p1"),
    ]
    .join(" UNION ALL ")
}

fn municipal_support_before_after_sql(_: i32, _: i32) -> String {
    format!(
        "SELECT c.pseudonym AS unit, c.period, c.outcome, {PERSON_DIMS}, \
           CASE WHEN m.pseudonym IS NULL THEN 'NO' ELSE 'YES' END AS municipal_support \
         FROM periods c \
         LEFT JOIN municipal_years m ON m.pseudonym = c.pseudonym AND m.year = c.support_year"
    )
}

fn other_support_before_sql(_: i32, _: i32) -> String {
    format!(
        "SELECT c.pseudonym AS unit, {PERSON_DIMS}, \
           CASE WHEN m.pseudonym IS NOT NULL AND b.pseudonym IS NOT NULL THEN 'BOTH' \
                WHEN m.pseudonym IS NOT NULL THEN 'MUNICIPAL_ONLY' \
                WHEN b.pseudonym IS NOT NULL THEN 'SOCIAL_INSURANCE_ONLY' \
                ELSE 'NONE' END AS support_type \
         FROM cohort_dims c \
         LEFT JOIN municipal_years m ON m.pseudonym = c.pseudonym AND m.year = c.decision_year - 1 \
         LEFT JOIN support_years b ON b.pseudonym = c.pseudonym AND b.year = c.decision_year - 1"
    )
}

fn municipal_law_before_sql(_: i32, _: i32) -> String {
    format!(
        "SELECT c.pseudonym AS unit, {PERSON_DIMS}, '' AS law FROM cohort_dims c \
         UNION ALL \
         SELECT DISTINCT c.pseudonym, {PERSON_DIMS}, i.law FROM cohort_dims c \
         JOIN intervention_years i ON i.pseudonym = c.pseudonym AND i.year = c.decision_year - 1 AND i.law IN ('SOL', 'LSS') \
         UNION ALL \
         SELECT c.pseudonym, {PERSON_DIMS}, 'NONE' FROM cohort_dims c \
         LEFT JOIN municipal_years m ON m.pseudonym = c.pseudonym AND m.year = c.decision_year - 1 \
         WHERE m.pseudonym IS NULL"
    )
}

fn benefits_before_sql(_: i32, _: i32) -> String {
    format!(
        "SELECT c.pseudonym AS unit, {PERSON_DIMS}, '' AS benefit FROM cohort_dims c \
         UNION ALL \
         SELECT c.pseudonym, {PERSON_DIMS}, b.benefit FROM cohort_dims c \
         JOIN benefit_years b ON b.pseudonym = c.pseudonym AND b.year = c.decision_year - 1"
    )
}

fn hsl_before_sql(_: i32, _: i32) -> String {
    "SELECT c.pseudonym AS unit, c.child_adult, c.sex, '' AS law FROM cohort_dims c \
     UNION ALL \
     SELECT DISTINCT c.pseudonym, c.child_adult, c.sex, 'HSL' FROM cohort_dims c \
     JOIN intervention_years i ON i.pseudonym = c.pseudonym AND i.year = c.decision_year - 1 AND i.law = 'HSL'"
        .into()
}

fn interventions_before_after_sql(_: i32, _: i32) -> String {
    let dims = "c.period, c.child_adult, c.outcome, c.age_group, c.birth_country, c.lss_group, c.rejection_reason";
    format!(
        "SELECT c.pseudonym AS unit, {dims}, '' AS law, '' AS intervention FROM periods c \
         UNION ALL \
         SELECT c.pseudonym, {dims}, i.law, i.intervention FROM periods c \
         JOIN intervention_years i ON i.pseudonym = c.pseudonym AND i.year = c.support_year AND i.law IN ('SOL', 'LSS') \
         UNION ALL \
         SELECT DISTINCT c.pseudonym, {dims}, i.law, 'ALL_' || i.law FROM periods c \
         JOIN intervention_years i ON i.pseudonym = c.pseudonym AND i.year = c.support_year AND i.law IN ('SOL', 'LSS') \
         UNION ALL \
         SELECT c.pseudonym, {dims}, '', 'ALL_MUNICIPAL' FROM periods c \
         JOIN municipal_years m ON m.pseudonym = c.pseudonym AND m.year = c.support_year"
    )
}

fn no_support_after_sql(_: i32, _: i32) -> String {
    "SELECT c.pseudonym AS unit, c.outcome, c.child_adult, '' AS support_type FROM cohort_dims c \
     UNION ALL \
     SELECT c.pseudonym, c.outcome, c.child_adult, 'NONE' FROM cohort_dims c \
     LEFT JOIN municipal_years m ON m.pseudonym = c.pseudonym AND m.year = c.decision_year + 1 \
     LEFT JOIN support_years b ON b.pseudonym = c.pseudonym AND b.year = c.decision_year + 1 \
     WHERE m.pseudonym IS NULL AND b.pseudonym IS NULL"
        .into()
}

fn pa_by_previous_application_sql(_: i32, _: i32) -> String {
    let dims = "c.period, c.outcome, c.previous_application, c.child_adult";
    format!(
        "SELECT c.pseudonym AS unit, {dims}, '' AS law, '' AS intervention FROM periods c \
         UNION ALL \
         SELECT c.pseudonym, {dims}, i.law, i.intervention FROM periods c \
         JOIN intervention_years i ON i.pseudonym = c.pseudonym AND i.year = c.support_year \
           AND i.law = 'LSS' AND i.intervention = 'PERSONLIG_ASSISTANS'"
    )
}

/// The catalogue of SPEC §5 and SPEC-DECISIONS §5b, in publication order.
pub const CATALOGUE: &[Statistic] = &[
    Statistic {
        id: "cohort_flow",
        doc: "How many pass each rule of SPEC §4, cumulatively, by decision year: DECISIONS (all decisions dated in the year), \
              QUALIFYING (qualifying decisions), FIRST_PER_PERSON (persons, from here on: the first qualifying decision in the years), \
              then registered on 31 December of D-2, D-1, D and D+1 (the last is the cohort). n only.",
        report_tables: "(method transparency)",
        fixed: &["rule"],
        always: &["decision_year"],
        breakdowns: &[bd(&[])],
        category: &[],
        categories: no_categories,
        sql: cohort_flow_sql,
        top: None,
        family: Family::Support,
        domain: no_override,
        not_in_denominator: &[],
    },
    Statistic {
        id: "other_support_before",
        doc: "Cohort persons by type of other support in the year before the decision (D-1): BOTH municipal support (an \
              executed SoL or LSS intervention) and social insurance (a payment > 0 of omvårdnadsbidrag/vårdbidrag, \
              merkostnadsersättning or handikappersättning, attributed to the child for child benefits), MUNICIPAL_ONLY, \
              SOCIAL_INSURANCE_ONLY, NONE. Denominator: cohort persons in the group.",
        report_tables: "47, 48, 49; fig. 25-29",
        fixed: &[],
        always: &[],
        breakdowns: BREAKDOWNS,
        category: &["support_type"],
        categories: support_types,
        sql: other_support_before_sql,
        top: None,
        family: Family::Support,
        domain: no_override,
        not_in_denominator: &[],
    },
    Statistic {
        id: "municipal_law_before",
        doc: "Cohort persons with an executed SoL intervention, with an executed LSS intervention, and with no municipal \
              support (neither), in the year before the decision. A person with both SoL and LSS counts under both, so the \
              shares do not add up to 100.",
        report_tables: "50, 51, 52",
        fixed: &[],
        always: &[],
        breakdowns: BREAKDOWNS,
        category: &["law"],
        categories: municipal_laws,
        sql: municipal_law_before_sql,
        top: None,
        family: Family::Support,
        domain: no_override,
        not_in_denominator: &[],
    },
    Statistic {
        id: "benefits_before",
        doc: "Cohort persons with a payment > 0 of each benefit in the year before the decision, attributed to the person it \
              concerns (the child for benefits paid to parents); omvårdnadsbidrag and vårdbidrag are one category.",
        report_tables: "53, 54, 55; fig. 30",
        fixed: &[],
        always: &[],
        breakdowns: BREAKDOWNS,
        category: &["benefit"],
        categories: benefit_categories,
        sql: benefits_before_sql,
        top: None,
        family: Family::Support,
        domain: no_override,
        not_in_denominator: &[],
    },
    Statistic {
        id: "hsl_before",
        doc: "Cohort persons with an executed HSL intervention (municipal health care; not municipal support) in the year \
              before the decision, by children/adults and sex.",
        report_tables: "text p. 58-59",
        fixed: &[],
        always: &[],
        breakdowns: &[bd(&["child_adult", "sex"])],
        category: &["law"],
        categories: hsl_only,
        sql: hsl_before_sql,
        top: None,
        family: Family::Support,
        domain: no_override,
        not_in_denominator: &[],
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
        category: &["municipal_support"],
        categories: yes_no,
        sql: municipal_support_before_after_sql,
        top: None,
        family: Family::Support,
        domain: no_override,
        not_in_denominator: &[],
    },
    Statistic {
        id: "interventions_before_after",
        doc: "Cohort persons with each executed SoL and LSS intervention in the year before and the year after the decision, \
              by outcome, for children and adults by age group, birth country, LSS group and (refusals) rejection reason. \
              ALL_LSS / ALL_SOL / ALL_MUNICIPAL are DISTINCT persons with any LSS / any SoL / any SoL or LSS intervention \
              (the report's tables 59-66 print the sums of the intervention rows instead). Shares of ALL_LSS and ALL_SOL \
              for children and adults are tables 4 and 10.",
        report_tables: "59-66; 4, 10",
        fixed: &["period"],
        always: &["child_adult", "outcome"],
        breakdowns: INTERVENTION_BREAKDOWNS,
        category: &["law", "intervention"],
        categories: intervention_categories,
        sql: interventions_before_after_sql,
        top: None,
        family: Family::Support,
        domain: no_override,
        not_in_denominator: &[],
    },
    Statistic {
        id: "top_interventions",
        doc: "The three most common single SoL/LSS interventions among the PUBLISHED counts (rank 1-3, by number of \
              persons; ties by the code list's order) in each group of interventions_before_after, with n, denominator and \
              share. Hidden counts are not ranked or listed, so the ranking reveals nothing about them; a group may list \
              fewer than three. The numbers are the same cells as in interventions_before_after and are protected together \
              with them.",
        report_tables: "5, 6-9, 11-15",
        fixed: &["period"],
        always: &["child_adult", "outcome"],
        breakdowns: INTERVENTION_BREAKDOWNS,
        category: &["law", "intervention"],
        categories: single_interventions,
        sql: interventions_before_after_sql,
        top: Some(3),
        family: Family::Support,
        domain: no_override,
        not_in_denominator: &[],
    },
    Statistic {
        id: "no_support_after",
        doc: "Cohort persons with neither municipal support (SoL/LSS) nor social-insurance support (a payment > 0 of the four \
              benefits) in the year after the decision, by outcome and children/adults.",
        report_tables: "text p. 65, 70",
        fixed: &[],
        always: &["outcome", "child_adult"],
        breakdowns: &[bd(&[])],
        category: &["support_type"],
        categories: none_only,
        sql: no_support_after_sql,
        top: None,
        family: Family::Support,
        domain: no_override,
        not_in_denominator: &[],
    },
    Statistic {
        id: "pa_by_previous_application",
        doc: "Cohort persons with personal assistance under LSS (an executed PERSONLIG_ASSISTANS intervention) in the year \
              before and the year after the decision, by outcome, previous application (FORSTA / TIDIGARE: the nearest earlier \
              qualifying decision was a refusal) and children/adults.",
        report_tables: "fig. 32, 34",
        fixed: &["period"],
        always: &["outcome", "previous_application", "child_adult"],
        breakdowns: &[bd(&[])],
        category: &["law", "intervention"],
        categories: personal_assistance,
        sql: pa_by_previous_application_sql,
        top: None,
        family: Family::Support,
        domain: no_override,
        not_in_denominator: &[],
    },
    crate::decisions::DECISION_FLOW,
    crate::decisions::DECISIONS_BY_GROUP,
    crate::decisions::REFUSAL_REASONS,
    crate::decisions::ASSESSED_HOURS,
    crate::decisions::DECISION_NUMBER,
    crate::decisions::TIME_SINCE_PREVIOUS,
    crate::decisions::REFUSAL_BY_PREVIOUS_APPLICATION,
    crate::decisions::REAPPLICATION_AFTER_REFUSAL,
    crate::decisions::REFUSAL_REGRESSION,
    crate::decisions::REFUSAL_BY_RESIDENCE_TIME,
    crate::decisions::REFUSAL_REASONS_BY_RESIDENCE_TIME,
    crate::assistance::PA_BY_PAYER,
    crate::assistance::FK_RECIPIENTS_BY_PROVIDER,
    crate::assistance::FK_HOURS_PER_RECIPIENT,
];

pub fn find(id: &str) -> Result<&'static Statistic> {
    CATALOGUE.iter().find(|s| s.id == id).ok_or_else(|| Error::NotFound(format!("no statistic `{id}`")))
}

/// A set of units (sorted, distinct): what a published number counts.
pub type Units = Arc<Vec<u32>>;

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
    /// The units counted in `n` and in the denominator.
    pub units: Units,
    pub denominator_units: Option<Units>,
}

impl Row {
    pub fn share_pct(&self) -> Option<f64> {
        self.denominator.filter(|d| *d > 0).map(|d| 100.0 * self.n as f64 / d as f64)
    }
}

/// Interns unit identifiers (pseudonyms, decision references) as small integers, shared by
/// every statistic of a release so that the same person is the same coordinate everywhere.
#[derive(Debug, Default)]
pub struct Universe {
    ids: ahash::AHashMap<String, u32>,
    names: Vec<String>,
}

impl Universe {
    pub fn intern(&mut self, unit: &str) -> u32 {
        if let Some(&i) = self.ids.get(unit) {
            return i;
        }
        let i = self.ids.len() as u32;
        self.ids.insert(unit.to_string(), i);
        self.names.push(unit.to_string());
        i
    }

    /// The unit identifiers (pseudonyms; `pseudonym#decision_ref` for decisions), by number.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Finest cells from a statistic's SQL rows: (dimension values in `dims` order) → units.
pub fn finest(batches: &[RecordBatch], dims: &[&str], universe: &mut Universe) -> Result<HashMap<Vec<String>, Vec<u32>>> {
    let text = |b: &RecordBatch, name: &str| -> Result<StringArray> {
        let c = b.column_by_name(name).ok_or_else(|| Error::BadRequest(format!("definition lacks column {name}")))?;
        let c = cast(c, &DataType::Utf8)?;
        Ok(c.as_any().downcast_ref::<StringArray>().cloned().unwrap_or_else(|| StringArray::from(Vec::<&str>::new())))
    };
    // Each dimension's values numbered as they come (NULL is the empty value); cells are keyed
    // by the numbers while the rows are read, and named once at the end.
    let mut numbers: Vec<ahash::AHashMap<String, u32>> = vec![Default::default(); dims.len()];
    let mut cells: ahash::AHashMap<Vec<u32>, Vec<u32>> = Default::default();
    let mut key: Vec<u32> = Vec::with_capacity(dims.len());
    for b in batches {
        let cols: Vec<StringArray> = dims.iter().map(|d| text(b, d)).collect::<Result<_>>()?;
        let units = text(b, "unit")?;
        for i in 0..b.num_rows() {
            key.clear();
            for (c, numbered) in cols.iter().zip(numbers.iter_mut()) {
                let v = if c.is_null(i) { "" } else { c.value(i) };
                let id = match numbered.get(v) {
                    Some(id) => *id,
                    None => {
                        let id = numbered.len() as u32;
                        numbered.insert(v.to_string(), id);
                        id
                    }
                };
                key.push(id);
            }
            let unit = universe.intern(units.value(i));
            match cells.get_mut(key.as_slice()) {
                Some(u) => u.push(unit),
                None => {
                    cells.insert(key.clone(), vec![unit]);
                }
            }
        }
    }
    let names: Vec<Vec<&str>> = numbers
        .iter()
        .map(|numbered| {
            let mut names = vec![""; numbered.len()];
            for (v, id) in numbered {
                names[*id as usize] = v.as_str();
            }
            names
        })
        .collect();
    let mut out: HashMap<Vec<String>, Vec<u32>> = HashMap::with_capacity(cells.len());
    for (k, mut v) in cells {
        v.sort_unstable();
        v.dedup();
        out.insert(k.iter().zip(&names).map(|(id, names)| names[*id as usize].to_string()).collect(), v);
    }
    Ok(out)
}

fn union<'a>(sets: impl Iterator<Item = &'a Vec<u32>>) -> Vec<u32> {
    let mut all: Vec<u32> = sets.flat_map(|s| s.iter().copied()).collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// A finest cell without its category, its values numbered per position: (value numbers, units).
type Cell<'a> = (Vec<u32>, &'a Vec<u32>);

/// Build the published cube of a statistic from its finest cells.
pub fn cube(stat: &Statistic, cells: &HashMap<Vec<String>, Vec<u32>>, years: &[String]) -> Table {
    let cell_dims = stat.cell_dims();
    let values_of = |dim: &str| -> Vec<String> {
        if dim == "decision_year" {
            years.to_vec()
        } else if let Some(values) = crate::assistance::calendar_values(dim, years) {
            values
        } else {
            stat.values(dim).iter().map(|s| s.to_string()).collect()
        }
    };
    let pos: BTreeMap<&str, usize> = cell_dims.iter().enumerate().map(|(i, d)| (*d, i)).collect();
    let ncat = stat.category.len();
    let nkey = cell_dims.len() - ncat;
    let categories: Vec<Vec<String>> = if ncat == 0 {
        vec![vec![]]
    } else {
        (stat.categories)().into_iter().map(|c| c.into_iter().map(String::from).collect()).collect()
    };
    // The cells' dimension values numbered per position, so that selecting the cells of a row
    // compares numbers, not strings. Cells by category value (the population rows have an empty
    // category), and the denominators' cells: every cell but those of the categories a statistic
    // keeps out of its denominators (an unknown rejection reason, SPEC-DECISIONS D6).
    let mut dict: Vec<HashMap<&str, u32>> = vec![HashMap::new(); nkey];
    let mut by_category: HashMap<&[String], Vec<Cell<'_>>> = HashMap::new();
    let mut all_cells: Vec<Cell<'_>> = Vec::new();
    for (k, units) in cells {
        let key: Vec<u32> = k[..nkey]
            .iter()
            .zip(dict.iter_mut())
            .map(|(v, d)| {
                let next = d.len() as u32;
                *d.entry(v.as_str()).or_insert(next)
            })
            .collect();
        let category = &k[nkey..];
        if !category.iter().any(|v| stat.not_in_denominator.contains(&v.as_str())) {
            all_cells.push((key.clone(), units));
        }
        by_category.entry(category).or_default().push((key, units));
    }
    let unit_at = cell_dims.iter().position(|d| *d == COUNTING_UNIT);
    let year_at = cell_dims.iter().position(|d| *d == "decision_year");
    let mut rows = Vec::new();
    for breakdown in stat.breakdowns {
        // (dimension, its values incl. TOTAL when it has a margin)
        let mut axes: Vec<(&str, Vec<String>)> = Vec::new();
        for d in stat.fixed {
            axes.push((d, values_of(d)));
        }
        for d in stat.always.iter().chain(breakdown.dims.iter()) {
            let v = match breakdown.only.filter(|(od, _)| od == d) {
                Some((_, only)) => vec![only.to_string()],
                None => values_of(d).into_iter().chain([TOTAL.to_string()]).collect(),
            };
            axes.push((d, v));
        }
        let mut combo = vec![0usize; axes.len()];
        'combos: loop {
            let chosen: BTreeMap<&str, &str> = axes.iter().zip(&combo).map(|((d, v), i)| (*d, v[*i].as_str())).collect();
            // Combinations that cannot exist (a child's age group among adults) are not rows.
            let consistent = chosen.iter().all(|(d, v)| match (child_adult_of(d, v), chosen.get("child_adult")) {
                (Some(implied), Some(ca)) if *ca != TOTAL => implied == *ca,
                _ => true,
            });
            let too_early = match (breakdown.min_year, chosen.get("decision_year").and_then(|y| y.parse::<i32>().ok())) {
                (Some(min), Some(y)) => y < min,
                _ => false,
            };
            if consistent && !too_early {
                // (position, value number) of every chosen value but TOTAL; a value no cell has
                // selects no cell.
                let wanted: Option<Vec<(usize, u32)>> = chosen
                    .iter()
                    .filter(|(_, v)| **v != TOTAL)
                    .map(|(d, v)| dict[pos[d]].get(v).map(|id| (pos[d], *id)))
                    .collect();
                let matches = |key: &[u32]| wanted.as_ref().is_some_and(|w| w.iter().all(|(p, id)| key[*p] == *id));
                let denominator: Units = Arc::new(union(all_cells.iter().filter(|(k, _)| matches(k)).map(|(_, u)| *u)));
                let prefix: Vec<String> = cell_dims[..nkey].iter().map(|d| chosen.get(d).map(|v| v.to_string()).unwrap_or_default()).collect();
                for cat in &categories {
                    let units: Units = if ncat == 0 {
                        denominator.clone()
                    } else {
                        let cat_cells = by_category.get(cat.as_slice()).map(Vec::as_slice).unwrap_or(&[]);
                        Arc::new(union(cat_cells.iter().filter(|(k, _)| matches(k)).map(|(_, u)| *u)))
                    };
                    let mut values = prefix.clone();
                    values.extend(cat.iter().cloned());
                    if let Some(i) = unit_at {
                        values[i] = published_unit(&values[i], year_at.map(|y| values[y].as_str()));
                    }
                    rows.push(Row {
                        values,
                        n: units.len() as i64,
                        denominator: (ncat > 0).then_some(denominator.len() as i64),
                        denominator_units: (ncat > 0).then(|| denominator.clone()),
                        units,
                    });
                }
            }
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
    let table = Table { statistic: stat.id, dims: cell_dims, rows };
    match stat.top {
        Some(k) => top(stat, table, k),
        None => table,
    }
}

/// The published counting unit of a row: `P:<tag>` is `P`, and a `Y` row over all years (the
/// `TOTAL` decision year) sums the years, so it is `D`.
fn published_unit(internal: &str, decision_year: Option<&str>) -> String {
    let letter = internal.split(':').next().unwrap_or(internal);
    if letter == "Y" && decision_year == Some(TOTAL) {
        "D".to_string()
    } else {
        letter.to_string()
    }
}

/// The rows a ranking may draw on: every category with persons, in category order, with an
/// empty `rank`. The ranks themselves are given after disclosure control by [`rank_released`],
/// from the published counts only.
fn top(stat: &Statistic, table: Table, _k: usize) -> Table {
    let ncat = stat.category.len();
    let nkey = table.dims.len() - ncat;
    let dims = stat.out_dims();
    let rows = table
        .rows
        .into_iter()
        .filter(|r| r.n > 0)
        .map(|mut r| {
            r.values.insert(nkey, String::new());
            r
        })
        .collect();
    Table { statistic: table.statistic, dims, rows }
}

/// The ranking of a released table (SPEC §6: a ranked list must not order hidden cells by
/// their true values): per group (rows that agree on every non-category dimension), the `k`
/// categories with the largest **published** counts, ties by the category order; hidden counts
/// and zeros are not ranked, and so are not listed. Everything it uses is published.
pub fn rank_released(stat: &Statistic, dims: &[&str], rows: Vec<crate::disclosure::Released>) -> Vec<crate::disclosure::Released> {
    let Some(k) = stat.top else { return rows };
    let Some(at) = dims.iter().position(|d| *d == "rank") else { return rows };
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let mut j = i;
        while j < rows.len() && rows[j].values[..at] == rows[i].values[..at] {
            j += 1;
        }
        let mut group: Vec<&crate::disclosure::Released> = rows[i..j].iter().filter(|r| r.n.is_some_and(|n| n > 0)).collect();
        group.sort_by_key(|r| std::cmp::Reverse(r.n)); // stable: ties keep the category order
        for (rank, r) in group.into_iter().take(k).enumerate() {
            let mut r = r.clone();
            r.values[at] = (rank + 1).to_string();
            out.push(r);
        }
        i = j;
    }
    out
}
