//! What both PBX adapters run while loaded: the router thread, the
//! configuration in force (swapped on reload), the count of calls inside
//! Hotline applications (unload is refused while it is not zero), the
//! durable store, the web port, and the sink threads that feed the PBX's
//! event stream, the store and the web port from the event bus. Each
//! adapter's runtime holds one [`Service`] and adds its host-specific
//! threads; [`Service::stop`] joins everything started here.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::admin;
use crate::core::{AgentState, CallerInfo, Config, ConfigError, Input};
use crate::ivr::say::Lang;
use crate::ivr::sounds::SoundLayout;
use crate::ivr::tts::TextCache;
use crate::router::{BusEvent, Router, RouterOptions, SinkKind, Subscription};
use crate::store::{Store, StoreStatus};
use crate::web::{EventPublisher, WebServer};

mod store_sink;

/// Queue sizes of the sinks the service attaches.
const PBX_SINK_CAPACITY: usize = 65_536;
const WEB_SINK_CAPACITY: usize = 16_384;
const STORE_SINK_CAPACITY: usize = 262_144;
/// Recording events are a few per talk.
const RECORDINGS_SINK_CAPACITY: usize = 65_536;
const MESSAGES_SINK_CAPACITY: usize = 4_096;
/// Events the webhook sink's queue holds while it writes the outbox (a
/// slow disk); the outbox, not this queue, holds a dead endpoint's backlog.
const WEBHOOK_SINK_CAPACITY: usize = 262_144;
/// How long unload lets a mail being sent finish.
const MAIL_STOP_DEADLINE: Duration = Duration::from_secs(2);
/// How long unload gives the web port to close its connections.
const WEB_STOP_DEADLINE: Duration = Duration::from_secs(2);

/// What the adapter gives the service.
pub struct PbxSide {
    /// Fire one event into the PBX's own event stream (AMI, ESL); runs on
    /// the service's sink thread, never on the router's.
    pub fire: Box<dyn Fn(&BusEvent) + Send>,
    /// The store's file when `[store] path` is not set (the PBX's data
    /// directory).
    pub default_store: PathBuf,
    /// Whether the caller's channel named in a call's data (channel name,
    /// unique id, UUID) still exists: `None` when the data names none.
    /// Asked by the sweep, on its own thread, for long talks only.
    pub channel_alive: Option<Box<dyn Fn(&[(String, String)]) -> Option<bool> + Send>>,
    /// Pause (true) or resume a recording: the caller's channel (its
    /// identity) and the file. Called on the recordings thread.
    pub record_pause: Option<crate::recording::sink::PauseFn>,
    pub sweep: Sweep,
    /// Where the PBX finds sound files: the configuration's must be there
    /// (checked at load and reload).
    pub sounds: SoundLayout,
}

/// How the sweep looks for talks whose end was never reported (a panic
/// mid-call, an end report lost under overload): every `every`, each talk
/// longer than `older_than` whose caller's channel is gone ends as failed
/// and frees its agent (event `CallGone`).
#[derive(Debug, Clone, Copy)]
pub struct Sweep {
    pub every: Duration,
    pub older_than: Duration,
}

impl Default for Sweep {
    fn default() -> Self {
        Sweep { every: Duration::from_secs(60), older_than: Duration::from_secs(60) }
    }
}

