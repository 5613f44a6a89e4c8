//! The release in the report's layout (SPEC §7): an .xlsx workbook with one sheet per
//! statistic and breakdown, Swedish labels, rows × category columns with `Antal` and
//! `Andel (%)` (rounded to whole percent), `*` for a suppressed count and `-` for a share not
//! released. As in the report, rows of LSS group `NONE` are left out (the tidy files keep
//! them). The workbook is deterministic: a fixed creation date, so a run reproduces byte for byte.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};

use crate::output::ReleasedTable;
use crate::stats::{self, Statistic};

/// The Swedish label of a dimension.
pub fn dim_label(dim: &str) -> &str {
    match dim {
        "decision_year" => "Beslutsår",
        "rule" => "Steg",
        "outcome" => "Beslut",
        "period" => "Period",
        "sex" => "Kön",
        "age_group" => "Ålder",
        "sex_age" => "Kön och ålder",
        "child_adult" => "Barn/vuxna",
        "birth_country" => "Födelseland",
        "lss_group" => "LSS-grupp",
        "rejection_reason" => "Avslagsskäl",
        "previous_application" => "Tidigare ansökan",
        "rank" => "Rang",
        "law" => "Lag",
        "intervention" => "Insats",
        "counting_unit" => "Räkneenhet",
        "hours_bin" => "Bedömda timmar per vecka",
        "decision_number" => "Antal beslut",
        "time_since_previous" => "År sedan närmast tidigare avslag",
        "stage" => "Steg",
        "next_outcome" => "Beslut på upprepad ansökan",
        other => other,
    }
}

/// The Swedish label of a value of a dimension.
pub fn value_label<'a>(dim: &str, value: &'a str) -> std::borrow::Cow<'a, str> {
    use std::borrow::Cow::{Borrowed, Owned};
    let fixed = match (dim, value) {
        (_, "TOTAL") => "Totalt",
        (_, "AVSLAG") => "Avslag",
        (_, "BIFALL") => "Bifall",
        ("period", "BEFORE") => "Året före",
        ("period", "AFTER") => "Året efter",
        ("sex", "K") => "Kvinnor",
        ("sex", "M") => "Män",
        ("sex_age", "FLICKOR") => "Flickor",
        ("sex_age", "POJKAR") => "Pojkar",
        ("sex_age", "KVINNOR") => "Kvinnor",
        ("sex_age", "MAN") => "Män",
        ("child_adult", "BARN") => "Barn",
        ("child_adult", "VUXNA") => "Vuxna",
        ("birth_country", "INRIKES") => "Inrikes född",
        ("birth_country", "UTRIKES") => "Utrikes född",
        ("lss_group", "NONE") => "Ingen LSS-grupp",
        ("lss_group", g) => return Owned(format!("Grupp {g}")),
        ("rejection_reason", "GRUNDLAGGANDE_FORUTSATTNINGAR") => "Uppfyller inte grundläggande förutsättningar",
        ("rejection_reason", "PERSONKRETS") => "Tillhör inte LSS personkrets",
        ("rejection_reason", "BEHOV_HOGST_20H") => "Grundläggande hjälpbehov överstiger inte 20 timmar per vecka",
        ("rejection_reason", "UNKNOWN") => "Skäl saknas",
        ("previous_application", "FORSTA") => "Första ansökan",
        ("previous_application", "TIDIGARE") => "Tidigare avslag",
        ("rule", "DECISIONS") => "Beslut under åren",
        ("rule", "QUALIFYING") => "Bifall och avslag (ej ändrade efter överklagan)",
        ("rule", "FIRST_PER_PERSON") => "Personer: första beslutet",
        ("rule", "REGISTERED_D_MINUS_2") => "Folkbokförda 31 dec år D-2",
        ("rule", "REGISTERED_D_MINUS_1") => "… och år D-1",
        ("rule", "REGISTERED_D") => "… och år D",
        ("rule", "REGISTERED_D_PLUS_1") => "… och år D+1 (populationen)",
        ("municipal_support", "YES") => "Med kommunalt stöd",
        ("municipal_support", "NO") => "Utan kommunalt stöd",
        ("support_type", "BOTH") => "Både kommunalt stöd och socialförsäkring",
        ("support_type", "MUNICIPAL_ONLY") => "Endast kommunalt stöd",
        ("support_type", "SOCIAL_INSURANCE_ONLY") => "Endast socialförsäkring",
        ("support_type", "NONE") => "Inget av dem",
        ("law", "SOL") => "SoL",
        ("law", "LSS") => "LSS",
        ("law", "HSL") => "HSL-insats",
        ("law", "NONE") => "Inget kommunalt stöd",
        ("benefit", "OMVARDNADSBIDRAG_VARDBIDRAG") => "Omvårdnadsbidrag/vårdbidrag",
        ("benefit", "MERKOSTNADSERSATTNING") => "Merkostnadsersättning",
        ("benefit", "HANDIKAPPERSATTNING") => "Handikappersättning",
        ("intervention", "ALL_LSS") => "LSS totalt (personer)",
        ("intervention", "ALL_SOL") => "SoL totalt (personer)",
        ("intervention", "ALL_MUNICIPAL") => "Kommunalt stöd totalt (personer)",
        ("counting_unit", "Y") => "Beslut per år",
        ("counting_unit", "D") => "Beslut under perioden",
        ("counting_unit", "P") => "Personer under perioden",
        ("hours_bin", "UNKNOWN") => "Uppgift saknas",
        ("hours_bin", "0") => "0 timmar",
        ("hours_bin", h) => return Owned(format!("{} timmar", h.replace('.', ",").replace('-', "–"))),
        ("decision_number", "FIRST") => "Första beslut",
        ("decision_number", "SECOND") => "2 beslut",
        ("decision_number", "THIRD_PLUS") => "3+ beslut",
        ("time_since_previous", t) => return Owned(format!("{} år", t.replace('-', "–"))),
        ("stage", "REFUSED") => "Avslag basåret",
        ("stage", "REAPPLIED") => "Ansökt igen",
        ("rule", "KIND") => "Ansökan eller anmälan",
        ("rule", "OUTCOME") => "Bifall eller avslag",
        ("rule", "NOT_CHANGED_ON_APPEAL") => "Ej ändrat vid omprövning eller domstol",
        ("rule", "ONE_PER_YEAR") => "Ett avslag och ett bifall per person och år",
        ("rule", "NO_PERSON") => "Med uppgift om personen",
        ("rule", "HISTORY_BEFORE_2002") => "Inget beslut före 2002",
        ("rule", "AFTER_GRANT") => "Inte efter bifall",
        _ => value,
    };
    Borrowed(fixed)
}

