//! The report's tables and figures in its own layout (issue 11 item 5): which released
//! statistic, breakdown and cells each `Tabell NN` / `Figur NN` of Socialförsäkringsrapport
//! 2024:1 shows, its Swedish title, rows and columns. [`sheets`] turns a release into a grid per
//! sheet (plain data: labels, counts, shares, `*` and `-`); [`crate::report::workbook`] writes the
//! grids as an .xlsx workbook with a contents sheet and native charts, and [`Sheet::text`]
//! renders one as text for the layout snapshots.
//!
//! A layout only *selects and arranges* released numbers: every number in a sheet is a cell of
//! the protected release (the `Totalt` column or row of a table is the category's released
//! denominator), so nothing in the workbook is published that is not in the tidy files.

use std::collections::HashMap;

use crate::engine::Years;
use crate::output::ReleasedTable;
use crate::regression::{Model, Published};
use crate::report::{dim_label, value_label};
use crate::stats::{self, Statistic, COUNTING_UNIT, TOTAL};

/// The kind of sheet: a table or a figure of the report, or a method sheet of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Tabell,
    Figur,
    Metod,
}

/// What a table's cells show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// `n` (`*` where hidden).
    Count,
    /// The share in percent, whole numbers as printed in the report (`-` where not released).
    Share,
    /// A ranking (`top_interventions`): per row the ranked category and its share.
    Ranked,
}

/// The native chart of a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    Line,
    Column,
    ColumnStacked,
}

/// One sheet of the report: which released cells it shows and how.
#[derive(Debug, Clone)]
pub struct Spec {
    pub kind: Kind,
    pub number: u8,
    /// The sheet name of a method sheet (tables and figures are named `Tabell NN` / `Figur NN`).
    pub name: &'static str,
    /// The report's title; `{Y}` is the release's decision years, `{Y12}` / `{Y18}` the years
    /// from 2012 / 2018, `{R}` the regression years (2018–2022 within the release's years), `{P}`
    /// the months' years of the personal-assistance statistics (from 2014), `{PY}` the years of
    /// `pa_by_payer` (2014–2023).
    pub title: &'static str,
    pub stat: &'static str,
    /// The breakdown's dimensions: a row belongs to it when these are set (`TOTAL` unless a row,
    /// column or filter names them) and every other breakdown's dimensions are absent.
    pub breakdown: &'static [&'static str],
    /// Allowed values of dimensions (in the order the sheet shows them).
    pub filter: Vec<(&'static str, &'static [&'static str])>,
    pub rows: &'static [&'static str],
    pub cols: &'static [&'static str],
    pub measure: Measure,
    /// A `Totalt` column (or row) after each group of the category: the released denominator.
    pub total: bool,
    pub chart: Option<ChartKind>,
    pub note: &'static str,
}

fn spec(kind: Kind, number: u8, stat: &'static str, title: &'static str) -> Spec {
    Spec {
        kind,
        number,
        name: "",
        title,
        stat,
        breakdown: &[],
        filter: Vec::new(),
        rows: &[],
        cols: &[],
        measure: Measure::Count,
        total: false,
        chart: None,
        note: "",
    }
}

fn t(number: u8, stat: &'static str, title: &'static str) -> Spec {
    spec(Kind::Tabell, number, stat, title)
}

fn f(number: u8, stat: &'static str, title: &'static str) -> Spec {
    spec(Kind::Figur, number, stat, title).share()
}

fn m(name: &'static str, stat: &'static str, title: &'static str) -> Spec {
    Spec { name, ..spec(Kind::Metod, 0, stat, title) }
}

impl Spec {
    fn bd(mut self, dims: &'static [&'static str]) -> Self {
        self.breakdown = dims;
        self
    }
    fn only(mut self, dim: &'static str, values: &'static [&'static str]) -> Self {
        self.filter.push((dim, values));
        self
    }
    fn unit(self, units: &'static [&'static str]) -> Self {
        self.only(COUNTING_UNIT, units)
    }
    fn rows(mut self, dims: &'static [&'static str]) -> Self {
        self.rows = dims;
        self
    }
    fn cols(mut self, dims: &'static [&'static str]) -> Self {
        self.cols = dims;
        self
    }
    fn share(mut self) -> Self {
        self.measure = Measure::Share;
        self
    }
    fn ranked(mut self) -> Self {
        self.measure = Measure::Ranked;
        self
    }
    fn total(mut self) -> Self {
        self.total = true;
        self
    }
    fn chart(mut self, kind: ChartKind) -> Self {
        self.chart = Some(kind);
        self
    }
    fn note(mut self, note: &'static str) -> Self {
        self.note = note;
        self
    }

    /// The sheet's name: `Tabell 17`, `Figur 1`, or the method sheet's name.
    pub fn sheet_name(&self) -> String {
        match self.kind {
            Kind::Tabell => format!("Tabell {}", self.number),
            Kind::Figur => format!("Figur {}", self.number),
            Kind::Metod => self.name.to_string(),
        }
    }
}

const YD: &[&str] = &["Y", "D"];
const P: &[&str] = &["P"];
const D: &[&str] = &["D"];
const CHILD_AGES: &[&str] = &["0-6", "7-11", "12-17", TOTAL];
const ADULT_AGES: &[&str] = &["18-29", "30-49", "50-64", "65+", TOTAL];
const COHORT_CHILD_AGES: &[&str] = &["2-6", "7-11", "12-17", TOTAL];
const OUTCOMES: &[&str] = &["AVSLAG", "BIFALL"];
const THREE_REASONS: &[&str] = &["GRUNDLAGGANDE_FORUTSATTNINGAR", "PERSONKRETS", "BEHOV_HOGST_20H"];
const REFUSAL_NOTE: &str = "Avslag utan registrerat skäl (Skäl saknas) redovisas i refusal_reasons.csv och ingår inte i nämnaren.";
const PERSON_NOTE: &str =
    "Personer under perioden: en person räknas en gång i varje cell där något av personens beslut hamnar; Totalt är summan av cellerna.";

