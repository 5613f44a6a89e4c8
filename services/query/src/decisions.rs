//! The decision statistics of SPEC-DECISIONS §5b on DataFusion: who applies and who is refused,
//! why, assessed hours, repeated applications. They read FK's `persons` and `decisions` only
//! (a delivery linked for them alone pulls nothing from Socialstyrelsen).
//!
//! Definitions, as SQL views over a delivery (read top to bottom, D1-D10 of §5b.1):
//!
//! - `dd_d1`, `dd_qualifying` (D1): `ANSOKAN`/`ANMALAN`, `BIFALL`/`AVSLAG`, not a refusal changed
//!   on appeal; and, where the delivery has `recipient_months` (FK's `assistance_months`, §5c),
//!   not a person with a right in the month before the decision month (`CURRENT_RECIPIENT`).
//! - `dd_kept` (D2): per person, decision year and outcome the earliest qualifying decision
//!   (ties by `decision_id`, which `decision_seq` carries through pseudonymisation). These are
//!   "decisions" below.
//! - `dd_history` (D8): each person's kept decisions from 2002 on, numbered by (date, id), with
//!   the nearest earlier one's outcome and date; `dd_early`: persons with a qualifying decision
//!   before 2002 (out of the history statistics entirely).
//! - `dd_decisions`: kept decisions of persons with an accepted `persons` row (D4 `NO_PERSON`),
//!   with D3 age (decision year − birth year) and groups from 0-6, D5 LSS group, D6 reason
//!   (`ANNAN` counted with `BEHOV_HOGST_20H`, none = `UNKNOWN`), D7 hours bin, D8 decision number
//!   and previous application (`FORSTA`, `TIDIGARE`, `AFTER_GRANT`), D9 completed years since
//!   the nearest earlier refusal.
//!
//! Counting units (D10) are explicit in every row (`counting_unit`): a Y or D cell counts
//! decisions (each decision is one unit), a P cell counts distinct persons (each person once per
//! cell: its units are person-and-cell, so a TOTAL row is the sum of the printed cells, as
//! published).

use crate::stats::{bd, Breakdown, Family, Statistic, COUNTING_UNIT};

/// First year of the history that counts (D8: "första beslut från och med 2002").
pub const HISTORY_FROM: i32 = 2002;
/// The base year of `reapplication_after_refusal` (T46) when the delivery covers it.
pub const REAPPLICATION_BASE_YEAR: i32 = 2018;

