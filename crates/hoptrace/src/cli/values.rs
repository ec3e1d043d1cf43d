//! Option values as traceroute(8) reads them: numbers, seconds, `-w`'s wait specification.

use core::time::Duration;

use hoptrace_core::WaitPolicy;

use super::{bad_arg, CliError};

/// A whole number option, `default` when absent.
pub(super) fn number(value: &Option<String>, flag: &str, default: u32) -> Result<u32, CliError> {
    match value {
        None => Ok(default),
        Some(text) => text.trim().parse().map_err(|_| bad_arg(flag, text)),
    }
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
