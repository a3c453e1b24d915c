// SPDX-License-Identifier: GPL-2.0-or-later
//! The IVR engine driven by scripted inputs on a virtual clock: every path
//! through menus, collect steps, routes and hours, and the configuration
//! errors that stop a bad graph from loading.

use std::collections::HashMap;
use std::sync::Arc;

use hotline::core::Config;
use hotline::flow::data::CallData;
use hotline::ivr::{CallerFacts, Collect, Command, Exit, Facts, Input, IvrConfig, IvrSession, Prompt};

// ---------------------------------------------------------------------------
// Harness.

#[derive(Default)]
struct TestFacts {
    waiting: HashMap<String, usize>,
    idle: HashMap<String, usize>,
}

impl Facts for TestFacts {
    fn waiting(&self, queue: &str) -> Option<usize> {
        self.waiting.get(queue).copied()
    }
    fn idle_agents(&self, queue: &str) -> Option<usize> {
        self.idle.get(queue).copied()
    }
}

struct Call {
    s: IvrSession,
    now: i64,
    facts: TestFacts,
    commands: usize,
}

impl Call {
    fn new(cfg: &Arc<IvrConfig>, node: &str) -> Call {
        Call::with(cfg, node, CallerFacts::default(), CallData::default())
    }

    fn with(cfg: &Arc<IvrConfig>, node: &str, caller: CallerFacts, data: CallData) -> Call {
        let s = IvrSession::start(cfg.clone(), node, caller, data).expect("start");
        // Monday 2026-01-05 10:00 in Vietnam (UTC+7): the office is open.
        Call { s, now: ms("2026-01-05T03:00:00Z"), facts: TestFacts::default(), commands: 0 }
    }

    fn send(&mut self, input: Option<Input>) -> Command {
        self.commands += 1;
        self.s.next(input, self.now, &self.facts)
    }
    fn start(&mut self) -> Command {
        self.send(None)
    }
    fn press(&mut self, d: &str) -> Command {
        self.send(Some(Input::Digits(d.into())))
    }
    fn nothing(&mut self) -> Command {
        self.press("")
    }
    fn played(&mut self) -> Command {
        self.send(Some(Input::Played))
    }
    fn done(&mut self) -> Command {
        self.send(Some(Input::Done))
    }
}

fn ms(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>().expect("timestamp").as_millisecond()
}

fn f(s: &str) -> Prompt {
    Prompt::File(s.into())
}

fn files(list: &[&str]) -> Vec<Prompt> {
    list.iter().map(|s| f(s)).collect()
}

/// A Play that collects: its prompts and collect settings.
fn asks(c: &Command) -> (Vec<Prompt>, Collect) {
    match c {
        Command::Play { prompts, collect: Some(col) } => (prompts.clone(), col.clone()),
        other => panic!("expected a Play that collects, got {other:?}"),
    }
}

fn prompts_of(c: &Command) -> Vec<Prompt> {
    asks(c).0
}

/// A Play without collect.
fn plays(c: &Command) -> Vec<Prompt> {
    match c {
        Command::Play { prompts, collect: None } => prompts.clone(),
        other => panic!("expected a plain Play, got {other:?}"),
    }
}

fn load(text: &str) -> Arc<IvrConfig> {
    Config::parse(text, "hotline.toml").unwrap_or_else(|e| panic!("{e}")).ivr
}

