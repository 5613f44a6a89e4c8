#!/usr/bin/env python3
"""Transcribe the published tables the generator is calibrated to into Rust constants.

Reads the CSV transcriptions in shared/reference/ (see its README) and writes
src/calibration/published.rs. Run from anywhere:

    python3 services/generator/tools/make_published.py [REFERENCE_DIR]

Conventions of the output: suppressed cells (`*`) are recovered from the table's identities where
possible (Tabell 56, 59, 63) and otherwise become 1; `-` (not applicable) becomes 0. Index orders
are documented in src/calibration/mod.rs.
"""
import csv
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REF = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "..", "shared", "reference")
OUT = os.path.join(HERE, "..", "src", "calibration", "published.rs")

AGE7 = ["0-6", "7-11", "12-17", "18-29", "30-49", "50-64", "65+"]
AGE7_COHORT = ["2-6", "7-11", "12-17", "18-29", "30-49", "50-64", "65+"]
OUTCOMES = ["Avslag", "Bifall"]
PERIODS = ["before", "after"]
COUNTRIES = ["Inrikes född", "Utrikes född"]
SEXAGE4 = ["Flickor", "Pojkar", "Kvinnor", "Män"]
GROUPS = ["Grupp 1", "Grupp 2", "Grupp 3"]
REASONS = [
    "Uppfyller inte grundläggande förutsättningar",
    "Tillhör inte LSS personkrets",
    "Grundläggande hjälpbehov överstiger inte 20 timmar per vecka",
]
HOURS = ["0", "0.1-5", "5.1-10", "10.1-15", "15.1-20"]
SUPPORT4 = [
    "Både kommunalt stöd och socialförsäkring",
    "Endast kommunalt stöd",
    "Endast socialförsäkring",
    "Inget stöd",
]
BENEFIT3 = ["Omvårdnadsbidrag/vårdbidrag", "Merkostnadsersättning", "Handikappersättning"]

# The contract's intervention list (law, code, label), SoL and LSS only, in contract order.
INTERVENTIONS = [
    ("LSS", "Personlig assistans"),
    ("LSS", "Ledsagarservice"),
    ("LSS", "Kontaktperson"),
    ("LSS", "Avlösarservice"),
    ("LSS", "Korttidsvistelse"),
    ("LSS", "Korttidstillsyn för skolungdomar över 12 år"),
    ("LSS", "Familjehem för barn och ungdomar"),
    ("LSS", "Bostad med särskild service för barn och ungdomar"),
    ("LSS", "Bostad med särskild service för vuxna"),
    ("LSS", "Annan särskilt anpassad bostad för vuxna"),
    ("LSS", "Daglig verksamhet"),
    ("SoL", "Hemtjänst i ordinärt boende"),
    ("SoL", "Särskilt boende"),
    ("SoL", "Korttidsboende"),
    ("SoL", "Dagverksamhet"),
    ("SoL", "Boendestöd"),
    ("SoL", "Kontaktperson"),
    ("SoL", "Kontaktfamilj"),
    ("SoL", "Ledsagning"),
    ("SoL", "Avlösning av anhörig"),
    ("SoL", "Annat bistånd"),
    ("SoL", "Annan SoL"),
]


def read(n):
    with open(os.path.join(REF, f"tabell_{n:02d}.csv"), encoding="utf-8") as f:
        return list(csv.DictReader(f))


def val(s):
    s = s.strip()
    if s == "*":
        return 1
    if s in ("-", ""):
        return 0
    return int(float(s))


def sex2(label):
    return 0 if label in ("Flickor", "Kvinnor") else 1


def nested(dims, default=0):
    if not dims:
        return default
    return [nested(dims[1:], default) for _ in range(dims[0])]


def fmt(a):
    if isinstance(a, list):
        return "[" + ", ".join(fmt(x) for x in a) + "]"
    return str(a)


def rust_type(dims, scalar="u32"):
    t = scalar
    for d in reversed(dims):
        t = f"[{t}; {d}]"
    return t


out = []


