// SPDX-License-Identifier: GPL-2.0-or-later
//! `HotlineAgent(action,agent[,reason|contact])` / `hotline_agent`: an agent
//! logs in (from another phone with a contact: hot desking), logs out, goes
//! on break or comes back from the phone. Both PBXes set their result
//! variable from [`run`]: `OK`, or `ERROR` with the reason logged (bad
//! argument or contact, unknown agent, or the router refused the command).

use crate::admin::agent_input;
use crate::app_args::split_agent_args;
use crate::core::Config;

use super::RouterPort;

pub fn run(router: &dyn RouterPort, cfg: &Config, config_path: &std::path::Path, args: &str) -> Result<(), String> {
    let (action, agent, arg) = split_agent_args(args);
    let input = agent_input(action, agent, arg)?;
    if cfg.agent(agent).is_none() {
        return Err(format!("no agent named {agent:?} in {}", config_path.display()));
    }
    router.send(input).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::core::{CallId, CallerInfo, Input};
    use crate::router::{CallHandle, RouterError, Wake};

    /// Keeps what the application sends.
    #[derive(Default)]
    struct Sent(RefCell<Vec<Input>>);

    impl RouterPort for Sent {
        fn new_call_id(&self) -> CallId {
            CallId(1)
        }
        fn enter(&self, _: CallId, _: &str, _: CallerInfo, _: std::sync::Arc<dyn Wake>) -> Result<CallHandle, RouterError> {
            Err(RouterError::Full)
        }
        fn send(&self, input: Input) -> Result<(), RouterError> {
            self.0.borrow_mut().push(input);
            Ok(())
        }
        fn report(&self, input: Input) {
            self.0.borrow_mut().push(input);
        }
        fn report_final(&self, input: Input) -> bool {
            self.0.borrow_mut().push(input);
            true
        }
    }

    #[test]
    fn login_takes_a_hot_desk_contact_and_refuses_a_bad_one() {
        let cfg = Config::parse("[[agent]]\nname = \"1001\"\ncontact = \"PJSIP/1001\"\n", "t").expect("cfg");
        let path = std::path::Path::new("hotline.toml");
        let sent = Sent::default();
        run(&sent, &cfg, path, "login,1001,PJSIP/2002").expect("login");
        run(&sent, &cfg, path, "login,1001").expect("login");
        run(&sent, &cfg, path, "reset,1001").expect("reset");
        let err = run(&sent, &cfg, path, "login,1001,PJSIP/2002&PJSIP/2003").unwrap_err();
        assert!(err.contains("contact") && err.contains("'&'"), "{err}");
        assert!(run(&sent, &cfg, path, "login,1001, ").unwrap_err().contains("empty contact"));
        assert!(run(&sent, &cfg, path, "login,9999,PJSIP/2002").unwrap_err().contains("no agent"));
        let sent = sent.0.into_inner();
        assert!(matches!(&sent[..], [
            Input::AgentLogin { agent: a1, contact: Some(c) },
            Input::AgentLogin { agent: a2, contact: None },
            Input::AgentReset { agent: a3 },
        ] if a1 == "1001" && c == "PJSIP/2002" && a2 == "1001" && a3 == "1001"), "{sent:?}");
    }
}
