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
    let complete = |words: &str| complete_in_bash(&bash, words);
    assert_eq!(complete("hoptrace -M ''"), "default udp icmp tcp tcpconn");
    assert_eq!(complete("hoptrace -M t"), "tcp tcpconn");
    assert_eq!(complete("hoptrace -m ''"), "");
    assert_eq!(complete("hoptrace --trace"), "--tracepath");
}

/// What `hoptrace-docs` writes for these arguments.
fn docs(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_hoptrace-docs")).args(args).output().unwrap();
    assert!(output.status.success(), "hoptrace-docs {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// The long flags of a command definition (`--name`), hidden ones left out.
fn long_flags(command: &clap::Command) -> Vec<String> {
    command
        .get_arguments()
        .filter(|arg| !arg.is_hide_set())
        .filter_map(|arg| arg.get_long().map(|long| format!("--{long}")))
        .collect()
}

/// traceroute's options that exist only to be refused: long and short names.
const REFUSED_LONG: [&str; 4] = ["--gateway", "--dccp", "--protocol", "--options"];
const REFUSED_SHORT: [char; 5] = ['g', 'D', 'P', 'L', 'O'];

#[test]
fn monitor_and_bulk_have_man_pages_that_name_their_flags() {
    let hoptrace_page = docs(&["man"]).replace("\\-", "-");
    for (page, command) in [("monitor", hoptrace::cli::monitor_command()), ("bulk", hoptrace::cli::bulk_command())] {
        assert!(hoptrace_page.contains(&format!("hoptrace-{page}(1)")), "hoptrace(1) does not point to {page}");
        let man = docs(&["man", page]).replace("\\-", "-");
        assert!(man.starts_with(".ie") && man.contains(&format!(".TH hoptrace-{page} 1")), "{man}");
        let flags = long_flags(&command);
        assert!(flags.len() >= 15, "{page}: {flags:?}");
        for flag in flags {
            assert!(man.contains(&flag), "hoptrace-{page}(1) lacks {flag}");
        }
        for section in ["DESCRIPTION", "OPTIONS", "\"EXIT STATUS\"", "EXAMPLES", "\"SEE ALSO\""] {
            assert!(man.contains(&format!(".SH {section}\n")), "hoptrace-{page}(1) lacks {section}");
        }
    }
    // The refused options are in no man page's options.
    for flag in REFUSED_LONG {
        assert!(!hoptrace_page.contains(flag), "hoptrace(1) shows {flag}");
    }
}

#[test]
fn completions_know_monitor_and_bulk_and_not_the_refused_options() {
    let monitor = long_flags(&hoptrace::cli::monitor_command());
    let bulk = long_flags(&hoptrace::cli::bulk_command());
    let trace = long_flags(&hoptrace::cli::command());
    assert!(!trace.iter().any(|flag| REFUSED_LONG.contains(&flag.as_str())), "{trace:?}");
    for shell in ["bash", "zsh", "fish"] {
        let script = docs(&["completions", shell]);
        let flags = monitor.iter().chain(&bulk);
        // fish names a long option `-l name`.
        let flags = flags.map(|flag| if shell == "fish" { format!("-l {} ", &flag[2..]) } else { flag.clone() });
        for word in ["monitor".to_string(), "bulk".to_string()].into_iter().chain(flags) {
            assert!(script.contains(&word), "{shell} completion lacks {word}");
        }
        for flag in ["--gateway", "--dccp", "--options"] {
            assert!(!script.contains(&format!("{flag} ")) && !script.contains(&format!("'{flag}")), "{shell}: {flag}");
            assert!(!script.contains(&format!("-l {} ", &flag[2..])), "{shell}: {flag}");
        }
    }
    // Per context, in bash: the trace's options without the refused ones, each subcommand's own.
    let bash = docs(&["completions", "bash"]);
    let complete = |words: &str| complete_in_bash(&bash, words);
    let top: Vec<String> = complete("hoptrace ''").split(' ').map(Into::into).collect();
    assert!(top.contains(&"monitor".into()) && top.contains(&"bulk".into()), "{top:?}");
    for flag in &trace {
        assert!(top.contains(flag), "hoptrace completion lacks {flag}");
    }
    for refused in REFUSED_LONG.iter().map(|flag| flag.to_string()).chain(REFUSED_SHORT.map(|c| format!("-{c}"))) {
        assert!(!top.contains(&refused), "hoptrace completion offers {refused}: {top:?}");
    }
    assert_eq!(complete("hoptrace monitor --ev"), "--every --events");
    assert_eq!(complete("hoptrace bulk --pro"), "--probing-rate --protocol");
    assert_eq!(complete("hoptrace bulk --protocol ''"), "udp icmp");
    // fish: no refused option at the top level.
    let fish = docs(&["completions", "fish"]);
    for line in fish.lines().filter(|line| line.contains("__fish_hoptrace_needs_command")) {
        for short in REFUSED_SHORT {
            assert!(!line.contains(&format!(" -s {short} ")), "{line}");
        }
        assert!(!line.contains(" -l protocol "), "{line}");
    }
    // --help shows none of them either, and they are still refused.
    let help = Command::new(BINARY).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in REFUSED_LONG {
        assert!(!help.contains(flag), "--help shows {flag}");
    }
    let refused = Command::new(BINARY).args(["--gateway", "198.18.0.1", "198.18.0.2"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(stderr(&refused), "hoptrace: -g (source routing through gateways) is not supported\n");
}

/// What bash's completion offers for `words` (the last one being completed).
fn complete_in_bash(script: &str, words: &str) -> String {
    let command = format!(
        "source /dev/stdin; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
         _hoptrace hoptrace \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\" 2>/dev/null; \
         echo \"${{COMPREPLY[*]}}\""
    );
    let mut child = Command::new("bash")
        .args(["-c", &command])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), script.as_bytes()).unwrap();
    drop(child.stdin.take());
    String::from_utf8_lossy(&child.wait_with_output().unwrap().stdout).trim().to_owned()
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn install_script_installs_binary_man_page_completions_tracepath_and_mtr_links() {
    let prefix = std::env::temp_dir().join(format!("hoptrace-install-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&prefix);
    let built = std::path::Path::new(BINARY).parent().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/install.sh");
    let output = Command::new(script)
        .args([
            "--prefix",
            prefix.to_str().unwrap(),
            "--from",
            built.to_str().unwrap(),
            "--tracepath-link",
            "--mtr-link",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let file = |path: &str| std::fs::read_to_string(prefix.join(path)).unwrap_or_else(|_| panic!("no {path}"));
    for page in ["hoptrace", "hoptrace-monitor", "hoptrace-bulk"] {
        let man = file(&format!("share/man/man1/{page}.1"));
        assert!(man.starts_with(".ie") && man.contains(&format!(".TH {page} 1")), "{page}.1 is not its man page");
    }
    assert!(file("share/bash-completion/completions/hoptrace").contains("complete -F _hoptrace"));
    assert!(file("share/zsh/site-functions/_hoptrace").starts_with("#compdef hoptrace"));
    assert!(file("share/fish/vendor_completions.d/hoptrace.fish").contains("complete -c hoptrace"));
    let installed = prefix.join("bin/hoptrace");
    let version = Command::new(&installed).arg("-V").output().unwrap();
    assert_eq!(version.stdout, hoptrace(&["-V"]).stdout);
    let tracepath = run_isolated(prefix.join("bin/tracepath").to_str().unwrap(), None, &["-n", "127.0.0.1"]);
    let mtr = run_isolated(prefix.join("bin/mtr").to_str().unwrap(), None, &["-n", "-c", "1", "-r", "127.0.0.1"]);
    let _ = std::fs::remove_dir_all(&prefix);
    assert!(stdout(&tracepath).starts_with(" 1:  127.0.0.1 "), "{}", stdout(&tracepath));
    let report = stdout(&mtr);
    let lines: Vec<&str> = report.lines().collect();
    assert!(lines.len() == 3 && lines[2].starts_with("  1.|-- 127.0.0.1 "), "{report}{}", stderr(&mtr));
}