fn data_of(s: &IvrSession, key: &str) -> Option<String> {
    s.data().entries().iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

const QUEUES: &str = r##"
[ivr]
operator_queue = "support"

[[queue]]
name = "support"
[[queue]]
name = "sales"
[[queue]]
name = "vip"

[[calendar]]
name = "office"
timezone = "Asia/Ho_Chi_Minh"
hours = ["mon-fri 08:00-17:30", "sat 08:00-12:00"]
closed = ["2026-01-01", "2026-02-16..2026-02-20"]
open = ["2026-02-22 08:00-12:00", "2026-02-18 09:00-11:00"]

[[calendar]]
name = "berlin"
timezone = "Europe/Berlin"
hours = ["daily 08:00-09:00"]

[[calendar]]
name = "never"
timezone = "UTC"
"##;

const MENUS: &str = r##"
[[menu]]
name = "main"
greet_long = ["welcome", "text:Press 1 for sales"]
greet_short = ["short"]
invalid_sound = ["invalid"]
timeout_sound = ["timeout"]
exit_sound = ["goodbye"]
max_failures = 2
max_timeouts = 2
on_max_failures = { action = "queue", target = "support", priority = 3 }
on_max_timeouts = { action = "transfer", target = "voicemail" }
  [[menu.entry]]
  digits = "1"
  action = "queue"
  target = "sales"
  priority = 5
  skills = "en:3,billing"
  set = { tier = "gold" }
  [[menu.entry]]
  digits = "2"
  action = "menu"
  target = "sub"
  [[menu.entry]]
  digits = "3"
  action = "collect"
  target = "account"
  [[menu.entry]]
  digits = "4"
  action = "menu"
  target = "directory"
  [[menu.entry]]
  digits = "8"
  action = "play"
  prompts = ["info"]
  [[menu.entry]]
  digits = "*"
  action = "repeat"
  [[menu.entry]]
  digits = "#"
  action = "hangup"
  [[menu.entry]]
  digits = "5"
  action = "language"
  target = "en"
  [[menu.entry]]
  digits = "6"
  action = "route"
  target = "by_lang"
  [[menu.entry]]
  digits = "77"
  action = "return"

[[menu]]
name = "sub"
greet_long = ["sub_long"]
  [[menu.entry]]
  digits = "9"
  action = "back"
  [[menu.entry]]
  digits = "3"
  action = "menu"
  target = "sub2"
  [[menu.entry]]
  digits = "1"
  action = "transfer"
  target = "billing,s,1"

[[menu]]
name = "sub2"
greet_long = ["sub2_long"]
  [[menu.entry]]
  digits = "0"
  action = "top"
  [[menu.entry]]
  digits = "9"
  action = "back"

[[menu]]
name = "directory"
greet_long = ["dial_extension"]
invalid_sound = ["no_such_extension"]
digit_len = 4
  [[menu.entry]]
  digits = "/^[1-7][0-9]{3}$/"
  action = "transfer"
  target = "{digits}@internal"
  [[menu.entry]]
  digits = "0"
  action = "queue"
  target = "support"
  [[menu.entry]]
  digits = "9"
  action = "back"

[[menu]]
name = "vietnamese"
language = "vi"
greet_long = ["xin_chao"]
  [[menu.entry]]
  digits = "1"
  action = "route"
  target = "by_lang"

[[menu]]
name = "once"
greet_long = ["once_greeting"]
timeout_sound = ["once_timeout"]
max_timeouts = 1
max_failures = 1
on_max_timeouts = { action = "hangup" }
exit_sound = ["bye"]
  [[menu.entry]]
  digits = "8"
  action = "play"
  prompts = ["info"]
  [[menu.entry]]
  digits = "1"
  action = "queue"
  target = "sales"

[[menu]]
name = "hours_menu"
hours = "office"
closed = { action = "transfer", target = "closed" }
closed_sound = ["we_are_closed"]
greet_long = ["open_greeting"]
  [[menu.entry]]
  digits = "1"
  action = "hangup"

[[menu]]
name = "berlin_menu"
hours = "berlin"
closed = { action = "hangup" }
greet_long = ["guten_tag"]
  [[menu.entry]]
  digits = "1"
  action = "hangup"

[[menu]]
name = "shut"
hours = "never"
closed = { action = "route", target = "spin" }
  [[menu.entry]]
  digits = "1"
  action = "hangup"

[[route]]
name = "spin"
default = { action = "menu", target = "shut" }

[[route]]
name = "by_lang"
default = { action = "queue", target = "support" }
  [[route.rule]]
  language = "vi"
  then = { action = "queue", target = "support", skills = "vi" }
  [[route.rule]]
  language = "en"
  then = { action = "queue", target = "support", skills = "en" }

[[collect]]
name = "account"
prompts = ["enter_account"]
into = "account"
min_digits = 4
max_digits = 16
validate = "luhn"
invalid_sound = ["bad_account"]
timeout_sound = ["no_account"]
read_back = true
read_back_sound = ["you_entered"]
confirm_sound = ["press1"]
max_attempts = 3
sensitive = true
next = { action = "route", target = "by_account" }
on_failure = { action = "back" }

[[route]]
name = "by_account"
default = { action = "queue", target = "support" }
  [[route.rule]]
  data_prefix = { account = "4" }
  then = { action = "queue", target = "vip", priority = 10 }
"##;

fn base() -> Arc<IvrConfig> {
    load(&format!("{QUEUES}{MENUS}"))
}

// ---------------------------------------------------------------------------
// Navigation.

#[test]
fn a_key_leads_to_its_queue_with_priority_skills_and_data() {
    let cfg = base();
    let mut c = Call::new(&cfg, "main");
    let (prompts, col) = asks(&c.start());
    assert_eq!(prompts, vec![f("welcome"), Prompt::Text("Press 1 for sales".into())]);
    assert_eq!((col.min_digits, col.max_digits, col.timeout, col.inter_digit), (1, 2, 10_000, 5_000));
    assert!(col.barge_in && col.terminators.is_empty());
    let exit = c.press("1");
    assert_eq!(
        exit,
        Command::Finish(Exit::Queue { queue: "sales".into(), priority: 5, skills: vec![("en".into(), 3), ("billing".into(), 1)] })
    );
    assert_eq!(data_of(&c.s, "tier").as_deref(), Some("gold"));
    assert_eq!(c.s.path(), ["main"]);
    // Asked again after the end, the answer stays.
    assert_eq!(c.press("1"), exit);
    assert!(c.s.exit().is_some());
}

#[test]
fn sub_menus_back_top_and_repeat() {
    let cfg = base();
    let mut c = Call::new(&cfg, "main");
    c.start();
    assert_eq!(prompts_of(&c.press("2")), files(&["sub_long"]));
    // back: the previous menu, from its long greeting.
    assert_eq!(prompts_of(&c.press("9")), vec![f("welcome"), Prompt::Text("Press 1 for sales".into())]);
    c.press("2");
    assert_eq!(prompts_of(&c.press("3")), files(&["sub2_long"]));
    assert_eq!(prompts_of(&c.press("9")), files(&["sub_long"]));
    assert_eq!(prompts_of(&c.press("3")), files(&["sub2_long"]));
    // top: the first menu.
    assert_eq!(prompts_of(&c.press("0")).first(), Some(&f("welcome")));
    // repeat: the short greeting.
    assert_eq!(prompts_of(&c.press("*")), files(&["short"]));
    assert_eq!(c.s.path(), ["main", "sub", "main", "sub", "sub2", "sub", "sub2", "main"]);
    c.press("2");
    assert_eq!(c.press("1"), Command::Finish(Exit::Transfer("billing,s,1".into())));
}

#[test]
fn back_on_the_first_menu_replays_it() {
    let cfg = base();
    let mut c = Call::new(&cfg, "sub");
    assert_eq!(prompts_of(&c.start()), files(&["sub_long"]));
    assert_eq!(prompts_of(&c.press("9")), files(&["sub_long"]));
}

#[test]
fn hangup_plays_the_exit_sound_first_and_return_returns() {
    let cfg = base();
    let mut c = Call::new(&cfg, "main");
    c.start();
    assert_eq!(plays(&c.press("#")), files(&["goodbye"]));
    assert_eq!(c.played(), Command::Finish(Exit::Hangup));

    let mut c = Call::new(&cfg, "main");
    c.start();
    assert_eq!(c.press("77"), Command::Finish(Exit::Return));
}

// ---------------------------------------------------------------------------
// Failures and timeouts.

#[test]
fn invalid_keys_and_no_input_are_counted_apart() {
    let cfg = base();
    // invalid, timeout, invalid: the second invalid key is the maximum (2),
    // the timeout in between did not count towards it.
    let mut c = Call::new(&cfg, "main");
    c.start();
    assert_eq!(prompts_of(&c.press("9")), files(&["invalid", "short"]));
    assert_eq!(prompts_of(&c.nothing()), files(&["timeout", "short"]));
    assert_eq!(plays(&c.press("7")), files(&["invalid"]));
    assert_eq!(c.played(), Command::Finish(Exit::Queue { queue: "support".into(), priority: 3, skills: vec![] }));

    // timeout, invalid, timeout: the timeouts' own exit.
    let mut c = Call::new(&cfg, "main");
    c.start();
    c.nothing();
    c.press("0");
    assert_eq!(plays(&c.nothing()), files(&["timeout"]));
    assert_eq!(c.played(), Command::Finish(Exit::Transfer("voicemail".into())));
}

#[test]
fn max_timeouts_one_plays_the_menu_once() {
    let cfg = base();
    let mut c = Call::new(&cfg, "once");
    assert_eq!(prompts_of(&c.start()), files(&["once_greeting"]));
    // The one timeout: its sound, the menu's exit sound, hang up.
    assert_eq!(plays(&c.nothing()), files(&["once_timeout", "bye"]));
    assert_eq!(c.played(), Command::Finish(Exit::Hangup));
    // max_failures = 1, no on_max_failures: the operator queue.
    let mut c = Call::new(&cfg, "once");
    c.start();
    assert_eq!(c.press("5"), Command::Finish(Exit::Queue { queue: "support".into(), priority: 0, skills: vec![] }));
}

#[test]
fn play_returns_to_the_menu_without_a_failure() {
    let cfg = base();
    let mut c = Call::new(&cfg, "once");
    c.start();
    // max_failures is 1 here: three plays in a row would have ended the call.
    for _ in 0..3 {
        assert_eq!(prompts_of(&c.press("8")), files(&["info", "once_greeting"]));
    }
    assert_eq!(c.press("1"), Command::Finish(Exit::Queue { queue: "sales".into(), priority: 0, skills: vec![] }));
}

// ---------------------------------------------------------------------------
// Keys.

#[test]
fn literal_keys_complete_at_once_and_extensions_transfer() {
    let cfg = base();
    let mut c = Call::new(&cfg, "main");
    let (_, col) = asks(&c.start());
    for k in ["1", "2", "3", "4", "8", "*", "#", "5", "6", "77"] {
        assert!(col.complete.contains(&k.to_string()), "{k} in {:?}", col.complete);
    }
    assert!(!col.complete.contains(&"7".to_string()));

    let (prompts, col) = asks(&c.press("4"));
    assert_eq!(prompts, files(&["dial_extension"]));
    assert_eq!(col.max_digits, 4);
    // 0 and 9 start no extension (1-7): they end the input at once.
    assert_eq!(col.complete, vec!["0".to_string(), "9".to_string()]);
    assert_eq!(prompts_of(&c.press("8123")), files(&["no_such_extension", "dial_extension"]));
    assert_eq!(prompts_of(&c.press("123")), files(&["no_such_extension", "dial_extension"]));
    assert_eq!(c.press("4321"), Command::Finish(Exit::Transfer("4321@internal".into())));
    assert_eq!(c.s.path(), ["main", "directory"]);
}

#[test]
fn literal_key_before_pattern() {
    let cfg = base();
    let mut c = Call::new(&cfg, "directory");
    c.start();
    assert_eq!(c.press("0"), Command::Finish(Exit::Queue { queue: "support".into(), priority: 0, skills: vec![] }));
}

// ---------------------------------------------------------------------------
// Language.

#[test]
fn menu_language_and_language_action_set_the_channel_and_routes_see_it() {
    let cfg = base();
    let mut c = Call::with(&cfg, "vietnamese", CallerFacts { number: "0901".into(), language: "en".into() }, CallData::default());
    assert_eq!(c.start(), Command::SetLanguage("vi".into()));
    assert_eq!(c.s.language(), "vi");
    assert_eq!(prompts_of(&c.done()), files(&["xin_chao"]));
    assert_eq!(c.press("1"), Command::Finish(Exit::Queue { queue: "support".into(), priority: 0, skills: vec![("vi".into(), 1)] }));

    // Already in that language: nothing to set.
    let mut c = Call::with(&cfg, "vietnamese", CallerFacts { number: "0901".into(), language: "vi".into() }, CallData::default());
    assert_eq!(prompts_of(&c.start()), files(&["xin_chao"]));

    let mut c = Call::with(&cfg, "main", CallerFacts { number: "0901".into(), language: "vi".into() }, CallData::default());
    c.start();
    c.press("9"); // one failure
    assert_eq!(c.press("5"), Command::SetLanguage("en".into()));
    assert_eq!(c.s.language(), "en");
    // The menu again, in full, with fresh counters: two more failures to the maximum.
    assert_eq!(prompts_of(&c.done()).first(), Some(&f("welcome")));
    assert_eq!(prompts_of(&c.press("9")), files(&["invalid", "short"]));
    assert_eq!(c.press("6"), Command::Finish(Exit::Queue { queue: "support".into(), priority: 0, skills: vec![("en".into(), 1)] }));
}

// ---------------------------------------------------------------------------
// Collect.

#[test]
fn collect_validates_reads_back_confirms_and_keeps_the_value_sensitive() {
    let cfg = base();
    let mut c = Call::new(&cfg, "main");
    c.start();
    let (prompts, col) = asks(&c.press("3"));
    assert_eq!(prompts, files(&["enter_account"]));
    assert_eq!((col.min_digits, col.max_digits, col.terminators.as_str()), (4, 16, "#"));
    // Not Luhn-valid, then nothing, both counted; then a valid card number.
    assert_eq!(prompts_of(&c.press("4111111111111112")), files(&["bad_account", "enter_account"]));
    assert_eq!(prompts_of(&c.press("")), files(&["no_account", "enter_account"]));
    let (prompts, col) = asks(&c.press("4111111111111111"));
    assert_eq!(prompts, vec![f("you_entered"), Prompt::Digits("4111111111111111".into()), f("press1")]);
    assert_eq!((col.max_digits, col.complete.clone()), (1, vec!["1".to_string()]));
    assert_eq!(c.press("1"), Command::Finish(Exit::Queue { queue: "vip".into(), priority: 10, skills: vec![] }));
    assert_eq!(data_of(&c.s, "account").as_deref(), Some("4111111111111111"));
    assert_eq!(c.s.sensitive_keys(), vec!["account".to_string()]);
    assert_eq!(c.s.path(), ["main", "account", "by_account"]);
}

#[test]
fn collect_attempts_are_bounded_and_refusing_the_read_back_is_one() {
    let cfg = base();
    let mut c = Call::new(&cfg, "main");
    c.start();
    c.press("3");
    c.press("12"); // too short
    c.press("79927398713"); // valid
    // Anything but the confirm key: asked again (second attempt used).
    assert_eq!(prompts_of(&c.press("2")), files(&["enter_account"]));
    c.press("79927398713");
    // Third attempt refused: on_failure = back to the main menu, nothing kept.
    assert_eq!(prompts_of(&c.press("")).first(), Some(&f("welcome")));
    assert_eq!(data_of(&c.s, "account"), None);
    assert!(c.s.sensitive_keys().is_empty());
}

const COLLECTS: &str = r##"
[[collect]]
name = "day"
into = "day"
max_digits = 2
validate = "range:1-31"
next = { action = "transfer", target = "day-{digits}" }
on_failure = { action = "hangup" }
max_attempts = 1

[[collect]]
name = "expiry"
into = "expiry"
min_digits = 4
max_digits = 4
validate = "date:MMYY"
next = { action = "transfer", target = "ok" }
on_failure = { action = "hangup" }
max_attempts = 1

[[collect]]
name = "birth"
into = "birth"
min_digits = 8
max_digits = 8
validate = "date:YYYYMMDD"
next = { action = "transfer", target = "ok" }
on_failure = { action = "hangup" }
max_attempts = 1

[[collect]]
name = "member"
into = "member"
validate = "pattern:9[0-9]{5}"
terminators = "*#"
next = { action = "transfer", target = "ok" }
on_failure = { action = "hangup" }
max_attempts = 1

[[collect]]
name = "any"
into = "any"
next = { action = "return" }
max_attempts = 1
"##;

fn collect_result(node: &str, value: &str) -> Command {
    let cfg = load(&format!("{QUEUES}{MENUS}{COLLECTS}"));
    let mut c = Call::new(&cfg, node);
    c.start();
    c.press(value)
}

#[test]
fn each_validation_accepts_and_refuses() {
    let ok = |c: Command| matches!(c, Command::Finish(Exit::Transfer(_)));
    assert_eq!(collect_result("day", "31"), Command::Finish(Exit::Transfer("day-31".into())));
    assert!(!ok(collect_result("day", "32")));
    assert!(!ok(collect_result("day", "0")));
    assert!(ok(collect_result("expiry", "0927")));
    assert!(!ok(collect_result("expiry", "1327")));
    assert!(ok(collect_result("birth", "20000229")));
    assert!(!ok(collect_result("birth", "20010229")));
    assert!(ok(collect_result("member", "912345")));
    assert!(!ok(collect_result("member", "812345")));
    assert!(!ok(collect_result("member", "9123456")));
    // No validation: anything of the right length. No on_failure: the operator queue.
    assert_eq!(collect_result("any", "*1#"), Command::Finish(Exit::Return));
    assert_eq!(collect_result("any", ""), Command::Finish(Exit::Queue { queue: "support".into(), priority: 0, skills: vec![] }));
}

#[test]
fn a_value_the_call_data_cannot_hold_takes_on_failure() {
    let cfg = load(&format!("{QUEUES}{MENUS}{COLLECTS}"));
    let mut data = CallData::default();
    for i in 0..hotline::flow::data::MAX_KEYS {
        data.set(&format!("k{i}"), "v").unwrap();
    }
    let mut c = Call::with(&cfg, "day", CallerFacts::default(), data);
    c.start();
    assert_eq!(c.press("12"), Command::Finish(Exit::Hangup));
}

// ---------------------------------------------------------------------------
// Routes.

const ROUTES: &str = r##"
[[route]]
name = "r"
default = { action = "transfer", target = "default" }
  [[route.rule]]
  data = { tier = "gold" }
  then = { action = "transfer", target = "data" }
  [[route.rule]]
  data_prefix = { account = "9" }
  then = { action = "transfer", target = "prefix" }
  [[route.rule]]
  caller_prefix = ["+8424", "024"]
  then = { action = "transfer", target = "area" }
  [[route.rule]]
  caller_in = ["0901234567"]
  then = { action = "transfer", target = "vip" }
  [[route.rule]]
  language = "vi"
  then = { action = "transfer", target = "lang" }
  [[route.rule]]
  queue = "support"
  waiting_at_least = 5
  then = { action = "transfer", target = "busy" }
  [[route.rule]]
  queue = "sales"
  idle_at_least = 2
  then = { action = "transfer", target = "idle" }
  [[route.rule]]
  data = { x = "1" }
  open = "office"
  then = { action = "transfer", target = "open" }
  [[route.rule]]
  data = { x = "1" }
  closed = "office"
  then = { action = "transfer", target = "closed" }
"##;

fn route(number: &str, lang: &str, data: &[(&str, &str)], facts: TestFacts, now: &str) -> Command {
    let cfg = load(&format!("{QUEUES}{MENUS}{ROUTES}"));
    let mut d = CallData::default();
    for (k, v) in data {
        d.set(k, v).unwrap();
    }
    let mut c = Call::with(&cfg, "r", CallerFacts { number: number.into(), language: lang.into() }, d);
    c.facts = facts;
    c.now = ms(now);
    c.start()
}

fn to(t: &str) -> Command {
    Command::Finish(Exit::Transfer(t.into()))
}

#[test]
fn each_routing_condition() {
    let noon = "2026-01-05T05:00:00Z";
    let night = "2026-01-05T15:00:00Z";
    let none = TestFacts::default;
    assert_eq!(route("0281", "en", &[], none(), noon), to("default"));
    assert_eq!(route("0281", "en", &[("tier", "gold")], none(), noon), to("data"));
    assert_eq!(route("0281", "en", &[("tier", "silver")], none(), noon), to("default"));
    assert_eq!(route("0281", "en", &[("account", "9123")], none(), noon), to("prefix"));
    assert_eq!(route("0281", "en", &[("account", "1923")], none(), noon), to("default"));
    assert_eq!(route("+842412345", "en", &[], none(), noon), to("area"));
    assert_eq!(route("0241234", "en", &[], none(), noon), to("area"));
    assert_eq!(route("0901234567", "en", &[], none(), noon), to("vip"));
    assert_eq!(route("09012345678", "en", &[], none(), noon), to("default"));
    assert_eq!(route("0281", "vi", &[], none(), noon), to("lang"));
    let busy = |w: usize, i: usize| TestFacts {
        waiting: HashMap::from([("support".to_string(), w)]),
        idle: HashMap::from([("sales".to_string(), i)]),
    };
    assert_eq!(route("0281", "en", &[], busy(5, 0), noon), to("busy"));
    assert_eq!(route("0281", "en", &[], busy(4, 0), noon), to("default"));
    assert_eq!(route("0281", "en", &[], busy(0, 2), noon), to("idle"));
    assert_eq!(route("0281", "en", &[], busy(0, 1), noon), to("default"));
    // All conditions of a rule: x=1 with the office open or closed.
    assert_eq!(route("0281", "en", &[("x", "1")], none(), noon), to("open"));
    assert_eq!(route("0281", "en", &[("x", "1")], none(), night), to("closed"));
    // Rules in order: the first that holds.
    assert_eq!(route("0901234567", "vi", &[("tier", "gold")], none(), noon), to("data"));
}

// ---------------------------------------------------------------------------
// Hours.

fn hours_result(menu: &str, now: &str) -> Command {
    let cfg = base();
    let mut c = Call::new(&cfg, menu);
    c.now = ms(now);
    let first = c.start();
    match &first {
        Command::Play { collect: Some(_), .. } => first,
        Command::Play { collect: None, .. } => c.played(),
        _ => first,
    }
}

fn is_open(c: &Command) -> bool {
    matches!(c, Command::Play { collect: Some(_), .. })
}

#[test]
fn hours_open_closed_holidays_and_overrides() {
    // Vietnam is UTC+7 all year.
    assert!(is_open(&hours_result("hours_menu", "2026-01-05T02:00:00Z"))); // Mon 09:00
    assert_eq!(hours_result("hours_menu", "2026-01-05T11:00:00Z"), to("closed")); // Mon 18:00
    assert!(is_open(&hours_result("hours_menu", "2026-01-10T04:00:00Z"))); // Sat 11:00
    assert_eq!(hours_result("hours_menu", "2026-01-10T06:00:00Z"), to("closed")); // Sat 13:00
    assert_eq!(hours_result("hours_menu", "2026-01-01T03:00:00Z"), to("closed")); // New Year, Thu 10:00
    assert_eq!(hours_result("hours_menu", "2026-02-17T03:00:00Z"), to("closed")); // Tet, Tue 10:00
    assert!(is_open(&hours_result("hours_menu", "2026-02-18T03:00:00Z"))); // Tet, but open 09-11
    assert_eq!(hours_result("hours_menu", "2026-02-18T04:30:00Z"), to("closed")); // 11:30
    assert!(is_open(&hours_result("hours_menu", "2026-02-22T03:00:00Z"))); // a working Sunday
    assert_eq!(hours_result("hours_menu", "2026-03-01T03:00:00Z"), to("closed")); // a plain Sunday

    // The closed sound is played before the closed action.
    let cfg = base();
    let mut c = Call::new(&cfg, "hours_menu");
    c.now = ms("2026-01-05T11:00:00Z");
    assert_eq!(plays(&c.start()), files(&["we_are_closed"]));
    assert_eq!(c.played(), to("closed"));
    assert_eq!(c.s.path(), ["hours_menu"]);
}

#[test]
fn hours_follow_daylight_saving_time() {
    // Berlin, open 08:00-09:00 local. Spring forward on Sunday 2026-03-29.
    assert!(is_open(&hours_result("berlin_menu", "2026-03-28T07:30:00Z"))); // 08:30 CET
    assert!(!is_open(&hours_result("berlin_menu", "2026-03-29T07:30:00Z"))); // 09:30 CEST
    assert!(is_open(&hours_result("berlin_menu", "2026-03-29T06:30:00Z"))); // 08:30 CEST
    // Fall back on Sunday 2026-10-25.
    assert!(is_open(&hours_result("berlin_menu", "2026-10-24T06:30:00Z"))); // 08:30 CEST
    assert!(!is_open(&hours_result("berlin_menu", "2026-10-25T06:30:00Z"))); // 07:30 CET
    assert!(is_open(&hours_result("berlin_menu", "2026-10-25T07:30:00Z"))); // 08:30 CET
}

// ---------------------------------------------------------------------------
// Step budget.

#[test]
fn the_step_budget_ends_a_caller_who_never_leaves() {
    let cfg = base();
    let mut c = Call::new(&cfg, "once");
    let mut cmd = c.start();
    while matches!(cmd, Command::Play { .. }) {
        assert!(c.commands < 500, "no end");
        cmd = c.press("8");
    }
    assert_eq!(cmd, Command::Finish(Exit::Queue { queue: "support".into(), priority: 0, skills: vec![] }));
    assert!(c.commands > 50 && c.s.steps() <= 201, "{} commands, {} steps", c.commands, c.s.steps());
}

#[test]
fn the_step_budget_ends_a_loop_without_commands() {
    // spin -> shut (always closed) -> spin ...: no command is ever needed.
    let cfg = base();
    let mut c = Call::new(&cfg, "spin");
    assert_eq!(c.start(), Command::Finish(Exit::Queue { queue: "support".into(), priority: 0, skills: vec![] }));
    assert_eq!(c.commands, 1);
}

#[test]
fn a_smaller_budget_is_configurable() {
    let text = format!("{QUEUES}{MENUS}").replace("operator_queue = \"support\"", "operator_queue = \"sales\"\nmax_steps = 20");
    let cfg = load(&text);
    let mut c = Call::new(&cfg, "once");
    let mut cmd = c.start();
    while matches!(cmd, Command::Play { .. }) {
        cmd = c.press("8");
    }
    assert_eq!(cmd, Command::Finish(Exit::Queue { queue: "sales".into(), priority: 0, skills: vec![] }));
    assert!(c.commands <= 20);
}

// ---------------------------------------------------------------------------
// Misc.

#[test]
fn unknown_start_node_and_text_prompts() {
    let cfg = base();
    assert!(IvrSession::start(cfg.clone(), "nosuch", CallerFacts::default(), CallData::default()).is_err());
    assert!(cfg.has_node("main") && cfg.has_node("account") && cfg.has_node("by_lang") && !cfg.has_node("office"));
    // (text, language): spoken in its menu's language, here the default voice.
    assert_eq!(cfg.texts(), vec![("Press 1 for sales".to_string(), String::new())]);
    // No IVR tables: an empty IVR config, as before.
    let empty = Config::parse("[[queue]]\nname = \"q\"\n", "hotline.toml").unwrap();
    assert!(empty.ivr.menus.is_empty());
}

// ---------------------------------------------------------------------------
// Configuration errors: file, line and key.

fn err(text: &str) -> String {
    Config::parse(text, "hotline.toml").expect_err("should be rejected").to_string()
}

const Q: &str = "[[queue]]\nname = \"support\"\n";

#[test]
fn unknown_references_are_named() {
    // Line numbers count from the first line of Q (2 lines).
    let e = err(&format!("{Q}[[menu]]\nname = \"m\"\n  [[menu.entry]]\n  digits = \"1\"\n  action = \"menu\"\n  target = \"nowhere\"\n"));
    assert!(e.starts_with("hotline.toml:8: menu[m].entry.target: no menu named \"nowhere\""), "{e}");
    let e = err(&format!("{Q}[[menu]]\nname = \"m\"\n  [[menu.entry]]\n  digits = \"1\"\n  action = \"queue\"\n  target = \"sales\"\n"));
    assert!(e.starts_with("hotline.toml:8: menu[m].entry.target: no queue named \"sales\""), "{e}");
    let e = err(&format!("{Q}[[menu]]\nname = \"m\"\non_max_failures = {{ action = \"route\", target = \"m\" }}\n"));
    assert!(e.starts_with("hotline.toml:5: menu[m].on_max_failures.target: \"m\" is a menu, not a route"), "{e}");
    let e = err(&format!("{Q}[ivr]\noperator_queue = \"ops\"\n"));
    assert!(e.starts_with("hotline.toml:4: ivr.operator_queue: no queue named \"ops\""), "{e}");
    let e = err(&format!("{Q}[[menu]]\nname = \"m\"\nhours = \"office\"\nclosed = {{ action = \"hangup\" }}\n"));
    assert!(e.starts_with("hotline.toml:5: menu[m].hours: no calendar named \"office\""), "{e}");
}

#[test]
fn unknown_actions_and_misplaced_fields_are_named() {
    let e = err(&format!("{Q}[[menu]]\nname = \"m\"\n  [[menu.entry]]\n  digits = \"1\"\n  action = \"voicemail\"\n"));
    assert!(e.starts_with("hotline.toml:7: menu[m].entry.action: unknown action \"voicemail\""), "{e}");
    let e = err(&format!("{Q}[[menu]]\nname = \"m\"\n  [[menu.entry]]\n  digits = \"1\"\n  action = \"hangup\"\n  priority = 3\n"));
    assert!(e.starts_with("hotline.toml:8: menu[m].entry.priority: only for action \"queue\""), "{e}");
    let e = err(&format!("{Q}[[menu]]\nname = \"m\"\n  [[menu.entry]]\n  digits = \"1\"\n  action = \"queue\"\n  target = \"support\"\n  skills = \"en:11\"\n"));
    assert!(e.starts_with("hotline.toml:9: menu[m].entry.skills:"), "{e}");
    let e = err(&format!("{Q}[[menu]]\nname = \"m\"\n  [[menu.entry]]\n  digits = \"1\"\n  acton = \"hangup\"\n"));
    assert!(e.starts_with("hotline.toml:7: acton:") && e.contains("unknown field"), "{e}");
    let e = err(&format!("{Q}[[menu]]\nname = \"m\"\ngreet = [\"x\"]\n"));
    assert!(e.starts_with("hotline.toml:5: greet:"), "{e}");
}

#[test]
fn duplicates_are_named() {
    let e = err(&format!("{Q}[[menu]]\nname = \"m\"\n[[collect]]\nname = \"m\"\ninto = \"x\"\nnext = {{ action = \"hangup\" }}\n"));
    assert!(e.starts_with("hotline.toml:6: collect.name: duplicate name \"m\" (already a menu)"), "{e}");
    let e = err(&format!(
        "{Q}[[menu]]\nname = \"m\"\n  [[menu.entry]]\n  digits = \"1\"\n  action = \"hangup\"\n  [[menu.entry]]\n  digits = \"1\"\n  action = \"return\"\n"
    ));
    assert!(e.starts_with("hotline.toml:9: menu[m].entry.digits: key \"1\" twice"), "{e}");
    let e = err(&format!("{Q}[[calendar]]\nname = \"c\"\ntimezone = \"UTC\"\n[[calendar]]\nname = \"c\"\ntimezone = \"UTC\"\n"));
    assert!(e.starts_with("hotline.toml:7: calendar.name: duplicate"), "{e}");
}

#[test]
fn bad_keys_patterns_and_validations_are_named() {
    let e = err(&format!("{Q}[[menu]]\nname = \"m\"\n  [[menu.entry]]\n  digits = \"1a\"\n  action = \"hangup\"\n"));
    assert!(e.starts_with("hotline.toml:6: menu[m].entry.digits:"), "{e}");
    let e = err(&format!("{Q}[[menu]]\nname = \"m\"\ndigit_len = 4\n  [[menu.entry]]\n  digits = \"/[0-9/\"\n  action = \"hangup\"\n"));
    assert!(e.starts_with("hotline.toml:7: menu[m].entry.digits: not a regular expression"), "{e}");
    let e = err(&format!("{Q}[[menu]]\nname = \"m\"\n  [[menu.entry]]\n  digits = \"/[0-9]{{4}}/\"\n  action = \"hangup\"\n"));
    assert!(e.starts_with("hotline.toml:4: menu[m].digit_len: a menu with a pattern entry needs"), "{e}");
    let e = err(&format!("{Q}[[menu]]\nname = \"m\"\ndigit_len = 1\n  [[menu.entry]]\n  digits = \"12\"\n  action = \"hangup\"\n"));
    assert!(e.starts_with("hotline.toml:5: menu[m].digit_len: shorter"), "{e}");
    let e = err(&format!("{Q}[[collect]]\nname = \"c\"\ninto = \"x\"\nvalidate = \"pattern:[0-\"\nnext = {{ action = \"hangup\" }}\n"));
    assert!(e.starts_with("hotline.toml:6: collect[c].validate: not a regular expression"), "{e}");
    let e = err(&format!("{Q}[[collect]]\nname = \"c\"\ninto = \"x\"\nvalidate = \"date:MMDDQQ\"\nnext = {{ action = \"hangup\" }}\n"));
    assert!(e.starts_with("hotline.toml:6: collect[c].validate: date format"), "{e}");
    let e = err(&format!("{Q}[[collect]]\nname = \"c\"\ninto = \"bad-key\"\nnext = {{ action = \"hangup\" }}\n"));
    assert!(e.starts_with("hotline.toml:5: collect[c].into: data key"), "{e}");
    let e = err(&format!("{Q}[[collect]]\nname = \"c\"\ninto = \"x\"\nconfirm_key = \"12\"\nnext = {{ action = \"hangup\" }}\n"));
    assert!(e.starts_with("hotline.toml:6: collect[c].confirm_key:"), "{e}");
    let e = err(&format!("{Q}[[collect]]\nname = \"c\"\ninto = \"x\"\nmin_digits = 5\nmax_digits = 4\nnext = {{ action = \"hangup\" }}\n"));
    assert!(e.starts_with("hotline.toml:7: collect[c].max_digits:"), "{e}");
    let e = err(&format!("{Q}[[menu]]\nname = \"m\"\ntimeout_seconds = 0\n"));
    assert!(e.starts_with("hotline.toml:5: menu[m].timeout_seconds: must be a positive"), "{e}");
    let e = err(&format!("{Q}[[menu]]\nname = \"m\"\nmax_failures = 0\n"));
    assert!(e.starts_with("hotline.toml:5: menu[m].max_failures: 1-100"), "{e}");
}

#[test]
fn bad_time_zones_hours_and_prompts_are_named() {
    let e = err(&format!("{Q}[[calendar]]\nname = \"c\"\ntimezone = \"Asia/Saigon_City\"\n"));
    assert!(e.starts_with("hotline.toml:5: calendar[c].timezone: unknown time zone"), "{e}");
    let e = err(&format!("{Q}[[calendar]]\nname = \"c\"\ntimezone = \"UTC\"\nhours = [\n  \"mon-fri 08:00-17:30\",\n  \"sat 8-12\",\n]\n"));
    assert!(e.starts_with("hotline.toml:8: calendar[c].hours:"), "{e}");
    let e = err(&format!("{Q}[[calendar]]\nname = \"c\"\ntimezone = \"UTC\"\nclosed = [\"2026-02-30\"]\n"));
    assert!(e.starts_with("hotline.toml:6: calendar[c].closed:"), "{e}");
    let e = err(&format!("{Q}[[calendar]]\nname = \"c\"\ntimezone = \"UTC\"\nopen = [\"2026-02-21 12:00-08:00\"]\n"));
    assert!(e.starts_with("hotline.toml:6: calendar[c].open:"), "{e}");
    let e = err(&format!("{Q}[[menu]]\nname = \"m\"\ngreet_long = [\"hello\", \"say:number:many\"]\n"));
    assert!(e.starts_with("hotline.toml:5: menu[m].greet_long: say:number:"), "{e}");
    let e = err(&format!("{Q}[[menu]]\nname = \"m\"\n  [[menu.entry]]\n  digits = \"1\"\n  action = \"play\"\n  prompts = [\"text:\"]\n"));
    assert!(e.starts_with("hotline.toml:8: menu[m].entry.prompts: empty text"), "{e}");
    let e = err(&format!("{Q}[[calendar]]\nname = \"c\"\ntimezone = \"UTC\"\n[[menu]]\nname = \"m\"\nhours = \"c\"\n"));
    assert!(e.starts_with("hotline.toml:8: menu[m].closed: a menu with `hours` needs"), "{e}");
}

#[test]
fn routes_need_a_default_and_real_conditions() {
    let e = err(&format!("{Q}[[route]]\nname = \"r\"\n  [[route.rule]]\n  language = \"vi\"\n  then = {{ action = \"hangup\" }}\n"));
    assert!(e.contains("missing field `default`"), "{e}");
    let e = err(&format!(
        "{Q}[[route]]\nname = \"r\"\ndefault = {{ action = \"hangup\" }}\n  [[route.rule]]\n  waiting_at_least = 3\n  then = {{ action = \"hangup\" }}\n"
    ));
    assert!(e.starts_with("hotline.toml:7: route[r].rule.waiting_at_least: needs `queue"), "{e}");
    let e = err(&format!(
        "{Q}[[route]]\nname = \"r\"\ndefault = {{ action = \"hangup\" }}\n  [[route.rule]]\n  open = \"office\"\n  then = {{ action = \"hangup\" }}\n"
    ));
    assert!(e.starts_with("hotline.toml:7: route[r].rule.open: no calendar named \"office\""), "{e}");
    let e = err(&format!(
        "{Q}[[route]]\nname = \"r\"\ndefault = {{ action = \"hangup\" }}\n  [[route.rule]]\n  caller_in = [\"09x1\"]\n  then = {{ action = \"hangup\" }}\n"
    ));
    assert!(e.starts_with("hotline.toml:7: route[r].rule.caller_in:"), "{e}");
}

#[test]
fn menus_that_loop_with_no_exit_are_refused() {
    // a -> b -> a through every action, failures included.
    let text = format!(
        "{Q}[[menu]]\nname = \"a\"\non_max_failures = {{ action = \"menu\", target = \"b\" }}\non_max_timeouts = {{ action = \"repeat\" }}\n\
         [[menu]]\nname = \"b\"\non_max_failures = {{ action = \"route\", target = \"r\" }}\non_max_timeouts = {{ action = \"back\" }}\n\
         [[route]]\nname = \"r\"\ndefault = {{ action = \"menu\", target = \"a\" }}\n"
    );
    let e = err(&text);
    assert!(e.starts_with("hotline.toml:4: menu[a]: cannot reach any exit"), "{e}");
    // One real exit anywhere on the loop makes it fine.
    let ok = text.replace("default = { action = \"menu\", target = \"a\" }", "default = { action = \"queue\", target = \"support\" }");
    Config::parse(&ok, "hotline.toml").unwrap_or_else(|e| panic!("{e}"));
}

// ---------------------------------------------------------------------------
// CRM lookups (`[[lookup]]`): the engine's side, the configuration errors,
// and the HTTP fetch against a server on 127.0.0.1.

const LOOKUP: &str = r##"
[[queue]]
name = "support"
[[queue]]
name = "vip"

[[menu]]
name = "main"
greet_long = ["hi"]
  [[menu.entry]]
  digits = "1"
  action = "lookup"
  target = "crm"

[[lookup]]
name = "crm"
url = "https://crm.example/api/customer?phone={number}&acct={data.account}&x={data.nosuch}"
timeout_ms = 800
map = { "customer.tier" = "tier", "customer.name" = "Name" }
prompts = ["one-moment"]
next = { action = "route", target = "by_tier" }
fallback = { action = "queue", target = "support", set = { looked = "no" } }

[[route]]
name = "by_tier"
default = { action = "queue", target = "support" }
  [[route.rule]]
  data = { tier = "gold" }
  then = { action = "queue", target = "vip", priority = 10 }
"##;

fn lookup_of(c: &Command) -> hotline::ivr::LookupRequest {
    match c {
        Command::Lookup(r) => r.clone(),
        other => panic!("expected a Lookup, got {other:?}"),
    }
}

fn fields(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

fn queue(q: &str, priority: i32) -> Command {
    Command::Finish(Exit::Queue { queue: q.into(), priority, skills: vec![] })
}

#[test]
fn a_lookup_maps_its_fields_into_the_data_then_goes_next() {
    let cfg = load(LOOKUP);
    let mut data = CallData::default();
    data.set("account", "123").unwrap();
    let mut c = Call::with(&cfg, "main", CallerFacts { number: "0901234567".into(), language: String::new() }, data);
    assert_eq!(prompts_of(&c.start()), files(&["hi"]));
    let req = lookup_of(&c.press("1"));
    assert_eq!(req.url, "https://crm.example/api/customer?phone=0901234567&acct=123&x=");
    assert_eq!(req.timeout, 800);
    assert_eq!(req.prompts, files(&["one-moment"]));
    assert_eq!(req.paths, vec!["customer.name".to_string(), "customer.tier".to_string()]);
    let cmd = c.send(Some(Input::Looked(Ok(fields(&[("customer.tier", "gold"), ("customer.name", "Lan")])))));
    assert_eq!(cmd, queue("vip", 10));
    assert_eq!(data_of(&c.s, "tier").as_deref(), Some("gold"));
    assert_eq!(data_of(&c.s, "name").as_deref(), Some("Lan"));
    assert_eq!(data_of(&c.s, "looked"), None);
    assert_eq!(c.s.path(), ["main", "crm", "by_tier"]);
    // A path the answer lacked leaves its key unset; next runs all the same.
    let mut c = Call::new(&cfg, "crm");
    lookup_of(&c.start());
    assert_eq!(c.send(Some(Input::Looked(Ok(fields(&[("customer.name", "Minh")]))))), queue("support", 0));
    assert_eq!(data_of(&c.s, "name").as_deref(), Some("Minh"));
    assert_eq!(data_of(&c.s, "tier"), None);
    assert_eq!(data_of(&c.s, "looked"), None);
}

#[test]
fn a_failed_lookup_takes_the_fallback() {
    let cfg = load(LOOKUP);
    for result in [Err("timeout".to_string()), Err("HTTP 500".to_string())] {
        let mut c = Call::new(&cfg, "main");
        c.start();
        lookup_of(&c.press("1"));
        assert_eq!(c.send(Some(Input::Looked(result))), queue("support", 0));
        assert_eq!(data_of(&c.s, "looked").as_deref(), Some("no"));
        assert_eq!(data_of(&c.s, "tier"), None);
    }
    // Any other answer to a lookup is no result: the fallback too.
    let mut c = Call::new(&cfg, "crm");
    lookup_of(&c.start());
    assert_eq!(c.played(), queue("support", 0));
    assert_eq!(data_of(&c.s, "looked").as_deref(), Some("no"));
}

#[test]
fn a_lookup_value_the_data_cannot_take_takes_the_fallback() {
    let cfg = load(LOOKUP);
    // Over the data's byte limit.
    let mut c = Call::new(&cfg, "crm");
    lookup_of(&c.start());
    let huge = "x".repeat(hotline::flow::data::MAX_BYTES + 1);
    let cmd = c.send(Some(Input::Looked(Ok(fields(&[("customer.tier", "gold"), ("customer.name", &huge)])))));
    assert_eq!(cmd, queue("support", 0));
    assert_eq!(data_of(&c.s, "looked").as_deref(), Some("no"));
    // Nothing of the answer was kept, not even the value that fitted.
    assert_eq!(data_of(&c.s, "tier"), None);
    assert_eq!(data_of(&c.s, "name"), None);
    // A control character in a value.
    let mut c = Call::new(&cfg, "crm");
    lookup_of(&c.start());
    assert_eq!(c.send(Some(Input::Looked(Ok(fields(&[("customer.tier", "gold\nvip")]))))), queue("support", 0));
    assert_eq!(data_of(&c.s, "tier"), None);
}

#[test]
fn lookup_urls_percent_encode_every_value() {
    let cfg = load(LOOKUP);
    let mut data = CallData::default();
    data.set("account", "a/b?c=d&e#f%").unwrap();
    let caller = CallerFacts { number: "1&x=2 #".into(), language: String::new() };
    let mut c = Call::with(&cfg, "crm", caller, data);
    let req = lookup_of(&c.start());
    assert_eq!(req.url, "https://crm.example/api/customer?phone=1%26x%3D2%20%23&acct=a%2Fb%3Fc%3Dd%26e%23f%25&x=");
    let caller = CallerFacts { number: "+84 90/ổ".into(), language: String::new() };
    let mut c = Call::with(&cfg, "crm", caller, CallData::default());
    assert_eq!(lookup_of(&c.start()).url, "https://crm.example/api/customer?phone=%2B84%2090%2F%E1%BB%95&acct=&x=");
}

#[test]
fn pending_prompts_play_with_the_lookups_own() {
    // A closed menu's sound before a lookup: played while it looks.
    let text = LOOKUP.replace(
        "[[menu]]\nname = \"main\"\n",
        "[[calendar]]\nname = \"never\"\ntimezone = \"UTC\"\n[[menu]]\nname = \"main\"\nhours = \"never\"\nclosed_sound = [\"closed\"]\nclosed = { action = \"lookup\", target = \"crm\" }\n",
    );
    let cfg = load(&text);
    let mut c = Call::new(&cfg, "main");
    assert_eq!(lookup_of(&c.start()).prompts, files(&["closed", "one-moment"]));
}

#[test]
fn lookup_configuration_errors_are_named() {
    let base = |body: &str| format!("{Q}[[lookup]]\nname = \"crm\"\n{body}");
    let good = "url = \"http://127.0.0.1:8080/c?n={number}\"\nnext = { action = \"hangup\" }\nfallback = { action = \"queue\", target = \"support\" }\n";
    Config::parse(&base(good), "hotline.toml").unwrap_or_else(|e| panic!("{e}"));
    let e = err(&base(&good.replace("http://", "ftp://")));
    assert!(e.starts_with("hotline.toml:5: lookup[crm].url:") && e.contains("only http:// or https://"), "{e}");
    let e = err(&base(&good.replace("http://127.0.0.1:8080", "https://{number}")));
    assert!(e.starts_with("hotline.toml:5: lookup[crm].url:") && e.contains("host"), "{e}");
    let e = err(&base(&good.replace("{number}", "{caller}")));
    assert!(e.starts_with("hotline.toml:5: lookup[crm].url:") && e.contains("unknown placeholder {caller}"), "{e}");
    let e = err(&base(&good.replace("{number}", "{number")));
    assert!(e.starts_with("hotline.toml:5: lookup[crm].url:") && e.contains("unclosed"), "{e}");
    let e = err(&base(&good.replace("{number}", "{data.bad key}")));
    assert!(e.starts_with("hotline.toml:5: lookup[crm].url:"), "{e}");
    let e = err(&base(&good.replace("fallback = { action = \"queue\", target = \"support\" }\n", "")));
    assert!(e.starts_with("hotline.toml:4: lookup[crm].fallback:") && e.contains("needs `fallback"), "{e}");
    let e = err(&base(&format!("{good}map = {{ \"customer.tier\" = \"bad key!\" }}\n")));
    assert!(e.starts_with("hotline.toml:8: lookup[crm].map.customer.tier:"), "{e}");
    let e = err(&base(&format!("{good}map = {{ \"customer..tier\" = \"tier\" }}\n")));
    assert!(e.starts_with("hotline.toml:8: lookup[crm].map:") && e.contains("dotted JSON path"), "{e}");
    let e = err(&base(&format!("{good}timeout_ms = 10\n")));
    assert!(e.starts_with("hotline.toml:8: lookup[crm].timeout_ms: 50-5000"), "{e}");
    let e = err(&base(&format!("{good}timeout_ms = 5001\n")));
    assert!(e.starts_with("hotline.toml:8: lookup[crm].timeout_ms:"), "{e}");
    let e = err(&base(&good.replace("action = \"hangup\"", "action = \"lookup\", target = \"nosuch\"")));
    assert!(e.starts_with("hotline.toml:6: lookup[crm].next.target: no lookup step named \"nosuch\""), "{e}");
    let e = err(&format!("{Q}[[menu]]\nname = \"m\"\non_max_failures = {{ action = \"lookup\", target = \"m\" }}\n"));
    assert!(e.starts_with("hotline.toml:5: menu[m].on_max_failures.target: \"m\" is a menu, not a lookup step"), "{e}");
    let e = err(&format!("{Q}[[menu]]\nname = \"crm\"\n{}", base(good).trim_start_matches(Q)));
    assert!(e.contains("lookup.name: duplicate name \"crm\" (already a menu)"), "{e}");
    let e = err(&base(&format!("{good}retries = 2\n")));
    assert!(e.starts_with("hotline.toml:8: retries:"), "{e}");
}

#[test]
fn lookups_count_in_the_exit_check() {
    // menu a -> lookup l, whose next and fallback both go back to a: no exit.
    let text = format!(
        "{Q}[[menu]]\nname = \"a\"\non_max_failures = {{ action = \"lookup\", target = \"l\" }}\non_max_timeouts = {{ action = \"repeat\" }}\n\
         [[lookup]]\nname = \"l\"\nurl = \"http://127.0.0.1/x\"\nnext = {{ action = \"menu\", target = \"a\" }}\nfallback = {{ action = \"menu\", target = \"a\" }}\n"
    );
    let e = err(&text);
    assert!(e.starts_with("hotline.toml:4: menu[a]: cannot reach any exit"), "{e}");
    // The fallback alone reaching an exit is enough, for the lookup and the menu.
    let ok = text.replace("fallback = { action = \"menu\", target = \"a\" }", "fallback = { action = \"hangup\" }");
    Config::parse(&ok, "hotline.toml").unwrap_or_else(|e| panic!("{e}"));
    // And so is next alone.
    let ok = text.replace("next = { action = \"menu\", target = \"a\" }", "next = { action = \"queue\", target = \"support\" }");
    let cfg = Config::parse(&ok, "hotline.toml").unwrap_or_else(|e| panic!("{e}")).ivr;
    assert!(cfg.has_node("l") && cfg.lookups[0].timeout == 300);
}

// The HTTP fetch, against a one-connection server on 127.0.0.1.

mod fetch {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::mpsc;
    use std::thread::JoinHandle;
    use std::time::{Duration, Instant};

    use hotline::ivr::lookup::fetch;

    /// Serves one connection: reads the request head, sends its first line
    /// back through the channel, then writes `answer` and, with `hold`,
    /// keeps the connection open (nothing more sent) until `release` is
    /// dropped or 10 s pass.
    struct Server {
        url: String,
        request: mpsc::Receiver<String>,
        release: Option<mpsc::Sender<()>>,
        thread: Option<JoinHandle<()>>,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            self.release.take();
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
        }
    }

    fn read_head(s: &mut TcpStream) -> String {
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
            match s.read(&mut b) {
                Ok(1) => head.push(b[0]),
                _ => break,
            }
        }
        String::from_utf8_lossy(&head).lines().next().unwrap_or("").to_string()
    }

    fn serve(answer: Option<String>) -> Server {
        match answer {
            Some(a) => serve_then(a, false),
            None => serve_then(String::new(), true),
        }
    }

    fn serve_then(answer: String, hold: bool) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, request) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let Ok((mut s, _)) = listener.accept() else { return };
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let _ = tx.send(read_head(&mut s));
            let _ = s.write_all(answer.as_bytes());
            let _ = s.flush();
            if hold {
                // Until the test is done with it (the sender dropped).
                let _ = released.recv_timeout(Duration::from_secs(10));
            }
        });
        Server { url, request, release: Some(release), thread: Some(thread) }
    }

    fn http(status: &str, body: &str) -> Option<String> {
        Some(format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()))
    }

    fn paths(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_json_answer_gives_the_fields() {
        let srv = serve(http("200 OK", r#"{"customer":{"tier":"gold","score":7,"vip":false,"tags":["x"]},"ok":true}"#));
        let url = format!("{}/api/customer?phone=1%26x%3D2%20%23", srv.url);
        let got = fetch(&url, 2000, &paths(&["customer.tier", "customer.score", "customer.vip", "customer.tags", "customer.none", "ok"])).expect("fetched");
        let want: Vec<(String, String)> =
            [("customer.tier", "gold"), ("customer.score", "7"), ("customer.vip", "false"), ("ok", "true")].iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        assert_eq!(got, want);
        // The encoded URL went out as it was.
        assert_eq!(srv.request.recv_timeout(Duration::from_secs(5)).unwrap(), "GET /api/customer?phone=1%26x%3D2%20%23 HTTP/1.1");
    }

    #[test]
    fn a_slow_answer_is_a_timeout_within_about_the_timeout() {
        let srv = serve(None);
        let started = Instant::now();
        let r = fetch(&format!("{}/slow", srv.url), 300, &paths(&["a"]));
        let took = started.elapsed();
        assert_eq!(r, Err("timeout".to_string()));
        assert!(took >= Duration::from_millis(250), "{took:?}");
        assert!(took < Duration::from_millis(1500), "{took:?}");
        // It did reach the server (the time went on waiting for the answer).
        assert!(srv.request.recv_timeout(Duration::from_secs(5)).unwrap().starts_with("GET /slow "));
    }

    #[test]
    fn a_body_that_stops_halfway_is_a_timeout() {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"customer\": {";
        let srv = serve_then(head.to_string(), true);
        let started = Instant::now();
        assert_eq!(fetch(&srv.url, 300, &paths(&["customer.tier"])), Err("timeout".to_string()));
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(250) && took < Duration::from_millis(1500), "{took:?}");
    }

    #[test]
    fn an_http_error_is_an_error() {
        let srv = serve(http("500 Internal Server Error", r#"{"customer":{"tier":"gold"}}"#));
        assert_eq!(fetch(&srv.url, 2000, &paths(&["customer.tier"])), Err("HTTP 500".to_string()));
        let srv = serve(http("404 Not Found", "{}"));
        assert_eq!(fetch(&format!("{}/x", srv.url), 2000, &paths(&["a"])), Err("HTTP 404".to_string()));
    }

    #[test]
    fn bad_json_is_an_error() {
        let srv = serve(http("200 OK", r#"{"customer": {"tier": "gold""#));
        let e = fetch(&srv.url, 2000, &paths(&["customer.tier"])).unwrap_err();
        assert!(e.starts_with("bad JSON"), "{e}");
        let srv = serve(http("200 OK", r#"["customer"]"#));
        let e = fetch(&srv.url, 2000, &paths(&["customer.tier"])).unwrap_err();
        assert!(e.contains("not a JSON object"), "{e}");
    }

    #[test]
    fn nothing_listening_is_an_error() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/x", listener.local_addr().unwrap());
        drop(listener);
        let started = Instant::now();
        let e = fetch(&url, 2000, &paths(&["a"])).unwrap_err();
        assert!(!e.is_empty() && e != "timeout", "{e}");
        assert!(started.elapsed() < Duration::from_millis(1500), "{:?}", started.elapsed());
    }
}

/// Dates and money from the call's data are read when the prompt plays:
/// a date the caller keyed in and an amount a step set; a value that is
/// missing or not a date is left out (the rest still plays).
#[test]
fn dates_and_money_from_the_data_are_said_with_the_values_they_have_then() {
    let cfg = load(&format!(
        r##"{QUEUES}
[[collect]]
name = "due"
prompts = ["enter_date"]
into = "due"
min_digits = 8
max_digits = 8
validate = "date:DDMMYYYY"
next = {{ action = "menu", target = "said", set = {{ balance = "1234.5" }} }}

[[menu]]
name = "said"
greet_long = ["say:date:@due:DDMMYYYY", "say:money:@balance", "say:money:@nothing", "say:date:2025-04-01", "say:money:-0.05"]
  [[menu.entry]]
  digits = "1"
  action = "hangup"
"##
    ));
    use hotline::ivr::{DateValue, MoneyValue};
    let mut c = Call::new(&cfg, "due");
    assert_eq!(asks(&c.start()).0, files(&["enter_date"]));
    let said = prompts_of(&c.press("24122026"));
    let on = |y, m, d| Prompt::Date(DateValue::On(jiff::civil::date(y, m, d)));
    assert_eq!(said, vec![on(2026, 12, 24), Prompt::Money(MoneyValue::Cents(123_450)), on(2025, 4, 1), Prompt::Money(MoneyValue::Cents(-5))]);
}

#[test]
fn a_bad_say_prompt_is_a_load_error_with_its_line() {
    for (bad, why) in [("say:date:2026-13-01", "YYYY-MM-DD"), ("say:money:1.234", "two decimals"), ("say:date:@exp:MMYY", "DD, MM and YY")] {
        let text = format!("{QUEUES}\n[[menu]]\nname = \"m\"\ngreet_long = [\"{bad}\"]\n  [[menu.entry]]\n  digits = \"1\"\n  action = \"hangup\"\n");
        let e = Config::parse(&text, "hotline.toml").err().unwrap_or_else(|| panic!("{bad} loads")).to_string();
        let line = text.lines().position(|l| l.contains(bad)).unwrap() + 1;
        assert!(e.contains(why) && e.contains(&format!("hotline.toml:{line}")), "{bad}: {e}");
    }
}
