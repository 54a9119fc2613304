//! `rfab repl`: on a real pseudo-terminal (completion, multi-line entries, history, Ctrl-C)
//! and with piped stdin, against real sshd hosts.

use std::time::Duration;

use expectrl::process::unix::WaitStatus;
use expectrl::session::OsSession;
use expectrl::{ControlCode, Expect, Session};

use crate::sshd::{Fleet, eventually};
use crate::test::Test;

/// Longer than anything here should take, so that a hang fails rather than blocks.
const TIMEOUT: Duration = Duration::from_secs(20);

const FABFILE: &str = r#"
    /// Select the whole fleet.
    fn prod() { env.hosts = env.fleet.split(","); }
    /// Say hello, once, here.
    fn staging() { puts("staging selected"); }
"#;

/// rfab's prompt on a pseudo-terminal, as a person would use it.
fn terminal(test: &Test) -> OsSession {
    let mut command = test.command();
    command.env("TERM", "xterm");
    let mut session = Session::spawn(command).expect("rfab on a pseudo-terminal");
    session.set_expect_timeout(Some(TIMEOUT));
    session
}

/// Waits for `text` on the terminal; returns everything printed before it.
fn expect(session: &mut OsSession, text: &str) -> String {
    match session.expect(text) {
        Ok(found) => String::from_utf8_lossy(found.before()).into_owned(),
        Err(e) => panic!("waiting for {text:?}: {e}"),
    }
}

/// Waits for a whole line of output: unlike a bare string, it cannot be found in the
/// line editor's echo of what was typed, or in its escape sequences.
fn expect_line(session: &mut OsSession, line: &str) {
    expect(session, &format!("\n{line}\r\n"));
}

/// Waits for an empty prompt, ready for keys. Keys typed before it would reach a terminal
/// not yet in the line editor's hands, which a person's typing never does; and a prompt
/// the editor redraws around typed text (after a list of completions) is no empty one.
fn ready(session: &mut OsSession, prompt: &str) {
    expect(session, &format!("{prompt}\r"));
}

/// Types `entry` and Enter at the next empty prompt.
fn enter(session: &mut OsSession, prompt: &str, entry: &str) {
    ready(session, prompt);
    session.send(format!("{entry}\r")).expect("type");
}

/// Ctrl-D at the prompt; rfab's exit status.
fn leave(session: &mut OsSession, prompt: &str) -> i32 {
    ready(session, prompt);
    session
        .send(ControlCode::EndOfTransmission)
        .expect("Ctrl-D");
    exit_status(session)
}

/// Waits for rfab to exit (never forever: a hang fails the test).
fn exit_status(session: &OsSession) -> i32 {
    eventually("rfab to exit", || match session.get_process().status() {
        Ok(WaitStatus::Exited(_, code)) => Some(code),
        _ => None,
    })
}

/// A test whose rfab has its own, empty, data directory for the history.
fn local_test() -> Test {
    let test = Test::new().fabfile(FABFILE);
    let data = test.path().join("data");
    test.env("XDG_DATA_HOME", &data.display().to_string())
        .args(&["repl"])
}

const PROMPT: &str = "rfab> ";

#[test]
fn tab_completes_task_names() {
    let test = local_test();
    let mut rfab = terminal(&test);
    ready(&mut rfab, PROMPT);
    rfab.send("stag\t").expect("type");
    expect(&mut rfab, "staging");
    rfab.send("\r").expect("enter");
    expect_line(&mut rfab, "staging selected");
    // `pro` is the start of a task and of a script function: a second Tab lists both.
    ready(&mut rfab, PROMPT);
    rfab.send("pro\t\t").expect("type");
    let listed = expect(&mut rfab, "prompt");
    assert!(listed.contains("prod"), "{listed:?}");
    rfab.send(ControlCode::EndOfText)
        .expect("Ctrl-C clears the line");
    assert_eq!(leave(&mut rfab, PROMPT), 0);
}

#[test]
fn an_entry_goes_on_while_a_brace_is_open() {
    let test = local_test();
    let mut rfab = terminal(&test);
    ready(&mut rfab, PROMPT);
    rfab.send("fn twice(x) {\r").expect("type");
    rfab.send("  x * 2\r").expect("type");
    rfab.send("}\r").expect("type");
    enter(&mut rfab, PROMPT, "twice(21)");
    expect_line(&mut rfab, "42");
    assert_eq!(leave(&mut rfab, PROMPT), 0);
}

