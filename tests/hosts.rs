//! Which hosts a task runs on: Fabric's precedence, roles, dedupe, excludes.

use crate::test::Test;

/// A fabfile whose `show` task prints where it runs; `prod` sets env like an env task.
const FABFILE: &str = r#"
    env.roledefs = #{ web: ["web1", "web2"], db: #{ hosts: ["db1"] } };
    fn prod() { env.hosts = ["envhost"]; }
    fn by_role() { env.roles = ["web", "db"]; env.hosts = []; }
    /// @hosts(tagged1, tagged2)
    fn tagged() { puts("tagged"); }
    /// @roles(db)
    fn tagged_role() { puts("tagged_role"); }
    /// @runs_once
    fn once() { puts("once"); }
    fn show() { puts("show"); }
"#;

/// The hosts the last task ran on, in order, from its `[host] Executing task` lines.
fn hosts(args: &[&str]) -> Vec<String> {
    let ran = Test::new().fabfile(FABFILE).args(args).run();
    let last = args
        .last()
        .expect("a task")
        .split(':')
        .next()
        .expect("a name");
    ran.stdout
        .lines()
        .filter(|l| l.ends_with(&format!("Executing task '{last}'")))
        .map(|l| l[1..l.find(']').expect("a prefix")].to_owned())
        .collect()
}

#[test]
fn precedence() {
    let table: &[(&[&str], &[&str])] = &[
        // no hosts anywhere: once, locally
        (&["show"], &[]),
        // env.hosts, set by an env task
        (&["prod", "show"], &["envhost"]),
        // env.roles through env.roledefs
        (&["prod", "by_role", "show"], &["web1", "web2", "db1"]),
        // -H beats env
        (&["-H", "cli1,cli2", "prod", "show"], &["cli1", "cli2"]),
        // -R beats env
        (&["-R", "db", "prod", "show"], &["db1"]),
        // tags beat -H
        (&["-H", "cli1", "tagged"], &["tagged1", "tagged2"]),
        (&["prod", "tagged_role"], &["db1"]),
        // per-task arguments beat tags
        (&["tagged:hosts=arg1;arg2"], &["arg1", "arg2"]),
        (&["prod", "tagged:role=web"], &["web1", "web2"]),
        (&["prod", "show:hosts=x,roles=db"], &["x", "db1"]),
        // deduplicated, in order
        (
            &["prod", "show:hosts=web2;web1,roles=web"],
            &["web2", "web1"],
        ),
        // excludes from -x, the task and env
        (&["-x", "web1", "prod", "by_role", "show"], &["web2", "db1"]),
        (
            &["prod", "by_role", "show:exclude_hosts=db1;web2"],
            &["web1"],
        ),
        // runs_once: the first host only
        (&["-H", "a,b", "once"], &["a"]),
        // each task computes its list when it starts
        (&["show", "prod", "show"], &["envhost"]),
    ];
    for (args, want) in table {
        assert_eq!(hosts(args), *want, "rfab {}", args.join(" "));
    }
}

#[test]
fn unknown_role_names_the_defined_ones() {
    Test::new()
        .fabfile(FABFILE)
        .args(&["prod", "show:role=cache"])
        .status(1)
        .stderr(
            "
            error: unknown role `cache` (defined: db, web)
            hint: define it in `env.roledefs`
            ",
        )
        .run();
}

#[test]
fn env_hosts_of_the_wrong_type_is_explained() {
    Test::new()
        .fabfile("fn prod() { env.hosts = 42; } fn show() {}")
        .args(&["prod", "show"])
        .status(1)
        .stderr("error: `env.hosts` must be a list of strings, not i64\n")
        .run();
}
