// SPDX-License-Identifier: GPL-2.0-or-later
//! The IVR issue's PBX benchmark in FreeSWITCH 1.10: SIP callers (SIPp,
//! RFC 2833 keys) walk a three-level menu and enter an account number,
//! then wait in a queue for an agent; the same menu once through
//! `hotline_ivr` (Hotline's `[[menu]]` / `[[collect]]`) and once as plain
//! dialplan (`play_and_get_digits`), both ending in the same
//! `hotline_queue`, so that only the menu differs. Runs interleaved. The
//! FreeSWITCH version of benches/asterisk_ivr.rs, same method.
//!
//! ```text
//! cargo build --release --features freeswitch    # the module under test
//! cargo bench --features freeswitch --bench freeswitch_ivr [-- --callers 200 --rate 25 --agents 50 --runs 3 --verbose]
//! ```
//!
//! Needs FreeSWITCH (as the tests find it), espeak-ng and sox (the prompts
//! are spoken at bench time into a temp dir: FreeSWITCH has no sound
//! files), and sipp with pcap play (Debian sip-tester, run as root). The
//! switch is the test fixture of tests/freeswitch/switch.rs on a run
//! directory and ports of its own (target/release/fs-bench-ivr, event
//! socket 28221, SIP 127.0.0.1:25360, RTP 14000-15999), never the test
//! switch: `-np` (no real-time priority), `1ms-timer`, no
//! sessions-per-second throttle, mod_sofia and mod_expr loaded; SIPp calls
//! from 25370 (media 25380).
//!
//! The menu (benches/drain/ivr.rs has the callers' plan): three levels
//! (keys 1, 2, 3), then the account (6 digits then #, checked: six
//! digits); a wrong key or silence plays the retry prompt and the level
//! again, three hang up. Then `hotline_queue ivrbench` with the account as
//! the call's data, served by `--agents` loopback agents that answer and
//! talk uniform over 1 s +- 50 %. Plain: one `play_and_get_digits` per
//! level (3 tries, failure -> hang up). Hotline: `max_failures` and
//! `max_timeouts` 3 each.
//!
//! Per run: FreeSWITCH's CPU seconds (/proc/PID/stat) from just before the
//! first caller to the last call's end, per caller; callers served (bridged
//! to an agent: CHANNEL_BRIDGE, a core event) and lost; answered calls
//! whose agent leg carried the account (Hotline's CallAnswered
//! DataAccount); for Hotline the callers its IVR let into the queue
//! (IvrLeft QUEUE); SIPp's successful and failed calls and retransmissions.
//! At the end `hotline show ivr`: the module's own time from a key to the
//! next prompt (all Hotline runs). By default FreeSWITCH logs notices and
//! up only (`--verbose`: the test switch's debug), and the event socket
//! carries CHANNEL_CREATE, CHANNEL_BRIDGE, CHANNEL_HANGUP and Hotline's
//! events only.

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

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

mod drain;

use drain::ivr::{self, interleaved, print_summary, run_sipp, IvrRun, Opts, Plan, Sipp, ACCOUNT, HOTLINE, QUEUE};
use drain::cpu_seconds;
use esl::{field, Event};
use switch::{prepare_conf, stamp, switch, Switch};

const ESL_PORT: u16 = 28221;
const SIP_PORT: u16 = 25360;
const SIPP_PORT: u16 = 25370;
const SIPP_MEDIA_PORT: u16 = 25380;
const RTP: (u16, u16) = (14000, 15999);
/// Agents b5000.. (loopback/<id>/bench-ivr-agents).
const FIRST_AGENT: usize = 5000;
/// The sofia profile the callers call.
const PROFILE: &str = "benchivr";
/// Seconds to wait for a key (menus) or a digit (the account).
const TIMEOUT: u32 = 5;
/// Wrong keys and silences before hanging up.
const TRIES: u32 = 3;
/// The prompts: name, text (each 1-2 s spoken).
const PROMPTS: [(&str, &str); 5] = [
    ("l1", "Welcome. For support, press one."),
    ("l2", "For billing, press two."),
    ("l3", "For card services, press three."),
    ("account", "Enter your account number, then hash."),
    ("retry", "Please try again."),
];
/// The menu levels: name, prompt, key.
const LEVELS: [(&str, &str, &str); 3] = [("bench_l1", "l1", "1"), ("bench_l2", "l2", "2"), ("bench_l3", "l3", "3")];

/// The options, for the configuration hook (a plain fn).
static OPTS: OnceLock<Opts> = OnceLock::new();

fn opts() -> &'static Opts {
    OPTS.get().expect("options")
}

fn prompts_dir() -> PathBuf {
    std::env::temp_dir().join("hotline-bench-ivr-fs-prompts")
}

