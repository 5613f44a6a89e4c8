//! Disclosure control (SPEC §6). Everything the service ever releases from one linkage
//! project's data is one release: an answer (every statistic for one delivery and decision
//! years) is protected together with every cell released before for the project (the ledger,
//! [`crate::ledger`]).
//!
//! - **Primary suppression**: a count or denominator of 1..=`threshold` persons is hidden (0 is
//!   released).
//! - **Secondary suppression across the union**: every published number counts a set of units
//!   (cohort persons; decisions in `cohort_flow`), i.e. it is a sum over the finest
//!   cross-classification of the cohort. A hidden number is safe from exact derivation iff its
//!   indicator vector is outside the span of the published numbers' vectors (the approach of
//!   Statistics Norway's GaussSuppression). Cells released before keep their status (published
//!   cells are in the basis from the start); the same set of units published twice is one cell,
//!   decided once. The greedy: hide the primary cells; then take the other new non-zero cells
//!   from the largest to the smallest and publish each unless that would make a hidden cell
//!   derivable, in which case hide it too (`secondary`). Zero cells are always published.
//! - **Differencing**: two cells, one inside the other and 1..=`threshold` units apart (the same
//!   row for nested decision-year ranges, a subtotal and its one big part), would publish the
//!   difference — a count of real persons. Each such difference is protected like a hidden
//!   cell: it must not be derivable and its interval must be wide.
//! - **Bounds** ([`crate::bounds`]): every hidden count's (and difference's) feasible interval,
//!   given everything published for the project, non-negativity, and hidden counts ≥ 1, must be
//!   at least `threshold` wide (integer width ⌊max⌋ − ⌈min⌉, by LP with HiGHS). Where one is
//!   narrower, the smallest new published cell among those that bind its bound is hidden too,
//!   and the check repeats (hiding only widens intervals).
//! - **Shares** only with a denominator of at least `min_share_denominator` and with both the
//!   count and the denominator published (a share with one of them would reveal the other).
//!
//! Linear algebra is exact modular arithmetic over the prime 2^61−1 on sparse vectors (ranks of
//! 0/1 matrices over Q and over a 61-bit prime field agree unless the prime divides a minor;
//! [`audit`] re-checks every release over another prime, 2^64−59, in another order).
//! Units that appear in exactly the same cells of the union are merged into one coordinate first.

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

/// The disclosure policy: one value configured for the service, used by every path that
/// releases (`RunProduction`, Flight, `query produce`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// Counts of 1..=threshold persons are suppressed.
    pub threshold: i64,
    pub min_share_denominator: i64,
    /// Protect every answer together with everything released before for the project (the
    /// ledger), and protect small differences of nested cells. Off only to demonstrate the
    /// attacks it prevents (each answer is then protected on its own).
    pub project_ledger: bool,
    /// Run the interval (bounds) audit and suppress until every hidden count's feasible
    /// interval is at least `threshold` wide.
    pub interval_audit: bool,
    /// Which decision-year ranges of a delivery are served (each delivery's *release family*,
    /// protected together on its first request).
    pub ranges: Ranges,
}

/// The decision-year ranges served for a delivery linked for years `from..=to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Ranges {
    /// Every range within the linked years (n·(n+1)/2 ranges for n years).
    #[default]
    Every,
    /// Only the whole linked range.
    Whole,
}

impl Ranges {
    /// The served ranges of a delivery linked for `from..=to`, in a fixed order (the whole
    /// range first, then longer before shorter, earlier before later): the order members of a
    /// family are protected and recorded in, whichever of them is asked for first.
    pub fn of(self, from: i32, to: i32) -> Vec<(i32, i32)> {
        let mut v: Vec<(i32, i32)> = match self {
            Ranges::Every => (from..=to).flat_map(|a| (a..=to).map(move |b| (a, b))).collect(),
            Ranges::Whole => vec![(from, to)],
        };
        v.sort_by_key(|&(a, b)| (std::cmp::Reverse(b - a), a));
        v
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy { threshold: 2, min_share_denominator: 50, project_ledger: true, interval_audit: true, ranges: Ranges::Every }
    }
}

/// A released row: `None` = suppressed. Each hidden value carries its own rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Released {
    pub values: Vec<String>,
    pub n: Option<i64>,
    pub denominator: Option<i64>,
    pub share_pct: Option<f64>,
    /// Why `n` is hidden (`None` iff `n` is shown).
    pub suppressed: Option<Rule>,
    /// Why `denominator` is hidden (`None` iff it is shown or the row has none).
    pub denominator_suppressed: Option<Rule>,
    /// Why `share_pct` is not released: the rule of a hidden count or denominator, or
    /// `share_denominator` (`None` iff it is shown or the row has no denominator).
    pub share_suppressed: Option<Rule>,
}

/// What the suppression did, for the manifest and the audit.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Distinct published-or-hidden numbers (sets of units) in this answer.
    pub cells: usize,
    /// Of those, cells released before for the project (their status is kept).
    pub cells_released_before: usize,
    pub zero_cells: usize,
    pub primary: usize,
    pub secondary: usize,
    /// Of the secondary suppressions, those made for the interval (bounds) audit.
    pub secondary_for_intervals: usize,
    /// Small differences of nested cells (a cell inside another, 1..=threshold units apart)
    /// protected like hidden cells.
    pub difference_cells: usize,
    /// Of those, second-order differences: a cell against the difference of two nested cells
    /// (e.g. a year's cohort against the slice 2018–2020 minus 2018–2019), 1..=threshold apart.
    pub second_order_differences: usize,
    /// Cells of the project's ledger before this answer (the union protected with it).
    pub ledger_cells: usize,
    /// Merged coordinates (groups of units in exactly the same cells of the union) and the rank
    /// of the published cells' span.
    pub coordinates: usize,
    pub published_rank: usize,
    /// LP solves of the interval audit, and the narrowest integer width of a hidden count's
    /// feasible interval after protection (∞ = none bounded; null when not run).
    pub lp_solves: usize,
    pub narrowest_interval: Option<f64>,
    /// Looks at a count settled without an LP: it was already wide at the points of the model
    /// that earlier LPs found (see [`crate::bounds::Pool`]).
    pub settled_by_points: usize,
    /// The points of the model that protection found (for the audit to check and use; never
    /// written anywhere).
    #[serde(skip)]
    pub certificates: Certificates,
    /// Time spent in the LPs (not written anywhere: runs are reproducible byte for byte).
    #[serde(skip)]
    pub lp_seconds: f64,
    /// Hidden counts or small differences already determined by earlier answers alone (nothing
    /// this answer can change; reported, never published).
    pub determined_before: usize,
}

/// Points of the model found by protection's LPs, each as displacements from the true counts
/// of the units' Venn regions, a region named by one of its units: a table an intruder cannot
/// tell from the real one. The audit checks each against its own model of the release before
/// it uses it (a point that does not check is dropped), so they are certificates, not trust.
#[derive(Clone, Default, PartialEq)]
pub struct Certificates(pub Vec<Vec<(u32, f64)>>);

impl std::fmt::Debug for Certificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Certificates({} points)", self.0.len())
    }
}

/// The status of one distinct cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Published,
    Hidden(Rule),
}

impl Status {
    pub fn code(self) -> u8 {
        match self {
            Status::Published => 0,
            Status::Hidden(Rule::Primary) => 1,
            Status::Hidden(Rule::Secondary) => 2,
            Status::Hidden(Rule::ShareDenominator) => 3,
        }
    }

    pub fn from_code(c: u8) -> Option<Status> {
        Some(match c {
            0 => Status::Published,
            1 => Status::Hidden(Rule::Primary),
            2 => Status::Hidden(Rule::Secondary),
            3 => Status::Hidden(Rule::ShareDenominator),
            _ => return None,
        })
    }

    fn rule(self) -> Option<Rule> {
        match self {
            Status::Hidden(r) => Some(r),
            Status::Published => None,
        }
    }
}

/// Everything released before for the same project (the ledger): distinct cells over the same
/// unit identifiers as the new answer, with their statuses.
#[derive(Debug, Clone, Copy)]
pub struct Prior<'a> {
    pub sets: &'a [Units],
    pub status: &'a [Status],
}

