//! The release in the report's layout (SPEC §7): an .xlsx workbook with a contents sheet
//! (`Innehåll`, a link to every sheet), one sheet per report table (`Tabell NN`) and figure
//! (`Figur NN`, with a native Excel chart) with the report's Swedish title, rows and columns
//! ([`crate::layout`]), and method sheets for the selection flows. Counts as whole numbers,
//! shares in whole percent, `*` for a hidden count and `-` for a share not released. As in the
//! report, rows of LSS group `NONE` are left out (the tidy files keep them). The workbook is
//! deterministic: a fixed creation date, so a run reproduces byte for byte.

use rust_xlsxwriter::{Chart, ChartType, DocProperties, ExcelDateTime, Format, FormatAlign, Url, Workbook, Worksheet, XlsxError};

use crate::engine::Years;
use crate::layout::{self, Cell, ChartKind};
use crate::output::ReleasedTable;
use crate::regression::Model;

/// The contents sheet's name.
const CONTENTS: &str = "Innehåll";

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
        "residence_years" => "Vistelsetid i Sverige",
        "decision_number" => "Antal beslut",
        "time_since_previous" => "År sedan närmast tidigare avslag",
        "stage" => "Steg",
        "next_outcome" => "Beslut på upprepad ansökan",
        "year" => "År",
        "month" => "Månad",
        "payer" => "Huvudman",
        "provider_category" => "Utförarkategori",
        "mean_hours_week" => "Beviljade timmar per vecka, medel",
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
        ("residence_years", "UNKNOWN") => "Uppgift saknas",
        ("residence_years", t) => return Owned(format!("{} år", t.replace('-', "–"))),
        ("time_since_previous", t) => return Owned(format!("{} år", t.replace('-', "–"))),
        ("stage", "REFUSED") => "Avslag basåret",
        ("stage", "REAPPLIED") => "Ansökt igen",
        ("rule", "KIND") => "Ansökan eller anmälan",
        ("rule", "OUTCOME") => "Bifall eller avslag",
        ("rule", "NOT_CHANGED_ON_APPEAL") => "Ej ändrat vid omprövning eller domstol",
        ("rule", "CURRENT_RECIPIENT") => "Uppbar inte assistansersättning månaden före",
        ("payer", "FK") => "Försäkringskassan (assistansersättning)",
        ("payer", "KOMMUN") => "Kommunen (LSS)",
        ("payer", "BOTH") => "Därav båda",
        ("provider_category", "KOMMUN") => "Kommun",
        ("provider_category", "PRIVAT") => "Privat anordnare",
        ("provider_category", "KOOPERATIV") => "Kooperativ",
        ("provider_category", "EGEN") => "Egen anordnare",
        ("provider_category", "UNKNOWN") => "Uppgift saknas",
        ("rule", "ONE_PER_YEAR") => "Ett avslag och ett bifall per person och år",
        ("rule", "NO_PERSON") => "Med uppgift om personen",
        ("rule", "HISTORY_BEFORE_2002") => "Inget beslut före 2002",
        ("rule", "AFTER_GRANT") => "Inte efter bifall",
        _ => value,
    };
    Borrowed(fixed)
}

fn write_cell(ws: &mut Worksheet, row: u32, col: u16, cell: &Cell, f: &Formats) -> Result<(), XlsxError> {
    match cell {
        Cell::Blank => {}
        Cell::Text(s) => {
            ws.write_string(row, col, s)?;
        }
        Cell::Int(n) => {
            ws.write_number(row, col, *n as f64)?;
        }
        Cell::Pct(p) => {
            ws.write_number(row, col, p.round())?;
        }
        Cell::Dec(x) => {
            ws.write_number_with_format(row, col, *x, &f.decimal)?;
        }
        Cell::Hidden => {
            ws.write_string_with_format(row, col, "*", &f.right)?;
        }
        Cell::NoShare => {
            ws.write_string_with_format(row, col, "-", &f.right)?;
        }
    }
    Ok(())
}

struct Formats {
    title: Format,
    bold: Format,
    decimal: Format,
    right: Format,
    note: Format,
}