/// The part of the service that other threads (the web port) share.
pub struct ServiceCore {
    pub router: Router,
    pub config_path: PathBuf,
    config: RwLock<Arc<Config>>,
    active: AtomicUsize,
    pub store: Option<Arc<Store>>,
    /// Why there is no store, when it could not be opened.
    store_error: Option<String>,
    /// Text prompts and say words rendered to sound files (IVR).
    pub texts: Arc<TextCache>,
    /// Where the PBX finds sound files (reloads are checked against it).
    sounds: SoundLayout,
    /// Voice messages left in the IVR (the list; files beside the store).
    pub messages: Arc<crate::messages::Messages>,
    /// The IVR's counters (`hotline show ivr`).
    pub ivr_metrics: crate::ivr::metrics::IvrMetrics,
    /// The router's clock when the web port last changed something (its
    /// reads use the published copy only once that copy is newer).
    pub web_wrote_at: std::sync::atomic::AtomicU64,
    /// `[[webhook]]` delivery (None: no endpoints, or no store).
    pub webhooks: arc_swap::ArcSwapOption<crate::notify::webhook::Webhooks>,
    /// Where recordings go unless `[recording] root` says.
    pub default_recordings: PathBuf,
    /// The recordings thread's commands (pause, resume).
    pub recording_control: std::sync::OnceLock<crossbeam_channel::Sender<crate::recording::sink::Command>>,
}

pub struct Service {
    core: Arc<ServiceCore>,
    web: Mutex<Option<WebServer>>,
    sinks: Mutex<Vec<JoinHandle<()>>>,
    /// What the store kept, until [`Service::restore_saved`] puts it back.
    saved: Mutex<Option<crate::store::Snapshot>>,
    /// E-mail notices of voicemail (`[mail]`), stopped after the sinks.
    mailer: Option<Arc<crate::notify::Mailer>>,
    /// Dropping it ends the sweep thread.
    sweep_stop: Mutex<Option<crossbeam_channel::Sender<()>>>,
}

impl std::ops::Deref for Service {
    type Target = ServiceCore;
    fn deref(&self) -> &ServiceCore {
        &self.core
    }
}

/// A problem starting the service, reported like a configuration error.
pub fn setup_error(path: &std::path::Path, message: String) -> ConfigError {
    ConfigError { file: path.display().to_string(), line: 0, key: String::new(), message }
}

impl Service {
    /// Read the configuration and start the router with no PBX attached
    /// (tests, tools): no sound directory, only absolute sound paths are
    /// checked. Errors name the file, line and key.
    pub fn start(config_path: PathBuf) -> Result<Service, ConfigError> {
        let pbx = PbxSide {
            fire: Box::new(|_| {}),
            default_store: PathBuf::new(),
            channel_alive: None,
            record_pause: None,
            sweep: Sweep::default(),
            sounds: SoundLayout::Plain,
        };
        let service = Service::start_with(config_path, RouterOptions::default(), pbx)?;
        service.restore_saved();
        Ok(service)
    }

