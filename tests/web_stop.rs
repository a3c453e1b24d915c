// SPDX-License-Identifier: GPL-2.0-or-later
//! Stopping the web port: open connections (an event stream, an idle
//! keep-alive connection) are closed within the deadline, and no thread of
//! its runtime is left. A process of its own, so the thread count sees no
//! other server.

mod web {
    pub mod support;
}

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use hotline::web::THREAD_NAME;
use web::support::*;

#[test]
fn stop_closes_event_streams_and_leaves_no_thread() {
    assert_eq!(threads_named(THREAD_NAME), 0);
    let (srv, _) = server("");
    let a = srv.local_addr();
    let mut events = Stream::open(a, VIEWER, None);
    srv.publisher().publish(1, "AgentState", r#"{"Agent":"1001"}"#.into());
    assert!(events.read_until(Duration::from_secs(5), |t| t.contains("id: 1\n")), "{}", events.text);
    let mut idle = Stream { sock: TcpStream::connect(a).unwrap(), text: String::new() };
    let keep = raw_request("GET", "/api/v1/queues", &[("Authorization", &format!("Bearer {ADMIN}"))], None).replace("Connection: close\r\n", "");
    idle.sock.write_all(keep.as_bytes()).unwrap();
    assert!(idle.read_until(Duration::from_secs(5), |t| t.contains("\"support\"")), "{}", idle.text);
    assert!(threads_named(THREAD_NAME) >= 2, "two workers at least");

    let start = Instant::now();
    srv.stop(Duration::from_secs(2));
    let took = start.elapsed();
    assert!(took < Duration::from_millis(2500), "stop took {took:?}");
    assert_eq!(threads_named(THREAD_NAME), 0, "every runtime thread has exited when stop returns");
    assert!(events.closed_within(Duration::from_millis(500)), "the event stream is closed: {}", events.text);
    assert!(events.text.ends_with("0\r\n\r\n"), "it ended cleanly (last chunk): {:?}", &events.text[events.text.len().saturating_sub(40)..]);
    assert!(idle.closed_within(Duration::from_millis(500)), "the idle connection is closed");
    assert!(TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_err(), "nothing listens any more");
}