def emit(name, doc, dims, arr, scalar="u32"):
    for line in doc.strip().splitlines():
        out.append(f"/// {line.strip()}" if line.strip() else "///")
    out.append(f"pub const {name}: {rust_type(dims, scalar)} = {fmt(arr)};")
    out.append("")


# Tabell 19 + 20: decisions per year, sex, age group, outcome.
a = nested([21, 2, 7, 2])
for r in read(19):
    if r["sex"] == "Totalt":
        continue
    a[int(r["year"]) - 2002][sex2(r["sex"])][AGE7.index(r["age_group"])][OUTCOMES.index(r["outcome"])] = val(r["value"])
for r in read(20):
    if r["sex"] == "Totalt":
        continue
    a[int(r["year"]) - 2002][sex2(r["sex"])][AGE7.index(r["age_group"])][OUTCOMES.index(r["outcome"])] = val(r["value"])
emit("PERSONS_DECIDED", """
Tabell 19 (children 0–17) and Tabell 20 (adults 18+): number of persons granted (*bifall*) and
refused (*avslag*) on an application for assistansersättning, per year 2002–2022.
Their sum over sex and age is Tabell 17 (and Tabell 18).
Index: `[year - 2002][sex][age group (AGE_GROUPS)][outcome]`.
""", [21, 2, 7, 2], a)

# Tabell 21: by birth country.
a = nested([21, 2, 4, 2])
for r in read(21):
    if r["sex"] == "Totalt" or r["birth_country"] == "Totalt":
        continue
    a[int(r["year"]) - 2002][COUNTRIES.index(r["birth_country"])][SEXAGE4.index(r["sex"])][OUTCOMES.index(r["outcome"])] = val(r["value"])
emit("PERSONS_DECIDED_BY_BIRTH_COUNTRY", """
Tabell 21: persons granted / refused per year 2002–2022 by birth country (born in Sweden or
abroad) and sex-and-age category.
Index: `[year - 2002][birth country (0 = inrikes, 1 = utrikes)][SexAge][outcome]`.
""", [21, 2, 4, 2], a)

# Tabell 41: first vs repeated application.
a = nested([11, 2, 2])
for r in read(41):
    if r["application"] == "Totalt":
        continue
    app = 0 if r["application"] == "Första beslut" else 1
    a[int(r["year"]) - 2012][app][OUTCOMES.index(r["outcome"])] = val(r["value"])
emit("FIRST_OR_REPEATED", """
Tabell 41: persons with a decision on a first application (*första beslut*) or after an earlier
refusal (*ansökt flera gånger*), by outcome, per year 2012–2022.
Index: `[year - 2012][0 = first, 1 = repeated][outcome]`.
""", [11, 2, 2], a)

# Tabell 36: time since previous decision.
a = nested([11, 3])
for r in read(36):
    if r["time_since_previous"] == "Totalt":
        continue
    a[int(r["year"]) - 2012][["0-3", "4-6", "7+"].index(r["time_since_previous"])] = val(r["value"])
emit("YEARS_SINCE_PREVIOUS", """
Tabell 36: time between a decision and the nearest earlier refusal for persons who applied
again, per year 2012–2022, in the intervals 0–3, 4–6 and 7+ years.
Index: `[year - 2012][interval]`.
""", [11, 3], a)

# Tabell 22: LSS group.
a = nested([3, 4, 5, 2])
for r in read(22):
    if r["sex"] == "Totalt":
        continue
    a[GROUPS.index(r["lss_group"])][SEXAGE4.index(r["sex"])][int(r["year"]) - 2018][OUTCOMES.index(r["outcome"])] = val(r["value"])
emit("PERSONS_DECIDED_BY_LSS_GROUP", """
Tabell 22: persons granted / refused by Försäkringskassan's assessment of LSS personkrets group,
per year 2018–2022 (recorded in HAPO from 2018 only).
Index: `[group - 1][SexAge][year - 2018][outcome]`.
""", [3, 4, 5, 2], a)

# Tabell 24: rejection reason by sex and age group.
a = nested([2, 7, 3])
for r in read(24):
    if r["sex"] == "Totalt" or r["age_group"] == "Totalt":
        continue
    a[sex2(r["sex"])][AGE7.index(r["age_group"])][REASONS.index(r["reason"])] = val(r["value"])
