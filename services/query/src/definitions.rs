//! The definitions of SPEC §4 as SQL views over a delivery. Read top to bottom, they are the
//! audit trail from decisions to the cohort and its support in the year before and after.
//!
//! Delivered tables (see ARCHITECTURE.md, "Linkage and deliveries"): `persons`, `registered`,
//! `decisions`, `benefits`, `interventions`, all keyed by `pseudonym`.

/// §4.4 (and SPEC-DECISIONS D3) over a relation with `age` and `sex`: `age_group` (its youngest
/// group named `youngest`: 2-6 for the registered cohort, 0-6 for the decision statistics),
/// `child_adult` and `sex_age`.
pub(crate) fn person_groups(youngest: &str) -> String {
    format!(
        "CASE WHEN age <= 6 THEN '{youngest}' WHEN age <= 11 THEN '7-11' WHEN age <= 17 THEN '12-17' \
              WHEN age <= 29 THEN '18-29' WHEN age <= 49 THEN '30-49' WHEN age <= 64 THEN '50-64' \
              ELSE '65+' END AS age_group, \
         CASE WHEN age <= 17 THEN 'BARN' ELSE 'VUXNA' END AS child_adult, \
         CASE WHEN age <= 17 AND sex = 'K' THEN 'FLICKOR' WHEN age <= 17 THEN 'POJKAR' \
              WHEN sex = 'K' THEN 'KVINNOR' ELSE 'MAN' END AS sex_age"
    )
}

