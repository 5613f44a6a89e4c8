//! Registries end to end: validation with exact quarantine counts on a hand-built fixture,
//! and the Flight surface over real gRPC on 127.0.0.1:0.

use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::{Array, RecordBatch, StringArray};
use arrow::compute::concat_batches;
use chrono::NaiveDate;
use regstat_contract::{load_dataset, Dataset, FormatPreference, LoadOptions};
use regstat_registry::{Hold, RegistryClient, RegistryConfig};
use regstat_tests::fixture;

fn reference() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date")
}

fn opts() -> LoadOptions {
    LoadOptions { reference_date: Some(reference()), format: FormatPreference::Csv, batch_rows: 3 }
}

/// (accepted, {reason: rows}) for one fixture dataset.
fn load(dataset: Dataset, q: &Path) -> (u64, BTreeMap<&'static str, u64>, u64) {
    let dir = fixture("defects").join(dataset.register().dir_name());
    let d = load_dataset(&dir, dataset, q, &opts()).expect("fixture loads");
    assert_eq!(d.report.rows_read, d.report.rows_accepted + d.report.rows_quarantined);
    assert_eq!(d.num_rows() as u64, d.report.rows_accepted);
    (d.report.rows_accepted, d.report.reasons.clone(), d.report.rows_read)
}

