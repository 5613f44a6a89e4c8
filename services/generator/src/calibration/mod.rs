//! Every parameter of the generator, with the published figure it comes from.
//!
//! Two kinds of parameters live here:
//!
//! * [`published`]: the report's tables (Socialförsäkringsrapport 2024:1, Bilaga 3), transcribed
//!   mechanically from `shared/reference/` by `tools/make_published.py`. The applicants'
//!   decisions and their support before and after the decision are drawn from these.
//! * The constants below: facts the report gives in its text, national statistics it cites, and
//!   modelling assumptions where nothing is published (marked **Assumption**). Each says where it
//!   comes from.
//!
//! Index conventions shared by the tables:
//!
//! * sex: `0` = women / girls (`K`), `1` = men / boys (`M`);
//! * age group ([`AGE_GROUPS`]): `0-6` (`2-6` in the cohort tables, where children aged 0 or 1 are
//!   out), `7-11`, `12-17`, `18-29`, `30-49`, `50-64`, `65+`, by age at the end of the decision year;
//! * outcome: `0` = AVSLAG, `1` = BIFALL; period: `0` = year before, `1` = year after;
//! * birth country: `0` = born in Sweden (*inrikes*), `1` = born abroad (*utrikes*);
//! * sex-and-age category ([`SexAge`]): FLICKOR, POJKAR, KVINNOR, MAN.

pub mod published;

/// Age groups of the report (age at the end of the decision year).
pub const AGE_GROUPS: [&str; 7] = ["0-6", "7-11", "12-17", "18-29", "30-49", "50-64", "65+"];

/// Lower bound of each age group in [`AGE_GROUPS`].
pub const AGE_GROUP_FROM: [i32; 7] = [0, 7, 12, 18, 30, 50, 65];

/// Age group index of an age (age at the end of the year).
pub fn age_group(age: i32) -> usize {
    AGE_GROUP_FROM
        .iter()
        .rposition(|&from| age >= from)
        .unwrap_or(0)
}

/// Sex-and-age category of the report's tables 21, 22 etc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SexAge {
    Flickor = 0,
    Pojkar = 1,
    Kvinnor = 2,
    Man = 3,
}

impl SexAge {
    pub fn of(sex: usize, age: i32) -> SexAge {
        match (sex, age >= 18) {
            (0, false) => SexAge::Flickor,
            (_, false) => SexAge::Pojkar,
            (0, true) => SexAge::Kvinnor,
            (_, true) => SexAge::Man,
        }
    }
}

/// The SoL and LSS interventions in the order of the contract's code list (and of
/// [`published::INTERVENTION_RECIPIENTS`]); bit `i` of a municipal-support mask is entry `i`.
pub const MUNICIPAL_INTERVENTIONS: [(&str, &str); 22] = [
    ("LSS", "PERSONLIG_ASSISTANS"),
    ("LSS", "LEDSAGARSERVICE"),
    ("LSS", "KONTAKTPERSON"),
    ("LSS", "AVLOSARSERVICE"),
    ("LSS", "KORTTIDSVISTELSE"),
    ("LSS", "KORTTIDSTILLSYN"),
    ("LSS", "FAMILJEHEM_BARN"),
    ("LSS", "BOSTAD_BARN"),
    ("LSS", "BOSTAD_VUXNA"),
    ("LSS", "ANNAN_BOSTAD_VUXNA"),
    ("LSS", "DAGLIG_VERKSAMHET"),
    ("SOL", "HEMTJANST"),
    ("SOL", "SARSKILT_BOENDE"),
    ("SOL", "KORTTIDSBOENDE"),
    ("SOL", "DAGVERKSAMHET"),
    ("SOL", "BOENDESTOD"),
    ("SOL", "KONTAKTPERSON"),
    ("SOL", "KONTAKTFAMILJ"),
    ("SOL", "LEDSAGNING"),
    ("SOL", "AVLOSNING_ANHORIG"),
    ("SOL", "ANNAT_BISTAND"),
    ("SOL", "ANNAN_SOL"),
];

/// Number of LSS interventions at the start of [`MUNICIPAL_INTERVENTIONS`] (the rest are SoL).
pub const N_LSS: usize = 11;

/// Bit mask of the LSS interventions in a municipal-support mask.
pub const LSS_MASK: u32 = (1 << N_LSS) - 1;

/// Index of a municipal intervention in [`MUNICIPAL_INTERVENTIONS`].
pub const fn iv(law_is_lss: bool, n: usize) -> usize {
    if law_is_lss {
        n
    } else {
        N_LSS + n
    }
}

