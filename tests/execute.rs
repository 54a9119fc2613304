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
