//! Network namespaces as `ip netns` makes them: a namespace named NAME is kept alive by a bind
//! mount at `/var/run/netns/NAME`, and entering it is `setns(fd, CLONE_NEWNET)` on that file.
//!
//! A namespace belongs to a thread: [`enter`] moves the calling thread only, and threads it
//! spawns afterwards start in the namespace too. Enter before opening the device, so the
//! device, its addresses and its routes are made inside.

use std::fs::File;
use std::io;
use std::path::PathBuf;

use nix::sched::{CloneFlags, setns};

use crate::Error;

/// Where `ip netns add` puts its namespaces.
pub const NETNS_RUN_DIR: &str = "/var/run/netns";

/// The file that names namespace `name`.
pub fn path(name: &str) -> PathBuf {
    PathBuf::from(NETNS_RUN_DIR).join(name)
}

/// Moves the calling thread into the network namespace `name`.
pub fn enter(name: &str) -> Result<(), Error> {
    let fail = |reason: String| Error::Netns {
        name: name.to_string(),
        reason,
    };
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(fail(
            "a namespace name is a file name in /var/run/netns (no slash, not . or ..)".into(),
        ));
    }
    let path = path(name);
    let file = File::open(&path).map_err(|e| {
        fail(match e.kind() {
            io::ErrorKind::NotFound => format!(
                "{} does not exist; create the namespace with `ip netns add {name}`",
                path.display()
            ),
            io::ErrorKind::PermissionDenied => format!(
                "cannot open {}: permission denied (entering a namespace needs root)",
                path.display()
            ),
            _ => format!("cannot open {}: {e}", path.display()),
        })
    })?;
    setns(&file, CloneFlags::CLONE_NEWNET).map_err(|e| {
        fail(match e {
            nix::errno::Errno::EPERM => {
                "setns() was refused (entering a namespace needs CAP_SYS_ADMIN: run as root)".into()
            }
            nix::errno::Errno::EINVAL => format!(
                "{} is not a network namespace; was it made by `ip netns add`?",
                path.display()
            ),
            e => format!("setns() failed: {}", e.desc()),
        })
    })
}
