// SPDX-License-Identifier: GPL-2.0-or-later
//! The CRM lookup step's I/O (`[[lookup]]`): the URL template filled with
//! percent-encoded values ([`fill`], pure, used by the engine) and one
//! HTTP GET with an overall deadline whose JSON answer gives the mapped
//! fields ([`fetch`], blocking: the call flow runs it on a thread of its
//! own, never on the PBX's).
//!
//! HTTP is `ureq` 2 with rustls and the ring provider (no aws-lc-rs, no
//! OpenSSL); https uses the webpki roots compiled in.

use std::io::Read;
use std::time::Duration;

use crate::core::Time;
use crate::flow::data::CallData;

use super::config::UrlPart;

/// Most bytes of an answer read (a CRM record, not a download).
pub const MAX_BODY: u64 = 256 * 1024;

/// The URL for this caller: placeholders replaced by their values, each
/// percent-encoded (everything but `A-Z a-z 0-9 - . _ ~`).
pub fn fill(parts: &[UrlPart], number: &str, data: &CallData) -> String {
    let mut url = String::new();
    for p in parts {
        match p {
            UrlPart::Literal(l) => url.push_str(l),
            UrlPart::Number => url.push_str(&encode(number)),
            UrlPart::Data(k) => {
                let v = data.entries().iter().find(|(key, _)| key == k).map_or("", |(_, v)| v.as_str());
                url.push_str(&encode(v));
            }
        }
    }
    url
}

/// Percent-encoding of every byte outside RFC 3986's unreserved set.
pub fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One GET of `url` within `timeout` ms overall (DNS, connect, request,
/// answer); a 2xx answer's JSON object gives (path, text) for each of
/// `paths` present with a string, number or boolean. Anything else
/// (timeout, refused, HTTP status, not JSON, not an object) is an error.
pub fn fetch(url: &str, timeout: Time, paths: &[String]) -> Result<Vec<(String, String)>, String> {
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_millis(timeout.max(1))).redirects(3).build();
    let response = match agent.get(url).set("Accept", "application/json").call() {
        Ok(r) => r,
        Err(ureq::Error::Status(code, _)) => return Err(format!("HTTP {code}")),
        Err(ureq::Error::Transport(t)) => return Err(transport(&t)),
    };
    if !(200..300).contains(&response.status()) {
        return Err(format!("HTTP {}", response.status()));
    }
    let mut body = Vec::new();
    response.into_reader().take(MAX_BODY + 1).read_to_end(&mut body).map_err(|e| {
        if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) {
            "timeout".to_string()
        } else {
            format!("reading the answer: {e}")
        }
    })?;
    if body.len() as u64 > MAX_BODY {
        return Err(format!("answer over {MAX_BODY} bytes"));
    }
    extract(&body, paths)
}

fn transport(t: &ureq::Transport) -> String {
    let timed_out = std::error::Error::source(t)
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .is_some_and(|e| matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock));
    if timed_out {
        "timeout".into()
    } else {
        format!("{t}")
    }
}

/// The fields at `paths` of a JSON object.
pub fn extract(body: &[u8], paths: &[String]) -> Result<Vec<(String, String)>, String> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| format!("bad JSON: {e}"))?;
    if !value.is_object() {
        return Err("the answer is not a JSON object".into());
    }
    let mut out = Vec::new();
    for path in paths {
        let mut at = &value;
        let mut found = true;
        for seg in path.split('.') {
            match at.get(seg) {
                Some(v) => at = v,
                None => {
                    found = false;
                    break;
                }
            }
        }
        if !found {
            continue;
        }
        let text = match at {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            _ => continue,
        };
        out.push((path.clone(), text));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_percent_encoded() {
        assert_eq!(encode("1&x=2 #"), "1%26x%3D2%20%23");
        assert_eq!(encode("+84 901/é"), "%2B84%20901%2F%C3%A9");
        assert_eq!(encode("a-Z_0.~"), "a-Z_0.~");
    }

    #[test]
    fn paths_are_extracted_as_text() {
        let body = br#"{"customer":{"tier":"gold","score":4.5,"vip":true,"tags":["a"],"none":null},"id":42}"#;
        let paths: Vec<String> = ["customer.tier", "customer.score", "customer.vip", "customer.tags", "customer.none", "id", "missing.x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let got = extract(body, &paths).unwrap();
        let want: Vec<(String, String)> =
            [("customer.tier", "gold"), ("customer.score", "4.5"), ("customer.vip", "true"), ("id", "42")].iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        assert_eq!(got, want);
        assert!(extract(b"[1,2]", &paths).is_err());
        assert!(extract(b"{not json", &paths).unwrap_err().starts_with("bad JSON"));
    }
}
