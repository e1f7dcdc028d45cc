//! A customer as they see themselves: the record without the operator's
//! `suspendReason`.
//!
//! Borrowed fields serialized at once, rather than the record turned into a
//! JSON tree and the field taken out: the sign-in answer carries this view,
//! and building that tree cost more than finding the customer.

use crate::customer::{Customer, CustomerStatus, NoticePreferences, ProfileMetadata};
use crate::timestamp::Timestamp;
use serde::Serialize;

/// Every field of [`Customer`] but `suspend_reason`, in the record's order
/// (a test keeps the two in step).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerView<'a> {
    id: &'a str,
    public_key: &'a str,
    email: &'a Option<String>,
    status: CustomerStatus,
    plan_id: &'a Option<String>,
    cpanel_account_ids: &'a [String],
    payment_ids: &'a [String],
    session_epoch: u64,
    deleted_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suspension_changed_at: Option<Timestamp>,
    metadata: &'a Option<ProfileMetadata>,
    recovered_at: Option<Timestamp>,
    confirmed_email: &'a Option<String>,
    email_confirmation_asked_at: Option<Timestamp>,
    notices: &'a NoticePreferences,
    created_at: Timestamp,
    updated_at: Timestamp,
}

pub fn customer_view(customer: &Customer) -> CustomerView<'_> {
    CustomerView {
        id: &customer.id,
        public_key: &customer.public_key,
        email: &customer.email,
        status: customer.status,
        plan_id: &customer.plan_id,
        cpanel_account_ids: &customer.cpanel_account_ids,
        payment_ids: &customer.payment_ids,
        session_epoch: customer.session_epoch,
        deleted_at: customer.deleted_at,
        suspension_changed_at: customer.suspension_changed_at,
        metadata: &customer.metadata,
        recovered_at: customer.recovered_at,
        confirmed_email: &customer.confirmed_email,
        email_confirmation_asked_at: customer.email_confirmation_asked_at,
        notices: &customer.notices,
        created_at: customer.created_at,
        updated_at: customer.updated_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn the_view_is_the_record_without_the_suspension_reason() {
        let mut customer = Customer::new("c1".into(), "ab".repeat(32), Some("a@example.com".into()), Timestamp::now());
        customer.suspend_reason = Some("chargeback".into());
        customer.suspension_changed_at = Some(Timestamp::now());
        customer.metadata = Some(ProfileMetadata { name: Some("Alice".into()), ..ProfileMetadata::default() });
        let mut record = serde_json::to_value(&customer).unwrap();
        record.as_object_mut().unwrap().shift_remove("suspendReason");
        let view = serde_json::to_value(customer_view(&customer)).unwrap();
        assert_eq!(view, record);
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&view), keys(&record), "the same fields in the same order");
    }
}
