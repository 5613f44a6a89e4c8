//! The validation error of this crate.

/// Why a personnummer / samordningsnummer was rejected.
///
/// The messages describe only the *rule* that failed and never contain the input text: the
/// input is a personal identifier and must not reach logs or quarantine files. Use
/// [`PnrError::code`] for a stable machine-readable reason.
///
/// When an input breaks several rules, the first failing check wins, in this order:
/// [`Format`](PnrError::Format), [`Year`](PnrError::Year) (12-digit forms) or
/// [`Century`](PnrError::Century) (10-digit forms), [`Date`](PnrError::Date),
/// [`Serial`](PnrError::Serial), [`CheckDigit`](PnrError::CheckDigit). (For 10-digit forms a
/// month or day that is invalid in *every* year is reported as `Date` before the century is
/// inferred.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum PnrError {
    /// The text is not one of the accepted forms (or an integer value has more than 12 digits).
    #[error("not one of the accepted forms YYYYMMDDNNNC, YYYYMMDD-NNNC, YYMMDD-NNNC, YYMMDD+NNNC")]
    Format,
    /// The date part is not a real calendar date (day - 60 for a samordningsnummer).
    #[error("date part is not a real calendar date")]
    Date,
    /// The serial number NNN is 000 (or, for [`Pnr::from_parts`](crate::Pnr::from_parts),
    /// outside 1..=999).
    #[error("serial number 000 (the serial must be in 001..=999)")]
    Serial,
    /// The Luhn check digit over `YYMMDDNNN` does not match the last digit.
    #[error("Luhn check digit does not match")]
    CheckDigit,
    /// A 10-digit form's century could not be inferred from the reference date (the inferred
    /// birth year would be before 1800 or after 9999).
    #[error("no century fits the reference date")]
    Century,
    /// The year is before 1800 (or, for [`Pnr::from_parts`](crate::Pnr::from_parts), has more
    /// than four digits).
    #[error("year before 1800 (the year must be in 1800..=9999)")]
    Year,
}

impl PnrError {
    /// Every variant, in declaration order (for exhaustive tests and documentation).
    pub const ALL: [PnrError; 6] = [
        PnrError::Format,
        PnrError::Date,
        PnrError::Serial,
        PnrError::CheckDigit,
        PnrError::Century,
        PnrError::Year,
    ];

    /// Stable upper-snake-case code for quarantine files and metrics:
    /// `FORMAT`, `DATE`, `SERIAL`, `CHECK_DIGIT`, `CENTURY`, `YEAR`.
    pub fn code(&self) -> &'static str {
        match self {
            PnrError::Format => "FORMAT",
            PnrError::Date => "DATE",
            PnrError::Serial => "SERIAL",
            PnrError::CheckDigit => "CHECK_DIGIT",
            PnrError::Century => "CENTURY",
            PnrError::Year => "YEAR",
        }
    }
}
