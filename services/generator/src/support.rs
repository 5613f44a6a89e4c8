//! Support from the municipality (SoL, LSS, HSL interventions) and from the social insurance
//! (disability benefits), year by year, and its months (SPEC §3.1 `benefit_payments`, §3.2
//! `interventions`, §8).
//!
//! # Applicants
//!
//! An applicant's support is anchored at one decision: the cohort decision (SPEC §4.2) for the
//! cohort, else their first qualifying decision. For the year before (D−1) and the year after (D+1)
//! of that decision:
//!
//! 1. *Municipal support* (SoL or LSS) before and after, by sex × age group × outcome: Tabell 56,
//!    with persistence between the two years ([`cal::MUNICIPAL_PERSISTENCE`]).
//! 2. *Which law*, given municipal support, by age group × outcome × period: the persons with
//!    LSS and with SoL, Tabell 4 and 10, spread over the age groups in proportion to the
//!    intervention counts of Tabell 59 and 63 (whose law rows count interventions, not persons).
//! 3. *Which interventions*, given the law: one drawn in proportion to Tabell 59 / 63, then each
//!    other one with the probability that makes its expected count that of the table.
//! 4. *Social-insurance support* the year before, by sex × age group, given municipal support:
//!    Tabell 47. The benefit follows from age and date (children: vårdbidrag / omvårdnadsbidrag
//!    to a parent until June of the year they turn 19; adults: handikappersättning /
//!    merkostnadsersättning), which gives the mix of Tabell 53.
//! 5. *HSL* the year before: 4 % of children, 46 % of adults (text p. 58–59).
//!
//! For the cohort, steps 1, 2 and 4 are allocated by *balanced sampling* within each cell: the
//! cell's expected number of persons with support (the published share times the cell size,
//! rounded) is given to the persons ranked highest by a latent propensity: logistic noise plus a
//! shift by birth country and LSS group. The shifts start from the published log odds ratios and
//! are raked (iterative proportional fitting) until the shares by birth country and by LSS group
//! are those of Tabell 57–58 (municipal support) and 48–49 (social insurance). The published
//! shares of the cells are thereby reproduced up to rounding, with no sampling noise, and the
//! groups differ as published. Everyone else is drawn independently with the same probabilities.
//!
//! Other years follow from the anchor years by a persistent year-to-year process, so that support
//! in D−2 or D+2 exists but does not count.
//!
//! # General population
//!
//! National rates (SPEC §8): elderly care by age (home help, special housing, safety alarms,
//! municipal HSL) from a fixed frailty per person, LSS support from an onset age, SoL support for
//! disabilities, and the child and adult disability benefits.

use chrono::Datelike;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::applicants::{Applicant, Outcome};
use crate::calibration::{
    self as cal, ivx, published as pb, HSL_INTERVENTIONS, MUNICIPAL_INTERVENTIONS, N_LSS,
};
use crate::population::Life;
use crate::rng::{chance, logistic, logit, pick, stream, Domain};
use crate::rows::{BenefitRow, InterventionRow, Txt};

/// First year of a support plan: one year before the extracts, so that the first extract year
/// knows whether support was going on already.
pub const PLAN_FIRST_YEAR: i32 = cal::SUPPORT_FIRST_YEAR - 1;
/// Years of a support plan: the extract years plus one before and one after.
pub const PLAN_YEARS: usize = cal::SUPPORT_YEARS + 2;

/// A person's support, year by year from [`PLAN_FIRST_YEAR`].
#[derive(Debug, Clone, Default)]
pub struct SupportPlan {
    /// SoL and LSS interventions in the year (bit `i` = [`MUNICIPAL_INTERVENTIONS`]`[i]`).
    pub municipal: [u32; PLAN_YEARS],
    /// HSL interventions in the year (bit `i` = [`HSL_INTERVENTIONS`]`[i]`).
    pub hsl: [u8; PLAN_YEARS],
    /// A disability benefit in the year.
    pub benefit: [bool; PLAN_YEARS],
    /// Level of the benefit (index into the benefit's levels, modulo their number).
    pub benefit_level: u8,
    /// Parents of a child with a benefit also receive merkostnadsersättning (from 2019).
    pub child_merkostnad: bool,
}

impl SupportPlan {
    /// Whether the plan pays a child benefit (to a parent) in some year.
    pub fn needs_parent(&self, birth_year: i32) -> bool {
        (0..PLAN_YEARS).any(|i| self.benefit[i] && PLAN_FIRST_YEAR + i as i32 - birth_year <= 19)
    }
}

/// Latent group of a person for the ranking within cells: birth country and LSS group.
#[derive(Debug, Clone, Copy)]
struct Anchor {
    year: i32,
    outcome: usize,
    sex: usize,
    group: usize,
    country: usize,
    /// 0–2 = LSS group 1–3, 3 = none recorded.
    lss: usize,
}

/// Support in the anchor years D−1 and D+1.
#[derive(Debug, Clone, Copy, Default)]
struct Core {
    municipal: [bool; 2],
    /// Per period: (LSS, SoL).
    law: [(bool, bool); 2],
    benefit_before: bool,
    hsl_before: bool,
}

/// (P(LSS), P(SoL)) given municipal support, `[sex][age group][period][outcome]`.
type LawShares = [[[[(f64, f64); 2]; 2]; 7]; 2];
/// Per intervention, `[age group][period][outcome][intervention]`.
type InterventionShares = [[[[f64; 22]; 2]; 2]; 7];

/// Probabilities derived from the published tables.
pub struct Model {
    /// P(municipal support) `[sex][age group][period][outcome]` (Tabell 56).
    municipal: [[[[f64; 2]; 2]; 7]; 2],
    /// P(municipal support) by birth country `[period][outcome][country]` (Tabell 57).
    municipal_country: [[[f64; 2]; 2]; 2],
    /// P(municipal support) by LSS group `[period][outcome][group 1–3, none]` (Tabell 58; none is
    /// the rest of Tabell 56).
    municipal_lss: [[[f64; 4]; 2]; 2],
    /// P(municipal support) over the cohort `[period][outcome]` (Tabell 56).
    municipal_total: [[f64; 2]; 2],
    /// P(social insurance the year before | municipal support) `[sex][age group][no/yes]` (Tabell 47).
    benefit: [[[f64; 2]; 7]; 2],
    /// P(social insurance the year before) by birth country (Tabell 48), by LSS group (Tabell 49,
    /// none the rest of Tabell 47) and over the cohort.
    benefit_country: [f64; 2],
    benefit_lss: [f64; 4],
    benefit_total: f64,
    /// P(LSS), P(SoL) given municipal support `[sex][age group][period][outcome]`.
    law: LawShares,
    /// Within a law: the first intervention's distribution and the others' probabilities,
    /// `[age group][period][outcome][intervention]`.
    primary: InterventionShares,
    extra: InterventionShares,
}

