//! Payments: one Lightning invoice for one plan period, and what became of it.
//!
//! Invariants: the amount and currency are copied from the plan when the
//! payment is created and never change; a payment is fulfilled at most once;
//! a payment belongs to the mode it was begun in (`sandbox`), and the
//! provider that issued its invoice is recorded with the invoice
//! (`provider`), so a sandbox invoice is never taken for real money.

use crate::ids::IdFormat;
use crate::money::{Currency, ExchangeRate, Money};
use crate::plan::Plan;
use crate::proration::Proration;
use crate::receipt::{Receipt, ReceiptFailure};
use crate::store::{Collection, Invalid, Key, Record};
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentState {
    Pending,
    Paid,
    Expired,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FulfilmentStatus {
    #[default]
    None,
    Provisioning,
    Done,
    Failed,
}

/// What has been done to deliver what a payment paid for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Fulfilment {
    #[serde(default)]
    pub status: FulfilmentStatus,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub last_error: Option<String>,
    /// When a FAILED fulfilment is tried again; none means it waits for the
    /// operator (`hostr payment retry`).
    #[serde(default)]
    pub next_attempt_at: Option<Timestamp>,
}

/// Who issues invoices: Strike (real money) or the in-process sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Strike,
    Sandbox,
}

/// How every sandbox BOLT11 begins: a record of it is a sandbox invoice,
/// whatever else the file says.
pub const SANDBOX_BOLT11_PREFIX: &str = "lnsandbox";

/// What a payment buys besides a new account or a renewal (which have no kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PaymentKind {
    /// The difference to a dearer plan for the rest of the period
    /// (`planId` is the new plan, `fromPlanId` the old); the renewal date stays.
    Upgrade,
    /// A longer billing cycle starting now, less the old period's rest.
    CycleChange,
}

impl PaymentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentKind::Upgrade => "upgrade",
            PaymentKind::CycleChange => "cycleChange",
        }
    }
}

/// An operator's note that a payment arrived by other means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarkedPaid {
    pub reason: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub id: String,
    pub customer_id: String,
    pub plan_id: String,
    /// The account this payment creates (an id chosen in advance) or renews.
    pub account_id: Option<String>,
    /// For a new account: the domain it will host.
    #[serde(default)]
    pub domain: Option<String>,
    /// Made in the sandbox: never real money, never served in production.
    #[serde(default)]
    pub sandbox: bool,
    /// How many billing periods it buys at once (`crate::prepay`); `amount`
    /// is their price. Files from before prepaying existed bought one.
    #[serde(default = "one_period")]
    pub periods: u32,
    pub amount: Money,
    pub currency: Currency,
    /// A plan change (`upgrade`, `cycleChange`); none for a purchase or a renewal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<PaymentKind>,
    /// For a plan change: the plan the account had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_plan_id: Option<String>,
    /// For a plan change: how `amount` was computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proration: Option<Proration>,
    pub strike_invoice_id: Option<String>,
    /// Who issued `strikeInvoiceId`, written with it. Files from before it
    /// was recorded have none: their `sandbox` flag says (see
    /// [`Payment::invoice_provider`]).
    #[serde(default)]
    pub provider: Option<Provider>,
    pub bolt11: Option<String>,
    pub expires_at: Option<Timestamp>,
    /// What the current quote (`bolt11`) asks for in sats, when known.
    #[serde(default)]
    pub quote_sats: Option<i64>,
    /// The exchange rate of the current quote, for a price in a fiat currency.
    #[serde(default)]
    pub quote_rate: Option<ExchangeRate>,
    pub state: PaymentState,
    #[serde(default)]
    pub fulfilment: Fulfilment,
    pub paid_at: Option<Timestamp>,
    /// Set when the operator recorded the payment as paid by other means.
    #[serde(default)]
    pub marked_paid: Option<MarkedPaid>,
    pub period_start: Option<Timestamp>,
    pub period_end: Option<Timestamp>,
    /// The numbered, signed receipt, written once after the payment became
    /// PAID (`crate::receipts`).
    #[serde(default)]
    pub receipt: Option<Receipt>,
    /// Why the receipt could not be issued yet, while it is tried again.
    #[serde(default)]
    pub receipt_failure: Option<ReceiptFailure>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl PaymentState {
    /// The name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Pending => "PENDING",
            PaymentState::Paid => "PAID",
            PaymentState::Expired => "EXPIRED",
            PaymentState::Cancelled => "CANCELLED",
        }
    }
}

