//! Helpers shared by the statistics tests: hand-built delivery tables, finding a row of a
//! computed statistic, and running a linkage job into a local store.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use regstat_proto::linkage::v1 as pb;
use regstat_query::stats::{self, Row, Table};

pub fn s(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(v.iter().copied()))
}

pub fn batch(fields: Vec<(&str, DataType, bool)>, cols: Vec<ArrayRef>) -> RecordBatch {
    let schema = Schema::new(fields.into_iter().map(|(n, t, null)| Field::new(n, t, null)).collect::<Vec<_>>());
    RecordBatch::try_new(Arc::new(schema), cols).expect("batch")
}

pub fn day(d: &str) -> i32 {
    regstat_contract::date_to_days(chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("date"))
}

/// A delivered `persons` table: (pseudonym, sex, birth_year, birth_country).
pub fn persons(rows: &[(&str, &str, i32, &str)]) -> RecordBatch {
    batch(
        vec![("pseudonym", DataType::Utf8, false), ("sex", DataType::Utf8, false), ("birth_year", DataType::Int32, false), ("birth_country", DataType::Utf8, false)],
        vec![
            s(&rows.iter().map(|p| p.0).collect::<Vec<_>>()),
            s(&rows.iter().map(|p| p.1).collect::<Vec<_>>()),
            Arc::new(Int32Array::from_iter_values(rows.iter().map(|p| p.2))),
            s(&rows.iter().map(|p| p.3).collect::<Vec<_>>()),
        ],
    )
}

/// A delivered decision: (pseudonym, seq, date, kind, outcome, reason, lss_group, assessed hours,
/// changed_on_appeal).
pub type Decision = (&'static str, i32, &'static str, &'static str, &'static str, Option<&'static str>, Option<i32>, Option<f64>, bool);

/// A delivered `decisions` table; `decision_ref` (a keyed tag of decision_id in a real delivery)
/// is `ref-<pseudonym>-<seq>`.
pub fn decisions(rows: &[Decision]) -> RecordBatch {
    let refs: Vec<String> = rows.iter().map(|d| format!("ref-{}-{}", d.0, d.1)).collect();
    batch(
        vec![
            ("pseudonym", DataType::Utf8, false),
            ("decision_seq", DataType::Int32, false),
            ("decision_ref", DataType::Utf8, false),
            ("decision_date", DataType::Date32, false),
            ("kind", DataType::Utf8, false),
            ("outcome", DataType::Utf8, false),
            ("rejection_reason", DataType::Utf8, true),
            ("lss_group", DataType::Int32, true),
            ("assessed_hours", DataType::Float64, true),
            ("changed_on_appeal", DataType::Boolean, false),
        ],
        vec![
            s(&rows.iter().map(|d| d.0).collect::<Vec<_>>()),
            Arc::new(Int32Array::from_iter_values(rows.iter().map(|d| d.1))),
            s(&refs.iter().map(String::as_str).collect::<Vec<_>>()),
            Arc::new(Date32Array::from_iter_values(rows.iter().map(|d| day(d.2)))),
            s(&rows.iter().map(|d| d.3).collect::<Vec<_>>()),
            s(&rows.iter().map(|d| d.4).collect::<Vec<_>>()),
            Arc::new(StringArray::from(rows.iter().map(|d| d.5).collect::<Vec<_>>())),
            Arc::new(Int32Array::from(rows.iter().map(|d| d.6).collect::<Vec<_>>())),
            Arc::new(Float64Array::from(rows.iter().map(|d| d.7).collect::<Vec<_>>())),
            Arc::new(BooleanArray::from(rows.iter().map(|d| d.8).collect::<Vec<_>>())),
        ],
    )
}

/// The one row with exactly these values in the named dimensions and empty values in every
/// other non-category dimension (so a breakdown's row is found, not another's).
pub fn row<'a>(t: &'a Table, want: &[(&str, &str)]) -> &'a Row {
    let stat = stats::find(t.statistic).expect("statistic");
    let found: Vec<&Row> = t
        .rows
        .iter()
        .filter(|r| {
            t.dims.iter().enumerate().all(|(i, d)| match want.iter().find(|(w, _)| w == d) {
                Some((_, v)) => r.values[i] == *v,
                None => stat.category.contains(d) || r.values[i].is_empty(),
            })
        })
        .collect();
    assert_eq!(found.len(), 1, "{}: {} rows {want:?}", t.statistic, found.len());
    found[0]
}

/// Run a linkage job against registries at `fk` and `sos`, delivering into `dir/query`, and
/// open the delivery.
pub async fn link(dir: &Path, fk: std::net::SocketAddr, sos: std::net::SocketAddr, params: linkage::job::JobParams) -> regstat_query::delivery::Delivery {
    std::fs::write(dir.join("secret"), [9u8; 48]).expect("secret");
    let linker = Arc::new(linkage::runner::Linker::new(
        linkage::runner::Upstreams::new(fk, sos, None),
        regstat_pseudo::MasterSecret::from_file(&dir.join("secret")).expect("secret"),
        linkage::runner::DeliveryTarget::Store(dir.join("query")),
        Arc::new(linkage::audit::AuditLog::open(&dir.join("audit.jsonl")).expect("audit")),
    ));
    let job = linker.submit(params, "test").expect("submitted");
    let mut rx = linker.watch(&job).expect("watch");
    while rx.borrow().state != pb::JobState::Succeeded as i32 && rx.borrow().state != pb::JobState::Failed as i32 {
        rx.changed().await.expect("progress");
    }
    let r = linker.result(&job).expect("result");
    assert_eq!(r.state, pb::JobState::Succeeded as i32, "{}", r.error);
    regstat_query::delivery::Delivery::open(&dir.join("query"), &r.delivery_id).expect("delivery")
}

/// The statistics a cohort delivery (one linked without the payer statistics of SPEC-DECISIONS
/// §5c, which count everyone with personal assistance) produces.
#[allow(dead_code)]
pub fn cohort_statistics() -> Vec<&'static regstat_query::stats::Statistic> {
    use regstat_query::stats::Family;
    regstat_query::stats::CATALOGUE.iter().filter(|s| !matches!(s.family, Family::Assistance | Family::Payer)).collect()
}
