//! A fake WHM API 1 server on 127.0.0.1 for tests: form bodies, the
//! metadata envelope (results sometimes as strings, as real WHM sends them),
//! 403 `cpanelresult` for a bad token, and faults.

use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const TOKEN: &str = "TESTTOKEN123";
/// The address the fake gives every account (`createacct`, `listaccts`).
pub const SERVER_IP: &str = "192.0.2.10";
/// The nameservers the fake answers to `get_nameserver_config`.
pub const NAMESERVERS: [&str; 2] = ["ns1.host.example", "ns2.host.example"];

#[derive(Debug, Clone)]
pub enum WhmFault {
    /// An HTML page instead of JSON.
    Html,
    /// Do the work, then answer only after this long.
    Slow(Duration),
    /// HTTP 500 with an empty body.
    ServerError,
}

#[derive(Debug, Clone)]
pub struct FakeAccount {
    pub domain: String,
    pub plan: String,
    pub suspended: Option<String>,
    pub disk_used_mb: u64,
    pub bandwidth_bytes: u64,
}

impl FakeAccount {
    /// An account as WHM reports it after creation: 12 MB on disk, 3 MiB of transfer.
    pub fn new(domain: &str, plan: &str) -> FakeAccount {
        let (domain, plan) = (domain.to_owned(), plan.to_owned());
        FakeAccount { domain, plan, suspended: None, disk_used_mb: 12, bandwidth_bytes: 3 * 1048576 }
    }
}

#[derive(Default)]
pub struct WhmState {
    pub accounts: BTreeMap<String, FakeAccount>,
    /// Every call as `function body`, for assertions.
    pub calls: Vec<(String, String, String)>,
    pub faults: VecDeque<WhmFault>,
    /// This function does its work, then answers only after this long.
    pub slow_function: Option<(String, Duration)>,
    /// This function answers HTTP 500 without doing anything, this many more times.
    pub failing_function: Option<(String, usize)>,
    /// `createacct` answers HTTP 500 at once and finishes the account this
    /// much later, as a busy WHM does; meanwhile the name and domain are taken.
    pub background_create: Option<Duration>,
    /// Accounts being created in the background: user → domain.
    pub creating: BTreeMap<String, String>,
    /// This function is refused (`metadata.result` 0) every time.
    pub refused_function: Option<String>,
    /// `verify_new_username` says every name is free (a race with another
    /// reseller, or a server whose check misses a name).
    pub verify_says_free: bool,
    /// The packages `changepackage` accepts; empty accepts any.
    pub packages: Vec<String>,
}

pub struct FakeWhm {
    pub url: String,
    pub state: Arc<Mutex<WhmState>>,
    server: Arc<tiny_http::Server>,
}

impl FakeWhm {
    pub fn start() -> FakeWhm {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind the fake WHM"));
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let state = Arc::new(Mutex::new(WhmState::default()));
        for _ in 0..4 {
            let (server, state) = (server.clone(), state.clone());
            std::thread::spawn(move || {
                while let Ok(request) = server.recv() {
                    handle(request, &state);
                }
            });
        }
        FakeWhm { url, state, server }
    }

    pub fn fault(&self, fault: WhmFault) {
        self.state.lock().unwrap().faults.push_back(fault);
    }

    /// An account made on WHM by someone other than hostr.
    pub fn add_account(&self, user: &str, domain: &str) {
        self.add_account_on(user, domain, "other");
    }

    /// An account WHM holds on `package` (e.g. one hostr made before).
    pub fn add_account_on(&self, user: &str, domain: &str, package: &str) {
        let account = FakeAccount::new(domain, package);
        self.state.lock().unwrap().accounts.insert(user.to_owned(), account);
    }

    /// How many calls of `function` were made.
    pub fn calls(&self, function: &str) -> usize {
        self.state.lock().unwrap().calls.iter().filter(|(f, _, _)| f == function).count()
    }
}

impl Drop for FakeWhm {
    fn drop(&mut self) {
        for _ in 0..4 {
            self.server.unblock();
        }
    }
}

fn form(body: &str) -> BTreeMap<String, String> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| {
            (k.to_owned(), percent_encoding::percent_decode_str(&v.replace('+', " ")).decode_utf8_lossy().into_owned())
        })
        .collect()
}

