// SPDX-License-Identifier: GPL-2.0-or-later
//! The IVR engine (互動式語音應答): menus, digit collection, routing on the
//! call's data, business hours, PBX-neutral and without FFI.
//!
//! An [`IvrSession`] is a sans-IO state machine: the call flow
//! ([`crate::flow::ivr`]) asks it for the next [`Command`] (play these
//! prompts and collect digits, set the language, finish by joining a queue,
//! transferring or hanging up), performs it with the PBX's primitives and
//! feeds back what happened ([`Input`]). Wall-clock time comes in with every
//! step, so hours and holidays are tested on a virtual clock.
//!
//! # Configuration (hotline.toml)
//!
//! The vocabulary follows FreeSWITCH's `ivr_menu`. Every table is checked
//! when the file is read; each problem names the file, line and key.
//!
//! ```toml
//! [ivr]                       # optional
//! operator_queue = "support"  # the default exit (else hang up)
//! max_steps = 200             # step budget per caller, then the default exit
//!
//! [[calendar]]
//! name = "office"
//! timezone = "Asia/Ho_Chi_Minh"                       # IANA zone (bundled tz database)
//! hours = ["mon-fri 08:00-17:30", "sat 08:00-12:00"]  # days: mon..sun, ranges a-b, lists a,b, "daily"
//! closed = ["2026-01-01", "2026-02-16..2026-02-20"]   # closed all day (ranges inclusive)
//! open = ["2026-02-21 08:00-12:00"]                   # a date's own hours: over the week and over `closed`
//!
//! [[menu]]
//! name = "main"
//! greet_long = ["welcome", "text:Press 1 for sales"]
//! greet_short = ["text:1 sales, 2 support"]  # on retries, repeat and after play (default greet_long)
//! invalid_sound = ["invalid"]                # a key no entry has (counts a failure)
//! timeout_sound = ["no-input"]               # nothing pressed (counts a timeout)
//! exit_sound = ["goodbye"]                   # before any hang-up from this menu
//! timeout_seconds = 10                       # first key after the prompts (default 10)
//! inter_digit_timeout_seconds = 5            # default timeout/2
//! digit_len = 4                              # most keys; default the longest literal key,
//!                                            # required with a pattern entry
//! max_failures = 3                           # invalid keys before on_max_failures (1-100, default 3)
//! max_timeouts = 3                           # no input before on_max_timeouts
//! on_max_failures = { action = "queue", target = "support" }  # default: the default exit
//! on_max_timeouts = { action = "hangup" }
//! hours = "office"                           # calendar, checked on entering the menu
//! closed = { action = "menu", target = "after_hours" }  # required with hours
//! closed_sound = ["closed"]                  # played before `closed`
//! language = "vi"                            # set the channel's language on entering
//! barge_in = true                            # a key interrupts the prompts (default)
//!   [[menu.entry]]
//!   digits = "1"            # 0-9 * # (one or several), or "/^[0-9]{4}$/" (whole input)
//!   action = "queue"        # see below
//!   target = "sales"
//!   priority = 5            # queue only
//!   skills = "en:3,billing" # queue only (`,` or `+` between skills, level 1-10, default 1)
//!   set = { tier = "gold" } # call data set before the action (any action)
//! ```
//!
//! Actions (entries, `on_max_*`, `closed`, collect `next`/`on_failure`,
//! route rules and defaults, lookup `next`/`fallback`):
//! - `menu` / `collect` / `route` / `lookup`, `target` = the node (of that kind);
//! - `back`: the previous menu (on the first menu: this one again); from a
//!   collect, route or lookup, the menu it was entered from;
//! - `top`: the first menu of this call; `repeat`: this menu again
//!   (`greet_short`, counters kept);
//! - `play`, `prompts = [...]`: played, then this menu again (short
//!   greeting), no failure counted;
//! - `language`, `target` = code: [`Command::SetLanguage`], then this menu
//!   again from its long greeting with fresh counters;
//! - `message`, `target` = a `[[message]]` step: leave a message (below);
//! - exits: `queue` (`target` a configured queue, `priority`, `skills`),
//!   `transfer` (`target` a dialplan target, `{digits}` replaced by the
//!   keys pressed or the value collected), `callback` (`target` a queue:
//!   [`Command::Callback`], a callback task for the caller's number, then
//!   `prompts` and hang up), `hangup`, `return`.
//!
//! Entering a menu evaluates its hours first (closed: `closed_sound`, then
//! `closed`), then sets its `language` when it differs from the caller's,
//! then plays `greet_long`. Entering a menu already on the way (a loop back
//! to `main`) returns to it, so `back` history stays short. A literal key
//! wins over a pattern; literal keys that nothing longer could match are
//! sent as [`Collect::complete`], so they never wait for the inter-digit
//! timeout. The invalid and timeout sounds are played before the menu again
//! or before the exit taken at the maximum.
//!
//! ```toml
//! [[collect]]
//! name = "account"
//! prompts = ["text:Enter your account number then hash"]
//! into = "account"          # call data key
//! min_digits = 4            # default 1
//! max_digits = 12           # default 20
//! terminators = "#"         # default "#"
//! timeout_seconds = 10      # and inter_digit_timeout_seconds (default timeout/2)
//! validate = "luhn"         # "pattern:^9[0-9]+$", "range:1-31", "date:MMYY", "date:YYYYMMDD"
//! invalid_sound = ["invalid"]   # too short, too long or not valid
//! timeout_sound = ["no-input"]
//! read_back = true          # read_back_sound, the digits (Prompt::Digits), confirm_sound,
//! read_back_sound = ["you-entered"]
//! confirm_sound = ["text:Press 1 to confirm"]
//! confirm_key = "1"         # then this key keeps it; anything else asks again
//! max_attempts = 3          # timeouts, invalid values and refusals together
//! sensitive = true          # the key is in IvrSession::sensitive_keys (masked)
//! next = { action = "route", target = "by_tier" }
//! on_failure = { action = "queue", target = "support" }  # default: the default exit
//!
//! [[route]]
//! name = "by_tier"
//! default = { action = "queue", target = "support" }    # required
//!   [[route.rule]]          # the first rule whose conditions all hold
//!   data = { tier = "gold" }
//!   data_prefix = { account = "9" }
//!   caller_prefix = ["+8424", "024"]
//!   caller_in = ["0901234567"]
//!   language = "vi"         # the session's language (as menus and actions set it)
//!   open = "office"         # or closed = "office"
//!   queue = "support"       # with waiting_at_least and/or idle_at_least ([`Facts`])
//!   waiting_at_least = 5
//!   idle_at_least = 1
//!   then = { action = "queue", target = "vip", priority = 10 }
//! ```
//!
//! ```toml
//! [[lookup]]                # a CRM lookup, entered by { action = "lookup", target = "crm" }
//! name = "crm"
//! url = "https://crm.example/api/customer?phone={number}&account={data.account}"
//! timeout_ms = 300          # the whole request (DNS, connect, answer): 50-5000, default 300
//! map = { "customer.tier" = "tier", "customer.name" = "name" }  # JSON path -> data key
//! prompts = ["one-moment"]  # played while waiting (optional, no barge-in)
//! next = { action = "route", target = "by_tier" }
//! fallback = { action = "queue", target = "support" }  # required
//! ```
//!
//! The URL must be `http://` or `https://` with a host before any
//! placeholder; `{number}` is the caller's number and `{data.KEY}` a call
//! data value (empty when unset), every substituted value percent-encoded
//! (all but `A-Z a-z 0-9 - . _ ~`), so a caller number such as `1&x=2 #`
//! cannot add parameters. Entering the step emits [`Command::Lookup`]: the
//! call flow does one GET on a thread of its own (`hotline-lookup`; never
//! the PBX's), plays `prompts` meanwhile and waits at most the timeout
//! from the start. A 2xx answer whose body is a JSON object gives the
//! `map` paths present (dotted into nested objects; strings, numbers and
//! booleans become text, anything else counts as absent), which are set as
//! call data, then `next` runs. A timeout, an HTTP error status, a failed
//! connection, bad JSON (or not an object) or a value the call data cannot
//! take (over its limits, control characters) runs `fallback` and keeps
//! none of the answer. `hotline show ivr` counts lookups ok and failed.
//! HTTPS is rustls (ring provider) with the webpki roots compiled in.
//!
//! `[[message]]`: leave a message (voicemail).
//!
//! ```toml
//! [[message]]
//! name = "leave_sales"
//! mailbox = "sales"          # default: the name; HotlineMessages(sales) plays it
//! prompts = ["text:Please leave a message after the tone."]
//! max_seconds = 120          # 1-3600
//! silence_seconds = 5        # 0-60; 0: only a key, the maximum or a hang-up end it
//! min_seconds = 1            # shorter: discarded, `on_empty` runs
//! beep = true
//! callback = "sales"         # also a callback task in this queue
//! email = ["lead@example.com"]   # notices through [mail]
//! done_sound = ["text:Thank you."]
//! next = { action = "hangup" }   # the default
//! on_empty = { action = "menu", target = "main" }   # default: as next
//! ```
//!
//! Entering the step emits [`Command::Record`]; the flow records and
//! answers [`Input::Recorded`] with the length kept (data
//! `message_seconds`), or None.
//!
//! Menus, collects, routes, lookups and message steps share one namespace. Every node
//! must be able to reach an exit through its actions (`back`, `top`,
//! `repeat`, `play` and `language` count for nothing there; a lookup
//! through its `next` or its `fallback`); the step budget covers what is
//! left (a caller pressing a `play` key for ever).
//!
//! Prompts are sound files (bare names or `file:`), `say:digits:<0-9*#>`,
//! `say:number:<integer>`, `say:date:<YYYY-MM-DD|@key[:format]>`,
//! `say:money:<amount|@key>` and `text:...` ([`config::parse_prompt`]). The
//! sound files must be where the PBX looks for them: a missing one is a
//! load and reload error with its line and key ([`sounds`]). Say prompts
//! and read-backs in Vietnamese or Chinese are played as words Hotline
//! renders itself ([`say`], [`tts`]); in any other language by the PBX.
#![forbid(unsafe_code)]

