#!/usr/bin/env python3
"""The statistics stage's peer for `make bench`: DuckDB computing the same finest cells from the
same delivery Parquet files — the SPEC §4 views (qualifying decisions, first per person, the
four 31-December snapshots, cohort dimensions, periods) and the finest cells of every
statistic's persons (municipal support before/after, other support before, laws, benefits, HSL,
interventions with distinct-person subtotals, no support after, personal assistance by previous
application). It does no cube building or disclosure control (those are ours alone), so it is
the lower bound of the SQL part.

Usage: duckdb_statistics.py DELIVERY_DIR [FROM TO]   (prints JSON: seconds, cohort, rows)
"""
import json
import resource
import sys
import time

import duckdb

d, lo, hi = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2018, int(sys.argv[3]) if len(sys.argv) > 3 else 2020
t0 = time.perf_counter()
con = duckdb.connect()
for t in ["persons", "registered", "decisions", "benefits", "interventions"]:
    con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{d}/{t}.parquet')")
views = f"""
CREATE VIEW decisions_y AS SELECT *, CAST(year(decision_date) AS INT) AS decision_year FROM decisions;
CREATE VIEW qualifying AS SELECT * FROM decisions_y WHERE kind IN ('ANSOKAN','ANMALAN') AND outcome IN ('BIFALL','AVSLAG')
  AND NOT (outcome = 'AVSLAG' AND changed_on_appeal);
CREATE VIEW first_decision AS SELECT * FROM (SELECT q.*, row_number() OVER (PARTITION BY pseudonym ORDER BY decision_date, decision_seq) AS rn
  FROM qualifying q WHERE decision_year BETWEEN {lo} AND {hi}) WHERE rn = 1;
CREATE VIEW flow AS SELECT f.*, r2.year IS NOT NULL AS reg_m2, r1.year IS NOT NULL AS reg_m1, r0.year IS NOT NULL AS reg_0, rp.year IS NOT NULL AS reg_p1
  FROM first_decision f
  LEFT JOIN registered r2 ON r2.pseudonym = f.pseudonym AND r2.year = f.decision_year - 2
  LEFT JOIN registered r1 ON r1.pseudonym = f.pseudonym AND r1.year = f.decision_year - 1
  LEFT JOIN registered r0 ON r0.pseudonym = f.pseudonym AND r0.year = f.decision_year
  LEFT JOIN registered rp ON rp.pseudonym = f.pseudonym AND rp.year = f.decision_year + 1;
CREATE VIEW previous AS SELECT f.pseudonym, max(q.decision_seq) AS prev_seq FROM flow f
  JOIN qualifying q ON q.pseudonym = f.pseudonym AND q.decision_seq < f.decision_seq GROUP BY f.pseudonym;
CREATE VIEW cohort AS SELECT f.pseudonym, f.decision_year, f.outcome, f.decision_year - p.birth_year AS age, p.sex, p.birth_country,
  coalesce(CAST(f.lss_group AS VARCHAR), 'NONE') AS lss_group,
  CASE WHEN f.outcome <> 'AVSLAG' THEN '' WHEN f.rejection_reason IS NULL THEN 'UNKNOWN'
       WHEN f.rejection_reason = 'ANNAN' THEN 'BEHOV_HOGST_20H' ELSE f.rejection_reason END AS rejection_reason,
  CASE WHEN pq.outcome = 'AVSLAG' THEN 'TIDIGARE' ELSE 'FORSTA' END AS previous_application
  FROM flow f JOIN persons p ON p.pseudonym = f.pseudonym
  LEFT JOIN previous pv ON pv.pseudonym = f.pseudonym
  LEFT JOIN qualifying pq ON pq.pseudonym = f.pseudonym AND pq.decision_seq = pv.prev_seq
  WHERE f.reg_m2 AND f.reg_m1 AND f.reg_0 AND f.reg_p1;
CREATE VIEW cohort_dims AS SELECT *,
  CASE WHEN age <= 6 THEN '2-6' WHEN age <= 11 THEN '7-11' WHEN age <= 17 THEN '12-17' WHEN age <= 29 THEN '18-29'
       WHEN age <= 49 THEN '30-49' WHEN age <= 64 THEN '50-64' ELSE '65+' END AS age_group,
  CASE WHEN age <= 17 THEN 'BARN' ELSE 'VUXNA' END AS child_adult,
  CASE WHEN age <= 17 AND sex = 'K' THEN 'FLICKOR' WHEN age <= 17 THEN 'POJKAR' WHEN sex = 'K' THEN 'KVINNOR' ELSE 'MAN' END AS sex_age
  FROM cohort;
CREATE VIEW periods AS SELECT c.*, 'BEFORE' AS period, c.decision_year - 1 AS support_year FROM cohort_dims c
  UNION ALL SELECT c.*, 'AFTER', c.decision_year + 1 FROM cohort_dims c;
CREATE VIEW intervention_years AS SELECT DISTINCT pseudonym, law, intervention, CAST(substr(month, 1, 4) AS INT) AS year FROM interventions;
CREATE VIEW municipal_years AS SELECT DISTINCT pseudonym, year FROM intervention_years WHERE law IN ('SOL','LSS');
CREATE VIEW benefit_years AS SELECT DISTINCT pseudonym,
  CASE WHEN benefit IN ('OMVARDNADSBIDRAG','VARDBIDRAG') THEN 'OMVARDNADSBIDRAG_VARDBIDRAG' ELSE benefit END AS benefit,
  CAST(substr(month, 1, 4) AS INT) AS year FROM benefits;
CREATE VIEW support_years AS SELECT DISTINCT pseudonym, year FROM benefit_years;
"""
for v in views.split(";"):
    if v.strip():
        con.execute(v)
