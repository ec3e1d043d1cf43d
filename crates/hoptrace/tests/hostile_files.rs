//! Hostile files and hostile users (issue 22), each run in a network namespace with nothing but loopback: a
//! setuid-root copy run by `nobody` reads no file `nobody` may not and lends no privilege beyond raw sockets; a
//! FIFO or `/dev/zero` as a targets or prefix file is refused at once, at start or on SIGHUP; text from a file
//! reaches stderr escaped.

mod isolated;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use isolated::*;

/// A scratch directory that `nobody` may enter, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("hoptrace-{what}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        Scratch(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }

    /// A setuid-root copy of the binary.
    fn setuid_copy(&self) -> String {
        let copy = self.0.join("hoptrace");
        std::fs::copy(BINARY, &copy).expect("the binary copies");
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o4755)).expect("chmod u+s");
        copy.display().to_string()
    }

    /// A file only root may read (0600), holding `text`.
    fn secret(&self, text: &str) -> String {
        let path = self.0.join("secret");
        std::fs::write(&path, text).expect("the secret is written");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
        path.display().to_string()
    }

    /// A FIFO nobody writes to.
    fn fifo(&self) -> String {
        let path = self.path("fifo");
        assert!(Command::new("mkfifo").arg(&path).status().expect("mkfifo runs").success());
        path
    }

    /// A link to `/dev/zero`.
    fn zeros(&self) -> String {
        let path = self.0.join("zeros");
        std::os::unix::fs::symlink("/dev/zero", &path).expect("a link to /dev/zero");
        path.display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The most a run may take before `timeout` interrupts it (a defended run ends at once).
const PATIENCE: &str = "4";
/// The address space a run may take: a reader of `/dev/zero` fails against it instead of eating the machine.
const MEMORY: &str = "--as=1073741824";

/// `program args` as `nobody` (setuid copies keep their bit), in a namespace with nothing but loopback, bounded
/// in time and memory; interrupted (SIGINT) if still running after [`PATIENCE`] seconds.
fn bounded(program: &str, as_nobody: bool, args: &[&str]) -> Output {
    let mut all = vec!["-s", "INT", "-k", "2", PATIENCE, "prlimit", MEMORY, "--"];
    if as_nobody {
        all.extend(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]);
    }
    all.push(program);
    all.extend(args);
    isolated_command("timeout", "", &all).output().expect("unshare runs (needs root)")
}

/// Asserts that `output` is a prompt failure with status `code` whose stderr is `expected` alone and that
/// `marker` shows nowhere.
fn refused_with(output: &Output, code: i32, expected: &str, marker: &str) {
    let (out, err) = (stdout(output), stderr(output));
    assert!(!out.contains(marker) && !err.contains(marker), "{marker} leaked:\n{out}\n{err}");
    assert_eq!(err, format!("{expected}\n"), "stdout:\n{out}");
    assert_eq!(output.status.code(), Some(code), "{err}");
}