/// Named indices into [`MUNICIPAL_INTERVENTIONS`].
pub mod ivx {
    pub const PERSONLIG_ASSISTANS: usize = 0;
    pub const LEDSAGARSERVICE: usize = 1;
    pub const KONTAKTPERSON_LSS: usize = 2;
    pub const AVLOSARSERVICE: usize = 3;
    pub const KORTTIDSVISTELSE: usize = 4;
    pub const KORTTIDSTILLSYN: usize = 5;
    pub const FAMILJEHEM_BARN: usize = 6;
    pub const BOSTAD_BARN: usize = 7;
    pub const BOSTAD_VUXNA: usize = 8;
    pub const ANNAN_BOSTAD_VUXNA: usize = 9;
    pub const DAGLIG_VERKSAMHET: usize = 10;
    pub const HEMTJANST: usize = 11;
    pub const SARSKILT_BOENDE: usize = 12;
    pub const KORTTIDSBOENDE: usize = 13;
    pub const DAGVERKSAMHET: usize = 14;
    pub const BOENDESTOD: usize = 15;
    pub const KONTAKTPERSON_SOL: usize = 16;
    pub const KONTAKTFAMILJ: usize = 17;
    pub const LEDSAGNING: usize = 18;
    pub const AVLOSNING_ANHORIG: usize = 19;
    pub const ANNAT_BISTAND: usize = 20;
    pub const ANNAN_SOL: usize = 21;
}

/// HSL interventions (bit `i` of an HSL mask is entry `i`), and whether each is *sporadic*
/// (a fitting or a sample taken in a few months of a year) rather than continuous.
pub const HSL_INTERVENTIONS: [(&str, bool); 5] = [
    ("HJALPMEDEL_RULLSTOL", true),
    ("HJALPMEDEL_OVRIGA", true),
    ("LAKEMEDEL", false),
    ("PROVTAGNING", true),
    ("OVRIG_HSL", false),
];

/// Years of the register extracts of interventions and benefit payments: 2016-01 to 2023-12,
/// which covers the year before (D−1) and after (D+1) every decision year 2017–2022 and the
/// neighbouring years D−2 and D+2 of the default cohort 2018–2020 (Bilaga 1: data 2017–2021).
pub const SUPPORT_FIRST_YEAR: i32 = 2016;
/// Last year of the support extracts (see [`SUPPORT_FIRST_YEAR`]).
pub const SUPPORT_LAST_YEAR: i32 = 2023;
/// Number of years covered by the support extracts.
pub const SUPPORT_YEARS: usize = (SUPPORT_LAST_YEAR - SUPPORT_FIRST_YEAR + 1) as usize;

/// First and last year of the decision register (Tabell 17: 2002–2022).
pub const FIRST_DECISION_YEAR: i32 = 2002;
/// Last decision year (Tabell 17).
pub const LAST_DECISION_YEAR: i32 = 2022;

/// Reference date of the population extract: nobody is born after 2023, registrations open on
/// this date are null (`registered_to` empty).
pub const EXTRACT_YEAR: i32 = 2024;

// ---------------------------------------------------------------------------------------------
// Population (SPEC §8)
// ---------------------------------------------------------------------------------------------

/// Population of Sweden on 31 December 2023 by five-year age group (SCB, *Folkmängd efter ålder
/// och kön*, rounded to thousands): `(first age of the group, thousands, share women, share born
/// abroad)`. The foreign-born shares follow SCB's *Utrikes födda efter ålder* (about 20 % in
/// total). The last group is 100–104. Used as the age structure of the general population.
pub const POPULATION_2023: [(i32, f64, f64, f64); 21] = [
    (0, 550.0, 0.487, 0.04),
    (5, 615.0, 0.487, 0.09),
    (10, 640.0, 0.486, 0.13),
    (15, 600.0, 0.484, 0.15),
    (20, 590.0, 0.477, 0.19),
    (25, 680.0, 0.475, 0.27),
    (30, 740.0, 0.481, 0.31),
    (35, 700.0, 0.487, 0.32),
    (40, 645.0, 0.490, 0.30),
    (45, 640.0, 0.492, 0.27),
    (50, 660.0, 0.494, 0.24),
    (55, 650.0, 0.497, 0.21),
    (60, 590.0, 0.500, 0.19),
    (65, 560.0, 0.508, 0.17),
    (70, 540.0, 0.520, 0.15),
    (75, 500.0, 0.540, 0.13),
    (80, 330.0, 0.570, 0.12),
    (85, 170.0, 0.620, 0.11),
    (90, 75.0, 0.690, 0.11),
    (95, 20.0, 0.780, 0.11),
    (100, 2.0, 0.850, 0.10),
];

