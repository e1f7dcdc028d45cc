//! The WHM servers provisioning talks to: for each one its gateway (its own
//! token pause, "unreachable this pass" flag and per-account backoff), its
//! cached view (its own `listaccts`, `showbw` and nameservers) and what
//! customers are told about it.
//!
//! Invariant: an account's calls go only to the host of its own server
//! (`CpanelAccount::server`); a server that is not configured gets none,
//! and its accounts wait (reported as drift) rather than go elsewhere.

use super::Schedule;
use super::first_steps::ServerFacts;
use super::gateway::{Gateway, PanelHealth};
use super::panel::HostingPanel;
use super::view::PanelView;
use std::sync::{Mutex, MutexGuard};

/// One configured server, as `App` or the CLI connects it.
pub struct ServerLink {
    pub id: String,
    pub panel: Box<dyn HostingPanel>,
    /// What customers are told about this server (first steps).
    pub facts: ServerFacts,
}

pub(super) struct Host {
    pub id: String,
    pub gateway: Gateway,
    view: Mutex<PanelView>,
    pub facts: ServerFacts,
}

impl Host {
    pub fn new(link: ServerLink, schedule: &Schedule) -> Host {
        Host {
            gateway: Gateway::named(&link.id, link.panel, schedule),
            id: link.id,
            view: Mutex::new(PanelView::default()),
            facts: link.facts,
        }
    }

    pub fn view(&self) -> MutexGuard<'_, PanelView> {
        self.view.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The worst of the servers' health: a refused token first, then an
/// unreachable server (what the operator must look at).
pub fn worst(healths: impl IntoIterator<Item = PanelHealth>) -> PanelHealth {
    let rank = |h: &PanelHealth| match h {
        PanelHealth::TokenRefused => 2,
        PanelHealth::Unreachable => 1,
        PanelHealth::Answering => 0,
    };
    healths.into_iter().max_by_key(rank).unwrap_or(PanelHealth::Answering)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_health_of_the_servers_is_reported() {
        use PanelHealth::*;
        let cases = [
            (vec![], Answering),
            (vec![Answering, Answering], Answering),
            (vec![Answering, Unreachable], Unreachable),
            (vec![TokenRefused, Unreachable, Answering], TokenRefused),
        ];
        for (healths, worst_one) in cases {
            assert_eq!(worst(healths.clone()), worst_one, "{healths:?}");
        }
    }
}
