//! Computing statistics for a delivery on DataFusion.

use datafusion::prelude::SessionContext;

use crate::delivery::Delivery;
use crate::error::{Error, Result};
use crate::stats::{self, Family, Statistic, Table};

/// Decision years and the delivery to compute for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Years {
    pub from: i32,
    pub to: i32,
}

impl Years {
    pub fn new(from: i32, to: i32) -> Result<Self> {
        // The decision register starts in 2002 (support statistics need D-2 >= 2002 as well,
        // which the linkage service enforces for deliveries that carry them).
        if from > to || from < 2002 || to > 2100 {
            return Err(Error::BadRequest("decision years must satisfy 2002 <= from <= to".into()));
        }
        Ok(Years { from, to })
    }
}

/// A DataFusion session over one delivery with the SPEC §4 views defined (and the §5b views,
/// for the families of statistics the delivery has the tables of).
pub struct Engine {
    ctx: SessionContext,
    years: Years,
    families: Vec<Family>,
    /// Whether the years are the delivery's own (its whole range): the payer statistics are
    /// computed only there (see [`Engine::covers`]).
    whole_range: bool,
    /// Units (pseudonyms, decisions) as coordinates shared by every statistic of this session.
    universe: std::sync::Mutex<stats::Universe>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("years", &self.years).finish_non_exhaustive()
    }
}

/// Run a query to completion and keep its result as an in-memory table (its partitions as
/// computed).
pub(crate) async fn materialise(df: datafusion::dataframe::DataFrame) -> Result<std::sync::Arc<dyn datafusion::catalog::TableProvider>> {
    let task = df.task_ctx();
    let plan = df.create_physical_plan().await?;
    let schema = plan.schema();
    let partitions = datafusion::physical_plan::collect_partitioned(plan, std::sync::Arc::new(task)).await?;
    Ok(std::sync::Arc::new(datafusion::datasource::MemTable::try_new(schema, partitions)?))
}

impl Engine {
    pub async fn new(delivery: &Delivery, years: Years) -> Result<Self> {
        // The families of statistics the delivery was linked for: those whose tables it has.
        let families: Vec<Family> =
            [Family::Support, Family::Decisions, Family::Residence, Family::Assistance, Family::Payer]
                .into_iter()
                .filter(|f| f.tables().iter().all(|t| delivery.has(t)))
                .collect();
        if families.is_empty() {
            let missing = Family::Decisions.tables().iter().find(|t| !delivery.has(t)).copied().unwrap_or("decisions");
            return Err(Error::Delivery { id: delivery.manifest.delivery_id.clone(), problem: format!("has no {missing} table") });
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
        let mut views = Vec::new();
        if families.contains(&Family::Support) {
            views.extend(crate::definitions::views(years.from, years.to));
        }
        if families.contains(&Family::Decisions) {
            views.extend(crate::decisions::views(delivery.has("recipient_months")));
        }
        if families.contains(&Family::Residence) {
            views.extend(crate::decisions::residence_views());
        }
        if families.contains(&Family::Assistance) {
            views.extend(crate::assistance::views(families.contains(&Family::Payer)));
        }
        // Each view is computed once, in dependency order, and kept as an in-memory table: a
        // statistic's SQL reads the materialised cohort and support years instead of deriving
        // them again from the delivery (21 statistics read the same few views).
        for (name, sql) in views {
            let table = materialise(ctx.sql(&sql).await?).await?;
            ctx.register_table(name, table)?;
        }
        let whole_range = delivery.manifest.years().is_none_or(|(a, b)| (a, b) == (years.from, years.to));
        Ok(Engine { ctx, years, families, whole_range, universe: Default::default() })
    }

    /// Whether the delivery has what a statistic reads. The payer statistics (SPEC-DECISIONS
    /// §5c) count months, and a month's cell is the same in every range of years that holds it:
    /// they are released with the delivery's whole range of years only, where every month is
    /// (a sub-range would repeat its cells, and the release family of every sub-range would
    /// compute them once per range).
    pub fn covers(&self, stat: &Statistic) -> bool {
        self.families.contains(&stat.family) && (self.whole_range || !matches!(stat.family, Family::Assistance | Family::Payer))
    }

    /// The statistics of the catalogue this delivery can answer, in catalogue order.
    pub fn statistics(&self) -> Vec<&'static Statistic> {
        stats::CATALOGUE.iter().filter(|s| self.covers(s)).collect()
    }

    /// Compute one statistic (before disclosure control). A statistic the delivery was not
    /// linked for is an error, never zeros (SPEC §6).
    pub async fn compute(&self, stat: &'static Statistic) -> Result<Table> {
        if self.families.contains(&stat.family) && !self.covers(stat) {
            return Err(Error::Precondition(format!(
                "statistic {} counts months: it is released for the delivery's whole years only (ask for them), \
                 where each month is one cell",
                stat.id
            )));
        }
        if !self.covers(stat) {
            return Err(Error::Precondition(format!(
                "statistic {} reads {}, which this delivery was not linked for (link a delivery for it)",
                stat.id,
                stat.family.tables().join(", ")
            )));
        }
        let batches = self.ctx.sql(&(stat.sql)(self.years.from, self.years.to)).await?.collect().await?;
        let (cells, measure) = {
            let mut universe = self.universe.lock().map_err(|_| Error::BadRequest("engine state poisoned".into()))?;
            let cells = stats::finest(&batches, &stat.cell_dims(), &mut universe)?;
            let measure = match crate::assistance::mean_column(stat.id) {
                Some(_) => Some(crate::assistance::measures(&batches, &mut universe)?),
                None => None,
            };
            (cells, measure)
        };
        let years: Vec<String> = (self.years.from..=self.years.to).map(|y| y.to_string()).collect();
        let mut table = stats::cube(stat, &cells, &years);
        if let Some(measure) = measure {
            crate::assistance::attach_means(stat, &mut table, &measure);
        }
        Ok(table)
    }

    /// Compute every statistic of the catalogue the delivery covers (one release).
    pub async fn compute_all(&self) -> Result<Vec<Table>> {
        let mut out = Vec::with_capacity(stats::CATALOGUE.len());
        for stat in self.statistics() {
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
