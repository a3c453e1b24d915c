// SPDX-License-Identifier: GPL-2.0-or-later
//! The web port against a fake host: a real server on 127.0.0.1 (port 0),
//! spoken to over plain sockets. Stopping and its threads are in
//! tests/web_stop.rs (a process of its own, so no other server's threads
//! are counted).

mod web {
    pub mod support;
}

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use hotline::web::{AgentCommand, WebServer};
use web::support::*;

#[test]
fn no_credentials_is_401_with_a_bearer_challenge() {
    let (srv, _) = server("");
    let a = srv.local_addr();
    for path in ["/api/v1/queues", "/api/v1/agents", "/api/v1/calls", "/api/v1/stats", "/api/v1/events", "/api/v1/session"] {
        let r = request(a, "GET", path, &[], None);
        assert_eq!(r.status, 401, "{path}: {r:?}");
        assert!(r.header("www-authenticate").is_some_and(|v| v.starts_with("Bearer")), "{r:?}");
        assert!(!r.error().is_empty());
    }
    let r = get(a, "/api/v1/queues", "not-a-token-at-all-0000");
    assert_eq!(r.status, 401);
    let r = request(a, "GET", "/api/v1/queues", &[("Authorization", &format!("Basic {ADMIN}"))], None);
    assert_eq!(r.status, 401);
    let r = request(a, "POST", "/api/v1/agents/1001/break", &[], Some("{}"));
    assert_eq!(r.status, 401);
}

#[test]
fn a_viewer_reads_everything_and_changes_nothing() {
    let (srv, host) = server("");
    let a = srv.local_addr();
    assert_eq!(names(&get(a, "/api/v1/queues", VIEWER).json()), ["support", "sales"]);
    assert_eq!(names(&get(a, "/api/v1/agents", VIEWER).json()), ["1001", "1002", "1003"]);
    assert_eq!(get(a, "/api/v1/calls", VIEWER).json().as_array().unwrap().len(), 2);
    for action in ["login", "logout", "break", "ready"] {
        let r = post(a, &format!("/api/v1/agents/1001/{action}"), VIEWER, None);
        assert_eq!(r.status, 403, "{action}: {r:?}");
        assert!(r.error().contains("read-only"), "{r:?}");
    }
    assert!(host.commands.lock().unwrap().is_empty());
}

#[test]
fn views_are_json_as_documented() {
    let (srv, _) = server("");
    let a = srv.local_addr();
    let agents = get(a, "/api/v1/agents", ADMIN).json();
    assert_eq!(agents[0]["state"], "available");
    assert_eq!(agents[1]["state"], "on-call");
    assert_eq!(agents[1]["detail"], 7);
    assert_eq!((agents[2]["state"].as_str(), agents[2]["detail"].as_str()), (Some("break"), Some("lunch")));
    assert_eq!(agents[2]["queues"], serde_json::json!(["support", "sales"]));
    let calls = get(a, "/api/v1/calls", ADMIN).json();
    assert_eq!((calls[0]["id"].as_u64(), calls[0]["phase"].as_str()), (Some(6), Some("waiting")));
    let queues = get(a, "/api/v1/queues", ADMIN).json();
    assert_eq!(queues[0]["strategy"], "longest-idle");
    let stats = get(a, "/api/v1/stats", ADMIN).json();
    assert_eq!(stats["service_level_threshold"], 20_000);
    assert_eq!(stats["queues"][0]["service_level"], 0.5);
    assert!(stats["queues"][0]["aht"].is_null());
    let me = get(a, "/api/v1/session", SUPERVISOR).json();
    assert_eq!((me["role"].as_str(), me["queues"][0].as_str()), (Some("supervisor"), Some("sales")));
}

