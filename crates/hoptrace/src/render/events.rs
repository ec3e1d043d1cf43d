//! `--events`: the library's event stream as it happens, one JSON object per line.

use std::io::{self, Write};

use hoptrace_core::Event;
use hoptrace_core::Hop;

use super::{Directory, Renderer, TraceInfo};

/// Writes every event as one line of JSON, flushed at once so that a reader of the pipe sees it then.
#[derive(Debug, Default)]
pub struct EventsJson;

impl Renderer for EventsJson {
    fn header(&mut self, _out: &mut dyn Write, _info: &TraceInfo) -> io::Result<()> {
        Ok(())
    }

    fn hop(&mut self, _out: &mut dyn Write, _hop: &Hop, _directory: &dyn Directory) -> io::Result<()> {
        Ok(())
    }

    fn per_probe(&self) -> bool {
        true
    }

    fn event(&mut self, out: &mut dyn Write, event: &Event, _directory: &dyn Directory) -> io::Result<()> {
        serde_json::to_writer(&mut *out, event)?;
        out.write_all(b"\n")?;
        out.flush()
    }
}