/// The five breakdowns of the history tables (T26–T45): by year, then over the period.
fn history(first: u8, stat: &'static str, titles: [&'static str; 5], cols: &'static [&'static str], first_cols: Option<&'static [&'static str]>) -> Vec<Spec> {
    let year = t(first, stat, titles[0]).bd(&[COUNTING_UNIT, "decision_year"]).unit(YD);
    let year = match first_cols {
        // T26: the bins down the side, the years across.
        Some(c) => year.rows(c).cols(&["decision_year"]).total(),
        None => year.rows(&["decision_year"]).cols(cols).total(),
    };
    vec![
        year,
        t(first + 1, stat, titles[1]).bd(&[COUNTING_UNIT, "sex_age"]).unit(P).rows(&["sex_age"]).cols(cols).total().note(PERSON_NOTE),
        t(first + 2, stat, titles[2])
            .bd(&[COUNTING_UNIT, "sex", "age_group"])
            .unit(P)
            .rows(&["sex", "age_group"])
            .cols(cols)
            .total()
            .note(PERSON_NOTE),
        t(first + 3, stat, titles[3])
            .bd(&[COUNTING_UNIT, "birth_country", "sex_age"])
            .unit(P)
            .rows(&["birth_country", "sex_age"])
            .cols(cols)
            .total()
            .note(PERSON_NOTE),
        t(first + 4, stat, titles[4])
            .bd(&[COUNTING_UNIT, "lss_group", "sex_age"])
            .unit(P)
            .rows(&["lss_group", "sex_age"])
            .cols(cols)
            .total()
            .note(PERSON_NOTE),
    ]
}

