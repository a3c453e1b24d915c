// SPDX-License-Identifier: GPL-2.0-or-later
//! What the call flow needs from the router: an id, a place in line, and
//! somewhere to report. [`Router`] is the real one; tests use a recorder.

use std::sync::Arc;

use crate::core::{CallId, CallerInfo, Input};
use crate::router::{CallHandle, Router, RouterError, Wake};

pub trait RouterPort {
    fn new_call_id(&self) -> CallId;
    /// Put the caller in line; decisions arrive on the handle, each
    /// followed by a call of `wake`.
    fn enter(&self, id: CallId, queue: &str, caller: CallerInfo, wake: Arc<dyn Wake>) -> Result<CallHandle, RouterError>;
    /// A command that may be refused (the caller learns it).
    fn send(&self, input: Input) -> Result<(), RouterError>;
    /// A report that never waits (a refusal is logged; the router recovers).
    fn report(&self, input: Input);
    /// A call's last report, or an answer: waits briefly for room under
    /// overload. False: it was lost (logged).
    fn report_final(&self, input: Input) -> bool;
}

impl RouterPort for Router {
    fn new_call_id(&self) -> CallId {
        Router::new_call_id(self)
    }
    fn enter(&self, id: CallId, queue: &str, caller: CallerInfo, wake: Arc<dyn Wake>) -> Result<CallHandle, RouterError> {
        self.enter_as(id, queue, caller, wake)
    }
    fn send(&self, input: Input) -> Result<(), RouterError> {
        Router::send(self, input)
    }
    fn report(&self, input: Input) {
        Router::report(self, input)
    }
    fn report_final(&self, input: Input) -> bool {
        Router::report_final(self, input)
    }
}