impl Prior<'_> {
    pub const EMPTY: Prior<'static> = Prior { sets: &[], status: &[] };
}

/// The cells of an answer: every distinct set of units any row publishes.
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

/// Units in exactly the same cells become one coordinate; returns each cell as sorted
/// coordinates, the number of coordinates, each coordinate's number of units, and each unit's
/// coordinate (`u32::MAX` for a unit in no cell).
fn coordinates(sets: &[&[u32]]) -> (Vec<Vec<u32>>, usize, Vec<u32>, Vec<u32>) {
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
    let mut units = vec![0u32; k];
    for &c in coord_of_unit.iter().filter(|&&c| c != u32::MAX) {
        units[c as usize] += 1;
    }
    let vectors = sets
        .iter()
        .map(|s| {
            let mut v: Vec<u32> = s.iter().map(|&u| coord_of_unit[u as usize]).collect();
            v.sort_unstable();
            v.dedup();
            v
        })
        .collect();
    (vectors, k, units, coord_of_unit)
}

/// `a ⊂ b` for sorted sets.
fn subset(a: &[u32], b: &[u32]) -> bool {
    let mut j = 0;
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if j == b.len() || b[j] != x {
            return false;
        }
        j += 1;
    }
    true
}

/// Pairs (outer, inner) of non-empty cells with `inner ⊂ outer` and 1..=`t` units between them:
/// publishing both would publish a count of 1..=t real persons by subtraction (e.g. the same row
/// for nested decision-year ranges). `wanted(outer, inner)` filters the pairs.
fn small_differences(sets: &[&[u32]], t: usize, wanted: impl Fn(usize, usize) -> bool) -> Vec<(usize, usize)> {
    let max_unit = sets.iter().flat_map(|s| s.last().copied()).max().map_or(0, |m| m as usize + 1);
    let mut containing: Vec<Vec<u32>> = vec![Vec::new(); max_unit];
    for (c, s) in sets.iter().enumerate() {
        for &u in s.iter() {
            containing[u as usize].push(c as u32);
        }
    }
    let mut out = Vec::new();
    for (inner, s) in sets.iter().enumerate() {
        // Every superset contains the inner cell's rarest unit.
        let Some(&rarest) = s.iter().min_by_key(|&&u| containing[u as usize].len()) else { continue };
        for &outer in &containing[rarest as usize] {
            let outer = outer as usize;
            let o = sets[outer];
            if o.len() > s.len() && o.len() <= s.len() + t && wanted(outer, inner) && subset(s, o) {
                out.push((outer, inner));
            }
        }
    }
    out
}

fn set_minus(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len().saturating_sub(b.len()));
    let mut j = 0;
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if j == b.len() || b[j] != x {
            out.push(x);
        }
    }
    out
}

