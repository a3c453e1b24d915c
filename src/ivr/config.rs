// SPDX-License-Identifier: GPL-2.0-or-later
//! `[ivr]`, `[[menu]]`, `[[collect]]`, `[[route]]` and `[[calendar]]` in
//! hotline.toml: the raw tables serde reads and their validation into an
//! [`IvrConfig`] (the format is described in [`crate::ivr`]).
//!
//! Every problem is a [`ConfigError`] naming the file, the line and the key:
//! unknown node, queue or calendar referenced, unknown action, duplicate
//! names or keys, bad regular expression or validation, bad time zone or
//! hours, bad prompt, and a graph in which some node cannot reach any exit.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::hours::Calendar;
use super::say::Lang;
use super::sounds::SoundRef;
use super::validate::Validation;
use super::{DateValue, MoneyValue, Prompt};
use crate::core::config::{find_key_line_from, line_of, ConfigError, NumberPattern};
use crate::core::{secs, Time};
use crate::flow::data::CallData;

/// Steps one caller may take through the IVR before the default exit.
pub const DEFAULT_MAX_STEPS: u32 = 200;
/// DTMF keys.
pub const DTMF: &str = "0123456789*#";

// ---------------------------------------------------------------------------
// Raw form, as written.

/// `[ivr]`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIvr {
    #[serde(default)]
    operator_queue: Option<Spanned<String>>,
    #[serde(default)]
    max_steps: Option<Spanned<u32>>,
}

/// An action table (`on_max_failures = { action = "queue", target = "x" }`).
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAction {
    action: Spanned<String>,
    #[serde(default)]
    target: Option<Spanned<String>>,
    #[serde(default)]
    priority: Option<Spanned<i32>>,
    #[serde(default)]
    skills: Option<Spanned<String>>,
    #[serde(default)]
    prompts: Vec<Spanned<String>>,
    #[serde(default)]
    set: BTreeMap<String, Spanned<String>>,
}

/// `[[menu.entry]]`: a key and its action (the fields of [`RawAction`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEntry {
    digits: Spanned<String>,
    action: Spanned<String>,
    /// Spoken phrases that stand for this entry's key.
    #[serde(default)]
    words: Vec<Spanned<String>>,
    #[serde(default)]
    target: Option<Spanned<String>>,
    #[serde(default)]
    priority: Option<Spanned<i32>>,
    #[serde(default)]
    skills: Option<Spanned<String>>,
    #[serde(default)]
    prompts: Vec<Spanned<String>>,
    #[serde(default)]
    set: BTreeMap<String, Spanned<String>>,
}

