// SPDX-License-Identifier: GPL-2.0-or-later
//! What the two IVR benchmarks (benches/asterisk_ivr.rs,
//! benches/freeswitch_ivr.rs) share: the callers' plan, SIPp, the port
//! check, one run's figures, the interleaving of the two variants and the
//! tables they print.
//!
//! The menu both PBXes run, once as Hotline configuration and once as plain
//! dialplan: level 1 (key 1) -> level 2 (key 2) -> level 3 (key 3) -> an
//! account number (6 digits, then #) -> Hotline's queue `ivrbench`. Any
//! other way out of the menu hangs up, so a caller only reaches an agent by
//! walking all of it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{arg, flag, pct};

/// The queue both variants end in (Hotline's, so only the menu differs).
pub const QUEUE: &str = "ivrbench";
/// The account number every caller enters (the SIPp scenario's digits).
pub const ACCOUNT: &str = "456789";
/// The two variants, in the order of the first round.
pub const HOTLINE: &str = "hotline";
pub const PLAIN: &str = "plain";
/// Where sip-tester keeps its RFC 2833 pcaps (the scenario names them).
const PCAPS: &str = "/usr/share/sip-tester";

/// The bench's options (both PBXes).
pub struct Opts {
    /// Callers per run, all walking the menu at once at the peak.
    pub callers: usize,
    /// Mean arrival rate (calls/s; exponential gaps).
    pub rate: f64,
    pub agents: usize,
    /// Runs per variant, interleaved.
    pub runs: u64,
    /// Keep the PBX's test logging (verbose 3 / debug) instead of notices only.
    pub verbose: bool,
}

impl Opts {
    pub fn from_args() -> Opts {
        let o = Opts { callers: arg("--callers", 200), rate: arg("--rate", 25.0), agents: arg("--agents", 50), runs: arg("--runs", 3), verbose: flag("--verbose") };
        assert!(o.callers > 0 && o.rate > 0.0 && o.agents > 0 && o.runs > 0, "--callers, --rate, --agents and --runs must be positive");
        o
    }
}

/// One caller's timing (ms): arrival from the start of the run, and the
/// pause before each key (levels 1-3, the six account digits, #).
pub struct Plan {
    pub arrive: u64,
    pub pauses: [u64; 10],
}

/// Callers arriving at random (exponential gaps, mean 1/`rate` s), each
/// pausing 0.8-3 s before a menu key (the prompts are 1-2 s: some keys
/// barge in, some come after the prompt) and 0.3-0.8 s before each further
/// digit (a key's tone lasts 140 ms). The same seed gives the same callers.
pub fn plans(callers: usize, rate: f64, seed: u64) -> Vec<Plan> {
    let mut rng = seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut t = 0.0;
    (0..callers)
        .map(|_| {
            t += -1000.0 / rate * (1.0 - next()).ln();
            let mut pauses = [0; 10];
            for (i, p) in pauses.iter_mut().enumerate() {
                let (lo, hi) = if i < 4 { (800.0, 3000.0) } else { (300.0, 800.0) };
                *p = (lo + (hi - lo) * next()) as u64;
            }
            Plan { arrive: t as u64, pauses }
        })
        .collect()
}

/// The SIPp injection file for `plans`: SIPp starts one call a
/// millisecond, so call k waits its arrival time less k ms.
pub fn write_injection(path: &Path, plans: &[Plan]) {
    let mut s = String::from("SEQUENTIAL\n");
    for (k, p) in plans.iter().enumerate() {
        let fields: Vec<String> = std::iter::once(p.arrive.saturating_sub(k as u64)).chain(p.pauses).map(|v| v.to_string()).collect();
        s.push_str(&fields.join(";"));
        s.push('\n');
    }
    std::fs::write(path, s).expect("write injection file");
}

/// sipp and the pcaps the scenario plays must be there.
pub fn check_sipp() {
    let out = Command::new("sipp").arg("-v").output().expect("sipp (Debian package sip-tester) must be installed");
    let v = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(v.contains("PCAP"), "this sipp cannot play pcaps: {v}");
    for d in ["1", "2", "3", "4", "5", "6", "7", "8", "9", "pound"] {
        let p = Path::new(PCAPS).join(format!("dtmf_2833_{d}.pcap"));
        assert!(p.exists(), "{} missing (dpkg -L sip-tester)", p.display());
    }
}

