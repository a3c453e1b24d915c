// SPDX-License-Identifier: GPL-2.0-or-later
//! One caller walking the IVR graph.
//!
//! [`IvrSession::next`] takes what the last command produced and returns the
//! next command. Inside, the session moves through `Flow` steps (enter a
//! node, present a menu, perform an action...) until one needs the PBX;
//! every step counts against the step budget (`[ivr] max_steps`, default
//! 200), after which the caller takes the default exit, so no graph (or
//! caller pressing the same `play` key forever) can loop for ever.

use std::sync::Arc;

use crate::core::Time;
use crate::flow::data::CallData;

use super::config::{Action, ActionKind, Condition, Node};
use super::{Collect, Command, DateValue, Exit, Facts, Input, IvrConfig, LookupRequest, MoneyValue, Prompt, RecordRequest};

/// Who is calling, as routing rules see it.
#[derive(Debug, Clone, Default)]
pub struct CallerFacts {
    pub number: String,
    pub language: String,
}

/// A menu on the way: its counters live as long as the caller stays in it
/// (or in a collect or route entered from it).
#[derive(Debug, Clone)]
struct Frame {
    menu: usize,
    failures: u32,
    timeouts: u32,
}

/// Where the caller is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// In the menu on top of the stack.
    Menu,
    /// In this collect step.
    Collect { index: usize, attempts: u32 },
    /// Passing through (a route, a closed menu).
    Passing,
}

#[derive(Debug, Clone)]
enum Flow {
    Enter { node: String, record: bool },
    /// Play the current menu and wait for a key.
    Present { long: bool },
    /// Ask the current collect step for its value.
    Ask,
    /// Read the value back and ask for the confirm key.
    Confirm(String),
    Act(Action),
    SetLanguage { code: String, then: Box<Flow> },
    Finish(Exit),
}

/// What the session waits for.
#[derive(Debug, Clone)]
enum Wait {
    Start,
    MenuKey,
    Value,
    Confirm(String),
    /// The result of this lookup step.
    Looked(usize),
    /// The recording of this message step.
    Recorded(usize),
    Resume(Flow),
    Done(Exit),
}

/// One caller in the IVR.
pub struct IvrSession {
    cfg: Arc<IvrConfig>,
    data: CallData,
    path: Vec<String>,
    language: String,
    number: String,
    start: String,
    wait: Wait,
    stack: Vec<Frame>,
    at: At,
    /// Prompts to play before the next command's own.
    pending: Vec<Prompt>,
    /// The keys of the last entry or collected value (`{digits}`).
    digits: String,
    sensitive: Vec<String>,
    steps: u32,
}

enum Step {
    Go(Flow),
    Emit(Command),
}

impl IvrSession {
    /// Start at node `menu` (a menu, collect or route); an unknown name is
    /// an error for this call.
    pub fn start(cfg: Arc<IvrConfig>, menu: &str, caller: CallerFacts, data: CallData) -> Result<IvrSession, String> {
        if !cfg.has_node(menu) {
            return Err(format!("no IVR menu named {menu:?}"));
        }
        Ok(IvrSession {
            cfg,
            data,
            path: vec![menu.to_string()],
            language: caller.language,
            number: caller.number,
            start: menu.to_string(),
            wait: Wait::Start,
            stack: Vec::new(),
            at: At::Passing,
            pending: Vec::new(),
            digits: String::new(),
            sensitive: Vec::new(),
            steps: 0,
        })
    }

    /// The next command. `input`: what the previous command produced (None
    /// on the first call); `now_unix_ms`: wall-clock time (hours).
    pub fn next(&mut self, input: Option<Input>, now_unix_ms: i64, facts: &dyn Facts) -> Command {
        let (mut keys, mut looked, mut recorded, mut spoken) = (String::new(), None, None, None);
        match input {
            Some(Input::Digits(d)) => keys = d,
            Some(Input::Spoken { text, confidence }) => spoken = Some((text, confidence)),
            Some(Input::Looked(r)) => looked = Some(r),
            Some(Input::Recorded(r)) => recorded = r,
            _ => {}
        }
        let flow = match std::mem::replace(&mut self.wait, Wait::Start) {
            Wait::Start => Flow::Enter { node: self.start.clone(), record: false },
            Wait::MenuKey => self.on_menu_key(keys, spoken),
            Wait::Value => self.on_value(keys),
            Wait::Confirm(value) => self.on_confirm(keys, value),
            Wait::Looked(index) => self.on_looked(index, looked.unwrap_or_else(|| Err("no lookup result".into()))),
            Wait::Recorded(index) => self.on_recorded(index, recorded),
            Wait::Resume(flow) => flow,
            Wait::Done(exit) => {
                self.wait = Wait::Done(exit.clone());
                return Command::Finish(exit);
            }
        };
        self.run(flow, now_unix_ms, facts)
    }

