//! `next_hop` reads the kernel's routing and neighbour tables: over loopback without privileges, and (with the
//! `lab` feature, as root) from a lab client towards its router, as a link-layer sender needs them.

use core::net::IpAddr;

use hoptrace_net::{next_hop, LinkAddress, NetError, NextHop};

/// Loopback's interface index.
const LO: u32 = 1;

#[test]
fn loopback_destinations_go_out_of_lo_with_no_gateway_and_no_ethernet_address() {
    let loopback = NextHop { ifindex: LO, gateway: None, link: LinkAddress::NotEthernet };
    assert_eq!(next_hop(IpAddr::from([127, 0, 0, 1]), None, None).expect("a route to 127.0.0.1"), loopback);
    assert_eq!(next_hop(IpAddr::from([127, 0, 0, 1]), None, Some("lo")).expect("a route out of lo"), loopback);
    let from = Some(IpAddr::from([127, 0, 0, 1]));
    assert_eq!(next_hop(IpAddr::from([127, 0, 0, 2]), from, None).expect("a route from 127.0.0.1"), loopback);
    if std::path::Path::new("/proc/net/if_inet6").exists() {
        assert_eq!(next_hop("::1".parse().unwrap(), None, None).expect("a route to ::1"), loopback);
    }
}

#[test]
fn a_bad_interface_or_source_is_named() {
    let dst = IpAddr::from([127, 0, 0, 1]);
    match next_hop(dst, None, Some("no-such-if0")) {
        Err(NetError::BadInterface(name, _)) => assert_eq!(name, "no-such-if0"),
        other => panic!("{other:?}"),
    }
    let v6: IpAddr = "::1".parse().unwrap();
    match next_hop(dst, Some(v6), None) {
        Err(NetError::BadSource(source, _)) => assert_eq!(source, v6),
        other => panic!("{other:?}"),
    }
}

#[cfg(feature = "lab")]
mod lab {
    use core::net::IpAddr;
    use std::fs::File;

    use hoptrace_net::{next_hop, LinkAddress, NetError, NextHop};
    use netlab::{Family, Lab, LabSpec, Link, NodeId};
    use nix::sched::{setns, CloneFlags};

    /// `next_hop` run in a thread inside `node`'s namespace.
    fn next_hop_in(
        lab: &Lab,
        node: NodeId,
        dst: IpAddr,
        source: Option<IpAddr>,
        interface: Option<&str>,
    ) -> Result<NextHop, NetError> {
        let namespace = File::open(format!("/run/netns/{}", lab.ns(node))).expect("the namespace exists");
        let interface = interface.map(str::to_owned);
        std::thread::spawn(move || {
            setns(&namespace, CloneFlags::CLONE_NEWNET).expect("entering the namespace");
            next_hop(dst, source, interface.as_deref())
        })
        .join()
        .expect("no panic")
    }

