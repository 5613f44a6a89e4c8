//! Logistic regression of the probability of refusal (SPEC-DECISIONS §5b.3): maximum likelihood
//! by Newton–Raphson (IRLS) on categorical main effects plus an intercept, in float64 with
//! `nalgebra` (Cholesky of the observed information), deterministic. Odds ratios with Wald 95 %
//! confidence intervals from the model-based standard errors, and the release rule (a)–(c).

use nalgebra::{DMatrix, DVector};

/// z for a two-sided 95 % Wald interval.
pub const Z95: f64 = 1.959964;
/// Convergence: every coefficient moved less than this in the last step.
pub const TOLERANCE: f64 = 1e-10;
pub const MAX_ITERATIONS: usize = 50;
/// A coefficient this large (odds ratio e^20) means the likelihood has no finite maximum
/// (complete or quasi-separation).
const SEPARATION_BETA: f64 = 20.0;

/// A categorical covariate: its reference level first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Covariate {
    pub name: String,
    pub levels: Vec<String>,
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// Intercept first, then one coefficient per non-reference level, covariate by covariate.
    pub beta: Vec<f64>,
    pub se: Vec<f64>,
    pub iterations: usize,
}

/// Why a model has no estimate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FitError {
    NoConvergence,
    /// Complete or quasi-separation (a coefficient runs off, or fitted probabilities reach 0/1).
    Separation,
    /// The information matrix is singular (a level without observations, collinear levels).
    Singular,
}

impl FitError {
    pub fn code(&self) -> &'static str {
        match self {
            FitError::NoConvergence => "no_convergence",
            FitError::Separation => "separation",
            FitError::Singular => "singular",
        }
    }
}

/// The design matrix: intercept, then a 0/1 column per non-reference level. `rows[i][j]` is the
/// level index of covariate `j` for observation `i`.
pub fn design(covariates: &[Covariate], rows: &[Vec<usize>]) -> DMatrix<f64> {
    let k = 1 + covariates.iter().map(|c| c.levels.len() - 1).sum::<usize>();
    let mut x = DMatrix::<f64>::zeros(rows.len(), k);
    for (i, r) in rows.iter().enumerate() {
        x[(i, 0)] = 1.0;
        let mut col = 1;
        for (j, c) in covariates.iter().enumerate() {
            if r[j] > 0 {
                x[(i, col + r[j] - 1)] = 1.0;
            }
            col += c.levels.len() - 1;
        }
    }
    x
}

fn sigmoid(t: f64) -> f64 {
    if t >= 0.0 {
        1.0 / (1.0 + (-t).exp())
    } else {
        let e = t.exp();
        e / (1.0 + e)
    }
}

/// Maximum likelihood for y ∈ {0, 1} on `x` by Newton–Raphson: β ← β + (XᵀWX)⁻¹Xᵀ(y − p), from
/// β = 0, until max|Δβ| < [`TOLERANCE`]; SE = √diag((XᵀWX)⁻¹) at the maximum.
pub fn logistic(x: &DMatrix<f64>, y: &[f64]) -> Result<Fit, FitError> {
    let (n, k) = x.shape();
    let y = DVector::from_column_slice(y);
    let mut beta = DVector::<f64>::zeros(k);
    let information = |beta: &DVector<f64>| -> (DMatrix<f64>, DVector<f64>) {
        let p = (x * beta).map(sigmoid);
        let w = p.map(|p| p * (1.0 - p));
        let mut xw = x.clone();
        for i in 0..n {
            xw.row_mut(i).scale_mut(w[i]);
        }
        (x.transpose() * xw, x.transpose() * (&y - p))
    };
    for iteration in 1..=MAX_ITERATIONS {
        let (h, g) = information(&beta);
        let chol = h.cholesky().ok_or(FitError::Singular)?;
        let delta = chol.solve(&g);
        beta += &delta;
        if beta.iter().any(|b| !b.is_finite() || b.abs() > SEPARATION_BETA) {
            return Err(FitError::Separation);
        }
        if delta.amax() < TOLERANCE {
            let (h, _) = information(&beta);
            let p = (x * &beta).map(sigmoid);
            if p.iter().any(|p| *p < 1e-12 || *p > 1.0 - 1e-12) {
                return Err(FitError::Separation);
            }
            let inv = h.cholesky().ok_or(FitError::Singular)?.inverse();
            let se = (0..k).map(|j| inv[(j, j)].sqrt()).collect();
            return Ok(Fit { beta: beta.iter().copied().collect(), se, iterations: iteration });
        }
    }
    Err(FitError::NoConvergence)
}

