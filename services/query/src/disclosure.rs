//! Disclosure control (SPEC §6), applied to a whole release at once.
//!
//! - **Primary suppression**: a count or denominator of 1..=`threshold` persons is hidden (0 is
//!   released).
//! - **Secondary suppression across the release**: every published number counts a set of
//!   units (cohort persons; decisions in `cohort_flow`), i.e. it is a sum over the finest
//!   cross-classification of the cohort. A hidden number is safe iff its indicator vector is
//!   outside the span of the published numbers' vectors (the approach of Statistics Norway's
//!   GaussSuppression). The same set of units published twice (the same cell in two tables, a
//!   denominator repeated on every row of its group) is one cell, decided once.
//!   The greedy: hide the primary cells; then take the other non-zero cells from the largest
//!   to the smallest and publish each unless publishing it would make a hidden cell derivable,
//!   in which case hide it too (rule `secondary`). So the cells hidden in addition are the
//!   small ones — "suppress further cells, smallest first". Zero cells (including the ones that
//!   are zero by definition) are always published: a zero adds nothing to the span.
//! - **Shares** only with a denominator of at least `min_share_denominator` and with both the
//!   count and the denominator published (a share with one of them would reveal the other).
//!
//! Linear algebra is exact modular arithmetic over the prime 2^61−1 on sparse vectors (ranks of
//! 0/1 matrices over Q and over a 61-bit prime field agree unless the prime divides a minor;
//! [`audit`] re-checks every release over another prime, 2^64−59, in another order).
//! Units that appear in exactly the same cells are merged into one coordinate first.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::stats::{Table, Units};

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

/// What the suppression did, for the manifest and the audit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Distinct published-or-hidden numbers (sets of units) in the release.
    pub cells: usize,
    pub zero_cells: usize,
    pub primary: usize,
    pub secondary: usize,
    /// Merged coordinates (groups of units in exactly the same cells) and the rank of the
    /// published cells' span.
    pub coordinates: usize,
    pub published_rank: usize,
}

/// The status of one distinct cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Published,
    Hidden(Rule),
}

/// The cells of a release: every distinct set of units any row publishes.
struct Cells {
    sets: Vec<Units>,
    /// Per table, per row: (cell of n, cell of the denominator).
    rows: Vec<Vec<(usize, Option<usize>)>>,
}

fn cells_of(tables: &[Table]) -> Cells {
    let mut index: HashMap<Units, usize> = HashMap::new();
    let mut sets: Vec<Units> = Vec::new();
    let mut intern = |u: &Units| -> usize {
        *index.entry(u.clone()).or_insert_with(|| {
            sets.push(u.clone());
            sets.len() - 1
        })
    };
    let rows = tables
        .iter()
        .map(|t| t.rows.iter().map(|r| (intern(&r.units), r.denominator_units.as_ref().map(&mut intern))).collect())
        .collect();
    Cells { sets, rows }
}

/// Units in exactly the same cells become one coordinate; returns each cell as sorted coordinates.
fn coordinates(sets: &[Units]) -> (Vec<Vec<u32>>, usize) {
    let max_unit = sets.iter().flat_map(|s| s.last().copied()).max().map_or(0, |m| m as usize + 1);
    let mut signature: Vec<Vec<u32>> = vec![Vec::new(); max_unit];
    for (c, s) in sets.iter().enumerate() {
        for &u in s.iter() {
            signature[u as usize].push(c as u32);
        }
    }
    let mut coord_of_signature: HashMap<&[u32], u32> = HashMap::new();
    let mut coord_of_unit = vec![u32::MAX; max_unit];
    for (u, sig) in signature.iter().enumerate() {
        if sig.is_empty() {
            continue;
        }
        let next = coord_of_signature.len() as u32;
        coord_of_unit[u] = *coord_of_signature.entry(sig.as_slice()).or_insert(next);
    }
    let k = coord_of_signature.len();
    let vectors = sets
        .iter()
        .map(|s| {
            let mut v: Vec<u32> = s.iter().map(|&u| coord_of_unit[u as usize]).collect();
            v.sort_unstable();
            v.dedup();
            v
        })
        .collect();
    (vectors, k)
}

/// Sparse vectors over a prime field.
mod field {
    pub type Vector = Vec<(u32, u64)>;