    /// The call's data, with what the IVR collected and set.
    pub fn data(&self) -> &CallData {
        &self.data
    }

    /// Keys of the data that are sensitive (masked in logs and events).
    pub fn sensitive_keys(&self) -> Vec<String> {
        self.sensitive.clone()
    }

    /// The nodes visited, in order (`hotline_ivr_path`).
    pub fn path(&self) -> &[String] {
        &self.path
    }

    /// The language the caller chose (or had), for the queue's skills.
    pub fn language(&self) -> &str {
        &self.language
    }

    /// Steps taken so far (against `[ivr] max_steps`).
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// The session has finished: how the caller left.
    pub fn exit(&self) -> Option<&Exit> {
        match &self.wait {
            Wait::Done(e) => Some(e),
            _ => None,
        }
    }

    fn run(&mut self, mut flow: Flow, now: i64, facts: &dyn Facts) -> Command {
        loop {
            self.steps += 1;
            if self.steps > self.cfg.step_budget() && !matches!(flow, Flow::Finish(_)) {
                log::warn!("IVR step budget ({}) spent at {:?}: default exit", self.cfg.step_budget(), self.path.last());
                self.pending.clear();
                flow = Flow::Finish(self.exit_of(&self.cfg.default_action()));
            }
            match self.step(flow, now, facts) {
                Step::Go(f) => flow = f,
                Step::Emit(Command::Play { prompts, collect }) => return Command::Play { prompts: self.with_data(prompts), collect },
                Step::Emit(c) => return c,
            }
        }
    }

    /// Say prompts of the call's data (`say:date:@due`) with the values
    /// they have now; one whose value is missing or not a date or an
    /// amount is left out, with a log line (naming the key, not the value).
    fn with_data(&self, prompts: Vec<Prompt>) -> Vec<Prompt> {
        let value = |k: &str| self.data.get(k).map(str::to_string);
        prompts
            .into_iter()
            .filter_map(|p| match p {
                Prompt::Date(d @ DateValue::Data { .. }) => match d.resolve(value) {
                    Some(on) => Some(Prompt::Date(DateValue::On(on))),
                    None => {
                        log::warn!("IVR {:?}: say:date: data {d:?} is missing or not a date; not said", self.path.last());
                        None
                    }
                },
                Prompt::Money(m @ MoneyValue::Data(_)) => match m.resolve(value) {
                    Some(c) => Some(Prompt::Money(MoneyValue::Cents(c))),
                    None => {
                        log::warn!("IVR {:?}: say:money: data {m:?} is missing or not an amount; not said", self.path.last());
                        None
                    }
                },
                p => Some(p),
            })
            .collect()
    }

    fn step(&mut self, flow: Flow, now: i64, facts: &dyn Facts) -> Step {
        match flow {
            Flow::Enter { node, record } => self.enter(node, record, now, facts),
            Flow::Present { long } => self.present(long),
            Flow::Ask => self.ask(),
            Flow::Confirm(value) => self.confirm(value),
            Flow::Act(action) => self.act(action),
            Flow::SetLanguage { code, then } => {
                if !self.pending.is_empty() {
                    return self.play_then(Flow::SetLanguage { code, then });
                }
                self.wait = Wait::Resume(*then);
                Step::Emit(Command::SetLanguage(code))
            }
            Flow::Finish(exit) => {
                if !self.pending.is_empty() {
                    return self.play_then(Flow::Finish(exit));
                }
                self.wait = Wait::Done(exit.clone());
                Step::Emit(Command::Finish(exit))
            }
        }
    }

    /// Play what is pending, then go on with `then`.
    fn play_then(&mut self, then: Flow) -> Step {
        self.wait = Wait::Resume(then);
        Step::Emit(Command::Play { prompts: std::mem::take(&mut self.pending), collect: None })
    }