/// Write the workbook for a release: a contents sheet linking every sheet, then one sheet per
/// report table (`Tabell NN`) and figure (`Figur NN`, with its native chart) that the release
/// holds, then the method sheets ([`crate::layout`]).
pub fn workbook(tables: &[ReleasedTable], models: &[Model], years: Years) -> Result<Vec<u8>, XlsxError> {
    let sheets = layout::sheets(tables, models, years);
    let mut wb = Workbook::new();
    wb.set_properties(&DocProperties::new().set_title("Stöd året före och året efter beslut om assistansersättning").set_creation_datetime(&ExcelDateTime::from_ymd(2024, 1, 1)?));
    let f = Formats {
        title: Format::new().set_bold().set_font_size(12),
        bold: Format::new().set_bold(),
        decimal: Format::new().set_num_format("0.00"),
        right: Format::new().set_align(FormatAlign::Right),
        note: Format::new().set_italic(),
    };
    let contents = wb.add_worksheet();
    contents.set_name(CONTENTS)?;
    contents.write_string_with_format(0, 0, "Innehåll", &f.title)?;
    contents.write_string(
        1,
        0,
        format!(
            "Beslut om assistansersättning {}–{}: rapportens tabeller och figurer ur den skyddade releasen. * = dolt antal, - = andel redovisas inte. \
             Alla celler med regel finns i de tidy filerna (CSV och Parquet) bredvid arbetsboken.",
            years.from, years.to
        ),
    )?;
    for (c, h) in ["Blad", "Rubrik", "Statistik"].iter().enumerate() {
        contents.write_string_with_format(3, c as u16, *h, &f.bold)?;
    }
    for (i, s) in sheets.iter().enumerate() {
        let row = 4 + i as u32;
        contents.write_url(row, 0, Url::new(format!("internal:'{}'!A1", s.name)).set_text(&s.name))?;
        contents.write_string(row, 1, &s.title)?;
        contents.write_string(row, 2, s.statistic)?;
    }
    contents.set_column_width(0, 24)?;
    contents.set_column_width(1, 120)?;
    contents.set_column_width(2, 32)?;
    for s in &sheets {
        let ws = wb.add_worksheet();
        ws.set_name(&s.name)?;
        ws.write_string_with_format(0, 0, &s.title, &f.title)?;
        ws.write_url(1, 0, Url::new(format!("internal:'{CONTENTS}'!A1")).set_text("Till innehåll"))?;
        let top = 3u32;
        for (i, row) in s.header.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if let Cell::Text(t) = cell {
                    ws.write_string_with_format(top + i as u32, c as u16, t, &f.bold)?;
                }
            }
        }
        let first = top + s.header.len() as u32;
        for (i, row) in s.body.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                write_cell(ws, first + i as u32, c as u16, cell, &f)?;
            }
        }
        let width = s.header.iter().chain(&s.body).map(Vec::len).max().unwrap_or(0) as u16;
        for c in 0..width {
            ws.set_column_width(c, if (c as usize) < s.label_cols { 26 } else { 14 })?;
        }
        ws.set_freeze_panes(first, s.label_cols as u16)?;
        for (at, n) in (first + s.body.len() as u32 + 1..).zip(&s.notes) {
            ws.write_string_with_format(at, 0, n, &f.note)?;
        }
        if let (Some(kind), false) = (s.chart, s.body.is_empty()) {
            let last = first + s.body.len() as u32 - 1;
            let names_row = first - 1;
            let mut chart = Chart::new(match kind {
                ChartKind::Line => ChartType::Line,
                ChartKind::Column => ChartType::Column,
                ChartKind::ColumnStacked => ChartType::ColumnStacked,
            });
            for c in s.label_cols as u16..width {
                chart
                    .add_series()
                    .set_name((s.name.as_str(), names_row, c))
                    .set_categories((s.name.as_str(), first, 0, last, 0))
                    .set_values((s.name.as_str(), first, c, last, c));
            }
            chart.title().set_name(&s.name);
            chart.y_axis().set_name("Procent");
            chart.set_width(760).set_height(420);
            ws.insert_chart(first, width + 1, &chart)?;
        }
    }
    wb.save_to_buffer()
}
