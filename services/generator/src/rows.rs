//! In-memory rows of the seven datasets (SPEC §3), as written to both CSV and Parquet.
//!
//! Text fields are [`Txt`], a small inline string, so that millions of rows need no heap
//! allocation and so that a defect (see [`crate::dirt`]) can put any text into any text field.
//! Date fields are real dates: a defective date is a semantically impossible one (e.g. a
//! registration that ends before it starts), which both formats can hold.

use chrono::NaiveDate;

/// A short inline string (at most [`Txt::CAP`] bytes of UTF-8).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Txt {
    len: u8,
    buf: [u8; Txt::CAP],
}

impl Txt {
    pub const CAP: usize = 31;

    /// The empty string (a missing value).
    pub const EMPTY: Txt = Txt {
        len: 0,
        buf: [0; Txt::CAP],
    };

    /// `s`, truncated at [`Txt::CAP`] bytes (on a character boundary). The generator's own
    /// values always fit (checked in debug builds).
    pub fn new(s: &str) -> Txt {
        debug_assert!(s.len() <= Self::CAP, "text longer than {} bytes", Self::CAP);
        let mut end = s.len().min(Self::CAP);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let mut buf = [0u8; Self::CAP];
        buf[..end].copy_from_slice(&s.as_bytes()[..end]);
        Txt {
            len: end as u8,
            buf,
        }
    }

    /// From ASCII bytes (e.g. a canonical personnummer).
    pub fn from_ascii(bytes: &[u8]) -> Txt {
        debug_assert!(bytes.is_ascii() && bytes.len() <= Self::CAP);
        let mut buf = [0u8; Self::CAP];
        buf[..bytes.len()].copy_from_slice(bytes);
        Txt {
            len: bytes.len() as u8,
            buf,
        }
    }

    /// A `YYYY-MM` month.
    pub fn month(year: i32, month: u32) -> Txt {
        let mut b = [0u8; 7];
        write_4(&mut b[0..4], year as u32);
        b[4] = b'-';
        b[5] = b'0' + (month / 10) as u8;
        b[6] = b'0' + (month % 10) as u8;
        Txt::from_ascii(&b)
    }

    pub fn as_str(&self) -> &str {
        // Constructed only from whole UTF-8 prefixes.
        std::str::from_utf8(&self.buf[..self.len as usize]).unwrap_or_default()
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl std::fmt::Debug for Txt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl std::fmt::Display for Txt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn write_4(out: &mut [u8], v: u32) {
    out[0] = b'0' + (v / 1000 % 10) as u8;
    out[1] = b'0' + (v / 100 % 10) as u8;
    out[2] = b'0' + (v / 10 % 10) as u8;
    out[3] = b'0' + (v % 10) as u8;
}

/// `persons`: one row per person.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PersonRow {
    pub personnummer: Txt,
    pub sex: Txt,
    pub birth_date: NaiveDate,
    pub birth_country: Txt,
    pub death_date: Option<NaiveDate>,
}

/// `registrations`: one period of registration in Sweden (`registered_to` exclusive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegistrationRow {
    pub personnummer: Txt,
    pub registered_from: NaiveDate,
    pub registered_to: Option<NaiveDate>,
}

/// `decisions`: one decision on the right to assistansersättning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecisionRow {
    pub decision_id: Txt,
    pub personnummer: Txt,
    pub decision_date: NaiveDate,
    pub kind: Txt,
    pub outcome: Txt,
    pub rejection_reason: Option<Txt>,
    pub lss_group: Option<i32>,
    pub assessed_hours: Option<f64>,
    pub changed_on_appeal: bool,
}

/// `benefit_payments`: one monthly payment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BenefitRow {
    pub personnummer: Txt,
    pub recipient_personnummer: Txt,
    pub benefit: Txt,
    pub month: Txt,
    pub amount_sek: i64,
}

/// `interventions`: one executed intervention in one month.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InterventionRow {
    pub personnummer: Txt,
    pub law: Txt,
    pub intervention: Txt,
    pub municipality: Txt,
    pub month: Txt,
}

/// `personnummer_changes`: one change of number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangeRow {
    pub old_personnummer: Txt,
    pub new_personnummer: Txt,
    pub change_date: NaiveDate,
}

/// `assistance_months` (SPEC-DECISIONS §5c.1): a person's right to assistansersättning in one
/// month.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AssistanceRow {
    pub personnummer: Txt,
    pub month: Txt,
    pub granted_hours_week: f64,
    pub provider_category: Option<Txt>,
}

/// The rows of one chunk of persons, per dataset, in output order.
#[derive(Debug, Default)]
pub struct Chunk {
    pub persons: Vec<PersonRow>,
    pub registrations: Vec<RegistrationRow>,
    pub decisions: Vec<DecisionRow>,
    pub benefits: Vec<BenefitRow>,
    pub interventions: Vec<InterventionRow>,
    pub changes: Vec<ChangeRow>,
    /// `assistance_months`.
    pub assistance: Vec<AssistanceRow>,
    /// Municipal personal assistance added for SPEC-DECISIONS §5c ([`crate::assistance`]):
    /// written to `interventions` after the chunk's other rows, with defects of its own, so
    /// that the other intervention rows and their defects are those of a run without it.
    pub municipal_pa: Vec<InterventionRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txt_roundtrip() {
        assert_eq!(Txt::new("ABC").as_str(), "ABC");
        assert_eq!(Txt::month(2019, 3).as_str(), "2019-03");
        assert!(Txt::EMPTY.is_empty());
        let longest = "GRUNDLAGGANDE_FORUTSATTNINGAR";
        assert_eq!(Txt::new(longest).as_str(), longest);
    }
}