/// The views, in dependency order. Independent of the decision years (statistics filter).
/// `recipients`: the delivery has `recipient_months` (FK's `assistance_months` of the persons,
/// the months before their applications), so D1's `CURRENT_RECIPIENT` rule applies.
pub fn views(recipients: bool) -> Vec<(&'static str, String)> {
    // D1, last rule, where assistance_months is delivered: an application or notification of a
    // person who had a right to assistansersättning in the month before the decision month is a
    // recipient's request, not a claim to the right. Months as numbers: year * 12 + month - 1.
    let current_recipient = if recipients {
        "SELECT d.* FROM dd_d1 d \
         LEFT JOIN (SELECT DISTINCT pseudonym, \
                      CAST(substr(month, 1, 4) AS INT) * 12 + CAST(substr(month, 6, 2) AS INT) - 1 AS m \
                    FROM recipient_months) r \
           ON r.pseudonym = d.pseudonym \
          AND r.m = CAST(date_part('year', d.decision_date) * 12 + date_part('month', d.decision_date) - 2 AS INT) \
         WHERE r.pseudonym IS NULL"
            .to_string()
    } else {
        "SELECT * FROM dd_d1".to_string()
    };
    vec![
        (
            "dd_d1",
            // D1
            "SELECT *, CAST(date_part('year', decision_date) AS INT) AS decision_year FROM decisions \
             WHERE kind IN ('ANSOKAN', 'ANMALAN') AND outcome IN ('BIFALL', 'AVSLAG') \
               AND NOT (outcome = 'AVSLAG' AND changed_on_appeal)"
                .into(),
        ),
        ("dd_qualifying", current_recipient),
        (
            "dd_kept",
            // D2: one refusal and one grant per person and year, the first of each.
            "SELECT * FROM ( \
               SELECT q.*, row_number() OVER (PARTITION BY pseudonym, decision_year, outcome ORDER BY decision_date, decision_seq) AS rn_year \
               FROM dd_qualifying q) \
             WHERE rn_year = 1"
                .into(),
        ),
        (
            "dd_early",
            // D8: a qualifying decision before 2002 takes the person out of the history statistics.
            format!("SELECT DISTINCT pseudonym FROM dd_qualifying WHERE decision_year < {HISTORY_FROM}"),
        ),
        (
            "dd_history",
            // D8/D9: rank among the kept decisions since 2002, the nearest earlier one.
            format!(
                "SELECT pseudonym, decision_seq, \
                   row_number() OVER (PARTITION BY pseudonym ORDER BY decision_date, decision_seq) AS k, \
                   lag(outcome) OVER (PARTITION BY pseudonym ORDER BY decision_date, decision_seq) AS prev_outcome, \
                   lag(decision_date) OVER (PARTITION BY pseudonym ORDER BY decision_date, decision_seq) AS prev_date \
                 FROM dd_kept WHERE decision_year >= {HISTORY_FROM}"
            ),
        ),
        (
            "dd_base",
            // D3-D9 for every kept decision of a person with an accepted persons row (D4).
            "SELECT k.pseudonym, k.pseudonym || '#' || k.decision_ref AS decision_unit, k.decision_seq, k.decision_date, \
               k.decision_year, k.outcome, k.decision_year - p.birth_year AS age, p.sex, p.birth_country, \
               CASE WHEN k.lss_group IS NULL THEN 'NONE' ELSE CAST(k.lss_group AS VARCHAR) END AS lss_group, \
               CASE WHEN k.outcome <> 'AVSLAG' THEN '' \
                    WHEN k.rejection_reason IS NULL THEN 'UNKNOWN' \
                    WHEN k.rejection_reason = 'ANNAN' THEN 'BEHOV_HOGST_20H' \
                    ELSE k.rejection_reason END AS rejection_reason, \
               CASE WHEN k.assessed_hours IS NULL OR k.assessed_hours < 0 OR k.assessed_hours > 20 THEN 'UNKNOWN' \
                    WHEN k.assessed_hours = 0 THEN '0' WHEN k.assessed_hours <= 5 THEN '0.1-5' \
                    WHEN k.assessed_hours <= 10 THEN '5.1-10' WHEN k.assessed_hours <= 15 THEN '10.1-15' \
                    ELSE '15.1-20' END AS hours_bin, \
               e.pseudonym IS NOT NULL AS history_before_2002, h.k, h.prev_outcome, \
               CASE WHEN h.prev_date IS NULL THEN NULL \
                    ELSE CAST(date_part('year', k.decision_date) - date_part('year', h.prev_date) \
                      - CASE WHEN date_part('month', k.decision_date) * 100 + date_part('day', k.decision_date) \
                                < date_part('month', h.prev_date) * 100 + date_part('day', h.prev_date) THEN 1 ELSE 0 END AS INT) \
               END AS years_since_previous \
             FROM dd_kept k \
             JOIN persons p ON p.pseudonym = k.pseudonym \
             LEFT JOIN dd_early e ON e.pseudonym = k.pseudonym \
             LEFT JOIN dd_history h ON h.pseudonym = k.pseudonym AND h.decision_seq = k.decision_seq"
                .into(),
        ),
        (
            "dd_decisions",
            // Groups: age groups from 0-6 (D3: no registration rule), children/adults, sex-and-age,
            // decision number, previous application, time since the previous decision.
            format!(
                "SELECT *, {}, \
               CASE WHEN k = 1 THEN 'FIRST' WHEN k = 2 THEN 'SECOND' ELSE 'THIRD_PLUS' END AS decision_number, \
               CASE WHEN k = 1 THEN 'FORSTA' WHEN prev_outcome = 'AVSLAG' THEN 'TIDIGARE' ELSE 'AFTER_GRANT' END AS previous_application, \
               CASE WHEN years_since_previous <= 3 THEN '0-3' WHEN years_since_previous <= 6 THEN '4-6' ELSE '7+' END AS time_since_previous \
             FROM dd_base",
                crate::definitions::person_groups("0-6")
            ),
        ),
        (
            // The population of the history statistics T31-T45 (D8): from 2002, no earlier
            // history, not after a grant.
            "dd_d8",
            format!(
                "SELECT * FROM dd_decisions WHERE decision_year >= {HISTORY_FROM} AND NOT history_before_2002 \
                 AND previous_application <> 'AFTER_GRANT'"
            ),
        ),
    ]
}

