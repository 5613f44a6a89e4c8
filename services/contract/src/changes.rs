//! Changes of personnummer (SPEC §3.1 `personnummer_changes`): the rules a register enforces on
//! the whole extract, and the resolution of any number to the one in use today.
//!
//! Skatteverket gives a person a new number after a corrected birth date or a change of legal
//! sex, and a samordningsnummer holder a personnummer on registration; the old number then
//! refers to the new one. Chains (A→B, B→C) are followed to the current number (C). Numbers are
//! the compact keys of [`regstat_pnr::Pnr::as_u64`].
//!
//! Rules (judged on the whole extract, after the row checks, so the verdict does not depend on
//! row order):
//! - **fork**: one old number changed to two different new numbers. Every row of that old
//!   number is quarantined (`CHANGE_FORK`): there is no way to tell which is right.
//! - a second row with the same old *and* new number (another date) is a `DUPLICATE_KEY` (the
//!   key is the old number; the first row is kept, as for every other dataset).
//! - **cycle**: among the rows left, changes that lead back to where they started (A→B, B→A;
//!   or A→A). Every row on the cycle is quarantined (`CHANGE_CYCLE`). A change leading *into* a
//!   cycle (X→A above) is kept: X resolves to A, the last number its accepted rows reach.
//!
//! The change date is validated (a real date) and kept, but resolution does not depend on it:
//! an old number refers to the same person before and after the change, so every row held under
//! it, of any date, belongs to the person with the current number.

use std::collections::HashMap;

use crate::validate::Reason;

/// The verdict on each row of an extract of changes (`(old, new)` as person keys, in row
/// order): `None` = accepted, else why it is quarantined.
pub fn check(rows: &[(u64, u64)]) -> Vec<Option<Reason>> {
    let mut verdict: Vec<Option<Reason>> = vec![None; rows.len()];
    // Forks and repeated keys, by old number.
    let mut by_old: HashMap<u64, Vec<usize>> = HashMap::with_capacity(rows.len());
    for (i, &(old, _)) in rows.iter().enumerate() {
        by_old.entry(old).or_default().push(i);
    }
    for idx in by_old.values() {
        let first_new = rows[idx[0]].1;
        if idx.iter().any(|&i| rows[i].1 != first_new) {
            for &i in idx {
                verdict[i] = Some(Reason::ChangeFork);
            }
        } else {
            for &i in &idx[1..] {
                verdict[i] = Some(Reason::DuplicateKey);
            }
        }
    }
    // Cycles among what is left: a functional graph old → new (one edge per old number).
    let next: HashMap<u64, (u64, usize)> =
        rows.iter().enumerate().filter(|(i, _)| verdict[*i].is_none()).map(|(i, &(o, n))| (o, (n, i))).collect();
    // 1 = on the current path, 2 = finished.
    let mut state: HashMap<u64, u8> = HashMap::with_capacity(next.len());
    let mut starts: Vec<u64> = next.keys().copied().collect();
    starts.sort_unstable();
    for start in starts {
        if state.contains_key(&start) {
            continue;
        }
        let mut path: Vec<u64> = Vec::new();
        let mut at = start;
        loop {
            match state.get(&at) {
                Some(1) => {
                    // `at` is on the path: the path from `at` on is a cycle.
                    let from = path.iter().position(|&p| p == at).unwrap_or(0);
                    for p in &path[from..] {
                        if let Some(&(_, row)) = next.get(p) {
                            verdict[row] = Some(Reason::ChangeCycle);
                        }
                    }
                    break;
                }
                Some(_) => break,
                None => {}
            }
            match next.get(&at) {
                Some(&(n, _)) => {
                    state.insert(at, 1);
                    path.push(at);
                    at = n;
                }
                None => break,
            }
        }
        for p in path {
            state.insert(p, 2);
        }
    }
    verdict
}

/// Every number of a set of accepted changes resolved to the number in use today.
#[derive(Debug, Clone, Default)]
pub struct Renumbering {
    /// old number → (current number, changes followed to reach it).
    current: HashMap<u64, (u64, u32)>,
}