dims = "c.sex, c.age_group, c.birth_country, c.sex_age, c.lss_group"
queries = {
    "municipal_support_before_after": f"""SELECT c.period, c.outcome, {dims}, m.pseudonym IS NOT NULL AS yes, count(*) FROM periods c
        LEFT JOIN municipal_years m ON m.pseudonym = c.pseudonym AND m.year = c.support_year GROUP BY ALL""",
    "other_support_before": f"""SELECT {dims}, m.pseudonym IS NOT NULL AS mun, b.pseudonym IS NOT NULL AS si, count(*) FROM cohort_dims c
        LEFT JOIN municipal_years m ON m.pseudonym = c.pseudonym AND m.year = c.decision_year - 1
        LEFT JOIN support_years b ON b.pseudonym = c.pseudonym AND b.year = c.decision_year - 1 GROUP BY ALL""",
    "municipal_law_before": f"""SELECT {dims}, i.law, count(DISTINCT c.pseudonym) FROM cohort_dims c
        JOIN intervention_years i ON i.pseudonym = c.pseudonym AND i.year = c.decision_year - 1 AND i.law IN ('SOL','LSS') GROUP BY ALL""",
    "benefits_before": f"""SELECT {dims}, b.benefit, count(*) FROM cohort_dims c
        JOIN benefit_years b ON b.pseudonym = c.pseudonym AND b.year = c.decision_year - 1 GROUP BY ALL""",
    "hsl_before": """SELECT c.child_adult, c.sex, count(DISTINCT c.pseudonym) FROM cohort_dims c
        JOIN intervention_years i ON i.pseudonym = c.pseudonym AND i.year = c.decision_year - 1 AND i.law = 'HSL' GROUP BY ALL""",
    "interventions_before_after": """SELECT c.period, c.child_adult, c.outcome, c.age_group, c.birth_country, c.lss_group, c.rejection_reason,
        i.law, i.intervention, count(*) FROM periods c
        JOIN intervention_years i ON i.pseudonym = c.pseudonym AND i.year = c.support_year AND i.law IN ('SOL','LSS') GROUP BY ALL
        UNION ALL SELECT c.period, c.child_adult, c.outcome, c.age_group, c.birth_country, c.lss_group, c.rejection_reason,
        i.law, 'ALL_' || i.law, count(DISTINCT c.pseudonym) FROM periods c
        JOIN intervention_years i ON i.pseudonym = c.pseudonym AND i.year = c.support_year AND i.law IN ('SOL','LSS') GROUP BY ALL""",
    "no_support_after": """SELECT c.outcome, c.child_adult, count(*) FROM cohort_dims c
        LEFT JOIN municipal_years m ON m.pseudonym = c.pseudonym AND m.year = c.decision_year + 1
        LEFT JOIN support_years b ON b.pseudonym = c.pseudonym AND b.year = c.decision_year + 1
        WHERE m.pseudonym IS NULL AND b.pseudonym IS NULL GROUP BY ALL""",
    "pa_by_previous_application": """SELECT c.period, c.outcome, c.previous_application, c.child_adult, count(*) FROM periods c
        JOIN intervention_years i ON i.pseudonym = c.pseudonym AND i.year = c.support_year
        AND i.law = 'LSS' AND i.intervention = 'PERSONLIG_ASSISTANS' GROUP BY ALL""",
}
rows = sum(len(con.execute(q).fetchall()) for q in queries.values())
cohort = con.execute("SELECT count(*) FROM cohort").fetchone()[0]
print(json.dumps({"seconds": time.perf_counter() - t0, "cohort": cohort, "rows": rows, "duckdb": duckdb.__version__,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
