//! External programs the tests drive (Chromium, a Nostr relay, an SMTP
//! server, a wallet service …): where they are found, and what happens when
//! one is missing. Without it a test says so loudly and passes, so that
//! `cargo test` works on any machine; with `CI` set it fails instead, because
//! `.ci/run` installs every one of them.

use std::path::PathBuf;

/// The program named by the environment `variable`, or the first of `names`
/// found on the PATH or in `extra_dirs`.
pub fn find_tool(variable: &str, names: &[&str], extra_dirs: &[PathBuf]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        let path = PathBuf::from(path);
        return path.is_file().then_some(path);
    }
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    dirs.extend(extra_dirs.iter().cloned());
    names.iter().flat_map(|name| dirs.iter().map(move |dir| dir.join(name))).find(|path| path.is_file())
}

/// Where `.ci/run` installs the tools that do not come from apt
/// (`~/.cache/hostr-ci`, or `HOSTR_CI_CACHE`).
pub fn ci_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("HOSTR_CI_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/root"));
    home.join(".cache").join("hostr-ci")
}

/// Says loudly that the tests needing `what` were skipped and how to install
/// it, once per run and past the harness's capture; in CI, fails the test.
pub fn missing(what: &str, consequence: &str, install: &str) {
    let line = "!".repeat(72);
    let notice = format!("\n{line}\n!! TESTS SKIPPED: {what} not found.\n!! {consequence}\n!! {install}\n{line}\n");
    if std::env::var_os("CI").is_some() {
        panic!("{notice}In CI (CI is set) these tests must run: `.ci/run` installs {what}.");
    }
    static NOTICED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut noticed = NOTICED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if !noticed.iter().any(|seen| seen == what) {
        noticed.push(what.to_string());
        use std::io::Write;
        let _ = std::io::stderr().write_all(notice.as_bytes());
    }
}

/// A free TCP port on 127.0.0.1 (free when asked; the caller binds it soon).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}