fn reasons(pairs: &[(&'static str, u64)]) -> BTreeMap<&'static str, u64> {
    pairs.iter().copied().collect()
}

#[test]
fn fixture_defects_are_quarantined_exactly() {
    let q = tempfile::tempdir().expect("tempdir");
    assert_eq!(
        load(Dataset::Persons, q.path()),
        (
            5,
            reasons(&[
                ("DUPLICATE_KEY", 1),
                ("DUPLICATE_ROW", 1),
                ("INVALID_DATE", 2),
                ("INVALID_PERSONNUMMER", 1),
                ("INVALID_VALUE", 1),
                ("MALFORMED_ROW", 1),
                ("MISSING_VALUE", 1),
                ("UNKNOWN_CODE", 1),
            ]),
            14
        )
    );
    assert_eq!(
        load(Dataset::Registrations, q.path()),
        (4, reasons(&[("DUPLICATE_ROW", 1), ("INVALID_DATE", 2)]), 7)
    );
    assert_eq!(
        load(Dataset::Decisions, q.path()),
        (
            4,
            reasons(&[("DUPLICATE_KEY", 1), ("INVALID_VALUE", 3), ("MISSING_VALUE", 2), ("UNKNOWN_CODE", 1)]),
            11
        )
    );
    assert_eq!(
        load(Dataset::BenefitPayments, q.path()),
        (
            3,
            reasons(&[("INVALID_MONTH", 1), ("INVALID_PERSONNUMMER", 1), ("INVALID_VALUE", 1), ("UNKNOWN_CODE", 1)]),
            7
        )
    );
    assert_eq!(
        load(Dataset::Interventions, q.path()),
        (
            5,
            reasons(&[
                ("DUPLICATE_ROW", 1),
                ("INVALID_MONTH", 1),
                ("INVALID_VALUE", 1),
                ("UNKNOWN_CODE", 1),
                ("UNKNOWN_INTERVENTION", 1),
            ]),
            10
        )
    );

    assert_eq!(
        load(Dataset::PersonnummerChanges, q.path()),
        (1, reasons(&[("CHANGE_CYCLE", 2), ("CHANGE_FORK", 2), ("DUPLICATE_ROW", 1), ("INVALID_PERSONNUMMER", 1)]), 7)
    );

    // The quarantine file names file, row and rule — row by row — and never an identifier.
    let text = std::fs::read_to_string(q.path().join("persons.quarantine.csv")).expect("quarantine file");
    let rows: Vec<Vec<String>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    let got: Vec<(String, String, String)> =
        rows.iter().map(|r| (r[1].clone(), r[3].clone(), r[4].clone())).collect();
    let want = [
        ("4", "INVALID_PERSONNUMMER", "personnummer"),
        ("5", "DUPLICATE_KEY", "personnummer"),
        ("6", "DUPLICATE_ROW", ""),
        ("7", "UNKNOWN_CODE", "sex"),
        ("8", "INVALID_VALUE", "birth_country"),
        ("9", "MISSING_VALUE", "birth_date"),
        ("10", "INVALID_DATE", "death_date"),
        ("11", "INVALID_DATE", "birth_date"),
        ("12", "MALFORMED_ROW", ""),
    ];
    let want: Vec<(String, String, String)> =
        want.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
    assert_eq!(got, want);
    assert!(rows.iter().all(|r| r[0].ends_with("persons.csv")));
    for entry in std::fs::read_dir(q.path()).expect("read quarantine dir") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("read");
        for pnr in ["198005171239", "8005171239", "199007314579", "9007314579", "195001019981", "198511022461"] {
            assert!(!text.contains(pnr), "an identifier leaked into a quarantine file");
        }
    }
}

#[test]
fn every_printed_form_normalises_to_the_canonical_number() {
    let q = tempfile::tempdir().expect("tempdir");
    let dir = fixture("defects/fk");
    let d = load_dataset(&dir, Dataset::Persons, q.path(), &opts()).expect("loads");
    let all = concat_batches(&d.schema, &d.batches).expect("concat");
    let pnr = all.column(0).as_any().downcast_ref::<StringArray>().expect("utf8");
    let got: Vec<&str> = (0..pnr.len()).map(|i| pnr.value(i)).collect();
    assert_eq!(got, ["198005171239", "198511022462", "201203143316", "197506705552", "199007314579"]);
}

struct Registries {
    fk: RegistryClient,
    sos: RegistryClient,
    _state: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start(dir: &Path, sos_full_export: bool) -> Registries {
    let state = tempfile::tempdir().expect("tempdir");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let stop = futures::future::FutureExt::shared(async move {
        let _ = stop_rx.await;
    });
    let mut clients = Vec::new();
    for (cfg, full) in [
        (fk_registry::test_config(&dir.join("fk"), &state.path().join("fk-registry")), true),
        (sos_register::test_config(&dir.join("sos"), &state.path().join("sos-register")), sos_full_export),
    ] {
        let cfg = RegistryConfig { full_export: full, load: opts(), ..cfg };
        let server = regstat_registry::build(cfg).await.expect("registry builds");
        let addr = server.local_addr;
        let stop = stop.clone();
        tokio::spawn(async move { server.run(stop).await.expect("serves") });
        clients.push(RegistryClient::connect(addr).await.expect("connects"));
    }
    let sos = clients.pop().expect("sos");
    let fk = clients.pop().expect("fk");
    Registries { fk, sos, _state: state, _stop: stop_tx }
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

fn column(batches: &[RecordBatch], name: &str) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let c = b.column_by_name(name).expect("column").as_any().downcast_ref::<StringArray>().expect("utf8").clone();
            (0..c.len()).map(move |i| c.value(i).to_string())
        })
        .collect()
}

#[tokio::test]
async fn flight_round_trip_returns_exactly_the_loaded_rows() {
    let r = start(&fixture("defects"), true).await;
    let infos = r.fk.list().await.expect("list");
    let counts: BTreeMap<String, i64> =
        infos.iter().map(|i| (i.flight_descriptor.as_ref().expect("descriptor").path[0].clone(), i.total_records)).collect();
    assert_eq!(
        counts,
        [("assistance_months", 0), ("benefit_payments", 3), ("decisions", 4), ("personnummer_changes", 1), ("persons", 5), ("registrations", 4)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    );
    let q = tempfile::tempdir().expect("tempdir");
    for (client, dataset) in [
        (&r.fk, Dataset::Persons),
        (&r.fk, Dataset::Registrations),
        (&r.fk, Dataset::Decisions),
        (&r.fk, Dataset::BenefitPayments),
        (&r.fk, Dataset::PersonnummerChanges),
        (&r.sos, Dataset::Interventions),
    ] {
        let got = client.fetch(dataset.name(), None).await.expect("do_get");
        let local = load_dataset(&fixture("defects").join(dataset.register().dir_name()), dataset, q.path(), &opts())
            .expect("loads");
        let want = concat_batches(&local.schema, &local.batches).expect("concat");
        let got = concat_batches(&local.schema, &got).expect("schema matches");
        assert_eq!(got, want, "{dataset}");
    }
    let report = r.sos.load_report().await.expect("report");
    assert_eq!(report.service, "sos-register");
    let d = &report.datasets[0];
    assert_eq!((d.rows_read, d.rows_accepted, d.rows_quarantined), (10, 5, 5));
}

#[tokio::test]
async fn month_ranges_restrict_each_time_axis() {
    let r = start(&fixture("defects"), true).await;
    let d = r.fk.fetch("decisions", Some(("2019-01", "2019-12"))).await.expect("decisions");
    assert_eq!(column(&d, "decision_id"), ["D1", "D9"]);
    let b = r.fk.fetch("benefit_payments", Some(("2019-06", ""))).await.expect("benefits");
    assert_eq!(column(&b, "month"), ["2019-06", "2019-07"]);
    // registrations overlapping 2006: only the open-ended and spanning periods.
    let g = r.fk.fetch("registrations", Some(("2006-01", "2006-12"))).await.expect("registrations");
    assert_eq!(column(&g, "personnummer"), ["198005171239"]);
    let g = r.fk.fetch("registrations", Some(("2005-05", "2005-05"))).await.expect("registrations");
    assert_eq!(column(&g, "personnummer"), ["198005171239", "198511022462"]);
    let i = r.sos.fetch("interventions", Some(("2019-12", "2020-12"))).await.expect("interventions");
    assert_eq!(column(&i, "intervention"), ["HEMTJANST", "KORTTIDSVISTELSE"]);

    let err = r.fk.fetch("persons", Some(("2019-01", "2019-12"))).await.expect_err("persons has no time axis");
    assert_eq!(status(err).code(), tonic::Code::InvalidArgument);
    let err = r.fk.fetch("decisions", Some(("2019-13", ""))).await.expect_err("bad month");
    assert_eq!(status(err).code(), tonic::Code::InvalidArgument);
    let err = r.fk.fetch("decisions", Some(("2020-01", "2019-01"))).await.expect_err("reversed");
    assert_eq!(status(err).code(), tonic::Code::InvalidArgument);
    let err = r.fk.fetch("interventions", None).await.expect_err("not held by FK");
    assert_eq!(status(err).code(), tonic::Code::NotFound);
}

fn status(e: arrow_flight::error::FlightError) -> tonic::Status {
    match e {
        arrow_flight::error::FlightError::Tonic(s) => *s,
        other => panic!("expected a gRPC status, got {other}"),
    }
}

#[tokio::test]
async fn person_filter_returns_exactly_the_asked_persons() {
    let r = start(&fixture("defects"), false).await;
    // Two persons, in two printed forms; one person with no interventions at all.
    let asked = vec!["19800517-1239".to_string(), "197506705552".to_string(), "199007314579".to_string()];
    let got = r.sos.fetch_persons("interventions", asked.clone(), None).await.expect("exchange");
    assert_eq!(rows(&got), 3);
    assert_eq!(column(&got, "personnummer"), ["198005171239", "198005171239", "197506705552"]);
    assert_eq!(column(&got, "month"), ["2018-02", "2018-03", "2021-06"]);
    let got = r.sos.fetch_persons("interventions", asked, Some(("2018-03", "2021-12"))).await.expect("exchange");
    assert_eq!(column(&got, "month"), ["2018-03", "2021-06"]);
    let got = r.sos.fetch_persons("interventions", vec![], None).await.expect("empty set");
    assert_eq!(rows(&got), 0);

    // Socialstyrelsen returns only the persons asked for: no whole-dataset stream.
    let err = r.sos.fetch("interventions", None).await.expect_err("full export refused");
    assert_eq!(status(err).code(), tonic::Code::PermissionDenied);

    // A malformed identifier is INVALID_ARGUMENT, and the status does not echo it.
    let err = r
        .sos
        .fetch_persons("interventions", vec!["198005171238".into()], None)
        .await
        .expect_err("bad check digit");
    let s = status(err);
    assert_eq!(s.code(), tonic::Code::InvalidArgument);
    assert!(!s.message().contains("8005171238"), "status leaks the identifier");
    assert!(s.message().contains("CHECK_DIGIT"));
}

#[tokio::test]
async fn health_and_reflection_are_served() {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;

    let state = tempfile::tempdir().expect("tempdir");
    let cfg = RegistryConfig { load: opts(), ..fk_registry::test_config(&fixture("defects/fk"), state.path()) };
    let server = regstat_registry::build(cfg).await.expect("builds");
    let addr = server.local_addr;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}")).expect("uri").connect().await.expect("connect");

    let status = HealthClient::new(channel.clone())
        .check(HealthCheckRequest { service: "arrow.flight.protocol.FlightService".into() })
        .await
        .expect("health")
        .into_inner()
        .status;
    assert_eq!(status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);

    let request = ServerReflectionRequest { host: String::new(), message_request: Some(MessageRequest::ListServices(String::new())) };
    let mut responses = ServerReflectionClient::new(channel)
        .server_reflection_info(futures::stream::iter(vec![request]))
        .await
        .expect("reflection")
        .into_inner();
    let response = responses.message().await.expect("message").expect("one response");
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("expected a service list")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(names.contains(&"regstat.registry.v1.RegistryAdmin".to_string()), "{names:?}");
    assert!(names.contains(&"grpc.health.v1.Health".to_string()), "{names:?}");
    let _ = tx.send(());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
    }
}

