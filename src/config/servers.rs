//! The WHM servers hostr is configured with: the server of `WHM_URL` & co.
//! (`whm_server::DEFAULT_SERVER`, no record needed) and one per record in
//! `database/servers/`, each with its token read from the environment
//! variable the record names. Read once at start-up, like every setting:
//! a new server, or a new token, needs a restart; a record's `status`,
//! `maxAccounts` and `groups` are read again at every placement.
//!
//! A record that cannot be read refuses the start: its accounts would
//! otherwise be looked after by nobody without a word.

use super::secrets::WhmSettings;
use crate::provisioning::first_steps::{ServerFacts, cpanel_url_of};
use crate::store::Store;
use crate::whm_server::{DEFAULT_SERVER, WhmServer};

/// One server's connection settings and what customers are told about it.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub id: String,
    pub whm: WhmSettings,
    /// From its record; for `WHM_URL`'s server, empty (the flags say it).
    pub facts: ServerFacts,
}

/// Every configured server, sorted by id: `env` (from `WhmSettings::from_env`)
/// as the default server, then the records.
pub fn configured(store: &Store, env: Option<&WhmSettings>) -> Result<Vec<ServerSettings>, String> {
    let mut servers: Vec<ServerSettings> = env
        .map(|whm| ServerSettings { id: DEFAULT_SERVER.to_owned(), whm: whm.clone(), facts: ServerFacts::default() })
        .into_iter()
        .collect();
    for record in store.list::<WhmServer>().map_err(|e| e.to_string())? {
        let record = record.map_err(|e| format!("{e}; fix or remove it (its accounts wait for it)"))?;
        if record.id == DEFAULT_SERVER && env.is_some() {
            return Err(format!(
                "WHM_URL configures the server `{DEFAULT_SERVER}`, and so does the record servers/{DEFAULT_SERVER}.json: \
                 keep one of them"
            ));
        }
        let whm = WhmSettings::of_server(&record)?;
        let facts = ServerFacts {
            ip: record.server_ip,
            nameservers: record.nameservers.clone(),
            cpanel_url: record.cpanel_url.clone().or_else(|| cpanel_url_of(&record.url)),
        };
        servers.push(ServerSettings { id: record.id, whm, facts });
    }
    servers.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(servers)
}

/// `--server`'s choice among `servers`: that one, or all of them.
pub fn chosen<'a>(servers: &'a [ServerSettings], id: Option<&str>) -> Result<Vec<&'a ServerSettings>, String> {
    match id {
        None => Ok(servers.iter().collect()),
        Some(id) => match servers.iter().find(|s| s.id == id) {
            Some(server) => Ok(vec![server]),
            None => {
                let known: Vec<&str> = servers.iter().map(|s| s.id.as_str()).collect();
                Err(format!("no WHM server `{id}` is configured (configured: {})", known.join(", ")))
            }
        },
    }
}
