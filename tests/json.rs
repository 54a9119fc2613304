//! `--json`, the contract CI reads: every line of stdout is an event that `docs/json-schema.json`
//! (described in `docs/json.md`) allows, the first is `start`, the last is `end` with the
//! process's exit status. Each scenario here checks its whole stream with [`check`], and so do
//! the other tests that use `--json`.

use std::io::Read;
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};

use regex::Regex;
use serde_json::{Map, Value};

use crate::signals::{Cleanup, signal, wait_for_exit};
use crate::sshd::{Fleet, Host, eventually};
use crate::test::Test;

const SCHEMA_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/json-schema.json");
const DOCS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/json.md");

fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let text = std::fs::read_to_string(SCHEMA_FILE).expect("docs/json-schema.json");
        serde_json::from_str(&text).expect("docs/json-schema.json is JSON")
    })
}

/// Checks a whole `--json` stdout against the schema and returns its events: each line one
/// event the schema knows, with exactly its fields and their types, `ts` in RFC 3339 UTC
/// with milliseconds; `start` first, `end` last with `exit` equal to `status`.
pub(crate) fn check(stdout: &str, status: i32) -> Vec<Value> {
    let events: Vec<Value> = stdout
        .lines()
        .map(|line| {
            let event: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line: {line:?}: {e}\n{stdout}"));
            check_event(&event).unwrap_or_else(|e| panic!("{e}\nin: {line}\n{stdout}"));
            event
        })
        .collect();
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        panic!("no events:\n{stdout}");
    };
    assert_eq!(first["event"], "start", "first event\n{stdout}");
    assert_eq!(first["schema"], schema()["schema"], "{stdout}");
    assert_eq!(last["event"], "end", "last event\n{stdout}");
    assert_eq!(last["exit"], status, "end's exit status\n{stdout}");
    assert_eq!(
        events.iter().filter(|e| e["event"] == "start").count()
            + events.iter().filter(|e| e["event"] == "end").count(),
        2,
        "one start, one end\n{stdout}"
    );
    events
}

fn check_event(event: &Value) -> Result<(), String> {
    let object = event.as_object().ok_or("an event is an object")?;
    let name = object
        .get("event")
        .and_then(Value::as_str)
        .ok_or("no `event` name")?;
    let fields = schema()["events"]
        .get(name)
        .and_then(Value::as_object)
        .ok_or_else(|| format!("unknown event `{name}`"))?;
    let mut all = schema()["common"]
        .as_object()
        .expect("common fields")
        .clone();
    all.extend(fields.clone());
    check_object(object, &all, name)?;
    let ts = object["ts"].as_str().unwrap_or_default();
    let format = Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$").expect("regex");
    if !format.is_match(ts) {
        return Err(format!("`ts` {ts:?} is not RFC 3339 UTC with milliseconds"));
    }
    Ok(())
}

fn check_object(
    object: &Map<String, Value>,
    spec: &Map<String, Value>,
    at: &str,
) -> Result<(), String> {
    for key in object.keys() {
        if !spec.contains_key(key) {
            return Err(format!(
                "`{at}` has a field the schema does not list: `{key}`"
            ));
        }
    }
    for (key, want) in spec {
        let value = object
            .get(key)
            .ok_or_else(|| format!("`{at}` lacks `{key}`"))?;
        check_value(value, want, &format!("{at}.{key}"))?;
    }
    Ok(())
}

fn check_value(value: &Value, want: &Value, at: &str) -> Result<(), String> {
    match want {
        Value::String(types) => {
            let fits = types.split('|').any(|t| match t {
                "string" => value.is_string(),
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                "boolean" => value.is_boolean(),
                "null" => value.is_null(),
                other => panic!("unknown type `{other}` in the schema at {at}"),
            });
            if fits {
                Ok(())
            } else {
                Err(format!("`{at}` is {value}, not {types}"))
            }
        }
        Value::Array(item) => {
            let items = value
                .as_array()
                .ok_or_else(|| format!("`{at}` is {value}, not an array"))?;
            items
                .iter()
                .try_for_each(|v| check_value(v, &item[0], &format!("{at}[]")))
        }
        Value::Object(spec) => {
            let object = value
                .as_object()
                .ok_or_else(|| format!("`{at}` is {value}, not an object"))?;
            check_object(object, spec, at)
        }
        other => panic!("the schema at {at} is {other}, not a type"),
    }
}