pub mod config;
pub mod engine;
pub mod hours;
pub mod lookup;
pub mod metrics;
pub mod say;
pub mod sounds;
pub mod tts;
pub mod validate;

pub use config::{Action, ActionKind, CollectConfig, IvrConfig, LookupConfig, MenuConfig, MessageConfig, RouteConfig};
pub use engine::CallerFacts;
pub use engine::IvrSession;

use crate::core::Time;

/// One prompt, as configured. Text prompts reach the PBX as the file they
/// were rendered to ([`Prompt::File`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// A sound file, by the PBX's own name (no extension: `hello-world`,
    /// `ivr/ivr-welcome`, or an absolute path).
    File(String),
    /// Said digit by digit (`say:digits:` in config): by the PBX, or in
    /// Vietnamese and Chinese as Hotline's rendered words ([`say`]).
    Digits(String),
    /// Said as a number (`say:number:`), as digits are.
    Number(i64),
    /// Said as a date (`say:date:2026-12-24`, or `say:date:@due` from the
    /// call's data), as digits are.
    Date(DateValue),
    /// Said as an amount of money (`say:money:12.50`, or
    /// `say:money:@balance`), as digits are.
    Money(MoneyValue),
    /// Text to speak (`text:`), rendered once by espeak-ng.
    Text(String),
}

