// SPDX-License-Identifier: GPL-2.0-or-later
//! `[[webhook]]`: where events go, which ones, and how they are signed.
//!
//! ```toml
//! [[webhook]]
//! name = "crm"
//! url = "https://crm.example/hotline/events"
//! events = ["offered", "answered", "transferred", "ended", "abandoned"]  # default: all
//! queues = ["support"]          # default: every queue
//! agents = []                   # default: every agent
//! secrets = ["whsec_new", "whsec_old"]   # one, or two during a rotation
//! timeout_ms = 5000
//! concurrency = 4               # requests in flight to this endpoint
//! ordered = true                # a call's events arrive in order
//! retry_min_ms = 1000           # back-off after a failure, doubling...
//! retry_max_ms = 300000         # ...up to this (with jitter)
//! dead_after_hours = 72         # failing this long: to the dead letters
//! ```
//!
//! URLs come only from here, never from call data.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::core::config::ConfigError;

/// An event type a webhook can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Offered,
    Answered,
    Transferred,
    Ended,
    WrapupDone,
    Abandoned,
    MessageLeft,
    SurveyAnswered,
    /// `HotlineScreenPop(name)` / `hotline_screenpop name` in the dialplan.
    ScreenPop,
}

impl Kind {
    pub const ALL: [Kind; 9] =
        [Kind::Offered, Kind::Answered, Kind::Transferred, Kind::Ended, Kind::WrapupDone, Kind::Abandoned, Kind::MessageLeft, Kind::SurveyAnswered, Kind::ScreenPop];

    /// As written in `events = [...]`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Offered => "offered",
            Kind::Answered => "answered",
            Kind::Transferred => "transferred",
            Kind::Ended => "ended",
            Kind::WrapupDone => "wrapup_done",
            Kind::Abandoned => "abandoned",
            Kind::MessageLeft => "message_left",
            Kind::SurveyAnswered => "survey_answered",
            Kind::ScreenPop => "screenpop",
        }
    }

    /// The payload's `type`.
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::Offered => "call.offered",
            Kind::Answered => "call.answered",
            Kind::Transferred => "call.transferred",
            Kind::Ended => "call.ended",
            Kind::WrapupDone => "agent.wrapup_done",
            Kind::Abandoned => "call.abandoned",
            Kind::MessageLeft => "message.left",
            Kind::SurveyAnswered => "survey.answered",
            Kind::ScreenPop => "call.screenpop",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WebhookConfig {
    pub name: String,
    pub url: String,
    pub events: Vec<Kind>,
    /// Empty: every queue.
    pub queues: Vec<String>,
    /// Empty: every agent.
    pub agents: Vec<String>,
    /// The first signs; all are sent (a receiver accepts any it knows).
    pub secrets: Vec<String>,
    pub timeout_ms: u64,
    pub concurrency: usize,
    pub ordered: bool,
    pub retry_min_ms: u64,
    pub retry_max_ms: u64,
    pub dead_after_ms: u64,
}

