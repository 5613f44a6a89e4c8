//! The interval (bounds) audit of disclosure control (SPEC §6): what an intruder who knows the
//! definitions can say about a hidden count from everything published.
//!
//! The model is the one an intruder would build, only better informed: one non-negative
//! variable per *coordinate* (a group of units that are in exactly the same published-or-hidden
//! cells, i.e. a non-empty region of the Venn diagram of every cell ever released for the
//! project), one equality per published cell (its value), and `≥ 1` for every hidden cell (zeros
//! are always published, so a hidden count is at least 1). Every relation between the
//! statistics that holds by definition — an intervention's persons ≤ its law's distinct persons
//! ≤ the sum of its interventions, municipal = SoL ∪ LSS, a denominator is its group, the same
//! cell in two tables, nested cohorts of nested decision years — holds for every point of this
//! model, because the model's points are the unit counts of the real Venn regions; regions that
//! are empty in the data are not variables at all, which the intruder cannot know. So the
//! intruder's feasible interval of any hidden count contains ours, and ours being wide is enough.
//!
//! **Local problems, sound by construction.** The whole model has a variable per coordinate
//! (thousands) and a row per cell; solving it twice per hidden count is minutes. We solve, per
//! hidden count, the same model with every coordinate *outside a neighbourhood* of the count
//! fixed at its true value: a restriction of the full model, so its interval is contained in the
//! full one, which is contained in the intruder's. A count found wide locally is wide for the
//! intruder; one found narrow locally may be wide globally, and gets protected anyway (more
//! suppression, never less protection). The neighbourhood: the count's coordinates, then the
//! coordinates of the cells that overlap it, smallest cells first, up to [`LOCAL_COORDINATES`].
//! Hiding a cell turns its equality into `≥ 1`, a relaxation of every local problem, so a count
//! certified wide stays wide as more cells are hidden.
//!
//! **Points instead of LPs.** Every optimum of a local problem, with the coordinates outside it
//! at their true counts, is a point of the whole model, i.e. a table the intruder cannot tell
//! from the real one; after [`Space::feasible`] has checked it, it goes into a [`Pool`]. A count
//! whose values at the pooled points span the threshold is wide (its interval contains them),
//! with no LP of its own; hiding only relaxes the model, so the points stay points.

use highs::{HighsModelStatus, Model, RowProblem, Sense};

/// A linear program over counts: `dim` non-negative variables, equality rows (published cells,
/// right-hand sides net of whatever is fixed) and lower-bound rows (hidden cells, ≥ 1 net).
/// `truth`, when given, is a feasible point (the real counts): the solver then starts from it.
#[derive(Debug, Default)]
pub struct Polytope {
    pub dim: usize,
    pub published: Vec<(Vec<u32>, f64)>,
    pub at_least: Vec<(Vec<u32>, f64)>,
    pub truth: Vec<f64>,
}

/// Most free coordinates of a local problem.
pub const LOCAL_COORDINATES: usize = 400;

/// Free coordinates of the first, small local problem tried for a count (wide there settles it).
pub const SMALL_COORDINATES: usize = 150;

/// The coordinate space of a union of cells: each cell's coordinates, each coordinate's number
/// of units (its true count), and the cells of each coordinate.
#[derive(Debug)]
pub struct Space<'a> {
    pub vectors: &'a [Vec<u32>],
    pub sizes: Vec<u32>,
    pub cells_of: Vec<Vec<u32>>,
    /// Each cell's true count.
    totals: Vec<u64>,
    /// Each cell's place in an order that does not depend on how the cells are numbered (see
    /// [`canonical_order`]): the neighbourhoods, and so the intervals, are the same whoever
    /// builds the space from the same cells.
    order: Vec<u32>,
}

/// `f` over `items` on every core, results in order (the local problems are independent; each
/// worker builds its own solver instances).
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let done: Vec<Vec<(usize, R)>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= items.len() {
                            break out;
                        }
                        out.push((i, f(&items[i])));
                    }
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    let mut slots: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    for (i, r) in done.into_iter().flatten() {
        slots[i] = Some(r);
    }
    slots.into_iter().map(|r| r.expect("every item is computed once")).collect()
}