    fn enter(&mut self, node: String, record: bool, now: i64, facts: &dyn Facts) -> Step {
        if record {
            self.path.push(node.clone());
        }
        let cfg = self.cfg.clone();
        match cfg.node(&node) {
            Some(Node::Menu(m)) => {
                if let (Some(cal), Some(closed)) = (&m.hours, &m.closed) {
                    if !cfg.calendar(cal).is_some_and(|c| c.is_open(now)) {
                        self.at = At::Passing;
                        self.pending.extend(m.closed_sound.iter().cloned());
                        return Step::Go(Flow::Act(closed.clone()));
                    }
                }
                let index = cfg.menus.iter().position(|x| x.name == m.name).unwrap_or(0);
                // Entering a menu already on the way goes back to it.
                if let Some(pos) = self.stack.iter().position(|f| f.menu == index) {
                    self.stack.truncate(pos);
                }
                self.stack.push(Frame { menu: index, failures: 0, timeouts: 0 });
                self.at = At::Menu;
                match &m.language {
                    Some(l) if *l != self.language => {
                        self.language = l.clone();
                        Step::Go(Flow::SetLanguage { code: l.clone(), then: Box::new(Flow::Present { long: true }) })
                    }
                    _ => Step::Go(Flow::Present { long: true }),
                }
            }
            Some(Node::Collect(c)) => {
                let index = cfg.collects.iter().position(|x| x.name == c.name).unwrap_or(0);
                self.at = At::Collect { index, attempts: 0 };
                Step::Go(Flow::Ask)
            }
            Some(Node::Lookup(l)) => {
                self.at = At::Passing;
                let index = cfg.lookups.iter().position(|x| x.name == l.name).unwrap_or(0);
                let mut prompts = std::mem::take(&mut self.pending);
                prompts.extend(l.prompts.iter().cloned());
                let url = super::lookup::fill(&l.parts, &self.number, &self.data);
                let paths = l.map.iter().map(|(p, _)| p.clone()).collect();
                self.wait = Wait::Looked(index);
                Step::Emit(Command::Lookup(LookupRequest { url, timeout: l.timeout, prompts, paths }))
            }
            Some(Node::Message(m)) => {
                self.at = At::Passing;
                let index = cfg.messages.iter().position(|x| x.name == m.name).unwrap_or(0);
                let mut prompts = std::mem::take(&mut self.pending);
                prompts.extend(m.prompts.iter().cloned());
                self.wait = Wait::Recorded(index);
                Step::Emit(Command::Record(RecordRequest::for_step(m, prompts)))
            }
            Some(Node::Route(r)) => {
                self.at = At::Passing;
                let action = r
                    .rules
                    .iter()
                    .find(|rule| rule.conditions.iter().all(|c| self.holds(c, now, facts)))
                    .map(|rule| rule.then.clone())
                    .unwrap_or_else(|| r.default.clone());
                Step::Go(Flow::Act(action))
            }
            None => {
                log::warn!("IVR node {node:?} vanished: default exit");
                Step::Go(Flow::Finish(self.exit_of(&cfg.default_action())))
            }
        }
    }

    fn holds(&self, c: &Condition, now: i64, facts: &dyn Facts) -> bool {
        let value = |k: &str| self.data.entries().iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        match c {
            Condition::Data(k, v) => value(k) == Some(v.as_str()),
            Condition::DataPrefix(k, p) => value(k).is_some_and(|v| v.starts_with(p.as_str())),
            Condition::CallerPrefix(list) => list.iter().any(|p| self.number.starts_with(p.as_str())),
            Condition::CallerIn(list) => list.iter().any(|n| *n == self.number),
            Condition::Language(l) => self.language.eq_ignore_ascii_case(l),
            Condition::Open(cal) => self.cfg.calendar(cal).is_some_and(|c| c.is_open(now)),
            Condition::Closed(cal) => !self.cfg.calendar(cal).is_some_and(|c| c.is_open(now)),
            Condition::WaitingAtLeast(q, n) => facts.waiting(q).is_some_and(|w| w >= *n),
            Condition::IdleAtLeast(q, n) => facts.idle_agents(q).is_some_and(|i| i >= *n),
        }
    }

