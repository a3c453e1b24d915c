// SPDX-License-Identifier: GPL-2.0-or-later
//! The web port: a JSON API under `/api/v1` and server-sent events, for
//! wall screens, agent desktops and supervisors. PBX-neutral: the adapter
//! starts a [`WebServer`] with a [`WebHost`] (how to read the router and
//! command agents) and feeds router events to its [`EventPublisher`].
//!
//! The server has a small tokio runtime of its own: two worker threads
//! named `hotline-web` and a bounded blocking pool where host calls wait
//! for the router, so neither a PBX thread nor a worker ever blocks. Each
//! connection is served by hyper's HTTP/1 (with a header-read timeout),
//! over rustls when a certificate is configured. [`WebServer::stop`] closes
//! every connection, event streams included, and returns once every thread
//! of the runtime has exited.
//!
//! - `host`: the [`WebHost`] trait, its errors, and its implementation
//!   for [`crate::service::Service`].
//! - `auth`: bearer tokens, browser sessions and CSRF.
//! - `api`: routes, scopes, errors and the layers around them.
//! - `events`: the event ring and broadcast behind `GET /events`.
//! - `tls`: rustls setup.

mod api;
mod auth;
mod events;
mod host;
mod tls;

pub use api::{BASE, OPENAPI};
pub use auth::{CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, SESSION_TTL};
pub use events::{event_json, EventPublisher, RING_EVENTS};
pub use host::{AgentCommand, HostError, WebHost};

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::core::config::HttpConfig;

/// Name of every thread of the web runtime.
pub const THREAD_NAME: &str = "hotline-web";
const WORKER_THREADS: usize = 2;
/// Host calls waiting for the router at once; more queue up.
const BLOCKING_THREADS: usize = 4;
/// Open connections at once; more are closed on accept.
const MAX_CONNECTIONS: usize = 256;
/// How long [`WebServer::stop`] waits for a host call under way past its
/// deadline (host calls are bounded by the router query timeout).
const HOST_CALL_GRACE: Duration = Duration::from_secs(10);

/// Host calls under way: stop waits for them, because each holds the host
/// (the adapter may free what the host points to once stop returns).
#[derive(Clone, Default)]
pub(crate) struct HostCalls(Arc<AtomicUsize>);

pub(crate) struct HostCall(Arc<AtomicUsize>);

impl HostCalls {
    pub fn enter(&self) -> HostCall {
        self.0.fetch_add(1, Ordering::AcqRel);
        HostCall(self.0.clone())
    }