fn ok(function: &str, data: Option<Value>) -> Value {
    // Real WHM sends `result` as a number or a string; the fake does both.
    let result = if function.len().is_multiple_of(2) { json!(1) } else { json!("1") };
    let mut answer = json!({"metadata": {"command": function, "version": 1, "result": result, "reason": "OK"}});
    if let Some(data) = data {
        answer["data"] = data;
    }
    answer
}

fn refused(function: &str, reason: &str) -> Value {
    json!({"metadata": {"command": function, "version": 1, "result": 0, "reason": format!("API failure: (XID t3st) {reason}")}})
}

fn handle(mut request: tiny_http::Request, state: &Arc<Mutex<WhmState>>) {
    let url = request.url().to_owned();
    let function = url.trim_start_matches("/json-api/").split('?').next().unwrap_or("").to_owned();
    let mut body = String::new();
    let _ = request.as_reader().read_to_string(&mut body);
    let authorized = request
        .headers()
        .iter()
        .any(|h| h.field.equiv("Authorization") && h.value.as_str() == format!("whm root:{TOKEN}"));
    let fault = {
        let mut state = state.lock().unwrap();
        state.calls.push((function.clone(), url.clone(), body.clone()));
        let failing = match &mut state.failing_function {
            Some((f, times)) if *f == function && *times > 0 => {
                *times -= 1;
                true
            }
            _ => false,
        };
        let slow = state.slow_function.clone().filter(|(f, _)| *f == function).map(|(_, delay)| delay);
        match (failing, slow) {
            (true, _) => Some(WhmFault::ServerError),
            (false, Some(delay)) => Some(WhmFault::Slow(delay)),
            (false, None) => state.faults.pop_front(),
        }
    };
    let (status, text) = if matches!(fault, Some(WhmFault::ServerError)) {
        (500, String::new())
    } else if !authorized {
        (403, json!({"cpanelresult": {"apiversion": "2", "error": "Access denied", "data": {"reason": "Access denied", "result": "0"}, "type": "text"}}).to_string())
    } else if !url.contains("api.version=1") {
        (
            200,
            json!({"result": [{"status": 0, "statusmsg": "Unknown App Requested for this version (0) of the api"}]})
                .to_string(),
        )
    } else {
        let answer = answer(&function, &form(&body), state);
        if let Some(delay) = answer.get("background").and_then(Value::as_u64) {
            finish_in_background(state, &answer, Duration::from_millis(delay));
            (500, String::new())
        } else {
            (200, answer.to_string())
        }
    };
    let (status, text) = match fault {
        Some(WhmFault::Html) => (200, "<html><head><META HTTP-EQUIV=\"refresh\"></head></html>".to_owned()),
        Some(WhmFault::ServerError) => (500, String::new()),
        Some(WhmFault::Slow(delay)) => {
            std::thread::sleep(delay);
            (status, text)
        }
        None => (status, text),
    };
    let _ = request.respond(tiny_http::Response::from_string(text).with_status_code(status));
}

/// Completes a background `createacct` after `delay`.
fn finish_in_background(state: &Arc<Mutex<WhmState>>, job: &Value, delay: Duration) {
    let (state, job) = (state.clone(), job.clone());
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        let mut state = state.lock().unwrap();
        let user = job["user"].as_str().unwrap().to_owned();
        state.creating.remove(&user);
        let account = FakeAccount::new(job["domain"].as_str().unwrap(), job["plan"].as_str().unwrap());
        state.accounts.insert(user, account);
    });
}