fn all_rows(store: &regstat_registry::RegistryStore, d: Dataset) -> RecordBatch {
    let loaded = store.dataset(d.name()).expect("dataset").read_all().expect("read");
    concat_batches(&loaded.schema, &loaded.batches).expect("concat")
}

fn all_keys(store: &regstat_registry::RegistryStore, d: Dataset) -> Vec<u64> {
    let loaded = store.dataset(d.name()).expect("dataset").read_all().expect("read");
    loaded.person_keys.iter().flat_map(|k| k.values().to_vec()).collect()
}

#[test]
fn a_restart_on_unchanged_extracts_reads_the_store_without_revalidating_and_a_changed_extract_is_validated_alone() {
    use regstat_registry::persist::Origin;
    use regstat_registry::RegistryStore;
    let tmp = tempfile::tempdir().expect("tempdir");
    let (extracts, state) = (tmp.path().join("fk"), tmp.path().join("state"));
    copy_dir(&fixture("defects").join("fk"), &extracts);
    let load_held = |hold| RegistryStore::load(regstat_contract::Register::Fk, &extracts, &state, &opts(), true, hold).expect("loads");
    let load = || load_held(Hold::Store);

    // The first start holds what it validated in memory: the reference for what is later
    // served from the store's files.
    let first = load_held(Hold::Memory);
    let read: u64 = first.reports().iter().map(|r| r.rows_read).sum();
    assert!(read > 20);
    assert_eq!(first.rows_validated(), read, "a first start validates every row");
    for &d in regstat_contract::Register::Fk.datasets() {
        assert_eq!(first.origin(d), Some(Origin::Validated), "{d}");
    }

    // Restart: nothing is validated; the reports, the rows, the person keys and a semi-join
    // served from the store's files on disk are the same as those validated in memory.
    let second = load();
    assert_eq!(second.rows_validated(), 0, "a restart on unchanged extracts validates nothing");
    for &d in &[Dataset::Persons, Dataset::Registrations, Dataset::Decisions, Dataset::BenefitPayments] {
        assert_eq!(second.origin(d), Some(Origin::Store), "{d}");
        assert!(second.dataset(d.name()).expect("d").on_disk(), "{d}: served from the store");
        assert!(!first.dataset(d.name()).expect("d").on_disk(), "{d}: held in memory");
        assert_eq!(all_rows(&second, d), all_rows(&first, d), "{d}: rows");
        assert_eq!(all_keys(&second, d), all_keys(&first, d), "{d}: person keys");
    }
    assert_eq!(second.reports(), first.reports());
    let report = regstat_registry::admin::load_report("fk-registry", &second);
    // every extract from the store (an optional dataset without an extract is absent, not stored)
    assert!(report.datasets.iter().filter(|d| d.source_format != "absent").all(|d| d.from_store), "{report:?}");
    let someone: std::collections::HashSet<u64, ahash::RandomState> = all_keys(&first, Dataset::Decisions).into_iter().take(2).collect();
    let someone = std::sync::Arc::new(someone);
    let semi = |s: &RegistryStore, range| {
        let (schema, b) = s.collect(&s.semi_join("decisions", someone.clone(), range).expect("semi-join")).expect("answer");
        concat_batches(&schema, &b).expect("concat")
    };
    let x = semi(&first, regstat_registry::MonthRange::default());
    assert!(x.num_rows() >= 2, "{x:?}");
    assert_eq!(x, semi(&second, regstat_registry::MonthRange::default()));
    let range = regstat_registry::MonthRange::parse("2018-01", "2020-12").expect("range");
    assert_eq!(semi(&first, range), semi(&second, range));
    assert_eq!(first.count("decisions", range).expect("count"), second.count("decisions", range).expect("count"));

    // A changed extract (a new valid row) is validated again, alone.
    let path = extracts.join("registrations.csv");
    let mut text = std::fs::read_to_string(&path).expect("registrations");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("198005171239,2020-01-01,\n");
    std::fs::write(&path, text).expect("write");
    let third = load();
    let regs = third.dataset("registrations").expect("registrations");
    assert_eq!(third.origin(Dataset::Registrations), Some(Origin::Validated));
    assert!(regs.on_disk(), "validated, stored, then served from the store");
    assert_eq!(third.rows_validated(), regs.report().rows_read, "only the changed extract is validated");
    assert_eq!(regs.report().rows_accepted, first.dataset("registrations").expect("r").report().rows_accepted + 1);
    assert_eq!(all_rows(&third, Dataset::Registrations).num_rows() as u64, regs.report().rows_accepted);
    for &d in &[Dataset::Persons, Dataset::Decisions, Dataset::BenefitPayments] {
        assert_eq!(third.origin(d), Some(Origin::Store), "{d}");
    }

    // A damaged store is not trusted: the extract is validated again.
    std::fs::write(state.join("store/persons.parquet"), b"not parquet").expect("damage");
    let fourth = load();
    assert_eq!(fourth.origin(Dataset::Persons), Some(Origin::Validated));
    assert_eq!(all_rows(&fourth, Dataset::Persons), all_rows(&first, Dataset::Persons));
}