/// One row of the published model table.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub variable: String,
    pub level: String,
    pub is_reference: bool,
    pub log_odds: Option<f64>,
    pub se: Option<f64>,
    pub odds_ratio: f64,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub significant: Option<bool>,
}

/// The odds ratios of a fit, covariate by covariate (reference rows: OR = 1, no SE or CI), with
/// Wald 95 % intervals exp(β ± 1.959964·SE); significant = the interval excludes 1.
pub fn estimates(covariates: &[Covariate], fit: &Fit) -> Vec<Estimate> {
    let mut out = Vec::new();
    let mut col = 1;
    for c in covariates {
        for (l, level) in c.levels.iter().enumerate() {
            if l == 0 {
                out.push(Estimate {
                    variable: c.name.clone(),
                    level: level.clone(),
                    is_reference: true,
                    log_odds: None,
                    se: None,
                    odds_ratio: 1.0,
                    ci_low: None,
                    ci_high: None,
                    significant: None,
                });
                continue;
            }
            let (b, se) = (fit.beta[col], fit.se[col]);
            let (lo, hi) = ((b - Z95 * se).exp(), (b + Z95 * se).exp());
            out.push(Estimate {
                variable: c.name.clone(),
                level: level.clone(),
                is_reference: false,
                log_odds: Some(b),
                se: Some(se),
                odds_ratio: b.exp(),
                ci_low: Some(lo),
                ci_high: Some(hi),
                significant: Some(lo > 1.0 || hi < 1.0),
            });
            col += 1;
        }
    }
    out
}

