//! The application: configuration, the database and the services around it
//! (sign-in, checkout, background workers), shared by the HTTP handlers and
//! the CLI.

use crate::auth::challenge::ChallengeBook;
use crate::auth::session::Sessions;
use crate::checkout::Checkout;
use crate::config::Config;
use crate::cpanel_account::CpanelAccount;
use crate::customer::Customer;
use crate::http::static_files::StaticFiles;
use crate::nip05::{Nip05Checker, Nip05Source};
use crate::notices::confirm::Confirmations;
use crate::notices::worker::Notifier;
use crate::operator_key::OperatorKey;
use crate::payment::{FulfilmentStatus, Payment};
use crate::plan::Plan;
use crate::provisioning::Provisioner;
use crate::provisioning::first_steps::cpanel_url_of;
use crate::provisioning::gateway::PanelHealth;
use crate::provisioning::hosts::ServerLink;
use crate::provisioning::panel::HostingPanel;
use crate::provisioning::sandbox::SandboxPanel;
use crate::rate_limit::{Rate, TokenBuckets};
use crate::receipts::Receipts;
use crate::relay::{Directory, Outbox};
use crate::store::{Store, StoreError, StoreResult};
use crate::strike::StrikeClient;
use crate::timestamp::Timestamp;
use nostr::key::PublicKey;
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
    /// The operator's console (`--admin-npubs`).
    pub console: crate::console::Console,
    pub nip05: Nip05Checker,
    /// Per signed-in key: email addresses refused as already in use.
    pub email_refusals: TokenBuckets<String>,
    /// Per client address: `nostrconnect://` QR codes drawn (each costs a
    /// QR rendering and needs no session), at the sign-in challenge rate.
    pub nostrconnect_requests: TokenBuckets<std::net::IpAddr>,
    pub checkout: Arc<Checkout>,
    pub provisioner: Arc<Provisioner>,
    /// The pages in the configured public folder.
    pub pages: StaticFiles,
    /// The operator's Nostr identity, which signs what hostr publishes.
    pub operator: OperatorKey,
    /// The one way to publish to relays (off without `--relays`).
    pub outbox: Arc<Outbox>,
    /// Users' kinds 0, 10002 and 10050 read from relays, cached.
    pub directory: Arc<Directory>,
    /// Lifecycle notices to customers and the operator.
    pub notifier: Arc<Notifier>,
    /// Email confirmation links.
    pub confirmations: Confirmations,
    /// Issues the signed receipt of every PAID payment.
    pub receipts: Arc<Receipts>,
    pub nwc: Arc<crate::nwc::Nwc>,
}

/// What `/api/health` reports beyond "the server answers".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    /// Record files that cannot be read (a folder that cannot be read counts as one).
    pub unreadable_records: usize,
    /// Paid payments whose account could not be delivered yet.
    pub failed_fulfilments: usize,
    pub whm: PanelHealth,
}

impl Health {
    pub fn is_degraded(&self) -> bool {
        self.unreadable_records > 0 || self.failed_fulfilments > 0 || self.whm != PanelHealth::Answering
    }
}

/// How many addresses already in use one key may try: whether an address
/// is a customer's must not be cheap to learn (see docs/API.md).
const EMAIL_REFUSALS: Rate = Rate { burst: 3, refill: 3, period: std::time::Duration::from_secs(3600) };

/// How long a user's relay lists read from relays are trusted.
const USER_LISTS_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

/// Unanswered challenges kept at most; the oldest give way beyond it.
const MAX_OPEN_CHALLENGES: usize = 100_000;

