// SPDX-License-Identifier: GPL-2.0-or-later
//! The end of a talk, reported exactly once.
//!
//! Two threads may learn that a talk is over: the caller's (its bridge
//! returns) and, on FreeSWITCH, the agent leg's own hang-up handler, which
//! frees the agent without waiting for the caller's bridge to notice. Both
//! hold the same [`TalkEnd`]; whichever ends it first reports, the other
//! finds it over. [`TalkGuard`] ends a talk nobody ended (the caller's
//! thread unwound through a panic), so no agent stays "talking" for ever.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::core::{CallId, EndedBy, Input};

use super::RouterPort;

#[derive(Debug)]
pub struct TalkEnd {
    call: CallId,
    over: AtomicBool,
}

impl TalkEnd {
    pub fn new(call: CallId) -> Arc<TalkEnd> {
        Arc::new(TalkEnd { call, over: AtomicBool::new(false) })
    }

    pub fn call(&self) -> CallId {
        self.call
    }

    /// End the talk: true if this call reported it (nobody had before).
    pub fn end(&self, router: &dyn RouterPort, by: EndedBy) -> bool {
        if self.over.swap(true, Ordering::AcqRel) {
            return false;
        }
        router.report_final(Input::CallEnded { call: self.call, by });
        true
    }

    /// Close a talk that never started (its answer was dropped): nobody
    /// reports it. True if it was still open.
    pub fn abandon(&self) -> bool {
        !self.over.swap(true, Ordering::AcqRel)
    }

    pub fn is_over(&self) -> bool {
        self.over.load(Ordering::Acquire)
    }
}

/// Ends its talk as failed if it is dropped while the talk is still on.
pub struct TalkGuard<'r> {
    pub talk: Arc<TalkEnd>,
    pub router: &'r dyn RouterPort,
}

impl Drop for TalkGuard<'_> {
    fn drop(&mut self) {
        if !self.talk.is_over() && self.talk.end(self.router, EndedBy::Failed) {
            log::error!("Hotline: call {}: the talk ended without a report; agent freed", self.talk.call);
        }
    }
}
