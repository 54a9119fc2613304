//! `rfab/files` (Fabric's `contrib.files`) and `put_text`/`put_blob` on real sshd hosts:
//! each function, hostile text (quotes, `/`, `&`, `$`, newlines), modes, backups, sudo.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::sshd::{Fleet, SUDO_USER, SUDO_USER_PASSWORD, ensure_sudo_user};
use crate::test::{Ran, Test};

/// Runs task `t` of `test` on the fleet's first host, printing only what the script prints.
fn run_t(fleet: &Fleet, test: Test, dir: &Path) -> Ran {
    let dir = format!("dir={}", dir.display());
    test.args(&[
        "-H",
        &fleet.hosts[0].string(),
        "--set",
        &dir,
        "--hide",
        "everything",
        "--show",
        "user",
        "t",
    ])
    .run()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o7777
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Names in `dir` that look like a temp file rfab left behind.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("rfab"))
        .collect()
}

#[test]
fn exists_is_link_and_first_take_paths_with_quotes_and_spaces() {
    let fleet = Fleet::start(1);
    let dir = fleet.dir.path().join("it's here");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("a \"file\""), "x").expect("file");
    std::os::unix::fs::symlink(dir.join("a \"file\""), dir.join("$link")).expect("link");
    let test = fleet.test().fabfile(
        r#"
        import "rfab/files" as files;
        fn t() {
            let d = env.dir;
            print(files::exists(d + "/a \"file\""));
            print(files::exists(d + "/missing; touch " + d + "/pwned"));
            print(files::is_link(d + "/$link"));
            print(files::is_link(d + "/a \"file\""));
            print(files::first([d + "/missing", d + "/$link", d + "/a \"file\""]));
            print(files::first([d + "/nope"]) == ());
            print(files::first([d + "/nope"], #{ verbose: true }) == ());
            print(files::exists("/root", #{ use_sudo: true }));
        }
        "#,
    );
    let ran = run_t(&fleet, test, &dir);
    assert_eq!(
        ran.stdout,
        format!(
            "true\nfalse\ntrue\nfalse\n{}/$link\ntrue\ntrue\ntrue\n",
            dir.display()
        )
    );
    assert!(!dir.join("pwned").exists());
}

#[test]
fn append_adds_only_the_lines_not_there_yet() {
    let fleet = Fleet::start(1);
    let dir = fleet.dir.path().join("append");
    std::fs::create_dir_all(&dir).expect("dir");
    // No newline at the end: the first line added must not join it.
    std::fs::write(dir.join("conf"), "first line\nvm.swappiness = 10").expect("file");
    let test = fleet.test().fabfile(
        r#"
        import "rfab/files" as files;
        fn t() {
            let f = env.dir + "/conf";
            for i in 0..2 {
                files::append(f, `it's "quoted" $HOME`);
                files::append(f, ["a/b & c", "back\\slash", "-n", "a/b & c"]);
                files::append(f, "two\nlines\n");
                files::append(f, "vm.swappiness", #{ partial: true });
                files::append(f, "first");
                files::append(f, "^first", #{ escape: false });
            }
            files::append(env.dir + "/new file", "made");
        }
        "#,
    );
    run_t(&fleet, test, &dir);
    assert_eq!(
        read(&dir.join("conf")),
        "first line\nvm.swappiness = 10\nit's \"quoted\" $HOME\na/b & c\nback\\slash\n-n\ntwo\nlines\nfirst\n"
    );
    assert_eq!(read(&dir.join("new file")), "made\n");
}

#[test]
fn contains_matches_text_lines_and_patterns() {
    let fleet = Fleet::start(1);
    let dir = fleet.dir.path().join("contains");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("f"), "PermitRootLogin no\nx = [a.b]\n").expect("file");
    let test = fleet.test().fabfile(
        r#"
        import "rfab/files" as files;
        fn t() {
            let f = env.dir + "/f";
            print([
                files::contains(f, "RootLogin"),
                files::contains(f, "RootLogin", #{ exact: true }),
                files::contains(f, "PermitRootLogin no", #{ exact: true }),
                files::contains(f, "[a.b]"),
                files::contains(f, "x = [a-c]", #{ escape: false }),
                files::contains(f, "permitrootlogin", #{ case_sensitive: false }),
                files::contains(f, "permitrootlogin"),
                files::contains(env.dir + "/missing", "x"),
            ]);
        }
        "#,
    );
    let ran = run_t(&fleet, test, &dir);
    assert_eq!(
        ran.stdout,
        "[true, false, true, true, false, true, false, false]\n"
    );
}

#[test]
fn sed_replaces_hostile_text_safely_with_fabrics_options() {
    let fleet = Fleet::start(1);
    let dir = fleet.dir.path().join("sed");
    std::fs::create_dir_all(&dir).expect("dir");
    let original = "port = 80\nname = it's/here & there\nlog = debug\nDEBUG = 1\n";
    std::fs::write(dir.join("app.conf"), original).expect("file");
    let test = fleet.test().fabfile(
        r#"
        import "rfab/files" as files;
        fn t() {
            let f = env.dir + "/app.conf";
            files::sed(f, "it's/here", "it's/there \\& \"q\" $HOME");
            files::sed(f, "port = ([0-9]+)", "& # was \\1", #{ backup: "" });
            files::sed(f, "^log = debug$", "log = info\nlog2 = x", #{ backup: "" });
            files::sed(f, "debug", "trace", #{ limit: "^DEBUG", flags: "i", backup: "" });
            files::sed(f, "'; touch " + env.dir + "/pwned; '", "x", #{ backup: "" });
            let r = files::sed(f, "a", "b", #{ flags: "e", backup: "" });
        }
        "#,
    );
    let dir_arg = format!("dir={}", dir.display());
    let host = fleet.hosts[0].string();
    test.args(&["-H", &host, "--set", &dir_arg, "--hide", "everything", "t"])
        .status(1)
        .stderr_starts_with(&format!(
            "[{host}] Fatal error: sed(): `flags` may hold only i, I, m, M, p and a number, not `e`"
        ))
        .run();
    assert_eq!(
        read(&dir.join("app.conf")),
        "port = 80 # was 80\nname = it's/there & \"q\" $HOME & there\nlog = info\nlog2 = x\ntrace = 1\n"
    );
    assert_eq!(read(&dir.join("app.conf.bak")), original);
    assert!(!dir.join("pwned").exists());
}

#[test]
fn comment_and_uncomment_lines() {
    let fleet = Fleet::start(1);
    let dir = fleet.dir.path().join("comment");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("sshd_config"),
        "PermitRootLogin yes\n#PasswordAuthentication no\n# UseDNS no\n  // a/b\nkeep\n",
    )
    .expect("file");
    let test = fleet.test().fabfile(
        r#"
        import "rfab/files" as files;
        fn t() {
            let f = env.dir + "/sshd_config";
            files::comment(f, "^PermitRootLogin");
            files::uncomment(f, "PasswordAuthentication");
            files::uncomment(f, "UseDNS", #{ backup: "" });
            files::uncomment(f, "a/b", #{ char: "//", backup: "" });
            files::comment(f, "^keep$", #{ char: "; &", backup: "" });
        }
        "#,
    );
    run_t(&fleet, test, &dir);
    assert_eq!(
        read(&dir.join("sshd_config")),
        "#PermitRootLogin yes\nPasswordAuthentication no\nUseDNS no\n  a/b\n; &keep\n"
    );
}

#[test]
fn upload_template_renders_jinja_with_loops_filters_defaults_and_includes() {
    let fleet = Fleet::start(1);
    let dir = fleet.dir.path().join("etc");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("app.conf"), "old\n").expect("old");
    std::fs::set_permissions(dir.join("app.conf"), std::fs::Permissions::from_mode(0o600))
        .expect("chmod");
    let test = fleet
        .test()
        .fabfile(
            r#"
            import "rfab/files" as files;
            fn t() {
                let placed = files::upload_template("app.conf.j2", env.dir + "/app.conf", #{
                    use_jinja: true, template_dir: "templates",
                    context: #{ host: "web1", ports: [80, 443], name: "it's <me>" },
                });
                print(placed);
                print(files::upload_template("app.conf.j2", env.dir + "/", #{
                    use_jinja: true, template_dir: "templates", mode: "640", backup: false,
                    context: #{ host: "web2", ports: [], workers: 8, name: "x" },
                }));
            }
            "#,
        )
        .file("templates/header.j2", "# managed by rfab\n")
        .file(
            "templates/app.conf.j2",
            "{% include \"header.j2\" %}server_name {{ host }};\n{% for port in ports %}listen {{ port }};\n{% endfor %}workers {{ workers | default(2) }};\nname {{ name | upper }}\n",
        );
    let ran = run_t(&fleet, test, &dir);
    let conf = dir.join("app.conf");
    assert_eq!(
        ran.stdout,
        format!(
            "[\"{}\"]\n[\"{}/app.conf.j2\"]\n",
            conf.display(),
            dir.display()
        )
    );
    assert_eq!(
        read(&conf),
        "# managed by rfab\nserver_name web1;\nlisten 80;\nlisten 443;\nworkers 2;\nname IT'S <ME>\n"
    );
    assert_eq!(mode(&conf), 0o644, "the remote file's mode");
    assert_eq!(read(&dir.join("app.conf.bak")), "old\n");
    assert_eq!(
        mode(&dir.join("app.conf.bak")),
        0o600,
        "the backup keeps its mode"
    );
    let second = dir.join("app.conf.j2");
    assert_eq!(
        read(&second),
        "# managed by rfab\nserver_name web2;\nworkers 8;\nname X\n"
    );
    assert_eq!(mode(&second), 0o640);
    assert!(!dir.join("app.conf.j2.bak").exists());
    assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
}

#[test]
fn upload_template_without_jinja_substitutes_python_names() {
    let fleet = Fleet::start(1);
    let dir = fleet.dir.path().join("plain");
    std::fs::create_dir_all(&dir).expect("dir");
    let test = fleet
        .test()
        .fabfile(
            r#"
            import "rfab/files" as files;
            fn t() {
                files::upload_template("app.ini", env.dir + "/app.ini", #{
                    context: #{ port: 8080, name: "it's" }, mirror_local_mode: true,
                });
                files::upload_template("raw.txt", env.dir + "/raw.txt");
                files::upload_template("app.ini", env.dir + "/bad.ini", #{ context: #{} });
            }
            "#,
        )
        .file("app.ini", "port = %(port)d\nname = %(name)s\nload = 50%%\n")
        .file("raw.txt", "100%% {{ as is }}\n");
    let local = test.path().join("app.ini");
    std::fs::set_permissions(&local, std::fs::Permissions::from_mode(0o751)).expect("chmod");
    let dir_arg = format!("dir={}", dir.display());
    let host = fleet.hosts[0].string();
    test.args(&["-H", &host, "--set", &dir_arg, "--hide", "everything", "t"])
        .status(1)
        .stderr_starts_with(&format!(
            "[{host}] Fatal error: upload_template(): `app.ini`: `%` formatting: no key `port` in the map given"
        ))
        .run();
    assert_eq!(
        read(&dir.join("app.ini")),
        "port = 8080\nname = it's\nload = 50%\n"
    );
    assert_eq!(mode(&dir.join("app.ini")), 0o751);
    assert_eq!(read(&dir.join("raw.txt")), "100%% {{ as is }}\n");
    assert!(!dir.join("bad.ini").exists());
}

#[test]
fn a_template_error_names_the_template_and_uploads_nothing() {
    let fleet = Fleet::start(1);
    let dir = fleet.dir.path().join("broken");
    std::fs::create_dir_all(&dir).expect("dir");
    let test = fleet
        .test()
        .fabfile(
            r#"
            import "rfab/files" as files;
            fn t() {
                files::upload_template("bad.j2", env.dir + "/out", #{ use_jinja: true });
            }
            "#,
        )
        .file("bad.j2", "{% for x in %}\n");
    let dir_arg = format!("dir={}", dir.display());
    let host = fleet.hosts[0].string();
    let ran = test
        .args(&["-H", &host, "--set", &dir_arg, "--hide", "everything", "t"])
        .status(1)
        .run();
    assert!(
        ran.stderr.starts_with(&format!(
            "[{host}] Fatal error: upload_template(): cannot render `bad.j2` (from `"
        )),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("syntax error"), "{}", ran.stderr);
    assert!(!dir.join("out").exists());
}

#[test]
fn put_text_and_put_blob_write_memory_with_mode_0644_or_the_one_asked() {
    let fleet = Fleet::start(1);
    let dir = fleet.dir.path().join("mem");
    std::fs::create_dir_all(&dir).expect("dir");
    let test = fleet.test().fabfile(
        r#"
        fn t() {
            print(put_text("it's \"x\" $HOME\nline 2\n", env.dir + "/text"));
            put_text("secret", env.dir + "/secret", #{ mode: "600" });
            put_blob(blob(3, 0x41), env.dir + "/blob", #{ mode: 0o640 });
        }
        "#,
    );
    let ran = run_t(&fleet, test, &dir);
    assert_eq!(ran.stdout, format!("[\"{}/text\"]\n", dir.display()));
    assert_eq!(read(&dir.join("text")), "it's \"x\" $HOME\nline 2\n");
    assert_eq!(mode(&dir.join("text")), 0o644);
    assert_eq!(read(&dir.join("secret")), "secret");
    assert_eq!(mode(&dir.join("secret")), 0o600);
    assert_eq!(read(&dir.join("blob")), "AAA");
    assert_eq!(mode(&dir.join("blob")), 0o640);
    assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
}

#[test]
fn files_and_put_text_work_as_root_through_sudo_with_its_password() {
    ensure_sudo_user();
    let fleet = Fleet::start(1);
    let dir = fleet.dir.path().join("root-only");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    std::fs::write(dir.join("conf"), "a = 1\n").expect("conf");
    let host = format!(
        "{SUDO_USER}@{}:{}",
        fleet.hosts[0].address, fleet.hosts[0].port
    );
    let test = fleet
        .test()
        .fabfile(
            r#"
            import "rfab/files" as files;
            fn t() {
                let d = env.dir;
                let sudo = #{ use_sudo: true };
                print([files::exists(d + "/conf"), files::exists(d + "/conf", sudo)]);
                files::append(d + "/conf", "b = 2", sudo);
                files::sed(d + "/conf", "a = 1", "a = 3", sudo);
                print(files::contains(d + "/conf", "b = 2", sudo));
                put_text("t\n", d + "/text", sudo);
                files::upload_template("tpl", d + "/tpl", #{ use_sudo: true, context: #{ v: "ok" } });
            }
            "#,
        )
        .file("tpl", "v = %(v)s\n");
    let dir_arg = format!("dir={}", dir.display());
    let ran = test
        .args(&[
            "--sudo-password",
            SUDO_USER_PASSWORD,
            "-H",
            &host,
            "--set",
            &dir_arg,
            "--hide",
            "everything",
            "--show",
            "user",
            "t",
        ])
        .run();
    assert_eq!(ran.stdout, "[false, true]\ntrue\n");
    assert_eq!(read(&dir.join("conf")), "a = 3\nb = 2\n");
    assert_eq!(read(&dir.join("conf.bak")), "a = 1\nb = 2\n");
    assert_eq!(read(&dir.join("text")), "t\n");
    assert_eq!(mode(&dir.join("text")), 0o644);
    assert_eq!(read(&dir.join("tpl")), "v = ok\n");
    assert_eq!(mode(&dir.join("tpl")), 0o644);
    assert!(!ran.stderr.contains(SUDO_USER_PASSWORD));
}

#[test]
fn files_functions_name_themselves_when_there_is_no_host_and_add_no_tasks() {
    let test = Test::new().fabfile(
        r#"
        import "rfab/files" as files;
        import "rfab/project" as project;
        /// Edit.
        fn t() { files::sed("/x", "a", "b"); }
        "#,
    );
    let test = test.args(&["t"]).status(1).stderr_starts_with(
        "Fatal error: sed() needs a host, and this task runs on none: give it hosts",
    );
    let listed = Test::new()
        .fabfile(
            r#"
            import "rfab/files" as files;
            import "rfab/project" as project;
            /// Edit.
            fn t() { files::sed("/x", "a", "b"); }
            "#,
        )
        .args(&["--list"])
        .run();
    assert!(
        listed
            .stdout
            .starts_with("Available commands:\n\n    t    Edit.\n\n"),
        "{}",
        listed.stdout
    );
    test.run();
}
