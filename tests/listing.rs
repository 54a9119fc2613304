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

/// Importing a module of helpers listed every one of its functions as a task: once any
/// function carries `@task`, only those that do are tasks (Fabric's new-style rule), in
/// the fabfile and in its modules.
#[test]
fn with_task_tags_only_tagged_functions_are_tasks() {
    let fabfile = || {
        Test::new()
            .fabfile(
                r#"
                import "util" as util;
                /// Deploy.
                /// @task
                fn deploy() { print(util::stamp(format())); }
                fn format() { "v1" }
                "#,
            )
            .file(
                "util.rhai",
                r#"
                fn stamp(s) { `[${s}]` }
                /// Clean up.
                /// @task
                fn clean() {}
                "#,
            )
    };
    fabfile()
        .args(&["--shortlist"])
        .stdout("deploy\nutil.clean\n")
        .run();
    fabfile().args(&["deploy"]).stdout("[v1]\n\nDone.\n").run();
    fabfile()
        .args(&["format"])
        .status(2)
        .stderr_starts_with("error: unknown task `format`\n")
        .run();
}

/// Fabric's `@task(name='do')`: a task whose name cannot be a Rhai function's.
#[test]
fn name_tag_gives_a_task_a_reserved_name() {
    Test::new()
        .fabfile(
            r#"
            /// Do it.
            /// @name(do)
            fn do_it(what) { print(`doing ${what}`); }
            /// @name(db-migrate)
            fn migrate() { execute("do", ["more"]); }
            "#,
        )
        .args(&["--shortlist", "do:this", "db-migrate"])
        .stdout("db-migrate\ndo\n")
        .run();
    Test::new()
        .fabfile(
            r#"
            /// @name(do)
            fn do_it(what) { print(`doing ${what}`); }
            /// @name(db-migrate)
            fn migrate() { execute("do", ["more"]); }
            "#,
        )
        .args(&["do:this", "db-migrate"])
        .stdout("doing this\ndoing more\n\nDone.\n")
        .run();
}

/// Trailing parameters with `@defaults` may be left out, by position or by name, with no
/// overload per arity; `-d` shows the defaults.
#[test]
fn defaults_fill_trailing_parameters() {
    let fabfile = r#"
        /// Deploy REF.
        /// @defaults(site = "www", force = false)
        fn deploy(ref, site, force) { print(`${ref} ${site} ${force}`); }
        fn release() { execute("deploy", ["v3"]); }
    "#;
    Test::new()
        .fabfile(fabfile)
        .args(&["deploy:v1", "deploy:v2,force=yes", "release"])
        .stdout("v1 www false\nv2 www yes\nv3 www false\n\nDone.\n")
        .run();
    Test::new()
        .fabfile(fabfile)
        .args(&["-d", "deploy"])
        .stdout(
            "
            Displaying detailed information for task 'deploy':

                Deploy REF.

                Usage: rfab deploy:REF,[SITE],[FORCE]
                Arguments: ref, site='www', force=false
            ",
        )
        .run();
    Test::new()
        .fabfile(fabfile)
        .args(&["deploy:site=x"])
        .status(2)
        .stderr(
            "
            error: bad argument for task `deploy`: `ref` is not given and has no default
            usage: rfab deploy:REF,[SITE],[FORCE]
            ",
        )
        .run();
}

#[test]
fn defaults_must_name_trailing_parameters() {
    Test::new()
        .fabfile("/// @defaults(site = \"www\")\nfn deploy(site, ref) {}\n")
        .args(&["--list"])
        .status(2)
        .stderr_starts_with(
            "error: fabfile.rhai:1:5: in the docs of `deploy`: `ref` comes after `site`, which has a default, so it needs one too\n",
        )
        .run();
}

/// `fn len()` made every `x.len()` of its file call the task, which called itself until
/// `Fatal error: Stack overflow`, with no place named.
#[test]
fn a_function_named_after_a_builtin_method_is_refused_at_load() {
    Test::new()
        .fabfile("fn t() {}\n\nfn to_upper() { print(\"x\".to_upper()); }\n")
        .args(&["--list"])
        .status(2)
        .stderr(
            "
            error: fabfile.rhai:3: `fn to_upper` has the name of a built-in method, so every `x.to_upper()` in this file would call it instead (and it would call itself, without end)
            hint: rename the function; to keep `to_upper` as the task's name, tag the renamed function with `/// @name(to_upper)`
            ",
        )
        .run();
}
