//! `hotline.toml`: queues, agents, skills, strategies, rules over time,
//! overflow, caller-area prefixes, owner map, statistics thresholds, the
//! web port (`[http]`) and the mail server for voicemail notices (`[mail]`).
//!
//! Parsing is two steps: serde reads the raw tables (unknown keys and bad
//! types are errors with their line), then [`Config::from_raw`] checks
//! meaning (names unique, references resolve, ranges hold) and reports the
//! file, line and key of the first problem.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::agent_announce::AgentAnnounce;
use super::strategy::Strategy;
use super::{secs, Time};

/// A configuration problem, located: `file:line: key: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(f, "{}:{}: {}: {}", self.file, self.line, self.key, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

// ---------------------------------------------------------------------------
// Raw form, as written.

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    general: RawGeneral,
    #[serde(default, rename = "queue")]
    queues: Vec<Spanned<RawQueue>>,
    #[serde(default, rename = "agent")]
    agents: Vec<Spanned<RawAgent>>,
    /// caller number -> agent name (按客戶轉接).
    #[serde(default)]
    owners: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    store: RawStore,
    #[serde(default)]
    http: RawHttp,
    /// `[mail]`: absent, no e-mail notices.
    #[serde(default)]
    mail: Option<Spanned<RawMail>>,
    /// `[ivr]`, `[[menu]]`, `[[collect]]`, `[[route]]`, `[[calendar]]`.
    #[serde(default)]
    ivr: crate::ivr::config::RawIvr,
    #[serde(default, rename = "menu")]
    menus: Vec<Spanned<crate::ivr::config::RawMenu>>,
    #[serde(default, rename = "collect")]
    collects: Vec<Spanned<crate::ivr::config::RawCollect>>,
    #[serde(default, rename = "route")]
    routes: Vec<Spanned<crate::ivr::config::RawRoute>>,
    #[serde(default, rename = "lookup")]
    lookups: Vec<Spanned<crate::ivr::config::RawLookup>>,
    #[serde(default, rename = "calendar")]
    calendars: Vec<Spanned<crate::ivr::config::RawCalendar>>,
    #[serde(default, rename = "message")]
    messages: Vec<Spanned<crate::ivr::config::RawMessage>>,
    /// `[[webhook]]`: signed event POSTs (`crate::notify::webhook`).
    #[serde(default, rename = "webhook")]
    webhooks: Vec<Spanned<crate::notify::webhook::config::RawWebhook>>,
    /// `[recording]`: where recordings go (`crate::recording`).
    #[serde(default)]
    recording: Option<Spanned<crate::recording::config::RawRecording>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGeneral {
    #[serde(default = "d_service_level")]
    service_level_seconds: f64,
    #[serde(default = "d_short_abandon")]
    short_abandon_seconds: f64,
    /// Enables the `HotlineTestPanic` application (test PBX only).
    #[serde(default)]
    test_hooks: bool,
    /// Service level leaves abandons out of its base (app_queue's
    /// `servicelevel` report); by default they count as not answered in time.
    #[serde(default)]
    service_level_excludes_abandons: bool,
}

impl Default for RawGeneral {
    fn default() -> Self {
        RawGeneral {
            service_level_seconds: d_service_level(),
            short_abandon_seconds: d_short_abandon(),
            test_hooks: false,
            service_level_excludes_abandons: false,
        }
    }
}

/// `[store]`: the durable store (`src/store`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    #[serde(default)]
    path: Option<Spanned<String>>,
    #[serde(default = "d_true")]
    enabled: bool,
}

impl Default for RawStore {
    fn default() -> Self {
        RawStore { path: None, enabled: true }
    }
}

