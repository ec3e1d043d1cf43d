//! The man page, the shell completions and the install script, generated from and installing the real binary.

mod isolated;

use std::process::{Command, Stdio};

use isolated::*;

#[test]
fn man_page_and_completions_cover_every_flag() {
    let docs = env!("CARGO_BIN_EXE_hoptrace-docs");
    let man = Command::new(docs).arg("man").output().unwrap();
    assert!(man.status.success());
    let man = String::from_utf8_lossy(&man.stdout).replace("\\-", "-");
    let bash = Command::new(docs).args(["completions", "bash"]).output().unwrap();
    let bash = String::from_utf8_lossy(&bash.stdout).into_owned();
    for flag in [
        "--ipv4",
        "--ipv6",
        "--icmp",
        "--tcp",
        "--udp",
        "--module",
        "--numeric",
        "--first",
        "--max-hops",
        "--queries",
        "--wait",
        "--sim-queries",
        "--sendwait",
        "--port",
        "--source",
        "--interface",
        "--tos",
        "--dont-fragment",
        "--mtu",
        "--back",
        "--as-path-lookups",
        "--extensions",
        "--version",
        "--unprivileged",
        "--json",
        "--report",
        "--report-cycles",
        "--interval",
        "--csv",
        "--dot",
        "--sport",
        "--fwmark",
        "--flowlabel",
        "--debug",
        "--tracepath",
    ] {
        assert!(man.contains(flag), "man page lacks {flag}");
        assert!(bash.contains(flag), "bash completion lacks {flag}");
    }
    let sections: Vec<&str> = man.lines().filter_map(|line| line.strip_prefix(".SH ")).collect();
    assert_eq!(
        sections,
        [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "\"TRACEPATH OPTIONS\"",
            "PRIVILEGES",
            "\"NOT SUPPORTED\"",
            "\"EXIT STATUS\"",
            "EXAMPLES",
            "\"SEE ALSO\"",
            "VERSION"
        ]
    );
    // DESCRIPTION says more than NAME's one line.
    let description = man.split(".SH DESCRIPTION\n").nth(1).unwrap().split(".SH").next().unwrap();
    assert!(description.len() > 200 && !description.starts_with("Print the route"), "{description}");
    // tracepath's own options are there too.
    let tracepath = man.split("TRACEPATH OPTIONS").nth(1).unwrap();
    assert!(tracepath.contains("pktlen") && tracepath.contains("Print both name and IP"), "{tracepath}");

    // Completion offers -M's methods, and no file names where a number goes.
    let complete = |words: &str| {
        let script = format!(
            "source /dev/stdin; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _hoptrace hoptrace \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\" 2>/dev/null; \
             echo \"${{COMPREPLY[*]}}\""
        );
        let mut child = Command::new("bash")
            .args(["-c", &script])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), bash.as_bytes()).unwrap();
        drop(child.stdin.take());
        String::from_utf8_lossy(&child.wait_with_output().unwrap().stdout).trim().to_owned()
    };
    assert_eq!(complete("hoptrace -M ''"), "default udp icmp tcp tcpconn");
    assert_eq!(complete("hoptrace -M t"), "tcp tcpconn");
    assert_eq!(complete("hoptrace -m ''"), "");
    assert_eq!(complete("hoptrace --trace"), "--tracepath");
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn install_script_installs_binary_man_page_completions_and_tracepath_link() {
    let prefix = std::env::temp_dir().join(format!("hoptrace-install-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&prefix);
    let built = std::path::Path::new(BINARY).parent().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/install.sh");
    let output = Command::new(script)
        .args(["--prefix", prefix.to_str().unwrap(), "--from", built.to_str().unwrap(), "--tracepath-link"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let file = |path: &str| std::fs::read_to_string(prefix.join(path)).unwrap_or_else(|_| panic!("no {path}"));
    assert!(file("share/man/man1/hoptrace.1").starts_with(".ie"), "not a man page");
    assert!(file("share/bash-completion/completions/hoptrace").contains("complete -F _hoptrace"));
    assert!(file("share/zsh/site-functions/_hoptrace").starts_with("#compdef hoptrace"));
    assert!(file("share/fish/vendor_completions.d/hoptrace.fish").contains("complete -c hoptrace"));
    let installed = prefix.join("bin/hoptrace");
    let version = Command::new(&installed).arg("-V").output().unwrap();
    assert_eq!(version.stdout, hoptrace(&["-V"]).stdout);
    let tracepath = run_isolated(prefix.join("bin/tracepath").to_str().unwrap(), None, &["-n", "127.0.0.1"]);
    let _ = std::fs::remove_dir_all(&prefix);
    assert!(stdout(&tracepath).starts_with(" 1:  127.0.0.1 "), "{}", stdout(&tracepath));
}
