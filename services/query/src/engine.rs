//! Computing statistics for a delivery on DataFusion.

use datafusion::prelude::SessionContext;

use crate::delivery::Delivery;
use crate::error::{Error, Result};
use crate::stats::{self, Statistic, Table};

/// Decision years and the delivery to compute for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Years {
    pub from: i32,
    pub to: i32,
}

impl Years {
    pub fn new(from: i32, to: i32) -> Result<Self> {
        if from > to || from < 2004 || to > 2100 {
            return Err(Error::BadRequest("decision years must satisfy 2004 <= from <= to".into()));
        }
        Ok(Years { from, to })
    }
}

/// A DataFusion session over one delivery with the SPEC §4 views defined.
pub struct Engine {
    ctx: SessionContext,
    years: Years,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("years", &self.years).finish_non_exhaustive()
    }
}

impl Engine {
    pub async fn new(delivery: &Delivery, years: Years) -> Result<Self> {
        for t in ["persons", "registered", "decisions", "benefits", "interventions"] {
            if !delivery.has(t) {
                return Err(Error::Delivery { id: delivery.manifest.delivery_id.clone(), problem: format!("has no {t} table") });
            }
        }
        let ctx = SessionContext::new();
        delivery.register(&ctx).await?;
        for (name, sql) in crate::definitions::views(years.from, years.to) {
            ctx.sql(&format!("CREATE VIEW {name} AS {sql}")).await?;
        }
        Ok(Engine { ctx, years })
    }

    /// Compute one statistic (before disclosure control).
    pub async fn compute(&self, stat: &'static Statistic) -> Result<Table> {
        let batches = self.ctx.sql(&(stat.sql)(self.years.from, self.years.to)).await?.collect().await?;
        let mut cell_dims: Vec<&str> = stat.fixed.to_vec();
        cell_dims.extend(stat.always);
        for b in stat.breakdowns {
            cell_dims.extend(b.iter());
        }
        cell_dims.extend(stat.category);
        cell_dims.dedup();
        let mut seen = Vec::new();
        cell_dims.retain(|d| if seen.contains(d) { false } else { seen.push(*d); true });
        let cells = stats::finest(&batches, &cell_dims)?;
        let years: Vec<String> = (self.years.from..=self.years.to).map(|y| y.to_string()).collect();
        Ok(stats::cube(stat, &cells, &cell_dims, &years))
    }

    /// Run an arbitrary query on the session (tests and audits).
    pub async fn sql(&self, sql: &str) -> Result<Vec<arrow::array::RecordBatch>> {
        Ok(self.ctx.sql(sql).await?.collect().await?)
    }
}