/// **Assumption**, consistent with Tabell 52: propensity for LSS rather than SoL by LSS group
/// (group 1 mostly LSS, no group mostly SoL).
const LSS_PROPENSITY: [f64; 4] = [1.5, 0.0, 0.5, -1.5];

/// Which law, given municipal support, `[sex][age group][period][outcome]` → (P(LSS), P(SoL)),
/// and the interventions within each law, `[age group][period][outcome][intervention]` → (the
/// first intervention's distribution, the others' probabilities).
///
/// The year before: the persons with LSS and with SoL by sex and age group are published
/// (Tabell 50), but not by outcome. The year after: only the intervention counts by age group and
/// outcome (Tabell 59 / 63), which count a person once per intervention; they are turned into
/// persons with the age group's ratio of intervention counts to persons the year before. In both
/// periods a common shift of the log odds per child/adult, period and outcome then makes the
/// shares of Tabell 4 and 10 (persons with LSS / SoL by outcome) come out exactly.
fn law_model() -> (LawShares, InterventionShares, InterventionShares) {
    let ms = &pb::MUNICIPAL_SUPPORT;
    let ir = &pb::INTERVENTION_RECIPIENTS;
    let t50 = &pb::MUNICIPAL_LAW_BEFORE;
    // Persons with municipal support, M[s][a][p][o], and intervention counts per law.
    let m = |s: usize, a: usize, p: usize, o: usize| ms[s][a][p][o][0] as f64;
    let count = |a: usize, p: usize, o: usize, lss: bool| -> f64 {
        let range = if lss { 0..N_LSS } else { N_LSS..22 };
        range.map(|i| ir[i][a][p][o] as f64).sum()
    };
    // Base probability of each law (index 0 = LSS, 1 = SoL), before the outcome shift.
    let mut base = [[[[[0.0; 2]; 2]; 2]; 7]; 2];
    for a in 0..7 {
        // Intervention records per person with the law, the year before (Tabell 59/63 vs 50).
        let mut per_person = [1.0; 2];
        for (l, lss) in [true, false].into_iter().enumerate() {
            let records: f64 = (0..2).map(|o| count(a, 0, o, lss)).sum();
            let persons: f64 = (0..2).map(|s| t50[s][a][1 - l] as f64).sum();
            if persons > 0.0 {
                per_person[l] = (records / persons).max(1.0);
            }
        }
        for s in 0..2 {
            let supported: f64 = (0..2).map(|o| m(s, a, 0, o)).sum();
            for o in 0..2 {
                for l in 0..2 {
                    // Tabell 50 columns: 0 = SoL, 1 = LSS.
                    base[s][a][0][o][l] = if supported > 0.0 {
                        t50[s][a][1 - l] as f64 / supported
                    } else {
                        0.0
                    };
                    let supported_after: f64 = (0..2).map(|s2| m(s2, a, 1, o)).sum();
                    base[s][a][1][o][l] = if supported_after > 0.0 {
                        count(a, 1, o, l == 0) / per_person[l] / supported_after
                    } else {
                        0.0
                    };
                }
            }
        }
    }
    let mut law = [[[[(0.0, 0.0); 2]; 2]; 7]; 2];
    for (ca, ages) in [(0usize, 0..3usize), (1, 3..7)] {
        for p in 0..2 {
            for o in 0..2 {
                let n: f64 = ages
                    .clone()
                    .flat_map(|a| (0..2).map(move |s| (a, s)))
                    .map(|(a, s)| (ms[s][a][p][o][0] + ms[s][a][p][o][1]) as f64)
                    .sum();
                let mut shifted = [[[0.0; 2]; 7]; 2];
                for l in 0..2 {
                    let target = pb::LAW_SHARE_PCT[ca][o][p][l] as f64 / 100.0 * n;
                    let total = |delta: f64| -> f64 {
                        ages.clone()
                            .flat_map(|a| (0..2).map(move |s| (a, s)))
                            .map(|(a, s)| {
                                m(s, a, p, o) * shift_probability(base[s][a][p][o][l], delta)
                            })
                            .sum()
                    };
                    // Bisection for the common log-odds shift.
                    let (mut lo, mut hi) = (-12.0, 12.0);
                    for _ in 0..80 {
                        let mid = 0.5 * (lo + hi);
                        if total(mid) < target {
                            lo = mid;
                        } else {
                            hi = mid;
                        }
                    }
                    for a in ages.clone() {
                        for s in 0..2 {
                            shifted[s][a][l] =
                                shift_probability(base[s][a][p][o][l], 0.5 * (lo + hi));
                        }
                    }
                }
                for a in ages.clone() {
                    for s in 0..2 {
                        let (mut pl, mut ps) = (shifted[s][a][0], shifted[s][a][1]);
                        // Everyone with municipal support has at least one of the laws.
                        let t = pl + ps;
                        if t < 1.0 {
                            (pl, ps) = if t > 0.0 {
                                (pl / t, ps / t)
                            } else {
                                (1.0, 0.0)
                            };
                        }
                        law[s][a][p][o] = (pl, ps);
                    }
                }
            }
        }
    }
    // Interventions within each law: expected persons with the law in the cell against the
    // intervention counts.
    let mut primary = [[[[0.0; 22]; 2]; 2]; 7];
    let mut extra = [[[[0.0; 22]; 2]; 2]; 7];
    for a in 0..7 {
        for p in 0..2 {
            for o in 0..2 {
                for (l, range) in [(0, 0..N_LSS), (1, N_LSS..22)] {
                    let sum = count(a, p, o, l == 0);
                    let persons: f64 = (0..2)
                        .map(|s| {
                            m(s, a, p, o)
                                * if l == 0 {
                                    law[s][a][p][o].0
                                } else {
                                    law[s][a][p][o].1
                                }
                        })
                        .sum();
                    if sum <= 0.0 || persons <= 0.0 {
                        continue;
                    }
                    for i in range {
                        let c = ir[i][a][p][o] as f64;
                        let pi = c / sum;
                        let marginal = (c / persons).min(1.0);
                        primary[a][p][o][i] = pi;
                        extra[a][p][o][i] = if pi < 1.0 {
                            ((marginal - pi) / (1.0 - pi)).clamp(0.0, 1.0)
                        } else {
                            0.0
                        };
                    }
                }
            }
        }
    }
    (law, primary, extra)
}

