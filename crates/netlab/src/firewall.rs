//! The `iptables`/`ip6tables` rules of a node: link loss, silence, rejection and raw rules.

use crate::addressing::iface_name;
use crate::spec::{Family, LabSpec, LinkId, NodeId};

/// One `iptables` (IPv4) or `ip6tables` (IPv6) invocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    pub family: Family,
    pub args: Vec<String>,
}

impl Rule {
    /// The program that installs the rule.
    pub(crate) fn program(&self) -> &'static str {
        match self.family {
            Family::V4 => "iptables",
            Family::V6 => "ip6tables",
        }
    }

    fn new(family: Family, args: &str) -> Self {
        Self { family, args: args.split_whitespace().map(str::to_string).collect() }
    }
}

/// Every rule of `node`, in the order to install them.
pub(crate) fn rules(spec: &LabSpec, node: NodeId) -> Vec<Rule> {
    let mut rules = loss_rules(spec, node);
    let node = &spec.nodes[node.0];
    for family in [Family::V4, Family::V6] {
        if node.opts.silent {
            let icmp = match family {
                Family::V4 => "-p icmp --icmp-type",
                Family::V6 => "-p ipv6-icmp --icmpv6-type",
            };
            for kind in ["time-exceeded", "destination-unreachable"] {
                rules.push(Rule::new(family, &format!("-A OUTPUT {icmp} {kind} -j DROP")));
            }
        }
        if let Some(reject) = node.opts.reject {
            let with = reject.iptables_name(family);
            rules.push(Rule::new(family, &format!("-A FORWARD -j REJECT --reject-with {with}")));
        }
    }
    let raw_v4 = node.rules_v4.iter().map(|rule| Rule::new(Family::V4, rule));
    let raw_v6 = node.rules_v6.iter().map(|rule| Rule::new(Family::V6, rule));
    rules.extend(raw_v4.chain(raw_v6));
    rules
}

/// Random drops of what arrives over `node`'s lossy links, before routing (so both for the node
/// and for what it forwards). IPv6 neighbour discovery is spared so the link itself stays up.
fn loss_rules(spec: &LabSpec, node: NodeId) -> Vec<Rule> {
    let mut rules = Vec::new();
    for (index, link) in spec.links.iter().enumerate() {
        let Some(end) = link.ends.iter().position(|&end| end == node) else {
            continue;
        };
        let Some(loss) = link.link.loss.filter(|&loss| loss > 0.0) else {
            continue;
        };
        let peer = &spec.nodes[link.ends[1 - end].0].name;
        let input = format!("-t raw -A PREROUTING -i {}", iface_name(LinkId(index), peer));
        let drop = format!("{input} -m statistic --mode random --probability {loss} -j DROP");
        for kind in ["neighbour-solicitation", "neighbour-advertisement"] {
            let spare = format!("{input} -p ipv6-icmp --icmpv6-type {kind} -j ACCEPT");
            rules.push(Rule::new(Family::V6, &spare));
        }
        rules.push(Rule::new(Family::V4, &drop));
        rules.push(Rule::new(Family::V6, &drop));
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Link, RejectWith, RouterOpts};

    fn lines(rules: &[Rule]) -> Vec<String> {
        rules.iter().map(|rule| format!("{} {}", rule.program(), rule.args.join(" "))).collect()
    }

    #[test]
    fn options_become_rules() {
        let mut spec = LabSpec::new();
        let a = spec.router("a");
        let b = spec.node("b");
        spec.link_with(a, b, Link { loss: Some(0.25), ..Link::default() });
        let opts = RouterOpts { silent: true, reject: Some(RejectWith::HostProhibited), ..RouterOpts::default() };
        spec.router_opts(a, opts);
        spec.firewall(a, &["-A INPUT -p udp -j DROP"]);
        assert_eq!(
            lines(&rules(&spec, a)),
            [
                "ip6tables -t raw -A PREROUTING -i l0-b -p ipv6-icmp --icmpv6-type neighbour-solicitation -j ACCEPT",
                "ip6tables -t raw -A PREROUTING -i l0-b -p ipv6-icmp --icmpv6-type neighbour-advertisement -j ACCEPT",
                "iptables -t raw -A PREROUTING -i l0-b -m statistic --mode random --probability 0.25 -j DROP",
                "ip6tables -t raw -A PREROUTING -i l0-b -m statistic --mode random --probability 0.25 -j DROP",
                "iptables -A OUTPUT -p icmp --icmp-type time-exceeded -j DROP",
                "iptables -A OUTPUT -p icmp --icmp-type destination-unreachable -j DROP",
                "iptables -A FORWARD -j REJECT --reject-with icmp-host-prohibited",
                "ip6tables -A OUTPUT -p ipv6-icmp --icmpv6-type time-exceeded -j DROP",
                "ip6tables -A OUTPUT -p ipv6-icmp --icmpv6-type destination-unreachable -j DROP",
                "ip6tables -A FORWARD -j REJECT --reject-with icmp6-adm-prohibited",
                "iptables -A INPUT -p udp -j DROP",
            ]
        );
        assert_eq!(rules(&spec, b).len(), 4);
    }
}