impl RawEntry {
    fn action(&self) -> RawAction {
        RawAction {
            action: self.action.clone(),
            target: self.target.clone(),
            priority: self.priority.clone(),
            skills: self.skills.clone(),
            prompts: self.prompts.clone(),
            set: self.set.clone(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMenu {
    name: Spanned<String>,
    #[serde(default)]
    greet_long: Vec<Spanned<String>>,
    #[serde(default)]
    greet_short: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    invalid_sound: Vec<Spanned<String>>,
    #[serde(default)]
    timeout_sound: Vec<Spanned<String>>,
    #[serde(default)]
    exit_sound: Vec<Spanned<String>>,
    #[serde(default)]
    timeout_seconds: Option<Spanned<f64>>,
    #[serde(default)]
    inter_digit_timeout_seconds: Option<Spanned<f64>>,
    #[serde(default)]
    digit_len: Option<Spanned<usize>>,
    #[serde(default)]
    max_failures: Option<Spanned<u32>>,
    #[serde(default)]
    max_timeouts: Option<Spanned<u32>>,
    #[serde(default)]
    on_max_failures: Option<Spanned<RawAction>>,
    #[serde(default)]
    on_max_timeouts: Option<Spanned<RawAction>>,
    #[serde(default)]
    hours: Option<Spanned<String>>,
    #[serde(default)]
    closed: Option<Spanned<RawAction>>,
    #[serde(default)]
    closed_sound: Vec<Spanned<String>>,
    #[serde(default)]
    language: Option<Spanned<String>>,
    #[serde(default)]
    barge_in: Option<bool>,
    #[serde(default)]
    speech_engine: Option<Spanned<String>>,
    #[serde(default)]
    speech_confidence: Option<Spanned<u32>>,
    #[serde(default)]
    entry: Vec<Spanned<RawEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCollect {
    name: Spanned<String>,
    #[serde(default)]
    prompts: Vec<Spanned<String>>,
    into: Spanned<String>,
    #[serde(default)]
    min_digits: Option<Spanned<usize>>,
    #[serde(default)]
    max_digits: Option<Spanned<usize>>,
    #[serde(default)]
    terminators: Option<Spanned<String>>,
    #[serde(default)]
    timeout_seconds: Option<Spanned<f64>>,
    #[serde(default)]
    inter_digit_timeout_seconds: Option<Spanned<f64>>,
    #[serde(default)]
    validate: Option<Spanned<String>>,
    #[serde(default)]
    invalid_sound: Vec<Spanned<String>>,
    #[serde(default)]
    timeout_sound: Vec<Spanned<String>>,
    #[serde(default)]
    read_back: bool,
    /// Before the digits read back ("you entered").
    #[serde(default)]
    read_back_sound: Vec<Spanned<String>>,
    /// After them ("press 1 to confirm").
    #[serde(default)]
    confirm_sound: Vec<Spanned<String>>,
    #[serde(default)]
    confirm_key: Option<Spanned<String>>,
    #[serde(default)]
    max_attempts: Option<Spanned<u32>>,
    #[serde(default)]
    sensitive: bool,
    next: Spanned<RawAction>,
    #[serde(default)]
    on_failure: Option<Spanned<RawAction>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoute {
    name: Spanned<String>,
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
    default: Spanned<RawAction>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    #[serde(default)]
    data: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    data_prefix: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    caller_prefix: Vec<Spanned<String>>,
    #[serde(default)]
    caller_in: Vec<Spanned<String>>,
    #[serde(default)]
    language: Option<Spanned<String>>,
    #[serde(default)]
    open: Option<Spanned<String>>,
    #[serde(default)]
    closed: Option<Spanned<String>>,
    #[serde(default)]
    queue: Option<Spanned<String>>,
    #[serde(default)]
    waiting_at_least: Option<Spanned<usize>>,
    #[serde(default)]
    idle_at_least: Option<Spanned<usize>>,
    then: Spanned<RawAction>,
}

/// `[[lookup]]`: a CRM lookup step.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLookup {
    name: Spanned<String>,
    url: Spanned<String>,
    #[serde(default)]
    timeout_ms: Option<Spanned<u64>>,
    /// JSON path -> data key.
    #[serde(default)]
    map: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    prompts: Vec<Spanned<String>>,
    next: Spanned<RawAction>,
    #[serde(default)]
    fallback: Option<Spanned<RawAction>>,
}

/// `[[message]]`: leave a message (voicemail).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMessage {
    name: Spanned<String>,
    #[serde(default)]
    mailbox: Option<Spanned<String>>,
    #[serde(default)]
    prompts: Vec<Spanned<String>>,
    #[serde(default)]
    max_seconds: Option<Spanned<u32>>,
    #[serde(default)]
    silence_seconds: Option<Spanned<u32>>,
    #[serde(default)]
    min_seconds: Option<Spanned<u32>>,
    #[serde(default)]
    beep: Option<bool>,
    #[serde(default)]
    callback: Option<Spanned<String>>,
    #[serde(default)]
    email: Vec<Spanned<String>>,
    #[serde(default)]
    done_sound: Vec<Spanned<String>>,
    #[serde(default)]
    next: Option<Spanned<RawAction>>,
    #[serde(default)]
    on_empty: Option<Spanned<RawAction>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCalendar {
    name: Spanned<String>,
    timezone: Spanned<String>,
    #[serde(default)]
    hours: Vec<Spanned<String>>,
    #[serde(default)]
    closed: Vec<Spanned<String>>,
    #[serde(default)]
    open: Vec<Spanned<String>>,
}

/// The IVR's raw tables, as `RawConfig` read them.
pub(crate) struct RawParts<'a> {
    pub ivr: &'a RawIvr,
    pub menus: &'a [Spanned<RawMenu>],
    pub collects: &'a [Spanned<RawCollect>],
    pub routes: &'a [Spanned<RawRoute>],
    pub lookups: &'a [Spanned<RawLookup>],
    pub messages: &'a [Spanned<RawMessage>],
    pub calendars: &'a [Spanned<RawCalendar>],
}

// ---------------------------------------------------------------------------
// Typed, validated form.

/// Every IVR node and calendar, validated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IvrConfig {
    pub menus: Vec<MenuConfig>,
    pub collects: Vec<CollectConfig>,
    pub routes: Vec<RouteConfig>,
    pub lookups: Vec<LookupConfig>,
    pub messages: Vec<MessageConfig>,
    pub calendars: Vec<Calendar>,
    /// `[ivr] operator_queue`: the default exit.
    pub operator_queue: Option<String>,
    /// Steps one caller may take (0 in a default config: [`DEFAULT_MAX_STEPS`]).
    pub max_steps: u32,
    /// The sound files the prompts name, where written (checked at load,
    /// [`super::sounds::check`]).
    pub sounds: Vec<SoundRef>,
    /// Where say prompts and read-backs are written (line, key): in
    /// Vietnamese or Chinese they need espeak-ng.
    pub says: Vec<(usize, String)>,
}

/// What a key (or an event such as closed hours) does.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub kind: ActionKind,
    /// Data set before the action (`set = { tier = "gold" }`).
    pub set: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ActionKind {
    /// Enter this menu.
    Menu(String),
    /// The previous menu.
    Back,
    /// The first menu of the call.
    Top,
    /// The current menu again (`greet_short`).
    Repeat,
    Queue { queue: String, priority: i32, skills: Vec<(String, u8)> },
    /// Dialplan target, `{digits}` replaced by the keys pressed.
    Transfer(String),
    /// Play these, then the current menu again (no failure counted).
    Play(Vec<Prompt>),
    Route(String),
    Collect(String),
    /// Enter this CRM lookup step.
    Lookup(String),
    /// Enter this leave-a-message step.
    Message(String),
    /// Queue a callback task for the caller's number in `queue`, play
    /// `prompts` (the confirmation), hang up.
    Callback { queue: String, prompts: Vec<Prompt> },
    /// Set the caller's language, then the current menu again from its long greeting.
    Language(String),
    Hangup,
    Return,
}

impl Default for Action {
    fn default() -> Self {
        Action { kind: ActionKind::Hangup, set: Vec::new() }
    }
}

impl ActionKind {
    /// Leaves the IVR.
    pub fn is_exit(&self) -> bool {
        matches!(self, ActionKind::Queue { .. } | ActionKind::Transfer(_) | ActionKind::Hangup | ActionKind::Return | ActionKind::Callback { .. })
    }

    /// The node it enters, if any.
    pub fn node(&self) -> Option<&str> {
        match self {
            ActionKind::Menu(n) | ActionKind::Route(n) | ActionKind::Collect(n) | ActionKind::Lookup(n) | ActionKind::Message(n) => Some(n),
            _ => None,
        }
    }
}

/// The keys of a menu entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Keys {
    /// Exactly these digits.
    Literal(String),
    /// A regular expression over the whole input (`/^[0-9]{4}$/`).
    Pattern(NumberPattern),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub keys: Keys,
    pub action: Action,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MenuConfig {
    pub name: String,
    pub greet_long: Vec<Prompt>,
    pub greet_short: Vec<Prompt>,
    pub invalid_sound: Vec<Prompt>,
    pub timeout_sound: Vec<Prompt>,
    pub exit_sound: Vec<Prompt>,
    pub timeout: Time,
    pub inter_digit: Time,
    pub digit_len: usize,
    pub max_failures: u32,
    pub max_timeouts: u32,
    pub on_max_failures: Action,
    pub on_max_timeouts: Action,
    /// Calendar evaluated on entering the menu.
    pub hours: Option<String>,
    pub closed: Option<Action>,
    pub closed_sound: Vec<Prompt>,
    pub language: Option<String>,
    pub barge_in: bool,
    pub entries: Vec<Entry>,
    /// Literal keys that end the input at once (see [`super::Collect::complete`]).
    pub complete: Vec<String>,
    /// The entries' spoken words (None: DTMF only).
    pub speech: Option<std::sync::Arc<super::Speech>>,
}

impl MenuConfig {
    /// The entry for these digits: a literal key first, then the patterns in order.
    pub fn find(&self, digits: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| matches!(&e.keys, Keys::Literal(k) if k == digits))
            .or_else(|| self.entries.iter().find(|e| matches!(&e.keys, Keys::Pattern(p) if p.matches(digits))))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CollectConfig {
    pub name: String,
    pub prompts: Vec<Prompt>,
    /// Data key (lower case).
    pub into: String,
    pub min_digits: usize,
    pub max_digits: usize,
    pub terminators: String,
    pub timeout: Time,
    pub inter_digit: Time,
    pub validate: Option<Validation>,
    pub invalid_sound: Vec<Prompt>,
    pub timeout_sound: Vec<Prompt>,
    pub read_back: bool,
    pub read_back_sound: Vec<Prompt>,
    pub confirm_sound: Vec<Prompt>,
    pub confirm_key: String,
    pub max_attempts: u32,
    pub sensitive: bool,
    pub next: Action,
    pub on_failure: Action,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Data(String, String),
    DataPrefix(String, String),
    CallerPrefix(Vec<String>),
    CallerIn(Vec<String>),
    Language(String),
    Open(String),
    Closed(String),
    WaitingAtLeast(String, usize),
    IdleAtLeast(String, usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// All must hold.
    pub conditions: Vec<Condition>,
    pub then: Action,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RouteConfig {
    pub name: String,
    pub rules: Vec<Rule>,
    pub default: Action,
}

/// Lookup timeout when none is written (ms).
pub const DEFAULT_LOOKUP_TIMEOUT_MS: u64 = 300;

/// One piece of a lookup's URL template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlPart {
    /// Written as is.
    Literal(String),
    /// `{number}`: the caller's number, percent-encoded.
    Number,
    /// `{data.KEY}`: a call data value (lower-case key), percent-encoded;
    /// empty when the call has no such key.
    Data(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct LookupConfig {
    pub name: String,
    /// The URL template, as written.
    pub url: String,
    /// The template, parsed.
    pub parts: Vec<UrlPart>,
    pub timeout: Time,
    /// (JSON path, data key), paths dotted (`customer.tier`).
    pub map: Vec<(String, String)>,
    pub prompts: Vec<Prompt>,
    pub next: Action,
    pub fallback: Action,
}

/// Longest message when none is written (seconds).
pub const DEFAULT_MESSAGE_SECONDS: u32 = 120;
/// Silence that ends a message when none is written (seconds).
pub const DEFAULT_MESSAGE_SILENCE: u32 = 5;

/// A leave-a-message step (`[[message]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct MessageConfig {
    pub name: String,
    /// Where the message is filed (`HotlineMessages(mailbox)` lists it);
    /// default: the step's name.
    pub mailbox: String,
    /// Played before the beep.
    pub prompts: Vec<Prompt>,
    pub max_seconds: u32,
    /// Silence that ends the recording (0: only `#`, hang-up or the maximum).
    pub silence_seconds: u32,
    /// Shorter recordings are discarded (`on_empty`).
    pub min_seconds: u32,
    pub beep: bool,
    /// Queue a callback task in this queue for the caller's number.
    pub callback: Option<String>,
    /// Notify these addresses by e-mail (`[mail]`).
    pub email: Vec<String>,
    /// Played once a message was kept.
    pub done_sound: Vec<Prompt>,
    /// After a kept message (default: hang up, after `done_sound`).
    pub next: Action,
    /// Nothing (long enough) was recorded (default: as `next`).
    pub on_empty: Action,
}

/// A node of the IVR graph.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Node<'a> {
    Menu(&'a MenuConfig),
    Collect(&'a CollectConfig),
    Route(&'a RouteConfig),
    Lookup(&'a LookupConfig),
    Message(&'a MessageConfig),
}

impl IvrConfig {
    /// A menu, collect or route step of this name exists.
    pub fn has_node(&self, name: &str) -> bool {
        self.node(name).is_some()
    }

    pub fn node(&self, name: &str) -> Option<Node<'_>> {
        if let Some(m) = self.menus.iter().find(|m| m.name == name) {
            return Some(Node::Menu(m));
        }
        if let Some(c) = self.collects.iter().find(|c| c.name == name) {
            return Some(Node::Collect(c));
        }
        if let Some(r) = self.routes.iter().find(|r| r.name == name) {
            return Some(Node::Route(r));
        }
        if let Some(l) = self.lookups.iter().find(|l| l.name == name) {
            return Some(Node::Lookup(l));
        }
        self.messages.iter().find(|m| m.name == name).map(Node::Message)
    }

    /// The mailboxes message steps file into, each once.
    pub fn mailboxes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for m in &self.messages {
            if !out.contains(&m.mailbox.as_str()) {
                out.push(&m.mailbox);
            }
        }
        out
    }

    pub fn menu(&self, name: &str) -> Option<&MenuConfig> {
        self.menus.iter().find(|m| m.name == name)
    }

    pub fn calendar(&self, name: &str) -> Option<&Calendar> {
        self.calendars.iter().find(|c| c.name == name)
    }

    /// Where a caller goes when nothing else is said: `[ivr] operator_queue`,
    /// else hang up.
    pub fn default_action(&self) -> Action {
        let kind = match &self.operator_queue {
            Some(q) => ActionKind::Queue { queue: q.clone(), priority: 0, skills: Vec::new() },
            None => ActionKind::Hangup,
        };
        Action { kind, set: Vec::new() }
    }

    pub fn step_budget(&self) -> u32 {
        if self.max_steps == 0 {
            DEFAULT_MAX_STEPS
        } else {
            self.max_steps
        }
    }

    /// The languages the configuration names (menus' `language`,
    /// `language` actions, route conditions), each once.
    pub fn languages(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut add = |l: &str| {
            if !out.iter().any(|o| o == l) {
                out.push(l.to_string());
            }
        };
        let mut actions: Vec<&Action> = Vec::new();
        for m in &self.menus {
            if let Some(l) = &m.language {
                add(l);
            }
            actions.extend(m.entries.iter().map(|e| &e.action).chain([&m.on_max_failures, &m.on_max_timeouts]).chain(m.closed.iter()));
        }
        for c in &self.collects {
            actions.extend([&c.next, &c.on_failure]);
        }
        for r in &self.routes {
            for rule in &r.rules {
                for c in &rule.conditions {
                    if let Condition::Language(l) = c {
                        add(l);
                    }
                }
                actions.push(&rule.then);
            }
            actions.push(&r.default);
        }
        for l in &self.lookups {
            actions.extend([&l.next, &l.fallback]);
        }
        for m in &self.messages {
            actions.extend([&m.next, &m.on_empty]);
        }
        for a in actions {
            if let ActionKind::Language(l) = &a.kind {
                add(l);
            }
        }
        out
    }

    /// The languages whose say words Hotline renders ([`Lang`]) that this
    /// configuration names.
    pub fn say_languages(&self) -> Vec<Lang> {
        let mut out: Vec<Lang> = self.languages().iter().filter_map(|l| Lang::of(l)).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The text prompts (need espeak-ng): (text, language), each text once.
    pub fn texts(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        // (text, language): a text is spoken in its menu's language (else
        // the default voice), once.
        let mut add = |lang: &str, prompts: &[Prompt]| {
            for p in prompts {
                if let Prompt::Text(t) = p {
                    if !out.iter().any(|(o, _)| o == t) {
                        out.push((t.clone(), lang.to_string()));
                    }
                }
            }
        };
        let play = |a: &Action| match &a.kind {
            ActionKind::Play(p) | ActionKind::Callback { prompts: p, .. } => p.clone(),
            _ => Vec::new(),
        };
        for m in &self.menus {
            let lang = m.language.as_deref().unwrap_or("");
            for list in [&m.greet_long, &m.greet_short, &m.invalid_sound, &m.timeout_sound, &m.exit_sound, &m.closed_sound] {
                add(lang, list);
            }
            for e in &m.entries {
                add(lang, &play(&e.action));
            }
            for a in [Some(&m.on_max_failures), Some(&m.on_max_timeouts), m.closed.as_ref()].into_iter().flatten() {
                add(lang, &play(a));
            }
        }
        for c in &self.collects {
            for list in [&c.prompts, &c.invalid_sound, &c.timeout_sound, &c.read_back_sound, &c.confirm_sound] {
                add("", list);
            }
            add("", &play(&c.next));
            add("", &play(&c.on_failure));
        }
        for r in &self.routes {
            for rule in &r.rules {
                add("", &play(&rule.then));
            }
            add("", &play(&r.default));
        }
        for l in &self.lookups {
            add("", &l.prompts);
            add("", &play(&l.next));
            add("", &play(&l.fallback));
        }
        for m in &self.messages {
            add("", &m.prompts);
            add("", &m.done_sound);
            add("", &play(&m.next));
            add("", &play(&m.on_empty));
        }
        out
    }
}

/// One prompt as written: bare or `file:` a sound file, `say:digits:123`,
/// `say:number:42`, `text:...`.
pub fn parse_prompt(s: &str) -> Result<Prompt, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty prompt".into());
    }
    if let Some(t) = s.strip_prefix("text:") {
        if t.trim().is_empty() {
            return Err("empty text: prompt".into());
        }
        return Ok(Prompt::Text(t.trim().to_string()));
    }
    if let Some(f) = s.strip_prefix("file:") {
        if f.trim().is_empty() {
            return Err("empty file: prompt".into());
        }
        return Ok(Prompt::File(f.trim().to_string()));
    }
    if let Some(rest) = s.strip_prefix("say:") {
        return match rest.split_once(':') {
            Some(("digits", d)) if !d.is_empty() && d.chars().all(|c| DTMF.contains(c)) => Ok(Prompt::Digits(d.to_string())),
            Some(("digits", d)) => Err(format!("say:digits:{d:?}: only 0-9 * #")),
            Some(("number", n)) => n.trim().parse().map(Prompt::Number).map_err(|_| format!("say:number:{n:?} is not an integer")),
            Some(("date", d)) => parse_say_date(d.trim()).map(Prompt::Date),
            Some(("money", m)) => parse_say_money(m.trim()).map(Prompt::Money),
            _ => Err(format!("{s:?}: say:digits:<digits>, say:number:<integer>, say:date:<YYYY-MM-DD|@key[:format]> or say:money:<amount|@key>")),
        };
    }
    Ok(Prompt::File(s.to_string()))
}

/// `2026-12-24`, `@key` or `@key:DDMMYYYY`.
fn parse_say_date(d: &str) -> Result<DateValue, String> {
    if let Some(rest) = d.strip_prefix('@') {
        let (key, format) = match rest.split_once(':') {
            Some((k, f)) => (k.trim(), Some(f.trim().to_string())),
            None => (rest.trim(), None),
        };
        let key = crate::flow::data::check_key(key).map_err(|e| format!("say:date:@{key}: {e}"))?;
        if let Some(f) = &format {
            super::validate::sayable_date_format(f).map_err(|e| format!("say:date:@{key}: {e}"))?;
        }
        return Ok(DateValue::Data { key, format });
    }
    super::parse_date(d).map(DateValue::On).ok_or_else(|| format!("say:date:{d:?}: a date is YYYY-MM-DD (or @key for the call's data)"))
}

/// `12.50` or `@key`.
fn parse_say_money(m: &str) -> Result<MoneyValue, String> {
    if let Some(key) = m.strip_prefix('@') {
        let key = crate::flow::data::check_key(key).map_err(|e| format!("say:money:@{key}: {e}"))?;
        return Ok(MoneyValue::Data(key));
    }
    super::parse_money(m).map(MoneyValue::Cents).ok_or_else(|| format!("say:money:{m:?}: an amount is like 12.50 (at most two decimals), or @key for the call's data"))
}

// ---------------------------------------------------------------------------
// Validation.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Menu,
    Collect,
    Route,
    Lookup,
    Message,
}

struct Check<'a> {
    text: &'a str,
    file: &'a str,
    queues: &'a HashSet<String>,
    nodes: HashMap<String, Kind>,
    calendars: HashSet<String>,
    operator_queue: Option<String>,
    /// The language the prompts being read are played in (a menu's), if
    /// the configuration decides it.
    playing_in: RefCell<Option<String>>,
    /// Sound files and say prompts seen, where written.
    sounds: RefCell<Vec<SoundRef>>,
    says: RefCell<Vec<(usize, String)>>,
}

impl Check<'_> {
    fn err(&self, span: Range<usize>, key: &str, message: String) -> ConfigError {
        ConfigError { file: self.file.into(), line: line_of(self.text, span.start), key: key.into(), message }
    }

    /// A prompt list; the sound files and say prompts in it are noted
    /// with their line and key.
    fn prompts(&self, list: &[Spanned<String>], key: &str) -> Result<Vec<Prompt>, ConfigError> {
        let mut out = Vec::with_capacity(list.len());
        for p in list {
            let prompt = parse_prompt(p.get_ref()).map_err(|e| self.err(p.span(), key, e))?;
            let line = line_of(self.text, p.span().start);
            match &prompt {
                Prompt::File(name) => self.sounds.borrow_mut().push(SoundRef {
                    name: name.clone(),
                    line,
                    key: key.to_string(),
                    language: self.playing_in.borrow().clone(),
                }),
                Prompt::Money(_) => {
                    self.says.borrow_mut().push((line, key.to_string()));
                    let language = self.playing_in.borrow().clone();
                    if language.as_deref().and_then(Lang::of).is_none() {
                        for name in super::sounds::ASTERISK_MONEY_SOUNDS {
                            self.sounds.borrow_mut().push(SoundRef { name: name.to_string(), line, key: key.to_string(), language: language.clone() });
                        }
                    }
                }
                Prompt::Digits(_) | Prompt::Number(_) | Prompt::Date(_) => self.says.borrow_mut().push((line, key.to_string())),
                Prompt::Text(_) => {}
            }
            out.push(prompt);
        }
        Ok(out)
    }

    fn seconds(&self, v: &Option<Spanned<f64>>, default: f64, key: &str, whole: &Range<usize>) -> Result<Time, ConfigError> {
        match v {
            None => Ok(secs(default)),
            Some(s) => {
                let x = *s.get_ref();
                if x > 0.0 && x.is_finite() && x <= 3600.0 {
                    Ok(secs(x))
                } else {
                    let line = find_key_line_from(self.text, whole.start, key.rsplit('.').next().unwrap_or(key));
                    Err(ConfigError {
                        file: self.file.into(),
                        line,
                        key: key.into(),
                        message: format!("must be a positive number of seconds (at most 3600), got {x}"),
                    })
                }
            }
        }
    }

    fn node_ref(&self, t: &Spanned<String>, want: Kind, key: &str) -> Result<String, ConfigError> {
        match self.nodes.get(t.get_ref()) {
            Some(k) if *k == want => Ok(t.get_ref().clone()),
            Some(k) => Err(self.err(t.span(), key, format!("{:?} is a {}, not a {}", t.get_ref(), kind_name(*k), kind_name(want)))),
            None => Err(self.err(t.span(), key, format!("no {} named {:?}", kind_name(want), t.get_ref()))),
        }
    }

    fn queue_ref(&self, t: &Spanned<String>, key: &str) -> Result<String, ConfigError> {
        if self.queues.contains(t.get_ref()) {
            Ok(t.get_ref().clone())
        } else {
            Err(self.err(t.span(), key, format!("no queue named {:?}", t.get_ref())))
        }
    }

    fn calendar_ref(&self, t: &Spanned<String>, key: &str) -> Result<String, ConfigError> {
        if self.calendars.contains(t.get_ref()) {
            Ok(t.get_ref().clone())
        } else {
            Err(self.err(t.span(), key, format!("no calendar named {:?}", t.get_ref())))
        }
    }

    fn data_key(&self, k: &str, span: Range<usize>, key: &str) -> Result<String, ConfigError> {
        let mut scratch = CallData::default();
        scratch.set(k, "x").map_err(|e| self.err(span, key, e))?;
        Ok(scratch.entries()[0].0.clone())
    }

    fn language(&self, l: &Spanned<String>, key: &str) -> Result<String, ConfigError> {
        let v = l.get_ref().trim();
        if v.is_empty() || v.len() > 16 || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(self.err(l.span(), key, format!("{v:?} is not a language code such as \"vi\" or \"en_US\"")));
        }
        Ok(v.to_string())
    }

    fn action(&self, sa: &Spanned<RawAction>, key: &str) -> Result<Action, ConfigError> {
        let a = sa.get_ref();
        let name = a.action.get_ref().trim();
        let k = |f: &str| format!("{key}.{f}");
        let mut set = Vec::new();
        for (dk, dv) in &a.set {
            let dk = self.data_key(dk, dv.span(), &k("set"))?;
            let mut scratch = CallData::default();
            scratch.set(&dk, dv.get_ref()).map_err(|e| self.err(dv.span(), &k("set"), e))?;
            set.push((dk, dv.get_ref().clone()));
        }
        let target = || -> Result<&Spanned<String>, ConfigError> {
            match &a.target {
                Some(t) if !t.get_ref().trim().is_empty() => Ok(t),
                Some(t) => Err(self.err(t.span(), &k("target"), format!("empty target for action {name:?}"))),
                None => Err(self.err(sa.span(), &k("target"), format!("action {name:?} needs `target = \"...\"`"))),
            }
        };
        let takes_target = matches!(name, "menu" | "route" | "collect" | "lookup" | "message" | "callback" | "queue" | "transfer" | "language");
        if let (Some(t), false) = (&a.target, takes_target) {
            return Err(self.err(t.span(), &k("target"), format!("action {name:?} takes no target")));
        }
        if name != "queue" {
            if let Some(p) = &a.priority {
                return Err(self.err(p.span(), &k("priority"), "only for action \"queue\"".into()));
            }
            if let Some(s) = &a.skills {
                return Err(self.err(s.span(), &k("skills"), "only for action \"queue\"".into()));
            }
        }
        if let (Some(p), false) = (a.prompts.first(), matches!(name, "play" | "callback")) {
            return Err(self.err(p.span(), &k("prompts"), "only for actions \"play\" and \"callback\"".into()));
        }
        let kind = match name {
            "menu" => ActionKind::Menu(self.node_ref(target()?, Kind::Menu, &k("target"))?),
            "route" => ActionKind::Route(self.node_ref(target()?, Kind::Route, &k("target"))?),
            "collect" => ActionKind::Collect(self.node_ref(target()?, Kind::Collect, &k("target"))?),
            "lookup" => ActionKind::Lookup(self.node_ref(target()?, Kind::Lookup, &k("target"))?),
            "message" => ActionKind::Message(self.node_ref(target()?, Kind::Message, &k("target"))?),
            "callback" => {
                let queue = self.queue_ref(target()?, &k("target"))?;
                ActionKind::Callback { queue, prompts: self.prompts(&a.prompts, &k("prompts"))? }
            }
            "back" => ActionKind::Back,
            "top" => ActionKind::Top,
            "repeat" => ActionKind::Repeat,
            "hangup" => ActionKind::Hangup,
            "return" => ActionKind::Return,
            "queue" => {
                let queue = self.queue_ref(target()?, &k("target"))?;
                let skills = match &a.skills {
                    // "en:3,billing" and "en:3+billing" alike.
                    Some(s) => crate::app_args::parse_skills(&s.get_ref().replace(',', "+")).map_err(|e| self.err(s.span(), &k("skills"), e))?,
                    None => Vec::new(),
                };
                ActionKind::Queue { queue, priority: a.priority.as_ref().map(|p| *p.get_ref()).unwrap_or(0), skills }
            }
            "transfer" => {
                let t = target()?;
                if t.get_ref().chars().any(char::is_control) {
                    return Err(self.err(t.span(), &k("target"), "control characters in the target".into()));
                }
                ActionKind::Transfer(t.get_ref().trim().to_string())
            }
            "language" => ActionKind::Language(self.language(target()?, &k("target"))?),
            "play" => {
                if a.prompts.is_empty() {
                    return Err(self.err(sa.span(), &k("prompts"), "action \"play\" needs `prompts = [...]`".into()));
                }
                ActionKind::Play(self.prompts(&a.prompts, &k("prompts"))?)
            }
            other => {
                return Err(self.err(
                    a.action.span(),
                    &k("action"),
                    format!("unknown action {other:?}: menu, back, top, repeat, queue, transfer, play, route, collect, lookup, message, callback, language, hangup or return"),
                ))
            }
        };
        Ok(Action { kind, set })
    }

    fn default_action(&self) -> Action {
        IvrConfig { operator_queue: self.operator_queue.clone(), ..Default::default() }.default_action()
    }

    /// A menu; its prompts play in its `language` once it is entered, but
    /// the closed hours' come first (in the caller's).
    fn menu(&self, sm: &Spanned<RawMenu>) -> Result<MenuConfig, ConfigError> {
        let m = sm.get_ref();
        let name = m.name.get_ref().clone();
        let key = |f: &str| format!("menu[{name}].{f}");
        let language = match &m.language {
            Some(l) => Some(self.language(l, &key("language"))?),
            None => None,
        };
        let closed_sound = self.prompts(&m.closed_sound, &key("closed_sound"))?;
        *self.playing_in.borrow_mut() = language.clone();
        let menu = self.menu_in_language(sm, language, closed_sound);
        *self.playing_in.borrow_mut() = None;
        menu
    }

    fn menu_in_language(&self, sm: &Spanned<RawMenu>, language: Option<String>, closed_sound: Vec<Prompt>) -> Result<MenuConfig, ConfigError> {
        let m = sm.get_ref();
        let name = m.name.get_ref().clone();
        let key = |f: &str| format!("menu[{name}].{f}");
        let mut entries: Vec<Entry> = Vec::new();
        let mut literals: Vec<String> = Vec::new();
        let mut has_pattern = false;
        let mut phrases: Vec<(String, String)> = Vec::new();
        for se in &m.entry {
            let e = se.get_ref();
            let d = e.digits.get_ref().trim();
            for w in &e.words {
                let phrase = crate::speech::phrases(w.get_ref())
                    .and_then(|p| if p.len() == 1 { Ok(p[0].clone()) } else { Err("one phrase per string (no |)".into()) })
                    .map_err(|x| self.err(w.span(), &key("entry.words"), x))?;
                let unknown = crate::speech::unknown_words(&phrase);
                if !unknown.is_empty() {
                    return Err(self.err(w.span(), &key("entry.words"), format!("{unknown:?} not in the speech dictionary ({})", crate::speech::model_dir().display())));
                }
                if let Some((_, k)) = phrases.iter().find(|(p, _)| *p == phrase) {
                    return Err(self.err(w.span(), &key("entry.words"), format!("{phrase:?} already stands for key {k:?}")));
                }
                if d.starts_with('/') {
                    return Err(self.err(w.span(), &key("entry.words"), "words stand for a literal key, not a pattern".into()));
                }
                phrases.push((phrase, d.to_string()));
            }
            let keys = if d.len() >= 2 && d.starts_with('/') && d.ends_with('/') {
                has_pattern = true;
                Keys::Pattern(NumberPattern::new(&d[1..d.len() - 1]).map_err(|x| self.err(e.digits.span(), &key("entry.digits"), x))?)
            } else if !d.is_empty() && d.chars().all(|c| DTMF.contains(c)) {
                if literals.iter().any(|l| l == d) {
                    return Err(self.err(e.digits.span(), &key("entry.digits"), format!("key {d:?} twice in the menu")));
                }
                literals.push(d.to_string());
                Keys::Literal(d.to_string())
            } else {
                return Err(self.err(
                    e.digits.span(),
                    &key("entry.digits"),
                    format!("{d:?}: keys are 0-9 * # (one or several), or a regular expression between slashes such as \"/^[0-9]{{4}}$/\""),
                ));
            };
            entries.push(Entry { keys, action: self.action(&Spanned::new(se.span(), e.action()), &key("entry"))? });
        }
        let longest = literals.iter().map(String::len).max().unwrap_or(1);
        let digit_len = match &m.digit_len {
            Some(l) if *l.get_ref() == 0 || *l.get_ref() > 32 => {
                return Err(self.err(l.span(), &key("digit_len"), format!("1-32 digits, got {}", l.get_ref())))
            }
            Some(l) if *l.get_ref() < longest => {
                return Err(self.err(l.span(), &key("digit_len"), format!("shorter than the key of {longest} digits")))
            }
            Some(l) => *l.get_ref(),
            None if has_pattern => {
                return Err(self.err(m.name.span(), &key("digit_len"), "a menu with a pattern entry needs `digit_len` (the most digits to collect)".into()))
            }
            None => longest,
        };
        let count = |v: &Option<Spanned<u32>>, f: &str| -> Result<u32, ConfigError> {
            match v {
                Some(c) if *c.get_ref() == 0 || *c.get_ref() > 100 => Err(self.err(c.span(), &key(f), format!("1-100, got {}", c.get_ref()))),
                Some(c) => Ok(*c.get_ref()),
                None => Ok(3),
            }
        };
        let max_failures = count(&m.max_failures, "max_failures")?;
        let max_timeouts = count(&m.max_timeouts, "max_timeouts")?;
        let timeout = self.seconds(&m.timeout_seconds, 10.0, &key("timeout_seconds"), &sm.span())?;
        let inter_digit = match &m.inter_digit_timeout_seconds {
            None => (timeout / 2).max(1),
            v => self.seconds(v, 5.0, &key("inter_digit_timeout_seconds"), &sm.span())?,
        };
        let hours = match &m.hours {
            Some(h) => Some(self.calendar_ref(h, &key("hours"))?),
            None => None,
        };
        let closed = match (&m.closed, &hours) {
            (Some(c), Some(_)) => {
                // Before the menu's language is set.
                let lang = self.playing_in.borrow_mut().take();
                let a = self.action(c, &key("closed"));
                *self.playing_in.borrow_mut() = lang;
                Some(a?)
            }
            (Some(c), None) => return Err(self.err(c.span(), &key("closed"), "only with `hours = \"<calendar>\"`".into())),
            (None, Some(_)) => {
                return Err(self.err(m.hours.as_ref().map(|h| h.span()).unwrap_or(sm.span()), &key("closed"), "a menu with `hours` needs `closed = { action = ... }`".into()))
            }
            (None, None) => None,
        };
        let greet_long = self.prompts(&m.greet_long, &key("greet_long"))?;
        let greet_short = match &m.greet_short {
            Some(s) => self.prompts(s, &key("greet_short"))?,
            None => greet_long.clone(),
        };
        let complete = complete_keys(&entries, digit_len);
        let speech = if phrases.is_empty() {
            if let Some(e) = &m.speech_engine {
                return Err(self.err(e.span(), &key("speech_engine"), "no entry has `words` to listen for".into()));
            }
            None
        } else {
            let min_confidence = match &m.speech_confidence {
                Some(c) if *c.get_ref() > 100 => return Err(self.err(c.span(), &key("speech_confidence"), format!("0-100, got {}", c.get_ref()))),
                Some(c) => *c.get_ref() as u8,
                None => 0,
            };
            let engine = match &m.speech_engine {
                Some(e) if e.get_ref().trim().is_empty() || !e.get_ref().chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c)) => {
                    return Err(self.err(e.span(), &key("speech_engine"), format!("{:?}: an engine name (letters, digits, _ -)", e.get_ref())))
                }
                Some(e) => e.get_ref().clone(),
                None => crate::speech::ENGINE_NAME.to_string(),
            };
            Some(std::sync::Arc::new(super::Speech { engine, min_confidence, phrases }))
        };
        Ok(MenuConfig {
            speech,
            greet_long,
            greet_short,
            invalid_sound: self.prompts(&m.invalid_sound, &key("invalid_sound"))?,
            timeout_sound: self.prompts(&m.timeout_sound, &key("timeout_sound"))?,
            exit_sound: self.prompts(&m.exit_sound, &key("exit_sound"))?,
            timeout,
            inter_digit,
            digit_len,
            max_failures,
            max_timeouts,
            on_max_failures: match &m.on_max_failures {
                Some(a) => self.action(a, &key("on_max_failures"))?,
                None => self.default_action(),
            },
            on_max_timeouts: match &m.on_max_timeouts {
                Some(a) => self.action(a, &key("on_max_timeouts"))?,
                None => self.default_action(),
            },
            hours,
            closed,
            closed_sound,
            language,
            barge_in: m.barge_in.unwrap_or(true),
            entries,
            complete,
            name,
        })
    }

    fn collect(&self, sc: &Spanned<RawCollect>) -> Result<CollectConfig, ConfigError> {
        let c = sc.get_ref();
        let name = c.name.get_ref().clone();
        let key = |f: &str| format!("collect[{name}].{f}");
        let into = self.data_key(c.into.get_ref(), c.into.span(), &key("into"))?;
        let min_digits = c.min_digits.as_ref().map(|m| *m.get_ref()).unwrap_or(1);
        let max_digits = c.max_digits.as_ref().map(|m| *m.get_ref()).unwrap_or(20);
        if min_digits == 0 {
            let s = c.min_digits.as_ref().map(|m| m.span()).unwrap_or(sc.span());
            return Err(self.err(s, &key("min_digits"), "at least 1".into()));
        }
        if max_digits < min_digits || max_digits > 64 {
            let s = c.max_digits.as_ref().map(|m| m.span()).unwrap_or(sc.span());
            return Err(self.err(s, &key("max_digits"), format!("from min_digits ({min_digits}) to 64, got {max_digits}")));
        }
        let terminators = match &c.terminators {
            Some(t) if !t.get_ref().chars().all(|ch| DTMF.contains(ch)) => {
                return Err(self.err(t.span(), &key("terminators"), format!("{:?}: only 0-9 * #", t.get_ref())))
            }
            Some(t) => t.get_ref().clone(),
            None => "#".into(),
        };
        let validate = match &c.validate {
            Some(v) => Some(Validation::parse(v.get_ref()).map_err(|e| self.err(v.span(), &key("validate"), e))?),
            None => None,
        };
        let confirm_key = match &c.confirm_key {
            Some(k) if k.get_ref().chars().count() != 1 || !DTMF.contains(k.get_ref().as_str()) => {
                return Err(self.err(k.span(), &key("confirm_key"), format!("{:?} is not one DTMF key", k.get_ref())))
            }
            Some(k) => k.get_ref().clone(),
            None => "1".into(),
        };
        let max_attempts = match &c.max_attempts {
            Some(m) if *m.get_ref() == 0 || *m.get_ref() > 100 => return Err(self.err(m.span(), &key("max_attempts"), format!("1-100, got {}", m.get_ref()))),
            Some(m) => *m.get_ref(),
            None => 3,
        };
        let timeout = self.seconds(&c.timeout_seconds, 10.0, &key("timeout_seconds"), &sc.span())?;
        let inter_digit = match &c.inter_digit_timeout_seconds {
            None => (timeout / 2).max(1),
            v => self.seconds(v, 5.0, &key("inter_digit_timeout_seconds"), &sc.span())?,
        };
        if c.read_back {
            // The value is said back digit by digit.
            self.says.borrow_mut().push((find_key_line_from(self.text, sc.span().start, "read_back"), key("read_back")));
        }
        Ok(CollectConfig {
            prompts: self.prompts(&c.prompts, &key("prompts"))?,
            into,
            min_digits,
            max_digits,
            terminators,
            timeout,
            inter_digit,
            validate,
            invalid_sound: self.prompts(&c.invalid_sound, &key("invalid_sound"))?,
            timeout_sound: self.prompts(&c.timeout_sound, &key("timeout_sound"))?,
            read_back: c.read_back,
            read_back_sound: self.prompts(&c.read_back_sound, &key("read_back_sound"))?,
            confirm_sound: self.prompts(&c.confirm_sound, &key("confirm_sound"))?,
            confirm_key,
            max_attempts,
            sensitive: c.sensitive,
            next: self.action(&c.next, &key("next"))?,
            on_failure: match &c.on_failure {
                Some(a) => self.action(a, &key("on_failure"))?,
                None => self.default_action(),
            },
            name,
        })
    }

    fn route(&self, sr: &Spanned<RawRoute>) -> Result<RouteConfig, ConfigError> {
        let r = sr.get_ref();
        let name = r.name.get_ref().clone();
        let key = |f: &str| format!("route[{name}].{f}");
        let mut rules = Vec::new();
        for srule in &r.rule {
            let u = srule.get_ref();
            let mut conditions = Vec::new();
            for (k, v) in &u.data {
                conditions.push(Condition::Data(self.data_key(k, v.span(), &key("rule.data"))?, v.get_ref().clone()));
            }
            for (k, v) in &u.data_prefix {
                conditions.push(Condition::DataPrefix(self.data_key(k, v.span(), &key("rule.data_prefix"))?, v.get_ref().clone()));
            }
            let numbers = |list: &[Spanned<String>], f: &str| -> Result<Vec<String>, ConfigError> {
                list.iter()
                    .map(|n| {
                        let v = n.get_ref().trim();
                        if v.is_empty() || v.len() > 32 || !v.chars().all(|c| c.is_ascii_digit() || c == '+') {
                            Err(self.err(n.span(), &key(f), format!("{v:?} is not a phone number or prefix (digits, optional +)")))
                        } else {
                            Ok(v.to_string())
                        }
                    })
                    .collect()
            };
            if !u.caller_prefix.is_empty() {
                conditions.push(Condition::CallerPrefix(numbers(&u.caller_prefix, "rule.caller_prefix")?));
            }
            if !u.caller_in.is_empty() {
                conditions.push(Condition::CallerIn(numbers(&u.caller_in, "rule.caller_in")?));
            }
            if let Some(l) = &u.language {
                conditions.push(Condition::Language(self.language(l, &key("rule.language"))?));
            }
            if let Some(c) = &u.open {
                conditions.push(Condition::Open(self.calendar_ref(c, &key("rule.open"))?));
            }
            if let Some(c) = &u.closed {
                conditions.push(Condition::Closed(self.calendar_ref(c, &key("rule.closed"))?));
            }
            match (&u.queue, &u.waiting_at_least, &u.idle_at_least) {
                (Some(q), w, i) => {
                    let q = self.queue_ref(q, &key("rule.queue"))?;
                    if w.is_none() && i.is_none() {
                        return Err(self.err(
                            u.queue.as_ref().map(|q| q.span()).unwrap_or(srule.span()),
                            &key("rule.queue"),
                            "needs `waiting_at_least` or `idle_at_least`".into(),
                        ));
                    }
                    if let Some(w) = w {
                        conditions.push(Condition::WaitingAtLeast(q.clone(), *w.get_ref()));
                    }
                    if let Some(i) = i {
                        conditions.push(Condition::IdleAtLeast(q, *i.get_ref()));
                    }
                }
                (None, Some(w), _) => return Err(self.err(w.span(), &key("rule.waiting_at_least"), "needs `queue = \"...\"`".into())),
                (None, None, Some(i)) => return Err(self.err(i.span(), &key("rule.idle_at_least"), "needs `queue = \"...\"`".into())),
                (None, None, None) => {}
            }
            if conditions.is_empty() {
                return Err(self.err(u.then.span(), &key("rule"), "a rule without conditions (that is the route's `default`)".into()));
            }
            rules.push(Rule { conditions, then: self.action(&u.then, &key("rule.then"))? });
        }
        Ok(RouteConfig { rules, default: self.action(&r.default, &key("default"))?, name })
    }
}

impl Check<'_> {
    fn lookup(&self, sl: &Spanned<RawLookup>) -> Result<LookupConfig, ConfigError> {
        let l = sl.get_ref();
        let name = l.name.get_ref().clone();
        let key = |f: &str| format!("lookup[{name}].{f}");
        let url = l.url.get_ref().trim().to_string();
        let parts = parse_url_template(&url).map_err(|e| self.err(l.url.span(), &key("url"), e))?;
        let timeout = match &l.timeout_ms {
            Some(t) if !(50..=5000).contains(t.get_ref()) => {
                return Err(self.err(t.span(), &key("timeout_ms"), format!("50-5000 ms, got {}", t.get_ref())))
            }
            Some(t) => *t.get_ref(),
            None => DEFAULT_LOOKUP_TIMEOUT_MS,
        };
        let mut map = Vec::new();
        for (path, target) in &l.map {
            if path.is_empty() || path.len() > 128 || path.split('.').any(|seg| seg.trim().is_empty()) {
                return Err(self.err(target.span(), &key("map"), format!("{path:?} is not a dotted JSON path such as \"customer.tier\"")));
            }
            let data_key = self.data_key(target.get_ref(), target.span(), &key(&format!("map.{path}")))?;
            map.push((path.clone(), data_key));
        }
        let fallback = match &l.fallback {
            Some(a) => self.action(a, &key("fallback"))?,
            None => {
                return Err(self.err(
                    l.name.span(),
                    &key("fallback"),
                    "a lookup needs `fallback = { action = ... }` (taken on timeout, HTTP error or bad JSON)".into(),
                ))
            }
        };
        Ok(LookupConfig {
            url,
            parts,
            timeout,
            map,
            prompts: self.prompts(&l.prompts, &key("prompts"))?,
            next: self.action(&l.next, &key("next"))?,
            fallback,
            name,
        })
    }
}

