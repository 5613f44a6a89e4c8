//! `query produce`: compute every implemented statistic for a delivery and write the outputs.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "query", version, about = "Statistics on pseudonymised deliveries, disclosure-controlled")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    telemetry: regstat_server::telemetry::TelemetryArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a production: every statistic, tidy CSV + Parquet and a manifest into --out.
    Produce {
        /// The query side's store (STATE_DIR/query).
        #[arg(long, env = "QUERY_STORE")]
        store: PathBuf,
        /// Delivery id; default: the newest delivery in the store.
        #[arg(long)]
        delivery: Option<String>,
        #[arg(long, env = "OUT_DIR", default_value = "out/demo")]
        out: PathBuf,
        #[arg(long, default_value_t = 2018)]
        from_year: i32,
        #[arg(long, default_value_t = 2020)]
        to_year: i32,
    },
    /// List the statistics with their documentation.
    List,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    regstat_server::telemetry::init(&cli.telemetry);
    match cli.command {
        Command::List => {
            for s in regstat_query::stats::CATALOGUE {
                println!("{} (report tables {})\n  {}\n", s.id, s.report_tables, s.doc.split_whitespace().collect::<Vec<_>>().join(" "));
            }
        }
        Command::Produce { store, delivery, out, from_year, to_year } => {
            let d = match delivery {
                Some(id) => regstat_query::delivery::Delivery::open(&store, &id)?,
                None => regstat_query::delivery::Delivery::latest(&store)?,
            };
            let years = regstat_query::engine::Years::new(from_year, to_year)?;
            let (m, tables) = regstat_query::output::produce(&d, years, Default::default(), &out).await?;
            for t in &tables {
                print_headline(t);
            }
            println!("run {} on delivery {}: {} files in {}", m.run_id, m.delivery_id, m.files.len() + 1, out.display());
        }
    }
    Ok(())
}

/// The all-persons rows of a released table (every breakdown dimension TOTAL or not applicable),
/// as the report's headline figures: n, denominator and share rounded to whole percent, with
/// `*` for a suppressed count and `-` for a share not released.
fn print_headline(t: &regstat_query::output::ReleasedTable) {
    let margin = ["sex", "age_group", "birth_country", "sex_age", "lss_group"];
    println!("\n{}", t.statistic);
    for r in &t.rows {
        let all = t.dims.iter().zip(&r.values).all(|(d, v)| !margin.contains(d) || v.is_empty() || v == "TOTAL");
        let first_breakdown = t.dims.iter().zip(&r.values).any(|(d, v)| *d == "sex" && v == "TOTAL") || !t.dims.contains(&"sex");
        if !(all && first_breakdown) {
            continue;
        }
        let label: Vec<&str> = t.dims.iter().zip(&r.values).filter(|(d, v)| !margin.contains(d) && !v.is_empty()).map(|(_, v)| v.as_str()).collect();
        let n = r.n.map_or("*".to_string(), |n| n.to_string());
        let share = r.share_pct.map_or("-".to_string(), |s| format!("{s:.0} %"));
        let den = r.denominator.map_or(String::new(), |d| format!(" of {d}"));
        println!("  {:<48} {:>7}{:<10} {:>6}", label.join(" / "), n, den, share);
    }
}