/// Countries of birth of the foreign-born (ISO 3166-1 alpha-2) with weights for persons born
/// before 1960 and from 1960 on. Approximates SCB's *Utrikes födda efter födelseland* 2023 (the
/// largest groups: Syria, Iraq, Finland, Poland, Iran, former Yugoslavia, Somalia, Afghanistan,
/// Bosnia, Eritrea, Turkey, Germany, Thailand, India), grouped into a handful of codes.
pub const BIRTH_COUNTRIES: [(&str, f64, f64); 16] = [
    ("FI", 30.0, 4.0),
    ("NO", 6.0, 1.5),
    ("DK", 5.0, 1.5),
    ("DE", 8.0, 2.5),
    ("PL", 6.0, 6.0),
    ("RS", 8.0, 2.5),
    ("BA", 6.0, 3.5),
    ("TR", 4.0, 3.0),
    ("IR", 5.0, 5.5),
    ("IQ", 4.0, 8.0),
    ("SY", 2.0, 12.0),
    ("AF", 0.5, 5.0),
    ("SO", 0.5, 5.0),
    ("ER", 0.5, 3.5),
    ("TH", 0.5, 3.0),
    ("IN", 1.0, 3.5),
];

/// Municipalities (*kommunkod*, SCB's codes) and weights: the largest municipalities with about
/// their population in thousands (SCB 2023); the rest of the country's population is spread over
/// the smaller municipalities at the end of the list, which stand in for their regions.
pub const MUNICIPALITIES: [(&str, f64); 40] = [
    ("0180", 985.0), // Stockholm
    ("1480", 600.0), // Göteborg
    ("1280", 360.0), // Malmö
    ("0380", 245.0), // Uppsala
    ("0580", 166.0), // Linköping
    ("1880", 158.0), // Örebro
    ("1980", 157.0), // Västerås
    ("1283", 151.0), // Helsingborg
    ("0581", 146.0), // Norrköping
    ("0680", 144.0), // Jönköping
    ("2480", 131.0), // Umeå
    ("1281", 128.0), // Lund
    ("1490", 115.0), // Borås
    ("0127", 96.0),  // Botkyrka
    ("0181", 102.0), // Södertälje
    ("1380", 105.0), // Halmstad
    ("0780", 97.0),  // Växjö
    ("2180", 103.0), // Gävle
    ("2281", 100.0), // Sundsvall
    ("1780", 95.0),  // Karlstad
    ("1290", 86.0),  // Kristianstad
    ("0880", 72.0),  // Kalmar
    ("2580", 80.0),  // Luleå
    ("2380", 65.0),  // Östersund
    ("2080", 60.0),  // Falun
    ("0980", 61.0),  // Gotland
    ("0184", 85.0),  // Solna
    ("0138", 50.0),  // Tyresö
    ("1233", 37.0),  // Vellinge
    ("1401", 30.0),  // Härryda
    ("0482", 36.0),  // Flen
    ("0884", 35.0),  // Vimmerby
    ("1082", 30.0),  // Karlshamn
    ("1383", 64.0),  // Varberg
    ("1486", 44.0),  // Strömstad
    ("1763", 17.0),  // Forshaga
    ("2084", 41.0),  // Avesta
    ("2361", 11.0),  // Härjedalen
    ("2482", 73.0),  // Skellefteå
    ("2584", 17.0),  // Kiruna
];

/// **Assumption.** Share of the population register that holds only a *samordningsnummer*
/// (coordination number: day of birth + 60) and has never been registered in Sweden.
pub const COORDINATION_SHARE: f64 = 0.01;

/// **Assumption.** Fewest general-population persons generated besides the applicants, whatever
/// `PERSONS` says: when `PERSONS` is smaller than the applicants (who are always generated at
/// national volume), the population is raised to the applicants plus this many persons, so that
/// parents for the child benefits exist.
pub const MIN_GENERAL_PERSONS: u64 = 2_000;

