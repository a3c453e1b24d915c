// SPDX-License-Identifier: GPL-2.0-or-later
//! What a webhook says: the payload, schema version 1.
//!
//! ```json
//! {
//!   "schema": 1,
//!   "id": "1764633600000123",          // the bus event id: the idempotency key
//!   "type": "call.answered",
//!   "time": "2026-12-02T01:00:00.123Z",
//!   "call": {
//!     "id": "42", "queue": "support",
//!     "caller": { "number": "0912345678", "name": "Nguyễn Văn A" },
//!     "data": { "account": "105", "card": "****1111" },   // sensitive values masked
//!     "pbx": { "channel": "PJSIP/trunk-00000012", "uniqueid": "1764633600.18" },
//!     "wait_ms": 8200, "agent": "alice",
//!     "talk_ms": 61000, "ended_by": "agent",           // call.ended / call.transferred
//!     "transfers": [{ "at": "2026-12-02T00:59:00.000Z", "from_call": "41", "from_queue": "sales",
//!                     "from_agent": "bob", "to": "2100@callers", "to_queue": "support",
//!                     "notes": ["wants a refund"] }],  // oldest first; [] if none
//!     "recordings": ["57"]                              // once recorded: ids in the store and the API
//!   }
//! }
//! ```
//!
//! `agent.wrapup_done` carries `agent` (and `call` when known),
//! `message.left` a `message` object, `survey.answered` a `survey`,
//! `call.screenpop` the dialplan's `fields`. Strings are JSON-escaped by
//! serde_json, whatever the caller id holds (quotes, newlines, NUL, 10 KB).
//!
//! [`Tracker`] follows each call from its entry to its end (what the later
//! events do not repeat: the caller, the data, the agent), so the payload
//! is whole; a call's facts are dropped when it ends.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::core::{AgentState, CallId, EventKind, EndedBy};
use crate::router::BusEvent;

use super::config::Kind;

pub const SCHEMA: u32 = 1;

#[derive(Debug, Clone, Default)]
struct Facts {
    queue: String,
    number: String,
    name: String,
    data: Vec<(String, String)>,
    agent: Option<String>,
    wait_ms: Option<u64>,
    /// The transfer history (a JSON array), from the caller's data or a
    /// `CallTransferred`.
    transfers: Option<Value>,
    /// The call's recordings so far (ids, as in the store and the API).
    recordings: Vec<String>,
}

/// The transfer history in a caller's data, as JSON (the flow wrote it;
/// anything else is no history).
fn transfers_of(data: &[(String, String)]) -> Option<Value> {
    let (_, text) = data.iter().find(|(k, _)| k == crate::flow::transfers::KEY)?;
    serde_json::from_str::<Value>(text).ok().filter(Value::is_array)
}

/// One event to deliver: what the filters look at, and the body.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub event_id: u64,
    pub kind: Kind,
    pub queue: Option<String>,
    pub agent: Option<String>,
    pub call: Option<u64>,
    /// Only this endpoint (a screen pop names its endpoint).
    pub to: Option<String>,
    pub body: String,
}

#[derive(Default)]
pub struct Tracker {
    calls: HashMap<CallId, Facts>,
    /// Agent -> the call it last talked on (for wrap-up done).
    last_call: HashMap<String, CallId>,
}

fn data_object(data: &[(String, String)]) -> Value {
    Value::Object(data.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<Map<_, _>>())
}

/// The caller's data as events carry it, split: the call's data bag
/// (`data_<key>`, as `key`) and the PBX's identity of the channel
/// (`channel`, `uniqueid` on Asterisk; `uuid` on FreeSWITCH).
fn split(data: &[(String, String)]) -> (Value, Value) {
    let prefix = crate::flow::data::PREFIX;
    let bag: Vec<(String, String)> = data.iter().filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k.to_string(), v.clone()))).collect();
    let pbx: Vec<(String, String)> =
        data.iter().filter(|(k, _)| !k.starts_with(prefix) && k != crate::flow::transfers::KEY).cloned().collect();
    (data_object(&bag), data_object(&pbx))
}

