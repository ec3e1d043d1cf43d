//! The files the command line names (`monitor --targets`, `bulk --targets`, bulk's prefix lists): opened with the
//! rights of the user who ran hoptrace (a setuid install has narrowed to them before: see
//! [`hoptrace_core::process::narrow_setuid`]), read only when regular files, bounded in size. A FIFO, a device
//! (`/dev/zero`), a directory or a terminal is refused at once, without waiting for a writer or reading without end.

use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::escape::escape;

/// The largest `monitor --targets` file: a hundred thousand targets and more.
pub const TARGETS_LIMIT: u64 = 4 << 20;

/// The largest `bulk --targets` or prefix-list file.
pub const BULK_LIMIT: u64 = 64 << 20;

/// The text of the regular file at `path`, at most `limit` bytes; a problem as one line naming the file.
pub fn read_text(path: &Path, limit: u64) -> Result<String, String> {
    text(read_file(path, limit)?).map_err(|why| format!("{}: {why}", escape(&path.display().to_string())))
}

/// The bytes of the regular file at `path`, at most `limit`; a problem as one line naming the file.
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let name = || escape(&path.display().to_string()).into_owned();
    let said = |error: std::io::Error| format!("{}: {}", name(), io_words(&error));
    // Non-blocking: opening a FIFO waits for no writer. (Reads of a regular file ignore the flag.)
    let file =
        OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY).open(path).map_err(said)?;
    let metadata = file.metadata().map_err(said)?;
    if !metadata.is_file() {
        return Err(format!("{}: not a regular file", name()));
    }
    if metadata.len() > limit {
        return Err(format!("{}: larger than {limit} bytes", name()));
    }
    read_bounded(file, limit).map_err(|why| format!("{}: {why}", name()))
}

/// At most `limit` bytes of `input`; what is wrong in a few words.
pub fn read_bounded(input: impl Read, limit: u64) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    input.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(|error| io_words(&error))?;
    if bytes.len() as u64 > limit {
        return Err(format!("larger than {limit} bytes"));
    }
    Ok(bytes)
}

/// `bytes` as UTF-8 text; where it is not, in a few words.
pub fn text(bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|error| format!("not UTF-8 text (byte {})", error.utf8_error().valid_up_to()))
}

/// An I/O error without its `(os error N)` tail.
fn io_words(error: &std::io::Error) -> String {
    let text = error.to_string();
    text.split(" (os error").next().unwrap_or(&text).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_the_bound_are_read() {
        let dir = std::env::temp_dir().join(format!("hoptrace-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("targets");
        std::fs::write(&file, "198.18.0.1\n").unwrap();
        assert_eq!(read_text(&file, 11).as_deref(), Ok("198.18.0.1\n"));
        assert_eq!(read_text(&file, 10), Err(format!("{}: larger than 10 bytes", file.display())));
        std::fs::write(&file, b"\xff\n").unwrap();
        assert_eq!(read_text(&file, 10), Err(format!("{}: not UTF-8 text (byte 0)", file.display())));
        for special in [Path::new("/dev/zero"), Path::new("/dev/null"), &dir] {
            assert_eq!(read_text(special, 10), Err(format!("{}: not a regular file", special.display())));
        }
        let missing = dir.join("missing\u{1b}[2J");
        let expected = format!("{}/missing\\u{{1b}}[2J: No such file or directory", dir.display());
        assert_eq!(read_text(&missing, 10), Err(expected));
        assert_eq!(read_bounded(&b"12345"[..], 4), Err("larger than 4 bytes".to_owned()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