/// Annual probability of death at age `a`: a Gompertz curve `exp(A + B·a)` fitted to SCB's
/// life tables 2016–2023 (about 0.3 % at 50, 2 % at 70, 6 % at 80, 15 % at 90), with a floor
/// for children and young adults.
pub const MORTALITY_GOMPERTZ: (f64, f64) = (-10.6, 0.097);
/// Floor of the annual death probability (children, young adults).
pub const MORTALITY_FLOOR: f64 = 0.000_3;
/// Relative mortality of men and women (SCB life tables: men's is about 1.3 times women's).
pub const MORTALITY_SEX_FACTOR: [f64; 2] = [0.85, 1.15];
/// Annual death probability at age `age` for sex `sex`.
pub fn mortality(age: i32, sex: usize) -> f64 {
    let (a, b) = MORTALITY_GOMPERTZ;
    ((a + b * age as f64).exp() * MORTALITY_SEX_FACTOR[sex]).clamp(MORTALITY_FLOOR, 0.6)
}

/// **Assumption.** Lifetime probability that a person of the general population emigrated
/// during 2016–2023 (born in Sweden / born abroad); SCB reports about 50 000 emigrations a year,
/// half of them by persons born abroad.
pub const EMIGRATION_PROB: [f64; 2] = [0.025, 0.09];
/// **Assumption.** Probability that an emigrant returns later (a second registration period).
pub const RETURN_PROB: f64 = 0.35;

// ---------------------------------------------------------------------------------------------
// Applicants (SPEC §8; Tabell 17–45)
// ---------------------------------------------------------------------------------------------

/// Repeat applications before 2012: Tabell 41 starts in 2012, when repeats are counted against
/// decisions from 2002 on. For 2003–2011 the share of repeats is taken as the 2012 share scaled by
/// `(year − 2002) / 10` (no earlier decision can be seen in 2002). **Assumption.**
pub const REPEAT_RAMP_YEARS: f64 = 10.0;

/// Decisions in a year (2012–2022) by persons who had a qualifying decision before 2002, and so
/// are out of the history tables (SPEC-DECISIONS D8): Tabell 17 Totalt − Tabell 31 Totalt, as
/// listed in SPEC-DECISIONS §5b.2 (36, 30, 23, … 5). The generator gives that many of each year's
/// applicants a refusal in 1994–2001 (the register starts in 1994, SPEC §3).
pub const DECIDED_BEFORE_2002: [(i32, u32); 11] =
    [(2012, 36), (2013, 30), (2014, 23), (2015, 25), (2016, 15), (2017, 10), (2018, 7), (2019, 6), (2020, 5), (2021, 8), (2022, 5)];
/// First year of the decision register as extracted (assistansersättning started in 1994).
pub const FIRST_HISTORY_YEAR: i32 = 1994;

/// **Assumption.** Share of qualifying decisions that follow a notification from a municipality
/// (`ANMALAN`) rather than an application; Bilaga 1 counts both as applications.
pub const ANMALAN_SHARE: f64 = 0.10;

/// **Assumption.** Refusals that are later changed to a grant by reconsideration or court,
/// relative to the year's refusals. They are generated in addition to Tabell 17 (which leaves them
/// out, Bilaga 1 *Avslag*).
pub const CHANGED_ON_APPEAL_SHARE: f64 = 0.03;
/// **Assumption.** Share of refusals followed by a reconsideration (`OMPROVNING`) that confirms
/// the refusal.
pub const RECONSIDERATION_SHARE: f64 = 0.10;
/// **Assumption.** Dismissed (`AVVISNING`) and written-off (`AVSKRIVNING`) applications relative
/// to a year's qualifying decisions; they are not in Tabell 17.
pub const DISMISSED_SHARE: f64 = 0.03;
/// **Assumption.** See [`DISMISSED_SHARE`].
pub const WRITTEN_OFF_SHARE: f64 = 0.05;
/// **Assumption.** Share of grants followed, in a later year, by a decision on a change
/// (`FORANDRING`) for the now current recipient.
pub const CHANGE_SHARE: f64 = 0.25;
/// **Assumption.** Share of refusals without a recorded reason (HAPO, 2018–2022): Tabell 23 sums
/// to 7 932 reasons against 8 002 refusals in Tabell 17.
pub const REASON_MISSING_SHARE: f64 = 0.009;
/// **Assumption.** Share of the *behov högst 20 timmar* refusals recorded as another reason
/// (`ANNAN`), which the report counts with them (footnote 58).
pub const REASON_OTHER_SHARE: f64 = 0.015;
/// **Assumption.** Share of new adult applicants holding only a coordination number (not
/// registered, so not insured: refused for *grundläggande förutsättningar*).
pub const COORDINATION_APPLICANT_SHARE: f64 = 0.008;