/// Each cell's rank among the cells sorted by their unit sets (sizes first): the same for the
/// same cells, whatever their numbering.
pub fn canonical_order(sets: &[&[u32]]) -> Vec<u32> {
    let mut idx: Vec<u32> = (0..sets.len() as u32).collect();
    idx.sort_unstable_by(|&a, &b| {
        let (x, y) = (sets[a as usize], sets[b as usize]);
        x.len().cmp(&y.len()).then_with(|| x.cmp(y))
    });
    let mut order = vec![0u32; sets.len()];
    for (rank, &c) in idx.iter().enumerate() {
        order[c as usize] = rank as u32;
    }
    order
}

impl<'a> Space<'a> {
    pub fn new(vectors: &'a [Vec<u32>], dim: usize, units_per_coordinate: Vec<u32>, order: Vec<u32>) -> Self {
        let mut cells_of: Vec<Vec<u32>> = vec![Vec::new(); dim];
        for (c, v) in vectors.iter().enumerate() {
            for &x in v {
                cells_of[x as usize].push(c as u32);
            }
        }
        let totals = vectors.iter().map(|v| v.iter().map(|&x| units_per_coordinate[x as usize] as u64).sum()).collect();
        Space { vectors, sizes: units_per_coordinate, cells_of, totals, order }
    }

    /// The true count of a set of coordinates.
    pub fn count(&self, coords: &[u32]) -> u64 {
        coords.iter().map(|&x| self.sizes[x as usize] as u64).sum()
    }

    /// The feasible interval of the sum of `target` (true value = its units) given which cells
    /// are published (`published(c)`: `Some(true)` published, `Some(false)` hidden, so at
    /// least 1; `None` not released at all, no row), with the published cells whose rows bind the bounds, in
    /// local problems of growing size (`limits` free coordinates; `usize::MAX` = every cell
    /// overlapping the count) until one finds the count wide: each is sound (see the module
    /// documentation), so the first wide one settles it; narrow in all, the last one's answer.
    /// The number of local problems solved is in the result.
    pub fn escalating_interval(&self, target: &[u32], published: impl Fn(usize) -> Option<bool>, need: f64, limits: &[usize]) -> Result<Local, BoundsError> {
        let mut last: Option<Local> = None;
        let mut solves = 0;
        for &limit in limits {
            let mut local = self.interval_within(target, &published, need, limit)?;
            solves += 1;
            local.solves = solves;
            // The optima of every problem solved on the way, not only the last one's.
            if let Some(mut earlier) = last.take() {
                earlier.points.append(&mut local.points);
                local.points = earlier.points;
            }
            let (wide, truncated) = (local.interval.width() >= need, local.truncated);
            last = Some(local);
            // Wide settles it; without a cell left out, a larger limit gives the same problem.
            if wide || !truncated {
                break;
            }
        }
        Ok(last.unwrap_or(Local { interval: Interval { lo: 0.0, hi: f64::INFINITY }, binding: Vec::new(), rows: Vec::new(), truncated: false, solves, points: Vec::new() }))
    }

