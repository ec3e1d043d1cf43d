//! `monitor --targets` files on arbitrary bytes: the bounded reader, the parser, and the escaping of every target
//! before it may reach a terminal. No panic; every target is one word of the text; nothing harmful survives the
//! escaping.
#![no_main]

use hoptrace::commands::monitor::parse_targets;
use hoptrace::escape::escape;
use hoptrace::files::{read_bounded, text, TARGETS_LIMIT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A small bound too, so that the fuzzer reaches the "too large" path.
    let _ = read_bounded(data, 64);
    let Ok(text) = read_bounded(data, TARGETS_LIMIT).and_then(text) else { return };
    let targets = parse_targets(&text);
    for target in &targets {
        assert!(!target.is_empty() && !target.contains('#') && !target.contains(char::is_whitespace));
        let shown = escape(target);
        assert!(!shown.chars().any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)), "{shown:?}");
    }
    let distinct: std::collections::HashSet<&String> = targets.iter().collect();
    assert_eq!(distinct.len(), targets.len());
});