fn d_service_level() -> f64 {
    20.0
}
fn d_short_abandon() -> f64 {
    5.0
}
fn d_true() -> bool {
    true
}
fn d_ring_timeout() -> f64 {
    15.0
}
fn d_max_no_answer() -> u32 {
    3
}
fn d_prefer_wait() -> f64 {
    10.0
}
fn d_retry_exclude() -> f64 {
    30.0
}
fn d_music() -> String {
    "default".into()
}
fn d_no_answer_break() -> f64 {
    60.0
}
/// The default escalation: after this long, or half the ring timeout
/// when that is shorter (a 5 s ring timeout escalates at 2.5 s).
pub const DEFAULT_RING_ESCALATE: Time = 6_000;
fn d_requeue_max() -> u32 {
    1
}
fn d_tier() -> u8 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQueue {
    name: Spanned<String>,
    #[serde(default)]
    strategy: Strategy,
    #[serde(default = "d_ring_timeout")]
    ring_timeout_seconds: f64,
    #[serde(default)]
    wrapup_seconds: f64,
    #[serde(default)]
    max_wait_seconds: f64,
    #[serde(default = "d_max_no_answer")]
    max_no_answer: u32,
    #[serde(default = "d_true")]
    join_when_empty: bool,
    #[serde(default)]
    leave_when_empty: bool,
    #[serde(default)]
    max_callers: usize,
    #[serde(default)]
    weight: i32,
    #[serde(default)]
    announce_every_seconds: f64,
    #[serde(default = "d_music")]
    music_class: String,
    /// Skill whose proficiency orders agents (strategy "skills") and that
    /// members must have.
    #[serde(default)]
    skill: Option<Spanned<String>>,
    #[serde(default)]
    min_proficiency: Option<Spanned<u8>>,
    /// Initial widest tier a caller may reach (widened by `[[queue.widen]]`).
    #[serde(default)]
    max_tier: Option<u8>,
    #[serde(default)]
    max_penalty: Option<u32>,
    /// Remember the agent who last served a caller for this long (按記憶分配).
    #[serde(default)]
    sticky_seconds: f64,
    /// Route callers listed in `[owners]` to their owner agent first.
    #[serde(default)]
    use_owners: bool,
    /// How long a caller waits for its preferred (sticky, owner, area) agents
    /// before any agent may take it.
    #[serde(default = "d_prefer_wait")]
    prefer_wait_seconds: f64,
    /// After a failed offer, the same agent is skipped for this caller for
    /// this long (while other agents exist).
    #[serde(default = "d_retry_exclude")]
    retry_exclude_seconds: f64,
    /// Dial string for callbacks, `{number}` replaced by the caller's
    /// number (e.g. `PJSIP/{number}@trunk`). Without it, no callbacks.
    #[serde(default)]
    callback_contact: Option<Spanned<String>>,
    /// Caller numbers a callback may dial (a regular expression matched
    /// against the whole number).
    #[serde(default)]
    callback_number_pattern: Option<Spanned<String>>,
    /// A busy answer counts towards `max_no_answer` (app_queue's
    /// `autopausebusy`); by default only ring-outs and rejections do.
    #[serde(default)]
    autopause_busy: bool,
    /// An unreachable agent counts towards `max_no_answer` (`autopauseunavail`).
    #[serde(default)]
    autopause_unavailable: bool,
    /// A `no-answer` break ends by itself after this long (0: only by hand).
    #[serde(default = "d_no_answer_break")]
    no_answer_break_seconds: f64,
    /// An agent who hangs up within this long of answering sends the caller
    /// back to the head of the line (0: off).
    #[serde(default)]
    requeue_short_seconds: f64,
    /// At most this many such requeues per call.
    #[serde(default = "d_requeue_max")]
    requeue_max: u32,
    /// An offer that rang one agent this long rings one more idle agent
    /// alongside (0: off; unset: 6 s or half the ring timeout, the shorter).
    #[serde(default)]
    ring_escalate_seconds: Option<f64>,
    /// An agent that answered busy is offered no caller for this long.
    #[serde(default)]
    busy_backoff_seconds: f64,
    #[serde(default)]
    widen: Vec<Spanned<RawWiden>>,
    #[serde(default)]
    overflow: Vec<Spanned<RawOverflow>>,
    #[serde(default)]
    area: Vec<Spanned<RawArea>>,
    /// Said to the answered agent before the bridge: a prompt file,
    /// "queue" or "data:<key>".
    #[serde(default)]
    agent_announce: Option<Spanned<String>>,
    /// Members' phones answer by themselves (agents may override).
    #[serde(default)]
    auto_answer: bool,
    /// The screen-pop URL template (agents may override).
    #[serde(default)]
    popup_url: Option<Spanned<String>>,
    /// An IVR node the caller goes to when the agent hangs up (the
    /// satisfaction survey; the answer is its data key `survey`).
    #[serde(default)]
    survey: Option<Spanned<String>>,
    /// A `[[message]]` step a waiting caller may leave a message in by
    /// pressing `message_key`: its callback keeps the caller's place.
    #[serde(default)]
    message: Option<Spanned<String>>,
    #[serde(default)]
    message_key: Option<Spanned<String>>,
    /// Recording (`crate::recording::config`): never, on-demand, always.
    #[serde(default)]
    record: Option<Spanned<String>>,
    #[serde(default)]
    record_format: Option<Spanned<String>>,
    #[serde(default)]
    record_stereo: bool,
    #[serde(default)]
    record_retention_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWiden {
    after_seconds: f64,
    #[serde(default)]
    max_tier: Option<u8>,
    #[serde(default)]
    max_penalty: Option<u32>,
    #[serde(default)]
    drop_skills: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverflow {
    to: Spanned<String>,
    #[serde(default)]
    after_seconds: f64,
    #[serde(default)]
    waiting_over: Option<usize>,
    #[serde(default)]
    target_idle_at_least: Option<usize>,
    #[serde(default)]
    no_agents: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArea {
    prefix: Spanned<String>,
    #[serde(default)]
    to: Option<Spanned<String>>,
    #[serde(default)]
    agents: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgent {
    name: Spanned<String>,
    contact: Spanned<String>,
    #[serde(default)]
    device: Option<String>,
    #[serde(default)]
    queues: Vec<Spanned<String>>,
    #[serde(default)]
    member: Vec<Spanned<RawMember>>,
    #[serde(default)]
    skills: BTreeMap<String, Spanned<u8>>,
    #[serde(default)]
    wrapup_seconds: Option<f64>,
    #[serde(default)]
    max_no_answer: Option<u32>,
    #[serde(default)]
    state: InitialState,
    /// The agent's phone answers offers by itself (a headset); default: the
    /// queue's `auto_answer`.
    #[serde(default)]
    auto_answer: Option<bool>,
    /// The agent's own screen-pop URL template, over the queue's.
    #[serde(default)]
    popup_url: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMember {
    queue: Spanned<String>,
    #[serde(default = "d_tier")]
    tier: u8,
    #[serde(default)]
    penalty: u32,
}

/// State an agent has when the configuration first names it.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum InitialState {
    #[default]
    Available,
    LoggedOut,
}

/// `[http]`: the web port (off unless `listen` is set).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    #[serde(default)]
    listen: Option<Spanned<String>>,
    #[serde(default)]
    tls_cert: Option<Spanned<String>>,
    #[serde(default)]
    tls_key: Option<Spanned<String>>,
    #[serde(default = "d_max_body")]
    max_body_bytes: Spanned<usize>,
    #[serde(default = "d_request_timeout")]
    request_timeout_seconds: Spanned<f64>,
    #[serde(default, rename = "token")]
    tokens: Vec<Spanned<RawToken>>,
}

impl Default for RawHttp {
    fn default() -> Self {
        RawHttp {
            listen: None,
            tls_cert: None,
            tls_key: None,
            max_body_bytes: d_max_body(),
            request_timeout_seconds: d_request_timeout(),
            tokens: Vec::new(),
        }
    }
}

/// `[mail]`: the SMTP server for voicemail notices (`crate::notify`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMail {
    #[serde(default)]
    server: Option<Spanned<String>>,
    #[serde(default)]
    port: Option<Spanned<i64>>,
    #[serde(default)]
    tls: Option<Spanned<String>>,
    #[serde(default)]
    from: Option<Spanned<String>>,
    #[serde(default)]
    username: Option<Spanned<String>>,
    #[serde(default)]
    password: Option<Spanned<String>>,
    #[serde(default)]
    timeout_seconds: Option<Spanned<i64>>,
    #[serde(default)]
    retries: Option<Spanned<i64>>,
    #[serde(default)]
    retry_seconds: Option<Spanned<f64>>,
    #[serde(default)]
    subject: Option<Spanned<String>>,
    #[serde(default = "d_true")]
    attach: bool,
}

fn d_max_body() -> Spanned<usize> {
    Spanned::new(0..0, 64 * 1024)
}
fn d_request_timeout() -> Spanned<f64> {
    Spanned::new(0..0, 10.0)
}

/// `[[http.token]]`: one API credential and what it may do.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToken {
    token: Spanned<String>,
    role: Role,
    #[serde(default)]
    agent: Option<Spanned<String>>,
    #[serde(default)]
    queues: Vec<Spanned<String>>,
    #[serde(default)]
    name: Option<String>,
}

/// What a web token may do.
#[derive(Deserialize, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, on every queue and agent.
    Admin,
    /// Reads and agent commands, limited to its queues when it has some.
    Supervisor,
    /// Reads about itself and its queues; logs itself in and out, breaks.
    Agent,
    /// Read-only (wall screens), limited to its queues when it has some.
    Viewer,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Agent => "agent",
            Role::Viewer => "viewer",
        }
    }
}

// ---------------------------------------------------------------------------
// Typed, validated form.