/// Every sheet of the workbook, in the report's order (tables, then figures, then method sheets).
pub fn specs() -> Vec<Spec> {
    let mut out = Vec::new();
    // T3-T15: refusal reasons by year, municipal support before/after and the rankings.
    out.push(
        t(3, "refusal_reasons", "Orsaker till avslag på ansökan om assistansersättning, år {Y}. Procent")
            .bd(&[COUNTING_UNIT, "decision_year"])
            .unit(YD)
            .only("rejection_reason", THREE_REASONS)
            .rows(&["rejection_reason"])
            .cols(&["decision_year"])
            .share()
            .note(REFUSAL_NOTE),
    );
    for (child, first) in [("BARN", 4u8), ("VUXNA", 10u8)] {
        let who: &'static [&'static str] = if child == "BARN" { &["BARN"] } else { &["VUXNA"] };
        let (t_support, t_top, t_age, t_country, t_lss, t_reason) = if child == "BARN" {
            (
                "Andel barn med stöd från kommunen året före och efter Försäkringskassans beslut om assistansersättning. Barn som fick beslut perioden {Y}. Procent",
                "Andel barn som har de tre vanligaste kommunala insatserna för barn, året före och efter Försäkringskassans beslut om assistansersättning. Barn som fick beslut perioden {Y}. Procent",
                "Andel barn som har de tre vanligaste kommunala insatserna för barn, året före och efter Försäkringskassans beslut om avslag, efter ålder. Barn som fick beslut perioden {Y}. Procent",
                "Andel barn som har de tre vanligaste kommunala insatserna för barn, året före och efter Försäkringskassans beslut om avslag, efter födelseland. Barn som fick beslut perioden {Y}. Procent",
                "Andel barn som har de tre vanligaste kommunala insatserna för barn, året före och efter Försäkringskassans beslut om avslag, efter grupp i LSS personkrets. Personer som fick beslut perioden {Y}. Procent",
                "Vanligaste kommunala insatserna för barn som Försäkringskassan bedömt inte omfattas av LSS personkrets, året före och efter Försäkringskassans beslut om avslag. Barn som fick beslut {Y}. Procent",
            )
        } else {
            (
                "Andel vuxna med stöd från kommunen året före och efter Försäkringskassans beslut om assistansersättning. Personer som fick beslut perioden {Y}. Procent",
                "Andel vuxna som har de tre vanligaste kommunala insatserna året före och efter Försäkringskassans beslut om assistansersättning. Personer som fick beslut perioden {Y}. Procent",
                "Andel vuxna som har de tre vanligaste kommunala insatserna för vuxna, året före och året efter Försäkringskassans beslut om avslag, efter ålder. Personer som fick beslut perioden {Y}. Procent",
                "Andel vuxna som har de vanligaste kommunala insatserna för vuxna, året före och året efter Försäkringskassans beslut om avslag, efter födelseland. Personer som fick beslut perioden {Y}. Procent",
                "Andel vuxna som har de tre vanligaste kommunala insatserna för vuxna, året före och efter Försäkringskassans beslut om avslag, efter grupp i LSS personkrets. Personer som fick beslut perioden {Y}. Procent",
                "Vanligaste kommunala insatserna för vuxna som Försäkringskassan bedömt inte omfattas av LSS personkrets, året före och efter Försäkringskassans beslut om avslag. Personer som fick beslut {Y}. Procent",
            )
        };
        out.push(
            t(first, "interventions_before_after", t_support)
                .bd(&["age_group"])
                .only("child_adult", who)
                .only("law", &["LSS", "SOL"])
                .only("intervention", &["ALL_LSS", "ALL_SOL"])
                .only("outcome", OUTCOMES)
                .rows(&["intervention"])
                .cols(&["outcome", "period"])
                .share(),
        );
        let top = |n: u8, title: &'static str| t(n, "top_interventions", title).only("child_adult", who).ranked();
        out.push(top(first + 1, t_top).bd(&["age_group"]).only("outcome", OUTCOMES).rows(&["outcome", "period", "rank"]));
        let ages: &'static [&'static str] = if child == "BARN" { &["2-6", "7-11", "12-17"] } else { &["18-29", "30-49", "50-64", "65+"] };
        out.push(top(first + 2, t_age).bd(&["age_group"]).only("outcome", &["AVSLAG"]).only("age_group", ages).rows(&["age_group", "period", "rank"]));
        out.push(top(first + 3, t_country).bd(&["birth_country"]).only("outcome", &["AVSLAG"]).rows(&["birth_country", "period", "rank"]));
        out.push(top(first + 4, t_lss).bd(&["lss_group"]).only("outcome", &["AVSLAG"]).rows(&["lss_group", "period", "rank"]));
        out.push(
            top(first + 5, t_reason)
                .bd(&["rejection_reason"])
                .only("outcome", &["AVSLAG"])
                .only("rejection_reason", &["PERSONKRETS"])
                .rows(&["period", "rank"]),
        );
    }
    // T17-T22: decisions by group and year.
    out.push(
        t(17, "decisions_by_group", "Antal personer som fått bifall respektive avslag samt totalt antal som fått beslut på sin ansökan om assistansersättning, år {Y}")
            .bd(&[COUNTING_UNIT])
            .unit(YD)
            .rows(&["decision_year"])
            .cols(&["outcome"])
            .total(),
    );
    out.push(
        t(18, "decisions_by_group", "Antal personer som får bifall respektive avslag samt totalt antal som får beslut på sin ansökan om assistansersättning, fördelat på ålder och kön, {Y}")
            .bd(&[COUNTING_UNIT, "sex_age"])
            .unit(YD)
            .rows(&["decision_year", "sex_age"])
            .cols(&["outcome"])
            .total(),
    );
    for (n, who, ages, title) in [
        (19u8, "BARN", CHILD_AGES, "Antal barn som får bifall respektive avslag samt totalt antal som får beslut på sin ansökan om assistansersättning, fördelat på ålder och kön, {Y}"),
        (20u8, "VUXNA", ADULT_AGES, "Antal vuxna som får bifall respektive avslag samt totalt antal som får beslut på sin ansökan om assistansersättning, fördelat på åldersgrupper och kön, {Y}"),
    ] {
        let who: &'static [&'static str] = if who == "BARN" { &["BARN"] } else { &["VUXNA"] };
        out.push(
            t(n, "decisions_by_group", title)
                .bd(&[COUNTING_UNIT, "child_adult", "sex", "age_group"])
                .unit(YD)
                .only("child_adult", who)
                .only("age_group", ages)
                .rows(&["decision_year", "sex", "age_group"])
                .cols(&["outcome"])
                .total(),
        );
    }
    out.push(
        t(21, "decisions_by_group", "Antal personer som får bifall respektive avslag samt totalt antal som får beslut på sin ansökan om assistansersättning, fördelat på födelseland, ålder och kön, {Y}")
            .bd(&[COUNTING_UNIT, "birth_country", "sex_age"])
            .unit(YD)
            .rows(&["decision_year", "birth_country", "sex_age"])
            .cols(&["outcome"])
            .total(),
    );
    out.push(
        t(22, "decisions_by_group", "Antal personer som får bifall respektive avslag samt totalt antal som får beslut på sin ansökan om assistansersättning, fördelat på LSS personkrets, ålder och kön, {Y18}")
            .bd(&[COUNTING_UNIT, "lss_group", "sex_age"])
            .unit(YD)
            .rows(&["lss_group", "sex_age", "decision_year"])
            .cols(&["outcome"])
            .total(),
    );
    // T23-T25: refusal reasons over the period.
    let reasons: [(u8, &'static [&'static str], &'static [&'static str], &'static str); 3] = [
        (23, &[COUNTING_UNIT, "sex_age"], &["sex_age"], "Orsak till avslag på ansökan om assistansersättning, efter kön och ålder, perioden {Y}. Antal"),
        (24, &[COUNTING_UNIT, "sex", "age_group"], &["sex", "age_group"], "Orsak till avslag på ansökan om assistansersättning, efter kön och åldersgrupper, perioden {Y}. Antal"),
        (
            25,
            &[COUNTING_UNIT, "birth_country", "sex_age"],
            &["birth_country", "sex_age"],
            "Orsak till avslag på ansökan om assistansersättning, efter födelseland, ålder och kön, perioden {Y}. Antal",
        ),
    ];
    for (n, bd, rows, title) in reasons {
        out.push(t(n, "refusal_reasons", title).bd(bd).unit(D).only("rejection_reason", THREE_REASONS).rows(rows).cols(&["rejection_reason"]).total().note(REFUSAL_NOTE));
    }
    out.extend(history(
        26,
        "assessed_hours",
        [
            "Bedömt antal timmar för grundläggande hjälpbehov för personer som fått avslag på ansökan om assistansersättning, år {Y}. Antal per intervall",
            "Bedömt antal timmar för grundläggande hjälpbehov för personer som fått avslag på ansökan om assistansersättning, efter ålder och kön, perioden {Y}. Antal per intervall",
            "Bedömt antal timmar för grundläggande hjälpbehov för personer som fått avslag på ansökan om assistansersättning, efter åldersgrupp och kön, perioden {Y}. Antal per intervall",
            "Bedömt antal timmar för grundläggande hjälpbehov för personer som fått avslag på ansökan om assistansersättning, efter födelseland, ålder och kön, perioden {Y}. Antal per intervall",
            "Bedömt antal timmar för grundläggande hjälpbehov för personer som fått avslag på ansökan om assistansersättning, efter LSS personkrets, ålder och kön, perioden {Y}. Antal per intervall",
        ],
        &["hours_bin"],
        Some(&["hours_bin"]),
    ));
    out.extend(history(
        31,
        "decision_number",
        [
            "Antal beslut för personer som ansökt flera gånger, år {Y12}. Antal",
            "Antal beslut per person, efter ålder och kön, perioden {Y}. Antal",
            "Antal beslut per person, efter åldersgrupp och kön, perioden {Y}. Antal",
            "Antal beslut per person, efter födelseland, ålder och kön, perioden {Y}. Antal",
            "Antal beslut per person, efter LSS personkrets, ålder och kön, perioden {Y}. Antal",
        ],
        &["decision_number"],
        None,
    ));
    out.extend(history(
        36,
        "time_since_previous",
        [
            "Tid som gått mellan två beslut för personer som ansökt flera gånger, år {Y12}. Antal",
            "Tid som gått mellan två beslut för personer som ansökt flera gånger, efter ålder och kön, perioden {Y}",
            "Tid som gått mellan två beslut för personer som ansökt flera gånger, efter åldersgrupp och kön, perioden {Y}",
            "Tid som gått mellan två beslut för personer som ansökt flera gånger, efter födelseland, ålder och kön, perioden {Y}",
            "Tid som gått mellan två beslut för personer som ansökt flera gånger, efter LSS personkrets, ålder och kön, perioden {Y}",
        ],
        &["time_since_previous"],
        None,
    ));
    out.extend(history(
        41,
        "refusal_by_previous_application",
        [
            "Antal personer som får beslut vid första respektive upprepad ansökan om assistansersättning, fördelat på beslutsutfall, år {Y12}",
            "Antal personer som får beslut vid första respektive upprepad ansökan om assistansersättning, fördelat på beslutsutfall, efter ålder och kön, perioden {Y}",
            "Antal personer som får beslut vid första respektive upprepad ansökan om assistansersättning, fördelat på beslutsutfall, efter åldersgrupp och kön, perioden {Y}",
            "Antal personer som får beslut vid första respektive upprepad ansökan om assistansersättning, fördelat på beslutsutfall, efter födelseland, ålder och kön, perioden {Y}",
            "Antal personer som får beslut vid första respektive upprepad ansökan om assistansersättning, fördelat på beslutsutfall, efter LSS personkrets, ålder och kön, perioden {Y}",
        ],
        &["previous_application", "outcome"],
        None,
    ));
    out.push(
        t(46, "reapplication_after_refusal", "Antal personer som ansökt fler gånger, fördelat på orsak till avslag på föregående beslut samt beslutsutfall på upprepad ansökan, fördelat på ålder och kön.")
            .rows(&["rejection_reason", "sex_age"])
            .cols(&["stage", "next_outcome"]),
    );
    // T47-T58: support in the year before (and after) the decision, counts.
    let three: [(&'static [&'static str], &'static [&'static str]); 3] = [
        (&["sex", "age_group"], &["sex", "age_group"]),
        (&["birth_country", "sex_age"], &["birth_country", "sex_age"]),
        (&["lss_group", "sex_age"], &["lss_group", "sex_age"]),
    ];
    let groups: [(u8, &'static str, &'static [&'static str], [&'static str; 3]); 3] = [
        (47, "other_support_before", &["support_type"], [
            "Antal personer som var mottagare av annat samhällsstöd året före de fick beslut på ansökan om assistansersättning. Perioden {Y}. Fördelat på åldersgrupp, kön och typ av stöd",
            "Antal personer som var mottagare av annat samhällsstöd året före de fick beslut på ansökan om assistansersättning. Perioden {Y}. Fördelat på födelseland, ålder, kön och typ av stöd",
            "Antal personer som var mottagare av annat samhällsstöd året före de fick beslut på ansökan om assistansersättning. Perioden {Y}. Fördelat på LSS personkrets, ålder, kön och typ av stöd",
        ]),
        (50, "municipal_law_before", &["law"], [
            "Antal personer som var mottagare av insatser enligt LSS eller SoL året före de fick beslut på ansökan om assistansersättning perioden {Y}. Fördelat på åldersgrupper, kön och kommunalt stöd.",
            "Antal personer som var mottagare av insatser enligt LSS eller SoL året före de fick beslut på ansökan om assistansersättning perioden {Y}. Fördelat på födelseland, ålder, kön och kommunalt stöd.",
            "Antal personer som var mottagare av insatser enligt LSS eller SoL året före de fick beslut på ansökan om assistansersättning perioden {Y}. Fördelat på personkrets, ålder, kön och kommunalt stöd.",
        ]),
        (53, "benefits_before", &["benefit"], [
            "Antal personer som var mottagare av respektive förmån inom socialförsäkringen året före de fick beslut på ansökan om assistansersättning. Perioden {Y}. Fördelat på åldersgrupp, kön och förmån.",
            "Antal personer som var mottagare av respektive förmån inom socialförsäkringen året före de fick beslut på ansökan om assistansersättning. Perioden {Y}. Fördelat på födelseland, ålder, kön och förmån.",
            "Antal personer som var mottagare av respektive förmån inom socialförsäkringen året före de fick beslut på ansökan om assistansersättning. Perioden {Y}. Fördelat på personkrets, ålder, kön och förmån.",
        ]),
    ];
    for (first, stat, cols, titles) in groups {
        for (k, (bd, rows)) in three.iter().enumerate() {
            out.push(t(first + k as u8, stat, titles[k]).bd(bd).rows(rows).cols(cols).total());
        }
    }
    for (k, (bd, rows)) in three.iter().enumerate() {
        let titles = [
            "Antal personer som var mottagare av kommunalt stöd året före eller efter beslut under perioden {Y}. Fördelat på åldersgrupp, kön, beslutsutfall på ansökan om assistansersättning samt förekomst av kommunalt stöd året före (ja eller nej).",
            "Antal personer som var mottagare av kommunalt stöd året före eller efter beslut under perioden {Y}. Fördelat på födelseland, ålder, kön, beslutsutfall på ansökan om assistansersättning samt förekomst av kommunalt stöd året före (ja eller nej).",
            "Antal personer som var mottagare av kommunalt stöd året före eller efter beslut under perioden {Y}. Fördelat på LSS personkrets, ålder, kön, beslutsutfall på ansökan om assistansersättning samt förekomst av kommunalt stöd året före (ja eller nej).",
        ];
        out.push(
            t(56 + k as u8, "municipal_support_before_after", titles[k])
                .bd(bd)
                .only("outcome", OUTCOMES)
                .rows(rows)
                .cols(&["outcome", "period", "municipal_support"]),
        );
    }
    // T59-T66: every intervention before and after, children then adults.
    for (first, who, ages, noun) in [(59u8, "BARN", COHORT_CHILD_AGES, "barn 0–17 år"), (63, "VUXNA", ADULT_AGES, "vuxna 18 år och äldre")] {
        let who: &'static [&'static str] = if who == "BARN" { &["BARN"] } else { &["VUXNA"] };
        let titles: [&'static str; 4] = if noun.starts_with("barn") {
            [
                "Antal barn 0–17 år som var mottagare av kommunal insats året före och året efter beslut under perioden {Y}. Fördelat på åldersgrupp, beslutsutfall och typ av insats.",
                "Antal barn 0–17 år som var mottagare av kommunal insats året före och året efter beslut under perioden {Y}. Fördelat på födelseland, beslutsutfall och typ av insats.",
                "Antal barn 0–17 år som var mottagare av kommunal insats året före eller året efter beslut under perioden {Y}. Fördelat på LSS personkrets, beslutsutfall och typ av insats.",
                "Antal barn 0–17 år som var mottagare av kommunal insats året före eller året efter beslut under perioden {Y}. Fördelat på orsak till avslag och typ av insats.",
            ]
        } else {
            [
                "Antal vuxna 18 år och äldre som var mottagare av kommunal insats året före och året efter beslut under perioden {Y}. Fördelat på åldersgrupp, beslutsutfall och typ av insats.",
                "Antal vuxna 18 år och äldre som var mottagare av kommunal insats året före och året efter beslut under perioden {Y}. Fördelat på födelseland, beslutsutfall och typ av insats.",
                "Antal vuxna 18 år och äldre som var mottagare av kommunal insats året före och året efter beslut under perioden {Y}. Fördelat på LSS personkrets, beslutsutfall och typ av insats.",
                "Antal vuxna 18 år och äldre som var mottagare av kommunal insats året före eller året efter beslut under perioden {Y}. Fördelat på orsak till avslag och typ av insats",
            ]
        };
        let base = |n: u8, title: &'static str| t(n, "interventions_before_after", title).only("child_adult", who).rows(&["law", "intervention"]);
        out.push(base(first, titles[0]).bd(&["age_group"]).only("outcome", OUTCOMES).only("age_group", ages).cols(&["outcome", "age_group", "period"]));
        out.push(base(first + 1, titles[1]).bd(&["birth_country"]).only("outcome", OUTCOMES).cols(&["outcome", "birth_country", "period"]));
        out.push(base(first + 2, titles[2]).bd(&["lss_group"]).only("outcome", OUTCOMES).cols(&["outcome", "lss_group", "period"]));
        out.push(
            base(first + 3, titles[3])
                .bd(&["rejection_reason"])
                .only("outcome", &["AVSLAG"])
                .only("rejection_reason", &["PERSONKRETS", "BEHOV_HOGST_20H", TOTAL])
                .cols(&["rejection_reason", "period"]),
        );
    }
    // T1, T2, T67, T68 come from the regressions (see `regression_sheet`); their counts:
    out.push(
        m("Regressionernas antal", "refusal_regression", "Antal beslut i de logistiska regressionerna (tabell 1, 2, 67 och 68), efter utfall, perioden {R}")
            .rows(&["model"])
            .cols(&["outcome"])
            .total(),
    );
    // Figures with native charts.
    out.push(
        f(1, "decisions_by_group", "Andel som fått avslag på sin ansökan om assistansersättning, år {Y}. Procent")
            .bd(&[COUNTING_UNIT])
            .unit(&["Y"])
            .only("outcome", &["AVSLAG"])
            .rows(&["decision_year"])
            .cols(&["outcome"])
            .chart(ChartKind::Line),
    );
    out.push(
        f(25, "other_support_before", "Andel som var mottagare av annat samhällsstöd året före de fick beslut på ansökan om assistansersättning. Personer som fick beslut perioden {Y}, efter åldersgrupp och kön. Procent")
            .bd(&["sex", "age_group"])
            .rows(&["sex", "age_group"])
            .cols(&["support_type"])
            .chart(ChartKind::ColumnStacked),
    );
    out.push(
        f(27, "other_support_before", "Andel som var mottagare av annat samhällsstöd året före de fick beslut på ansökan om assistansersättning. Personer som fick beslut perioden {Y}, efter typ av stöd, födelseland, ålder och kön. Procent")
            .bd(&["birth_country", "sex_age"])
            .rows(&["birth_country", "sex_age"])
            .cols(&["support_type"])
            .chart(ChartKind::ColumnStacked),
    );
    out.push(
        f(28, "other_support_before", "Andel barn som var mottagare av annat samhällsstöd året före de fick beslut på ansökan om assistansersättning. Personer som fick beslut perioden {Y}, efter typ av stöd, grupp i LSS personkrets och kön. Procent")
            .bd(&["lss_group", "sex_age"])
            .only("sex_age", &["FLICKOR", "POJKAR"])
            .rows(&["lss_group", "sex_age"])
            .cols(&["support_type"])
            .chart(ChartKind::ColumnStacked),
    );
    out.push(
        f(29, "other_support_before", "Andel vuxna som var mottagare av annat samhällsstöd året före de fick beslut på ansökan om assistansersättning. Personer som fick beslut perioden {Y}, efter typ av stöd, grupp i LSS personkrets och kön. Procent")
            .bd(&["lss_group", "sex_age"])
            .only("sex_age", &["KVINNOR", "MAN"])
            .rows(&["lss_group", "sex_age"])
            .cols(&["support_type"])
            .chart(ChartKind::ColumnStacked),
    );
    out.push(
        f(30, "benefits_before", "Andel som var mottagare av respektive förmån inom socialförsäkringen året före de fick beslut på ansökan om assistansersättning. Personer som fick beslut perioden {Y}, efter åldersgrupp och kön. Procent")
            .bd(&["sex", "age_group"])
            .rows(&["sex", "age_group"])
            .cols(&["benefit"])
            .chart(ChartKind::Column),
    );
    for (n, who) in [(31u8, "BARN"), (33u8, "VUXNA")] {
        let (who, title): (&'static [&'static str], &'static str) = if who == "BARN" {
            (&["BARN"], "Andel barn med kommunal insats året före och efter Försäkringskassans beslut om assistansersättning. Personer som fick beslut perioden {Y}. Procent")
        } else {
            (&["VUXNA"], "Andel vuxna med kommunal insats året före och året efter Försäkringskassans beslut om assistansersättning. Personer som fick beslut perioden {Y}. Procent")
        };
        out.push(
            f(n, "interventions_before_after", title)
                .bd(&["age_group"])
                .only("child_adult", who)
                .only("law", &[""])
                .only("intervention", &["ALL_MUNICIPAL"])
                .only("outcome", OUTCOMES)
                .rows(&["outcome"])
                .cols(&["period"])
                .chart(ChartKind::Column),
        );
        let (who2, title2): (&'static [&'static str], &'static str) = if n == 31 {
            (&["BARN"], "Andel barn med personlig assistans året före och året efter Försäkringskassans beslut, efter antal ansökningar. Personer som fick beslut perioden {Y}. Procent")
        } else {
            (&["VUXNA"], "Andel vuxna med personlig assistans året före och året efter Försäkringskassans beslut, efter antal ansökningar. Personer som fick beslut perioden {Y}. Procent")
        };
        out.push(
            f(n + 1, "pa_by_previous_application", title2)
                .only("child_adult", who2)
                .only("law", &["LSS"])
                .only("intervention", &["PERSONLIG_ASSISTANS"])
                .only("outcome", OUTCOMES)
                .rows(&["outcome", "previous_application"])
                .cols(&["period"])
                .chart(ChartKind::Column),
        );
    }
    // D11, in the report's text only.
    out.push(
        m("Vistelsetid och avslag", "refusal_by_residence_time", "Beslut för utrikes födda efter vistelsetid i Sverige och utfall, barn och vuxna, beslut {R}. Antal")
            .bd(&[COUNTING_UNIT, "child_adult", "residence_years"])
            .unit(D)
            .rows(&["child_adult", "residence_years"])
            .cols(&["outcome"])
            .total(),
    );
    out.push(
        m("Vistelsetid och avslagsskäl", "refusal_reasons_by_residence_time", "Avslag för utrikes födda efter vistelsetid i Sverige och orsak, barn och vuxna, beslut {R}. Antal")
            .bd(&[COUNTING_UNIT, "child_adult", "residence_years"])
            .unit(D)
            .only("rejection_reason", THREE_REASONS)
            .rows(&["child_adult", "residence_years"])
            .cols(&["rejection_reason"])
            .total()
            .note(REFUSAL_NOTE),
    );
    // Personal assistance by payer (SPEC-DECISIONS §5c, Vårdföretagarna's monthly report).
    out.push(
        m("Assistans efter huvudman", "pa_by_payer", "Personer med personlig assistans i december efter huvudman, år {PY}. Antal")
            .only("payer", &["FK", "KOMMUN", "BOTH", "TOTAL"])
            .rows(&["payer"])
            .cols(&["year"])
            .note("Försäkringskassan: rätt till assistansersättning i månaden. Kommunen: verkställd personlig assistans enligt LSS och inte assistansersättning samma månad. Båda räknas under Försäkringskassan."),
    );
    out.push(
        m("Assistans och utförare", "fk_recipients_by_provider", "Mottagare av assistansersättning efter utförarkategori, per månad {P}. Procent")
            .rows(&["month"])
            .cols(&["provider_category"])
            .share()
            .total(),
    );
    out.push(
        m("Beviljade timmar", "fk_hours_per_recipient", "Mottagare av assistansersättning och beviljade timmar per vecka (medel), per månad {P}")
            .rows(&["month", "mean_hours_week"])
            .note("Medelvärdet redovisas när antalet mottagare är publicerat och minst 50 (- annars)."),
    );
    // Method sheets: the statistics the report gives in its text or method chapter.
    out.push(m("Urval av populationen", "cohort_flow", "Hur många som återstår efter varje urvalssteg (SPEC §4), efter beslutsår").rows(&["rule"]).cols(&["decision_year"]));
    out.push(m("Urval av besluten", "decision_flow", "Hur många beslut som återstår efter varje urvalssteg (SPEC-DECISIONS §5b.1), efter beslutsår").rows(&["rule"]).cols(&["decision_year"]));
    out.push(
        m("HSL-insats året före", "hsl_before", "Personer med en insats enligt HSL året före beslutet, efter barn/vuxna och kön, perioden {Y}")
            .bd(&["child_adult", "sex"])
            .rows(&["child_adult", "sex"])
            .cols(&["law"])
            .total(),
    );
    out.push(
        m("Inget stöd året efter", "no_support_after", "Personer utan kommunalt stöd och utan socialförsäkringsstöd året efter beslutet, perioden {Y}")
            .only("support_type", &["NONE"])
            .rows(&["outcome", "child_adult"])
            .cols(&["support_type"])
            .total(),
    );
    out
}

