//! Computing statistics for a delivery on DataFusion.

use datafusion::prelude::SessionContext;

use crate::delivery::Delivery;
use crate::error::{Error, Result};
use crate::stats::{self, Statistic, Table};

/// Decision years and the delivery to compute for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
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
    /// Units (pseudonyms, decisions) as coordinates shared by every statistic of this session.
    universe: std::sync::Mutex<stats::Universe>,
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
        if let Some((from, to)) = delivery.manifest.years() {
            if years.from < from || years.to > to {
                return Err(Error::Precondition(format!(
                    "delivery {} was linked for decision years {from}-{to}: decision years {}-{} are outside it \
                     (link a delivery for them)",
                    delivery.manifest.delivery_id, years.from, years.to
                )));
            }
        }
        let ctx = SessionContext::new();
        delivery.register(&ctx).await?;
        for (name, sql) in crate::definitions::views(years.from, years.to) {
            ctx.sql(&format!("CREATE VIEW {name} AS {sql}")).await?;
        }
        Ok(Engine { ctx, years, universe: Default::default() })
    }

    /// Compute one statistic (before disclosure control).
    pub async fn compute(&self, stat: &'static Statistic) -> Result<Table> {
        let batches = self.ctx.sql(&(stat.sql)(self.years.from, self.years.to)).await?.collect().await?;
        let cells = {
            let mut universe = self.universe.lock().map_err(|_| Error::BadRequest("engine state poisoned".into()))?;
            stats::finest(&batches, &stat.cell_dims(), &mut universe)?
        };
        let years: Vec<String> = (self.years.from..=self.years.to).map(|y| y.to_string()).collect();
        Ok(stats::cube(stat, &cells, &years))
    }

    /// Compute every statistic of the catalogue (one release).
    pub async fn compute_all(&self) -> Result<Vec<Table>> {
        let mut out = Vec::with_capacity(stats::CATALOGUE.len());
        for stat in stats::CATALOGUE {
            out.push(self.compute(stat).await?);
        }
        Ok(out)
    }

    /// Unit identifiers by the numbers the computed tables use.
    pub fn unit_names(&self) -> Result<Vec<String>> {
        let u = self.universe.lock().map_err(|_| Error::BadRequest("engine state poisoned".into()))?;
        Ok(u.names().to_vec())
    }

    pub fn years(&self) -> Years {
        self.years
    }

    /// Run an arbitrary query on the session (tests and audits).
    pub async fn sql(&self, sql: &str) -> Result<Vec<arrow::array::RecordBatch>> {
        Ok(self.ctx.sql(sql).await?.collect().await?)
    }
}