/// `p` with its log odds shifted by `delta`; 0 stays 0 (a law without any intervention in the
/// cell is not given one).
fn shift_probability(p: f64, delta: f64) -> f64 {
    if p <= 0.0 {
        return 0.0;
    }
    let x = logit(p.min(0.999_999)) + delta;
    1.0 / (1.0 + (-x).exp())
}

impl Default for Model {
    fn default() -> Self {
        Self::new()
    }
}

impl Model {
    pub fn new() -> Model {
        let ms = &pb::MUNICIPAL_SUPPORT;
        let share = |ja: f64, nej: f64| if ja + nej > 0.0 { ja / (ja + nej) } else { 0.0 };
        // Totals over sex and age per period and outcome: ja, n.
        let mut total = [[(0.0, 0.0); 2]; 2];
        for sex in ms {
            for age in sex {
                for p in 0..2 {
                    for o in 0..2 {
                        total[p][o].0 += age[p][o][0] as f64;
                        total[p][o].1 += (age[p][o][0] + age[p][o][1]) as f64;
                    }
                }
            }
        }
        let mut municipal = [[[[0.0; 2]; 2]; 7]; 2];
        for s in 0..2 {
            for a in 0..7 {
                for p in 0..2 {
                    for o in 0..2 {
                        let c = ms[s][a][p][o];
                        municipal[s][a][p][o] = if c[0] + c[1] > 0 {
                            share(c[0] as f64, c[1] as f64)
                        } else {
                            total[p][o].0 / total[p][o].1
                        };
                    }
                }
            }
        }
        let mut municipal_country = [[[0.0; 2]; 2]; 2];
        let mut municipal_lss = [[[0.0; 4]; 2]; 2];
        let mut municipal_total = [[0.0; 2]; 2];
        for p in 0..2 {
            for o in 0..2 {
                municipal_total[p][o] = total[p][o].0 / total[p][o].1;
                for c in 0..2 {
                    let t = pb::MUNICIPAL_SUPPORT_BY_BIRTH_COUNTRY[c][p][o];
                    municipal_country[p][o][c] = share(t[0] as f64, t[1] as f64);
                }
                let (mut ja_g, mut n_g) = (0.0, 0.0);
                for g in 0..3 {
                    let t = pb::MUNICIPAL_SUPPORT_BY_LSS_GROUP[g][p][o];
                    ja_g += t[0] as f64;
                    n_g += (t[0] + t[1]) as f64;
                    municipal_lss[p][o][g] = share(t[0] as f64, t[1] as f64);
                }
                let (ja_none, n_none) = (
                    (total[p][o].0 - ja_g).max(0.0),
                    (total[p][o].1 - n_g).max(1.0),
                );
                municipal_lss[p][o][3] = ja_none / n_none;
            }
        }

        // Social insurance the year before (Tabell 47: both, municipal only, SI only, none).
        let os = &pb::OTHER_SUPPORT_BEFORE;
        let mut benefit = [[[0.0; 2]; 7]; 2];
        let mut tot = [0.0; 4];
        for s in 0..2 {
            for a in 0..7 {
                let c = os[s][a].map(f64::from);
                benefit[s][a][1] = share(c[0], c[1]);
                benefit[s][a][0] = share(c[2], c[3]);
                for (t, v) in tot.iter_mut().zip(c) {
                    *t += v;
                }
            }
        }
        let si_share = |c: [f64; 4]| share(c[0] + c[2], c[1] + c[3]);
        let benefit_total = si_share(tot);
        let benefit_country =
            [0, 1].map(|c| si_share(pb::OTHER_SUPPORT_BEFORE_BY_BIRTH_COUNTRY[c].map(f64::from)));
        let mut benefit_lss = [0.0; 4];
        let mut rest = tot;
        for g in 0..3 {
            let c = pb::OTHER_SUPPORT_BEFORE_BY_LSS_GROUP[g].map(f64::from);
            benefit_lss[g] = si_share(c);
            for i in 0..4 {
                rest[i] = (rest[i] - c[i]).max(0.0);
            }
        }
        benefit_lss[3] = si_share(rest);

        let (law, primary, extra) = law_model();
        Model {
            municipal,
            municipal_country,
            municipal_lss,
            municipal_total,
            benefit,
            benefit_country,
            benefit_lss,
            benefit_total,
            law,
            primary,
            extra,
        }
    }

    fn municipal_p(&self, x: &Anchor, period: usize) -> f64 {
        self.municipal[x.sex][x.group][period][x.outcome]
    }

