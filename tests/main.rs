//! All integration tests, in one binary: the store across threads and
//! processes, the HTTP server, checkout without a socket, payments (and the
//! bounds on what purchases cost) and provisioning against fake Strike and
//! WHM servers, provider modes that never mix, the command line, and the
//! pages in a real browser.

mod common;

mod auth;
mod browser;
mod checkout;
mod cli;
mod console;
mod groups;
mod http;
mod listings;
mod modes;
mod notices;
mod nwc;
mod outbox;
mod payments;
mod plan_changes;
mod prepay;
mod prices;
mod provisioning;
mod purchases;
mod receipts;
mod relay;
mod servers;
mod store;
mod strike;
mod whm;
