//! `local()`: echo, streaming, results, failures.

use crate::test::Test;

#[test]
fn echoes_streams_and_returns_the_result() {
    Test::new()
        .fabfile(
            r#"
            fn t() {
                let r = local("printf 'one\\ntwo\\n'");
                print(`stdout=${r.stdout} code=${r.code} ok=${r.ok} failed=${r.failed} command=${r.command}`);
                print(`as string: ${r}`);
            }
            "#,
        )
        .args(&["t"])
        .stdout(
            "
            [localhost] local: printf 'one\\ntwo\\n'
            [localhost] out: one
            [localhost] out: two
            stdout=one
            two code=0 ok=true failed=false command=printf 'one\\ntwo\\n'
            as string: one
            two

            Done.
            ",
        )
        .run();
}

#[test]
fn stderr_is_prefixed_and_captured() {
    Test::new()
        .fabfile(
            r#"fn t() { let r = local("echo oops >&2"); print(`[${r.stderr}] [${r.stdout}]`); }"#,
        )
        .args(&["t"])
        .stdout(
            "
            [localhost] local: echo oops >&2
            [localhost] err: oops
            [oops] []

            Done.
            ",
        )
        .run();
}

#[test]
fn a_failed_command_aborts_the_task() {
    Test::new()
        .fabfile(
            r#"
            fn t() {
                local("exit 3");
                print("not reached");
            }
            "#,
        )
        .args(&["t"])
        .status(1)
        .stdout("[localhost] local: exit 3\n")
        .stderr(
            r#"
            Fatal error: local() failed: `exit 3` exited with status 3
             --> fabfile.rhai:2:5
              |
            2 |     local("exit 3");
              |     ^

            Aborting.
            "#,
        )
        .run();
}

#[test]
fn warn_only_returns_the_failure() {
    Test::new()
        .fabfile(r#"fn t() { let r = local("exit 3", #{ warn_only: true }); print(`code ${r.code} failed ${r.failed}`); }"#)
        .args(&["t"])
        .stdout(
            "
            [localhost] local: exit 3
            code 3 failed true

            Done.
            ",
        )
        .stderr("Warning: local() failed: `exit 3` exited with status 3\n")
        .run();
}

#[test]
fn dash_w_makes_every_command_warn_only() {
    Test::new()
        .fabfile(r#"fn t() { local("false"); print("went on"); }"#)
        .args(&["-w", "t"])
        .stdout(
            "
            [localhost] local: false
            went on

            Done.
            ",
        )
        .stderr("Warning: local() failed: `false` exited with status 1\n")
        .run();
}

#[test]
fn quiet_prints_nothing_and_does_not_abort() {
    Test::new()
        .fabfile(r#"fn t() { let r = local("echo hidden; exit 2", #{ quiet: true }); print(`${r.stdout} ${r.code}`); }"#)
        .args(&["t"])
        .stdout(
            "
            hidden 2

            Done.
            ",
        )
        .stderr("")
        .run();
}

#[test]
fn shell_option_chooses_the_shell() {
    Test::new()
        .fabfile(r#"fn t() { print(local("echo $0", #{ shell: "/bin/bash -c", quiet: true }).stdout); }"#)
        .args(&["t"])
        .stdout(
            "
            /bin/bash

            Done.
            ",
        )
        .run();
}

#[test]
fn a_command_killed_by_a_signal_is_a_failure_naming_it() {
    let ran = Test::new()
        .fabfile(r#"fn t() { local("kill -9 $$"); }"#)
        .args(&["t"])
        .status(1)
        .run();
    assert!(
        ran.stderr
            .starts_with("Fatal error: local() failed: `kill -9 $$` was killed by signal 9\n"),
        "{}",
        ran.stderr
    );
}

#[test]
fn unknown_option_is_named() {
    Test::new()
        .fabfile(r#"fn t() { local("true", #{ warnonly: true }); }"#)
        .args(&["t"])
        .status(1)
        .stderr_starts_with(
            "Fatal error: local(): unknown option `warnonly` (known: warn_only, quiet, shell, output_limit)\n",
        )
        .run();
}

#[test]
fn large_output_on_both_streams_does_not_block() {
    Test::new()
        .fabfile(
            r#"
            fn t() {
                let r = local("head -c 3000000 /dev/zero | tr '\\0' a; head -c 3000000 /dev/zero | tr '\\0' b >&2", #{ quiet: true });
                print(`${r.stdout.len()} ${r.stderr.len()}`);
            }
            "#,
        )
        .args(&["t"])
        .stdout(
            "
            3000000 3000000

            Done.
            ",
        )
        .run();
}

#[test]
fn the_command_reads_rfabs_stdin() {
    Test::new()
        .fabfile(r#"fn t() { local("tr a-z A-Z"); }"#)
        .stdin("shout\n")
        .args(&["t"])
        .stdout(
            "
            [localhost] local: tr a-z A-Z
            [localhost] out: SHOUT

            Done.
            ",
        )
        .run();
}