#[derive(Debug, Clone, PartialEq)]
pub struct General {
    pub service_level: Time,
    pub short_abandon: Time,
    pub test_hooks: bool,
    pub service_level_excludes_abandons: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Widen {
    pub after: Time,
    pub max_tier: Option<u8>,
    pub max_penalty: Option<u32>,
    pub drop_skills: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Overflow {
    pub to: String,
    pub after: Time,
    pub waiting_over: Option<usize>,
    pub target_idle_at_least: Option<usize>,
    pub no_agents: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AreaTarget {
    Queue(String),
    Agents(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    pub prefix: String,
    pub target: AreaTarget,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueConfig {
    pub name: String,
    pub strategy: Strategy,
    pub ring_timeout: Time,
    pub wrapup: Time,
    pub max_wait: Option<Time>,
    pub max_no_answer: u32,
    pub join_when_empty: bool,
    pub leave_when_empty: bool,
    pub max_callers: Option<usize>,
    pub weight: i32,
    pub announce_every: Option<Time>,
    pub music_class: String,
    pub skill: Option<String>,
    pub min_proficiency: u8,
    pub max_tier: u8,
    pub max_penalty: u32,
    pub sticky: Option<Time>,
    pub use_owners: bool,
    pub prefer_wait: Time,
    pub retry_exclude: Time,
    pub callback_contact: Option<String>,
    /// Numbers a callback may dial.
    pub callback_numbers: NumberPattern,
    pub autopause_busy: bool,
    pub autopause_unavailable: bool,
    pub no_answer_break: Option<Time>,
    /// `requeue_short_seconds`: a talk the agent ends sooner requeues the caller.
    pub requeue_short: Option<Time>,
    pub requeue_max: u32,
    /// `ring_escalate_seconds` (None: off).
    pub ring_escalate: Option<Time>,
    pub busy_backoff: Time,
    pub widen: Vec<Widen>,
    pub overflow: Vec<Overflow>,
    pub areas: Vec<Area>,
    /// Said to the answered agent before the bridge.
    pub agent_announce: Option<AgentAnnounce>,
    /// Members' phones answer by themselves unless the agent says otherwise.
    pub auto_answer: bool,
    /// The screen-pop URL (`popup_url`), unless the agent has its own.
    pub popup_url: Option<super::popup::PopupUrl>,
    /// The satisfaction survey: the IVR node the caller goes to when the
    /// agent hangs up.
    pub survey: Option<String>,
    /// The `[[message]]` step behind `message_key` (a waiting caller leaves
    /// a message; a callback keeps its place in line).
    pub message: Option<String>,
    pub message_key: Option<char>,
    /// Whether and how calls are recorded.
    pub recording: crate::recording::QueueRecording,
}

/// A whole-number pattern for caller numbers (a regular expression).
#[derive(Debug, Clone)]
pub struct NumberPattern {
    source: String,
    re: regex_lite::Regex,
}

impl NumberPattern {
    /// Digits with an optional leading `+`, at most 20.
    pub const DEFAULT: &'static str = r"\+?[0-9]{1,20}";

    pub fn new(pattern: &str) -> Result<NumberPattern, String> {
        let re = regex_lite::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| format!("not a regular expression: {e}"))?;
        Ok(NumberPattern { source: pattern.to_string(), re })
    }

    /// The whole number matches.
    pub fn matches(&self, number: &str) -> bool {
        self.re.is_match(number)
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl Default for NumberPattern {
    fn default() -> Self {
        NumberPattern::new(NumberPattern::DEFAULT).expect("the default pattern compiles")
    }
}

impl PartialEq for NumberPattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub queue: String,
    pub tier: u8,
    pub penalty: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AgentConfig {
    pub name: String,
    pub contact: String,
    pub device: String,
    pub members: Vec<Membership>,
    /// (skill, proficiency 1-10), sorted by skill name.
    pub skills: Vec<(String, u8)>,
    pub wrapup: Option<Time>,
    pub max_no_answer: Option<u32>,
    pub initial: InitialState,
    /// `Some`: the agent's own auto-answer setting, over the queue's.
    pub auto_answer: Option<bool>,
    /// The agent's own screen-pop URL, over the queue's.
    pub popup_url: Option<super::popup::PopupUrl>,
}

impl AgentConfig {
    pub fn proficiency(&self, skill: &str) -> u8 {
        self.skills
            .iter()
            .find(|(s, _)| s == skill)
            .map(|(_, p)| *p)
            .unwrap_or(0)
    }
}

/// Where and whether to keep durable state (agent states, run-time members,
/// pending callbacks, the event log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// The database file. `None`: the adapter picks one in the PBX's data
    /// directory (that is where the PBX keeps its own state).
    pub path: Option<PathBuf>,
    pub enabled: bool,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig { path: None, enabled: true }
    }
}

/// The web port's settings. Read with the rest of the file; the web server
/// takes them when it starts (a reload does not move a listening port).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    /// None: no web port.
    pub listen: Option<SocketAddr>,
    /// Certificate chain and private key (PEM): HTTPS instead of HTTP.
    pub tls: Option<TlsFiles>,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub tokens: Vec<HttpToken>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: None,
            tls: None,
            max_body_bytes: *d_max_body().get_ref(),
            request_timeout: Duration::from_secs_f64(*d_request_timeout().get_ref()),
            tokens: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// One API credential. `Debug` leaves the secret out (configurations get
/// logged).
#[derive(Clone, PartialEq)]
pub struct HttpToken {
    pub token: String,
    pub role: Role,
    /// Role agent: the agent this token is.
    pub agent: Option<String>,
    /// Supervisor or viewer: the queues it covers (empty: all).
    pub queues: Vec<String>,
    /// Label for logs (default: the role and its place in the file).
    pub name: String,
}

impl fmt::Debug for HttpToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpToken")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("agent", &self.agent)
            .field("queues", &self.queues)
            .finish_non_exhaustive()
    }
}

/// Shortest accepted token: long enough that guessing is hopeless.
pub const MIN_TOKEN_CHARS: usize = 16;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where it was read from (for messages).
    pub source: String,
    pub general: General,
    pub queues: Vec<QueueConfig>,
    pub agents: Vec<AgentConfig>,
    /// caller number -> agent name.
    pub owners: HashMap<String, String>,
    pub store: StoreConfig,
    pub http: HttpConfig,
    /// `[mail]`: None when the table is absent (no e-mail notices).
    pub mail: Option<crate::notify::MailConfig>,
    /// Menus, collect and route steps, calendars (`crate::ivr`).
    pub ivr: std::sync::Arc<crate::ivr::IvrConfig>,
    /// The queues' `agent_announce` sound files, where written (checked
    /// at load with the IVR's, [`crate::ivr::sounds::check`]).
    pub announce_sounds: Vec<crate::ivr::sounds::SoundRef>,
    /// `[[webhook]]` endpoints.
    pub webhooks: Vec<crate::notify::webhook::WebhookConfig>,
    /// `[recording]`.
    pub recording: crate::recording::RecordingConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            source: "<default>".into(),
            general: General { service_level: secs(20.0), short_abandon: secs(5.0), test_hooks: false, service_level_excludes_abandons: false },
            queues: Vec::new(),
            agents: Vec::new(),
            owners: HashMap::new(),
            store: StoreConfig::default(),
            http: HttpConfig::default(),
            mail: None,
            ivr: Default::default(),
            announce_sounds: Vec::new(),
            webhooks: Vec::new(),
            recording: crate::recording::RecordingConfig { root: None, file: crate::recording::config::DEFAULT_FILE.into() },
        }
    }
}