impl FulfilmentStatus {
    /// The name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            FulfilmentStatus::None => "NONE",
            FulfilmentStatus::Provisioning => "PROVISIONING",
            FulfilmentStatus::Done => "DONE",
            FulfilmentStatus::Failed => "FAILED",
        }
    }
}

impl Payment {
    /// A new PENDING payment for one period of `plan` (its price, in its
    /// currency), with nothing asked of the provider yet; see
    /// [`Payment::for_periods`] for more at once.
    pub fn pending(
        customer_id: &str,
        plan: &Plan,
        account_id: String,
        domain: Option<String>,
        now: Timestamp,
    ) -> Payment {
        Payment {
            id: crate::ids::new_uuid(),
            customer_id: customer_id.to_owned(),
            plan_id: plan.id.clone(),
            account_id: Some(account_id),
            domain,
            sandbox: false,
            periods: 1,
            amount: plan.price,
            currency: plan.currency.clone(),
            kind: None,
            from_plan_id: None,
            proration: None,
            strike_invoice_id: None,
            provider: None,
            bolt11: None,
            expires_at: None,
            quote_sats: None,
            quote_rate: None,
            state: PaymentState::Pending,
            fulfilment: Fulfilment::default(),
            paid_at: None,
            marked_paid: None,
            period_start: None,
            period_end: None,
            receipt: None,
            receipt_failure: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// The same payment for `periods` periods of `plan`, at the plan's price
    /// for them; `None` when the plan does not offer that many.
    pub fn for_periods(self, plan: &Plan, periods: u32) -> Option<Payment> {
        let amount = plan.price_for(periods).ok()?;
        Some(Payment { periods, amount, ..self })
    }

    /// Whether this payment still holds its domain against other buyers:
    /// while it may be paid, and once paid until its account exists.
    fn holds_domain(&self) -> bool {
        match self.state {
            PaymentState::Pending => true,
            PaymentState::Paid => self.fulfilment.status != FulfilmentStatus::Done,
            PaymentState::Expired | PaymentState::Cancelled => false,
        }
    }

    /// The mode the payment was begun in, the only one whose provider may
    /// invoice it, settle it or look it up. Any sign of the sandbox (the
    /// flag, a sandbox invoice) makes it a sandbox payment.
    pub fn mode(&self) -> Provider {
        let sandbox_invoice = self.provider == Some(Provider::Sandbox)
            || self.bolt11.as_deref().is_some_and(|b| b.starts_with(SANDBOX_BOLT11_PREFIX));
        if self.sandbox || sandbox_invoice { Provider::Sandbox } else { Provider::Strike }
    }

    /// Who issued the payment's invoice, none while it has none. A file
    /// written before the provider was recorded says it by its mode.
    pub fn invoice_provider(&self) -> Option<Provider> {
        self.strike_invoice_id.as_ref()?;
        Some(self.provider.unwrap_or(self.mode()))
    }

    /// Paid with real money: through Strike's invoice, or recorded by the
    /// operator as paid by other means, and nothing of the sandbox about it.
    /// Only such payments are fulfilled on a real WHM.
    pub fn paid_for_real(&self) -> bool {
        let through = self.invoice_provider() == Some(Provider::Strike) || self.marked_paid.is_some();
        self.state == PaymentState::Paid && self.mode() == Provider::Strike && through
    }

    /// Records the move to PAID; false when it was already recorded, so
    /// that whatever follows payment happens once.
    pub fn record_paid(&mut self, now: Timestamp) -> bool {
        if self.state == PaymentState::Paid {
            return false;
        }
        self.state = PaymentState::Paid;
        self.paid_at = Some(now);
        self.updated_at = now;
        true
    }
}

fn one_period() -> u32 {
    1
}

impl Record for Payment {
    const COLLECTION: Collection = Collection { folder: "payments", noun: "payment", id_format: IdFormat::Uuid };

    fn id(&self) -> &str {
        &self.id
    }

    fn validate(&self) -> Result<(), Invalid> {
        if !IdFormat::Uuid.accepts(&self.customer_id) {
            return Err(Invalid::new("customerId", format!("must be {}", IdFormat::Uuid.describe())));
        }
        if !IdFormat::Slug.accepts(&self.plan_id) {
            return Err(Invalid::new("planId", format!("must be {}", IdFormat::Slug.describe())));
        }
        if let Some(account_id) = &self.account_id
            && !IdFormat::Uuid.accepts(account_id)
        {
            return Err(Invalid::new("accountId", format!("must be {}", IdFormat::Uuid.describe())));
        }
        if let Err(why) = self.currency.check(self.amount) {
            return Err(Invalid::new("amount", why));
        }
        if !crate::prepay::ALLOWED_PERIODS.contains(&self.periods) {
            return Err(Invalid::new("periods", "must be 1, 3, 6 or 12"));
        }
        if self.kind.is_some() && (self.account_id.is_none() || self.domain.is_some() || self.from_plan_id.is_none()) {
            return Err(Invalid::new(
                "kind",
                "a plan change names its account and the plan it changes from, no domain",
            ));
        }
        if self.state == PaymentState::Paid && self.paid_at.is_none() {
            return Err(Invalid::new("paidAt", "a PAID payment must say when it was paid"));
        }
        if let Some(domain) = &self.domain
            && let Err(why) = crate::cpanel_account::check_domain(domain)
        {
            return Err(Invalid::new("domain", why));
        }
        if let (Some(start), Some(end)) = (self.period_start, self.period_end)
            && end <= start
        {
            return Err(Invalid::new("periodEnd", "must be after periodStart"));
        }
        if let Some(receipt) = &self.receipt {
            if self.state != PaymentState::Paid {
                return Err(Invalid::new("receipt", "only a PAID payment has a receipt"));
            }
            receipt.validate()?;
        }
        Ok(())
    }

    fn index_keys(&self) -> Vec<Key<Payment>> {
        let mut keys = vec![Payment::by_customer(&self.customer_id)];
        if let Some(invoice) = &self.strike_invoice_id {
            keys.push(Payment::by_invoice(invoice));
        }
        if let Some(domain) = self.domain.as_ref().filter(|_| self.holds_domain()) {
            keys.push(Payment::open_for_domain(domain));
            keys.extend(crate::cpanel_account::parent_domains(domain).map(Payment::open_inside));
        }
        // One open renewal per account: two tabs must not make two invoices.
        if let (None, Some(account), PaymentState::Pending) = (&self.domain, &self.account_id, self.state) {
            keys.push(Payment::open_renewal_of(account));
        }
        // Open work is looked up by state so that background workers cost
        // what is pending, not what was ever paid.
        if self.state == PaymentState::Pending {
            keys.push(Payment::open_pending());
            keys.push(Payment::open_of(&self.customer_id));
        }
        if self.state == PaymentState::Paid && self.fulfilment.status != FulfilmentStatus::Done {
            keys.push(Payment::open_unfulfilled());
        }
        match (&self.receipt, self.state) {
            (Some(receipt), _) => {
                keys.push(Payment::by_receipt_number(&receipt.series, receipt.number));
                keys.extend(self.account_id.as_deref().map(Payment::receipts_of_account));
            }
            (None, PaymentState::Paid) => keys.push(Payment::receipt_due()),
            (None, _) => {}
        }
        keys
    }

    /// A broken file keeps its receipt number: no other payment may take it.
    fn salvage_unique_keys(raw: &serde_json::Map<String, serde_json::Value>) -> Vec<Key<Payment>> {
        let receipt = raw.get("receipt").and_then(serde_json::Value::as_object);
        let series = receipt.and_then(|r| r.get("series")?.as_str());
        let number = receipt.and_then(|r| r.get("number")?.as_u64());
        series.zip(number).map(|(series, number)| Payment::by_receipt_number(series, number)).into_iter().collect()
    }
}

impl Payment {
    /// The payments of one customer.
    pub fn by_customer(customer_id: &str) -> Key<Payment> {
        Key::shared("customerId", customer_id)
    }

    /// The payment that an invoice of the provider (Strike's id) belongs to.
    pub fn by_invoice(invoice_id: &str) -> Key<Payment> {
        Key::unique("strikeInvoiceId", invoice_id)
    }

    /// The purchase that holds a domain while it is open.
    pub fn open_for_domain(domain: &str) -> Key<Payment> {
        Key::unique("openDomain", domain)
    }

    /// The open purchases whose domains lie inside `domain`.
    pub fn open_inside(domain: &str) -> Key<Payment> {
        Key::shared("openInsideDomain", domain)
    }

    /// The renewal of an account that is waiting to be paid.
    pub fn open_renewal_of(account_id: &str) -> Key<Payment> {
        Key::unique("openRenewal", account_id)
    }

    /// One customer's payments waiting to be paid: what the cap on open
    /// purchases counts, without reading the customer's whole history.
    pub fn open_of(customer_id: &str) -> Key<Payment> {
        Key::shared("openOf", customer_id)
    }

    /// Payments waiting for the customer to pay.
    pub fn open_pending() -> Key<Payment> {
        Key::shared("open", "pending")
    }

    /// Paid payments not yet delivered.
    pub fn open_unfulfilled() -> Key<Payment> {
        Key::shared("open", "unfulfilled")
    }

    /// Paid payments whose receipt is not issued yet.
    pub fn receipt_due() -> Key<Payment> {
        Key::shared("open", "receipt")
    }

    /// The payment that holds number `number` of receipt series `series`.
    pub fn by_receipt_number(series: &str, number: u64) -> Key<Payment> {
        Key::unique("receiptNumber", format!("{series}:{number}"))
    }

    /// The payments of one account that have a receipt: its chain.
    pub fn receipts_of_account(account_id: &str) -> Key<Payment> {
        Key::shared("receiptOfAccount", account_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A payment as an older hostr wrote it: no `provider` next to the invoice.
    fn old_file(sandbox: bool, invoice: Option<&str>, bolt11: Option<&str>) -> Payment {
        let text = serde_json::json!({
            "id": "3f2b8c1e-0000-4000-8000-000000000001", "customerId": "3f2b8c1e-0000-4000-8000-000000000002",
            "planId": "basic", "accountId": null, "domain": "shop.example", "sandbox": sandbox,
            "amount": 5, "currency": "USD", "strikeInvoiceId": invoice, "bolt11": bolt11,
            "expiresAt": null, "state": "PAID", "paidAt": "2026-01-01T00:00:00Z", "periodStart": null,
            "periodEnd": null, "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"
        });
        serde_json::from_value(text).expect("an old payment file still reads")
    }

    #[test]
    fn the_provider_of_an_invoice_is_what_was_recorded_or_what_the_old_flag_said() {
        use Provider::{Sandbox, Strike};
        let real = old_file(false, Some("inv-1"), Some("lnbc50u1p"));
        assert_eq!(real.periods, 1, "a file from before prepaying bought one period");
        assert_eq!((real.mode(), real.invoice_provider(), real.paid_for_real()), (Strike, Some(Strike), true));
        let demo = old_file(true, Some("inv-1"), Some("lnsandbox500n1sandboxnotpayable"));
        assert_eq!((demo.mode(), demo.invoice_provider(), demo.paid_for_real()), (Sandbox, Some(Sandbox), false));
        // What the mixing of modes wrote: a real payment with a sandbox invoice.
        let mixed = old_file(false, Some("inv-1"), Some("lnsandbox500n1sandboxnotpayable"));
        assert_eq!((mixed.mode(), mixed.invoice_provider(), mixed.paid_for_real()), (Sandbox, Some(Sandbox), false));
        let recorded = Payment { provider: Some(Sandbox), ..old_file(false, Some("inv-1"), Some("lnbc50u1p")) };
        assert_eq!((recorded.mode(), recorded.paid_for_real()), (Sandbox, false));
        // Paid without any invoice: only the operator's word counts.
        let bare = old_file(false, None, None);
        assert_eq!((bare.invoice_provider(), bare.paid_for_real()), (None, false));
        let marked = Payment {
            marked_paid: Some(MarkedPaid { reason: "bank transfer".into(), at: bare.created_at }),
            ..bare.clone()
        };
        assert!(marked.paid_for_real());
        assert!(!Payment { sandbox: true, ..marked }.paid_for_real(), "never a sandbox payment");
        assert!(!Payment { state: PaymentState::Pending, ..real }.paid_for_real());
    }

    #[test]
    fn an_open_purchase_is_indexed_under_each_domain_its_own_lies_inside() {
        let payment = Payment { domain: Some("a.shop.example.com".into()), ..old_file(false, None, None) };
        let open = Payment { state: PaymentState::Pending, ..payment.clone() };
        let keys = open.index_keys();
        for parent in ["shop.example.com", "example.com"] {
            assert!(keys.contains(&Payment::open_inside(parent)), "{parent}");
        }
        let closed = Payment { state: PaymentState::Cancelled, ..payment };
        assert!(!closed.index_keys().contains(&Payment::open_inside("example.com")), "a closed one holds nothing");
    }
}
