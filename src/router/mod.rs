//! The router: one background thread owns the [`Engine`] and the
//! statistics. PBX threads talk to it only through bounded channels and never
//! block on it:
//!
//! - commands in: [`Router::send`] / [`Router::enter`] use `try_send`; a full
//!   channel is an error that is counted and reported, not a wait.
//! - actions out: each call has its own bounded channel plus the adapter's
//!   [`Wake`] for it, which the router calls after queueing an action, so
//!   the caller's thread sleeps on its PBX channel alone (no descriptor of
//!   ours per call). Actions not tied to a live caller (callbacks) go to
//!   one global channel.
//! - events out: every state change, numbered and copied to each sink's
//!   own queue by the [`bus`] (PBX events, the store, server-sent events).
//!
//! Dropping the [`Router`] (or [`Router::shutdown`]) stops and joins the
//! thread.

pub mod bus;
mod published;
mod wake;

pub use bus::{BusEvent, SinkKind, SinkView, Subscription};
pub use published::{Published, DEMAND_KEEP, PUBLISH_EVERY};
pub use wake::{Latch, NoWake, Signal, Wake};

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender, TrySendError};

use crate::core::call::CallView;
use crate::core::queue::QueueView;
use crate::core::{Action, AgentView, CallId, CallerInfo, Config, Engine, Event, Input, OfferOutcome, Stats, StatsReport, Time};

/// Sizes of the router's channels.
#[derive(Debug, Clone)]
pub struct RouterOptions {
    pub command_capacity: usize,
    pub call_capacity: usize,
    pub global_capacity: usize,
    /// The first call id (one past what the store has seen).
    pub first_call_id: u64,
    /// The first event id (see [`bus::first_event_id`]).
    pub first_event_id: u64,
    pub seed: u64,
    /// Send offers to the global channel too, for an adapter that rings
    /// agents from threads of its own rather than from the caller's (the
    /// caller's thread may only look at its channel once per media frame).
    /// When the global channel is full an offer goes to the caller.
    pub offers_to_globals: bool,
}

impl Default for RouterOptions {
    fn default() -> Self {
        RouterOptions {
            command_capacity: 65_536,
            call_capacity: 64,
            global_capacity: 4_096,
            first_call_id: 1,
            first_event_id: bus::first_event_id(0),
            seed: 0x5eed,
            offers_to_globals: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouterError {
    /// The command channel is full: the router is overloaded.
    Full,
    /// The router has stopped.
    Stopped,
    /// A query got no answer in time.
    Timeout,
}

impl fmt::Display for RouterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RouterError::Full => "router command channel full",
            RouterError::Stopped => "router stopped",
            RouterError::Timeout => "router did not answer in time",
        })
    }
}

impl std::error::Error for RouterError {}

/// Counters shared with the PBX side (lock-free).
#[derive(Debug, Default)]
pub struct RouterCounters {
    pub commands: AtomicU64,
    pub commands_rejected_full: AtomicU64,
    /// Actions for a caller whose thread is gone (nobody to deliver to).
    pub actions_dropped: AtomicU64,
    /// Actions that found their call's channel full: kept in order and
    /// delivered later (an exit is never lost while the caller is there).
    pub actions_deferred: AtomicU64,
    /// Callbacks the PBX could not be handed (its channel full): the offer
    /// failed at once, the agent is free and the callback waits again.
    pub callbacks_failed: AtomicU64,
}

/// What the CLI / API can ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    Queues,
    Agents,
    Calls,
    Stats,
    /// Calls with a live caller leg in a queue application.
    LiveCalls,
    /// The event bus's sinks.
    Sinks,
    /// Talking calls answered more than this many ms ago (the sweep).
    LongCalls(Time),
}