#[test]
fn an_agent_token_sees_itself_and_acts_on_itself_only() {
    let (srv, host) = server("");
    let a = srv.local_addr();
    assert_eq!(names(&get(a, "/api/v1/agents", AGENT_1001).json()), ["1001"]);
    assert_eq!(names(&get(a, "/api/v1/queues", AGENT_1001).json()), ["support"]);
    let calls = get(a, "/api/v1/calls", AGENT_1001).json();
    assert_eq!(calls.as_array().unwrap().iter().map(|c| c["id"].as_u64().unwrap()).collect::<Vec<_>>(), [6], "support's waiting call only");
    let stats = get(a, "/api/v1/stats", AGENT_1001).json();
    assert_eq!(names(&stats["agents"]), ["1001"]);
    assert_eq!(names(&stats["queues"]), ["support"]);

    for action in ["login", "break", "ready", "logout"] {
        let r = post(a, &format!("/api/v1/agents/1001/{action}"), AGENT_1001, None);
        assert_eq!(r.status, 200, "{action}: {r:?}");
        assert_eq!(r.json()["action"], action);
        let r = post(a, &format!("/api/v1/agents/1003/{action}"), AGENT_1001, None);
        assert_eq!(r.status, 403, "{action} on another agent: {r:?}");
    }
    // Another agent, even a missing one, is refused before anything is looked up.
    assert_eq!(post(a, "/api/v1/agents/ghost/ready", AGENT_1001, None).status, 403);
    let agents: Vec<String> = host.commands.lock().unwrap().iter().map(|(a, _)| a.clone()).collect();
    assert_eq!(agents, ["1001"; 4]);
}

