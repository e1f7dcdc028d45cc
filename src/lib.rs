//! hostr: a self-hosted storefront for cPanel web hosting, paid over
//! Lightning, signed in with Nostr. See ARCHITECTURE.md for the map.

pub mod api;
pub mod app;
pub mod auth;
pub mod bolt11;
pub mod check;
pub mod checkout;
pub mod cli;
pub mod config;
pub mod cpanel_account;
pub mod customer;
pub mod http;
pub mod ids;
pub mod listing;
pub mod lock_file;
pub mod logger;
pub mod money;
pub mod nip05;
pub mod notices;
pub mod operator_key;
pub mod operator_profile;
pub mod outbox;
pub mod payment;
pub mod plan;
pub mod prepay;
pub mod profile;
pub mod provisioning;
pub mod rate_limit;
pub mod receipt;
pub mod receipts;
pub mod relay;
pub mod secret_file;
pub mod store;
pub mod strike;
pub mod timestamp;
pub mod whm;
