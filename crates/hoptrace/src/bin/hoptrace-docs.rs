//! Writes hoptrace's man pages or shell completions, generated from the command-line definitions.
//!
//! `hoptrace-docs man > hoptrace.1`, `hoptrace-docs man monitor > hoptrace-monitor.1`,
//! `hoptrace-docs man bulk > hoptrace-bulk.1`, `hoptrace-docs completions bash|zsh|fish|elvish|powershell`.

#[path = "hoptrace-docs/pages.rs"]
mod pages;

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
.TP
\fBhoptrace monitor \-\-prometheus 127.0.0.1:9120 example.org\fR
Watch a path around the clock (see hoptrace\-monitor(1)).
.TP
\fBhoptrace bulk \-\-targets hosts.txt \-r 5000\fR
Many targets at a set rate (see hoptrace\-bulk(1)).
.SH "SEE ALSO"
hoptrace\-monitor(1), hoptrace\-bulk(1), traceroute(8), tracepath(8), mtr(8), scamper(1), ping(8)
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

/// `hoptrace monitor`'s or `hoptrace bulk`'s man page, `name`: clap's sections with `description`, then `sections`.
fn subcommand_page(out: &mut dyn Write, name: &'static str, description: &str, sections: &str) -> io::Result<()> {
    let command = match name {
        "hoptrace-monitor" => hoptrace::cli::monitor_command(),
        _ => hoptrace::cli::bulk_command(),
    };
    let man = Man::new(command.name(name).version(env!("HOPTRACE_VERSION")).long_about(description.to_owned()));
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    out.write_all(sections.as_bytes())?;
    man.render_version_section(out)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut command = hoptrace::cli::completion_command();
    let mut out = io::stdout().lock();
    let written = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["man"] | ["man", "hoptrace"] => man_page(&mut out),
        ["man", "monitor"] => {
            subcommand_page(&mut out, "hoptrace-monitor", pages::MONITOR_DESCRIPTION, pages::MONITOR_SECTIONS)
        }
        ["man", "bulk"] => subcommand_page(&mut out, "hoptrace-bulk", pages::BULK_DESCRIPTION, pages::BULK_SECTIONS),
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
            eprintln!("usage: hoptrace-docs man [monitor|bulk] | completions <bash|zsh|fish|elvish|powershell>");
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
