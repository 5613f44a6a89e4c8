#!/usr/bin/env python3
"""Hand check of the generator's calibration: the cohort statistics of SPEC §4 computed from the
generated CSV extracts and compared with the published tables.

    python3 services/generator/tools/cohort_check.py DATA_DIR [REFERENCE_DIR]

Standard library only. Computes, independently of the generator's code, the cohort (first
qualifying decision 2018–2020, registered on 31 December of D-2..D+1) and from it the shares of
Tabell 4 and 10 (children / adults with LSS and with SoL the year before and after, by outcome),
47 (type of other support the year before, by sex and age group), 56 (municipal support before and
after, by sex, age group and outcome), 50 and 53 (law and benefits the year before), 57/58 (by birth
country / LSS group) and the decision counts of Tabell 17. Prints the largest differences in
percentage points (shares) or percent (counts).
"""
import csv
import datetime as dt
import os
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = sys.argv[1] if len(sys.argv) > 1 else "data/demo"
REF = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "..", "..", "..", "shared", "reference")
YEARS = range(2018, 2021)
AGE = [(2, 6, "2-6"), (7, 11, "7-11"), (12, 17, "12-17"), (18, 29, "18-29"), (30, 49, "30-49"), (50, 64, "50-64"), (65, 200, "65+")]


def age_group(age):
    for lo, hi, name in AGE:
        if lo <= age <= hi:
            return name
    return None


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        yield from csv.DictReader(f)


def ref(n):
    return list(rows(os.path.join(REF, f"tabell_{n:02d}.csv")))


def num(v):
    return {"*": 1.0, "-": 0.0}.get(v, None) if v in ("*", "-") else float(v)


def date(s):
    return dt.date.fromisoformat(s) if s else None


# --- changes of personnummer: every row is read under the number in use today --------------------
_next = {}
_changes = os.path.join(DATA, "fk", "personnummer_changes.csv")
if os.path.exists(_changes):
    for r in rows(_changes):
        _next[r["old_personnummer"]] = r["new_personnummer"]


def current(pnr):
    seen = set()
    while pnr in _next and pnr not in seen:
        seen.add(pnr)
        pnr = _next[pnr]
    return pnr


# --- persons and registrations -----------------------------------------------------------------
persons = {}
for r in rows(os.path.join(DATA, "fk", "persons.csv")):
    persons[r["personnummer"]] = (r["sex"], int(r["birth_date"][:4]), r["birth_country"], date(r["death_date"]))
periods = defaultdict(list)
for r in rows(os.path.join(DATA, "fk", "registrations.csv")):
    periods[r["personnummer"]].append((date(r["registered_from"]), date(r["registered_to"])))


def registered(pnr, d):
    p = persons.get(pnr)
    if p is None or (p[3] is not None and p[3] <= d):
        return False
    return any(f <= d and (t is None or d < t) for f, t in periods.get(pnr, []))


# --- decisions ------------------------------------------------------------------------------
t17 = defaultdict(set)
first = {}
for r in rows(os.path.join(DATA, "fk", "decisions.csv")):
    q = r["kind"] in ("ANSOKAN", "ANMALAN") and r["outcome"] in ("AVSLAG", "BIFALL") and not (
        r["outcome"] == "AVSLAG" and r["changed_on_appeal"] == "true")
    if not q:
        continue
    year = int(r["decision_date"][:4])
    pnr = current(r["personnummer"])
    t17[(year, r["outcome"])].add(pnr)
    if year in YEARS:
        key = (r["decision_date"], r["decision_id"])
        if pnr not in first or key < first[pnr][0]:
            first[pnr] = (key, r)

cohort = {}
for pnr, (_, r) in first.items():
    d = int(r["decision_date"][:4])
    if pnr not in persons:
        continue
    if all(registered(pnr, dt.date(y, 12, 31)) for y in range(d - 2, d + 2)):
        sex, by, country, _ = persons[pnr]
        age = d - by
        cohort[pnr] = dict(D=d, outcome=r["outcome"], sex=sex, age=age, group=age_group(age),
                           country="UTRIKES" if country != "SE" else "INRIKES",
                           lss=r["lss_group"] or "NONE", child=age < 18)

