//! The roff text of `hoptrace-monitor(1)` and `hoptrace-bulk(1)` that clap's definitions do not give.

/// `hoptrace-monitor(1)`'s DESCRIPTION.
pub const MONITOR_DESCRIPTION: &str = "hoptrace monitor traces every target round after round, every --every \
seconds, each round shifted at random by up to --jitter of the period (the first one anywhere in the first period), \
so that targets do not probe in lockstep. Per target it keeps the report's statistics over the last --window rounds \
(loss, RTT last, average, best, worst and standard deviation, ICMP rate limiting told from loss), the path's \
identity, and the path changes it confirmed. It prints a line per path change (every event as JSON with --events) \
and serves Prometheus metrics (--prometheus). Probes are ICMP echo unless -U or -T, always Paris (one flow per \
target, so that the path has an identity), over ordinary sockets where the system allows them and raw ones \
otherwise. -q, -m, -w, -p, -s, -i, -4, -6, -n, -A are traceroute's.";

/// `hoptrace-monitor(1)`'s sections after OPTIONS, in roff.
pub const MONITOR_SECTIONS: &str = r#".SH "PATH CHANGES"
A path's identity is the address that answered at each TTL on the target's fixed flow (silences included) and the
destination's distance, hashed to 48 bits. Rounds conflict only where both saw an answer at one TTL from different
addresses: a silence is no evidence. A change counts once \fB\-\-confirm\fR rounds in a row conflict with the old
path and agree with the new one; silent rounds neither count nor reset.
.SH METRICS
\fB\-\-prometheus\fR serves \fI/metrics\fR in Prometheus's text format, at most 8 connections at once, each given
5 s to send its request and 5 s to take the answer. Labels are per target and TTL, never per probe:
\fBhoptrace_runs_total\fR, \fBhoptrace_run_duration_seconds\fR, \fBhoptrace_destination_reached\fR,
\fBhoptrace_hops\fR, \fBhoptrace_hop_rtt_seconds\fR, \fBhoptrace_hop_loss_ratio\fR, \fBhoptrace_hop_rate_limited\fR,
\fBhoptrace_hop_info\fR (address, name and AS numbers of a hop's responders), \fBhoptrace_path_id\fR,
\fBhoptrace_path_changes_total\fR, \fBhoptrace_destination_rtt_seconds\fR (histogram),
\fBhoptrace_probes_sent_total\fR, \fBhoptrace_target_errors_total\fR, \fBhoptrace_target_backoff_seconds\fR.
.SH EVENTS
Without \fB\-\-events\fR, one line per path change names the TTLs that changed with the old and new address
(\fB*\fR for a silence); failures go to stderr. With \fB\-\-events\fR, one JSON object per line: \fBtarget_round\fR
after every round, \fBpath_changed\fR and \fBtarget_failed\fR; \fBat\fR is seconds since the Unix epoch.
.SH SIGNALS
SIGHUP reads the \fB\-\-targets\fR file again: new targets start, removed ones stop and their series leave the
metrics. SIGINT or SIGTERM stops every target at once, closes the HTTP listener and flushes the events.
.SH PRIVILEGES
All targets share one socket set per address family, opened at start; then root becomes \fBnobody\fR and every
capability goes (so a \fB\-\-targets\fR file must be readable by that user). A target that does not resolve, whose
sockets cannot be opened or whose destination does not answer is retried at its period twice, then with a back\-off
that doubles up to 5 minutes.
.SH "EXIT STATUS"
.TP
\fB0\fR
Stopped by SIGINT or SIGTERM.
.TP
\fB1\fR
The \fB\-\-prometheus\fR address cannot be listened on (say, the port is taken).
.TP
\fB2\fR
The command line cannot be used (a \fB\-\-prometheus\fR address that does not parse, no targets).
.SH EXAMPLES
.TP
\fBhoptrace monitor \-\-every 60 \-\-prometheus 127.0.0.1:9120 198.18.5.2 2001:db8::2\fR
Two targets a minute, metrics for Prometheus.
.TP
\fBhoptrace monitor \-\-targets targets.txt \-\-events\fR
The targets of a file (re\-read on SIGHUP), every event as a JSON line.
.SH "SEE ALSO"
hoptrace(1), hoptrace\-bulk(1), mtr(8), prometheus(1)
"#;

/// `hoptrace-bulk(1)`'s DESCRIPTION.
pub const BULK_DESCRIPTION: &str = "hoptrace bulk (also hoptrace run as caracal, through a link) is a stateless \
prober with caracal's contract, so that Iris's agents and diamond-miner can drive it unchanged: probe specifications \
dst_addr,src_port,dst_port,ttl,protocol on stdin (IPv4, IPv4-mapped IPv6 or IPv6; icmp, icmp6 or udp; for ICMP the \
source port is the flow id, carried in the checksum), caracal's 17-column reply CSV on stdout, logs and a summary on \
stderr; caracal's flags with its meanings and defaults: 100 probes/s until you raise it. Every probe carries its \
identity (the TTL in its length, the send time in the UDP checksum or Echo sequence, an integrity tag in the IPv4 \
identification and in its payload), so memory stays flat however many probes go out, and a reply whose tag does \
not match is dropped and counted. With --targets, it traces whole hosts instead: one trace per target.";

/// `hoptrace-bulk(1)`'s sections after OPTIONS, in roff.
pub const BULK_SECTIONS: &str = r#".SH TARGETS
\fB\-\-targets FILE\fR (\fB\-\fR for stdin; one address, name or prefix per line, a prefix giving one address in
each /24 or /64) probes every (target, TTL) in a random permutation at \fB\-r\fR, skips a target's TTLs past its
destination or its gap limit as replies come in, probes losses again in a second pass, and writes one trace per
target: a JSON line in \fBhoptrace \-\-json\fR's schema, or traceroute's text with \fB\-\-text\fR. With \fB\-\-mda\fR
(and \fB\-\-confidence\fR), rounds of new flows follow until every hop of every target has MDA's stopping point,
and each target's graph is written as \fBhoptrace \-\-mda \-\-json\fR writes it.
.SH "HOW PROBES LEAVE"
As caracal's, all of a family's probes are handed to the interface for one gateway (that of the route towards the
first destination that has one) through a packet socket, so the kernel neither routes nor filters each one: they
pass no OUTPUT firewall rule and no reject route; only the prefix files hold them back. Where no destination has a
gateway on an Ethernet link, probes stay routed. \fB\-\-routed\fR routes each probe through the routing table and
the firewall instead. The way taken is said on stderr. Replies come in through a packet ring (AF_PACKET,
TPACKET_V3); replies lost to a full ring are counted in the summary.
.SH PRIVILEGES
Raw sockets are required (root or \fBCAP_NET_RAW\fR). Once its sockets and ring are open and its files read,
hoptrace bulk gives up its privileges, before its threads start. \fB\-\-max\-per\-destination\fR bounds the
probes any one address gets per second.
.SH "EXIT STATUS"
.TP
\fB0\fR
The probes were sent and the replies written.
.TP
\fB1\fR
The system refused (privileges, sockets, interfaces) or the output could not be written.
.TP
\fB2\fR
The command line cannot be used.
.TP
\fB130\fR, \fB143\fR
Interrupted by SIGINT or SIGTERM.
.TP
\fB141\fR
The reader of the output went away.
.SH EXAMPLES
.TP
\fBpython3 plan.py | hoptrace bulk \-r 100000 \-\-meta\-round 1 > results.csv\fR
One round of diamond\-miner's probes at 100,000 probes/s, its results in caracal's CSV.
.TP
\fBhoptrace bulk \-\-targets hosts.txt \-r 5000 > traces.jsonl\fR
One trace per host of a file, as JSON lines.
.SH "SEE ALSO"
hoptrace(1), hoptrace\-monitor(1), caracal(1), scamper(1)
"#;