/// The view of SPEC-DECISIONS D11, for a delivery with `arrivals` (the residence-time family):
/// each decision of a person born abroad with the completed years (anniversary rule, as D9)
/// since the latest arrival on or before the decision date, in bins `0-4`, `5-9`, `10+`;
/// `UNKNOWN` when there is none.
pub fn residence_views() -> Vec<(&'static str, String)> {
    vec![(
        "dd_residence",
        "SELECT d.*, \
           CASE WHEN x.arrival IS NULL THEN 'UNKNOWN' \
                WHEN x.years <= 4 THEN '0-4' WHEN x.years <= 9 THEN '5-9' ELSE '10+' END AS residence_years \
         FROM dd_decisions d \
         LEFT JOIN ( \
           SELECT decision_unit, arrival, \
             CAST(date_part('year', decision_date) - date_part('year', arrival) \
               - CASE WHEN date_part('month', decision_date) * 100 + date_part('day', decision_date) \
                         < date_part('month', arrival) * 100 + date_part('day', arrival) THEN 1 ELSE 0 END AS INT) AS years \
           FROM (SELECT d.decision_unit, d.decision_date, max(a.arrival_date) AS arrival \
                 FROM dd_decisions d JOIN arrivals a ON a.pseudonym = d.pseudonym AND a.arrival_date <= d.decision_date \
                 WHERE d.birth_country = 'UTRIKES' \
                 GROUP BY d.decision_unit, d.decision_date)) x ON x.decision_unit = d.decision_unit \
         WHERE d.birth_country = 'UTRIKES'"
            .into(),
    )]
}

/// Values of the decision statistics' own dimensions.
fn decision_domain(dim: &str) -> Option<&'static [&'static str]> {
    Some(match dim {
        "age_group" => &["0-6", "7-11", "12-17", "18-29", "30-49", "50-64", "65+"],
        "rule" => &[
            "DECISIONS",
            "KIND",
            "OUTCOME",
            "NOT_CHANGED_ON_APPEAL",
            "CURRENT_RECIPIENT",
            "ONE_PER_YEAR",
            "NO_PERSON",
            "HISTORY_BEFORE_2002",
            "AFTER_GRANT",
        ],
        "hours_bin" => HOURS_BINS,
        "residence_years" => &["0-4", "5-9", "10+", "UNKNOWN"],
        _ => return None,
    })
}

const HOURS_BINS: &[&str] = &["0", "0.1-5", "5.1-10", "10.1-15", "15.1-20", "UNKNOWN"];

fn one_each(values: &[&'static str]) -> Vec<Vec<&'static str>> {
    values.iter().map(|v| vec![*v]).collect()
}
fn outcomes() -> Vec<Vec<&'static str>> {
    one_each(&["AVSLAG", "BIFALL"])
}
fn reasons() -> Vec<Vec<&'static str>> {
    one_each(&["GRUNDLAGGANDE_FORUTSATTNINGAR", "PERSONKRETS", "BEHOV_HOGST_20H", "UNKNOWN"])
}
fn hours_bins() -> Vec<Vec<&'static str>> {
    one_each(HOURS_BINS)
}
fn decision_numbers() -> Vec<Vec<&'static str>> {
    one_each(&["FIRST", "SECOND", "THIRD_PLUS"])
}
fn times_since_previous() -> Vec<Vec<&'static str>> {
    one_each(&["0-3", "4-6", "7+"])
}
fn reapplication_stages() -> Vec<Vec<&'static str>> {
    vec![vec!["REFUSED", "TOTAL"], vec!["REAPPLIED", "TOTAL"], vec!["REAPPLIED", "AVSLAG"], vec!["REAPPLIED", "BIFALL"]]
}

/// One kind of unit row: `unit` is `Y`, `D` or `P:<tag>`, `key` the dimensions that make a P
/// unit (a person in a cell).
struct Units<'a> {
    unit: &'a str,
    key: Vec<&'a str>,
}

fn decision_units(unit: &str) -> Units<'_> {
    Units { unit, key: Vec::new() }
}