impl Check<'_> {
    fn message(&self, sm: &Spanned<RawMessage>) -> Result<MessageConfig, ConfigError> {
        let m = sm.get_ref();
        let name = m.name.get_ref().clone();
        let key = |f: &str| format!("message[{name}].{f}");
        let mailbox = match &m.mailbox {
            Some(b) => {
                let v = b.get_ref().trim();
                if v.is_empty() || v.len() > 64 || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                    return Err(self.err(b.span(), &key("mailbox"), format!("invalid mailbox {v:?}: letters, digits, _ and -")));
                }
                v.to_string()
            }
            None => name.clone(),
        };
        let bounded = |v: &Option<Spanned<u32>>, f: &str, range: std::ops::RangeInclusive<u32>, default: u32| match v {
            Some(x) if !range.contains(x.get_ref()) => {
                Err(self.err(x.span(), &key(f), format!("{}-{} seconds, got {}", range.start(), range.end(), x.get_ref())))
            }
            Some(x) => Ok(*x.get_ref()),
            None => Ok(default),
        };
        let max_seconds = bounded(&m.max_seconds, "max_seconds", 1..=3600, DEFAULT_MESSAGE_SECONDS)?;
        let silence_seconds = bounded(&m.silence_seconds, "silence_seconds", 0..=60, DEFAULT_MESSAGE_SILENCE)?;
        let min_seconds = bounded(&m.min_seconds, "min_seconds", 0..=60, 1)?;
        if min_seconds >= max_seconds {
            let span = m.min_seconds.as_ref().map_or(m.name.span(), |x| x.span());
            return Err(self.err(span, &key("min_seconds"), format!("must be below max_seconds ({max_seconds})")));
        }
        let callback = m.callback.as_ref().map(|q| self.queue_ref(q, &key("callback"))).transpose()?;
        let mut email = Vec::new();
        for e in &m.email {
            crate::notify::check_mailbox(e.get_ref()).map_err(|why| self.err(e.span(), &key("email"), why))?;
            email.push(e.get_ref().trim().to_string());
        }
        let hang_up = Action { kind: ActionKind::Hangup, set: Vec::new() };
        let next = m.next.as_ref().map(|a| self.action(a, &key("next"))).transpose()?.unwrap_or(hang_up);
        let on_empty = m.on_empty.as_ref().map(|a| self.action(a, &key("on_empty"))).transpose()?.unwrap_or_else(|| next.clone());
        Ok(MessageConfig {
            mailbox,
            prompts: self.prompts(&m.prompts, &key("prompts"))?,
            max_seconds,
            silence_seconds,
            min_seconds,
            beep: m.beep.unwrap_or(true),
            callback,
            email,
            done_sound: self.prompts(&m.done_sound, &key("done_sound"))?,
            next,
            on_empty,
            name,
        })
    }
}

