//! `GET /api/admin/export/payments.csv?month=YYYY-MM`: a month's payments for
//! the accountant.

use super::Operator;
use crate::api::error::{ApiError, ApiResult};
use crate::app::App;
use crate::http::{Request, Response};
use crate::payment::Payment;

pub fn payments(app: &App, _operator: &Operator, request: &Request) -> ApiResult<Response> {
    let month = request.query_param("month").unwrap_or_default();
    let month = crate::console::export::Month::parse(&month)
        .ok_or_else(|| ApiError::bad_request("bad_month", "Give the month as YYYY-MM, such as 2026-01."))?;
    let payments = app.store.list_readable::<Payment>()?;
    let csv = crate::console::export::payments_csv(&app.store, &payments, month);
    Ok(Response::new(200, "text/csv; charset=utf-8", csv.into_bytes())
        .with_header("Content-Disposition", format!("attachment; filename=\"payments-{month}.csv\"")))
}
