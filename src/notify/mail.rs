// SPDX-License-Identifier: GPL-2.0-or-later
//! E-mail notice of voicemail messages over SMTP (`[mail]`).
//!
//! [`send`] delivers one [`Mail`] (plain-text UTF-8 body, the recording as
//! an `audio/wav` attachment) and names the step that failed; [`fill`]
//! makes subjects and bodies from templates, stripping control characters
//! from the values so a hostile caller ID cannot add a header; [`Mailer`]
//! owns the `hotline-mail` thread, which sends queued mails one at a time,
//! retrying transient failures with a doubling back-off that [`Mailer::stop`]
//! interrupts.
//!
//! SMTP is `lettre` (blocking), TLS by rustls with the ring provider (no
//! aws-lc-rs, no OpenSSL) and the webpki roots compiled in.

use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{bounded, select, Receiver, RecvTimeoutError, Sender, TrySendError};
use lettre::address::{Address, Envelope};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, Message, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail as MailCmd, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

/// Most mails waiting in a [`Mailer`]'s queue; more are dropped.
pub const QUEUE_CAPACITY: usize = 1024;

/// How to talk to the mail server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailTls {
    /// Plain SMTP (a relay on this host).
    None,
    /// Plain connect, then `STARTTLS` (required, not opportunistic).
    StartTls,
    /// TLS from the first byte ("SMTPS", usually port 465).
    Tls,
}

/// `[mail]`: the SMTP server and how notices are sent. `Debug` leaves the
/// password out (configurations get logged).
#[derive(Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// Host name or address of the SMTP server.
    pub server: String,
    pub port: u16,
    pub tls: MailTls,
    /// The sender, a mailbox such as `Hotline <voicemail@example.com>`.
    pub from: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The longest wait for each network step (connect, each reply).
    pub timeout: Duration,
    /// Further attempts after a transient failure.
    pub retries: u32,
    /// The wait before the first retry; each later one doubles it.
    pub retry_first: Duration,
    /// Subject template (see [`fill`]).
    pub subject: String,
    /// Attach the recording.
    pub attach: bool,
}

impl MailConfig {
    /// The default subject template.
    pub const DEFAULT_SUBJECT: &'static str = "Voice message from {caller} ({mailbox})";
}

impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailConfig")
            .field("server", &self.server)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("from", &self.from)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("retry_first", &self.retry_first)
            .field("subject", &self.subject)
            .field("attach", &self.attach)
            .finish()
    }
}

/// One notification.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
    /// The recording (a WAV file); sent as `audio/wav` under its file name.
    pub attachment: Option<std::path::PathBuf>,
}

/// Check that `text` is a mailbox (`user@host` or `Name <user@host>`).
pub fn check_mailbox(text: &str) -> Result<(), String> {
    parse_mailbox(text).map(|_| ())
}

fn parse_mailbox(text: &str) -> Result<Mailbox, String> {
    text.trim().parse::<Mailbox>().map_err(|e| format!("{text:?} is not a mail address: {e}"))
}

