//! Drain benchmark in a real FreeSWITCH 1.10: the same callers and the same
//! loopback agents through Hotline's `hotline_queue` (mod_hotline) and
//! through FreeSWITCH's own `callcenter` (mod_callcenter), in the same
//! FreeSWITCH, one after the other (order alternated, each shape twice).
//! The FreeSWITCH version of benches/asterisk_drain.rs, same method.
//!
//! ```text
//! cargo build --release --features freeswitch     # the module under test
//! cargo bench --features freeswitch --bench freeswitch_drain [-- --full] [--sip] [--faults | --webhooks]
//! ```
//!
//! `--sip`: callers are SIP calls instead of loopback calls. The switch
//! calls itself through a sofia profile on 127.0.0.1:25090 (RTP on
//! 127.0.0.1), so the leg that waits in the queue is an inbound SIP channel
//! reading RTP, as a real caller's is. A loopback caller's reads are paced
//! by a 20 ms soft timer that nothing can interrupt, which puts a frame's
//! worth of latency under every wake-up; an RTP read returns at once on
//! SWITCH_SIG_BREAK.
//!
//! The switch is the test fixture of tests/freeswitch/switch.rs (`-np`, no
//! SIP) on a run directory and ports of its own
//! (target/release/fs-bench-drain, event socket 127.0.0.1:28121, web port
//! 18191), never the test switch, with its conf dir (a copy of tests/fs)
//! extended at start: `1ms-timer` (event timestamps to the millisecond,
//! not the 20 ms core tick), mod_callcenter and mod_expr
//! loaded, a `bench` queue (20 agents) and a `benchfull` queue (100 agents)
//! in both ACDs, agents `loopback/<id>/bench-agents` that bridge to a
//! `loopback/talk` leg which answers and talks a random time uniform over
//! 1 s +- 50 % (mod_callcenter needs a loopback agent bridged to something).
//!
//! Measured from FreeSWITCH's core events only (CHANNEL_CREATE,
//! CHANNEL_BRIDGE, CHANNEL_HANGUP with Event-Date-Timestamp), so both ACDs
//! are judged alike:
//! - drain: first caller created -> last agent leg hung up, against the
//!   ideal = sum of agent busy time (agent leg created -> hung up) / agents;
//! - re-offer gap: an agent's leg hangs up -> that agent's next leg is
//!   created, p50/p99, over agents with callers still waiting;
//! - FreeSWITCH CPU seconds per call (/proc/PID/stat, utime+stime);
//! - served (bridged to an agent) / lost callers.
//!
//! Arrivals are random (exponential gaps, ~200 calls/s). mod_callcenter's
//! SQLite database is fresh for each of its runs (a new db file, reloadxml,
//! unload, load).

// The test harness (switch.rs reaches the client as `super::esl`, and
// `crate::poll`).
#[allow(dead_code)]
#[path = "../tests/freeswitch/esl.rs"]
mod esl;
#[path = "../tests/support/poll.rs"]
mod poll;
#[allow(dead_code)]
#[path = "../tests/freeswitch/switch.rs"]
mod switch;

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

mod drain;

use drain::faults::{self, fault_row, print_spread, Caller, FaultRun, GiveUps, Leg, BUSY, FAULT_HEADER, NO_ANSWER, SHORT};
use drain::{arg, cpu_seconds, print_ratios, ratio_row, reoffer_gaps, run_row, Run, RUN_HEADER};
use esl::{field, Event};
use switch::{prepare_conf, stamp, switch, Switch};

/// Agent ids: 4000.. (the 20-agent shape uses the first 20).
const FIRST_AGENT: u32 = 4000;
const MAX_AGENTS: u32 = 100;
/// Nominal talk time (s); agents talk uniform over TALK +- 50 %.
const TALK: f64 = 1.0;
/// Mean gap between arrivals (s): ~200 calls/s.
const MEAN_GAP: f64 = 0.005;
/// `--sip`: callers over SIP (see the module doc).
static SIP: AtomicBool = AtomicBool::new(false);
/// The sofia profile the switch calls itself through.
const SIP_PORT: u16 = 25090;
/// `--faults`: the fault mode (drain/faults.rs) on the `benchfault` queue
/// of FAULT_AGENTS agents, every agent rung RING seconds at most by both
/// ACDs.
static FAULTS: AtomicBool = AtomicBool::new(false);
static FAULT_AGENTS: AtomicU32 = AtomicU32::new(20);
static RING: AtomicU32 = AtomicU32::new(15);
/// The agents' dialplan below draws 0..=99 against these.
const _: () = assert!(BUSY == 10 && NO_ANSWER == 15 && SHORT == 20);
/// The bench's queues (both ACDs).
const QUEUES: [&str; 3] = ["bench", "benchfull", "benchfault"];

fn queue_of(agents: usize) -> &'static str {
    if agents <= 20 {
        "bench"
    } else {
        "benchfull"
    }
}

fn members(queue: &str) -> std::ops::Range<u32> {
    let n = match queue {
        "bench" => 20,
        "benchfault" => FAULT_AGENTS.load(Ordering::Relaxed),
        _ => MAX_AGENTS,
    };
    FIRST_AGENT..FIRST_AGENT + n
}