    fn count(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

impl Drop for HostCall {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A running web port.
pub struct WebServer {
    runtime: Option<Runtime>,
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    drained: mpsc::Receiver<()>,
    publisher: EventPublisher,
    calls: HostCalls,
    /// Kernel thread ids of the runtime's threads, so stop can wait until
    /// each has really exited (tokio's shutdown returns once they are
    /// told to, a moment before the last of them is gone).
    threads: Arc<Mutex<Vec<libc::pid_t>>>,
}

impl WebServer {
    /// Bind `[http] listen` (port 0: any free port, see
    /// [`WebServer::local_addr`]) and serve. Errors: the port is off, the
    /// address is taken, the TLS files are unusable, no threads.
    pub fn start(cfg: &HttpConfig, host: Arc<dyn WebHost>) -> Result<WebServer, String> {
        let addr = cfg.listen.ok_or("the web port is off ([http] listen is not set)")?;
        let tls = cfg.tls.as_ref().map(tls::acceptor).transpose()?;
        let listener = std::net::TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        listener.set_nonblocking(true).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let threads: Arc<Mutex<Vec<libc::pid_t>>> = Arc::default();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .max_blocking_threads(BLOCKING_THREADS)
            .thread_name(THREAD_NAME)
            .on_thread_start({
                let threads = Arc::clone(&threads);
                // SAFETY: gettid has no preconditions.
                move || threads.lock().unwrap_or_else(|e| e.into_inner()).push(unsafe { libc::gettid() })
            })
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| format!("cannot start the web threads: {e}"))?;
        let listener = {
            let _in_runtime = runtime.enter();
            TcpListener::from_std(listener).map_err(|e| format!("cannot listen on {addr}: {e}"))?
        };
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (drained_tx, drained) = mpsc::channel();
        let publisher = EventPublisher::new();
        let calls = HostCalls::default();
        let state = api::AppState {
            host,
            auth: Arc::new(auth::Auth::new(cfg.tokens.clone(), tls.is_some())),
            events: publisher.clone(),
            shutdown: shutdown_rx.clone(),
            calls: calls.clone(),
            views: Default::default(),
        };
        let app = api::app(state, cfg.max_body_bytes, cfg.request_timeout);
        let conn = Connections { app, tls, shutdown: shutdown_rx, timeout: cfg.request_timeout };
        runtime.spawn(async move {
            conn.accept(listener).await;
            let _ = drained_tx.send(());
        });
        log::info!("hotline web: listening on {}://{addr}{}", if cfg.tls.is_some() { "https" } else { "http" }, api::BASE);
        Ok(WebServer { runtime: Some(runtime), addr, shutdown, drained, publisher, calls, threads })
    }

    /// The address bound (the real port when `listen` asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where router events go to reach `GET /api/v1/events`.
    pub fn publisher(&self) -> EventPublisher {
        self.publisher.clone()
    }

    /// Stop: refuse new connections, end event streams, finish or close
    /// open connections within `deadline`, wait for host calls under way,
    /// and shut the runtime down. Returns once every thread of the runtime
    /// has exited. Call it from a plain thread, not from async code.
    pub fn stop(mut self, deadline: Duration) {
        self.stop_within(deadline);
    }

    fn stop_within(&mut self, deadline: Duration) {
        let Some(runtime) = self.runtime.take() else { return };
        let start = Instant::now();
        let _ = self.shutdown.send(true);
        if self.drained.recv_timeout(deadline).is_err() {
            log::warn!("hotline web: connections still open after {deadline:?}; closing them");
        }
        let grace = start + deadline.max(Duration::from_millis(1)) + HOST_CALL_GRACE;
        while self.calls.count() > 0 && Instant::now() < grace {
            std::thread::sleep(Duration::from_millis(5));
        }
        if self.calls.count() > 0 {
            log::error!("hotline web: {} host calls still under way; their threads outlive the web port", self.calls.count());
        }
        // Every task is dropped now; workers and idle blocking threads exit
        // and are joined.
        runtime.shutdown_timeout(deadline.saturating_sub(start.elapsed()).max(Duration::from_secs(1)));
        // Until the kernel has no thread of ours left (bounded): unload may
        // unmap the code right after.
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        let gone_by = Instant::now() + Duration::from_secs(1);
        while threads.iter().any(|t| std::path::Path::new(&format!("/proc/self/task/{t}")).exists()) {
            if Instant::now() > gone_by {
                log::error!("hotline web: a runtime thread is still there 1 s after shutdown");
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        log::info!("hotline web: stopped ({} ms)", start.elapsed().as_millis());
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        self.stop_within(Duration::from_secs(2));
    }
}

/// Resolves once stop is signalled (or the server is gone).
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// What each connection needs.
#[derive(Clone)]
struct Connections {
    app: Router,
    tls: Option<TlsAcceptor>,
    shutdown: watch::Receiver<bool>,
    timeout: Duration,
}

impl Connections {
    /// Accept until stop, then wait for the open connections to finish.
    async fn accept(self, listener: TcpListener) {
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let mut open = JoinSet::new();
        let mut shutdown = self.shutdown.clone();
        loop {
            let (stream, peer) = tokio::select! {
                _ = stopped(&mut shutdown) => break,
                Some(_) = open.join_next(), if !open.is_empty() => continue,
                r = listener.accept() => match r {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of descriptors and the like: pause, not spin.
                        log::warn!("hotline web: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                log::warn!("hotline web: {MAX_CONNECTIONS} connections open; closing the one from {peer}");
                continue;
            };
            open.spawn(self.clone().serve(stream, peer, slot));
        }
        drop(listener);
        while open.join_next().await.is_some() {}
    }

    async fn serve(self, stream: TcpStream, peer: SocketAddr, _slot: OwnedSemaphorePermit) {
        let _ = stream.set_nodelay(true);
        match self.tls.clone() {
            None => self.http1(stream, peer).await,
            Some(tls) => match tokio::time::timeout(self.timeout, tls.accept(stream)).await {
                Ok(Ok(stream)) => self.http1(stream, peer).await,
                Ok(Err(e)) => log::info!("hotline web: {peer}: TLS handshake failed: {e}"),
                Err(_) => log::info!("hotline web: {peer}: TLS handshake timed out"),
            },
        }
    }

    /// One HTTP/1 connection, closed gracefully at stop (a response under
    /// way finishes; event streams end on the same signal).
    async fn http1<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(self, io: S, peer: SocketAddr) {
        let app = self.app.map_request(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(api::Peer(peer));
            req
        });
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(self.timeout);
        let conn = http.serve_connection(TokioIo::new(io), TowerToHyperService::new(app));
        tokio::pin!(conn);
        let mut shutdown = self.shutdown;
        let r = tokio::select! {
            r = conn.as_mut() => r,
            _ = stopped(&mut shutdown) => {
                conn.as_mut().graceful_shutdown();
                conn.await
            }
        };
        match r {
            Ok(()) => {}
            Err(e) if e.is_timeout() => log::info!("hotline web: {peer}: request head not received within {} s; closed", self.timeout.as_secs_f64()),
            Err(e) => log::debug!("hotline web: {peer}: connection ended: {e}"),
        }
    }
}
