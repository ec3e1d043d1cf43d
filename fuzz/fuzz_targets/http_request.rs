//! The exporter's HTTP request reader (`hoptrace monitor --prometheus`): a request head gathered from chunks of any
//! size gives what it gives whole, never more than its bound, and parses (or not) without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// Included as it is: it uses only the standard library, so the fuzz build need not compile the whole binary crate.
#[allow(dead_code)]
#[path = "../../crates/hoptrace/src/monitor/request.rs"]
mod request;

use request::{Head, Progress, Request, MAX_HEAD};

fuzz_target!(|data: &[u8]| {
    // The first byte: the size of the chunks the rest arrives in, as reads would give it.
    let Some((&size, bytes)) = data.split_first() else { return };
    let mut chunked = Head::default();
    let mut progress = Progress::Partial;
    for chunk in bytes.chunks(usize::from(size).max(1)) {
        progress = chunked.push(chunk);
    }
    let mut whole = Head::default();
    assert_eq!(whole.push(bytes), progress);
    assert_eq!(whole.bytes(), chunked.bytes());
    assert!(whole.bytes().len() <= MAX_HEAD && bytes.starts_with(whole.bytes()));
    if progress == Progress::Complete {
        assert!(whole.bytes().ends_with(b"\n\n") || whole.bytes().ends_with(b"\n\r\n"));
    }
    for head in [whole.bytes(), bytes] {
        if let Ok(request) = Request::parse(head) {
            assert!(!request.method.is_empty() && !request.target.is_empty());
            assert!(request.version.starts_with("HTTP/1."));
            for &(name, _) in &request.headers {
                assert!(!name.is_empty() && request.header(name).is_some());
            }
        }
    }
});