impl Config {
    /// Read and validate a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: file.clone(),
            line: 0,
            key: String::new(),
            message: format!("cannot read: {e}"),
        })?;
        Config::parse(&text, &file)
    }

    /// Parse and validate configuration text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let (line, key) = match e.span() {
                Some(span) => (line_of(text, span.start), key_at(text, span.start)),
                None => (0, String::new()),
            };
            ConfigError { file: file.into(), line, key, message: e.message().trim().to_string() }
        })?;
        Config::from_raw(raw, text, file)
    }

    pub fn queue(&self, name: &str) -> Option<&QueueConfig> {
        self.queues.iter().find(|q| q.name == name)
    }

    pub fn agent(&self, name: &str) -> Option<&AgentConfig> {
        self.agents.iter().find(|a| a.name == name)
    }

    fn from_raw(raw: RawConfig, text: &str, file: &str) -> Result<Config, ConfigError> {
        let err = |span: std::ops::Range<usize>, key: &str, message: String| ConfigError {
            file: file.into(),
            line: line_of(text, span.start),
            key: key.into(),
            message,
        };
        let g = &raw.general;
        for (k, v) in [
            ("general.service_level_seconds", g.service_level_seconds),
            ("general.short_abandon_seconds", g.short_abandon_seconds),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(ConfigError {
                    file: file.into(),
                    line: find_key_line(text, k.rsplit('.').next().unwrap_or(k)),
                    key: k.into(),
                    message: format!("must be a non-negative number of seconds, got {v}"),
                });
            }
        }
        let general = General {
            service_level: secs(g.service_level_seconds),
            short_abandon: secs(g.short_abandon_seconds),
            test_hooks: g.test_hooks,
            service_level_excludes_abandons: g.service_level_excludes_abandons,
        };

        // Queue names first: references are checked against them.
        let mut queue_names = HashSet::new();
        for q in &raw.queues {
            let name = q.get_ref().name.get_ref();
            if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c == ',') {
                return Err(err(q.get_ref().name.span(), "queue.name", format!("invalid queue name {name:?}: no spaces or commas")));
            }
            if !queue_names.insert(name.clone()) {
                return Err(err(q.get_ref().name.span(), "queue.name", format!("duplicate queue {name:?}")));
            }
        }
        let mut agent_names = HashSet::new();
        for a in &raw.agents {
            let name = a.get_ref().name.get_ref();
            if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c == ',') {
                return Err(err(a.get_ref().name.span(), "agent.name", format!("invalid agent name {name:?}: no spaces or commas")));
            }
            if !agent_names.insert(name.clone()) {
                return Err(err(a.get_ref().name.span(), "agent.name", format!("duplicate agent {name:?}")));
            }
        }
        let check_queue = |s: &Spanned<String>, key: &str| -> Result<String, ConfigError> {
            if queue_names.contains(s.get_ref()) {
                Ok(s.get_ref().clone())
            } else {
                Err(err(s.span(), key, format!("no queue named {:?}", s.get_ref())))
            }
        };
        let check_agent = |s: &Spanned<String>, key: &str| -> Result<String, ConfigError> {
            if agent_names.contains(s.get_ref()) {
                Ok(s.get_ref().clone())
            } else {
                Err(err(s.span(), key, format!("no agent named {:?}", s.get_ref())))
            }
        };
        let seconds = |v: f64, span: std::ops::Range<usize>, key: &str| -> Result<Time, ConfigError> {
            if v >= 0.0 && v.is_finite() {
                Ok(secs(v))
            } else {
                Err(ConfigError {
                    file: file.into(),
                    line: find_key_line_from(text, span.start, key),
                    key: key.into(),
                    message: format!("must be a non-negative number of seconds, got {v}"),
                })
            }
        };

        let mut queues = Vec::new();
        let mut announce_sounds = Vec::new();
        for sq in &raw.queues {
            let span = sq.span();
            let q = sq.get_ref();
            let key = |k: &str| format!("queue[{}].{k}", q.name.get_ref());
            let mut widen = Vec::new();
            let mut last_after = 0;
            for w in &q.widen {
                let wr = w.get_ref();
                let after = seconds(wr.after_seconds, w.span(), "after_seconds")?;
                if after < last_after {
                    return Err(err(w.span(), &key("widen.after_seconds"), "widen rules must be in increasing after_seconds order".into()));
                }
                last_after = after;
                if wr.max_tier == Some(0) {
                    return Err(err(w.span(), &key("widen.max_tier"), "tiers start at 1".into()));
                }
                widen.push(Widen { after, max_tier: wr.max_tier, max_penalty: wr.max_penalty, drop_skills: wr.drop_skills });
            }
            let mut overflow = Vec::new();
            for o in &q.overflow {
                let or = o.get_ref();
                let to = check_queue(&or.to, &key("overflow.to"))?;
                if &to == q.name.get_ref() {
                    return Err(err(or.to.span(), &key("overflow.to"), "a queue cannot overflow to itself".into()));
                }
                overflow.push(Overflow {
                    to,
                    after: seconds(or.after_seconds, o.span(), "after_seconds")?,
                    waiting_over: or.waiting_over,
                    target_idle_at_least: or.target_idle_at_least,
                    no_agents: or.no_agents,
                });
            }
            let mut areas = Vec::new();
            for a in &q.area {
                let ar = a.get_ref();
                let target = match (&ar.to, ar.agents.is_empty()) {
                    (Some(t), true) => AreaTarget::Queue(check_queue(t, &key("area.to"))?),
                    (None, false) => AreaTarget::Agents(
                        ar.agents.iter().map(|s| check_agent(s, &key("area.agents"))).collect::<Result<_, _>>()?,
                    ),
                    _ => return Err(err(a.span(), &key("area"), "give exactly one of `to` (a queue) or `agents`".into())),
                };
                if ar.prefix.get_ref().is_empty() {
                    return Err(err(ar.prefix.span(), &key("area.prefix"), "empty prefix".into()));
                }
                areas.push(Area { prefix: ar.prefix.get_ref().clone(), target });
            }
            // Longest prefix first, so the first match is the most specific.
            areas.sort_by(|a, b| b.prefix.len().cmp(&a.prefix.len()));
            let min_proficiency = match &q.min_proficiency {
                Some(p) if !(1..=10).contains(p.get_ref()) => {
                    return Err(err(p.span(), &key("min_proficiency"), format!("proficiency is 1-10, got {}", p.get_ref())))
                }
                Some(p) => *p.get_ref(),
                None => 1,
            };
            if q.strategy == Strategy::Skills && q.skill.is_none() {
                return Err(err(q.name.span(), &key("skill"), "strategy \"skills\" needs `skill = \"...\"`".into()));
            }
            if let Some(c) = &q.callback_contact {
                if !c.get_ref().contains("{number}") || !c.get_ref().contains('/') {
                    return Err(err(c.span(), &key("callback_contact"), "a dial string with {number}, e.g. \"PJSIP/{number}@trunk\"".into()));
                }
            }
            if q.max_tier == Some(0) {
                return Err(err(span.clone(), &key("max_tier"), "tiers start at 1".into()));
            }
            let callback_numbers = match &q.callback_number_pattern {
                Some(p) => NumberPattern::new(p.get_ref()).map_err(|e| err(p.span(), &key("callback_number_pattern"), e))?,
                None => NumberPattern::default(),
            };
            let agent_announce = match &q.agent_announce {
                Some(a) => Some(AgentAnnounce::parse(a.get_ref()).map_err(|e| err(a.span(), &key("agent_announce"), e))?),
                None => None,
            };
            if let (Some(AgentAnnounce::File(name)), Some(a)) = (&agent_announce, &q.agent_announce) {
                // Played in the agent's language, known during the call.
                let line = line_of(text, a.span().start);
                announce_sounds.push(crate::ivr::sounds::SoundRef { name: name.clone(), line, key: key("agent_announce"), language: None });
            }
            queues.push(QueueConfig {
                name: q.name.get_ref().clone(),
                strategy: q.strategy,
                ring_timeout: seconds(q.ring_timeout_seconds, span.clone(), "ring_timeout_seconds")?.max(1),
                wrapup: seconds(q.wrapup_seconds, span.clone(), "wrapup_seconds")?,
                max_wait: nonzero(seconds(q.max_wait_seconds, span.clone(), "max_wait_seconds")?),
                max_no_answer: q.max_no_answer,
                join_when_empty: q.join_when_empty,
                leave_when_empty: q.leave_when_empty,
                max_callers: if q.max_callers == 0 { None } else { Some(q.max_callers) },
                weight: q.weight,
                announce_every: nonzero(seconds(q.announce_every_seconds, span.clone(), "announce_every_seconds")?),
                music_class: q.music_class.clone(),
                skill: q.skill.as_ref().map(|s| s.get_ref().clone()),
                min_proficiency,
                max_tier: q.max_tier.unwrap_or(u8::MAX),
                max_penalty: q.max_penalty.unwrap_or(u32::MAX),
                sticky: nonzero(seconds(q.sticky_seconds, span.clone(), "sticky_seconds")?),
                use_owners: q.use_owners,
                prefer_wait: seconds(q.prefer_wait_seconds, span.clone(), "prefer_wait_seconds")?,
                retry_exclude: seconds(q.retry_exclude_seconds, span.clone(), "retry_exclude_seconds")?,
                callback_contact: q.callback_contact.as_ref().map(|c| c.get_ref().clone()),
                callback_numbers,
                autopause_busy: q.autopause_busy,
                autopause_unavailable: q.autopause_unavailable,
                no_answer_break: nonzero(seconds(q.no_answer_break_seconds, span.clone(), "no_answer_break_seconds")?),
                requeue_short: nonzero(seconds(q.requeue_short_seconds, span.clone(), "requeue_short_seconds")?),
                requeue_max: q.requeue_max,
                ring_escalate: match q.ring_escalate_seconds {
                    Some(v) => nonzero(seconds(v, span.clone(), "ring_escalate_seconds")?),
                    None => {
                        let ring = seconds(q.ring_timeout_seconds, span.clone(), "ring_timeout_seconds")?.max(1);
                        Some(DEFAULT_RING_ESCALATE.min(ring / 2)).filter(|&e| e > 0)
                    }
                },
                busy_backoff: seconds(q.busy_backoff_seconds, span.clone(), "busy_backoff_seconds")?,
                widen,
                overflow,
                areas,
                agent_announce,
                auto_answer: q.auto_answer,
                popup_url: match &q.popup_url {
                    Some(t) => Some(super::popup::PopupUrl::parse(t.get_ref()).map_err(|e| err(t.span(), &key("popup_url"), e))?),
                    None => None,
                },
                survey: q.survey.as_ref().map(|s| s.get_ref().clone()),
                recording: crate::recording::QueueRecording::from_raw(
                    q.record.as_ref().map(|r| r.get_ref().as_str()),
                    q.record_format.as_ref().map(|r| r.get_ref().as_str()),
                    q.record_stereo,
                    q.record_retention_days,
                )
                .map_err(|(k, e)| err(q.record_format.as_ref().filter(|_| k == "record_format").or(q.record.as_ref()).map_or(span.clone(), |r| r.span()), &key(k), e))?,
                message: q.message.as_ref().map(|s| s.get_ref().clone()),
                message_key: match &q.message_key {
                    Some(k) => {
                        let d = crate::app_args::parse_callback_digit(k.get_ref()).map_err(|e| err(k.span(), &key("message_key"), e))?;
                        if q.message.is_none() {
                            return Err(err(k.span(), &key("message_key"), "needs `message = \"<a [[message]] step>\"`".into()));
                        }
                        if q.callback_contact.is_none() {
                            return Err(err(k.span(), &key("message_key"), "needs callback_contact (the message's callback keeps the caller's place)".into()));
                        }
                        Some(d)
                    }
                    None => None,
                },
            });
        }

        let mut agents = Vec::new();
        for sa in &raw.agents {
            let a = sa.get_ref();
            let name = a.name.get_ref().clone();
            let key = |k: &str| format!("agent[{name}].{k}");
            if a.contact.get_ref().trim().is_empty() {
                return Err(err(a.contact.span(), &key("contact"), "empty contact (a dial string such as PJSIP/1001)".into()));
            }
            let mut members: Vec<Membership> = Vec::new();
            for q in &a.queues {
                members.push(Membership { queue: check_queue(q, &key("queues"))?, tier: 1, penalty: 0 });
            }
            for m in &a.member {
                let mr = m.get_ref();
                let queue = check_queue(&mr.queue, &key("member.queue"))?;
                if mr.tier == 0 {
                    return Err(err(m.span(), &key("member.tier"), "tiers start at 1".into()));
                }
                members.push(Membership { queue, tier: mr.tier, penalty: mr.penalty });
            }
            let mut seen = HashSet::new();
            for (m, span) in members.iter().zip(a.queues.iter().map(|s| s.span()).chain(a.member.iter().map(|m| m.span()))) {
                if !seen.insert(m.queue.clone()) {
                    return Err(err(span, &key("queues"), format!("agent is in queue {:?} twice", m.queue)));
                }
            }
            let mut skills = Vec::new();
            for (s, p) in &a.skills {
                if !(1..=10).contains(p.get_ref()) {
                    return Err(err(p.span(), &key(&format!("skills.{s}")), format!("proficiency is 1-10, got {}", p.get_ref())));
                }
                skills.push((s.clone(), *p.get_ref()));
            }
            let wrapup = match a.wrapup_seconds {
                Some(w) => Some(seconds(w, sa.span(), "wrapup_seconds")?),
                None => None,
            };
            agents.push(AgentConfig {
                name,
                contact: a.contact.get_ref().trim().to_string(),
                device: a.device.clone().unwrap_or_else(|| device_of(a.contact.get_ref().trim())),
                members,
                skills,
                wrapup,
                max_no_answer: a.max_no_answer,
                initial: a.state,
                auto_answer: a.auto_answer,
                popup_url: match &a.popup_url {
                    Some(t) => Some(super::popup::PopupUrl::parse(t.get_ref()).map_err(|e| err(t.span(), &format!("agent[{}].popup_url", a.name.get_ref()), e))?),
                    None => None,
                },
            });
        }

        // Members of a skills queue must have its skill at the minimum level.
        for q in &queues {
            if let Some(skill) = &q.skill {
                for (a, sa) in agents.iter().zip(&raw.agents) {
                    if a.members.iter().any(|m| m.queue == q.name) && a.proficiency(skill) < q.min_proficiency {
                        return Err(err(
                            sa.get_ref().name.span(),
                            &format!("agent[{}].skills.{skill}", a.name),
                            format!(
                                "member of queue {:?}, which needs skill {skill:?} at proficiency >= {}",
                                q.name, q.min_proficiency
                            ),
                        ));
                    }
                }
            }
        }

        let mut owners = HashMap::new();
        for (number, agent) in &raw.owners {
            owners.insert(number.clone(), check_agent(agent, &format!("owners.{number}"))?);
        }

        let store = StoreConfig {
            path: match &raw.store.path {
                Some(p) if p.get_ref().trim().is_empty() => {
                    return Err(err(p.span(), "store.path", "empty path (leave it out for the PBX's data directory)".into()))
                }
                p => p.as_ref().map(|p| PathBuf::from(p.get_ref())),
            },
            enabled: raw.store.enabled,
        };

        let http = http_from_raw(&raw.http, &err, &check_queue, &check_agent)?;
        let mail = match &raw.mail {
            Some(m) => Some(mail_from_raw(m, &err)?),
            None => None,
        };

        let ivr = crate::ivr::config::from_raw(
            crate::ivr::config::RawParts {
                ivr: &raw.ivr,
                menus: &raw.menus,
                collects: &raw.collects,
                routes: &raw.routes,
                lookups: &raw.lookups,
                messages: &raw.messages,
                calendars: &raw.calendars,
            },
            text,
            file,
            &queue_names,
        )?;
        for q in &raw.queues {
            if let Some(m) = &q.get_ref().message {
                if !ivr.messages.iter().any(|s| s.name == *m.get_ref()) {
                    let key = format!("queue[{}].message", q.get_ref().name.get_ref());
                    return Err(err(m.span(), &key, format!("no [[message]] step named {:?}", m.get_ref())));
                }
            }
            if let Some(sv) = &q.get_ref().survey {
                if !ivr.has_node(sv.get_ref()) {
                    let key = format!("queue[{}].survey", q.get_ref().name.get_ref());
                    return Err(err(sv.span(), &key, format!("no IVR menu, collect or route step named {:?}", sv.get_ref())));
                }
            }
        }
        if mail.is_none() {
            if let Some((m, span)) = ivr.messages.iter().zip(&raw.messages).find(|(m, _)| !m.email.is_empty()).map(|(m, r)| (m, r.span())) {
                return Err(err(span, &format!("message[{}].email", m.name), "e-mail notices need a [mail] table (the SMTP server)".into()));
            }
        }

        let webhooks = crate::notify::webhook::config::from_raw(&raw.webhooks, &err, &check_queue, &check_agent)?;
        if let (Some(first), false) = (raw.webhooks.first(), store.enabled) {
            return Err(err(first.span(), "webhook", "webhooks are delivered from an outbox in the store: [store] enabled must be true".into()));
        }
        let recording = match &raw.recording {
            Some(r) => crate::recording::RecordingConfig::from_raw(r.get_ref()).map_err(|(k, e)| err(r.span(), &format!("recording.{k}"), e))?,
            None => crate::recording::RecordingConfig::from_raw(&Default::default()).map_err(|(k, e)| err(0..0, &format!("recording.{k}"), e))?,
        };
        Ok(Config { source: file.into(), general, queues, agents, owners, store, http, mail, ivr: std::sync::Arc::new(ivr), announce_sounds, webhooks, recording })
    }
}

