//! The store's durable sink: every bus event goes into the event log under
//! its bus id; agents' presence, hot-desk contacts and run-time queue
//! memberships are kept current; and a callback stays in the store from its
//! request until it is over, so a PBX restart puts it back in line.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::core::{AgentState, CallId, EventKind, ExitReason};
use crate::router::BusEvent;
use crate::store::{presence, unix_ms, CallbackRecord, Store};

/// What the sink remembers of a caller between its entry and its end.
struct Caller {
    priority: i32,
    entered_at: i64,
    data: Value,
    callback: bool,
}

pub struct StoreSink {
    store: Arc<Store>,
    callers: HashMap<CallId, Caller>,
}

impl StoreSink {
    pub fn new(store: Arc<Store>) -> StoreSink {
        StoreSink { store, callers: HashMap::new() }
    }

    /// Apply one event. Writes never wait: a refused write is counted by
    /// the store and shows in `hotline show store`.
    pub fn apply(&mut self, e: &BusEvent) {
        let now = unix_ms();
        let _ = self.store.log_bus_event(e.id, &e.event, now);
        match &e.event.kind {
            EventKind::AgentStateChanged { agent, to, contact, .. } => {
                if let Some((state, reason)) = presence(to) {
                    let _ = self.store.set_agent_state(agent, state, reason);
                }
                match (contact, to) {
                    (Some(c), _) => {
                        let _ = self.store.set_contact(agent, c);
                    }
                    // Logging out gives the agent its configured phone back.
                    (None, AgentState::LoggedOut) => {
                        let _ = self.store.clear_contact(agent);
                    }
                    _ => {}
                }
            }
            EventKind::MemberAdded { agent, queue, penalty, tier } | EventKind::MemberChanged { agent, queue, penalty, tier } => {
                let _ = self.store.add_member(agent, queue, *tier, *penalty);
            }
            EventKind::MemberRemoved { agent, queue, .. } => {
                let _ = self.store.remove_member(agent, queue);
            }
            EventKind::CallEntered { call, priority, data, .. } => {
                let data = Value::Object(data.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect());
                self.callers.insert(*call, Caller { priority: *priority, entered_at: now, data, callback: false });
            }
            EventKind::SurveyAnswered { call, queue, agent, answer, .. } => {
                let record = crate::store::CallRecord {
                    queue: Some(queue.clone()),
                    agent: Some(agent.clone()),
                    survey: Some(answer.clone()),
                    ..crate::store::CallRecord::new(call.0)
                };
                let _ = self.store.put_call(record);
            }
            EventKind::CallbackRequested { call, queue, number } => {
                let c = self.callers.entry(*call).or_insert_with(|| Caller { priority: 0, entered_at: now, data: Value::Null, callback: false });
                c.callback = true;
                let record = CallbackRecord {
                    id: call.0,
                    queue: queue.to_string(),
                    number: number.clone(),
                    priority: c.priority,
                    entered_at: c.entered_at,
                    requested_at: now,
                    data: c.data.clone(),
                };
                let _ = self.store.add_callback(record);
            }
            EventKind::CallExited { reason: ExitReason::CallbackScheduled, .. } => {}
            EventKind::CallEnded { call, .. } | EventKind::CallAbandoned { call, .. } | EventKind::CallExited { call, .. } => {
                // A restored callback was never entered in this run: it
                // is removed all the same.
                let callback = self.callers.remove(call).map_or(true, |c| c.callback);
                if callback {
                    let _ = self.store.remove_callback(call.0);
                }
            }
            _ => {}
        }
    }
}
