//! `query`: the query service (`serve`), its clients (`run`, `fetch`, `statistics`), and the
//! production without a server (`produce`, reading the store directly).

use anyhow::Context;
use arrow_flight::{FlightClient, Ticket};
use regstat_query::cli::{Cli, Command, YearsArgs};
use futures::TryStreamExt;
use regstat_proto::query::v1 as pb;
use regstat_proto::query::v1::query_client::QueryClient;
use tonic::transport::Channel;
use regstat_query::disclosure::Released;
use regstat_query::output::ReleasedTable;

async fn fetch(channel: Channel, statistic: &str, delivery: &str, from_year: i32, to_year: i32) -> anyhow::Result<ReleasedTable> {
    let stat = regstat_query::stats::find(statistic)?;
    let ticket = serde_json::to_vec(&regstat_query::service::ComputeTicket {
        statistic: statistic.into(),
        delivery_id: delivery.into(),
        from_year,
        to_year,
    })?;
    let batches: Vec<arrow::array::RecordBatch> =
        FlightClient::new(channel).do_get(Ticket::new(ticket)).await?.try_collect().await.with_context(|| format!("fetching {statistic}"))?;
    Ok(regstat_query::output::from_batches(stat.id, &batches)?)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli: Cli = regstat_server::config::parse();
    regstat_server::telemetry::init(&cli.telemetry);
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => regstat_server::config::report("query", &e),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::List => {
            for s in regstat_query::stats::CATALOGUE {
                println!("{} (report tables {})\n  {}\n", s.id, s.report_tables, s.doc.split_whitespace().collect::<Vec<_>>().join(" "));
            }
        }
        Command::Serve(args) => {
            regstat_server::telemetry::start_metrics(&cli.telemetry).await?;
            let server = regstat_query::server::build(regstat_query::server::QueryConfig::from_args(args)?).await?;
            server.run(regstat_server::shutdown_signal()).await?;
        }
        Command::Run { conn, delivery, years } => {
            let YearsArgs { from_year, to_year } = years;
            let channel = conn.channel().await?;
            eprintln!("running the production (every statistic, disclosure control and audit over the whole release)…");
            let r = QueryClient::new(channel.clone())
                .run_production(pb::RunProductionRequest { delivery_id: delivery, from_year, to_year })
                .await
                .context("RunProduction")?
                .into_inner();
            // The headline tables among the statistics this delivery was linked for (those the
            // run wrote a file of).
            let mut tables = Vec::new();
            for id in ["interventions_before_after", "other_support_before", "municipal_support_before_after", "pa_by_payer"] {
                let name = format!("{id}.csv");
                if r.files.iter().any(|f| *f == name || f.ends_with(&format!("/{name}"))) {
                    tables.push(fetch(channel.clone(), id, &r.delivery_id, from_year, to_year).await?);
                }
            }
            print_headlines(&tables);
            println!("\nrun {} on delivery {}: {} files in OUT_DIR/{} (and the newest run at the top of OUT_DIR)", r.run_id, r.delivery_id, r.files.len(), r.run_dir);
            print_disclosure(&r);
        }
        Command::Fetch { conn, statistic, delivery, years } => {
            let YearsArgs { from_year, to_year } = years;
            let t = fetch(conn.channel().await?, &statistic, &delivery, from_year, to_year).await?;
            print!("{}", regstat_query::output::tidy_csv(&t.dims, &t.rows));
        }
        Command::Produce { store, delivery, out, years, policy } => {
            let YearsArgs { from_year, to_year } = years;
            let policy = policy.policy()?;
            let audit = std::sync::Arc::new(regstat_server::audit::AuditLog::open(&store.join("audit.jsonl"))?);
            let state = regstat_query::service::QueryState::new(store, out.clone(), policy, audit);
            let caller = format!("local:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()));
            let r = state.produce(delivery.as_deref().unwrap_or(""), from_year, to_year, &caller).await.map_err(|s| anyhow::anyhow!("{}", s.message()))?;
            let d = regstat_query::delivery::Delivery::open(&state.store, &r.delivery_id)?;
            let (from, to) = if from_year == 0 && to_year == 0 { d.manifest.years().unwrap_or((2018, 2020)) } else { (from_year, to_year) };
            let rel = state.release(&d, regstat_query::engine::Years::new(from, to)?, &caller).await.map_err(|s| anyhow::anyhow!("{}", s.message()))?;
            print_headlines(&rel.tables);
            println!("\nrun {} on delivery {}: {} files in {}/{} (and the newest run at the top of {})", r.run_id, r.delivery_id, r.files.len(), out.display(), r.run_dir, out.display());
            print_disclosure(&r);
        }
    }
    Ok(())
}

/// The row of a released table with these values, every other dimension empty.
fn row<'a>(t: &'a ReleasedTable, want: &[(&str, &str)]) -> Option<&'a Released> {
    t.rows.iter().find(|r| {
        t.dims.iter().zip(&r.values).all(|(d, v)| match want.iter().find(|(wd, _)| wd == d) {
            Some((_, wv)) => v == wv,
            None => v.is_empty(),
        })
    })
}

