//! Arrow schemas of the seven datasets of the input data contract (SPEC §3).
//!
//! These are the *canonical* schemas: what the generator writes to Parquet, what a registry
//! holds in memory after validation and what it serves over Arrow Flight. A CSV extract is read
//! as text and validated into exactly these types. `personnummer` columns hold the canonical
//! 12-digit form `YYYYMMDDNNNC`; months are the contract's `YYYY-MM` text.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

/// The seven datasets, by the register that holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dataset {
    Persons,
    Registrations,
    Decisions,
    BenefitPayments,
    Interventions,
    /// `personnummer_changes` (SPEC §3.1): old number → new number, from a date.
    PersonnummerChanges,
    /// `assistance_months` (SPEC-DECISIONS §5c.1): one row per person and month with a right
    /// to assistansersättning, from 2014.
    AssistanceMonths,
}

/// Which agency's registry holds a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Register {
    /// Försäkringskassan: `DATA_DIR/fk/`.
    Fk,
    /// Socialstyrelsen: `DATA_DIR/sos/`.
    Sos,
}

impl Register {
    /// Sub-directory of `DATA_DIR` holding this register's extracts.
    pub fn dir_name(self) -> &'static str {
        match self {
            Register::Fk => "fk",
            Register::Sos => "sos",
        }
    }
    pub fn datasets(self) -> &'static [Dataset] {
        match self {
            Register::Fk => &[
                Dataset::Persons,
                Dataset::Registrations,
                Dataset::Decisions,
                Dataset::BenefitPayments,
                Dataset::PersonnummerChanges,
                Dataset::AssistanceMonths,
            ],
            Register::Sos => &[Dataset::Interventions],
        }
    }
}

/// How a dataset's rows relate to time (for range-restricted streams).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeAxis {
    /// No time dimension (`persons`).
    None,
    /// One `YYYY-MM` month column.
    Month(&'static str),
    /// One date column.
    Date(&'static str),
    /// A half-open period `[from, to)` of dates, `to` nullable (open-ended).
    Period(&'static str, &'static str),
}

impl Dataset {
    pub const ALL: [Dataset; 7] = [
        Dataset::Persons,
        Dataset::Registrations,
        Dataset::Decisions,
        Dataset::BenefitPayments,
        Dataset::Interventions,
        Dataset::PersonnummerChanges,
        Dataset::AssistanceMonths,
    ];

    /// Whether a register may lack this dataset's extract: a register without changes of
    /// personnummer delivers no `personnummer_changes` file, and loads it as empty; an extract
    /// of FK's STORE (`assistance_months`) is delivered to a register that holds one (the load
    /// report says `absent` otherwise, and a linkage job that needs it fails on that).
    pub fn optional(self) -> bool {
        matches!(self, Dataset::PersonnummerChanges | Dataset::AssistanceMonths)
    }

    /// Whether a second row for the same key is a duplicate (`DUPLICATE_KEY`): persons by
    /// personnummer, decisions by decision id, assistance months by person and month. The
    /// other datasets only have exact duplicates.
    pub fn has_key(self) -> bool {
        matches!(self, Dataset::Persons | Dataset::Decisions | Dataset::AssistanceMonths)
    }

    /// The contract's dataset name (also the file stem).
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Persons => "persons",
            Dataset::Registrations => "registrations",
            Dataset::Decisions => "decisions",
            Dataset::BenefitPayments => "benefit_payments",
            Dataset::Interventions => "interventions",
            Dataset::PersonnummerChanges => "personnummer_changes",
            Dataset::AssistanceMonths => "assistance_months",
        }
    }

    pub fn from_name(name: &str) -> Option<Dataset> {
        Dataset::ALL.into_iter().find(|d| d.name() == name)
    }

    pub fn register(self) -> Register {
        match self {
            Dataset::Interventions => Register::Sos,
            _ => Register::Fk,
        }
    }

    pub fn time_axis(self) -> TimeAxis {
        match self {
            Dataset::Persons => TimeAxis::None,
            Dataset::Registrations => TimeAxis::Period("registered_from", "registered_to"),
            Dataset::Decisions => TimeAxis::Date("decision_date"),
            Dataset::PersonnummerChanges => TimeAxis::Date("change_date"),
            Dataset::BenefitPayments | Dataset::Interventions | Dataset::AssistanceMonths => TimeAxis::Month("month"),
        }
    }

    /// Columns holding a personnummer (validated as such).
    pub fn identifier_columns(self) -> &'static [&'static str] {
        match self {
            Dataset::BenefitPayments => &["personnummer", "recipient_personnummer"],
            Dataset::PersonnummerChanges => &["old_personnummer", "new_personnummer"],
            _ => &["personnummer"],
        }
    }

    /// The canonical Arrow schema (column order = contract order).
    pub fn schema(self) -> SchemaRef {
        let pnr = |name: &str| Field::new(name, DataType::Utf8, false);
        let text = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
        let date = |name: &str, nullable: bool| Field::new(name, DataType::Date32, nullable);
        let fields = match self {
            Dataset::Persons => vec![
                pnr("personnummer"),
                text("sex", false),
                date("birth_date", false),
                text("birth_country", false),
                date("death_date", true),
            ],
            Dataset::Registrations => vec![
                pnr("personnummer"),
                date("registered_from", false),
                date("registered_to", true),
            ],
            Dataset::Decisions => vec![
                text("decision_id", false),
                pnr("personnummer"),
                date("decision_date", false),
                text("kind", false),
                text("outcome", false),
                text("rejection_reason", true),
                Field::new("lss_group", DataType::Int32, true),
                Field::new("assessed_hours", DataType::Float64, true),
                Field::new("changed_on_appeal", DataType::Boolean, false),
            ],
            Dataset::BenefitPayments => vec![
                pnr("personnummer"),
                pnr("recipient_personnummer"),
                text("benefit", false),
                text("month", false),
                Field::new("amount_sek", DataType::Int64, false),
            ],
            Dataset::Interventions => vec![
                pnr("personnummer"),
                text("law", false),
                text("intervention", false),
                text("municipality", false),
                text("month", false),
            ],
            Dataset::PersonnummerChanges => vec![
                pnr("old_personnummer"),
                pnr("new_personnummer"),
                date("change_date", false),
            ],
            Dataset::AssistanceMonths => vec![
                pnr("personnummer"),
                text("month", false),
                Field::new("granted_hours_week", DataType::Float64, false),
                text("provider_category", true),
            ],
        };
        Arc::new(Schema::new(fields))
    }
}

impl std::fmt::Display for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