#[derive(Debug, Clone)]
pub enum Reply {
    Queues(Vec<QueueView>),
    Agents(Vec<AgentView>),
    Calls(Vec<CallView>),
    Stats(StatsReport, crate::core::engine::Counters),
    Count(usize),
    Sinks(Vec<SinkView>),
    LongCalls(Vec<crate::core::engine::LongCall>),
}

enum Command {
    Input(Input),
    Enter { call: CallId, queue: String, caller: CallerInfo, port: CallPort },
    Query(Query, Sender<Reply>),
    Subscribe { name: String, kind: SinkKind, capacity: usize, reply: Sender<Subscription> },
    Shutdown,
}

struct CallPort {
    tx: Sender<Action>,
    wake: Arc<dyn Wake>,
    /// Actions that found the channel full, oldest first: delivered before
    /// anything newer, retried every [`RETRY_BACKLOG`].
    backlog: std::collections::VecDeque<Action>,
}

/// How often actions waiting for room in a call's channel are retried.
const RETRY_BACKLOG: Duration = Duration::from_millis(20);

/// The PBX side of one call in a queue application: read actions from
/// `actions` when the call's [`Wake`] woke its thread.
pub struct CallHandle {
    pub id: CallId,
    pub actions: Receiver<Action>,
}

impl CallHandle {
    /// Block until the next action (threads with no PBX channel to watch).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Action> {
        self.actions.recv_timeout(timeout).ok()
    }
}

pub struct Router {
    tx: Sender<Command>,
    thread: std::sync::Mutex<Option<JoinHandle<()>>>,
    next_call: AtomicU64,
    pub counters: Arc<RouterCounters>,
    globals: Receiver<Action>,
    call_capacity: usize,
    started: Instant,
    published: Arc<arc_swap::ArcSwap<Published>>,
    demand: Arc<AtomicU64>,
}

impl Router {
    pub fn start(cfg: Arc<Config>, opts: RouterOptions) -> std::io::Result<Router> {
        let (tx, rx) = bounded(opts.command_capacity);
        let (g_tx, g_rx) = bounded(opts.global_capacity);
        let counters = Arc::new(RouterCounters::default());
        let started = Instant::now();
        let (publisher, published, demand) = published::Publisher::new();
        let worker = Worker {
            publisher,
            engine: Engine::new(cfg.clone(), 0, opts.seed),
            stats: Stats::new(&cfg.general),
            ports: HashMap::new(),
            bus: bus::Bus::new(opts.first_event_id),
            globals: g_tx,
            counters: counters.clone(),
            started,
            actions: Vec::new(),
            event_buf: Vec::new(),
            offers_to_globals: opts.offers_to_globals,
            closing: Vec::new(),
            backlogged: Vec::new(),
        };
        let thread = std::thread::Builder::new().name("hotline-router".into()).spawn(move || worker.run(rx))?;
        Ok(Router {
            tx,
            thread: std::sync::Mutex::new(Some(thread)),
            next_call: AtomicU64::new(opts.first_call_id.max(1)),
            counters,
            globals: g_rx,
            call_capacity: opts.call_capacity,
            started,
            published,
            demand,
        })
    }

    /// The latest published copy of queues, agents and calls (at most
    /// [`PUBLISH_EVERY`] ms old): lock-free, for threads that must not wait.
    pub fn published(&self) -> Arc<Published> {
        self.published.load_full()
    }

    /// As [`Router::published`], asking for agents and calls in the copies
    /// from now on (for [`published::DEMAND_KEEP`] ms): this copy may still
    /// lack them ([`Published::full`]).
    pub fn published_full(&self) -> Arc<Published> {
        self.demand.fetch_max(self.now() + 1, Ordering::Relaxed);
        self.published.load_full()
    }

    /// Milliseconds since the router started (the engine's clock).
    pub fn now(&self) -> Time {
        self.started.elapsed().as_millis() as Time
    }

    /// When the router's clock reads 0: adapters measure their
    /// [`crate::flow::Primitives::now`] from here, so an offer's deadline
    /// means the same instant to both.
    pub fn epoch(&self) -> Instant {
        self.started
    }

