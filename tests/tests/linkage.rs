//! Registries → linkage → delivery, all over real gRPC with mutual TLS on 127.0.0.1:0.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use arrow::array::{Array, StringArray};
use regstat_proto::linkage::v1 as pb;
use regstat_proto::linkage::v1::linkage_client::LinkageClient;
use regstat_registry::RegistryConfig;
use regstat_server::tls::{self, TlsMaterial};
use regstat_server::Access;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Running {
    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = self.task.await;
    }
}

fn stopper() -> (oneshot::Sender<()>, impl std::future::Future<Output = ()> + Send) {
    let (tx, rx) = oneshot::channel::<()>();
    (tx, async move {
        let _ = rx.await;
    })
}

struct Stack {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    certs: PathBuf,
    state: PathBuf,
    fk: Running,
    sos: Option<Running>,
    linkage: Running,
}

fn reference() -> regstat_contract::LoadOptions {
    regstat_contract::LoadOptions { reference_date: chrono::NaiveDate::from_ymd_opt(2024, 1, 1), ..Default::default() }
}

async fn start_registry(cfg: RegistryConfig, certs: &Path, identity: &str, addr: Option<SocketAddr>) -> Running {
    let cfg = RegistryConfig {
        tls: Some(TlsMaterial::from_dir(certs, identity).expect("cert")),
        access: Access::new(regstat_registry::server::registry_policy()),
        load: reference(),
        listen: addr.unwrap_or(cfg.listen),
        ..cfg
    };
    let server = regstat_registry::build(cfg).await.expect("registry builds");
    let addr = server.local_addr;
    let (tx, stop) = stopper();
    let task = tokio::spawn(async move { server.run(stop).await.expect("serves") });
    Running { addr, stop: Some(tx), task }
}

async fn start_sos(data: &Path, state: &Path, certs: &Path, addr: Option<SocketAddr>) -> Running {
    start_registry(sos_register::test_config(&data.join("sos"), &state.join("sos-register")), certs, "sos-register", addr).await
}

impl Stack {
    async fn start() -> Stack {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        let certs = tmp.path().join("certs");
        let state = tmp.path().join("state");
        let d = data.clone();
        tokio::task::spawn_blocking(move || {
            regstat_gen::generate(&regstat_gen::GenConfig { persons: 2_000, seed: 5, dirt: 0.0, out_dir: d })
        })
        .await
        .expect("join")
        .expect("generates");
        tls::write_dev_certs(&certs, &["fk-registry", "sos-register", "linkage", "query", "operator", "analytics"]).expect("certs");
        let secret = tmp.path().join("master.secret");
        std::fs::write(&secret, b"a test master secret of more than 32 bytes, never logged").expect("secret");

        let fk = start_registry(fk_registry::test_config(&data.join("fk"), &state.join("fk-registry")), &certs, "fk-registry", None).await;
        let sos = start_sos(&data, &state, &certs, None).await;
        let material = TlsMaterial::from_dir(&certs, "linkage").expect("cert");
        let config = linkage::LinkageConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            state: state.join("linkage"),
            target: linkage::runner::DeliveryTarget::Store(state.join("query")),
            upstreams: linkage::runner::Upstreams {
                // A registry that stays down fails the job after a short retry budget.
                backoff: regstat_server::retry::Backoff {
                    initial: std::time::Duration::from_millis(50),
                    max: std::time::Duration::from_millis(200),
                    budget: std::time::Duration::from_millis(800),
                },
                ..linkage::runner::Upstreams::new(fk.addr, sos.addr, Some(material.clone()))
            },
            master: regstat_pseudo::MasterSecret::from_file(&secret).expect("secret"),
            tls: Some(material),
            access: Access::new(linkage::server::linkage_policy()),
        };
        let server = linkage::build(config).await.expect("linkage builds");
        let addr = server.local_addr;
        let (tx, stop) = stopper();
        let task = tokio::spawn(async move { server.run(stop).await.expect("serves") });
        Stack { _tmp: tmp, data, certs, state, fk, sos: Some(sos), linkage: Running { addr, stop: Some(tx), task } }
    }

    async fn client(&self, identity: &str) -> LinkageClient<Channel> {
        let m = TlsMaterial::from_dir(&self.certs, identity).expect("cert");
        let channel = Channel::from_shared(format!("https://{}", self.linkage.addr))
            .expect("uri")
            .tls_config(m.client("linkage"))
            .expect("tls")
            .connect()
            .await
            .expect("connects");
        LinkageClient::new(channel)
    }

    /// Submit, follow the progress stream to its end, return (progress stages, result).
    async fn run_job(&self, project: &str) -> (Vec<String>, pb::JobResult) {
        let mut c = self.client("operator").await;
        let job_id = c
            .submit_job(pb::SubmitJobRequest { project: project.into(), key_version: 1, from_year: 2018, to_year: 2020, statistics: vec![] })
            .await
            .expect("submitted")
            .into_inner()
            .job_id;
        let mut stream = c.watch_job(pb::JobRef { job_id: job_id.clone() }).await.expect("watch").into_inner();
        let mut stages = Vec::new();
        while let Some(p) = stream.message().await.expect("progress") {
            stages.push(p.stage);
        }
        let r = c.get_job_result(pb::JobRef { job_id }).await.expect("result").into_inner();
        (stages, r)
    }

    fn deliveries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.state.join("query/deliveries"))
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }
}