pub fn scenario() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/sipp/ivr_caller_uac.xml")
}

/// Where SIPp calls from and what it calls.
pub struct Sipp<'a> {
    /// The PBX's SIP address, `127.0.0.1:port`.
    pub target: String,
    /// The request URI's user: which variant.
    pub service: &'a str,
    /// SIPp's own SIP port and media port (RTP from the pcaps goes out
    /// from it; what the PBX sends there is dropped unread).
    pub port: u16,
    pub media_port: u16,
}

/// What SIPp said about a run.
pub struct SippOutcome {
    pub successful: u64,
    pub failed: u64,
    pub retransmissions: u64,
    pub secs: f64,
    pub text: String,
}

/// Run the callers in `plans` (blocks until SIPp is done).
pub fn run_sipp(s: &Sipp<'_>, plans: &[Plan], inf: &Path) -> SippOutcome {
    write_injection(inf, plans);
    let n = plans.len().to_string();
    let last = plans.iter().map(|p| p.arrive + p.pauses.iter().sum::<u64>()).max().unwrap_or(0);
    let limit = last / 1000 + 240;
    let t = Instant::now();
    let out = Command::new("sipp")
        .arg(&s.target)
        .arg("-sf")
        .arg(scenario())
        .arg("-inf")
        .arg(inf)
        .args(["-s", s.service, "-i", "127.0.0.1", "-mi", "127.0.0.1", "-t", "u1", "-nostdin"])
        .args(["-p", &s.port.to_string(), "-mp", &s.media_port.to_string()])
        .args(["-m", &n, "-l", &n, "-r", "1000"])
        .args(["-timeout", &format!("{limit}s")])
        .stdin(Stdio::null())
        .output()
        .expect("sipp (Debian package sip-tester) must be installed");
    let secs = t.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    // The final screen: "  Successful call   |   0   |   200" (periodic
    // and cumulative columns): the last number of the last such line.
    let count = |label: &str| -> u64 {
        text.lines()
            .rfind(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.split('|').map(str::trim).rfind(|c| !c.is_empty()).and_then(|c| c.split_whitespace().next()).and_then(|c| c.parse().ok()))
            .unwrap_or(0)
    };
    let failed = count("Failed call");
    let successful = count("Successful call");
    // The final scenario screen: per message "Messages Retrans Timeout
    // Unexpected-Msg"; the retransmissions summed.
    let screen = text.rfind("Retrans").map_or("", |at| &text[at..]);
    let retransmissions = screen
        .lines()
        .filter_map(|l| l.split_once("---------->").or_else(|| l.split_once("<----------")))
        .filter_map(|(_, counts)| counts.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum();
    if successful + failed < plans.len() as u64 {
        eprintln!("warning: sipp exit {:?}, {successful} successful, {failed} failed of {n}; its output:\n{}", out.status.code(), tail(&text, 40));
    }
    SippOutcome { successful, failed, retransmissions, secs, text }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// UDP ports in `lo..=hi` that some socket on this host holds (from
/// /proc/net/udp and udp6): the PBX's RTP range must be free.
pub fn udp_ports_in_use(lo: u16, hi: u16) -> Vec<u16> {
    let mut v = Vec::new();
    for f in ["/proc/net/udp", "/proc/net/udp6"] {
        for l in std::fs::read_to_string(f).unwrap_or_default().lines().skip(1) {
            let Some(local) = l.split_whitespace().nth(1) else { continue };
            let Some(port) = local.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok()) else { continue };
            if (lo..=hi).contains(&port) {
                v.push(port);
            }
        }
    }
    v.sort_unstable();
    v.dedup();
    v
}

/// Wait (at most 30 s) until the RTP range `lo..=hi` is free; panic naming
/// the ports otherwise.
pub fn wait_ports_free(lo: u16, hi: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let used = udp_ports_in_use(lo, hi);
        if used.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "UDP ports {used:?} in the bench's RTP range {lo}-{hi} are held by another process");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The module's own key -> next prompt figure from `hotline show ivr`:
/// (keys, p50 µs, p99 µs, max µs), upper bounds of power-of-two buckets.
pub fn key_to_prompt(report: &str) -> Option<(u64, u64, u64, u64)> {
    let l = report.lines().find(|l| l.contains("key -> next prompt (in the module)"))?;
    let num = |after: &str| -> Option<u64> { l.split(after).nth(1)?.split_whitespace().next()?.trim_end_matches(',').parse().ok() };
    Some((num("module): ")?, num("p50 < ")?, num("p99 < ")?, num("max < ")?))
}

/// One run of one variant.
pub struct IvrRun {
    /// Caller channels the PBX created (SIP INVITEs it took).
    pub created: usize,
    /// Most caller channels up at once.
    pub peak: usize,
    /// Callers bridged to an agent (core events).
    pub served: usize,
    /// Agents' answers (Hotline's CallAnswered) whose data carried the
    /// account entered.
    pub data_ok: usize,
    /// Callers the Hotline IVR let into the queue (IvrLeft QUEUE); None for plain.
    pub ivr_queue: Option<usize>,
    pub sipp: SippOutcome,
    /// PBX CPU seconds (user + system) over the run.
    pub cpu: f64,
    pub callers: usize,
}

impl IvrRun {
    pub fn lost(&self) -> usize {
        self.callers.saturating_sub(self.served)
    }

    pub fn cpu_ms_per_call(&self) -> f64 {
        self.cpu * 1000.0 / self.callers as f64
    }
}

/// Most intervals `(start, end)` open at once.
pub fn peak(intervals: &[(f64, f64)]) -> usize {
    let mut edges: Vec<(f64, i32)> = intervals.iter().flat_map(|&(a, b)| [(a, 1), (b, -1)]).collect();
    // At the same instant an end goes before a start.
    edges.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
    let (mut now, mut most) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        most = most.max(now);
    }
    most as usize
}