/// The views, in dependency order, for decision years `from..=to`.
pub fn views(from: i32, to: i32) -> Vec<(&'static str, String)> {
    vec![
        (
            "decisions_y",
            "SELECT *, CAST(date_part('year', decision_date) AS INT) AS decision_year FROM decisions".into(),
        ),
        (
            // §4.1 Qualifying decision: an application or a municipality's notification, granted
            // or refused, and not a refusal later changed on appeal.
            "qualifying",
            "SELECT * FROM decisions_y \
             WHERE kind IN ('ANSOKAN', 'ANMALAN') AND outcome IN ('BIFALL', 'AVSLAG') \
               AND NOT (outcome = 'AVSLAG' AND changed_on_appeal)"
                .into(),
        ),
        (
            // §4.2 Cohort candidates: each person's first qualifying decision in the decision
            // years — earliest decision_date, ties by decision_id (decision_seq carries that order).
            "first_decision",
            format!(
                "SELECT * FROM ( \
                   SELECT q.*, row_number() OVER (PARTITION BY pseudonym ORDER BY decision_date, decision_seq) AS rn \
                   FROM qualifying q WHERE decision_year BETWEEN {from} AND {to}) \
                 WHERE rn = 1"
            ),
        ),
        (
            // §4.3 Registered on 31 December of D-2, D-1, D and D+1 (the linkage service
            // computed the snapshots; only these four count).
            "flow",
            "SELECT f.pseudonym, f.decision_year, f.decision_seq, f.outcome, f.rejection_reason, f.lss_group, \
               r2.year IS NOT NULL AS reg_m2, r1.year IS NOT NULL AS reg_m1, \
               r0.year IS NOT NULL AS reg_0, rp.year IS NOT NULL AS reg_p1 \
             FROM first_decision f \
             LEFT JOIN registered r2 ON r2.pseudonym = f.pseudonym AND r2.year = f.decision_year - 2 \
             LEFT JOIN registered r1 ON r1.pseudonym = f.pseudonym AND r1.year = f.decision_year - 1 \
             LEFT JOIN registered r0 ON r0.pseudonym = f.pseudonym AND r0.year = f.decision_year \
             LEFT JOIN registered rp ON rp.pseudonym = f.pseudonym AND rp.year = f.decision_year + 1"
                .into(),
        ),
        (
            // §4.8 The nearest earlier qualifying decision, from 2002 on (a delivery holds the
            // decisions from 1994 for SPEC-DECISIONS D8; the earlier ones do not count here).
            "previous",
            "SELECT f.pseudonym, max(q.decision_seq) AS prev_seq \
             FROM flow f JOIN qualifying q ON q.pseudonym = f.pseudonym AND q.decision_seq < f.decision_seq \
               AND q.decision_year >= 2002 \
             GROUP BY f.pseudonym"
                .into(),
        ),
        (
            // The cohort with its dimensions: §4.4 age = D − birth year, §4.6 LSS group (NONE
            // when not recorded), §4.7 rejection reason (ANNAN counted as BEHOV_HOGST_20H, no
            // reason = UNKNOWN, empty for a grant), §4.8 previous application.
            "cohort",
            "SELECT f.pseudonym, f.decision_year, f.outcome, f.decision_year - p.birth_year AS age, p.sex, \
               p.birth_country, \
               CASE WHEN f.lss_group IS NULL THEN 'NONE' ELSE CAST(f.lss_group AS VARCHAR) END AS lss_group, \
               CASE WHEN f.outcome <> 'AVSLAG' THEN '' \
                    WHEN f.rejection_reason IS NULL THEN 'UNKNOWN' \
                    WHEN f.rejection_reason = 'ANNAN' THEN 'BEHOV_HOGST_20H' \
                    ELSE f.rejection_reason END AS rejection_reason, \
               CASE WHEN pq.outcome = 'AVSLAG' THEN 'TIDIGARE' ELSE 'FORSTA' END AS previous_application \
             FROM flow f \
             JOIN persons p ON p.pseudonym = f.pseudonym \
             LEFT JOIN previous pv ON pv.pseudonym = f.pseudonym \
             LEFT JOIN qualifying pq ON pq.pseudonym = f.pseudonym AND pq.decision_seq = pv.prev_seq \
             WHERE f.reg_m2 AND f.reg_m1 AND f.reg_0 AND f.reg_p1"
                .into(),
        ),
        (
            // §4.4 age groups (the youngest possible age is 2), children/adults, sex-and-age.
            "cohort_dims",
            format!("SELECT *, {} FROM cohort", person_groups("2-6")),
        ),
        (
            // §4.9 The year before (D-1) and the year after (D+1), one row per person and period.
            "periods",
            "SELECT c.*, 'BEFORE' AS period, c.decision_year - 1 AS support_year FROM cohort_dims c \
             UNION ALL \
             SELECT c.*, 'AFTER' AS period, c.decision_year + 1 AS support_year FROM cohort_dims c"
                .into(),
        ),
        (
            // §4.10 Municipal support in a year: an executed SoL or LSS intervention in any month.
            "municipal_years",
            "SELECT DISTINCT pseudonym, CAST(substr(month, 1, 4) AS INT) AS year \
             FROM interventions WHERE law IN ('SOL', 'LSS')"
                .into(),
        ),
        (
            // Executed interventions of every law per person and year (SoL, LSS and HSL apart).
            "intervention_years",
            "SELECT DISTINCT pseudonym, law, intervention, CAST(substr(month, 1, 4) AS INT) AS year FROM interventions".into(),
        ),
        (
            // §4.11 Social-insurance support in a year: a payment > 0 (the delivery holds only
            // those) of any of the four benefits, attributed to the person concerned.
            "benefit_years",
            "SELECT DISTINCT pseudonym, \
               CASE WHEN benefit IN ('OMVARDNADSBIDRAG', 'VARDBIDRAG') THEN 'OMVARDNADSBIDRAG_VARDBIDRAG' \
                    ELSE benefit END AS benefit, \
               CAST(substr(month, 1, 4) AS INT) AS year \
             FROM benefits"
                .into(),
        ),
        (
            // §4.11 Social-insurance support of any of the four benefits in a year.
            "support_years",
            "SELECT DISTINCT pseudonym, year FROM benefit_years".into(),
        ),
    ]
}
