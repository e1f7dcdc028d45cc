//! `hostr check`: validates the whole database like `nginx -t`.
//!
//! Every record must parse and keep its kind's rules; references between
//! records must point at records that exist; unique fields must be unique.
//! Problems are reported as `path:line:column: message`, causes first:
//! files that cannot be read, then stray files, then broken rules, then
//! references to what is missing (often the knock-on of an unreadable
//! file), then what waits for the operator.

use crate::cpanel_account::CpanelAccount;
use crate::customer::Customer;
use crate::outbox::OutboxItem;
use crate::payment::{FulfilmentStatus, Payment, PaymentState, Provider};
use crate::plan::Plan;
use crate::receipt::ReceiptSeries;
use crate::store::{LoadError, Record, Store, StoreError, StoreResult};
use crate::timestamp::Timestamp;
use crate::whm_server::WhmServer;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// What sort of problem, in the order they are reported.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "camelCase")]
pub enum ProblemKind {
    /// A record file that cannot be read or parsed: hostr leaves it out.
    Unreadable,
    /// A file in a record folder that hostr never reads.
    Stray,
    /// A record that breaks a rule of its kind, or shares a unique value.
    Rule,
    /// A record that names another record that does not exist or is unreadable.
    Reference,
    /// Something that waits for the operator (a paid order not delivered,
    /// an event that has not reached its relays for a day).
    Attention,
}

impl ProblemKind {
    const ALL: [ProblemKind; 5] = [
        ProblemKind::Unreadable,
        ProblemKind::Stray,
        ProblemKind::Rule,
        ProblemKind::Reference,
        ProblemKind::Attention,
    ];

    /// `count` problems of this kind, in words.
    pub fn summary(self, count: usize) -> String {
        let (one, many) = match self {
            ProblemKind::Unreadable => ("file cannot be read", "files cannot be read"),
            ProblemKind::Stray => ("stray file", "stray files"),
            ProblemKind::Rule => ("broken rule", "broken rules"),
            ProblemKind::Reference => ("broken reference", "broken references"),
            ProblemKind::Attention => ("item waits for the operator", "items wait for the operator"),
        };
        format!("{count} {}", if count == 1 { one } else { many })
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    pub kind: ProblemKind,
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: {}", self.path.display(), self.line, self.column, self.message)
    }
}

impl From<LoadError> for Problem {
    fn from(e: LoadError) -> Problem {
        let kind = if e.broken_rule { ProblemKind::Rule } else { ProblemKind::Unreadable };
        Problem { kind, path: e.path, line: e.line, column: e.column, message: e.message }
    }
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Record files read.
    pub records: usize,
    pub problems: Vec<Problem>,
}

impl Report {
    /// One line per kind of problem found, in report order: "2 files cannot be read".
    pub fn summaries(&self) -> Vec<String> {
        ProblemKind::ALL
            .into_iter()
            .filter_map(|kind| {
                let count = self.problems.iter().filter(|p| p.kind == kind).count();
                (count > 0).then(|| kind.summary(count))
            })
            .collect()
    }
}

