//! What remote output can do to rfab: take its memory and time, reach the terminal, or
//! pass for sudo's prompt.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::sshd::Fleet;

/// The larger of the resident set sizes seen so far and now, in KiB, of process `pid`.
fn peak_rss_kib(pid: u32, peak: u64) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    peak.max(rss)
}

/// Runs `task` of `fabfile` on one host with `args`, reading rfab's stdout as it streams
/// (it is too large to hold); returns the streamed `out:` lines' lengths, the other lines,
/// and rfab's peak memory in KiB.
fn stream(fleet: &Fleet, fabfile: &str, args: &[&str]) -> (Vec<usize>, Vec<String>, u64) {
    let host = fleet.hosts[0].string();
    let test = fleet
        .test()
        .fabfile(fabfile)
        .args(&["-H", &host, "--hide", "running,status"])
        .args(args)
        .args(&["t"]);
    let mut child = test
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("rfab starts");
    let out = format!("[{host}] out: ");
    let (mut pieces, mut others, mut peak) = (Vec::new(), Vec::new(), 0);
    for line in BufReader::new(child.stdout.take().expect("stdout")).lines() {
        let line = line.expect("utf-8 output");
        match line.strip_prefix(&out) {
            Some(piece) => pieces.push(piece.len()),
            None => others.push(line),
        }
        if pieces.len() % 1000 == 0 {
            peak = peak_rss_kib(child.id(), peak);
        }
    }
    assert!(child.wait().expect("rfab ends").success(), "{others:?}");
    (pieces, others, peak)
}

#[test]
fn a_huge_output_is_streamed_in_full_and_its_result_is_capped() {
    // Regression (trial finding 9): every byte of a command's output was kept, so 500 MB of
    // lines took 1.5 GiB.
    let fleet = Fleet::start(1);
    let (lines, others, peak) = stream(
        &fleet,
        r#"
        fn t() {
            let r = run("yes $(printf '%0999d' 0) | head -c 200000000");
            print(`kept ${r.stdout.len()}`);
            print(r.stdout.split("\n")[-1]);
        }
        "#,
        &["--set", "output_limit=1M"],
    );
    assert_eq!(lines.len(), 200_000, "every line is printed");
    assert!(lines.iter().all(|l| *l == 999));
    let marker = "[rfab: output cut after 1048576 bytes; set output_limit to keep more]";
    let kept = 1_048_576 + 1 + marker.len();
    assert_eq!(others, [format!("kept {kept}"), marker.to_owned()]);
    assert!(peak < 100 * 1024, "rfab used {peak} KiB");
}