    /// The interventions of one law for a person of age group `group` in `period`.
    fn draw_interventions<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        group: usize,
        period: usize,
        outcome: usize,
        lss: bool,
    ) -> u32 {
        let range = if lss { 0..N_LSS } else { N_LSS..22 };
        let primary = &self.primary[group][period][outcome];
        let weights: Vec<f64> = range.clone().map(|i| primary[i]).collect();
        if weights.iter().sum::<f64>() <= 0.0 {
            return 0;
        }
        let first = range.start + pick(rng, &weights);
        let mut mask = 1u32 << first;
        for i in range {
            if i != first && chance(rng, self.extra[group][period][outcome][i]) {
                mask |= 1 << i;
            }
        }
        mask
    }

    /// The SoL/LSS interventions of a person with municipal support under the given laws.
    fn draw_set<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        group: usize,
        period: usize,
        outcome: usize,
        law: (bool, bool),
    ) -> u32 {
        let mut mask = 0;
        if law.0 {
            mask |= self.draw_interventions(rng, group, period, outcome, true);
        }
        if law.1 {
            mask |= self.draw_interventions(rng, group, period, outcome, false);
        }
        if mask == 0 {
            // A cell without published interventions of that law: use the other law.
            mask = self.draw_interventions(rng, group, period, outcome, !law.0)
                | self.draw_interventions(rng, group, period, outcome, law.0);
        }
        mask
    }

    /// Independent draw of which laws, given municipal support.
    fn draw_law<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        sex: usize,
        group: usize,
        period: usize,
        outcome: usize,
    ) -> (bool, bool) {
        let (pl, ps) = self.law[sex][group][period][outcome];
        // Categories LSS only, SoL only, both (pl + ps ≥ 1).
        let both = (pl + ps - 1.0).max(0.0);
        match pick(rng, &[pl - both, ps - both, both]) {
            0 => (true, false),
            1 => (false, true),
            _ => (true, true),
        }
    }
}

/// The anchor decision of an applicant: the cohort decision, else the first qualifying decision,
/// else the first decision (a refusal changed on appeal counts as a grant).
fn anchor_of(a: &Applicant) -> Anchor {
    let qualifying = a.decisions.iter().position(|d| d.is_qualifying());
    let i = a.cohort.map(|c| c.decision).or(qualifying).unwrap_or(0);
    let d = &a.decisions[i];
    let granted = d.outcome == Outcome::Bifall || d.changed_on_appeal;
    let year = d.date.year();
    let age = year - a.life.birth_year();
    Anchor {
        year,
        outcome: usize::from(granted),
        sex: a.life.sex,
        group: cal::age_group(age),
        country: usize::from(a.life.foreign_born()),
        lss: d.lss_group.map_or(3, |g| (g as usize).clamp(1, 3) - 1),
    }
}

/// Give every applicant a support plan (see the module documentation).
pub fn plan_applicants(seed: u64, applicants: &mut [Applicant]) {
    let model = Model::new();
    let anchors: Vec<Anchor> = applicants.iter().map(anchor_of).collect();
    let mut cores: Vec<Option<Core>> = vec![None; applicants.len()];
    allocate_cohort(seed, &model, applicants, &anchors, &mut cores);
    for (i, a) in applicants.iter_mut().enumerate() {
        let mut rng = stream(seed, Domain::ApplicantSupport, a.id as u64);
        let x = anchors[i];
        let core = cores[i].unwrap_or_else(|| independent_core(&mut rng, &model, &x));
        a.plan = chain_plan(&mut rng, &model, &x, &core, a.life.birth_year());
    }
}

