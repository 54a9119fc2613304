//! `sudo()` with a user whose sudo asks for a password.

use crate::output_safety::spoofed;
use crate::sshd::{Fleet, SUDO_USER, SUDO_USER_PASSWORD, ensure_sudo_user};

fn host(fleet: &Fleet) -> String {
    format!(
        "{SUDO_USER}@{}:{}",
        fleet.hosts[0].address, fleet.hosts[0].port
    )
}

#[test]
fn sudo_answers_the_password_prompt_and_never_prints_it() {
    ensure_sudo_user();
    let fleet = Fleet::start(1);
    let host = host(&fleet);
    let ran = fleet
        .test()
        .fabfile(r#"fn t() { print(run("id -un").stdout); print(sudo("id -un").stdout); print(sudo("whoami", #{ user: "nobody" }).stdout); }"#)
        .args(&["--sudo-password", SUDO_USER_PASSWORD, "-H", &host, "--hide", "running,status", "t"])
        .run();
    assert_eq!(
        ran.stdout,
        format!(
            "[{host}] out: {SUDO_USER}\n{SUDO_USER}\n[{host}] out: root\nroot\n[{host}] out: nobody\nnobody\n"
        )
    );
    assert!(!ran.stdout.contains(SUDO_USER_PASSWORD) && !ran.stderr.contains(SUDO_USER_PASSWORD));
}

#[test]
fn a_wrong_sudo_password_is_a_clear_failure() {
    ensure_sudo_user();
    let fleet = Fleet::start(1);
    let host = host(&fleet);
    fleet
        .test()
        .fabfile(r#"fn t() { sudo("touch /root/never"); }"#)
        .env("RFAB_SUDO_PASSWORD", "wrong")
        .args(&["-H", &host, "t"])
        .status(1)
        .stderr_starts_with(&format!(
            "[{host}] Fatal error: sudo refused the password on `{host}` for `touch /root/never`; \
             give it in RFAB_SUDO_PASSWORD, or run rfab on a terminal\n"
        ))
        .run();
}

#[test]
fn no_sudo_password_and_no_terminal() {
    ensure_sudo_user();
    let fleet = Fleet::start(1);
    let host = host(&fleet);
    fleet
        .test()
        .fabfile(r#"fn t() { sudo("true"); }"#)
        .args(&["-H", &host, "t"])
        .status(1)
        .stderr_starts_with(&format!(
            "[{host}] Fatal error: sudo asked for a password on `{host}` for `true`"
        ))
        .run();
}

#[test]
fn sudo_answers_its_own_prompt_on_a_pseudo_terminal() {
    ensure_sudo_user();
    let fleet = Fleet::start(1);
    let host = host(&fleet);
    let ran = fleet
        .test()
        .fabfile(r#"fn t() { print(sudo("id -un", #{ pty: true }).stdout); }"#)
        .args(&[
            "--sudo-password",
            SUDO_USER_PASSWORD,
            "-H",
            &host,
            "--hide",
            "everything",
            "t",
        ])
        .run();
    assert_eq!(ran.stdout, "root\n");
}

#[test]
fn after_sudo_asked_a_spoofed_prompt_gets_nothing() {
    // Regression (trial finding 4): once sudo's own prompt was answered, the command's
    // imitation of rfab's prompt failed it with "sudo refused the password".
    ensure_sudo_user();
    let fleet = Fleet::start(1);
    let host = host(&fleet);
    for options in ["#{}", "#{ pty: true }"] {
        spoofed(&fleet, &host, SUDO_USER_PASSWORD, options, false);
    }
}