/// RFC 3339 in UTC, milliseconds.
pub fn rfc3339(unix_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(unix_ms).map_or_else(|_| unix_ms.to_string(), |t| format!("{t:.3}"))
}

impl Tracker {
    /// Calls being followed (tests, `hotline webhooks show`).
    pub fn calls(&self) -> usize {
        self.calls.len()
    }

    fn call_json(&self, call: CallId, extra: &[(&str, Value)]) -> Value {
        let f = self.calls.get(&call).cloned().unwrap_or_default();
        let mut o = Map::new();
        o.insert("id".into(), Value::String(call.0.to_string()));
        o.insert("queue".into(), Value::String(f.queue));
        o.insert("caller".into(), json!({ "number": f.number, "name": f.name }));
        let (bag, pbx) = split(&f.data);
        o.insert("data".into(), bag);
        o.insert("pbx".into(), pbx);
        if let Some(w) = f.wait_ms {
            o.insert("wait_ms".into(), json!(w));
        }
        o.insert("agent".into(), f.agent.map_or(Value::Null, Value::String));
        for (k, v) in extra {
            o.insert((*k).into(), v.clone());
        }
        o.insert("transfers".into(), f.transfers.unwrap_or_else(|| Value::Array(Vec::new())));
        if !f.recordings.is_empty() {
            o.insert("recordings".into(), Value::Array(f.recordings.into_iter().map(Value::String).collect()));
        }
        Value::Object(o)
    }

    fn envelope(id: u64, kind: Kind, now_ms: i64, body: Vec<(&str, Value)>) -> String {
        let mut o = Map::new();
        o.insert("schema".into(), json!(SCHEMA));
        o.insert("id".into(), Value::String(id.to_string()));
        o.insert("type".into(), Value::String(kind.type_name().into()));
        o.insert("time".into(), Value::String(rfc3339(now_ms)));
        for (k, v) in body {
            o.insert(k.into(), v);
        }
        Value::Object(o).to_string()
    }

