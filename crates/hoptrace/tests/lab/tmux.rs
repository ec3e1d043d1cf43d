//! A program in a tmux pane (Debian `tmux`, installed by scripts/test.sh), on a tmux server of its own: keys sent
//! with `send-keys`, the screen read with `capture-pane`, the window resized. The server is killed on drop.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How often [`Pane::wait_for`] looks at the screen.
const POLL: Duration = Duration::from_millis(20);

/// One tmux session with one pane.
pub struct Pane {
    socket: String,
    /// Where the program's exit status is written.
    status: PathBuf,
}

impl Pane {
    /// Runs `shell_command` (through `sh -c`) in a new `width` × `height` pane. Once it ends, the pane stays,
    /// showing what it left on the terminal; its exit status can be read with [`Pane::exit_status`].
    pub fn start(shell_command: &str, width: u16, height: u16) -> Self {
        static SESSIONS: AtomicUsize = AtomicUsize::new(0);
        let socket = format!("hoptrace-lab-{}-{}", std::process::id(), SESSIONS.fetch_add(1, Ordering::Relaxed));
        let status = std::env::temp_dir().join(format!("{socket}.status"));
        let _ = std::fs::remove_file(&status);
        // The shell stays after the program, so that the pane keeps its last screen.
        let script = format!("{shell_command}; echo $? > {}; exec sleep 600", status.display());
        let pane = Pane { socket, status };
        let (width, height) = (width.to_string(), height.to_string());
        pane.tmux(&["new-session", "-d", "-s", "lab", "-x", &width, "-y", &height, "sh", "-c", &script]);
        pane
    }

    /// Runs `tmux ARGS` on this pane's server; its stdout.
    fn tmux(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs (Debian package tmux; scripts/test.sh installs it)");
        assert!(output.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Types `keys` (tmux key names: `q`, `Tab`, `Escape`, `C-c`).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "lab"];
        args.extend(keys);
        self.tmux(&args);
    }

    /// The screen, line by line, trailing blanks cut.
    pub fn screen(&self) -> Vec<String> {
        self.tmux(&["capture-pane", "-p", "-t", "lab"]).lines().map(|line| line.trim_end().to_owned()).collect()
    }

    /// The screen with its colours and attributes, as escape sequences.
    pub fn styled_screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-e", "-t", "lab"])
    }

    /// Makes the window `width` × `height`.
    pub fn resize(&self, width: u16, height: u16) {
        self.tmux(&["resize-window", "-t", "lab", "-x", &width.to_string(), "-y", &height.to_string()]);
    }

    /// Waits until `test` holds for the screen (at most `timeout`, else fails with `what` and the screen);
    /// returns that screen.
    pub fn wait_for(&self, what: &str, timeout: Duration, test: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if test(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "{what}: not within {timeout:?}; the screen:\n{}", screen.join("\n"));
            thread::sleep(POLL);
        }
    }

    /// The program's exit status, once it ended (waits at most 5 s).
    pub fn exit_status(&self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(status) = std::fs::read_to_string(&self.status).ok().and_then(|text| text.trim().parse().ok()) {
                return status;
            }
            assert!(Instant::now() < deadline, "the program did not end; the screen:\n{}", self.screen().join("\n"));
            thread::sleep(POLL);
        }
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).output();
        let _ = std::fs::remove_file(&self.status);
    }
}
