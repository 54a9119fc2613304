//! SCENARIO.md's rolling hotfix with the root fabfile: four sshd hosts in two groups behind
//! a real HAProxy, and the five commands, one after the other.

use crate::git::scenario_repo;
use crate::lb::Balancer;
use crate::sshd::Fleet;
use crate::test::Test;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fabfile.rhai");

#[test]
fn the_five_commands_roll_the_hotfix_out_one_group_at_a_time() {
    let fleet = Fleet::start(4);
    let balancer = Balancer::start(250);
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
    let set = format!("inventory={}", inventory.display());
    let rfab =
        |args: &[&str]| -> Test { fleet.test().args(&["-f", ROOT, "--set", &set]).args(args) };
    let live_tag = |host: &str| {
        std::fs::read_to_string(deploy_to.join(host).join("current/REF"))
            .unwrap_or_default()
            .trim()
            .to_owned()
    };

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

    let ran = rfab(&["prod", "proxy.all"]).run();
    assert_eq!(ran.stdout.matches(" live (UP").count(), 4, "{}", ran.stdout);
    rfab(&["prod:out", "hosts"])
        .status(1)
        .stderr_starts_with("Fatal error: no group is out of rotation (web1 UP, web2 UP, web3 UP, web4 UP); take one out first, e.g. with only()")
        .run();
}
