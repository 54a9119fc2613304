//! The command line itself: options, usage errors, completions.

use crate::test::Test;

#[test]
fn version() {
    Test::new()
        .args(&["--version"])
        // The commit it was built from, when built from a git checkout.
        .stdout_regex(&format!(
            "rfab {}( \\([0-9a-f]{{12}}\\))?\n",
            regex::escape(env!("CARGO_PKG_VERSION"))
        ))
        .run();
}

#[test]
fn unknown_option_is_a_usage_error() {
    let ran = Test::new()
        .args(&["--frobnicate"])
        .status(2)
        .stdout("")
        .run();
    assert!(
        ran.stderr
            .starts_with("error: unexpected argument '--frobnicate' found\n"),
        "{}",
        ran.stderr
    );
}

#[test]
fn bad_set_names_the_entry_and_the_syntax() {
    Test::new()
        .fabfile("fn t() {}")
        .args(&["--set", "a=1,=2", "t"])
        .status(2)
        .stderr(
            "
            error: bad `--set a=1,=2`: `=2` has no key
            hint: write `--set key=value,flag,empty=`
            ",
        )
        .run();
}

#[test]
fn bad_host_string_is_caught_before_anything_runs() {
    Test::new()
        .fabfile("fn t() { local(\"touch ran\"); }")
        .args(&["-H", "web1:http", "t"])
        .status(2)
        .stdout("")
        .stderr(
            "
            error: bad host string `web1:http`: the port must be a number from 1 to 65535
            hint: write `host`, `user@host`, `host:port` or `user@[::1]:port`
            ",
        )
        .run();
}

#[test]
fn no_task_lists_the_tasks_and_fails() {
    Test::new()
        .fabfile(
            "
            /// Say hello.
            fn hello() {}
            ",
        )
        .status(2)
        .stdout(
            "
            Available commands:

                hello    Say hello.

            Built-in commands:

                repl     Open a prompt that runs tasks and script lines on the selected hosts.
                check    Check the fabfile for mistakes without running anything.
                init     Start a project: write a fabfile and an inventory for two load-balancer groups.
            ",
        )
        .stderr(
            "
            error: no task given
            hint: run `rfab TASK`, or `rfab -H HOSTS -- COMMAND`; the tasks of this fabfile are listed above
            ",
        )
        .run();
}

#[test]
fn completions_need_no_fabfile() {
    Test::new()
        .args(&["--completions", "bash"])
        .stdout_file("tests/expected/completions.bash")
        .run();
}

#[test]
fn options_may_follow_tasks() {
    Test::new()
        .fabfile("fn t() { print(env.greeting); }")
        .args(&["t", "--set", "greeting=hi"])
        .stdout(
            "
            hi

            Done.
            ",
        )
        .run();
}

#[test]
fn fabfile_is_found_in_a_parent_directory() {
    Test::new()
        .fabfile("fn t() { print(\"found\"); }")
        .current_dir("a/b")
        .args(&["t"])
        .stdout(
            "
            found

            Done.
            ",
        )
        .run();
}

#[test]
fn dash_f_names_another_fabfile() {
    Test::new()
        .file("deploy/other.rhai", "fn t() { print(\"other\"); }")
        .args(&["-f", "deploy/other.rhai", "t"])
        .stdout(
            "
            other

            Done.
            ",
        )
        .run();
}

#[test]
fn colour_can_be_forced() {
    let ran = Test::new()
        .fabfile("fn t() { abort(\"no\"); }")
        .args(&["--color", "always", "t"])
        .status(1)
        .run();
    assert!(
        ran.stderr
            .starts_with("\u{1b}[1m\u{1b}[31mFatal error:\u{1b}[0m no"),
        "{:?}",
        ran.stderr
    );
}

#[test]
fn rfab_fabfile_variable_names_the_fabfile() {
    let test = Test::new().file(
        "ops/deploy.rhai",
        "fn t() { print(\"from the variable\"); }",
    );
    let path = test.path().join("ops/deploy.rhai").display().to_string();
    test.env("RFAB_FABFILE", &path)
        .args(&["t"])
        .stdout("from the variable\n\nDone.\n")
        .run();
}

// A password given as a flag is in argv, which `ps` shows to every user of the machine.
#[test]
fn a_password_on_the_command_line_is_warned_about_without_showing_it() {
    let ran = Test::new()
        .fabfile("fn t() { print(\"ran\"); }")
        .args(&["--sudo-password", "sudo-secret-1", "-p", "login-secret-2", "t"])
        .stdout("ran\n\nDone.\n")
        .stderr(
            "
            Warning: -p/--password on the command line shows the password to every user of this machine (ps) while rfab runs; set RFAB_PASSWORD instead
            Warning: --sudo-password on the command line shows the password to every user of this machine (ps) while rfab runs; set RFAB_SUDO_PASSWORD instead
            ",
        )
        .run();
    assert!(!ran.stderr.contains("secret"), "{}", ran.stderr);
}

#[test]
fn a_password_from_the_environment_is_not_warned_about() {
    Test::new()
        .fabfile("fn t() { print(\"ran\"); }")
        .env("RFAB_SUDO_PASSWORD", "sudo-secret-1")
        .env("RFAB_PASSWORD", "login-secret-2")
        .args(&["t"])
        .stdout("ran\n\nDone.\n")
        .stderr("")
        .run();
}

#[test]
fn help_says_where_a_password_is_safe() {
    let ran = Test::new().args(&["--help"]).run();
    // Help is wrapped to the terminal's width: compare words, not lines.
    let words = ran.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for flag in ["RFAB_PASSWORD", "RFAB_SUDO_PASSWORD"] {
        assert!(
            words.contains(&format!("(`ps` shows it to every user: prefer `{flag}`)")),
            "{}",
            ran.stdout
        );
    }
}