/// The unit rows of a decision statistic: for each kind of unit, one row per unit and category
/// value, and one population row per unit (category empty; `pop_filter` keeps a category out of
/// the denominators). `dims` are the statistic's non-category dimensions (columns of `src`),
/// `category` its category columns; the rows carry the category as `cat_<name>`, renamed back by
/// [`with_categories`], so that a category may also be a column of `src`.
fn unit_rows(src: &str, filter: &str, dims: &[&str], category: &[&str], pop_filter: &str, kinds: &[Units<'_>]) -> String {
    let dim_cols = dims.iter().map(|d| format!("CAST({d} AS VARCHAR) AS {d}")).collect::<Vec<_>>().join(", ");
    let cats = category.iter().map(|c| format!("CAST({c} AS VARCHAR) AS cat_{c}")).collect::<Vec<_>>().join(", ");
    let empty = category.iter().map(|c| format!("'' AS cat_{c}")).collect::<Vec<_>>().join(", ");
    let mut parts = Vec::new();
    for kind in kinds {
        let id = if kind.unit.starts_with('P') {
            let key: Vec<String> = kind.key.iter().chain(category).map(|d| format!("CAST({d} AS VARCHAR)")).collect();
            format!("pseudonym || '#{}#' || concat_ws('|', {})", kind.unit, key.join(", "))
        } else {
            "decision_unit".to_string()
        };
        parts.push(format!("SELECT {id} AS unit, '{}' AS {COUNTING_UNIT}, {dim_cols}, {cats} FROM {src} WHERE {filter}", kind.unit));
        parts.push(format!("SELECT {id} AS unit, '{}' AS {COUNTING_UNIT}, {dim_cols}, {empty} FROM {src} WHERE {filter} AND {pop_filter}", kind.unit));
    }
    parts.join(" UNION ALL ")
}

fn years(from: i32, to: i32) -> String {
    format!("decision_year BETWEEN {from} AND {to}")
}

/// The P breakdowns of T26-T30 and T31-T45 over the period: (unit tag, the cell's dimensions).
const P_KINDS: &[(&str, &[&str])] = &[
    ("P:sa", &["sex_age"]),
    ("P:sag", &["sex", "age_group"]),
    ("P:bc", &["birth_country", "sex_age"]),
    ("P:lss", &["lss_group", "sex_age"]),
];

const GROUP_DIMS: &[&str] = &["decision_year", "sex_age", "sex", "age_group", "birth_country", "lss_group"];

/// A Y unit per decision, and the P units of [`P_KINDS`] (a person in a cell, whose dimensions
/// include `always`).
fn year_and_person_units<'a>(always: &[&'a str]) -> Vec<Units<'a>> {
    let mut kinds = vec![decision_units("Y")];
    kinds.extend(P_KINDS.iter().map(|(unit, key)| Units { unit, key: key.iter().chain(always).copied().collect() }));
    kinds
}

/// Rename the category columns back to the dimension names.
fn with_categories(inner: String, dims: &[&str], category: &[&str]) -> String {
    let cats = category.iter().map(|c| format!("cat_{c} AS {c}")).collect::<Vec<_>>().join(", ");
    format!("SELECT unit, {COUNTING_UNIT}, {}, {cats} FROM ({inner})", dims.join(", "))
}

fn decision_flow_sql(from: i32, to: i32) -> String {
    // Decisions dated in the years, and how many remain after each rule, cumulatively. A decision
    // is one unit (its keyed reference), the same unit as in cohort_flow and the Y/D statistics.
    let y = years(from, to);
    let raw = "(SELECT *, CAST(date_part('year', decision_date) AS INT) AS decision_year FROM decisions) d".to_string();
    let step = |rule: &str, cond: &str| {
        format!(
            "SELECT d.pseudonym || '#' || d.decision_ref AS unit, CAST(d.decision_year AS VARCHAR) AS decision_year, '{rule}' AS rule \
             FROM {raw} WHERE d.{y} AND {cond}"
        )
    };
    let kept = |rule: &str, cond: &str| {
        format!("SELECT decision_unit, CAST(decision_year AS VARCHAR), '{rule}' FROM dd_decisions WHERE {y} AND {cond}")
    };
    [
        step("DECISIONS", "true"),
        step("KIND", "d.kind IN ('ANSOKAN', 'ANMALAN')"),
        step("OUTCOME", "d.kind IN ('ANSOKAN', 'ANMALAN') AND d.outcome IN ('BIFALL', 'AVSLAG')"),
        format!("SELECT pseudonym || '#' || decision_ref, CAST(decision_year AS VARCHAR), 'NOT_CHANGED_ON_APPEAL' FROM dd_d1 WHERE {y}"),
        format!("SELECT pseudonym || '#' || decision_ref, CAST(decision_year AS VARCHAR), 'CURRENT_RECIPIENT' FROM dd_qualifying WHERE {y}"),
        format!("SELECT pseudonym || '#' || decision_ref, CAST(decision_year AS VARCHAR), 'ONE_PER_YEAR' FROM dd_kept WHERE {y}"),
        kept("NO_PERSON", "true"),
        kept("HISTORY_BEFORE_2002", &format!("decision_year >= {HISTORY_FROM} AND NOT history_before_2002")),
        kept("AFTER_GRANT", &format!("decision_year >= {HISTORY_FROM} AND NOT history_before_2002 AND previous_application <> 'AFTER_GRANT'")),
    ]
    .join(" UNION ALL ")
}

fn decisions_by_group_sql(from: i32, to: i32) -> String {
    let dims = ["decision_year", "sex_age", "child_adult", "sex", "age_group", "birth_country", "lss_group"];
    let inner = unit_rows("dd_decisions", &years(from, to), &dims, &["outcome"], "true", &[decision_units("Y")]);
    with_categories(inner, &dims, &["outcome"])
}

