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

use crate::app::App;
use crate::config::Config;
use std::sync::Arc;

impl ServerSettings {
    pub fn from_config(config: &Config) -> ServerSettings {
        ServerSettings {
            workers: config.workers,
            max_connections: config.max_connections,
            header_timeout: config.header_timeout,
            max_body: config.max_body,
        }
    }
}

/// Serves `app` on its configured address through the routing table.
pub fn serve_app(app: Arc<App>) -> std::io::Result<RunningServer> {
    let (listen, settings) = (app.config.listen, ServerSettings::from_config(&app.config));
    let handler: Handler = Arc::new(move |request| routes::route(&app, request));
    server::start(listen, &settings, handler)
}
