// SPDX-License-Identifier: GPL-2.0-or-later
//! One caller walking the IVR graph. (Interface fixed; the body is being
//! written: see the IVR issue.)

use std::sync::Arc;

use crate::flow::data::CallData;

use super::{Command, Exit, Facts, Input, IvrConfig};

/// Who is calling, as routing rules see it.
#[derive(Debug, Clone, Default)]
pub struct CallerFacts {
    pub number: String,
    pub language: String,
}

/// One caller in the IVR.
pub struct IvrSession {
    cfg: Arc<IvrConfig>,
    data: CallData,
    path: Vec<String>,
    language: String,
}

impl IvrSession {
    /// Start at node `menu` (a menu, collect or route); an unknown name is
    /// an error for this call.
    pub fn start(cfg: Arc<IvrConfig>, menu: &str, caller: CallerFacts, data: CallData) -> Result<IvrSession, String> {
        if !cfg.has_node(menu) {
            return Err(format!("no IVR menu named {menu:?}"));
        }
        Ok(IvrSession { cfg, data, path: vec![menu.to_string()], language: caller.language })
    }

    /// The next command. `input`: what the previous command produced (None
    /// on the first call); `now_unix_ms`: wall-clock time (hours).
    pub fn next(&mut self, _input: Option<Input>, _now_unix_ms: i64, _facts: &dyn Facts) -> Command {
        let _ = (&self.cfg, &self.language);
        Command::Finish(Exit::Return)
    }

    /// The call's data, with what the IVR collected and set.
    pub fn data(&self) -> &CallData {
        &self.data
    }

    /// Keys of the data that are sensitive (masked in logs and events).
    pub fn sensitive_keys(&self) -> Vec<String> {
        Vec::new()
    }

    /// The nodes visited, in order (`hotline_ivr_path`).
    pub fn path(&self) -> &[String] {
        &self.path
    }

    /// The language the caller chose (or had), for the queue's skills.
    pub fn language(&self) -> &str {
        &self.language
    }
}
