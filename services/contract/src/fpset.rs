//! The duplicate sets of a load: which fingerprints (row hashes, key hashes) have been seen.
//!
//! At national scale a set holds tens of millions of fingerprints in gigabytes of memory, so
//! every search is a cache miss, and the searches were the largest part of a load's time. The
//! fingerprints are already uniform hashes (fixed-seed `ahash`), so this set uses them as their
//! own hash, keeps them in one flat array (linear probing: a search reads one or two adjacent
//! cache lines, where `hashbrown` reads its control bytes and its buckets in two places), and
//! searches a group of fingerprints at a time: the home slots of the whole group are read
//! first, independent loads the CPU overlaps, so the misses are paid together rather than one
//! after the other. `hashbrown` offers no way to do that.

/// A fingerprint: a uniform hash, 0 standing for an empty slot (a fingerprint that is 0 is
/// kept aside).
pub(crate) trait Fingerprint: Copy + Eq + Default {
    /// The bits that choose a slot.
    fn spread(self) -> u64;
}

impl Fingerprint for u128 {
    fn spread(self) -> u64 {
        (self as u64) ^ ((self >> 64) as u64)
    }
}

impl Fingerprint for u64 {
    fn spread(self) -> u64 {
        self
    }
}

/// Fingerprints searched together (their home slots read first).
const GROUP: usize = 16;

/// A set of fingerprints: open addressing, linear probing, a power-of-two number of slots at
/// most three quarters full.
#[derive(Debug, Clone, Default)]
pub(crate) struct FpSet<T> {
    slots: Vec<T>,
    /// Nonzero fingerprints held.
    len: usize,
    /// Whether the fingerprint 0 is held.
    zero: bool,
}

impl<T: Fingerprint> FpSet<T> {
    pub(crate) fn len(&self) -> usize {
        self.len + usize::from(self.zero)
    }

    /// Room for `additional` more fingerprints without growing.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let need = self.len + additional;
        if need * 4 > self.slots.len() * 3 {
            self.resize((need * 4 / 3 + 1).next_power_of_two().max(GROUP));
        }
    }

    fn resize(&mut self, slots: usize) {
        // Written now rather than allocated zeroed (`vec!`): a zeroed allocation maps the
        // kernel's zero page, and the first write to each page after a read would then fault a
        // second time and flush the other cores' TLBs.
        let mut fresh = Vec::with_capacity(slots);
        fresh.resize(slots, T::default());
        let old = std::mem::replace(&mut self.slots, fresh);
        self.len = 0;
        for v in old.into_iter().filter(|v| *v != T::default()) {
            self.place(v);
        }
    }

    fn home(&self, v: T) -> usize {
        (v.spread() as usize) & (self.slots.len() - 1)
    }

    /// Insert a nonzero fingerprint; false if it was already held. There is room.
    fn place(&mut self, v: T) -> bool {
        let mask = self.slots.len() - 1;
        let mut i = self.home(v);
        loop {
            let s = self.slots[i];
            if s == v {
                return false;
            }
            if s == T::default() {
                self.slots[i] = v;
                self.len += 1;
                return true;
            }
            i = (i + 1) & mask;
        }
    }

    /// Insert `v`; false if it was already held.
    pub(crate) fn insert(&mut self, v: T) -> bool {
        if v == T::default() {
            return !std::mem::replace(&mut self.zero, true);
        }
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.resize((self.slots.len() * 2).max(GROUP));
        }
        self.place(v)
    }

    /// Insert every fingerprint of `items` (an index and a fingerprint) in order; the indices
    /// of those already held (earlier in `items` or before) are pushed to `repeated`, in order.
    pub(crate) fn insert_all(&mut self, items: &[(usize, T)], repeated: &mut Vec<usize>) {
        for group in items.chunks(GROUP) {
            self.reserve(group.len());
            // Touch the group's home slots first: independent loads, their misses overlap.
            let mut touch = 0u64;
            for &(_, v) in group {
                touch ^= self.slots[self.home(v)].spread();
            }
            std::hint::black_box(touch);
            for &(i, v) in group {
                if !self.insert(v) {
                    repeated.push(i);
                }
            }
        }
    }

    /// The fingerprints held, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.zero.then(T::default).into_iter().chain(self.slots.iter().copied().filter(|v| *v != T::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_answers_as_a_std_set() {
        let mut ours: FpSet<u128> = FpSet::default();
        let mut std_set = std::collections::HashSet::new();
        let mut x = 0x1234_5678_9abc_def0_u128;
        let mut items: Vec<(usize, u128)> = Vec::new();
        for i in 0..50_000usize {
            x = x.wrapping_mul(0x2545_f491_4f6c_dd1d_0000_0000_0000_0001).wrapping_add(1442695040888963407);
            // Repeats, small values (which share home slots) and 0 itself.
            let v = match i % 7 {
                0 => 0,
                1 => (i % 97) as u128,
                2 if i > 10 => items[i / 3].1,
                _ => x,
            };
            items.push((i, v));
        }
        let mut repeated = Vec::new();
        ours.insert_all(&items[..20_000], &mut repeated);
        for &(i, v) in &items[20_000..] {
            if !ours.insert(v) {
                repeated.push(i);
            }
        }
        let expected: Vec<usize> = items.iter().filter(|(_, v)| !std_set.insert(*v)).map(|(i, _)| *i).collect();
        assert_eq!(repeated, expected);
        assert_eq!(ours.len(), std_set.len());
        let mut held: Vec<u128> = ours.iter().collect();
        let mut want: Vec<u128> = std_set.into_iter().collect();
        held.sort_unstable();
        want.sort_unstable();
        assert_eq!(held, want);
        // Sized ahead: no growth, the same set.
        let mut sized: FpSet<u64> = FpSet::default();
        sized.reserve(1000);
        let slots = sized.slots.len();
        for v in 0..1000u64 {
            assert!(sized.insert(v.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
        }
        assert_eq!(sized.slots.len(), slots);
        assert!(!sized.insert(0));
        assert_eq!(sized.len(), 1000);
    }
}