# --- support --------------------------------------------------------------------------------
laws = defaultdict(set)        # (pnr, year) -> {"LSS", "SOL", "HSL"}
ivs = defaultdict(set)         # (pnr, year) -> {(law, code)}
for r in rows(os.path.join(DATA, "sos", "interventions.csv")):
    pnr = current(r["personnummer"])
    if pnr in cohort:
        y = int(r["month"][:4])
        laws[(pnr, y)].add(r["law"])
        ivs[(pnr, y)].add((r["law"], r["intervention"]))
bens = defaultdict(set)
for r in rows(os.path.join(DATA, "fk", "benefit_payments.csv")):
    pnr = current(r["personnummer"])
    if pnr in cohort and int(r["amount_sek"]) > 0:
        b = r["benefit"]
        b = "OMV" if b in ("OMVARDNADSBIDRAG", "VARDBIDRAG") else ("MERK" if b == "MERKOSTNADSERSATTNING" else "HE")
        bens[(pnr, int(r["month"][:4]))].add(b)


def muni(pnr, y):
    return bool(laws[(pnr, y)] & {"LSS", "SOL"})


report = []


def compare(name, published, generated, unit="pp"):
    diffs = []
    for k, p in published.items():
        g = generated.get(k)
        if g is None or p is None:
            continue
        diffs.append((abs(g - p), k, g, p))
    diffs.sort(reverse=True)
    worst = diffs[0] if diffs else (0, None, None, None)
    over = [d for d in diffs if d[0] > 5]
    print(f"{name}: {len(diffs)} cells, max |diff| {worst[0]:.1f} {unit} at {worst[1]} "
          f"(generated {worst[2]:.1f}, published {worst[3]:.1f}); cells over 5 {unit}: {len(over)}")
    for d in over[:8]:
        print(f"    {d[1]}: generated {d[2]:.1f}, published {d[3]:.1f}")
    report.append((name, worst[0], len(over)))


print(f"cohort: {len(cohort)} persons (published Tabell 47: 4611); by year "
      + ", ".join(f"{y}: {sum(1 for c in cohort.values() if c['D'] == y)}" for y in YEARS))

# Tabell 17 (persons with a qualifying decision per year and outcome).
pub17 = {(int(r["year"]), r["outcome"].upper()): float(r["value"]) for r in ref(17) if r["outcome"] != "Totalt"}
gen17 = {k: 100.0 * len(v) / pub17[k] - 100.0 + 100.0 for k, v in t17.items() if k in pub17}
compare("Tabell 17 (count as % of published)", {k: 100.0 for k in pub17}, gen17, unit="%")

# Tabell 4 / 10.
for table, child in ((4, True), (10, False)):
    pub, gen = {}, {}
    for r in ref(table):
        pub[(r["outcome"].upper(), r["period"], r["support_type"].upper())] = float(r["value"])
    for outcome in ("AVSLAG", "BIFALL"):
        members = [p for p, c in cohort.items() if c["child"] == child and c["outcome"] == outcome]
        for period, off in (("before", -1), ("after", 1)):
            for law in ("LSS", "SOL"):
                n = sum(1 for p in members if law in laws[(p, cohort[p]["D"] + off)])
                gen[(outcome, period, law)] = 100.0 * n / max(1, len(members))
    compare(f"Tabell {table} ({'children' if child else 'adults'}, LSS/SoL share)", pub, gen)

# Tabell 47.
support_names = {"Både kommunalt stöd och socialförsäkring": "BOTH", "Endast kommunalt stöd": "MUNICIPAL_ONLY",
                 "Endast socialförsäkring": "SOCIAL_INSURANCE_ONLY", "Inget stöd": "NONE"}
pub_cnt = defaultdict(dict)
for r in ref(47):
    pub_cnt[(r["sex"], r["age_group"])][support_names[r["support_type"]]] = float(r["value"])
