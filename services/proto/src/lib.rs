//! Generated protobuf and gRPC types of the platform (one crate for all protos, SPEC §2).
//! Packages are versioned (`regstat.<service>.v1`); never reuse a field number.

/// Encoded `FileDescriptorSet` of every proto compiled here, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/regstat_descriptor.bin"));

pub mod registry {
    pub mod v1 {
        #![allow(clippy::all, clippy::pedantic, missing_docs, unreachable_pub)]
        include!(concat!(env!("OUT_DIR"), "/regstat.registry.v1.rs"));
    }
}

pub mod linkage {
    pub mod v1 {
        #![allow(clippy::all, clippy::pedantic, missing_docs, unreachable_pub)]
        include!(concat!(env!("OUT_DIR"), "/regstat.linkage.v1.rs"));
    }
}

pub mod query {
    pub mod v1 {
        #![allow(clippy::all, clippy::pedantic, missing_docs, unreachable_pub)]
        include!(concat!(env!("OUT_DIR"), "/regstat.query.v1.rs"));
    }
}
