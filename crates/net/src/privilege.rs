//! Giving up privileges once the sockets that need them are open, as mtr-packet and trippy do: no capability
//! and no root identity is left for the probing itself, nor for anything a hostile reply might reach.

use nix::unistd::{getresgid, getresuid, setgroups, setresgid, setresuid, Gid, Uid, User};

use std::sync::atomic::{AtomicBool, Ordering};

use crate::NetError;

/// Set by [`narrow_setuid`] when it narrowed: this run's privileges came from a setuid-root bit.
static LENT: AtomicBool = AtomicBool::new(false);

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

/// A setuid-root binary run by another user becomes that user at once, keeping only `CAP_NET_RAW` (what a
/// `cap_net_raw+ep` install gives) until [`drop_privileges`]: files are then opened, ports bound, sockets owned
/// and marked with that user's rights alone. Does nothing otherwise. Call it first, before any thread starts.
pub fn narrow_setuid() -> Result<(), NetError> {
    let failed = |what: &'static str| move |errno: nix::Error| NetError::io(what)(errno.into());
    let uids = getresuid().map_err(failed("reading the user ids"))?;
    if uids.real.is_root() || !(uids.effective.is_root() || uids.saved.is_root()) {
        return Ok(());
    }
    let gids = getresgid().map_err(failed("reading the group ids"))?;
    // Kept across the change of user only to be narrowed at once to CAP_NET_RAW.
    nix::sys::prctl::set_keepcaps(true).map_err(failed("keeping capabilities"))?;
    setresgid(gids.real, gids.real, gids.real).map_err(failed("taking the real group id"))?;
    setresuid(uids.real, uids.real, uids.real).map_err(failed("taking the real user id"))?;
    nix::sys::prctl::set_keepcaps(false).map_err(failed("keeping capabilities"))?;
    let failed = |error: caps::errors::CapsError| NetError::io("narrowing capabilities")(std::io::Error::other(error));
    let raw = caps::CapsHashSet::from([caps::Capability::CAP_NET_RAW]);
    caps::set(None, caps::CapSet::Permitted, &raw).map_err(failed)?;
    caps::set(None, caps::CapSet::Effective, &raw).map_err(failed)?;
    caps::clear(None, caps::CapSet::Inheritable).map_err(failed)?;
    caps::clear(None, caps::CapSet::Ambient).map_err(failed)?;
    LENT.store(true, Ordering::Relaxed);
    Ok(())
}

/// Whether this run's privileges were lent by a setuid-root bit to another user ([`narrow_setuid`] narrowed
/// them): what that user could not do alone is refused to them.
pub fn lent_by_setuid() -> bool {
    LENT.load(Ordering::Relaxed)
}

/// Whether the user who ran this program is root (by real user id, as mtr tells): who may ask for intervals
/// that could load a shared network.
pub fn run_by_root() -> bool {
    nix::unistd::getuid().is_root()
}