#[test]
fn history_is_kept_across_sessions() {
    let test = local_test();
    let mut first = terminal(&test);
    enter(&mut first, PROMPT, "let remembered = 40 + 2; remembered");
    expect_line(&mut first, "42");
    assert_eq!(leave(&mut first, PROMPT), 0);
    let file = test.path().join("data/rfab/history");
    assert!(file.is_file(), "no history at {}", file.display());

    let mut second = terminal(&test);
    ready(&mut second, PROMPT);
    // What was typed before is hinted as soon as an entry starts like it.
    second.send("let rem").expect("type");
    expect(&mut second, "embered = 40 + 2; remembered");
    second.send(ControlCode::EndOfText).expect("Ctrl-C");
    ready(&mut second, PROMPT);
    second.send("\x1b[A").expect("Up");
    expect(&mut second, "let remembered = 40 + 2; remembered");
    second.send("\r").expect("enter");
    expect_line(&mut second, "42");
    assert_eq!(leave(&mut second, PROMPT), 0);
}

#[test]
fn an_error_leaves_the_prompt_working() {
    let test = local_test();
    let mut rfab = terminal(&test);
    enter(&mut rfab, PROMPT, "nosuch(1)");
    expect(&mut rfab, "unknown function or task `nosuch`");
    enter(&mut rfab, PROMPT, "deploy:stable");
    expect(&mut rfab, "unknown task `deploy`");
    enter(&mut rfab, PROMPT, ":hots");
    expect(&mut rfab, "did you mean `:hosts`?");
    enter(&mut rfab, PROMPT, "`still ${1 + 1}`");
    expect_line(&mut rfab, "still 2");
    assert_eq!(leave(&mut rfab, PROMPT), 0);
}

#[test]
fn ctrl_c_stops_a_remote_command_and_returns_to_the_prompt() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    let test = fleet
        .test()
        .fabfile(FABFILE)
        .env("XDG_DATA_HOME", "/nonexistent")
        .args(&["-H", &host, "repl"]);
    let prompt = "rfab [1 host]> ";
    let mut rfab = terminal(&test);
    enter(&mut rfab, prompt, "run(\"sleep 7383\")");
    expect_line(&mut rfab, &format!("[{host}] run: sleep 7383"));
    eventually("the remote command to start", || {
        crate::ssh::process_running("sleep 7383").then_some(())
    });
    rfab.send(ControlCode::EndOfText).expect("Ctrl-C");
    enter(&mut rfab, prompt, "run(\"echo still here\")");
    eventually("the remote command to be stopped", || {
        (!crate::ssh::process_running("sleep 7383")).then_some(())
    });
    expect_line(&mut rfab, &format!("[{host}] out: still here"));
    ready(&mut rfab, prompt);
    rfab.send(ControlCode::EndOfTransmission).expect("Ctrl-D");
    expect(&mut rfab, "Disconnecting from root@");
    assert_eq!(exit_status(&rfab), 0);
}

#[test]
fn piped_entries_run_on_every_host_over_one_connection_each() {
    let fleet = Fleet::start(2);
    let [one, two] = [fleet.hosts[0].string(), fleet.hosts[1].string()];
    let ran = fleet
        .test()
        .fabfile(FABFILE)
        .args(&["--set", &format!("fleet={one}\\,{two}"), "prod", "repl"])
        .stdin("run(\"echo first\"); ()\nlet name = run(\"echo $((6 * 7))\").stdout;\nname\nrun(\"exit 3\")\n")
        .status(1)
        .run();
    let lines: Vec<&str> = ran.stdout.lines().collect();
    let prompt = "rfab prod [2 hosts]> ";
    for (index, entry) in [
        "run(\"echo first\"); ()",
        "let name = run(\"echo $((6 * 7))\").stdout;",
        "name",
    ]
    .iter()
    .enumerate()
    {
        assert!(
            lines.contains(&format!("{prompt}{entry}").as_str()),
            "entry {index} not echoed: {}",
            ran.stdout
        );
    }
    for host in [&one, &two] {
        for line in [
            format!("[{host}] run: echo first"),
            format!("[{host}] out: first"),
            format!("[{host}] out: 42"),
            format!("[{host}] 42"),
        ] {
            assert!(
                lines.contains(&line.as_str()),
                "no {line:?} in\n{}",
                ran.stdout
            );
        }
    }
    assert!(
        ran.stdout.contains("Disconnecting from root@"),
        "{}",
        ran.stdout
    );
    for host in &fleet.hosts {
        assert_eq!(host.logins(), 1, "{}", host.log());
    }
}

