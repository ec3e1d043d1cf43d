//! The incremental checksum update (RFC 1624) agrees with recomputing, for the address sizes NATs rewrite.

use core::net::IpAddr;

use hoptrace_packet::checksum::{data, finish, update, update_address};
use proptest::prelude::*;

/// One's-complement zero has two forms; a recomputed checksum and an updated one may differ only between them.
fn same(a: u16, b: u16) -> bool {
    a == b || (a | b == 0xffff && a & b == 0)
}

proptest! {
    #[test]
    fn update_agrees_with_recomputing(
        mut bytes in proptest::collection::vec(any::<u8>(), 56..80),
        at in 0usize..20,
        v6 in any::<bool>(),
        new in proptest::array::uniform16(any::<u8>()),
    ) {
        let len = if v6 { 16 } else { 4 };
        let at = at * 2; // addresses sit at even offsets
        let before = finish(data(&bytes));
        let old = bytes[at..at + len].to_vec();
        bytes[at..at + len].copy_from_slice(&new[..len]);
        let after = finish(data(&bytes));
        let updated = update(before, &old, &new[..len]);
        prop_assert!(same(updated, after), "updated {updated:#06x}, recomputed {after:#06x}");
        prop_assert!(same(update(updated, &new[..len], &old), before));
        let address = |bytes: &[u8]| -> IpAddr {
            match bytes.len() {
                4 => <[u8; 4]>::try_from(bytes).unwrap().into(),
                _ => <[u8; 16]>::try_from(bytes).unwrap().into(),
            }
        };
        prop_assert_eq!(update_address(before, &address(&old), &address(&new[..len])), updated);
    }
}
