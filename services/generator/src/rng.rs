//! Random streams: every stream is a ChaCha8 generator keyed by the seed, a domain (what the
//! stream is for) and an index (whose stream it is), so any person's rows can be generated on
//! their own, in any chunk, and come out the same.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a random stream is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Domain {
    /// The applicants' decision histories (one stream for the whole register).
    Applicants = 1,
    /// An applicant's own life events, by applicant number.
    ApplicantLife = 2,
    /// Allocation of support to the cohort (one stream per cell).
    Allocation = 3,
    /// An applicant's support and its months, by applicant number.
    ApplicantSupport = 4,
    /// A general-population person, by person index.
    General = 5,
    /// Defects injected into a dataset, by chunk.
    Dirt = 6,
    /// The months of an applicant's support and the parent paid child benefits, by applicant
    /// number.
    ApplicantMonths = 7,
    /// Whether a person's number was changed, and how, by person index.
    Renumber = 8,
    /// Choice of the long-standing FK recipients (`assistance_months`, SPEC-DECISIONS §5c) in a
    /// population segment, by segment number.
    AssistanceStock = 9,
    /// An FK recipient's own draws (loss of the right, hours, provider, order of entry and
    /// exit), by person index.
    Assistance = 10,
    /// Choice of the persons with municipal personal assistance without FK (§5c) in a segment,
    /// by segment number.
    MunicipalPaStock = 11,
    /// A municipal PA recipient's own draws, by person index.
    MunicipalPa = 12,
}

/// The stream of `(seed, domain, index)`.
pub fn stream(seed: u64, domain: Domain, index: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[0..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(domain as u64).to_le_bytes());
    key[16..24].copy_from_slice(&index.to_le_bytes());
    key[24..32].copy_from_slice(b"regstat\x01");
    ChaCha8Rng::from_seed(key)
}

/// A draw from a discrete distribution given by non-negative weights (index of the weight).
/// Falls back to the last index when all weights are zero.
pub fn pick<R: Rng + ?Sized>(rng: &mut R, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return weights.len().saturating_sub(1);
    }
    let mut u = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.len() - 1
}

/// Bernoulli draw with probability `p` (clamped to [0, 1]).
pub fn chance<R: Rng + ?Sized>(rng: &mut R, p: f64) -> bool {
    rng.random::<f64>() < p
}

/// Round `x` to an integer at random so that the expectation is `x` (unbiased rounding of the
/// expected count of a cell).
pub fn round_random<R: Rng + ?Sized>(rng: &mut R, x: f64) -> usize {
    let x = x.max(0.0);
    let fl = x.floor();
    fl as usize + usize::from(rng.random::<f64>() < x - fl)
}

/// A standard logistic draw (noise of a latent propensity).
pub fn logistic<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u: f64 = rng.random::<f64>().clamp(1e-12, 1.0 - 1e-12);
    (u / (1.0 - u)).ln()
}

/// log(p / (1 − p)), clamped away from 0 and 1.
pub fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}
