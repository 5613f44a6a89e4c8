//! Disclosure control (SPEC §6), applied to every released table.
//!
//! Implemented here: primary suppression of counts and denominators (1..=threshold persons;
//! 0 is released), and the share rule (a share only with a denominator of at least
//! `min_share_denominator`; a share whose count or denominator is hidden is hidden too).
//! Each row records the rule that hid something. Release-wide secondary suppression (the
//! GaussSuppression approach) is the next step; until it lands, a release is protected by the
//! primary and share rules only, and says so in its manifest.

use serde::Serialize;

use crate::stats::Table;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    Primary,
    Secondary,
    ShareDenominator,
}

impl Rule {
    pub fn code(self) -> &'static str {
        match self {
            Rule::Primary => "primary",
            Rule::Secondary => "secondary",
            Rule::ShareDenominator => "share_denominator",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// Counts of 1..=threshold persons are suppressed.
    pub threshold: i64,
    pub min_share_denominator: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { threshold: 2, min_share_denominator: 50 }
    }
}

/// A released row: `None` = suppressed.
#[derive(Debug, Clone, PartialEq)]
pub struct Released {
    pub values: Vec<String>,
    pub n: Option<i64>,
    pub denominator: Option<i64>,
    pub share_pct: Option<f64>,
    pub suppressed: Option<Rule>,
}

/// Apply the rules to a computed table.
pub fn protect(table: &Table, policy: Policy) -> Vec<Released> {
    let small = |v: i64| v >= 1 && v <= policy.threshold;
    table
        .rows
        .iter()
        .map(|r| {
            let n_hidden = small(r.n);
            let d_hidden = r.denominator.is_some_and(small);
            let share = r.share_pct();
            let share_ok = !n_hidden && !d_hidden && r.denominator.is_some_and(|d| d >= policy.min_share_denominator);
            let suppressed = if n_hidden || d_hidden {
                Some(Rule::Primary)
            } else if share.is_some() && !share_ok {
                Some(Rule::ShareDenominator)
            } else {
                None
            };
            Released {
                values: r.values.clone(),
                n: (!n_hidden).then_some(r.n),
                denominator: if d_hidden { None } else { r.denominator },
                share_pct: if share_ok { share } else { None },
                suppressed,
            }
        })
        .collect()
}