/// Death of applicants after their first decision: extra annual hazard on top of the general
/// mortality, by age group and outcome of the first decision. **Calibrated** so that the share
/// of the 2018–2020 decisions that remains in the cohort after the registration rule (SPEC §4.3)
/// matches Tabell 56 against Tabell 19–20: about 0.75–0.8 for refusals and 0.6–0.7 for grants,
/// the grants being people with severe, often progressive illness.
pub const APPLICANT_EXCESS_MORTALITY: [[f64; 2]; 7] = [
    [0.010, 0.080],
    [0.006, 0.060],
    [0.030, 0.150],
    [0.030, 0.250],
    [0.035, 0.260],
    [0.075, 0.360],
    [0.050, 0.300],
];

/// Foreign-born applicants, children and adults: share who immigrated less than two years before
/// the decision (and are therefore mostly outside the cohort, which requires registration at the
/// end of D−2). **Calibrated**: of the 2018–2020 decisions 36 % of the children's were for
/// children born abroad (Tabell 21) but only 31 % of the children in the cohort are (Tabell 48);
/// for adults 45 % against 44 %.
pub const APPLICANT_RECENT_IMMIGRANT_SHARE: [f64; 2] = [0.28, 0.08];

/// **Assumption.** Applicants who leave Sweden after their first decision (born in Sweden / born
/// abroad), and who spend a few months abroad (a second registration period).
pub const APPLICANT_EMIGRATION_PROB: [f64; 2] = [0.01, 0.05];
/// **Assumption.** See [`APPLICANT_EMIGRATION_PROB`].
pub const APPLICANT_STAY_ABROAD_PROB: f64 = 0.03;

/// Support of the cohort in the year before and after: the municipal-support states of the
/// two years are allocated with this persistence, **assumption**: `P(after | before) = p_after
/// + ρ (1 − p_after)` as far as Tabell 56's margins allow.
pub const MUNICIPAL_PERSISTENCE: f64 = 0.6;

/// Persistence of support between neighbouring years outside D−1 / D+1 (**assumption**):
/// `(P(support in a year | support in the neighbouring year), P(support | none))`.
pub const MUNICIPAL_YEAR_TRANSITION: (f64, f64) = (0.88, 0.08);
/// **Assumption.** As [`MUNICIPAL_YEAR_TRANSITION`] for social-insurance benefits.
pub const BENEFIT_YEAR_TRANSITION: (f64, f64) = (0.92, 0.05);
/// **Assumption.** As [`MUNICIPAL_YEAR_TRANSITION`] for HSL (children, adults).
pub const HSL_YEAR_TRANSITION: [(f64, f64); 2] = [(0.6, 0.02), (0.85, 0.2)];

/// Text p. 58–59 (*HSL-insatser vanligare för vuxna än för barn*): 4 % of children and 46 % of
/// adults had a municipal HSL intervention the year before the decision, "somewhat higher for
/// women". Index `[sex][0 = child, 1 = adult]`.
pub const HSL_BEFORE_SHARE: [[f64; 2]; 2] = [[0.04, 0.48], [0.04, 0.44]];

/// **Assumption.** Which HSL interventions an HSL recipient has (probabilities; at least one).
/// The text p. 59 names *övriga hjälpmedel* as the most common, for children and adults.
pub const HSL_MIX: [f64; 5] = [0.15, 0.70, 0.35, 0.20, 0.30];

/// Assessed hours of basic needs for grants (> 20 h/week; Bilaga 1): **assumption**: 20 +
/// a gamma-distributed excess with this shape and scale (mean 30 h above the threshold).
pub const GRANTED_HOURS_GAMMA: (f64, f64) = (1.5, 20.0);

// ---------------------------------------------------------------------------------------------
// Benefits (SPEC §3.1; report chapter *Annat stöd från samhället*)
// ---------------------------------------------------------------------------------------------

/// *Prisbasbelopp* (SEK per year), 2016–2023 (SCB). Benefit amounts are fractions of it.
pub const PRISBASBELOPP: [i64; SUPPORT_YEARS] = [
    44_300, 44_800, 45_500, 46_500, 47_300, 47_600, 48_300, 52_500,
];

/// Yearly benefit levels as fractions of the prisbasbelopp: vårdbidrag and omvårdnadsbidrag
/// (quarter to full of 250 %), handikappersättning (36, 53, 69 %), merkostnadsersättning
/// (30–90 %), per the Social Insurance Code (the report's description p. 56–57).
pub const LEVELS_CHILD: [f64; 4] = [0.625, 1.25, 1.875, 2.5];
/// See [`LEVELS_CHILD`].
pub const LEVELS_HANDIKAPP: [f64; 3] = [0.36, 0.53, 0.69];
/// See [`LEVELS_CHILD`].
pub const LEVELS_MERKOSTNAD: [f64; 5] = [0.30, 0.45, 0.60, 0.75, 0.90];

