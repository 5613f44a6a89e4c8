//! Personal assistance by payer (SPEC-DECISIONS §5c) on DataFusion: who had personal
//! assistance paid by Försäkringskassan (assistansersättning) or by the municipality (LSS), in a
//! month. These statistics count **everyone** with personal assistance, not a cohort: a delivery
//! linked for them carries FK's `assistance_months` of everyone with a right (`assistance`) and,
//! for `pa_by_payer`, Socialstyrelsen's executed LSS personal assistance of everyone
//! (`municipal_pa`, a selection by intervention).
//!
//! Definitions (§5c.2):
//! - **C1 FK in month m**: an `assistance` row for m.
//! - **C2 KOMMUN in month m**: a `municipal_pa` row for m and not C1; a person with both is FK
//!   and is also published as `BOTH` (so `TOTAL` = `FK` + `KOMMUN`).
//! - **C3 reference month**: December (`pa_by_payer`, one `ref_month` for both payers, §5c.3
//!   item 1), years 2014–2023 within the years asked.
//!
//! The counting unit is a **person in a month** (`<pseudonym>@<YYYY-MM>`): the December cells of
//! `pa_by_payer` (`FK`) and the December rows of `fk_recipients_by_provider` (their denominator)
//! count the same units, so release-wide disclosure control sees that they are one number. These
//! units are their own: a person-month is never a cohort person's unit.

use crate::stats::{bd, Family, Statistic};

/// First and last year of `pa_by_payer` (§5c.2: years 2014–2023).
pub const PAYER_YEARS: (i32, i32) = (2014, 2023);
/// First year of `assistance_months` (FK's STORE, §5c.1).
pub const FIRST_MONTH_YEAR: i32 = 2014;
/// The reference month of `pa_by_payer` (C3).
pub const REF_MONTH: u32 = 12;
/// A mean of granted hours is released only for at least this many persons (§5c.2).
pub const MEAN_MIN_PERSONS: i64 = 50;

/// The values of the calendar dimensions for the years asked: `year` (the payer statistics'
/// years, 2014–2023 within them) and `month` (every month of the years asked from 2014).
pub fn calendar_values(dim: &str, years: &[String]) -> Option<Vec<String>> {
    let ys = years.iter().filter_map(|y| y.parse::<i32>().ok());
    match dim {
        "year" => Some(ys.filter(|y| (PAYER_YEARS.0..=PAYER_YEARS.1).contains(y)).map(|y| y.to_string()).collect()),
        "month" => Some(ys.filter(|y| *y >= FIRST_MONTH_YEAR).flat_map(|y| (1..=12).map(move |m| format!("{y:04}-{m:02}"))).collect()),
        _ => None,
    }
}

/// The views of the payer statistics, by the tables a delivery has.
pub fn views(municipal: bool) -> Vec<(&'static str, String)> {
    let mut v = vec![(
        "pa_fk",
        // C1: one row per person and month (the linkage service delivers one), unknown provider
        // as UNKNOWN.
        "SELECT pseudonym, month, pseudonym || '@' || month AS unit, granted_hours_week, \
           COALESCE(provider_category, 'UNKNOWN') AS provider_category FROM assistance"
            .to_string(),
    )];
    if municipal {
        v.push((
            "pa_payer",
            // C1/C2 per person and month: FK, KOMMUN (municipal and not FK) and BOTH.
            "SELECT COALESCE(f.pseudonym, k.pseudonym) AS pseudonym, COALESCE(f.month, k.month) AS month, \
               COALESCE(f.unit, k.pseudonym || '@' || k.month) AS unit, \
               f.pseudonym IS NOT NULL AS fk, k.pseudonym IS NOT NULL AS municipal \
             FROM (SELECT DISTINCT pseudonym, month, unit FROM pa_fk) f \
             FULL OUTER JOIN (SELECT DISTINCT pseudonym, month FROM municipal_pa) k \
               ON f.pseudonym = k.pseudonym AND f.month = k.month"
                .to_string(),
        ));
    }
    v
}