    /// Runs `program args` in `node`, which must succeed; its standard output.
    fn run(lab: &Lab, node: NodeId, program: &str, args: &[&str]) -> String {
        let output = lab.command(node, program).args(args).output().expect("it runs");
        assert!(output.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The index and the Ethernet address (if any) of `node`'s interface `name`, from `ip -o link`.
    fn interface(lab: &Lab, node: NodeId, name: &str) -> (u32, Option<[u8; 6]>) {
        let line = run(lab, node, "ip", &["-o", "link", "show", "dev", name]);
        let index = line.split(':').next().and_then(|index| index.trim().parse().ok());
        let mac = line.split_whitespace().skip_while(|&word| word != "link/ether").nth(1).map(|mac| {
            let bytes: Vec<u8> = mac.split(':').map(|byte| u8::from_str_radix(byte, 16).expect("hex")).collect();
            <[u8; 6]>::try_from(bytes).expect("six bytes")
        });
        (index.expect("an index"), mac)
    }

    /// The index and Ethernet address of `node`'s Ethernet interface `name`.
    fn link(lab: &Lab, node: NodeId, name: &str) -> (u32, [u8; 6]) {
        let (index, mac) = interface(lab, node, name);
        (index, mac.unwrap_or_else(|| panic!("no Ethernet address on {name}")))
    }

    #[test]
    fn a_lab_client_reaches_the_router_and_beyond_through_the_routers_ethernet_address() {
        let mut spec = LabSpec::new();
        let (client, routers, dst) = spec.chain(1, |_| Link::default());
        let router = routers[0];
        let lab = Lab::build(&spec).expect("the lab builds (this test needs root)");
        let iface = lab.iface(client, router);
        let (ifindex, _) = link(&lab, client, &iface);
        let (_, router_mac) = link(&lab, router, &lab.iface(router, client));
        for family in [Family::V4, Family::V6] {
            let target = lab.addr(dst, family);
            let gateway = lab.iface_addr(router, client, family);
            // The lab's neighbour entries are permanent: forget the router's, so that a packet must resolve it.
            run(&lab, client, "ip", &["neigh", "del", &gateway.to_string(), "dev", &iface]);
            let unresolved = NextHop { ifindex, gateway: Some(gateway), link: LinkAddress::Unresolved };
            assert_eq!(next_hop_in(&lab, client, target, None, None).expect("a route"), unresolved, "{family:?}");
            run(&lab, client, "ping", &["-c1", "-W2", &target.to_string()]);
            let expected = NextHop { ifindex, gateway: Some(gateway), link: LinkAddress::Ethernet(router_mac) };
            assert_eq!(next_hop_in(&lab, client, target, None, None).expect("a route"), expected, "{family:?}");
            let source = Some(lab.iface_addr(client, router, family));
            let through = next_hop_in(&lab, client, target, source, Some(&iface));
            assert_eq!(through.expect("a route"), expected, "{family:?} from the client's address and interface");
            let on_link = NextHop { ifindex, gateway: None, link: LinkAddress::Ethernet(router_mac) };
            assert_eq!(next_hop_in(&lab, client, gateway, None, None).expect("a route"), on_link, "{family:?}");
            let local = next_hop_in(&lab, client, lab.addr(client, family), None, None).expect("a route");
            assert_eq!(
                local,
                NextHop { ifindex: 1, gateway: None, link: LinkAddress::NotEthernet },
                "{family:?} to itself"
            );
        }
        // IPv6 default routes usually name the gateway by its link-local address.
        let router_iface = lab.iface(router, client);
        let addrs = run(&lab, router, "ip", &["-6", "-o", "addr", "show", "dev", &router_iface, "scope", "link"]);
        let link_local =
            addrs.split_whitespace().skip_while(|&word| word != "inet6").nth(1).expect("a link-local address");
        let link_local = link_local.split('/').next().unwrap().to_owned();
        run(&lab, client, "ip", &["-6", "route", "add", "2001:db8:fffd::/48", "via", &link_local, "dev", &iface]);
        run(&lab, client, "ping", &["-c1", "-W2", &format!("{link_local}%{iface}")]);
        let expected =
            NextHop { ifindex, gateway: Some(link_local.parse().unwrap()), link: LinkAddress::Ethernet(router_mac) };
        let dst = "2001:db8:fffd::1".parse().unwrap();
        assert_eq!(next_hop_in(&lab, client, dst, None, None).expect("a route via a link-local gateway"), expected);
    }

    #[test]
    fn only_a_usable_neighbour_entry_gives_an_ethernet_address_and_bad_requests_are_told() {
        // client — router, the client with no route but the link's own.
        let mut spec = LabSpec::new();
        let client = spec.node("client");
        let router = spec.router("router");
        spec.link(client, router);
        let lab = Lab::build(&spec).expect("the lab builds (this test needs root)");
        let iface = lab.iface(client, router);
        let (ifindex, _) = link(&lab, client, &iface);
        let on_link = |dst: &str, link| (dst.parse::<IpAddr>().unwrap(), NextHop { ifindex, gateway: None, link });
        let mac = [2, 0, 0, 0, 0, 0x77];
        for (family, unrouted, absent, noarp, stale) in [
            (Family::V4, "198.19.200.1", "198.18.0.77", "198.18.0.78", "198.18.0.79"),
            (Family::V6, "2001:db8:ffff::1", "2001:db8::77", "2001:db8::78", "2001:db8::79"),
        ] {
            let unrouted: IpAddr = unrouted.parse().unwrap();
            match next_hop_in(&lab, client, unrouted, None, None) {
                Err(NetError::NoRoute(addr)) => assert_eq!(addr, unrouted, "{family:?}"),
                other => panic!("{family:?}: {other:?}"),
            }
            let prohibited: IpAddr =
                if family == Family::V4 { "198.19.201.1" } else { "2001:db8:fffe::1" }.parse().unwrap();
            let ip = if family == Family::V4 { "-4" } else { "-6" };
            run(&lab, client, "ip", &[ip, "route", "add", "prohibit", &prohibited.to_string()]);
            match next_hop_in(&lab, client, prohibited, None, None) {
                Err(NetError::NoRoute(addr)) => assert_eq!(addr, prohibited, "{family:?}"),
                other => panic!("{family:?}: a prohibit route: {other:?}"),
            }
            let foreign = lab.iface_addr(router, client, family);
            match next_hop_in(&lab, client, foreign, Some(foreign), None) {
                Err(NetError::BadSource(addr, _)) => assert_eq!(addr, foreign, "{family:?}"),
                other => panic!("{family:?}: from another node's address: {other:?}"),
            }
            for (state, addr) in [("noarp", noarp), ("stale", stale)] {
                let args = ["neigh", "replace", addr, "lladdr", "02:00:00:00:00:77", "dev", &iface, "nud", state];
                run(&lab, client, "ip", &args);
            }
            if family == Family::V4 {
                // A gateway on a link with no Ethernet addresses (a TUN device, no carrier: routes stay).
                for args in [
                    &["tuntap", "add", "mode", "tun", "dev", "tun9"][..],
                    &["addr", "add", "198.18.250.1/30", "dev", "tun9"],
                    &["link", "set", "tun9", "up"],
                    &["route", "add", "198.19.250.0/24", "via", "198.18.250.2", "dev", "tun9"],
                ] {
                    run(&lab, client, "ip", args);
                }
                let (tun, none) = interface(&lab, client, "tun9");
                assert_eq!(none, None);
                let gateway = Some("198.18.250.2".parse().unwrap());
                let expected = NextHop { ifindex: tun, gateway, link: LinkAddress::NotEthernet };
                let dst = "198.19.250.1".parse().unwrap();
                assert_eq!(next_hop_in(&lab, client, dst, None, None).expect("a route through tun9"), expected);
            }
            for (dst, expected) in [
                on_link(absent, LinkAddress::Unresolved),
                on_link(noarp, LinkAddress::Unresolved),
                on_link(stale, LinkAddress::Ethernet(mac)),
            ] {
                assert_eq!(next_hop_in(&lab, client, dst, None, None).expect("a route"), expected, "{family:?}");
            }
        }
    }
}
