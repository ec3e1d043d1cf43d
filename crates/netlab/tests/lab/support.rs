//! Helpers shared by the lab tests.

use std::process::Output;

use hoptrace_netlab::{Lab, LabSpec, NodeId};

/// Builds `spec`, failing the test loudly if the lab cannot be built.
pub fn build(spec: &LabSpec) -> Lab {
    Lab::build(spec).unwrap_or_else(|error| panic!("cannot build the lab: {error}"))
}

/// Runs `program args...` in `node` and returns its output, whatever its exit status.
pub fn run(lab: &Lab, node: NodeId, program: &str, args: &[&str]) -> Output {
    let output = lab.command(node, program).args(args).output();
    output.unwrap_or_else(|error| panic!("cannot run {program}: {error}"))
}

/// The stdout and stderr of `output` together.
pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}