/// The new benefits replaced the old ones on 1 January 2019 (report p. 56); existing decisions
/// on vårdbidrag and handikappersättning continued. **Assumption**: an existing vårdbidrag is
/// replaced by omvårdnadsbidrag at a month drawn uniformly from these months (vårdbidrag decisions
/// are time-limited), and a handikappersättning by merkostnadsersättning likewise (some after
/// 2023, i.e. not within the extract).
pub const CONVERSION_CHILD: (i32, i32) = (2019 * 12, 2022 * 12 + 11);
/// See [`CONVERSION_CHILD`].
pub const CONVERSION_ADULT: (i32, i32) = (2019 * 12 + 6, 2025 * 12 + 11);

/// Report p. 57 (*Åtta av tio barn har omvårdnadsbidrag*): 1–2 % of children have
/// merkostnadsersättning (paid to the parents; possible from 2019).
pub const CHILD_MERKOSTNAD_SHARE: f64 = 0.05;

// ---------------------------------------------------------------------------------------------
// General population's support at national rates (SPEC §8)
// ---------------------------------------------------------------------------------------------

/// Elderly care by single age (Socialstyrelsen, *Statistik om socialtjänstinsatser till äldre
/// 2022*): share with home help in ordinary housing and share in special housing, at the ages
/// given (linear in between). **Calibrated** so that a national-scale run has about the
/// published numbers of persons in 2022 (about 230 000 with home help, 82 000 in special
/// housing; the population here loses its elderly to deaths from 2016 on).
pub const ELDERLY_CARE: [(i32, f64, f64); 7] = [
    (65, 0.020, 0.003),
    (70, 0.045, 0.008),
    (75, 0.090, 0.020),
    (80, 0.180, 0.060),
    (85, 0.340, 0.160),
    (90, 0.450, 0.330),
    (95, 0.450, 0.500),
];
/// **Assumption.** Safety alarm (*trygghetslarm*, reported as `ANNAN_SOL`) relative to home help
/// among the elderly; many have an alarm without home help.
pub const ALARM_FACTOR: f64 = 1.3;
/// **Assumption.** Municipal HSL among the elderly relative to home help + special housing.
pub const ELDERLY_HSL_FACTOR: f64 = 1.2;

/// Report p. 56: 77 500 persons had at least one LSS intervention in 2022 (0.74 % of the
/// population). **Assumption** on its distribution over ages: share of each birth cohort that
/// gets LSS support, and the age of onset (`(up to age, cumulative share of onsets)`).
pub const LSS_LIFETIME_SHARE: f64 = 0.009;
/// See [`LSS_LIFETIME_SHARE`].
pub const LSS_ONSET_AGE: [(i32, f64); 4] = [(7, 0.40), (17, 0.72), (30, 0.90), (60, 1.0)];

/// Report p. 56: 60 500 persons aged 0–64 had an SoL intervention for persons with disabilities
/// in 2022 (about 0.7 %). **Assumption**: share of a cohort with such support from a random onset
/// age between 10 and 60.
pub const SOL_DISABILITY_SHARE: f64 = 0.007;

/// **Assumption** (SPEC §8: about 1 % of children): share of children whose parents receive
/// vårdbidrag / omvårdnadsbidrag; for children with LSS support it is much higher.
pub const CHILD_BENEFIT_SHARE: [f64; 2] = [0.008, 0.5];
/// **Assumption** (SPEC §8: about 0.6 % of adults): share of adults with handikappersättning /
/// merkostnadsersättning; [without, with] LSS support.
pub const ADULT_BENEFIT_SHARE: [f64; 2] = [0.005, 0.3];
/// **Assumption.** Municipal HSL for adults under 65 of the general population.
pub const YOUNG_ADULT_HSL_SHARE: f64 = 0.004;