fn months_of(from: i32, to: i32, only: Option<u32>) -> String {
    let mut ms = Vec::new();
    for y in from.max(FIRST_MONTH_YEAR)..=to {
        for m in 1..=12u32 {
            if only.is_none_or(|o| o == m) {
                ms.push(format!("'{y:04}-{m:02}'"));
            }
        }
    }
    if ms.is_empty() {
        "month IN ('')".into()
    } else {
        format!("month IN ({})", ms.join(", "))
    }
}

fn pa_by_payer_sql(from: i32, to: i32) -> String {
    let months = months_of(from.max(PAYER_YEARS.0), to.min(PAYER_YEARS.1), Some(REF_MONTH));
    let year = "substr(month, 1, 4)";
    format!(
        "SELECT unit, {year} AS year, '' AS payer FROM pa_payer WHERE {months} \
         UNION ALL SELECT unit, {year}, 'TOTAL' FROM pa_payer WHERE {months} \
         UNION ALL SELECT unit, {year}, 'FK' FROM pa_payer WHERE {months} AND fk \
         UNION ALL SELECT unit, {year}, 'KOMMUN' FROM pa_payer WHERE {months} AND NOT fk \
         UNION ALL SELECT unit, {year}, 'BOTH' FROM pa_payer WHERE {months} AND fk AND municipal"
    )
}

fn fk_recipients_by_provider_sql(from: i32, to: i32) -> String {
    let months = months_of(from, to, None);
    format!(
        "SELECT unit, month, '' AS provider_category FROM pa_fk WHERE {months} \
         UNION ALL SELECT unit, month, provider_category FROM pa_fk WHERE {months}"
    )
}

fn fk_hours_per_recipient_sql(from: i32, to: i32) -> String {
    format!("SELECT unit, month, granted_hours_week AS measure FROM pa_fk WHERE {}", months_of(from, to, None))
}

fn payers() -> Vec<Vec<&'static str>> {
    ["FK", "KOMMUN", "BOTH", "TOTAL"].iter().map(|v| vec![*v]).collect()
}

fn providers() -> Vec<Vec<&'static str>> {
    ["KOMMUN", "PRIVAT", "KOOPERATIV", "EGEN", "UNKNOWN"].iter().map(|v| vec![*v]).collect()
}

fn no_override(_: &str) -> Option<&'static [&'static str]> {
    None
}

pub const PA_BY_PAYER: Statistic = Statistic {
    id: "pa_by_payer",
    doc: "Persons with personal assistance in December (C3) of each year 2014-2023 within the years, by payer (SPEC-DECISIONS \
          §5c): FK = a right to assistansersättning that month (assistance_months, C1); KOMMUN = executed LSS personlig \
          assistans that month and not FK (C2); BOTH = both (counted as FK, published for information); TOTAL = FK + KOMMUN \
          (the denominator of the shares). Everyone with personal assistance, not a cohort; a person in a month is the unit. \
          The index 100 * n / n(2014) is a ratio of two released counts: the workbook computes it where both are published.",
    report_tables: "Vårdföretagarna section 1 (F01-F09)",
    fixed: &["year"],
    always: &[],
    breakdowns: &[bd(&[])],
    category: &["payer"],
    categories: payers,
    sql: pa_by_payer_sql,
    top: None,
    family: Family::Payer,
    domain: no_override,
    not_in_denominator: &[],
};

pub const FK_RECIPIENTS_BY_PROVIDER: Statistic = Statistic {
    id: "fk_recipients_by_provider",
    doc: "Persons with a right to assistansersättning in each month (assistance_months, C1) of the years from 2014, by the \
          provider category of their main provider that month (KOMMUN, PRIVAT, KOOPERATIV, EGEN; UNKNOWN where FK records \
          none). Denominator: the month's recipients.",
    report_tables: "Vårdföretagarna section 2 (F10-F14)",
    fixed: &["month"],
    always: &[],
    breakdowns: &[bd(&[])],
    category: &["provider_category"],
    categories: providers,
    sql: fk_recipients_by_provider_sql,
    top: None,
    family: Family::Assistance,
    domain: no_override,
    not_in_denominator: &[],
};