fn refusal_reasons_sql(from: i32, to: i32) -> String {
    // D6: an unknown reason is published but kept out of every denominator.
    let dims = ["decision_year", "sex_age", "sex", "age_group", "birth_country"];
    let filter = format!("{} AND outcome = 'AVSLAG'", years(from, to));
    let inner = unit_rows(
        "dd_decisions",
        &filter,
        &dims,
        &["rejection_reason"],
        "rejection_reason <> 'UNKNOWN'",
        &[decision_units("Y"), decision_units("D")],
    );
    with_categories(inner, &dims, &["rejection_reason"])
}

fn assessed_hours_sql(from: i32, to: i32) -> String {
    let filter = format!("{} AND outcome = 'AVSLAG' AND rejection_reason = 'BEHOV_HOGST_20H'", years(from, to));
    let inner = unit_rows("dd_decisions", &filter, GROUP_DIMS, &["hours_bin"], "true", &year_and_person_units(&[]));
    with_categories(inner, GROUP_DIMS, &["hours_bin"])
}

/// A history statistic (T31-T45) over the D8 population.
fn history_sql(from: i32, to: i32, extra_filter: &str, always: &[&str], category: &[&str]) -> String {
    let filter = format!("{}{extra_filter}", years(from, to));
    let dims: Vec<&str> = GROUP_DIMS.iter().chain(always).copied().collect();
    let kinds = year_and_person_units(always);
    let inner = unit_rows("dd_d8", &filter, &dims, category, "true", &kinds);
    with_categories(inner, &dims, category)
}

fn decision_number_sql(from: i32, to: i32) -> String {
    history_sql(from, to, "", &[], &["decision_number"])
}

fn time_since_previous_sql(from: i32, to: i32) -> String {
    history_sql(from, to, " AND previous_application = 'TIDIGARE'", &[], &["time_since_previous"])
}

fn refusal_by_previous_application_sql(from: i32, to: i32) -> String {
    history_sql(from, to, "", &["previous_application"], &["outcome"])
}

/// The base year of T46 for decision years `from..=to`: 2018 when covered, else the first year.
pub fn reapplication_base_year(from: i32, to: i32) -> i32 {
    if (from..=to).contains(&REAPPLICATION_BASE_YEAR) {
        REAPPLICATION_BASE_YEAR
    } else {
        from
    }
}

fn reapplication_after_refusal_sql(from: i32, to: i32) -> String {
    // Persons with a kept refusal in the base year (no D8 exclusion); REAPPLIED: a later kept
    // decision (after it in date-then-id order, up to the delivery's last year), whose outcome
    // is the first such decision's.
    let base = reapplication_base_year(from, to);
    let refused = format!(
        "SELECT r.pseudonym, r.rejection_reason, r.sex_age, min(n.decision_seq) AS next_seq \
         FROM dd_decisions r \
         LEFT JOIN dd_kept n ON n.pseudonym = r.pseudonym AND n.decision_seq > r.decision_seq AND n.decision_year <= {to} \
         WHERE r.decision_year = {base} AND r.outcome = 'AVSLAG' \
         GROUP BY r.pseudonym, r.rejection_reason, r.sex_age"
    );
    let with_next = format!(
        "SELECT f.pseudonym, f.rejection_reason, f.sex_age, f.next_seq, n.outcome AS next_outcome \
         FROM ({refused}) f LEFT JOIN dd_kept n ON n.pseudonym = f.pseudonym AND n.decision_seq = f.next_seq"
    );
    format!(
        "SELECT pseudonym AS unit, rejection_reason, sex_age, '' AS stage, '' AS next_outcome FROM ({with_next}) \
         UNION ALL SELECT pseudonym, rejection_reason, sex_age, 'REFUSED', 'TOTAL' FROM ({with_next}) \
         UNION ALL SELECT pseudonym, rejection_reason, sex_age, 'REAPPLIED', 'TOTAL' FROM ({with_next}) WHERE next_seq IS NOT NULL \
         UNION ALL SELECT pseudonym, rejection_reason, sex_age, 'REAPPLIED', next_outcome FROM ({with_next}) WHERE next_seq IS NOT NULL"
    )
}

const fn y_only(dims: &'static [&'static str], min_year: Option<i32>) -> Breakdown {
    Breakdown { dims, only: Some((COUNTING_UNIT, "Y")), min_year }
}
const fn unit_only(dims: &'static [&'static str], unit: &'static str) -> Breakdown {
    Breakdown { dims, only: Some((COUNTING_UNIT, unit)), min_year: None }
}

/// The five breakdowns of T26-T30 and T31-T45: by year (Y), then over the period (P).
const HISTORY_BREAKDOWNS: [Breakdown; 5] = [
    y_only(&[COUNTING_UNIT, "decision_year"], Some(2012)),
    unit_only(&[COUNTING_UNIT, "sex_age"], "P:sa"),
    unit_only(&[COUNTING_UNIT, "sex", "age_group"], "P:sag"),
    unit_only(&[COUNTING_UNIT, "birth_country", "sex_age"], "P:bc"),
    unit_only(&[COUNTING_UNIT, "lss_group", "sex_age"], "P:lss"),
];