emit("REJECTION_REASONS", """
Tabell 24: refusals 2018–2022 by reason, sex (all ages) and age group. Reasons in the order
GRUNDLAGGANDE_FORUTSATTNINGAR, PERSONKRETS, BEHOV_HOGST_20H (ANNAN is counted with the last,
report footnote 58).
Index: `[sex][age group][reason]`.
""", [2, 7, 3], a)

# Tabell 25: by birth country (totals).
a = nested([2, 3])
for r in read(25):
    if r["sex"] != "Totalt" or r["birth_country"] == "Totalt":
        continue
    a[COUNTRIES.index(r["birth_country"])][REASONS.index(r["reason"])] = val(r["value"])
emit("REJECTION_REASONS_BY_BIRTH_COUNTRY", """
Tabell 25 (rows *Inrikes född* / *Utrikes född*, all sexes): refusals 2018–2022 by reason.
Index: `[birth country][reason]`.
""", [2, 3], a)

# Tabell 28: assessed hours.
a = nested([2, 7, 5])
for r in read(28):
    if r["sex"] == "Totalt" or r["age_group"] == "Totalt" or r["hours_interval"] == "Totalt":
        continue
    a[sex2(r["sex"])][AGE7.index(r["age_group"])][HOURS.index(r["hours_interval"])] = val(r["value"])
emit("ASSESSED_HOURS_REFUSED", """
Tabell 28: refusals 2018–2022 with assessed hours of basic needs per week, by sex (all ages),
age group and interval 0, 0.1–5, 5.1–10, 10.1–15, 15.1–20 hours. Its total (Tabell 26) equals the
number of refusals because the need did not exceed 20 hours.
Index: `[sex][age group][interval]`.
""", [2, 7, 5], a)

# Tabell 47: type of other support the year before.
a = nested([2, 7, 4])
for r in read(47):
    if r["sex"] == "Totalt" or r["age_group"] == "Totalt":
        continue
    a[sex2(r["sex"])][AGE7_COHORT.index(r["age_group"])][SUPPORT4.index(r["support_type"])] = val(r["value"])
emit("OTHER_SUPPORT_BEFORE", """
Tabell 47: cohort persons (first decision 2018–2020) by type of other support the year before:
both municipal and social insurance, municipal only, social insurance only, none; by sex (all
ages) and age group (2–6 in place of 0–6).
Index: `[sex][age group][support type]`.
""", [2, 7, 4], a)

a = nested([2, 4])
for r in read(48):
    if r["sex"] != "Totalt" or r["birth_country"] == "Totalt":
        continue
    a[COUNTRIES.index(r["birth_country"])][SUPPORT4.index(r["support_type"])] = val(r["value"])
emit("OTHER_SUPPORT_BEFORE_BY_BIRTH_COUNTRY", """
Tabell 48 (rows *Inrikes född* / *Utrikes född*): cohort persons by type of other support the
year before. Index: `[birth country][support type]`.
""", [2, 4], a)

a = nested([3, 4])
for r in read(49):
    if r["sex"] != "Totalt" or r["lss_group"] == "Totalt":
        continue
    a[GROUPS.index(r["lss_group"])][SUPPORT4.index(r["support_type"])] = val(r["value"])
emit("OTHER_SUPPORT_BEFORE_BY_LSS_GROUP", """
Tabell 49 (rows *Grupp 1–3*): cohort persons by type of other support the year before.
Index: `[group - 1][support type]`.
""", [3, 4], a)

# Tabell 50: law the year before.
a = nested([2, 7, 3])
for r in read(50):
    if r["sex"] == "Totalt" or r["age_group"] == "Totalt":
        continue
    a[sex2(r["sex"])][AGE7_COHORT.index(r["age_group"])][["SoL", "LSS", "Inget kommunalt stöd"].index(r["support_type"])] = val(r["value"])
emit("MUNICIPAL_LAW_BEFORE", """
Tabell 50: cohort persons with an SoL intervention, with an LSS intervention, and with no
municipal support, the year before; by sex (all ages) and age group.
Index: `[sex][age group][0 = SoL, 1 = LSS, 2 = none]`.
""", [2, 7, 3], a)