#[test]
fn piped_entries_stop_at_the_first_failure_with_its_status() {
    Test::new()
        .fabfile(FABFILE)
        .args(&["repl"])
        .stdin("let x = 1;\nx + 1\nthrow \"boom\";\nx\n")
        .status(1)
        .stdout(
            r#"
            rfab> let x = 1;
            rfab> x + 1
            2
            rfab> throw "boom";
            "#,
        )
        .stderr(
            r#"
            Fatal error: boom
             --> <input 3>:1:1
              |
            1 | throw "boom";
              | ^

            Aborting.
            "#,
        )
        .run();
    Test::new()
        .fabfile(FABFILE)
        .args(&["repl"])
        .stdin(":dry maybe\n:tasks\n")
        .status(2)
        .stdout("rfab> :dry maybe\n")
        .stderr("error: `:dry` takes `on` or `off`, not `maybe`\nusage: :dry [on|off]\n")
        .run();
}

#[test]
fn functions_imports_and_multi_line_entries_persist_when_piped() {
    Test::new()
        .fabfile(FABFILE)
        .args(&["repl"])
        .stdin(
            "import \"rfab/hosts\" as h;\nfn names(pattern) {\n  h::expand(pattern)\n}\nnames(\"web[1:2]\")\n",
        )
        .stdout(
            r#"
            rfab> import "rfab/hosts" as h;
            rfab> fn names(pattern) {
                    h::expand(pattern)
                  }
            rfab> names("web[1:2]")
            ["web1", "web2"]
            "#,
        )
        .run();
}

#[test]
fn a_task_that_selects_hosts_names_the_prompt() {
    Test::new()
        .fabfile(FABFILE)
        .args(&["--set", "fleet=web1\\,web2", "repl"])
        .stdin("prod\n:hosts\n:hosts db1\n:env hosts\n")
        .stdout(
            r#"
            rfab> prod
            hosts: none -> web1, web2
            rfab prod [2 hosts]> :hosts
            web1
            web2
            rfab prod [2 hosts]> :hosts db1
            hosts: web1, web2 -> db1
            rfab [1 host]> :env hosts
            ["db1"]
            "#,
        )
        .run();
}

#[test]
fn roles_tasks_and_quit() {
    Test::new()
        .fabfile(
            r#"
            fn prod() {
                env.roledefs = #{ web: ["web1", "web2"], db: #{ hosts: ["db1"], user: "postgres" } };
                env.roles = ["web"];
            }
            "#,
        )
        .args(&["repl"])
        .stdin("prod\n:roles\n:tasks\n:quit\nthrow \"not reached\";\n")
        .stdout(
            r#"
            rfab> prod
            hosts: none -> web1, web2
            rfab prod [2 hosts]> :roles
              db: #{"hosts": ["db1"], "user": "postgres"}
            * web: ["web1", "web2"]
            rfab prod [2 hosts]> :tasks
            Available commands:

                prod
            rfab prod [2 hosts]> :quit
            "#,
        )
        .run();
}

#[test]
fn dry_run_prints_commands_and_connects_nowhere() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    fleet
        .test()
        .fabfile(FABFILE)
        .args(&["-H", &host, "repl"])
        .stdin(":dry on\nrun(\"touch /tmp/never\")\n:dry off\n")
        .stdout(&format!(
            r#"
            rfab [1 host]> :dry on
            Dry run: commands are printed, nothing runs and no host is contacted.
            rfab [1 host] (dry)> run("touch /tmp/never")
            [{host}] run: touch /tmp/never
            rfab [1 host] (dry)> :dry off
            Dry run is off: commands run on the hosts.
            "#
        ))
        .run();
    assert!(
        !fleet.hosts[0].log().contains("Accepted"),
        "{}",
        fleet.hosts[0].log()
    );
}

