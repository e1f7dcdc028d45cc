//! `hostr serve`: start the server and its workers, wait for SIGTERM or
//! SIGINT, stop gracefully.

use super::CliResult;
use crate::api;
use crate::app::App;
use crate::config::{Config, ServeArgs};
use crate::cpanel_account::CpanelAccount;
use crate::customer::Customer;
use crate::payment::Payment;
use crate::plan::Plan;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub(super) fn run(database: std::path::PathBuf, args: &ServeArgs) -> CliResult {
    let config = Config::from_args(database, args)?;
    let app = Arc::new(App::open(config.clone()).map_err(|e| format!("cannot open the database: {e}"))?);
    let server = api::serve_app(app.clone()).map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    app.start_workers();
    let sandbox = app.sandbox();
    log::info!(
        "hostr {} listening on {} for {}, database {}",
        env!("CARGO_PKG_VERSION"),
        server.addr(),
        config.public_url.origin(),
        config.database.display()
    );
    if sandbox.payments || sandbox.whm {
        log::warn!(
            "SANDBOX MODE: payments {}, WHM {}: nothing here is charged or provisioned for real",
            if sandbox.payments { "simulated" } else { "real" },
            if sandbox.whm { "simulated" } else { "real" }
        );
    }
    log_relays(&config.relays);
    warm_indexes_in_background(app.clone());
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone()).map_err(|e| format!("cannot handle signals: {e}"))?;
    }
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
    log::info!("stopping: finishing requests in progress");
    server.stop();
    log::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Says whether anything is published to Nostr, and loudly when customers'
/// relays may be private addresses.
fn log_relays(relays: &crate::relay::RelaySettings) {
    match relays.is_on() {
        true => {
            let urls: Vec<&str> = relays.relays.iter().map(|r| r.as_str()).collect();
            log::info!("publishing to Nostr relays {} (see `hostr outbox list`)", urls.join(", "));
        }
        false => log::info!("no --relays: nothing is published to Nostr; /api/health says \"relays\": \"off\""),
    }
    if relays.allow_private {
        log::warn!(
            "HOSTR_ALLOW_PRIVATE_RELAYS IS ON: relays that customers name may be ws:// on this machine or \
             private addresses, so any customer can make this server connect inside your network. \
             For tests and local demos only."
        );
    }
}

/// Builds the lookup tables while the server already answers, so that
/// start-up stays fast with a large database; requests needing a table
/// wait for it.
fn warm_indexes_in_background(app: Arc<App>) {
    std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let warmed = [
            app.store.warm::<Customer>(),
            app.store.warm::<CpanelAccount>(),
            app.store.warm::<Plan>(),
            app.store.warm::<Payment>(),
        ];
        for error in warmed.into_iter().filter_map(Result::err) {
            log::error!("cannot build a lookup table: {error}");
        }
        log::info!("lookup tables ready in {} ms", started.elapsed().as_millis());
    });
}
