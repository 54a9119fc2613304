//! The deploy user the fleet's nodes log in as: a plain account with the stock login
//! profile, as a real fleet's deploy user has (root's own profile on a developer's machine
//! can cost more than the deploy itself). Created once per machine, if missing.

use std::process::Command;

use crate::process::run;

/// The login the demo fleet's nodes accept.
pub const DEPLOY_USER: &str = "rfab-deploy";

/// Creates the user when missing (needs root); gives its uid and gid.
pub fn ensure(name: &str) -> Result<(u32, u32), String> {
    if ids(name).is_err() {
        let created =
            run(Command::new("useradd").args(["--create-home", "--shell", "/bin/bash", name]));
        // Another fleet may have created it meanwhile.
        if let Err(error) = created
            && ids(name).is_err()
        {
            return Err(format!(
                "cannot create the fleet's deploy user `{name}` (run as root): {error}"
            ));
        }
    }
    // A password no one can type, rather than none at all: sshd refuses a locked account
    // (useradd's default) even for keys.
    run(Command::new("usermod").args(["-p", "*", name]))?;
    ids(name)
}

fn ids(name: &str) -> Result<(u32, u32), String> {
    let id = |flag: &str| -> Result<u32, String> {
        run(Command::new("id").args([flag, name]))?
            .trim()
            .parse()
            .map_err(|e| format!("id {flag} {name}: {e}"))
    };
    Ok((id("-u")?, id("-g")?))
}

/// Gives `path` to the user.
pub fn give(path: &std::path::Path, owner: (u32, u32)) -> Result<(), String> {
    std::os::unix::fs::chown(path, Some(owner.0), Some(owner.1))
        .map_err(|e| format!("chown {}: {e}", path.display()))
}
