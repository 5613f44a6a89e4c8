//! `regstat.linkage.v1.Linkage`: a thin gRPC adapter over [`Linker`].

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use regstat_proto::linkage::v1 as pb;
use regstat_proto::linkage::v1::linkage_server::Linkage;
use regstat_server::Access;
use tonic::{Request, Response, Status};
use tracing::instrument;

use crate::job::JobParams;
use crate::runner::Linker;

#[derive(Clone)]
pub struct LinkageService {
    linker: Arc<Linker>,
    access: Access,
}

impl LinkageService {
    pub fn new(linker: Arc<Linker>, access: Access) -> Self {
        LinkageService { linker, access }
    }
}

type ProgressStream = Pin<Box<dyn Stream<Item = Result<pb::JobProgress, Status>> + Send + 'static>>;

fn is_final(state: i32) -> bool {
    state == pb::JobState::Succeeded as i32 || state == pb::JobState::Failed as i32
}

#[tonic::async_trait]
impl Linkage for LinkageService {
    #[instrument(skip_all, fields(job_id, caller))]
    async fn submit_job(&self, request: Request<pb::SubmitJobRequest>) -> Result<Response<pb::SubmitJobResponse>, Status> {
        self.access.check(&request, "SubmitJob")?;
        let caller = self.access.caller(&request);
        let r = request.into_inner();
        let params = JobParams::new(&r.project, r.key_version, r.from_year, r.to_year, &r.statistics)?;
        let job_id = self.linker.submit(params, &caller)?;
        tracing::Span::current().record("job_id", job_id.as_str()).record("caller", caller.as_str());
        tracing::info!("job submitted");
        Ok(Response::new(pb::SubmitJobResponse { job_id }))
    }

    type WatchJobStream = ProgressStream;

    async fn watch_job(&self, request: Request<pb::JobRef>) -> Result<Response<Self::WatchJobStream>, Status> {
        self.access.check(&request, "WatchJob")?;
        let mut rx = self.linker.watch(&request.get_ref().job_id)?;
        let stream = async_stream(move |tx| async move {
            loop {
                let p = rx.borrow_and_update().clone();
                let done = is_final(p.state);
                if tx.send(Ok(p)).await.is_err() || done {
                    break;
                }
                if rx.changed().await.is_err() {
                    break;
                }
            }
        });
        Ok(Response::new(stream))
    }

    async fn get_job_result(&self, request: Request<pb::JobRef>) -> Result<Response<pb::JobResult>, Status> {
        self.access.check(&request, "GetJobResult")?;
        Ok(Response::new(self.linker.result(&request.get_ref().job_id)?))
    }
}

/// A stream fed by a task through a small channel.
fn async_stream<F, Fut>(f: F) -> ProgressStream
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<pb::JobProgress, Status>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(f(tx));
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))
}
