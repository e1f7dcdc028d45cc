//! The command line: one function per subcommand. Output is for people,
//! or JSON with `--json`.

use crate::api;
use crate::app::App;
use crate::check;
use crate::checkout;
use crate::checkout::provider::ProviderError;
use crate::config::{
    AccountCommand, Cli, Command, Config, CustomerCommand, PaymentCommand, PlanAddArgs, PlanCommand, PublicUrl,
    ServeArgs, StrikeCommand, StrikeSettings, WhmCommand, WhmSettings,
};
use crate::cpanel_account::CpanelAccount;
use crate::customer::{Customer, CustomerError, npub, parse_public_key};
use crate::ids::IdFormat;
use crate::payment::{Payment, Provider};
use crate::plan::{BillingCycle, Plan};
use crate::provisioning::panel::HostingPanel;
use crate::provisioning::{self, Provisioner, operator};
use crate::store::{Store, StoreError};
use crate::strike::StrikeClient;
use crate::timestamp::Timestamp;
use crate::whm::REQUIRED_FUNCTIONS;
use serde::Serialize;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A failed command: the message for the operator.
type CliResult = Result<ExitCode, String>;

pub fn run(cli: Cli) -> ExitCode {
    let json = cli.json;
    let outcome = match cli.command {
        None => serve(cli.database, &ServeArgs::from_env()),
        Some(Command::Serve(args)) => serve(cli.database, &args),
        Some(Command::Check) => open_store(&cli.database).and_then(|store| run_check(&store, json)),
        Some(Command::Plan(command)) => open_store(&cli.database).and_then(|store| plan(&store, command, json)),
        Some(Command::Customer(command)) => open_store(&cli.database).and_then(|store| customer(&store, command, json)),
        Some(Command::Payment(command)) => open_store(&cli.database).and_then(|store| payment(&store, command, json)),
        Some(Command::Strike(command)) => strike(command),
        Some(Command::Account(command)) => open_store(&cli.database).and_then(|store| account(&store, command, json)),
        Some(Command::Whm(command)) => open_store(&cli.database).and_then(|store| whm(store, command, json)),
    };
    outcome.unwrap_or_else(|message| {
        eprintln!("hostr: {message}");
        ExitCode::FAILURE
    })
}

fn open_store(database: &std::path::Path) -> Result<Store, String> {
    Store::open(database).map_err(|e| format!("cannot open the database: {e}"))
}