    /// Start with router options of the adapter's choosing, its event
    /// stream and its default store location. The adapter calls
    /// [`Service::restore_saved`] once everything of its own runs (a
    /// restored callback is rung by the adapter's threads).
    pub fn start_with(config_path: PathBuf, mut options: RouterOptions, mut pbx: PbxSide) -> Result<Service, ConfigError> {
        let record_pause = pbx.record_pause.take();
        let default_recordings = beside_store(&Config::load(&config_path)?, &pbx.default_store, "hotline-recordings");
        let cfg = Arc::new(load_config(&config_path, &default_recordings)?);
        crate::ivr::sounds::check(&cfg, &pbx.sounds)?;
        check_text_tools(&cfg)?;
        let (store, store_error) = open_store(&cfg, &pbx.default_store);
        let snapshot = store.as_ref().and_then(|s| match s.snapshot() {
            Ok(snap) => Some(snap),
            Err(e) => {
                log::error!("Hotline: store: {e}; starting without the saved state");
                None
            }
        });
        if let Some(snap) = &snapshot {
            options.first_call_id = options.first_call_id.max(snap.next_call_id);
            options.first_event_id = crate::router::bus::first_event_id(snap.next_event_id);
        }
        let router = Router::start(cfg.clone(), options)
            .map_err(|e| setup_error(&config_path, format!("cannot start the router thread: {e}")))?;
        let texts = TextCache::new(beside_store(&cfg, &pbx.default_store, "hotline-prompts"));
        let (to_render, words) = to_render(&cfg);
        texts.render(to_render, words);
        let kept = snapshot.as_ref().map(|s| s.messages.clone()).unwrap_or_default();
        let messages = Arc::new(crate::messages::Messages::new(beside_store(&cfg, &pbx.default_store, "hotline-messages"), kept));
        messages.prepare(&cfg.ivr.mailboxes()).map_err(|e| setup_error(&config_path, e))?;
        let core = Arc::new(ServiceCore {
            router,
            config_path,
            config: RwLock::new(cfg.clone()),
            active: AtomicUsize::new(0),
            store,
            store_error,
            texts,
            sounds: pbx.sounds,
            messages,
            ivr_metrics: Default::default(),
            web_wrote_at: Default::default(),
            webhooks: Default::default(),
            default_recordings,
            recording_control: Default::default(),
        });
        let (sweep_stop, sweep_stopped) = crossbeam_channel::bounded::<()>(0);
        let mailer = match &cfg.mail {
            Some(m) => Some(Arc::new(
                crate::notify::Mailer::start(m.clone()).map_err(|e| setup_error(&core.config_path, format!("cannot start the mail thread: {e}")))?,
            )),
            None => None,
        };
        let service = Service {
            mailer,
            core,
            web: Mutex::new(None),
            sinks: Mutex::new(Vec::new()),
            saved: Mutex::new(snapshot),
            sweep_stop: Mutex::new(Some(sweep_stop)),
        };
        if let Some(alive) = pbx.channel_alive {
            let core = service.core.clone();
            let sweep = pbx.sweep;
            let t = std::thread::Builder::new()
                .name("hotline-sweep".into())
                .spawn(move || sweep_loop(&core, sweep, &*alive, &sweep_stopped))
                .map_err(|e| setup_error(&service.config_path, format!("cannot start the sweep thread: {e}")))?;
            service.sinks.lock().unwrap_or_else(|e| e.into_inner()).push(t);
        }
        // Sinks first, so they see everything from the restore on.
        let sub = service.subscribe("pbx", SinkKind::BestEffort, PBX_SINK_CAPACITY)?;
        let fire = pbx.fire;
        service.spawn_sink("hotline-events", sub, move |e| fire(e))?;
        if let Some(store) = service.store.clone() {
            let sub = service.subscribe("store", SinkKind::Durable, STORE_SINK_CAPACITY)?;
            let mut sink = store_sink::StoreSink::new(store);
            service.spawn_sink("hotline-store-sink", sub, move |e| sink.apply(e))?;
        }
        if let Some(store) = service.store.clone() {
            let sub = service.subscribe("recordings", SinkKind::Durable, RECORDINGS_SINK_CAPACITY)?;
            let core = service.core.clone();
            let policy_core = service.core.clone();
            let sink = crate::recording::sink::RecordingsSink::new(store, Box::new(move |k| core.router.report(Input::Publish(k))))
                .with_retention(Box::new(move || retention_policy(&policy_core.config())))
                .with_pause(record_pause);
            service.spawn_recordings(sub, sink)?;
        }
        if let Err(e) = service.core.apply_webhooks(&cfg) {
            log::error!("Hotline: webhooks not started: {e}");
        }
        {
            let sub = service.subscribe("messages", SinkKind::Durable, MESSAGES_SINK_CAPACITY)?;
            let notify = service.mailer.clone().map(|mailer| {
                let core = service.core.clone();
                Box::new(move |m: &crate::messages::MessageRecord| notify_by_mail(&core.config(), &mailer, m)) as crate::messages::sink::Notify
            });
            let mut sink = crate::messages::sink::MessagesSink::new(service.messages.clone(), service.store.clone(), notify);
            service.spawn_sink("hotline-messages", sub, move |e| sink.apply(e))?;
        }
        if cfg.http.listen.is_some() {
            let host: Arc<dyn crate::web::WebHost> = service.core.clone();
            let web = WebServer::start(&cfg.http, host).map_err(|e| setup_error(&service.config_path, format!("web port: {e}")))?;
            log::info!("Hotline: web port on {}", web.local_addr());
            let publisher: EventPublisher = web.publisher();
            let sub = service.subscribe("web", SinkKind::BestEffort, WEB_SINK_CAPACITY)?;
            service.spawn_sink("hotline-web-sink", sub, move |e| publisher.publish_event(e.id, &e.event))?;
            *service.web.lock().unwrap_or_else(|e| e.into_inner()) = Some(web);
        }
        log::info!("Hotline: {} queues, {} agents from {}", cfg.queues.len(), cfg.agents.len(), service.config_path.display());
        Ok(service)
    }