impl App {
    /// Opens the database (creating it on first start) and seeds the basic
    /// plan when there is no plan at all.
    pub fn open(mut config: Config) -> StoreResult<App> {
        // Without a setting, customers sign in to cPanel on the WHM host, on cPanel's port.
        let on_whm = config.whm.as_ref().and_then(|whm| cpanel_url_of(&whm.url));
        config.server.cpanel_url = config.server.cpanel_url.take().or(on_whm);
        let store = Arc::new(Store::open(&config.database)?);
        seed_plan_if_none(&store)?;
        let secret = match &config.session_secret {
            Some(secret) => secret.as_bytes().to_vec(),
            None => crate::auth::session::secret_in(store.root())?,
        };
        let operator = match &config.operator_key {
            Some(key) => key.clone(),
            None => OperatorKey::in_database(store.root())?,
        };
        let rate = Rate::per_minute(config.challenge_rate, config.challenge_rate);
        let nip05_source = match &config.test_nip05_server {
            Some(base) => Nip05Source::TestServer(base.clone()),
            None => Nip05Source::Web,
        };
        let checkout = checkout(&config, &store);
        let provisioner =
            Arc::new(Provisioner::with_servers(store.clone(), servers(&config, &store)?, schedule(&config)));
        let outbox = Arc::new(Outbox::new(store.clone(), operator.keys().clone(), config.relays.clone()));
        let published = (config.publish_receipts && outbox.is_on()).then(|| outbox.clone());
        let receipts = Arc::new(Receipts::new(store.clone(), operator.clone(), config.seller.clone(), published));
        // Weak: checkout's hook must not keep the receipts (and their thread) alive.
        let (woken, receipts_woken) = (provisioner.clone(), Arc::downgrade(&receipts));
        checkout.when_paid(Box::new(move || {
            woken.wake();
            if let Some(receipts) = receipts_woken.upgrade() {
                receipts.wake();
            }
        }));
        let directory = Arc::new(Directory::new(config.relays.clone(), operator.keys().clone(), USER_LISTS_TTL));
        let confirmations = Confirmations::new(&secret);
        let dm = crate::notices::worker::DmChannel {
            outbox: outbox.clone(),
            directory: directory.clone(),
            keys: operator.keys().clone(),
            operator_npub: config.notices.operator_npub.as_deref().and_then(|n| PublicKey::parse(n).ok()),
        };
        let servers = provisioner.server_facts(&config.server).into_iter().collect();
        let notifier = Arc::new(notifier(&config, &store, confirmations.clone(), dm, servers)?);
        let checkout = Arc::new(checkout);
        let nwc = crate::nwc::Nwc::new(
            store.clone(),
            checkout.clone(),
            outbox.clone(),
            config.relays.clone(),
            config.auto_renew.clone(),
        );
        Ok(App {
            nwc: Arc::new(nwc),
            outbox,
            directory,
            notifier,
            confirmations,
            checkout,
            provisioner,
            nip05: Nip05Checker::start(store.clone(), nip05_source),
            challenges: ChallengeBook::new(config.challenge_lifetime, MAX_OPEN_CHALLENGES, rate),
            email_refusals: TokenBuckets::new(EMAIL_REFUSALS),
            nostrconnect_requests: TokenBuckets::new(rate),
            sessions: Sessions::new(&secret, config.session_lifetime),
            console: crate::console::Console::new(&config, &secret),
            pages: StaticFiles::new(config.public_dir.clone()),
            operator,
            receipts,
            config,
            store,
        })
    }

    pub fn sandbox(&self) -> Sandbox {
        Sandbox { payments: self.checkout.is_sandbox(), whm: self.provisioner.is_sandbox() }
    }

    /// What needs the operator now, for `/api/health`: records that cannot
    /// be read, paid orders whose delivery failed, WHM not answering. The
    /// counts come from the lookup tables, never from reading every file: a
    /// table still being built after start-up counts nothing yet.
    pub fn health(&self) -> Health {
        let unreadable_records = self.unreadable::<Customer>()
            + self.unreadable::<CpanelAccount>()
            + self.unreadable::<Plan>()
            + self.unreadable::<Payment>();
        let failed =
            |open: Vec<Payment>| open.iter().filter(|p| p.fulfilment.status == FulfilmentStatus::Failed).count();
        let failed_fulfilments = match self.store.is_indexed::<Payment>() {
            true => self.store.find_all(Payment::open_unfulfilled()).map_or(1, failed),
            false => 0,
        };
        Health { unreadable_records, failed_fulfilments, whm: self.provisioner.panel_health() }
    }

    /// `T`'s files that cannot be used, once its table is built (a folder
    /// that cannot be read counts as one).
    fn unreadable<T: crate::store::Record>(&self) -> usize {
        match self.store.is_indexed::<T>() {
            true => self.store.broken::<T>().map_or(1, |broken| broken.len()),
            false => 0,
        }
    }

    /// Starts the background workers: payments, accounts, receipts, and the
    /// outbox (which first queues the operator's profile if it changed),
    /// with the plans' listings checked for changes.
    pub fn start_workers(&self) {
        self.checkout.start(self.config.payment_poll_interval);
        self.provisioner.start();
        self.receipts.start();
        let website = self.config.public_url.origin();
        crate::operator_profile::publish(&self.outbox, self.operator.keys(), &self.config.operator_profile, website);
        if self.outbox.is_on() {
            let (keys, site) = (self.operator.keys().clone(), self.config.public_url.clone());
            let period = self.config.listing_check;
            crate::listing::start_publisher(Arc::downgrade(&self.outbox), self.store.clone(), keys, site, period);
        }
        self.outbox.start();
        self.notifier.start();
        if self.outbox.is_on() {
            self.nwc.start();
        }
        if self.console.is_on() {
            crate::console::hand_edits::start(Arc::downgrade(&self.store), self.config.hand_edit_check);
        }
    }

