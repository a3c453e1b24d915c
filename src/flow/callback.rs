// SPDX-License-Identifier: GPL-2.0-or-later
//! ACD callbacks: the customer's dial string from the queue's
//! `callback_contact` template (`PJSIP/{number}@trunk`, `sofia/gateway/gw/{number}`).

/// The dial string that calls `number` back.
pub fn customer_dial(template: &str, number: &str) -> String {
    template.replace("{number}", number).trim().to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_number_fills_the_template() {
        assert_eq!(super::customer_dial(" PJSIP/{number}@trunk ", "0901"), "PJSIP/0901@trunk");
    }
}
