//! Plans as NIP-99 classified listings, so a Nostr client can show what the
//! shop sells and lead a customer straight to checkout.
//!
//! A plan on sale is a kind 30402 event signed by the operator key, its `d`
//! tag the plan id, so relays keep only its newest version. A plan taken off
//! sale becomes a kind 30403 (NIP-99's inactive listing) with the same `d`,
//! and the 30402 is withdrawn by a NIP-09 deletion naming both its address
//! (`a`) and its last event id (`e`, for relays that delete by id only).
//!
//! Everything here is pure: a listing is a function of the plan and the
//! shop's public URL, so the same plan always gives the same content and
//! tags, and [`Listing::fingerprint`] tells whether a plan file's change
//! changed what is published (a renamed file field or a new `updatedAt`
//! alone does not).

use crate::config::PublicUrl;
use crate::plan::{BillingCycle, Plan};
use crate::relay::{Outbox, OutboxError, Published, Targets};
use crate::store::Store;
use nostr::prelude::{Coordinate, Event, EventBuilder, EventId, FinalizeEvent, Keys, Kind, PublicKey, Tag, Timestamp};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// NIP-99 classified listing.
pub const LISTING: u16 = 30402;
/// NIP-99 draft or inactive listing.
pub const INACTIVE_LISTING: u16 = 30403;

/// What one plan publishes: kind, tags and content, before signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub plan_id: String,
    pub kind: u16,
    pub tags: Vec<Vec<String>>,
    pub content: String,
}

impl Listing {
    /// The listing of `plan`: active (30402) when on sale, else inactive (30403).
    pub fn of(plan: &Plan, site: &PublicUrl) -> Listing {
        let link = buy_link(plan, site);
        let summary = format!("{} GB storage, {} GB monthly transfer, cPanel", plan.storage, plan.bandwidth);
        let mut tags = vec![
            tag(["d", &plan.id]),
            tag(["title", &plan.name]),
            tag(["summary", &summary]),
            // The first time the plan was offered, unchanged across edits.
            tag(["published_at", &plan.created_at.as_datetime().timestamp().to_string()]),
            tag(["location", "online"]),
            tag(["price", &plan.price.to_string(), plan.currency.as_str(), frequency(plan.billing_cycle)]),
            tag(["status", if plan.available { "active" } else { "sold" }]),
        ];
        tags.extend(["hosting", "webhosting", "cpanel"].map(|t| tag(["t", t])));
        tags.push(tag(["r", &link]));
        let content = format!(
            "**{}**: web hosting with cPanel. {summary}, {} {} a {}.\n\nPay with Lightning, sign in with Nostr: {link}",
            plan.name,
            plan.price,
            plan.currency,
            frequency(plan.billing_cycle)
        );
        let kind = if plan.available { LISTING } else { INACTIVE_LISTING };
        Listing { plan_id: plan.id.clone(), kind, tags, content }
    }

    /// A digest of everything published: equal fingerprints, same listing.
    pub fn fingerprint(&self) -> String {
        let canonical = serde_json::json!([self.kind, self.tags, self.content]).to_string();
        hex::encode(Sha256::digest(canonical.as_bytes()))
    }

    /// The event to sign, dated `at` (newer than any version before it, so
    /// relays replace the old one).
    pub fn event(&self, at: Timestamp) -> EventBuilder {
        EventBuilder::new(Kind::from(self.kind), &self.content)
            .tags(self.tags.iter().map(|t| Tag::parse(t.clone()).expect("listing tags are well formed")))
            .custom_created_at(at)
    }
}

/// The address of `plan_id`'s active listing: `30402:<operator hex>:<plan id>`.
pub fn address(operator: PublicKey, plan_id: &str) -> Coordinate {
    Coordinate::new(Kind::from(LISTING), operator).identifier(plan_id)
}

/// The NIP-09 deletion that withdraws a plan's active listing from relays.
pub fn withdrawal(operator: PublicKey, plan_id: &str, last: Option<EventId>, at: Timestamp) -> EventBuilder {
    let mut tags = vec![
        Tag::parse(["a".to_string(), address(operator, plan_id).to_string()]).expect("an a tag"),
        Tag::parse(["k", "30402"]).expect("a k tag"),
    ];
    tags.extend(last.map(Tag::event));
    EventBuilder::new(Kind::EventDeletion, "This plan is no longer on sale.").tags(tags).custom_created_at(at)
}

/// Why an `naddr` does not lead to one of this shop's plans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NaddrError {
    /// Not an `naddr1…` at all, or a broken one.
    Malformed,
    /// A real address, but not of a listing signed by this shop's key.
    NotOurs,
}