pub const RUN_HEADER: &str = "| variant | run | callers up at once | served/lost | account on the agent leg | IVR -> queue | SIPp ok/failed | retrans. | wall s | PBX CPU s | CPU ms/call |\n\
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

pub fn run_row(variant: &str, round: u64, r: &IvrRun) -> String {
    format!(
        "| {variant} | {round} | {} | {}/{} | {} | {} | {}/{} | {} | {:.1} | {:.2} | {:.2} |",
        r.peak,
        r.served,
        r.lost(),
        r.data_ok,
        r.ivr_queue.map_or("-".to_string(), |n| n.to_string()),
        r.sipp.successful,
        r.sipp.failed,
        r.sipp.retransmissions,
        r.sipp.secs,
        r.cpu,
        r.cpu_ms_per_call(),
    )
}

/// Run `runs` rounds, the two variants interleaved (round 1 Hotline first,
/// round 2 plain first, ...), the same callers for both within a round;
/// prints each run as it ends. `run(variant, plans)`.
pub fn interleaved(o: &Opts, mut run: impl FnMut(&str, &[Plan]) -> IvrRun) -> Vec<(String, u64, IvrRun)> {
    println!("{RUN_HEADER}");
    let mut all = Vec::new();
    for round in 0..o.runs {
        let plans = plans(o.callers, o.rate, 0x9E37_79B9 + round * 7919);
        let order = if round % 2 == 0 { [HOTLINE, PLAIN] } else { [PLAIN, HOTLINE] };
        for v in order {
            let r = run(v, &plans);
            println!("{}", run_row(v, round + 1, &r));
            all.push((v.to_string(), round + 1, r));
        }
    }
    all
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Mean, min-max and the spread ((max-min)/mean) of each variant's CPU per
/// call, the ratio Hotline/plain of the means and per round, the callers
/// lost, and the module's key -> next prompt figure.
pub fn print_summary(all: &[(String, u64, IvrRun)], key_to_prompt_report: &str) {
    let cpu = |v: &str| -> Vec<f64> { all.iter().filter(|(n, _, _)| n == v).map(|(_, _, r)| r.cpu_ms_per_call()).collect() };
    println!("\nPBX CPU per call (ms), {} runs each:\n", cpu(HOTLINE).len());
    println!("| variant | mean | min-max | spread | lost (all runs) | SIPp failed (all runs) |");
    println!("|---|---:|---:|---:|---:|---:|");
    for v in [HOTLINE, PLAIN] {
        let mut c = cpu(v);
        c.sort_by(f64::total_cmp);
        let lost: usize = all.iter().filter(|(n, _, _)| n == v).map(|(_, _, r)| r.lost()).sum();
        let failed: u64 = all.iter().filter(|(n, _, _)| n == v).map(|(_, _, r)| r.sipp.failed).sum();
        let m = mean(&c);
        println!("| {v} | {m:.2} | {:.2}-{:.2} | {:.0} % | {lost} | {failed} |", c[0], c[c.len() - 1], (c[c.len() - 1] - c[0]) / m * 100.0);
    }
    let (h, p) = (cpu(HOTLINE), cpu(PLAIN));
    // Runs are listed in round order.
    let per_round: Vec<f64> = h.iter().zip(&p).map(|(a, b)| a / b).collect();
    let mut sorted = per_round.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "\nRatio Hotline / plain, CPU per call: {:.2} (means); rounds 1.. {} (min-max {:.2}-{:.2}); target <= 1.",
        mean(&h) / mean(&p),
        per_round.iter().map(|r| format!("{r:.2}")).collect::<Vec<_>>().join(", "),
        pct(&sorted, 0.0),
        pct(&sorted, 1.0),
    );
    match key_to_prompt(key_to_prompt_report) {
        Some((keys, p50, p99, max)) => println!(
            "Hotline key -> next prompt (in the module, `hotline show ivr`, all Hotline runs): {keys} keys, p50 < {p50} µs, p99 < {p99} µs, max < {max} µs; target p99 <= 1 ms: {}.",
            if p99 <= 1000 { "met" } else { "NOT met" }
        ),
        None => println!("Hotline key -> next prompt: not in `hotline show ivr`:\n{key_to_prompt_report}"),
    }
    let lost: usize = all.iter().map(|(_, _, r)| r.lost()).sum();
    if lost > 0 {
        println!("WARNING: {lost} callers were not served: the figures of those runs measure a broken run.");
    }
}