/// Support in D−1 and D+1 drawn independently (applicants outside the cohort).
fn independent_core(rng: &mut ChaCha8Rng, model: &Model, x: &Anchor) -> Core {
    let (pb_, pa) = (model.municipal_p(x, 0), model.municipal_p(x, 1));
    let before = chance(rng, pb_);
    let q1 =
        (pa + cal::MUNICIPAL_PERSISTENCE * (1.0 - pa)).min(if pb_ > 0.0 { pa / pb_ } else { 1.0 });
    let q0 = if pb_ < 1.0 {
        ((pa - pb_ * q1) / (1.0 - pb_)).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let after = chance(rng, if before { q1 } else { q0 });
    let mut core = Core {
        municipal: [before, after],
        ..Core::default()
    };
    for p in 0..2 {
        if core.municipal[p] {
            core.law[p] = model.draw_law(rng, x.sex, x.group, p, x.outcome);
        }
    }
    core.benefit_before = chance(rng, model.benefit[x.sex][x.group][usize::from(before)]);
    core.hsl_before = chance(rng, cal::HSL_BEFORE_SHARE[x.sex][usize::from(x.group >= 3)]);
    core
}

/// Balanced allocation of the cohort's support in D−1 and D+1 (see the module documentation).
fn allocate_cohort(
    seed: u64,
    model: &Model,
    applicants: &[Applicant],
    anchors: &[Anchor],
    cores: &mut [Option<Core>],
) {
    let mut rng = stream(seed, Domain::Allocation, 0);
    let members: Vec<usize> = (0..applicants.len())
        .filter(|&i| applicants[i].cohort.is_some())
        .collect();
    let x: Vec<Anchor> = members.iter().map(|&i| anchors[i]).collect();
    let noise: Vec<[f64; 3]> = members
        .iter()
        .map(|_| [logistic(&mut rng), logistic(&mut rng), logistic(&mut rng)])
        .collect();

    // Municipal support before and after, per sex × age group × outcome, ranked by birth
    // country and LSS group with shifts raked to Tabell 57 and 58.
    let cells: Vec<Vec<usize>> = (0..2)
        .flat_map(|s| (0..7).flat_map(move |a| (0..2).map(move |o| (s, a, o))))
        .map(|(s, a, o)| {
            (0..x.len())
                .filter(|&m| x[m].sex == s && x[m].group == a && x[m].outcome == o)
                .collect()
        })
        .collect();
    let mut shift_country = [[[0.0; 2]; 2]; 2];
    let mut shift_lss = [[[0.0; 4]; 2]; 2];
    for p in 0..2 {
        for o in 0..2 {
            let base = logit(model.municipal_total[p][o]);
            for c in 0..2 {
                shift_country[p][o][c] = logit(model.municipal_country[p][o][c]) - base;
            }
            for g in 0..4 {
                shift_lss[p][o][g] = logit(model.municipal_lss[p][o][g]) - base;
            }
        }
    }
    let mut municipal = Vec::new();
    for iteration in 0..=RAKING_ITERATIONS {
        let shift = |m: usize, p: usize| {
            shift_country[p][x[m].outcome][x[m].country] + shift_lss[p][x[m].outcome][x[m].lss]
        };
        municipal = vec![[false; 2]; x.len()];
        for cell in cells.iter().filter(|c| !c.is_empty()) {
            let x0 = x[cell[0]];
            let (p_before, p_after) = (model.municipal_p(&x0, 0), model.municipal_p(&x0, 1));
            let n = cell.len();
            let key_before: Vec<f64> = cell.iter().map(|&m| shift(m, 0) + noise[m][0]).collect();
            let key_after: Vec<f64> = cell.iter().map(|&m| shift(m, 1) + noise[m][1]).collect();
            let k_before = round_count(p_before, n);
            let before = top_k(&key_before, k_before);
            let k_after = round_count(p_after, n);
            let q1 = p_after + cal::MUNICIPAL_PERSISTENCE * (1.0 - p_after);
            let k11 = ((q1 * k_before as f64).round() as usize)
                .clamp(k_after.saturating_sub(n - k_before), k_after.min(k_before));
            let k01 = k_after - k11;
            let (yes, no): (Vec<usize>, Vec<usize>) = (0..n).partition(|&j| before[j]);
            let mut after = vec![false; n];
            for (part, k) in [(&yes, k11), (&no, k01)] {
                let keys: Vec<f64> = part.iter().map(|&j| key_after[j]).collect();
                for (j, chosen) in top_k(&keys, k).into_iter().enumerate() {
                    after[part[j]] = chosen;
                }
            }
            for (j, &m) in cell.iter().enumerate() {
                municipal[m] = [before[j], after[j]];
            }
        }
        if iteration == RAKING_ITERATIONS {
            break;
        }
        for p in 0..2 {
            for o in 0..2 {
                let achieved = |f: &dyn Fn(&Anchor) -> bool| {
                    let (mut yes, mut n) = (0.0, 0.0);
                    for m in 0..x.len() {
                        if x[m].outcome == o && f(&x[m]) {
                            n += 1.0;
                            yes += f64::from(u8::from(municipal[m][p]));
                        }
                    }
                    (yes + 0.5) / (n + 1.0)
                };
                for c in 0..2 {
                    shift_country[p][o][c] += logit(model.municipal_country[p][o][c])
                        - logit(achieved(&|a| a.country == c));
                }
                for g in 0..4 {
                    shift_lss[p][o][g] +=
                        logit(model.municipal_lss[p][o][g]) - logit(achieved(&|a| a.lss == g));
                }
            }
        }
    }

    // Social insurance the year before, per sex × age group × municipal support before, raked
    // to Tabell 48 and 49 likewise.
    let cells: Vec<Vec<usize>> = (0..2)
        .flat_map(|s| (0..7).flat_map(move |a| [false, true].map(move |mu| (s, a, mu))))
        .map(|(s, a, mu)| {
            (0..x.len())
                .filter(|&m| x[m].sex == s && x[m].group == a && municipal[m][0] == mu)
                .collect()
        })
        .collect();
    let base = logit(model.benefit_total);
    let mut shift_country = [0, 1].map(|c| logit(model.benefit_country[c]) - base);
    let mut shift_lss = [0, 1, 2, 3].map(|g| logit(model.benefit_lss[g]) - base);
    let mut benefit = Vec::new();
    for iteration in 0..=RAKING_ITERATIONS {
        benefit = vec![false; x.len()];
        for cell in cells.iter().filter(|c| !c.is_empty()) {
            let x0 = x[cell[0]];
            let p = model.benefit[x0.sex][x0.group][usize::from(municipal[cell[0]][0])];
            let keys: Vec<f64> = cell
                .iter()
                .map(|&m| shift_country[x[m].country] + shift_lss[x[m].lss] + noise[m][2])
                .collect();
            for (j, chosen) in top_k(&keys, round_count(p, cell.len()))
                .into_iter()
                .enumerate()
            {
                benefit[cell[j]] = chosen;
            }
        }
        if iteration == RAKING_ITERATIONS {
            break;
        }
        let achieved = |f: &dyn Fn(&Anchor) -> bool| {
            let (mut yes, mut n) = (0.0, 0.0);
            for m in 0..x.len() {
                if f(&x[m]) {
                    n += 1.0;
                    yes += f64::from(u8::from(benefit[m]));
                }
            }
            (yes + 0.5) / (n + 1.0)
        };
        for c in 0..2 {
            shift_country[c] +=
                logit(model.benefit_country[c]) - logit(achieved(&|a| a.country == c));
        }
        for g in 0..4 {
            shift_lss[g] += logit(model.benefit_lss[g]) - logit(achieved(&|a| a.lss == g));
        }
    }
    for (m, &i) in members.iter().enumerate() {
        cores[i] = Some(Core {
            municipal: municipal[m],
            benefit_before: benefit[m],
            ..Core::default()
        });
    }

    // Which law, per sex × age group × outcome × period, among those with municipal support:
    // the persons most prone to LSS get LSS, the least prone SoL, those in between both.
    let lss_key: Vec<f64> = anchors
        .iter()
        .map(|x| LSS_PROPENSITY[x.lss] + logistic(&mut rng))
        .collect();
    for (sex, group, outcome, period) in cells4() {
        let cell: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| {
                let x = &anchors[i];
                x.sex == sex
                    && x.group == group
                    && x.outcome == outcome
                    && cores[i].is_some_and(|c| c.municipal[period])
            })
            .collect();
        let n = cell.len();
        if n == 0 {
            continue;
        }
        let (pl, ps) = model.law[sex][group][period][outcome];
        let k_lss = round_count(pl, n);
        let k_sol = round_count(ps, n).clamp(n - k_lss, n);
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| {
            lss_key[cell[b]]
                .total_cmp(&lss_key[cell[a]])
                .then(a.cmp(&b))
        });
        for (rank, &j) in order.iter().enumerate() {
            if let Some(core) = cores[cell[j]].as_mut() {
                core.law[period] = (rank < k_lss, rank >= n - k_sol);
            }
        }
    }
    for &i in &members {
        if let Some(core) = cores[i].as_mut() {
            core.hsl_before = chance(
                &mut rng,
                cal::HSL_BEFORE_SHARE[anchors[i].sex][usize::from(anchors[i].group >= 3)],
            );
        }
    }
}

/// Iterations of the raking of the birth-country and LSS-group shifts.
const RAKING_ITERATIONS: usize = 40;

/// The number of persons of a cell of `n` with a property of probability `p`, rounded to the
/// nearest integer (the smallest error for the cell's share).
fn round_count(p: f64, n: usize) -> usize {
    ((p * n as f64).round() as usize).min(n)
}