/// Insert `text` before the last line holding `closing` in `file`.
fn insert_before(file: &Path, closing: &str, text: &str) {
    let s = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let at = s.rfind(closing).unwrap_or_else(|| panic!("{}: no {closing}", file.display()));
    let at = s[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    std::fs::write(file, format!("{}{}{}", &s[..at], text, &s[at..])).expect("write conf");
}

/// mod_callcenter: the same queues, agents and ring timeout as Hotline's,
/// its SQLite database in db/<dbname>.db.
fn callcenter_conf(dbname: &str) -> String {
    let mut cc = format!(
        "<configuration name=\"callcenter.conf\" description=\"CallCenter (bench)\">\n  <settings>\n    <param name=\"dbname\" value=\"{dbname}\"/>\n  </settings>\n  <queues>\n",
    );
    for q in QUEUES {
        cc.push_str(&format!("    <queue name=\"{q}\">\n"));
        for (k, v) in [
            ("strategy", "longest-idle-agent"),
            ("moh-sound", "local_stream://moh"),
            ("time-base-score", "system"),
            ("max-wait-time", "0"),
            ("max-wait-time-with-no-agent", "0"),
            ("max-wait-time-with-no-agent-time-reached", "5"),
            ("tier-rules-apply", "false"),
            ("discard-abandoned-after", "60"),
            ("abandoned-resume-allowed", "false"),
            ("skip-agents-with-external-calls", "false"),
        ] {
            cc.push_str(&format!("      <param name=\"{k}\" value=\"{v}\"/>\n"));
        }
        cc.push_str("    </queue>\n");
    }
    cc.push_str("  </queues>\n  <agents>\n");
    for id in FIRST_AGENT..FIRST_AGENT + MAX_AGENTS {
        cc.push_str(&format!(
            "    <agent name=\"{id}\" type=\"callback\" contact=\"[leg_timeout={ring}]loopback/{id}/bench-agents\" \
             status=\"Available\" max-no-answer=\"100000\" wrap-up-time=\"0\" reject-delay-time=\"0\" \
             busy-delay-time=\"0\" no-answer-delay-time=\"0\"/>\n",
            ring = RING.load(Ordering::Relaxed),
        ));
    }
    cc.push_str("  </agents>\n  <tiers>\n");
    for q in QUEUES {
        for id in members(q) {
            cc.push_str(&format!("    <tier agent=\"{id}\" queue=\"{q}\" level=\"1\" position=\"1\"/>\n"));
        }
    }
    cc.push_str("  </tiers>\n</configuration>\n");
    cc
}

/// One sofia profile on 127.0.0.1 whose inbound calls go to the callers'
/// context: the switch calls itself through it (`--sip`).
fn sofia_conf() -> String {
    let mut p = String::from("<configuration name=\"sofia.conf\" description=\"sofia (bench)\">\n  <global_settings>\n    <param name=\"log-level\" value=\"0\"/>\n  </global_settings>\n  <profiles>\n    <profile name=\"bench\">\n      <settings>\n");
    for (k, v) in [
        ("sip-ip", "127.0.0.1".to_string()),
        ("ext-sip-ip", "127.0.0.1".to_string()),
        ("rtp-ip", "127.0.0.1".to_string()),
        ("ext-rtp-ip", "127.0.0.1".to_string()),
        ("sip-port", SIP_PORT.to_string()),
        ("context", "bench-callers".to_string()),
        ("dialplan", "XML".to_string()),
        ("auth-calls", "false".to_string()),
        ("inbound-codec-prefs", "PCMU".to_string()),
        ("outbound-codec-prefs", "PCMU".to_string()),
        ("rtp-timer-name", "soft".to_string()),
        ("manage-presence", "false".to_string()),
    ] {
        p.push_str(&format!("        <param name=\"{k}\" value=\"{v}\"/>\n"));
    }
    p.push_str("      </settings>\n    </profile>\n  </profiles>\n</configuration>\n");
    p
}

/// The bench's additions to the test configuration (see the module doc).
fn prepare(conf: &Path) {
    let ac = conf.join("autoload_configs");
    insert_before(
        &ac.join("switch.conf.xml"),
        "</settings>",
        "    <!-- bench: event timestamps to the ms; room for 1,000 callers -->\n    \
         <param name=\"1ms-timer\" value=\"true\"/>\n    <param name=\"max-sessions\" value=\"5000\"/>\n",
    );
    insert_before(&ac.join("modules.conf.xml"), "</modules>", "    <load module=\"mod_expr\"/>\n    <load module=\"mod_callcenter\"/>\n");

    std::fs::write(ac.join("callcenter.conf.xml"), callcenter_conf("callcenter")).expect("write callcenter.conf.xml");
    if SIP.load(Ordering::Relaxed) {
        insert_before(&ac.join("modules.conf.xml"), "</modules>", "    <load module=\"mod_sofia\"/>\n");
        // Two RTP ports per SIP leg, two SIP legs per caller.
        let sw = std::fs::read_to_string(ac.join("switch.conf.xml")).expect("switch.conf.xml");
        std::fs::write(ac.join("switch.conf.xml"), sw.replace("\"62000\"", "\"20000\"").replace("\"63000\"", "\"60000\"")).expect("write switch.conf.xml");
        std::fs::write(ac.join("sofia.conf.xml"), sofia_conf()).expect("write sofia.conf.xml");
    }

    // mod_hotline: the same queues and agents; the web port off the test
    // switch's.
    let toml = std::fs::read_to_string(conf.join("hotline.toml")).expect("hotline.toml");
    assert!(toml.contains("127.0.0.1:18091"), "hotline.toml: the test web port changed");
    let mut toml = toml.replace("127.0.0.1:18091", "127.0.0.1:18191");
    for q in QUEUES {
        let ring = RING.load(Ordering::Relaxed);
        toml.push_str(&format!("\n[[queue]]\nname = \"{q}\"\nstrategy = \"longest-idle\"\nring_timeout_seconds = {ring}\n"));
    }
    for id in FIRST_AGENT..FIRST_AGENT + MAX_AGENTS {
        let queues: Vec<String> = QUEUES.iter().filter(|q| members(q).contains(&id)).map(|q| format!("\"{q}\"")).collect();
        let queues = queues.join(", ");
        toml.push_str(&format!("\n[[agent]]\nname = \"b{id}\"\ncontact = \"loopback/{id}/bench-agents\"\nqueues = [{queues}]\n"));
    }
    std::fs::write(conf.join("hotline.toml"), toml).expect("write hotline.toml");

    // Agents answer and talk uniform over TALK +- 50 %; callers answer and
    // join either ACD. The agent leg bridges to a second loopback that
    // talks: mod_callcenter waits for a loopback agent's -b leg to be
    // bridged to a "real channel" and cancels the offer otherwise; both
    // ACDs get the same agents. (<include> tags stay on lines of their own.)
    // With the global bench_faults=1 each offer draws bench_r (0..=99,
    // while hunting: inline): 0-9 busy, 10-14 rings until the ACD's ring
    // timeout, 15-19 a talk leg that hangs up after 0.1-0.4 s.
    let talk_ms = (TALK * 1000.0) as u64;
    insert_before(
        &conf.join("dialplan.xml"),
        "</include>",
        &format!(
            r#"  <context name="bench-agents">
    <extension name="draw" continue="true">
      <condition field="destination_number" expression="^\d+$">
        <action application="set" data="bench_r=99" inline="true"/>
      </condition>
    </extension>
    <extension name="draw-fault" continue="true">
      <condition field="${{bench_faults}}" expression="^1$"/>
      <condition field="destination_number" expression="^\d+$">
        <action application="set" data="bench_r=${{expr(randomize(&amp;x);floor(random(0,100,&amp;x)))}}" inline="true"/>
      </condition>
    </extension>
    <extension name="busy">
      <condition field="${{bench_r}}" expression="^\d$"/>
      <condition field="destination_number" expression="^\d+$">
        <action application="hangup" data="USER_BUSY"/>
      </condition>
    </extension>
    <extension name="noanswer">
      <condition field="${{bench_r}}" expression="^1[0-4]$"/>
      <condition field="destination_number" expression="^\d+$">
        <action application="ring_ready"/>
        <action application="sleep" data="120000"/>
        <action application="hangup"/>
      </condition>
    </extension>
    <extension name="short">
      <condition field="${{bench_r}}" expression="^1[5-9]$"/>
      <condition field="destination_number" expression="^(\d+)$">
        <action application="set" data="loopback_bowout=false"/>
        <action application="bridge" data="loopback/short-$1/bench-talk"/>
        <action application="hangup"/>
      </condition>
    </extension>
    <extension name="spread">
      <condition field="destination_number" expression="^(\d+)$">
        <action application="set" data="loopback_bowout=false"/>
        <action application="bridge" data="loopback/talk-$1/bench-talk"/>
        <action application="hangup"/>
      </condition>
    </extension>
  </context>
  <context name="bench-talk">
    <extension name="short">
      <condition field="destination_number" expression="^short-\d+$">
        <action application="answer"/>
        <action application="playback" data="silence_stream://${{expr(randomize(&amp;x);ceil(random(100,400,&amp;x)))}}"/>
        <action application="hangup"/>
      </condition>
    </extension>
    <extension name="talk">
      <condition field="destination_number" expression="^talk-\d+$">
        <action application="answer"/>
        <action application="playback" data="silence_stream://${{expr(randomize(&amp;x);ceil(random({lo},{hi},&amp;x)))}}"/>
        <action application="hangup"/>
      </condition>
    </extension>
  </context>
  <context name="bench-callers">
    <extension name="hotline">
      <condition field="destination_number" expression="^hotline-(\w+)$">
        <action application="set" data="hangup_after_bridge=true"/>
        <action application="answer"/>
        <action application="hotline_queue" data="$1"/>
        <action application="hangup"/>
      </condition>
    </extension>
    <extension name="callcenter">
      <condition field="destination_number" expression="^cc-(\w+)$">
        <action application="set" data="hangup_after_bridge=true"/>
        <action application="answer"/>
        <action application="callcenter" data="$1"/>
        <action application="hangup"/>
      </condition>
    </extension>
  </context>
"#,
            lo = talk_ms / 2,
            hi = talk_ms * 3 / 2,
        ),
    );
}

fn freeswitch_pid(s: &Switch) -> u32 {
    let text = std::fs::read_to_string(s.root.join("run/freeswitch.pid")).expect("freeswitch.pid");
    text.trim().parse().expect("pid")
}

fn name(e: &Event) -> &str {
    field(e, "Event-Name")
}

/// An agent's outbound leg: loopback/<id>-a (the ACD's side of the call).
fn agent_of(e: &Event) -> Option<u32> {
    agent_leg(field(e, "Channel-Name"))
}

/// The leg that talks for an agent: loopback/talk-<id>-a. mod_callcenter
/// bridges its caller to this "real channel", not to the agent's leg.
fn talk_of(e: &Event) -> Option<u32> {
    let n = field(e, "Channel-Name");
    let id = n.strip_prefix("loopback/talk-").or_else(|| n.strip_prefix("loopback/short-"));
    agent_leg(id.map(|n| format!("loopback/{n}")).as_deref().unwrap_or(""))
}

fn agent_leg(channel: &str) -> Option<u32> {
    let n = channel.strip_prefix("loopback/")?.strip_suffix("-a")?;
    let id: u32 = n.parse().ok()?;
    (FIRST_AGENT..FIRST_AGENT + MAX_AGENTS).contains(&id).then_some(id)
}

/// A caller's leg running the ACD: loopback/<hotline|cc>-<queue>-b, or
/// with `--sip` the inbound SIP leg sofia/bench/8NNNNNN@127.0.0.1 (named
/// after the caller's number).
fn is_caller(e: &Event) -> bool {
    is_caller_name(field(e, "Channel-Name"))
}

fn is_caller_name(n: &str) -> bool {
    (n.starts_with("loopback/hotline-") || n.starts_with("loopback/cc-")) && n.ends_with("-b") || n.starts_with("sofia/bench/8")
}

fn wait_idle(s: &Switch, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if s.api("show channels count").trim_start().starts_with("0 total") {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// mod_callcenter keeps agents and members in SQLite: start each of its
/// runs from the configuration alone.
fn wipe_callcenter(s: &Switch) {
    // Deleting the file under a running FreeSWITCH leaves its pooled
    // handle on a dead inode ("attempt to write a readonly database"):
    // point mod_callcenter at a new database file instead.
    static RUN: AtomicU32 = AtomicU32::new(0);
    let db = format!("callcenter_run{}", RUN.fetch_add(1, Ordering::Relaxed));
    let _ = std::fs::remove_file(s.root.join("db").join(format!("{db}.db")));
    std::fs::write(s.root.join("conf/autoload_configs/callcenter.conf.xml"), callcenter_conf(&db)).expect("write callcenter.conf.xml");
    let out = s.api("reloadxml");
    assert!(out.contains("+OK"), "reloadxml: {out}");
    let out = s.api("unload mod_callcenter");
    assert!(out.contains("+OK"), "unload mod_callcenter: {out}");
    let out = s.api("load mod_callcenter");
    assert!(out.contains("+OK"), "load mod_callcenter: {out}");
    let q = if FAULTS.load(Ordering::Relaxed) { "benchfault" } else { queue_of(20) };
    let list = s.api(&format!("callcenter_config queue list agents {q}"));
    assert_eq!(list.matches("Available").count(), members(q).len(), "mod_callcenter agents after reload: {list}");
}

fn run_once(s: &Switch, acd: &str, agents: usize, callers: usize, seed: u64) -> Run {
    let queue = queue_of(agents);
    if acd == "mod_callcenter" {
        wipe_callcenter(s);
    }
    assert!(wait_idle(s, 10), "channels left before the run: {}", s.api("show channels"));
    std::thread::sleep(Duration::from_millis(500));
    let prefix = if acd == "hotline" { "hotline" } else { "cc" };
    let pid = freeswitch_pid(s);
    let cpu0 = cpu_seconds(pid);
    let from = s.mark();
    let mut rng = seed;
    for i in 0..callers {
        let dest = if SIP.load(Ordering::Relaxed) {
            format!("sofia/bench/{prefix}-{queue}@127.0.0.1:{SIP_PORT}")
        } else {
            format!("loopback/{prefix}-{queue}/bench-callers")
        };
        s.esl.bgapi(&format!("originate {{origination_caller_id_number=8{i:06}}}{dest} &sleep(600000)"));
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // Exponential gaps (~200 calls/s).
        let u = (rng >> 11) as f64 / (1u64 << 53) as f64;
        std::thread::sleep(Duration::from_secs_f64(-MEAN_GAP * (1.0 - u).ln()));
    }
    // Wait until every caller has been bridged and every agent leg has come
    // and gone (or time out). Counted without copying events.
    let deadline = Instant::now() + Duration::from_secs(60 + (callers as f64 * TALK * 3.0 / agents as f64) as u64);
    loop {
        let (created, ended, bridged) = (Cell::new(0), Cell::new(0), Cell::new(0));
        s.esl.events_since(from, |e| {
            match name(e) {
                "CHANNEL_CREATE" if agent_of(e).is_some() || talk_of(e).is_some() => created.set(created.get() + 1),
                "CHANNEL_HANGUP" if agent_of(e).is_some() || talk_of(e).is_some() => ended.set(ended.get() + 1),
                "CHANNEL_BRIDGE" if is_caller(e) || is_caller_name(field(e, "Other-Leg-Channel-Name")) => bridged.set(bridged.get() + 1),
                _ => {}
            }
            false
        });
        if bridged.get() >= callers && ended.get() >= created.get() || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    std::thread::sleep(Duration::from_millis(500));
    let cpu1 = cpu_seconds(pid);
    // Tear down callers still waiting (lost) before the next run.
    s.api("hupall NORMAL_CLEARING");
    if !wait_idle(s, 20) {
        eprintln!("warning: channels still up 20 s after hupall");
    }
    std::thread::sleep(Duration::from_millis(500));

    let events = s.esl.events_since(from, |e| matches!(name(e), "CHANNEL_CREATE" | "CHANNEL_HANGUP" | "CHANNEL_BRIDGE"));
    let sec = |e: &Event| stamp(e) as f64 / 1e6;
    let first = events.iter().filter(|e| name(e) == "CHANNEL_CREATE" && is_caller(e)).map(sec).fold(f64::MAX, f64::min);
    // Unique-IDs of agent legs, talk legs and caller legs.
    let agent_uuid: HashMap<String, u32> =
        events.iter().filter(|e| name(e) == "CHANNEL_CREATE").filter_map(|e| Some((field(e, "Unique-ID").to_string(), agent_of(e)?))).collect();
    let talk_uuid: HashMap<String, u32> =
        events.iter().filter(|e| name(e) == "CHANNEL_CREATE").filter_map(|e| Some((field(e, "Unique-ID").to_string(), talk_of(e)?))).collect();
    let caller_uuid: HashSet<String> =
        events.iter().filter(|e| name(e) == "CHANNEL_CREATE" && is_caller(e)).map(|e| field(e, "Unique-ID").to_string()).collect();
    // A caller is served when bridged to an agent's leg (Hotline) or to the
    // leg that talks behind it (mod_callcenter).
    let mut served_callers = HashSet::new();
    let mut bridged_legs = HashSet::new();
    for e in events.iter().filter(|e| name(e) == "CHANNEL_BRIDGE") {
        let ids = ["Unique-ID", "Other-Leg-Unique-ID", "Bridge-A-Unique-ID", "Bridge-B-Unique-ID"].map(|k| field(e, k));
        let agent = ids.iter().find(|u| agent_uuid.contains_key(**u) || talk_uuid.contains_key(**u));
        let caller = ids.iter().find(|u| caller_uuid.contains(**u));
        if let (Some(a), Some(c)) = (agent, caller) {
            served_callers.insert(c.to_string());
            bridged_legs.insert(a.to_string());
        }
    }
    // Each leg's (start, end, uuid), per agent.
    let mut legs: HashMap<u32, Vec<(f64, f64, String)>> = HashMap::new();
    let mut talks: HashMap<u32, Vec<(f64, f64, String)>> = HashMap::new();
    let mut open: HashMap<&str, f64> = HashMap::new();
    for e in &events {
        let uuid = field(e, "Unique-ID");
        let (map, agent) = match (agent_uuid.get(uuid), talk_uuid.get(uuid)) {
            (Some(&a), _) => (&mut legs, a),
            (_, Some(&a)) => (&mut talks, a),
            _ => continue,
        };
        match name(e) {
            "CHANNEL_CREATE" => {
                open.insert(uuid, sec(e));
            }
            "CHANNEL_HANGUP" => {
                if let Some(start) = open.remove(uuid) {
                    map.entry(agent).or_default().push((start, sec(e), uuid.to_string()));
                }
            }
            _ => {}
        }
    }
    // An agent is busy from its leg's creation until both that leg and the
    // talk leg started under it have hung up.
    let mut busy = 0.0;
    let mut last_end: f64 = 0.0;
    let mut unbridged_offers = 0;
    let mut per_agent: HashMap<u32, Vec<(f64, f64)>> = HashMap::new();
    for (agent, ls) in &legs {
        for (start, end, uuid) in ls {
            let talk = talks.get(agent).into_iter().flatten().find(|t| t.0 >= *start && t.0 <= *end);
            let end = talk.map_or(*end, |t| end.max(t.1));
            if !bridged_legs.contains(uuid) && !talk.is_some_and(|t| bridged_legs.contains(&t.2)) {
                unbridged_offers += 1;
            }
            busy += end - start;
            last_end = last_end.max(end);
            per_agent.entry(*agent).or_default().push((*start, end));
        }
    }
    let gaps = reoffer_gaps(&mut per_agent);
    let served = served_callers.len();
    Run {
        drain: last_end - first,
        ideal: busy / agents as f64,
        gaps,
        cpu_per_call: (cpu1 - cpu0) / callers as f64,
        served: served.min(callers),
        lost: callers.saturating_sub(served),
        unbridged_offers,
    }
}

/// Caller `i` of a fault run, number 8<i> (the number names it in the
/// events).
fn fault_caller(s: &Switch, prefix: &str, i: usize) {
    s.esl.bgapi(&format!("originate {{origination_caller_id_number=8{i:06}}}loopback/{prefix}-benchfault/bench-callers &sleep(600000)"));
}

/// Caller index of a caller leg (from its number), if one.
fn caller_index(e: &Event) -> Option<usize> {
    is_caller(e).then(|| field(e, "Caller-Caller-ID-Number").strip_prefix('8')?.parse().ok()).flatten()
}

/// Hang up the callers in `due` no agent has answered; they gave up.
fn give_up(s: &Switch, from: usize, due: Vec<usize>, gave_up: &mut HashSet<usize>) {
    if due.is_empty() {
        return;
    }
    let due: HashSet<usize> = due.into_iter().collect();
    let created = s.esl.events_since(from, |e| name(e) == "CHANNEL_CREATE" && caller_index(e).is_some_and(|i| due.contains(&i)));
    let uuids: HashMap<String, usize> = created.iter().map(|e| (field(e, "Unique-ID").to_string(), caller_index(e).expect("caller"))).collect();
    let bridged: HashSet<String> = s
        .esl
        .events_since(from, |e| name(e) == "CHANNEL_BRIDGE" && (uuids.contains_key(field(e, "Unique-ID")) || uuids.contains_key(field(e, "Other-Leg-Unique-ID"))))
        .iter()
        .flat_map(|e| [field(e, "Unique-ID").to_string(), field(e, "Other-Leg-Unique-ID").to_string()])
        .collect();
    for (uuid, i) in uuids {
        if !bridged.contains(&uuid) {
            s.esl.bgapi(&format!("uuid_kill {uuid}"));
            gave_up.insert(i);
        }
    }
}

/// Wait until the callers `range` have hung up and no agent leg is left
/// (at most `secs`), carrying out give-ups meanwhile.
fn wait_done(s: &Switch, from: usize, range: std::ops::Range<usize>, secs: u64, t0: Instant, give_ups: &mut GiveUps, gave_up: &mut HashSet<usize>) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        give_up(s, from, give_ups.take_due(t0.elapsed().as_secs_f64()), gave_up);
        let (ended, created, gone) = (Cell::new(0), Cell::new(0), Cell::new(0));
        s.esl.events_since(from, |e| {
            match name(e) {
                "CHANNEL_CREATE" if agent_of(e).is_some() || talk_of(e).is_some() => created.set(created.get() + 1),
                "CHANNEL_HANGUP" if agent_of(e).is_some() || talk_of(e).is_some() => gone.set(gone.get() + 1),
                "CHANNEL_HANGUP" if caller_index(e).is_some_and(|i| range.contains(&i)) => ended.set(ended.get() + 1),
                _ => {}
            }
            false
        });
        if ended.get() >= range.len() && gone.get() >= created.get() {
            return;
        }
        if Instant::now() > deadline {
            eprintln!("warning: {} of {} callers and {} agent legs still up after {secs} s", range.len() - ended.get(), range.len(), created.get() - gone.get());
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `hotline show agents`: every fault-queue agent available.
fn hotline_agents_free(s: &Switch) -> bool {
    let table = s.api("hotline show agents");
    members("benchfault").all(|id| table.lines().any(|l| l.split_whitespace().take(2).eq([format!("b{id}").as_str(), "available"])))
}

/// One fault run (see drain/faults.rs): `callers` callers with faults on,
/// then a fault-free burst of twice as many callers as agents.
fn fault_run(s: &Switch, acd: &str, callers: usize, seed: u64) -> FaultRun {
    let agents = members("benchfault").len();
    if acd == "mod_callcenter" {
        wipe_callcenter(s);
    }
    assert!(wait_idle(s, 10), "channels left before the run: {}", s.api("show channels"));
    assert!(s.api("global_setvar bench_faults=1").starts_with("+OK"));
    std::thread::sleep(Duration::from_millis(500));
    let prefix = if acd == "hotline" { "hotline" } else { "cc" };
    let from = s.mark();
    let t0 = Instant::now();
    let (mut give_ups, mut gave_up) = (GiveUps::new(), HashSet::new());
    let mut rng = seed;
    for i in 0..callers {
        fault_caller(s, prefix, i);
        give_ups.called(i, t0.elapsed().as_secs_f64());
        give_up(s, from, give_ups.take_due(t0.elapsed().as_secs_f64()), &mut gave_up);
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // Exponential gaps (~200 calls/s).
        let u = (rng >> 11) as f64 / (1u64 << 53) as f64;
        std::thread::sleep(Duration::from_secs_f64(-MEAN_GAP * (1.0 - u).ln()));
    }
    wait_done(s, from, 0..callers, 120 + (callers as f64 * TALK * 3.0 / agents as f64) as u64, t0, &mut give_ups, &mut gave_up);

    // The fault-free burst, once every agent is free again.
    assert!(s.api("global_setvar bench_faults=0").starts_with("+OK"));
    if acd == "hotline" {
        let deadline = Instant::now() + Duration::from_secs(75);
        while !hotline_agents_free(s) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    let burst = callers..callers + 2 * agents;
    for i in burst.clone() {
        fault_caller(s, prefix, i);
    }
    wait_done(s, from, burst, 60, t0, &mut GiveUps::new(), &mut gave_up);
    s.api("hupall NORMAL_CLEARING");
    if !wait_idle(s, 20) {
        eprintln!("warning: channels still up 20 s after hupall");
    }
    std::thread::sleep(Duration::from_millis(500));

    // The run as legs and callers, from core channel events.
    let events = s.esl.events_since(from, |e| matches!(name(e), "CHANNEL_CREATE" | "CHANNEL_HANGUP" | "CHANNEL_BRIDGE"));
    let sec = |e: &Event| stamp(e) as f64 / 1e6;
    let caller_uuid: HashMap<String, usize> =
        events.iter().filter(|e| name(e) == "CHANNEL_CREATE").filter_map(|e| Some((field(e, "Unique-ID").to_string(), caller_index(e)?))).collect();
    let mut callers_v: HashMap<usize, Caller> = HashMap::new();
    // Agent and talk legs: uuid -> (agent, start, end, caller, bridged).
    let mut legs: HashMap<String, (u32, bool, Leg)> = HashMap::new();
    for e in &events {
        let uuid = field(e, "Unique-ID");
        match name(e) {
            "CHANNEL_CREATE" => {
                if let Some(i) = caller_index(e) {
                    callers_v.insert(i, Caller { id: i.to_string(), enter: sec(e), end: f64::INFINITY, gave_up: gave_up.contains(&i), burst: i >= callers });
                } else if let Some((a, talk)) = agent_of(e).map(|a| (a, false)).or_else(|| talk_of(e).map(|a| (a, true))) {
                    let leg = Leg { agent: format!("b{a}"), start: sec(e), end: f64::INFINITY, caller: None, bridged: None };
                    legs.insert(uuid.to_string(), (a, talk, leg));
                }
            }
            "CHANNEL_HANGUP" => {
                if let Some(c) = caller_uuid.get(uuid).and_then(|i| callers_v.get_mut(i)) {
                    c.end = sec(e);
                } else if let Some((_, _, l)) = legs.get_mut(uuid) {
                    l.end = sec(e);
                    // Each ACD names the caller an offer was for on the
                    // agent's leg.
                    let by = [field(e, "variable_hotline_caller_uuid"), field(e, "variable_cc_member_session_uuid")];
                    if let Some(i) = by.iter().find_map(|u| caller_uuid.get(*u)) {
                        l.caller = Some(i.to_string());
                    }
                }
            }
            _ => {
                // CHANNEL_BRIDGE: a caller and an agent's (or talk) leg.
                let ids = ["Unique-ID", "Other-Leg-Unique-ID", "Bridge-A-Unique-ID", "Bridge-B-Unique-ID"].map(|k| field(e, k));
                let caller = ids.iter().find_map(|u| caller_uuid.get(*u));
                let leg = ids.iter().find(|u| legs.contains_key(**u)).map(|u| u.to_string());
                if let (Some(l), Some(i)) = (leg.and_then(|u| legs.get_mut(&u)), caller) {
                    l.2.bridged.get_or_insert(sec(e));
                    l.2.caller = Some(i.to_string());
                }
            }
        }
    }
    // Fold each talk leg into the agent leg it was started under.
    let (talks, agent_legs): (Vec<_>, Vec<_>) = legs.into_values().partition(|(_, talk, _)| *talk);
    let mut out: Vec<Leg> = agent_legs.into_iter().map(|(_, _, l)| l).collect();
    for (_, _, t) in talks {
        if let Some(l) = out.iter_mut().find(|l| l.agent == t.agent && t.start >= l.start && t.start <= l.end) {
            l.end = l.end.max(t.end);
            if let Some(b) = t.bridged {
                l.bridged.get_or_insert(b);
                l.caller = l.caller.take().or(t.caller);
            }
        }
    }
    let names: Vec<String> = members("benchfault").map(|id| format!("b{id}")).collect();
    let callers_v: Vec<Caller> = callers_v.into_values().collect();
    assert_eq!(callers_v.len(), callers + 2 * agents, "every caller created");
    faults::analyse(&names, &out, &callers_v)
}

/// `--faults`: the fault mode, `--runs` runs per ACD, interleaved.
fn fault_main(s: &Switch) {
    let callers: usize = arg("--callers", 300);
    let runs: u64 = arg("--runs", 2);
    let agents = members("benchfault").len();
    println!(
        "Fault mode: {agents} agents, {callers} callers, ring timeout {} s, then a burst of {} callers.\n",
        RING.load(Ordering::Relaxed),
        2 * agents
    );
    println!("{FAULT_HEADER}");
    let mut results: Vec<(&str, Vec<FaultRun>)> = vec![("hotline", Vec::new()), ("mod_callcenter", Vec::new())];
    for round in 0..runs {
        for (acd, rs) in results.iter_mut() {
            let r = fault_run(s, acd, callers, 0x9E37 + round * 31 + agents as u64);
            println!("{}", fault_row(acd, round + 1, &r));
            rs.push(r);
        }
    }
    print_spread(&results, "hotline");
}

/// `--webhooks`: Hotline alone, with a webhook whose endpoint is down (every
/// call event of the bench queues to a port nothing listens on, so each
/// delivery fails and backs off while the outbox fills) and without any
/// webhook, switched by `hotline reload` between runs; `--runs` runs each,
/// interleaved, order alternated.
fn webhook_main(s: &Switch, shapes: &[(usize, usize)]) {
    let runs: u64 = arg("--runs", 3);
    let file = s.root.join("conf/hotline.toml");
    let plain = std::fs::read_to_string(&file).expect("hotline.toml");
    let dead = format!(
        "{plain}\n[[webhook]]\nname = \"dead\"\nurl = \"http://127.0.0.1:9/hook\"\nevents = [\"offered\", \"answered\", \"ended\", \"abandoned\"]\n\
         queues = [\"bench\", \"benchfull\"]\nsecrets = [\"whsec_bench_0123456789abcdef\"]\ntimeout_ms = 500\n"
    );
    let reload = |text: &str| {
        std::fs::write(&file, text).expect("write hotline.toml");
        let out = s.api("hotline reload");
        assert!(!out.contains("old configuration kept") && !out.starts_with("-ERR"), "reload: {out}");
    };
    println!("Webhook mode: the dead endpoint is http://127.0.0.1:9 (nothing listens).\n\n{RUN_HEADER}");
    let mut summary = Vec::new();
    for &(agents, callers) in shapes {
        let shape = format!("{agents} agents, {callers} callers");
        let mut results: HashMap<&str, Vec<Run>> = HashMap::new();
        for round in 0..runs {
            let order: [&str; 2] = if round % 2 == 0 { ["dead webhook", "no webhook"] } else { ["no webhook", "dead webhook"] };
            for mode in order {
                reload(if mode == "dead webhook" { &dead } else { &plain });
                let r = run_once(s, "hotline", agents, callers, 0x9E37 + round * 31 + agents as u64);
                println!("{}", run_row(&shape, mode, round + 1, &r));
                results.entry(mode).or_default().push(r);
            }
        }
        summary.push(ratio_row(&shape, &results, "dead webhook", "no webhook"));
    }
    reload(&dead);
    println!("\n{}", s.api("hotline webhooks show"));
    reload(&plain);
    print_ratios("dead webhook", "no webhook", &summary);
}

fn main() {
    let full = std::env::args().any(|a| a == "--full");
    SIP.store(std::env::args().any(|a| a == "--sip"), Ordering::Relaxed);
    if std::env::args().any(|a| a == "--faults") {
        FAULTS.store(true, Ordering::Relaxed);
        let agents: u32 = arg("--agents", 20);
        assert!((1..=MAX_AGENTS).contains(&agents), "--agents: 1..={MAX_AGENTS}");
        FAULT_AGENTS.store(agents, Ordering::Relaxed);
        RING.store(arg("--ring-timeout", 5), Ordering::Relaxed);
    }
    let shapes: Vec<(usize, usize)> = if full { vec![(20, 200), (100, 1000)] } else { vec![(20, 200)] };
    assert!(switch::instance("fs-bench-drain", 28121), "switch instance set twice");
    prepare_conf(prepare);
    let Some((s, _guard)) = switch() else { return };
    // The harness subscribes to CHANNEL_HANGUP_COMPLETE; the bench times
    // hang-ups by CHANNEL_HANGUP (subscriptions add up).
    let (r, _) = s.esl.command("event plain CHANNEL_HANGUP");
    assert!(r.get("Reply-Text").is_some_and(|t| t.starts_with("+OK")), "{r:?}");
    assert!(s.api("global_setvar bench_faults=0").starts_with("+OK"));
    // Hotline against itself: mod_callcenter is not needed.
    if std::env::args().any(|a| a == "--webhooks") {
        return webhook_main(s, &shapes);
    }
    assert_eq!(s.api("module_exists mod_callcenter").trim(), "true", "mod_callcenter did not load");
    assert!(s.api("global_setvar bench_faults=0").starts_with("+OK"));
    if FAULTS.load(Ordering::Relaxed) {
        return fault_main(s);
    }
    println!("{RUN_HEADER}");
    let mut summary = Vec::new();
    for (agents, callers) in shapes {
        let mut results: HashMap<&str, Vec<Run>> = HashMap::new();
        for round in 0..2u64 {
            let order: [&str; 2] = if round % 2 == 0 { ["hotline", "mod_callcenter"] } else { ["mod_callcenter", "hotline"] };
            for acd in order {
                let r = run_once(s, acd, agents, callers, 0x9E37 + round * 31 + agents as u64);
                println!("{}", run_row(&format!("{agents} agents, {callers} callers"), acd, round + 1, &r));
                results.entry(acd).or_default().push(r);
            }
        }
        summary.push(ratio_row(&format!("{agents} agents, {callers} callers"), &results, "hotline", "mod_callcenter"));
    }
    print_ratios("Hotline", "mod_callcenter", &summary);
}
