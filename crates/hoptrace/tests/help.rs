//! Help, version and bad-input statuses: one rule for every command line (`hoptrace`, `--tracepath`, `monitor`,
//! `bulk`).

mod isolated;

use std::process::Command;

use isolated::*;

#[test]
fn help_and_version_the_same_way_in_every_command() {
    // Nothing is sent or looked up: no namespace needed.
    let run = |args: &[&str]| Command::new(BINARY).args(args).output().expect("hoptrace runs");
    let usages = [
        (&[][..], "Usage: hoptrace [OPTIONS] <HOST> [PACKET_LEN] [MORE_HOSTS]..."),
        (&["--tracepath"], "Usage: hoptrace --tracepath [OPTIONS] <HOST>"),
        (&["monitor"], "Usage: hoptrace monitor [OPTIONS] [TARGETS]..."),
        (&["bulk"], "Usage: hoptrace bulk [OPTIONS]"),
    ];
    for (command, usage) in usages {
        // `-h` is no traceroute(8) flag (it refuses it): help, as `--help`, everywhere.
        for help in ["-h", "--help"] {
            let output = run(&[command, &[help]].concat());
            assert_eq!(output.status.code(), Some(0), "{command:?} {help}: {}", stderr(&output));
            assert!(stdout(&output).lines().any(|line| line == usage), "{command:?} {help}: {}", stdout(&output));
        }
        for version in ["-V", "--version"] {
            let output = run(&[command, &[version]].concat());
            assert_eq!(output.status.code(), Some(0), "{command:?} {version}: {}", stderr(&output));
            let name = match command.first() {
                Some(&"--tracepath") => "tracepath".to_owned(),
                Some(sub) => format!("hoptrace {sub}"),
                None => "hoptrace".to_owned(),
            };
            let line = stdout(&output);
            assert!(line.starts_with(&format!("{name} {} ", env!("CARGO_PKG_VERSION"))), "{command:?}: {line}");
        }
        // An unknown flag points to the help that lists the flags (`-q` is traceroute's, not tracepath's).
        if command == ["--tracepath"] {
            let output = run(&["--tracepath", "-q", "1", "127.0.0.1"]);
            let expected = "hoptrace: unexpected argument '-q' found; see hoptrace --tracepath --help\n";
            assert_eq!((output.status.code(), stderr(&output).as_str()), (Some(2), expected));
        }
        let output = run(&[command, &["--no-such-flag"]].concat());
        assert_eq!(output.status.code(), Some(2), "{command:?}");
        let program = usage.trim_start_matches("Usage: ").split(" [").next().unwrap();
        assert_eq!(
            stderr(&output),
            format!("hoptrace: unexpected argument '--no-such-flag' found; see {program} --help\n"),
            "{command:?}"
        );
    }
}

#[test]
#[cfg_attr(not(feature = "lab"), ignore = "needs root for a network namespace: --features lab")]
fn a_targets_file_that_cannot_be_read_is_bad_input_everywhere() {
    let missing = "/nonexistent/hoptrace-targets";
    for command in ["monitor", "bulk"] {
        let output = isolated(&[command, "--targets", missing]);
        assert_eq!(output.status.code(), Some(2), "{command}: {}", stderr(&output));
        assert_eq!(stderr(&output).lines().count(), 1, "{command}: {}", stderr(&output));
        assert!(stderr(&output).contains(missing), "{command}: {}", stderr(&output));
    }
}
