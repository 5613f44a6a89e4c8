//! `regstat.registry.v1.RegistryAdmin`: load reports (read = accepted + quarantined).

use std::sync::Arc;

use regstat_proto::registry::v1 as pb;
use regstat_proto::registry::v1::registry_admin_server::RegistryAdmin;
use regstat_server::Access;
use tonic::{Request, Response, Status};

use crate::store::RegistryStore;

#[derive(Clone)]
pub struct AdminService {
    service: &'static str,
    store: Arc<RegistryStore>,
    access: Access,
}

impl AdminService {
    pub fn new(service: &'static str, store: Arc<RegistryStore>, access: Access) -> Self {
        AdminService { service, store, access }
    }
}

/// The load report of a store as the protobuf message.
pub fn load_report(service: &str, store: &RegistryStore) -> pb::LoadReport {
    pb::LoadReport {
        service: service.to_string(),
        datasets: store
            .reports()
            .into_iter()
            .map(|r| pb::DatasetLoadReport {
                from_store: regstat_contract::Dataset::from_name(&r.dataset)
                    .and_then(|d| store.origin(d))
                    .is_some_and(|o| o == crate::persist::Origin::Store),
                files_validated: regstat_contract::Dataset::from_name(&r.dataset)
                    .and_then(|d| store.origin(d))
                    .map_or(0, |o| o.files_validated(&r) as u32),
                files: r
                    .files
                    .iter()
                    .map(|f| pb::FileLoadReport {
                        file: f.file.display().to_string(),
                        format: f.format.clone(),
                        sha256: f.sha256.clone(),
                        rows_read: f.rows_read,
                        rows_accepted: f.rows_accepted,
                        rows_quarantined: f.rows_quarantined,
                        reasons: f.reasons.iter().map(|(reason, rows)| pb::ReasonCount { reason: reason.clone(), rows: *rows }).collect(),
                    })
                    .collect(),
                dataset: r.dataset,
                source_file: r.source_file.display().to_string(),
                source_format: r.source_format.to_string(),
                source_sha256: r.source_sha256,
                rows_read: r.rows_read,
                rows_accepted: r.rows_accepted,
                rows_quarantined: r.rows_quarantined,
                reasons: r
                    .reasons
                    .into_iter()
                    .map(|(reason, rows)| pb::ReasonCount { reason: reason.to_string(), rows })
                    .collect(),
                quarantine_file: r.quarantine_file.display().to_string(),
            })
            .collect(),
    }
}

#[tonic::async_trait]
impl RegistryAdmin for AdminService {
    async fn get_load_report(
        &self,
        request: Request<pb::GetLoadReportRequest>,
    ) -> Result<Response<pb::LoadReport>, Status> {
        self.access.check(&request, "GetLoadReport")?;
        Ok(Response::new(load_report(self.service, &self.store)))
    }
}
