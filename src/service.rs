//! What both PBX adapters run while loaded: the router thread, the
//! configuration in force (swapped on reload) and the count of calls inside
//! Hotline applications (unload is refused while it is not zero). Each
//! adapter's runtime holds one and adds its host-specific threads.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use crate::admin;
use crate::core::{Config, ConfigError, Input};
use crate::router::{Router, RouterOptions};

pub struct Service {
    pub router: Router,
    pub config_path: PathBuf,
    config: RwLock<Arc<Config>>,
    active: AtomicUsize,
}

/// A problem starting the service, reported like a configuration error.
pub fn setup_error(path: &std::path::Path, message: String) -> ConfigError {
    ConfigError { file: path.display().to_string(), line: 0, key: String::new(), message }
}

impl Service {
    /// Read the configuration and start the router. Errors name the file,
    /// line and key.
    pub fn start(config_path: PathBuf) -> Result<Service, ConfigError> {
        Service::start_with(config_path, RouterOptions::default())
    }

    /// [`Service::start`] with router options of the adapter's choosing.
    pub fn start_with(config_path: PathBuf, options: RouterOptions) -> Result<Service, ConfigError> {
        let cfg = Arc::new(Config::load(&config_path)?);
        let router = Router::start(cfg.clone(), options)
            .map_err(|e| setup_error(&config_path, format!("cannot start the router thread: {e}")))?;
        log::info!("Hotline: {} queues, {} agents from {}", cfg.queues.len(), cfg.agents.len(), config_path.display());
        Ok(Service { router, config_path, config: RwLock::new(cfg), active: AtomicUsize::new(0) })
    }

    /// The configuration in force (the lock is held only to clone an Arc).
    pub fn config(&self) -> Arc<Config> {
        self.config.read().map(|c| c.clone()).unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Re-read the configuration file and swap it in. On error the old one
    /// stays and the error (file:line: key: message) is returned.
    pub fn reload(&self) -> Result<Arc<Config>, ConfigError> {
        let cfg = Arc::new(Config::load(&self.config_path)?);
        self.router
            .send(Input::Reload(cfg.clone()))
            .map_err(|e| setup_error(&self.config_path, format!("reload not applied: {e}")))?;
        match self.config.write() {
            Ok(mut c) => *c = cfg.clone(),
            Err(e) => *e.into_inner() = cfg.clone(),
        }
        Ok(cfg)
    }

    /// Calls inside Hotline applications (or callbacks) right now.
    pub fn active_calls(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }
}

impl admin::Host for Service {
    fn reload(&self) -> Result<String, String> {
        Service::reload(self)
            .map(|c| format!("{} queues, {} agents from {}", c.queues.len(), c.agents.len(), self.config_path.display()))
            .map_err(|e| e.to_string())
    }

    fn has_agent(&self, name: &str) -> bool {
        self.config().agent(name).is_some()
    }

    fn has_queue(&self, name: &str) -> bool {
        self.config().queue(name).is_some()
    }
}

/// Counts a call in a Hotline application for as long as it lives.
pub struct ActiveCall<'a>(&'a Service);

impl<'a> ActiveCall<'a> {
    pub fn new(service: &'a Service) -> ActiveCall<'a> {
        service.active.fetch_add(1, Ordering::AcqRel);
        ActiveCall(service)
    }
}

impl Drop for ActiveCall<'_> {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The runtime a loaded module publishes to PBX threads, read with one
/// lock-free pointer load. Sound because a PBX never runs a module's
/// application or command while that module unloads (Asterisk holds a
/// module reference during `pbx_exec`; FreeSWITCH read-locks the module
/// interface), and the adapter takes the runtime back only when idle.
pub struct Loaded<T>(std::sync::atomic::AtomicPtr<T>);

impl<T> Loaded<T> {
    pub const fn new() -> Self {
        Loaded(std::sync::atomic::AtomicPtr::new(std::ptr::null_mut()))
    }

    pub fn get(&'static self) -> Option<&'static T> {
        // SAFETY: the pointer is null or came from Box::into_raw in
        // `publish`, and is freed only after `take` unpublished it (see
        // the type's doc for why no reader remains then).
        unsafe { self.0.load(Ordering::Acquire).as_ref() }
    }

    pub fn publish(&self, value: Box<T>) {
        self.0.store(Box::into_raw(value), Ordering::Release);
    }

    /// Unpublish and hand back ownership.
    pub fn take(&self) -> Option<Box<T>> {
        let p = self.0.swap(std::ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: p came from Box::into_raw in `publish` and is no longer
        // reachable through `get`.
        (!p.is_null()).then(|| unsafe { Box::from_raw(p) })
    }
}