pub const FK_HOURS_PER_RECIPIENT: Statistic = Statistic {
    id: "fk_hours_per_recipient",
    doc: "Persons with a right to assistansersättning in each month of the years from 2014 (n), and the mean of their \
          granted hours per week that month (mean_hours_week), released only where n is published and at least 50.",
    report_tables: "Vårdföretagarna section 3 (F15-F16)",
    fixed: &["month"],
    always: &[],
    breakdowns: &[bd(&[])],
    category: &[],
    categories: crate::stats::no_categories,
    sql: fk_hours_per_recipient_sql,
    top: None,
    family: Family::Assistance,
    domain: no_override,
    not_in_denominator: &[],
};

/// The column of a statistic's mean (published after its dimensions), if it has one.
pub fn mean_column(statistic: &str) -> Option<&'static str> {
    (statistic == FK_HOURS_PER_RECIPIENT.id).then_some("mean_hours_week")
}

/// Each unit's measure (the `measure` column of a mean statistic's SQL), by unit number.
pub fn measures(
    batches: &[arrow::array::RecordBatch],
    universe: &mut crate::stats::Universe,
) -> crate::Result<std::collections::HashMap<u32, f64>> {
    use arrow::array::{Array, Float64Array, StringArray};
    let mut out = std::collections::HashMap::new();
    for b in batches {
        let bad = || crate::Error::BadRequest("a mean statistic's definition lacks unit (text) or measure (float)".into());
        let cast = |name: &str, to: &arrow::datatypes::DataType| -> crate::Result<arrow::array::ArrayRef> {
            let c = b.column_by_name(name).ok_or_else(bad)?;
            Ok(arrow::compute::cast(c, to)?)
        };
        let units = cast("unit", &arrow::datatypes::DataType::Utf8)?;
        let units = units.as_any().downcast_ref::<StringArray>().ok_or_else(bad)?;
        let values = cast("measure", &arrow::datatypes::DataType::Float64)?;
        let values = values.as_any().downcast_ref::<Float64Array>().ok_or_else(bad)?;
        for i in 0..b.num_rows() {
            if !values.is_null(i) {
                out.insert(universe.intern(units.value(i)), values.value(i));
            }
        }
    }
    Ok(out)
}

/// Append each row's mean of its units' measures (one decimal; empty for no units). What is
/// released of it is decided after disclosure control by [`release_means`].
pub fn attach_means(stat: &Statistic, table: &mut crate::stats::Table, measure: &std::collections::HashMap<u32, f64>) {
    let Some(column) = mean_column(stat.id) else { return };
    for row in &mut table.rows {
        let values: Vec<f64> = row.units.iter().filter_map(|u| measure.get(u).copied()).collect();
        let mean = if values.is_empty() { String::new() } else { format!("{:.1}", values.iter().sum::<f64>() / values.len() as f64) };
        row.values.push(mean);
    }
    table.dims.push(column);
}

/// A mean is released only with its count published and at least [`MEAN_MIN_PERSONS`] persons
/// (§5c.2); otherwise its column is empty.
pub fn release_means(stat: &Statistic, dims: &[&str], rows: Vec<crate::disclosure::Released>) -> Vec<crate::disclosure::Released> {
    let Some(column) = mean_column(stat.id) else { return rows };
    let Some(at) = dims.iter().position(|d| *d == column) else { return rows };
    rows.into_iter()
        .map(|mut r| {
            if r.n.is_none_or(|n| n < MEAN_MIN_PERSONS) {
                r.values[at] = String::new();
            }
            r
        })
        .collect()
}