/// A lookup URL template: `http://` or `https://` with a host before any
/// placeholder, then `{number}` and `{data.KEY}` anywhere after.
pub fn parse_url_template(url: &str) -> Result<Vec<UrlPart>, String> {
    let lower = url.to_ascii_lowercase();
    let rest = match (lower.strip_prefix("http://"), lower.strip_prefix("https://")) {
        (Some(r), _) | (_, Some(r)) => r,
        _ => return Err(format!("{url:?}: only http:// or https:// URLs")),
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..host_end];
    if host.is_empty() || host.contains(['{', '}']) || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{url:?}: needs a host (no placeholder in it)"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{url:?}: spaces or control characters in the URL"));
    }
    let mut parts = Vec::new();
    let mut rest = url;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(format!("{url:?}: `}}` without `{{`"));
        }
        let Some(len) = rest[open + 1..].find('}') else { return Err(format!("{url:?}: unclosed `{{`")) };
        let inner = &rest[open + 1..open + 1 + len];
        let part = if inner == "number" {
            UrlPart::Number
        } else if let Some(k) = inner.strip_prefix("data.") {
            let mut scratch = CallData::default();
            scratch.set(k, "x").map_err(|e| format!("{url:?}: {{{inner}}}: {e}"))?;
            UrlPart::Data(scratch.entries()[0].0.clone())
        } else {
            return Err(format!("{url:?}: unknown placeholder {{{inner}}} ({{number}} or {{data.KEY}})"));
        };
        if open > 0 {
            parts.push(UrlPart::Literal(rest[..open].to_string()));
        }
        parts.push(part);
        rest = &rest[open + 1 + len + 1..];
    }
    let literal = rest.to_string();
    if !literal.is_empty() {
        parts.push(UrlPart::Literal(literal));
    }
    Ok(parts)
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Menu => "menu",
        Kind::Collect => "collect step",
        Kind::Route => "route",
        Kind::Lookup => "lookup step",
        Kind::Message => "message step",
    }
}