/// Makes the error for a span, a key and a message.
type ErrorAt<'a> = &'a dyn Fn(std::ops::Range<usize>, &str, String) -> ConfigError;
/// Checks that a name refers to a configured queue (or agent).
type Reference<'a> = &'a dyn Fn(&Spanned<String>, &str) -> Result<String, ConfigError>;

/// Check `[http]`: an address to listen on, TLS files in pairs, tokens long
/// enough and scoped sensibly for their role.
fn http_from_raw(h: &RawHttp, err: ErrorAt<'_>, check_queue: Reference<'_>, check_agent: Reference<'_>) -> Result<HttpConfig, ConfigError> {
    let listen = match &h.listen {
        Some(l) => Some(l.get_ref().trim().parse::<SocketAddr>().map_err(|_| {
            err(l.span(), "http.listen", format!("{:?} is not an address:port such as \"127.0.0.1:8090\"", l.get_ref()))
        })?),
        None => None,
    };
    let tls = match (&h.tls_cert, &h.tls_key) {
        (Some(c), Some(k)) => Some(TlsFiles { cert: PathBuf::from(c.get_ref()), key: PathBuf::from(k.get_ref()) }),
        (None, None) => None,
        (Some(c), None) => return Err(err(c.span(), "http.tls_key", "tls_cert needs tls_key (the certificate's private key)".into())),
        (None, Some(k)) => return Err(err(k.span(), "http.tls_cert", "tls_key needs tls_cert (the certificate chain)".into())),
    };
    if *h.max_body_bytes.get_ref() == 0 {
        return Err(err(h.max_body_bytes.span(), "http.max_body_bytes", "must be at least 1".into()));
    }
    let timeout = *h.request_timeout_seconds.get_ref();
    if !(timeout > 0.0 && timeout.is_finite() && timeout < 86_400.0) {
        return Err(err(
            h.request_timeout_seconds.span(),
            "http.request_timeout_seconds",
            format!("must be a positive number of seconds (under a day), got {timeout}"),
        ));
    }
    let mut tokens: Vec<HttpToken> = Vec::new();
    for (i, st) in h.tokens.iter().enumerate() {
        let t = st.get_ref();
        let name = t.name.clone().unwrap_or_else(|| format!("{} token #{}", t.role.name(), i + 1));
        let key = |k: &str| format!("http.token[{name}].{k}");
        let secret = t.token.get_ref();
        if secret.chars().count() < MIN_TOKEN_CHARS || secret.trim() != secret {
            return Err(err(t.token.span(), &key("token"), format!("at least {MIN_TOKEN_CHARS} characters, no surrounding spaces")));
        }
        if tokens.iter().any(|o| &o.token == secret) {
            return Err(err(t.token.span(), &key("token"), "the same token twice".into()));
        }
        let agent = match (&t.agent, t.role) {
            (Some(a), Role::Agent) => Some(check_agent(a, &key("agent"))?),
            (None, Role::Agent) => return Err(err(st.span(), &key("agent"), "role \"agent\" needs `agent = \"...\"` (which agent it is)".into())),
            (Some(a), _) => return Err(err(a.span(), &key("agent"), "only for role \"agent\"".into())),
            (None, _) => None,
        };
        if let (Some(q), Role::Admin | Role::Agent) = (t.queues.first(), t.role) {
            return Err(err(q.span(), &key("queues"), "only for roles \"supervisor\" and \"viewer\"".into()));
        }
        let queues = t.queues.iter().map(|q| check_queue(q, &key("queues"))).collect::<Result<_, _>>()?;
        tokens.push(HttpToken { token: secret.clone(), role: t.role, agent, queues, name });
    }
    if let (Some(l), true) = (&h.listen, tokens.is_empty()) {
        return Err(err(l.span(), "http.token", "the web port needs at least one [[http.token]]: nobody could sign in".into()));
    }
    Ok(HttpConfig { listen, tls, max_body_bytes: *h.max_body_bytes.get_ref(), request_timeout: Duration::from_secs_f64(timeout), tokens })
}