/// Issue 12 items 2–3: a first start writes each batch of accepted rows to the store as it
/// validates them (holding none) and then serves them from disk: exactly the rows, person keys,
/// reports and quarantine of a first start that holds them in memory. Where the store cannot be
/// written, the rows are held and served from memory instead, and nothing is stamped.
#[test]
fn a_first_start_streams_its_rows_into_the_store_and_serves_exactly_what_it_validated() {
    use regstat_registry::persist::Origin;
    use regstat_registry::RegistryStore;
    let tmp = tempfile::tempdir().expect("tempdir");
    let extracts = tmp.path().join("fk");
    copy_dir(&fixture("defects").join("fk"), &extracts);
    // opts(): batches of 3 rows, so that every dataset is written in several.
    let load = |state: &Path, hold| RegistryStore::load(regstat_contract::Register::Fk, &extracts, state, &opts(), true, hold).expect("loads");
    let held = load(&tmp.path().join("memory"), Hold::Memory);
    let streamed = load(&tmp.path().join("store"), Hold::Store);
    // The store's directory is a file: nothing can be written there.
    let blocked_state = tmp.path().join("blocked");
    std::fs::create_dir_all(&blocked_state).expect("mkdir");
    std::fs::write(blocked_state.join("store"), b"not a directory").expect("file");
    let blocked = load(&blocked_state, Hold::Store);
    // The reports, but for where each state directory keeps its quarantine file.
    let reports = |s: &RegistryStore| {
        let mut r = s.reports();
        r.iter_mut().for_each(|d| d.quarantine_file = std::path::PathBuf::new());
        r
    };
    assert_eq!(reports(&streamed), reports(&held));
    assert_eq!(reports(&blocked), reports(&held));
    for &d in regstat_contract::Register::Fk.datasets() {
        let name = d.name();
        if held.dataset(name).expect("d").report().source_format == "absent" {
            continue;
        }
        assert_eq!(streamed.origin(d), Some(Origin::Validated), "{d}");
        assert!(streamed.dataset(name).expect("d").on_disk(), "{d}: served from the store just written");
        assert!(!blocked.dataset(name).expect("d").on_disk(), "{d}: no store, held in memory");
        assert_eq!(blocked.origin(d), Some(Origin::Validated), "{d}");
        assert_eq!(all_rows(&streamed, d), all_rows(&held, d), "{d}: rows");
        assert_eq!(all_keys(&streamed, d), all_keys(&held, d), "{d}: person keys");
        assert_eq!(all_rows(&blocked, d), all_rows(&held, d), "{d}: rows");
        let q = |state: &str| std::fs::read(tmp.path().join(state).join(format!("quarantine/{name}.quarantine.csv"))).expect("quarantine");
        assert_eq!(q("store"), q("memory"), "{d}: the same quarantine");
        assert_eq!(q("blocked"), q("memory"), "{d}: the same quarantine");
        assert!(!blocked_state.join(format!("store/{name}.json")).exists());
        // No temporary part is left behind.
        assert!(!tmp.path().join(format!("store/store/{name}.parquet.tmp")).exists(), "{d}");
    }
    let persons = streamed.dataset("persons").expect("persons").report().clone();
    assert!(persons.reasons.get("DUPLICATE_KEY").is_some_and(|&n| n > 0), "the fixture has repeated keys: {:?}", persons.reasons);
    // The duplicate hashes written beside the streamed part: one fingerprint per valid row that
    // repeats none, one key per accepted person (16 + 8 bytes each after a 24-byte header).
    let seen = std::fs::metadata(tmp.path().join("store/store/persons.seen")).expect("seen").len();
    let valid_not_repeating = persons.rows_accepted + persons.reasons.get("DUPLICATE_KEY").copied().unwrap_or(0);
    assert_eq!(seen, 24 + 16 * valid_not_repeating + 8 * persons.rows_accepted);
    // A restart serves the streamed store without validating.
    let again = load(&tmp.path().join("store"), Hold::Store);
    assert_eq!(again.rows_validated(), 0);
    assert_eq!(all_rows(&again, Dataset::Persons), all_rows(&held, Dataset::Persons));
}