/// Fill `{caller}`, `{mailbox}`, `{queue}`, `{seconds}` (any name in
/// `fields`) in `template`. Values lose CR, LF and every other control
/// character (and Unicode line/paragraph separators) first, so whatever a
/// caller sends stays inside its header line. Unknown placeholders stay as
/// written; values are not themselves filled.
pub fn fill(template: &str, fields: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            fields.iter().find(|(k, _)| *k == name).map(|(_, v)| (close, *v))
        });
        match value {
            Some((close, v)) => {
                out.extend(v.chars().filter(|c| !unsafe_char(*c)));
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Characters no header value may carry.
fn unsafe_char(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// Why one attempt failed, and whether trying again may help.
#[derive(Debug)]
struct Failure {
    message: String,
    /// A 5xx answer or a mail that cannot be built: retrying cannot help.
    permanent: bool,
}

impl Failure {
    fn permanent(message: String) -> Failure {
        Failure { message, permanent: true }
    }

    fn smtp(what: String, e: lettre::transport::smtp::Error) -> Failure {
        Failure { message: format!("{what}: {e}"), permanent: e.is_permanent() }
    }
}

/// Send `mail` once, blocking; each network step waits at most
/// `cfg.timeout`. `Err` names what failed: the address that does not
/// parse, the connection to the server, TLS, the login, the recipient the
/// server refused, the message.
pub fn send(cfg: &MailConfig, mail: &Mail) -> Result<(), String> {
    attempt(cfg, mail).map_err(|f| f.message)
}

fn attempt(cfg: &MailConfig, mail: &Mail) -> Result<(), Failure> {
    let (envelope, bytes) = build(cfg, mail).map_err(Failure::permanent)?;
    let server = format!("{}:{}", cfg.server, cfg.port);
    let tls = match cfg.tls {
        MailTls::None => None,
        MailTls::StartTls | MailTls::Tls => Some(
            TlsParameters::new_rustls(cfg.server.clone()).map_err(|e| Failure::permanent(format!("TLS setup for {server}: {e}")))?,
        ),
    };
    let hello = ClientId::default();
    let wrapper = if cfg.tls == MailTls::Tls { tls.as_ref() } else { None };
    let mut conn = SmtpConnection::connect((cfg.server.as_str(), cfg.port), Some(cfg.timeout), &hello, wrapper, None)
        .map_err(|e| Failure { message: format!("connect to mail server {server}: {e}"), permanent: false })?;
    let result = transact(cfg, &mut conn, &server, tls.as_ref(), &hello, &envelope, &bytes);
    match &result {
        Ok(()) => {
            let _ = conn.quit();
        }
        Err(_) => conn.abort(),
    }
    result
}

/// Everything after the greeting: STARTTLS, login, envelope, message.
fn transact(
    cfg: &MailConfig,
    conn: &mut SmtpConnection,
    server: &str,
    tls: Option<&TlsParameters>,
    hello: &ClientId,
    envelope: &Envelope,
    bytes: &[u8],
) -> Result<(), Failure> {
    if let (MailTls::StartTls, Some(params)) = (cfg.tls, tls) {
        conn.starttls(params, hello).map_err(|e| Failure::smtp(format!("STARTTLS with {server}"), e))?;
    }
    if let (Some(user), Some(password)) = (&cfg.username, &cfg.password) {
        let credentials = Credentials::new(user.clone(), password.clone());
        conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
            .map_err(|e| Failure::smtp(format!("login as {user:?} at {server}"), e))?;
    }
    let mut params = Vec::new();
    if !bytes.is_ascii() {
        if !conn.server_info().supports_feature(Extension::EightBitMime) {
            return Err(Failure::permanent(format!("{server} does not take 8-bit messages (no 8BITMIME)")));
        }
        params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    conn.command(MailCmd::new(envelope.from().cloned(), params))
        .map_err(|e| Failure::smtp(format!("sender {} refused by {server}", cfg.from), e))?;
    for to in envelope.to() {
        conn.command(Rcpt::new(to.clone(), Vec::new())).map_err(|e| Failure::smtp(format!("recipient {to} refused by {server}"), e))?;
    }
    conn.command(Data).map_err(|e| Failure::smtp(format!("DATA refused by {server}"), e))?;
    conn.message(bytes).map_err(|e| Failure::smtp(format!("message refused by {server}"), e))?;
    Ok(())
}

/// The envelope and the formatted message.
fn build(cfg: &MailConfig, mail: &Mail) -> Result<(Envelope, Vec<u8>), String> {
    let from = parse_mailbox(&cfg.from).map_err(|e| format!("sender: {e}"))?;
    if mail.to.is_empty() {
        return Err("no recipients".into());
    }
    let to = mail.to.iter().map(|t| parse_mailbox(t).map_err(|e| format!("recipient: {e}"))).collect::<Result<Vec<_>, _>>()?;
    let envelope = Envelope::new(Some(from.email.clone()), to.iter().map(|m| m.email.clone()).collect::<Vec<Address>>())
        .map_err(|e| format!("envelope: {e}"))?;
    let subject: String = mail.subject.chars().filter(|c| !unsafe_char(*c)).collect();
    let mut builder = Message::builder().from(from.clone()).subject(subject).message_id(Some(message_id(&from)));
    for m in to {
        builder = builder.to(m);
    }
    let mut body = mail.body.clone();
    let attachment = match (&mail.attachment, cfg.attach) {
        (Some(path), true) => match std::fs::read(path) {
            Ok(data) => Some((file_name(path), data)),
            Err(e) => {
                log::warn!("mail to {}: recording {} not attached: {e}", mail.to.join(", "), path.display());
                if !body.is_empty() && !body.ends_with('\n') {
                    body.push('\n');
                }
                body.push_str(&format!("\n(The recording {} could not be attached: {e}.)\n", file_name(path)));
                None
            }
        },
        _ => None,
    };
    let text = SinglePart::plain(body);
    let message = match attachment {
        Some((name, data)) => {
            let wav = ContentType::parse("audio/wav").map_err(|e| format!("content type: {e}"))?;
            builder.multipart(MultiPart::mixed().singlepart(text).singlepart(Attachment::new(name).body(data, wav)))
        }
        None => builder.singlepart(text),
    }
    .map_err(|e| format!("message: {e}"))?;
    Ok((envelope, message.formatted()))
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "message.wav".into())
}

/// `<time.count@domain-of-sender>`: unique within this process and host.
fn message_id(from: &Mailbox) -> String {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    format!("<hotline.{nanos}.{}.{n}@{}>", std::process::id(), from.email.domain())
}

/// What a [`Mailer`] has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MailCounters {
    /// Delivered.
    pub sent: u64,
    /// Given up: retries spent, a permanent refusal, or stopped first.
    pub failed: u64,
    /// Attempts that failed and were tried again.
    pub retried: u64,
    /// Refused by [`Mailer::queue`] (queue full or mailer stopped).
    pub dropped: u64,
    /// Accepted by [`Mailer::queue`] (in all; `queued - sent - failed` are
    /// waiting or being sent).
    pub queued: u64,
}

#[derive(Default)]
struct Counts {
    sent: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
    dropped: AtomicU64,
    queued: AtomicU64,
}

/// The `hotline-mail` thread and its bounded queue. [`Mailer::queue`]
/// never blocks; the thread sends one mail at a time, waits between
/// retries on the stop channel, and ends at [`Mailer::stop`].
pub struct Mailer {
    jobs: Sender<Mail>,
    stop_tx: Mutex<Option<Sender<()>>>,
    /// Closed by the thread as it ends (its sender dropped).
    done: Receiver<()>,
    thread: Mutex<Option<JoinHandle<()>>>,
    stopped: AtomicBool,
    counts: Arc<Counts>,
}

impl Mailer {
    /// Start the thread.
    pub fn start(cfg: MailConfig) -> std::io::Result<Mailer> {
        let (jobs, rx) = bounded::<Mail>(QUEUE_CAPACITY);
        let (stop_tx, stop_rx) = bounded::<()>(1);
        let (done_tx, done) = bounded::<()>(0);
        let counts = Arc::new(Counts::default());
        let worker = Worker { cfg, jobs: rx, stop: stop_rx, counts: counts.clone() };
        let thread = std::thread::Builder::new().name("hotline-mail".into()).spawn(move || {
            let _done = done_tx;
            worker.run();
        })?;
        Ok(Mailer { jobs, stop_tx: Mutex::new(Some(stop_tx)), done, thread: Mutex::new(Some(thread)), stopped: AtomicBool::new(false), counts })
    }

    /// Queue a mail; `false` when the queue is full or the mailer stopped
    /// (counted as dropped).
    pub fn queue(&self, mail: Mail) -> bool {
        if self.stopped.load(Ordering::Acquire) {
            self.counts.dropped.fetch_add(1, Ordering::Relaxed);
            log::warn!("mail to {} dropped: the mailer is stopped", mail.to.join(", "));
            return false;
        }
        match self.jobs.try_send(mail) {
            Ok(()) => {
                self.counts.queued.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Full(m) | TrySendError::Disconnected(m)) => {
                self.counts.dropped.fetch_add(1, Ordering::Relaxed);
                log::warn!("mail to {} dropped: {QUEUE_CAPACITY} mails already waiting", m.to.join(", "));
                false
            }
        }
    }

    pub fn counters(&self) -> MailCounters {
        let c = &self.counts;
        MailCounters {
            sent: c.sent.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            retried: c.retried.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            queued: c.queued.load(Ordering::Relaxed),
        }
    }

    /// Stop: a back-off ends at once, mails still queued are counted failed
    /// (and logged), and the thread is joined if it ends within `deadline`.
    /// A send under way cannot be cut short; if it outlasts `deadline` the
    /// thread is left to finish it (logged). Later calls do nothing.
    pub fn stop(&self, deadline: Duration) {
        self.stopped.store(true, Ordering::Release);
        drop(self.stop_tx.lock().unwrap_or_else(|e| e.into_inner()).take());
        let Some(thread) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() else { return };
        match self.done.recv_timeout(deadline) {
            Err(RecvTimeoutError::Disconnected) | Ok(()) => {
                let _ = thread.join();
            }
            Err(RecvTimeoutError::Timeout) => {
                log::error!("mail thread still sending after {deadline:?}; left to finish on its own");
            }
        }
    }
}

impl Drop for Mailer {
    fn drop(&mut self) {
        // Wake the thread; it ends without waiting for anyone.
        self.stopped.store(true, Ordering::Release);
        drop(self.stop_tx.get_mut().unwrap_or_else(|e| e.into_inner()).take());
    }
}

/// The thread's side.
struct Worker {
    cfg: MailConfig,
    jobs: Receiver<Mail>,
    /// Disconnected when the mailer stops.
    stop: Receiver<()>,
    counts: Arc<Counts>,
}

impl Worker {
    fn run(self) {
        loop {
            let mail = select! {
                recv(self.stop) -> _ => break,
                recv(self.jobs) -> m => match m {
                    Ok(m) => m,
                    Err(_) => break,
                },
            };
            if !self.deliver(&mail) {
                break;
            }
        }
        while let Ok(mail) = self.jobs.try_recv() {
            self.counts.failed.fetch_add(1, Ordering::Relaxed);
            log::error!("mail to {} not sent: the mailer stopped first", mail.to.join(", "));
        }
    }

    /// Send with retries. `false`: stopped during a back-off.
    fn deliver(&self, mail: &Mail) -> bool {
        let to = mail.to.join(", ");
        let attempts = self.cfg.retries.saturating_add(1);
        let mut wait = self.cfg.retry_first;
        for n in 1..=attempts {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| attempt(&self.cfg, mail)))
                .unwrap_or_else(|_| Err(Failure::permanent("the mail sender panicked".into())));
            let failure = match result {
                Ok(()) => {
                    self.counts.sent.fetch_add(1, Ordering::Relaxed);
                    log::info!("mail to {to} sent");
                    return true;
                }
                Err(f) => f,
            };
            log::warn!("mail to {to}: attempt {n} of {attempts} failed: {}", failure.message);
            if failure.permanent || n == attempts {
                self.counts.failed.fetch_add(1, Ordering::Relaxed);
                log::error!("mail to {to}: giving up after {n} attempt(s): {}", failure.message);
                return true;
            }
            self.counts.retried.fetch_add(1, Ordering::Relaxed);
            match self.stop.recv_timeout(wait) {
                Err(RecvTimeoutError::Timeout) => {}
                Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                    self.counts.failed.fetch_add(1, Ordering::Relaxed);
                    log::error!("mail to {to}: giving up, the mailer stopped during a retry wait: {}", failure.message);
                    return false;
                }
            }
            wait = wait.saturating_mul(2);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_known_fields_and_keeps_others() {
        let s = fill("From {caller} to {mailbox} in {queue}, {seconds}s {other} {", &[("caller", "Bob"), ("mailbox", "100"), ("queue", "sales"), ("seconds", "12")]);
        assert_eq!(s, "From Bob to 100 in sales, 12s {other} {");
    }

    #[test]
    fn fill_strips_control_characters_from_values() {
        let s = fill("Voice message from {caller}", &[("caller", "Eve\r\nBcc: evil@x\u{0}\t\u{85}\u{2028}!")]);
        assert_eq!(s, "Voice message from EveBcc: evil@x!");
        // Values are not filled again.
        assert_eq!(fill("{a}", &[("a", "{b}"), ("b", "x")]), "{b}");
    }

    #[test]
    fn debug_hides_the_password() {
        let cfg = MailConfig {
            server: "mx".into(),
            port: 25,
            tls: MailTls::None,
            from: "a@b.c".into(),
            username: Some("user".into()),
            password: Some("s3cret-pw".into()),
            timeout: Duration::from_secs(1),
            retries: 0,
            retry_first: Duration::from_secs(1),
            subject: MailConfig::DEFAULT_SUBJECT.into(),
            attach: true,
        };
        let d = format!("{cfg:?}");
        assert!(!d.contains("s3cret-pw") && d.contains("user"), "{d}");
    }

    #[test]
    fn mailboxes_are_checked() {
        assert!(check_mailbox("Hotline <vm@example.com>").is_ok());
        assert!(check_mailbox("vm@example.com").is_ok());
        assert!(check_mailbox("not an address").is_err());
        assert!(check_mailbox("a@b\r\nBcc: x@y").is_err());
    }
}