    fn present(&mut self, long: bool) -> Step {
        let Some(frame) = self.stack.last() else {
            return Step::Go(Flow::Act(self.cfg.default_action()));
        };
        let m = &self.cfg.menus[frame.menu];
        self.at = At::Menu;
        let mut prompts = std::mem::take(&mut self.pending);
        prompts.extend(if long { m.greet_long.iter() } else { m.greet_short.iter() }.cloned());
        let collect = Collect {
            min_digits: 1,
            max_digits: m.digit_len,
            timeout: m.timeout,
            inter_digit: m.inter_digit,
            terminators: String::new(),
            barge_in: m.barge_in,
            complete: m.complete.clone(),
            speech: m.speech.clone(),
        };
        self.wait = Wait::MenuKey;
        Step::Emit(Command::Play { prompts, collect: Some(collect) })
    }

    /// The caller's keys, or words (`spoken`: text, confidence) that stand
    /// for a key; words that stand for none count as an invalid key.
    fn on_menu_key(&mut self, mut keys: String, spoken: Option<(String, u8)>) -> Flow {
        let cfg = self.cfg.clone();
        let Some(frame) = self.stack.last_mut() else {
            return Flow::Act(cfg.default_action());
        };
        let m = &cfg.menus[frame.menu];
        let understood = match (&spoken, &m.speech) {
            (Some((text, confidence)), Some(sp)) => sp.key_for(text, *confidence).map(|k| keys = k.to_string()).is_some(),
            (Some(_), None) => false,
            (None, _) => true,
        };
        if keys.is_empty() && understood {
            frame.timeouts += 1;
            self.pending.extend(m.timeout_sound.iter().cloned());
            if frame.timeouts >= m.max_timeouts {
                return Flow::Act(m.on_max_timeouts.clone());
            }
            return Flow::Present { long: false };
        }
        match m.find(&keys).filter(|_| understood) {
            Some(e) => {
                self.digits = keys;
                Flow::Act(e.action.clone())
            }
            None => {
                frame.failures += 1;
                self.pending.extend(m.invalid_sound.iter().cloned());
                if frame.failures >= m.max_failures {
                    Flow::Act(m.on_max_failures.clone())
                } else {
                    Flow::Present { long: false }
                }
            }
        }
    }

    /// The menu the caller is in or came from, again (short greeting).
    fn current_menu(&mut self, long: bool) -> Step {
        if self.stack.is_empty() {
            return Step::Go(Flow::Act(self.cfg.default_action()));
        }
        self.at = At::Menu;
        Step::Go(Flow::Present { long })
    }

    fn enter_menu(&self, index: usize) -> Step {
        Step::Go(Flow::Enter { node: self.cfg.menus[index].name.clone(), record: true })
    }

    fn act(&mut self, action: Action) -> Step {
        for (k, v) in &action.set {
            if let Err(e) = self.data.set(k, v) {
                log::warn!("IVR: cannot set data {k}: {e}: default exit");
                return Step::Go(Flow::Finish(self.exit_of(&self.cfg.default_action())));
            }
        }
        match action.kind {
            ActionKind::Menu(n) | ActionKind::Route(n) | ActionKind::Collect(n) | ActionKind::Lookup(n) | ActionKind::Message(n) => {
                Step::Go(Flow::Enter { node: n, record: true })
            }
            ActionKind::Back => {
                if self.at == At::Menu {
                    if self.stack.len() < 2 {
                        return self.current_menu(false);
                    }
                    self.stack.pop();
                }
                match self.stack.pop() {
                    Some(f) => self.enter_menu(f.menu),
                    None => Step::Go(Flow::Act(self.cfg.default_action())),
                }
            }
            ActionKind::Top => match self.stack.first().map(|f| f.menu) {
                Some(first) => {
                    self.stack.clear();
                    self.enter_menu(first)
                }
                None => Step::Go(Flow::Act(self.cfg.default_action())),
            },
            ActionKind::Repeat => self.current_menu(false),
            ActionKind::Play(prompts) => {
                self.pending.extend(prompts);
                self.current_menu(false)
            }
            ActionKind::Callback { queue, prompts } => {
                self.pending.extend(prompts);
                self.wait = Wait::Resume(Flow::Finish(Exit::Hangup));
                Step::Emit(Command::Callback(queue))
            }
            ActionKind::Language(code) => {
                self.language = code.clone();
                if let Some(f) = self.stack.last_mut() {
                    f.failures = 0;
                    f.timeouts = 0;
                }
                let then = if self.stack.is_empty() { Flow::Act(self.cfg.default_action()) } else { Flow::Present { long: true } };
                Step::Go(Flow::SetLanguage { code, then: Box::new(then) })
            }
            kind => {
                let exit = self.exit_of(&Action { kind, set: Vec::new() });
                if exit == Exit::Hangup && self.at == At::Menu {
                    if let Some(f) = self.stack.last() {
                        self.pending.extend(self.cfg.menus[f.menu].exit_sound.iter().cloned());
                    }
                }
                Step::Go(Flow::Finish(exit))
            }
        }
    }

