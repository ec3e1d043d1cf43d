//! Standard output as the renderers write to it: the first write error stops the trace, and a reader that went away
//! (a closed pipe) is noticed even while nothing is being written.

use std::io::{self, Write};
use std::os::fd::AsFd;

use super::Control;

/// Standard output, and what became of writing to it.
#[derive(Debug)]
pub struct Sink {
    /// Locked per write, not for the thread's life: a panic hook that restores the terminal must get it too.
    out: io::Stdout,
    /// Stopped on the first failure: there is no use probing for output nobody gets.
    control: Control,
    error: Option<io::Error>,
}

impl Sink {
    /// Standard output, stopping `control`'s tracers when writing fails.
    pub fn new(control: Control) -> Self {
        Sink { out: io::stdout(), control, error: None }
    }

    /// Runs `write` on standard output, unless an earlier write failed.
    pub fn write(&mut self, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) {
        if self.error.is_none() {
            if let Err(error) = write(&mut self.out) {
                self.fail(error);
            }
        }
    }

    /// Fails as a write would if the reader of standard output has gone.
    pub fn check_reader(&mut self) {
        if self.error.is_none() && hoptrace_core::process::reader_gone(self.out.as_fd()) {
            self.fail(io::ErrorKind::BrokenPipe.into());
        }
    }

    /// Flushes what is left; the first error, if writing failed.
    pub fn finish(mut self) -> io::Result<()> {
        self.write(|out| out.flush());
        self.error.map_or(Ok(()), Err)
    }

    fn fail(&mut self, error: io::Error) {
        self.control.stop();
        self.error = Some(error);
    }
}