    /// `a · b` mod p for `a, b < p`. The two primes this module uses have cheap reductions
    /// (2^61 − 1 is a Mersenne prime, 2^64 ≡ 59 mod 2^64 − 59); any other p takes the division.
    pub fn mul(a: u64, b: u64, p: u64) -> u64 {
        let x = a as u128 * b as u128;
        match p {
            super::P1 => {
                let mut r = (x as u64 & super::P1) + (x >> 61) as u64;
                while r >= super::P1 {
                    r -= super::P1;
                }
                r
            }
            super::P2 => {
                let mut t = x;
                while t >> 64 != 0 {
                    t = (t >> 64) * 59 + (t & u64::MAX as u128);
                }
                let mut r = t as u64;
                if r >= super::P2 {
                    r -= super::P2;
                }
                r
            }
            _ => (x % p as u128) as u64,
        }
    }

    /// `a - b` mod p for `a, b < p` (no overflow even for p close to 2^64).
    pub fn sub(a: u64, b: u64, p: u64) -> u64 {
        if a >= b {
            a - b
        } else {
            p - (b - a)
        }
    }

    fn inv(a: u64, p: u64) -> u64 {
        let (mut base, mut e, mut acc) = (a % p, p - 2, 1u64);
        while e > 0 {
            if e & 1 == 1 {
                acc = mul(acc, base, p);
            }
            base = mul(base, base, p);
            e >>= 1;
        }
        acc
    }

    pub fn ones(coords: &[u32]) -> Vector {
        coords.iter().map(|&c| (c, 1)).collect()
    }

    /// Scale so that the first coefficient is 1 (a canonical representative of the line).
    pub fn normalize(v: &mut Vector, p: u64) {
        if let Some(&(_, lead)) = v.first() {
            if lead != 1 {
                let f = inv(lead, p);
                for (_, x) in v.iter_mut() {
                    *x = mul(*x, f, p);
                }
            }
        }
    }

    /// An echelon basis: each vector is stored under its first coordinate (its pivot, coefficient
    /// 1); every other coordinate of a basis vector is larger than its pivot and not a pivot
    /// when it was inserted.
    pub struct Basis {
        rows: Vec<Option<Vector>>,
        rank: usize,
        /// Dense scratch vector of the coordinate space (all zero between calls).
        work: Vec<u64>,
    }

    impl Basis {
        /// An empty basis of a space with `dim` coordinates.
        pub fn new(dim: usize) -> Self {
            Basis { rows: vec![None; dim], rank: 0, work: vec![0; dim] }
        }

        pub fn rank(&self) -> usize {
            self.rank
        }

        /// `v` minus its projection on the span: empty iff `v` is in the span. Works on a
        /// dense scratch vector, so fill-in costs nothing to look up.
        pub fn reduce(&mut self, v: &Vector, p: u64) -> Vector {
            let Some(&(first, _)) = v.first() else { return Vec::new() };
            let mut last = first as usize;
            for &(c, x) in v {
                self.work[c as usize] = x;
                last = last.max(c as usize);
            }
            let mut out = Vec::new();
            let mut c = first as usize;
            while c <= last {
                let coef = self.work[c];
                if coef != 0 {
                    if let Some(row) = &self.rows[c] {
                        for &(j, b) in row {
                            let j = j as usize;
                            self.work[j] = sub(self.work[j], mul(coef, b, p), p);
                            last = last.max(j);
                        }
                    } else {
                        out.push((c as u32, coef));
                    }
                    self.work[c] = 0;
                }
                c += 1;
            }
            out
        }

        /// Add a reduced, normalized, non-empty vector; returns its pivot.
        pub fn insert(&mut self, v: Vector) -> u32 {
            let pivot = v[0].0;
            self.rows[pivot as usize] = Some(v);
            self.rank += 1;
            pivot
        }

        pub fn row(&self, pivot: u32) -> &Vector {
            self.rows[pivot as usize].as_ref().expect("a pivot of the basis")
        }
    }

    /// `r - r[pivot] · b` for a basis vector `b` with that pivot (both sorted).
    pub fn eliminate(r: &Vector, b: &Vector, pivot: u32, p: u64) -> Vector {
        let Ok(i) = r.binary_search_by_key(&pivot, |e| e.0) else { return r.clone() };
        let coef = r[i].1;
        let mut out = Vec::with_capacity(r.len() + b.len());
        let (mut x, mut y) = (0, 0);
        while x < r.len() || y < b.len() {
            let take_r = y >= b.len() || (x < r.len() && r[x].0 < b[y].0);
            let take_b = x >= r.len() || (y < b.len() && b[y].0 < r[x].0);
            if take_r {
                out.push(r[x]);
                x += 1;
            } else if take_b {
                out.push((b[y].0, sub(0, mul(coef, b[y].1, p), p)));
                y += 1;
            } else {
                let v = sub(r[x].1, mul(coef, b[y].1, p), p);
                if v != 0 {
                    out.push((r[x].0, v));
                }
                x += 1;
                y += 1;
            }
        }
        out.retain(|e| e.1 != 0);
        out
    }
}

