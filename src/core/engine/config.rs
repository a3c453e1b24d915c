//! Configuration: applying a (re)loaded configuration to live state, and
//! matching everyone again afterwards.

use std::sync::Arc;

use super::{Engine, HandleTime};
use crate::core::agent::{Agent, AgentState, Member};
use crate::core::call::CallId;
use crate::core::config::{device_of, Config, InitialState};
use crate::core::event::EventKind;
use crate::core::input::ExitReason;
use crate::core::queue::{Queue, WaitKey};
use crate::core::Time;

impl Engine {
    pub(super) fn apply_config(&mut self, cfg: Arc<Config>, now: Time) {
        for q in &mut self.queues {
            q.retired = true;
            q.members.clear();
            q.ready.clear();
            q.skill_ready.clear();
        }
        for qc in &cfg.queues {
            let ix = match self.queue_by_name.get(qc.name.as_str()) {
                Some(&ix) => ix,
                None => {
                    let name: Arc<str> = Arc::from(qc.name.as_str());
                    self.queues.push(Queue {
                        name: name.clone(),
                        music_class: Arc::from(qc.music_class.as_str()),
                        cfg: qc.clone(),
                        ready: Default::default(),
                        waiting: Default::default(),
                        lines: Vec::new(),
                        skill_ready: Default::default(),
                        rr_cursor: None,
                        members: Vec::new(),
                        logged_in: 0,
                        retired: false,
                    });
                    self.handle_time.push(HandleTime::default());
                    self.queue_by_name.insert(name, (self.queues.len() - 1) as u32);
                    (self.queues.len() - 1) as u32
                }
            };
            let q = &mut self.queues[ix as usize];
            q.cfg = qc.clone();
            q.music_class = Arc::from(qc.music_class.as_str());
            q.retired = false;
        }
        for a in &mut self.agents {
            a.retired = true;
        }
        // Members added at run time are not in the file: they stay where
        // their agent and queue still exist and the file does not list the
        // membership itself, after the file's members, in their old order.
        let mut added: Vec<(u32, Member)> = Vec::new();
        for ac in &cfg.agents {
            let ix = match self.agent_by_name.get(ac.name.as_str()) {
                Some(&ix) => ix,
                None => {
                    let name: Arc<str> = Arc::from(ac.name.as_str());
                    let state = match ac.initial {
                        InitialState::Available => AgentState::Available,
                        InitialState::LoggedOut => AgentState::LoggedOut,
                    };
                    self.agents.push(Agent {
                        name: name.clone(),
                        contact: Arc::from(ac.contact.as_str()),
                        hot_desk: None,
                        device: ac.device.clone(),
                        cfg: Arc::new(ac.clone()),
                        members: Vec::new(),
                        state,
                        since: now,
                        idle_since: now,
                        calls: 0,
                        talk_ms: 0,
                        misses: 0,
                        device_busy: false,
                        held_until: None,
                        retired: false,
                        after_call: None,
                        filed: Vec::new(),
                    });
                    self.agent_by_name.insert(name, (self.agents.len() - 1) as u32);
                    (self.agents.len() - 1) as u32
                }
            };
            let a = &mut self.agents[ix as usize];
            a.cfg = Arc::new(ac.clone());
            // A hot-desk contact holds until logout, reload or not.
            a.contact = a.hot_desk.clone().unwrap_or_else(|| Arc::from(ac.contact.as_str()));
            a.device = a.hot_desk.as_deref().map(device_of).unwrap_or_else(|| ac.device.clone());
            a.retired = false;
            added.extend(a.members.iter().filter(|m| m.added).map(|m| (ix, *m)));
            a.members.clear();
            for m in &ac.members {
                if let Some(&q) = self.queue_by_name.get(m.queue.as_str()) {
                    let queue = &mut self.queues[q as usize];
                    let position = queue.members.len() as u32;
                    a.members.push(Member { queue: q, tier: m.tier, penalty: m.penalty, position, added: false, leaving: false });
                    queue.members.push(ix);
                }
            }
        }
        added.sort_by_key(|(_, m)| (m.queue, m.position));
        for (ix, m) in added {
            let (queue, a) = (&mut self.queues[m.queue as usize], &mut self.agents[ix as usize]);
            if !queue.retired && a.member(m.queue).is_none() {
                a.members.push(Member { position: queue.members.len() as u32, ..m });
                queue.members.push(ix);
            }
        }
        // Agents removed from the configuration leave now if idle, else
        // after their call.
        for ix in 0..self.agents.len() {
            let a = &mut self.agents[ix];
            if a.retired {
                a.members.clear();
                match a.state {
                    AgentState::Ringing(_) | AgentState::OnCall(_) => a.after_call = Some(AgentState::LoggedOut),
                    AgentState::LoggedOut => {}
                    _ => {
                        self.set_state(ix as u32, AgentState::LoggedOut, now);
                    }
                }
            }
            self.agents[ix].filed.clear();
        }
        self.agents_by_device.clear();
        for (ix, a) in self.agents.iter().enumerate() {
            if !a.retired {
                self.agents_by_device.entry(a.device.clone()).or_default().push(ix as u32);
            }
        }
        let owners = cfg.owners.iter().filter_map(|(num, agent)| self.agent_by_name.get(agent.as_str()).map(|&a| (num.clone(), a)));
        self.prefs.set_owners(owners.collect());
        for q in 0..self.queues.len() {
            let logged_in = self.queues[q].members.iter().filter(|&&a| self.agents[a as usize].state.is_logged_in()).count();
            self.queues[q].logged_in = logged_in;
            self.queues[q].rr_cursor = None;
        }
        for a in 0..self.agents.len() as u32 {
            self.file(a);
        }
        self.event(
            now,
            EventKind::ConfigReloaded {
                queues: self.queues.iter().filter(|q| !q.retired).count(),
                agents: self.agents.iter().filter(|a| !a.retired).count(),
            },
        );
        self.cfg = cfg;
    }

    pub(super) fn rematch_all(&mut self, now: Time) {
        let mut waiting: Vec<(WaitKey, CallId)> =
            self.queues.iter().flat_map(|q| q.waiting.iter().map(|(k, c)| (*k, *c))).collect();
        waiting.sort();
        for (_, c) in waiting {
            self.try_match_call(c, now);
        }
        for q in 0..self.queues.len() {
            if self.queues[q].retired {
                // Removed from the configuration: nobody will serve its line.
                let ids: Vec<CallId> = self.queues[q].waiting.values().copied().collect();
                for id in ids {
                    self.exit_call(id, ExitReason::LeaveEmpty, now);
                }
            } else {
                self.check_empty(q as u32, now);
            }
        }
    }
}
