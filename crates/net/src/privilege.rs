//! Giving up privileges once the sockets that need them are open, as mtr-packet and trippy do: no capability
//! and no root identity is left for the probing itself, nor for anything a hostile reply might reach.

use nix::unistd::{getresgid, getresuid, setgroups, setresgid, setresuid, Gid, Uid, User};

use crate::NetError;

/// The account root becomes: `nobody`, or its customary numbers where there is no such account.
fn nobody() -> (Uid, Gid) {
    match User::from_name("nobody") {
        Ok(Some(user)) => (user.uid, user.gid),
        _ => (Uid::from_raw(65_534), Gid::from_raw(65_534)),
    }
}

/// Drops every privilege of this process for good: a setuid identity goes back to the real user, root becomes
/// `nobody`, every capability is cleared (also those of file capabilities such as `cap_net_raw+ep`, which survive
/// a change of user), and no later `exec` may gain any. Sockets already open keep working.
///
/// Capabilities belong to threads: call this before starting any thread (threads started later inherit none).
pub fn drop_privileges() -> Result<(), NetError> {
    let failed = |what: &'static str| move |errno: nix::Error| NetError::io(what)(errno.into());
    let uids = getresuid().map_err(failed("reading the user ids"))?;
    let gids = getresgid().map_err(failed("reading the group ids"))?;
    let (uid, gid) = if uids.real.is_root() { nobody() } else { (uids.real, gids.real) };
    if uids.effective.is_root() {
        setgroups(&[]).map_err(failed("dropping supplementary groups"))?;
    }
    setresgid(gid, gid, gid).map_err(failed("dropping the group id"))?;
    setresuid(uid, uid, uid).map_err(failed("dropping the user id"))?;
    let cleared = |error: caps::errors::CapsError| NetError::io("dropping capabilities")(std::io::Error::other(error));
    for set in [caps::CapSet::Ambient, caps::CapSet::Effective, caps::CapSet::Permitted, caps::CapSet::Inheritable] {
        caps::clear(None, set).map_err(cleared)?;
    }
    nix::sys::prctl::set_no_new_privs().map_err(failed("forbidding new privileges"))?;
    Ok(())
}

/// Whether the user who ran this program is root (by real user id, as mtr tells): who may ask for intervals
/// that could load a shared network.
pub fn run_by_root() -> bool {
    nix::unistd::getuid().is_root()
}
