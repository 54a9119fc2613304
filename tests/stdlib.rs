//! The embedded stdlib: `import "rfab/NAME"`, and errors that point inside it.

use crate::test::Test;

#[test]
fn hosts_module() {
    Test::new()
        .fabfile(
            r#"
            import "rfab/hosts" as hosts;
            fn t() {
                print(hosts::expand("web[1:3].lan"));
                print(hosts::expand("node[08:10]"));
                print(hosts::expand("single"));
                env.roledefs = #{ web: ["w1", "w2"], db: #{ hosts: ["d1", "w1"] } };
                print(hosts::all());
                print(hosts::of_role("db"));
                print(hosts::roles_of("w1"));
            }
            "#,
        )
        .args(&["t"])
        .stdout(
            r#"
            ["web1.lan", "web2.lan", "web3.lan"]
            ["node08", "node09", "node10"]
            ["single"]
            ["d1", "w1", "w2"]
            ["d1", "w1"]
            ["db", "web"]

            Done.
            "#,
        )
        .run();
}

/// An error raised inside the stdlib showed the stdlib's source line and call chain: rfab's
/// internals, not the user's code. It points at the user's call; `--show debug` shows the rest.
#[test]
fn errors_inside_the_stdlib_point_at_the_users_call() {
    let fabfile = "import \"rfab/hosts\" as hosts;\nfn t() {\n    hosts::expand(\"web[3:1]\");\n}";
    Test::new()
        .fabfile(fabfile)
        .args(&["t"])
        .status(1)
        .stderr(
            r#"
            Fatal error: hosts::expand: the range in `web[3:1]` runs backwards
             --> fabfile.rhai:3:12
              |
            3 |     hosts::expand("web[3:1]");
              |            ^

            Aborting.
            "#,
        )
        .run();
    Test::new()
        .fabfile(fabfile)
        .args(&["--show", "debug", "t"])
        .status(1)
        .stderr(
            r#"
            Fatal error: hosts::expand: the range in `web[3:1]` runs backwards
              --> <stdlib>/hosts.rhai:24:23
               |
            24 |     if last < first { throw "hosts::expand: the range in `" + pattern + "` runs backwards"; }
               |                       ^
               = in call to `expand` at fabfile.rhai:3:12

            Aborting.
            "#,
        )
        .run();
}

#[test]
fn unknown_stdlib_module() {
    Test::new()
        .fabfile("import \"rfab/nope\" as nope;")
        .args(&["--list"])
        .status(2)
        .stderr_starts_with("error: Module not found: rfab/nope")
        .run();
}

/// `{host}` was the host string in `deploy_to` but the host's name in `health_url`; now it
/// is the name in every setting, and `{host_string}` the whole `user@host:port`. The
/// module's earlier name, `rfab/deploy`, is the same module.
#[test]
fn host_in_a_setting_is_the_host_name_and_rfab_deploy_is_rfab_releases() {
    Test::new()
        .fabfile(
            r#"
            import "rfab/releases" as releases;
            import "rfab/deploy" as deploy;
            fn t() {
                print(releases::deploy_to());
                print(deploy::deploy_to());
            }
            "#,
        )
        .args(&[
            "-H",
            "deploy@web1.example.com:2222",
            "--set",
            "deploy_to=/srv/{host}/app-{host_string}",
            "--hide",
            "running,status",
            "t",
        ])
        .stdout(
            r#"
            /srv/web1.example.com/app-deploy@web1.example.com:2222
            /srv/web1.example.com/app-deploy@web1.example.com:2222
            "#,
        )
        .run();
}

#[test]
fn address_in_a_setting_is_the_host_name_behind_an_ssh_config_alias() {
    // Regression (issue #12): with hosts named by ssh_config aliases (`web1`), a health URL
    // checked from the host itself had no way to name the address the alias stands for.
    let test = Test::new().file("ssh_config", "Host web1\n  HostName 10.1.2.3\n");
    let config = test.path().join("ssh_config").display().to_string();
    test.fabfile(
        r#"
        import "rfab/releases" as releases;
        fn t() { print(releases::deploy_to()); print(env.address); }
        "#,
    )
    .args(&[
        "--ssh-config-path",
        &config,
        "-H",
        "web1,web2",
        "--set",
        "deploy_to=/srv/{host}-{address}",
        "--hide",
        "running,status",
        "t",
    ])
    .stdout("/srv/web1-10.1.2.3\n10.1.2.3\n/srv/web2-web2\nweb2\n")
    .run();
}