/// One cell of a sheet's grid.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Blank,
    Text(String),
    /// A count.
    Int(i64),
    /// A share in percent (shown as a whole number).
    Pct(f64),
    /// An estimate shown with two decimals (odds ratios and their intervals).
    Dec(f64),
    /// A hidden count or denominator: `*`.
    Hidden,
    /// A share not released: `-`.
    NoShare,
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Blank => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Pct(p) => format!("{:.0}", p.round()),
            Cell::Dec(x) => format!("{x:.2}").replace('.', ","),
            Cell::Hidden => "*".into(),
            Cell::NoShare => "-".into(),
        }
    }
}

/// One rendered sheet.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub name: String,
    pub kind: Kind,
    /// `Tabell 17 Antal personer …` (the title with the release's years).
    pub title: String,
    /// The released statistic it shows.
    pub statistic: &'static str,
    /// Header rows (column labels), then the body; the first `label_cols` columns are row labels.
    pub header: Vec<Vec<Cell>>,
    pub body: Vec<Vec<Cell>>,
    pub label_cols: usize,
    pub notes: Vec<String>,
    pub chart: Option<ChartKind>,
}

impl Sheet {
    /// The sheet as text (tab-separated grid), for snapshots and review.
    pub fn text(&self) -> String {
        let mut out = format!("{}\n", self.title);
        for row in self.header.iter().chain(&self.body) {
            out.push_str(row.iter().map(Cell::text).collect::<Vec<_>>().join("\t").trim_end());
            out.push('\n');
        }
        for n in &self.notes {
            out.push_str(n);
            out.push('\n');
        }
        out
    }
}

