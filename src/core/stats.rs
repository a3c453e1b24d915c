//! Statistics, computed from the event stream: per queue and per agent,
//! calls entered/answered/abandoned, service level, ASA, AHT, abandon rate
//! with short abandons excluded, longest wait, occupancy.
//!
//! Definitions (stated, because vendors differ):
//! - short abandon: a caller who hangs up within `short_abandon_seconds`;
//!   left out of abandon rate and service level.
//! - service level = answered within the threshold (wait <= T) /
//!   (answered + callers who waited and left unanswered: max-wait and
//!   leave-when-empty exits + abandoned after the short-abandon threshold).
//!   With `service_level_excludes_abandons`, abandons are left out of the
//!   base (app_queue's `servicelevel` report).
//! - abandon rate = abandoned (not short) / (entered - short abandons).
//! - ASA = mean wait of answered calls; AHT = mean talk + wrap-up.
//! - occupancy = (ringing + talking + wrap-up) / (that + available time).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use super::agent::AgentState;
use super::call::CallId;
use super::config::General;
use super::event::{Event, EventKind};
use super::input::ExitReason;
use super::Time;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct QueueStats {
    pub entered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub short_abandoned: u64,
    pub exited: u64,
    /// Exits after waiting, unanswered: max wait, leave when empty.
    pub unanswered_exits: u64,
    pub moved_out: u64,
    pub moved_in: u64,
    pub answered_in_sl: u64,
    pub wait_answered_sum: Time,
    pub longest_wait: Time,
    pub completed: u64,
    pub talk_sum: Time,
    pub wrapup_sum: Time,
    pub offers: u64,
    pub failed_offers: u64,
    pub callbacks: u64,
    /// Callers sent back to the head of the line after a short talk.
    pub requeued: u64,
    /// Satisfaction survey answers, and the sum and count of those that
    /// were scores (1-5).
    pub surveys: u64,
    pub score_sum: u64,
    pub scored: u64,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct AgentStats {
    pub offered: u64,
    pub answered: u64,
    pub missed: u64,
    /// Short talks this agent ended that requeued the caller.
    pub requeued: u64,
    pub talk: Time,
    pub wrapup: Time,
    pub surveys: u64,
    pub score_sum: u64,
    pub scored: u64,
    state: Option<(AgentState, Time)>,
    /// Time spent per state kind: available, ringing, on-call, wrap-up,
    /// break, logged-out.
    time_in: [Time; 6],
}

fn slot(s: &AgentState) -> usize {
    match s {
        AgentState::Available => 0,
        AgentState::Ringing(_) => 1,
        AgentState::OnCall(_) => 2,
        AgentState::WrapUp { .. } => 3,
        AgentState::Break(_) => 4,
        AgentState::LoggedOut => 5,
    }
}

#[derive(Debug, Clone)]
pub struct Stats {
    service_level: Time,
    short_abandon: Time,
    sl_excludes_abandons: bool,
    queues: BTreeMap<Arc<str>, QueueStats>,
    agents: BTreeMap<Arc<str>, AgentStats>,
    waiting: HashMap<CallId, (Arc<str>, Time)>,
}

impl Stats {
    pub fn new(general: &General) -> Stats {
        Stats {
            service_level: general.service_level,
            short_abandon: general.short_abandon,
            sl_excludes_abandons: general.service_level_excludes_abandons,
            queues: BTreeMap::new(),
            agents: BTreeMap::new(),
            waiting: HashMap::new(),
        }
    }

    /// Thresholds follow a reload; counts stay.
    pub fn set_thresholds(&mut self, general: &General) {
        self.service_level = general.service_level;
        self.short_abandon = general.short_abandon;
        self.sl_excludes_abandons = general.service_level_excludes_abandons;
    }

    pub fn queue(&self, name: &str) -> Option<&QueueStats> {
        self.queues.get(name)
    }

    pub fn agent(&self, name: &str) -> Option<&AgentStats> {
        self.agents.get(name)
    }

    fn q(&mut self, name: &Arc<str>) -> &mut QueueStats {
        if !self.queues.contains_key(name) {
            self.queues.insert(name.clone(), QueueStats::default());
        }
        self.queues.get_mut(name).expect("inserted")
    }

    fn a(&mut self, name: &Arc<str>) -> &mut AgentStats {
        if !self.agents.contains_key(name) {
            self.agents.insert(name.clone(), AgentStats::default());
        }
        self.agents.get_mut(name).expect("inserted")
    }

    pub fn apply(&mut self, e: &Event) {
        let t = e.time;
        match &e.kind {
            EventKind::CallEntered { call, queue, .. } => {
                self.q(queue).entered += 1;
                self.waiting.insert(*call, (queue.clone(), t));
            }
            EventKind::CallOffered { queue, agent, .. } => {
                self.q(queue).offers += 1;
                self.a(agent).offered += 1;
            }
            EventKind::OfferFailed { queue, agent, outcome, .. } => {
                if outcome.is_miss() {
                    self.q(queue).failed_offers += 1;
                    self.a(agent).missed += 1;
                }
            }
            EventKind::CallAnswered { call, queue, agent, wait, .. } => {
                self.waiting.remove(call);
                let sl = self.service_level;
                let q = self.q(queue);
                q.answered += 1;
                q.wait_answered_sum += wait;
                q.longest_wait = q.longest_wait.max(*wait);
                if *wait <= sl {
                    q.answered_in_sl += 1;
                }
                self.a(agent).answered += 1;
            }
            EventKind::CallEnded { queue, agent, talk, wrapup, .. } => {
                let q = self.q(queue);
                q.completed += 1;
                q.talk_sum += talk;
                q.wrapup_sum += wrapup;
                let a = self.a(agent);
                a.talk += talk;
                a.wrapup += wrapup;
            }
            EventKind::CallRequeued { call, queue, agent, .. } => {
                // The talk was counted (answered, completed) like any; the
                // caller waits again and its next answer counts again.
                self.q(queue).requeued += 1;
                self.a(agent).requeued += 1;
                self.waiting.insert(*call, (queue.clone(), t));
            }
            EventKind::CallAbandoned { call, queue, wait, .. } => {
                self.waiting.remove(call);
                let short = *wait <= self.short_abandon;
                let q = self.q(queue);
                q.abandoned += 1;
                q.longest_wait = q.longest_wait.max(*wait);
                if short {
                    q.short_abandoned += 1;
                }
            }
            EventKind::CallExited { call, queue, wait, reason } => {
                self.waiting.remove(call);
                let q = self.q(queue);
                q.exited += 1;
                if matches!(reason, ExitReason::Timeout | ExitReason::LeaveEmpty) {
                    q.unanswered_exits += 1;
                }
                q.longest_wait = q.longest_wait.max(*wait);
            }
            EventKind::CallMoved { call, from, to, .. } => {
                self.q(from).moved_out += 1;
                self.q(to).moved_in += 1;
                if let Some(w) = self.waiting.get_mut(call) {
                    w.0 = to.clone();
                }
            }
            EventKind::CallbackRequested { queue, .. } => self.q(queue).callbacks += 1,
            EventKind::SurveyAnswered { queue, agent, score, .. } => {
                let queue: Arc<str> = queue.as_str().into();
                let agent: Arc<str> = agent.as_str().into();
                let add = |surveys: &mut u64, sum: &mut u64, scored: &mut u64| {
                    *surveys += 1;
                    if let Some(s) = score {
                        *sum += u64::from(*s);
                        *scored += 1;
                    }
                };
                let q = self.q(&queue);
                add(&mut q.surveys, &mut q.score_sum, &mut q.scored);
                let a = self.a(&agent);
                add(&mut a.surveys, &mut a.score_sum, &mut a.scored);
            }
            EventKind::AgentStateChanged { agent, to, .. } => {
                let a = self.a(agent);
                if let Some((s, since)) = &a.state {
                    a.time_in[slot(s)] += t.saturating_sub(*since);
                }
                a.state = Some((to.clone(), t));
            }
            // Membership and commands change no figure; a reset or gone
            // call is counted by the CallEnded that follows.
            EventKind::OfferWatchdog { .. }
            | EventKind::ConfigReloaded { .. }
            | EventKind::CallbackRefused { .. }
            | EventKind::IvrEntered { .. }
            | EventKind::IvrLeft { .. }
            | EventKind::MessageLeft { .. }
            | EventKind::MessageDiscarded { .. }
            | EventKind::MessageHeard { .. }
            | EventKind::MessageDeleted { .. }
            | EventKind::ScreenPop { .. }
            | EventKind::MemberAdded { .. }
            | EventKind::MemberRemoved { .. }
            | EventKind::MemberChanged { .. }
            | EventKind::AgentReset { .. }
            | EventKind::CallGone { .. }
            | EventKind::CallNote { .. }
            | EventKind::RecordingStarted { .. }
            | EventKind::RecordingStopped { .. }
            | EventKind::RecordingFailed { .. }
            | EventKind::RecordingPaused { .. }
            | EventKind::CallTransferred { .. }
            | EventKind::CommandRefused { .. } => {}
        }
    }

    /// Figures as of `now`.
    pub fn report(&self, now: Time) -> StatsReport {
        let mut queues = Vec::new();
        for (name, q) in &self.queues {
            let current_longest = self
                .waiting
                .values()
                .filter(|(qn, _)| qn == name)
                .map(|(_, since)| now.saturating_sub(*since))
                .max()
                .unwrap_or(0);
            let long_abandons = q.abandoned - q.short_abandoned;
            let sl_base = q.answered + q.unanswered_exits + if self.sl_excludes_abandons { 0 } else { long_abandons };
            let entered_net = (q.entered + q.moved_in).saturating_sub(q.short_abandoned);
            queues.push(QueueReport {
                name: name.to_string(),
                entered: q.entered,
                answered: q.answered,
                abandoned: q.abandoned,
                short_abandoned: q.short_abandoned,
                exited: q.exited,
                overflowed: q.moved_out,
                callbacks: q.callbacks,
                waiting: self.waiting.values().filter(|(qn, _)| qn == name).count(),
                service_level: ratio(q.answered_in_sl, sl_base),
                asa: ratio_ms(q.wait_answered_sum, q.answered),
                aht: ratio_ms(q.talk_sum + q.wrapup_sum, q.completed),
                abandon_rate: ratio(long_abandons, entered_net),
                longest_wait: q.longest_wait.max(current_longest),
                current_longest_wait: current_longest,
                failed_offers: q.failed_offers,
                requeued: q.requeued,
                surveys: q.surveys,
                satisfaction: mean(q.score_sum, q.scored),
            });
        }
        let mut agents = Vec::new();
        for (name, a) in &self.agents {
            let mut time_in = a.time_in;
            if let Some((s, since)) = &a.state {
                time_in[slot(s)] += now.saturating_sub(*since);
            }
            let busy = time_in[1] + time_in[2] + time_in[3];
            agents.push(AgentReport {
                name: name.to_string(),
                state: a.state.as_ref().map(|(s, _)| s.to_string()).unwrap_or_else(|| "-".into()),
                offered: a.offered,
                answered: a.answered,
                missed: a.missed,
                requeued: a.requeued,
                talk: a.talk,
                aht: ratio_ms(a.talk + a.wrapup, a.answered),
                occupancy: ratio(busy, busy + time_in[0]),
                surveys: a.surveys,
                satisfaction: mean(a.score_sum, a.scored),
            });
        }
        StatsReport { service_level_threshold: self.service_level, queues, agents }
    }
}

fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// The mean survey score, rounded to two decimals.
fn mean(sum: u64, n: u64) -> Option<f64> {
    (n > 0).then(|| (sum as f64 * 100.0 / n as f64).round() / 100.0)
}

fn ratio_ms(n: Time, d: u64) -> Option<Time> {
    (d > 0).then(|| n / d)
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QueueReport {
    pub name: String,
    pub entered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub short_abandoned: u64,
    pub exited: u64,
    pub overflowed: u64,
    pub callbacks: u64,
    pub waiting: usize,
    pub service_level: Option<f64>,
    pub asa: Option<Time>,
    pub aht: Option<Time>,
    pub abandon_rate: Option<f64>,
    pub longest_wait: Time,
    pub current_longest_wait: Time,
    pub failed_offers: u64,
    /// Short talks the agent ended that sent the caller back in line
    /// (`requeue_short_seconds`); each such call is also in `answered`
    /// once per answer.
    pub requeued: u64,
    /// Satisfaction survey answers, and the mean score of those 1-5.
    pub surveys: u64,
    pub satisfaction: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AgentReport {
    pub name: String,
    pub state: String,
    pub offered: u64,
    pub answered: u64,
    pub missed: u64,
    /// Short talks this agent ended that requeued the caller.
    pub requeued: u64,
    pub talk: Time,
    pub aht: Option<Time>,
    pub occupancy: Option<f64>,
    pub surveys: u64,
    pub satisfaction: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StatsReport {
    pub service_level_threshold: Time,
    pub queues: Vec<QueueReport>,
    pub agents: Vec<AgentReport>,
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "-".into())
}

fn dur(v: Option<Time>) -> String {
    v.map(|v| format!("{:.1}s", v as f64 / 1000.0)).unwrap_or_else(|| "-".into())
}

/// A mean score as shown ("4.50"), "-" when none.
fn score(s: Option<f64>) -> String {
    s.map_or_else(|| "-".into(), |v| format!("{v:.2}"))
}

impl fmt::Display for StatsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<16} {:>8} {:>8} {:>8} {:>6} {:>6} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>5}",
            "queue", "entered", "answered", "abandon", "short", "exited", "wait",
            format!("SL{}s", self.service_level_threshold / 1000), "ASA", "AHT", "aband%", "longest", "requeued", "surveys", "score"
        )?;
        for q in &self.queues {
            writeln!(
                f,
                "{:<16} {:>8} {:>8} {:>8} {:>6} {:>6} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>5}",
                q.name,
                q.entered,
                q.answered,
                q.abandoned,
                q.short_abandoned,
                q.exited,
                q.waiting,
                pct(q.service_level),
                dur(q.asa),
                dur(q.aht),
                pct(q.abandon_rate),
                dur(Some(q.longest_wait)),
                q.requeued,
                q.surveys,
                score(q.satisfaction),
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:<16} {:<20} {:>8} {:>8} {:>6} {:>8} {:>8} {:>8} {:>7} {:>5}",
            "agent", "state", "offered", "answered", "missed", "AHT", "occupancy", "requeued", "surveys", "score"
        )?;
        for a in &self.agents {
            writeln!(
                f,
                "{:<16} {:<20} {:>8} {:>8} {:>6} {:>8} {:>8} {:>8} {:>7} {:>5}",
                a.name,
                a.state,
                a.offered,
                a.answered,
                a.missed,
                dur(a.aht),
                pct(a.occupancy),
                a.requeued,
                a.surveys,
                score(a.satisfaction),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{CallId, Config};

    fn survey(call: u64, queue: &str, agent: &str, answer: &str) -> Event {
        let score = answer.parse::<u8>().ok().filter(|s| (1..=5).contains(s));
        Event { time: call * 1000, kind: EventKind::SurveyAnswered { call: CallId(call), queue: queue.into(), agent: agent.into(), answer: answer.into(), score } }
    }

    #[test]
    fn survey_answers_count_per_queue_and_agent_and_scores_average() {
        let mut s = Stats::new(&Config::default().general);
        for e in [survey(1, "sales", "a", "5"), survey(2, "sales", "a", "4"), survey(3, "sales", "b", "2"), survey(4, "support", "b", "callback-please")] {
            s.apply(&e);
        }
        let r = s.report(10_000);
        let q = |n: &str| r.queues.iter().find(|q| q.name == n).cloned().expect("queue");
        let a = |n: &str| r.agents.iter().find(|a| a.name == n).cloned().expect("agent");
        assert_eq!((q("sales").surveys, q("sales").satisfaction), (3, Some(3.67)));
        // An answer that is no score counts as an answer, not in the mean.
        assert_eq!((q("support").surveys, q("support").satisfaction), (1, None));
        assert_eq!((a("a").surveys, a("a").satisfaction), (2, Some(4.5)));
        assert_eq!((a("b").surveys, a("b").satisfaction), (2, Some(2.0)));
        let text = r.to_string();
        assert!(text.lines().any(|l| l.starts_with("sales") && l.trim_end().ends_with("3  3.67")), "{text}");
    }
}
