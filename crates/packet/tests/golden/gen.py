#!/usr/bin/env python3
"""Independent generator for the golden byte arrays in tests/golden.rs.

This is the "second method": checksums are computed here with a plain
Python RFC 1071 implementation, not with the crate. Run it to regenerate
tests/golden/vectors.rs (checked in; the Rust tests include it).
"""
import ipaddress
import struct


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data)//2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def put_csum(b: bytes, at: int, c: int) -> bytes:
    return b[:at] + struct.pack("!H", c) + b[at + 2:]


def a4(s):
    return ipaddress.IPv4Address(s).packed


def a6(s):
    return ipaddress.IPv6Address(s).packed


def ph4(src, dst, proto, ln):
    return a4(src) + a4(dst) + struct.pack("!BBH", 0, proto, ln)


def ph6(src, dst, nh, ln):
    return a6(src) + a6(dst) + struct.pack("!I3xB", ln, nh)


def ipv4(src, dst, proto, payload_len, ttl, ident, tos=0, df=True, options=b""):
    hl = 20 + len(options)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | (hl // 4), tos, hl + payload_len, ident,
                    0x4000 if df else 0, ttl, proto, 0, a4(src), a4(dst)) + options
    return put_csum(h, 10, csum(h))


def ipv6(src, dst, nh, payload_len, hop, tc=0, flow=0):
    return struct.pack("!IHBB16s16s", (6 << 28) | (tc << 20) | flow, payload_len, nh, hop,
                       a6(src), a6(dst))


def udp(src, dst, sport, dport, payload, v6=False):
    ln = 8 + len(payload)
    u = struct.pack("!HHHH", sport, dport, ln, 0) + payload
    ph = ph6(src, dst, 17, ln) if v6 else ph4(src, dst, 17, ln)
    c = csum(ph + u) or 0xFFFF
    return put_csum(u, 6, c)


def tcp(src, dst, sport, dport, seq, ack, flags, win, mss=None, v6=False):
    opts = struct.pack("!BBH", 2, 4, mss) if mss is not None else b""
    hl = 20 + len(opts)
    t = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (hl // 4) << 4, flags, win, 0, 0) + opts
    ph = ph6(src, dst, 6, len(t)) if v6 else ph4(src, dst, 6, len(t))
    return put_csum(t, 16, csum(ph + t))


def icmp4(typ, code, rest, data):
    m = struct.pack("!BBH", typ, code, 0) + rest + data
    return put_csum(m, 2, csum(m))


def icmp6(src, dst, typ, code, rest, data):
    m = struct.pack("!BBH", typ, code, 0) + rest + data
    return put_csum(m, 2, csum(ph6(src, dst, 58, len(m)) + m))


def mpls(label, tc, s, ttl):
    return struct.pack("!I", (label << 12) | (tc << 9) | (s << 8) | ttl)


def ext_struct(objs):
    body = b"".join(struct.pack("!HBB", 4 + len(p), c, t) + p for c, t, p in objs)
    h = struct.pack("!BBH", 0x20, 0, 0) + body
    return put_csum(h, 2, csum(h))


SRC4, DST4, RTR4 = "192.0.2.1", "198.51.100.7", "203.0.113.9"
SRC6, DST6, RTR6 = "2001:db8::1", "2001:db8::2", "2001:db8:ffff::9"

out = {}
# A UDP probe: IPv4 header + UDP + 32 bytes payload, TTL 5.
payload = bytes(range(0x40, 0x60))
u4 = udp(SRC4, DST4, 33434 - 1000, 33439, payload)
out["IPV4_UDP_PROBE"] = ipv4(SRC4, DST4, 17, len(u4), 5, 0x1234) + u4
# IPv6 UDP probe, 12 bytes payload, flow label 0x12345, tc 0x28.
u6 = udp(SRC6, DST6, 50000, 33434, b"hoptrace-v6!", v6=True)
out["IPV6_UDP_PROBE"] = ipv6(SRC6, DST6, 17, len(u6), 64, 0x28, 0x12345) + u6
# TCP
out["TCP_SYN"] = tcp(SRC4, DST4, 40000, 80, 0x11223344, 0, 0x02, 64240, mss=1460)
out["TCP_SYN_ACK"] = tcp(DST4, SRC4, 80, 40000, 0xA0B0C0D0, 0x11223345, 0x12, 65160, mss=1400)
out["TCP_RST_V6"] = tcp(DST6, SRC6, 443, 40001, 0, 0x55667788, 0x14, 0, v6=True)
# ICMPv4 echo
out["ICMP4_ECHO_REQUEST"] = icmp4(8, 0, struct.pack("!HH", 0x4242, 1), b"hoptrace")
out["ICMP4_ECHO_REPLY"] = icmp4(0, 0, struct.pack("!HH", 0x4242, 1), b"hoptrace")
# Quote: the probe as it arrived at the router (TTL 1, checksum recomputed
# by us as the sender would have had it with TTL 1), header + 8 bytes.
q4 = ipv4(SRC4, DST4, 17, len(u4), 1, 0x1234) + u4[:8]
out["QUOTE4"] = q4
out["ICMP4_TIME_EXCEEDED"] = icmp4(11, 0, b"\0\0\0\0", q4)
out["ICMP4_PORT_UNREACH"] = icmp4(3, 3, b"\0\0\0\0", q4)
out["ICMP4_FRAG_NEEDED"] = icmp4(3, 4, struct.pack("!HH", 0, 1400), q4)
out["ICMP4_HOST_PROHIBITED"] = icmp4(3, 10, b"\0\0\0\0", q4)
# RFC 4884 + RFC 4950: two labels.
ext = ext_struct([(1, 1, mpls(24001, 0, 0, 1) + mpls(16, 5, 1, 1))])
out["MPLS_EXT"] = ext
padded = q4 + bytes(128 - len(q4))
out["ICMP4_TIME_EXCEEDED_MPLS"] = icmp4(11, 0, struct.pack("!BBH", 0, 32, 0), padded + ext)
out["ICMP4_TIME_EXCEEDED_MPLS_LEGACY"] = icmp4(11, 0, b"\0\0\0\0", padded + ext)
# ICMPv6
out["ICMP6_ECHO_REQUEST"] = icmp6(SRC6, DST6, 128, 0, struct.pack("!HH", 0x4242, 7), b"hoptrace")
out["ICMP6_ECHO_REPLY"] = icmp6(DST6, SRC6, 129, 0, struct.pack("!HH", 0x4242, 7), b"hoptrace")
q6 = ipv6(SRC6, DST6, 17, len(u6), 1, 0x28, 0x12345) + u6[:8]
out["QUOTE6"] = q6
out["ICMP6_TIME_EXCEEDED"] = icmp6(RTR6, SRC6, 3, 0, b"\0\0\0\0", q6)
out["ICMP6_PORT_UNREACH"] = icmp6(DST6, SRC6, 1, 4, b"\0\0\0\0", q6)
out["ICMP6_PACKET_TOO_BIG"] = icmp6(RTR6, SRC6, 2, 0, struct.pack("!I", 1280), q6)

print("// @generated by tests/golden/gen.py -- do not edit by hand.")
for name, b in out.items():
    print(f"/// {len(b)} bytes.")
    print(f"pub const {name}: &[u8] = &[")
    for i in range(0, len(b), 16):
        print("    " + " ".join(f"0x{x:02x}," for x in b[i:i + 16]))
    print("];")