const P1: u64 = (1 << 61) - 1;
const P2: u64 = 18_446_744_073_709_551_557; // 2^64 - 59

/// Decide every cell: primary, then the greedy secondary suppression.
fn decide(sets: &[Units], policy: Policy) -> (Vec<Status>, Summary) {
    let (vectors, k) = coordinates(sets);
    let mut status = vec![Status::Published; sets.len()];
    let mut summary = Summary { cells: sets.len(), coordinates: k, ..Default::default() };
    // Hidden cells' residuals (normalized), and an index from residual to hidden cells.
    let mut hidden: Vec<field::Vector> = Vec::new();
    let mut by_residual: HashMap<field::Vector, usize> = HashMap::new();
    for (c, s) in sets.iter().enumerate() {
        let n = s.len() as i64;
        if n == 0 {
            summary.zero_cells += 1;
        } else if n <= policy.threshold {
            status[c] = Status::Hidden(Rule::Primary);
            summary.primary += 1;
            let v = field::ones(&vectors[c]);
            *by_residual.entry(v.clone()).or_default() += 1;
            hidden.push(v);
        }
    }
    let mut candidates: Vec<usize> = (0..sets.len()).filter(|&c| sets[c].len() as i64 > policy.threshold).collect();
    candidates.sort_by_key(|&c| (std::cmp::Reverse(sets[c].len()), c));
    let mut basis = field::Basis::new(k);
    for c in candidates {
        let mut r = basis.reduce(&field::ones(&vectors[c]), P1);
        if r.is_empty() {
            continue; // already derivable from what is published: publishing it reveals nothing
        }
        field::normalize(&mut r, P1);
        if by_residual.contains_key(&r) {
            // Publishing c would reveal a hidden cell whose residual is proportional to c's.
            status[c] = Status::Hidden(Rule::Secondary);
            summary.secondary += 1;
            *by_residual.entry(r.clone()).or_default() += 1;
            hidden.push(r);
            continue;
        }
        let pivot = basis.insert(r);
        let b = basis.row(pivot);
        for h in hidden.iter_mut() {
            if h.binary_search_by_key(&pivot, |e| e.0).is_ok() {
                if let Some(count) = by_residual.get_mut(h) {
                    *count -= 1;
                    if *count == 0 {
                        by_residual.remove(h);
                    }
                }
                let mut next = field::eliminate(h, b, pivot, P1);
                field::normalize(&mut next, P1);
                *by_residual.entry(next.clone()).or_default() += 1;
                *h = next;
            }
        }
    }
    summary.published_rank = basis.rank();
    (status, summary)
}

/// Protect a whole release: every table's rows, decided together.
pub fn protect_release(tables: &[Table], policy: Policy) -> (Vec<Vec<Released>>, Summary) {
    let cells = cells_of(tables);
    let (status, summary) = decide(&cells.sets, policy);
    let released = tables
        .iter()
        .zip(&cells.rows)
        .map(|(t, ids)| {
            t.rows
                .iter()
                .zip(ids)
                .map(|(r, &(nc, dc))| {
                    let n_rule = match status[nc] {
                        Status::Hidden(rule) => Some(rule),
                        Status::Published => None,
                    };
                    let d_rule = dc.and_then(|d| match status[d] {
                        Status::Hidden(rule) => Some(rule),
                        Status::Published => None,
                    });
                    let share_ok = n_rule.is_none() && d_rule.is_none() && r.denominator.is_some_and(|d| d >= policy.min_share_denominator);
                    let suppressed = n_rule.or(d_rule).or((r.denominator.is_some() && !share_ok).then_some(Rule::ShareDenominator));
                    Released {
                        values: r.values.clone(),
                        n: n_rule.is_none().then_some(r.n),
                        denominator: if d_rule.is_some() { None } else { r.denominator },
                        share_pct: if share_ok { r.share_pct() } else { None },
                        suppressed,
                    }
                })
                .collect()
        })
        .collect();
    (released, summary)
}

/// Protect one table on its own (a release of one table).
pub fn protect(table: &Table, policy: Policy) -> Vec<Released> {
    protect_release(std::slice::from_ref(table), policy).0.remove(0)
}

