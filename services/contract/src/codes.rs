//! Code lists of the data contract (SPEC §3, glossary §9).

pub const SEX: &[&str] = &["K", "M"];

pub const DECISION_KINDS: &[&str] = &["ANSOKAN", "ANMALAN", "OMPROVNING", "FORANDRING"];
pub const OUTCOMES: &[&str] = &["BIFALL", "AVSLAG", "AVVISNING", "AVSKRIVNING"];
pub const REJECTION_REASONS: &[&str] = &[
    "GRUNDLAGGANDE_FORUTSATTNINGAR",
    "PERSONKRETS",
    "BEHOV_HOGST_20H",
    "ANNAN",
];
pub const BENEFITS: &[&str] = &[
    "OMVARDNADSBIDRAG",
    "VARDBIDRAG",
    "MERKOSTNADSERSATTNING",
    "HANDIKAPPERSATTNING",
];
pub const LAWS: &[&str] = &["SOL", "LSS", "HSL"];
/// `assistance_months.provider_category` (SPEC-DECISIONS §5c.1, *utförarkategori*).
pub const PROVIDER_CATEGORIES: &[&str] = &["KOMMUN", "PRIVAT", "KOOPERATIV", "EGEN"];

/// `(law, intervention code, published Swedish label)`; `(law, code)` identifies an intervention.
pub const INTERVENTIONS: &[(&str, &str, &str)] = &[
    ("LSS", "PERSONLIG_ASSISTANS", "Personlig assistans"),
    ("LSS", "LEDSAGARSERVICE", "Ledsagarservice"),
    ("LSS", "KONTAKTPERSON", "Kontaktperson"),
    ("LSS", "AVLOSARSERVICE", "Avlösarservice"),
    ("LSS", "KORTTIDSVISTELSE", "Korttidsvistelse"),
    ("LSS", "KORTTIDSTILLSYN", "Korttidstillsyn för skolungdomar över 12 år"),
    ("LSS", "FAMILJEHEM_BARN", "Familjehem för barn och ungdomar"),
    ("LSS", "BOSTAD_BARN", "Bostad med särskild service för barn och ungdomar"),
    ("LSS", "BOSTAD_VUXNA", "Bostad med särskild service för vuxna"),
    ("LSS", "ANNAN_BOSTAD_VUXNA", "Annan särskilt anpassad bostad för vuxna"),
    ("LSS", "DAGLIG_VERKSAMHET", "Daglig verksamhet"),
    ("SOL", "HEMTJANST", "Hemtjänst i ordinärt boende"),
    ("SOL", "SARSKILT_BOENDE", "Särskilt boende"),
    ("SOL", "KORTTIDSBOENDE", "Korttidsboende"),
    ("SOL", "DAGVERKSAMHET", "Dagverksamhet"),
    ("SOL", "BOENDESTOD", "Boendestöd"),
    ("SOL", "KONTAKTPERSON", "Kontaktperson"),
    ("SOL", "KONTAKTFAMILJ", "Kontaktfamilj"),
    ("SOL", "LEDSAGNING", "Ledsagning"),
    ("SOL", "AVLOSNING_ANHORIG", "Avlösning av anhörig"),
    ("SOL", "ANNAT_BISTAND", "Annat bistånd"),
    ("SOL", "ANNAN_SOL", "Annan SoL"),
    ("HSL", "HJALPMEDEL_RULLSTOL", "Utprovning/förskrivning av rullstol"),
    ("HSL", "HJALPMEDEL_OVRIGA", "Utprovning/förskrivning av övriga hjälpmedel"),
    ("HSL", "LAKEMEDEL", "Läkemedelsbehandling"),
    ("HSL", "PROVTAGNING", "Provtagning"),
    ("HSL", "OVRIG_HSL", "Övrig kommunal hälso- och sjukvård"),
];

/// Is `(law, code)` a known intervention?
pub fn is_intervention(law: &str, code: &str) -> bool {
    intervention_code(law, code).is_some()
}

/// The list's own `code` of the intervention `(law, code)`, if it is one. A lookup by code
/// (one hash of the code, then its one or two laws) rather than a walk through the list: it
/// runs once per intervention row, tens of millions of times in a national load.
pub fn intervention_code(law: &str, code: &str) -> Option<&'static str> {
    INTERVENTIONS.iter().find(|(l, c, _)| *c == code && *l == law).map(|(_, c, _)| *c)
}

pub fn intervention_label(law: &str, code: &str) -> Option<&'static str> {
    INTERVENTIONS
        .iter()
        .find(|(l, c, _)| *l == law && *c == code)
        .map(|(_, _, label)| *label)
}
