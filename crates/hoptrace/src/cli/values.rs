//! Option values as traceroute(8) reads them: numbers, seconds, `-w`'s wait specification.

use core::net::IpAddr;
use core::time::Duration;

use hoptrace_core::{Options, WaitPolicy};

use super::{bad_arg, CliError};

/// A whole number option, `default` when absent.
pub(super) fn number(value: &Option<String>, flag: &str, default: u32) -> Result<u32, CliError> {
    match value {
        None => Ok(default),
        Some(text) => text.trim().parse().map_err(|_| bad_arg(flag, text)),
    }
}

/// `-f` and `-m`: the first and the max TTL (`-m` at most 255).
pub(super) fn ttl_range(first: &Option<String>, max: &Option<String>) -> Result<(u8, u8), CliError> {
    let first_ttl = number(first, "-f", 1)?;
    let max_ttl = number(max, "-m", u32::from(Options::default().max_ttl))?;
    if max_ttl > 255 {
        return Err(CliError::new("max hops cannot be more than 255"));
    }
    if first_ttl == 0 || first_ttl > max_ttl {
        return Err(CliError::new("first hop out of range"));
    }
    Ok((first_ttl as u8, max_ttl as u8))
}

/// `-q`: probes per hop, 1 to 10, `default` when absent.
pub(super) fn queries(value: &Option<String>, default: u32) -> Result<u8, CliError> {
    let queries = number(value, "-q", default)?;
    if !(1..=10).contains(&queries) {
        return Err(CliError::new("no more than 10 probes per hop"));
    }
    Ok(queries as u8)
}

/// `-p`: the destination port; without it, port 53 for traceroute's udp module (`udp`), else the protocol's.
pub(super) fn port(value: &Option<String>, udp: bool) -> Result<Option<u16>, CliError> {
    match value {
        Some(_) => {
            let port = number(value, "-p", 0)?;
            Ok(Some(u16::try_from(port).map_err(|_| bad_arg("-p", &port.to_string()))?))
        }
        None if udp => Ok(Some(53)),
        None => Ok(None),
    }
}

/// `-s`: the source address.
pub(super) fn source(value: Option<&str>) -> Result<Option<IpAddr>, CliError> {
    value.map(|source| source.parse::<IpAddr>().map_err(|_| bad_arg("-s", source))).transpose()
}

/// A whole number in decimal, or hexadecimal after `0x` (as `strtoul` reads `--fwmark` and `-l`).
pub(super) fn radix_number(text: &str) -> Option<u32> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// `-w MAX[,HERE[,NEAR]]` (`/` also separates, as in traceroute).
pub(super) fn wait_policy(spec: Option<&str>) -> Result<WaitPolicy, CliError> {
    let mut policy = WaitPolicy::default();
    let Some(spec) = spec else { return Ok(policy) };
    let fields: Vec<&str> = spec.split([',', '/']).collect();
    let values: Vec<f64> = fields
        .iter()
        .map(|field| field.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect::<Option<_>>()
        .filter(|values: &Vec<f64>| values.len() <= 3)
        .ok_or_else(|| bad_arg("-w", spec))?;
    if values.iter().any(|&v| v < 0.0) {
        return Err(CliError::new(format!("bad wait specifications `{spec}' used")));
    }
    policy.max = Duration::try_from_secs_f64(values[0]).map_err(|_| bad_arg("-w", spec))?;
    policy.here = values.get(1).copied().unwrap_or(policy.here);
    policy.near = values.get(2).copied().unwrap_or(policy.near);
    Ok(policy)
}

/// A non-negative number of seconds, `default` when absent.
pub(super) fn seconds(spec: Option<&str>, flag: &str, default: Duration) -> Result<Duration, CliError> {
    let Some(spec) = spec else { return Ok(default) };
    let value: f64 =
        spec.trim().parse().ok().filter(|v: &f64| v.is_finite() && *v >= 0.0).ok_or_else(|| bad_arg(flag, spec))?;
    Duration::try_from_secs_f64(value).map_err(|_| bad_arg(flag, spec))
}

/// `-z`: seconds, or milliseconds when above 10.
pub(super) fn sendwait(spec: Option<&str>) -> Result<Duration, CliError> {
    let value = seconds(spec, "-z", Duration::ZERO)?;
    Ok(if value > Duration::from_secs(10) { value / 1000 } else { value })
}
