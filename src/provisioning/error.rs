//! What provisioning tells the code that called it (a handler, the CLI)
//! when it cannot do what was asked. Each case is named so that callers
//! decide what it means to them: the API's mapping to statuses is in
//! `crate::api::error`, the CLI prints the message. Nothing here knows HTTP.

use super::panel::PanelError;
use crate::cpanel_account::AccountStatus;
use crate::payment::PaymentState;
use crate::store::StoreError;
use std::fmt;

#[derive(Debug)]
pub enum ProvisioningError {
    /// WHM could not be reached, refused the token, said no or answered nonsense.
    Panel(PanelError),
    /// WHM holds no account under the username (`found: None`), or the
    /// username hosts another domain there: it is not this account.
    NotOnPanel {
        username: String,
        domain: String,
        found: Option<String>,
    },
    Store(StoreError),
    /// `hostr payment retry` of a payment that is not PAID.
    NotPaid {
        payment_id: String,
        state: PaymentState,
    },
    /// `hostr payment retry` of a payment whose account is delivered.
    AlreadyFulfilled {
        payment_id: String,
    },
    /// A suspension by the operator must say why.
    ReasonRequired,
    /// Only accounts WHM holds can be suspended (not PROVISIONING or TERMINATED).
    NotSuspendable {
        username: String,
        status: AccountStatus,
    },
    /// Only the operator's suspension can be lifted.
    NotSuspended {
        username: String,
        status: AccountStatus,
    },
    /// No account has this username or id.
    UnknownAccount(String),
    /// A goodwill extension that cannot be given (`hostr account extend`).
    NotExtendable(String),
    /// No WHM server is configured under this id.
    UnknownServer(String),
    /// A further site of a group: its plan and paid period are the
    /// primary's (`primary`, its username), which the next pass copies back.
    GroupMember {
        username: String,
        primary: String,
    },
}

impl fmt::Display for ProvisioningError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ProvisioningError as E;
        match self {
            E::Panel(error) => error.fmt(f),
            E::NotOnPanel { username, domain, found: Some(other) } => {
                write!(f, "WHM accountsummary: {username} hosts {other} on WHM, not {domain}")
            }
            E::NotOnPanel { username, found: None, .. } => {
                write!(f, "WHM accountsummary: {username} does not exist on WHM")
            }
            E::Store(error) => error.fmt(f),
            E::NotPaid { payment_id, state } => write!(f, "payment {payment_id} is {}, not PAID", state.as_str()),
            E::AlreadyFulfilled { payment_id } => write!(f, "payment {payment_id} is already fulfilled"),
            E::ReasonRequired => f.write_str("say why the account is suspended (--reason)"),
            E::NotSuspendable { username, status } => write!(f, "account {username} is {}", status.as_str()),
            E::NotSuspended { username, status } => {
                write!(f, "account {username} is {}, not SUSPENDED", status.as_str())
            }
            E::UnknownAccount(name_or_id) => write!(f, "no account with username or id `{name_or_id}`"),
            E::NotExtendable(why) => f.write_str(why),
            E::GroupMember { username, primary } => write!(
                f,
                "account {username} is a further site of a plan: its plan and paid period are those of \
                 {primary}, the group's first site; change that one"
            ),
            E::UnknownServer(id) => write!(f, "no WHM server `{id}` is configured"),
        }
    }
}

impl std::error::Error for ProvisioningError {}

impl From<PanelError> for ProvisioningError {
    fn from(error: PanelError) -> ProvisioningError {
        ProvisioningError::Panel(error)
    }
}

impl From<StoreError> for ProvisioningError {
    fn from(error: StoreError) -> ProvisioningError {
        ProvisioningError::Store(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_was_refused_and_why() {
        let cases = [
            (
                ProvisioningError::NotOnPanel { username: "shop".into(), domain: "shop.example".into(), found: None },
                "WHM accountsummary: shop does not exist on WHM",
            ),
            (
                ProvisioningError::NotOnPanel {
                    username: "shop".into(),
                    domain: "shop.example".into(),
                    found: Some("other.example".into()),
                },
                "WHM accountsummary: shop hosts other.example on WHM, not shop.example",
            ),
            (
                ProvisioningError::NotPaid { payment_id: "p1".into(), state: PaymentState::Pending },
                "payment p1 is PENDING, not PAID",
            ),
            (ProvisioningError::AlreadyFulfilled { payment_id: "p1".into() }, "payment p1 is already fulfilled"),
            (ProvisioningError::ReasonRequired, "say why the account is suspended (--reason)"),
            (
                ProvisioningError::NotSuspendable { username: "shop".into(), status: AccountStatus::Terminated },
                "account shop is TERMINATED",
            ),
            (
                ProvisioningError::NotSuspended { username: "shop".into(), status: AccountStatus::Active },
                "account shop is ACTIVE, not SUSPENDED",
            ),
            (ProvisioningError::UnknownAccount("shop".into()), "no account with username or id `shop`"),
            (
                ProvisioningError::Panel(PanelError::Auth("access denied".into())),
                "WHM refused the API token: access denied",
            ),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
    }
}
