//! The application: configuration and the database, with the use cases the
//! HTTP handlers and the CLI share.

use crate::config::Config;
use crate::error::ApiResult;
use crate::plan::Plan;
use crate::store::{Kind, Store, StoreResult};
use crate::timestamp::Timestamp;

/// Which integrations run as in-process sandboxes instead of the real thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sandbox {
    pub payments: bool,
    pub whm: bool,
}

pub struct App {
    pub config: Config,
    pub store: Store,
}

impl App {
    /// Opens the database (creating it on first start) and seeds the basic
    /// plan when there is no plan at all.
    pub fn open(config: Config) -> StoreResult<App> {
        let store = Store::open(&config.database)?;
        seed_plan_if_none(&store)?;
        Ok(App { config, store })
    }

    pub fn sandbox(&self) -> Sandbox {
        // The Strike and WHM clients arrive with their own issues; until
        // then every payment and every account is a sandbox one.
        Sandbox {
            payments: true,
            whm: true,
        }
    }

    /// Plans customers can buy, in id order. A broken plan file is logged
    /// and left out rather than taking the whole list down.
    pub fn plans_on_sale(&self) -> ApiResult<Vec<Plan>> {
        let mut plans = Vec::new();
        for plan in self.store.list::<Plan>()? {
            match plan {
                Ok(plan) if plan.available => plans.push(plan),
                Ok(_) => {}
                Err(error) => log::error!("plan left out of the listing: {error}"),
            }
        }
        Ok(plans)
    }
}

fn seed_plan_if_none(store: &Store) -> StoreResult<()> {
    if store.ids(Kind::Plan)?.is_empty() {
        let plan = Plan::seed(Timestamp::now());
        log::info!(
            "no plans yet: adding the \"{}\" plan ({})",
            plan.name,
            plan.id
        );
        store.create(&plan)?;
    }
    Ok(())
}