#[test]
fn reload_reads_the_fabfile_again_and_keeps_env() {
    let more = format!(
        "{}fn added() {{ puts(env.kept); }}\n",
        crate::test::unindent(FABFILE)
    );
    Test::new()
        .fabfile(FABFILE)
        .file("new.rhai", &more)
        .args(&["repl"])
        .stdin(
            "env.kept = \"still here\";\nlocal(\"cp new.rhai fabfile.rhai\", #{ quiet: true });\n:reload\nadded\n",
        )
        .stdout(
            r#"
            rfab> env.kept = "still here";
            rfab> local("cp new.rhai fabfile.rhai", #{ quiet: true });
            rfab> :reload
            Reloaded fabfile.rhai (3 tasks).
            rfab> added
            still here
            "#,
        )
        .run();
}

#[test]
fn help_shows_the_commands_tasks_and_script_functions() {
    let ran = Test::new()
        .fabfile(FABFILE)
        .args(&["repl"])
        .stdin(":help\n:help prod\n:help put\n")
        .run();
    for text in [
        ":dry [on|off]",
        "Displaying detailed information for task 'prod':",
        "put(local: string, remote: string)",
    ] {
        assert!(ran.stdout.contains(text), "no {text:?} in\n{}", ran.stdout);
    }
}

/// `:help put` printed the reference's raw Markdown: code fences, `##` headings.
#[test]
fn help_for_a_function_is_rendered_for_the_terminal() {
    let ran = Test::new()
        .fabfile(FABFILE)
        .args(&["repl"])
        .stdin(":help put\n")
        .run();
    let help = ran
        .stdout
        .strip_prefix("rfab> :help put\n")
        .unwrap_or_else(|| panic!("no echo in\n{}", ran.stdout));
    assert!(
        help.starts_with(
            "put\n---\n\n    put(local: string, remote: string) -> array\n\nUpload a local file"
        ),
        "{help}"
    );
    assert!(
        help.contains("\n    put(\"dist/app.tar.gz\", \"/srv/app/releases/\");\n"),
        "{help}"
    );
    assert!(
        !help
            .lines()
            .any(|line| line.contains("```") || line.starts_with('#')),
        "{help}"
    );
}

#[test]
fn repl_must_come_last_and_a_task_named_repl_wins() {
    Test::new()
        .fabfile(FABFILE)
        .args(&["repl", "prod"])
        .status(2)
        .stderr(
            "error: `repl` starts the interactive prompt, so it comes after the tasks to run first\n\
             usage: rfab [TASK[:ARGS]]... repl\n",
        )
        .run();
    Test::new()
        .fabfile("fn repl() { puts(\"the fabfile's own repl\"); }")
        .args(&["repl"])
        .stdout("the fabfile's own repl\n\nDone.\n")
        .run();
}

/// An entry ran on its hosts one after the other, so `run("sleep 1")` on four hosts took
/// four seconds, though the README says the hosts run in parallel.
#[test]
fn an_entry_runs_on_its_hosts_in_parallel() {
    let fleet = Fleet::start(4);
    let hosts: Vec<String> = fleet.hosts.iter().map(crate::sshd::Host::string).collect();
    let long = "0".repeat(500);
    // A rendezvous: each host's command waits (at most 20 s) until all four are inside.
    // Run one after the other, the first would wait alone and end before the next began.
    let inside = fleet.dir.path().join("inside");
    std::fs::create_dir_all(&inside).expect("mkdir");
    let entry = format!(
        "run(\"echo began $(date +%s%N); touch {0}/$$; i=0; while [ $(ls {0} | wc -l) -lt 4 ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; echo ended $(date +%s%N); printf '%0500d\\\\n' 0\"); env.host_string + \" slept\"\n",
        inside.display()
    );
    let ran = fleet
        .test()
        .fabfile(FABFILE)
        .args(&["-H", &fleet.host_list(), "repl"])
        .stdin(&entry)
        .run();
    // Timed by the hosts' own clocks, not by a deadline on the run (which a loaded machine
    // could miss).
    let lines: Vec<&str> = ran.stdout.lines().collect();
    // Every host's sleep overlaps every other's: all began before any ended.
    let stamps = |word: &str| -> Vec<u128> {
        hosts
            .iter()
            .map(|host| {
                let prefix = format!("[{host}] out: {word} ");
                lines
                    .iter()
                    .find_map(|line| line.strip_prefix(prefix.as_str()))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("no `{word}` from {host} in\n{}", ran.stdout))
            })
            .collect()
    };
    let (began, ended) = (stamps("began"), stamps("ended"));
    assert!(
        began.iter().max() < ended.iter().min(),
        "the hosts' sleeps did not all overlap: began {began:?}, ended {ended:?}"
    );
    for host in &hosts {
        let whole = format!("[{host}] out: {long}");
        assert!(
            lines.contains(&whole.as_str()),
            "no whole line {whole:?} in\n{}",
            ran.stdout
        );
    }
    let values: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|line| line.ends_with(" slept"))
        .collect();
    let in_order: Vec<String> = hosts
        .iter()
        .map(|host| format!("[{host}] {host} slept"))
        .collect();
    assert_eq!(values, in_order, "{}", ran.stdout);
}

