//! `execute()`: a task running another task on that task's own hosts.

use crate::test::Test;

#[test]
fn runs_on_the_given_hosts_and_returns_per_host_results() {
    Test::new()
        .fabfile(
            r#"
            import "proxy" as proxy;
            fn release() {
                let results = execute("revision", ["v1"], #{ hosts: ["a", "b"] });
                print(results);
                print(execute("proxy.flip"));
            }
            fn revision(tag) { `${tag}@${env.host}` }
            "#,
        )
        .file("proxy.rhai", "fn flip() { \"flipped\" }")
        .args(&["release"])
        .stdout(
            r#"
            [a] Executing task 'revision'
            [b] Executing task 'revision'
            #{"a": "v1@a", "b": "v1@b"}
            #{"<local-only>": "flipped"}

            Summary:
                a  ok  TIME  revision
                b  ok  TIME  revision
                2 hosts: 2 ok

            Done.
            "#,
        )
        .mask_times()
        .run();
}

#[test]
fn uses_the_task_tags_and_env() {
    Test::new()
        .fabfile(
            r#"
            fn prod() { env.roledefs = #{ db: ["db1"] }; }
            fn release() { execute("migrate"); }
            /// @roles(db)
            fn migrate() { puts("migrating"); }
            "#,
        )
        .args(&["prod", "release"])
        .stdout(
            "
            [db1] Executing task 'migrate'
            [db1] migrating

            Summary:
                db1  ok  TIME  migrate

            Done.
            ",
        )
        .mask_times()
        .run();
}

#[test]
fn a_failure_inside_names_task_and_host() {
    Test::new()
        .fabfile(
            r#"
            fn release() {
                execute("check", [], #{ host: "web2" });
            }
            fn check() {
                abort("disk full");
            }
            "#,
        )
        .args(&["release"])
        .status(1)
        .stdout(
            "[web2] Executing task 'check'\n\nSummary:\n    web2  failed  TIME  check: disk full\n",
        )
        .mask_times()
        .stderr(
            "
            Fatal error: disk full

            Aborting.
            ",
        )
        .run();
}

#[test]
fn unknown_task_and_wrong_arity_are_errors() {
    Test::new()
        .fabfile(r#"fn t() { execute("nope"); }"#)
        .args(&["t"])
        .status(1)
        .stderr_starts_with("Fatal error: unknown task `nope`")
        .run();
    let ran = Test::new()
        .fabfile(r#"fn t() { execute("u", [1]); } fn u() {}"#)
        .args(&["t"])
        .status(1)
        .run();
    assert!(
        ran.stderr
            .starts_with("Fatal error: task `u` takes no arguments, but 1 was given"),
        "{}",
        ran.stderr
    );
}

/// `execute()` ran only tasks; Fabric's `execute(callable)` runs any function, and a
/// closure sees the host it runs on in `env`.
#[test]
fn runs_a_function_or_a_closure_on_each_host() {
    Test::new()
        .fabfile(
            r#"
            /// @task
            fn release() {
                print(execute(Fn("revision"), ["v1"], #{ hosts: ["a", "b"] }));
                let tag = "v2";
                print(execute(|| `${tag}@${env.host}`, [], #{ host: "c" }));
            }
            fn revision(tag) { `${tag}@${env.host}` }
            "#,
        )
        .args(&["release"])
        .stdout(
            r#"
            [a] Executing task 'revision'
            [b] Executing task 'revision'
            #{"a": "v1@a", "b": "v1@b"}
            [c] Executing task 'closure'
            #{"c": "v2@c"}

            Summary:
                a  ok  TIME  revision
                b  ok  TIME  revision
                c  ok  TIME  closure
                3 hosts: 3 ok

            Done.
            "#,
        )
        .mask_times()
        .run();
}

/// `hide("running,user", || execute("u"))` still printed the executed task's lines: in
/// Fabric the settings around `execute()` hold for what it runs.
#[test]
fn scoped_settings_hold_for_what_execute_runs() {
    Test::new()
        .fabfile(
            r#"
            fn t() {
                hide("running,user", || execute("u", [], #{ host: "w1" }));
                env.stage = "prod";
                settings(#{ stage: "qa" }, || execute(Fn("stage_of"), [], #{ host: "w2" }));
            }
            fn u() { puts("hidden"); }
            fn stage_of() { puts(`stage ${env.stage}`); }
            "#,
        )
        .args(&["t"])
        .stdout(
            "
            [w2] Executing task 'stage_of'
            [w2] stage qa

            Summary:
                w1  ok  TIME  u
                w2  ok  TIME  stage_of
                2 hosts: 2 ok

            Done.
            ",
        )
        .mask_times()
        .run();
}

/// A `@runs_once` task that each host `execute()`d ran once per host: in Fabric it runs
/// once, and later calls get what it returned.
#[test]
fn a_runs_once_task_executed_from_every_host_runs_once() {
    Test::new()
        .fabfile(
            r#"
            /// @runs_once
            fn build() { print("building"); "b1" }
            fn deploy() { print(execute("build")); }
            "#,
        )
        .args(&["-H", "a,b", "--hide", "running", "deploy"])
        .stdout_regex(
            r#"
            building
            #\{"a": "b1"\}
            #\{"a": "b1"\}
            .*"#,
        )
        .run();
}