/// The plan id an `naddr` (NIP-19) of one of the operator's listings names,
/// active or inactive. Whether the plan exists is the caller's question.
pub fn plan_of_naddr(naddr: &str, operator: PublicKey) -> Result<String, NaddrError> {
    use nostr::nips::nip19::{FromBech32, Nip19Coordinate};
    let naddr = naddr.trim().trim_start_matches("nostr:");
    let address = Nip19Coordinate::from_bech32(naddr).map_err(|_| NaddrError::Malformed)?;
    let kind = address.kind.as_u16();
    if address.public_key != operator || !(kind == LISTING || kind == INACTIVE_LISTING) {
        return Err(NaddrError::NotOurs);
    }
    Ok(address.identifier.clone())
}

/// Where a listing leads: the products page with the plan chosen.
pub fn buy_link(plan: &Plan, site: &PublicUrl) -> String {
    format!("{}/products.html?plan={}", site.origin(), plan.id)
}

/// Queues in the outbox what changed since the last check: a new version of
/// each plan on sale whose listing changed, and for a plan taken off sale
/// that had a listing, the withdrawal of the active one and its inactive
/// listing. Answers how many events were queued. Nothing happens twice:
/// what is compared is the newest version in the outbox (which the outbox
/// keeps), and a withdrawal is queued only with a new inactive version. A
/// crash between the two queues the pair again, dated anew: harmless.
pub fn publish_changes(outbox: &Outbox, keys: &Keys, plans: &[Plan], site: &PublicUrl) -> Result<usize, OutboxError> {
    let relays = outbox.settings().urls();
    let mut queued = 0;
    for plan in plans {
        let listing = Listing::of(plan, site);
        let active = outbox.latest(&address(keys.public_key(), &plan.id).to_string())?;
        let inactive = outbox.latest(&inactive_address(keys.public_key(), &plan.id))?;
        let newest = [&active, &inactive].into_iter().flatten().map(|item| item.event.created_at).max();
        let current = if plan.available { &active } else { &inactive };
        let tags: Vec<Tag> =
            listing.tags.iter().map(|t| Tag::parse(t.clone()).expect("listing tags are well formed")).collect();
        // The version in force is the newest of either kind: a listing put
        // back on sale is published anew even if it says what it said
        // before it was withdrawn.
        let published = current
            .as_ref()
            .filter(|item| Some(item.event.created_at) == newest && item.says(&listing.content, &tags, &relays));
        // Off sale and never listed: nothing to take down.
        if !plan.available && active.is_none() {
            continue;
        }
        if published.is_some() {
            continue;
        }
        // Strictly newer than any version before, so relays replace it.
        let at = newest.map_or_else(Timestamp::now, |t| Timestamp::now().max(t + 1));
        // Taken off sale: the withdrawal goes first, dated like the inactive
        // listing that follows, and only with a new one (so never again
        // once the outbox has pruned it).
        if let (false, Some(active)) = (plan.available, &active) {
            let deletion = sign(withdrawal(keys.public_key(), &plan.id, Some(active.event.id), at), keys)?;
            queued += usize::from(outbox.publish(deletion, Targets::Configured)? == Published::Queued);
        }
        let event = sign(listing.event(at), keys)?;
        queued += usize::from(outbox.publish(event, Targets::Configured)? == Published::Queued);
    }
    Ok(queued)
}

/// Checks the plans against what was published every `period`, for as long
/// as the outbox lives.
pub fn start_publisher(outbox: Weak<Outbox>, store: Arc<Store>, keys: Keys, site: PublicUrl, period: Duration) {
    let check = move || -> bool {
        let Some(outbox) = outbox.upgrade() else { return false };
        match store.list_readable::<Plan>() {
            Ok(plans) => match publish_changes(&outbox, &keys, &plans, &site) {
                Ok(0) => {}
                Ok(queued) => log::info!("listings: {queued} event(s) queued for the plans that changed"),
                Err(error) => log::error!("listings: cannot queue the plans' listings: {error}"),
            },
            Err(error) => log::error!("listings: cannot read the plans: {error}"),
        }
        true
    };
    std::thread::Builder::new()
        .name("listings".to_owned())
        .spawn(move || {
            while check() {
                std::thread::sleep(period);
            }
        })
        .expect("start the listings publisher");
}

fn inactive_address(operator: PublicKey, plan_id: &str) -> String {
    Coordinate::new(Kind::from(INACTIVE_LISTING), operator).identifier(plan_id).to_string()
}

fn sign(event: EventBuilder, keys: &Keys) -> Result<Event, OutboxError> {
    event.finalize(keys).map_err(|e| OutboxError::Sign(e.to_string()))
}

/// NIP-99's frequency nouns.
fn frequency(cycle: BillingCycle) -> &'static str {
    match cycle {
        BillingCycle::Monthly => "month",
        BillingCycle::Yearly => "year",
    }
}