pub fn check(store: &Store) -> StoreResult<Report> {
    let mut report = Report::default();
    report_stray_files::<Customer>(store, &mut report)?;
    report_stray_files::<CpanelAccount>(store, &mut report)?;
    report_stray_files::<Plan>(store, &mut report)?;
    report_stray_files::<Payment>(store, &mut report)?;
    report_stray_files::<OutboxItem>(store, &mut report)?;
    report_stray_files::<crate::notices::Notice>(store, &mut report)?;
    // Notices name nothing that must exist (a customer may be purged);
    // each is parsed and its rules checked (its id is its key's hash).
    load::<crate::notices::Notice>(store, &mut report)?;
    load::<crate::notices::NoticeStart>(store, &mut report)?;
    report_stray_files::<ReceiptSeries>(store, &mut report)?;
    load::<ReceiptSeries>(store, &mut report)?;
    report_stray_files::<WhmServer>(store, &mut report)?;
    let servers = ids_of(&load::<WhmServer>(store, &mut report)?);
    let records = Records {
        customers: load::<Customer>(store, &mut report)?,
        accounts: load::<CpanelAccount>(store, &mut report)?,
        plans: ids_of(&load::<Plan>(store, &mut report)?),
        payments: load::<Payment>(store, &mut report)?,
        servers,
    };
    let mut refs = References { store, report: &mut report };
    records.check_customers(&mut refs);
    records.check_accounts(&mut refs, Timestamp::now());
    records.check_payments(&mut refs);
    check_outbox(&load::<OutboxItem>(store, refs.report)?, &mut refs, Timestamp::now());
    let operator = crate::operator_key::OperatorKey::existing(store.root()).map(|k| k.public_key().to_hex());
    records.check_receipts(&mut refs, operator.as_deref());
    report_duplicates(store, &records.customers, &mut report);
    report_duplicates(store, &records.accounts, &mut report);
    report_duplicates(store, &records.payments, &mut report);
    report.problems.sort_by(|a, b| (a.kind, &a.path, a.line).cmp(&(b.kind, &b.path, b.line)));
    Ok(report)
}

/// Every readable record (plans by id only: nothing in a plan names another record).
struct Records {
    customers: Vec<Customer>,
    accounts: Vec<CpanelAccount>,
    plans: HashSet<String>,
    payments: Vec<Payment>,
    /// The ids of the server records (`default` may be WHM_URL's instead).
    servers: HashSet<String>,
}

impl Records {
    fn check_customers(&self, refs: &mut References) {
        let (account_ids, payment_ids) = (ids_of(&self.accounts), ids_of(&self.payments));
        for c in &self.customers {
            if let Some(plan_id) = &c.plan_id {
                refs.expect::<Customer, Plan>(&c.id, "planId", plan_id, &self.plans);
            }
            for account_id in &c.cpanel_account_ids {
                refs.expect::<Customer, CpanelAccount>(&c.id, "cpanelAccountIds", account_id, &account_ids);
            }
            for payment_id in &c.payment_ids {
                refs.expect::<Customer, Payment>(&c.id, "paymentIds", payment_id, &payment_ids);
            }
        }
    }

    fn check_accounts(&self, refs: &mut References, now: Timestamp) {
        let (customer_ids, account_ids) = (ids_of(&self.customers), ids_of(&self.accounts));
        for a in &self.accounts {
            if let Some(until) = a.paid_until.filter(|until| absurdly_far(*until, now)) {
                let message = format!(
                    "`paidUntil` {until} is more than {ABSURD_YEARS} years away: a typo? (renewals stop at {})",
                    Timestamp::MAX
                );
                refs.push::<CpanelAccount>(ProblemKind::Rule, &a.id, "paidUntil", message);
            }
            refs.expect::<CpanelAccount, Customer>(&a.id, "customerId", &a.customer_id, &customer_ids);
            refs.expect::<CpanelAccount, Plan>(&a.id, "planId", &a.plan_id, &self.plans);
            if let Some(primary) = &a.group_of {
                refs.expect::<CpanelAccount, CpanelAccount>(&a.id, "groupOf", primary, &account_ids);
            }
            if let Some(scheduled) = &a.scheduled_plan {
                refs.expect::<CpanelAccount, Plan>(&a.id, "scheduledPlan", &scheduled.plan_id, &self.plans);
            }
            if let Some(server) = a.server_id.as_deref().filter(|s| *s != crate::whm_server::DEFAULT_SERVER) {
                refs.expect::<CpanelAccount, WhmServer>(&a.id, "serverId", server, &self.servers);
            }
        }
    }

