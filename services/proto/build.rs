//! Compiles every `.proto` under `proto/` with the pure-Rust `protox` (no system `protoc`) and
//! generates tonic/prost code into `OUT_DIR`, plus an encoded descriptor set for gRPC reflection.
use std::path::PathBuf;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Read at run time, not compile time: a target directory shared between clones at different
    // paths (CI's cache) may reuse this build script's binary.
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let files = ["regstat/registry/v1/registry.proto", "regstat/linkage/v1/linkage.proto", "regstat/query/v1/query.proto"];
    for f in &files {
        println!("cargo:rerun-if-changed={}", root.join(f).display());
    }
    let fds = protox::compile(files, [&root])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("regstat_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