    /// Plans customers can buy, cheapest first within each currency (prices
    /// in different currencies are never compared). A broken plan file is
    /// logged and left out rather than taking the whole list down.
    pub fn plans_on_sale(&self) -> StoreResult<Vec<Plan>> {
        let mut plans: Vec<Plan> = self.store.list_readable::<Plan>()?.into_iter().filter(|p| p.available).collect();
        plans.sort_by(|a, b| (a.currency.as_str(), a.price, &a.id).cmp(&(b.currency.as_str(), b.price, &b.id)));
        Ok(plans)
    }
}

/// Strike when configured; else sandbox payments.
fn checkout(config: &Config, store: &Arc<Store>) -> Checkout {
    match &config.strike {
        Some(strike) => {
            let client = StrikeClient::with_timeout(&strike.api_url, &strike.api_key, strike.timeout);
            Checkout::new(store.clone(), Arc::new(client), config.invoice_lifetime)
        }
        None => Checkout::sandboxed_with(store.clone(), config.invoice_lifetime, config.sandbox_quote_lifetime),
    }
    .with_max_open(config.max_open_purchases)
}

/// The accounts worker's timing, adjusted to what is configured.
fn schedule(config: &Config) -> crate::provisioning::Schedule {
    let mut schedule = config.schedule.clone();
    if let Some(whm) = &config.whm {
        // WHM may go on creating an account after hostr stopped waiting.
        schedule.create_settle = whm.create_timeout * 2;
    }
    // Nameservers the operator named win: WHM is not asked for its own.
    schedule.read_nameservers = config.server.nameservers.is_empty();
    schedule
}

/// The WHM servers configured (`WHM_URL`'s and the records in
/// `database/servers/`); with none, the sandbox panel as the default
/// server, holding the accounts the files say exist.
fn servers(config: &Config, store: &Store) -> StoreResult<Vec<ServerLink>> {
    // A record that cannot be read, a token variable unset, a CA file missing.
    let refused = |why: String| StoreError::Io { path: "servers".into(), source: std::io::Error::other(why) };
    let configured = crate::config::servers::configured(store, config.whm.as_ref()).map_err(refused)?;
    if configured.is_empty() {
        log::warn!("SANDBOX WHM: no WHM_URL configured; accounts are simulated in this process, nobody gets hosting");
        let panel = SandboxPanel::holding_files(config.public_url.origin(), store)?;
        let id = crate::whm_server::DEFAULT_SERVER.to_owned();
        return Ok(vec![ServerLink { id, panel: Box::new(panel), facts: Default::default() }]);
    }
    let mut links = Vec::new();
    for server in configured {
        let client = server.whm.client().map_err(refused)?;
        links.push(ServerLink { id: server.id, panel: Box::new(client) as Box<dyn HostingPanel>, facts: server.facts });
    }
    Ok(links)
}

/// The notices worker from the settings; a broken SMTP URL refuses the start.
fn notifier(
    config: &Config,
    store: &Arc<Store>,
    confirmations: Confirmations,
    dm: crate::notices::worker::DmChannel,
    servers: std::collections::BTreeMap<String, crate::provisioning::first_steps::ServerFacts>,
) -> StoreResult<Notifier> {
    let settings = &config.notices;
    let mailer = match &settings.smtp {
        Some(smtp) => Some(
            crate::notices::email::Mailer::new(smtp)
                .map_err(|why| StoreError::Io { path: "HOSTR_SMTP_URL".into(), source: std::io::Error::other(why) })?,
        ),
        None => None,
    };
    let schedule = &config.schedule;
    let contact = [config.contact.email.clone(), config.contact.npub.clone()];
    let contact = contact.into_iter().flatten().collect::<Vec<_>>().join(" or ");
    let parts = crate::notices::worker::NotifierParts {
        settings: crate::notices::plan::Settings {
            reminder_days: settings.reminder_days.clone(),
            expiry_grace: schedule.expiry_grace,
            terminate_after: schedule.terminate_after,
            deletion_grace: chrono::Duration::from_std(config.deletion_grace).unwrap_or(chrono::Duration::MAX),
            operator: settings.operator_email.is_some() || settings.operator_npub.is_some(),
            server: config.server.clone(),
            servers,
            auto_renew: crate::notices::auto_renew::RenewTiming {
                days: config.auto_renew.days,
                attempts: config.auto_renew.attempts,
            },
        },
        templates: settings.templates.clone(),
        mailer,
        dm,
        operator_email: settings.operator_email.clone(),
        confirmations,
        site: config.public_url.origin().to_owned(),
        contact: if contact.is_empty() { "reply to this message".to_owned() } else { contact },
        cycle: settings.cycle,
    };
    Ok(Notifier::new(store.clone(), parts))
}

fn seed_plan_if_none(store: &Store) -> StoreResult<()> {
    if store.ids::<Plan>()?.is_empty() {
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
