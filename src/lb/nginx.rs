//! nginx: the servers of one `upstream` block of its config, taken out of rotation with
//! `down`. A change edits the file, checks it with `nginx -t` (putting the old file back if
//! the check fails) and reloads, where nginx runs (this machine, or over SSH).
//!
//! nginx's reload is graceful: the old workers finish the requests they have, so marking a
//! server `down` drains it. nginx (without Plus) counts no sessions per server and checks no
//! health itself: servers coming back are checked with the `check` command.

use std::time::Instant;

use base64::Engine as _;

use super::driver::{Driver, Health, Rotation, Server, State};
use super::shell::{Shell, fill};
use crate::lb::Error;
use crate::ssh::quote::quote;

#[derive(Debug)]
pub(crate) struct Nginx {
    pub(crate) shell: Shell,
    /// The file holding the upstream block.
    pub(crate) config: String,
    pub(crate) upstream: String,
    /// Checks the whole configuration (`nginx -t`).
    pub(crate) test: String,
    /// Makes nginx load it (`nginx -s reload`).
    pub(crate) reload: String,
    /// Exits 0 when `{server}` is healthy.
    pub(crate) check: String,
}

impl Driver for Nginx {
    fn name(&self) -> String {
        format!(
            "nginx upstream `{}` ({} on {})",
            self.upstream, self.config, self.shell.place
        )
    }

    fn servers(&self) -> Result<Vec<Server>, Error> {
        let text = self.read()?;
        let servers = upstream_servers(&text, &self.upstream).map_err(|e| self.in_file(&e))?;
        Ok(servers
            .into_iter()
            .map(|(name, down)| Server {
                name,
                status: if down { "down" } else { "up" }.to_owned(),
                rotation: if down {
                    Rotation::Maint
                } else {
                    Rotation::Live
                },
                sessions: 0,
                check: String::new(),
            })
            .collect())
    }

    /// One edit and one reload for all the changes; `drain` and `maint` are both `down`.
    /// The old file comes back whenever a step after the edit fails.
    fn set(&self, changes: &[(&str, State)]) -> Result<(), Error> {
        let before = self.read()?;
        let downs: Vec<(&str, bool)> = changes
            .iter()
            .map(|(server, state)| (*server, *state != State::Ready))
            .collect();
        let after = mark_down(&before, &self.upstream, &downs).map_err(|e| self.in_file(&e))?;
        if after == before {
            return Ok(());
        }
        // A symlinked config (sites-enabled/...) is edited where it points.
        let file = self
            .shell
            .run(&format!("readlink -f -- {}", quote(&self.config)))?;
        let file = file.trim();
        let backup = format!("{file}.rfab-old");
        self.shell
            .run(&format!("cp -p -- {} {}", quote(file), quote(&backup)))?;
        let restore = |error: String| -> String {
            match self
                .shell
                .run(&format!("mv -f -- {} {}", quote(&backup), quote(file)))
            {
                Ok(_) => format!("{error}; the old config is back"),
                Err(also) => format!(
                    "{error}; and putting the old config back failed too ({also}): {backup} holds it"
                ),
            }
        };
        if let Err(error) = self.write(file, &after) {
            return Err(Error::Balancer(restore(format!(
                "cannot write the edited config: {error}"
            ))));
        }
        if let Err(error) = self.shell.run(&self.test) {
            return Err(Error::Balancer(restore(format!(
                "nginx rejected the edited config: {error}"
            ))));
        }
        if let Err(error) = self.shell.run(&self.reload) {
            let message = restore(format!("nginx did not reload: {error}"));
            return Err(Error::Balancer(format!(
                "{message} (reload nginx by hand if needed)"
            )));
        }
        self.shell
            .run(&format!("rm -f -- {}", quote(&backup)))
            .map(drop)
    }

    fn health(&self, servers: &[Server], _since: Instant) -> Result<Vec<Health>, Error> {
        servers
            .iter()
            .map(|s| {
                let (code, stdout, stderr) =
                    self.shell.status(&fill(&self.check, &s.name, None))?;
                Ok(if code == 0 {
                    Health::Passing
                } else {
                    let said = if stderr.trim().is_empty() {
                        stdout
                    } else {
                        stderr
                    };
                    Health::Failing(format!("check exited with status {code}: {}", said.trim()))
                })
            })
            .collect()
    }
}

impl Nginx {
    fn read(&self) -> Result<String, Error> {
        self.shell.run(&format!("cat -- {}", quote(&self.config)))
    }

    /// Puts `text` in `file` with a rename, keeping its mode and owner.
    fn write(&self, file: &str, text: &str) -> Result<(), Error> {
        let encoded = base64::engine::general_purpose::STANDARD.encode(text);
        let target = quote(file);
        let staged = quote(&format!("{file}.rfab-new"));
        self.shell
            .run(&format!(
                "echo {encoded} | base64 -d > {staged} && chmod --reference={target} {staged} && \
                 chown --reference={target} {staged} && mv -f -- {staged} {target}"
            ))
            .map(drop)
    }

    fn in_file(&self, error: &Error) -> Error {
        Error::Balancer(format!(
            "{error} in {} on {}",
            self.config, self.shell.place
        ))
    }
}

