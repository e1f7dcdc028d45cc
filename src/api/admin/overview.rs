//! `GET /api/admin/overview`: the figures of the first screen, gathered
//! here and computed by `console::overview`.

use super::Operator;
use crate::api::error::ApiResult;
use crate::app::App;
use crate::console::overview::{Inputs, Overview};
use crate::cpanel_account::CpanelAccount;
use crate::customer::Customer;
use crate::http::{Request, Response};
use crate::outbox::OutboxItem;
use crate::payment::Payment;
use crate::plan::Plan;
use crate::store::{LoadError, Record, Store};

pub fn show(app: &App, _operator: &Operator, _request: &Request) -> ApiResult<Response> {
    let store = &app.store;
    let (payments, accounts) = (store.list_readable::<Payment>()?, store.list_readable::<CpanelAccount>()?);
    let (plans, outbox) = (store.list_readable::<Plan>()?, store.list_readable::<OutboxItem>()?);
    let mut broken = unreadable::<Customer>(store)?;
    broken.extend(unreadable::<CpanelAccount>(store)?);
    broken.extend(unreadable::<Payment>(store)?);
    broken.extend(unreadable::<Plan>(store)?);
    broken.extend(unreadable::<OutboxItem>(store)?);
    let inputs = Inputs {
        payments: &payments,
        accounts: &accounts,
        plans: &plans,
        broken: &broken,
        outbox: &outbox,
        whm: app.provisioner.panel_health(),
        sandbox_shop: app.checkout.is_sandbox(),
    };
    let mut overview = Overview::of(&inputs, crate::timestamp::Timestamp::now());
    // Paths relative to the database folder: the operator knows where it is.
    for need in &mut overview.needs {
        if let Some(path) = need.path.as_mut()
            && let Some(relative) = std::path::Path::new(path.as_str()).strip_prefix(store.root()).ok()
        {
            *path = relative.display().to_string();
        }
    }
    Ok(Response::json(200, &overview))
}

/// `T`'s unreadable files; the lookup table is built first, so a folder
/// never looked at yet is read now rather than counted as clean.
fn unreadable<T: Record>(store: &Store) -> ApiResult<Vec<LoadError>> {
    store.warm::<T>()?;
    Ok(store.broken::<T>()?)
}