    /// The exit an exit action makes (anything else: hang up).
    fn exit_of(&self, action: &Action) -> Exit {
        match &action.kind {
            ActionKind::Queue { queue, priority, skills } => Exit::Queue { queue: queue.clone(), priority: *priority, skills: skills.clone() },
            ActionKind::Transfer(t) => Exit::Transfer(t.replace("{digits}", &self.digits)),
            ActionKind::Return => Exit::Return,
            _ => Exit::Hangup,
        }
    }

    fn ask(&mut self) -> Step {
        let At::Collect { index, .. } = self.at else {
            return Step::Go(Flow::Act(self.cfg.default_action()));
        };
        let c = &self.cfg.collects[index];
        let mut prompts = std::mem::take(&mut self.pending);
        prompts.extend(c.prompts.iter().cloned());
        let collect = Collect {
            min_digits: c.min_digits,
            max_digits: c.max_digits,
            timeout: c.timeout,
            inter_digit: c.inter_digit,
            terminators: c.terminators.clone(),
            barge_in: true,
            complete: Vec::new(),
            speech: None,
        };
        self.wait = Wait::Value;
        Step::Emit(Command::Play { prompts, collect: Some(collect) })
    }

    fn confirm(&mut self, value: String) -> Step {
        let At::Collect { index, .. } = self.at else {
            return Step::Go(Flow::Act(self.cfg.default_action()));
        };
        let c = &self.cfg.collects[index];
        let mut prompts = std::mem::take(&mut self.pending);
        prompts.extend(c.read_back_sound.iter().cloned());
        prompts.push(Prompt::Digits(value.clone()));
        prompts.extend(c.confirm_sound.iter().cloned());
        let collect = Collect {
            min_digits: 1,
            max_digits: 1,
            timeout: c.timeout,
            inter_digit: c.inter_digit,
            terminators: String::new(),
            barge_in: true,
            complete: vec![c.confirm_key.clone()],
            speech: None,
        };
        self.wait = Wait::Confirm(value);
        Step::Emit(Command::Play { prompts, collect: Some(collect) })
    }

    /// One more attempt used: ask again, or fail when none are left.
    fn retry(&mut self, sound: fn(&super::config::CollectConfig) -> &Vec<Prompt>) -> Flow {
        let cfg = self.cfg.clone();
        let At::Collect { index, attempts } = &mut self.at else {
            return Flow::Act(cfg.default_action());
        };
        let c = &cfg.collects[*index];
        *attempts += 1;
        self.pending.extend(sound(c).iter().cloned());
        if *attempts >= c.max_attempts {
            Flow::Act(c.on_failure.clone())
        } else {
            Flow::Ask
        }
    }

    fn on_value(&mut self, value: String) -> Flow {
        let cfg = self.cfg.clone();
        let At::Collect { index, .. } = self.at else {
            return Flow::Act(cfg.default_action());
        };
        let c = &cfg.collects[index];
        if value.is_empty() {
            return self.retry(|c| &c.timeout_sound);
        }
        let valid = (c.min_digits..=c.max_digits).contains(&value.len()) && c.validate.as_ref().map_or(true, |v| v.check(&value));
        if !valid {
            return self.retry(|c| &c.invalid_sound);
        }
        if c.read_back {
            return Flow::Confirm(value);
        }
        self.store(value)
    }

    fn on_confirm(&mut self, keys: String, value: String) -> Flow {
        let cfg = self.cfg.clone();
        let At::Collect { index, .. } = self.at else {
            return Flow::Act(cfg.default_action());
        };
        if keys == cfg.collects[index].confirm_key {
            self.store(value)
        } else {
            self.retry(|_| &NO_PROMPTS)
        }
    }

