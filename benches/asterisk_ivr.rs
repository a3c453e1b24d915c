// SPDX-License-Identifier: GPL-2.0-or-later
//! The IVR issue's PBX benchmark in the bundled Asterisk 22: SIP callers
//! (SIPp, RFC 2833 keys) walk a three-level menu and enter an account
//! number, then wait in a queue for an agent; the same menu once through
//! `HotlineIVR` (Hotline's `[[menu]]` / `[[collect]]`) and once as plain
//! dialplan (`Background` / `WaitExten` / `Read`), both ending in the same
//! `HotlineQueue`, so that only the menu differs. Runs interleaved.
//!
//! ```text
//! cargo build --release --features asterisk      # the module under test
//! cargo bench --features asterisk --bench asterisk_ivr [-- --callers 200 --rate 25 --agents 50 --runs 3 --verbose]
//! ```
//!
//! Needs Docker (docker/pbx) and sipp with pcap play (Debian sip-tester,
//! run as root: the pcaps go out through a raw socket). The bench PBX is
//! its own container (`hotline-bench-ivr-asterisk`, AMI 25238, SIP 25260,
//! RTP 12000-13999), never the test PBX's; SIPp calls from 25270 (media
//! 25280).
//!
//! The menu (benches/drain/ivr.rs has the callers' plan): level 1
//! `hello-world` (key 1), level 2 `queue-thankyou` (key 2), level 3
//! `to-call-this-number` (key 3), account `astcc-followed-by-the-pound-key`
//! (6 digits then #, checked: six digits); a wrong key or silence plays
//! `please-try-again` and the level again, three of either hang up (a
//! caller can only reach an agent by walking all of it). Then
//! `HotlineQueue(ivrbench)` with the account as the call's data (the IVR's
//! `into`; plain: `data=account:...`), served by `--agents` Local agents
//! that answer and talk uniform over 1 s +- 50 %.
//!
//! Per run: Asterisk's CPU seconds (/proc/PID/stat) from just before the
//! first caller to the last call's end, per caller; callers served (their
//! channel entered a bridge: AMI BridgeEnter, a core event) and lost; the
//! answered calls whose agent leg carried the account (HotlineCallAnswered
//! DataAccount); for Hotline the callers its IVR let into the queue
//! (HotlineIvrLeft QUEUE); SIPp's successful and failed calls and
//! retransmissions. At the end `hotline show ivr`: the module's own time
//! from a key to the next prompt (all Hotline runs). By default Asterisk
//! logs notices and up only (verbose 0; `--verbose` keeps the test PBX's
//! verbose 3), so that log formatting does not weigh on either variant.
//! AMI is asked for call and agent events only (no per-step Newexten /
//! VarSet, which would cost the plain dialplan more).

#[allow(dead_code)]
#[path = "../tests/asterisk/ami.rs"]
mod ami;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod drain;

use ami::{field, is, Ami};
use drain::ivr::{self, interleaved, print_summary, run_sipp, IvrRun, Opts, Plan, Sipp, ACCOUNT, HOTLINE, QUEUE};
use drain::{asterisk_pid, cpu_seconds, docker_pbx};

const NAME: &str = "hotline-bench-ivr-asterisk";
const AMI_PORT: u16 = 25238;
const SIP_PORT: u16 = 25260;
const SIPP_PORT: u16 = 25270;
const SIPP_MEDIA_PORT: u16 = 25280;
const RTP: (u16, u16) = (12000, 13999);
/// Agents b5000.. (Local/<id>@bench-ivr-agents).
const FIRST_AGENT: usize = 5000;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn pbx(args: &[&str]) -> String {
    docker_pbx(NAME, args)
}

/// Prompts (Asterisk's own sounds, 1.4-1.6 s) and the keys of each level.
const LEVELS: [(&str, &str, &str); 3] = [("bench_l1", "hello-world", "1"), ("bench_l2", "queue-thankyou", "2"), ("bench_l3", "to-call-this-number", "3")];
const ACCOUNT_PROMPT: &str = "astcc-followed-by-the-pound-key";
const RETRY: &str = "please-try-again";
/// Seconds to wait for a key (menus) or a digit (the account).
const TIMEOUT: u32 = 5;
/// Wrong keys, silences (menus) and bad numbers (the account) before hanging up.
const TRIES: u32 = 3;