fn prompt(name: &str) -> String {
    prompts_dir().join(format!("{name}.wav")).display().to_string()
}

/// Insert `text` before the last line holding `closing` in `file`.
fn insert_before(file: &Path, closing: &str, text: &str) {
    let s = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let at = s.rfind(closing).unwrap_or_else(|| panic!("{}: no {closing}", file.display()));
    let at = s[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    std::fs::write(file, format!("{}{}{}", &s[..at], text, &s[at..])).expect("write conf");
}

fn replace_in(file: &Path, from: &str, to: &str) {
    let s = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    assert!(s.contains(from), "{}: no {from}", file.display());
    std::fs::write(file, s.replace(from, to)).expect("write conf");
}

/// One sofia profile on 127.0.0.1 for the callers.
fn sofia_conf() -> String {
    let mut p = format!(
        "<configuration name=\"sofia.conf\" description=\"sofia (IVR bench)\">\n  <global_settings>\n    <param name=\"log-level\" value=\"0\"/>\n  </global_settings>\n  <profiles>\n    <profile name=\"{PROFILE}\">\n      <settings>\n"
    );
    for (k, v) in [
        ("sip-ip", "127.0.0.1".to_string()),
        ("ext-sip-ip", "127.0.0.1".to_string()),
        ("rtp-ip", "127.0.0.1".to_string()),
        ("ext-rtp-ip", "127.0.0.1".to_string()),
        ("sip-port", SIP_PORT.to_string()),
        ("context", "bench-ivr-callers".to_string()),
        ("dialplan", "XML".to_string()),
        ("auth-calls", "false".to_string()),
        ("inbound-codec-prefs", "PCMU".to_string()),
        ("outbound-codec-prefs", "PCMU".to_string()),
        ("dtmf-type", "rfc2833".to_string()),
        ("rfc2833-pt", "101".to_string()),
        ("rtp-timer-name", "soft".to_string()),
        ("manage-presence", "false".to_string()),
    ] {
        p.push_str(&format!("        <param name=\"{k}\" value=\"{v}\"/>\n"));
    }
    p.push_str("      </settings>\n    </profile>\n  </profiles>\n</configuration>\n");
    p
}

/// Hotline's configuration: the queue and its agents, and the menu.
fn hotline_toml(agents: usize) -> String {
    let mut t = String::from("# Hotline IVR benchmark (benches/freeswitch_ivr.rs)\n[general]\nservice_level_seconds = 20\n\n");
    t.push_str(&format!("[[queue]]\nname = \"{QUEUE}\"\nstrategy = \"longest-idle\"\nring_timeout_seconds = 15\nwrapup_seconds = 0\n\n"));
    for i in 0..agents {
        let id = FIRST_AGENT + i;
        t.push_str(&format!("[[agent]]\nname = \"b{id}\"\ncontact = \"loopback/{id}/bench-ivr-agents\"\nqueues = [\"{QUEUE}\"]\n\n"));
    }
    let retry = prompt("retry");
    for (k, (name, p, key)) in LEVELS.iter().enumerate() {
        let next = match LEVELS.get(k + 1) {
            Some((n, _, _)) => format!("action = \"menu\"\n  target = \"{n}\""),
            None => "action = \"collect\"\n  target = \"bench_account\"".to_string(),
        };
        t.push_str(&format!(
            "[[menu]]\nname = \"{name}\"\ngreet_long = [\"{}\"]\ninvalid_sound = [\"{retry}\"]\ntimeout_sound = [\"{retry}\"]\n\
             timeout_seconds = {TIMEOUT}\nmax_failures = {TRIES}\nmax_timeouts = {TRIES}\n\
             on_max_failures = {{ action = \"hangup\" }}\non_max_timeouts = {{ action = \"hangup\" }}\n\
             \x20 [[menu.entry]]\n  digits = \"{key}\"\n  {next}\n\n",
            prompt(p)
        ));
    }
    t.push_str(&format!(
        "[[collect]]\nname = \"bench_account\"\nprompts = [\"{}\"]\ninto = \"account\"\nmin_digits = 6\nmax_digits = 8\n\
         terminators = \"#\"\ntimeout_seconds = {TIMEOUT}\ninter_digit_timeout_seconds = {TIMEOUT}\nvalidate = \"pattern:^[0-9]{{6}}$\"\n\
         invalid_sound = [\"{retry}\"]\ntimeout_sound = [\"{retry}\"]\nmax_attempts = {TRIES}\n\
         next = {{ action = \"queue\", target = \"{QUEUE}\" }}\non_failure = {{ action = \"hangup\" }}\n",
        prompt("account")
    ));
    t
}

/// The callers' entry points, the same menu in plain dialplan, and the
/// agents. (<include> tags stay on lines of their own.)
fn dialplan() -> String {
    let ms = TIMEOUT * 1000;
    let retry = prompt("retry");
    let mut levels = String::new();
    for (_, p, key) in LEVELS {
        levels.push_str(&format!(
            "        <action application=\"play_and_get_digits\" data=\"1 1 {TRIES} {ms} # {} {retry} bench_key_{key} ^{key}$ {ms} bye XML bench-plain\"/>\n",
            prompt(p)
        ));
    }
    format!(
        r#"  <context name="bench-ivr-callers">
    <extension name="ivrhotline">
      <condition field="destination_number" expression="^ivrhotline$">
        <action application="hotline_ivr" data="bench_l1"/>
        <action application="hangup"/>
      </condition>
    </extension>
    <extension name="ivrplain">
      <condition field="destination_number" expression="^ivrplain$">
        <action application="answer"/>
{levels}        <action application="play_and_get_digits" data="6 8 {TRIES} {ms} # {account} {retry} bench_account ^\d{{6}}$ {ms} bye XML bench-plain"/>
        <action application="hotline_queue" data="{QUEUE},data=account:${{bench_account}}"/>
        <action application="hangup"/>
      </condition>
    </extension>
  </context>
  <context name="bench-plain">
    <extension name="bye">
      <condition field="destination_number" expression="^bye$">
        <action application="hangup"/>
      </condition>
    </extension>
  </context>
  <context name="bench-ivr-agents">
    <extension name="agent">
      <condition field="destination_number" expression="^\d+$">
        <action application="answer"/>
        <action application="playback" data="silence_stream://${{expr(randomize(&amp;x);ceil(random(500,1500,&amp;x)))}}"/>
        <action application="hangup"/>
      </condition>
    </extension>
  </context>
"#,
        account = prompt("account"),
    )
}

/// The bench's changes to the test switch's configuration (see the module doc).
fn prepare(conf: &Path) {
    let o = opts();
    let ac = conf.join("autoload_configs");
    let sw = ac.join("switch.conf.xml");
    replace_in(&sw, "\"62000\"", &format!("\"{}\"", RTP.0));
    replace_in(&sw, "\"63000\"", &format!("\"{}\"", RTP.1));
    // No calls-per-second throttle (the default 30 would pace the callers).
    let text = std::fs::read_to_string(&sw).expect("switch.conf.xml");
    assert!(text.contains("<param name=\"sessions-per-second\" value=\"10000\"/>"), "switch.conf.xml: sessions-per-second changed");
    if !o.verbose {
        replace_in(&sw, "<param name=\"loglevel\" value=\"debug\"/>", "<param name=\"loglevel\" value=\"notice\"/>");
    }
    insert_before(&sw, "</settings>", "    <!-- IVR bench: event timestamps to the ms (benchmarking.md) -->\n    <param name=\"1ms-timer\" value=\"true\"/>\n");
    insert_before(&ac.join("modules.conf.xml"), "</modules>", "    <load module=\"mod_expr\"/>\n    <load module=\"mod_sofia\"/>\n");
    std::fs::write(ac.join("sofia.conf.xml"), sofia_conf()).expect("write sofia.conf.xml");
    std::fs::write(conf.join("hotline.toml"), hotline_toml(o.agents)).expect("write hotline.toml");
    insert_before(&conf.join("dialplan.xml"), "</include>", &dialplan());
}

fn freeswitch_pid(s: &Switch) -> u32 {
    let text = std::fs::read_to_string(s.root.join("run/freeswitch.pid")).expect("freeswitch.pid");
    text.trim().parse().expect("pid")
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
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn name(e: &Event) -> &str {
    field(e, "Event-Name")
}

fn hotline_event(e: &Event, what: &str) -> bool {
    field(e, "Event-Subclass") == "hotline::info" && field(e, "Hotline-Event") == what
}

/// A caller's leg: the inbound SIP channel on the bench profile.
fn is_caller(e: &Event) -> bool {
    field(e, "Channel-Name").starts_with(&format!("sofia/{PROFILE}/")) && field(e, "Call-Direction") == "inbound"
}

fn run_once(s: &Switch, variant: &str, plans: &[Plan]) -> IvrRun {
    assert!(wait_idle(s, 30), "channels left before the run: {}", s.api("show channels"));
    ivr::wait_ports_free(RTP.0, RTP.1);
    std::thread::sleep(Duration::from_millis(500));
    let pid = freeswitch_pid(s);
    let from = s.mark();
    let cpu0 = cpu_seconds(pid);
    let service = if variant == HOTLINE { "ivrhotline" } else { "ivrplain" };
    let sipp = Sipp { target: format!("127.0.0.1:{SIP_PORT}"), service, port: SIPP_PORT, media_port: SIPP_MEDIA_PORT };
    let inf = std::env::temp_dir().join("hotline-bench-ivr-fs.csv");
    let out = run_sipp(&sipp, plans, &inf);
    let idle = wait_idle(s, 30);
    let cpu1 = cpu_seconds(pid);
    if !idle {
        eprintln!("warning: channels still up 30 s after SIPp ended; hanging them up");
        s.api("hupall NORMAL_CLEARING");
        wait_idle(s, 10);
    }
    std::thread::sleep(Duration::from_millis(500));
    let _ = std::fs::write(std::env::temp_dir().join(format!("hotline-bench-ivr-fs-sipp-{variant}.txt")), &out.text);
    let events = s.esl.events_since(from, |e| matches!(name(e), "CHANNEL_CREATE" | "CHANNEL_BRIDGE" | "CHANNEL_HANGUP") || field(e, "Event-Subclass") == "hotline::info");
    let callers: HashSet<&str> = events.iter().filter(|e| name(e) == "CHANNEL_CREATE" && is_caller(e)).map(|e| field(e, "Unique-ID")).collect();
    let mut up: HashMap<&str, (f64, f64)> = HashMap::new();
    for e in &events {
        let uuid = field(e, "Unique-ID");
        match name(e) {
            "CHANNEL_CREATE" if callers.contains(uuid) => {
                up.insert(uuid, (stamp(e) as f64, f64::INFINITY));
            }
            "CHANNEL_HANGUP" => {
                if let Some(c) = up.get_mut(uuid) {
                    c.1 = stamp(e) as f64;
                }
            }
            _ => {}
        }
    }
    let peak = ivr::peak(&up.into_values().collect::<Vec<_>>());
    let mut served = HashSet::new();
    for e in events.iter().filter(|e| name(e) == "CHANNEL_BRIDGE") {
        for k in ["Unique-ID", "Other-Leg-Unique-ID", "Bridge-A-Unique-ID", "Bridge-B-Unique-ID"] {
            if let Some(c) = callers.get(field(e, k)) {
                served.insert(*c);
            }
        }
    }
    let data_ok = events.iter().filter(|e| hotline_event(e, "CallAnswered") && field(e, "Hotline-DataAccount") == ACCOUNT).count();
    let ivr_queue = (variant == HOTLINE).then(|| events.iter().filter(|e| hotline_event(e, "IvrLeft") && field(e, "Hotline-Result") == "QUEUE").count());
    IvrRun { created: callers.len(), peak, served: served.len(), data_ok, ivr_queue, sipp: out, cpu: cpu1 - cpu0, callers: plans.len() }
}

fn main() {
    let o = Opts::from_args();
    ivr::check_sipp();
    ivr::wait_ports_free(RTP.0, RTP.1);
    // Spoken once, before the switch reads its configuration.
    let _ = std::fs::remove_dir_all(prompts_dir());
    let made = ivr::render_prompts(&prompts_dir(), &PROMPTS);
    let lengths: Vec<String> = made.iter().map(|(n, p)| format!("{n} {:.1} s", ivr::wav_seconds(p))).collect();
    let verbose = o.verbose;
    let (callers, rate, agents, runs) = (o.callers, o.rate, o.agents, o.runs);
    assert!(OPTS.set(o).is_ok());
    assert!(switch::instance("fs-bench-ivr", ESL_PORT), "switch instance set twice");
    prepare_conf(prepare);
    let Some((s, _guard)) = switch() else { return };
    // Only what the bench reads: no per-prompt PLAYBACK_START, one hang-up
    // event per channel (each carries every channel variable).
    let (r, _) = s.esl.command("nixevent PLAYBACK_START CHANNEL_HANGUP_COMPLETE");
    assert!(r.get("Reply-Text").is_some_and(|t| t.starts_with("+OK")), "{r:?}");
    assert_eq!(s.api("module_exists mod_sofia").trim(), "true", "mod_sofia did not load");
    let status = s.api("sofia status");
    assert!(status.contains(PROFILE) && status.contains("RUNNING"), "sofia profile {PROFILE} is not running: {status}");
    println!(
        "FreeSWITCH IVR benchmark: {callers} SIP callers per run arriving at ~{rate}/s, {agents} agents, {runs} runs per variant interleaved{}; prompts {}.\n",
        if verbose { " (debug logging)" } else { "" },
        lengths.join(", ")
    );
    let o = opts();
    let all = interleaved(o, |variant, plans| {
        let r = run_once(s, variant, plans);
        if variant == HOTLINE {
            if let Some((keys, p50, p99, max)) = ivr::key_to_prompt(&s.api("hotline show ivr")) {
                eprintln!("  (hotline show ivr so far: {keys} keys, p50 < {p50} µs, p99 < {p99} µs, max < {max} µs)");
            }
        }
        r
    });
    print_summary(&all, &s.api("hotline show ivr"));
}