/// `-z` caps how many hosts an entry runs on at once, as it does for a task.
#[test]
fn an_entry_runs_on_at_most_z_hosts_at_once() {
    let fleet = Fleet::start(4);
    // The hosts share this machine's files: each counts who is inside with it.
    let inside = fleet.dir.path().join("inside");
    std::fs::create_dir_all(&inside).expect("mkdir");
    // Each waits (at most 10 s) for a partner inside, then says how many are.
    let entry = format!(
        "run(\"touch {0}/$$; i=0; while [ $(ls {0} | wc -l) -lt 2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; echo together=$(ls {0} | wc -l); rm {0}/$$\"); ()\n",
        inside.display()
    );
    let ran = fleet
        .test()
        .fabfile(FABFILE)
        .args(&["-z", "2", "-H", &fleet.host_list(), "repl"])
        .stdin(&entry)
        .run();
    let counts: Vec<&str> = ran
        .stdout
        .lines()
        .filter_map(|line| line.split_once(" out: together=").map(|(_, n)| n))
        .collect();
    assert_eq!(counts.len(), 4, "{}", ran.stdout);
    assert!(
        counts.iter().all(|n| *n == "1" || *n == "2"),
        "{}",
        ran.stdout
    );
    assert!(counts.contains(&"2"), "never two at once:\n{}", ran.stdout);
}

/// A typo (`statsu`) or a word that is no command here (`clear`) was run as Rhai on every
/// host, each failing with a six-line block, after each had run the entry's first part.
#[test]
fn an_unknown_name_stops_the_entry_before_it_runs_anywhere() {
    let fleet = Fleet::start(2);
    let fabfile = "/// Show what runs.\nfn status() { run(\"uptime\"); }\nfn deploy(tag) {}\n";
    fleet
        .test()
        .fabfile(fabfile)
        .args(&["-H", &fleet.host_list(), "repl"])
        .stdin("run(\"echo ran\"); statsu\n")
        .status(2)
        .stdout("rfab [2 hosts]> run(\"echo ran\"); statsu\n")
        .stderr(
            "error: unknown function or task `statsu`\n\
             hint: did you mean `status`?\n\
             hint: `:tasks` lists the tasks, `:help` the commands; `:reload` reads a changed fabfile\n",
        )
        .run();
    for host in &fleet.hosts {
        assert_eq!(host.logins(), 0, "{}", host.log());
    }
    for (entry, error) in [
        (
            "clear",
            "error: unknown function or task `clear`\n\
             hint: `:tasks` lists the tasks, `:help` the commands; `:reload` reads a changed fabfile\n",
        ),
        (
            "deplyo:stable",
            "error: unknown task `deplyo`\n\
             hint: did you mean `deploy`?\n\
             hint: `:tasks` lists the tasks; `:reload` reads a changed fabfile\n",
        ),
        (
            "status()",
            "error: `status` is a task, not a function: run it on a line of its own, as `status` or `status:ARGS`\n",
        ),
    ] {
        Test::new()
            .fabfile(fabfile)
            .args(&["repl"])
            .stdin(&format!("{entry}\n"))
            .status(2)
            .stdout(&format!("rfab> {entry}\n"))
            .stderr(error)
            .run();
    }
}

/// A task added to the fabfile is unknown until `:reload`, and says so.
#[test]
fn a_task_not_yet_reloaded_is_unknown_with_a_hint() {
    Test::new()
        .fabfile(FABFILE)
        .args(&["repl"])
        .stdin("added\n")
        .status(2)
        .stdout("rfab> added\n")
        .stderr(
            "error: unknown function or task `added`\n\
             hint: `:tasks` lists the tasks, `:help` the commands; `:reload` reads a changed fabfile\n",
        )
        .run();
}

/// A command that failed the same way on every host printed one block per host.
#[test]
fn the_same_failure_on_every_host_is_one_line() {
    let fleet = Fleet::start(3);
    let ran = fleet
        .test()
        .fabfile(FABFILE)
        .args(&["-H", &fleet.host_list(), "repl"])
        .stdin("run(\"exit 3\")\n")
        .status(1)
        .run();
    assert_eq!(
        ran.stderr,
        "Fatal error: failed on 3/3 hosts: run() failed: `exit 3` exited with status 3\n \
         --> <input 1>:1:1\n  |\n1 | run(\"exit 3\")\n  | ^\n\nAborting.\n"
    );
}

