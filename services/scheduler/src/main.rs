//! `regstat-scheduler run`: one scheduled production (for a CronJob or a systemd timer).

use std::process::ExitCode;
use std::time::Duration;

use regstat_scheduler::cli::{Cli, Command};
use regstat_scheduler::{run_once, Schedule};
use regstat_server::retry::Backoff;

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = regstat_server::config::parse();
    regstat_server::telemetry::init(&cli.telemetry);
    let Command::Run(a) = cli.command;
    let tls = match a.tls.load() {
        Ok(t) => t,
        Err(e) => return regstat_server::config::report("regstat-scheduler", &e.into()),
    };
    let schedule = Schedule {
        project: a.project,
        key_version: a.key_version,
        call_timeout: Duration::from_secs(a.call_timeout_secs),
        job_timeout: Duration::from_secs(a.job_timeout_secs),
        job_attempts: a.job_attempts,
        backoff: Backoff { budget: Duration::from_secs(a.retry_budget_secs), ..Backoff::default() },
        ..Schedule::new(a.linkage_addr, a.query_addr, tls, a.from_year, a.to_year)
    };
    let progress = |line: &str| eprintln!("{line}");
    match run_once(&schedule, &progress).await {
        Ok(o) => {
            println!("run {} on delivery {}: OUT_DIR/{} (trace {})", o.production.run_id, o.delivery_id, o.production.run_dir, o.trace_id);
            ExitCode::SUCCESS
        }
        Err(e) => regstat_server::config::report("regstat-scheduler", &e.into()),
    }
}
