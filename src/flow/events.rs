// SPDX-License-Identifier: GPL-2.0-or-later
//! Router events as PBX event headers (AMI `Hotline<Name>` events,
//! FreeSWITCH CUSTOM `hotline::info`): the event's fields in order, values
//! on one line so nothing a caller typed can start a header of its own.

use std::borrow::Cow;

use crate::core::Event;

/// `(key, value)` pairs of an event, values with CR and LF replaced.
pub fn headers(e: &Event) -> Vec<(Cow<'static, str>, String)> {
    e.kind
        .fields()
        .into_iter()
        .map(|(k, v)| (k, if v.contains(['\r', '\n']) { v.replace(['\r', '\n'], " ") } else { v }))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::core::{CallId, Event, EventKind};

    #[test]
    fn values_stay_on_one_line() {
        let e = Event {
            time: 0,
            kind: EventKind::CallbackRequested { call: CallId(1), queue: "q".into(), number: "1\r\nAction: Originate".into() },
        };
        let h = super::headers(&e);
        assert_eq!(h.iter().find(|(k, _)| k == "Number").map(|(_, v)| v.as_str()), Some("1  Action: Originate"));
    }
}