/// The title with the release's years filled in.
fn fill(title: &str, years: Years) -> String {
    let span = |a: i32, b: i32| if a >= b { a.to_string() } else { format!("{a}–{b}") };
    title
        .replace("{Y12}", &span(years.from.max(2012), years.to))
        .replace("{Y18}", &span(years.from.max(2018), years.to))
        .replace("{R}", &span(years.from.max(2018), years.to.min(2022)))
        .replace("{PY}", &span(years.from.max(crate::assistance::PAYER_YEARS.0), years.to.min(crate::assistance::PAYER_YEARS.1)))
        .replace("{P}", &span(years.from.max(crate::assistance::FIRST_MONTH_YEAR), years.to))
        .replace("{Y}", &span(years.from, years.to))
}

/// Marks the `Totalt` column or row of a category (the released denominator).
const DEN: &str = "\u{0}DEN";

/// Sort key of a value of a dimension: the sheet's filter order, else the statistic's value
/// order (domain or categories), years numerically, `TOTAL` last.
fn order_key(stat: &Statistic, spec: &Spec, dim: &str, value: &str) -> (u8, i64, String) {
    if value == DEN {
        return (3, 0, String::new());
    }
    if let Some((_, allowed)) = spec.filter.iter().find(|(d, _)| *d == dim) {
        if let Some(i) = allowed.iter().position(|v| *v == value) {
            return (0, i as i64, String::new());
        }
    }
    if value == TOTAL {
        return (2, 0, String::new());
    }
    if let Some(i) = stat.values(dim).iter().position(|v| *v == value) {
        return (0, i as i64, String::new());
    }
    if let Some(j) = stat.category.iter().position(|d| *d == dim) {
        if let Some(i) = (stat.categories)().iter().position(|c| c.get(j).is_some_and(|v| *v == value)) {
            return (0, i as i64, String::new());
        }
    }
    match value.parse::<i64>() {
        Ok(n) => (1, n, String::new()),
        Err(_) => (1, i64::MAX, value.to_string()),
    }
}

