//! `sos-register`: Socialstyrelsen's register holder: executed municipal interventions (SoL, LSS, HSL). Returns only the persons asked for (SPEC §2) unless started with `--allow-full-export`.
//!
//! A thin configuration of [`regstat_registry`]; everything testable lives there.

use regstat_contract::Register;
pub use regstat_registry::{build, RegistryArgs, RegistryConfig, RegistryServer};

pub const SERVICE: &str = "sos-register";
pub const REGISTER: Register = Register::Sos;

#[derive(Debug, Clone, clap::Parser)]
#[command(name = "sos-register", version, about = "Socialstyrelsen's register holder: executed municipal interventions (SoL, LSS, HSL). Returns only the persons asked for (SPEC §2) unless started with `--allow-full-export`.")]
pub struct Cli {
    #[command(flatten)]
    pub config_file: regstat_server::config::ConfigArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Allow whole-dataset streams (DoGet) of person-level data, not only person-filter
    /// exchanges.
    #[arg(long, env = "REGISTRY_ALLOW_FULL_EXPORT", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_full_export: bool,
    #[command(flatten)]
    pub telemetry: regstat_server::telemetry::TelemetryArgs,
}

impl Cli {
    pub fn config(self) -> Result<RegistryConfig, regstat_server::tls::TlsError> {
        RegistryConfig::from_args(SERVICE, REGISTER, self.registry, self.allow_full_export)
    }
}

/// A config for tests: listen on `127.0.0.1:0`, plain text, everyone allowed.
pub fn test_config(extracts: &std::path::Path, state: &std::path::Path) -> RegistryConfig {
    RegistryConfig {
        service: SERVICE,
        register: REGISTER,
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        extracts: extracts.to_path_buf(),
        state: state.to_path_buf(),
        load: regstat_contract::LoadOptions::default(),
        full_export: false,
        selection_projects: Vec::new(),
        hold: regstat_registry::Hold::Store,
        tls: None,
        access: regstat_server::Access::allow_all(),
    }
}