fn serve(database: std::path::PathBuf, args: &ServeArgs) -> CliResult {
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

fn run_check(store: &Store, json: bool) -> CliResult {
    let report = check::check(store).map_err(|e| e.to_string())?;
    if json {
        print_json(&report)?;
    } else {
        for problem in &report.problems {
            println!("{problem}");
        }
        for summary in report.summaries() {
            println!("  {summary}");
        }
        let verdict = if report.problems.is_empty() { "ok" } else { "FAILED" };
        println!(
            "hostr check: {} records in {}: {} problem(s): {verdict}",
            report.records,
            store.root().display(),
            report.problems.len()
        );
    }
    Ok(if report.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn plan(store: &Store, command: PlanCommand, json: bool) -> CliResult {
    match command {
        PlanCommand::List => {
            let plans = store.list_readable::<Plan>().map_err(|e| e.to_string())?;
            if json {
                return print_json(&plans);
            }
            println!(
                "{:<16} {:<28} {:>8} {:>9} {:>12} {:<8} {:<9}",
                "ID", "NAME", "STORAGE", "TRANSFER", "PRICE", "CYCLE", "ON SALE"
            );
            for p in &plans {
                println!(
                    "{:<16} {:<28} {:>5} GB {:>6} GB {:>8} {} {:<8} {:<9}",
                    p.id,
                    p.name,
                    p.storage,
                    p.bandwidth,
                    p.price,
                    p.currency,
                    p.billing_cycle.as_str(),
                    if p.available { "yes" } else { "no" }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        PlanCommand::Show { id } => {
            let plan: Plan = store.get(&id).map_err(|e| e.to_string())?;
            print_json(&plan)
        }
        PlanCommand::Add(args) => {
            let plan = plan_from_args(args)?;
            store.create(&plan).map_err(|e| match e {
                StoreError::AlreadyExists { .. } => {
                    format!("a plan with id `{}` already exists", plan.id)
                }
                other => other.to_string(),
            })?;
            if !json {
                println!("added plan {}", plan.id);
            }
            print_json(&plan)
        }
    }
}

fn plan_from_args(args: PlanAddArgs) -> Result<Plan, String> {
    if !IdFormat::Slug.accepts(&args.id) {
        return Err(format!("`{}` is not a plan id: it must be {}", args.id, IdFormat::Slug.describe()));
    }
    let billing_cycle = match args.billing_cycle.as_str() {
        "monthly" => BillingCycle::Monthly,
        "yearly" => BillingCycle::Yearly,
        other => {
            return Err(format!("`{other}` is not a billing cycle: use monthly or yearly"));
        }
    };
    let now = Timestamp::now();
    Ok(Plan {
        whm_package: args.whm_package.unwrap_or_else(|| args.id.clone()),
        id: args.id,
        name: args.name,
        storage: args.storage,
        bandwidth: args.bandwidth,
        price: args.price.parse().map_err(|e| format!("--price: {e}"))?,
        currency: args.currency.parse().map_err(|e| format!("--currency: {e}"))?,
        billing_cycle,
        accounts: args.accounts,
        available: !args.unavailable,
        created_at: now,
        updated_at: now,
    })
}

fn customer(store: &Store, command: CustomerCommand, json: bool) -> CliResult {
    match command {
        CustomerCommand::List => {
            let customers = store.list_readable::<Customer>().map_err(|e| e.to_string())?;
            if json {
                return print_json(&customers);
            }
            println!("{:<36} {:<63} {:<9} {:<20} {:<30}", "ID", "NPUB", "STATUS", "REGISTERED", "EMAIL");
            for c in &customers {
                println!(
                    "{:<36} {:<63} {:<9} {:<20} {:<30}",
                    c.id,
                    npub(&c.public_key).unwrap_or_else(|| c.public_key.clone()),
                    c.status.as_str(),
                    c.created_at.to_string(),
                    c.email.as_deref().unwrap_or("-")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        CustomerCommand::Show { customer } => {
            let found = find_customer(store, &customer)?;
            print_json(&found)
        }
        CustomerCommand::SetKey { customer, new_key } => {
            let found = find_customer(store, &customer)?;
            let new_key = parse_public_key(&new_key)?;
            let moved = crate::customer::set_key(store, &found.id, &new_key).map_err(|e| match e {
                CustomerError::AlreadyRegistered => format!("another customer already has the key {new_key}"),
                other => other.to_string(),
            })?;
            if !json {
                println!("customer {} now signs in with {}", moved.id, npub(&moved.public_key).unwrap_or_default());
            }
            print_json(&moved)
        }
    }
}

fn payment(store: &Store, command: PaymentCommand, json: bool) -> CliResult {
    match command {
        PaymentCommand::List { state } => {
            let mut payments = store.list_readable::<Payment>().map_err(|e| e.to_string())?;
            payments.retain(|p| state.as_deref().is_none_or(|s| s.eq_ignore_ascii_case(p.state.as_str())));
            payments.sort_by_key(|p| std::cmp::Reverse(p.created_at));
            if json {
                return print_json(&payments);
            }
            println!("{:<36} {:<9} {:<12} {:>10} {:<20} FOR", "ID", "STATE", "FULFILMENT", "AMOUNT", "CREATED");
            for p in &payments {
                let target = p.domain.clone().or_else(|| p.account_id.as_ref().map(|a| format!("renewal of {a}")));
                println!(
                    "{:<36} {:<9} {:<12} {:>6} {} {:<20} {}{}",
                    p.id,
                    p.state.as_str(),
                    p.fulfilment.status.as_str(),
                    p.amount,
                    p.currency,
                    p.created_at.to_string(),
                    target.unwrap_or_default(),
                    if p.mode() == Provider::Sandbox { " (sandbox)" } else { "" }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        PaymentCommand::Show { id } => print_json(&store.get::<Payment>(&id).map_err(|e| e.to_string())?),
        PaymentCommand::Retry { id } => {
            let payment = provisioning::retry(store, &id).map_err(|e| e.to_string())?;
            if !json {
                println!("payment {} will be fulfilled again by the running server within seconds", payment.id);
                return Ok(ExitCode::SUCCESS);
            }
            print_json(&payment)
        }
        PaymentCommand::MarkPaid { id, reason } => {
            let payment = checkout::mark_paid(store, &id, &reason).map_err(|e| e.to_string())?;
            if !json {
                println!("payment {} recorded as paid: {}", payment.id, reason.trim());
            }
            print_json(&payment)
        }
    }
}

fn strike(command: StrikeCommand) -> CliResult {
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

fn account(store: &Store, command: AccountCommand, json: bool) -> CliResult {
    let changed = match command {
        AccountCommand::List => {
            let mut accounts = store.list_readable::<CpanelAccount>().map_err(|e| e.to_string())?;
            accounts.sort_by(|a, b| a.username.cmp(&b.username));
            if json {
                return print_json(&accounts);
            }
            println!("{:<8} {:<12} {:<20} {:<36} DOMAIN", "USERNAME", "STATUS", "PAID UNTIL", "ID");
            for a in &accounts {
                let until = a.paid_until.map_or_else(|| "-".to_owned(), |t| t.to_string());
                println!("{:<8} {:<12} {:<20} {:<36} {}", a.username, a.status.as_str(), until, a.id, a.domain);
            }
            return Ok(ExitCode::SUCCESS);
        }
        AccountCommand::Show { account } => {
            return print_json(&operator::find_account(store, &account).map_err(|e| e.to_string())?);
        }
        AccountCommand::Suspend { account, reason, message } => {
            let account = operator::find_account(store, &account).map_err(|e| e.to_string())?;
            operator::set_suspension(store, &account.id, Some(&reason), message.as_deref())
                .map_err(|e| e.to_string())?
        }
        AccountCommand::Unsuspend { account } => {
            let account = operator::find_account(store, &account).map_err(|e| e.to_string())?;
            operator::set_suspension(store, &account.id, None, None).map_err(|e| e.to_string())?
        }
    };
    if json {
        return print_json(&changed);
    }
    println!(
        "account {} is now {}; the running server applies it in WHM within seconds",
        changed.username,
        changed.status.as_str()
    );
    Ok(ExitCode::SUCCESS)
}

fn whm(store: Store, command: WhmCommand, json: bool) -> CliResult {
    let settings = WhmSettings::from_env()?.ok_or("WHM_URL is not set: accounts are simulated by the sandbox")?;
    let client = settings.client()?;
    match command {
        WhmCommand::Test => {
            let allowed = client.applist().map_err(|e| e.to_string())?;
            let missing: Vec<&str> =
                REQUIRED_FUNCTIONS.iter().copied().filter(|f| !allowed.iter().any(|a| a == f)).collect();
            if !missing.is_empty() {
                return Err(format!("WHM at {}: the token may not call {}", settings.url, missing.join(", ")));
            }
            let accounts = client.list_accounts().map_err(|e| e.to_string())?;
            println!(
                "WHM at {} as {}: the token works and may call everything hostr needs; {} account(s) on the server",
                settings.url,
                settings.user,
                accounts.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        WhmCommand::Sync { fix } => {
            let provisioner = Provisioner::new(Arc::new(store), Box::new(client), Default::default());
            let (report, foreign) = provisioner.sync(fix).map_err(|e| e.to_string())?;
            if json {
                let summary = serde_json::json!({
                    "suspended": report.suspended,
                    "unsuspended": report.unsuspended,
                    "wouldChange": report.planned,
                    "differences": report.drift,
                    "notInHostr": foreign,
                });
                return print_json(&summary);
            }
            for line in report.planned.iter().chain(&report.drift) {
                println!("{line}");
            }
            for account in &foreign {
                println!("on WHM but not in hostr: {account}");
            }
            if fix {
                println!("suspended {}, unsuspended {}", report.suspended, report.unsuspended);
            }
            let in_line = report.drift.is_empty() && report.planned.is_empty();
            println!("hostr whm sync: {}", if in_line { "WHM matches the files" } else { "differences found" });
            Ok(if in_line { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

/// A customer by id, hex public key or npub.
pub fn find_customer(store: &Store, text: &str) -> Result<Customer, String> {
    if IdFormat::Uuid.accepts(text) {
        return store.get(text).map_err(|e| e.to_string());
    }
    let key = parse_public_key(text).map_err(|_| format!("`{text}` is not a customer id, hex public key or npub"))?;
    store
        .find(Customer::by_public_key(&key))
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no customer has the public key {key}"))
}

fn print_json(value: &impl Serialize) -> CliResult {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}
