//! Configuration errors name the file, the line and the key.

use hotline::core::Config;

fn err(text: &str) -> String {
    Config::parse(text, "hotline.toml").expect_err("should be rejected").to_string()
}

#[test]
fn unknown_key_is_named_with_its_line() {
    let e = err("[[queue]]\nname = \"q\"\nstratgy = \"linear\"\n");
    assert!(e.starts_with("hotline.toml:3:"), "{e}");
    assert!(e.contains("stratgy"), "{e}");
}

#[test]
fn bad_value_is_named_with_its_line() {
    let e = err("[[queue]]\nname = \"q\"\n\nstrategy = \"fastest\"\n");
    assert!(e.starts_with("hotline.toml:4: strategy:"), "{e}");
    assert!(e.contains("fastest"), "{e}");
    let e = err("[[queue]]\nname = \"q\"\nwrapup_seconds = \"ten\"\n");
    assert!(e.starts_with("hotline.toml:3: wrapup_seconds:"), "{e}");
    let e = err("[[queue]]\nname = \"q\"\nwrapup_seconds = -3\n");
    assert!(e.starts_with("hotline.toml:3: wrapup_seconds:"), "{e}");
}

#[test]
fn missing_references_are_named() {
    let e = err("[[queue]]\nname = \"q\"\n[[agent]]\nname = \"a\"\ncontact = \"PJSIP/1\"\nqueues = [\"q\", \"nosuch\"]\n");
    assert!(e.starts_with("hotline.toml:6: agent[a].queues: no queue named \"nosuch\""), "{e}");
    let e = err("[[queue]]\nname = \"q\"\n  [[queue.overflow]]\n  to = \"elsewhere\"\n");
    assert!(e.starts_with("hotline.toml:4: queue[q].overflow.to:"), "{e}");
    let e = err("[[queue]]\nname = \"q\"\n[owners]\n\"0901\" = \"ghost\"\n");
    assert!(e.starts_with("hotline.toml:4: owners.0901: no agent named \"ghost\""), "{e}");
}

#[test]
fn meaning_errors_are_named() {
    let e = err("[[queue]]\nname = \"q\"\n[[queue]]\nname = \"q\"\n");
    assert!(e.starts_with("hotline.toml:4: queue.name: duplicate queue"), "{e}");
    let e = err("[[queue]]\nname = \"q\"\nstrategy = \"skills\"\n");
    assert!(e.contains("queue[q].skill"), "{e}");
    let e = err("[[queue]]\nname = \"q\"\n[[agent]]\nname = \"a\"\ncontact = \"PJSIP/1\"\nskills = { x = 11 }\n");
    assert!(e.starts_with("hotline.toml:6: agent[a].skills.x: proficiency is 1-10"), "{e}");
    let e = err("[[queue]]\nname = \"q\"\nskill = \"billing\"\nmin_proficiency = 5\n[[agent]]\nname = \"a\"\ncontact = \"PJSIP/1\"\nqueues = [\"q\"]\nskills = { billing = 2 }\n");
    assert!(e.contains("agent[a].skills.billing") && e.contains(">= 5"), "{e}");
}

#[test]
fn the_shipped_configurations_load() {
    for f in ["dialplan/hotline.toml", "dialplan/freeswitch/hotline.toml", "tests/sim/callcenter.toml", "tests/pbx/asterisk/hotline.toml"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(f);
        Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    }
    let e = Config::load(std::path::Path::new("/nonexistent/hotline.toml")).unwrap_err().to_string();
    assert!(e.starts_with("/nonexistent/hotline.toml:0: cannot read"), "{e}");
}

#[test]
fn store_section_is_checked_like_the_rest() {
    let e = err("[[queue]]\nname = \"q\"\n\n[store]\nenabled = true\npaht = \"/var/lib/hotline.db\"\n");
    assert!(e.starts_with("hotline.toml:6: paht:"), "{e}");
    assert!(e.contains("unknown field") && e.contains("path"), "{e}");
    let e = err("[store]\nenabled = \"yes\"\n");
    assert!(e.starts_with("hotline.toml:2: enabled:"), "{e}");
    let e = err("[store]\npath = \" \"\n");
    assert!(e.starts_with("hotline.toml:2: store.path: empty path"), "{e}");

    let cfg = Config::parse("", "hotline.toml").unwrap();
    assert_eq!(cfg.store, hotline::core::config::StoreConfig { path: None, enabled: true });
    let cfg = Config::parse("[store]\npath = \"/tmp/h.db\"\nenabled = false\n", "hotline.toml").unwrap();
    assert_eq!(cfg.store.path.as_deref(), Some(std::path::Path::new("/tmp/h.db")));
    assert!(!cfg.store.enabled);
}