/// Second-order differences. For nested cells `outer ⊃ inner` more than `t` units apart, the
/// difference D = outer − inner is a count anyone holding both can derive (the persons whose
/// first qualifying decision since 2018 is in 2020: the 2018–2020 cohort minus the 2018–2019
/// one). A cell C with D ⊂ C or C ⊂ D and 1..=`t` units between them gives those units away by
/// one more subtraction (the 2020 cohort minus that slice: persons of 2020 who also had a
/// decision in 2018–2019). Returns the unit sets of those small differences, once each, for the
/// triples (outer, inner, C) of `eligible` cells with `wanted(outer, inner, C)`. D is never
/// stored: it is formed, searched against the cells of about its size, and dropped.
fn second_order_differences(
    sets: &[&[u32]],
    t: usize,
    eligible: impl Fn(usize) -> bool + Sync,
    wanted: impl Fn(usize, usize, usize) -> bool + Sync,
) -> Vec<Vec<u32>> {
    let max_unit = sets.iter().flat_map(|s| s.last().copied()).max().map_or(0, |m| m as usize + 1);
    let mut containing: Vec<Vec<u32>> = vec![Vec::new(); max_unit];
    for (c, s) in sets.iter().enumerate().filter(|(c, s)| !s.is_empty() && eligible(*c)) {
        for &u in s.iter() {
            containing[u as usize].push(c as u32);
        }
    }
    // Each unit's cells by size (then number): the cells of a size range are a slice of the
    // list, found by binary search, instead of a pass over every cell holding the unit. Where
    // the order matters (what is found, in the order one pass in cell order would find it), the
    // few cells taken are put back in cell order.
    for list in &mut containing {
        list.sort_unstable_by_key(|&c| (sets[c as usize].len(), c));
    }
    let sized = |u: u32, sizes: std::ops::RangeInclusive<usize>| -> &[u32] {
        let list = &containing[u as usize];
        let from = list.partition_point(|&c| sets[c as usize].len() < *sizes.start());
        let to = list.partition_point(|&c| sets[c as usize].len() <= *sizes.end());
        &list[from..to.max(from)]
    };
    // Whether an eligible cell has `n` units: a difference D of w units can only be given away
    // by a cell of w − t..w + t units (not w), so most pairs are passed over on their sizes.
    let mut has_size = vec![false; max_unit + 1];
    for (c, s) in sets.iter().enumerate() {
        if !s.is_empty() && eligible(c) {
            has_size[s.len()] = true;
        }
    }
    let near = |w: usize| (w.saturating_sub(t).max(1)..=(w + t).min(max_unit)).any(|n| n != w && has_size[n]);
    // The inner cells in blocks on every core; each block's differences in order, then merged
    // in order and kept once each, as one pass would.
    let blocks: Vec<std::ops::Range<usize>> = (0..sets.len()).step_by(64).map(|i| i..(i + 64).min(sets.len())).collect();
    let found = crate::bounds::par_map(&blocks, |block| {
        let mut out: Vec<Vec<u32>> = Vec::new();
        let mut candidates: Vec<u32> = Vec::new();
        let mut outers: Vec<u32> = Vec::new();
        let mut larger: Vec<u32> = Vec::new();
        for inner in block.clone() {
            let s = sets[inner];
            if s.is_empty() || !eligible(inner) {
                continue;
            }
            let Some(&rarest) = s.iter().min_by_key(|&&u| containing[u as usize].len()) else { continue };
            // Every superset more than t units larger holds the inner cell's rarest unit.
            outers.clear();
            outers.extend(sized(rarest, s.len() + t + 1..=usize::MAX).iter().copied().filter(|&o| near(sets[o as usize].len() - s.len())));
            outers.sort_unstable();
            for &outer in &outers {
                let outer = outer as usize;
                let o = sets[outer];
                if !subset(s, o) {
                    continue;
                }
                let d = set_minus(o, s);
                let w = d.len();
                // Cells just larger than D that contain it (they contain its rarest unit).
                let Some(&dr) = d.iter().min_by_key(|&&u| containing[u as usize].len()) else { continue };
                larger.clear();
                larger.extend(sized(dr, w + 1..=w + t).iter().copied().filter(|&c| wanted(outer, inner, c as usize) && subset(&d, sets[c as usize])));
                larger.sort_unstable();
                for &c in &larger {
                    out.push(set_minus(sets[c as usize], &d));
                }
                // Cells just smaller than D inside it: such a cell misses at most t of D's units,
                // so it holds one of any t + 1 of them.
                candidates.clear();
                for &u in d.iter().take(t + 1) {
                    candidates.extend_from_slice(sized(u, w.saturating_sub(t)..=w - 1));
                }
                candidates.sort_unstable();
                candidates.dedup();
                for &c in &candidates {
                    let c = c as usize;
                    if wanted(outer, inner, c) && subset(sets[c], &d) {
                        out.push(set_minus(&d, sets[c]));
                    }
                }
            }
        }
        out
    });
    let mut seen: std::collections::HashSet<Vec<u32>> = std::collections::HashSet::new();
    let mut out = Vec::new();
    for diff in found.into_iter().flatten() {
        if seen.insert(diff.clone()) {
            out.push(diff);
        }
    }
    out
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

    /// `a + b` mod p for `a, b < p`.
    pub fn add(a: u64, b: u64, p: u64) -> u64 {
        sub(a, sub(0, b, p), p)
    }

    /// Whether `a` and `b` span the same line (same support, proportional coefficients).
    pub fn proportional(a: &Vector, b: &Vector, p: u64) -> bool {
        if a.len() != b.len() || a.is_empty() {
            return false;
        }
        let (a0, b0) = (a[0].1, b[0].1);
        a.iter().zip(b).all(|(x, y)| x.0 == y.0 && mul(x.1, b0, p) == mul(y.1, a0, p))
    }

    pub fn inv(a: u64, p: u64) -> u64 {
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

/// Neighbourhoods of the interval audit's local problems (free coordinates). Protection and the
/// audit build the same neighbourhoods from the same cells (`bounds::canonical_order`), and the
/// audit sees at least as many cells hidden, so it finds every count protection found wide wide
/// again; should it not, it tries larger neighbourhoods, up to every cell overlapping the
/// count, before it calls the count narrow (any neighbourhood finding a count wide proves it).
/// Both start with a small problem ([`crate::bounds::SMALL_COORDINATES`]): most counts are
/// found wide in it, at a fraction of the cost of the larger one.
const DECIDE_NEIGHBOURHOODS: &[usize] = &[crate::bounds::SMALL_COORDINATES, crate::bounds::LOCAL_COORDINATES];
const AUDIT_NEIGHBOURHOODS: &[usize] = &[crate::bounds::SMALL_COORDINATES, crate::bounds::LOCAL_COORDINATES, 4 * crate::bounds::LOCAL_COORDINATES, usize::MAX];

const P1: u64 = (1 << 61) - 1;
const P2: u64 = 18_446_744_073_709_551_557; // 2^64 - 59

/// A numbering of the coordinates for the span's echelon basis, those in the fewest cells
/// first. A basis vector's pivot is its first coordinate, and every later vector holding that
/// coordinate is reduced by it (fill-in): with rare pivots, fewer are. Whether a vector is in
/// the span, or two residuals are proportional, does not depend on the numbering, so only the
/// cost changes.
fn rarest_first(vectors: &[Vec<u32>], dim: usize) -> Vec<u32> {
    let mut cells = vec![0u32; dim];
    for v in vectors {
        for &x in v {
            cells[x as usize] += 1;
        }
    }
    let mut by: Vec<u32> = (0..dim as u32).collect();
    by.sort_by_key(|&x| (cells[x as usize], x));
    let mut rank = vec![0u32; dim];
    for (r, &x) in by.iter().enumerate() {
        rank[x as usize] = r as u32;
    }
    rank
}

/// The all-ones vector of `coords` in the numbering `rank` (see [`rarest_first`]).
fn ones_in(rank: &[u32], coords: &[u32]) -> field::Vector {
    let mut v: Vec<u32> = coords.iter().map(|&x| rank[x as usize]).collect();
    v.sort_unstable();
    field::ones(&v)
}

/// The union of the prior cells and an answer's new cells, as coordinate vectors.
struct Union {
    /// Cells: prior ones first (`0..prior`), then the answer's new ones.
    vectors: Vec<Vec<u32>>,
    sizes: Vec<usize>,
    prior: usize,
    dim: usize,
    /// Units per coordinate.
    units: Vec<u32>,
    /// Each unit's coordinate.
    coord_of_unit: Vec<u32>,
}

fn union_of(prior: Prior<'_>, new: &[Units]) -> Union {
    let sets: Vec<&[u32]> = prior.sets.iter().map(|s| s.as_slice()).chain(new.iter().map(|s| s.as_slice())).collect();
    let (vectors, dim, units, coord_of_unit) = coordinates(&sets);
    Union { vectors, sizes: sets.iter().map(|s| s.len()).collect(), prior: prior.sets.len(), dim, units, coord_of_unit }
}

/// A residual of the span greedy with the values of two fixed pseudo-random linear functionals
/// on it, and the name of the line it spans.
struct Residual {
    v: field::Vector,
    values: (u64, u64),
    line: u64,
}

/// Two fixed pseudo-random linear functionals on the coordinate space (mod P1). Proportional
/// vectors have the same ratio of their values, so the ratio names a vector's line in O(1); and
/// eliminating a basis vector from a residual changes the values by the same multiple of the
/// basis vector's values, so the name follows the elimination without rehashing the (long)
/// residual. Equal names are confirmed exactly before anything is decided on them.
struct Lines {
    w: Vec<(u64, u64)>,
}

impl Lines {
    fn new(dim: usize) -> Self {
        // SplitMix64 of the coordinate: deterministic, so a run is reproducible.
        let mix = |mut z: u64| {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let w = (0..dim as u64).map(|i| (mix(2 * i) % (P1 - 1) + 1, mix(2 * i + 1) % (P1 - 1) + 1)).collect();
        Lines { w }
    }

    fn values(&self, v: &field::Vector) -> (u64, u64) {
        v.iter().fold((0, 0), |(a, b), &(c, x)| {
            let (w1, w2) = self.w[c as usize];
            (field::add(a, field::mul(x, w1, P1), P1), field::add(b, field::mul(x, w2, P1), P1))
        })
    }

    fn line((a, b): (u64, u64)) -> u64 {
        if b == 0 {
            u64::MAX
        } else {
            field::mul(a, field::inv(b, P1), P1)
        }
    }

    fn residual(&self, v: field::Vector) -> Residual {
        let values = self.values(&v);
        Residual { v, values, line: Lines::line(values) }
    }
}

/// A count that must stay unknown: a hidden cell, or a small difference of nested cells.
#[derive(Debug, Clone)]
struct Target {
    coords: Vec<u32>,
}

/// Decide the new cells of an answer against the prior cells: primary, then the greedy span
/// suppression with the prior published cells already in the basis and the nested small
/// differences protected like hidden cells, then the interval audit and further secondary
/// suppression until every hidden count's feasible interval is at least `threshold` wide.
fn decide(prior: Prior<'_>, new: &[Units], policy: Policy) -> Result<(Vec<Status>, Summary), crate::bounds::BoundsError> {
    let started = std::time::Instant::now();
    let u = union_of(prior, new);
    let t = policy.threshold.max(0) as usize;
    let mut status: Vec<Status> = prior.status.to_vec();
    let mut summary = Summary { cells: new.len(), ledger_cells: u.prior, coordinates: u.dim, ..Default::default() };
    if new.is_empty() {
        // Every cell was released before: nothing to decide, nothing changes.
        return Ok((Vec::new(), summary));
    }
    for s in new {
        let n = s.len();
        status.push(if n == 0 {
            summary.zero_cells += 1;
            Status::Published
        } else if n <= t {
            summary.primary += 1;
            Status::Hidden(Rule::Primary)
        } else {
            Status::Published
        });
    }
    // Small differences of nested cells where at least one of the two is new.
    let sets: Vec<&[u32]> = prior.sets.iter().map(|s| s.as_slice()).chain(new.iter().map(|s| s.as_slice())).collect();
    let mut targets: Vec<Target> = Vec::new();
    if policy.project_ledger {
        let mut seen: HashMap<Vec<u32>, ()> = HashMap::new();
        for (outer, inner) in small_differences(&sets, t, |o, i| o >= u.prior || i >= u.prior) {
            let coords = set_minus(&u.vectors[outer], &u.vectors[inner]);
            if seen.insert(coords.clone(), ()).is_none() {
                targets.push(Target { coords });
            }
        }
        let new = |c: usize| c >= u.prior;
        for units in second_order_differences(&sets, t, |_| true, |o, i, c| new(o) || new(i) || new(c)) {
            let mut coords: Vec<u32> = units.iter().map(|&x| u.coord_of_unit[x as usize]).collect();
            coords.sort_unstable();
            coords.dedup();
            if seen.insert(coords.clone(), ()).is_none() {
                summary.second_order_differences += 1;
                targets.push(Target { coords });
            }
        }
    }
    summary.difference_cells = targets.len();
    // The span: prior published cells first (their status is final), then the new candidates.
    let rank = rarest_first(&u.vectors, u.dim);
    let mut basis = field::Basis::new(u.dim);
    for (c, v) in u.vectors.iter().enumerate().take(u.prior) {
        if status[c] == Status::Published && !v.is_empty() {
            let mut r = basis.reduce(&ones_in(&rank, v), P1);
            if !r.is_empty() {
                field::normalize(&mut r, P1);
                basis.insert(r);
            }
        }
    }
    // Each protected count's residual against the published span, and an index of the residuals
    // by the line they span (see `Lines`): publishing a candidate reveals a protected count iff
    // the candidate's residual is proportional to that count's residual.
    let lines = Lines::new(u.dim);
    let mut hidden: Vec<Residual> = Vec::new();
    let mut by_line: HashMap<u64, Vec<u32>, ahash::RandomState> = HashMap::default();
    let protected: Vec<Vec<u32>> = (0..u.vectors.len())
        .filter(|&c| matches!(status[c], Status::Hidden(_)))
        .map(|c| u.vectors[c].clone())
        .chain(targets.iter().map(|x| x.coords.clone()))
        .collect();
    for v in &protected {
        let r = basis.reduce(&ones_in(&rank, v), P1);
        if r.is_empty() {
            summary.determined_before += 1; // derivable from earlier answers alone
            continue;
        }
        let h = lines.residual(r);
        by_line.entry(h.line).or_default().push(hidden.len() as u32);
        hidden.push(h);
    }
    let mut candidates: Vec<usize> = (u.prior..u.vectors.len()).filter(|&c| u.sizes[c] > t).collect();
    candidates.sort_by_key(|&c| (std::cmp::Reverse(u.sizes[c]), c));
    for c in candidates {
        let r = basis.reduce(&ones_in(&rank, &u.vectors[c]), P1);
        if r.is_empty() {
            continue; // already derivable from what is published: publishing it reveals nothing
        }
        let r = lines.residual(r);
        let reveals = by_line.get(&r.line).is_some_and(|ids| ids.iter().any(|&i| field::proportional(&hidden[i as usize].v, &r.v, P1)));
        if reveals {
            // Publishing c would reveal a hidden count whose residual is proportional to c's.
            status[c] = Status::Hidden(Rule::Secondary);
            summary.secondary += 1;
            by_line.entry(r.line).or_default().push(hidden.len() as u32);
            hidden.push(r);
            continue;
        }
        let mut b = r.v;
        field::normalize(&mut b, P1);
        let pivot = basis.insert(b);
        let b = basis.row(pivot);
        let fb = lines.values(b);
        for (i, h) in hidden.iter_mut().enumerate() {
            let Ok(at) = h.v.binary_search_by_key(&pivot, |e| e.0) else { continue };
            let coef = h.v[at].1;
            if let Some(ids) = by_line.get_mut(&h.line) {
                if let Some(k) = ids.iter().position(|&x| x as usize == i) {
                    ids.swap_remove(k);
                }
                if ids.is_empty() {
                    by_line.remove(&h.line);
                }
            }
            h.v = field::eliminate(&h.v, b, pivot, P1);
            // The functionals are linear: update them without reading the new residual.
            h.values = (field::sub(h.values.0, field::mul(coef, fb.0, P1), P1), field::sub(h.values.1, field::mul(coef, fb.1, P1), P1));
            h.line = Lines::line(h.values);
            by_line.entry(h.line).or_default().push(i as u32);
        }
    }
    summary.published_rank = basis.rank();
    let span_seconds = started.elapsed().as_secs_f64();
    if policy.interval_audit {
        intervals(&u, &sets, &mut status, &mut targets, t, &mut summary)?;
    }
    tracing::debug!(cells = u.vectors.len(), coordinates = u.dim, span_seconds, interval_seconds = summary.lp_seconds, lp_solves = summary.lp_solves, "cells decided");
    Ok((status.split_off(u.prior), summary))
}

/// The interval audit with further suppression: every sensitive count — a hidden count of
/// 1..=`t` units (old and new) and every small difference — must have a feasible interval of
/// integer width ≥ `t` ([`crate::bounds`]:
/// local problems, sound); where one does not, hide the smallest new published cell among the
/// rows that bind its bound (else the smallest new published cell overlapping it) and look
/// again. Hiding only ever widens intervals (an equality becomes `≥ 1`), so a count found wide
/// stays wide.
fn intervals(u: &Union, sets: &[&[u32]], status: &mut [Status], targets: &mut Vec<Target>, t: usize, summary: &mut Summary) -> Result<(), crate::bounds::BoundsError> {
    let started = std::time::Instant::now();
    let need = t as f64;
    let space = crate::bounds::Space::new(&u.vectors, u.dim, u.units.clone(), crate::bounds::canonical_order(sets));
    for (c, v) in u.vectors.iter().enumerate() {
        if matches!(status[c], Status::Hidden(_)) && (1..=t).contains(&u.sizes[c]) {
            targets.push(Target { coords: v.clone() });
        }
    }
    let mut narrowest = f64::INFINITY;
    let mut hidden_here: Vec<usize> = Vec::new();
    let mut pool = crate::bounds::Pool::new(u.dim);
    let mut accepted: Vec<Vec<(u32, f64)>> = Vec::new();
    // Counts are looked at in order, one at a time, but the next one is looked at beside it
    // (on the other core) with the same statuses. Hiding only relaxes every local problem, so a
    // look that found a count wide stays true whatever was hidden after it; a look that found it
    // narrow stands only if nothing was hidden since, else the count is looked at again. A
    // count wide at the points earlier LPs found ([`crate::bounds::Pool`]) needs no LP; which
    // points there are depends on which counts were solved, and so on the window, which is
    // fixed (not the number of cores): the release is the same on every machine.
    const WINDOW: usize = 2;
    // Each count's look ahead and how many cells had been hidden here when it was made.
    type Look = Option<(Result<crate::bounds::Local, crate::bounds::BoundsError>, usize)>;
    let mut ahead: Vec<Look> = (0..targets.len()).map(|_| None).collect();
    for i in 0..targets.len() {
        loop {
            let now = hidden_here.len();
            let stands = |a: &Look| match a {
                None => false,
                Some((look, hidden_before)) => *hidden_before == now || look.as_ref().is_ok_and(|l| l.interval.width() >= need),
            };
            if !stands(&ahead[i]) {
                // The count and the next ones without a look that stands; a count wide at the
                // points found so far is settled without an LP (and stays settled).
                let mut due: Vec<usize> = Vec::new();
                for j in i..targets.len() {
                    if due.len() == WINDOW {
                        break;
                    }
                    if stands(&ahead[j]) {
                        continue;
                    }
                    let seen = pool.interval(&targets[j].coords, space.count(&targets[j].coords) as f64);
                    if seen.width() >= need {
                        summary.settled_by_points += 1;
                        ahead[j] = Some((Ok(crate::bounds::Local::at_points(seen)), now));
                    } else {
                        due.push(j);
                    }
                }
                let snapshot: &[Status] = status;
                let looks = crate::bounds::par_map(&due, |&j| space.escalating_interval(&targets[j].coords, |c| Some(snapshot[c] == Status::Published), need, DECIDE_NEIGHBOURHOODS));
                for (&j, mut look) in due.iter().zip(looks) {
                    if let Ok(l) = look.as_mut() {
                        summary.lp_solves += l.solves;
                        for point in std::mem::take(&mut l.points) {
                            if space.feasible(&point, |c| Some(status[c] == Status::Published)) {
                                pool.add(&point);
                                accepted.push(point);
                            }
                        }
                    }
                    ahead[j] = Some((look, now));
                }
            }
            let (look, _) = ahead[i].take().expect("a look that stands");
            let local = look?;
            let w = local.interval.width();
            if w >= need {
                narrowest = narrowest.min(w);
                break;
            }
            let new_published = |c: &usize| *c >= u.prior && status[*c] == Status::Published && u.sizes[*c] > 0;
            // Hide the new published cells that bind the bound but the largest (one LP round per
            // count rather than one per cell, and the totals stay); failing that, the smallest new
            // published cell overlapping it.
            let mut chosen: Vec<usize> = local.binding.iter().copied().filter(new_published).collect();
            chosen.sort_by_key(|&c| (u.sizes[c], c));
            if chosen.len() > 1 {
                chosen.pop();
            }
            if chosen.is_empty() {
                let mut overlapping: Vec<usize> = targets[i].coords.iter().flat_map(|&x| space.cells_of[x as usize].iter().map(|&c| c as usize)).collect();
                overlapping.sort_unstable();
                overlapping.dedup();
                chosen.extend(overlapping.into_iter().filter(new_published).min_by_key(|&c| (u.sizes[c], c)));
            }
            if chosen.is_empty() {
                // Failing that (a degenerate optimum can leave the binding rows with zero
                // duals), the smallest new published cell with a row in the problem.
                chosen.extend(local.rows.iter().copied().filter(new_published).min_by_key(|&c| (u.sizes[c], c)));
            }
            if chosen.is_empty() {
                // Nothing new is published in its problem. Wide in a larger neighbourhood: fine.
                let whole = space.escalating_interval(&targets[i].coords, |c| Some(status[c] == Status::Published), need, AUDIT_NEIGHBOURHOODS)?;
                summary.lp_solves += whole.solves;
                if whole.interval.width() >= need {
                    narrowest = narrowest.min(whole.interval.width());
                    break;
                }
                // Narrow with what earlier answers released alone (their cells and statuses,
                // nothing of this answer): not this answer's doing.
                let before = space.escalating_interval(&targets[i].coords, |c| (c < u.prior).then(|| status[c] == Status::Published), need, AUDIT_NEIGHBOURHOODS)?;
                summary.lp_solves += before.solves;
                if before.interval.width() < need {
                    summary.determined_before += 1;
                    break;
                }
                // Narrowed by this answer's hidden cells being non-zero (or its zeros): hiding
                // more cannot take that back. Refuse the answer.
                return Err(crate::bounds::BoundsError::Unreleasable);
            }
            for c in chosen {
                status[c] = Status::Hidden(Rule::Secondary);
                summary.secondary += 1;
                summary.secondary_for_intervals += 1;
                hidden_here.push(c);
            }
        }
    }
    // A cell hidden here that the published cells still determine was hidden for nothing (the
    // polytope is the same either way): publish it again.
    let rank = rarest_first(&u.vectors, u.dim);
    let mut basis = field::Basis::new(u.dim);
    for (c, v) in u.vectors.iter().enumerate() {
        if status[c] == Status::Published && !v.is_empty() {
            let mut r = basis.reduce(&ones_in(&rank, v), P1);
            if !r.is_empty() {
                field::normalize(&mut r, P1);
                basis.insert(r);
            }
        }
    }
    for c in hidden_here {
        if basis.reduce(&ones_in(&rank, &u.vectors[c]), P1).is_empty() {
            status[c] = Status::Published;
            summary.secondary -= 1;
            summary.secondary_for_intervals -= 1;
        }
    }
    summary.published_rank = basis.rank();
    summary.narrowest_interval = Some(narrowest);
    // The points as certificates for the audit: each region named by its first unit. Every
    // point is still a point of the model: hiding only relaxed it, and a cell published again
    // above is in the span of published cells, whose sums no point moves.
    let mut named = vec![u32::MAX; u.dim];
    for (unit, &x) in u.coord_of_unit.iter().enumerate() {
        if x != u32::MAX && named[x as usize] == u32::MAX {
            named[x as usize] = unit as u32;
        }
    }
    summary.certificates = Certificates(accepted.into_iter().map(|p| p.into_iter().map(|(x, d)| (named[x as usize], d)).collect()).collect());
    summary.lp_seconds = started.elapsed().as_secs_f64();
    Ok(())
}

/// The interval of each `checked` count in the audit's neighbourhoods. A count wide at points
/// of the model in `pool` (protection's certificates) or found by the audit's earlier LPs (each
/// checked by [`crate::bounds::Space::feasible`] against the released statuses, so a
/// certificate, not protection's word) is settled without an LP; the others are solved eight
/// at a time (on every core), in order, so the points available, and the results, are the same
/// on every machine.
fn audit_intervals(
    space: &crate::bounds::Space<'_>,
    vectors: &[Vec<u32>],
    checked: &[usize],
    published: impl Fn(usize) -> Option<bool> + Sync,
    need: f64,
    mut pool: crate::bounds::Pool,
) -> Vec<Result<crate::bounds::Local, crate::bounds::BoundsError>> {
    const WINDOW: usize = 8;
    let mut found: Vec<Option<Result<crate::bounds::Local, crate::bounds::BoundsError>>> = (0..checked.len()).map(|_| None).collect();
    let mut next = 0;
    while next < checked.len() {
        let mut due: Vec<usize> = Vec::new();
        for j in next..checked.len() {
            if due.len() == WINDOW {
                break;
            }
            if found[j].is_some() {
                continue;
            }
            let coords = &vectors[checked[j]];
            let seen = pool.interval(coords, space.count(coords) as f64);
            if seen.width() >= need {
                found[j] = Some(Ok(crate::bounds::Local::at_points(seen)));
            } else {
                due.push(j);
            }
        }
        let looks = crate::bounds::par_map(&due, |&j| space.escalating_interval(&vectors[checked[j]], &published, need, AUDIT_NEIGHBOURHOODS));
        for (&j, mut look) in due.iter().zip(looks) {
            if let Ok(l) = look.as_mut() {
                for point in std::mem::take(&mut l.points) {
                    if space.feasible(&point, &published) {
                        pool.add(&point);
                    }
                }
            }
            found[j] = Some(look);
        }
        while next < checked.len() && found[next].is_some() {
            next += 1;
        }
    }
    found.into_iter().map(|f| f.expect("every count is looked at")).collect()
}

/// An answer as protected: the released rows, the summary, and the answer's new cells with
/// their statuses.
pub type Protected = (Vec<Vec<Released>>, Summary, Vec<(Units, Status)>);

/// Protect an answer (every table of one release) against everything released before for the
/// project (`prior`): returns the released rows, the summary, and the answer's new cells with
/// their statuses (for the ledger). Cells released before keep their status, so the same
/// question asked twice gets the same answer.
pub fn protect_with_prior(
    tables: &[Table],
    prior: Prior<'_>,
    policy: Policy,
) -> Result<Protected, crate::bounds::BoundsError> {
    let cells = cells_of(tables);
    let prior = if policy.project_ledger { prior } else { Prior::EMPTY };
    let known: HashMap<&Units, usize> = prior.sets.iter().enumerate().map(|(i, s)| (s, i)).collect();
    let new: Vec<Units> = cells.sets.iter().filter(|s| !known.contains_key(s)).cloned().collect();
    let (new_status, mut summary) = decide(prior, &new, policy)?;
    summary.cells = cells.sets.len();
    summary.cells_released_before = cells.sets.len() - new.len();
    let new_index: HashMap<&Units, usize> = new.iter().enumerate().map(|(i, s)| (s, i)).collect();
    let status_of = |s: &Units| -> Status {
        match known.get(s) {
            Some(&i) => prior.status[i],
            None => new_status[new_index[s]],
        }
    };
    let status: Vec<Status> = cells.sets.iter().map(status_of).collect();
    let released = tables
        .iter()
        .zip(&cells.rows)
        .map(|(t, ids)| t.rows.iter().zip(ids).map(|(r, &(nc, dc))| released_row(r, status[nc], dc.map(|d| status[d]), policy)).collect())
        .collect();
    let new_cells = new.into_iter().zip(new_status).collect();
    Ok((released, summary, new_cells))
}

fn released_row(r: &crate::stats::Row, n_status: Status, d_status: Option<Status>, policy: Policy) -> Released {
    let n_rule = n_status.rule();
    let d_rule = d_status.and_then(Status::rule);
    let share_rule = if r.denominator.is_none() {
        None
    } else if let Some(rule) = n_rule.or(d_rule) {
        Some(rule)
    } else if r.denominator.is_some_and(|d| d >= policy.min_share_denominator && d > 0) {
        None
    } else {
        Some(Rule::ShareDenominator)
    };
    Released {
        values: r.values.clone(),
        n: n_rule.is_none().then_some(r.n),
        denominator: if d_rule.is_some() { None } else { r.denominator },
        share_pct: if share_rule.is_none() { r.share_pct() } else { None },
        suppressed: n_rule,
        denominator_suppressed: d_rule,
        share_suppressed: share_rule,
    }
}

/// Protect a whole release on its own (nothing released before): every table's rows, decided
/// together.
pub fn protect_release(tables: &[Table], policy: Policy) -> (Vec<Vec<Released>>, Summary) {
    match protect_with_prior(tables, Prior::EMPTY, policy) {
        Ok((released, summary, _)) => (released, summary),
        Err(e) => {
            // The solver failed: publish nothing but zeros rather than something unchecked.
            tracing::error!(error = %e, "interval audit failed; every non-zero count is withheld");
            let released = tables
                .iter()
                .map(|t| {
                    t.rows
                        .iter()
                        .map(|r| {
                            let hidden = |n: i64| if n == 0 { Status::Published } else { Status::Hidden(Rule::Secondary) };
                            released_row(r, hidden(r.n), r.denominator.map(hidden), policy)
                        })
                        .collect()
                })
                .collect();
            (released, Summary::default())
        }
    }
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
    /// Distinct cells of the union (earlier answers of the project and this one).
    pub cells: usize,
    pub published_cells: usize,
    pub hidden_cells: usize,
    pub published_rank: usize,
    /// Hidden counts of the union whose feasible interval was computed, and the narrowest
    /// integer width found (null when the interval audit is off).
    pub intervals_checked: usize,
    pub narrowest_interval: Option<f64>,
    /// Problems found (empty when passed); rows are named by statistic and dimension values.
    pub problems: Vec<String>,
    /// Hidden counts determined by earlier answers alone (not by this one): reported only.
    pub notes: Vec<String>,
}

/// Check a release independently of how it was protected: from the released values alone
/// (what is shown, what is hidden), the unit sets, and the project's earlier cells, over another
/// prime and in another order. Checks: every count/denominator of 1..=threshold is hidden;
/// every shown number equals its unit count; every hidden number has its rule and no share;
/// shares only with a denominator of at least the minimum; the same cell is never shown in one
/// place and hidden in another (also against earlier answers); no hidden cell of the union is in
/// the span of the shown ones; no two shown cells, one inside the other, differ by
/// 1..=threshold units; and (with the interval audit on) every hidden count's feasible interval
/// is at least `threshold` wide.
pub fn audit(tables: &[Table], released: &[Vec<Released>], prior: Prior<'_>, policy: Policy, certificates: &Certificates) -> Audit {
    let mut problems = Vec::new();
    let prior = if policy.project_ledger { prior } else { Prior::EMPTY };
    let mut shown: BTreeMap<Units, (bool, bool)> = BTreeMap::new(); // set → (shown, from this answer)
    for (s, st) in prior.sets.iter().zip(prior.status) {
        shown.insert(s.clone(), (*st == Status::Published, false));
    }
    let mut conflict = |u: &Units, is_shown: bool, what: &str, problems: &mut Vec<String>| {
        let e = shown.entry(u.clone()).or_insert((is_shown, true));
        if e.0 != is_shown {
            problems.push(format!("{what}: the same cell is shown in one place and hidden in another"));
        }
        e.1 = true;
    };
    let mut rows = 0;
    let small = |v: i64| v >= 1 && v <= policy.threshold;
    for (t, rel) in tables.iter().zip(released) {
        for (r, x) in t.rows.iter().zip(rel) {
            rows += 1;
            let what = format!("{} {}", t.statistic, r.values.join("/"));
            match x.n {
                Some(n) if n != r.n => problems.push(format!("{what}: shown n differs from its cell")),
                Some(n) if small(n) => problems.push(format!("{what}: n below the threshold is shown")),
                Some(_) if x.suppressed.is_some() => problems.push(format!("{what}: a rule is named for a shown n")),
                None if x.suppressed.is_none() => problems.push(format!("{what}: n hidden without a rule")),
                _ => {}
            }
            conflict(&r.units, x.n.is_some(), &what, &mut problems);
            if let (Some(du), Some(d)) = (&r.denominator_units, r.denominator) {
                match x.denominator {
                    Some(shown_d) if shown_d != d => problems.push(format!("{what}: shown denominator differs from its cell")),
                    Some(shown_d) if small(shown_d) => problems.push(format!("{what}: denominator below the threshold is shown")),
                    Some(_) if x.denominator_suppressed.is_some() => problems.push(format!("{what}: a rule is named for a shown denominator")),
                    None if x.denominator_suppressed.is_none() => problems.push(format!("{what}: denominator hidden without a rule")),
                    _ => {}
                }
                conflict(du, x.denominator.is_some(), &what, &mut problems);
            }
            if x.share_pct.is_some() && (x.n.is_none() || x.denominator.is_none_or(|d| d < policy.min_share_denominator)) {
                problems.push(format!("{what}: share shown without its count, its denominator, or a large enough denominator"));
            }
            if x.share_pct.is_none() && r.denominator.is_some() && x.share_suppressed.is_none() {
                problems.push(format!("{what}: share withheld without a rule"));
            }
        }
    }
    // Span check over the distinct cells of the union, with the shown ones as the basis; a hidden
    // cell already in the span of the earlier answers' shown cells alone is a note, not a problem
    // of this answer.
    let sets: Vec<&[u32]> = shown.keys().map(|s| s.as_slice()).collect();
    let flags: Vec<(bool, bool)> = shown.values().copied().collect();
    let (vectors, k, units, coord_of_unit) = coordinates(&sets);
    let mut notes = Vec::new();
    let rank = rarest_first(&vectors, k);
    let mut prior_basis = field::Basis::new(k);
    for (i, (is_shown, this)) in flags.iter().enumerate() {
        if *is_shown && !*this {
            let mut r = prior_basis.reduce(&ones_in(&rank, &vectors[i]), P2);
            if !r.is_empty() {
                field::normalize(&mut r, P2);
                prior_basis.insert(r);
            }
        }
    }
    let mut basis = field::Basis::new(k);
    for (i, (is_shown, _)) in flags.iter().enumerate().rev() {
        if *is_shown {
            let mut r = basis.reduce(&ones_in(&rank, &vectors[i]), P2);
            if !r.is_empty() {
                field::normalize(&mut r, P2);
                basis.insert(r);
            }
        }
    }
    let mut hidden_cells = 0;
    for (i, (is_shown, _)) in flags.iter().enumerate() {
        if !is_shown {
            hidden_cells += 1;
            if basis.reduce(&ones_in(&rank, &vectors[i]), P2).is_empty() {
                if prior_basis.reduce(&ones_in(&rank, &vectors[i]), P2).is_empty() {
                    notes.push(format!("a hidden cell of {} units is determined by earlier answers alone", sets[i].len()));
                } else {
                    problems.push(format!("a hidden cell of {} units is derivable from the published cells", sets[i].len()));
                }
            }
        }
    }
    // Differencing: a shown cell inside another shown cell, 1..=threshold units apart.
    if policy.project_ledger {
        let shown_idx: Vec<usize> = (0..sets.len()).filter(|&i| flags[i].0 && !sets[i].is_empty()).collect();
        let mut by_size: Vec<usize> = shown_idx.clone();
        by_size.sort_by_key(|&i| sets[i].len());
        for (a, &i) in by_size.iter().enumerate() {
            for &j in &by_size[a + 1..] {
                let gap = sets[j].len() - sets[i].len();
                if gap == 0 {
                    continue;
                }
                if gap as i64 > policy.threshold {
                    break;
                }
                if (flags[i].1 || flags[j].1) && subset(sets[i], sets[j]) {
                    problems.push(format!("two shown cells, one inside the other, differ by {gap} units"));
                }
            }
        }
        let t = policy.threshold.max(0) as usize;
        let this = |c: usize| flags[c].1;
        for d in second_order_differences(&sets, t, |c| flags[c].0, |o, i, c| this(o) || this(i) || this(c)) {
            problems.push(format!("a shown cell and the difference of two nested shown cells differ by {} units", d.len()));
        }
    }
    let (mut intervals_checked, mut narrowest_interval) = (0, None);
    if policy.interval_audit {
        let prior_set: std::collections::HashSet<&[u32]> = prior.sets.iter().map(|s| s.as_slice()).collect();
        let space = crate::bounds::Space::new(&vectors, k, units, crate::bounds::canonical_order(&sets));
        let mut narrowest = f64::INFINITY;
        let t = policy.threshold.max(0) as usize;
        let checked: Vec<usize> = (0..sets.len()).filter(|&i| !flags[i].0 && (1..=t).contains(&sets[i].len())).collect();
        // Protection's points, in this model's regions (a region named by a unit in none of
        // the cells, or a point that does not check, is dropped).
        let mut pool = crate::bounds::Pool::new(k);
        for point in &certificates.0 {
            let mut mapped: BTreeMap<u32, f64> = BTreeMap::new();
            let mut whole = true;
            for &(unit, d) in point {
                match coord_of_unit.get(unit as usize) {
                    Some(&x) if x != u32::MAX => *mapped.entry(x).or_default() += d,
                    _ => whole = false,
                }
            }
            let mapped: Vec<(u32, f64)> = mapped.into_iter().collect();
            if whole && space.feasible(&mapped, |c| Some(flags[c].0)) {
                pool.add(&mapped);
            }
        }
        let found = audit_intervals(&space, &vectors, &checked, |c| Some(flags[c].0), policy.threshold as f64, pool);
        for (&i, found) in checked.iter().zip(found) {
            intervals_checked += 1;
            match found {
                Ok(crate::bounds::Local { interval, .. }) => {
                    let w = interval.width();
                    narrowest = narrowest.min(w);
                    if w < policy.threshold as f64 {
                        let msg = format!(
                            "a hidden count of {} units has the feasible interval [{:.0}, {:.0}], narrower than {}",
                            sets[i].len(),
                            interval.lo,
                            interval.hi,
                            policy.threshold
                        );
                        // Narrow already with only what earlier answers released (their cells
                        // with their statuses; nothing of this answer, not even that its hidden
                        // cells are non-zero): nothing this answer did; a note, not a problem.
                        let before = space
                            .escalating_interval(&vectors[i], |c| prior_set.contains(sets[c]).then_some(flags[c].0), policy.threshold as f64, AUDIT_NEIGHBOURHOODS)
                            .map(|l| l.interval.width() < policy.threshold as f64)
                            .unwrap_or(false);
                        // A count of an earlier answer made narrow by this one is this one's
                        // problem as much as a count of its own.
                        if !before {
                            problems.push(msg);
                        } else {
                            notes.push(format!("{msg} (by earlier answers alone)"));
                        }
                    }
                }
                Err(e) => problems.push(format!("interval audit: {e}")),
            }
        }
        narrowest_interval = Some(narrowest);
    }
    problems.truncate(100);
    notes.truncate(100);
    Audit {
        passed: problems.is_empty(),
        policy,
        rows,
        cells: sets.len(),
        published_cells: sets.len() - hidden_cells,
        hidden_cells,
        published_rank: basis.rank(),
        intervals_checked,
        narrowest_interval,
        problems,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::stats::Row;

    /// The second-order differences of sets that nest in many ways, against every triple
    /// looked at in the order the search promises (inner, then outer, then the larger cells,
    /// then the smaller ones, each by number; each difference once, where first found).
    #[test]
    fn second_order_differences_are_every_triple_in_order() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut found = 0;
        for round in 0..20 {
            // Random sets of 40 units and unions and differences of them (nesting, and sizes
            // a few units apart), some repeated.
            let mut sets: Vec<Vec<u32>> = Vec::new();
            for _ in 0..14 {
                let keep = 2 + next() % 7;
                sets.push((0..40u32).filter(|_| next() % 10 < keep).collect());
            }
            for k in 0..24 {
                let (a, b) = (next() as usize % sets.len(), next() as usize % sets.len());
                let (a, b) = (sets[a].clone(), sets[b].clone());
                let mut c: Vec<u32> = if k % 3 == 0 { set_minus(&a, &b) } else { a.iter().chain(&b).copied().collect() };
                if k % 4 == 1 {
                    c.retain(|_| next() % 12 != 0);
                }
                c.sort_unstable();
                c.dedup();
                sets.push(c);
            }
            sets.push(Vec::new());
            let refs: Vec<&[u32]> = sets.iter().map(|s| s.as_slice()).collect();
            let t = 1 + round % 3;
            let mut expected: Vec<Vec<u32>> = Vec::new();
            for s in &refs {
                for big in &refs {
                    if s.is_empty() || big.len() <= s.len() + t || !subset(s, big) {
                        continue;
                    }
                    let d = set_minus(big, s);
                    let w = d.len();
                    for c in (0..refs.len()).filter(|&c| refs[c].len() > w && refs[c].len() <= w + t && subset(&d, refs[c])) {
                        expected.push(set_minus(refs[c], &d));
                    }
                    for c in (0..refs.len()).filter(|&c| !refs[c].is_empty() && refs[c].len() < w && refs[c].len() + t >= w && subset(refs[c], &d)) {
                        expected.push(set_minus(&d, refs[c]));
                    }
                }
            }
            let mut seen = std::collections::HashSet::new();
            expected.retain(|d| seen.insert(d.clone()));
            found += expected.len();
            assert_eq!(second_order_differences(&refs, t, |_| true, |_, _, _| true), expected, "round {round}, t = {t}");
        }
        assert!(found >= 40, "the sets should give differences to compare, not {found}");
    }

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

    fn table(statistic: &'static str, rows: Vec<(&str, Vec<u32>)>) -> Table {
        Table {
            statistic,
            dims: vec!["row"],
            rows: rows
                .into_iter()
                .map(|(v, u)| Row { values: vec![v.into()], n: u.len() as i64, denominator: None, units: Arc::new(u), denominator_units: None })
                .collect(),
        }
    }

    #[test]
    fn a_small_published_sum_of_hidden_cells_is_hidden_too_the_singleton_problem() {
        // a = 1 and b = 2 are primary; their sum a + b = 3 is published, so each is pinned to
        // [1, 2]: the interval audit hides the sum (and what would give it back).
        let t = table("t", vec![("a", vec![0]), ("b", vec![1, 2]), ("ab", vec![0, 1, 2]), ("c", (3..40).collect()), ("all", (0..40).collect())]);
        let off = Policy { interval_audit: false, ..Policy::default() };
        let (rel, _) = protect_release(std::slice::from_ref(&t), off);
        assert_eq!(rel[0][2].n, Some(3), "the span alone lets a + b = 3 be published");
        let (rel, summary) = protect_release(std::slice::from_ref(&t), Policy::default());
        let n: Vec<Option<i64>> = rel[0].iter().map(|r| r.n).collect();
        assert_eq!(n, vec![None, None, None, None, Some(40)], "{summary:?}");
        assert_eq!(rel[0][2].suppressed, Some(Rule::Secondary));
        assert!(summary.secondary_for_intervals >= 1, "{summary:?}");
        assert!(summary.narrowest_interval.is_some_and(|w| w >= 2.0), "{summary:?}");
        let a = audit(std::slice::from_ref(&t), &rel, Prior::EMPTY, Policy::default(), &Certificates::default());
        assert!(a.passed, "{:?}", a.problems);
        // The audit finds the narrow interval when the sum is shown again.
        let mut bad = rel.clone();
        bad[0][2].n = Some(3);
        bad[0][2].suppressed = None;
        let a = audit(std::slice::from_ref(&t), &bad, Prior::EMPTY, Policy::default(), &Certificates::default());
        assert!(a.problems.iter().any(|p| p.contains("feasible interval")), "{:?}", a.problems);
    }

    #[test]
    fn a_cell_two_units_off_the_slice_of_two_earlier_nested_cells_is_hidden() {
        // Answer 1: 2018–2020 (30 units) and 2018–2019 (20 units) of one group, so the slice
        // "first since 2018 in 2020" is units 20..30. Answer 2: the group for 2020 alone, the
        // slice and two more persons (units 20..32): shown, 2020 minus the slice counts 2.
        let policy = Policy::default();
        let first = table("t", vec![("2018-2020", (0..30).collect()), ("2018-2019", (0..20).collect()), ("rest", (40..100).collect())]);
        let (rel1, _, cells1) = protect_with_prior(std::slice::from_ref(&first), Prior::EMPTY, policy).expect("protects");
        assert_eq!(rel1[0].iter().map(|r| r.n).collect::<Vec<_>>(), vec![Some(30), Some(20), Some(60)]);
        let sets: Vec<Units> = cells1.iter().map(|c| c.0.clone()).collect();
        let status: Vec<Status> = cells1.iter().map(|c| c.1).collect();
        let prior = Prior { sets: &sets, status: &status };
        let second = table("t", vec![("2020", (20..32).collect()), ("rest", (40..100).collect())]);
        let (rel2, summary, _) = protect_with_prior(std::slice::from_ref(&second), prior, policy).expect("protects");
        assert_eq!((rel2[0][0].n, rel2[0][0].suppressed), (None, Some(Rule::Secondary)), "{summary:?}");
        assert_eq!((summary.difference_cells, summary.second_order_differences), (1, 1), "{summary:?}");
        assert!(audit(std::slice::from_ref(&second), &rel2, prior, policy, &Certificates::default()).passed);
        // Shown anyway, the audit finds it.
        let mut bad = rel2.clone();
        bad[0][0].n = Some(12);
        bad[0][0].suppressed = None;
        let a = audit(std::slice::from_ref(&second), &bad, prior, policy, &Certificates::default());
        assert!(a.problems.iter().any(|p| p.contains("difference of two nested shown cells differ by 2 units")), "{:?}", a.problems);
    }

    /// A delivery's release family: every range of its years, the whole range first, in an
    /// order that does not depend on which range is asked for; or only the whole range.
    #[test]
    fn the_served_ranges_of_a_delivery_come_in_a_fixed_order() {
        assert_eq!(Ranges::Every.of(2018, 2020), vec![(2018, 2020), (2018, 2019), (2019, 2020), (2018, 2018), (2019, 2019), (2020, 2020)]);
        assert_eq!(Ranges::Every.of(2004, 2021).len(), 18 * 19 / 2);
        assert_eq!(Ranges::Whole.of(2019, 2021), vec![(2019, 2021)]);
        assert_eq!(Policy::default().ranges, Ranges::Every);
    }

    /// The attacker's finding with answers protected one at a time (ARCHITECTURE.md, "Why
    /// together"): answer 1 publishes a total of 4 over two hidden groups of 2, each in [1, 3].
    /// Answer 2 (a nested range) has the second group again, split into two hidden cells of 1:
    /// non-zero both, so that group holds at least 2 and the first falls to [1, 2]. Nothing in
    /// answer 2 can be hidden to prevent it: it is refused. Protected together, the total is
    /// hidden instead.
    #[test]
    fn an_answer_whose_non_zero_hidden_cells_would_narrow_an_earlier_count_is_refused_and_a_family_is_protected_together() {
        let policy = Policy::default();
        let first = table("t", vec![("total", vec![0, 1, 2, 3]), ("group_1", vec![0, 1]), ("group_3", vec![2, 3]), ("group_2", vec![])]);
        let second = table("u", vec![("group_3", vec![2, 3]), ("inrikes", vec![2]), ("utrikes", vec![3]), ("group_1", vec![])]);
        let (rel1, _, cells1) = protect_with_prior(std::slice::from_ref(&first), Prior::EMPTY, policy).expect("protects");
        assert_eq!(shown(&rel1[0]).iter().map(|r| r.1).collect::<Vec<_>>(), vec![Some(4), None, None, Some(0)]);
        assert!(audit(std::slice::from_ref(&first), &rel1, Prior::EMPTY, policy, &Certificates::default()).passed);
        let sets: Vec<Units> = cells1.iter().map(|c| c.0.clone()).collect();
        let status: Vec<Status> = cells1.iter().map(|c| c.1).collect();
        let prior = Prior { sets: &sets, status: &status };
        let refused = protect_with_prior(std::slice::from_ref(&second), prior, policy);
        assert!(matches!(refused, Err(crate::bounds::BoundsError::Unreleasable)), "{refused:?}");
        // Released anyway (primary suppression only), the audit of the union sees it.
        let primary_only = Policy { project_ledger: false, interval_audit: false, ..policy };
        let (rel2, _, _) = protect_with_prior(std::slice::from_ref(&second), prior, primary_only).expect("protects");
        let a = audit(std::slice::from_ref(&second), &rel2, prior, policy, &Certificates::default());
        assert!(a.problems.iter().any(|p| p.contains("feasible interval [1, 2]")), "{:?}", a.problems);
        // Together: the total is hidden, nothing narrows.
        let both = [first, second];
        let (rel, _, _) = protect_with_prior(&both, Prior::EMPTY, policy).expect("protects");
        assert_eq!(rel[0][0].suppressed, Some(Rule::Secondary), "{:?}", shown(&rel[0]));
        assert!(audit(&both, &rel, Prior::EMPTY, policy, &Certificates::default()).passed);
    }

    #[test]
    fn a_later_answer_keeps_earlier_statuses_and_never_publishes_a_small_difference() {
        // Answer 1: a cell of 30 units (published). Answer 2, a nested range: the same group
        // without one unit (29 units). Published too, it would count that one person by
        // subtraction, so it is hidden; asking answer 1 again changes nothing.
        let policy = Policy::default();
        let first = table("t", vec![("g", (0..30).collect()), ("h", (30..90).collect())]);
        let (rel1, _, cells1) = protect_with_prior(std::slice::from_ref(&first), Prior::EMPTY, policy).expect("protects");
        assert_eq!(rel1[0][0].n, Some(30));
        let sets: Vec<Units> = cells1.iter().map(|c| c.0.clone()).collect();
        let status: Vec<Status> = cells1.iter().map(|c| c.1).collect();
        let prior = Prior { sets: &sets, status: &status };
        let second = table("t", vec![("g", (1..30).collect()), ("h", (30..90).collect())]);
        let (rel2, summary, new_cells) = protect_with_prior(std::slice::from_ref(&second), prior, policy).expect("protects");
        assert_eq!((rel2[0][0].n, rel2[0][0].suppressed), (None, Some(Rule::Secondary)), "{summary:?}");
        assert_eq!(rel2[0][1].n, Some(60), "the same cell as before keeps its status");
        assert_eq!((summary.cells, summary.cells_released_before, summary.difference_cells), (2, 1, 1));
        assert_eq!(new_cells.len(), 1);
        assert!(audit(std::slice::from_ref(&second), &rel2, prior, policy, &Certificates::default()).passed);
        // Without the ledger (each answer alone) the difference is published: 30 − 29 = 1.
        let alone = Policy { project_ledger: false, interval_audit: false, ..policy };
        let (rel, _, _) = protect_with_prior(std::slice::from_ref(&second), prior, alone).expect("protects");
        assert_eq!(rel[0][0].n, Some(29));
        // The audit of the union sees it.
        let a = audit(std::slice::from_ref(&second), &rel, prior, policy, &Certificates::default());
        assert!(a.problems.iter().any(|p| p.contains("differ by 1")), "{:?}", a.problems);
        // The same question again: every cell is known, nothing new is decided.
        let (again, summary, new_cells) = protect_with_prior(std::slice::from_ref(&first), prior, policy).expect("protects");
        assert_eq!(again, rel1);
        assert_eq!((summary.cells_released_before, new_cells.len()), (2, 0));
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
        let a = audit(std::slice::from_ref(&t), &rel, Prior::EMPTY, Policy::default(), &Certificates::default());
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
        let a = audit(std::slice::from_ref(&t), &rel, Prior::EMPTY, Policy::default(), &Certificates::default());
        assert!(!a.passed);
        assert!(a.problems.iter().any(|p| p.contains("derivable")), "{:?}", a.problems);
        // Show the primary cell itself.
        let (mut rel, _) = protect_release(std::slice::from_ref(&t), Policy::default());
        rel[0][0].n = Some(2);
        let a = audit(std::slice::from_ref(&t), &rel, Prior::EMPTY, Policy::default(), &Certificates::default());
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
        assert!(audit(&[t, copy], &rel, Prior::EMPTY, Policy::default(), &Certificates::default()).passed);
    }
}