impl WebhookConfig {
    /// Does an event of `kind` about `queue` / `agent` go here? (A
    /// screen pop goes where it is named, whatever its queue.)
    pub fn wants(&self, kind: Kind, queue: Option<&str>, agent: Option<&str>) -> bool {
        if !self.events.contains(&kind) {
            return false;
        }
        if kind == Kind::ScreenPop {
            return true;
        }
        let queue_ok = self.queues.is_empty() || queue.is_some_and(|q| self.queues.iter().any(|w| w == q));
        let agent_ok = self.agents.is_empty() || agent.is_some_and(|a| self.agents.iter().any(|w| w == a));
        queue_ok && agent_ok
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWebhook {
    #[serde(default)]
    name: Option<Spanned<String>>,
    #[serde(default)]
    url: Option<Spanned<String>>,
    #[serde(default)]
    events: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    queues: Vec<Spanned<String>>,
    #[serde(default)]
    agents: Vec<Spanned<String>>,
    #[serde(default)]
    secret: Option<Spanned<String>>,
    #[serde(default)]
    secrets: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    timeout_ms: Option<Spanned<i64>>,
    #[serde(default)]
    concurrency: Option<Spanned<i64>>,
    #[serde(default = "d_true")]
    ordered: bool,
    #[serde(default)]
    retry_min_ms: Option<Spanned<i64>>,
    #[serde(default)]
    retry_max_ms: Option<Spanned<i64>>,
    #[serde(default)]
    dead_after_hours: Option<Spanned<f64>>,
}

fn d_true() -> bool {
    true
}

pub(crate) type ErrorAt<'a> = &'a dyn Fn(Range<usize>, &str, String) -> ConfigError;
pub(crate) type Check<'a> = &'a dyn Fn(&Spanned<String>, &str) -> Result<String, ConfigError>;

fn ranged(v: &Option<Spanned<i64>>, key: &str, lo: i64, hi: i64, default: i64, err: ErrorAt<'_>) -> Result<i64, ConfigError> {
    match v {
        None => Ok(default),
        Some(v) if (lo..=hi).contains(v.get_ref()) => Ok(*v.get_ref()),
        Some(v) => Err(err(v.span(), key, format!("{lo}-{hi}, got {}", v.get_ref()))),
    }
}

/// Check every `[[webhook]]`.
pub(crate) fn from_raw(raws: &[Spanned<RawWebhook>], err: ErrorAt<'_>, queue: Check<'_>, agent: Check<'_>) -> Result<Vec<WebhookConfig>, ConfigError> {
    let mut out: Vec<WebhookConfig> = Vec::new();
    for (i, r) in raws.iter().enumerate() {
        let table = r.span();
        let w = r.get_ref();
        let name = match &w.name {
            Some(n) if n.get_ref().chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') && !n.get_ref().is_empty() => n.get_ref().clone(),
            Some(n) => return Err(err(n.span(), &format!("webhook[{i}].name"), format!("{:?}: letters, digits, - and _", n.get_ref()))),
            None => return Err(err(table, &format!("webhook[{i}].name"), "required: a name for the endpoint".into())),
        };
        let key = |k: &str| format!("webhook.{name}.{k}");
        if out.iter().any(|o| o.name == name) {
            return Err(err(w.name.as_ref().map_or(table.clone(), |n| n.span()), &key("name"), format!("a second webhook named {name:?}")));
        }
        let url = match &w.url {
            Some(u) => {
                let s = u.get_ref().trim();
                let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
                match rest {
                    Some(r) if !r.is_empty() && !r.starts_with('/') && !s.chars().any(|c| c.is_whitespace() || c.is_control()) => s.to_string(),
                    _ => return Err(err(u.span(), &key("url"), format!("{:?} is not an http:// or https:// URL", u.get_ref()))),
                }
            }
            None => return Err(err(table, &key("url"), "required: where the events are POSTed".into())),
        };
        let events = match &w.events {
            None => Kind::ALL.to_vec(),
            Some(list) => {
                let mut ks = Vec::new();
                for e in list {
                    match Kind::parse(e.get_ref()) {
                        Some(k) if !ks.contains(&k) => ks.push(k),
                        Some(_) => {}
                        None => {
                            let known: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
                            return Err(err(e.span(), &key("events"), format!("{:?}: not an event (one of {})", e.get_ref(), known.join(", "))));
                        }
                    }
                }
                if ks.is_empty() {
                    return Err(err(table, &key("events"), "empty: leave it out for every event".into()));
                }
                ks
            }
        };
        let queues = w.queues.iter().map(|q| queue(q, &key("queues"))).collect::<Result<Vec<_>, _>>()?;
        let agents = w.agents.iter().map(|a| agent(a, &key("agents"))).collect::<Result<Vec<_>, _>>()?;
        let secrets = match (&w.secret, &w.secrets) {
            (Some(_), Some(s)) => return Err(err(s.span(), &key("secrets"), "secret and secrets: write one of them".into())),
            (Some(s), None) => (vec![s.get_ref().clone()], s.span()),
            (None, Some(s)) => (s.get_ref().clone(), s.span()),
            (None, None) => return Err(err(table, &key("secrets"), "required: a secret the receiver checks the signature with".into())),
        };
        let (secrets, span) = secrets;
        if secrets.is_empty() || secrets.len() > 2 {
            return Err(err(span, &key("secrets"), format!("one secret, or two during a rotation; got {}", secrets.len())));
        }
        if let Some(s) = secrets.iter().find(|s| s.len() < 16) {
            let _ = s;
            return Err(err(span, &key("secrets"), "a secret is at least 16 characters".into()));
        }
        let timeout_ms = ranged(&w.timeout_ms, &key("timeout_ms"), 50, 60_000, 5_000, err)? as u64;
        let concurrency = ranged(&w.concurrency, &key("concurrency"), 1, 64, 4, err)? as usize;
        let retry_min_ms = ranged(&w.retry_min_ms, &key("retry_min_ms"), 10, 3_600_000, 1_000, err)? as u64;
        let retry_max_ms = ranged(&w.retry_max_ms, &key("retry_max_ms"), 10, 86_400_000, 300_000, err)? as u64;
        if retry_max_ms < retry_min_ms {
            let span = w.retry_max_ms.as_ref().map_or(table.clone(), |s| s.span());
            return Err(err(span, &key("retry_max_ms"), format!("below retry_min_ms ({retry_min_ms})")));
        }
        let dead_after_ms = match &w.dead_after_hours {
            None => 72 * 3_600_000,
            Some(h) if h.get_ref().is_finite() && *h.get_ref() > 0.0 && *h.get_ref() <= 24.0 * 365.0 => (h.get_ref() * 3_600_000.0).round() as u64,
            Some(h) => return Err(err(h.span(), &key("dead_after_hours"), format!("more than 0, at most a year of hours; got {}", h.get_ref()))),
        };
        out.push(WebhookConfig { name, url, events, queues, agents, secrets, timeout_ms, concurrency, ordered: w.ordered, retry_min_ms, retry_max_ms, dead_after_ms });
    }
    Ok(out)
}