/// All (sex, age group, outcome, period) cells.
fn cells4() -> impl Iterator<Item = (usize, usize, usize, usize)> {
    (0..2).flat_map(|s| {
        (0..7).flat_map(move |a| (0..2).flat_map(move |o| (0..2).map(move |p| (s, a, o, p))))
    })
}

/// Flags for the `k` largest keys (ties by position).
fn top_k(keys: &[f64], k: usize) -> Vec<bool> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| keys[b].total_cmp(&keys[a]).then(a.cmp(&b)));
    let mut flags = vec![false; keys.len()];
    for &j in order.iter().take(k) {
        flags[j] = true;
    }
    flags
}

/// One step of a persistent yearly process: `(P(on | on), P(on | off))`.
fn step<R: Rng + ?Sized>(rng: &mut R, on: bool, transition: (f64, f64)) -> bool {
    chance(rng, if on { transition.0 } else { transition.1 })
}

/// Fill the years 2015–2024 from the anchor years D−1 and D+1.
fn chain_years<R: Rng + ?Sized>(
    rng: &mut R,
    d: i32,
    before: bool,
    after: bool,
    transition: (f64, f64),
) -> [bool; PLAN_YEARS] {
    let first = PLAN_FIRST_YEAR.min(d - 1);
    let last = (PLAN_FIRST_YEAR + PLAN_YEARS as i32 - 1).max(d + 1);
    let mut on = vec![false; (last - first + 1) as usize];
    let at = |y: i32| (y - first) as usize;
    on[at(d - 1)] = before;
    on[at(d + 1)] = after;
    on[at(d)] = if before == after {
        if chance(rng, 0.95) {
            before
        } else {
            !before
        }
    } else {
        chance(rng, 0.5)
    };
    for y in (first..d - 1).rev() {
        on[at(y)] = step(rng, on[at(y + 1)], transition);
    }
    for y in d + 2..=last {
        on[at(y)] = step(rng, on[at(y - 1)], transition);
    }
    let mut out = [false; PLAN_YEARS];
    for (i, o) in out.iter_mut().enumerate() {
        *o = on[at(PLAN_FIRST_YEAR + i as i32)];
    }
    out
}

/// An applicant's plan from their anchor-year support.
fn chain_plan(
    rng: &mut ChaCha8Rng,
    model: &Model,
    x: &Anchor,
    core: &Core,
    birth_year: i32,
) -> SupportPlan {
    let d = x.year;
    let mut plan = SupportPlan {
        benefit_level: rng.random_range(0..60),
        ..SupportPlan::default()
    };

    // Municipal support.
    let on = chain_years(
        rng,
        d,
        core.municipal[0],
        core.municipal[1],
        cal::MUNICIPAL_YEAR_TRANSITION,
    );
    let mut sets: [Option<u32>; 2] = [None, None];
    for (p, set) in sets.iter_mut().enumerate() {
        if core.municipal[p] {
            *set = Some(model.draw_set(rng, x.group, p, x.outcome, core.law[p]));
        }
    }
    // Sets of years far from the decision, by the age group reached then.
    let mut far: [[Option<u32>; 7]; 2] = [[None; 7]; 2];
    for i in 0..PLAN_YEARS {
        if !on[i] {
            continue;
        }
        let y = PLAN_FIRST_YEAR + i as i32;
        let p = usize::from(y > d);
        plan.municipal[i] = if (y - d).abs() <= 2 {
            *sets[p].get_or_insert_with(|| {
                let law = model.draw_law(rng, x.sex, x.group, p, x.outcome);
                model.draw_set(rng, x.group, p, x.outcome, law)
            })
        } else {
            let g = cal::age_group(y - birth_year);
            *far[p][g].get_or_insert_with(|| {
                let law = model.draw_law(rng, x.sex, g, p, x.outcome);
                model.draw_set(rng, g, p, x.outcome, law)
            })
        };
    }

    // HSL.
    let adult = usize::from(x.group >= 3);
    let transition = cal::HSL_YEAR_TRANSITION[adult];
    let hsl_during = step(rng, core.hsl_before, transition);
    let hsl_after = step(rng, hsl_during, transition);
    let hsl_on = chain_years(rng, d, core.hsl_before, hsl_after, transition);
    let hsl_set = draw_hsl_set(rng);
    for i in 0..PLAN_YEARS {
        if hsl_on[i] {
            plan.hsl[i] = hsl_set;
        }
    }

    // Social insurance.
    let t = cal::BENEFIT_YEAR_TRANSITION;
    let benefit_during = step(rng, core.benefit_before, t);
    let benefit_after = step(rng, benefit_during, t);
    plan.benefit = chain_years(rng, d, core.benefit_before, benefit_after, t);
    plan.child_merkostnad = chance(rng, cal::CHILD_MERKOSTNAD_SHARE);
    plan
}

/// A set of HSL interventions (at least one).
fn draw_hsl_set<R: Rng + ?Sized>(rng: &mut R) -> u8 {
    let mut mask = 0u8;
    for (i, p) in cal::HSL_MIX.iter().enumerate() {
        if chance(rng, *p) {
            mask |= 1 << i;
        }
    }
    if mask == 0 {
        mask = 1 << 1;
    }
    mask
}

// ---------------------------------------------------------------------------------------------
// General population
// ---------------------------------------------------------------------------------------------

/// Linear interpolation of the elderly-care table at `age`: (home help, special housing).
fn elderly_care(age: i32) -> (f64, f64) {
    let t = &cal::ELDERLY_CARE;
    if age < t[0].0 {
        return (0.0, 0.0);
    }
    for w in t.windows(2) {
        if age < w[1].0 {
            let f = (age - w[0].0) as f64 / (w[1].0 - w[0].0) as f64;
            return (
                w[0].1 + f * (w[1].1 - w[0].1),
                w[0].2 + f * (w[1].2 - w[0].2),
            );
        }
    }
    let last = t[t.len() - 1];
    (last.1, last.2)
}