/// Most strings tried when asking whether a pattern could extend a key.
const EXTEND_BUDGET: usize = 30_000;

/// Literal keys that end the input as soon as they are pressed: no other
/// literal key starts with them and no pattern entry could match a longer
/// input (within `digit_len`) that starts with them. Whether a pattern could
/// is found by trying every continuation when there are few enough
/// (at most [`EXTEND_BUDGET`]); otherwise the key is assumed extendable
/// (it then ends by the inter-digit timeout, never wrongly early).
pub fn complete_keys(entries: &[Entry], digit_len: usize) -> Vec<String> {
    let literals: Vec<&str> = entries
        .iter()
        .filter_map(|e| match &e.keys {
            Keys::Literal(k) => Some(k.as_str()),
            _ => None,
        })
        .collect();
    let patterns: Vec<&NumberPattern> = entries
        .iter()
        .filter_map(|e| match &e.keys {
            Keys::Pattern(p) => Some(p),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for k in &literals {
        if literals.iter().any(|o| o.len() > k.len() && o.starts_with(k)) {
            continue;
        }
        if !patterns.is_empty() && k.len() < digit_len && could_extend(&patterns, k, digit_len) {
            continue;
        }
        out.push(k.to_string());
    }
    out
}

fn could_extend(patterns: &[&NumberPattern], key: &str, digit_len: usize) -> bool {
    let keys: Vec<char> = DTMF.chars().collect();
    let room = digit_len - key.len();
    // 12 + 12^2 + ... + 12^room strings.
    let mut total: usize = 0;
    let mut layer: usize = 1;
    for _ in 0..room {
        layer = layer.saturating_mul(keys.len());
        total = total.saturating_add(layer);
    }
    if total > EXTEND_BUDGET {
        return true;
    }
    let mut frontier = vec![key.to_string()];
    for _ in 0..room {
        let mut next = Vec::with_capacity(frontier.len() * keys.len());
        for s in &frontier {
            for c in &keys {
                let mut t = s.clone();
                t.push(*c);
                if patterns.iter().any(|p| p.matches(&t)) {
                    return true;
                }
                next.push(t);
            }
        }
        frontier = next;
    }
    false
}

/// Validate the IVR tables (`queues`: the configured queue names).
pub(crate) fn from_raw(raw: RawParts<'_>, text: &str, file: &str, queues: &HashSet<String>) -> Result<IvrConfig, ConfigError> {
    let mut check = Check {
        text,
        file,
        queues,
        nodes: HashMap::new(),
        calendars: HashSet::new(),
        operator_queue: None,
        playing_in: RefCell::new(None),
        sounds: RefCell::new(Vec::new()),
        says: RefCell::new(Vec::new()),
    };
    if let Some(q) = &raw.ivr.operator_queue {
        check.operator_queue = Some(check.queue_ref(q, "ivr.operator_queue")?);
    }
    let max_steps = match &raw.ivr.max_steps {
        Some(s) if *s.get_ref() < 10 => return Err(check.err(s.span(), "ivr.max_steps", format!("at least 10, got {}", s.get_ref()))),
        Some(s) => *s.get_ref(),
        None => DEFAULT_MAX_STEPS,
    };

    let mut calendars = Vec::new();
    for sc in raw.calendars {
        let c = sc.get_ref();
        let name = c.name.get_ref();
        let key = |f: &str| format!("calendar[{name}].{f}");
        if name.trim().is_empty() || !check.calendars.insert(name.clone()) {
            return Err(check.err(c.name.span(), "calendar.name", format!("duplicate or empty calendar name {name:?}")));
        }
        let mut cal = Calendar::new(name, c.timezone.get_ref()).map_err(|e| check.err(c.timezone.span(), &key("timezone"), e))?;
        for h in &c.hours {
            cal.add_hours(h.get_ref()).map_err(|e| check.err(h.span(), &key("hours"), e))?;
        }
        for h in &c.closed {
            cal.add_closed(h.get_ref()).map_err(|e| check.err(h.span(), &key("closed"), e))?;
        }
        for h in &c.open {
            cal.add_open(h.get_ref()).map_err(|e| check.err(h.span(), &key("open"), e))?;
        }
        calendars.push(cal);
    }

    // Node names first: references are checked against them.
    let names = raw
        .menus
        .iter()
        .map(|m| (&m.get_ref().name, Kind::Menu, "menu.name"))
        .chain(raw.collects.iter().map(|c| (&c.get_ref().name, Kind::Collect, "collect.name")))
        .chain(raw.routes.iter().map(|r| (&r.get_ref().name, Kind::Route, "route.name")))
        .chain(raw.lookups.iter().map(|l| (&l.get_ref().name, Kind::Lookup, "lookup.name")))
        .chain(raw.messages.iter().map(|m| (&m.get_ref().name, Kind::Message, "message.name")));
    for (n, kind, key) in names {
        let v = n.get_ref();
        if v.is_empty() || v.len() > 64 || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(check.err(n.span(), key, format!("invalid name {v:?}: letters, digits, _ and -")));
        }
        if let Some(other) = check.nodes.insert(v.clone(), kind) {
            return Err(check.err(n.span(), key, format!("duplicate name {v:?} (already a {})", kind_name(other))));
        }
    }

    let menus = raw.menus.iter().map(|m| check.menu(m)).collect::<Result<Vec<_>, _>>()?;
    let collects = raw.collects.iter().map(|c| check.collect(c)).collect::<Result<Vec<_>, _>>()?;
    let routes = raw.routes.iter().map(|r| check.route(r)).collect::<Result<Vec<_>, _>>()?;
    let lookups = raw.lookups.iter().map(|l| check.lookup(l)).collect::<Result<Vec<_>, _>>()?;
    let messages = raw.messages.iter().map(|m| check.message(m)).collect::<Result<Vec<_>, _>>()?;
    let cfg = IvrConfig {
        menus,
        collects,
        routes,
        lookups,
        messages,
        calendars,
        operator_queue: check.operator_queue.clone(),
        max_steps,
        sounds: check.sounds.take(),
        says: check.says.take(),
    };

    // Every node must be able to reach an exit (queue, transfer, hangup,
    // return); back/top/repeat/play/language lead only to menus already
    // visited, so they count for nothing here.
    let actions = |name: &str| -> Vec<&Action> {
        match cfg.node(name) {
            Some(Node::Menu(m)) => m
                .entries
                .iter()
                .map(|e| &e.action)
                .chain([&m.on_max_failures, &m.on_max_timeouts])
                .chain(m.closed.iter())
                .collect(),
            Some(Node::Collect(c)) => vec![&c.next, &c.on_failure],
            Some(Node::Route(r)) => r.rules.iter().map(|u| &u.then).chain(std::iter::once(&r.default)).collect(),
            Some(Node::Lookup(l)) => vec![&l.next, &l.fallback],
            Some(Node::Message(m)) => vec![&m.next, &m.on_empty],
            None => Vec::new(),
        }
    };
    let order: Vec<(&Spanned<String>, &str)> = raw
        .menus
        .iter()
        .map(|m| (&m.get_ref().name, "menu"))
        .chain(raw.collects.iter().map(|c| (&c.get_ref().name, "collect")))
        .chain(raw.routes.iter().map(|r| (&r.get_ref().name, "route")))
        .chain(raw.lookups.iter().map(|l| (&l.get_ref().name, "lookup")))
        .chain(raw.messages.iter().map(|m| (&m.get_ref().name, "message")))
        .collect();
    let mut exits: HashSet<&str> = HashSet::new();
    loop {
        let before = exits.len();
        for (n, _) in &order {
            let n = n.get_ref().as_str();
            if !exits.contains(n) && actions(n).iter().any(|a| a.kind.is_exit() || a.kind.node().is_some_and(|t| exits.contains(t))) {
                exits.insert(n);
            }
        }
        if exits.len() == before {
            break;
        }
    }
    if let Some((n, table)) = order.iter().find(|(n, _)| !exits.contains(n.get_ref().as_str())) {
        return Err(check.err(
            n.span(),
            &format!("{table}[{}]", n.get_ref()),
            "cannot reach any exit (queue, transfer, hangup or return): menus that can loop with no exit".into(),
        ));
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(k: &str) -> Entry {
        Entry { keys: Keys::Literal(k.into()), action: Action { kind: ActionKind::Hangup, set: vec![] } }
    }

    fn pat(p: &str) -> Entry {
        Entry { keys: Keys::Pattern(NumberPattern::new(p).unwrap()), action: Action { kind: ActionKind::Hangup, set: vec![] } }
    }

    #[test]
    fn prompts_parse() {
        assert_eq!(parse_prompt("welcome").unwrap(), Prompt::File("welcome".into()));
        assert_eq!(parse_prompt("file:ivr/ivr-welcome").unwrap(), Prompt::File("ivr/ivr-welcome".into()));
        assert_eq!(parse_prompt("say:digits:123#").unwrap(), Prompt::Digits("123#".into()));
        assert_eq!(parse_prompt("say:number:-42").unwrap(), Prompt::Number(-42));
        assert_eq!(parse_prompt("text:Press 1").unwrap(), Prompt::Text("Press 1".into()));
        assert_eq!(parse_prompt("say:date:2026-12-24").unwrap(), Prompt::Date(DateValue::On(jiff::civil::date(2026, 12, 24))));
        assert_eq!(parse_prompt("say:date:@Due").unwrap(), Prompt::Date(DateValue::Data { key: "due".into(), format: None }));
        assert_eq!(parse_prompt("say:date:@birth:DDMMYYYY").unwrap(), Prompt::Date(DateValue::Data { key: "birth".into(), format: Some("DDMMYYYY".into()) }));
        assert_eq!(parse_prompt("say:money:12.5").unwrap(), Prompt::Money(MoneyValue::Cents(1250)));
        assert_eq!(parse_prompt("say:money:-0.05").unwrap(), Prompt::Money(MoneyValue::Cents(-5)));
        assert_eq!(parse_prompt("say:money:@balance").unwrap(), Prompt::Money(MoneyValue::Data("balance".into())));
        for bad in [
            "", " ", "text:", "file:", "say:digits:12a", "say:number:4x", "say:money:3x", "say:money:1.234", "say:money:", "say:money:@", "say:", "say:date:2026-02-30",
            "say:date:24/12/2026", "say:date:@a b", "say:date:@exp:MMYY", "say:date:@d:QQ",
        ] {
            assert!(parse_prompt(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dates_and_money_from_the_data_are_read_when_said() {
        let data = |k: &str| match k {
            "due" => Some("2026-12-24".to_string()),
            "compact" => Some("20261224".to_string()),
            "birth" => Some("24122026".to_string()),
            "balance" => Some(" 1234.5 ".to_string()),
            "bad" => Some("soon".to_string()),
            _ => None,
        };
        let on = Some(jiff::civil::date(2026, 12, 24));
        let by = |key: &str, format: Option<&str>| DateValue::Data { key: key.into(), format: format.map(Into::into) }.resolve(data);
        assert_eq!((by("due", None), by("compact", None), by("birth", Some("DDMMYYYY"))), (on, on, on));
        assert_eq!((by("bad", None), by("missing", None), by("due", Some("DDMMYYYY"))), (None, None, None));
        assert_eq!(MoneyValue::Data("balance".into()).resolve(data), Some(123_450));
        assert_eq!(MoneyValue::Data("bad".into()).resolve(data), None);
    }

    #[test]
    fn complete_keys_are_those_nothing_extends() {
        let e = [lit("1"), lit("2"), lit("21"), lit("3")];
        assert_eq!(complete_keys(&e, 2), vec!["1", "21", "3"]);
        // A four-digit extension pattern starting with 1-7 extends 1 but not 0 or 9.
        let e = [lit("0"), lit("1"), lit("9"), pat("[1-7][0-9]{3}")];
        assert_eq!(complete_keys(&e, 4), vec!["0", "9"]);
        // Too many continuations to try: assumed extendable.
        let e = [lit("0"), pat("1[0-9]{11}")];
        assert!(complete_keys(&e, 12).is_empty());
        // A key as long as digit_len is complete anyway.
        let e = [lit("12"), pat("[0-9]{2}")];
        assert_eq!(complete_keys(&e, 2), vec!["12"]);
    }
}
