//! Running hoptrace's command lines over the engine's simulated network on a virtual clock (so RTTs are exact),
//! through settings, engine and renderer, every round of a report included.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, UNIX_EPOCH};

use engine::sim::SimNetwork;
use hoptrace::cli::{self, Request};
use hoptrace::render::{renderer, Directory};
use hoptrace_core::sim::Simulated;
use hoptrace_core::Tracer;

/// When the first simulated trace starts, on the wall clock: 2023-11-14T22:13:20Z.
pub const STARTED: Duration = Duration::from_secs(1_700_000_000);

/// Names and AS numbers from a table.
#[derive(Default)]
pub struct Table {
    pub names: HashMap<IpAddr, String>,
    pub asns: HashMap<IpAddr, Vec<u32>>,
}

impl Directory for Table {
    fn name(&self, addr: IpAddr) -> Option<String> {
        self.names.get(&addr).cloned()
    }

    /// An online registry: an address it has no record of has no AS (`[*]`).
    fn asns(&self, addr: IpAddr) -> Option<Vec<u32>> {
        Some(self.asns.get(&addr).cloned().unwrap_or_default())
    }
}

/// Runs the command line `args` (target last, filled in) over `network` and returns what it prints: every round
/// it asks for, the rounds `--interval` apart in virtual time, each numbering its probes past the last's.
pub fn render(args: &[&str], network: &mut SimNetwork, directory: &Table) -> String {
    render_as(false, args, network, directory)
}

/// Like [`render`], as with raw sockets (`raw`) or without.
pub fn render_as(raw: bool, args: &[&str], network: &mut SimNetwork, directory: &Table) -> String {
    let target = network.destination.addr;
    let mut argv = vec!["hoptrace".to_owned()];
    argv.extend(args.iter().map(|a| a.to_string()));
    argv.push(target.to_string());
    let Ok(Request::Trace(settings)) = cli::parse(argv.into_iter().map(Into::into)) else { panic!("{args:?}") };
    let mut config = settings.probing.trace_config(target, raw);
    config.source = Some(network.source);
    let mut renderer = renderer(&settings, &Default::default());
    let mut out = Vec::new();
    let sim = Simulated::new(network, UNIX_EPOCH + STARTED);
    let mut tracer = Tracer::over(&target.to_string(), config, sim).unwrap();
    tracer.rounds(&settings.rounds, |event| renderer.event(&mut out, event, directory).unwrap()).unwrap();
    String::from_utf8(out).unwrap()
}