/// Whether a released row is one of the sheet's cells.
fn selects(stat: &Statistic, spec: &Spec, dims: &[&str], values: &[String]) -> bool {
    for (d, v) in dims.iter().zip(values) {
        let v = v.as_str();
        if let Some((_, allowed)) = spec.filter.iter().find(|(fd, _)| fd == d) {
            if !allowed.contains(&v) {
                return false;
            }
        } else if crate::assistance::mean_column(stat.id) == Some(*d) {
            // A measure beside the count (empty where it is not released), not a dimension.
        } else if spec.rows.contains(d) || spec.cols.contains(d) {
            if v.is_empty() || (*d == "lss_group" && v == "NONE") {
                return false;
            }
        } else if spec.measure == Measure::Ranked && stat.category.contains(d) {
            // The ranked category is the cell's content.
        } else if spec.breakdown.contains(d) || stat.always.contains(d) {
            if v != TOTAL {
                return false;
            }
        } else if !v.is_empty() {
            return false;
        }
    }
    true
}

/// The label of a value in a row of the sheet (interventions by their law's code list).
fn label(dims: &[&str], values: &[String], i: usize) -> String {
    let (d, v) = (dims[i], values[i].as_str());
    if v == DEN {
        return "Totalt".into();
    }
    if d == "intervention" {
        let law = dims.iter().position(|x| *x == "law").map(|j| values[j].as_str()).unwrap_or("");
        if let Some(l) = regstat_contract::codes::intervention_label(law, v) {
            return l.to_string();
        }
    }
    if d == "law" && v.is_empty() {
        return "SoL eller LSS".into();
    }
    value_label(d, v).into_owned()
}

fn ranked_label(stat: &Statistic, dims: &[&str], values: &[String]) -> String {
    let at = dims.len() - stat.category.len();
    let cat: Vec<&str> = stat.category.to_vec();
    label(&cat, &values[at..], cat.iter().position(|d| *d == "intervention").unwrap_or(0))
}