    fn subscribe(&self, name: &str, kind: SinkKind, capacity: usize) -> Result<Subscription, ConfigError> {
        self.router.subscribe(name, kind, capacity).map_err(|e| setup_error(&self.config_path, format!("cannot attach the {name} sink: {e}")))
    }

    /// A thread that hands every event of `sub` to `f` until the router
    /// stops (its end of the queue then disconnects).
    fn spawn_sink(&self, thread: &str, sub: Subscription, mut f: impl FnMut(&BusEvent) + Send + 'static) -> Result<(), ConfigError> {
        let t = std::thread::Builder::new()
            .name(thread.into())
            .spawn(move || {
                while let Ok(e) = sub.events.recv() {
                    f(&e);
                }
            })
            .map_err(|e| setup_error(&self.config_path, format!("cannot start the {thread} thread: {e}")))?;
        self.sinks.lock().unwrap_or_else(|e| e.into_inner()).push(t);
        Ok(())
    }

    /// The recordings sink's thread: events as they come, and a look at
    /// the files of stopped recordings when one is due (no look otherwise).
    fn spawn_recordings(&self, sub: Subscription, mut sink: crate::recording::sink::RecordingsSink) -> Result<(), ConfigError> {
        let (tx, commands) = crossbeam_channel::bounded::<crate::recording::sink::Command>(64);
        let _ = self.recording_control.set(tx);
        let t = std::thread::Builder::new()
            .name("hotline-recordings".into())
            .spawn(move || loop {
                let timeout = sink.next_check().map_or(crossbeam_channel::never(), crossbeam_channel::at);
                crossbeam_channel::select! {
                    recv(sub.events) -> e => match e {
                        Ok(e) => sink.apply(&e),
                        Err(_) => break,
                    },
                    recv(commands) -> c => if let Ok(c) = c {
                        sink.command(c);
                    },
                    recv(timeout) -> _ => sink.tick(),
                }
            })
            .map_err(|e| setup_error(&self.config_path, format!("cannot start the recordings thread: {e}")))?;
        self.sinks.lock().unwrap_or_else(|e| e.into_inner()).push(t);
        Ok(())
    }

    /// Put back what the store kept (once): run-time queue memberships,
    /// agents in the state they were in (the stored state wins over the
    /// configuration's) on the phone they logged in from, then pending
    /// callbacks in line order.
    pub fn restore_saved(&self) {
        let Some(snap) = self.saved.lock().unwrap_or_else(|e| e.into_inner()).take() else { return };
        self.restore(&self.config(), &snap);
    }