/// The audit of a release (SPEC §6), run on every release and written beside it.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    pub passed: bool,
    pub policy: Policy,
    pub rows: usize,
    pub cells: usize,
    pub published_cells: usize,
    pub hidden_cells: usize,
    pub published_rank: usize,
    /// Problems found (empty when passed); rows are named by statistic and dimension values.
    pub problems: Vec<String>,
}

/// Check a release independently of how it was protected: from the released values alone
/// (what is shown, what is hidden) and the unit sets, over another prime and in row order.
/// Checks: every count/denominator of 1..=threshold is hidden; every shown number equals its
/// unit count; every hidden number has a rule and no share; shares only with a denominator of
/// at least the minimum; the same cell is never shown in one place and hidden in another; and
/// no hidden cell is in the span of the shown ones.
pub fn audit(tables: &[Table], released: &[Vec<Released>], policy: Policy) -> Audit {
    let mut problems = Vec::new();
    let mut shown: BTreeMap<Units, bool> = BTreeMap::new();
    let mut conflict = |u: &Units, is_shown: bool, what: &str, problems: &mut Vec<String>| {
        if *shown.entry(u.clone()).or_insert(is_shown) != is_shown {
            problems.push(format!("{what}: the same cell is shown in one place and hidden in another"));
        }
    };
    let mut rows = 0;
    for (t, rel) in tables.iter().zip(released) {
        for (r, x) in t.rows.iter().zip(rel) {
            rows += 1;
            let what = format!("{} {}", t.statistic, r.values.join("/"));
            let small = |v: i64| v >= 1 && v <= policy.threshold;
            match x.n {
                Some(n) if n != r.n => problems.push(format!("{what}: shown n differs from its cell")),
                Some(n) if small(n) => problems.push(format!("{what}: n below the threshold is shown")),
                None if x.suppressed.is_none() => problems.push(format!("{what}: n hidden without a rule")),
                _ => {}
            }
            conflict(&r.units, x.n.is_some(), &what, &mut problems);
            if let (Some(du), Some(d)) = (&r.denominator_units, r.denominator) {
                match x.denominator {
                    Some(shown_d) if shown_d != d => problems.push(format!("{what}: shown denominator differs from its cell")),
                    Some(shown_d) if small(shown_d) => problems.push(format!("{what}: denominator below the threshold is shown")),
                    None if x.suppressed.is_none() => problems.push(format!("{what}: denominator hidden without a rule")),
                    _ => {}
                }
                conflict(du, x.denominator.is_some(), &what, &mut problems);
            }
            if x.share_pct.is_some() && (x.n.is_none() || x.denominator.is_none_or(|d| d < policy.min_share_denominator)) {
                problems.push(format!("{what}: share shown without its count, its denominator, or a large enough denominator"));
            }
        }
    }
    // Span check over the distinct cells, with the shown ones as the basis.
    let sets: Vec<Units> = shown.keys().cloned().collect();
    let (vectors, k) = coordinates(&sets);
    let mut basis = field::Basis::new(k);
    for (i, is_shown) in shown.values().enumerate() {
        if *is_shown {
            let mut r = basis.reduce(&field::ones(&vectors[i]), P2);
            if !r.is_empty() {
                field::normalize(&mut r, P2);
                basis.insert(r);
            }
        }
    }
    let mut hidden_cells = 0;
    for (i, is_shown) in shown.values().enumerate() {
        if !is_shown {
            hidden_cells += 1;
            if basis.reduce(&field::ones(&vectors[i]), P2).is_empty() {
                problems.push(format!("a hidden cell of {} units is derivable from the published cells", sets[i].len()));
            }
        }
    }
    problems.truncate(100);
    Audit {
        passed: problems.is_empty(),
        policy,
        rows,
        cells: sets.len(),
        published_cells: sets.len() - hidden_cells,
        hidden_cells,
        published_rank: basis.rank(),
        problems,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::stats::Row;

    #[test]
    fn fast_reductions_agree_with_division() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for p in [P1, P2] {
                let (a, b) = (x % p, x.rotate_left(29) % p);
                assert_eq!(field::mul(a, b, p), ((a as u128 * b as u128) % p as u128) as u64);
                assert_eq!(field::mul(p - 1, p - 1, p), 1);
            }
        }
    }

    /// A 2×2 table with all margins: rows A/B × columns X/Y, persons numbered per cell.
    fn two_by_two() -> Table {
        let mut next = 0u32;
        let mut cell = |n: u32| -> Vec<u32> {
            let v: Vec<u32> = (next..next + n).collect();
            next += n;
            v
        };
        let (ax, ay, bx, by) = (cell(2), cell(10), cell(20), cell(30));
        let join = |parts: &[&Vec<u32>]| -> Vec<u32> {
            let mut v: Vec<u32> = parts.iter().flat_map(|p| p.iter().copied()).collect();
            v.sort_unstable();
            v
        };
        let rows = [
            ("A", "X", ax.clone()),
            ("A", "Y", ay.clone()),
            ("B", "X", bx.clone()),
            ("B", "Y", by.clone()),
            ("A", "TOTAL", join(&[&ax, &ay])),
            ("B", "TOTAL", join(&[&bx, &by])),
            ("TOTAL", "X", join(&[&ax, &bx])),
            ("TOTAL", "Y", join(&[&ay, &by])),
            ("TOTAL", "TOTAL", join(&[&ax, &ay, &bx, &by])),
        ];
        Table {
            statistic: "t",
            dims: vec!["row", "col"],
            rows: rows
                .into_iter()
                .map(|(r, c, u)| Row {
                    values: vec![r.into(), c.into()],
                    n: u.len() as i64,
                    denominator: None,
                    units: Arc::new(u),
                    denominator_units: None,
                })
                .collect(),
        }
    }

    fn shown(rel: &[Released]) -> Vec<(String, Option<i64>, Option<Rule>)> {
        rel.iter().map(|r| (r.values.join("/"), r.n, r.suppressed)).collect()
    }

    #[test]
    fn a_small_interior_cell_with_all_margins_hides_the_whole_interior() {
        let t = two_by_two();
        let (rel, summary) = protect_release(std::slice::from_ref(&t), Policy::default());
        let s = shown(&rel[0]);
        // AX = 2 is primary. With every margin published, any one other interior cell would give
        // AX back (e.g. AX = A − AY), so all three are hidden; the margins stay.
        let want = vec![
            ("A/X".to_string(), None, Some(Rule::Primary)),
            ("A/Y".to_string(), None, Some(Rule::Secondary)),
            ("B/X".to_string(), None, Some(Rule::Secondary)),
            ("B/Y".to_string(), None, Some(Rule::Secondary)),
            ("A/TOTAL".to_string(), Some(12), None),
            ("B/TOTAL".to_string(), Some(50), None),
            ("TOTAL/X".to_string(), Some(22), None),
            ("TOTAL/Y".to_string(), Some(40), None),
            ("TOTAL/TOTAL".to_string(), Some(62), None),
        ];
        assert_eq!(s, want);
        assert_eq!((summary.primary, summary.secondary, summary.coordinates, summary.published_rank), (1, 3, 4, 3));
        let a = audit(std::slice::from_ref(&t), &rel, Policy::default());
        assert!(a.passed, "{:?}", a.problems);
        assert_eq!((a.cells, a.hidden_cells), (9, 4));
    }

    #[test]
    fn the_audit_finds_a_derivable_cell_and_a_shown_small_count() {
        let t = two_by_two();
        let (mut rel, _) = protect_release(std::slice::from_ref(&t), Policy::default());
        // Publish B/Y: then AX = (TOTAL − B) − (Y − BY).
        rel[0][3].n = Some(30);
        rel[0][3].suppressed = None;
        let a = audit(std::slice::from_ref(&t), &rel, Policy::default());
        assert!(!a.passed);
        assert!(a.problems.iter().any(|p| p.contains("derivable")), "{:?}", a.problems);
        // Show the primary cell itself.
        let (mut rel, _) = protect_release(std::slice::from_ref(&t), Policy::default());
        rel[0][0].n = Some(2);
        let a = audit(std::slice::from_ref(&t), &rel, Policy::default());
        assert!(a.problems.iter().any(|p| p.contains("below the threshold")), "{:?}", a.problems);
    }

    #[test]
    fn the_same_cell_in_two_tables_is_decided_once_and_zero_is_published() {
        let mut t = two_by_two();
        t.rows.push(Row { values: vec!["C".into(), "X".into()], n: 0, denominator: None, units: Arc::new(vec![]), denominator_units: None });
        let mut copy = t.clone();
        copy.statistic = "copy";
        let (rel, summary) = protect_release(&[t.clone(), copy.clone()], Policy::default());
        assert_eq!(shown(&rel[0]), shown(&rel[1]));
        assert_eq!(rel[0][9].n, Some(0));
        assert_eq!((summary.cells, summary.zero_cells), (10, 1));
        assert!(audit(&[t, copy], &rel, Policy::default()).passed);
    }
}
