//! What a receipt needs from a BOLT11 payment request: its amount and its
//! payment hash (BOLT #11). Pure, and deliberately partial: nothing here
//! checks the invoice's signature or builds one.
//!
//! The amount is read from the human-readable part alone (`lnbc2500u…`);
//! the payment hash (the `p` field) only from a string whose bech32
//! checksum holds, so a mangled invoice never yields a wrong hash.

/// The bech32 alphabet: the value of each character is its position.
const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// Millisatoshis per bitcoin.
pub const MSAT_PER_BTC: u128 = 100_000_000_000;

/// The amount the invoice asks for, in millisatoshis; `None` for an invoice
/// without an amount or one that is not a BOLT11 at all.
pub fn amount_msat(bolt11: &str) -> Option<u64> {
    let lower = bolt11.trim().to_ascii_lowercase();
    let hrp = &lower[..lower.rfind('1')?];
    let rest = hrp.strip_prefix("ln")?;
    // The network prefix (bc, tb, bcrt, tbs) is letters; the amount follows.
    let amount = rest.trim_start_matches(|c: char| c.is_ascii_lowercase());
    if amount.is_empty() {
        return None;
    }
    let (digits, multiplier) = match amount.as_bytes()[amount.len() - 1] {
        b'm' | b'u' | b'n' | b'p' => amount.split_at(amount.len() - 1),
        _ => (amount, ""),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
        return None;
    }
    let value: u128 = digits.parse().ok()?;
    // msat per unit of each multiplier: BTC = 10^11 msat.
    let msat = match multiplier {
        "" => value * MSAT_PER_BTC,
        "m" => value * 100_000_000,
        "u" => value * 100_000,
        "n" => value * 100,
        // A pico-bitcoin is a tenth of a msat: it must be a whole number of them.
        _ if value.is_multiple_of(10) => value / 10,
        _ => return None,
    };
    u64::try_from(msat).ok()
}

/// The invoice's payment hash, 64 lowercase hex digits, when the invoice
/// is well formed (checksum included) and carries one.
pub fn payment_hash(bolt11: &str) -> Option<String> {
    let lower = bolt11.trim().to_ascii_lowercase();
    let split = lower.rfind('1')?;
    let (hrp, data) = (&lower[..split], &lower[split + 1..]);
    let values: Vec<u8> =
        data.bytes().map(|c| CHARSET.iter().position(|&x| x == c).map(|v| v as u8)).collect::<Option<_>>()?;
    // Timestamp (7) + signature (104) + checksum (6) at least.
    if !hrp.starts_with("ln") || values.len() < 7 + 104 + 6 || !checksum_holds(hrp, &values) {
        return None;
    }
    let fields = &values[7..values.len() - 6 - 104];
    let mut at = 0;
    while at + 3 <= fields.len() {
        let (tag, length) = (fields[at], usize::from(fields[at + 1]) * 32 + usize::from(fields[at + 2]));
        let value = fields.get(at + 3..at + 3 + length)?;
        // `p` is 1; a hash is 52 five-bit groups (256 bits and 4 of padding).
        if tag == 1 && length == 52 {
            return Some(hex::encode(&to_bytes(value)[..32]));
        }
        at += 3 + length;
    }
    None
}

/// Five-bit groups to bytes, dropping the incomplete last byte.
fn to_bytes(groups: &[u8]) -> Vec<u8> {
    let (mut bytes, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for &group in groups {
        acc = (acc << 5) | u32::from(group);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    bytes
}

/// BIP-173's checksum over the human-readable part and the data.
fn checksum_holds(hrp: &str, data: &[u8]) -> bool {
    const GENERATOR: [u32; 5] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3];
    let expanded = hrp.bytes().map(|b| b >> 5).chain([0]).chain(hrp.bytes().map(|b| b & 31));
    let mut check = 1u32;
    for value in expanded.chain(data.iter().copied()) {
        let top = check >> 25;
        check = ((check & 0x01ff_ffff) << 5) ^ u32::from(value);
        for (i, generator) in GENERATOR.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                check ^= generator;
            }
        }
    }
    check == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BOLT #11's own example: "1 cup coffee", 2500u, hash 0001…0102.
    const COFFEE: &str = "lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu9qrsgquk0rl77nj30yxdy8j9vdx85fkpmdla2087ne0xh8nhedh8w27kyke0lp53ut353s06fv3qfegext0eh0ymjpf39tuven09sam30g4vgpfna3rh";

    #[test]
    fn amounts_are_read_from_the_prefix_in_millisatoshis() {
        let cases: &[(&str, Option<u64>)] = &[
            (COFFEE, Some(250_000_000)),
            ("lnbc50u1pfake3abc", Some(5_000_000)),
            ("LNBC20M1PVJLUEZ", Some(2_000_000_000)),
            ("lntb1500n1xyz", Some(150_000)),
            ("lnbcrt10p1xyz", Some(1)),
            ("lnbc15p1xyz", None),
            ("lnbc1btc1xyz", None),
            ("lnbc1pvjluez", None),
            ("lnbc01u1xyz", None),
            ("lnsandbox500n1sandboxnotpayable", Some(50_000)),
            ("not an invoice", None),
        ];
        for (bolt11, want) in cases {
            assert_eq!(amount_msat(bolt11), *want, "{bolt11}");
        }
    }

    #[test]
    fn the_payment_hash_comes_only_from_an_intact_invoice() {
        let hash = "0001020304050607080900010203040506070809000102030405060708090102";
        assert_eq!(payment_hash(COFFEE).as_deref(), Some(hash));
        assert_eq!(payment_hash(&COFFEE.to_uppercase()).as_deref(), Some(hash));
        let mangled = COFFEE.replacen("qqqsyq", "qqqsyp", 1);
        assert_eq!(payment_hash(&mangled), None, "a broken checksum yields nothing");
        for other in ["lnbc50u1pfake3abc", "lnsandbox500n1sandboxnotpayable", "", "1"] {
            assert_eq!(payment_hash(other), None, "{other}");
        }
    }
}