    fn restore(&self, cfg: &Config, snap: &crate::store::Snapshot) {
        for a in &cfg.agents {
            // Memberships changed at run time: removals (tombstones), then
            // additions and changed penalties or tiers.
            for m in snap.members.iter().filter(|m| m.agent == a.name) {
                let (agent, queue) = (a.name.clone(), m.queue.clone());
                let configured = a.members.iter().find(|c| c.queue == m.queue);
                let input = match (m.removed, configured) {
                    (true, Some(_)) => Input::RemoveMember { agent, queue },
                    (true, None) => continue,
                    (false, Some(c)) if c.penalty == m.penalty && c.tier == m.tier => continue,
                    (false, Some(_)) => Input::SetPenalty { agent, queue, penalty: m.penalty, tier: Some(m.tier) },
                    (false, None) => Input::AddMember { agent, queue, penalty: m.penalty, tier: m.tier },
                };
                self.router.report(input);
            }
            if snap.agent(&a.name).is_none() {
                continue;
            }
            let agent = a.name.clone();
            // A hot-desk login comes back on the phone it was made from.
            let contact = snap.contact(&a.name).map(str::to_string);
            let login = Input::AgentLogin { agent: agent.clone(), contact };
            let inputs = match snap.initial_state(a) {
                AgentState::LoggedOut => vec![Input::AgentLogout { agent }],
                AgentState::Break(reason) => vec![login, Input::AgentBreak { agent, reason }],
                _ => vec![login, Input::AgentReady { agent }],
            };
            for i in inputs {
                self.router.report(i);
            }
        }
        for cb in &snap.callbacks {
            let caller = CallerInfo { number: cb.number.clone(), priority: cb.priority, ..Default::default() };
            let input = Input::CallbackRestore { call: crate::core::CallId(cb.id), queue: cb.queue.clone(), caller, number: cb.number.clone() };
            self.router.report(input);
        }
        if !snap.callbacks.is_empty() {
            log::info!("Hotline: {} pending callbacks back in line from the store", snap.callbacks.len());
        }
    }

