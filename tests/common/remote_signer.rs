//! A real NIP-46 remote signer for the tests: NDK's `NDKNip46Backend`
//! (npm `@nostr-dev-kit/ndk`, which nobody here wrote), run by Node from
//! `tests/nip46/signer.mjs` with one key, answering through one relay.
//!
//! `.ci/run` installs the npm packages (`tests/nip46/package-lock.json`)
//! into `~/.cache/hostr-ci/nip46` and links `tests/nip46/node_modules` to
//! them; locally, `npm ci --prefix tests/nip46` does. `HOSTR_NODE` names
//! another `node`. Without either, `RemoteSigner::tools` says so loudly and
//! gives None (a failure in CI).

use super::child_lines::ChildLines;
use super::tools;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

/// Node and the signer script, found.
pub struct SignerTools {
    node: PathBuf,
    script: PathBuf,
}

pub struct RemoteSigner {
    child: Child,
    stdin: ChildStdin,
    lines: ChildLines,
    /// `bunker://<pubkey>?relay=…&secret=…`.
    pub bunker_uri: String,
}

impl RemoteSigner {
    /// Node 20+ and the installed npm packages, or None after a loud notice.
    pub fn tools() -> Option<SignerTools> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nip46");
        let node = tools::find_tool("HOSTR_NODE", &["node", "nodejs"], &[]);
        let installed = dir.join("node_modules/@nostr-dev-kit/ndk/package.json").is_file()
            && dir.join("node_modules/ws/package.json").is_file();
        match node {
            Some(node) if installed => Some(SignerTools { node, script: dir.join("signer.mjs") }),
            _ => {
                tools::missing(
                    "the NIP-46 test signer (Node and tests/nip46/node_modules)",
                    "Sign-in with a remote signer is not tested end to end.",
                    "Install Node 20+, then `npm ci --prefix tests/nip46` (or run .ci/run).",
                );
                None
            }
        }
    }

    /// A signer holding `secret_key_hex`, listening on `relay`; returns once
    /// it has printed its bunker:// URI.
    pub fn start(tools: &SignerTools, relay: &str, secret_key_hex: &str) -> RemoteSigner {
        let mut child = Command::new(&tools.node)
            .arg(&tools.script)
            .args([relay, secret_key_hex])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the NIP-46 signer");
        let stdin = child.stdin.take().expect("the signer's stdin");
        let lines = ChildLines::read(child.stdout.take().expect("the signer's stdout"));
        let mut signer = RemoteSigner { child, stdin, lines, bunker_uri: String::new() };
        let line = signer.wait_line("bunker ");
        signer.bunker_uri = line.trim_start_matches("bunker ").to_owned();
        signer
    }

    /// Has the signer connect to the client of a `nostrconnect://` URI.
    pub fn connect_to(&mut self, nostrconnect_uri: &str) {
        writeln!(self.stdin, "{nostrconnect_uri}").expect("write to the signer");
        self.stdin.flush().expect("flush the signer's stdin");
        self.wait_line("connected ");
    }

    /// The first line printed that starts with `prefix`, waiting up to 30 s.
    pub fn wait_line(&self, prefix: &str) -> String {
        self.lines.wait("the NIP-46 signer", prefix, 1, Duration::from_secs(30)).remove(0)
    }

    /// Every line printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.starting("")
    }
}

impl Drop for RemoteSigner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