/// The date of a `say:date:` prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateValue {
    On(jiff::civil::Date),
    /// From the call's data when the prompt plays: `YYYY-MM-DD`,
    /// `YYYYMMDD`, or in the format given (`@birth:DDMMYYYY`, the letters of
    /// a collect step's `date:` validation).
    Data { key: String, format: Option<String> },
}

/// The amount of a `say:money:` prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoneyValue {
    /// In hundredths (12.50 is 1250).
    Cents(i64),
    /// From the call's data when the prompt plays (`12.50`, `-3`, `1250.5`).
    Data(String),
}

impl DateValue {
    /// The date: given, or read from `data` (None: no such key, or not a
    /// date in its format).
    pub fn resolve(&self, data: impl Fn(&str) -> Option<String>) -> Option<jiff::civil::Date> {
        match self {
            DateValue::On(d) => Some(*d),
            DateValue::Data { key, format } => {
                let v = data(key)?;
                match format {
                    Some(f) => validate::parse_date(f, v.trim()),
                    None => parse_date(v.trim()),
                }
            }
        }
    }
}

impl MoneyValue {
    pub fn resolve(&self, data: impl Fn(&str) -> Option<String>) -> Option<i64> {
        match self {
            MoneyValue::Cents(c) => Some(*c),
            MoneyValue::Data(key) => parse_money(data(key)?.trim()),
        }
    }
}