/// **Assumption.** Interventions of LSS recipients of the general population: probability of
/// each for children (0–17) and adults (18+); `KORTTIDSTILLSYN` only at 12–17 (and 18–20),
/// `DAGLIG_VERKSAMHET` only at working age. Proportions follow Socialstyrelsen's *Personer med
/// funktionsnedsättning – insatser enligt LSS 2022* (daily activity, housing, companion service,
/// contact person most common for adults; short stay and relief service for children).
pub const LSS_MIX: [[f64; N_LSS]; 2] = [
    [
        0.06, 0.08, 0.20, 0.22, 0.35, 0.40, 0.01, 0.03, 0.0, 0.0, 0.0,
    ],
    [
        0.06, 0.14, 0.22, 0.02, 0.05, 0.0, 0.0, 0.0, 0.38, 0.03, 0.55,
    ],
];
/// **Assumption.** SoL interventions of adults with SoL support for disabilities in the general
/// population (boendestöd, hemtjänst, safety alarm most common; report p. 56).
pub const SOL_MIX_ADULT: [f64; 11] = [
    0.30, 0.0, 0.0, 0.05, 0.40, 0.15, 0.0, 0.10, 0.02, 0.10, 0.20,
];
/// **Assumption.** As [`SOL_MIX_ADULT`] for children (contact family, contact person, relief).
pub const SOL_MIX_CHILD: [f64; 11] = [0.05, 0.0, 0.0, 0.0, 0.0, 0.30, 0.40, 0.05, 0.20, 0.20, 0.0];

// ---------------------------------------------------------------------------------------------
// Personal assistance by payer (SPEC-DECISIONS §5c; seed `seeds/001_76d4121752cd145a.txt`,
// figures F01–F54 of `reference/seed2_figures.csv`)
// ---------------------------------------------------------------------------------------------

/// First month of `assistance_months` and of the municipal PA added for §5c (2014-01), as a
/// month number `year · 12 + month − 1`.
pub const PA_FIRST_MONTH: i32 = 2014 * 12;
/// Months of `assistance_months`: 2014-01 to 2024-12 (F10–F16 are about May 2024).
pub const PA_FK_MONTHS: usize = 11 * 12;
/// Months of the municipal PA added for §5c: 2014-01 to 2023-12 (the series of F03–F05).
pub const PA_MUNICIPAL_MONTHS: usize = 10 * 12;

/// Recipients of assistansersättning (FK) per month, national volume, as anchors
/// `(year, month, persons)`, linear in between. December 2014 = 16 200 (F06, F18); December
/// 2023 = 13 320, between F07 (13 300) and F19 (13 000, December), so that May 2023 = 13 337 and
/// May 2024 = 13 308 (F10, F11: −29) follow without a rise; the series falls every year
/// ("succesivt minskat", F06–F08: nearly −20 %), most in 2017 (F25: nearly 1 200 rights ended,
/// against about 800 in other years, F24). **Assumption**: the intermediate Decembers, December
/// 2013 and December 2024.
pub const FK_RECIPIENTS: [(i32, u32, f64); 15] = [
    (2013, 12, 16_600.0),
    (2014, 12, 16_200.0),
    (2015, 12, 15_800.0),
    (2016, 12, 15_400.0),
    (2017, 12, 14_900.0),
    (2018, 12, 14_550.0),
    (2019, 12, 14_200.0),
    (2020, 12, 13_880.0),
    (2021, 12, 13_600.0),
    (2022, 12, 13_420.0),
    (2023, 5, 13_337.0),
    (2023, 12, 13_320.0),
    (2024, 5, 13_308.0),
    (2024, 12, 13_290.0),
    (2025, 1, 13_288.0),
];

/// Persons with executed LSS personlig assistans from the municipality and no assistansersättning
/// (§5c.2 C2), per month, national volume, anchors as [`FK_RECIPIENTS`]: 4 100 in 2014 (F03),
/// the maximum 5 300 in 2020 (F05), 4 700 in 2023 (F04; F09: "drygt 10 procent" more than 2014).
/// **Assumption**: a straight rise to 2020 and fall after it, December 2013.
pub const MUNICIPAL_PA: [(i32, u32, f64); 12] = [
    (2013, 12, 4_050.0),
    (2014, 12, 4_100.0),
    (2015, 12, 4_300.0),
    (2016, 12, 4_500.0),
    (2017, 12, 4_700.0),
    (2018, 12, 4_900.0),
    (2019, 12, 5_100.0),
    (2020, 12, 5_300.0),
    (2021, 12, 5_100.0),
    (2022, 12, 4_900.0),
    (2023, 12, 4_700.0),
    (2024, 1, 4_690.0),
];

/// Mean granted hours per week of the month's FK recipients, anchors as [`FK_RECIPIENTS`]:
/// 135.0 in May 2024, +2.0 on May 2023 (F15, F16); +8 % from 2014 to 2023 (F39), hence about
/// 123 in 2014. **Assumption**: linear in between, and the slope of 2023–24 through 2024.
pub const FK_MEAN_HOURS: [(i32, u32, f64); 4] = [
    (2014, 1, 122.5),
    (2023, 5, 133.0),
    (2024, 5, 135.0),
    (2024, 12, 136.2),
];

