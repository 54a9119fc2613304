//! Every way a run can be refused or fail, each with its exact message.

use crate::test::Test;

#[test]
fn syntax_error_points_at_the_line() {
    Test::new()
        .fabfile(
            "
            fn deploy() {
                let x = (1 + ;
            }
            ",
        )
        .args(&["deploy"])
        .status(2)
        .stdout("")
        .stderr(
            "
            error: syntax error: Unexpected ';'
             --> fabfile.rhai:2:18
              |
            2 |     let x = (1 + ;
              |                  ^
            ",
        )
        .run();
}

#[test]
fn syntax_error_in_an_imported_module_names_it() {
    Test::new()
        .fabfile("import \"proxy\" as proxy;\nfn t() {}")
        .file("proxy.rhai", "fn flip() {\n    run(\"x\"\n}\n")
        .args(&["--list"])
        .status(2)
        .stderr(
            "
            error: syntax error: Expecting ',' to separate the arguments to function call 'run'
             --> proxy.rhai:3:1
              |
            3 | }
              | ^
              = in module `proxy` at fabfile.rhai:1:8
            ",
        )
        .run();
}

/// A failure inside `cd(.., || ..)` was traced "in call to `anon$2d41fe…`".
#[test]
fn a_trace_names_the_function_a_closure_is_in() {
    Test::new()
        .fabfile(
            r#"
            fn deploy() {
                cd("/srv", || {
                    check(1);
                });
            }
            fn check(n) { n.no_such_method(); }
            "#,
        )
        .args(&["deploy"])
        .status(1)
        .stderr(
            "
            Fatal error: Function not found: no_such_method (i64)
             --> fabfile.rhai:6:17
              |
            6 | fn check(n) { n.no_such_method(); }
              |                 ^
              = in call to `check` at fabfile.rhai:3:9
              = in a closure in `deploy` at fabfile.rhai:2:5

            Aborting.
            ",
        )
        .run();
}

/// `Variable not found: ANSWER` with no hint was the top stumble: functions cannot see
/// the fabfile's top-level variables.
#[test]
fn a_top_level_name_unseen_in_a_function_says_global() {
    Test::new()
        .fabfile(
            r#"
            const ANSWER = 42;
            let stage = "prod";
            fn a() { print(ANSWER); }
            fn b() { print(stage); }
            fn c() { print(global::ANSWER); }
            "#,
        )
        .args(&["c", "a"])
        .status(1)
        .stdout("42\n")
        .stderr(
            "
            Fatal error: Variable not found: ANSWER
             --> fabfile.rhai:3:16
              |
            3 | fn a() { print(ANSWER); }
              |                ^
            hint: `ANSWER` is a constant at the top of fabfile.rhai, which functions cannot see by its bare name: write `global::ANSWER`, or pass it in

            Aborting.
            ",
        )
        .run();
    Test::new()
        .fabfile(
            r#"
            let stage = "prod";
            fn b() { print(stage); }
            "#,
        )
        .args(&["b"])
        .status(1)
        .stderr(
            "
            Fatal error: Variable not found: stage
             --> fabfile.rhai:2:16
              |
            2 | fn b() { print(stage); }
              |                ^
            hint: `stage` is a `let` at the top of fabfile.rhai, which functions cannot see: make it `const stage = ...;` and write `global::stage`, or pass it in

            Aborting.
            ",
        )
        .run();
}

#[test]
fn runtime_error_shows_the_call_chain() {
    Test::new()
        .fabfile(
            r#"
            import "util" as util;
            fn deploy() {
                util::prepare();
            }
            "#,
        )
        .file(
            "util.rhai",
            r#"
            fn prepare() {
                check(42);
            }
            private fn check(n) {
                n.no_such_method();
            }
            "#,
        )
        .args(&["deploy"])
        .status(1)
        .stdout("")
        .stderr(
            "
            Fatal error: Function not found: no_such_method (i64)
             --> util.rhai:5:7
              |
            5 |     n.no_such_method();
              |       ^
              = in call to `check` at util.rhai:2:5
              = in call to `prepare` at fabfile.rhai:3:11

            Aborting.
            ",
        )
        .run();
}

#[test]
fn unknown_task_suggests_and_runs_nothing() {
    Test::new()
        .fabfile(r#"fn deploy() {} fn prod() { local("touch ran"); }"#)
        .args(&["prod", "deplyo"])
        .status(2)
        .stdout("")
        .stderr(
            "
            error: unknown task `deplyo`
            hint: did you mean `deploy`?
            hint: `rfab --list` shows the tasks of this fabfile
            ",
        )
        .run();
}

#[test]
fn wrong_argument_count_shows_the_usage() {
    Test::new()
        .fabfile("fn prod() {} fn prod(which) {}")
        .args(&["prod:a,b"])
        .status(2)
        .stderr(
            "
            error: task `prod` takes 0 or 1 arguments, but 2 were given
            usage: rfab prod | rfab prod:WHICH
            ",
        )
        .run();
}

#[test]
fn unknown_keyword_argument_lists_the_parameters() {
    Test::new()
        .fabfile("fn deploy(tag, force) {}")
        .args(&["deploy:v1,forse=true"])
        .status(2)
        .stderr(
            "
            error: bad argument for task `deploy`: `forse` is not a parameter of `deploy` (parameters: tag, force)
            usage: rfab deploy:TAG,FORCE
            ",
        )
        .run();
}

#[test]
fn argument_given_twice() {
    Test::new()
        .fabfile("fn deploy(tag) {}")
        .args(&["deploy:tag=v1,tag=v2"])
        .status(2)
        .stderr("error: malformed task argument `deploy:tag=v1,tag=v2`: `tag` is given twice\n")
        .run();
}

#[test]
fn conflicting_hosts_in_one_task() {
    Test::new()
        .fabfile("fn deploy() {}")
        .args(&["deploy:host=a,hosts=b;c"])
        .status(2)
        .stderr(
            "error: malformed task argument `deploy:host=a,hosts=b;c`: \
             `hosts` is given twice with different hosts; give one `hosts=a;b`\n",
        )
        .run();
}

#[test]
fn missing_fabfile_says_where_it_looked() {
    let test = Test::new();
    let dir = test.path().display().to_string();
    let ran = test
        .args(&["deploy"])
        .status(2)
        .stderr_starts_with(&format!(
            "error: no fabfile found: looked for `fabfile.rhai` in `{dir}`, "
        ))
        .run();
    assert!(
        ran.stderr
            .ends_with("`/`\nhint: create one, or point at it with `-f PATH`\n"),
        "{}",
        ran.stderr
    );
}

#[test]
fn missing_dash_f_fabfile() {
    let test = Test::new();
    let path = test.path().join("nope.rhai").display().to_string();
    test.args(&["-f", "nope.rhai", "t"])
        .status(2)
        .stderr(&format!(
            "error: cannot read fabfile `{path}`: entity not found\nhint: check the path given to `-f`\n"
        ))
        .run();
}

#[test]
fn unknown_tag_points_at_it() {
    Test::new()
        .fabfile(
            "
            /// Deploy.
            /// @paralel
            fn deploy() {}
            ",
        )
        .args(&["--list"])
        .status(2)
        .stderr(
            "
            error: fabfile.rhai:2:5: in the docs of `deploy`: unknown tag `@paralel` (did you mean `@parallel`?)
            hint: tags are @hosts(a, b), @roles(r), @runs_once, @parallel, @parallel(pool = N), @serial, @task, @name(n), @defaults(p = \"v\"), @helper
            ",
        )
        .run();
}

#[test]
fn abort_prints_the_message_as_fabric_does() {
    Test::new()
        .fabfile(r#"fn t() { abort("no stable tag"); print("not reached"); }"#)
        .args(&["-H", "web1", "t"])
        .status(1)
        .stdout("[web1] Executing task 't'\n\nSummary:\n    web1  failed  TIME  t: no stable tag\n")
        .mask_times()
        .stderr(
            "
            [web1] Fatal error: no stable tag

            Aborting.
            ",
        )
        .run();
}

#[test]
fn a_failure_stops_the_later_hosts_and_tasks() {
    Test::new()
        .fabfile(r#"fn t() { if env.host == "b" { abort("b is broken"); } puts("ok"); } fn after() { print("after"); }"#)
        .args(&["-H", "a,b,c", "t", "after"])
        .status(1)
        .stdout(
            "
            [a] Executing task 't'
            [a] ok
            [b] Executing task 't'

            Summary:
                a  ok  TIME  t
                b  failed  TIME  t: b is broken
                c  not run  t
                3 hosts: 1 ok, 1 not run, 1 failed
            ",
        )
        .mask_times()
        .run();
}

#[test]
fn eval_is_disabled() {
    let ran = Test::new()
        .fabfile(r#"fn t() { eval("1"); }"#)
        .args(&["t"])
        .status(2)
        .run();
    assert!(
        ran.stderr
            .starts_with("error: syntax error: reserved keyword 'eval' is disabled\n"),
        "{}",
        ran.stderr
    );
}

// A fabfile's top level runs whenever it loads; an endless loop there hung `--list`.
#[test]
fn list_of_a_fabfile_whose_top_level_loops_forever_fails_fast() {
    Test::new()
        .fabfile("let n = 0;\nloop { n += 1; }\nfn t() {}\n")
        .args(&["--list"])
        .status(2)
        .stdout("")
        // The column is wherever the count ran out.
        .stderr_starts_with(
            "error: the fabfile's top level ran more than 1000000 operations (an endless loop?); \
             it runs on every load, even for --list: move long work into a task\n \
             --> fabfile.rhai:2:",
        )
        .run();
}

// Only the top level is limited: a task may loop for as long as it needs.
#[test]
fn a_task_may_run_more_operations_than_a_top_level() {
    Test::new()
        .fabfile("fn t() { let n = 0; while n < 1100000 { n += 1; } print(n); }")
        .args(&["t"])
        .stdout("1100000\n\nDone.\n")
        .run();
}

// A string doubled in a loop grew until an allocation failed and rfab aborted (SIGABRT).
#[test]
fn a_huge_string_is_a_script_error_not_an_abort() {
    Test::new()
        .fabfile("let s = \"0123456789\";\nloop { s += s; }\nfn t() {}\n")
        .args(&["--list"])
        .status(2)
        .stdout("")
        .stderr(
            "
            error: length of string is over rfab's limit of 256 MiB; build smaller pieces, or keep big data in files
             --> fabfile.rhai:2:10
              |
            2 | loop { s += s; }
              |          ^
            ",
        )
        .run();
    // In a task too (where Rhai 1.27 gives such errors no position).
    let ran = Test::new()
        .fabfile("fn t() {\n    let s = \"0123456789\";\n    loop { s += s; }\n}\n")
        .args(&["t"])
        .status(1)
        .run();
    assert!(
        ran.stderr
            .starts_with("Fatal error: length of string is over rfab's limit of 256 MiB"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_huge_array_is_a_script_error_not_an_abort() {
    let ran = Test::new()
        .fabfile("fn t() { let a = []; a.pad(1000000000000, 0); }")
        .args(&["t"])
        .status(1)
        .run();
    assert!(
        ran.stderr
            .starts_with("Fatal error: size of array/blob is over rfab's limit of 16777216 items"),
        "{}",
        ran.stderr
    );
}
