//! From parsed arguments to a finished trace on stdout.

use core::fmt;
use core::net::IpAddr;
use core::time::Duration;
use std::io::Write;
use std::net::ToSocketAddrs;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use engine::{ConfigError, Event, Method, Trace, TraceConfig, WaitPolicy};
use net::{NetError, Privilege, SocketOptions};

use crate::cli::Args;
use crate::text;

/// Why hoptrace could not do what was asked.
#[derive(Debug)]
pub enum RunError {
    /// The host name does not resolve (in the requested family).
    UnknownHost(String),
    /// An option's value cannot be used.
    BadValue(String),
    /// The trace configuration is inconsistent.
    Config(ConfigError),
    /// The network refused.
    Net(NetError),
}

impl RunError {
    /// The exit status, as `traceroute(8)` uses them: 2 for bad input, 1 for failures.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::UnknownHost(_) | RunError::BadValue(_) | RunError::Config(_) => 2,
            RunError::Net(_) => 1,
        }
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::UnknownHost(host) => write!(f, "unknown host {host}"),
            RunError::BadValue(message) => f.write_str(message),
            RunError::Config(error) => write!(f, "{error}"),
            RunError::Net(error) => write!(f, "{error}"),
        }
    }
}

/// Runs the trace the arguments describe, printing it as it goes.
pub fn run(args: &Args) -> Result<(), RunError> {
    let target = resolve(&args.host, args.ipv4, args.ipv6)?;
    let mut config = config(args, target)?;
    let options = SocketOptions {
        source: args.source,
        interface: args.interface.clone(),
        tos: args.tos,
        dont_fragment: args.dont_fragment,
    };
    let privilege = if args.unprivileged { Privilege::Unprivileged } else { Privilege::detect() };
    let mut prober = net::open(&mut config, privilege, &options).map_err(RunError::Net)?;
    let mut trace = Trace::new(config.clone()).map_err(RunError::Config)?;

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).map_err(|e| RunError::BadValue(e.to_string()))?;
    }

    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", text::header(&args.host, target, config.max_ttl, config.packet_len));
    let _ = out.flush();
    let mut printed = 0;
    net::run(&mut trace, prober.as_mut(), &stop, |trace, event| {
        if let Event::HopComplete { ttl } = event {
            if let Some(hop) = trace.hops().iter().find(|hop| hop.ttl == ttl) {
                let _ = writeln!(out, "{}", text::hop_line(hop, args.numeric));
                let _ = out.flush();
                printed += 1;
            }
        }
    })
    .map_err(RunError::Net)?;
    // Interrupted: show what was found of the hops not yet complete.
    for hop in trace.hops().iter().skip(printed) {
        let _ = writeln!(out, "{}", text::hop_line(hop, args.numeric));
    }
    Ok(())
}

/// The target address: a literal, or the first address of the name in the requested family.
fn resolve(host: &str, ipv4: bool, ipv6: bool) -> Result<IpAddr, RunError> {
    let wanted = |addr: &IpAddr| (!ipv4 || addr.is_ipv4()) && (!ipv6 || addr.is_ipv6());
    if let Ok(addr) = host.parse::<IpAddr>() {
        return if wanted(&addr) { Ok(addr) } else { Err(RunError::UnknownHost(host.to_owned())) };
    }
    let addrs = (host, 0).to_socket_addrs().map_err(|_| RunError::UnknownHost(host.to_owned()))?;
    addrs.map(|addr| addr.ip()).find(wanted).ok_or_else(|| RunError::UnknownHost(host.to_owned()))
}

fn config(args: &Args, target: IpAddr) -> Result<TraceConfig, RunError> {
    let method = if args.icmp {
        Method::Icmp
    } else if args.tcp {
        Method::Tcp
    } else if args.udp {
        Method::UdpParis
    } else {
        Method::Udp
    };
    let mut config = TraceConfig::new(target, method);
    config.first_ttl = args.first_ttl;
    config.max_ttl = args.max_ttl;
    config.probes_per_hop = args.queries;
    config.max_in_flight = usize::from(args.sim_queries);
    config.wait = wait_policy(&args.wait)?;
    config.send_interval = send_interval(&args.sendwait)?;
    if let Some(len) = args.packet_len {
        config.packet_len = len;
    }
    config.dst_port = match (args.port, method) {
        (Some(port), _) => port,
        (None, Method::UdpParis) => 53,
        (None, _) => config.dst_port,
    };
    if config.first_ttl > config.max_ttl {
        return Err(RunError::BadValue("first hop out of range".into()));
    }
    Ok(config)
}

/// `-w MAX[,HERE[,NEAR]]`.
fn wait_policy(spec: &str) -> Result<WaitPolicy, RunError> {
    let bad = || RunError::BadValue(format!("bad wait specifications `{spec}' used"));
    let mut policy = WaitPolicy::default();
    let mut fields = spec.split([',', '/']);
    let number = |field: Option<&str>| -> Result<Option<f64>, RunError> {
        field.map(|f| f.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).ok_or_else(bad)).transpose()
    };
    if let Some(max) = number(fields.next())? {
        policy.max = Duration::try_from_secs_f64(max).map_err(|_| bad())?;
    }
    if let Some(here) = number(fields.next())? {
        policy.here = here;
    }
    if let Some(near) = number(fields.next())? {
        policy.near = near;
    }
    if fields.next().is_some() {
        return Err(bad());
    }
    Ok(policy)
}

/// `-z`: seconds, or milliseconds when above 10.
fn send_interval(spec: &str) -> Result<Duration, RunError> {
    let value: f64 = spec
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| RunError::BadValue(format!("bad sendtime `{spec}' specified")))?;
    let seconds = if value > 10.0 { value / 1000.0 } else { value };
    Ok(Duration::from_secs_f64(seconds))
}
