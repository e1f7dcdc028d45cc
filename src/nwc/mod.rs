//! Automatic renewal through Nostr Wallet Connect (NIP-47): a customer
//! connects a wallet to one account, with a cap per renewal, and hostr asks
//! that wallet to pay each renewal's invoice.
//!
//! - `uri.rs`: the `nostr+walletconnect://` URI, parsed (pure);
//! - `wire.rs`: info, request and response events, error codes (pure);
//! - `link.rs`: [`WalletLink`], the record of one account's connection,
//!   with no secret in it; `secret.rs`: the secret's private file;
//! - `client.rs`: the wallet's relay, over the relay client's `Connection`;
//! - `renew.rs`: the renewal thread's steps.
//!
//! Invariants: only Strike's invoice state decides that a renewal is paid
//! (the ordinary payment poller and fulfilment extend the account, once);
//! at most one `pay_invoice` is signed per renewal payment, it is written
//! to the record and the outbox before it is sent, and a resend is the same
//! event; an amount above the cap is never requested; the wallet's relay is
//! a customer's relay, filtered as one.

mod client;
pub mod link;
mod renew;
pub mod secret;
pub mod uri;
pub mod wire;

pub use link::{LinkStatus, WalletLink};
pub use renew::due_at;

use crate::checkout::Checkout;
use crate::cpanel_account::{AccountStatus, CpanelAccount};
use crate::customer::Customer;
use crate::payment::Payment;
use crate::plan::Plan;
use crate::relay::{Outbox, RelaySettings};
use crate::store::{Store, StoreError};
use crate::timestamp::Timestamp;
use std::sync::Arc;
use std::time::Duration;

/// The settings of automatic renewal, from `serve`'s flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewSettings {
    /// `--auto-renew-days`: how long before `paidUntil` the wallet is asked.
    pub days: u32,
    /// `--auto-renew-attempts`: attempts per renewal, a day apart.
    pub attempts: u32,
    /// `--auto-renew-wait-seconds`: how long an answer is waited for.
    pub wait: Duration,
    /// How often the thread looks at the connections.
    pub cycle: Duration,
    /// The pause between two attempts of one renewal.
    pub retry_after: Duration,
}

impl Default for RenewSettings {
    fn default() -> RenewSettings {
        RenewSettings {
            days: 3,
            attempts: 3,
            wait: Duration::from_secs(30),
            cycle: Duration::from_secs(60),
            retry_after: Duration::from_secs(86_400),
        }
    }
}

#[derive(Debug)]
pub enum NwcError {
    /// The URI is not a wallet connection: what is wrong with it.
    BadUri(String),
    /// None of the URI's relays passes the filter of customers' relays.
    RefusedRelay(String),
    /// The wallet's relay or info event could not be read, or offers too little.
    Wallet(String),
    BadCap(String),
    /// The plan does not sell that many periods at once.
    BadPeriods(String),
    NotYourAccount,
    /// A further account of a group: its renewal is its primary's (the
    /// primary's domain), so a wallet there would pay the same invoice.
    GroupMember(String),
    /// hostr publishes nothing without `--relays`.
    Off,
    Secret(std::io::Error),
    Store(StoreError),
}

impl std::fmt::Display for NwcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NwcError::BadUri(why)
            | NwcError::RefusedRelay(why)
            | NwcError::Wallet(why)
            | NwcError::BadCap(why)
            | NwcError::BadPeriods(why) => f.write_str(why),
            NwcError::NotYourAccount => f.write_str("no such account of yours"),
            NwcError::GroupMember(primary) => {
                write!(f, "this site renews with {primary}, the first site of its plan: connect the wallet there")
            }
            NwcError::Off => f.write_str("automatic renewal is off on this server (no --relays)"),
            NwcError::Secret(e) => write!(f, "cannot keep the connection secret: {e}"),
            NwcError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl From<StoreError> for NwcError {
    fn from(error: StoreError) -> NwcError {
        NwcError::Store(error)
    }
}

/// What the customer chooses when connecting: the cap per renewal (sats;
/// default [`Nwc::default_cap`]) and how many periods each renewal buys
/// (default the plan's smallest prepay choice).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Terms {
    pub cap_sats: Option<i64>,
    pub periods: Option<u32>,
}

/// The automatic-renewal service: the use cases and the thread.
pub struct Nwc {
    store: Arc<Store>,
    checkout: Arc<Checkout>,
    outbox: Arc<Outbox>,
    relays: RelaySettings,
    settings: RenewSettings,
}

impl Nwc {
    pub fn new(
        store: Arc<Store>,
        checkout: Arc<Checkout>,
        outbox: Arc<Outbox>,
        relays: RelaySettings,
        settings: RenewSettings,
    ) -> Nwc {
        Nwc { store, checkout, outbox, relays, settings }
    }

    pub fn settings(&self) -> &RenewSettings {
        &self.settings
    }

    fn own_account(&self, customer: &Customer, account_id: &str) -> Result<CpanelAccount, NwcError> {
        match self.store.get::<CpanelAccount>(account_id) {
            Ok(a) if a.customer_id == customer.id && a.status != AccountStatus::Terminated => Ok(a),
            Ok(_) | Err(StoreError::NotFound { .. } | StoreError::InvalidId { .. }) => Err(NwcError::NotYourAccount),
            Err(e) => Err(e.into()),
        }
    }