gen_cnt = defaultdict(lambda: defaultdict(int))
for p, c in cohort.items():
    m, s = muni(p, c["D"] - 1), bool(bens[(p, c["D"] - 1)])
    t = "BOTH" if m and s else "MUNICIPAL_ONLY" if m else "SOCIAL_INSURANCE_ONLY" if s else "NONE"
    sexn = "Kvinnor" if c["sex"] == "K" else "Män"
    for key in ((sexn, c["group"]), (sexn, "Totalt"), ("Totalt", "Totalt")):
        gen_cnt[key][t] += 1
pub, gen = {}, {}
for key, d in pub_cnt.items():
    tot, gtot = sum(d.values()), sum(gen_cnt[key].values())
    for t, v in d.items():
        pub[key + (t,)] = 100.0 * v / tot
        gen[key + (t,)] = 100.0 * gen_cnt[key][t] / max(1, gtot)
compare("Tabell 47 (type of support before, share)", pub, gen)

# Tabell 56.
pub_cnt = defaultdict(dict)
for r in ref(56):
    pub_cnt[(r["sex"], r["age_group"], r["period"], r["outcome"].upper())][r["municipal_support"]] = num(r["value"])
gen_cnt = defaultdict(lambda: [0, 0])
for p, c in cohort.items():
    sexn = "Kvinnor" if c["sex"] == "K" else "Män"
    for period, off in (("before", -1), ("after", 1)):
        yes = muni(p, c["D"] + off)
        for key in ((sexn, c["group"]), (sexn, "Totalt"), ("Totalt", "Totalt")):
            gen_cnt[key + (period, c["outcome"])][0 if yes else 1] += 1
pub, gen = {}, {}
suppressed56 = {(r["sex"], r["age_group"], r["period"], r["outcome"].upper()) for r in ref(56) if r["value"] == "*"}
for key, d in pub_cnt.items():
    if key in suppressed56:
        continue  # a suppressed cell (often a secondary suppression of a larger number)
    tot = d["Ja"] + d["Nej"]
    g = gen_cnt[key]
    pub[key] = 100.0 * d["Ja"] / tot
    if sum(g):
        gen[key] = 100.0 * g[0] / sum(g)
compare("Tabell 56 (share with municipal support; suppressed cells left out)", pub, gen)
# The same, only cells with at least 50 persons published (noise of small cells aside).
compare("Tabell 56, cells of at least 50 persons", {k: v for k, v in pub.items() if sum(pub_cnt[k].values()) >= 50}, gen)

# Tabell 57/58 (by birth country / LSS group, totals over sex).
for table, field, labels in ((57, "country", {"Inrikes född": "INRIKES", "Utrikes född": "UTRIKES"}),
                             (58, "lss", {"Grupp 1": "1", "Grupp 2": "2", "Grupp 3": "3"})):
    pub_cnt = defaultdict(dict)
    col = "birth_country" if table == 57 else "lss_group"
    for r in ref(table):
        if r["sex"] == "Totalt" and r[col] in labels:
            pub_cnt[(labels[r[col]], r["period"], r["outcome"].upper())][r["municipal_support"]] = num(r["value"])
    gen_cnt = defaultdict(lambda: [0, 0])
    for p, c in cohort.items():
        for period, off in (("before", -1), ("after", 1)):
            gen_cnt[(c[field], period, c["outcome"])][0 if muni(p, c["D"] + off) else 1] += 1
    pub = {k: 100.0 * d["Ja"] / (d["Ja"] + d["Nej"]) for k, d in pub_cnt.items()}
    gen = {k: 100.0 * g[0] / sum(g) for k, g in gen_cnt.items() if sum(g)}
    compare(f"Tabell {table} (municipal support by {field})", pub, gen)

# Tabell 50 (law the year before by sex and age).
pub_cnt = defaultdict(dict)
for r in ref(50):
    pub_cnt[(r["sex"], r["age_group"])][r["support_type"]] = float(r["value"])
