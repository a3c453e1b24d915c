// SPDX-License-Identifier: GPL-2.0-or-later
//! Screen-pop URLs (`popup_url` on a queue or an agent), as app_queue's URL
//! option: a template such as
//! `https://crm.example/customer?number={caller}&call={call_id}&acct={data.account}`
//! rendered when an agent is offered the call, every value percent-encoded
//! (RFC 3986 unreserved characters stay), so a caller ID cannot change the
//! URL's shape. It rides in `CallOffered` / `CallAnswered` (AMI, ESL,
//! webhooks) and on the answering agent's leg (`HOTLINE_POPUP_URL` /
//! `hotline_popup_url`).
//!
//! Placeholders: `{caller}`, `{caller_name}`, `{call_id}`, `{queue}`,
//! `{agent}`, `{data.<key>}` (the call's data; empty when unset), and the
//! channel's identity `{uniqueid}`, `{channel}` (Asterisk), `{uuid}`
//! (FreeSWITCH). `{{` and `}}` are literal braces. Unknown placeholders are
//! a configuration error.

use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Caller,
    CallerName,
    CallId,
    Queue,
    Agent,
    Data(String),
    /// A key of the channel's identity (`uniqueid`, `channel`, `uuid`).
    Identity(&'static str),
}

/// A checked template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PopupUrl {
    parts: Vec<Part>,
}

/// What a rendering takes.
pub struct PopupFacts<'a> {
    pub caller: &'a str,
    pub caller_name: &'a str,
    pub call_id: u64,
    pub queue: &'a str,
    pub agent: &'a str,
    /// The caller's data as the engine keeps it: identity keys and
    /// `data_<key>` entries.
    pub data: &'a [(String, String)],
}

impl PopupUrl {
    /// Parse and check a template; the error says what is wrong.
    pub fn parse(t: &str) -> Result<PopupUrl, String> {
        let s = t.trim();
        if !(s.starts_with("https://") || s.starts_with("http://")) {
            return Err(format!("{t:?}: an http:// or https:// URL template"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("{t:?}: no spaces or control characters (write them percent-encoded)"));
        }
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err(format!("{t:?}: a {{ without its }}")),
                        }
                    }
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(match name.as_str() {
                        "caller" => Part::Caller,
                        "caller_name" => Part::CallerName,
                        "call_id" => Part::CallId,
                        "queue" => Part::Queue,
                        "agent" => Part::Agent,
                        "uniqueid" => Part::Identity("uniqueid"),
                        "channel" => Part::Identity("channel"),
                        "uuid" => Part::Identity("uuid"),
                        n => match n.strip_prefix("data.") {
                            Some(k) if !k.is_empty() && k.len() <= 32 && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => Part::Data(k.to_ascii_lowercase()),
                            _ => {
                                return Err(format!(
                                    "{t:?}: unknown placeholder {{{name}}} (caller, caller_name, call_id, queue, agent, data.<key>, uniqueid, channel, uuid)"
                                ))
                            }
                        },
                    });
                }
                '}' => return Err(format!("{t:?}: a }} without its {{ (write }}}} for a brace)")),
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(PopupUrl { parts })
    }

    pub fn render(&self, f: &PopupFacts<'_>) -> String {
        let mut out = String::new();
        let find = |key: &str| f.data.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str());
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Caller => encode(&mut out, f.caller),
                Part::CallerName => encode(&mut out, f.caller_name),
                Part::CallId => {
                    let _ = write!(out, "{}", f.call_id);
                }
                Part::Queue => encode(&mut out, f.queue),
                Part::Agent => encode(&mut out, f.agent),
                Part::Data(k) => encode(&mut out, find(&format!("{}{k}", crate::flow::data::PREFIX))),
                Part::Identity(k) => encode(&mut out, find(k)),
            }
        }
        out
    }
}

/// Percent-encode all but RFC 3986's unreserved characters.
fn encode(out: &mut String, v: &str) {
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(caller: &'a str, name: &'a str, data: &'a [(String, String)]) -> PopupFacts<'a> {
        PopupFacts { caller, caller_name: name, call_id: 42, queue: "support", agent: "alice", data }
    }

    #[test]
    fn placeholders_are_filled_and_encoded() {
        let t = PopupUrl::parse("https://crm.example/c?number={caller}&call={call_id}&acct={data.account}&who={caller_name}&q={queue}&a={agent}&u={uniqueid}&x={{y}}").unwrap();
        let data = vec![("uniqueid".to_string(), "1.2".to_string()), ("data_account".to_string(), "1&2=3".to_string())];
        assert_eq!(
            t.render(&facts("+84 90", "Nguyễn \"A\"", &data)),
            "https://crm.example/c?number=%2B84%2090&call=42&acct=1%262%3D3&who=Nguy%E1%BB%85n%20%22A%22&q=support&a=alice&u=1.2&x={y}"
        );
        // Unset data is empty; hostile input stays inside its value.
        let hostile = facts("1\r\nX: y", "", &[]);
        assert_eq!(PopupUrl::parse("https://x/?n={caller}&a={data.none}").unwrap().render(&hostile), "https://x/?n=1%0D%0AX%3A%20y&a=");
    }

    #[test]
    fn bad_templates_say_why() {
        assert!(PopupUrl::parse("ftp://x/{caller}").unwrap_err().contains("http"));
        assert!(PopupUrl::parse("https://x/{callr}").unwrap_err().contains("unknown placeholder {callr}"));
        assert!(PopupUrl::parse("https://x/{caller").unwrap_err().contains("without its }"));
        assert!(PopupUrl::parse("https://x/}").is_err());
        assert!(PopupUrl::parse("https://x/{data.}").is_err());
        assert!(PopupUrl::parse("https://x/a b").is_err());
    }
}