/// Hosts that failed alike are named when others did not fail; different failures stay
/// apart, each under its host.
#[test]
fn failures_on_some_hosts_name_them_and_different_ones_stay_apart() {
    Test::new()
        .fabfile(FABFILE)
        .args(&["-H", "web1,web2,web3", "repl"])
        .stdin("if env.host_string != \"web2\" { throw \"boom\" }\n")
        .status(1)
        .stdout("rfab [3 hosts]> if env.host_string != \"web2\" { throw \"boom\" }\n")
        .stderr(
            r#"
            Fatal error: failed on web1, web3 (2/3 hosts): boom
             --> <input 1>:1:32
              |
            1 | if env.host_string != "web2" { throw "boom" }
              |                                ^

            Aborting.
            "#,
        )
        .run();
    Test::new()
        .fabfile(FABFILE)
        .args(&["-H", "web1,db123", "repl"])
        .stdin("throw env.host_string.len()\n")
        .status(1)
        .stdout("rfab [2 hosts]> throw env.host_string.len()\n")
        .stderr(
            r#"
            [web1] Fatal error: Runtime error: 4
             --> <input 1>:1:1
              |
            1 | throw env.host_string.len()
              | ^

            Aborting.
            [db123] Fatal error: Runtime error: 5
             --> <input 1>:1:1
              |
            1 | throw env.host_string.len()
              | ^

            Aborting.
            "#,
        )
        .run();
}

/// `:hosts a` then `prod:group2` selected `a` and group2's hosts together, while `:env
/// hosts` still showed `a`: an entry would have reached a host no longer meant.
#[test]
fn a_new_selection_replaces_the_previous_one() {
    Test::new()
        .fabfile(
            r#"
            fn prod(group) {
                env.roledefs = #{ group1: ["web1", "web2"], group2: ["web3", "web4"] };
                env.roles = [group];
            }
            "#,
        )
        .args(&["repl"])
        .stdin(
            ":hosts a\nprod:group2\nenv.host_string\n:env hosts\n:hosts web3,web4\nenv.hosts = [\"b\"];\n:env roles\n",
        )
        .stdout(
            r#"
            rfab> :hosts a
            hosts: none -> a
            rfab [1 host]> prod:group2
            [a] Executing task 'prod'
            hosts: a -> web3, web4
            rfab prod:group2 [2 hosts]> env.host_string
            [web3] web3
            [web4] web4
            rfab prod:group2 [2 hosts]> :env hosts
            []
            rfab prod:group2 [2 hosts]> :hosts web3,web4
            hosts: web3, web4 (unchanged)
            rfab prod:group2 [2 hosts]> env.hosts = ["b"];
            hosts: web3, web4 -> b
            rfab [1 host]> :env roles
            []
            "#,
        )
        .run();
}

/// `rfab -H HOST repl` needed a fabfile, though the prompt is useful without one.
#[test]
fn repl_opens_without_a_fabfile_when_hosts_are_named() {
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    fleet
        .test()
        .args(&["-H", &host, "repl", "--", "echo before"])
        .stdin(":tasks\nrun(\"echo at the prompt\"); ()\n:reload\n")
        .status(2)
        .stdout_regex(&crate::test::pattern(
            &format!(
                "[{host}] Executing task '<command>'\n\
                 [{host}] run: echo before\n\
                 [{host}] out: before\n\
                 <ANY>\
                 rfab [1 host]> :tasks\n\
                 No tasks: define a function in the fabfile to make one.\n\
                 rfab [1 host]> run(\"echo at the prompt\"); ()\n\
                 [{host}] run: echo at the prompt\n\
                 [{host}] out: at the prompt\n\
                 rfab [1 host]> :reload\n\
                 Disconnecting from <ANY>"
            ),
            &[("<ANY>", "(?s:.*?)")],
        ))
        .stderr(
            "error: no fabfile to reload: this session started without one\n\
             hint: leave, and start `rfab repl` beside a `fabfile.rhai` or with `-f PATH`\n",
        )
        .run();
    Test::new()
        .args(&["repl"])
        .status(2)
        .stderr_regex(
            r"error: no fabfile found: looked for `fabfile.rhai` in `[^\n]*`\nhint: create one, point at it with `-f PATH`, or name hosts \(`rfab -H HOST repl`\) to open the prompt without one",
        )
        .run();
}
