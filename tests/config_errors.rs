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
    for f in ["dialplan/hotline.toml", "tests/sim/callcenter.toml", "tests/pbx/asterisk/hotline.toml"] {
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
