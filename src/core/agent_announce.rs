// SPDX-License-Identifier: GPL-2.0-or-later
//! What an answered agent hears before the bridge (app_queue's `announce`):
//! a queue's `agent_announce` setting, or the call's `agent_announce=`
//! option.

/// One announcement to the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentAnnounce {
    /// A prompt file, as the PBX names files (`queue-periodic-announce`,
    /// `ivr/ivr-welcome.wav`, `tone_stream://...`).
    File(String),
    /// The queue's name: the prompt `hotline/queue-<name>` if the PBX has
    /// it, else the name spelled.
    QueueName,
    /// The value of this key of the call's data, said (digits as digits,
    /// anything else spelled).
    Data(String),
}

impl AgentAnnounce {
    /// `"<file>"`, `"queue"` or `"data:<key>"`; the error says why not.
    pub fn parse(v: &str) -> Result<AgentAnnounce, String> {
        let v = v.trim();
        if v.is_empty() {
            return Err("empty announcement (a prompt file, \"queue\" or \"data:<key>\")".into());
        }
        if v.chars().any(|c| c.is_control()) {
            return Err(format!("{v:?}: a prompt file name cannot hold control characters"));
        }
        if v == "queue" {
            return Ok(AgentAnnounce::QueueName);
        }
        if let Some(key) = v.strip_prefix("data:") {
            let key = key.trim().to_ascii_lowercase();
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("data:{key:?}: a data key is letters, digits and '_'"));
            }
            return Ok(AgentAnnounce::Data(key));
        }
        Ok(AgentAnnounce::File(v.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms_parse_and_bad_ones_are_refused() {
        assert_eq!(AgentAnnounce::parse("queue"), Ok(AgentAnnounce::QueueName));
        assert_eq!(AgentAnnounce::parse(" data:Account "), Ok(AgentAnnounce::Data("account".into())));
        assert_eq!(AgentAnnounce::parse("queue-youarenext"), Ok(AgentAnnounce::File("queue-youarenext".into())));
        assert!(AgentAnnounce::parse("").is_err());
        assert!(AgentAnnounce::parse("data:").is_err());
        assert!(AgentAnnounce::parse("data:a-b").is_err());
        assert!(AgentAnnounce::parse("beep\nhangup").unwrap_err().contains("control"));
        // FreeSWITCH file strings as they are.
        assert_eq!(AgentAnnounce::parse("tone_stream://%(300,0,440)"), Ok(AgentAnnounce::File("tone_stream://%(300,0,440)".into())));
    }
}