/// Every printed form of every generated personnummer (canonical, dashed, 10-digit -/+),
/// current and old (`personnummer_changes`).
fn identifier_forms(data: &Path) -> HashSet<String> {
    let text = std::fs::read_to_string(data.join("fk/persons.csv")).expect("persons.csv");
    let changes = std::fs::read_to_string(data.join("fk/personnummer_changes.csv")).expect("personnummer_changes.csv");
    assert!(changes.lines().count() > 5, "the generated data has changes of number");
    let mut forms = HashSet::new();
    for p in text.lines().skip(1).chain(changes.lines().skip(1)).flat_map(|l| l.split(',').take(2)) {
        if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
            forms.insert(p.to_string());
            forms.insert(format!("{}-{}", &p[..8], &p[8..]));
            forms.insert(format!("{}-{}", &p[2..8], &p[8..]));
            forms.insert(format!("{}+{}", &p[2..8], &p[8..]));
        }
    }
    assert!(forms.len() > 40_000, "the scan needs the generated numbers");
    forms
}

/// Windows of 11–13 characters over runs of digits, '-' and '+'.
fn leaks(bytes: &[u8], forms: &HashSet<String>) -> usize {
    let mut found = 0;
    for run in bytes.split(|b| !(b.is_ascii_digit() || *b == b'-' || *b == b'+')) {
        if run.len() < 11 {
            continue;
        }
        for len in [11usize, 12, 13] {
            for w in run.windows(len) {
                if let Ok(s) = std::str::from_utf8(w) {
                    if forms.contains(s) {
                        found += 1;
                    }
                }
            }
        }
    }
    found
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_delivers_pseudonymised_minimised_data_and_is_audited() {
    let stack = Stack::start().await;
    let (stages, r) = stack.run_job("assistans-2024").await;
    assert_eq!(r.state, pb::JobState::Succeeded as i32, "{}", r.error);
    // Progress is the latest state (a watcher may skip stages), always in job order, ending "done".
    let order = [
        "queued",
        "personnummer_changes",
        "decisions",
        "persons",
        "registrations",
        "benefit_payments",
        "recipient_months",
        "interventions",
        "pseudonymise",
        "publish",
        "done",
    ];
    let pos: Vec<usize> = stages.iter().map(|s| order.iter().position(|o| o == s).expect("known stage")).collect();
    assert!(pos.windows(2).all(|w| w[0] <= w[1]), "{stages:?}");
    assert_eq!(stages.last().map(String::as_str), Some("done"));
    assert!(stages.len() >= 3, "{stages:?}");
    assert_eq!(stack.deliveries(), vec![r.delivery_id.clone()]);

    // The manifest lists every file with its row count and hash, the key and the inputs.
    let dir = stack.state.join("query/deliveries").join(&r.delivery_id);
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest")).expect("json");
    assert_eq!(manifest["delivery_id"], r.delivery_id.as_str());
    assert_eq!(manifest["key"]["project"], "assistans-2024");
    assert_eq!(manifest["parameters"]["from_year"], 2018);
    let files = manifest["files"].as_array().expect("files");
    let names: Vec<&str> = files.iter().filter_map(|f| f["name"].as_str()).collect();
    assert_eq!(
        names,
        ["arrivals.parquet", "benefits.parquet", "decisions.parquet", "interventions.parquet", "persons.parquet", "recipient_months.parquet", "registered.parquet"]
    );
    for f in files {
        let bytes = std::fs::read(dir.join(f["name"].as_str().expect("name"))).expect("file");
        assert_eq!(f["sha256"], hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)).as_str());
    }
    let inputs: Vec<&str> = manifest["inputs"].as_array().expect("inputs").iter().filter_map(|i| i["dataset"].as_str()).collect();
    assert_eq!(inputs, ["persons", "registrations", "decisions", "benefit_payments", "personnummer_changes", "assistance_months", "interventions"]);

    // Minimised: persons carry a birth year, never a date; no recipient, no municipality.
    let persons = read_parquet(&dir.join("persons.parquet"));
    let cols: Vec<String> = persons.schema().fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(cols, ["pseudonym", "sex", "birth_year", "birth_country"]);
    // Arrival dates (SPEC-DECISIONS D11) only of persons born abroad.
    let arrivals = read_parquet(&dir.join("arrivals.parquet"));
    let cols: Vec<String> = arrivals.schema().fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(cols, ["pseudonym", "arrival_date"]);
    let (pp, pc) = (persons.column(0).as_any().downcast_ref::<StringArray>().expect("utf8"), persons.column(3).as_any().downcast_ref::<StringArray>().expect("utf8"));
    let abroad: HashSet<&str> = (0..pp.len()).filter(|&i| pc.value(i) == "UTRIKES").map(|i| pp.value(i)).collect();
    let ap = arrivals.column(0).as_any().downcast_ref::<StringArray>().expect("utf8");
    assert!(ap.len() > 0 && (0..ap.len()).all(|i| abroad.contains(ap.value(i))), "arrivals of persons born abroad only");
    // D1 CURRENT_RECIPIENT: FK's STORE only as the linked persons' months before an application.
    let recipients = read_parquet(&dir.join("recipient_months.parquet"));
    let cols: Vec<String> = recipients.schema().fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(cols, ["pseudonym", "month"]);
    let decisions = read_parquet(&dir.join("decisions.parquet"));
    let dp = decisions.column(0).as_any().downcast_ref::<StringArray>().expect("utf8");
    let linked: HashSet<&str> = (0..dp.len()).map(|i| dp.value(i)).collect();
    let rp = recipients.column(0).as_any().downcast_ref::<StringArray>().expect("utf8");
    assert!((0..rp.len()).all(|i| linked.contains(rp.value(i))), "recipient months of linked persons only");
    let interventions = read_parquet(&dir.join("interventions.parquet"));
    let cols: Vec<String> = interventions.schema().fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(cols, ["pseudonym", "law", "intervention", "month"]);
    let months = interventions.column(3).as_any().downcast_ref::<StringArray>().expect("utf8");
    assert!((0..months.len()).all(|i| ("2017-01".."2022-01").contains(&months.value(i))), "only the years needed");

    // No personnummer, in any printed form, anywhere on the query side: raw bytes and decoded values.
    let forms = identifier_forms(&stack.data);
    for file in files_under(&stack.state.join("query")) {
        let bytes = std::fs::read(&file).expect("read");
        assert_eq!(leaks(&bytes, &forms), 0, "{} holds a personnummer", file.display());
        if file.extension().is_some_and(|e| e == "parquet") {
            let b = read_parquet(&file);
            for c in b.columns() {
                if let Some(s) = c.as_any().downcast_ref::<StringArray>() {
                    for i in 0..s.len() {
                        assert_eq!(leaks(s.value(i).as_bytes(), &forms), 0, "{}: decoded value", file.display());
                    }
                }
            }
        }
    }

    // The audit log verifies and names who asked.
    let log = stack.state.join("linkage/audit.jsonl");
    let v = linkage::audit::verify(&log).expect("audit verifies");
    assert_eq!(v.entries, 2);
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(text.lines().next().is_some_and(|l| l.contains("\"actor\":\"operator\"") && l.contains("job_submitted")));
    assert!(text.lines().nth(1).is_some_and(|l| l.contains("delivery_published") && l.contains(&r.delivery_id)));
    assert_eq!(leaks(text.as_bytes(), &forms), 0);

    // Changed personnummer: every renumbered person with a decision in 2018-2020 (under any of
    // their numbers) is one pseudonym — that of the current number — with the interventions
    // Socialstyrelsen holds under each of their numbers. Resolved here independently from the
    // CSV extracts.
    let csv = |name: &str| -> Vec<Vec<String>> {
        std::fs::read_to_string(stack.data.join(name)).expect("extract").lines().skip(1).map(|l| l.split(',').map(str::to_string).collect()).collect()
    };
    let next: std::collections::HashMap<String, String> = csv("fk/personnummer_changes.csv").into_iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    let current = |p: &str| {
        let mut at = p.to_string();
        while let Some(n) = next.get(&at) {
            at = n.clone();
        }
        at
    };
    let renumbered: HashSet<String> = next.keys().map(|o| current(o)).collect();
    let linked: HashSet<String> = csv("fk/decisions.csv")
        .into_iter()
        .filter(|r| ("2018-01-01".."2021-01-01").contains(&r[2].as_str()))
        .map(|r| current(&r[1]))
        .filter(|c| renumbered.contains(c))
        .collect();
    let key = regstat_pseudo::Pseudonymiser::new(
        &regstat_pseudo::MasterSecret::from_bytes(b"a test master secret of more than 32 bytes, never logged".to_vec()).expect("secret"),
        "assistans-2024",
        1,
    )
    .expect("key");
    let pseudo = |p: &str| key.pseudonym_hex(regstat_pnr::Pnr::parse_canonical(p).expect("valid"));
    let mut want: Vec<(String, String, String, String)> = csv("sos/interventions.csv")
        .into_iter()
        .filter(|r| linked.contains(&current(&r[0])) && ("2017-01".."2022-01").contains(&r[4].as_str()))
        .map(|r| (pseudo(&current(&r[0])), r[1].clone(), r[2].clone(), r[4].clone()))
        .collect();
    want.sort();
    want.dedup();
    let under_old = csv("sos/interventions.csv")
        .iter()
        .filter(|r| next.contains_key(&r[0]) && linked.contains(&current(&r[0])) && ("2017-01".."2022-01").contains(&r[4].as_str()))
        .count();
    let linked_pseudonyms: HashSet<String> = linked.iter().map(|c| pseudo(c)).collect();
    let col = |b: &arrow::array::RecordBatch, i: usize| b.column(i).as_any().downcast_ref::<StringArray>().expect("utf8").clone();
    let (ps, law, code, month) = (col(&interventions, 0), col(&interventions, 1), col(&interventions, 2), col(&interventions, 3));
    let mut got: Vec<(String, String, String, String)> = (0..interventions.num_rows())
        .filter(|&i| linked_pseudonyms.contains(ps.value(i)))
        .map(|i| (ps.value(i).to_string(), law.value(i).to_string(), code.value(i).to_string(), month.value(i).to_string()))
        .collect();
    got.sort();
    assert!(!linked.is_empty() && under_old > 0, "the generated data has renumbered persons in the cohort ({}) with rows under an old number ({under_old})", linked.len());
    assert_eq!(got, want, "the interventions of renumbered persons");
    assert!(linked_pseudonyms.is_subset(&a_persons(&dir)), "a renumbered person is delivered under the current number's pseudonym");
    eprintln!("renumbered persons linked: {}, their intervention months under an old number: {under_old}", linked.len());

    // Same inputs and key: byte-identical delivery under the same id. Another project: unrelated pseudonyms.
    let (_, again) = stack.run_job("assistans-2024").await;
    assert_eq!(again.delivery_id, r.delivery_id);
    let (_, other) = stack.run_job("another-project").await;
    assert_ne!(other.delivery_id, r.delivery_id);
    let a = pseudonyms(&dir.join("persons.parquet"));
    let b = pseudonyms(&stack.state.join("query/deliveries").join(&other.delivery_id).join("persons.parquet"));
    assert_eq!(a.len(), b.len());
    assert!(a.is_disjoint(&b), "projects must not share pseudonyms");
}