#[test]
fn a_line_that_never_ends_is_printed_in_pieces() {
    // Regression (trial finding 9): each chunk of a line without a newline rescanned the
    // whole line so far, and kept it all until the command ended.
    let fleet = Fleet::start(1);
    let (pieces, others, _) = stream(
        &fleet,
        r#"
        fn t() {
            let r = run("head -c 20000000 /dev/zero | tr '\\0' x", #{ output_limit: 1000 });
            print(`kept ${r.stdout.len()}`);
        }
        "#,
        &[],
    );
    assert_eq!(pieces.iter().sum::<usize>(), 20_000_000);
    assert!(pieces.len() > 100 && pieces.iter().all(|p| *p <= 64 * 1024));
    let marker = "[rfab: output cut after 1000 bytes; set output_limit to keep more]";
    assert_eq!(others, [format!("kept {}", 1000 + 1 + marker.len())]);
}

/// Prints rfab's old fixed sudo prompt on stdout and on stderr, then a prompt with a
/// guessed nonce on each, then the prompt of its own sudo, read from sudo's command line;
/// each time it waits for an answer and says what it was given.
const SPOOF: &str = r#"
printf '[rfab:sudo] password: '; read -t 1 -r got; echo " got=[$got]"
printf '[rfab:sudo] password: ' >&2; read -t 1 -r got; echo " got=[$got]" >&2
printf '[rfab:sudo:0123456789abcdef0123456789abcdef] password: ' >&2
read -t 1 -r got; echo " got=[$got]" >&2
printf '[rfab:sudo:0123456789abcdef0123456789abcdef] password: '; read -t 1 -r got
echo " got=[$got]"
p=$$
while [ "$p" -gt 1 ]; do
    prompt=$(tr '\0' '\n' < /proc/$p/cmdline | grep '^\[rfab:sudo:')
    [ -n "$prompt" ] && break
    p=$(awk '{ print $4 }' /proc/$p/stat)
done
echo "found the prompt: $([ -n "$prompt" ] && echo yes)"
printf '%s' "$prompt" >&2; read -t 1 -r got; echo " got=[$got]" >&2
printf '%s' "$prompt"; read -t 1 -r got; echo " got=[$got]"
"#;

/// Runs the spoofing script through `sudo()` with `options` on `host`, with `password` for
/// sudo; checks that rfab's output holds neither the password nor anything the script was
/// given, and returns it.
pub(crate) fn spoofed(
    fleet: &Fleet,
    host: &str,
    password: &str,
    options: &str,
    json: bool,
) -> String {
    let test = fleet.test().file("spoof.sh", SPOOF);
    let script = test.path().join("spoof.sh");
    let mut args = vec!["--sudo-password", password, "-H", host, "t"];
    if json {
        args.insert(0, "--json");
    }
    let ran = test
        .fabfile(&format!(
            r#"fn t() {{ let r = sudo("bash {}", {options}); print(`stdout=[${{r.stdout}}] stderr=[${{r.stderr}}]`); }}"#,
            script.display()
        ))
        .args(&args)
        .run();
    if json {
        crate::json::check(&ran.stdout, 0);
    }
    let all = format!("{}{}", ran.stdout, ran.stderr);
    assert!(!all.contains(password), "{all}");
    assert!(all.contains("got=[]"), "{all}");
    assert!(all.contains("found the prompt: yes"), "{all}");
    all
}

#[test]
fn a_command_printing_rfabs_sudo_prompt_never_gets_the_password() {
    // Regression (trial finding 4): any output ending with rfab's fixed sudo prompt was
    // answered with the sudo password, which the command could then print. As root, sudo
    // itself never asks here.
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    for options in ["#{}", "#{ pty: true }"] {
        for json in [false, true] {
            spoofed(&fleet, &host, "never-for-a-spoofed-prompt", options, json);
        }
    }
}

#[test]
fn escape_sequences_from_a_host_never_reach_the_terminal() {
    // Regression (trial finding 19): a host's output could retitle the window and clear
    // the screen.
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    let fabfile = r#"
        fn t() {
            let r = run("printf 'a\\033]0;pwned\\007b\\033[2J\\033[31mred\\033[0m\\tc\\r\\bd\\n'; printf '\\302\\233Hx\\033c\\n' >&2");
            if r.stdout == "a\x1b]0;pwned\x07b\x1b[2J\x1b[31mred\x1b[0m\tc\r\x08d" { print("kept as received"); }
        }
    "#;
    let test = || {
        fleet
            .test()
            .fabfile(fabfile)
            .args(&["-H", &host, "--hide", "running,status"])
    };
    test()
        .args(&["t"])
        .stdout(&format!(
            "[{host}] out: abred\tcd\n[{host}] err: x\nkept as received\n"
        ))
        .run();
    test()
        .args(&["--show", "raw", "t"])
        .stdout(&format!(
            "[{host}] out: a\x1b]0;pwned\x07b\x1b[2J\x1b[31mred\x1b[0m\tc\r\x08d\n\
             [{host}] err: \u{9b}Hx\x1bc\nkept as received\n"
        ))
        .run();
}

#[test]
fn local_output_is_capped_and_streamed_the_same_way() {
    // Regression (trial finding 9, for local()): a line that never ended was held whole.
    let marker = "[rfab: output cut after 1024 bytes; set output_limit to keep more]";
    crate::test::Test::new()
        .fabfile(
            r#"
            fn t() {
                let r = local("head -c 3000000 /dev/zero | tr '\\0' x; printf '\\n1\\n2'", #{ output_limit: "1K" });
                print(`kept ${r.stdout.len()}: ${r.stdout.split("\n")[-1]}`);
                print(local("printf 'a\\nb\\n'").stdout);
            }
            "#,
        )
        .args(&["--hide", "everything", "--show", "user", "t"])
        .stdout(&format!("kept {}: {marker}\na\nb\n", 1024 + 1 + marker.len()))
        .run();
}

#[test]
fn escape_sequences_quoted_in_messages_never_reach_the_terminal() {
    // Regression (trial finding 19): a warning or error quoting a host's output passed its
    // escape sequences on.
    let fleet = Fleet::start(1);
    let host = fleet.hosts[0].string();
    let ran = fleet
        .test()
        .fabfile(
            r#"
            fn t() {
                let r = run("printf '\\033]0;pwned\\007boom\\033[2J' >&2", #{ quiet: true });
                warn(`said: ${r.stderr}`);
                abort(`failed: ${r.stderr}`);
            }
            "#,
        )
        .args(&["-H", &host, "--hide", "running,status", "t"])
        .status(1)
        .run();
    let want = format!("[{host}] Warning: said: boom\n[{host}] Fatal error: failed: boom\n");
    assert!(ran.stderr.starts_with(&want), "{:?}", ran.stderr);
}
