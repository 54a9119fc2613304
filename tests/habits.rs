//! Python habits a fabfile needs, as rfab gives them: join, `%` and `{}` formatting,
//! regular expressions, sleep (Ctrl-C ends it), time, local files, paths, getenv, JSON, INI.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::signals::{Cleanup, signal, wait_for_exit};
use crate::test::Test;

fn prints(fabfile: &str, expected: &str) {
    Test::new()
        .fabfile(fabfile)
        .args(&["--hide", "everything", "--show", "user", "t"])
        .stdout(expected)
        .run();
}

#[test]
fn join_and_formatting_as_python_writes_them() {
    prints(
        r#"
        fn t() {
            print(["web1", 2, true].join(", "));
            print([].join("-") == "");
            print("%-6s|%5.1f%%|%03d|%x" % ["web1", 99.5, 7, 255]);
            print("%(host)s:%(port)d" % #{ host: "web1", port: 22 });
            print(sprintf("release-%s-%03d", ["v3.0.1", 7]));
            print("{} is on {}".format("web1", "v3.0.1"));
            print("{host}:{port}".format(#{ host: "web1", port: 22 }));
            print("{:>6}|{:.2f}|{:*^7}|{{}}".format("ab", 2.5051, "mid"));
            print(format_all("{}/{}/{}/{}/{}", ["a", "b", "c", "d", "e"]));
        }
        "#,
        "web1, 2, true\ntrue\nweb1  | 99.5%|007|ff\nweb1:22\nrelease-v3.0.1-007\nweb1 is on v3.0.1\nweb1:22\n    ab|2.51|**mid**|{}\na/b/c/d/e\n",
    );
}

#[test]
fn a_format_short_of_values_is_an_error_naming_the_format() {
    Test::new()
        .fabfile(r#"fn t() { print("%s and %s" % ["one"]); }"#)
        .args(&["t"])
        .status(1)
        .stderr_starts_with(
            "Fatal error: `%` formatting: `%s and %s` needs more than the 1 values given",
        )
        .run();
}

#[test]
fn regular_expressions_match_capture_replace_and_split() {
    prints(
        r#"
        fn t() {
            print(regex_match("kernel 6.1.0", `^kernel 6\.`));
            print(regex_match("kernel 5.10", `^kernel 6\.`));
            print(regex_captures("nginx/1.22.1", `(\d+)\.(\d+)(x)?`));
            print(regex_captures("none", `\d`) == ());
            print(regex_named("web1:8080", `(?P<host>\w+):(?P<port>\d+)`));
            print(regex_find_all("v1.2 and v1.10", `v\d+\.\d+`));
            print(regex_replace("a=1, b=2", `(\w+)=(\w+)`, "${2}=${1}"));
            print(regex_split("a, b;c", `[,;]\s*`));
            print("it's a\nb".regex_replace(`\n`, " / "));
        }
        "#,
        "true\nfalse\n[\"1.22\", \"1\", \"22\", ()]\ntrue\n#{\"host\": \"web1\", \"port\": \"8080\"}\n[\"v1.2\", \"v1.10\"]\n1=a, 2=b\n[\"a\", \"b\", \"c\"]\nit's a / b\n",
    );
    Test::new()
        .fabfile(r#"fn t() { regex_match("x", "(unclosed"); }"#)
        .args(&["t"])
        .status(1)
        .stderr_starts_with("Fatal error: regex_match(): `(unclosed` is not a regular expression rfab reads: regex parse error:")
        .run();
}

#[test]
fn local_files_paths_and_the_environment() {
    let test = Test::new()
        .fabfile(
            r#"
            fn t() {
                write_file("out dir/it's.txt", "line 1\n");
                append_file("out dir/it's.txt", "line 2\n");
                print(read_file("out dir/it's.txt"));
                print([local_exists("out dir/it's.txt"), local_exists("nope"), local_is_dir("out dir")]);
                print(list_dir("listing"));
                print(path_join(["/etc", "nginx", "app.conf"]));
                print(path_join("/srv/app", "/abs"));
                print([basename("/srv/app/v3"), basename("/srv/app/"), dirname("/srv/app/v3"), dirname("/x"), dirname("x")]);
                print(getenv("RFAB_HABITS_TEST"));
                print(getenv("RFAB_HABITS_UNSET") == ());
                print(getenv("RFAB_HABITS_UNSET", "fallback"));
                lcd("listing", || print(read_file("b")));
            }
            "#,
        )
        .file("out dir/.keep", "")
        .file("listing/b", "bee\n")
        .file("listing/a", "")
        .env("RFAB_HABITS_TEST", "set it's")
        .args(&["--hide", "everything", "--show", "user", "t"])
        .stdout(
            "line 1\nline 2\n\n[true, false, true]\n[\"a\", \"b\"]\n/etc/nginx/app.conf\n/abs\n[\"v3\", \"\", \"/srv/app\", \"/\", \"\"]\nset it's\ntrue\nfallback\nbee\n\n",
        );
    let ran = test.run();
    assert_eq!(
        std::fs::read_to_string(ran.dir.path().join("out dir/it's.txt")).expect("written"),
        "line 1\nline 2\n"
    );
}

#[test]
fn dry_run_writes_no_local_file() {
    let ran = Test::new()
        .fabfile(r#"fn t() { write_file("never", "x"); }"#)
        .args(&["--dry-run", "t"])
        .run();
    assert!(!ran.dir.path().join("never").exists());
    assert!(
        ran.stdout
            .contains("[localhost] write_file: 1 bytes -> never"),
        "{}",
        ran.stdout
    );
}

#[test]
fn json_and_ini() {
    prints(
        r#"
        fn t() {
            let data = parse_json(`{"hosts": ["web1", "web2"], "port": 22}`);
            print(data.hosts[1]);
            print(data.hosts.to_json());
            print(#{ a: 1 }.to_json());
            print(to_json_pretty(#{ a: [1] }));
            let ini = parse_ini("[DEFAULT]\nregion = eu\n[app]\nversion = 3.0.1 ; not a comment\n# comment\n");
            print(ini.app.version);
            print(ini.app.region);
        }
        "#,
        "web2\n[\"web1\",\"web2\"]\n{\"a\":1}\n{\n  \"a\": [\n    1\n  ]\n}\n3.0.1 ; not a comment\neu\n",
    );
}

#[test]
fn time_as_text_local_and_utc() {
    let ran = Test::new()
        .fabfile(
            r#"fn t() { print(strftime("%Y-%m-%d %H:%M")); print(strftime_utc("%Y%m%dT%H%M%SZ")); print(unix_time() > 1700000000); }"#,
        )
        .env("TZ", "UTC")
        .args(&["--hide", "everything", "--show", "user", "t"])
        .run();
    let pattern =
        regex::Regex::new(r"\A\d{4}-\d\d-\d\d \d\d:\d\d\n\d{8}T\d{6}Z\ntrue\n\z").expect("regex");
    assert!(pattern.is_match(&ran.stdout), "{}", ran.stdout);
    Test::new()
        .fabfile(r#"fn t() { strftime("%Q"); }"#)
        .args(&["t"])
        .status(1)
        .stderr_starts_with("Fatal error: strftime(): `%Q` has a `%` code strftime does not know; write `%%` for a percent sign")
        .run();
}

#[test]
fn sleep_waits_and_ctrl_c_ends_it_at_once() {
    prints(
        r#"fn t() { let s = timestamp(); sleep(0.2); sleep(0); print(s.elapsed >= 0.2); }"#,
        "true\n",
    );
    let test = Test::new()
        .fabfile(r#"fn t() { write_file("started", ""); sleep(600); print("not reached"); }"#)
        .args(&["t"]);
    let started = test.path().join("started");
    let mut rfab = test
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rfab starts");
    let _cleanup = Cleanup(vec![rfab.id()]);
    crate::sshd::eventually("the task to start sleeping", || {
        started.exists().then_some(())
    });
    let sent = Instant::now();
    signal(rfab.id(), "INT");
    assert_eq!(wait_for_exit(&mut rfab), 130);
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "sleep went on after Ctrl-C"
    );
}
