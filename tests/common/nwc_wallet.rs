//! A real NIP-47 wallet service for the tests: `@getalby/sdk`'s
//! `NWCWalletService` (which nobody here wrote), run by Node from
//! `tests/nwc/wallet.mjs` on the test relay. `.ci/run` installs its npm
//! packages (`tests/nwc/package-lock.json`) into `~/.cache/hostr-ci/nwc`
//! and links `tests/nwc/node_modules`. It moves no money: the test flips
//! the fake Strike invoice.

use super::child_lines::ChildLines;
use super::tools;
use std::io::Write;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

pub struct TestWallet {
    child: Child,
    stdin: ChildStdin,
    lines: ChildLines,
}

impl TestWallet {
    /// A wallet with key `wallet_secret` serving the client `client_pubkey`
    /// on `relay` in `mode` (see wallet.mjs); None, loudly, without Node.
    pub fn start(relay: &str, wallet_secret: &str, client_pubkey: &str, mode: &str) -> Option<TestWallet> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nwc");
        let node = tools::find_tool("HOSTR_NODE", &["node", "nodejs"], &[]);
        let installed = dir.join("node_modules/@getalby/sdk/package.json").is_file();
        let Some(node) = node.filter(|_| installed) else {
            tools::missing(
                "the NIP-47 test wallet (Node and tests/nwc/node_modules)",
                "Automatic renewal is not tested against a real wallet service.",
                "Install Node 20+, then `npm ci --prefix tests/nwc` (or run .ci/run).",
            );
            return None;
        };
        let mut child = Command::new(node)
            .arg(dir.join("wallet.mjs"))
            .env("RELAY", relay)
            .env("WALLET_SECRET", wallet_secret)
            .env("CLIENT_PUBKEY", client_pubkey)
            .env("MODE", mode)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the NIP-47 wallet");
        let stdin = child.stdin.take().expect("the wallet's stdin");
        let lines = ChildLines::read(child.stdout.take().expect("the wallet's stdout"));
        let wallet = TestWallet { child, stdin, lines };
        wallet.wait_lines("ready", 1);
        Some(wallet)
    }

    pub fn set_mode(&mut self, mode: &str) {
        writeln!(self.stdin, "mode {mode}").expect("write to the wallet");
        self.stdin.flush().expect("flush the wallet's stdin");
        self.wait_lines(&format!("mode {mode}"), 1);
    }

    /// The first `count` lines starting with `prefix`, waiting up to 60 s.
    pub fn wait_lines(&self, prefix: &str, count: usize) -> Vec<String> {
        self.lines.wait("the wallet", prefix, count, Duration::from_secs(60))
    }

    pub fn lines(&self, prefix: &str) -> Vec<String> {
        self.lines.starting(prefix)
    }
}

impl Drop for TestWallet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