fn share(r: Option<&Released>) -> String {
    match r {
        Some(Released { share_pct: Some(s), .. }) => format!("{s:.0}"),
        Some(Released { n: None, .. }) => "*".into(),
        _ => "-".into(),
    }
}

/// The equivalents of the report's headline tables 4, 10, 47 and 56: shares in whole percent,
/// `*` for a suppressed count, `-` for a share not released.
fn print_headlines(tables: &[ReleasedTable]) {
    let table = |id: &str| tables.iter().find(|t| t.statistic == id).ok_or(());
    if let Ok(t) = table("pa_by_payer") {
        println!("\nPersonal assistance by payer in December (SPEC-DECISIONS §5c): persons; index 2014 = 100 where both counts are published");
        println!("  {:<6} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}", "year", "FK", "KOMMUN", "BOTH", "TOTAL", "FK index", "KOM index");
        let n = |y: &str, p: &str| row(t, &[("year", y), ("payer", p)]).and_then(|r| r.n);
        let shown = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_else(|| "*".into());
        let years: Vec<String> = t.rows.iter().map(|r| r.values[0].clone()).fold(Vec::new(), |mut v, y| {
            if !v.contains(&y) {
                v.push(y);
            }
            v
        });
        for y in &years {
            let index = |p: &str| match (n(y, p), n("2014", p)) {
                (Some(a), Some(b)) if b > 0 => format!("{:.0}", 100.0 * a as f64 / b as f64),
                _ => "-".into(),
            };
            println!(
                "  {:<6} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}",
                y,
                shown(n(y, "FK")),
                shown(n(y, "KOMMUN")),
                shown(n(y, "BOTH")),
                shown(n(y, "TOTAL")),
                index("FK"),
                index("KOMMUN")
            );
        }
    }
    let Ok(iba) = table("interventions_before_after") else { return };
    for (table, group, label) in [("4", "BARN", "children"), ("10", "VUXNA", "adults")] {
        println!("\nTable {table} equivalent: share of {label} with LSS / SoL interventions (distinct persons), %");
        println!("  {:<8} {:>14} {:>14} {:>14} {:>14}", "", "refused before", "refused after", "granted before", "granted after");
        for (law, all) in [("LSS", "ALL_LSS"), ("SOL", "ALL_SOL")] {
            let cells: Vec<String> = [("AVSLAG", "BEFORE"), ("AVSLAG", "AFTER"), ("BIFALL", "BEFORE"), ("BIFALL", "AFTER")]
                .iter()
                .map(|(o, p)| {
                    share(row(
                        iba,
                        &[("period", p), ("child_adult", group), ("outcome", o), ("age_group", "TOTAL"), ("law", law), ("intervention", all)],
                    ))
                })
                .collect();
            println!("  {:<8} {:>14} {:>14} {:>14} {:>14}", law, cells[0], cells[1], cells[2], cells[3]);
        }
    }
    if let Ok(t) = table("other_support_before") {
        println!("\nTable 47 equivalent: other support the year before, by age (all sexes), %");
        println!("  {:<8} {:>8} {:>12} {:>12} {:>8}", "age", "both", "municipal", "soc. ins.", "none");
        for age in regstat_query::stats::domain("age_group").iter().chain(&["TOTAL"]) {
            let cells: Vec<String> = ["BOTH", "MUNICIPAL_ONLY", "SOCIAL_INSURANCE_ONLY", "NONE"]
                .iter()
                .map(|st| share(row(t, &[("sex", "TOTAL"), ("age_group", age), ("support_type", st)])))
                .collect();
            println!("  {:<8} {:>8} {:>12} {:>12} {:>8}", age, cells[0], cells[1], cells[2], cells[3]);
        }
    }
    if let Ok(t) = table("municipal_support_before_after") {
        println!("\nTable 56 equivalent: share with municipal support (SoL/LSS), by age (all sexes), %");
        println!("  {:<8} {:>14} {:>14} {:>14} {:>14}", "age", "refused before", "refused after", "granted before", "granted after");
        for age in regstat_query::stats::domain("age_group").iter().chain(&["TOTAL"]) {
            let cells: Vec<String> = [("AVSLAG", "BEFORE"), ("AVSLAG", "AFTER"), ("BIFALL", "BEFORE"), ("BIFALL", "AFTER")]
                .iter()
                .map(|(o, p)| {
                    share(row(t, &[("period", p), ("outcome", o), ("sex", "TOTAL"), ("age_group", age), ("municipal_support", "YES")]))
                })
                .collect();
            println!("  {:<8} {:>14} {:>14} {:>14} {:>14}", age, cells[0], cells[1], cells[2], cells[3]);
        }
    }
}

/// The disclosure line of a production's summary (`query run` and `query produce`).
fn print_disclosure(r: &pb::RunProductionResponse) {
    println!(
        "disclosure: {} distinct cells, {} primary and {} secondary suppressions; audit {}; audit-log entry {}",
        r.cells,
        r.primary_suppressed,
        r.secondary_suppressed,
        if r.audit_passed { "passed" } else { "FAILED" },
        r.audit_entry
    );
}