# Tabell 53: benefits the year before.
a = nested([2, 7, 3])
for r in read(53):
    if r["sex"] == "Totalt" or r["age_group"] == "Totalt":
        continue
    a[sex2(r["sex"])][AGE7_COHORT.index(r["age_group"])][BENEFIT3.index(r["benefit"])] = val(r["value"])
emit("BENEFITS_BEFORE", """
Tabell 53: cohort persons with each benefit the year before (omvårdnadsbidrag/vårdbidrag,
merkostnadsersättning, handikappersättning), by sex (all ages) and age group.
Index: `[sex][age group][benefit]`.
""", [2, 7, 3], a)

# Tabell 56: municipal support before / after. Suppressed cells are often secondary
# suppressions of larger numbers; they are recovered from the table's identities: a group's
# persons are the same before and after (ja + nej), and the age groups sum to the sex's row.
raw = {}
for r in read(56):
    raw[(r["sex"], r["age_group"], r["period"], r["outcome"], r["municipal_support"])] = r["value"]
known = {k: (None if v == "*" else val(v)) for k, v in raw.items()}
ages_56 = [x for x in AGE7_COHORT]
for _ in range(10):
    for sex in ("Kvinnor", "Män"):
        for age in ages_56 + ["Totalt"]:
            for o in OUTCOMES:
                cells = [known.get((sex, age, p, o, y)) for p in PERIODS for y in ("Ja", "Nej")]
                if sum(c is None for c in cells) == 1:
                    b, a_ = cells[0:2], cells[2:4]
                    keys = [(sex, age, p, o, y) for p in PERIODS for y in ("Ja", "Nej")]
                    i = cells.index(None)
                    other = a_ if i < 2 else b
                    own = b if i < 2 else a_
                    known[keys[i]] = sum(other) - sum(c for c in own if c is not None)
        for p in PERIODS:
            for o in OUTCOMES:
                for y in ("Ja", "Nej"):
                    parts = [known.get((sex, age, p, o, y)) for age in ages_56]
                    total = known.get((sex, "Totalt", p, o, y))
                    if total is not None and sum(c is None for c in parts) == 1:
                        i = parts.index(None)
                        known[(sex, ages_56[i], p, o, y)] = total - sum(c for c in parts if c is not None)
unresolved = [k for k, v in known.items() if v is None]
assert not unresolved, unresolved
a = nested([2, 7, 2, 2, 2])
for (sex, age, p, o, y), v in known.items():
    if sex == "Totalt" or age == "Totalt":
        continue
    a[sex2(sex)][AGE7_COHORT.index(age)][PERIODS.index(p)][OUTCOMES.index(o)][["Ja", "Nej"].index(y)] = v
emit("MUNICIPAL_SUPPORT", """
Tabell 56: cohort persons with (ja) and without (nej) municipal support (SoL or LSS) the year
before and the year after the decision, by sex (all ages), age group and outcome. Suppressed
cells recovered from the table's identities (same persons before and after; sex totals).
Index: `[sex][age group][period (0 = before, 1 = after)][outcome][0 = ja, 1 = nej]`.
""", [2, 7, 2, 2, 2], a)

a = nested([2, 2, 2, 2])
for r in read(57):
    if r["sex"] != "Totalt" or r["birth_country"] == "Totalt":
        continue
    a[COUNTRIES.index(r["birth_country"])][PERIODS.index(r["period"])][OUTCOMES.index(r["outcome"])][["Ja", "Nej"].index(r["municipal_support"])] = val(r["value"])
emit("MUNICIPAL_SUPPORT_BY_BIRTH_COUNTRY", """
Tabell 57 (rows *Inrikes född* / *Utrikes född*): cohort persons with / without municipal support.
Index: `[birth country][period][outcome][ja/nej]`.
""", [2, 2, 2, 2], a)

a = nested([3, 2, 2, 2])
for r in read(58):
    if r["sex"] != "Totalt" or r["lss_group"] == "Totalt":
        continue
    a[GROUPS.index(r["lss_group"])][PERIODS.index(r["period"])][OUTCOMES.index(r["outcome"])][["Ja", "Nej"].index(r["municipal_support"])] = val(r["value"])
