//! All integration tests, in one binary: the store across threads and
//! processes, the HTTP server, and the command line.

mod common;

mod auth;
mod cli;
mod http;
mod payments;
mod provisioning;
mod store;
mod strike;
mod whm;
