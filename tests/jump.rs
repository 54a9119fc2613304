//! Jump hosts: `-g/--gateway` and `ProxyJump` in the SSH config, one hop and several.

use crate::sshd::Fleet;

#[test]
fn gateway_reaches_a_host_through_another() {
    let fleet = Fleet::start(2);
    let (jump, target) = (&fleet.hosts[0], &fleet.hosts[1]);
    fleet
        .test()
        .fabfile(r#"fn t() { print(run("echo through", #{ quiet: true }).stdout); }"#)
        .args(&[
            "-g",
            &jump.string(),
            "-H",
            &target.string(),
            "--hide",
            "everything",
            "--show",
            "user",
            "t",
        ])
        .stdout("through\n")
        .run();
    assert_eq!(jump.logins(), 1, "the jump host was not used");
    assert_eq!(target.logins(), 1, "{}", target.log());
}

#[test]
fn two_hops_in_a_row() {
    let fleet = Fleet::start(3);
    let hops = format!("{},{}", fleet.hosts[0].string(), fleet.hosts[1].string());
    fleet
        .test()
        .fabfile(r#"fn t() { print(run("echo far", #{ quiet: true }).stdout); }"#)
        .args(&[
            "-g",
            &hops,
            "-H",
            &fleet.hosts[2].string(),
            "--hide",
            "everything",
            "--show",
            "user",
            "t",
        ])
        .stdout("far\n")
        .run();
    for host in &fleet.hosts {
        assert_eq!(host.logins(), 1, "{}", host.log());
    }
}

#[test]
fn proxy_jump_from_the_ssh_config() {
    let fleet = Fleet::start(2);
    let (jump, target) = (&fleet.hosts[0], &fleet.hosts[1]);
    let config = std::fs::read_to_string(fleet.ssh_config()).expect("config");
    std::fs::write(
        fleet.ssh_config(),
        format!(
            "Host {}\n  ProxyJump {}\n{config}",
            target.address,
            jump.string()
        ),
    )
    .expect("config");
    fleet
        .test()
        .fabfile(r#"fn t() { print(run("echo jumped", #{ quiet: true }).stdout); }"#)
        .args(&[
            "-H",
            &target.string(),
            "--hide",
            "everything",
            "--show",
            "user",
            "t",
        ])
        .stdout("jumped\n")
        .run();
    assert_eq!(jump.logins(), 1, "ProxyJump was ignored");
}

#[test]
fn an_unreachable_jump_host_is_named() {
    let fleet = Fleet::start(1);
    let listener = std::net::TcpListener::bind("127.77.250.4:0").expect("bind");
    let dead = format!(
        "127.77.250.4:{}",
        listener.local_addr().expect("addr").port()
    );
    drop(listener);
    let host = fleet.hosts[0].string();
    fleet
        .test()
        .fabfile(r#"fn t() { run("true"); }"#)
        .args(&["-g", &dead, "-H", &host, "t"])
        .status(1)
        .stderr_starts_with(&format!(
            "[{host}] Fatal error: through jump host `{dead}` to `{host}`: cannot connect to {dead}"
        ))
        .run();
}

/// The tunnel's pump carries bulk data both ways intact: more than the channel window
/// (2 MiB) and than one socket buffer, so partial writes and full windows happen.
#[test]
fn a_tunnel_carries_16_mib_each_way_intact() {
    let fleet = Fleet::start(2);
    let (jump, target) = (&fleet.hosts[0], &fleet.hosts[1]);
    let test = fleet.test().fabfile(
        r#"
        fn t() {
            put("big.bin", env.remote);
            get(env.remote, "back.bin");
        }
        "#,
    );
    let big = test.path().join("big.bin");
    let made = std::process::Command::new("head")
        .args(["-c", "16777216", "/dev/urandom"])
        .stdout(std::fs::File::create(&big).expect("create big.bin"))
        .status()
        .expect("head");
    assert!(made.success());
    let back = test.path().join("back.bin");
    let remote = fleet.dir.path().join("through-jump.bin");
    let remote_arg = format!("remote={}", remote.display());
    let _ran = test
        .args(&[
            "-g",
            &jump.string(),
            "-H",
            &target.string(),
            "--set",
            &remote_arg,
            "--hide",
            "status",
            "t",
        ])
        .run();
    let want = std::fs::read(&big).expect("read big.bin");
    assert!(
        std::fs::read(&remote).expect("read the uploaded copy") == want,
        "the uploaded copy differs"
    );
    assert!(
        std::fs::read(&back).expect("read the downloaded copy") == want,
        "the downloaded copy differs"
    );
    assert_eq!(jump.logins(), 1, "the jump host was not used");
}