/// Issue 12 item 4: a month's file added next to the earlier extract is validated alone, its
/// duplicates judged against everything accepted before, and the result is exactly what a load of
/// every file in one pass gives (rows, person keys, per-file reports, the quarantine file).
#[test]
fn an_added_months_file_is_validated_alone_and_gives_exactly_a_load_of_every_file() {
    use regstat_registry::persist::Origin;
    use regstat_registry::RegistryStore;
    let tmp = tempfile::tempdir().expect("tempdir");
    let (extracts, state) = (tmp.path().join("fk"), tmp.path().join("state"));
    copy_dir(&fixture("defects").join("fk"), &extracts);
    // Served from the store on disk; the fresh loads it is compared with hold what they
    // validated in memory.
    let load_in = |state: &Path, hold| RegistryStore::load(regstat_contract::Register::Fk, &extracts, state, &opts(), true, hold).expect("loads");
    let load = || load_in(&state, Hold::Store);
    let quarantine = |state: &Path| std::fs::read_to_string(state.join("quarantine/persons.quarantine.csv")).expect("quarantine");
    let first = load();
    let base_rows = first.dataset("persons").expect("persons").report().rows_read;
    assert_eq!(base_rows, 14);

    // February: a copy of a base row that was quarantined as a repeated key (an exact duplicate
    // of a row seen before), a known person with other values (a repeated key), a copy of an
    // accepted row in another printed form, one new person, a malformed row.
    let february = extracts.join("persons.2024-02.csv");
    std::fs::write(
        &february,
        "personnummer,sex,birth_date,birth_country,death_date,extra_column\n\
         198005171239,M,1980-05-17,SE,,x\n\
         199007314579,M,1990-07-31,SE,,x\n\
         198511022462,M,1985-11-02,FI,,x\n\
         197001011233,K,1970-01-01,SE,,x\n\
         199001011234,M\n",
    )
    .expect("february");
    let second = load();
    assert_eq!(second.origin(Dataset::Persons), Some(Origin::Increment { files: 1, rows: 5 }));
    assert_eq!(second.rows_validated(), 5, "only the added file is validated");
    for &d in &[Dataset::Registrations, Dataset::Decisions, Dataset::BenefitPayments] {
        assert_eq!(second.origin(d), Some(Origin::Store), "{d}");
    }
    let persons = second.dataset("persons").expect("persons");
    assert!(persons.on_disk());
    let r = persons.report();
    assert_eq!((r.rows_read, r.rows_accepted, r.rows_quarantined), (19, 6, 13));
    assert_eq!(r.files.len(), 2);
    let feb = &r.files[1];
    assert_eq!(feb.file, february);
    assert_eq!((feb.rows_read, feb.rows_accepted, feb.rows_quarantined), (5, 1, 4));
    let want: BTreeMap<String, u64> = [("DUPLICATE_ROW", 2), ("DUPLICATE_KEY", 1), ("MALFORMED_ROW", 1)].iter().map(|(k, v)| (k.to_string(), *v)).collect();
    assert_eq!(feb.reasons, want);
    assert_eq!(r.files[0], first.dataset("persons").expect("p").report().files[0], "the base file's report is kept");
    let lines: Vec<String> = quarantine(&state).lines().filter(|l| l.contains("persons.2024-02.csv")).map(String::from).collect();
    let rows: Vec<&str> = lines.iter().map(|l| l.split(',').nth(1).expect("row number")).collect();
    assert_eq!(rows, ["1", "2", "3", "5"], "row numbers within the added file: {lines:?}");
    let report = regstat_registry::admin::load_report("fk-registry", &second);
    let p = report.datasets.iter().find(|d| d.dataset == "persons").expect("persons");
    assert_eq!((p.files.len(), p.files_validated, p.from_store), (2, 1, false));

    // The same as validating every file from nothing.
    let fresh_state = tmp.path().join("fresh");
    let fresh = load_in(&fresh_state, Hold::Memory);
    assert_eq!(fresh.origin(Dataset::Persons), Some(Origin::Validated));
    assert_eq!(all_rows(&fresh, Dataset::Persons), all_rows(&second, Dataset::Persons));
    assert_eq!(all_keys(&fresh, Dataset::Persons), all_keys(&second, Dataset::Persons));
    assert_eq!(fresh.dataset("persons").expect("p").report().files, r.files);
    assert_eq!(fresh.dataset("persons").expect("p").report().source_sha256, r.source_sha256);
    assert_ne!(r.source_sha256, first.dataset("persons").expect("p").report().source_sha256, "the dataset's content hash covers its files");
    let (q_inc, q_fresh) = (quarantine(&state), quarantine(&fresh_state));
    assert_eq!(q_inc.replace(&state.display().to_string(), ""), q_fresh.replace(&fresh_state.display().to_string(), ""));

    // Restart: nothing validated. An interrupted load's quarantine rows (appended, no stamp)
    // are cut away before the next increment.
    let third = load();
    assert_eq!(third.origin(Dataset::Persons), Some(Origin::Store));
    assert_eq!(third.rows_validated(), 0);
    assert_eq!(all_rows(&third, Dataset::Persons), all_rows(&fresh, Dataset::Persons));
    let mut q = std::fs::OpenOptions::new().append(true).open(state.join("quarantine/persons.quarantine.csv")).expect("open");
    std::io::Write::write_all(&mut q, b"left,by,an,interrupted,load,\n").expect("append");
    drop(q);
    // March repeats February's new person's key: judged against the stored increment.
    std::fs::write(
        extracts.join("persons.2024-03.csv"),
        "personnummer,sex,birth_date,birth_country,death_date,extra_column\n197001011233,M,1970-01-01,SE,,x\n196503154566,M,1965-03-15,NO,,x\n",
    )
    .expect("march");
    let fourth = load();
    assert_eq!(fourth.origin(Dataset::Persons), Some(Origin::Increment { files: 1, rows: 2 }));
    let mar = &fourth.dataset("persons").expect("p").report().files[2];
    assert_eq!((mar.rows_accepted, mar.reasons.get("DUPLICATE_KEY").copied()), (1, Some(1)));
    let fresh_state = tmp.path().join("fresh2");
    let fresh = load_in(&fresh_state, Hold::Memory);
    assert_eq!(all_rows(&fresh, Dataset::Persons), all_rows(&fourth, Dataset::Persons));
    assert_eq!(quarantine(&state).replace(&state.display().to_string(), ""), quarantine(&fresh_state).replace(&fresh_state.display().to_string(), ""));

    // A changed earlier file: every file is validated again.
    let base = extracts.join("persons.csv");
    let mut text = std::fs::read_to_string(&base).expect("persons");
    text.push_str("196503154566,M,1965-03-15,NO,,x\n");
    std::fs::write(&base, text).expect("write");
    let fifth = load();
    assert_eq!(fifth.origin(Dataset::Persons), Some(Origin::Validated));
    let r = fifth.dataset("persons").expect("p").report();
    assert_eq!((r.files.len(), r.rows_read), (3, 15 + 5 + 2));
    assert_eq!(r.files[2].reasons.get("DUPLICATE_ROW").copied(), Some(1), "March's new person is now a copy of a base row");
}

#[test]
fn increments_are_found_beside_the_base_extract_in_label_order() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    for f in ["persons.csv", "persons.2024-03.csv", "persons.2024-02.parquet", "persons.2024-02.csv", "persons.x.y.csv", "persons.2024-04.csv.tmp", "registrations.2024-02.csv"] {
        std::fs::write(d.join(f), "").expect("write");
    }
    let names = |format| -> Vec<String> {
        regstat_contract::source_paths(d, Dataset::Persons, format).expect("paths").iter().map(|p| p.file_name().expect("name").to_string_lossy().into_owned()).collect()
    };
    assert_eq!(names(FormatPreference::Csv), ["persons.csv", "persons.2024-02.csv", "persons.2024-03.csv"]);
    assert_eq!(names(FormatPreference::Auto), ["persons.csv", "persons.2024-02.parquet", "persons.2024-03.csv"]);
    let err = regstat_contract::source_paths(d, Dataset::Registrations, FormatPreference::Auto).expect_err("no base");
    assert!(err.to_string().contains("without a base extract"), "{err}");
}