/// Support of a person of the general population at national rates (see the module
/// documentation). Draws from the person's own stream.
pub fn plan_general<R: Rng + ?Sized>(rng: &mut R, life: &Life) -> SupportPlan {
    let birth_year = life.birth_year();
    let mut plan = SupportPlan::default();
    let frailty: f64 = rng.random();
    let lss: f64 = rng.random();
    let sol: f64 = rng.random();
    let child_benefit: f64 = rng.random();
    let adult_benefit: f64 = rng.random();
    let hsl_young: f64 = rng.random();

    let has_lss = lss < cal::LSS_LIFETIME_SHARE;
    let mut lss_onset = i32::MAX;
    let mut lss_profile = [0u32; 2];
    if has_lss {
        let u: f64 = rng.random();
        let mut from = 0;
        for &(to, cum) in &cal::LSS_ONSET_AGE {
            if u < cum {
                lss_onset = rng.random_range(from..=to);
                break;
            }
            from = to + 1;
        }
        for (phase, profile) in lss_profile.iter_mut().enumerate() {
            for (i, p) in cal::LSS_MIX[phase].iter().enumerate() {
                if chance(rng, *p) {
                    *profile |= 1 << i;
                }
            }
        }
    }
    let has_sol = sol < cal::SOL_DISABILITY_SHARE;
    let sol_onset = if has_sol {
        rng.random_range(10..=60)
    } else {
        i32::MAX
    };
    let mut sol_profile = [0u32; 2];
    if has_sol {
        for (phase, mix) in [&cal::SOL_MIX_CHILD, &cal::SOL_MIX_ADULT]
            .into_iter()
            .enumerate()
        {
            for (i, p) in mix.iter().enumerate() {
                if chance(rng, *p) {
                    sol_profile[phase] |= 1 << (N_LSS + i);
                }
            }
        }
    }
    let hsl_young_onset = if hsl_young < cal::YOUNG_ADULT_HSL_SHARE {
        rng.random_range(18..=64)
    } else {
        i32::MAX
    };
    let hsl_set = draw_hsl_set(rng);
    let lss_i = usize::from(has_lss);
    let child_onset = if child_benefit < cal::CHILD_BENEFIT_SHARE[lss_i] {
        rng.random_range(1..=12)
    } else {
        i32::MAX
    };
    let adult_onset = if adult_benefit < cal::ADULT_BENEFIT_SHARE[lss_i] {
        rng.random_range(19..=64)
    } else {
        i32::MAX
    };
    plan.benefit_level = rng.random_range(0..60);
    plan.child_merkostnad = chance(rng, cal::CHILD_MERKOSTNAD_SHARE);

    for i in 0..PLAN_YEARS {
        let age = PLAN_FIRST_YEAR + i as i32 - birth_year;
        if age < 0 {
            continue;
        }
        let mut mask = 0u32;
        // Elderly care: a fixed frailty against age-rising prevalences nests the states.
        let (home_help, housing) = elderly_care(age);
        let (_, next_housing) = elderly_care(age + 1);
        if frailty < housing {
            mask |= 1 << ivx::SARSKILT_BOENDE;
        } else if frailty < housing + home_help {
            mask |= 1 << ivx::HEMTJANST;
            if frailty < next_housing {
                mask |= 1 << ivx::KORTTIDSBOENDE;
            }
            if frailty < housing + 0.15 * home_help && age >= 70 {
                mask |= 1 << ivx::DAGVERKSAMHET;
            }
        }
        if frailty >= housing && frailty < (housing + home_help) * cal::ALARM_FACTOR {
            mask |= 1 << ivx::ANNAN_SOL;
        }
        let elderly_hsl = frailty < (housing + home_help) * cal::ELDERLY_HSL_FACTOR;
        // LSS from the onset age, by the phase of life.
        if has_lss && age >= lss_onset {
            let adult = age >= 18;
            let mut m = lss_profile[usize::from(adult)];
            if !adult && age < 12 {
                m &= !(1 << ivx::KORTTIDSTILLSYN);
            }
            if adult {
                if age >= 66 {
                    m &= !(1 << ivx::DAGLIG_VERKSAMHET);
                }
                if age <= 20 && lss_profile[0] & (1 << ivx::KORTTIDSTILLSYN) != 0 {
                    m |= 1 << ivx::KORTTIDSTILLSYN;
                }
            }
            if m == 0 {
                m = 1
                    << match (adult, age) {
                        (false, _) => ivx::KORTTIDSVISTELSE,
                        (true, a) if a < 66 => ivx::DAGLIG_VERKSAMHET,
                        _ => ivx::BOSTAD_VUXNA,
                    };
            }
            mask |= m;
        }
        if has_sol && age >= sol_onset && age < 65 {
            let m = sol_profile[usize::from(age >= 18)];
            mask |= if m == 0 { 1 << ivx::BOENDESTOD } else { m };
        }
        plan.municipal[i] = mask;
        if elderly_hsl || age >= hsl_young_onset {
            plan.hsl[i] = hsl_set;
        }
        plan.benefit[i] = (age >= child_onset && age <= 19) || age >= adult_onset;
    }
    plan
}

// ---------------------------------------------------------------------------------------------
// Months
// ---------------------------------------------------------------------------------------------

/// Months of a year (bit `m − 1`) in which an intervention or benefit runs, given whether it ran
/// the year before and runs the year after: ongoing support fills the year; support that starts
/// or ends does so in a random month; sporadic interventions take one to three months.
fn month_run<R: Rng + ?Sized>(rng: &mut R, prev: bool, next: bool, sporadic: bool) -> u16 {
    if sporadic {
        let mut mask = 0u16;
        for _ in 0..rng.random_range(1..=3) {
            mask |= 1 << rng.random_range(0..12);
        }
        return mask;
    }
    let all = 0x0FFFu16;
    match (prev, next) {
        (true, true) => all,
        (true, false) => {
            let end = rng.random_range(1..=12);
            all >> (12 - end)
        }
        (false, true) => {
            let start = rng.random_range(0..12);
            (all << start) & all
        }
        (false, false) => {
            let start = rng.random_range(0..12);
            let len = rng.random_range(1..=12 - start);
            ((1u16 << len) - 1) << start
        }
    }
}

