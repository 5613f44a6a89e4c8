//! Static checks of `deploy/` (no container engine runs here): every YAML file parses; every
//! image, binary, port, path and configuration key the files name exists in the build; the
//! NetworkPolicies allow exactly the edges of SPEC §2.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use serde_yaml::Value;

fn root() -> PathBuf {
    Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string())).parent().expect("workspace root").to_path_buf()
}

fn deploy(p: &str) -> PathBuf {
    root().join("deploy").join(p)
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn yaml_docs(p: &Path) -> Vec<Value> {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_str(&read(p))
        .map(|d| Value::deserialize(d).unwrap_or_else(|e| panic!("{}: invalid YAML: {e}", p.display())))
        .filter(|v| !v.is_null())
        .collect()
}

fn k8s_docs() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(deploy("k8s")).expect("deploy/k8s") {
        let p = e.expect("entry").path();
        for d in yaml_docs(&p) {
            out.push((p.file_name().expect("name").to_string_lossy().into_owned(), d));
        }
    }
    out
}

fn s(v: &Value) -> String {
    match v {
        Value::String(x) => x.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("expected a scalar, got {other:?}"),
    }
}

fn workspace_version() -> String {
    let t: toml::Table = read(&root().join("Cargo.toml")).parse().expect("Cargo.toml");
    t["workspace"]["package"]["version"].as_str().expect("version").to_string()
}

/// Binary name → package name, from every member's Cargo.toml.
fn workspace_binaries() -> BTreeMap<String, String> {
    let t: toml::Table = read(&root().join("Cargo.toml")).parse().expect("Cargo.toml");
    let mut bins = BTreeMap::new();
    for m in t["workspace"]["members"].as_array().expect("members") {
        let dir = root().join(m.as_str().expect("member"));
        let c: toml::Table = read(&dir.join("Cargo.toml")).parse().expect("member Cargo.toml");
        let package = c["package"]["name"].as_str().expect("name").to_string();
        if dir.join("src/main.rs").exists() {
            bins.insert(package.clone(), package.clone());
        }
        for b in c.get("bin").and_then(|b| b.as_array()).into_iter().flatten() {
            bins.insert(b["name"].as_str().expect("bin name").to_string(), package.clone());
        }
        if let Ok(entries) = std::fs::read_dir(dir.join("src/bin")) {
            for e in entries {
                let n = e.expect("entry").path();
                bins.insert(n.file_stem().expect("stem").to_string_lossy().into_owned(), package.clone());
            }
        }
    }
    bins
}

/// The binaries the runtime image holds, and the packages the build stage builds.
fn image_contents() -> (BTreeSet<String>, BTreeSet<String>) {
    let text = read(&deploy("Dockerfile")).replace("\\\n", " ");
    let mut bins = BTreeSet::new();
    let mut packages = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with("COPY --from=build") {
            for w in line.split_whitespace() {
                if let Some(b) = w.strip_prefix("/src/target/release/") {
                    bins.insert(b.to_string());
                }
            }
        }
        if line.contains("cargo build --release") {
            let words: Vec<&str> = line.split_whitespace().collect();
            for w in words.windows(2) {
                if w[0] == "-p" {
                    packages.insert(w[1].to_string());
                }
            }
        }
    }
    (bins, packages)
}

/// The clap command of each binary that reads a config file.
fn command_of(binary: &str) -> clap::Command {
    match binary {
        "fk-registry" => fk_registry::Cli::command(),
        "sos-register" => sos_register::Cli::command(),
        "linkage" => linkage::cli::Cli::command(),
        "query" => regstat_query::cli::Cli::command(),
        "regstat-scheduler" => regstat_scheduler::cli::Cli::command(),
        other => panic!("no configuration command known for {other}"),
    }
}