const HOURS_BREAKDOWNS: [Breakdown; 5] = [
    y_only(&[COUNTING_UNIT, "decision_year"], None),
    unit_only(&[COUNTING_UNIT, "sex_age"], "P:sa"),
    unit_only(&[COUNTING_UNIT, "sex", "age_group"], "P:sag"),
    unit_only(&[COUNTING_UNIT, "birth_country", "sex_age"], "P:bc"),
    unit_only(&[COUNTING_UNIT, "lss_group", "sex_age"], "P:lss"),
];

pub const DECISION_FLOW: Statistic = Statistic {
    id: "decision_flow",
    doc: "How many decisions dated in the years remain after each rule of SPEC-DECISIONS §5b.1, cumulatively, by decision \
          year: DECISIONS (all), KIND (application or notification), OUTCOME (granted or refused), NOT_CHANGED_ON_APPEAL (D1: \
          qualifying but for the last rule), CURRENT_RECIPIENT (D1: not a person with a right to assistansersättning in the \
          month before the decision month; where the delivery has assistance_months for the persons, else it drops nothing), \
          ONE_PER_YEAR (D2: the first refusal and the first grant per person and year), NO_PERSON (D4: with an \
          accepted persons row; these are the published decisions), then for T31-T46 HISTORY_BEFORE_2002 (D8: no qualifying \
          decision before 2002) and AFTER_GRANT (D8: the nearest earlier decision was not a grant). n only (decisions).",
    report_tables: "method",
    fixed: &["rule"],
    always: &["decision_year"],
    breakdowns: &[bd(&[])],
    category: &[],
    categories: crate::stats::no_categories,
    sql: decision_flow_sql,
    top: None,
    family: Family::Decisions,
    domain: decision_domain,
    not_in_denominator: &[],
};

pub const DECISIONS_BY_GROUP: Statistic = Statistic {
    id: "decisions_by_group",
    doc: "Decisions (Y: at most one refusal and one grant per person and year, D1-D2) by decision year and outcome, in total, \
          by sex and age (FLICKOR/POJKAR/KVINNOR/MAN), by children/adults × sex × age group (from 0-6: no population \
          restriction, D4), by birth country × sex and age, and by LSS group × sex and age (2018 on, when the group is \
          recorded; NONE kept in the tidy file). Denominator: both outcomes (a person refused and granted in one year counts \
          under each); share = the outcome's share (the refusal share of T17-T22).",
    report_tables: "17-22",
    fixed: &["decision_year"],
    always: &[],
    breakdowns: &[
        y_only(&[COUNTING_UNIT], None),
        y_only(&[COUNTING_UNIT, "sex_age"], None),
        y_only(&[COUNTING_UNIT, "child_adult", "sex", "age_group"], None),
        y_only(&[COUNTING_UNIT, "birth_country", "sex_age"], None),
        y_only(&[COUNTING_UNIT, "lss_group", "sex_age"], Some(2018)),
    ],
    category: &["outcome"],
    categories: outcomes,
    sql: decisions_by_group_sql,
    top: None,
    family: Family::Decisions,
    domain: decision_domain,
    not_in_denominator: &[],
};

pub const REFUSAL_REASONS: Statistic = Statistic {
    id: "refusal_reasons",
    doc: "Refusals by rejection reason (ANNAN counted with BEHOV_HOGST_20H, report footnote 58): by decision year (Y; its \
          TOTAL row sums the years, D), and over the period (D: decisions summed) by sex and age, by sex × age group, and by \
          birth country × sex and age. A refusal without a recorded reason is UNKNOWN: published as a count, but left out of \
          every denominator (D6), so the shares of the three reasons sum to 100.",
    report_tables: "3, 23-25",
    fixed: &[],
    always: &[],
    breakdowns: &[
        y_only(&[COUNTING_UNIT, "decision_year"], None),
        unit_only(&[COUNTING_UNIT, "sex_age"], "D"),
        unit_only(&[COUNTING_UNIT, "sex", "age_group"], "D"),
        unit_only(&[COUNTING_UNIT, "birth_country", "sex_age"], "D"),
    ],
    category: &["rejection_reason"],
    categories: reasons,
    sql: refusal_reasons_sql,
    top: None,
    family: Family::Decisions,
    domain: decision_domain,
    not_in_denominator: &["UNKNOWN"],
};

