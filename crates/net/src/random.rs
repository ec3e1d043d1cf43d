//! Unpredictable numbers from the operating system (`getrandom(2)`), for what identifies a trace's probes.

use crate::NetError;

/// `N` random bytes.
pub(crate) fn bytes<const N: usize>() -> Result<[u8; N], NetError> {
    let mut bytes = [0; N];
    getrandom::fill(&mut bytes)
        .map_err(|error| NetError::io("drawing random numbers")(std::io::Error::other(error)))?;
    Ok(bytes)
}

/// A random number in `low..=high`.
pub(crate) fn in_range(low: u16, high: u16) -> Result<u16, NetError> {
    let span = u32::from(high - low) + 1;
    Ok(low + (u32::from(u16::from_ne_bytes(bytes()?)) % span) as u16)
}