/// `(binary, deploy/config file)` of a container command `[binary, --config, /etc/regstat/config/x.toml, ...]`.
fn config_of(command: &[String]) -> (String, PathBuf) {
    let i = command.iter().position(|a| a == "--config").unwrap_or_else(|| panic!("{command:?} names no --config"));
    let path = &command[i + 1];
    let file = path.strip_prefix("/etc/regstat/config/").unwrap_or_else(|| panic!("{path} is not in the image's config dir"));
    (command[0].clone(), deploy("config").join(file))
}

fn config_table(p: &Path) -> toml::Table {
    read(p).parse().unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

const PATH_KEYS: [&str; 9] = ["tls_cert", "tls_key", "tls_ca", "extracts", "state", "store", "out", "query_store", "master_secret_file"];

fn port_of(addr: &str) -> u16 {
    addr.rsplit_once(':').and_then(|(_, p)| p.parse().ok()).unwrap_or_else(|| panic!("{addr} has no port"))
}

#[test]
fn every_config_file_is_valid_for_its_binary() {
    for (file, binary) in [
        ("fk-registry.toml", "fk-registry"),
        ("sos-register.toml", "sos-register"),
        ("linkage.toml", "linkage"),
        ("query.toml", "query"),
        ("scheduler.toml", "regstat-scheduler"),
    ] {
        let p = deploy("config").join(file);
        regstat_server::config::layer(command_of(binary), &p).unwrap_or_else(|e| panic!("{e}"));
    }
    // The layering is real: a wrong key in a deploy file would be refused.
    let tmp = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(tmp.path(), read(&deploy("config/linkage.toml")) + "\nlisten_addr = \"0.0.0.0:1\"\n").expect("write");
    let e = regstat_server::config::layer(command_of("linkage"), tmp.path()).expect_err("unknown key");
    assert!(e.to_string().contains("unknown key `listen_addr`"), "{e}");
}

#[test]
fn kubernetes_manifests_name_only_what_the_build_has() {
    let version = workspace_version();
    let image = format!("regstat:{version}");
    let bins = workspace_binaries();
    let (in_image, built) = image_contents();
    for b in &in_image {
        let package = bins.get(b).unwrap_or_else(|| panic!("the Dockerfile copies {b}, which no crate builds"));
        assert!(built.contains(package), "the Dockerfile copies {b} but does not build package {package}");
    }
    assert!(read(&deploy("Dockerfile")).contains(&format!("-t {image}")), "the Dockerfile documents the tag {image}");

    // kustomization: every resource and config file exists; every manifest but the Secret template is included.
    let k = &yaml_docs(&deploy("kustomization.yaml"))[0];
    let resources: BTreeSet<String> = k["resources"].as_sequence().expect("resources").iter().map(s).collect();
    for r in &resources {
        assert!(deploy(r).exists(), "kustomization names {r}, which does not exist");
    }
    for e in std::fs::read_dir(deploy("k8s")).expect("k8s") {
        let name = format!("k8s/{}", e.expect("entry").file_name().to_string_lossy());
        assert!(resources.contains(&name) || name == "k8s/secrets.yaml", "{name} is not in kustomization.yaml");
    }
    for f in k["configMapGenerator"][0]["files"].as_sequence().expect("files") {
        assert!(deploy(&s(f)).exists(), "{} missing", s(f));
    }

    let docs = k8s_docs();
    let secrets: BTreeMap<String, BTreeSet<String>> = docs
        .iter()
        .filter(|(_, d)| d["kind"] == "Secret")
        .map(|(_, d)| (s(&d["metadata"]["name"]), d["stringData"].as_mapping().expect("stringData").keys().map(s).collect()))
        .collect();
    let mut grpc_ports: BTreeMap<String, u16> = BTreeMap::new();
    let mut workloads = 0;
    for (file, d) in &docs {
        for key in ["apiVersion", "kind"] {
            assert!(d[key].is_string(), "{file}: a document without {key}");
        }
        assert!(d["metadata"]["name"].is_string(), "{file}: a document without metadata.name");
        let pod = match d["kind"].as_str() {
            Some("Deployment") => &d["spec"]["template"]["spec"],
            Some("CronJob") => &d["spec"]["jobTemplate"]["spec"]["template"]["spec"],
            _ => continue,
        };
        workloads += 1;
        let app = s(&d["metadata"]["labels"]["app.kubernetes.io/name"]);
        let volumes: BTreeMap<String, &Value> =
            pod["volumes"].as_sequence().expect("volumes").iter().map(|v| (s(&v["name"]), v)).collect();
        for c in pod["containers"].as_sequence().expect("containers") {
            assert_eq!(s(&c["image"]), image, "{file}: image");
            let command: Vec<String> = c["command"].as_sequence().expect("command").iter().map(s).collect();
            assert!(in_image.contains(&command[0]), "{file}: {} is not in the image", command[0]);
            let (binary, config) = config_of(&command);
            let table = config_table(&config);
            regstat_server::config::layer(command_of(&binary), &config).unwrap_or_else(|e| panic!("{file}: {e}"));
            let mounts: Vec<(String, String)> = c["volumeMounts"]
                .as_sequence()
                .expect("volumeMounts")
                .iter()
                .map(|m| (s(&m["name"]), s(&m["mountPath"])))
                .collect();
            for (name, _) in &mounts {
                assert!(volumes.contains_key(name), "{file}: mount {name} has no volume");
            }
            // Every path of the config is on a mounted volume.
            for key in PATH_KEYS {
                let Some(v) = table.get(key).and_then(|v| v.as_str()) else { continue };
                let (name, dir) = mounts
                    .iter()
                    .find(|(_, m)| Path::new(v).starts_with(m))
                    .unwrap_or_else(|| panic!("{file}: {key} = {v} is on no mounted volume"));
                // A file from a Secret: the Secret has that key.
                if let Some(secret) = volumes[name]["secret"]["secretName"].as_str() {
                    let rel = Path::new(v).strip_prefix(dir).expect("under the mount").to_string_lossy().into_owned();
                    let keys = secrets.get(secret).unwrap_or_else(|| panic!("{file}: Secret {secret} is not described in secrets.yaml"));
                    assert!(keys.contains(&rel), "{file}: Secret {secret} has no key {rel}");
                }
            }
            // Ports: the config's listen port is the container's grpc port.
            let ports: BTreeMap<String, u16> = c["ports"]
                .as_sequence()
                .map(|p| p.iter().map(|p| (s(&p["name"]), s(&p["containerPort"]).parse().expect("port"))).collect())
                .unwrap_or_default();
            if let Some(listen) = table.get("listen").and_then(|v| v.as_str()) {
                assert_eq!(ports.get("grpc"), Some(&port_of(listen)), "{file}: grpc port vs listen = {listen}");
                grpc_ports.insert(app.clone(), port_of(listen));
            }
            if let Some(m) = table.get("metrics_listen").and_then(|v| v.as_str()) {
                assert_eq!(ports.get("metrics"), Some(&port_of(m)), "{file}: metrics port");
            }
        }
    }
    assert_eq!(workloads, 5, "four Deployments and the CronJob");
    for (_, d) in docs.iter().filter(|(_, d)| d["kind"] == "Service") {
        let app = s(&d["spec"]["selector"]["app.kubernetes.io/name"]);
        let grpc = d["spec"]["ports"].as_sequence().expect("ports").iter().find(|p| p["name"] == "grpc").expect("grpc port");
        assert_eq!(Some(&s(&grpc["port"]).parse::<u16>().expect("port")), grpc_ports.get(&app), "Service {app}");
    }
    // The peers the configs call are Services on those ports.
    for (file, key, app) in [("linkage.toml", "fk_addr", "fk-registry"), ("linkage.toml", "sos_addr", "sos-register"), ("linkage.toml", "query_addr", "query"), ("scheduler.toml", "linkage_addr", "linkage"), ("scheduler.toml", "query_addr", "query")] {
        let v = config_table(&deploy("config").join(file))[key].as_str().expect("addr").to_string();
        assert_eq!(v, format!("{app}:{}", grpc_ports[app]), "{file}: {key}");
    }
}

#[test]
fn network_policies_allow_exactly_the_edges_of_the_spec() {
    let docs = k8s_docs();
    let mut edges: BTreeSet<(String, String, u16)> = BTreeSet::new();
    for (_, d) in docs.iter().filter(|(_, d)| d["kind"] == "NetworkPolicy") {
        let target = d["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"].as_str().map(str::to_string);
        let types: Vec<String> = d["spec"]["policyTypes"].as_sequence().expect("policyTypes").iter().map(s).collect();
        if d["metadata"]["name"] == "default-deny" {
            assert!(d["spec"]["podSelector"].as_mapping().is_some_and(|m| m.is_empty()) && types.len() == 2, "default deny of both directions");
            continue;
        }
        for rule in d["spec"]["ingress"].as_sequence().into_iter().flatten() {
            let ports: Vec<u16> = rule["ports"].as_sequence().expect("ports").iter().map(|p| s(&p["port"]).parse().expect("port")).collect();
            for from in rule["from"].as_sequence().expect("from") {
                let who = if let Some(a) = from["podSelector"]["matchLabels"]["app.kubernetes.io/name"].as_str() {
                    a.to_string()
                } else if let Some(i) = from["podSelector"]["matchLabels"]["regstat.se/identity"].as_str() {
                    i.to_string()
                } else if from["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "monitoring" {
                    assert_eq!(ports, vec![9090], "monitoring may scrape metrics only");
                    continue;
                } else {
                    panic!("an ingress source that is neither a service nor an identity: {from:?}");
                };
                let to = target.clone().expect("an ingress rule for a named service");
                for &p in &ports {
                    edges.insert((who.clone(), to.clone(), p));
                }
            }
        }
    }
    let want: BTreeSet<(String, String, u16)> = [
        ("linkage", "fk-registry", 50051),
        ("linkage", "sos-register", 50052),
        ("scheduler", "linkage", 50053),
        ("scheduler", "query", 50054),
        ("analytics", "query", 50054),
        ("linkage", "query", 50054),
    ]
    .into_iter()
    .map(|(a, b, p)| (a.to_string(), b.to_string(), p))
    .collect();
    assert_eq!(edges, want);
}

/// SPEC §2: the agencies share no storage. The linkage service delivers over Arrow Flight, so
/// no volume (compose) or claim (Kubernetes) is mounted by both linkage and query, and the
/// linkage config names the query service's address, not a store.
#[test]
fn linkage_and_query_share_no_storage() {
    let mut compose = yaml_docs(&deploy("compose.yaml")).remove(0);
    compose.apply_merge().expect("compose merge keys");
    let volumes_of = |svc: &str| -> BTreeSet<String> {
        compose["services"][svc]["volumes"].as_sequence().into_iter().flatten().map(|m| s(m).split(':').next().unwrap_or_default().to_string()).collect()
    };
    let (l, q) = (volumes_of("linkage"), volumes_of("query"));
    let shared: Vec<&String> = l.intersection(&q).filter(|v| *v != "certs").collect();
    assert!(shared.is_empty(), "compose: linkage and query share {shared:?}");
    let claims_of = |app: &str| -> BTreeSet<String> {
        k8s_docs()
            .into_iter()
            .filter(|(_, d)| d["kind"] == "Deployment" && d["metadata"]["name"] == app)
            .flat_map(|(_, d)| {
                d["spec"]["template"]["spec"]["volumes"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v["persistentVolumeClaim"]["claimName"].as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let (l, q) = (claims_of("linkage"), claims_of("query"));
    assert!(!l.is_empty() && !q.is_empty(), "both Deployments have claims: {l:?} {q:?}");
    assert!(l.is_disjoint(&q), "Kubernetes: linkage and query share {:?}", l.intersection(&q).collect::<Vec<_>>());
    let linkage = config_table(&deploy("config").join("linkage.toml"));
    assert!(linkage.get("query_store").is_none() && linkage.get("query_addr").is_some(), "linkage.toml pushes to the query service");
}

#[test]
fn compose_and_systemd_name_only_what_the_build_has() {
    let image = format!("regstat:{}", workspace_version());
    let (in_image, _) = image_contents();
    let mut compose = yaml_docs(&deploy("compose.yaml")).remove(0);
    compose.apply_merge().expect("compose merge keys (<<: *service)");
    let compose = &compose;
    let declared: BTreeSet<String> = compose["volumes"].as_mapping().expect("volumes").keys().map(s).collect();
    let services = compose["services"].as_mapping().expect("services");
    for (name, svc) in services {
        let name = s(name);
        assert_eq!(s(&svc["image"]), image, "compose {name}: image");
        let volumes: Vec<(String, String)> = svc["volumes"]
            .as_sequence()
            .map(|v| {
                v.iter()
                    .map(|m| {
                        let parts: Vec<String> = s(m).split(':').map(str::to_string).collect();
                        (parts[0].clone(), parts[1].clone())
                    })
                    .collect()
            })
            .unwrap_or_default();
        for (source, _) in &volumes {
            if source.starts_with('.') {
                assert!(deploy(source).parent().is_some(), "compose {name}: bind {source}");
            } else {
                assert!(declared.contains(source), "compose {name}: volume {source} is not declared");
            }
        }
        let Some(command) = svc["command"].as_sequence() else { continue };
        let command: Vec<String> = command.iter().map(s).collect();
        assert!(in_image.contains(&command[0]), "compose {name}: {} is not in the image", command[0]);
        if !command.iter().any(|a| a == "--config") {
            continue;
        }
        let (binary, config) = config_of(&command);
        let table = config_table(&config);
        regstat_server::config::layer(command_of(&binary), &config).unwrap_or_else(|e| panic!("compose {name}: {e}"));
        for key in PATH_KEYS {
            let Some(v) = table.get(key).and_then(|v| v.as_str()) else { continue };
            assert!(volumes.iter().any(|(_, target)| Path::new(v).starts_with(target)), "compose {name}: {key} = {v} is on no volume");
        }
        if let Some(listen) = table.get("listen").and_then(|v| v.as_str()) {
            let port = port_of(listen).to_string();
            let exposed: Vec<String> = ["expose", "ports"]
                .iter()
                .flat_map(|k| svc[*k].as_sequence().into_iter().flatten().map(s))
                .collect();
            assert!(exposed.iter().any(|e| e == &port || e.ends_with(&format!(":{port}"))), "compose {name}: port {port} not exposed");
        }
    }
    for peer in ["fk-registry", "sos-register", "linkage", "query"] {
        assert!(services.contains_key(peer), "compose runs {peer}");
    }

    let unit = read(&deploy("systemd/regstat-scheduler.service"));
    let exec = unit.lines().find_map(|l| l.strip_prefix("ExecStart=")).expect("ExecStart");
    let command: Vec<String> = exec.split_whitespace().map(str::to_string).collect();
    let binary = command[0].rsplit('/').next().expect("binary").to_string();
    assert!(in_image.contains(&binary) && workspace_binaries().contains_key(&binary), "{binary}");
    let (_, config) = config_of(&[binary.clone()].into_iter().chain(command[1..].iter().cloned()).collect::<Vec<_>>());
    regstat_server::config::layer(command_of(&binary), &config).unwrap_or_else(|e| panic!("systemd: {e}"));
    assert!(read(&deploy("systemd/regstat-scheduler.timer")).contains("OnCalendar="), "the timer has a schedule");
}