    fn check_payments(&self, refs: &mut References) {
        let (customer_ids, account_ids) = (ids_of(&self.customers), ids_of(&self.accounts));
        for p in &self.payments {
            refs.expect::<Payment, Customer>(&p.id, "customerId", &p.customer_id, &customer_ids);
            refs.expect::<Payment, Plan>(&p.id, "planId", &p.plan_id, &self.plans);
            // A new account's id is chosen with the payment; its file exists
            // once fulfilment starts.
            let account_due = p.domain.is_none() || p.fulfilment.status == FulfilmentStatus::Done;
            if let Some(account_id) = p.account_id.as_ref().filter(|_| account_due) {
                refs.expect::<Payment, CpanelAccount>(&p.id, "accountId", account_id, &account_ids);
            }
            if p.state == PaymentState::Paid && p.fulfilment.status == FulfilmentStatus::Failed {
                refs.push::<Payment>(ProblemKind::Attention, &p.id, "fulfilment", undelivered(p));
            }
            if !p.sandbox && p.mode() == Provider::Sandbox {
                let message = "begun with real payments (`sandbox: false`) but invoiced by the sandbox: \
                               it is never fulfilled on a real WHM";
                refs.push::<Payment>(ProblemKind::Attention, &p.id, "sandbox", message.to_owned());
            }
        }
    }
}

/// An event that has not reached its relays for this long waits for the operator.
const STUCK_AFTER: std::time::Duration = std::time::Duration::from_secs(86_400);

fn check_outbox(items: &[OutboxItem], refs: &mut References, now: Timestamp) {
    for item in items.iter().filter(|item| item.stuck(now, STUCK_AFTER)) {
        let waiting: Vec<String> = item
            .deliveries
            .iter()
            .filter(|d| !d.state.reached())
            .map(|d| format!("{} ({})", d.relay, d.last_error.as_deref().unwrap_or("not tried yet")))
            .collect();
        let message = format!(
            "kind {} event queued {} has not reached {} for more than a day; see `hostr outbox show {}`",
            item.event.kind.as_u16(),
            item.created_at,
            waiting.join(", "),
            item.id
        );
        refs.push::<OutboxItem>(ProblemKind::Attention, &item.id, "deliveries", message);
    }
}

impl Records {
    /// Receipts that failed, receipts whose event no longer states their
    /// fields or is not the operator's, and numbers missing from a series.
    fn check_receipts(&self, refs: &mut References, operator: Option<&str>) {
        let mut numbers: HashMap<&str, Vec<u64>> = HashMap::new();
        for p in &self.payments {
            if let (None, Some(failure)) = (&p.receipt, &p.receipt_failure) {
                let message = format!(
                    "paid but no receipt yet: issuing it failed {} time(s), last at {}: {}; the running server \
                     tries again every 30 seconds",
                    failure.attempts, failure.at, failure.reason
                );
                refs.push::<Payment>(ProblemKind::Attention, &p.id, "receiptFailure", message);
            }
            let Some(receipt) = &p.receipt else { continue };
            numbers.entry(receipt.series.as_str()).or_default().push(receipt.number);
            let signer =
                operator.map_or_else(|| receipt.event["pubkey"].as_str().unwrap_or_default().to_owned(), str::to_owned);
            if let Err(why) = crate::receipts::event::matches_fields(receipt, &signer) {
                let message = format!("receipt {} was changed after it was issued: {why}", receipt.label);
                refs.push::<Payment>(ProblemKind::Rule, &p.id, "receipt", message);
            }
        }
        for (series, mut numbers) in numbers {
            numbers.sort_unstable();
            let missing: Vec<String> = (1..=numbers.last().copied().unwrap_or(0))
                .filter(|n| numbers.binary_search(n).is_err())
                .map(|n| crate::receipt::label(series, n))
                .collect();
            if !missing.is_empty() {
                refs.report.problems.push(Problem {
                    kind: ProblemKind::Rule,
                    path: refs.store.root().join(ReceiptSeries::COLLECTION.folder),
                    line: 1,
                    column: 1,
                    message: format!("receipt series `{series}` lacks number(s) {}", missing.join(", ")),
                });
            }
        }
    }
}

/// What `hostr check` says of a paid payment whose fulfilment failed.
fn undelivered(p: &Payment) -> String {
    let f = &p.fulfilment;
    let next = match f.next_attempt_at {
        Some(at) => format!("tried again at {at}"),
        None => format!("waits for the operator: fix the cause, then `hostr payment retry {}`", p.id),
    };
    let error = f.last_error.as_deref().unwrap_or("no error recorded");
    format!("paid but not delivered: fulfilment FAILED after {} attempt(s): {error}; {next}", f.attempts)
}