    /// Follow one bus event; the webhook event it makes, if any.
    pub fn apply(&mut self, e: &BusEvent, now_ms: i64) -> Option<Outgoing> {
        let out = |kind: Kind, queue: Option<String>, agent: Option<String>, call: Option<u64>, body: Vec<(&str, Value)>| Outgoing {
            event_id: e.id,
            kind,
            queue,
            agent,
            call,
            to: None,
            body: Self::envelope(e.id, kind, now_ms, body),
        };
        match &e.event.kind {
            EventKind::CallEntered { call, queue, number, name, data, .. } => {
                let f = self.calls.entry(*call).or_default();
                f.queue = queue.to_string();
                f.number = number.clone();
                f.name = name.clone();
                f.data = data.clone();
                f.transfers = transfers_of(data);
                None
            }
            EventKind::RecordingStarted { id, call, .. } => {
                if let Some(f) = self.calls.get_mut(call) {
                    f.recordings.push(id.to_string());
                }
                None
            }
            EventKind::CallTransferred { call, transfers, .. } => {
                if let (Some(f), Ok(v)) = (self.calls.get_mut(call), serde_json::from_str::<Value>(transfers)) {
                    f.transfers = Some(v).filter(Value::is_array);
                }
                None
            }
            EventKind::CallMoved { call, to, .. } => {
                if let Some(f) = self.calls.get_mut(call) {
                    f.queue = to.to_string();
                }
                None
            }
            EventKind::CallOffered { call, queue, agent, data, popup_url } => {
                let f = self.calls.entry(*call).or_default();
                f.queue = queue.to_string();
                f.data = data.to_vec();
                let extra = [("offered_to", Value::String(agent.to_string())), ("popup_url", popup_url.as_deref().map_or(Value::Null, |u| Value::String(u.into())))];
                let body = vec![("call", self.call_json(*call, &extra))];
                Some(out(Kind::Offered, Some(queue.to_string()), Some(agent.to_string()), Some(call.0), body))
            }
            EventKind::CallAnswered { call, queue, agent, wait, data, popup_url, .. } => {
                let f = self.calls.entry(*call).or_default();
                f.queue = queue.to_string();
                f.agent = Some(agent.to_string());
                f.wait_ms = Some(*wait);
                f.data = data.to_vec();
                self.last_call.insert(agent.to_string(), *call);
                let body = vec![("call", self.call_json(*call, &[("popup_url", popup_url.as_deref().map_or(Value::Null, |u| Value::String(u.into())))]))];
                Some(out(Kind::Answered, Some(queue.to_string()), Some(agent.to_string()), Some(call.0), body))
            }
            EventKind::CallEnded { call, queue, agent, talk, by, .. } => {
                let kind = if *by == EndedBy::Transfer { Kind::Transferred } else { Kind::Ended };
                let extra = [("talk_ms", json!(talk)), ("ended_by", Value::String(by.name().into()))];
                let body = vec![("call", self.call_json(*call, &extra))];
                self.calls.remove(call);
                Some(out(kind, Some(queue.to_string()), Some(agent.to_string()), Some(call.0), body))
            }
            EventKind::CallAbandoned { call, queue, wait, position } => {
                let extra = [("wait_ms", json!(wait)), ("position", json!(position))];
                let body = vec![("call", self.call_json(*call, &extra))];
                self.calls.remove(call);
                Some(out(Kind::Abandoned, Some(queue.to_string()), None, Some(call.0), body))
            }
            EventKind::CallExited { call, reason, .. } if !matches!(reason, crate::core::ExitReason::CallbackScheduled) => {
                self.calls.remove(call);
                None
            }
            EventKind::AgentStateChanged { agent, from: AgentState::WrapUp { .. }, to, .. } if !matches!(to, AgentState::WrapUp { .. }) => {
                let call = self.last_call.remove(agent.as_ref());
                let mut body = vec![("agent", Value::String(agent.to_string())), ("state", Value::String(to.name().into()))];
                if let Some(c) = call {
                    body.push(("call_id", Value::String(c.0.to_string())));
                }
                Some(out(Kind::WrapupDone, None, Some(agent.to_string()), call.map(|c| c.0), body))
            }
            EventKind::MessageLeft { id, mailbox, step, number, name, callback, ms, data, .. } => {
                let m = json!({
                    "id": id.to_string(), "mailbox": mailbox, "step": step,
                    "caller": { "number": number, "name": name },
                    "callback_queue": callback, "length_ms": ms, "data": split(data).0,
                });
                Some(out(Kind::MessageLeft, callback.clone(), None, None, vec![("message", m)]))
            }
            EventKind::SurveyAnswered { call, queue, agent, answer, score } => {
                let s = json!({ "call_id": call.0.to_string(), "queue": queue, "agent": agent, "answer": answer, "score": score });
                Some(out(Kind::SurveyAnswered, Some(queue.clone()), Some(agent.clone()), Some(call.0), vec![("survey", s)]))
            }
            EventKind::ScreenPop { endpoint, call, number, name, data, fields, identity } => {
                let mut c = match call {
                    Some(id) if self.calls.contains_key(id) => self.call_json(*id, &[]),
                    _ => json!({ "id": call.map(|c| c.0.to_string()), "caller": { "number": number, "name": name }, "transfers": [] }),
                };
                // What the channel says now wins over what the queue saw.
                let mut all = data.clone();
                all.extend(identity.iter().cloned());
                let (bag, pbx) = split(&all);
                c["data"] = bag;
                c["pbx"] = pbx;
                if let Some(t) = transfers_of(&all) {
                    c["transfers"] = t;
                }
                let queue = call.and_then(|id| self.calls.get(&id).map(|f| f.queue.clone()));
                let mut o = out(Kind::ScreenPop, queue, None, call.map(|c| c.0), vec![("endpoint", Value::String(endpoint.clone())), ("call", c), ("fields", data_object(fields))]);
                o.to = Some(endpoint.clone());
                Some(o)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Event;
    use std::sync::Arc;

    fn bus(id: u64, kind: EventKind) -> BusEvent {
        BusEvent { id, event: Event { time: 0, kind } }
    }

    fn body(o: &Outgoing) -> Value {
        serde_json::from_str(&o.body).expect("json")
    }

    #[test]
    fn the_transfer_history_rides_in_every_later_payload_of_the_call() {
        let mut t = Tracker::default();
        let earlier = r#"[{"at":"2026-12-02T10:00:00.000Z","from_call":"41","from_queue":"support","from_agent":"a1","to":"2100@in","to_queue":"sales","notes":["wants a refund"]}]"#;
        let data = vec![("uuid".to_string(), "u-9".to_string()), ("transfers".to_string(), earlier.to_string()), ("data_account".to_string(), "9".to_string())];
        let (call, queue, agent): (CallId, Arc<str>, Arc<str>) = (CallId(42), "sales".into(), "bob".into());
        t.apply(&bus(1, EventKind::CallEntered { call, queue: queue.clone(), number: "0912".into(), name: String::new(), priority: 0, position: 1, data: data.clone() }), 0);
        let offered = t.apply(&bus(2, EventKind::CallOffered { call, queue: queue.clone(), agent: agent.clone(), data: data.clone().into(), popup_url: None }), 0).expect("offered");
        let b = body(&offered);
        assert_eq!(b["call"]["transfers"][0]["notes"][0], "wants a refund", "{b}");
        assert_eq!(b["call"]["transfers"][0]["from_agent"], "a1", "{b}");
        assert_eq!(b["call"]["pbx"], json!({ "uuid": "u-9" }), "the history is not a PBX field: {b}");
        assert_eq!(b["call"]["data"], json!({ "account": "9" }), "{b}");
        // Bob transfers the caller on: the transferred event has both hops.
        let both = format!("{},{}]", &earlier[..earlier.len() - 1], r#"{"at":"2026-12-02T10:05:00.000Z","from_call":"42","from_queue":"sales","from_agent":"bob","to":"idle@null","notes":[]}"#);
        t.apply(&bus(3, EventKind::CallTransferred { call, queue: "sales".into(), agent: "bob".into(), to: "idle@null".into(), transfers: both }), 0);
        let ended = t.apply(&bus(4, EventKind::CallEnded { call, queue, agent, talk: 5, wrapup: 0, by: EndedBy::Transfer }), 0).expect("ended");
        let b = body(&ended);
        assert_eq!((b["type"].as_str(), b["call"]["transfers"].as_array().map(Vec::len)), (Some("call.transferred"), Some(2)), "{b}");
        assert_eq!(b["call"]["transfers"][1]["to"], "idle@null", "{b}");
        assert_eq!(b["call"].get("recordings"), None, "not recorded");
    }

    #[test]
    fn a_recorded_calls_later_payloads_name_its_recording() {
        let mut t = Tracker::default();
        let (call, queue, agent): (CallId, Arc<str>, Arc<str>) = (CallId(5), "q".into(), "a".into());
        t.apply(&bus(1, EventKind::CallEntered { call, queue: queue.clone(), number: "1".into(), name: String::new(), priority: 0, position: 1, data: vec![] }), 0);
        t.apply(
            &bus(2, EventKind::RecordingStarted {
                id: 57,
                call,
                queue: "q".into(),
                agent: "a".into(),
                number: "1".into(),
                name: String::new(),
                file: "/r/5-a.wav".into(),
                format: "wav".into(),
                stereo: false,
                data: vec![],
                identity: vec![],
            }),
            0,
        );
        let o = t.apply(&bus(3, EventKind::CallEnded { call, queue, agent, talk: 5, wrapup: 0, by: EndedBy::Agent }), 0).expect("ended");
        assert_eq!(body(&o)["call"]["recordings"], json!(["57"]));
    }

    #[test]
    fn a_call_never_transferred_has_an_empty_history() {
        let mut t = Tracker::default();
        let call = CallId(1);
        t.apply(&bus(1, EventKind::CallEntered { call, queue: "q".into(), number: "1".into(), name: String::new(), priority: 0, position: 1, data: vec![("transfers".into(), "{not json".into())] }), 0);
        let o = t.apply(&bus(2, EventKind::CallOffered { call, queue: "q".into(), agent: "a".into(), data: Vec::new().into(), popup_url: None }), 0).expect("offered");
        assert_eq!(body(&o)["call"]["transfers"], json!([]));
    }
}