pub const ASSESSED_HOURS: Statistic = Statistic {
    id: "assessed_hours",
    doc: "Refusals because the basic needs do not exceed 20 hours a week (BEHOV_HOGST_20H, ANNAN included) by assessed hours \
          per week, in bins (a, b]: 0, 0.1-5, 5.1-10, 10.1-15, 15.1-20, and UNKNOWN (none recorded, or over 20): by decision \
          year (Y; TOTAL = the sum of the years, D), and over the period as distinct persons per cell (P: a person counts \
          once in every cell where one of their refusals falls; TOTAL rows are sums of the cells, as published) by sex and \
          age, sex × age group, birth country × sex and age, and LSS group × sex and age.",
    report_tables: "26-30",
    fixed: &[],
    always: &[],
    breakdowns: &HOURS_BREAKDOWNS,
    category: &["hours_bin"],
    categories: hours_bins,
    sql: assessed_hours_sql,
    top: None,
    family: Family::Decisions,
    domain: decision_domain,
    not_in_denominator: &[],
};

pub const DECISION_NUMBER: Statistic = Statistic {
    id: "decision_number",
    doc: "Decisions by their number in the person's history since 2002 (D8: FIRST, SECOND, THIRD_PLUS among the kept \
          decisions, by date then decision id), for persons without a qualifying decision before 2002 and not after a \
          grant: by decision year from 2012 (Y), and over the period as distinct persons per cell (P) by sex and age, sex × \
          age group, birth country × sex and age, and LSS group × sex and age.",
    report_tables: "31-35",
    fixed: &[],
    always: &[],
    breakdowns: &HISTORY_BREAKDOWNS,
    category: &["decision_number"],
    categories: decision_numbers,
    sql: decision_number_sql,
    top: None,
    family: Family::Decisions,
    domain: decision_domain,
    not_in_denominator: &[],
};

pub const TIME_SINCE_PREVIOUS: Statistic = Statistic {
    id: "time_since_previous",
    doc: "Repeated applications after a refusal (D8 TIDIGARE) by the completed years since the nearest earlier refusal \
          (D9, anniversary rule): 0-3, 4-6, 7+; children 0-6 cannot have 7+ (a structural zero). By decision year from 2012 \
          (Y) and over the period as distinct persons per cell (P), in the five breakdowns of T36-T40. The report's own \
          T36 counts are not reproducible (SPEC-DECISIONS §5b.2); this is the D8/D9 population.",
    report_tables: "36-40",
    fixed: &[],
    always: &[],
    breakdowns: &HISTORY_BREAKDOWNS,
    category: &["time_since_previous"],
    categories: times_since_previous,
    sql: time_since_previous_sql,
    top: None,
    family: Family::Decisions,
    domain: decision_domain,
    not_in_denominator: &[],
};

pub const REFUSAL_BY_PREVIOUS_APPLICATION: Statistic = Statistic {
    id: "refusal_by_previous_application",
    doc: "Decisions by outcome for first applications (FORSTA) and for applications after a refusal (TIDIGARE), D8 \
          population: by decision year from 2012 (Y) and over the period as distinct persons per cell (P), in the five \
          breakdowns of T41-T45. Denominator: both outcomes; share = the outcome's share.",
    report_tables: "41-45",
    fixed: &[],
    always: &["previous_application"],
    breakdowns: &HISTORY_BREAKDOWNS,
    category: &["outcome"],
    categories: outcomes,
    sql: refusal_by_previous_application_sql,
    top: None,
    family: Family::Decisions,
    domain: decision_domain,
    not_in_denominator: &[],
};

pub const REAPPLICATION_AFTER_REFUSAL: Statistic = Statistic {
    id: "reapplication_after_refusal",
    doc: "Persons refused in the base year (2018, or the first decision year when 2018 is outside the years; no D8 \
          exclusion), by rejection reason and sex and age at that refusal: REFUSED, REAPPLIED (a later kept decision up to \
          the delivery's last decision year), and the outcome of the first later decision. Denominator: the refused persons \
          of the group for every row (so the outcome shares are of the refused, not of those who reapplied).",
    report_tables: "46",
    fixed: &[],
    always: &["rejection_reason", "sex_age"],
    breakdowns: &[bd(&[])],
    category: &["stage", "next_outcome"],
    categories: reapplication_stages,
    sql: reapplication_after_refusal_sql,
    top: None,
    family: Family::Decisions,
    domain: decision_domain,
    not_in_denominator: &[],
};

/// The decisions of the logistic regressions (SPEC-DECISIONS §5b.3): decisions (D1, D2; no D8
/// exclusion) in 2018–2022 (within the asked years) with a recorded LSS group; `BARN` aged 0–17 in
/// groups 1 and 3, `VUXNA` aged 18+ in groups 1–3.
pub fn regression_rows_sql(from: i32, to: i32) -> String {
    format!(
        "SELECT decision_unit, child_adult AS model, outcome, sex, birth_country, age_group, lss_group FROM dd_decisions \
         WHERE decision_year BETWEEN {} AND {} AND lss_group <> 'NONE' \
           AND (child_adult = 'VUXNA' OR lss_group IN ('1', '3'))",
        from.max(2018),
        to.min(2022)
    )
}