/// Hotline's configuration: the queue and its agents, and the menu.
fn hotline_toml(agents: usize) -> String {
    let mut t = String::from(
        "# Hotline IVR benchmark (benches/asterisk_ivr.rs)\n[general]\nservice_level_seconds = 20\n\n[store]\npath = \"/var/lib/hotline/hotline.db\"\n\n",
    );
    t.push_str(&format!("[[queue]]\nname = \"{QUEUE}\"\nstrategy = \"longest-idle\"\nring_timeout_seconds = 15\nwrapup_seconds = 0\n\n"));
    for i in 0..agents {
        let id = FIRST_AGENT + i;
        t.push_str(&format!("[[agent]]\nname = \"b{id}\"\ncontact = \"Local/{id}@bench-ivr-agents\"\nqueues = [\"{QUEUE}\"]\n\n"));
    }
    for (k, (name, prompt, key)) in LEVELS.iter().enumerate() {
        let next = match LEVELS.get(k + 1) {
            Some((n, _, _)) => format!("action = \"menu\"\n  target = \"{n}\""),
            None => "action = \"collect\"\n  target = \"bench_account\"".to_string(),
        };
        t.push_str(&format!(
            "[[menu]]\nname = \"{name}\"\ngreet_long = [\"{prompt}\"]\ninvalid_sound = [\"{RETRY}\"]\ntimeout_sound = [\"{RETRY}\"]\n\
             timeout_seconds = {TIMEOUT}\nmax_failures = {TRIES}\nmax_timeouts = {TRIES}\n\
             on_max_failures = {{ action = \"hangup\" }}\non_max_timeouts = {{ action = \"hangup\" }}\n\
             \x20 [[menu.entry]]\n  digits = \"{key}\"\n  {next}\n\n"
        ));
    }
    t.push_str(&format!(
        "[[collect]]\nname = \"bench_account\"\nprompts = [\"{ACCOUNT_PROMPT}\"]\ninto = \"account\"\nmin_digits = 6\nmax_digits = 8\n\
         terminators = \"#\"\ntimeout_seconds = {TIMEOUT}\ninter_digit_timeout_seconds = {TIMEOUT}\nvalidate = \"pattern:^[0-9]{{6}}$\"\n\
         invalid_sound = [\"{RETRY}\"]\ntimeout_sound = [\"{RETRY}\"]\nmax_attempts = {TRIES}\n\
         next = {{ action = \"queue\", target = \"{QUEUE}\" }}\non_failure = {{ action = \"hangup\" }}\n"
    ));
    t
}

/// The same menu in plain dialplan, the callers' entry points (in the SIP
/// endpoint's context, hotline-callers: exact extensions win over its
/// pattern) and the agents.
fn dialplan() -> String {
    let mut x = String::from(
        "\n; ---- IVR benchmark (benches/asterisk_ivr.rs) ----\n[hotline-callers]\n\
         exten => ivrhotline,1,HotlineIVR(bench_l1)\n same => n,Hangup()\n\
         exten => ivrplain,1,Answer()\n same => n,Goto(bench-plain-l1,s,1)\n\n",
    );
    for (k, (_, prompt, key)) in LEVELS.iter().enumerate() {
        let next = if k + 1 < LEVELS.len() { format!("bench-plain-l{}", k + 2) } else { "bench-plain-account".to_string() };
        x.push_str(&format!(
            "[bench-plain-l{n}]\n\
             exten => s,1,Set(FAILS=0)\n same => n,Set(TIMEOUTS=0)\n same => n(greet),Background({prompt})\n same => n,WaitExten({TIMEOUT})\n\
             exten => {key},1,Goto({next},s,1)\n\
             exten => i,1,Set(FAILS=$[${{FAILS}} + 1])\n same => n,GotoIf($[${{FAILS}} >= {TRIES}]?bench-plain-bye,s,1)\n same => n,Playback({RETRY})\n same => n,Goto(s,greet)\n\
             exten => t,1,Set(TIMEOUTS=$[${{TIMEOUTS}} + 1])\n same => n,GotoIf($[${{TIMEOUTS}} >= {TRIES}]?bench-plain-bye,s,1)\n same => n,Playback({RETRY})\n same => n,Goto(s,greet)\n\n",
            n = k + 1,
        ));
    }
    x.push_str(&format!(
        "[bench-plain-account]\n\
         exten => s,1,Set(TRIES=0)\n\
         same => n(ask),Read(ACCOUNT,{ACCOUNT_PROMPT},8,,1,{TIMEOUT})\n\
         same => n,GotoIf($[${{LEN(${{ACCOUNT}})}} = 6 & \"${{FILTER(0-9,${{ACCOUNT}})}}\" = \"${{ACCOUNT}}\"]?ok)\n\
         same => n,Set(TRIES=$[${{TRIES}} + 1])\n\
         same => n,GotoIf($[${{TRIES}} >= {TRIES}]?bench-plain-bye,s,1)\n\
         same => n,Playback({RETRY})\n\
         same => n,Goto(ask)\n\
         same => n(ok),HotlineQueue({QUEUE},data=account:${{ACCOUNT}})\n\
         same => n,Hangup()\n\n\
         [bench-plain-bye]\nexten => s,1,Hangup()\n\n\
         [bench-ivr-agents]\n\
         exten => _X.,1,Answer()\n same => n,Wait(${{MATH((500+${{RAND(0,1000)}})/1000,f)}})\n same => n,Hangup()\n"
    ));
    x
}