    fn store(&mut self, value: String) -> Flow {
        let cfg = self.cfg.clone();
        let At::Collect { index, .. } = self.at else {
            return Flow::Act(cfg.default_action());
        };
        let c = &cfg.collects[index];
        if let Err(e) = self.data.set(&c.into, &value) {
            log::warn!("IVR collect {}: cannot keep the value: {e}", c.name);
            return Flow::Act(c.on_failure.clone());
        }
        if c.sensitive && !self.sensitive.contains(&c.into) {
            self.sensitive.push(c.into.clone());
        }
        self.digits = value;
        Flow::Act(c.next.clone())
    }
}

impl IvrSession {
    /// A lookup's answer: its mapped values into the data, then `next`; an
    /// error (or a value the data cannot take): `fallback`.
    fn on_looked(&mut self, index: usize, result: Result<Vec<(String, String)>, String>) -> Flow {
        let cfg = self.cfg.clone();
        let Some(l) = cfg.lookups.get(index) else {
            return Flow::Act(cfg.default_action());
        };
        let fields = match result {
            Ok(f) => f,
            Err(e) => {
                log::info!("IVR lookup {}: {e}: fallback", l.name);
                return Flow::Act(l.fallback.clone());
            }
        };
        // Set on a copy: a value over the limits leaves the data as it was.
        let mut data = self.data.clone();
        for (path, key) in &l.map {
            if let Some((_, v)) = fields.iter().find(|(p, _)| p == path) {
                if let Err(e) = data.set(key, v) {
                    log::warn!("IVR lookup {}: cannot keep {path} as {key}: {e}: fallback", l.name);
                    return Flow::Act(l.fallback.clone());
                }
            }
        }
        self.data = data;
        Flow::Act(l.next.clone())
    }

    /// After a recording: the step's `done_sound` and `next` for a kept
    /// message (its length in data `message_seconds`), else `on_empty`.
    fn on_recorded(&mut self, index: usize, kept: Option<Time>) -> Flow {
        let cfg = self.cfg.clone();
        let Some(m) = cfg.messages.get(index) else {
            return Flow::Act(cfg.default_action());
        };
        match kept {
            Some(ms) => {
                let _ = self.data.set("message_seconds", &ms.div_ceil(1000).to_string());
                self.pending.extend(m.done_sound.iter().cloned());
                Flow::Act(m.next.clone())
            }
            None => Flow::Act(m.on_empty.clone()),
        }
    }
}

static NO_PROMPTS: Vec<Prompt> = Vec::new();

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Config;

    struct NoFacts;
    impl Facts for NoFacts {
        fn waiting(&self, _: &str) -> Option<usize> {
            None
        }
        fn idle_agents(&self, _: &str) -> Option<usize> {
            None
        }
    }

    const CFG: &str = "[[menu]]\nname = \"m\"\ngreet_long = [\"hi\"]\ntimeout_sound = [\"t\"]\nmax_timeouts = 2\n\
        [[menu.entry]]\ndigits = \"1\"\naction = \"return\"\n";

    #[test]
    fn an_unexpected_answer_counts_as_no_input() {
        let cfg = Config::parse(CFG, "t.toml").unwrap().ivr;
        let mut s = IvrSession::start(cfg, "m", CallerFacts::default(), CallData::default()).unwrap();
        assert_eq!(s.path(), ["m"]);
        s.next(None, 0, &NoFacts);
        match s.next(Some(Input::Played), 0, &NoFacts) {
            Command::Play { prompts, collect: Some(_) } => assert_eq!(prompts, vec![Prompt::File("t".into()), Prompt::File("hi".into())]),
            other => panic!("{other:?}"),
        }
        // The second no-input is the maximum: the default exit (hang up, no operator queue).
        assert_eq!(s.next(Some(Input::Done), 0, &NoFacts), Command::Play { prompts: vec![Prompt::File("t".into())], collect: None });
        assert_eq!(s.next(Some(Input::Played), 0, &NoFacts), Command::Finish(Exit::Hangup));
        assert_eq!(s.exit(), Some(&Exit::Hangup));
        assert_eq!(s.next(None, 0, &NoFacts), Command::Finish(Exit::Hangup));
    }
}
