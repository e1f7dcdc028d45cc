//! The notices worker: one background thread per database (it holds
//! `.notices-worker.lock`) that, every `cycle`, plans what is due, writes
//! each new notice, and delivers what is pending.
//!
//! Invariants:
//! - a notice is written (create-new, named by its event) before any
//!   channel is tried, and the channels are chosen and written before the
//!   first attempt, so a restart carries on with the same choice;
//! - right before an attempt the notice's records are read again and the
//!   planner asked whether it is still due; if not it is DROPPED with the
//!   reason, never sent;
//! - an SMTP server that is down stops email for the rest of the pass; the
//!   notices wait, nothing is lost;
//! - passes never overlap within the process (`passing`).

use super::channels::{self, Choice, Reach};
use super::confirm::Confirmations;
use super::email::{MailError, Mailer, Outgoing};
use super::plan::{self, Settings, World};
use super::templates::Templates;
use super::{Delivery, Notice, NoticeKind, NoticeStart, NoticeState, Recipient};
use crate::cpanel_account::CpanelAccount;
use crate::customer::Customer;
use crate::nwc::WalletLink;
use crate::payment::Payment;
use crate::plan::Plan;
use crate::relay::{Directory, Outbox, Published, RelayAddress, Targets};
use crate::store::{Store, StoreError, StoreResult};
use crate::timestamp::Timestamp;
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the worker needs beyond the store, from the validated settings.
pub struct NotifierParts {
    pub settings: Settings,
    pub templates: Templates,
    pub mailer: Option<Mailer>,
    pub dm: DmChannel,
    /// The operator's own address for alerts.
    pub operator_email: Option<String>,
    pub confirmations: Confirmations,
    /// The site's origin, for links.
    pub site: String,
    /// How customers reach the operator, for the texts.
    pub contact: String,
    pub cycle: Duration,
}

/// Private Nostr messages: the outbox that delivers them and the
/// directory that finds a recipient's kind 10050 inbox relays.
pub struct DmChannel {
    pub outbox: Arc<Outbox>,
    pub directory: Arc<Directory>,
    /// The operator's key, which signs the seals.
    pub keys: nostr::key::Keys,
    /// `HOSTR_OPERATOR_NPUB`: the operator's personal key, for alerts.
    pub operator_npub: Option<nostr::key::PublicKey>,
}

impl DmChannel {
    /// The inbox relays of `who`'s kind 10050 list that hostr may connect
    /// to (customers' relays are filtered as untrusted).
    pub fn inbox_of(&self, who: &nostr::key::PublicKey) -> Vec<RelayAddress> {
        let settings = self.outbox.settings();
        let lists = self.directory.lists_of(who);
        lists.inbox().iter().filter_map(|url| settings.customer_relay(url).ok()).collect()
    }
}

pub struct Notifier {
    store: Arc<Store>,
    parts: NotifierParts,
    passing: Mutex<()>,
    passes: AtomicU64,
}

/// What one pass did, for the log.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PassReport {
    pub planned: usize,
    pub sent: usize,
    pub dropped: usize,
    pub waiting: usize,
}

/// The outcome of one attempt at one notice.
enum Attempt {
    Sent,
    Dropped,
    Waiting,
}

impl Notifier {
    pub fn new(store: Arc<Store>, parts: NotifierParts) -> Notifier {
        Notifier { store, parts, passing: Mutex::new(()), passes: AtomicU64::new(0) }
    }

    /// Whether a private Nostr message can reach this key (hex): it has a
    /// kind 10050 list with relays hostr may use.
    pub fn has_inbox(&self, public_key_hex: &str) -> bool {
        let key = nostr::key::PublicKey::from_hex(public_key_hex).ok();
        key.is_some_and(|key| !self.parts.dm.inbox_of(&key).is_empty())
    }

    /// Passes completed so far (tests wait on it).
    pub fn passes(&self) -> u64 {
        self.passes.load(Ordering::SeqCst)
    }

    /// Starts the background thread; it ends once the notifier is dropped
    /// (a test's app), releasing its claim.
    pub fn start(self: &Arc<Self>) {
        let notifier = Arc::downgrade(self);
        let spawned = std::thread::Builder::new().name("notices".to_owned()).spawn(move || run(&notifier));
        if let Err(e) = spawned {
            log::error!("cannot start the notices worker: {e}");
        }
    }

    /// Claims the role for this database, unless another process holds it.
    fn claim(&self) -> Result<Option<std::fs::File>, ()> {
        match crate::lock_file::claim(&self.store.root().join(".notices-worker.lock")) {
            Ok(Some(claim)) => Ok(Some(claim)),
            Ok(None) => Err(()),
            Err(e) => {
                log::error!("cannot claim the notices worker ({e}); running without the claim");
                Ok(None)
            }
        }
    }