/// The configuration directory: the test PBX's files on the bench's ports,
/// app_read loaded, the RTP range of its own, and the bench's Hotline
/// configuration and dialplan.
fn etc_dir(o: &Opts) -> PathBuf {
    let dir = std::env::temp_dir().join("hotline-bench-ivr-etc");
    let rtp_start = format!("rtpstart = {}", RTP.0);
    let rtp_end = format!("rtpend = {}", RTP.1);
    let mut replace: Vec<(&str, &str, &str)> = vec![
        ("manager.conf", "port = 25038", "port = 25238"),
        ("pjsip.conf", "127.0.0.1:25060", "127.0.0.1:25260"),
        ("rtp.conf", "rtpstart = 61000", &rtp_start),
        ("rtp.conf", "rtpend = 65000", &rtp_end),
        ("modules.conf", "load => app_playback.so\n", "load => app_playback.so\nload => app_read.so\n"),
    ];
    if !o.verbose {
        replace.push(("asterisk.conf", "verbose = 3", "verbose = 0"));
    }
    drain::asterisk_etc(&dir, &replace);
    std::fs::write(dir.join("hotline.toml"), hotline_toml(o.agents)).expect("write hotline.toml");
    let mut x = std::fs::read_to_string(dir.join("extensions.conf")).expect("extensions.conf");
    x.push_str(&dialplan());
    std::fs::write(dir.join("extensions.conf"), x).expect("write extensions.conf");
    dir
}

fn start(etc: &Path, module: &Path) {
    pbx(&["start", "--etc", etc.to_str().expect("utf8"), "--module", module.to_str().expect("utf8"), "--name", NAME]);
    for (what, cmd) in [("RAND", "core show function RAND"), ("Read", "core show application Read"), ("HotlineIVR", "core show application HotlineIVR")] {
        let out = pbx(&["cli", cmd]);
        assert!(out.contains(what) && !out.contains("No function") && !out.contains("not registered") && !out.contains("No such"), "{what} missing: {out}");
    }
}