/// `YYYY-MM-DD` or `YYYYMMDD`.
pub fn parse_date(s: &str) -> Option<jiff::civil::Date> {
    let b = s.as_bytes();
    let compact = if b.len() == 10 && b[4] == b'-' && b[7] == b'-' { format!("{}{}{}", &s[..4], &s[5..7], &s[8..]) } else { s.to_string() };
    validate::parse_date("YYYYMMDD", &compact)
}

/// An amount with at most two decimals (`12`, `12.5`, `-0.05`), in
/// hundredths; a third decimal or anything else is not money.
pub fn parse_money(s: &str) -> Option<i64> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) || frac.len() > 2 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let cents = whole.parse::<i64>().ok()?.checked_mul(100)?.checked_add(format!("{frac:0<2}").parse::<i64>().ok()?)?;
    Some(if neg { -cents } else { cents })
}

/// How digits are collected after (and during) the prompts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collect {
    pub min_digits: usize,
    pub max_digits: usize,
    /// Wait for the first digit after the prompts end (ms).
    pub timeout: Time,
    /// Wait between digits (ms).
    pub inter_digit: Time,
    /// Keys that end the input (not part of the value), e.g. "#".
    pub terminators: String,
    /// A key interrupts the prompts (and is the first digit).
    pub barge_in: bool,
    /// Input ends as soon as the digits equal one of these: literal keys no
    /// other key extends and no pattern entry could extend, so a valid key
    /// never waits for the inter-digit timeout.
    pub complete: Vec<String>,
    /// Listen for the menu's words as well (after the prompts); DTMF is
    /// always taken alongside.
    pub speech: Option<std::sync::Arc<Speech>>,
}

/// A menu's spoken words: each phrase stands for one of its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Speech {
    /// The PBX speech engine to listen with (`hotline`: Hotline's own).
    pub engine: String,
    /// Results scored below this (0-100) are not taken.
    pub min_confidence: u8,
    /// (phrase, key), phrases lower case with single spaces.
    pub phrases: Vec<(String, String)>,
}

impl Speech {
    /// The grammar handed to the engine: the phrases, `|` between them.
    pub fn grammar(&self) -> String {
        let mut seen: Vec<&str> = Vec::new();
        for (p, _) in &self.phrases {
            if !seen.contains(&p.as_str()) {
                seen.push(p);
            }
        }
        seen.join("|")
    }

    /// The key a result stands for: a phrase equal to the text, else the
    /// longest phrase found in it as whole words ("i want sales"); None
    /// below the confidence threshold or when no phrase is in it.
    pub fn key_for(&self, text: &str, confidence: u8) -> Option<&str> {
        if confidence < self.min_confidence {
            return None;
        }
        let norm: String = text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        if let Some((_, k)) = self.phrases.iter().find(|(p, _)| *p == norm) {
            return Some(k);
        }
        let padded = format!(" {norm} ");
        self.phrases.iter().filter(|(p, _)| padded.contains(&format!(" {p} "))).max_by_key(|(p, _)| p.len()).map(|(_, k)| k.as_str())
    }
}