/// The release rule of §5b.3 apart from convergence: every level (reference included) has at
/// least `min_per_outcome` decisions of each outcome, and the model has at least `min_n`
/// decisions. Returns why not, if not.
pub fn release_check(covariates: &[Covariate], rows: &[Vec<usize>], y: &[f64], min_per_outcome: usize, min_n: usize) -> Option<String> {
    if rows.len() < min_n {
        return Some(format!("fewer than {min_n} decisions"));
    }
    for (j, c) in covariates.iter().enumerate() {
        for (l, level) in c.levels.iter().enumerate() {
            for outcome in [0.0, 1.0] {
                let count = rows.iter().zip(y).filter(|(r, v)| r[j] == l && **v == outcome).count();
                if count < min_per_outcome {
                    return Some(format!("{} {level}: fewer than {min_per_outcome} decisions with one outcome", c.name));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cov(name: &str, levels: &[&str]) -> Covariate {
        Covariate { name: name.into(), levels: levels.iter().map(|s| s.to_string()).collect() }
    }

    /// One binary covariate: the maximum-likelihood odds ratio is the cross-product ratio and its
    /// SE is Woolf's √(1/a + 1/b + 1/c + 1/d), exactly.
    #[test]
    fn a_two_by_two_table_gives_the_cross_product_ratio_and_woolfs_se() {
        let (a, b, c, d) = (30usize, 20usize, 10usize, 40usize); // level 1: a refused, b granted; reference: c, d
        let mut rows = Vec::new();
        let mut y = Vec::new();
        for (level, refused, granted) in [(1usize, a, b), (0, c, d)] {
            rows.extend(std::iter::repeat_n(vec![level], refused + granted));
            y.extend(std::iter::repeat_n(1.0, refused).chain(std::iter::repeat_n(0.0, granted)));
        }
        let covs = [cov("x", &["ref", "one"])];
        let fit = logistic(&design(&covs, &rows), &y).expect("converges");
        let or = (a as f64 * d as f64) / (b as f64 * c as f64);
        assert!((fit.beta[1] - or.ln()).abs() < 1e-9, "{fit:?}");
        assert!((fit.beta[0] - (c as f64 / d as f64).ln()).abs() < 1e-9);
        let woolf = (1.0 / a as f64 + 1.0 / b as f64 + 1.0 / c as f64 + 1.0 / d as f64).sqrt();
        assert!((fit.se[1] - woolf).abs() < 1e-9);
        let e = estimates(&covs, &fit);
        assert!(e[0].is_reference && e[0].odds_ratio == 1.0 && e[0].se.is_none());
        assert!((e[1].odds_ratio - 6.0).abs() < 1e-9 && e[1].significant == Some(true));
        assert!((e[1].ci_low.expect("ci") - (6f64.ln() - Z95 * woolf).exp()).abs() < 1e-9);
    }

    #[test]
    fn separation_and_empty_levels_are_refused() {
        let covs = [cov("x", &["ref", "one"])];
        // every level-1 decision refused, every reference decision granted
        let rows: Vec<Vec<usize>> = (0..20).map(|i| vec![usize::from(i < 10)]).collect();
        let y: Vec<f64> = (0..20).map(|i| if i < 10 { 1.0 } else { 0.0 }).collect();
        assert_eq!(logistic(&design(&covs, &rows), &y), Err(FitError::Separation));
        // a level nobody has: singular information
        let covs = [cov("x", &["ref", "one", "none"])];
        let rows: Vec<Vec<usize>> = (0..20).map(|i| vec![usize::from(i % 2 == 0)]).collect();
        let y: Vec<f64> = (0..20).map(|i| f64::from(u8::from(i % 3 == 0))).collect();
        assert_eq!(logistic(&design(&covs, &rows), &y), Err(FitError::Singular));
        assert!(release_check(&covs, &rows, &y, 1, 10).is_some());
    }
}

/// A model of §5b.3 as fitted on a delivery, before its counts are released.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub name: &'static str,
    pub n_decisions: usize,
    pub n_avslag: usize,
    /// The estimates, or why the model is withheld (rule (a)–(c) of §5b.3).
    pub result: Result<Vec<Estimate>, String>,
}

/// The covariates of a model, reference level first (§5b.3).
pub fn covariates(model: &str) -> Vec<Covariate> {
    let c = |name: &str, levels: &[&str]| Covariate { name: name.into(), levels: levels.iter().map(|s| s.to_string()).collect() };
    if model == "BARN" {
        vec![
            c("sex_age", &["POJKAR", "FLICKOR"]),
            c("birth_country", &["INRIKES", "UTRIKES"]),
            c("age_group", &["0-6", "7-11", "12-17"]),
            c("lss_group", &["1", "3"]),
        ]
    } else {
        vec![
            c("sex_age", &["MAN", "KVINNOR"]),
            c("birth_country", &["INRIKES", "UTRIKES"]),
            c("age_group", &["18-29", "30-49", "50-64", "65+"]),
            c("lss_group", &["1", "2", "3"]),
        ]
    }
}

/// Decisions of a model with each at least this many decisions of each outcome per level.
pub const MIN_PER_OUTCOME: usize = 10;
/// "minst 50 observationer" (report, L338–339).
pub const MIN_DECISIONS: usize = 50;

/// Fit both models on a delivery (none when the delivery was not linked for the decision
/// statistics).
pub async fn fit_models(engine: &crate::engine::Engine) -> crate::Result<Vec<Model>> {
    use arrow::array::{Array, StringArray};
    if !engine.covers(&crate::decisions::REFUSAL_REGRESSION) {
        return Ok(Vec::new());
    }
    let y = engine.years();
    let batches = engine.sql(&crate::decisions::regression_rows_sql(y.from, y.to)).await?;
    let mut data: std::collections::BTreeMap<&'static str, (Vec<Vec<usize>>, Vec<f64>)> = Default::default();
    let covs: Vec<(&'static str, Vec<Covariate>)> = ["BARN", "VUXNA"].into_iter().map(|m| (m, covariates(m))).collect();
    for b in &batches {
        let text = |name: &str| -> crate::Result<StringArray> {
            let c = b.column_by_name(name).ok_or_else(|| crate::Error::BadRequest(format!("regression rows lack {name}")))?;
            let c = arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8)?;
            Ok(c.as_any().downcast_ref::<StringArray>().cloned().unwrap_or_else(|| StringArray::from(Vec::<&str>::new())))
        };
        let (model, outcome, sex_age, country, age, group) =
            (text("model")?, text("outcome")?, text("sex")?, text("birth_country")?, text("age_group")?, text("lss_group")?);
        for i in 0..b.num_rows() {
            let Some((name, cv)) = covs.iter().find(|(m, _)| *m == model.value(i)) else { continue };
            // sex K is the second level (FLICKOR / KVINNOR)
            let values = [if sex_age.value(i) == "K" { cv[0].levels[1].as_str() } else { cv[0].levels[0].as_str() }, country.value(i), age.value(i), group.value(i)];
            let Some(levels) = cv.iter().zip(values).map(|(c, v)| c.levels.iter().position(|l| l == v)).collect::<Option<Vec<usize>>>() else {
                continue;
            };
            let entry = data.entry(name).or_default();
            entry.0.push(levels);
            entry.1.push(if outcome.value(i) == "AVSLAG" { 1.0 } else { 0.0 });
        }
    }
    let mut out = Vec::new();
    for (name, cv) in &covs {
        let (rows, ys) = data.remove(name).unwrap_or_default();
        let n_avslag = ys.iter().filter(|v| **v == 1.0).count();
        let result = match release_check(cv, &rows, &ys, MIN_PER_OUTCOME, MIN_DECISIONS) {
            Some(why) => Err(why),
            None => logistic(&design(cv, &rows), &ys).map(|fit| estimates(cv, &fit)).map_err(|e| e.code().to_string()),
        };
        out.push(Model { name, n_decisions: rows.len(), n_avslag, result });
    }
    Ok(out)
}

/// A model's published estimates with its released counts (decisions, refusals), or why it is
/// withheld.
pub type Published<'a> = Result<(&'a [Estimate], i64, i64), String>;

/// What may be published of each model: its estimates with its released counts (decisions,
/// refusals), or why it is withheld — a model is published only when its counts are published
/// in the protected release and it passes (a)–(c) of §5b.3.
pub fn published<'a>(models: &'a [Model], released: Option<&crate::output::ReleasedTable>) -> Vec<(&'a Model, Published<'a>)> {
    models
        .iter()
        .map(|m| {
            // The model's counts as released: n(AVSLAG) and the denominator (all its decisions).
            let counts = released.and_then(|t| {
                let r = t.rows.iter().find(|r| r.values.first().map(String::as_str) == Some(m.name) && r.values.last().map(String::as_str) == Some("AVSLAG"))?;
                Some((r.denominator?, r.n?))
            });
            let result = match (&m.result, counts) {
                (Ok(rows), Some((n, avslag))) => Ok((rows.as_slice(), n, avslag)),
                (Err(why), _) => Err(why.clone()),
                (Ok(_), None) => Err("its counts are suppressed".to_string()),
            };
            (m, result)
        })
        .collect()
}

/// The published estimates (`refusal_regression_estimates.csv`): a model's rows only when its
/// counts are published in the protected release and the model passes (a)–(c); otherwise one
/// row saying why it is withheld. Columns as SPEC-DECISIONS §5b.3.
pub fn estimates_csv(models: &[Model], released: Option<&crate::output::ReleasedTable>) -> String {
    let mut out = String::from("model,variable,level,is_reference,log_odds,se,odds_ratio,ci_low,ci_high,significant,n_decisions,n_avslag,suppressed\n");
    let num = |v: Option<f64>| v.map(|x| format!("{x}")).unwrap_or_default();
    for (m, result) in published(models, released) {
        match result {
            Ok((rows, n, avslag)) => {
                for e in rows {
                    out.push_str(&format!(
                        "{},{},{},{},{},{},{},{},{},{},{n},{avslag},\n",
                        m.name,
                        e.variable,
                        e.level,
                        e.is_reference,
                        num(e.log_odds),
                        num(e.se),
                        e.odds_ratio,
                        num(e.ci_low),
                        num(e.ci_high),
                        e.significant.map(|s| s.to_string()).unwrap_or_default(),
                    ));
                }
            }
            Err(why) => out.push_str(&format!("{},,,,,,,,,,,,withheld: {why}\n", m.name)),
        }
    }
    out
}