fn refusal_regression_sql(from: i32, to: i32) -> String {
    let rows = regression_rows_sql(from, to);
    format!(
        "SELECT decision_unit AS unit, model, outcome FROM ({rows}) \
         UNION ALL SELECT decision_unit, model, '' FROM ({rows})"
    )
}

fn models(dim: &str) -> Option<&'static [&'static str]> {
    match dim {
        "model" => Some(&["BARN", "VUXNA"]),
        other => decision_domain(other),
    }
}

pub const REFUSAL_REGRESSION: Statistic = Statistic {
    id: "refusal_regression",
    doc: "The logistic regressions of the probability of refusal (T1, T2, T67, T68): the number of decisions in each model \
          (BARN: aged 0-17 in LSS groups 1 and 3; VUXNA: 18+ in groups 1-3; decisions 2018-2022 within the years, with the \
          LSS group recorded) and by outcome. These counts are published numbers like any other and are protected with the \
          whole release (the report's T22/T68 leak). The odds ratios with Wald 95 % CIs are in \
          refusal_regression_estimates.csv, for a model whose counts are published, that converged without separation, has \
          at least 10 decisions of each outcome on every level and at least 50 decisions.",
    report_tables: "1, 2, 67, 68",
    fixed: &["model"],
    always: &[],
    breakdowns: &[bd(&[])],
    category: &["outcome"],
    categories: outcomes,
    sql: refusal_regression_sql,
    top: None,
    family: Family::Decisions,
    domain: models,
    not_in_denominator: &[],
};

/// The decision years of the residence-time statistics: 2018–2022 within the asked years.
fn residence_years(from: i32, to: i32) -> String {
    years(from.max(2018), to.min(2022))
}

fn refusal_by_residence_time_sql(from: i32, to: i32) -> String {
    let dims = ["child_adult", "residence_years"];
    let inner = unit_rows("dd_residence", &residence_years(from, to), &dims, &["outcome"], "true", &[decision_units("D")]);
    with_categories(inner, &dims, &["outcome"])
}

fn refusal_reasons_by_residence_time_sql(from: i32, to: i32) -> String {
    let dims = ["child_adult", "residence_years"];
    let filter = format!("{} AND outcome = 'AVSLAG'", residence_years(from, to));
    let inner = unit_rows("dd_residence", &filter, &dims, &["rejection_reason"], "rejection_reason <> 'UNKNOWN'", &[decision_units("D")]);
    with_categories(inner, &dims, &["rejection_reason"])
}

pub const REFUSAL_BY_RESIDENCE_TIME: Statistic = Statistic {
    id: "refusal_by_residence_time",
    doc: "Decisions (D: D1-D2, D4) of persons born abroad in 2018-2022 (within the years) by outcome, for children and \
          adults by residence time (D11): completed years from the latest registration start on or before the decision \
          date (a re-registration reads as an immigration), 0-4, 5-9, 10+, UNKNOWN without one. Denominator: both \
          outcomes; share = the outcome's share (the refusal share by residence time of the report's text).",
    report_tables: "text (D11)",
    fixed: &[],
    always: &[],
    breakdowns: &[unit_only(&[COUNTING_UNIT, "child_adult", "residence_years"], "D")],
    category: &["outcome"],
    categories: outcomes,
    sql: refusal_by_residence_time_sql,
    top: None,
    family: Family::Residence,
    domain: decision_domain,
    not_in_denominator: &[],
};

pub const REFUSAL_REASONS_BY_RESIDENCE_TIME: Statistic = Statistic {
    id: "refusal_reasons_by_residence_time",
    doc: "The refusals of refusal_by_residence_time by rejection reason (ANNAN counted with BEHOV_HOGST_20H; UNKNOWN \
          published but outside the denominators, D6), for children and adults by residence time (D11). The report's \
          single D11 statistic is two here, because one table has one denominator: all decisions for the refusal \
          share, the refusals for the reasons' shares.",
    report_tables: "text (D11)",
    fixed: &[],
    always: &[],
    breakdowns: &[unit_only(&[COUNTING_UNIT, "child_adult", "residence_years"], "D")],
    category: &["rejection_reason"],
    categories: reasons,
    sql: refusal_reasons_by_residence_time_sql,
    top: None,
    family: Family::Residence,
    domain: decision_domain,
    not_in_denominator: &["UNKNOWN"],
};