/// A paid period ending this many years from now is surely a mistake.
const ABSURD_YEARS: i64 = 20;

fn absurdly_far(time: Timestamp, now: Timestamp) -> bool {
    time.as_datetime() > now.as_datetime() + chrono::Duration::days(366 * ABSURD_YEARS)
}

fn ids_of<T: Record>(records: &[T]) -> HashSet<String> {
    records.iter().map(|r| r.id().to_owned()).collect()
}

fn load<T: Record>(store: &Store, report: &mut Report) -> StoreResult<Vec<T>> {
    let mut records = Vec::new();
    for outcome in store.list::<T>()? {
        report.records += 1;
        match outcome {
            Ok(record) => records.push(record),
            Err(StoreError::Corrupt(error)) => report.problems.push(error.into()),
            // One unreadable file (a directory by that name, wrong owner) is
            // a problem to report, not a reason to stop checking.
            Err(StoreError::Io { path, source }) => report.problems.push(Problem {
                kind: ProblemKind::Unreadable,
                path,
                line: 1,
                column: 1,
                message: format!("cannot be read: {source}"),
            }),
            // Deleted between listing and reading: nothing to check.
            Err(StoreError::NotFound { .. }) => report.records -= 1,
            Err(other) => return Err(other),
        }
    }
    Ok(records)
}

struct References<'a> {
    store: &'a Store,
    report: &'a mut Report,
}

impl References<'_> {
    fn push<T: Record>(&mut self, kind: ProblemKind, id: &str, field: &str, message: String) {
        self.report.problems.push(field_problem::<T>(self.store, kind, id, field, message));
    }

    /// Reports `T` `id` when its `field` names a `Target` that is not `known`.
    fn expect<T: Record, Target: Record>(
        &mut self,
        id: &str,
        field: &'static str,
        target_id: &str,
        known: &HashSet<String>,
    ) {
        if !known.contains(target_id) {
            let noun = Target::COLLECTION.noun;
            let message = format!("`{field}` names {noun} {target_id}, which does not exist (or cannot be read)");
            self.push::<T>(ProblemKind::Reference, id, field, message);
        }
    }
}

fn field_problem<T: Record>(store: &Store, kind: ProblemKind, id: &str, field: &str, message: String) -> Problem {
    let (line, column) = store.locate::<T>(id, field);
    let folder = store.root().join(T::COLLECTION.folder);
    Problem { kind, path: folder.join(format!("{id}.json")), line, column, message }
}

fn report_duplicates<T: Record>(store: &Store, records: &[T], report: &mut Report) {
    let mut holders: HashMap<(&'static str, String), Vec<&str>> = HashMap::new();
    for record in records {
        for key in record.index_keys().into_iter().map(crate::store::Key::into_untyped).filter(|k| k.unique) {
            holders.entry((key.field, key.value)).or_default().push(record.id());
        }
    }
    for ((field, value), ids) in holders {
        if ids.len() > 1 {
            for id in &ids {
                let others: Vec<&str> = ids.iter().copied().filter(|o| o != id).collect();
                report.problems.push(field_problem::<T>(
                    store,
                    ProblemKind::Rule,
                    id,
                    field,
                    format!("`{field}` `{value}` is also used by {} {}", T::COLLECTION.noun, others.join(", ")),
                ));
            }
        }
    }
}

/// Files in a collection folder that hostr would never read as records.
fn report_stray_files<T: Record>(store: &Store, report: &mut Report) -> StoreResult<()> {
    let collection = T::COLLECTION;
    for path in store.stray_files::<T>()? {
        report.problems.push(Problem {
            kind: ProblemKind::Stray,
            path,
            line: 1,
            column: 1,
            message: format!(
                "not a {} file: record files are named <id>.json with id {}",
                collection.noun,
                collection.id_format.describe()
            ),
        });
    }
    Ok(())
}