#[test]
fn a_supervisor_sees_and_acts_on_its_queues_only() {
    let (srv, host) = server("");
    let a = srv.local_addr();
    assert_eq!(names(&get(a, "/api/v1/queues", SUPERVISOR).json()), ["sales"]);
    assert_eq!(names(&get(a, "/api/v1/agents", SUPERVISOR).json()), ["1002", "1003"]);
    let calls = get(a, "/api/v1/calls", SUPERVISOR).json();
    assert_eq!(calls.as_array().unwrap().iter().map(|c| c["id"].as_u64().unwrap()).collect::<Vec<_>>(), [7]);
    let stats = get(a, "/api/v1/stats", SUPERVISOR).json();
    assert_eq!(names(&stats["queues"]), ["sales"]);
    assert_eq!(names(&stats["agents"]), ["1002", "1003"]);

    assert_eq!(post(a, "/api/v1/agents/1003/break", SUPERVISOR, Some(r#"{"reason":"coaching"}"#)).status, 200);
    let r = post(a, "/api/v1/agents/1001/break", SUPERVISOR, None);
    assert_eq!(r.status, 403, "1001 is in support only: {r:?}");
    assert!(r.error().contains("not in this token's queues"), "{r:?}");
    assert_eq!(*host.commands.lock().unwrap(), [("1003".to_string(), AgentCommand::Break { reason: Some("coaching".into()) })]);
}

#[test]
fn admin_commands_reach_the_host() {
    let (srv, host) = server("");
    let a = srv.local_addr();
    let r = post(a, "/api/v1/agents/1002/login", ADMIN, Some(r#"{"contact":"PJSIP/desk-7"}"#));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json(), serde_json::json!({"ok": true, "agent": "1002", "action": "login"}));
    assert_eq!(post(a, "/api/v1/agents/1002/break", ADMIN, Some(r#"{"reason":"lunch"}"#)).status, 200);
    assert_eq!(post(a, "/api/v1/agents/1002/break", ADMIN, None).status, 200);
    assert_eq!(post(a, "/api/v1/agents/1002/ready", ADMIN, Some("{}")).status, 200);
    assert_eq!(post(a, "/api/v1/agents/1002/logout", ADMIN, Some("  ")).status, 200);
    let got = host.commands.lock().unwrap().clone();
    let want = [
        AgentCommand::Login { contact: Some("PJSIP/desk-7".into()) },
        AgentCommand::Break { reason: Some("lunch".into()) },
        AgentCommand::Break { reason: None },
        AgentCommand::Ready,
        AgentCommand::Logout,
    ];
    assert_eq!(got, want.iter().map(|c| ("1002".to_string(), c.clone())).collect::<Vec<_>>());
}

#[test]
fn host_errors_map_to_statuses() {
    let (srv, host) = server("");
    let a = srv.local_addr();
    let r = post(a, "/api/v1/agents/ghost/ready", ADMIN, None);
    assert_eq!(r.status, 404, "{r:?}");
    assert!(r.error().contains("ghost"));
    let r = post(a, "/api/v1/agents/9999/ready", ADMIN, None);
    assert_eq!(r.status, 503, "router timeout: {r:?}");
    host.panic_stats.store(true, Ordering::Relaxed);
    let r = get(a, "/api/v1/stats", ADMIN);
    assert_eq!(r.status, 500, "a panicking host call: {r:?}");
    assert_eq!(r.error(), "internal error");
    // The server carries on.
    assert_eq!(get(a, "/api/v1/queues", ADMIN).status, 200);
}

#[test]
fn bad_input_is_answered_in_json() {
    let (srv, _) = server("");
    let a = srv.local_addr();
    let r = post(a, "/api/v1/agents/1001/break", ADMIN, Some(r#"{"reason": "#));
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.error().contains("malformed JSON"), "{r:?}");
    let r = post(a, "/api/v1/agents/1001/break", ADMIN, Some(r#"{"reson": "typo"}"#));
    assert_eq!(r.status, 400, "unknown field: {r:?}");
    let r = post(a, "/api/v1/agents/1001/logout", ADMIN, Some("[1,2]"));
    assert_eq!(r.status, 400, "{r:?}");
    let r = request(a, "POST", "/api/v1/session", &[], Some("token=x"));
    assert_eq!(r.status, 400, "{r:?}");

    let big = format!(r#"{{"reason": "{}"}}"#, "x".repeat(2000));
    let r = post(a, "/api/v1/agents/1001/break", ADMIN, Some(&big));
    assert_eq!(r.status, 413, "over max_body_bytes = 1024: {r:?}");
    assert!(r.error().contains("too large"), "{r:?}");

    let r = get(a, "/api/v1/nothing-here", ADMIN);
    assert_eq!(r.status, 404, "{r:?}");
    assert_eq!(r.error(), "no such route");
    assert_eq!(get(a, "/", ADMIN).status, 404);
    let r = request(a, "PUT", "/api/v1/queues", &[("Authorization", &format!("Bearer {ADMIN}"))], Some("{}"));
    assert_eq!(r.status, 405, "{r:?}");
    let r = request(a, "GET", "/api/v1/events", &[("Authorization", &format!("Bearer {ADMIN}")), ("Last-Event-ID", "soon")], None);
    assert_eq!(r.status, 400, "{r:?}");
}

#[test]
fn a_cookie_session_needs_the_csrf_token_for_writes() {
    let (srv, host) = server("");
    let a = srv.local_addr();
    let r = request(a, "POST", "/api/v1/session", &[], Some(r#"{"token": "wrong-token-0000000000"}"#));
    assert_eq!(r.status, 401, "{r:?}");

    let r = request(a, "POST", "/api/v1/session", &[], Some(&format!(r#"{{"token": "{SUPERVISOR}"}}"#)));
    assert_eq!(r.status, 200, "{r:?}");
    let body = r.json();
    assert_eq!(body["role"], "supervisor");
    let csrf = body["csrf_token"].as_str().expect("csrf token").to_string();
    let cookies = r.all("set-cookie");
    let session = cookies.iter().find(|c| c.starts_with("hotline_session=")).unwrap_or_else(|| panic!("session cookie in {r:?}"));
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(session.split("; ").any(|f| f == flag), "{flag} in {session}");
    }
    assert!(!session.contains("Secure"), "no TLS, no Secure: {session}");
    let csrf_cookie = cookies.iter().find(|c| c.starts_with("hotline_csrf=")).expect("csrf cookie");
    assert!(!csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Strict"), "{csrf_cookie}");
    assert!(csrf_cookie.starts_with(&format!("hotline_csrf={csrf};")), "{csrf_cookie}");
    let cookie = session.split(';').next().unwrap().to_string();

    let r = request(a, "GET", "/api/v1/agents", &[("Cookie", &cookie)], None);
    assert_eq!(names(&r.json()), ["1002", "1003"], "reads need no CSRF token");
    let r = request(a, "POST", "/api/v1/agents/1002/ready", &[("Cookie", &cookie)], Some("{}"));
    assert_eq!(r.status, 403, "no CSRF token: {r:?}");
    let r = request(a, "POST", "/api/v1/agents/1002/ready", &[("Cookie", &cookie), ("X-CSRF-Token", "0000")], Some("{}"));
    assert_eq!(r.status, 403, "wrong CSRF token: {r:?}");
    assert!(host.commands.lock().unwrap().is_empty());
    let r = request(a, "POST", "/api/v1/agents/1002/ready", &[("Cookie", &cookie), ("X-CSRF-Token", &csrf)], Some("{}"));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(host.commands.lock().unwrap().len(), 1);

    assert_eq!(request(a, "DELETE", "/api/v1/session", &[("Cookie", &cookie)], None).status, 403, "sign-out is a write too");
    let r = request(a, "DELETE", "/api/v1/session", &[("Cookie", &cookie), ("X-CSRF-Token", &csrf)], None);
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.all("set-cookie").iter().all(|c| c.contains("Max-Age=0")), "{r:?}");
    assert_eq!(request(a, "GET", "/api/v1/agents", &[("Cookie", &cookie)], None).status, 401, "signed out");
}

#[test]
fn events_stream_and_resume_from_last_event_id() {
    let (srv, _) = server("");
    let a = srv.local_addr();
    let publisher = srv.publisher();
    let mut live = Stream::open(a, ADMIN, None);
    let mut mine = Stream::open(a, AGENT_1001, None);
    let mut sales = Stream::open(a, SUPERVISOR, None);
    publisher.publish(1, "AgentState", r#"{"Agent":"1001","State":"break"}"#.into());
    publisher.publish(2, "CallEntered", r#"{"CallId":"8","Queue":"sales"}"#.into());
    publisher.publish(3, "AgentState", r#"{"Agent":"1002","State":"available"}"#.into());
    publisher.publish(4, "ConfigReloaded", r#"{"Queues":"2"}"#.into());
    publisher.publish(5, "Odd", "not json".into());
    let five = "id: 5\nevent: Odd\ndata: not json\n";
    assert!(live.read_until(Duration::from_secs(5), |t| t.contains(five)), "{}", live.text);
    assert!(live.text.contains("id: 1\nevent: AgentState\ndata: {\"Agent\":\"1001\",\"State\":\"break\"}\n"), "{}", live.text);
    assert!(mine.read_until(Duration::from_secs(5), |t| t.contains("id: 4\n")), "{}", mine.text);
    assert!(mine.text.contains("id: 1\n") && !mine.text.contains("id: 2\n") && !mine.text.contains("id: 3\n"), "agent 1001 sees its own: {}", mine.text);
    assert!(sales.read_until(Duration::from_secs(5), |t| t.contains("id: 4\n")), "{}", sales.text);
    assert!(!sales.text.contains("id: 1\n") && sales.text.contains("id: 2\n") && sales.text.contains("id: 3\n"), "sales and its agents: {}", sales.text);
    assert!(!mine.read_until(Duration::from_millis(200), |t| t.contains("id: 5\n")), "unreadable events only to unscoped tokens");

    // A client that saw event 2 reconnects.
    let mut again = Stream::open(a, ADMIN, Some(2));
    assert!(again.read_until(Duration::from_secs(5), |t| t.contains(five)), "{}", again.text);
    assert!(again.text.contains("id: 3\n") && again.text.contains("id: 4\n") && !again.text.contains("id: 2\n"), "{}", again.text);
    // Events older than the ring: the gap is announced first.
    for id in 6..=(hotline::web::RING_EVENTS as u64 + 10) {
        publisher.publish(id, "AgentState", format!(r#"{{"Agent":"1003","Id":{id}}}"#));
    }
    let mut late = Stream::open(a, ADMIN, Some(1));
    let last = format!("id: {}\n", hotline::web::RING_EVENTS + 10);
    assert!(late.read_until(Duration::from_secs(5), |t| t.contains(&last)), "{}", late.text);
    let gap = late.text.find("event: gap\ndata: {\"after\":1,\"reason\":\"expired\",\"through\":10}").expect("gap announced");
    assert!(gap < late.text.find("id: 11\n").expect("first kept event"), "{}", late.text);
    drop(srv);
}

#[test]
fn a_slow_client_is_timed_out() {
    let (srv, _) = server("");
    let a = srv.local_addr();
    // Half a request head: closed after request_timeout_seconds = 1.
    let start = Instant::now();
    let mut half = Stream { sock: TcpStream::connect(a).unwrap(), text: String::new() };
    half.sock.write_all(b"GET /api/v1/queues HTTP/1.1\r\nHost: test\r\nAuthoriz").unwrap();
    assert!(half.closed_within(Duration::from_secs(5)), "still open: {}", half.text);
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(4), "{took:?}");
    // A head, then half its body: 408 from the request timeout.
    let start = Instant::now();
    let mut slow = Stream { sock: TcpStream::connect(a).unwrap(), text: String::new() };
    let req = raw_request("POST", "/api/v1/agents/1001/break", &[("Authorization", &format!("Bearer {ADMIN}"))], Some(r#"{"reason": "x"}"#));
    slow.sock.write_all(&req.as_bytes()[..req.len() - 5]).unwrap();
    assert!(slow.closed_within(Duration::from_secs(5)), "still open: {}", slow.text);
    assert!(start.elapsed() < Duration::from_secs(4));
    let r = parse(slow.text.as_bytes());
    assert_eq!(r.status, 408, "{r:?}");
    assert!(r.error().contains("not done within 1 s"), "{r:?}");
    // Others were served meanwhile and still are.
    assert_eq!(get(a, "/api/v1/queues", ADMIN).status, 200);
}

#[test]
fn the_openapi_document_is_served_and_every_route_in_it_answers() {
    let (srv, _) = server("");
    let a = srv.local_addr();
    let r = request(a, "GET", "/api/v1/openapi.json", &[], None);
    assert_eq!(r.status, 200, "public: {r:?}");
    assert_eq!(r.header("content-type"), Some("application/json"));
    let doc = r.json();
    let mut seen = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys().filter(|k| *k != "parameters") {
            let url = format!("/api/v1{}", path.replace("{name}", "1003").replace("{id}", "1"));
            let r = if path == "/events" {
                let s = Stream::open(a, ADMIN, None);
                drop(s);
                continue;
            } else if path == "/session" && method == "post" {
                request(a, "POST", &url, &[], Some(&format!(r#"{{"token":"{ADMIN}"}}"#)))
            } else if path.starts_with("/calls/{id}/recording/") {
                let r = request(a, "POST", &format!("/api/v1{}", path.replace("{id}", "7")), &[("Authorization", &format!("Bearer {ADMIN}"))], None);
                assert_eq!(r.status, 200, "{method} {path}: {r:?}");
                seen += 1;
                continue;
            } else if path == "/calls/{id}/notes" {
                let r = request(a, "POST", "/api/v1/calls/7/notes", &[("Authorization", &format!("Bearer {ADMIN}"))], Some(r#"{"text":"n"}"#));
                assert_eq!(r.status, 202, "{method} {path}: {r:?}");
                seen += 1;
                continue;
            } else {
                request(a, &method.to_uppercase(), &url, &[("Authorization", &format!("Bearer {ADMIN}"))], (method == "post").then_some("{}"))
            };
            assert_eq!(r.status, 200, "{method} {url}: {r:?}");
            seen += 1;
        }
    }
    assert_eq!(seen, 21, "the document lists 22 operations; events opened separately");
}

#[test]
fn start_refuses_what_it_cannot_serve() {
    let host = std::sync::Arc::new(FakeHost::default());
    let mut cfg = config("").http;
    cfg.listen = None;
    assert!(WebServer::start(&cfg, host.clone()).err().unwrap().contains("off"));
    let (srv, _) = server("");
    let mut taken = config("").http;
    taken.listen = Some(srv.local_addr());
    assert!(WebServer::start(&taken, host.clone()).err().unwrap().contains("cannot listen"));
    let cfg = config("tls_cert = \"/nonexistent/cert.pem\"\ntls_key = \"/nonexistent/key.pem\"\n").http;
    let e = WebServer::start(&cfg, host).err().unwrap();
    assert!(e.contains("/nonexistent/cert.pem"), "{e}");
}

/// HTTPS with a certificate made for the test (a CA and a leaf for
/// localhost), spoken to by a rustls client that trusts that CA only.
#[test]
fn https_with_the_configured_certificate() {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use std::io::Read;
    use std::sync::Arc;

    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()]).unwrap().signed_by(&leaf_key, &ca).unwrap();
    let dir = std::env::temp_dir().join(format!("hotline-web-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, leaf.pem()).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
    let (srv, _) = server(&format!("tls_cert = {:?}\ntls_key = {:?}\n", cert.display().to_string(), key.display().to_string()));
    let a = srv.local_addr();

    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let client = Arc::new(client);
    let https = |req: String| -> Vec<u8> {
        let conn = rustls::ClientConnection::new(client.clone(), "localhost".try_into().unwrap()).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, TcpStream::connect(a).unwrap());
        tls.sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        tls.write_all(req.as_bytes()).unwrap();
        let mut out = Vec::new();
        let _ = tls.read_to_end(&mut out);
        out
    };
    let r = parse(&https(raw_request("GET", "/api/v1/agents", &[("Authorization", &format!("Bearer {ADMIN}"))], None)));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(names(&r.json()), ["1001", "1002", "1003"]);
    let r = parse(&https(raw_request("POST", "/api/v1/session", &[], Some(&format!(r#"{{"token":"{VIEWER}"}}"#)))));
    assert!(r.all("set-cookie").iter().all(|c| c.ends_with("; Secure")), "Secure cookies over TLS: {r:?}");
    // Plain HTTP on the TLS port gets nowhere.
    let mut plain = Stream { sock: TcpStream::connect(a).unwrap(), text: String::new() };
    plain.sock.write_all(raw_request("GET", "/api/v1/queues", &[], None).as_bytes()).unwrap();
    assert!(plain.closed_within(Duration::from_secs(5)));
    assert!(!plain.text.contains("HTTP/1.1 200"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Principals who see everything share one body per snapshot version: the
/// host is asked again only when the version moves (or without one); a
/// scoped principal's view is always its own.
#[test]
fn whole_views_are_serialized_once_per_snapshot_version() {
    let (srv, host) = server("");
    let a = srv.local_addr();
    let reads = || host.agent_reads.load(Ordering::SeqCst);
    // No snapshot: every request asks.
    let body = get(a, "/api/v1/agents", ADMIN).json();
    get(a, "/api/v1/agents", ADMIN);
    assert_eq!(reads(), 2);
    *host.version.lock().unwrap() = Some(1);
    let first = get(a, "/api/v1/agents", ADMIN).json();
    let again = get(a, "/api/v1/agents", VIEWER).json();
    assert_eq!(reads(), 3, "the second whole view came from the cache");
    assert_eq!((first.clone(), again), (body.clone(), body));
    *host.version.lock().unwrap() = Some(2);
    get(a, "/api/v1/agents", ADMIN);
    assert_eq!(reads(), 4, "a new version is asked for");
    // The agent's own view is filtered and never cached.
    let mine = get(a, "/api/v1/agents", AGENT_1001).json();
    assert_eq!(mine.as_array().map(|v| v.len()), Some(1));
    assert!(reads() >= 5);
    assert_eq!(first.as_array().map(|v| v.len()), Some(3));
}

/// Webhooks over the API are for admin tokens.
#[test]
fn webhooks_are_admin_only() {
    let (srv, _) = server("");
    let a = srv.local_addr();
    for token in [VIEWER, SUPERVISOR, AGENT_1001] {
        let r = get(a, "/api/v1/webhooks", token);
        assert_eq!(r.status, 403, "{r:?}");
        let r = post(a, "/api/v1/webhooks/retry", token, Some("{}"));
        assert_eq!(r.status, 403, "{r:?}");
    }
    let r = get(a, "/api/v1/webhooks", ADMIN);
    assert_eq!(r.status, 200, "{r:?}");
    let w = &r.json()["webhooks"][0];
    assert_eq!((w["name"].as_str(), w["dead"].as_u64(), w["latency_ms"][1].as_u64()), (Some("crm"), Some(1), Some(9)), "{w}");
    let r = post(a, "/api/v1/webhooks/retry", ADMIN, Some("{\"webhook\": \"crm\"}"));
    assert_eq!((r.status, r.json()["events"].as_u64()), (200, Some(1)), "{r:?}");
    let r = post(a, "/api/v1/webhooks/retry", ADMIN, Some("{\"webhook\": \"nosuch\"}"));
    assert_eq!(r.status, 404, "{r:?}");
    let r = post(a, "/api/v1/webhooks/purge", ADMIN, Some("{\"webhook\": \"crm\", \"extra\": 1}"));
    assert_eq!(r.status, 400, "unknown field: {r:?}");
}

/// A note on a live call: an agent notes its own call, a supervisor the
/// calls of its queues, a viewer none; a call that is not live is 404 and
/// a bad id or body 400. Only the accepted notes reach the host.
#[test]
fn notes_go_to_live_calls_the_token_may_see() {
    let (srv, host) = server("");
    let a = srv.local_addr();
    let note = |path: &str, token: &str, body: &str| post(a, path, token, Some(body));
    // Call 7 is 1002's talk in sales; call 6 waits in support.
    let r = note("/api/v1/calls/7/notes", SUPERVISOR, r#"{"text":"wants a refund"}"#);
    assert_eq!((r.status, r.json()["call"].as_str()), (202, Some("7")), "{r:?}");
    assert_eq!(note("/api/v1/calls/6/notes", SUPERVISOR, r#"{"text":"x"}"#).status, 403, "support is not the supervisor's");
    assert_eq!(note("/api/v1/calls/7/notes", AGENT_1001, r#"{"text":"x"}"#).status, 403, "not 1001's call");
    assert_eq!(note("/api/v1/calls/6/notes", AGENT_1001, r#"{"text":"x"}"#).status, 403, "a waiting call is nobody's yet");
    assert_eq!(note("/api/v1/calls/7/notes", VIEWER, r#"{"text":"x"}"#).status, 403);
    assert_eq!(note("/api/v1/calls/8/notes", ADMIN, r#"{"text":"x"}"#).status, 404);
    assert_eq!(note("/api/v1/calls/abc/notes", ADMIN, r#"{"text":"x"}"#).status, 400);
    assert_eq!(note("/api/v1/calls/6/notes", ADMIN, r#"{"txt":"x"}"#).status, 400);
    let r = note("/api/v1/calls/6/notes", ADMIN, "{\"text\":\"line\\u0000\\nbreak \\\"q\\\"\"}");
    assert_eq!(r.status, 202, "{r:?}");
    let notes = host.notes.lock().unwrap().clone();
    assert_eq!(notes, [(7, "wants a refund".to_string(), "supervisor token #2".to_string()), (6, "line\u{0}\nbreak \"q\"".to_string(), "ops".to_string())]);
}

/// Recordings: admins see all, a supervisor its queues', an agent its own
/// (no audio), a viewer none; the audio comes whole or by Range.
#[test]
fn recordings_are_searched_and_heard_by_those_allowed() {
    let (srv, _) = server("");
    let a = srv.local_addr();
    let ids = |r: Resp| r.json().as_array().unwrap().iter().map(|x| x["id"].as_u64().unwrap()).collect::<Vec<_>>();
    assert_eq!(ids(get(a, "/api/v1/recordings", ADMIN)), [1, 2]);
    assert_eq!(ids(get(a, "/api/v1/recordings", SUPERVISOR)), [2], "sales only");
    assert_eq!(ids(get(a, "/api/v1/recordings", AGENT_1001)), [1], "its own");
    assert_eq!(ids(get(a, "/api/v1/recordings?agent=1002", ADMIN)), [2]);
    assert_eq!(get(a, "/api/v1/recordings", VIEWER).status, 403);
    assert_eq!(get(a, "/api/v1/recordings?colour=red", ADMIN).status, 400);
    assert_eq!(get(a, "/api/v1/recordings/1", AGENT_1001).json()["duration_ms"], 1500);
    assert_eq!(get(a, "/api/v1/recordings/2", AGENT_1001).status, 403);
    assert_eq!(get(a, "/api/v1/recordings/9", ADMIN).status, 404);
    assert_eq!(get(a, "/api/v1/recordings/x", ADMIN).status, 400);
    // The audio.
    assert_eq!(get(a, "/api/v1/recordings/1/audio", AGENT_1001).status, 403, "agents do not hear recordings");
    assert_eq!(get(a, "/api/v1/recordings/1/audio", SUPERVISOR).status, 403, "not the supervisor's queue");
    assert_eq!(get(a, "/api/v1/recordings/2/audio", ADMIN).status, 409, "still recording");
    let whole = get(a, "/api/v1/recordings/1/audio", ADMIN);
    assert_eq!((whole.status, whole.body.as_str(), whole.header("content-type")), (200, "RIFF0123456789ab", Some("audio/wav")));
    let auth = format!("Bearer {ADMIN}");
    let part = request(a, "GET", "/api/v1/recordings/1/audio", &[("Authorization", &auth), ("Range", "bytes=4-7")], None);
    assert_eq!((part.status, part.body.as_str()), (206, "0123"), "{part:?}");
    assert_eq!(part.header("content-range"), Some("bytes 4-7/16"));
}

/// Pausing a call's recording: the agent on its own call, a supervisor on
/// its queues' calls; not a viewer, not another agent's call.
#[test]
fn recording_pauses_go_to_calls_the_token_may_act_on() {
    let (srv, host) = server("");
    let a = srv.local_addr();
    let r = post(a, "/api/v1/calls/7/recording/pause", SUPERVISOR, None);
    assert_eq!((r.status, r.json()["recording"].as_str()), (200, Some("paused")), "{r:?}");
    assert_eq!(post(a, "/api/v1/calls/7/recording/resume", SUPERVISOR, None).status, 200);
    assert_eq!(post(a, "/api/v1/calls/7/recording/pause", AGENT_1001, None).status, 403, "1002's call");
    assert_eq!(post(a, "/api/v1/calls/7/recording/pause", VIEWER, None).status, 403);
    assert_eq!(post(a, "/api/v1/calls/6/recording/pause", SUPERVISOR, None).status, 403, "support is not the supervisor's");
    assert_eq!(post(a, "/api/v1/calls/8/recording/pause", ADMIN, None).status, 404);
    assert_eq!(*host.pauses.lock().unwrap(), [(7, true), (7, false)]);
}