/// Short prompts for a PBX without sound files (FreeSWITCH): espeak-ng
/// speaks each text, sox makes it 8 kHz mono 16-bit WAV, in `dir`.
/// Returns the files by name.
pub fn render_prompts(dir: &Path, texts: &[(&str, &str)]) -> Vec<(String, PathBuf)> {
    std::fs::create_dir_all(dir).expect("mkdir prompts");
    texts
        .iter()
        .map(|(name, text)| {
            let raw = dir.join(format!("{name}.raw.wav"));
            let wav = dir.join(format!("{name}.wav"));
            let st = Command::new("espeak-ng").args(["-v", "en", "-s", "190", "-w"]).arg(&raw).arg(text).status().expect("espeak-ng must be installed");
            assert!(st.success(), "espeak-ng failed on {text:?}");
            let st = Command::new("sox").arg(&raw).args(["-r", "8000", "-c", "1", "-b", "16"]).arg(&wav).status().expect("sox must be installed");
            assert!(st.success(), "sox failed on {}", raw.display());
            let _ = std::fs::remove_file(&raw);
            (name.to_string(), wav)
        })
        .collect()
}

/// Length of a PCM WAV file in seconds (from its header).
pub fn wav_seconds(p: &Path) -> f64 {
    let b = std::fs::read(p).expect("read wav");
    let bytes_per_s = u32::from_le_bytes(b[28..32].try_into().expect("byte rate")) as f64;
    let at = b.windows(4).position(|w| w == b"data").expect("data chunk");
    let len = u32::from_le_bytes(b[at + 4..at + 8].try_into().expect("len")) as f64;
    len / bytes_per_s
}
