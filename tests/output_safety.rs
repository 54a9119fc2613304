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