    /// One pass inside `catch_unwind`, logged.
    fn logged_pass(&self) {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.pass())) {
            Ok(report) if report != PassReport::default() => log::info!("notices: {report:?}"),
            Ok(_) => {}
            Err(_) => log::error!("the notices worker hit a bug; carrying on"),
        }
    }

    /// One pass: plan, write what is new, deliver what is pending.
    pub fn pass(&self) -> PassReport {
        let _one = self.passing.lock().unwrap_or_else(|p| p.into_inner());
        let mut report = PassReport::default();
        let now = Timestamp::now();
        match self.since(now).and_then(|since| self.write_planned(since, now)) {
            Ok(planned) => report.planned = planned,
            Err(e) => log::error!("notices: cannot plan: {e}"),
        }
        let pending = self.store.find_all(Notice::pending()).unwrap_or_else(|e| {
            log::error!("notices: cannot list pending notices: {e}");
            Vec::new()
        });
        let mut smtp_down = false;
        for notice in pending {
            match self.attempt(&notice, &mut smtp_down) {
                Ok(Attempt::Sent) => report.sent += 1,
                Ok(Attempt::Dropped) => report.dropped += 1,
                Ok(Attempt::Waiting) => report.waiting += 1,
                Err(e) => log::error!("notice {}: {e}", notice.id),
            }
        }
        self.passes.fetch_add(1, Ordering::SeqCst);
        report
    }

    /// When notices began on this database, recorded on the first pass.
    fn since(&self, now: Timestamp) -> StoreResult<Timestamp> {
        match self.store.get::<NoticeStart>(NoticeStart::ID) {
            Ok(start) => Ok(start.since),
            Err(StoreError::NotFound { .. }) => {
                let start = NoticeStart { id: NoticeStart::ID.to_owned(), since: now };
                match self.store.create(&start) {
                    Err(StoreError::AlreadyExists { .. }) => Ok(self.store.get::<NoticeStart>(NoticeStart::ID)?.since),
                    other => other.map(|_| now),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Writes every planned notice that has no file yet; returns how many.
    fn write_planned(&self, since: Timestamp, now: Timestamp) -> StoreResult<usize> {
        let customers = self.store.list_readable::<Customer>()?;
        let accounts = self.store.list_readable::<CpanelAccount>()?;
        let payments = self.store.list_readable::<Payment>()?;
        let plans = self.store.list_readable::<Plan>()?;
        let links = self.store.list_readable::<WalletLink>()?;
        let world = World {
            now,
            since,
            customers: &customers,
            accounts: &accounts,
            payments: &payments,
            plans: &plans,
            links: &links,
        };
        let known: HashSet<String> = self.store.ids::<Notice>()?.into_iter().collect();
        let mut written = 0;
        for planned in plan::plan(&world, &self.parts.settings) {
            let id = Notice::id_for(&planned.key);
            if known.contains(&id) {
                continue;
            }
            let notice = Notice {
                id,
                key: planned.key,
                kind: planned.kind,
                recipient: planned.recipient,
                customer_id: planned.customer_id,
                account_id: planned.account_id,
                payment_id: planned.payment_id,
                fields: planned.fields,
                state: NoticeState::Pending,
                channels_chosen: false,
                email: Delivery::None,
                email_to: None,
                nostr: Delivery::None,
                nostr_events: Vec::new(),
                nostr_relays: Vec::new(),
                dropped_reason: None,
                attempts: 0,
                last_error: None,
                sent_at: None,
                created_at: now,
                updated_at: now,
            };
            match self.store.create(&notice) {
                Ok(()) => written += 1,
                Err(StoreError::AlreadyExists { .. }) => {}
                Err(e) => log::error!("notices: cannot write {}: {e}", notice.key),
            }
        }
        Ok(written)
    }

    /// Re-checks one pending notice against fresh records, then tries its
    /// channels.
    fn attempt(&self, notice: &Notice, smtp_down: &mut bool) -> StoreResult<Attempt> {
        let customer = match &notice.customer_id {
            Some(id) => Some(self.store.get::<Customer>(id)?),
            None => None,
        };
        if !self.still_due(notice, customer.as_ref())? {
            self.finish(notice, NoticeState::Dropped, Some(notice.kind.gone_reason()))?;
            return Ok(Attempt::Dropped);
        }
        let mut notice = notice.clone();
        if !notice.channels_chosen {
            let choice = self.choose(&notice, customer.as_ref());
            if choice.is_empty() {
                self.finish(&notice, NoticeState::Dropped, Some(unreachable_reason(&notice)))?;
                return Ok(Attempt::Dropped);
            }
            notice = self.record_choice(&notice, &choice)?;
        }
        if notice.email == Delivery::Due && !*smtp_down {
            self.send_email(&notice, smtp_down)?;
        }
        if notice.nostr == Delivery::Due {
            self.send_dm(&notice, customer.as_ref())?;
        }
        let notice = self.store.get::<Notice>(&notice.id)?;
        if notice.is_delivered() {
            self.finish(&notice, NoticeState::Sent, None)?;
            return Ok(Attempt::Sent);
        }
        Ok(Attempt::Waiting)
    }

    /// Whether the planner, over the notice's records as they are now,
    /// still plans it.
    fn still_due(&self, notice: &Notice, customer: Option<&Customer>) -> StoreResult<bool> {
        let Some(customer) = customer else { return Ok(false) };
        let payments = self.store.find_all(Payment::by_customer(&customer.id))?;
        let accounts = match &notice.account_id {
            Some(id) => match self.store.get::<CpanelAccount>(id) {
                Ok(account) => vec![account],
                Err(StoreError::NotFound { .. }) => Vec::new(),
                Err(e) => return Err(e),
            },
            None => Vec::new(),
        };
        let plans = self.store.list_readable::<Plan>()?;
        let links = self.store.find_all(WalletLink::of_customer(&customer.id))?;
        let since = self.since(Timestamp::now())?;
        let customers = [customer.clone()];
        let world = World {
            now: Timestamp::now(),
            since,
            customers: &customers,
            accounts: &accounts,
            payments: &payments,
            plans: &plans,
            links: &links,
        };
        Ok(plan::plan(&world, &self.parts.settings).iter().any(|p| p.key == notice.key))
    }

    fn choose(&self, notice: &Notice, customer: Option<&Customer>) -> Choice {
        let mail = self.parts.mailer.is_some();
        match (notice.recipient, customer) {
            (Recipient::Operator, _) => {
                let npub = self.parts.dm.operator_npub;
                let nostr = npub.is_some_and(|key| !self.parts.dm.inbox_of(&key).is_empty());
                Choice { nostr, email: self.parts.operator_email.clone().filter(|_| mail) }
            }
            (Recipient::Customer, Some(customer)) => {
                let reach = Reach {
                    inbox: self.has_inbox(&customer.public_key),
                    email: customer.email.clone().filter(|_| mail),
                    email_confirmed: customer.confirmed_email().is_some(),
                };
                channels::choose(notice.kind, &customer.notices, &reach)
            }
            (Recipient::Customer, None) => Choice::default(),
        }
    }

    fn record_choice(&self, notice: &Notice, choice: &Choice) -> StoreResult<Notice> {
        self.store.update::<Notice, _, StoreError>(&notice.id, |n| {
            n.channels_chosen = true;
            n.nostr = if choice.nostr { Delivery::Due } else { Delivery::None };
            n.email = if choice.email.is_some() { Delivery::Due } else { Delivery::None };
            n.email_to = choice.email.clone();
            n.updated_at = Timestamp::now();
            Ok(n.clone())
        })
    }

    fn send_email(&self, notice: &Notice, smtp_down: &mut bool) -> StoreResult<()> {
        let (Some(mailer), Some(to)) = (&self.parts.mailer, &notice.email_to) else { return Ok(()) };
        let rendered = self.parts.templates.render(notice.kind, &self.fields(notice, to));
        let unsubscribe = format!("{}/profile.html#notices", self.parts.site);
        let outgoing = Outgoing {
            to,
            rendered: &rendered,
            notice_id: &notice.id,
            unsubscribe: (!notice.kind.is_essential()).then_some(unsubscribe.as_str()),
        };
        let sent = mailer.send(&outgoing);
        if let Err(MailError::Unavailable(why)) = &sent {
            log::warn!("notices: email waits, the SMTP server is unavailable: {why}");
            *smtp_down = true;
        }
        self.store.update::<Notice, _, StoreError>(&notice.id, |n| {
            n.attempts += 1;
            match &sent {
                Ok(()) => n.email = Delivery::Sent,
                Err(MailError::Refused(why)) => {
                    n.email = Delivery::Failed;
                    n.last_error = Some(why.clone());
                }
                Err(MailError::Unavailable(why)) => n.last_error = Some(why.clone()),
            }
            n.updated_at = Timestamp::now();
            Ok(())
        })
    }

    /// Builds the gift wraps once (kept on the notice), then hands them to
    /// the outbox, which delivers and retries them: durable from here on.
    fn send_dm(&self, notice: &Notice, customer: Option<&Customer>) -> StoreResult<()> {
        let dm = &self.parts.dm;
        let to = match notice.recipient {
            Recipient::Operator => dm.operator_npub,
            Recipient::Customer => customer.and_then(|c| nostr::key::PublicKey::from_hex(&c.public_key).ok()),
        };
        let Some(to) = to else { return Ok(()) };
        let notice = match notice.nostr_events.is_empty() {
            true => self.build_wraps(notice, &to)?,
            false => notice.clone(),
        };
        let relays: Vec<RelayAddress> =
            notice.nostr_relays.iter().filter_map(|r| dm.outbox.settings().customer_relay(r).ok()).collect();
        let events: Vec<nostr::event::Event> =
            notice.nostr_events.iter().filter_map(|e| serde_json::from_value(e.clone()).ok()).collect();
        let (Some(wrap), copy) = (events.first(), events.get(1)) else { return Ok(()) };
        let queued =
            |published: Result<Published, _>| matches!(published, Ok(Published::Queued | Published::AlreadyQueued));
        let handed = !relays.is_empty() && queued(dm.outbox.publish(wrap.clone(), Targets::Relays(relays)));
        if handed && let Some(copy) = copy {
            // The operator's copy: their client shows the conversation.
            let _ = dm.outbox.publish(copy.clone(), Targets::Configured);
        }
        self.store.update::<Notice, _, StoreError>(&notice.id, |n| {
            n.attempts += 1;
            if handed {
                n.nostr = Delivery::Sent;
            } else {
                n.last_error = Some("the outbox did not take the message; trying again".to_owned());
            }
            n.updated_at = Timestamp::now();
            Ok(())
        })
    }

    /// Wraps the rendered notice to `to` and the operator, and records the
    /// wraps and the inbox relays on the notice before anything is sent.
    fn build_wraps(&self, notice: &Notice, to: &nostr::key::PublicKey) -> StoreResult<Notice> {
        let relays: Vec<String> = self.parts.dm.inbox_of(to).iter().map(|r| r.as_str().to_owned()).collect();
        let rendered = self.parts.templates.render(notice.kind, &self.fields(notice, ""));
        let wrapped = match super::dm::wrap(&self.parts.dm.keys, to, &rendered.as_message()) {
            Ok(wrapped) => wrapped,
            Err(why) => {
                log::error!("notice {}: cannot wrap the message: {why}", notice.id);
                return Ok(notice.clone());
            }
        };
        let events = [&wrapped.to_recipient, &wrapped.to_operator].map(|e| serde_json::to_value(e).unwrap_or_default());
        self.store.update::<Notice, _, StoreError>(&notice.id, |n| {
            n.nostr_events = events.to_vec();
            n.nostr_relays = relays.clone();
            n.updated_at = Timestamp::now();
            Ok(n.clone())
        })
    }

    /// The template's fields: the planned ones and the site's.
    fn fields(&self, notice: &Notice, email_to: &str) -> BTreeMap<String, String> {
        let mut fields = notice.fields.clone();
        let site = &self.parts.site;
        fields.insert("site".to_owned(), site.clone());
        fields.insert("profile_link".to_owned(), format!("{site}/profile.html"));
        fields.insert("contact".to_owned(), self.parts.contact.clone());
        if notice.kind == NoticeKind::EmailConfirmation
            && let Some(customer) = &notice.customer_id
        {
            let token = self.parts.confirmations.token(customer, email_to, Timestamp::now());
            fields.insert("confirm_link".to_owned(), format!("{site}/confirm-email.html?token={token}"));
        }
        fields
    }

    fn finish(&self, notice: &Notice, state: NoticeState, reason: Option<&str>) -> StoreResult<()> {
        let now = Timestamp::now();
        self.store.update::<Notice, _, StoreError>(&notice.id, |n| {
            n.state = state;
            n.dropped_reason = reason.map(str::to_owned);
            if state == NoticeState::Sent {
                n.sent_at = Some(now);
            }
            n.updated_at = now;
            Ok(())
        })
    }
}

/// The worker's loop: claim the role (one sender per database), then a
/// pass every cycle, for as long as the notifier exists.
fn run(notifier: &std::sync::Weak<Notifier>) {
    let _claim = loop {
        let Some(n) = notifier.upgrade() else { return };
        if let Ok(claim) = n.claim() {
            break claim;
        }
        drop(n);
        std::thread::sleep(Duration::from_secs(2));
    };
    loop {
        let Some(n) = notifier.upgrade() else { return };
        n.logged_pass();
        let cycle = n.parts.cycle;
        drop(n);
        std::thread::sleep(cycle);
    }
}

fn unreachable_reason(notice: &Notice) -> &'static str {
    match notice.recipient {
        Recipient::Operator => "no operator address to send it to (HOSTR_OPERATOR_EMAIL, SMTP)",
        Recipient::Customer if !notice.kind.is_essential() => {
            "nothing reaches the customer for this notice: switched off, or no kind 10050 list and no confirmed email"
        }
        Recipient::Customer => "nothing reaches the customer: no kind 10050 list and no confirmed email",
    }
}