/// Restrict `run` to the active months; if that leaves nothing although the person was active in
/// the year, keep the active month nearest to the start of the run (support in a year means at
/// least one month).
fn within_active(run: u16, active: u16) -> u16 {
    let kept = run & active;
    if kept != 0 || active == 0 || run == 0 {
        return kept;
    }
    let start = run.trailing_zeros() as i32;
    let mut best = 0u16;
    let mut best_dist = i32::MAX;
    for m in 0..12 {
        if active & (1 << m) != 0 && (m - start).abs() < best_dist {
            best_dist = (m - start).abs();
            best = 1 << m;
        }
    }
    best
}

/// Write a person's interventions and benefit payments for 2016–2023.
///
/// `parent` is the recipient of child benefits.
pub fn emit<R: Rng + ?Sized>(
    rng: &mut R,
    life: &Life,
    plan: &SupportPlan,
    parent: Option<Txt>,
    interventions: &mut Vec<InterventionRow>,
    benefits: &mut Vec<BenefitRow>,
) {
    let pnr = life.pnr_txt();
    let municipality = Txt::new(life.municipality);
    let mut active = [0u16; PLAN_YEARS];
    let any_support =
        (0..PLAN_YEARS).any(|i| plan.municipal[i] != 0 || plan.hsl[i] != 0 || plan.benefit[i]);
    if !any_support {
        return;
    }
    for (i, a) in active.iter_mut().enumerate() {
        *a = life.active_months(PLAN_FIRST_YEAR + i as i32);
    }
    let years = 1..PLAN_YEARS - 1;

    // Municipal interventions, SoL / LSS then HSL, each month by month.
    let mut emit_bit =
        |law: &str, code: &str, sporadic: bool, on: &dyn Fn(usize) -> bool, rng: &mut R| {
            let (law, code) = (Txt::new(law), Txt::new(code));
            for i in years.clone() {
                if !on(i) {
                    continue;
                }
                let run = month_run(rng, on(i - 1), on(i + 1), sporadic);
                let months = within_active(run, active[i]);
                for m in 0..12 {
                    if months & (1 << m) != 0 {
                        interventions.push(InterventionRow {
                            personnummer: pnr,
                            law,
                            intervention: code,
                            municipality,
                            month: Txt::month(PLAN_FIRST_YEAR + i as i32, m + 1),
                        });
                    }
                }
            }
        };
    for (b, (law, code)) in MUNICIPAL_INTERVENTIONS.iter().enumerate() {
        if plan.municipal.iter().any(|m| m & (1 << b) != 0) {
            emit_bit(
                law,
                code,
                false,
                &|i| plan.municipal[i] & (1 << b) != 0,
                rng,
            );
        }
    }
    for (b, (code, sporadic)) in HSL_INTERVENTIONS.iter().enumerate() {
        if plan.hsl.iter().any(|m| m & (1 << b) != 0) {
            emit_bit(
                "HSL",
                code,
                *sporadic,
                &|i| plan.hsl[i] & (1 << b) != 0,
                rng,
            );
        }
    }

    // Benefits: a child's until June of the year they turn 19, paid to a parent; an adult's
    // from July of that year. The old benefits go on for spells that began before 2019, until
    // they are replaced.
    if !plan.benefit.iter().any(|&b| b) {
        return;
    }
    let birth_year = life.birth_year();
    let adult_from = (birth_year + 19) * 12 + 6; // month index (year·12 + month − 1) of July
    let conv_child = rng.random_range(cal::CONVERSION_CHILD.0..=cal::CONVERSION_CHILD.1);
    let conv_adult = rng.random_range(cal::CONVERSION_ADULT.0..=cal::CONVERSION_ADULT.1);
    let mut child_rows = Vec::new();
    let mut spell_start = if plan.benefit[0] {
        PLAN_FIRST_YEAR - 1
    } else {
        i32::MAX
    };
    for i in 0..PLAN_YEARS - 1 {
        let year = PLAN_FIRST_YEAR + i as i32;
        if !plan.benefit[i] {
            spell_start = i32::MAX;
            continue;
        }
        if i == 0 || !plan.benefit[i - 1] {
            spell_start = spell_start.min(year);
        }
        if i == 0 {
            continue;
        }
        let run = month_run(rng, plan.benefit[i - 1], plan.benefit[i + 1], false);
        let months = within_active(run, active[i]);
        let pbb = cal::PRISBASBELOPP[(year - cal::SUPPORT_FIRST_YEAR) as usize] as f64;
        for m in 0..12 {
            if months & (1 << m) == 0 {
                continue;
            }
            let idx = year * 12 + m;
            let month = Txt::month(year, m as u32 + 1);
            let (benefit, recipient, fraction) = if idx < adult_from {
                let old = spell_start < 2019 && idx < conv_child;
                let level =
                    cal::LEVELS_CHILD[plan.benefit_level as usize % cal::LEVELS_CHILD.len()];
                (
                    if old {
                        "VARDBIDRAG"
                    } else {
                        "OMVARDNADSBIDRAG"
                    },
                    parent.unwrap_or(pnr),
                    level,
                )
            } else {
                let adult_start = spell_start.max(birth_year + 19);
                if adult_start < 2019 && idx < conv_adult {
                    (
                        "HANDIKAPPERSATTNING",
                        pnr,
                        cal::LEVELS_HANDIKAPP[plan.benefit_level as usize % 3],
                    )
                } else {
                    (
                        "MERKOSTNADSERSATTNING",
                        pnr,
                        cal::LEVELS_MERKOSTNAD[plan.benefit_level as usize % 5],
                    )
                }
            };
            benefits.push(BenefitRow {
                personnummer: pnr,
                recipient_personnummer: recipient,
                benefit: Txt::new(benefit),
                month,
                amount_sek: ((fraction * pbb / 12.0).round() as i64).max(1),
            });
            if idx < adult_from && year >= 2019 && plan.child_merkostnad {
                child_rows.push(BenefitRow {
                    personnummer: pnr,
                    recipient_personnummer: parent.unwrap_or(pnr),
                    benefit: Txt::new("MERKOSTNADSERSATTNING"),
                    month,
                    amount_sek: ((cal::LEVELS_MERKOSTNAD[0] * pbb / 12.0).round() as i64).max(1),
                });
            }
        }
    }
    benefits.extend(child_rows);
}