/// Share of the month's FK recipients whose main provider is private, anchors as
/// [`FK_RECIPIENTS`]: 73 % in May 2024 (F13, F14: 9 446 of 13 308). Before that the private
/// providers' share of the assistants (F48, F49: 63 % in 2015, 72 % in 2023) stands in for it.
pub const FK_PRIVATE_SHARE: [(i32, u32, f64); 5] = [
    (2014, 1, 0.620),
    (2015, 12, 0.630),
    (2023, 12, 0.720),
    (2024, 5, 0.730),
    (2024, 12, 0.735),
];

/// **Assumption** (FK's statistics on *utförare* report the municipalities as the second largest
/// category, then cooperatives and the recipient as own employer): shares of the FK recipients
/// with a cooperative, an own-employer and an unknown (null) provider. The municipality has the
/// rest: about 18 % in May 2024.
pub const FK_PROVIDER_TAIL: [(&str, f64); 3] = [("KOOPERATIV", 0.045), ("EGEN", 0.025), ("", 0.02)];

/// **Assumption.** Granted hours per week of a recipient relative to the others: `20.5 + 147.5 ·
/// Beta(a, b)` before the month's common factor (which sets the mean, [`FK_MEAN_HOURS`]); the
/// right needs more than 20 hours of basic needs (Bilaga 1 of the first seed), and many
/// recipients have help around the clock (168 h, the contract's ceiling). Rounded to 0.5 h.
pub const FK_HOURS_BETA: (f64, f64) = (2.6, 1.0);

/// Annual probability that an applicant's right ends for another reason than death or leaving
/// the country: F24 (around 800 ended rights a year) of which 66–75 % by death (F22, F23), i.e.
/// about 250 of some 15 000 recipients. **Calibrated** as a rate.
pub const FK_LOSS_RATE: f64 = 0.015;

/// **Assumption.** Candidates for the national stock of long-standing FK recipients (granted
/// before 2002, so without a decision in the register, or granted in 2023–24 after the register
/// ends): about 1.5 times the stock needed, drawn from the general population in proportion to
/// the weight [`fk_stock_weight`] of their birth year.
pub const FK_STOCK_CANDIDATES: u64 = 26_000;

/// **Assumption.** Weight of a birth year among long-standing FK recipients: the need must have
/// arisen before 65 and the right been granted before 2002 (register), so aged about 13–70 in
/// 2014, fewer of the oldest; men slightly more often (about 53 % of FK's recipients are men).
pub fn fk_stock_weight(birth_year: i32, sex: usize) -> f64 {
    let age = 2014 - birth_year;
    let w = match age {
        13..=70 => 1.0,
        71..=85 => (85 - age) as f64 / 15.0,
        _ => 0.0,
    };
    w * if sex == 1 { 1.06 } else { 0.94 }
}

/// **Assumption.** Candidates for municipal PA without assistansersättning; see
/// [`MUNICIPAL_PA_EXIT_RATE`].
pub const MUNICIPAL_PA_CANDIDATES: u64 = 16_000;

/// **Assumption.** Weight of a birth year among municipal PA recipients without FK: children and
/// adults with less than 20 hours of basic needs, any age below 65 at the start, some older.
pub fn municipal_pa_weight(birth_year: i32) -> f64 {
    let age = 2014 - birth_year;
    match age {
        -9..=60 => 1.0,
        61..=80 => (80 - age) as f64 / 20.0,
        _ => 0.0,
    }
}

/// **Assumption.** Annual probability that a municipal PA ends (the person gets FK, moves to
/// another intervention, or dies); others start so that the month's total is on target.
pub const MUNICIPAL_PA_EXIT_RATE: f64 = 0.10;

/// Value at month number `m` (`year · 12 + month − 1`) of a series given by anchors
/// `(year, month, value)`, linear in between, constant outside.
pub fn interpolate(anchors: &[(i32, u32, f64)], m: i32) -> f64 {
    let at = |a: &(i32, u32, f64)| a.0 * 12 + a.1 as i32 - 1;
    if m <= at(&anchors[0]) {
        return anchors[0].2;
    }
    for w in anchors.windows(2) {
        let (m0, m1) = (at(&w[0]), at(&w[1]));
        if m <= m1 {
            let f = (m - m0) as f64 / (m1 - m0) as f64;
            return w[0].2 + f * (w[1].2 - w[0].2);
        }
    }
    anchors[anchors.len() - 1].2
}
