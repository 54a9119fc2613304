//! `env`: shared by every task, function, module and closure; seeded by `--set`.

use crate::test::Test;

#[test]
fn what_one_task_sets_the_next_one_sees() {
    Test::new()
        .fabfile(
            r#"
            import "stage" as stage;
            fn prod() { env.stage = "production"; stage::remember(); }
            fn show() {
                let f = || env.stage;
                print(`${env.stage} ${f.call()} ${env.remembered} ${stage::read()}`);
            }
            "#,
        )
        .file(
            "stage.rhai",
            r#"
            fn remember() { env.remembered = "from a module"; }
            fn read() { helper() }
            private fn helper() { env.stage }
            "#,
        )
        .args(&["prod", "show"])
        .stdout(
            "
            production production from a module production

            Done.
            ",
        )
        .run();
}

#[test]
fn set_seeds_env_with_fabric_semantics() {
    Test::new()
        .fabfile(r#"fn t() { print(`${env.a} ${type_of(env.flag)} ${env.flag} [${env.empty}] ${env.msg}`); }"#)
        .args(&["--set", r"a=1,flag,empty=,msg=x\,y", "t"])
        .stdout(
            "
            1 bool true [] x,y

            Done.
            ",
        )
        .run();
}

#[test]
fn top_level_code_runs_once_and_sees_set() {
    Test::new()
        .fabfile(
            r#"
            print(`loading with ${env.stage}`);
            env.loaded = true;
            fn a() { print(`a ${env.loaded}`); }
            fn b() { print(`b ${env.loaded}`); }
            "#,
        )
        .args(&["--set", "stage=qa", "a", "b"])
        .stdout(
            "
            loading with qa
            a true
            b true

            Done.
            ",
        )
        .run();
}

#[test]
fn fabric_defaults_are_there() {
    Test::new()
        .fabfile(
            r#"fn t() { print(`${env.user} ${env.local_user} ${env.port} ${env.warn_only} ${env.tasks} ${env.hosts} ${env.command}`); }"#,
        )
        .args(&["t"])
        .stdout(
            r#"
            tester tester 22 false ["t"] [] t

            Done.
            "#,
        )
        .run();
}

#[test]
fn host_keys_describe_the_current_host() {
    Test::new()
        .fabfile(
            r#"
            fn prod() {
                env.roledefs = #{ db: #{ hosts: ["db1", "db2:2200"], user: "postgres", tier: "gold" } };
                env.roles = ["db"];
            }
            fn show() { puts(`${env.host_string} ${env.host} ${env.user} ${env.port} tier=${env.tier}`); }
            "#,
        )
        .args(&["prod", "show", "show:hosts=me@web1"])
        .stdout(
            "
            [db1] Executing task 'show'
            [db1] db1 db1 postgres 22 tier=gold
            [db2:2200] Executing task 'show'
            [db2:2200] db2:2200 db2 postgres 2200 tier=gold
            [me@web1] Executing task 'show'
            [me@web1] me@web1 web1 me 22 tier=

            Summary:
                db1  ok  TIME  show
                db2:2200  ok  TIME  show
                me@web1  ok  TIME  show
                3 hosts: 3 ok

            Done.
            ",
        )
        .mask_times()
        .run();
}

#[test]
fn env_user_sets_the_default_user() {
    Test::new()
        .fabfile(r#"fn t() { puts(env.user); }"#)
        .args(&["--set", "user=deploy", "t:hosts=web1;root@web2"])
        .stdout(
            "
            [web1] Executing task 't'
            [web1] deploy
            [root@web2] Executing task 't'
            [root@web2] root

            Summary:
                web1  ok  TIME  t
                root@web2  ok  TIME  t
                2 hosts: 2 ok

            Done.
            ",
        )
        .mask_times()
        .run();
}

#[test]
fn host_string_cannot_be_changed_inside_a_host_run() {
    Test::new()
        .fabfile(r#"fn t() { env.host_string = "elsewhere"; }"#)
        .args(&["-H", "web1", "t"])
        .status(1).stderr_starts_with("[web1] Fatal error: `env.host_string` names the host this task runs on and cannot be changed here; \
             use `execute(task, [], #{ hosts: [...] })` to run a task on other hosts\n").run();
}

#[test]
fn env_is_a_map_to_scripts() {
    Test::new()
        .fabfile(
            r#"
            fn t() {
                env["k"] = "v";
                print(env.contains("k"));
                print(env.contains("nope"));
                print("k" in env.keys());
                print(env.to_map().k);
                env.hosts.push("added");
                print(env.hosts);
            }
            "#,
        )
        .args(&["t"])
        .stdout(
            r#"
            true
            false
            true
            v
            ["added"]

            Done.
            "#,
        )
        .run();
}

/// `-u root` lost to an `env.user = "deploy"` at the fabfile's top level, so the Fabric port
/// example logged in as a user that does not exist: the command line wins, as the migration
/// guide says.
#[test]
fn dash_u_wins_over_env_user_set_by_the_fabfile() {
    Test::new()
        .fabfile(
            r#"env.user = "deploy"; env.port = 2200; fn t() { puts(`${env.user} ${env.port}`); }"#,
        )
        .args(&[
            "-u",
            "root",
            "--port",
            "2222",
            "-H",
            "web1",
            "--hide",
            "running,status",
            "t",
        ])
        .stdout("[web1] root 2222\n")
        .run();
}