fn named<'a>(events: &'a [Value], name: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == name).collect()
}

fn names(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap_or_default())
        .collect()
}

#[test]
fn the_docs_describe_every_event_and_field_of_the_schema() {
    let docs = std::fs::read_to_string(DOCS).expect("docs/json.md");
    let events = schema()["events"].as_object().expect("events");
    for (name, fields) in events {
        let heading = format!("### `{name}`");
        let start = docs
            .find(&heading)
            .unwrap_or_else(|| panic!("docs/json.md has no `{heading}`"));
        let section = &docs[start + heading.len()..];
        let section = &section[..section.find("\n### ").unwrap_or(section.len())];
        for field in fields.as_object().expect("fields").keys() {
            assert!(
                section.contains(&format!("`{field}`")),
                "docs/json.md does not describe `{field}` of `{name}`"
            );
        }
    }
    for field in schema()["common"].as_object().expect("common").keys() {
        assert!(docs.contains(&format!("`{field}`")), "{field}");
    }
}

#[test]
fn a_run_on_hosts_says_which_task_and_host_each_event_belongs_to() {
    let fleet = Fleet::start(2);
    let ran = fleet
        .test()
        .fabfile(
            r#"
            fn t() {
                run("echo hi");
                run("echo no; exit 3", #{ warn_only: true });
                run("echo hush", #{ quiet: true });
                print(`printed on ${env.host_string}`);
                puts("said");
            }
            "#,
        )
        .args(&["--json", "-H", &fleet.host_list(), "t"])
        .run();
    let events = check(&ran.stdout, 0);
    let hosts: Vec<String> = fleet.hosts.iter().map(Host::string).collect();
    let mut want = vec!["start"];
    for _ in &hosts {
        want.extend([
            "task", "command", "output", "result", "command", "output", "result", "warning",
            "message", "message", "task_end",
        ]);
    }
    want.extend(["summary", "done", "disconnect", "disconnect", "end"]);
    assert_eq!(names(&events), want, "{}", ran.stdout);
    for event in &events[1..events.len() - 5] {
        assert_eq!(event["task"], "t", "{event}");
        assert!(hosts.iter().any(|h| event["host"] == h.as_str()), "{event}");
    }
    // Rhai's print() knows no host: the event still says which it ran on.
    for message in named(&events, "message") {
        if let Some(text) = message["text"]
            .as_str()
            .and_then(|t| t.strip_prefix("printed on "))
        {
            assert_eq!(message["host"], text, "{message}");
        }
    }
    // A quiet command says neither that it ran nor how it ended.
    assert!(!ran.stdout.contains("hush"), "{}", ran.stdout);
    let results = named(&events, "result");
    assert_eq!(results[1]["code"], 3);
    assert_eq!(results[1]["ok"], false);
    assert_eq!(results[1]["dry"], false);
    let summary = &named(&events, "summary")[0];
    assert_eq!(summary["dry"], false);
    assert_eq!(
        summary["hosts"][0]["tasks"],
        serde_json::json!([{ "task": "t", "status": "ok" }])
    );
    let start = &events[0];
    assert_eq!(start["tasks"], serde_json::json!(["t"]));
    assert_eq!(start["dry_run"], false);
    assert_eq!(start["task"], Value::Null);
    assert_eq!(ran.stderr, "");
}

#[test]
fn hidden_commands_have_no_result_events() {
    // Regression: `result` came for commands whose `command` event was hidden.
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    let ran = fleet
        .test()
        .fabfile(
            r#"fn t() { run("echo hi"); local("echo there"); run("true", #{ quiet: true }); }"#,
        )
        .args(&["--json", "--hide", "running", "-H", &host, "t"])
        .run();
    let events = check(&ran.stdout, 0);
    assert!(named(&events, "command").is_empty(), "{}", ran.stdout);
    assert!(named(&events, "result").is_empty(), "{}", ran.stdout);
    assert_eq!(named(&events, "output").len(), 2, "{}", ran.stdout);
}

#[test]
fn a_failing_task_ends_with_its_error_and_exit_status() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    let ran = fleet
        .test()
        .fabfile(r#"fn t() { run("exit 4"); }"#)
        .args(&["--json", "-H", &host, "t"])
        .status(1)
        .run();
    let events = check(&ran.stdout, 1);
    assert_eq!(
        names(&events),
        [
            "start",
            "task",
            "command",
            "result",
            "task_end",
            "error",
            "summary",
            "disconnect",
            "end"
        ],
        "{}",
        ran.stdout
    );
    let error = &named(&events, "error")[0];
    assert_eq!(error["task"], "t");
    assert_eq!(error["host"], host.as_str());
    let message = error["message"].as_str().expect("a message");
    assert!(message.contains("exited with status 4"), "{message}");
    let end = events.last().expect("end");
    assert_eq!(end["error"], message);
    assert_eq!(named(&events, "task_end")[0]["status"], "failed");
    assert_eq!(ran.stderr, "");
}

#[test]
fn a_dry_run_says_its_results_and_summary_are_dry() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    let ran = fleet
        .test()
        .fabfile(r#"fn t() { run("touch /never"); local("touch never"); }"#)
        .args(&["--json", "--dry-run", "-H", &host, "t"])
        .run();
    let events = check(&ran.stdout, 0);
    assert_eq!(events[0]["dry_run"], true);
    let results = named(&events, "result");
    assert_eq!(results.len(), 2, "{}", ran.stdout);
    for result in results {
        assert_eq!(result["dry"], true, "{result}");
    }
    let summary = &named(&events, "summary")[0];
    assert_eq!(summary["dry"], true);
    assert_eq!(summary["hosts"][0]["status"], "dry");
    assert!(!ran.dir.path().join("never").exists());
}

#[test]
fn command_line_errors_are_events_under_json() {
    // Regression: clap's usage errors and rfab's own were plain text on stderr.
    let ran = Test::new()
        .args(&["--json", "--no-such-flag", "t"])
        .status(2)
        .run();
    let events = check(&ran.stdout, 2);
    assert_eq!(names(&events), ["start", "error", "end"]);
    let message = events[1]["message"].as_str().expect("a message");
    assert!(
        message.starts_with("unexpected argument '--no-such-flag'"),
        "{message}"
    );
    assert_eq!(events[2]["error"], message);
    assert_eq!(ran.stderr, "");

    let ran = Test::new()
        .fabfile("fn t() {}")
        .args(&["--json", "--hide", "nonsense", "t"])
        .status(2)
        .run();
    let events = check(&ran.stdout, 2);
    assert_eq!(names(&events), ["start", "error", "end"]);
    assert_eq!(ran.stderr, "");
}

#[test]
fn an_unknown_task_is_an_error_event() {
    let ran = Test::new()
        .fabfile("fn deploy() {}")
        .args(&["--json", "deploi"])
        .status(2)
        .run();
    let events = check(&ran.stdout, 2);
    assert_eq!(names(&events), ["start", "error", "end"]);
    let message = events[1]["message"].as_str().expect("a message");
    assert!(message.contains("`deploi`"), "{message}");
    assert_eq!(ran.stderr, "");
}

#[test]
fn a_fabfile_that_does_not_compile_is_an_error_event() {
    let ran = Test::new()
        .fabfile("fn t( {")
        .args(&["--json", "t"])
        .status(2)
        .run();
    let events = check(&ran.stdout, 2);
    assert_eq!(names(&events), ["start", "error", "end"]);
    assert!(
        events[1]["message"]
            .as_str()
            .is_some_and(|m| m.contains("fabfile.rhai")),
        "{}",
        ran.stdout
    );
}

#[test]
fn no_task_lists_the_tasks_as_text_events() {
    let ran = Test::new()
        .fabfile("/// Ships it.\nfn deploy() {}")
        .args(&["--json"])
        .status(2)
        .run();
    let events = check(&ran.stdout, 2);
    assert_eq!(names(&events), ["start", "text", "error", "end"]);
    assert!(
        events[1]["text"]
            .as_str()
            .is_some_and(|t| t.contains("deploy"))
    );
}

#[test]
fn parallel_hosts_keep_their_events_apart() {
    let fleet = Fleet::start(3);
    let ran = fleet
        .test()
        .fabfile(
            r#"fn t() { for i in 0..5 { run(`echo ${i}`); print(`${env.host_string} ${i}`); } }"#,
        )
        .args(&["--json", "-P", "-H", &fleet.host_list(), "t"])
        .run();
    let events = check(&ran.stdout, 0);
    for message in named(&events, "message") {
        let text = message["text"].as_str().expect("text");
        assert_eq!(
            Some(message["host"].as_str().expect("a host")),
            text.split(' ').next(),
            "{message}"
        );
        assert_eq!(message["task"], "t");
    }
    assert_eq!(named(&events, "message").len(), 15);
    assert_eq!(named(&events, "result").len(), 15);
    assert_eq!(named(&events, "task_end").len(), 3);
}

#[test]
fn put_and_get_are_command_events_without_results() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    let test = fleet.test().fabfile(
        r#"fn t() { put("sent.txt", "/tmp/rfab-json-sent.txt"); get("/tmp/rfab-json-sent.txt", "back.txt"); run("rm /tmp/rfab-json-sent.txt", #{ quiet: true }); }"#,
    );
    std::fs::write(test.path().join("sent.txt"), "hello\n").expect("write");
    let ran = test.args(&["--json", "-H", &host, "t"]).run();
    let events = check(&ran.stdout, 0);
    let kinds: Vec<&Value> = named(&events, "command")
        .iter()
        .map(|e| &e["kind"])
        .collect();
    assert_eq!(kinds, ["put", "get"], "{}", ran.stdout);
    assert!(named(&events, "result").is_empty(), "{}", ran.stdout);
}

#[test]
fn the_start_event_never_holds_a_password() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    let ran = fleet
        .test()
        .fabfile("fn t() {}")
        .args(&[
            "--json",
            "-p",
            "hunter2-json",
            "--sudo-password=hunter3-json",
            "-H",
            &host,
            "t",
        ])
        .run();
    check(&ran.stdout, 0);
    assert!(!ran.stdout.contains("hunter"), "{}", ran.stdout);
}