gen_cnt = defaultdict(lambda: defaultdict(int))
for p, c in cohort.items():
    sexn = "Kvinnor" if c["sex"] == "K" else "Män"
    l = laws[(p, c["D"] - 1)]
    for key in ((sexn, c["group"]), (sexn, "Totalt"), ("Totalt", "Totalt")):
        gen_cnt[key]["n"] += 1
        gen_cnt[key]["SoL"] += "SOL" in l
        gen_cnt[key]["LSS"] += "LSS" in l
        gen_cnt[key]["Inget kommunalt stöd"] += not (l & {"LSS", "SOL"})
pub, gen = {}, {}
for key, d in pub_cnt.items():
    tot = d["Inget kommunalt stöd"] + (pub_cnt[key].get("_n") or 0)
    n_pub = sum(v for k, v in pub_cnt[key].items())  # not a partition: SoL and LSS overlap
    # Denominator: cohort persons of the group (Tabell 56 row total).
    gen_n = gen_cnt[key]["n"]
    for t in ("SoL", "LSS", "Inget kommunalt stöd"):
        gen[key + (t,)] = 100.0 * gen_cnt[key][t] / max(1, gen_n)
t56_tot = defaultdict(float)
for r in ref(56):
    if r["period"] == "before":
        t56_tot[(r["sex"], r["age_group"])] += num(r["value"])
for key, d in pub_cnt.items():
    for t in ("SoL", "LSS", "Inget kommunalt stöd"):
        pub[key + (t,)] = 100.0 * d[t] / t56_tot[key]
compare("Tabell 50 (law the year before, share)", pub, gen)

# Tabell 53 (benefits the year before, share of the group).
names = {"Omvårdnadsbidrag/vårdbidrag": "OMV", "Merkostnadsersättning": "MERK", "Handikappersättning": "HE"}
pub, gen = {}, {}
gen_cnt = defaultdict(lambda: defaultdict(int))
for p, c in cohort.items():
    sexn = "Kvinnor" if c["sex"] == "K" else "Män"
    b = bens[(p, c["D"] - 1)]
    for key in ((sexn, c["group"]), (sexn, "Totalt"), ("Totalt", "Totalt")):
        gen_cnt[key]["n"] += 1
        for x in b:
            gen_cnt[key][x] += 1
for r in ref(53):
    key = (r["sex"], r["age_group"])
    pub[key + (names[r["benefit"]],)] = 100.0 * num(r["value"]) / t56_tot[key]
    gen[key + (names[r["benefit"]],)] = 100.0 * gen_cnt[key][names[r["benefit"]]] / max(1, gen_cnt[key]["n"])
compare("Tabell 53 (benefits the year before, share)", pub, gen)

# Cohort composition against Tabell 56 (sex x age x outcome, share of the cohort).
pub_n = defaultdict(float)
for r in ref(56):
    if r["period"] == "before" and r["sex"] != "Totalt" and r["age_group"] != "Totalt":
        pub_n[(r["sex"], r["age_group"], r["outcome"].upper())] += num(r["value"])
gen_n = defaultdict(int)
for c in cohort.values():
    gen_n[("Kvinnor" if c["sex"] == "K" else "Män", c["group"], c["outcome"])] += 1
tp, tg = sum(pub_n.values()), max(1, len(cohort))
compare("cohort composition (sex x age x outcome, % of cohort)",
        {k: 100 * v / tp for k, v in pub_n.items()}, {k: 100 * gen_n[k] / tg for k in pub_n})

print()
print("summary (table, max diff, cells over 5):", ", ".join(f"{n.split(' (')[0]}: {m:.1f}/{o}" for n, m, o in report))

if os.environ.get("VERBOSE"):
    print("\ncohort size by sex x age x outcome: generated / published")
    for k in sorted(pub_n):
        print(f"  {k}: {gen_n[k]:5d} / {pub_n[k]:5.0f}  ratio {gen_n[k] / max(1, pub_n[k]):.2f}")
