//! The application: configuration and the database, with the use cases the
//! HTTP handlers and the CLI share.

use crate::auth::challenge::{ChallengeBook, RateLimit};
use crate::auth::session::Sessions;
use crate::config::Config;
use crate::nip05::{Nip05Checker, Nip05Source};
use crate::plan::Plan;
use crate::store::{Kind, Store, StoreError, StoreResult};
use crate::timestamp::Timestamp;
use std::sync::Arc;

/// Which integrations run as in-process sandboxes instead of the real thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sandbox {
    pub payments: bool,
    pub whm: bool,
}

pub struct App {
    pub config: Config,
    pub store: Arc<Store>,
    pub challenges: ChallengeBook,
    pub sessions: Sessions,
    pub nip05: Nip05Checker,
}

/// Unanswered challenges kept at most; the oldest give way beyond it.
const MAX_OPEN_CHALLENGES: usize = 100_000;

impl App {
    /// Opens the database (creating it on first start) and seeds the basic
    /// plan when there is no plan at all.
    pub fn open(config: Config) -> StoreResult<App> {
        let store = Arc::new(Store::open(&config.database)?);
        seed_plan_if_none(&store)?;
        let secret = match &config.session_secret {
            Some(secret) => secret.as_bytes().to_vec(),
            None => store.session_secret()?,
        };
        let rate = RateLimit { burst: config.challenge_rate, per_minute: config.challenge_rate };
        let nip05_source = match &config.test_nip05_server {
            Some(base) => Nip05Source::TestServer(base.clone()),
            None => Nip05Source::Web,
        };
        Ok(App {
            nip05: Nip05Checker::start(store.clone(), nip05_source),
            challenges: ChallengeBook::new(config.challenge_lifetime, MAX_OPEN_CHALLENGES, rate),
            sessions: Sessions::new(&secret, config.session_lifetime),
            config,
            store,
        })
    }

    pub fn sandbox(&self) -> Sandbox {
        // The Strike and WHM clients arrive with their own issues; until
        // then every payment and every account is a sandbox one.
        Sandbox { payments: true, whm: true }
    }

    /// Plans customers can buy, in id order. A broken plan file is logged
    /// and left out rather than taking the whole list down.
    pub fn plans_on_sale(&self) -> StoreResult<Vec<Plan>> {
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
        log::info!("no plans yet: adding the \"{}\" plan ({})", plan.name, plan.id);
        match store.create(&plan) {
            // Another hostr process starting at the same moment seeded it.
            Err(StoreError::AlreadyExists { .. }) => {}
            other => other?,
        }
    }
    Ok(())
}