    /// A fresh call id.
    pub fn new_call_id(&self) -> CallId {
        CallId(self.next_call.fetch_add(1, Ordering::Relaxed))
    }

    /// Put a caller into a queue; the router answers on the returned handle
    /// (for a thread that blocks on it: nothing else is woken).
    pub fn enter(&self, queue: &str, caller: CallerInfo) -> Result<CallHandle, RouterError> {
        self.enter_as(self.new_call_id(), queue, caller, Arc::new(NoWake))
    }

    /// [`Router::enter`] with an id from [`Router::new_call_id`] (for an
    /// adapter that registers the call elsewhere before the router can
    /// decide anything about it) and the call's `wake`, called after each
    /// action queued for it.
    pub fn enter_as(&self, id: CallId, queue: &str, caller: CallerInfo, wake: Arc<dyn Wake>) -> Result<CallHandle, RouterError> {
        let (atx, arx) = bounded(self.call_capacity);
        let port = CallPort { tx: atx, wake, backlog: Default::default() };
        self.push(Command::Enter { call: id, queue: queue.to_string(), caller, port })?;
        Ok(CallHandle { id, actions: arx })
    }

    /// Send an input without blocking.
    pub fn send(&self, input: Input) -> Result<(), RouterError> {
        self.push(Command::Input(input))
    }

    /// Send a report that must not be lost (a call's end): if the channel
    /// is full (overload), wait at most `patience` for room. Everything else
    /// uses [`Router::send`], which never waits.
    pub fn send_final(&self, input: Input, patience: Duration) -> Result<(), RouterError> {
        self.counters.commands.fetch_add(1, Ordering::Relaxed);
        match self.tx.try_send(Command::Input(input)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Disconnected(_)) => Err(RouterError::Stopped),
            Err(TrySendError::Full(c)) => {
                self.counters.commands_rejected_full.fetch_add(1, Ordering::Relaxed);
                self.tx.send_timeout(c, patience).map_err(|e| match e {
                    crossbeam_channel::SendTimeoutError::Timeout(_) => RouterError::Full,
                    crossbeam_channel::SendTimeoutError::Disconnected(_) => RouterError::Stopped,
                })
            }
        }
    }

    /// A report from a PBX thread that never waits: a refusal (overload) is
    /// logged, and the router recovers (an unreported offer is freed by its
    /// watchdog; an offer to a caller whose thread is gone becomes that
    /// caller's hang-up).
    pub fn report(&self, input: Input) {
        if let Err(e) = self.send(input.clone()) {
            log::error!("hotline: report lost ({e}): {input:?}");
        }
    }

    /// A call's last report (its end): under overload it waits up to 50 ms
    /// for room, because nothing else would free the agent.
    pub fn report_final(&self, input: Input) -> bool {
        match self.send_final(input.clone(), Duration::from_millis(50)) {
            Ok(()) => true,
            Err(e) => {
                log::error!("hotline: final report lost ({e}): {input:?}");
                false
            }
        }
    }

    fn push(&self, c: Command) -> Result<(), RouterError> {
        self.counters.commands.fetch_add(1, Ordering::Relaxed);
        match self.tx.try_send(c) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                self.counters.commands_rejected_full.fetch_add(1, Ordering::Relaxed);
                log::error!("hotline: router command channel full; input rejected");
                Err(RouterError::Full)
            }
            Err(TrySendError::Disconnected(_)) => Err(RouterError::Stopped),
        }
    }

    /// Ask the router something (CLI / API threads only: this waits).
    pub fn query(&self, q: Query, timeout: Duration) -> Result<Reply, RouterError> {
        let (tx, rx) = bounded(1);
        self.push(Command::Query(q, tx))?;
        rx.recv_timeout(timeout).map_err(|e| match e {
            RecvTimeoutError::Timeout => RouterError::Timeout,
            RecvTimeoutError::Disconnected => RouterError::Stopped,
        })
    }

    /// Attach a sink to the event bus: from now on it gets every event in
    /// a queue of its own of `capacity` (waits for the router: for setup
    /// threads only).
    pub fn subscribe(&self, name: &str, kind: SinkKind, capacity: usize) -> Result<Subscription, RouterError> {
        let (tx, rx) = bounded(1);
        self.push(Command::Subscribe { name: name.to_string(), kind, capacity, reply: tx })?;
        rx.recv_timeout(Duration::from_secs(5)).map_err(|e| match e {
            RecvTimeoutError::Timeout => RouterError::Timeout,
            RecvTimeoutError::Disconnected => RouterError::Stopped,
        })
    }

    /// Actions with no live caller thread (callbacks).
    pub fn global_actions(&self) -> Receiver<Action> {
        self.globals.clone()
    }

    /// Stop the thread and wait for it.
    pub fn shutdown(self) {
        self.stop();
    }

    /// Stop the thread and wait for it, in place (idempotent).
    pub fn stop(&self) {
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = thread {
            // Blocking send is fine here: shutdown runs on an admin thread,
            // and the router drains its channel quickly.
            let _ = self.tx.send_timeout(Command::Shutdown, Duration::from_secs(5));
            let _ = t.join();
        }
    }
}

