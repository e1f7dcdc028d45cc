//! HTTP: the server shell, the request and response values, the routing
//! table and the static pages.

pub mod request;
pub mod response;
pub mod routes;
pub mod server;
pub mod static_files;

pub use request::Request;
pub use response::Response;
pub use server::{Handler, RunningServer, ServerSettings};
