//! Bulk's prefix files (`--filter-from-prefix-file-excl/incl`) on arbitrary bytes: the bounded reader, the
//! parser, lookups in what it built, and the escaping of its error line. No panic; an error names a line of the
//! text; every prefix read contains the address it was written with.
#![no_main]

use core::net::IpAddr;

use hoptrace::commands::bulk::prefixes::PrefixSet;
use hoptrace::escape::escape;
use hoptrace::files::{read_bounded, text, BULK_LIMIT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = read_bounded(data, BULK_LIMIT).and_then(text) else { return };
    match PrefixSet::parse(&text, "fuzz") {
        Ok(set) => {
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
                let address = line.split_once('/').map_or(line, |(address, _)| address).trim();
                let address: IpAddr = address.parse().expect("a line the parser took has an address");
                assert!(set.contains(address), "{line} does not contain its own address");
            }
        }
        Err(why) => {
            assert!(why.starts_with("fuzz:"), "{why}");
            assert!(!escape(&why).chars().any(char::is_control));
        }
    }
});