fn answer(function: &str, params: &BTreeMap<String, String>, state: &Mutex<WhmState>) -> Value {
    let mut state = state.lock().unwrap();
    if state.refused_function.as_deref() == Some(function) {
        return refused(function, "This account is locked: only root may change it.");
    }
    let param = |name: &str| params.get(name).cloned().unwrap_or_default();
    match function {
        "createacct" => {
            let (user, domain) = (param("username"), param("domain"));
            if state.accounts.contains_key(&user) {
                return refused(function, &format!("This system already has an account named “{user}”."));
            }
            if state.creating.contains_key(&user) {
                return refused(function, "Sorry, a group for that username already exists.");
            }
            if state.accounts.values().any(|a| a.domain == domain) || state.creating.values().any(|d| *d == domain) {
                return refused(function, &format!("The domain “{domain}” already exists on this server."));
            }
            if param("password").len() < 12 || param("showpass") != "n" {
                return refused(function, "weak password or showpass");
            }
            if let Some(delay) = state.background_create {
                state.creating.insert(user.clone(), domain.clone());
                return json!({"background": delay.as_millis() as u64, "user": user, "domain": domain, "plan": param("plan")});
            }
            let account = FakeAccount::new(&domain, &param("plan"));
            state.accounts.insert(user, account);
            ok(function, Some(json!({"ip": SERVER_IP, "package": param("plan")})))
        }
        "accountsummary" | "listaccts" => {
            let wanted = param("user");
            let list: Vec<Value> = state
                .accounts
                .iter()
                .filter(|(user, _)| function == "listaccts" || **user == wanted)
                .map(|(user, a)| {
                    json!({"user": user, "domain": a.domain, "plan": a.plan,
                           "suspended": if a.suspended.is_some() { 1 } else { 0 },
                           "suspendreason": a.suspended.clone().unwrap_or_else(|| "not suspended".into()),
                           "diskused": format!("{}M", a.disk_used_mb), "disklimit": "10240M", "ip": SERVER_IP})
                })
                .collect();
            if function == "accountsummary" && list.is_empty() {
                return refused(function, &format!("Account “{wanted}” does not exist."));
            }
            ok(function, Some(json!({"acct": list})))
        }
        "changepackage" => {
            let (user, pkg) = (param("user"), param("pkg"));
            if !state.packages.is_empty() && !state.packages.contains(&pkg) {
                return refused(function, &format!("Sorry, “{pkg}” is not a valid package name."));
            }
            let Some(account) = state.accounts.get_mut(&user) else {
                return refused(function, &format!("Account “{user}” does not exist."));
            };
            let old = std::mem::replace(&mut account.plan, pkg.clone());
            // WHM answers metadata only, with a transcript of what it changed.
            let mut answer = ok(function, None);
            answer["metadata"]["output"] = json!({"raw": format!("<pre>Changing plan from {old} to {pkg}\n</pre>")});
            answer
        }
        "suspendacct" | "unsuspendacct" | "removeacct" => {
            let user = if function == "removeacct" { param("username") } else { param("user") };
            let Some(account) = state.accounts.get_mut(&user) else {
                return refused(function, &format!("Account “{user}” does not exist."));
            };
            match function {
                "suspendacct" => account.suspended = Some(param("reason")),
                "unsuspendacct" => account.suspended = None,
                _ => {
                    state.accounts.remove(&user);
                }
            }
            ok(function, None)
        }
        "showbw" => {
            let list: Vec<Value> = state
                .accounts
                .iter()
                .map(|(user, a)| json!({"user": user, "maindomain": a.domain, "totalbytes": a.bandwidth_bytes, "limit": "unlimited"}))
                .collect();
            ok(function, Some(json!({"month": 11, "year": 2026, "acct": list})))
        }
        "create_user_session" => {
            let user = param("user");
            if !state.accounts.contains_key(&user) || param("service") != "cpaneld" {
                return refused(function, "no such user");
            }
            ok(
                function,
                Some(
                    json!({"url": format!("https://server.example:2083/cpsess1234/login/?session={user}%3aonce"), "expires": 1_800_000_000}),
                ),
            )
        }
        "verify_new_username" => {
            let user = param("user");
            if !state.verify_says_free && (state.accounts.contains_key(&user) || state.creating.contains_key(&user)) {
                refused(function, &format!("This system already has an account named “{user}”."))
            } else {
                ok(function, None)
            }
        }
        "get_nameserver_config" => ok(function, Some(json!({"nameservers": NAMESERVERS}))),
        "applist" => ok(
            function,
            Some(
                json!({"app": ["createacct", "accountsummary", "listaccts", "suspendacct", "unsuspendacct", "changepackage", "removeacct", "showbw", "create_user_session", "verify_new_username", "applist"]}),
            ),
        ),
        _ => refused(function, "Unknown app"),
    }
}