/// What the PBX should do next for this caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Play `prompts` in order; with `collect`, gather digits and answer
    /// [`Input::Digits`], else [`Input::Played`].
    Play { prompts: Vec<Prompt>, collect: Option<Collect> },
    /// Set the channel's language (prompt directories follow it); answer
    /// [`Input::Done`].
    SetLanguage(String),
    /// Fetch `url` off the caller's thread while playing the prompts; answer
    /// [`Input::Looked`] within the timeout.
    Lookup(LookupRequest),
    /// Play the prompts, beep and record a message; answer
    /// [`Input::Recorded`].
    Record(RecordRequest),
    /// Queue a callback task for the caller's number in this queue; answer
    /// [`Input::Done`].
    Callback(String),
    /// The IVR is over for this caller.
    Finish(Exit),
}

/// A CRM lookup to perform ([`Command::Lookup`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupRequest {
    /// The URL, placeholders filled (values percent-encoded).
    pub url: String,
    /// The whole request's deadline (ms); past it the answer is
    /// `Input::Looked(Err("timeout"))`.
    pub timeout: Time,
    /// Played (no barge-in, no digits) while waiting.
    pub prompts: Vec<Prompt>,
    /// The dotted JSON paths to extract (the keys of the step's `map`).
    pub paths: Vec<String>,
}

/// A message to record ([`Command::Record`]), from a `[[message]]` step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRequest {
    /// The step's name.
    pub step: String,
    pub mailbox: String,
    /// Played (no barge-in) before the beep.
    pub prompts: Vec<Prompt>,
    pub beep: bool,
    pub max_ms: Time,
    /// Silence that ends the recording (0: none).
    pub silence_ms: Time,
    /// Shorter recordings are discarded.
    pub min_ms: Time,
    /// A callback task goes into this queue for the caller's number.
    pub callback: Option<String>,
}

impl RecordRequest {
    /// The recording a `[[message]]` step asks for, with `prompts` before
    /// the beep.
    pub fn for_step(m: &MessageConfig, prompts: Vec<Prompt>) -> RecordRequest {
        RecordRequest {
            step: m.name.clone(),
            mailbox: m.mailbox.clone(),
            prompts,
            beep: m.beep,
            max_ms: Time::from(m.max_seconds) * 1000,
            silence_ms: Time::from(m.silence_seconds) * 1000,
            min_ms: Time::from(m.min_seconds) * 1000,
            callback: m.callback.clone(),
        }
    }
}

/// How a caller leaves the IVR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// Join a Hotline queue (the call's data goes along).
    Queue { queue: String, priority: i32, skills: Vec<(String, u8)> },
    /// Continue in the dialplan at `target` (Asterisk `context,exten,priority`
    /// or `exten`; FreeSWITCH `exten [dialplan [context]]`).
    Transfer(String),
    /// Hang up (after any goodbye prompt was played).
    Hangup,
    /// Return to the dialplan after the application (`HOTLINE_IVR_RESULT`).
    Return,
}

/// What happened to the last command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The prompts of a `Play` without `collect` were played.
    Played,
    /// The digits collected, terminator excluded; empty: nothing pressed
    /// before the timeout.
    Digits(String),
    /// Words the speech engine heard instead of keys (menus with words),
    /// with its confidence (0-100).
    Spoken { text: String, confidence: u8 },
    /// A `SetLanguage` was done.
    Done,
    /// A `Lookup`'s result: Ok = (JSON path, value as text) for the paths
    /// present in the answer; Err = why not (timeout, HTTP status,
    /// connection, bad JSON).
    Looked(Result<Vec<(String, String)>, String>),
    /// A `Record` is over: the message's length when it was kept, None when
    /// nothing (long enough) was recorded.
    Recorded(Option<Time>),
}

/// What the engine may ask about the world outside the call (routing
/// conditions on queues), answered by the router's published snapshot.
pub trait Facts {
    /// Callers waiting in `queue` (None: no such queue).
    fn waiting(&self, queue: &str) -> Option<usize>;
    /// Agents idle (ready, not on a call) in `queue`.
    fn idle_agents(&self, queue: &str) -> Option<usize>;
}
