//! HTTP as a generic layer: the server shell, the request and response
//! values, the web layer's errors and the static pages with their layout.
//! It knows nothing of the app: whoever starts the server hands it a
//! [`Handler`].

pub mod error;
pub mod layout;
pub mod request;
pub mod response;
pub mod server;
pub mod static_files;

pub use error::{HttpError, HttpResult};
pub use request::Request;
pub use response::Response;
pub use server::{Handler, RunningServer, ServerSettings};
