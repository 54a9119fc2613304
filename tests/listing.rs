//! `--list`, `--shortlist` and `-d`.

use crate::test::Test;

const FABFILE: &str = r#"
    //! Deploys for the shop.
    import "proxy" as proxy;

    /// Select production.
    ///
    /// Sets the hosts and roles of the production fleet.
    fn prod() {}

    /// Select production, with a subset.
    fn prod(which) {}

    /// Deploy REF to the selected hosts.
    /// @roles(web)
    /// @parallel(pool = 5)
    fn deploy(ref) {}

    fn undocumented() {}
    private fn helper() {}
    fn _internal() {}
"#;

const PROXY: &str = r#"
    import "lb" as lb;
    /// Swap the live and the out group.
    fn flip() {}
    /// Put every group live.
    /// @runs_once
    fn all() {}
"#;

const LB: &str = "
    /// Talk to the balancer.
    fn socket() {}
";

fn fleet() -> Test {
    Test::new()
        .fabfile(FABFILE)
        .file("proxy.rhai", PROXY)
        .file("lb.rhai", LB)
}

#[test]
fn list_groups_and_aligns() {
    fleet()
        .args(&["--list"])
        .stdout(
            "
            Deploys for the shop.

            Available commands:

                deploy             Deploy REF to the selected hosts.
                prod               Select production.
                undocumented

                proxy.all          Put every group live.
                proxy.flip         Swap the live and the out group.

                proxy.lb.socket    Talk to the balancer.

            Built-in commands:

                repl               Open a prompt that runs tasks and script lines on the selected hosts.
                check              Check the fabfile for mistakes without running anything.
                init               Start a project: write a fabfile and an inventory for two load-balancer groups.
            ",
        )
        .run();
}

/// `--list` cut the first doc line mid-sentence where the sentence went on.
#[test]
fn list_shows_the_first_sentence_and_cuts_at_a_word() {
    Test::new()
        .fabfile(
            "
            /// The whole rollout as one command: group2 only, deploy REF to group1,
            /// flip, deploy to group2. Then all live.
            fn rolling(r) {}
            /// Show, per host, its group, whether the load balancer has it live, the release it
            /// runs, its lock, its uptime, its load, its disk space, its memory and its mood.
            fn status() {}
            ",
        )
        .args(&["--list"])
        .stdout(
            "
            Available commands:

                rolling    The whole rollout as one command: group2 only, deploy REF to group1, flip, deploy to…
                status     Show, per host, its group, whether the load balancer has it live, the release it…

            Built-in commands:

                repl       Open a prompt that runs tasks and script lines on the selected hosts.
                check      Check the fabfile for mistakes without running anything.
                init       Start a project: write a fabfile and an inventory for two load-balancer groups.
            ",
        )
        .run();
}

#[test]
fn display_of_repl_describes_the_built_in() {
    Test::new()
        .fabfile("fn t() {}")
        .args(&["-d", "repl"])
        .stdout_regex(
            r"
            Displaying detailed information for built-in command 'repl':

                Open a prompt that runs tasks and script lines on the selected hosts\.
            .*
                Usage: rfab \[TASK\.\.\.\] repl
            ",
        )
        .run();
}

#[test]
fn shortlist_is_names_only() {
    fleet()
        .args(&["--shortlist"])
        .stdout(
            "
            deploy
            prod
            proxy.all
            proxy.flip
            proxy.lb.socket
            undocumented
            ",
        )
        .run();
}

#[test]
fn display_shows_docs_usage_and_tags() {
    fleet()
        .args(&["-d", "deploy"])
        .stdout(
            "
            Displaying detailed information for task 'deploy':

                Deploy REF to the selected hosts.

                Usage: rfab deploy:REF
                Arguments: ref
                Tags: @roles(web), @parallel(pool = 5)
            ",
        )
        .run();
}

#[test]
fn display_shows_every_overload() {
    fleet()
        .args(&["-d", "prod"])
        .stdout(
            "
            Displaying detailed information for task 'prod':

                Select production.

                Sets the hosts and roles of the production fleet.

                Usage: rfab prod
                       rfab prod:WHICH
                Arguments: [which]
            ",
        )
        .run();
}

#[test]
fn display_of_a_namespaced_task() {
    fleet()
        .args(&["--display", "proxy.all"])
        .stdout(
            "
            Displaying detailed information for task 'proxy.all':

                Put every group live.

                Usage: rfab proxy.all
                Tags: @runs_once
            ",
        )
        .run();
}

#[test]
fn display_of_an_unknown_task_suggests() {
    fleet()
        .args(&["-d", "proxy.flp"])
        .status(2)
        .stderr(
            "
            error: unknown task `proxy.flp`
            hint: did you mean `proxy.flip`?
            hint: `rfab --list` shows the tasks of this fabfile
            ",
        )
        .run();
}

#[test]
fn hidden_functions_are_not_tasks() {
    for name in ["helper", "_internal"] {
        fleet().args(&[name]).status(2).run();
    }
}

#[test]
fn empty_fabfile_says_how_to_add_a_task() {
    Test::new()
        .fabfile("let x = 1;")
        .args(&["--list"])
        .stdout("No tasks: define a function in the fabfile to make one.\n")
        .run();
}

/// A public function other files call is not a task when tagged `@helper`: the example
/// fabfile called `proxy::_balancer()`, a name meant to be private, across files.
#[test]
fn a_helper_is_callable_from_other_files_but_not_a_task() {
    let with_helper = || {
        Test::new()
            .fabfile(
                r#"
                import "proxy" as proxy;
                /// Show the balancer.
                fn show() { print(proxy::balancer()); }
                "#,
            )
            .file(
                "proxy.rhai",
                r#"
                /// Swap the groups.
                fn flip() {}
                /// The balancer, for the fabfile.
                /// @helper
                fn balancer() { "haproxy" }
                "#,
            )
    };
    with_helper()
        .args(&["--shortlist"])
        .stdout("proxy.flip\nshow\n")
        .run();
    with_helper()
        .args(&["show"])
        .stdout("haproxy\n\nDone.\n")
        .run();
}

/// A closure in a fabfile module was listed as a task named `anon$...`.
#[test]
fn closures_are_no_tasks() {
    Test::new()
        .fabfile("import \"lib\" as lib;\n/// Run.\nfn t() { lib::twice(); }\n")
        .file(
            "lib.rhai",
            "/// Twice.\nfn twice() { [1, 2].map(|x| x * 2) }\n",
        )
        .args(&["--shortlist"])
        .stdout(
            "
            lib.twice
            t
            ",
        )
        .run();
}