    /// The local problem with at most `limit` free coordinates.
    fn interval_within(&self, target: &[u32], published: &impl Fn(usize) -> Option<bool>, need: f64, limit: usize) -> Result<Local, BoundsError> {
        let mut truncated = false;
        // The neighbourhood.
        let mut free: Vec<u32> = target.to_vec();
        // A bitset over the coordinates (cheaper than hashing on the hot path).
        let mut in_free = vec![0u64; self.sizes.len().div_ceil(64)];
        let has = |bits: &[u64], x: u32| bits[x as usize / 64] >> (x % 64) & 1 == 1;
        for &x in &free {
            in_free[x as usize / 64] |= 1 << (x % 64);
        }
        let mut overlapping: Vec<u32> = target.iter().flat_map(|&x| self.cells_of[x as usize].iter().copied()).collect();
        overlapping.sort_unstable();
        overlapping.dedup();
        overlapping.sort_by_key(|&c| (self.vectors[c as usize].len(), self.order[c as usize]));
        for c in overlapping {
            let v = &self.vectors[c as usize];
            // A cell larger than the limit can never fit; otherwise count its new coordinates
            // only as far as the room left.
            let room = limit.saturating_sub(free.len());
            if v.len() > limit {
                truncated = true;
                continue;
            }
            let mut new = 0usize;
            for &x in v {
                if !has(&in_free, x) {
                    new += 1;
                    if new > room {
                        break;
                    }
                }
            }
            if new > room {
                truncated = true;
                continue;
            }
            for &x in v {
                if !has(&in_free, x) {
                    in_free[x as usize / 64] |= 1 << (x % 64);
                    free.push(x);
                }
            }
        }
        free.sort_unstable();
        let local = |x: u32| free.binary_search(&x).map(|i| i as u32).ok();
        // Every cell touching the neighbourhood, restricted to it (built from the coordinates'
        // cell lists, so a large cell costs only its coordinates in the neighbourhood).
        let mut rows: ahash::AHashMap<u32, Vec<u32>> = ahash::AHashMap::new();
        for (i, &x) in free.iter().enumerate() {
            for &c in &self.cells_of[x as usize] {
                rows.entry(c).or_default().push(i as u32);
            }
        }
        let rows: Vec<(u32, Vec<u32>)> = rows.into_iter().collect();
        let mut poly = Polytope { dim: free.len(), truth: free.iter().map(|&x| self.sizes[x as usize] as f64).collect(), ..Default::default() };
        let mut rows_of: Vec<usize> = Vec::new();
        // Cells that restrict to the same columns give the same row: keep one of each (the
        // smallest cell, so that a binding row names the cheapest cell to hide).
        let mut seen_eq: ahash::AHashMap<Vec<u32>, usize> = ahash::AHashMap::new();
        let mut seen_ge: ahash::AHashMap<Vec<u32>, f64> = ahash::AHashMap::new();
        let mut rows: Vec<(u32, Vec<u32>)> = rows;
        rows.sort_by_key(|(c, _)| (self.totals[*c as usize], self.order[*c as usize]));
        for (c, cols) in rows {
            let total = self.totals[c as usize] as f64;
            let inside: u64 = cols.iter().map(|&i| self.sizes[free[i as usize] as usize] as u64).sum();
            let fixed = total - inside as f64;
            let Some(shown) = published(c as usize) else { continue };
            if shown {
                if seen_eq.contains_key(&cols) {
                    continue;
                }
                seen_eq.insert(cols.clone(), poly.published.len());
                poly.published.push((cols, total - fixed));
                rows_of.push(c as usize);
            } else if 1.0 - fixed > 0.0 {
                let e = seen_ge.entry(cols).or_insert(f64::NEG_INFINITY);
                *e = e.max(1.0 - fixed);
            }
        }
        poly.at_least = seen_ge.into_iter().filter(|(cols, _)| !seen_eq.contains_key(cols)).collect();
        poly.at_least.sort_by(|a, b| a.0.cmp(&b.0));
        let target_cols: Vec<u32> = target.iter().filter_map(|&x| local(x)).collect();
        let mut solver = IntervalSolver::new(&poly);
        let value = self.count(target) as f64;
        let solved = solver.interval(&target_cols, value, need)?;
        // The optima as points of the whole model: the free coordinates displaced, every other
        // one at its true count.
        let points = solved
            .points
            .iter()
            .map(|d| d.iter().enumerate().filter(|(_, v)| v.abs() > 1e-9).map(|(i, &v)| (free[i], v)).collect())
            .collect();
        Ok(Local { interval: solved.interval, binding: solved.binding.into_iter().map(|r| rows_of[r]).collect(), rows: rows_of, truncated, solves: 1, points })
    }

    /// Whether `point` (displacements from the true counts, by coordinate) is a point of the
    /// whole model under `published` (as for [`Space::escalating_interval`]): every coordinate
    /// non-negative, every published cell at its value, every hidden cell at least 1, each up
    /// to the solver's tolerance. Only the cells that meet the point's displaced coordinates
    /// can be off; the others are at their true counts.
    pub fn feasible(&self, point: &[(u32, f64)], published: impl Fn(usize) -> Option<bool>) -> bool {
        const TOLERANCE: f64 = 1e-6;
        let mut moved: ahash::AHashMap<u32, f64> = ahash::AHashMap::new();
        for &(x, d) in point {
            if !d.is_finite() || self.sizes[x as usize] as f64 + d < -TOLERANCE {
                return false;
            }
            for &c in &self.cells_of[x as usize] {
                *moved.entry(c).or_default() += d;
            }
        }
        moved.into_iter().all(|(c, d)| match published(c as usize) {
            Some(true) => d.abs() <= TOLERANCE,
            Some(false) => self.totals[c as usize] as f64 + d >= 1.0 - TOLERANCE,
            None => true,
        })
    }
}

