//! Signing in with a Nostr key: single-use challenges, the NIP-98 login
//! event that answers one, and the session that follows.
//!
//! Nobody's private key reaches the server, and the server keeps no
//! password: a session is a signed token naming a public key.

pub mod challenge;
pub mod login_event;
pub mod remote_signer;
pub mod session;

/// Hex of `N` random bytes from the operating system.
pub fn random_hex<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    // The OS random source failing is a broken machine, not a request error.
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes.iter().flat_map(|b| [DIGITS[usize::from(b >> 4)] as char, DIGITS[usize::from(b & 15)] as char]).collect()
}
