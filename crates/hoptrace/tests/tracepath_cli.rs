//! tracepath(8)'s command line, given `--tracepath` or run as `tracepath`, on loopback inside a network namespace
//! that has nothing but loopback (root: `--features lab`).

mod isolated;

use isolated::*;

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn tracepath_mode() {
    let lines = loopback(&["--tracepath", "-n"], "127.0.0.1");
    assert_eq!(lines[0], format!(" 1:  {:<52}", "127.0.0.1")[..57].to_owned() + &lines[0][57..]);
    assert!(lines[0].ends_with("ms reached"), "{lines:?}");
    assert_eq!(lines[1], "     Resume: pmtu 65535 hops 1 back 1 ");
    for args in [
        &["--tracepath", "-4", "-n"][..],
        &["--tracepath", "-b"],
        &["--tracepath", "-l", "1000", "-n"],
        &["--tracepath", "-m", "3", "-p", "4000", "-n"],
    ] {
        let lines = loopback(args, "127.0.0.1");
        assert!(lines[0].starts_with(" 1:  "), "{args:?}: {lines:?}");
        assert!(lines[0].ends_with("reached"), "{args:?}: {lines:?}");
    }
    // IPv6 asks for more than loopback's MTU, as iputils does: refused locally first (lab test `first_hour`).
    let lines = loopback(&["--tracepath", "-6", "-n"], "::1");
    assert!(lines[0].starts_with(" 1?: [LOCALHOST] "), "{lines:?}");
    assert!(lines[1].starts_with(" 1:  ::1 "), "{lines:?}");
    // --tracepath anywhere, and repeated flags as traceroute and tracepath take them.
    for args in [&["-n", "--tracepath"][..], &["-n", "-n", "--tracepath", "-m", "9", "-m", "3"]] {
        let lines = loopback(args, "127.0.0.1");
        assert!(lines[0].starts_with(" 1:  127.0.0.1 ") && lines[0].ends_with("reached"), "{args:?}: {lines:?}");
    }
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn invoked_as_tracepath() {
    let dir = std::env::temp_dir().join(format!("hoptrace-as-tracepath-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("tracepath");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(BINARY, &link).unwrap();
    let output = run_isolated(link.to_str().unwrap(), None, &["-n", "127.0.0.1"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).starts_with(" 1:  127.0.0.1 "), "{}", stdout(&output));
    let output = isolated(&["--tracepath", "-m", "0", "127.0.0.1"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output), "hoptrace: cannot handle `-m' option with arg `0'\n");
}