    /// Stop and join everything started here: the web port first (it asks
    /// the router), then the router, whose end lets every sink thread drain
    /// and end; last the store, which writes what is queued.
    pub fn stop(&self) {
        if let Some(web) = self.web.lock().unwrap_or_else(|e| e.into_inner()).take() {
            web.stop(WEB_STOP_DEADLINE);
        }
        drop(self.sweep_stop.lock().unwrap_or_else(|e| e.into_inner()).take());
        self.router.stop();
        let sinks = std::mem::take(&mut *self.sinks.lock().unwrap_or_else(|e| e.into_inner()));
        for t in sinks {
            let _ = t.join();
        }
        self.texts.join();
        // After the router: the sink has written every event to the outbox.
        if let Some(w) = self.webhooks.swap(None) {
            w.stop();
        }
        if let Some(mailer) = &self.mailer {
            mailer.stop(MAIL_STOP_DEADLINE);
        }
        if let Some(store) = &self.store {
            if !store.flush(Duration::from_secs(5)) {
                log::error!("Hotline: store: not everything was written before unload");
            }
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Until `stop` disconnects: every `sweep.every`, end the long talks whose
/// caller's channel is gone.
fn sweep_loop(core: &ServiceCore, sweep: Sweep, alive: &dyn Fn(&[(String, String)]) -> Option<bool>, stop: &crossbeam_channel::Receiver<()>) {
    let older = sweep.older_than.as_millis() as crate::core::Time;
    while let Err(crossbeam_channel::RecvTimeoutError::Timeout) = stop.recv_timeout(sweep.every) {
        let Ok(crate::router::Reply::LongCalls(calls)) = core.router.query(crate::router::Query::LongCalls(older), admin::QUERY_TIMEOUT) else {
            continue;
        };
        for (call, _, data) in calls {
            if alive(&data) == Some(false) {
                log::warn!("Hotline: call {call}: its caller's channel is gone but its end was never reported; ending it");
                core.router.report(Input::CallGone { call });
            }
        }
    }
}

/// Queue the e-mail notice of a message for the addresses its step names.
fn notify_by_mail(cfg: &Config, mailer: &crate::notify::Mailer, m: &crate::messages::MessageRecord) {
    let Some(mail_cfg) = &cfg.mail else { return };
    let to = cfg.ivr.messages.iter().find(|s| s.name == m.step).map(|s| s.email.clone()).unwrap_or_default();
    if to.is_empty() {
        return;
    }
    let seconds = m.ms.div_ceil(1000).to_string();
    let queue = m.callback.clone().unwrap_or_default();
    let caller = if m.name.is_empty() { m.number.clone() } else { format!("{} <{}>", m.name, m.number) };
    let fields = [("caller", caller.as_str()), ("mailbox", m.mailbox.as_str()), ("queue", queue.as_str()), ("seconds", seconds.as_str())];
    let subject = crate::notify::fill(&mail_cfg.subject, &fields);
    let mut body = crate::notify::fill(
        "A voice message was left in mailbox {mailbox}.\n\nFrom: {caller}\nLength: {seconds} s\n",
        &fields,
    );
    if !queue.is_empty() {
        body.push_str(&crate::notify::fill("A callback is queued in {queue}.\n", &fields));
    }
    body.push_str(&format!("Message id: {}\nLeft at (unix ms): {}\n", m.id, m.left_at));
    if let Some(data) = m.data.as_object().filter(|d| !d.is_empty()) {
        body.push_str("\nCall data:\n");
        for (k, v) in data {
            let v = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
            body.push_str(&crate::notify::fill("  {k}: {v}\n", &[("k", k), ("v", &v)]));
        }
    }
    let attachment = mail_cfg.attach.then(|| PathBuf::from(&m.file));
    if !mailer.queue(crate::notify::Mail { to, subject, body, attachment }) {
        log::error!("Hotline: message {}: the mail queue is full; no e-mail notice", m.id);
    }
}

/// A directory beside the store's file (rendered prompts, messages).
/// Each queue's `record_retention_days`.
fn retention_policy(cfg: &Config) -> Vec<(String, u32)> {
    cfg.queues.iter().filter_map(|q| q.recording.retention_days.map(|d| (q.name.clone(), d))).collect()
}

/// The configuration with the paths it leaves to the module filled in
/// (recordings beside the store unless `[recording] root` says).
fn load_config(path: &Path, default_recordings: &Path) -> Result<Config, ConfigError> {
    let mut cfg = Config::load(path)?;
    if cfg.recording.root.is_none() {
        cfg.recording.root = Some(default_recordings.to_path_buf());
    }
    Ok(cfg)
}

fn beside_store(cfg: &Config, default_store: &Path, name: &str) -> PathBuf {
    let store = cfg.store.path.clone().unwrap_or_else(|| default_store.to_path_buf());
    match store.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join(name),
        _ => std::env::temp_dir().join(name),
    }
}

/// A say word to render, in its language.
type SayWord = (Lang, &'static str);

/// What to render at load: the menus' text prompts, the message player's
/// words when there are mailboxes, and the say words of Vietnamese and
/// Chinese (every language's: a queue's announcements follow the channel's
/// language, which the dialplan may set). The last two only when the tools
/// are there (the player then skips its words, numbers are said by the
/// PBX): a missing tool is no load error for prompts nobody wrote.
fn to_render(cfg: &Config) -> (Vec<(String, String)>, Vec<SayWord>) {
    let mut texts = cfg.ivr.texts();
    let mut words = Vec::new();
    if crate::ivr::tts::tools_available().is_ok() {
        if !cfg.ivr.messages.is_empty() {
            texts.extend(crate::flow::messages::TEXTS.iter().map(|t| (t.to_string(), String::new())));
        }
        words.extend(crate::ivr::say::ALL.iter().flat_map(|&l| l.words().iter().map(move |w| (l, *w))));
    }
    (texts, words)
}

/// Text prompts need espeak-ng and sox: without them a configuration that
/// has any is refused (one without text prompts never needs them); so is
/// one with say prompts or read-backs that names Vietnamese or Chinese
/// (their words are rendered too).
fn check_text_tools(cfg: &Config) -> Result<(), ConfigError> {
    let texts = cfg.ivr.texts();
    if let Some((text, _)) = texts.first() {
        crate::ivr::tts::tools_available().map_err(|e| {
            setup_error(Path::new(&cfg.source), format!("text prompt {text:?} (and {} more) cannot be rendered: {e}", texts.len() - 1))
        })?;
    }
    let langs = cfg.ivr.say_languages();
    if let (Some(lang), Some((line, key))) = (langs.first(), cfg.ivr.says.first()) {
        crate::ivr::tts::tools_available().map_err(|e| ConfigError {
            file: cfg.source.clone(),
            line: *line,
            key: key.clone(),
            message: format!("says digits or a number, and the configuration speaks {}: its words cannot be rendered: {e}", lang.code()),
        })?;
    }
    Ok(())
}

fn open_store(cfg: &Config, default: &Path) -> (Option<Arc<Store>>, Option<String>) {
    if !cfg.store.enabled {
        return (None, Some("disabled ([store] enabled = false)".into()));
    }
    let path = match (&cfg.store.path, default.as_os_str().is_empty()) {
        (Some(p), _) => p.clone(),
        (None, false) => default.to_path_buf(),
        (None, true) => return (None, Some("no [store] path and no PBX data directory".into())),
    };
    match Store::open(&path) {
        Ok(s) => {
            log::info!("Hotline: store {}", path.display());
            (Some(Arc::new(s)), None)
        }
        Err(e) => {
            // Calls go on without it; the operator sees why.
            log::error!("Hotline: store: {e}; running without durable state");
            (None, Some(e.to_string()))
        }
    }
}

impl ServiceCore {
    /// The configuration in force (the lock is held only to clone an Arc).
    pub fn config(&self) -> Arc<Config> {
        self.config.read().map(|c| c.clone()).unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Re-read the configuration file and swap it in. On error the old one
    /// stays and the error (file:line: key: message) is returned.
    pub fn reload(&self) -> Result<Arc<Config>, ConfigError> {
        let cfg = Arc::new(load_config(&self.config_path, &self.default_recordings)?);
        crate::ivr::sounds::check(&cfg, &self.sounds)?;
        check_text_tools(&cfg)?;
        self.router
            .send(Input::Reload(cfg.clone()))
            .map_err(|e| setup_error(&self.config_path, format!("reload not applied: {e}")))?;
        match self.config.write() {
            Ok(mut c) => *c = cfg.clone(),
            Err(e) => *e.into_inner() = cfg.clone(),
        }
        let (texts, words) = to_render(&cfg);
        self.texts.render(texts, words);
        if let Err(e) = self.messages.prepare(&cfg.ivr.mailboxes()) {
            log::error!("Hotline: {e}");
        }
        if let Err(e) = self.apply_webhooks(&cfg) {
            log::error!("Hotline: webhooks: {e}");
        }
        Ok(cfg)
    }

    /// Start, change or stop webhook delivery as `cfg` says.
    fn apply_webhooks(&self, cfg: &Config) -> Result<(), String> {
        match (self.webhooks.load_full(), cfg.webhooks.is_empty()) {
            (None, true) => Ok(()),
            (Some(w), true) => {
                self.webhooks.store(None);
                w.stop();
                Ok(())
            }
            (Some(w), false) => w.reconfigure(&cfg.webhooks),
            (None, false) => {
                let Some(store) = &self.store else {
                    return Err(format!("they need the durable store, which did not open: {}", self.store_error.as_deref().unwrap_or("disabled")));
                };
                let sub = self.router.subscribe("webhooks", SinkKind::Durable, WEBHOOK_SINK_CAPACITY).map_err(|e| e.to_string())?;
                let w = crate::notify::webhook::Webhooks::start(&cfg.webhooks, store.path(), sub)?;
                self.webhooks.store(Some(Arc::new(w)));
                Ok(())
            }
        }
    }

    /// What the IVR application needs of the service, for one call.
    pub fn ivr_context<'a>(&'a self, cfg: &'a Config, facts: &'a dyn crate::ivr::Facts) -> crate::flow::ivr::IvrContext<'a> {
        crate::flow::ivr::IvrContext { cfg, facts, texts: &*self.texts, metrics: &self.ivr_metrics, messages_dir: self.messages.dir() }
    }

    /// Calls inside Hotline applications (or callbacks) right now.
    pub fn active_calls(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }

    /// The store's health, for `hotline show store`.
    pub fn store_status(&self) -> Result<StoreStatus, String> {
        match (&self.store, &self.store_error) {
            (Some(s), _) => Ok(s.status()),
            (None, Some(why)) => Err(why.clone()),
            (None, None) => Err("no store".into()),
        }
    }
}

impl admin::Host for ServiceCore {
    fn reload(&self) -> Result<String, String> {
        ServiceCore::reload(self)
            .map(|c| format!("{} queues, {} agents from {}", c.queues.len(), c.agents.len(), self.config_path.display()))
            .map_err(|e| e.to_string())
    }

    fn has_agent(&self, name: &str) -> bool {
        self.config().agent(name).is_some()
    }

    fn store_status(&self) -> String {
        match ServiceCore::store_status(self) {
            Ok(s) => s.to_string(),
            Err(why) => format!("Hotline: no durable store: {why}\n"),
        }
    }

    fn recording_store(&self) -> Result<Arc<crate::store::Store>, String> {
        match (&self.store, &self.store_error) {
            (Some(s), _) => Ok(s.clone()),
            (None, Some(why)) => Err(why.clone()),
            (None, None) => Err("no durable store".into()),
        }
    }

    fn retention_policy(&self) -> Vec<(String, u32)> {
        retention_policy(&self.config())
    }

    fn record_pause(&self, call: crate::core::CallId, pause: bool) -> Result<String, String> {
        let tx = self.recording_control.get().ok_or("recording needs the durable store")?;
        let (reply, answer) = crossbeam_channel::bounded(1);
        tx.send_timeout(crate::recording::sink::Command::Pause { call, pause, reply }, admin::QUERY_TIMEOUT)
            .map_err(|_| "the recordings thread is busy or stopped".to_string())?;
        answer.recv_timeout(admin::QUERY_TIMEOUT).map_err(|_| "the recordings thread did not answer in time".to_string())?
    }

    fn recordings(&self, filter: &crate::store::RecordingFilter) -> Result<Vec<crate::store::RecordingRecord>, String> {
        admin::Host::recording_store(self)?.recordings(filter).map_err(|e| e.to_string())
    }

    fn ivr_status(&self) -> String {
        self.ivr_metrics.report()
    }

    fn webhooks(&self, action: &str, name: Option<&str>) -> String {
        let Some(w) = self.webhooks.load_full() else { return "Hotline: no webhooks ([[webhook]] in hotline.toml)\n".into() };
        match action {
            "show" => crate::notify::webhook::report(&w.show()),
            "retry" => match w.retry(name) {
                Ok(n) => format!("Hotline: webhooks: {n} dead letters back in the outbox; endpoints enabled\n"),
                Err(e) => format!("Hotline: webhooks retry: {e}\n"),
            },
            "purge" => match w.purge(name) {
                Ok(n) => format!("Hotline: webhooks: {n} dead letters dropped\n"),
                Err(e) => format!("Hotline: webhooks purge: {e}\n"),
            },
            _ => format!("Hotline: webhooks {action}: show, retry or purge\n"),
        }
    }

    fn has_queue(&self, name: &str) -> bool {
        self.config().queue(name).is_some()
    }
}

/// Counts a call in a Hotline application for as long as it lives.
pub struct ActiveCall<'a>(&'a ServiceCore);

impl<'a> ActiveCall<'a> {
    pub fn new(service: &'a ServiceCore) -> ActiveCall<'a> {
        service.active.fetch_add(1, Ordering::AcqRel);
        ActiveCall(service)
    }
}

impl Drop for ActiveCall<'_> {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}