impl Renumbering {
    /// From accepted changes `(old, new)`. The rules of [`check`] are applied again (a register
    /// has applied them already; a row that breaks them here is ignored, never followed), so
    /// resolution always ends.
    pub fn new(changes: &[(u64, u64)]) -> Renumbering {
        let verdict = check(changes);
        let next: HashMap<u64, u64> =
            changes.iter().zip(&verdict).filter(|(_, v)| v.is_none()).map(|(&(o, n), _)| (o, n)).collect();
        let mut current = HashMap::with_capacity(next.len());
        for &old in next.keys() {
            let (mut at, mut steps) = (old, 0u32);
            while let Some(&n) = next.get(&at) {
                at = n;
                steps += 1;
                if steps as usize > next.len() {
                    break; // unreachable after `check`: no cycle is left
                }
            }
            current.insert(old, (at, steps));
        }
        Renumbering { current }
    }

    /// The number in use today for `key` (itself when it was never changed).
    pub fn resolve(&self, key: u64) -> u64 {
        self.current.get(&key).map_or(key, |&(c, _)| c)
    }

    /// How many changes lead from `key` to its current number (0 for a current number).
    pub fn distance(&self, key: u64) -> u32 {
        self.current.get(&key).map_or(0, |&(_, d)| d)
    }

    /// Number of old numbers known.
    pub fn len(&self) -> usize {
        self.current.len()
    }

    pub fn is_empty(&self) -> bool {
        self.current.is_empty()
    }

    /// The old numbers that resolve to one of `current` (sorted): what a register may still
    /// hold for those persons.
    pub fn old_numbers_of(&self, current: &dyn Fn(u64) -> bool) -> Vec<u64> {
        let mut out: Vec<u64> = self.current.iter().filter(|(_, &(c, _))| current(c)).map(|(&o, _)| o).collect();
        out.sort_unstable();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forks_duplicates_and_cycles_are_judged_on_the_whole_extract() {
        // rows: 0 A→B, 1 B→C (chain); 2 D→E, 3 D→F (fork); 4 G→H, 5 G→H (repeated key);
        // 6 J→K, 7 K→J (cycle); 8 X→J (into the cycle); 9 S→S (self-change); 10 F→D (fine)
        let (a, b, c, d, e, f, g, h, j, k, x, s) = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
        let rows = [(a, b), (b, c), (d, e), (d, f), (g, h), (g, h), (j, k), (k, j), (x, j), (s, s), (f, d)];
        let v = check(&rows);
        use Reason::*;
        assert_eq!(
            v,
            vec![None, None, Some(ChangeFork), Some(ChangeFork), None, Some(DuplicateKey), Some(ChangeCycle), Some(ChangeCycle), None, Some(ChangeCycle), None]
        );
        let r = Renumbering::new(&rows);
        assert_eq!((r.resolve(a), r.distance(a)), (c, 2));
        assert_eq!((r.resolve(b), r.distance(b)), (c, 1));
        assert_eq!((r.resolve(c), r.distance(c)), (c, 0));
        assert_eq!(r.resolve(d), d, "a forked number is not resolved");
        assert_eq!(r.resolve(f), d);
        assert_eq!(r.resolve(g), h);
        assert_eq!(r.resolve(j), j, "a number on a cycle is not resolved");
        assert_eq!(r.resolve(x), j);
        assert_eq!(r.resolve(s), s);
        assert_eq!(r.old_numbers_of(&|n| n == c), vec![a, b]);
        assert_eq!(r.old_numbers_of(&|n| n == 99), Vec::<u64>::new());
        assert_eq!(r.len(), 5);
    }

    #[test]
    fn the_verdict_does_not_depend_on_row_order() {
        let rows = [(1, 2), (2, 3), (3, 1), (4, 2), (5, 6), (5, 7)];
        let mut rev = rows;
        rev.reverse();
        let mut v = check(&rows);
        let mut w = check(&rev);
        w.reverse();
        assert_eq!(v, w);
        v.retain(Option::is_some);
        assert_eq!(v.len(), 5);
    }
}