/// Points of the whole model found so far, as displacements from the true counts: each optimum
/// of a local problem is one (its coordinates outside the neighbourhood at their true counts).
/// Hiding a cell only relaxes the model, so a point stays a point as protection hides more; the
/// interval between the least and the largest value a count takes at the points (and at the
/// true counts) is inside the count's feasible interval, so a count wide at the points is wide
/// without an LP of its own. Points go in only after [`Space::feasible`] has checked them.
#[derive(Debug, Default)]
pub struct Pool {
    /// Per coordinate: the points that displace it, and by how much.
    by_coordinate: Vec<Vec<(u32, f64)>>,
    points: u32,
    /// Per point: the sum of the displacements over the count being looked at.
    sums: Vec<f64>,
    touched: Vec<u32>,
}

impl Pool {
    pub fn new(dim: usize) -> Self {
        Pool { by_coordinate: vec![Vec::new(); dim], ..Default::default() }
    }

    pub fn len(&self) -> usize {
        self.points as usize
    }

    pub fn is_empty(&self) -> bool {
        self.points == 0
    }

    pub fn add(&mut self, point: &[(u32, f64)]) {
        if point.is_empty() {
            return;
        }
        for &(x, d) in point {
            self.by_coordinate[x as usize].push((self.points, d));
        }
        self.points += 1;
        self.sums.push(0.0);
    }

    /// The least and the largest value of the sum of `target` (true value `value`) over the
    /// points and the true counts.
    pub fn interval(&mut self, target: &[u32], value: f64) -> Interval {
        for &x in target {
            for &(p, d) in &self.by_coordinate[x as usize] {
                if self.sums[p as usize] == 0.0 {
                    self.touched.push(p);
                }
                self.sums[p as usize] += d;
            }
        }
        // A point whose sum came back to 0 on the way is listed twice: harmless (taken once).
        let (mut lo, mut hi) = (0.0f64, 0.0f64);
        for p in self.touched.drain(..) {
            let s = std::mem::take(&mut self.sums[p as usize]);
            lo = lo.min(s);
            hi = hi.max(s);
        }
        Interval { lo: value + lo, hi: value + hi }
    }
}

/// A count's interval in a local problem.
#[derive(Debug, Clone)]
pub struct Local {
    pub interval: Interval,
    /// Published cells whose rows bind the bounds (non-zero dual).
    pub binding: Vec<usize>,
    /// Every published cell with a row in the problem.
    pub rows: Vec<usize>,
    /// Whether an overlapping cell was left out for the size limit.
    pub truncated: bool,
    /// Local problems solved for this result.
    pub solves: usize,
    /// The optima found on the way, as points of the whole model (see [`Pool`]).
    pub points: Vec<Vec<(u32, f64)>>,
}

impl Local {
    /// A count settled at the points of a [`Pool`], without a local problem of its own.
    pub fn at_points(interval: Interval) -> Self {
        Local { interval, binding: Vec::new(), rows: Vec::new(), truncated: false, solves: 0, points: Vec::new() }
    }
}

/// The feasible interval of a hidden count (`hi` = ∞ when nothing published bounds it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub lo: f64,
    pub hi: f64,
}

impl Interval {
    /// Integer width: ⌊hi⌋ − ⌈lo⌉ (counts are integers), with a tolerance for the solver.
    pub fn width(&self) -> f64 {
        if self.hi.is_infinite() {
            return f64::INFINITY;
        }
        (self.hi + 1e-6).floor() - (self.lo - 1e-6).ceil()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BoundsError {
    #[error("the LP solver reported {0:?} for a model that the real data satisfies")]
    Solver(HighsModelStatus),
    /// A hidden count of an earlier answer would be narrowed below the threshold by what this
    /// answer cannot help saying (its hidden counts are non-zero, its zeros are published), and
    /// hiding more of it does not widen it: the answer is refused. No count is named.
    #[error("releasing these decision years would narrow a count hidden in an earlier release of the project below the threshold, whatever else is hidden; the answer is refused")]
    Unreleasable,
}

/// One LP model over a polytope, solved for a few objectives in turn (warm starts).
///
/// With a known feasible point t (the real counts) the model is written in the displacement
/// from it: x = t + p − q with p ≥ 0 and 0 ≤ q ≤ t (so x ≥ 0). Every published row becomes
/// Σ(p − q) = 0 and every hidden row Σ(p − q) ≥ 1 − Σt (≤ 0), so p = q = 0, the solver's
/// starting basis, is primal feasible (no row starts violated).
pub struct IntervalSolver {
    model: Option<Model>,
    /// Columns per coordinate: (x) or (p, q) when shifted.
    cols: Vec<(highs::Col, Option<highs::Col>)>,
    /// Offset of the objective (Σ t over the costed coordinates when shifted).
    truth: Vec<f64>,
    /// Rows of published cells, in `published` order (for the binding-row report).
    published_rows: usize,
    /// Coordinates with a non-zero cost now.
    costed: Vec<u32>,
    pub solves: usize,
}

impl std::fmt::Debug for IntervalSolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntervalSolver").field("cols", &self.cols.len()).field("solves", &self.solves).finish()
    }
}