fn read_parquet(path: &Path) -> arrow::array::RecordBatch {
    let f = std::fs::File::open(path).expect("open");
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f).expect("parquet");
    let schema = builder.schema().clone();
    let batches: Vec<_> = builder.build().expect("reader").map(|b| b.expect("batch")).collect();
    arrow::compute::concat_batches(&schema, &batches).expect("concat")
}

fn a_persons(dir: &Path) -> HashSet<String> {
    pseudonyms(&dir.join("persons.parquet"))
}

fn pseudonyms(path: &Path) -> HashSet<String> {
    let b = read_parquet(path);
    let c = b.column(0).as_any().downcast_ref::<StringArray>().expect("utf8");
    (0..c.len()).map(|i| c.value(i).to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_registry_fails_the_job_cleanly_and_a_retry_succeeds() {
    let mut stack = Stack::start().await;
    let sos = stack.sos.take().expect("sos");
    let addr = sos.addr;
    sos.stop().await;

    let (_, r) = stack.run_job("retry-project").await;
    assert_eq!(r.state, pb::JobState::Failed as i32);
    assert!(r.error.contains("sos-register"), "the error names the registry: {}", r.error);
    assert!(stack.deliveries().is_empty(), "nothing published, no staging left: {:?}", stack.deliveries());

    stack.sos = Some(start_sos(&stack.data, &stack.state, &stack.certs, Some(addr)).await);
    let (_, r) = stack.run_job("retry-project").await;
    assert_eq!(r.state, pb::JobState::Succeeded as i32, "{}", r.error);
    assert_eq!(stack.deliveries(), vec![r.delivery_id]);
    let text = std::fs::read_to_string(stack.state.join("linkage/audit.jsonl")).expect("log");
    let actions: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json")["action"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(actions, ["job_submitted", "job_failed", "job_submitted", "delivery_published"]);
    stack.fk.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_operator_may_submit_and_requests_are_validated() {
    let stack = Stack::start().await;
    let mut analytics = stack.client("analytics").await;
    let err = analytics
        .submit_job(pb::SubmitJobRequest { project: "p".into(), ..Default::default() })
        .await
        .expect_err("analytics may not run linkage jobs");
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    let mut op = stack.client("operator").await;
    for bad in [
        pb::SubmitJobRequest { project: "has space".into(), ..Default::default() },
        pb::SubmitJobRequest { project: "p".into(), from_year: 2021, to_year: 2019, ..Default::default() },
        pb::SubmitJobRequest { project: "p".into(), statistics: vec!["no_such_statistic".into()], ..Default::default() },
    ] {
        let err = op.submit_job(bad).await.expect_err("invalid");
        assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    }
    let err = op.get_job_result(pb::JobRef { job_id: "job-unknown".into() }).await.expect_err("unknown job");
    assert_eq!(err.code(), tonic::Code::NotFound);
}