#[test]
fn ctrl_c_ends_the_stream_with_exit_130() {
    let test = Test::new()
        .fabfile(r#"fn t() { local("touch started; sleep 60"); }"#)
        .args(&["--json", "t"]);
    let started = test.path().join("started");
    let mut rfab = test
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rfab starts");
    let _cleanup = Cleanup(vec![rfab.id()]);
    eventually("the command to start", || started.exists().then_some(()));
    signal(rfab.id(), "INT");
    assert_eq!(wait_for_exit(&mut rfab), 130);
    let output = rfab.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let events = check(&stdout, 130);
    assert_eq!(events.last().expect("end")["error"], "interrupted");
}

#[test]
fn a_ctrl_c_that_exits_at_once_still_ends_the_stream() {
    // Regression: the Ctrl-C that exits at once (the third, while `on_abort` cleans up)
    // left the stream without its `end`.
    let fleet = Fleet::start(1);
    let fabfile = "fn work() { on_abort(\"sleep 30.13\"); run(\"sleep 7417\"); }";
    let test =
        fleet
            .test()
            .fabfile(fabfile)
            .args(&["--json", "-H", &fleet.hosts[0].string(), "work"]);
    let mut rfab = test
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rfab starts");
    let _cleanup = Cleanup(vec![rfab.id()]);
    // What rfab says on stderr, read as it comes: the second Ctrl-C is heard when it
    // answers.
    let heard = Arc::new(Mutex::new(String::new()));
    let mut stderr = rfab.stderr.take().expect("stderr");
    let reader = {
        let heard = heard.clone();
        std::thread::spawn(move || {
            let mut chunk = [0; 4096];
            while let Ok(n @ 1..) = stderr.read(&mut chunk) {
                heard
                    .lock()
                    .expect("stderr")
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        })
    };
    eventually("the task's command", || {
        crate::ssh::process_running("sleep 7417").then_some(())
    });
    signal(rfab.id(), "INT");
    eventually("the cleanup to start", || {
        crate::ssh::process_running("sleep 30.13").then_some(())
    });
    signal(rfab.id(), "INT");
    eventually("the second Ctrl-C to be heard", || {
        heard
            .lock()
            .expect("stderr")
            .contains("Still putting the hosts back")
            .then_some(())
    });
    signal(rfab.id(), "INT");
    assert_eq!(wait_for_exit(&mut rfab), 130);
    let output = rfab.wait_with_output().expect("output");
    reader.join().expect("stderr read");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let events = check(&stdout, 130);
    assert_eq!(events.last().expect("end")["error"], "interrupted");
}
