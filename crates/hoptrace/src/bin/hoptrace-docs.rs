//! Writes hoptrace's man page or shell completions, generated from the command-line definition.
//!
//! `hoptrace-docs man > hoptrace.1`, `hoptrace-docs completions bash|zsh|fish|elvish|powershell`.

use std::io::{self, Write};
use std::process::ExitCode;

use clap_complete::Shell;
use clap_mangen::Man;

/// The man page's sections after OPTIONS, in roff.
const MAN_SECTIONS: &str = r#".SH PRIVILEGES
No privileges are needed: UDP and TCP probes learn of ICMP errors through the socket error queue, ICMP probes go
through ping sockets (their group must be in \fBnet.ipv4.ping_group_range\fR). With root or \fBCAP_NET_RAW\fR, raw
sockets are used: Paris probing for UDP and TCP, NAT detection, whole ICMP extensions. \fB\-\-unprivileged\fR uses
ordinary sockets anyway; \fB\-\-fwmark\fR needs \fBCAP_NET_ADMIN\fR.
.SH "NOT SUPPORTED"
traceroute(8)'s \fB\-g\fR (source routing), \fB\-D\fR (DCCP), \fB\-P\fR (raw probes of another protocol),
\fB\-UL\fR and \fB\-M udplite\fR (UDP\-Lite), \fB\-M raw\fR and \fB\-O\fR (module options) are refused with a message
that says so. \fB\-d\fR is accepted and does nothing.
.SH "EXIT STATUS"
.TP
\fB0\fR
The trace ran (whether or not the destination answered).
.TP
\fB1\fR
The system refused (privileges, addresses, interfaces, sockets) or the output could not be written.
.TP
\fB2\fR
The command line cannot be used, or the host is unknown.
.TP
\fB130\fR, \fB143\fR
Interrupted by SIGINT or SIGTERM: what was found is printed first.
.TP
\fB141\fR
The reader of the output went away (a closed pipe): probing stops at once, without a message.
.SH EXAMPLES
.TP
\fBhoptrace example.org\fR
Trace over UDP, as traceroute(8).
.TP
\fBhoptrace \-n \-I \-q 1 example.org\fR
ICMP echo probes, one per hop, no names.
.TP
\fBhoptrace \-T \-p 443 example.org\fR
TCP SYN probes to port 443.
.TP
\fBhoptrace \-\-tracepath example.org\fR
tracepath(8)'s layout, with the path MTU.
.TP
\fBhoptrace \-n \-c 10 example.org\fR
mtr's report over 10 rounds: loss, round\-trip statistics and jitter per hop.
.TP
\fBhoptrace \-\-json example.org\fR
One RIPE Atlas traceroute result (JSON).
.TP
\fBhoptrace \-\-mda example.org\fR
Every path through per\-flow load balancers.
.SH "SEE ALSO"
traceroute(8), tracepath(8), mtr(8), scamper(1), ping(8)
"#;

/// The whole man page: clap's sections, tracepath's options, then [`MAN_SECTIONS`].
fn man_page(out: &mut dyn Write) -> io::Result<()> {
    let man = Man::new(hoptrace::cli::command());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    let mut tracepath = Vec::new();
    Man::new(hoptrace::cli::tracepath_command()).render_options_section(&mut tracepath)?;
    let tracepath = String::from_utf8_lossy(&tracepath).replacen(
        ".SH OPTIONS",
        ".SH \"TRACEPATH OPTIONS\"\nRun as \\fBtracepath\\fR (a link), or with \\fB\\-\\-tracepath\\fR, hoptrace takes \
         tracepath(8)'s options and prints its layout.",
        1,
    );
    out.write_all(tracepath.as_bytes())?;
    out.write_all(MAN_SECTIONS.as_bytes())?;
    man.render_version_section(out)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut command = hoptrace::cli::command();
    let mut out = io::stdout().lock();
    let written = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["man"] => man_page(&mut out),
        ["completions", shell] => match shell.parse::<Shell>() {
            Ok(shell) => {
                clap_complete::generate(shell, &mut command, "hoptrace", &mut out);
                Ok(())
            }
            Err(_) => {
                eprintln!("hoptrace-docs: unknown shell {shell}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: hoptrace-docs man | completions <bash|zsh|fish|elvish|powershell>");
            return ExitCode::from(2);
        }
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hoptrace-docs: {error}");
            ExitCode::FAILURE
        }
    }
}