/// [`refused_with`] status 1: a failure that is no bad input.
fn refused(output: &Output, expected: &str, marker: &str) {
    refused_with(output, 1, expected, marker);
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn a_setuid_copy_reads_no_file_for_its_user_that_the_user_may_not_read() {
    let scratch = Scratch::new("setuid-files");
    let setuid = scratch.setuid_copy();
    // A loopback address as the marker: read with root's rights, it would be a target, traced and reported.
    let secret = scratch.secret("127.0.0.77\n");
    let monitor = bounded(&setuid, true, &["monitor", "--events", "-n", "--every", "0.2", "--targets", &secret]);
    refused_with(&monitor, 2, &format!("hoptrace: --targets {secret}: Permission denied"), "127.0.0.77");

    let secret = scratch.secret("MARKER-OF-A-ROOT-ONLY-FILE\n");
    let bulk = "hoptrace: bulk probing is not lent by a setuid install (its packets pass below the firewall): run \
                it as root or from a copy with cap_net_raw";
    for file in ["--targets", "--filter-from-prefix-file-excl", "--filter-from-prefix-file-incl"] {
        refused(&bounded(&setuid, true, &["bulk", file, &secret]), bulk, "MARKER-OF");
    }
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn a_setuid_copy_lends_no_mark_no_low_port_and_no_bulk_prober() {
    let scratch = Scratch::new("setuid-rights");
    let setuid = scratch.setuid_copy();
    let mark = bounded(&setuid, true, &["-n", "-q", "1", "-m", "1", "-w", "1", "--fwmark", "7", "127.0.0.1"]);
    let why = "hoptrace: --fwmark needs CAP_NET_ADMIN, which a setuid install does not lend: permission denied";
    refused(&mark, why, "traceroute to");
    let listen = bounded(&setuid, true, &["monitor", "-n", "--prometheus", "127.0.0.1:80", "127.0.0.1"]);
    refused(&listen, "hoptrace: cannot listen on 127.0.0.1:80: Permission denied (os error 13)", "127.0.0.1 ");
    // A forged source, past any OUTPUT rule on nobody's packets: a packet socket sends below netfilter.
    let mut bulk = isolated_command(
        "setpriv",
        "nft add table inet guard && nft add chain inet guard out '{ type filter hook output priority 0; }' && \
         nft add rule inet guard out meta skuid 65534 drop &&",
        &["--reuid=65534", "--regid=65534", "--clear-groups", &setuid, "bulk", "--source-address-v4", "198.18.9.9"],
    );
    let bulk = bulk.stdin(Stdio::null()).output().expect("unshare runs");
    let why = "hoptrace: bulk probing is not lent by a setuid install (its packets pass below the firewall): run it \
               as root or from a copy with cap_net_raw";
    refused(&bulk, why, "capture_timestamp");
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn a_fifo_or_dev_zero_as_a_file_is_refused_at_once() {
    let scratch = Scratch::new("special-files");
    for file in [scratch.fifo(), scratch.zeros()] {
        let started = Instant::now();
        let monitor = bounded(BINARY, false, &["monitor", "-n", "--targets", &file]);
        refused_with(&monitor, 2, &format!("hoptrace: --targets {file}: not a regular file"), "127.0.0.1");
        for option in ["--targets", "--filter-from-prefix-file-excl", "--filter-from-prefix-file-incl"] {
            let bulk = bounded(BINARY, false, &["bulk", option, &file]);
            assert_eq!(stderr(&bulk), format!("hoptrace: {file}: not a regular file\n"), "{option}");
            assert_eq!(bulk.status.code(), Some(2), "{option}");
        }
        assert!(started.elapsed() < Duration::from_secs(3), "{file}: {:?}", started.elapsed());
    }
}

/// `hoptrace monitor` as root on loopback with `--targets targets`, its stdout and stderr into files of `scratch`.
fn monitor(scratch: &Scratch, targets: &str) -> Child {
    let out = std::fs::File::create(scratch.path("stdout")).expect("stdout file");
    let err = std::fs::File::create(scratch.path("stderr")).expect("stderr file");
    let args = ["--as=4294967296", "--", BINARY, "monitor", "--events", "-n", "-q", "1", "--every", "0.2"];
    isolated_command("prlimit", "", &args)
        .args(["--targets", targets])
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("the monitor starts")
}

/// Waits up to `limit` for `check` to hold.
fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn kill(child: &Child, signal: &str) {
    let _ = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status();
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn a_targets_file_replaced_by_a_fifo_or_dev_zero_stops_nothing_on_sighup() {
    for special in [Scratch::fifo as fn(&Scratch) -> String, Scratch::zeros] {
        let scratch = Scratch::new("sighup-files");
        let targets = scratch.path("targets");
        std::fs::write(&targets, "127.0.0.1\n").expect("the targets file");
        let mut child = monitor(&scratch, &targets);
        let rounds =
            || std::fs::read_to_string(scratch.path("stdout")).unwrap_or_default().matches("target_round").count();
        assert!(eventually(Duration::from_secs(10), || rounds() >= 1), "no first round");
        let special = special(&scratch);
        std::fs::remove_file(&targets).expect("the file goes");
        std::fs::rename(&special, &targets).expect("the special file takes its place");
        kill(&child, "HUP");
        let before = rounds();
        // The loop goes on: more rounds of the target kept.
        let going = eventually(Duration::from_secs(5), || rounds() >= before + 2);
        kill(&child, "INT");
        let stopped = eventually(Duration::from_secs(3), || child.try_wait().ok().flatten().is_some());
        if !stopped {
            kill(&child, "KILL");
        }
        let status = child.wait().expect("the monitor ends");
        let err = std::fs::read_to_string(scratch.path("stderr")).unwrap_or_default();
        assert!(going && stopped && status.success(), "rounds went on: {going}, SIGINT: {stopped}, {status}: {err}");
        let warning = format!("hoptrace: --targets {targets}: not a regular file; keeping the targets as they were\n");
        // After the start line, which names what is watched.
        assert_eq!(err.lines().skip(1).map(|line| format!("{line}\n")).collect::<String>(), warning, "{err}");
    }
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn text_from_a_file_reaches_stderr_escaped() {
    let scratch = Scratch::new("escapes");
    let hostile = "\u{1b}]0;owned\u{7}\u{1b}[2J\r\u{202e}";
    let prefixes = scratch.path("prefixes");
    std::fs::write(&prefixes, format!("198.18.0.0/15\n{hostile}x\n")).expect("the prefix file");
    let bulk = bounded(BINARY, false, &["bulk", "--filter-from-prefix-file-excl", &prefixes]);
    let escaped = "\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\r\\u{202e}x";
    assert_eq!(stderr(&bulk), format!("hoptrace: {prefixes}:2: `{escaped}' is not a prefix\n"));
    // A target name the monitor cannot resolve (nothing answers in the namespace): its failure, on stderr.
    let (hostile, escaped) = ("\u{1b}]0;owned\u{7}\u{1b}[2J\u{202e}", "\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\u{202e}");
    let targets = scratch.path("targets");
    std::fs::write(&targets, format!("bad{hostile}name.test\n")).expect("the targets file");
    let monitor = bounded(BINARY, false, &["monitor", "--every", "0.2", "--targets", &targets]);
    let err = stderr(&monitor);
    let failure = err.lines().nth(1).unwrap_or_default();
    assert!(err.starts_with(&format!("hoptrace: watching 1 target (bad{escaped}name.test) ")), "{err}");
    assert!(failure.starts_with(&format!("hoptrace: bad{escaped}name.test: ")), "{err}");
    assert!(!err.contains(['\u{1b}', '\u{7}', '\r', '\u{202e}']), "{err:?}");
}