/// Check `[mail]`: a server and a sender address, TLS mode and port
/// (defaults follow each other), credentials in pairs, bounded timeouts
/// and retries, a one-line subject.
fn mail_from_raw(m: &Spanned<RawMail>, err: ErrorAt<'_>) -> Result<crate::notify::MailConfig, ConfigError> {
    use crate::notify::{MailConfig, MailTls};
    let table = m.span();
    let r = m.get_ref();
    let server = match &r.server {
        Some(s) if s.get_ref().trim().is_empty() || s.get_ref().trim().contains(char::is_whitespace) => {
            return Err(err(s.span(), "mail.server", format!("{:?} is not a host name or address", s.get_ref())))
        }
        Some(s) => s.get_ref().trim().to_string(),
        None => return Err(err(table, "mail.server", "required: the SMTP server's host name or address".into())),
    };
    let from = match &r.from {
        Some(f) => {
            crate::notify::check_mailbox(f.get_ref()).map_err(|e| err(f.span(), "mail.from", e))?;
            f.get_ref().trim().to_string()
        }
        None => return Err(err(table, "mail.from", "required: the sender's address, e.g. \"Hotline <voicemail@example.com>\"".into())),
    };
    let local = matches!(server.as_str(), "127.0.0.1" | "localhost" | "::1" | "[::1]");
    let tls = match &r.tls {
        Some(t) => match t.get_ref().as_str() {
            "none" => MailTls::None,
            "starttls" => MailTls::StartTls,
            "tls" => MailTls::Tls,
            other => return Err(err(t.span(), "mail.tls", format!("{other:?}: one of \"none\", \"starttls\", \"tls\""))),
        },
        None if local => MailTls::None,
        None => MailTls::StartTls,
    };
    let port = match &r.port {
        Some(p) => u16::try_from(*p.get_ref())
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| err(p.span(), "mail.port", format!("a port is 1-65535, got {}", p.get_ref())))?,
        None => match tls {
            MailTls::None => 25,
            MailTls::StartTls => 587,
            MailTls::Tls => 465,
        },
    };
    let (username, password) = match (&r.username, &r.password) {
        (Some(u), Some(p)) => {
            if u.get_ref().is_empty() {
                return Err(err(u.span(), "mail.username", "empty user name".into()));
            }
            (Some(u.get_ref().clone()), Some(p.get_ref().clone()))
        }
        (None, None) => (None, None),
        (Some(u), None) => return Err(err(u.span(), "mail.password", "username needs password".into())),
        (None, Some(p)) => return Err(err(p.span(), "mail.username", "password needs username".into())),
    };
    let timeout = match &r.timeout_seconds {
        Some(t) if !(1..=120).contains(t.get_ref()) => {
            return Err(err(t.span(), "mail.timeout_seconds", format!("1-120 seconds, got {}", t.get_ref())))
        }
        Some(t) => *t.get_ref() as u64,
        None => 10,
    };
    let retries = match &r.retries {
        Some(n) if !(0..=10).contains(n.get_ref()) => return Err(err(n.span(), "mail.retries", format!("0-10, got {}", n.get_ref()))),
        Some(n) => *n.get_ref() as u32,
        None => 3,
    };
    let retry_first = match &r.retry_seconds {
        Some(s) if !(*s.get_ref() > 0.0 && *s.get_ref() <= 3600.0) => {
            return Err(err(s.span(), "mail.retry_seconds", format!("a positive number of seconds up to 3600, got {}", s.get_ref())))
        }
        Some(s) => Duration::from_secs_f64(*s.get_ref()),
        None => Duration::from_secs(30),
    };
    let subject = match &r.subject {
        Some(s) if s.get_ref().chars().any(char::is_control) => {
            return Err(err(s.span(), "mail.subject", "one line: no control characters".into()))
        }
        Some(s) => s.get_ref().clone(),
        None => MailConfig::DEFAULT_SUBJECT.into(),
    };
    Ok(MailConfig {
        server,
        port,
        tls,
        from,
        username,
        password,
        timeout: Duration::from_secs(timeout),
        retries,
        retry_first,
        subject,
        attach: r.attach,
    })
}