/// No channel left (at most `secs`).
fn wait_idle(secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let out = pbx(&["cli", "core show channels count"]);
        if out.lines().any(|l| l.trim() == "0 active channels") {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A caller's channel (PJSIP/sipp-...).
fn caller_chan(m: &ami::Message) -> bool {
    field(m, "Channel").starts_with("PJSIP/sipp-")
}

fn run_once(ami: &Ami, variant: &str, plans: &[Plan]) -> IvrRun {
    assert!(wait_idle(30), "channels left before the run: {}", pbx(&["cli", "core show channels"]));
    ivr::wait_ports_free(RTP.0, RTP.1);
    std::thread::sleep(Duration::from_millis(500));
    let pid = asterisk_pid(NAME);
    let from = ami.mark();
    let cpu0 = cpu_seconds(pid);
    let service = if variant == HOTLINE { "ivrhotline" } else { "ivrplain" };
    let sipp = Sipp { target: format!("127.0.0.1:{SIP_PORT}"), service, port: SIPP_PORT, media_port: SIPP_MEDIA_PORT };
    let inf = std::env::temp_dir().join("hotline-bench-ivr-asterisk.csv");
    let out = run_sipp(&sipp, plans, &inf);
    // SIPp ends when its last call has; Asterisk may still be tearing down.
    let idle = wait_idle(30);
    let cpu1 = cpu_seconds(pid);
    if !idle {
        eprintln!("warning: channels still up 30 s after SIPp ended; hanging them up");
        pbx(&["cli", "channel request hangup all"]);
        wait_idle(10);
    }
    std::thread::sleep(Duration::from_millis(500));
    let events = ami.events_since(from, |m| {
        (caller_chan(m) && (is(m, "Newchannel") || is(m, "BridgeEnter") || is(m, "Hangup"))) || is(m, "HotlineCallAnswered") || is(m, "HotlineIvrLeft")
    });
    let created = events.iter().filter(|m| is(m, "Newchannel")).count();
    let ts = |m: &ami::Message| field(m, "Timestamp").parse::<f64>().unwrap_or(0.0);
    let mut up: HashMap<&str, (f64, f64)> = HashMap::new();
    for m in &events {
        match field(m, "Event") {
            "Newchannel" => {
                up.insert(field(m, "Uniqueid"), (ts(m), f64::INFINITY));
            }
            "Hangup" => {
                if let Some(c) = up.get_mut(field(m, "Uniqueid")) {
                    c.1 = ts(m);
                }
            }
            _ => {}
        }
    }
    let peak = ivr::peak(&up.into_values().collect::<Vec<_>>());
    let served: HashSet<&str> = events.iter().filter(|m| is(m, "BridgeEnter")).map(|m| field(m, "Uniqueid")).collect();
    let data_ok = events.iter().filter(|m| is(m, "HotlineCallAnswered") && field(m, "DataAccount") == ACCOUNT).count();
    let ivr_queue = (variant == HOTLINE).then(|| events.iter().filter(|m| is(m, "HotlineIvrLeft") && field(m, "Result") == "QUEUE").count());
    let _ = std::fs::write(std::env::temp_dir().join(format!("hotline-bench-ivr-asterisk-sipp-{variant}.txt")), &out.text);
    IvrRun { created, peak, served: served.len(), data_ok, ivr_queue, sipp: out, cpu: cpu1 - cpu0, callers: plans.len() }
}

fn main() {
    let o = Opts::from_args();
    let module = repo().join("target/release/libhotline.so");
    let bytes = std::fs::read(&module).unwrap_or_else(|e| panic!("{}: {e}: build the module first: cargo build --release --features asterisk", module.display()));
    assert!(bytes.windows(11).any(|w| w == b"HotlineIVR\0"), "{} is not the Asterisk module: cargo build --release --features asterisk", module.display());
    ivr::check_sipp();
    ivr::wait_ports_free(RTP.0, RTP.1);
    let etc = etc_dir(&o);
    start(&etc, &module);
    let ami = Ami::connect(AMI_PORT, "hotline", "hotline").expect("AMI");
    // Call and agent events only: no Newexten / VarSet per dialplan step.
    let r = ami.action("Events", &[("EventMask", "call,agent")]);
    assert_eq!(field(&r, "Response"), "Success", "Events: {r:?}");
    println!(
        "Asterisk IVR benchmark: {} SIP callers per run arriving at ~{}/s, {} agents, {} runs per variant interleaved{}.\n",
        o.callers,
        o.rate,
        o.agents,
        o.runs,
        if o.verbose { " (verbose 3)" } else { "" }
    );
    let all = interleaved(&o, |variant, plans| {
        let r = run_once(&ami, variant, plans);
        if variant == HOTLINE {
            if let Some((keys, p50, p99, max)) = ivr::key_to_prompt(&pbx(&["cli", "hotline show ivr"])) {
                eprintln!("  (hotline show ivr so far: {keys} keys, p50 < {p50} µs, p99 < {p99} µs, max < {max} µs)");
            }
        }
        r
    });
    let report = pbx(&["cli", "hotline show ivr"]);
    print_summary(&all, &report);
    drop(ami);
    pbx(&["stop"]);
    let _ = std::fs::remove_dir_all(&etc);
}