/// Insert a `DEN` key after each run of keys sharing the prefix before the category's position.
fn with_totals(keys: Vec<Vec<String>>, at: usize) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let prefix = |k: &Vec<String>| k[..at].to_vec();
    for (i, k) in keys.iter().enumerate() {
        out.push(k.clone());
        let last = i + 1 == keys.len() || prefix(&keys[i + 1]) != prefix(k);
        if last {
            let mut d = k.clone();
            d[at] = DEN.into();
            for x in d.iter_mut().skip(at + 1) {
                *x = DEN.into();
            }
            out.push(d);
        }
    }
    out
}

/// Blank repeated leading labels (the report's nested row and column headings).
fn nest(labels: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut prev: Option<&Vec<String>> = None;
    for l in labels {
        let mut shown = l.clone();
        if let Some(p) = prev {
            for j in 0..l.len().saturating_sub(1) {
                if p[..=j] == l[..=j] {
                    shown[j] = String::new();
                } else {
                    break;
                }
            }
        }
        out.push(shown);
        prev = Some(l);
    }
    out
}

/// The grid of a table or figure sheet from its released statistic.
pub fn sheet(spec: &Spec, t: &ReleasedTable, years: Years) -> Option<Sheet> {
    let stat = stats::find(spec.stat).ok()?;
    let dims: &[&str] = &t.dims;
    let pos = |d: &str| dims.iter().position(|x| *x == d);
    let row_at: Vec<usize> = spec.rows.iter().map(|d| pos(d)).collect::<Option<_>>()?;
    let col_at: Vec<usize> = spec.cols.iter().map(|d| pos(d)).collect::<Option<_>>()?;
    let figure = spec.kind == Kind::Figur;
    let cat = stat.category.first().copied();
    let key = |r: &[String], at: &[usize]| at.iter().map(|&i| r[i].clone()).collect::<Vec<_>>();
    let den_key = |k: &Vec<String>, names: &[&str]| -> Vec<String> {
        let mut k = k.clone();
        if let Some(j) = cat.and_then(|c| names.iter().position(|d| *d == c)) {
            for x in k.iter_mut().skip(j) {
                *x = DEN.into();
            }
        }
        k
    };
    let mut cells: HashMap<(Vec<String>, Vec<String>), &crate::disclosure::Released> = HashMap::new();
    let mut row_keys: Vec<Vec<String>> = Vec::new();
    let mut col_keys: Vec<Vec<String>> = Vec::new();
    for r in &t.rows {
        if !selects(stat, spec, dims, &r.values) {
            continue;
        }
        let (rk, ck) = (key(&r.values, &row_at), key(&r.values, &col_at));
        if spec.total {
            cells.entry((den_key(&rk, spec.rows), den_key(&ck, spec.cols))).or_insert(r);
        }
        if !row_keys.contains(&rk) {
            row_keys.push(rk.clone());
        }
        if !col_keys.contains(&ck) {
            col_keys.push(ck.clone());
        }
        cells.entry((rk, ck)).or_insert(r);
    }
    let sort = |keys: &mut Vec<Vec<String>>, names: &[&str]| {
        keys.sort_by_cached_key(|k| names.iter().zip(k).map(|(d, v)| order_key(stat, spec, d, v)).collect::<Vec<_>>());
    };
    sort(&mut row_keys, spec.rows);
    sort(&mut col_keys, spec.cols);
    if spec.total {
        if let Some(j) = cat.and_then(|c| spec.cols.iter().position(|d| *d == c)) {
            col_keys = with_totals(col_keys, j);
        } else if let Some(j) = cat.and_then(|c| spec.rows.iter().position(|d| *d == c)) {
            row_keys = with_totals(row_keys, j);
        }
    }
    let is_den = |k: &Vec<String>| k.iter().any(|v| v == DEN);
    let value = |r: &crate::disclosure::Released, den: bool| -> Cell {
        if den {
            return r.denominator.map(Cell::Int).unwrap_or(Cell::Hidden);
        }
        match spec.measure {
            Measure::Share => r.share_pct.map(Cell::Pct).unwrap_or(Cell::NoShare),
            _ => r.n.map(Cell::Int).unwrap_or(Cell::Hidden),
        }
    };
    // Row labels (one column per row dimension; a figure joins them for its chart's categories).
    let row_names: Vec<&str> = spec.rows.to_vec();
    let row_label = |k: &Vec<String>| -> Vec<String> { (0..k.len()).map(|i| label(&row_names, k, i)).collect() };
    let labels: Vec<Vec<String>> = row_keys.iter().map(row_label).collect();
    let labels = if figure { labels.into_iter().map(|l| vec![l.join(" ")]).collect() } else { nest(&labels) };
    let label_cols = if figure { 1 } else { spec.rows.len().max(1) };
    // Header: one row per column dimension, labels shown where they change.
    let mut header: Vec<Vec<Cell>> = Vec::new();
    let col_names: Vec<&str> = spec.cols.to_vec();
    let data_cols: Vec<Vec<String>> = if spec.measure == Measure::Ranked {
        vec![vec!["Insats".into()], vec!["Andel (%)".into()]]
    } else {
        let l: Vec<Vec<String>> = col_keys.iter().map(|k| (0..k.len()).map(|i| label(&col_names, k, i)).collect()).collect();
        if figure {
            l.into_iter().map(|x| vec![x.join(" ")]).collect()
        } else {
            l
        }
    };
    let levels = data_cols.iter().map(Vec::len).max().unwrap_or(0);
    if levels == 0 && !figure {
        // No column dimension: one value column, the count.
        let mut row: Vec<Cell> = row_names.iter().map(|d| Cell::Text(dim_label(d).to_string())).collect();
        row.resize(label_cols, Cell::Blank);
        row.push(Cell::Text("Antal".into()));
        header.push(row);
    }
    for level in 0..levels {
        let mut row: Vec<Cell> = vec![Cell::Blank; label_cols];
        if level + 1 == levels && !figure {
            for (j, d) in row_names.iter().enumerate() {
                row[j] = Cell::Text(dim_label(d).to_string());
            }
        }
        let mut prev: Option<&[String]> = None;
        for c in &data_cols {
            let shown = prev.is_none_or(|p| p.get(..=level) != c.get(..=level)) || level + 1 == levels;
            row.push(if shown { c.get(level).map(|s| Cell::Text(s.clone())).unwrap_or(Cell::Blank) } else { Cell::Blank });
            prev = Some(c);
        }
        header.push(row);
    }
    let mut body = Vec::new();
    // A measure among the row dimensions (the mean hours of fk_hours_per_recipient) is a number.
    let measure_at = crate::assistance::mean_column(stat.id).and_then(|m| row_names.iter().position(|d| *d == m));
    for (rk, l) in row_keys.iter().zip(labels) {
        let mut row: Vec<Cell> = l
            .into_iter()
            .enumerate()
            .map(|(j, text)| match (Some(j) == measure_at, text.parse::<f64>()) {
                (true, Ok(v)) => Cell::Dec(v),
                (true, Err(_)) => Cell::NoShare,
                _ => Cell::Text(text),
            })
            .collect();
        if spec.measure == Measure::Ranked {
            let r = cells.get(&(rk.clone(), vec![]))?;
            row.push(Cell::Text(ranked_label(stat, dims, &r.values)));
            row.push(r.share_pct.map(Cell::Pct).unwrap_or(Cell::NoShare));
        } else {
            for ck in &col_keys {
                let den = is_den(rk) || is_den(ck);
                row.push(cells.get(&(rk.clone(), ck.clone())).map(|r| value(r, den)).unwrap_or(Cell::Blank));
            }
        }
        body.push(row);
    }
    let mut notes = Vec::new();
    if !spec.note.is_empty() {
        notes.push(spec.note.to_string());
    }
    notes.push(match spec.measure {
        Measure::Share => "- = andelen redovisas inte (nämnaren under gränsen, eller antalet eller nämnaren dolt).".into(),
        Measure::Count => "* = dolt antal (färre än 3 personer, eller röjande: sekundär undertryckning).".into(),
        Measure::Ranked if body.is_empty() => "Inga publicerade antal att rangordna: rangordningen bygger bara på publicerade antal.".into(),
        Measure::Ranked => "Rangordningen bygger bara på publicerade antal; dolda antal rangordnas och listas inte. - = andelen redovisas inte.".into(),
    });
    if spec.total {
        notes.push("Totalt = nämnaren: alla i gruppen.".into());
    }
    notes.push(format!("Källa: registerdata, statistiken {} (tidy-filerna {}.csv och {}.parquet).", stat.id, stat.id, stat.id));
    Some(Sheet {
        name: spec.sheet_name(),
        kind: spec.kind,
        title: match spec.kind {
            Kind::Metod => fill(spec.title, years),
            _ => format!("{} {}", spec.sheet_name(), fill(spec.title, years)),
        },
        statistic: stat.id,
        header,
        body,
        label_cols,
        notes,
        chart: spec.chart,
    })
}