/// The result of one optimisation: the objective and the published rows that bind it.
#[derive(Debug, Clone)]
pub struct Optimum {
    pub value: f64,
    /// Indices into `Polytope::published` whose dual value is non-zero (they hold the bound).
    pub binding: Vec<usize>,
    /// The optimal point as displacements from the true counts, per variable (empty without
    /// a known feasible point, or when unbounded).
    pub point: Vec<f64>,
}

/// A count's interval in one polytope, the rows that hold it and the optima that attain it.
#[derive(Debug, Clone)]
pub struct Solved {
    pub interval: Interval,
    pub binding: Vec<usize>,
    pub points: Vec<Vec<f64>>,
}

impl IntervalSolver {
    pub fn new(p: &Polytope) -> Self {
        let mut pb = RowProblem::default();
        let shifted = p.truth.len() == p.dim;
        let cols: Vec<(highs::Col, Option<highs::Col>)> = (0..p.dim)
            .map(|j| {
                if shifted {
                    (pb.add_column(0.0, 0.0..), Some(pb.add_column(0.0, 0.0..=p.truth[j])))
                } else {
                    (pb.add_column(0.0, 0.0..), None)
                }
            })
            .collect();
        let factors = |coords: &[u32]| -> Vec<(highs::Col, f64)> {
            coords
                .iter()
                .flat_map(|&c| {
                    let (a, b) = cols[c as usize];
                    std::iter::once((a, 1.0)).chain(b.map(|b| (b, -1.0)))
                })
                .collect()
        };
        let net = |coords: &[u32], v: f64| if shifted { v - coords.iter().map(|&c| p.truth[c as usize]).sum::<f64>() } else { v };
        for (coords, value) in &p.published {
            let v = net(coords, *value);
            pb.add_row(v..=v, factors(coords));
        }
        for (coords, at_least) in &p.at_least {
            pb.add_row(net(coords, *at_least).., factors(coords));
        }
        let mut model = pb.optimise(Sense::Maximise);
        model.make_quiet();
        model.set_option("threads", 1);
        // Small problems solved twice (max, then min from the max's basis): no presolve (it
        // doubled the time). The dual simplex: measured on the default release against the
        // primal one, its LPs took 13.4 s instead of 18.2 s, and the rows its optima bind led to
        // 3 388 secondary suppressions instead of 3 807.
        model.set_option("presolve", "off");
        model.set_option("simplex_strategy", 1);
        let truth = if shifted { p.truth.clone() } else { Vec::new() };
        IntervalSolver { model: Some(model), cols, truth, published_rows: p.published.len(), costed: Vec::new(), solves: 0 }
    }

