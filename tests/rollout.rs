//! SCENARIO.md's rolling hotfix with the root fabfile: four sshd hosts in two groups behind
//! a real HAProxy, and the five commands, one after the other.

use crate::git::scenario_repo;
use crate::lb::Balancer;
use crate::sshd::Fleet;
use crate::test::Test;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fabfile.rhai");

/// Four sshd hosts in two groups behind a real HAProxy, the SCENARIO repository, and an
/// inventory for the root fabfile naming them.
struct Scenario {
    fleet: Fleet,
    _balancer: Balancer,
    hosts: Vec<String>,
    deploy_to: std::path::PathBuf,
    inventory: std::path::PathBuf,
}

impl Scenario {
    fn start(net: u8) -> Self {
        let fleet = Fleet::start(4);
        let balancer = Balancer::start(net);
        let repo = fleet.dir.path().join("opensky");
        scenario_repo(&repo);
        let hosts: Vec<String> = fleet.hosts.iter().map(crate::sshd::Host::string).collect();
        let deploy_to = fleet.dir.path().join("srv");
        let inventory = fleet.dir.path().join("inventory");
        std::fs::write(
            inventory.with_extension("rhai"),
            format!(
                "export const user = \"root\";\n\
                 export const groups = #{{ group1: [\"{h0}\", \"{h1}\"], group2: [\"{h2}\", \"{h3}\"] }};\n\
                 export const lb = #{{ socket: \"{socket}\", backend: \"web\", health_timeout: 5, check_interval: 0.3, drain_timeout: 5,\n\
                   servers: #{{ \"{h0}\": \"web1\", \"{h1}\": \"web2\", \"{h2}\": \"web3\", \"{h3}\": \"web4\" }} }};\n\
                 export const settings = #{{ repository: \"{repo}\", deploy_to: \"{to}/{{host}}\" }};\n",
                h0 = hosts[0],
                h1 = hosts[1],
                h2 = hosts[2],
                h3 = hosts[3],
                socket = balancer.socket(),
                repo = repo.display(),
                to = deploy_to.display(),
            ),
        )
        .expect("inventory");
        Self {
            fleet,
            _balancer: balancer,
            hosts,
            deploy_to,
            inventory,
        }
    }

    fn rfab(&self, args: &[&str]) -> Test {
        let set = format!("inventory={}", self.inventory.display());
        self.fleet
            .test()
            .args(&["-f", ROOT, "--set", &set])
            .args(args)
    }

    fn live_tag(&self, host: &str) -> String {
        std::fs::read_to_string(self.deploy_to.join(host).join("current/REF"))
            .unwrap_or_default()
            .trim()
            .to_owned()
    }
}

#[test]
fn the_five_commands_roll_the_hotfix_out_one_group_at_a_time() {
    let scenario = Scenario::start(250);
    let hosts = &scenario.hosts;
    let rfab = |args: &[&str]| scenario.rfab(args);
    let live_tag = |host: &str| scenario.live_tag(host);

    // Before: v3.0.0 everywhere.
    rfab(&["prod", "deploy:v3.0.0"]).run();
    let ran = rfab(&["prod", "proxy.group2"]).run();
    assert!(
        ran.stdout
            .contains("[lb] web1: UP -> maint (group1)\n[lb] web2: UP -> maint (group1)\n"),
        "{}",
        ran.stdout
    );

    let ran = rfab(&["prod:out", "deploy:stable"]).run();
    assert!(
        !ran.stdout.contains(&format!("[{}] Executing", hosts[2])),
        "deployed to the live group:\n{}",
        ran.stdout
    );
    assert_eq!(
        [
            live_tag(&hosts[0]),
            live_tag(&hosts[1]),
            live_tag(&hosts[2]),
            live_tag(&hosts[3])
        ],
        ["v3.0.1", "v3.0.1", "v3.0.0", "v3.0.0"]
    );

    rfab(&["prod", "proxy.flip"]).run();
    rfab(&["prod:out", "deploy:stable"]).run();
    assert!(
        hosts.iter().all(|h| live_tag(h) == "v3.0.1"),
        "not every host runs v3.0.1"
    );

    let status = rfab(&["prod", "status"]).run();
    for (host, group, state) in [(&hosts[0], "group1", "live"), (&hosts[2], "group2", "out")] {
        assert!(
            status
                .stdout
                .contains(&format!("[{host}] {group} {state}, v3.0.1 (")),
            "{}",
            status.stdout
        );
    }
    assert!(
        status.stdout.contains(", no deploy lock\n"),
        "{}",
        status.stdout
    );
    let ran = rfab(&["prod", "proxy.all"]).run();
    assert_eq!(ran.stdout.matches(" live (UP").count(), 4, "{}", ran.stdout);
    rfab(&["prod:out", "hosts"])
        .status(1)
        .stderr_starts_with("Fatal error: no group is out of rotation (web1 UP, web2 UP, web3 UP, web4 UP); take one out first, e.g. with only()")
        .run();
}

#[test]
fn rolling_does_it_all_in_one_command() {
    let scenario = Scenario::start(249);
    scenario.rfab(&["prod", "deploy:v3.0.0"]).run();
    let ran = scenario.rfab(&["prod", "rolling:stable"]).run();
    assert!(
        scenario
            .hosts
            .iter()
            .all(|h| scenario.live_tag(h) == "v3.0.1"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout
            .contains("deploying stable to group1, while [\"group2\"] serves"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout
            .contains("deploying stable to group2, while [\"group1\"] serves"),
        "{}",
        ran.stdout
    );
    assert_eq!(ran.stdout.matches(" live (UP").count(), 4, "{}", ran.stdout);
}

#[test]
fn rolling_stops_with_the_live_group_serving_when_a_deploy_fails() {
    let scenario = Scenario::start(248);
    scenario.rfab(&["prod", "deploy:v3.0.0"]).run();
    // group1's first host cannot take the release: its deploy path is a file.
    let blocked = scenario.deploy_to.join(&scenario.hosts[0]);
    std::fs::remove_dir_all(&blocked).expect("remove");
    std::fs::write(&blocked, "not a directory").expect("block");
    let ran = scenario.rfab(&["prod", "rolling:stable"]).status(1).run();
    assert!(
        ran.stderr.contains(&format!("[{}]", scenario.hosts[0])),
        "{}",
        ran.stderr
    );
    let status = scenario.rfab(&["prod", "proxy.status"]).run();
    assert!(
        status.stdout.contains("group2 web3 live") && status.stdout.contains("group2 web4 live"),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains("group1 web1 out") && status.stdout.contains("group1 web2 out"),
        "{}",
        status.stdout
    );
    assert_eq!(
        scenario.live_tag(&scenario.hosts[2]),
        "v3.0.0",
        "the live group was deployed to"
    );
}