fn action_name(a: &Action) -> &'static str {
    match a {
        Action::Offer { .. } => "an offer",
        Action::Announce { .. } => "an announcement",
        Action::Moved { .. } => "a move",
        Action::Exit { .. } => "an exit",
        Action::Connect { .. } => "a connect",
        Action::Drop { .. } => "a drop",
        Action::Requeued { .. } => "a requeue",
        Action::TalkDone { .. } => "a talk end",
        Action::Callback { .. } => "a callback",
        Action::Note { .. } => "a note",
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Worker {
    publisher: published::Publisher,
    engine: Engine,
    stats: Stats,
    ports: HashMap<CallId, CallPort>,
    bus: bus::Bus,
    globals: Sender<Action>,
    counters: Arc<RouterCounters>,
    started: Instant,
    actions: Vec<Action>,
    event_buf: Vec<Event>,
    offers_to_globals: bool,
    /// Calls whose end was reported: their port goes once the engine has
    /// forgotten them and their last actions are delivered (a requeued
    /// caller keeps it).
    closing: Vec<CallId>,
    /// Calls with actions waiting for room in their channel.
    backlogged: Vec<CallId>,
}

impl Worker {
    fn now(&self) -> Time {
        self.started.elapsed().as_millis() as Time
    }

    fn run(mut self, rx: Receiver<Command>) {
        loop {
            let now = self.now();
            // Only with nothing queued: a copy built at `now` then holds
            // every command sent before `now` (the web port's read-your-writes).
            let idle = rx.is_empty();
            if idle {
                self.publisher.maybe_publish(now, &self.engine);
            }
            let retry = (!self.backlogged.is_empty()).then_some(now + RETRY_BACKLOG.as_millis() as Time);
            // (Commands queued: the receive below returns at once anyway.)
            let publish = if idle { self.publisher.due(now) } else { None };
            let deadline = [self.engine.next_deadline(), retry, publish].into_iter().flatten().min();
            let cmd = match deadline {
                Some(d) if d <= now => {
                    self.advance_timers(now);
                    continue;
                }
                Some(d) => rx.recv_timeout(Duration::from_millis(d - now)),
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match cmd {
                Ok(c) => {
                    if !self.apply(c) {
                        break;
                    }
                    // Take what else is queued before dispatching (batching).
                    let mut stop = false;
                    for _ in 0..256 {
                        match rx.try_recv() {
                            Ok(c) => {
                                if !self.apply(c) {
                                    stop = true;
                                    break;
                                }
                            }
                            Err(_) => break,
                        }
                    }
                    self.dispatch();
                    if stop {
                        break;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    let now = self.now();
                    self.advance_timers(now);
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        // Wake every caller still waiting so its thread can leave.
        for (_, port) in self.ports.drain() {
            port.wake.wake();
        }
    }

    /// Run the engine's timers due at `now` (a state change to publish,
    /// unless the wake-up was only for the publisher or the backlog).
    fn advance_timers(&mut self, now: Time) {
        if self.engine.next_deadline().is_some_and(|d| d <= now) {
            self.publisher.touch();
        }
        self.engine.advance(now);
        self.dispatch();
    }

    /// Apply one command; false means stop.
    fn apply(&mut self, c: Command) -> bool {
        let now = self.now();
        if !matches!(c, Command::Query(..)) {
            self.publisher.touch();
        }
        match c {
            Command::Shutdown => return false,
            Command::Enter { call, queue, caller, port } => {
                self.ports.insert(call, port);
                self.engine.handle(now, Input::CallEnter { call, queue, caller });
            }
            Command::Input(input) => {
                let gone = match &input {
                    Input::CallerHangup { call } | Input::CallEnded { call, .. } => Some(*call),
                    _ => None,
                };
                if let Input::Reload(cfg) = &input {
                    self.stats.set_thresholds(&cfg.general);
                }
                self.engine.handle(now, input);
                if let Some(call) = gone {
                    self.closing.push(call);
                }
            }
            Command::Query(q, reply) => {
                self.engine.advance(now);
                // Deliver what is pending first, so the answer reflects every
                // command before it (dispatching applies each event to the
                // statistics and the sinks exactly once).
                self.dispatch();
                let r = match q {
                    Query::Queues => Reply::Queues(self.engine.queue_views()),
                    Query::Agents => Reply::Agents(self.engine.agent_views()),
                    Query::Calls => Reply::Calls(self.engine.call_views(now)),
                    Query::Stats => Reply::Stats(self.stats.report(now), self.engine.counters.clone()),
                    Query::LiveCalls => Reply::Count(self.ports.len()),
                    Query::Sinks => Reply::Sinks(self.bus.views()),
                    Query::LongCalls(older) => Reply::LongCalls(self.engine.long_calls(now, older)),
                };
                let _ = reply.try_send(r);
            }
            Command::Subscribe { name, kind, capacity, reply } => {
                let _ = reply.try_send(self.bus.subscribe(&name, kind, capacity));
            }
        }
        true
    }

    /// Deliver pending actions to call ports and events to sinks.
    fn dispatch(&mut self) {
        // A decision for a caller whose thread is gone (its report was lost)
        // turns into that caller's hang-up, so no agent rings for nobody; a
        // callback the PBX could not be handed fails at once.
        for _ in 0..4 {
            let (orphans, failed) = self.dispatch_once();
            if orphans.is_empty() && failed.is_empty() {
                break;
            }
            let now = self.now();
            for call in orphans {
                log::warn!("hotline: call {call} has no waiting thread; treating it as hung up");
                self.ports.remove(&call);
                self.engine.handle(now, Input::CallerHangup { call });
            }
            for (call, agent, seq) in failed {
                self.engine.handle(now, Input::OfferResult { call, agent, outcome: OfferOutcome::Unavailable, seq });
            }
        }
    }

    /// Send what waits in the backlog of `call`, oldest first, until the
    /// channel is full again. A port whose caller is gone, or that
    /// delivered its exit, or whose call is over, goes.
    fn flush(&mut self, call: CallId) {
        let Some(port) = self.ports.get_mut(&call) else { return };
        let mut remove = false;
        while let Some(a) = port.backlog.pop_front() {
            let exit = matches!(a, Action::Exit { .. });
            match port.tx.try_send(a) {
                Ok(()) => remove |= exit,
                Err(TrySendError::Full(a)) => {
                    port.backlog.push_front(a);
                    break;
                }
                Err(TrySendError::Disconnected(_)) => {
                    let n = port.backlog.len() as u64 + 1;
                    self.counters.actions_dropped.fetch_add(n, Ordering::Relaxed);
                    port.backlog.clear();
                    remove = true;
                }
            }
        }
        port.wake.wake();
        if remove {
            self.ports.remove(&call);
        }
    }

    fn dispatch_once(&mut self) -> (Vec<CallId>, Vec<(CallId, u32, u32)>) {
        let mut orphans = Vec::new();
        let mut failed = Vec::new();
        // Older actions first: what found a channel full before.
        for call in std::mem::take(&mut self.backlogged) {
            self.flush(call);
        }
        self.engine.drain_into(&mut self.actions, &mut self.event_buf);
        let actions = std::mem::take(&mut self.actions);
        for a in actions {
            if let Action::Callback { call, seq, ref target, .. } = a {
                let agent = target.agent;
                if let Err(e) = self.globals.try_send(a) {
                    self.counters.callbacks_failed.fetch_add(1, Ordering::Relaxed);
                    log::error!("hotline: callback {call} could not be handed to the PBX ({}); its offer fails now", if e.is_full() { "channel full" } else { "stopped" });
                    failed.push((call, agent, seq));
                }
                continue;
            }
            let a = if self.offers_to_globals && matches!(a, Action::Offer { .. }) && self.ports.contains_key(&a.call()) {
                match self.globals.try_send(a) {
                    Ok(()) => continue,
                    // Full: the caller's thread rings instead.
                    Err(e) => e.into_inner(),
                }
            } else {
                a
            };
            let call = a.call();
            let offer = matches!(a, Action::Offer { .. });
            let Some(port) = self.ports.get_mut(&call) else {
                self.counters.actions_dropped.fetch_add(1, Ordering::Relaxed);
                if offer {
                    orphans.push(call);
                }
                continue;
            };
            if !port.backlog.is_empty() {
                // Behind others that wait for room: keep the order.
                self.counters.actions_deferred.fetch_add(1, Ordering::Relaxed);
                port.backlog.push_back(a);
                continue;
            }
            let exit = matches!(a, Action::Exit { .. });
            match port.tx.try_send(a) {
                Ok(()) => {
                    port.wake.wake();
                    if exit {
                        self.ports.remove(&call);
                    }
                }
                Err(TrySendError::Disconnected(_)) => {
                    // The caller's thread is gone and its hang-up report
                    // was lost.
                    self.counters.actions_dropped.fetch_add(1, Ordering::Relaxed);
                    port.wake.wake();
                    if offer {
                        orphans.push(call);
                    }
                    if exit {
                        self.ports.remove(&call);
                    }
                }
                Err(TrySendError::Full(a)) => {
                    self.counters.actions_deferred.fetch_add(1, Ordering::Relaxed);
                    log::warn!("hotline: the channel of call {call} is full; {} waits for room", action_name(&a));
                    port.backlog.push_back(a);
                    port.wake.wake();
                    self.backlogged.push(call);
                }
            }
        }
        // A call whose end was reported loses its port once the engine has
        // forgotten it and nothing waits to be delivered to it.
        let mut still = Vec::new();
        for call in std::mem::take(&mut self.closing) {
            match self.ports.get(&call) {
                Some(p) if !p.backlog.is_empty() => still.push(call),
                Some(_) if !self.engine.has_call(call) => {
                    self.ports.remove(&call);
                }
                _ => {}
            }
        }
        self.closing = still;
        for call in self.ports.iter().filter(|(_, p)| !p.backlog.is_empty()).map(|(c, _)| *c) {
            if !self.backlogged.contains(&call) {
                self.backlogged.push(call);
            }
        }
        for e in self.event_buf.drain(..) {
            self.stats.apply(&e);
            self.bus.publish(e);
        }
        (orphans, failed)
    }
}