    /// Maximise (`max = true`) or minimise the sum of `coords`.
    pub fn optimise(&mut self, coords: &[u32], max: bool) -> Result<Optimum, BoundsError> {
        let mut model = self.model.take().expect("the model is put back after every solve");
        let set = |model: &mut Model, c: u32, cost: f64| {
            let (a, b) = self.cols[c as usize];
            model.change_column_cost(a, cost);
            if let Some(b) = b {
                model.change_column_cost(b, -cost);
            }
        };
        for &c in &self.costed {
            set(&mut model, c, 0.0);
        }
        for &c in coords {
            set(&mut model, c, 1.0);
        }
        self.costed = coords.to_vec();
        let offset: f64 = if self.truth.is_empty() { 0.0 } else { coords.iter().map(|&c| self.truth[c as usize]).sum() };
        model.set_sense(if max { Sense::Maximise } else { Sense::Minimise });
        let solved = model.solve();
        self.solves += 1;
        let status = solved.status();
        let out = match status {
            HighsModelStatus::Optimal => {
                let sol = solved.get_solution();
                let binding = sol.dual_rows()[..self.published_rows]
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| d.abs() > 1e-9)
                    .map(|(i, _)| i)
                    .collect();
                // Columns are (p, q) per variable, in order, when shifted.
                let point = if self.truth.is_empty() { Vec::new() } else { sol.columns().chunks_exact(2).map(|pq| pq[0] - pq[1]).collect() };
                Ok(Optimum { value: offset + solved.objective_value(), binding, point })
            }
            HighsModelStatus::Unbounded if max => Ok(Optimum { value: f64::INFINITY, binding: Vec::new(), point: Vec::new() }),
            HighsModelStatus::ModelEmpty => Ok(Optimum { value: offset, binding: Vec::new(), point: Vec::new() }),
            s => Err(BoundsError::Solver(s)),
        };
        self.model = Some(solved.into());
        out
    }

    /// The interval of the sum of `coords`, whose true value is `value`. Stops early (without
    /// the minimum) once the maximum alone is `need` above the true value.
    pub fn interval(&mut self, coords: &[u32], value: f64, need: f64) -> Result<Solved, BoundsError> {
        let hi = self.optimise(coords, true)?;
        let points: Vec<Vec<f64>> = std::iter::once(hi.point).filter(|p| !p.is_empty()).collect();
        if hi.value.is_infinite() || (hi.value + 1e-6).floor() - value >= need {
            // The minimum is not needed (it is at most the true value): report the true value.
            return Ok(Solved { interval: Interval { lo: value, hi: hi.value }, binding: hi.binding, points });
        }
        let lo = self.optimise(coords, false)?;
        let mut binding = hi.binding;
        binding.extend(lo.binding);
        binding.sort_unstable();
        binding.dedup();
        let mut points = points;
        points.extend(std::iter::once(lo.point).filter(|p| !p.is_empty()));
        Ok(Solved { interval: Interval { lo: lo.value, hi: hi.value }, binding, points })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two hidden cells a, b of a published sum a + b = 3 (the singleton problem): each is in
    /// [1, 2], narrower than a threshold of 2. With the sum hidden too and a larger total
    /// published, each can range widely.
    #[test]
    fn a_small_published_sum_of_two_hidden_cells_pins_them() {
        let (a, b, c) = (vec![0u32], vec![1u32], vec![2u32]);
        let (ab, all) = (vec![0u32, 1], vec![0u32, 1, 2]);
        let p = Polytope { dim: 3, published: vec![(ab.clone(), 3.0), (c.clone(), 40.0), (all.clone(), 43.0)], at_least: vec![(a.clone(), 1.0), (b.clone(), 1.0)], truth: Vec::new() };
        let mut s = IntervalSolver::new(&p);
        let Solved { interval: i, binding, .. } = s.interval(&a, 1.0, 2.0).expect("solves");
        assert_eq!((i.lo.round(), i.hi.round(), i.width()), (1.0, 2.0, 1.0));
        assert!(!binding.is_empty() && binding.iter().all(|&r| r == 0 || r == 2), "a published row holds the bound: {binding:?}");
        // The same from the real counts (a = 1, b = 2, c = 40), in the displacement form.
        let shifted = Polytope { truth: vec![1.0, 2.0, 40.0], ..p };
        let mut s = IntervalSolver::new(&shifted);
        let Solved { interval: i, binding, .. } = s.interval(&a, 1.0, 2.0).expect("solves");
        assert_eq!((i.lo.round(), i.hi.round(), i.width()), (1.0, 2.0, 1.0));
        // The rows are dependent (a + b = total − c), so either a + b or both c and the total
        // hold the bound: each is an optimal dual.
        assert!(binding.contains(&0) || (binding.contains(&1) && binding.contains(&2)), "the published rows that hold the bound: {binding:?}");
        let i = s.interval(&b, 2.0, 2.0).expect("solves").interval;
        assert_eq!((i.lo.round(), i.hi.round()), (1.0, 2.0));

        // Hide a + b and c: publish only the total. a ∈ [1, 41].
        let one = |v: &Vec<u32>| (v.clone(), 1.0);
        let p = Polytope { dim: 3, published: vec![(all.clone(), 43.0)], at_least: vec![one(&a), one(&b), one(&ab), one(&c)], truth: Vec::new() };
        let mut s = IntervalSolver::new(&p);
        let i = s.interval(&a, 1.0, 2.0).expect("solves").interval;
        assert!(i.hi >= 41.0 - 1e-6, "{i:?}");
        assert!(i.width() >= 2.0);
        let mut s = IntervalSolver::new(&Polytope { truth: vec![1.0, 2.0, 40.0], ..p });
        let i = s.interval(&a, 1.0, 2.0).expect("solves").interval;
        assert!((i.hi - 41.0).abs() < 1e-6, "{i:?}");
        // Nothing published over b and c: unbounded.
        let p = Polytope { dim: 3, published: vec![], at_least: vec![one(&a), one(&b)], truth: vec![1.0, 2.0, 40.0] };
        let mut s = IntervalSolver::new(&p);
        assert!(s.interval(&b, 1.0, 2.0).expect("solves").interval.hi.is_infinite());
    }

    /// The optima of a local problem are points of the whole model (checked by
    /// `Space::feasible`), and a pool of them bounds a count from inside its interval.
    #[test]
    fn optima_are_checked_points_and_the_pool_spans_what_they_reach() {
        // Coordinates a, b, c of 1, 2 and 40 units; cells a, b, c, a + b and a + b + c.
        let vectors = vec![vec![0u32], vec![1], vec![2], vec![0, 1], vec![0, 1, 2]];
        let sets: Vec<&[u32]> = vectors.iter().map(|v| v.as_slice()).collect();
        let space = Space::new(&vectors, 3, vec![1, 2, 40], canonical_order(&sets));
        // a and b hidden, the rest published: a ∈ [1, 2].
        let singleton = |c: usize| Some(!matches!(c, 0 | 1));
        // a = 2, b = 1: every published cell keeps its value.
        assert!(space.feasible(&[(0, 1.0), (1, -1.0)], singleton));
        // b = 0: a hidden cell below 1.
        assert!(!space.feasible(&[(0, 2.0), (1, -2.0)], singleton));
        // a + b would change.
        assert!(!space.feasible(&[(0, 1.0)], singleton));
        // A coordinate below 0 (b = −1), even with every cell hidden but the total.
        let total_only = |c: usize| Some(c == 4);
        assert!(!space.feasible(&[(0, 3.0), (1, -3.0)], total_only));
        assert!(space.feasible(&[(0, 30.0), (2, -30.0)], total_only));
        // A cell not released has no row.
        assert!(space.feasible(&[(0, 1.0)], |c| if c == 0 { Some(false) } else { None }));

        let local = space.escalating_interval(&vectors[0], singleton, 2.0, &[SMALL_COORDINATES]).expect("solves");
        assert_eq!((local.interval.lo.round(), local.interval.hi.round()), (1.0, 2.0));
        assert!(!local.points.is_empty());
        let mut pool = Pool::new(3);
        for p in &local.points {
            assert!(space.feasible(p, singleton), "{p:?}");
            pool.add(p);
        }
        // The pool reaches a = 2 (the maximum) and never leaves the LP's interval.
        let seen = pool.interval(&vectors[0], 1.0);
        assert!((seen.hi - 2.0).abs() < 1e-6 && seen.lo >= 1.0 - 1e-6, "{seen:?}");
        assert_eq!(seen.width(), 1.0);
        // a + b is published: no point moves it (a point's sum that comes back to 0 counts once).
        let ab = pool.interval(&vectors[3], 3.0);
        assert!((ab.lo - 3.0).abs() < 1e-6 && (ab.hi - 3.0).abs() < 1e-6, "{ab:?}");
        // With only the total published, a point moving 30 units from c to a makes a wide.
        pool.add(&[(0, 30.0), (2, -30.0)]);
        assert!(pool.interval(&vectors[0], 1.0).width() >= 2.0);
        // The minimum (a = 1) is the true counts themselves: no displacement, nothing to keep.
        assert_eq!(pool.len(), local.points.iter().filter(|p| !p.is_empty()).count() + 1);
    }
}
