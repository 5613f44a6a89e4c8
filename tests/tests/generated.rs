//! The registries on generated extracts: a DIRT run is quarantined and reconciled exactly
//! against the generator's ground truth, and CSV and Parquet load to identical data.

use std::collections::BTreeMap;

use arrow::compute::concat_batches;
use regstat_contract::{Dataset, FormatPreference, LoadOptions};
use regstat_registry::{RegistryClient, RegistryConfig};

fn opts(format: FormatPreference) -> LoadOptions {
    LoadOptions { reference_date: chrono::NaiveDate::from_ymd_opt(2024, 1, 1), format, ..LoadOptions::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dirty_extracts_reconcile_with_the_generators_ground_truth() {
    let data = tempfile::tempdir().expect("tempdir");
    let cfg = regstat_gen::GenConfig { persons: 2_000, seed: 7, dirt: 0.01, out_dir: data.path().to_path_buf() };
    let truth = tokio::task::spawn_blocking(move || regstat_gen::generate(&cfg)).await.expect("join").expect("generates");
    let state = tempfile::tempdir().expect("tempdir");

    let mut reports = BTreeMap::new();
    for cfg in [
        fk_registry::test_config(&data.path().join("fk"), &state.path().join("fk-registry")),
        sos_register::test_config(&data.path().join("sos"), &state.path().join("sos-register")),
    ] {
        let cfg = RegistryConfig { load: opts(FormatPreference::Csv), ..cfg };
        let server = regstat_registry::build(cfg).await.expect("loads generated extracts");
        let addr = server.local_addr;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        let report = RegistryClient::connect(addr).await.expect("connects").load_report().await.expect("report");
        for d in report.datasets {
            reports.insert(d.dataset.clone(), d);
        }
        let _ = tx.send(());
    }

    assert_eq!(reports.len(), 7);
    for (name, want) in &truth.datasets {
        let got = &reports[*name];
        assert_eq!(got.rows_read, want.rows, "{name}: rows read");
        assert_eq!(got.rows_quarantined, want.defective_rows, "{name}: quarantined");
        assert_eq!(got.rows_accepted, want.clean_rows, "{name}: accepted");
        // (A few dozen changes of number: too few rows for 1 % to be sure to hit one.)
        assert!(want.defective_rows > 0 || want.rows < 1_000, "{name}: the run injected defects");
        let got_reasons: BTreeMap<String, u64> = got.reasons.iter().map(|r| (r.reason.clone(), r.rows)).collect();
        let want_reasons: BTreeMap<String, u64> =
            want.defects.iter().filter(|(_, n)| **n > 0).map(|(k, n)| (k.to_string(), *n)).collect();
        assert_eq!(got_reasons, want_reasons, "{name}: reasons");
    }
}

#[test]
fn csv_and_parquet_load_to_identical_data() {
    let data = tempfile::tempdir().expect("tempdir");
    regstat_gen::generate(&regstat_gen::GenConfig { persons: 2_000, seed: 11, dirt: 0.005, out_dir: data.path().to_path_buf() })
        .expect("generates");
    let q = tempfile::tempdir().expect("tempdir");
    for dataset in Dataset::ALL {
        let dir = data.path().join(dataset.register().dir_name());
        let csv = regstat_contract::load_dataset(&dir, dataset, &q.path().join("csv"), &opts(FormatPreference::Csv)).expect("csv");
        let pq = regstat_contract::load_dataset(&dir, dataset, &q.path().join("pq"), &opts(FormatPreference::Parquet)).expect("parquet");
        assert_eq!(csv.report.source_format, "csv");
        assert_eq!(pq.report.source_format, "parquet");
        assert_eq!(
            (csv.report.rows_read, csv.report.rows_accepted, &csv.report.reasons),
            (pq.report.rows_read, pq.report.rows_accepted, &pq.report.reasons),
            "{dataset}"
        );
        let a = concat_batches(&csv.schema, &csv.batches).expect("concat");
        let b = concat_batches(&pq.schema, &pq.batches).expect("concat");
        assert_eq!(a, b, "{dataset}: CSV and Parquet give different data");
    }
}