fn nonzero(t: Time) -> Option<Time> {
    if t == 0 {
        None
    } else {
        Some(t)
    }
}

/// The device whose state tells whether the agent is busy: the dial string
/// without options (`PJSIP/1001`, `Local/100@agents`, `SIP/peer`).
pub fn device_of(contact: &str) -> String {
    let first = contact.split('&').next().unwrap_or(contact);
    let first = first.split(',').next().unwrap_or(first);
    match first.split_once('/') {
        Some((tech, rest)) if tech.eq_ignore_ascii_case("local") => {
            // Local/exten@context/n: drop Local's own options.
            let rest = rest.split('/').next().unwrap_or(rest);
            format!("{tech}/{rest}")
        }
        _ => first.to_string(),
    }
}

/// 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|b| *b == b'\n').count() + 1
}

/// The key written on the line holding `offset` (text before `=`), if any.
fn key_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let end = text[start..].find('\n').map(|i| start + i).unwrap_or(text.len());
    let line = &text[start..end];
    match line.split_once('=') {
        Some((k, _)) => k.trim().to_string(),
        None => line.trim().trim_matches(|c| c == '[' || c == ']').to_string(),
    }
}

fn find_key_line(text: &str, key: &str) -> usize {
    find_key_line_from(text, 0, key)
}