/// The `server` lines of `upstream NAME { ... }`: each address, and whether it is `down`.
/// One `server` per line, as nginx configs are written.
fn upstream_servers(text: &str, upstream: &str) -> Result<Vec<(String, bool)>, Error> {
    let (start, end) = block(text, upstream)?;
    Ok(text[start..end]
        .lines()
        .filter_map(server_line)
        .map(|(address, params)| (address.to_owned(), params.contains(&"down")))
        .collect())
}

/// `text` with each server of `downs` marked `down` (true) or not (false).
fn mark_down(text: &str, upstream: &str, downs: &[(&str, bool)]) -> Result<String, Error> {
    let (start, end) = block(text, upstream)?;
    let known: Vec<String> = text[start..end]
        .lines()
        .filter_map(server_line)
        .map(|(a, _)| a.to_owned())
        .collect();
    if let Some((missing, _)) = downs.iter().find(|(s, _)| !known.iter().any(|k| k == s)) {
        return Err(Error::Balancer(format!(
            "upstream `{upstream}` has no server `{missing}` (it has: {})",
            known.join(", ")
        )));
    }
    let mut edited = String::with_capacity(text.len() + 16);
    edited.push_str(&text[..start]);
    for line in text[start..end].split_inclusive('\n') {
        let Some((address, params)) = server_line(line) else {
            edited.push_str(line);
            continue;
        };
        let Some((_, down)) = downs.iter().find(|(s, _)| *s == address) else {
            edited.push_str(line);
            continue;
        };
        let indent = &line[..line.len() - line.trim_start().len()];
        let mut words: Vec<&str> = params.into_iter().filter(|p| *p != "down").collect();
        if *down {
            words.push("down");
        }
        let rest = line.find(';').map_or("", |semi| &line[semi + 1..]);
        edited.push_str(indent);
        edited.push_str("server ");
        edited.push_str(address);
        for word in words {
            edited.push(' ');
            edited.push_str(word);
        }
        edited.push(';');
        edited.push_str(rest);
    }
    edited.push_str(&text[end..]);
    Ok(edited)
}

/// The byte range of the body of `upstream NAME { ... }`.
fn block(text: &str, upstream: &str) -> Result<(usize, usize), Error> {
    let missing = || Error::Balancer(format!("no `upstream {upstream} {{ ... }}` block"));
    let mut from = 0;
    let start = loop {
        let at = text[from..].find("upstream").ok_or_else(missing)? + from;
        let after = &text[at + "upstream".len()..];
        let mut words = after.split_whitespace();
        let named = words
            .next()
            .is_some_and(|w| w == upstream || w == format!("{upstream}{{"));
        let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
        let commented = text[line_start..at].contains('#');
        if named && !commented {
            let open = after.find('{').ok_or_else(missing)?;
            break at + "upstream".len() + open + 1;
        }
        from = at + "upstream".len();
    };
    let end = text[start..].find('}').ok_or_else(missing)? + start;
    Ok((start, end))
}

/// `server 10.0.0.1:8080 weight=2 down;` → the address and the parameters.
fn server_line(line: &str) -> Option<(&str, Vec<&str>)> {
    let code = line.split('#').next()?.trim();
    let statement = code.strip_prefix("server")?;
    if !statement.starts_with(char::is_whitespace) {
        return None;
    }
    let statement = statement.trim().strip_suffix(';')?;
    let mut words = statement.split_whitespace();
    let address = words.next()?;
    Some((address, words.collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "\
upstream other { server 10.0.0.9:80; }
# upstream app is below
upstream app {
    server 127.0.0.1:8001 weight=2;
    server 127.0.0.2:8001 down; # web2
    keepalive 8;
}
server { listen 80; location / { proxy_pass http://app; } }
";

    #[test]
    fn reads_the_servers_of_one_upstream() {
        assert_eq!(
            upstream_servers(CONFIG, "app").unwrap(),
            [
                ("127.0.0.1:8001".to_owned(), false),
                ("127.0.0.2:8001".to_owned(), true)
            ]
        );
        assert_eq!(
            upstream_servers(CONFIG, "web").unwrap_err().to_string(),
            "no `upstream web { ... }` block"
        );
    }

    #[test]
    fn marks_servers_down_and_up_keeping_the_rest_of_the_file() {
        let edited = mark_down(
            CONFIG,
            "app",
            &[("127.0.0.1:8001", true), ("127.0.0.2:8001", false)],
        )
        .unwrap();
        assert_eq!(
            edited,
            CONFIG
                .replace(
                    "server 127.0.0.1:8001 weight=2;",
                    "server 127.0.0.1:8001 weight=2 down;"
                )
                .replace("server 127.0.0.2:8001 down;", "server 127.0.0.2:8001;")
        );
        assert_eq!(
            mark_down(&edited, "app", &[("127.0.0.1:8001", true)]).unwrap(),
            edited
        );
    }

    #[test]
    fn an_unknown_server_is_an_error_naming_the_known_ones() {
        assert_eq!(
            mark_down(CONFIG, "app", &[("web9", true)])
                .unwrap_err()
                .to_string(),
            "upstream `app` has no server `web9` (it has: 127.0.0.1:8001, 127.0.0.2:8001)"
        );
    }
}
