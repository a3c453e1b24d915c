// SPDX-License-Identifier: GPL-2.0-or-later
//! The signature header, as Stripe's:
//! `Hotline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
//! one `v1=` per secret (two during a rotation). A receiver recomputes the
//! HMAC over the raw body with its secret, compares in constant time, and
//! rejects timestamps too far from its clock (replays).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header's name.
pub const HEADER: &str = "Hotline-Signature";

fn mac(secret: &str, t: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The header's value for `body` signed at `t` with each secret.
pub fn sign(secrets: &[String], t: i64, body: &[u8]) -> String {
    let mut v = format!("t={t}");
    for s in secrets {
        v.push_str(",v1=");
        v.push_str(&hex(&mac(s, t, body).finalize().into_bytes()));
    }
    v
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    Malformed,
    /// Older (or newer) than the tolerance.
    Stale { age: i64 },
    NoMatch,
}

/// Check a header as a receiver does: some `v1` is the HMAC of `body` with
/// `secret`, and `t` is within `tolerance_s` of `now_s`.
pub fn verify(header: &str, secret: &str, body: &[u8], now_s: i64, tolerance_s: i64) -> Result<(), Refused> {
    let mut t: Option<i64> = None;
    let mut sigs: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = Some(v.parse().map_err(|_| Refused::Malformed)?),
            Some(("v1", v)) => sigs.push(unhex(v).ok_or(Refused::Malformed)?),
            _ => {}
        }
    }
    let t = t.ok_or(Refused::Malformed)?;
    if sigs.is_empty() {
        return Err(Refused::Malformed);
    }
    if (now_s - t).abs() > tolerance_s {
        return Err(Refused::Stale { age: now_s - t });
    }
    let m = mac(secret, t, body);
    // verify_slice compares in constant time.
    if sigs.iter().any(|s| m.clone().verify_slice(s).is_ok()) {
        Ok(())
    } else {
        Err(Refused::NoMatch)
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_either_secret_and_nothing_else() {
        let secrets = vec!["whsec_new_0123456789".to_string(), "whsec_old_0123456789".to_string()];
        let body = br#"{"id":"1","type":"call.answered"}"#;
        let h = sign(&secrets, 1_700_000_000, body);
        assert!(h.starts_with("t=1700000000,v1="), "{h}");
        assert_eq!(h.matches("v1=").count(), 2);
        assert_eq!(verify(&h, &secrets[0], body, 1_700_000_010, 300), Ok(()));
        assert_eq!(verify(&h, &secrets[1], body, 1_700_000_010, 300), Ok(()));
        assert_eq!(verify(&h, "whsec_other_0123456", body, 1_700_000_010, 300), Err(Refused::NoMatch));
        assert_eq!(verify(&h, &secrets[0], b"{\"id\":\"2\"}", 1_700_000_010, 300), Err(Refused::NoMatch));
        assert_eq!(verify(&h, &secrets[0], body, 1_700_000_301, 300), Err(Refused::Stale { age: 301 }));
        assert_eq!(verify("v1=00", &secrets[0], body, 0, 300), Err(Refused::Malformed));
        assert_eq!(verify("t=1,v1=zz", &secrets[0], body, 1, 300), Err(Refused::Malformed));
    }

    #[test]
    fn the_hmac_is_rfc_4231s() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut m = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        m.update(b"what do ya want for nothing?");
        assert_eq!(hex(&m.finalize().into_bytes()), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