    /// Connects a wallet to `account_id`: the URI read, its relay filtered,
    /// the info event checked (pay_invoice, encryption), the secret kept in
    /// its private file and the rest in the record, with the [`Terms`].
    pub fn connect(
        &self,
        customer: &Customer,
        account_id: &str,
        text: &str,
        terms: Terms,
    ) -> Result<WalletLink, NwcError> {
        if !self.outbox.is_on() {
            return Err(NwcError::Off);
        }
        let account = self.own_account(customer, account_id)?;
        if let Some(primary) = &account.group_of {
            let domain = self.store.get::<CpanelAccount>(primary).map_or_else(|_| primary.clone(), |p| p.domain);
            return Err(NwcError::GroupMember(domain));
        }
        let uri = uri::parse(text).map_err(NwcError::BadUri)?;
        let relay = uri.relays.iter().map(|r| self.relays.customer_relay(r)).collect::<Vec<_>>();
        let relay = match relay.iter().find_map(|r| r.as_ref().ok()) {
            Some(relay) => relay.clone(),
            None => return Err(NwcError::RefusedRelay(relay.into_iter().find_map(Result::err).unwrap_or_default())),
        };
        let (cap, periods) = self.terms(&account, terms)?;
        let timing = self.relays.timing;
        let info = client::fetch_info(&relay, &uri.keys, &uri.wallet, timing).map_err(NwcError::Wallet)?;
        let alias = client::alias(&relay, &uri.keys, &uri.wallet, &info, timing)
            .or_else(|| uri.lud16.clone())
            .unwrap_or_else(|| format!("wallet {}", &uri.wallet.to_hex()[..8]));
        secret::store(self.store.root(), &account.id, &uri.keys).map_err(NwcError::Secret)?;
        let now = Timestamp::now();
        let link = WalletLink {
            id: account.id.clone(),
            customer_id: customer.id.clone(),
            wallet_pubkey: uri.wallet.to_hex(),
            client_pubkey: uri.keys.public_key().to_hex(),
            relay: relay.as_str().to_owned(),
            alias,
            cap_sats: cap,
            periods,
            encryption: info.encryption,
            status: LinkStatus::Connected,
            current: None,
            attempts: 0,
            attempts_for: None,
            next_attempt_at: None,
            last: None,
            requested: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        self.save(link)
    }

    /// Writes a new connection over an old one, keeping what the old one
    /// requested (a request in flight stays the only one for its payment).
    fn save(&self, mut link: WalletLink) -> Result<WalletLink, NwcError> {
        match self.store.get::<WalletLink>(&link.id) {
            Ok(old) => {
                link.requested = old.requested;
                link.current = old.current;
                link.created_at = old.created_at;
                self.store.update::<WalletLink, _, StoreError>(&link.id, |l| {
                    *l = link.clone();
                    Ok(())
                })?;
            }
            Err(StoreError::NotFound { .. }) => self.store.create(&link)?,
            Err(e) => return Err(e.into()),
        }
        log::info!("account {}: automatic renewal connected to wallet {}", link.id, link.wallet_pubkey);
        Ok(link)
    }

    /// Disconnects: the secret erased, the record removed.
    pub fn disconnect(&self, customer: &Customer, account_id: &str) -> Result<(), NwcError> {
        self.own_account(customer, account_id)?;
        secret::erase(self.store.root(), account_id).map_err(NwcError::Secret)?;
        match self.store.remove::<WalletLink>(account_id) {
            Ok(()) | Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        log::info!("account {account_id}: automatic renewal disconnected");
        Ok(())
    }

    /// The customer's connections.
    pub fn links_of(&self, customer: &Customer) -> Result<Vec<WalletLink>, NwcError> {
        Ok(self.store.find_all(WalletLink::of_customer(&customer.id))?)
    }

    /// The customer's terms made whole: the periods checked against the
    /// plan's prepay choices, the cap against its bounds.
    fn terms(&self, account: &CpanelAccount, terms: Terms) -> Result<(i64, u32), NwcError> {
        let plan: Plan = self.store.get(&account.plan_id)?;
        let periods = terms.periods.unwrap_or_else(|| plan.smallest_prepay());
        plan.price_for(periods).map_err(NwcError::BadPeriods)?;
        let cap = match terms.cap_sats {
            Some(cap) if !(1..=100_000_000).contains(&cap) => {
                return Err(NwcError::BadCap("capSats must be 1 to 100000000 sats".to_owned()));
            }
            Some(cap) => cap,
            None => self.default_cap(account, periods)?.ok_or_else(|| {
                NwcError::BadCap("no price in sats is known for this account yet: give capSats".to_owned())
            })?,
        };
        Ok((cap, periods))
    }

    /// The cap offered when the customer gives none, for a renewal of
    /// `periods` periods: the last price paid in sats for one period of the
    /// account, times `periods`, plus 10 % and 300 sats for the exchange
    /// rate and the wallet's fee reserve.
    pub fn default_cap(&self, account: &CpanelAccount, periods: u32) -> Result<Option<i64>, NwcError> {
        let mut last: Option<Payment> = None;
        for applied in &account.applied_payments {
            if let Ok(payment) = self.store.get::<Payment>(&applied.payment_id) {
                last = Some(payment);
            }
        }
        let per_period = last.and_then(|p| Some(p.quote_sats? / i64::from(p.periods.max(1))));
        Ok(per_period.map(|sats| sats * i64::from(periods)).map(|sats| sats + sats / 10 + 300))
    }

    /// When the next attempt for `link` comes, and for how many sats at most.
    pub fn next_attempt(&self, link: &WalletLink) -> Option<Timestamp> {
        let account = self.store.get::<CpanelAccount>(&link.id).ok()?;
        let paid_until = account.paid_until?;
        if link.status != LinkStatus::Connected || !link.expected_to_pay(paid_until, self.settings.attempts) {
            return None;
        }
        let due = renew::due_at(paid_until, self.settings.days);
        Some(link.next_attempt_at.filter(|at| *at > due && link.attempts_for == Some(paid_until)).unwrap_or(due))
    }
}