/// The regression tables: T1/T2 (odds ratios) and T67/T68 (with Wald 95 % intervals), for a
/// model whose counts are published and that passes the release rule; otherwise the sheet
/// says why it is withheld.
fn regression_sheet(number: u8, model: &Model, result: Published<'_>, years: Years) -> Sheet {
    let child = model.name == "BARN";
    let with_ci = number > 2;
    let title = match (number, child) {
        (1 | 2, true) => "Avslag på ansökan om assistansersättning, barn 0–17 år, perioden {R}. Logistisk regressionsanalys. Oddskvoter",
        (1 | 2, false) => "Avslag på ansökan om assistansersättning, vuxna 18 år och äldre, perioden {R}. Logistisk regressionsanalys. Oddskvoter",
        (_, true) => "Oddskvoter. Sannolikhet att få avslag för barn, perioden {R}.",
        (_, false) => "Oddskvoter. Sannolikhet att få avslag för vuxna, perioden {R}.",
    };
    fn var_label(v: &str) -> &str {
        match v {
            "sex_age" | "sex" => "Kön",
            "birth_country" => "Födelseland",
            "age_group" => "Ålder",
            "lss_group" => "LSS personkrets",
            other => other,
        }
    }
    let mut header = vec![Cell::Text("Variabel".into()), Cell::Blank, Cell::Text("Oddskvot".into())];
    if with_ci {
        header.extend([Cell::Text("Konfidensintervall 95 %, nedre".into()), Cell::Text("övre".into())]);
    }
    let mut body = Vec::new();
    let mut notes = vec!["Logistisk regression (IRLS); referenskategori = 1,00. Wald-intervall exp(β ± 1,96·SE).".to_string()];
    match result {
        Ok((rows, n, avslag)) => {
            notes.push(format!("Antal beslut i modellen: {n}, varav avslag: {avslag} (publicerade i refusal_regression)."));
            let mut prev = "";
            for e in rows {
                let v = if e.variable == prev { String::new() } else { var_label(&e.variable).to_string() };
                prev = &e.variable;
                let mut row = vec![Cell::Text(v), Cell::Text(value_label(&e.variable, &e.level).into_owned()), Cell::Dec(e.odds_ratio)];
                if with_ci {
                    row.push(e.ci_low.map(Cell::Dec).unwrap_or(Cell::Blank));
                    row.push(e.ci_high.map(Cell::Dec).unwrap_or(Cell::Blank));
                }
                body.push(row);
            }
        }
        Err(why) => {
            body.push(vec![Cell::Text(format!("Redovisas inte: {}", withheld_sv(&why)))]);
        }
    }
    notes.push("Källa: registerdata, refusal_regression_estimates.csv.".into());
    let name = format!("Tabell {number}");
    Sheet {
        title: format!("{name} {}", fill(title, years)),
        name,
        kind: Kind::Tabell,
        statistic: "refusal_regression",
        header: vec![header],
        body,
        label_cols: 2,
        notes,
        chart: None,
    }
}

/// Why a model is withheld, in Swedish (the estimates file keeps the English reason).
fn withheld_sv(why: &str) -> String {
    match why {
        "separation" => "fullständig eller nästan fullständig separation".into(),
        "singular" => "singulär informationsmatris (en nivå utan observationer)".into(),
        "no_convergence" => "skattningen konvergerade inte".into(),
        "its counts are suppressed" => "modellens antal är dolda i releasen".into(),
        other => other.replace("decisions with one outcome", "beslut med ett av utfallen").replace("fewer than", "färre än").replace("decisions", "beslut"),
    }
}

/// Every sheet of the workbook for a release, in the report's order (tables by number, then
/// figures by number, then the method sheets). Sheets of statistics the release does not hold
/// are left out.
pub fn sheets(tables: &[ReleasedTable], models: &[Model], years: Years) -> Vec<Sheet> {
    let mut out: Vec<Sheet> = Vec::new();
    for s in specs() {
        if let Some(t) = tables.iter().find(|t| t.statistic == s.stat) {
            if let Some(sh) = sheet(&s, t, years) {
                out.push(sh);
            }
        }
    }
    let released = tables.iter().find(|t| t.statistic == "refusal_regression");
    if released.is_some() {
        for (model, result) in crate::regression::published(models, released) {
            let (a, b) = if model.name == "BARN" { (1, 67) } else { (2, 68) };
            out.push(regression_sheet(a, model, result.clone(), years));
            out.push(regression_sheet(b, model, result, years));
        }
    }
    let rank = |s: &Sheet| -> (u8, u32) {
        let n = s.name.rsplit(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0);
        match s.kind {
            Kind::Tabell => (0, n),
            Kind::Figur => (1, n),
            Kind::Metod => (2, 0),
        }
    };
    out.sort_by_key(rank);
    out
}