emit("MUNICIPAL_SUPPORT_BY_LSS_GROUP", """
Tabell 58 (rows *Grupp 1–3*): cohort persons with / without municipal support.
Index: `[group - 1][period][outcome][ja/nej]`.
""", [3, 2, 2, 2], a)

# Tabell 59 + 63: interventions. A suppressed cell gets its share of what the law's row
# (a sum of the intervention rows) leaves, at least 1.
a = nested([22, 7, 2, 2])
for t, ages in ((59, AGE7_COHORT[:3]), (63, AGE7_COHORT[3:])):
    rows = read(t)
    law_total = {}
    for r in rows:
        if r["intervention"] == "Totalt" and r["law"] in ("LSS", "SoL"):
            law_total[(r["law"], r["age_group"], r["period"], r["outcome"])] = r["value"]
    suppressed = {}
    for r in rows:
        if r["intervention"] == "Totalt":
            continue
        i = INTERVENTIONS.index((r["law"], r["intervention"]))
        col = (r["law"], r["age_group"], r["period"], r["outcome"])
        a[i][AGE7_COHORT.index(r["age_group"])][PERIODS.index(r["period"])][OUTCOMES.index(r["outcome"])] = val(r["value"])
        if r["value"] == "*":
            suppressed.setdefault(col, []).append(i)
    for col, idx in suppressed.items():
        law, age, period, outcome = col
        total = law_total.get(col, "*")
        if total in ("*", "-"):
            continue
        ai, pi, oi = AGE7_COHORT.index(age), PERIODS.index(period), OUTCOMES.index(outcome)
        rng = range(0, 11) if law == "LSS" else range(11, 22)
        known_sum = sum(a[i][ai][pi][oi] for i in rng if i not in idx)
        rest = int(total) - known_sum
        share = max(1, rest // len(idx)) if rest > 0 else 1
        for i in idx:
            a[i][ai][pi][oi] = min(share, 2) if rest <= 2 * len(idx) else share
emit("INTERVENTION_RECIPIENTS", """
Tabell 59 (children) and Tabell 63 (adults): cohort persons with each SoL/LSS intervention the
year before and the year after the decision, by age group and outcome. A suppressed cell gets an
equal share of what its law's row leaves (at least 1).
Index: `[intervention (MUNICIPAL_INTERVENTIONS order)][age group][period][outcome]`.
""", [22, 7, 2, 2], a)

# Tabell 4 + 10: shares with LSS / SoL.
a = nested([2, 2, 2, 2])
for ci, t in enumerate((4, 10)):
    for r in read(t):
        a[ci][OUTCOMES.index(r["outcome"])][PERIODS.index(r["period"])][["LSS", "SoL"].index(r["support_type"])] = val(r["value"])
emit("LAW_SHARE_PCT", """
Tabell 4 (children) and Tabell 10 (adults): percentage of cohort persons with an LSS and with an
SoL intervention the year before and the year after the decision, by outcome.
Index: `[0 = children, 1 = adults][outcome][period][0 = LSS, 1 = SoL]`.
""", [2, 2, 2, 2], a)

header = '''//! Published tables of Socialförsäkringsrapport 2024:1 that the generator is calibrated to,
//! transcribed from `shared/reference/tabell_NN.csv` by `tools/make_published.py` (do not edit by
//! hand: re-run the script). Suppressed cells (`*`) are recovered from the table's sums where the
//! table allows it (Tabell 56, 59, 63; see their notes) and are otherwise taken as 1; `-` (not
//! applicable) is 0. Index conventions: see the parent module.
#![allow(clippy::unreadable_literal)]

'''
with open(OUT, "w", encoding="utf-8") as f:
    f.write(header + "\n".join(out))
# Format like the rest of the crate (rustfmt's defaults), if rustfmt is installed.
try:
    subprocess.run(["rustfmt", "--edition", "2021", OUT], check=True)
except (OSError, subprocess.CalledProcessError) as e:
    print("rustfmt not run:", e)
print("wrote", os.path.normpath(OUT))
