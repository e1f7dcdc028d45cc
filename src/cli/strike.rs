//! `hostr strike …`: check the Strike key, register the webhook.

use super::CliResult;
use crate::checkout::provider::ProviderError;
use crate::config::{PublicUrl, StrikeCommand, StrikeSettings};
use crate::strike::StrikeClient;
use std::process::ExitCode;

pub(super) fn run(command: StrikeCommand) -> CliResult {
    let settings = StrikeSettings::from_env()?.ok_or("STRIKE_API_KEY is not set: payments run in the sandbox")?;
    let client = StrikeClient::new(&settings.api_url, &settings.api_key);
    let failed = |e: ProviderError| format!("Strike at {}: {e}", settings.api_url);
    match command {
        StrikeCommand::Test => {
            client.check_key().map_err(failed)?;
            println!("Strike at {}: the key works and may read invoices", settings.api_url);
        }
        StrikeCommand::Subscribe { public_url } => {
            let secret = settings.webhook_secret.ok_or("set STRIKE_WEBHOOK_SECRET (10 to 50 characters) first")?;
            let public_url = PublicUrl::parse(&public_url)?;
            let webhook = format!("{}/api/webhooks/strike", public_url.origin());
            let id = client.subscribe(&webhook, &secret).map_err(failed)?;
            println!("Strike will send invoice.updated events to {webhook} (subscription {id})");
        }
    }
    Ok(ExitCode::SUCCESS)
}