/// The label of a category (law + intervention → the intervention's published label).
fn category_label(stat: &Statistic, values: &[String]) -> String {
    if let [law, code] = values {
        if let Some(label) = regstat_contract::codes::intervention_label(law, code) {
            return format!("{}: {label}", value_label("law", law));
        }
        return value_label("intervention", code).into_owned();
    }
    stat.category.iter().zip(values).map(|(d, v)| value_label(d, v).into_owned()).collect::<Vec<_>>().join(" / ")
}

fn sheet_name(id: &str, breakdown: &[&str], used: &mut Vec<String>) -> String {
    let short = |s: &str| s.split('_').map(|w| &w[..w.len().min(4)]).collect::<Vec<_>>().join("_");
    let mut name = short(id);
    for d in breakdown {
        name.push('-');
        name.push_str(&short(d));
    }
    name.truncate(31);
    let mut candidate = name.clone();
    let mut i = 2;
    while used.contains(&candidate) {
        candidate = format!("{}~{i}", &name[..name.len().min(28)]);
        i += 1;
    }
    used.push(candidate.clone());
    candidate
}

/// Write the workbook for a release.
pub fn workbook(tables: &[ReleasedTable]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    wb.set_properties(&DocProperties::new().set_title("Stöd året före och året efter beslut om assistansersättning").set_creation_datetime(&ExcelDateTime::from_ymd(2024, 1, 1)?));
    let bold = Format::new().set_bold();
    let mut used = Vec::new();
    for t in tables {
        let stat = stats::find(t.statistic).map_err(|e| XlsxError::ParameterError(e.to_string()))?;
        for b in stat.breakdowns {
            let ws = wb.add_worksheet();
            ws.set_name(sheet_name(stat.id, b.dims, &mut used))?;
            ws.write_string_with_format(0, 0, format!("{} (rapportens tabeller {})", stat.id, stat.report_tables), &bold)?;
            ws.write_string(1, 0, stat.doc.split_whitespace().collect::<Vec<_>>().join(" "))?;
            ws.write_string(2, 0, "* = färre än 3 personer eller röjande (sekundär undertryckning); - = andel visas inte (nämnaren under gränsen eller dold)")?;
            // Row dimensions: everything but the category, restricted to this breakdown.
            let ncat = stat.category.len();
            let row_dims: Vec<usize> = (0..t.dims.len() - ncat)
                .filter(|&i| {
                    let d = t.dims[i];
                    stat.fixed.contains(&d) || stat.always.contains(&d) || b.dims.contains(&d) || d == "rank"
                })
                .collect();
            let other_dims: Vec<usize> = (0..t.dims.len() - ncat).filter(|i| !row_dims.contains(i)).collect();
            let rows: Vec<_> = t
                .rows
                .iter()
                .filter(|r| {
                    b.dims.iter().all(|d| t.dims.iter().position(|x| x == d).is_some_and(|i| !r.values[i].is_empty()))
                        && other_dims.iter().all(|&i| r.values[i].is_empty())
                        && !t.dims.iter().zip(&r.values).any(|(d, v)| *d == "lss_group" && v == "NONE")
                })
                .collect();
            let pivot = ncat > 0 && stat.top.is_none();
            let mut categories: Vec<Vec<String>> = Vec::new();
            if pivot {
                for r in &rows {
                    let c = r.values[t.dims.len() - ncat..].to_vec();
                    if !categories.contains(&c) {
                        categories.push(c);
                    }
                }
            }
            let header_row = 4;
            let mut col = 0u16;
            for &i in &row_dims {
                ws.write_string_with_format(header_row, col, dim_label(t.dims[i]), &bold)?;
                ws.set_column_width(col, 16)?;
                col += 1;
            }
            let data_col = col;
            if pivot {
                for (k, c) in categories.iter().enumerate() {
                    let at = data_col + 2 * k as u16;
                    ws.write_string_with_format(header_row - 1, at, category_label(stat, c), &bold)?;
                    ws.write_string_with_format(header_row, at, "Antal", &bold)?;
                    ws.write_string_with_format(header_row, at + 1, "Andel (%)", &bold)?;
                }
            } else {
                let h: &[&str] = if ncat == 0 { &["Antal"] } else { &["Insats", "Antal", "Nämnare", "Andel (%)"] };
                for (k, name) in h.iter().enumerate() {
                    ws.write_string_with_format(header_row, data_col + k as u16, *name, &bold)?;
                }
            }
            ws.set_freeze_panes(header_row + 1, data_col)?;
            let mut line = header_row;
            let mut last_key: Option<Vec<&str>> = None;
            for r in rows {
                let key: Vec<&str> = row_dims.iter().map(|&i| r.values[i].as_str()).collect();
                if !pivot || last_key.as_ref() != Some(&key) {
                    line += 1;
                    for (c, &i) in row_dims.iter().enumerate() {
                        ws.write_string(line, c as u16, value_label(t.dims[i], &r.values[i]))?;
                    }
                    last_key = Some(key);
                }
                let mut at = data_col;
                if pivot {
                    let c = r.values[t.dims.len() - ncat..].to_vec();
                    at += 2 * categories.iter().position(|x| *x == c).unwrap_or(0) as u16;
                } else if ncat > 0 {
                    ws.write_string(line, at, category_label(stat, &r.values[t.dims.len() - ncat..]))?;
                    at += 1;
                }
                match r.n {
                    Some(n) => ws.write_number(line, at, n as f64)?,
                    None => ws.write_string(line, at, "*")?,
                };
                if !pivot && ncat > 0 {
                    at += 1;
                    match r.denominator {
                        Some(d) => ws.write_number(line, at, d as f64)?,
                        None => ws.write_string(line, at, "*")?,
                    };
                }
                if ncat > 0 {
                    match r.share_pct {
                        Some(s) => ws.write_number(line, at + 1, s.round())?,
                        None => ws.write_string(line, at + 1, "-")?,
                    };
                }
            }
        }
    }
    wb.save_to_buffer()
}
