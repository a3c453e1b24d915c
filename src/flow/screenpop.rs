// SPDX-License-Identifier: GPL-2.0-or-later
//! `HotlineScreenPop(endpoint[,key=value...])` / `hotline_screenpop
//! endpoint[,key=value...]`: fire webhook `endpoint`'s screen pop from
//! anywhere in the dialplan, with the caller, the call's data, the
//! channel's identity and the extra fields. The event goes through the bus
//! (AMI / ESL see it too); the webhook sink puts it in the outbox. Never
//! waits for the endpoint. `Err` (logged by the adapter, result variable
//! `ERROR`): no such endpoint, one that takes no screen pops, a bad field.

use crate::core::{CallId, Config, EventKind, Input};

use super::data::CallData;
use super::pbx::Primitives;
use super::RouterPort;

/// Most extra fields.
const MAX_FIELDS: usize = 32;

pub fn run(pbx: &impl Primitives, router: &dyn RouterPort, cfg: &Config, args: &str) -> Result<(), String> {
    let mut parts = args.split(',');
    let endpoint = parts.next().unwrap_or("").trim();
    if endpoint.is_empty() {
        return Err("usage: <webhook>[,key=value...]".into());
    }
    match cfg.webhooks.iter().find(|w| w.name == endpoint) {
        None => return Err(format!("no [[webhook]] named {endpoint:?} in {}", cfg.source)),
        Some(w) if !w.events.contains(&crate::notify::webhook::Kind::ScreenPop) => {
            return Err(format!("webhook {endpoint:?} takes no screen pops (add \"screenpop\" to its events)"))
        }
        Some(_) => {}
    }
    // Fields are checked like the call's data: keys 1-32 letters, digits
    // or _, values without control characters, bounded.
    let mut fields = CallData::default();
    for p in parts.map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = p.split_once('=').ok_or_else(|| format!("{p:?}: a field is key=value"))?;
        fields.set(k, v.trim())?;
    }
    if fields.entries().len() > MAX_FIELDS {
        return Err(format!("more than {MAX_FIELDS} fields"));
    }
    let mut data = CallData::default();
    for (k, v) in pbx.data_vars() {
        // A bad variable is the dialplan's: it is left out, not fatal.
        if let Err(e) = data.set(&k, &v) {
            log::warn!("{}: {e}", pbx.context());
        }
    }
    let mut data: Vec<(String, String)> = data.fields().collect();
    // The transfer history, if an agent transferred the caller here.
    let hops = super::transfers::parse(pbx.get_var(&pbx.hotline_var(super::transfers::KEY)).as_deref());
    if !hops.is_empty() {
        data.push((super::transfers::KEY.into(), super::transfers::render(&hops)));
    }
    let call = pbx.get_var(&pbx.hotline_var("callid")).and_then(|c| c.trim().parse::<u64>().ok()).map(CallId);
    let ev = EventKind::ScreenPop {
        endpoint: endpoint.to_string(),
        call,
        number: pbx.caller_number(),
        name: pbx.caller_name(),
        data,
        fields: fields.entries().to_vec(),
        identity: pbx.identity(),
    };
    router.report(Input::Publish(ev));
    Ok(())
}