fn tag<const N: usize>(parts: [&str; N]) -> Vec<String> {
    parts.iter().map(|p| p.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Currency, Money};

    fn plan(id: &str, cents: i64, currency: &str, cycle: BillingCycle, available: bool) -> Plan {
        let mut plan =
            Plan::seed(crate::timestamp::Timestamp::from(chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap()));
        plan.id = id.to_string();
        plan.price = Money::from_cents(cents).unwrap();
        plan.currency = currency.parse::<Currency>().unwrap();
        plan.billing_cycle = cycle;
        plan.available = available;
        plan
    }

    fn value<'a>(listing: &'a Listing, name: &str) -> Vec<&'a str> {
        let tag = listing.tags.iter().find(|t| t[0] == name).unwrap_or_else(|| panic!("no {name} tag"));
        tag[1..].iter().map(String::as_str).collect()
    }

    #[test]
    fn a_plan_lists_its_id_price_frequency_and_link() {
        let site = PublicUrl::parse("https://hosting.example").unwrap();
        let cases = [
            (plan("basic", 500, "USD", BillingCycle::Monthly, true), LISTING, vec!["5", "USD", "month"], "active"),
            (plan("pro", 1250, "EUR", BillingCycle::Yearly, true), LISTING, vec!["12.5", "EUR", "year"], "active"),
            (
                plan("old", 99, "USD", BillingCycle::Monthly, false),
                INACTIVE_LISTING,
                vec!["0.99", "USD", "month"],
                "sold",
            ),
        ];
        for (plan, kind, price, status) in cases {
            let listing = Listing::of(&plan, &site);
            assert_eq!(listing.kind, kind, "{}", plan.id);
            assert_eq!(value(&listing, "d"), vec![plan.id.as_str()]);
            assert_eq!(value(&listing, "price"), price, "{}", plan.id);
            assert_eq!(value(&listing, "status"), vec![status]);
            assert_eq!(value(&listing, "published_at"), vec!["1790000000"]);
            let link = format!("https://hosting.example/products.html?plan={}", plan.id);
            assert_eq!(value(&listing, "r"), vec![link.as_str()]);
            assert!(listing.content.contains(&link), "{}", listing.content);
        }
    }

    #[test]
    fn only_a_change_to_what_is_published_changes_the_fingerprint() {
        let site = PublicUrl::parse("https://hosting.example").unwrap();
        let base = plan("basic", 500, "USD", BillingCycle::Monthly, true);
        let same = Listing::of(&base, &site).fingerprint();
        let mut touched = base.clone();
        touched.updated_at =
            crate::timestamp::Timestamp::from(chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap());
        touched.whm_package = "other".into();
        assert_eq!(Listing::of(&touched, &site).fingerprint(), same, "not published: no new listing");
        let mut repriced = base.clone();
        repriced.price = Money::from_cents(600).unwrap();
        let mut retired = base.clone();
        retired.available = false;
        for changed in [repriced, retired] {
            assert_ne!(Listing::of(&changed, &site).fingerprint(), same);
        }
    }

    #[test]
    fn the_signed_listing_is_addressable_and_the_withdrawal_names_it() {
        let keys = nostr::prelude::Keys::generate();
        let site = PublicUrl::parse("https://hosting.example").unwrap();
        let listing = Listing::of(&plan("basic", 500, "USD", BillingCycle::Monthly, true), &site);
        let event = listing.event(Timestamp::from(1_800_000_000)).finalize(&keys).unwrap();
        event.verify().unwrap();
        assert!(event.kind.is_addressable());
        let coordinate = address(keys.public_key(), "basic").to_string();
        assert_eq!(coordinate, format!("30402:{}:basic", keys.public_key().to_hex()));
        let deletion = withdrawal(keys.public_key(), "basic", Some(event.id), Timestamp::from(1_800_000_100))
            .finalize(&keys)
            .unwrap();
        let tags: Vec<Vec<String>> = deletion.tags.iter().map(|t| t.as_slice().to_vec()).collect();
        assert!(tags.contains(&vec!["a".to_string(), coordinate]), "{tags:?}");
        assert!(tags.contains(&vec!["e".to_string(), event.id.to_hex()]), "{tags:?}");
    }

    #[test]
    fn an_naddr_leads_to_a_plan_only_when_it_is_our_listing() {
        use nostr::nips::nip19::{Nip19Coordinate, ToBech32};
        let operator = nostr::prelude::Keys::generate().public_key();
        let stranger = nostr::prelude::Keys::generate().public_key();
        let naddr = |kind: u16, author: PublicKey| {
            let coordinate = Coordinate::new(Kind::from(kind), author).identifier("basic");
            Nip19Coordinate::new(coordinate, []).to_bech32().unwrap()
        };
        let cases = [
            (naddr(LISTING, operator), Ok("basic".to_string())),
            (format!("nostr:{}", naddr(LISTING, operator)), Ok("basic".to_string())),
            (naddr(INACTIVE_LISTING, operator), Ok("basic".to_string())),
            (naddr(LISTING, stranger), Err(NaddrError::NotOurs)),
            (naddr(30023, operator), Err(NaddrError::NotOurs)),
            ("naddr1qqqq".to_string(), Err(NaddrError::Malformed)),
            ("basic".to_string(), Err(NaddrError::Malformed)),
        ];
        for (text, expected) in cases {
            assert_eq!(plan_of_naddr(&text, operator), expected, "{text}");
        }
    }
}