/// Line of the first `key =` at or after `from`, else the line of `from`.
pub(crate) fn find_key_line_from(text: &str, from: usize, key: &str) -> usize {
    let from = from.min(text.len());
    let mut offset = from;
    for line in text[from..].split_inclusive('\n') {
        if let Some((k, _)) = line.split_once('=') {
            if k.trim() == key {
                return line_of(text, offset);
            }
        }
        offset += line.len();
    }
    line_of(text, from)
}

#[cfg(test)]
mod mail_tests {
    use std::time::Duration;

    use super::Config;
    use crate::notify::MailTls;

    fn bad(text: &str) -> super::ConfigError {
        Config::parse(text, "hotline.toml").expect_err("should be rejected")
    }

    #[test]
    fn no_table_no_mail() {
        assert_eq!(Config::parse("", "hotline.toml").expect("empty").mail, None);
        assert_eq!(Config::default().mail, None);
    }

    #[test]
    fn good_table_with_defaults() {
        let c = Config::parse("[mail]\nserver = \"localhost\"\nfrom = \"Hotline <vm@example.com>\"\n", "hotline.toml").expect("valid");
        let m = c.mail.expect("[mail]");
        assert_eq!((m.server.as_str(), m.port, m.tls), ("localhost", 25, MailTls::None));
        assert_eq!(m.from, "Hotline <vm@example.com>");
        assert_eq!((m.username, m.password), (None, None));
        assert_eq!((m.timeout, m.retries, m.retry_first), (Duration::from_secs(10), 3, Duration::from_secs(30)));
        assert_eq!(m.subject, "Voice message from {caller} ({mailbox})");
        assert!(m.attach);

        let remote = Config::parse("[mail]\nserver = \"smtp.example.com\"\nfrom = \"vm@example.com\"\n", "f").expect("valid").mail.expect("[mail]");
        assert_eq!((remote.tls, remote.port), (MailTls::StartTls, 587));
        let tls = Config::parse("[mail]\nserver = \"smtp.example.com\"\nfrom = \"vm@example.com\"\ntls = \"tls\"\n", "f").expect("valid").mail.expect("[mail]");
        assert_eq!((tls.tls, tls.port), (MailTls::Tls, 465));
    }

    #[test]
    fn good_table_with_every_key() {
        let text = "[mail]\nserver = \"mx.example.com\"\nport = 2525\ntls = \"none\"\nfrom = \"vm@example.com\"\nusername = \"vm\"\npassword = \"pw\"\ntimeout_seconds = 5\nretries = 0\nretry_seconds = 2.5\nsubject = \"VM {mailbox}\"\nattach = false\n";
        let m = Config::parse(text, "f").expect("valid").mail.expect("[mail]");
        assert_eq!((m.port, m.tls, m.username.as_deref(), m.password.as_deref()), (2525, MailTls::None, Some("vm"), Some("pw")));
        assert_eq!((m.timeout, m.retries, m.retry_first), (Duration::from_secs(5), 0, Duration::from_millis(2500)));
        assert_eq!((m.subject.as_str(), m.attach), ("VM {mailbox}", false));
    }

    #[test]
    fn bad_keys_are_located() {
        let cases: &[(&str, usize, &str)] = &[
            ("[mail]\nfrom = \"vm@example.com\"\n", 1, "mail.server"),
            ("[mail]\nserver = \"mx\"\n", 1, "mail.from"),
            ("[mail]\nserver = \"mx\"\nfrom = \"not an address\"\n", 3, "mail.from"),
            ("[mail]\nserver = \"mx\"\nfrom = \"vm@example.com\"\ntls = \"ssl\"\n", 4, "mail.tls"),
            ("[mail]\nserver = \"mx\"\nfrom = \"vm@example.com\"\nport = 0\n", 4, "mail.port"),
            ("[mail]\nserver = \"mx\"\nfrom = \"vm@example.com\"\nport = 70000\n", 4, "mail.port"),
            ("[mail]\nserver = \"mx\"\nfrom = \"vm@example.com\"\nusername = \"u\"\n", 4, "mail.password"),
            ("[mail]\nserver = \"mx\"\nfrom = \"vm@example.com\"\n\npassword = \"p\"\n", 5, "mail.username"),
            ("[mail]\nserver = \"mx\"\nfrom = \"vm@example.com\"\ntimeout_seconds = 0\n", 4, "mail.timeout_seconds"),
            ("[mail]\nserver = \"mx\"\nfrom = \"vm@example.com\"\ntimeout_seconds = 121\n", 4, "mail.timeout_seconds"),
            ("[mail]\nserver = \"mx\"\nfrom = \"vm@example.com\"\nretries = 11\n", 4, "mail.retries"),
            ("[mail]\nserver = \"mx\"\nfrom = \"vm@example.com\"\nretry_seconds = 0\n", 4, "mail.retry_seconds"),
            ("[mail]\nserver = \"mx\"\nfrom = \"vm@example.com\"\nsubject = \"a\\r\\nBcc: x@y\"\n", 4, "mail.subject"),
            ("[mail]\nserver = \"\"\nfrom = \"vm@example.com\"\n", 2, "mail.server"),
            ("[mail]\nserver = \"mx\"\nfrom = \"vm@example.com\"\nsmtp_port = 25\n", 4, "smtp_port"),
        ];
        for (text, line, key) in cases {
            let e = bad(text);
            assert_eq!((e.file.as_str(), e.line, e.key.as_str()), ("hotline.toml", *line, *key), "{text:?}: {e}");
        }
    }

    #[test]
    fn debug_of_the_config_hides_the_password() {
        let text = "[mail]\nserver = \"mx\"\nfrom = \"vm@example.com\"\nusername = \"vm\"\npassword = \"hunter2-secret\"\n";
        let c = Config::parse(text, "f").expect("valid");
        let d = format!("{c:?}");
        assert!(d.contains("MailConfig") && !d.contains("hunter2-secret"), "{d}");
    }
}