const HTTP_BASE: &str = "[[queue]]\nname = \"q\"\n[[agent]]\nname = \"a\"\ncontact = \"PJSIP/1\"\nqueues = [\"q\"]\n";

#[test]
fn the_web_port_reads_its_section() {
    let text = format!(
        "{HTTP_BASE}[http]\nlisten = \"127.0.0.1:0\"\nmax_body_bytes = 1024\n[[http.token]]\ntoken = \"0123456789abcdef\"\nrole = \"supervisor\"\nqueues = [\"q\"]\nname = \"floor\"\n[[http.token]]\ntoken = \"fedcba9876543210\"\nrole = \"agent\"\nagent = \"a\"\n"
    );
    let cfg = Config::parse(&text, "hotline.toml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.http.listen, Some("127.0.0.1:0".parse().unwrap()));
    assert_eq!(cfg.http.max_body_bytes, 1024);
    assert_eq!(cfg.http.request_timeout, std::time::Duration::from_secs(10));
    assert_eq!(cfg.http.tokens.len(), 2);
    assert_eq!(cfg.http.tokens[0].queues, vec!["q".to_string()]);
    assert_eq!(cfg.http.tokens[1].agent.as_deref(), Some("a"));
    assert!(!format!("{:?}", cfg.http).contains("0123456789abcdef"), "Debug shows no secret");
    assert_eq!(Config::parse(HTTP_BASE, "t").unwrap().http.listen, None, "off by default");
}

#[test]
fn web_port_errors_are_named() {
    let token = |body: &str| format!("{HTTP_BASE}[http]\nlisten = \"127.0.0.1:8090\"\n[[http.token]]\n{body}");
    let e = err(&token("token = \"0123456789abcdef\"\nrole = \"boss\"\n"));
    assert!(e.starts_with("hotline.toml:11: role:") && e.contains("boss"), "{e}");
    let e = err(&token("token = \"short\"\nrole = \"admin\"\n"));
    assert!(e.starts_with("hotline.toml:10: http.token[admin token #1].token: at least 16 characters"), "{e}");
    let e = err(&token("token = \"0123456789abcdef\"\nrole = \"agent\"\n"));
    assert!(e.starts_with("hotline.toml:9: http.token[agent token #1].agent: role \"agent\" needs"), "{e}");
    let e = err(&token("token = \"0123456789abcdef\"\nrole = \"agent\"\nagent = \"ghost\"\n"));
    assert!(e.starts_with("hotline.toml:12: http.token[agent token #1].agent: no agent named \"ghost\""), "{e}");
    let e = err(&token("token = \"0123456789abcdef\"\nrole = \"viewer\"\nqueues = [\"nosuch\"]\n"));
    assert!(e.starts_with("hotline.toml:12: http.token[viewer token #1].queues: no queue named"), "{e}");
    let e = err(&format!("{HTTP_BASE}[http]\nlisten = \"127.0.0.1:8090\"\ntls_cert = \"/etc/hotline/cert.pem\"\n"));
    assert!(e.starts_with("hotline.toml:9: http.tls_key: tls_cert needs tls_key"), "{e}");
    let e = err(&format!("{HTTP_BASE}[http]\nlisten = \"localhost\"\n"));
    assert!(e.starts_with("hotline.toml:8: http.listen:"), "{e}");
    let e = err(&format!("{HTTP_BASE}[http]\nlisten = \"127.0.0.1:8090\"\n"));
    assert!(e.starts_with("hotline.toml:8: http.token: the web port needs at least one"), "{e}");
    let e = err(&format!("{HTTP_BASE}[http]\nlisen = \"127.0.0.1:8090\"\n"));
    assert!(e.starts_with("hotline.toml:8:") && e.contains("lisen"), "{e}");
}

#[test]
fn agent_announcements_and_auto_answer_are_checked() {
    let e = err("[[queue]]\nname = \"q\"\nagent_announce = \"data:\"\n");
    assert!(e.starts_with("hotline.toml:3: queue[q].agent_announce:"), "{e}");
    let e = err("[[queue]]\nname = \"q\"\nauto_answer = \"yes\"\n");
    assert!(e.starts_with("hotline.toml:3: auto_answer:"), "{e}");
    let e = err("[[queue]]\nname = \"q\"\n[[agent]]\nname = \"a\"\ncontact = \"PJSIP/1\"\nauto_answer = 1\n");
    assert!(e.starts_with("hotline.toml:6: auto_answer:"), "{e}");
    let cfg = Config::parse(
        "[[queue]]\nname = \"q\"\nagent_announce = \"queue\"\nauto_answer = true\n[[agent]]\nname = \"a\"\ncontact = \"PJSIP/1\"\nauto_answer = false\n",
        "hotline.toml",
    )
    .expect("valid");
    let q = cfg.queue("q").expect("q");
    assert_eq!(q.agent_announce, Some(hotline::core::agent_announce::AgentAnnounce::QueueName));
    assert!(q.auto_answer);
    assert_eq!(cfg.agents[0].auto_answer, Some(false));
}

/// Sound files that are not there are load errors with their line and
/// key, where the PBX would look (here an Asterisk sounds directory and,
/// without a PBX, absolute paths); a reload naming one is refused and the
/// configuration in force stays.
#[test]
fn missing_sound_files_are_named_and_refused_at_load_and_reload() {
    use hotline::ivr::sounds::{check, SoundLayout};
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("hotline-missing-sounds-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(dir.join("sounds/en")).expect("dir");
    std::fs::write(dir.join("sounds/en/welcome.gsm"), b"x").expect("sound");
    std::fs::write(dir.join("own.wav"), b"RIFF").expect("sound");
    let menu = |greet: &str| {
        format!(
            "[store]\nenabled = false\n[[queue]]\nname = \"q\"\n[[menu]]\nname = \"main\"\ngreet_long = [\"welcome\", {greet}]\n  \
             [[menu.entry]]\n  digits = \"1\"\n  action = \"queue\"\n  target = \"q\"\n"
        )
    };
    let asterisk = SoundLayout::Asterisk { dir: dir.join("sounds") };
    let cfg = Config::parse(&menu("\"text:spoken\""), "hotline.toml").expect("valid");
    check(&cfg, &asterisk).expect("welcome is in en/");
    let cfg = Config::parse(&menu("\"welcom\""), "hotline.toml").expect("parses");
    let e = check(&cfg, &asterisk).expect_err("a typo").to_string();
    assert!(e.starts_with("hotline.toml:7: menu[main].greet_long: sound file \"welcom\" not found"), "{e}");

    // The service (no PBX): absolute paths.
    let path = dir.join("hotline.toml");
    let own = format!("\"{}\"", dir.join("own").display());
    std::fs::write(&path, menu(&own)).expect("config");
    let service = hotline::service::Service::start(path.clone()).expect("own.wav is there");
    let gone = format!("\"{}\"", dir.join("gone.wav").display());
    std::fs::write(&path, menu(&gone)).expect("config");
    let e = service.reload().expect_err("a missing sound").to_string();
    assert!(e.contains(":7: menu[main].greet_long: sound file") && e.contains("gone.wav"), "{e}");
    let in_force = service.config();
    assert!(in_force.ivr.sounds.iter().any(|s| s.name.ends_with("/own")), "the old configuration stays: {:?}", in_force.ivr.sounds);
    drop(service);
    let e = hotline::service::Service::start(path).err().expect("refused at load").to_string();
    assert!(e.contains(":7: menu[main].greet_long: sound file") && e.contains("gone.wav"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Say prompts and read-backs are noted where written: in a configuration
/// that speaks Vietnamese or Chinese they need espeak-ng at load.
#[test]
fn say_prompts_and_the_languages_they_are_said_in_are_known() {
    let cfg = Config::parse(
        "[[queue]]\nname = \"q\"\n[[menu]]\nname = \"m\"\ngreet_long = [\"say:number:5\"]\n  [[menu.entry]]\n  digits = \"1\"\n  action = \"language\"\n  target = \"zh_CN\"\n  [[menu.entry]]\n  digits = \"2\"\n  action = \"collect\"\n  target = \"c\"\n\
         [[collect]]\nname = \"c\"\ninto = \"x\"\nread_back = true\nnext = { action = \"hangup\" }\n\
         [[route]]\nname = \"r\"\ndefault = { action = \"hangup\" }\n  [[route.rule]]\n  language = \"vi\"\n  then = { action = \"hangup\" }\n",
        "hotline.toml",
    )
    .expect("valid");
    assert_eq!(cfg.ivr.says, vec![(5, "menu[m].greet_long".to_string()), (17, "collect[c].read_back".to_string())]);
    let mut langs = cfg.ivr.languages();
    langs.sort();
    assert_eq!(langs, ["vi", "zh_CN"]);
    use hotline::ivr::say::Lang;
    assert_eq!(cfg.ivr.say_languages(), [Lang::Vi, Lang::Zh]);
    let plain = Config::parse("[[queue]]\nname = \"q\"\n", "hotline.toml").expect("valid");
    assert!(plain.ivr.says.is_empty() && plain.ivr.say_languages().is_empty());
}

#[test]
fn webhooks_are_checked_where_they_are_written() {
    let q = "[[queue]]\nname = \"q\"\n";
    let ok = format!("{q}[[webhook]]\nname = \"crm\"\nurl = \"https://crm.example/h\"\nsecret = \"whsec_0123456789abcdef\"\n");
    let cfg = Config::parse(&ok, "hotline.toml").expect("a minimal webhook");
    assert_eq!((cfg.webhooks[0].timeout_ms, cfg.webhooks[0].concurrency, cfg.webhooks[0].events.len()), (5000, 4, 9));
    let e = err(&format!("{q}[[webhook]]\nname = \"crm\"\nurl = \"ftp://x\"\nsecret = \"whsec_0123456789abcdef\"\n"));
    assert!(e.starts_with("hotline.toml:5: webhook.crm.url:"), "{e}");
    let e = err(&format!("{q}[[webhook]]\nname = \"crm\"\nurl = \"https://x/\"\nsecret = \"whsec_0123456789abcdef\"\nevents = [\"answered\", \"rang\"]\n"));
    assert!(e.starts_with("hotline.toml:7: webhook.crm.events:") && e.contains("\"rang\""), "{e}");
    let e = err(&format!("{q}[[webhook]]\nname = \"crm\"\nurl = \"https://x/\"\nsecret = \"short\"\n"));
    assert!(e.starts_with("hotline.toml:6: webhook.crm.secrets:"), "{e}");
    let e = err(&format!("{q}[[webhook]]\nname = \"crm\"\nurl = \"https://x/\"\n"));
    assert!(e.contains("webhook.crm.secrets: required"), "{e}");
    let e = err(&format!("{q}[[webhook]]\nname = \"crm\"\nurl = \"https://x/\"\nsecrets = [\"whsec_0123456789abcdef\"]\nqueues = [\"nosuch\"]\n"));
    assert!(e.starts_with("hotline.toml:7: webhook.crm.queues: no queue named \"nosuch\""), "{e}");
    let e = err(&format!("{q}[[webhook]]\nname = \"crm\"\nurl = \"https://x/\"\nsecret = \"whsec_0123456789abcdef\"\ntimeout_ms = 0\n"));
    assert!(e.starts_with("hotline.toml:7: webhook.crm.timeout_ms:"), "{e}");
    let e = err(&format!("{ok}[[webhook]]\nname = \"crm\"\nurl = \"https://y/\"\nsecret = \"whsec_0123456789abcdef\"\n"));
    assert!(e.contains("webhook.crm.name: a second webhook"), "{e}");
    let e = err(&format!("[store]\nenabled = false\n{ok}"));
    assert!(e.contains("webhook: webhooks are delivered from an outbox in the store"), "{e}");
}

#[test]
fn popup_urls_are_checked_where_they_are_written() {
    let e = err("[[queue]]\nname = \"q\"\npopup_url = \"https://crm/{callr}\"\n");
    assert!(e.starts_with("hotline.toml:3: queue[q].popup_url:") && e.contains("unknown placeholder {callr}"), "{e}");
    let e = err("[[queue]]\nname = \"q\"\n[[agent]]\nname = \"a\"\ncontact = \"PJSIP/1\"\nqueues = [\"q\"]\npopup_url = \"crm/{caller}\"\n");
    assert!(e.starts_with("hotline.toml:7: agent[a].popup_url:"), "{e}");
}
