#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""pkt.py - craft Ethernet frames for `bpftool prog run`, and check results.

Standard library only, so the tests need nothing beyond python3.

  pkt.py v4  [options] > frame.bin      IPv4 (UDP/TCP/ICMP) frame
  pkt.py v6  [options] > frame.bin      IPv6 frame
  pkt.py arp [options] > frame.bin      ARP request
  pkt.py lldp|raw ...   > frame.bin      see below
  pkt.py ctx IFINDEX   > ctx.bin        struct __sk_buff for ctx_in
  pkt.py vxlan SMAC DMAC SRC DST VNI INNER > frame.bin
                                        INNER (a frame file) in VXLAN over
                                        IPv4/UDP to port 4789, the UDP
                                        checksum valid (the receiver checks it)
  pkt.py check-fwd IN OUT SMAC DMAC     OUT is IN forwarded: MACs from the
                                        FIB, TTL/hop limit - 1, IPv4 header
                                        checksum valid, nothing else changed
  (check_nat(): the same for a NATed packet, given the tuple it must carry)

Options for v4/v6 (defaults in parentheses):
  --smac/--dmac MAC, --src/--dst ADDR, --ttl N (64), --proto udp|tcp|icmp|N
  --payload N (18 bytes), --vlan ID [--qinq], --tot-len N (v4, raw value),
  --payload-len N (v6), --ihl N, --version N, --options (v4, 4 bytes NOP),
  --mf, --df, --rf (reserved "evil" bit), --frag-off N (8-byte units),
  --id N (IPv4 identification), --bad-csum, --csum N (raw header checksum),
  --exthdr N (v6 next header carrying an extension header of type N),
  --truncate N (cut the frame to N bytes after building it), --pad N (append
  N bytes after the IP packet: Ethernet padding or a trailer the IP length
  does not cover), --ethertype N (override the EtherType), --no-l4 (IP
  header only, no L4 header or payload), --sport/--dport N (40000, 5201),
  --tcp-flags N (0x10: ACK), --l4csum ok|N (the TCP/UDP checksum: computed,
  or that raw value; default 0).
  lldp [options]                        an LLDP frame (to 01:80:c2:00:00:0e)
  raw HEX                               the bytes of HEX

Imported (tests/lib/*.py): build(argv) returns the frame; csum(), l4_csum(),
check_fwd(), check_nat().
"""
import argparse
import ipaddress
import socket
import struct
import sys

PROTOS = {"udp": 17, "tcp": 6, "icmp": 1, "icmp6": 58}


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def l4_csum(proto, seg, src, dst, v6):
    """The TCP/UDP checksum of SEG (its checksum field 0) from SRC to DST:
    RFC 768/793 (IPv4) and RFC 8200 8.1 (IPv6) pseudo-header."""
    if v6:
        ph = (ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed +
              struct.pack("!IxxxB", len(seg), proto))
    else:
        ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!xBH", proto, len(seg))
    c = csum(ph + seg)
    return 0xFFFF if (c == 0 and proto == 17) else c


def l4(proto, payload_len, src, dst, v6, sport=40000, dport=5201, flags=0x10, l4csum=None):
    """A plausible L4 header + payload.  Checksums are 0 (not what most
    cases test) unless L4CSUM: "ok" computes the real one, a number is
    written as it is."""
    body = bytes((i * 7) & 0xFF for i in range(payload_len))
    if proto in (6, 17):
        if proto == 17:
            seg = struct.pack("!HHHH", sport, dport, 8 + len(body), 0) + body
            off = 6
        else:
            seg = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, flags, 65535, 0, 0) + body
            off = 16
        if l4csum is None:
            return seg
        c = l4_csum(proto, seg, src, dst, v6) if l4csum == "ok" else int(l4csum, 0)
        return seg[:off] + struct.pack("!H", c) + seg[off + 2:]
    if proto in (1, 58):
        hdr = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, 1, 1)
        if not v6:
            c = csum(hdr + body)
            hdr = hdr[:2] + struct.pack("!H", c) + hdr[4:]
        return hdr + body
    return body


def ether(args, ethertype):
    if args.ethertype is not None:
        ethertype = args.ethertype
    hdr = mac(args.dmac) + mac(args.smac)
    if args.vlan is not None:
        if args.qinq:
            hdr += struct.pack("!HH", 0x88A8, args.vlan)
        hdr += struct.pack("!HH", 0x8100, args.vlan)
    return hdr + struct.pack("!H", ethertype)


def build_v4(args):
    proto = PROTOS.get(args.proto, None)
    proto = int(args.proto) if proto is None else proto
    opts = b"\x01\x01\x01\x00" if args.options else b""
    payload = b"" if args.no_l4 else l4(proto, args.payload, args.src, args.dst, False,
                                        args.sport, args.dport, args.tcp_flags, args.l4csum)
    ihl = args.ihl if args.ihl is not None else 5 + len(opts) // 4
    tot = args.tot_len if args.tot_len is not None else 20 + len(opts) + len(payload)
    frag = (0x2000 if args.mf else 0) | (args.frag_off & 0x1FFF) | (0x4000 if args.df else 0)
    frag |= 0x8000 if args.rf else 0
    hdr = struct.pack(
        "!BBHHHBBH4s4s", (args.version << 4) | (ihl & 0xF), args.tos, tot, args.id, frag,
        args.ttl, proto, 0,
        socket.inet_aton(args.src), socket.inet_aton(args.dst)) + opts
    c = csum(hdr) if args.csum is None else args.csum
    if args.bad_csum:
        c ^= 0x5555
    hdr = hdr[:10] + struct.pack("!H", c) + hdr[12:]
    return ether(args, 0x0800) + hdr + payload


def build_v6(args):
    proto = PROTOS.get(args.proto, None)
    proto = int(args.proto) if proto is None else proto
    if args.proto == "icmp":
        proto = 58
    payload = b"" if args.no_l4 else l4(proto, args.payload, args.src, args.dst, True,
                                        args.sport, args.dport, args.tcp_flags, args.l4csum)
    nexthdr = proto
    if args.exthdr is not None:
        # A minimal 8-byte extension header chaining to the real protocol.
        if args.exthdr == 44:  # fragment header
            payload = struct.pack("!BBHI", proto, 0, 0, 0x1234) + payload
        else:
            payload = struct.pack("!BB6s", proto, 0, b"\x01\x04\0\0\0\0") + payload
        nexthdr = args.exthdr
    plen = args.payload_len if args.payload_len is not None else len(payload)
    ver_tc_fl = (args.version << 28) | (args.tos << 20) | 0x12345
    hdr = struct.pack("!IHBB16s16s", ver_tc_fl, plen, nexthdr, args.ttl,
                      ipaddress.IPv6Address(args.src).packed,
                      ipaddress.IPv6Address(args.dst).packed)
    return ether(args, 0x86DD) + hdr + payload


def build_arp(args):
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac(args.smac),
                       socket.inet_aton(args.src), b"\0" * 6, socket.inet_aton(args.dst))
    return ether(args, 0x0806) + body


def build_lldp(args):
    """Chassis ID, port ID, TTL and end TLVs: what lldpd sends."""
    def tlv(t, v):
        return struct.pack("!H", (t << 9) | len(v)) + v
    body = (tlv(1, b"\x04" + mac(args.smac)) + tlv(2, b"\x05eth0") +
            tlv(3, struct.pack("!H", 120)) + tlv(0, b""))
    return ether(args, 0x88CC) + body


def ctx(ifindex):
    """struct __sk_buff (192 bytes) with ingress_ifindex (36) and ifindex (40)."""
    b = bytearray(192)
    struct.pack_into("<II", b, 36, ifindex, ifindex)
    return bytes(b)


def check_fwd(inp, out, smac, dmac):
    """Return a list of problems (empty when OUT is IN correctly forwarded)."""
    errs = []
    if len(inp) != len(out):
        return ["length changed: %d -> %d" % (len(inp), len(out))]
    if out[0:6] != mac(dmac):
        errs.append("dst MAC %s, want %s" % (out[0:6].hex(":"), dmac))
    if out[6:12] != mac(smac):
        errs.append("src MAC %s, want %s" % (out[6:12].hex(":"), smac))
    etype = struct.unpack("!H", inp[12:14])[0]
    i, o = bytearray(inp), bytearray(out)
    if etype == 0x0800:
        if o[22] != i[22] - 1:
            errs.append("TTL %d -> %d, want -1" % (i[22], o[22]))
        ihl = (i[14] & 0xF) * 4
        if csum(bytes(o[14:14 + ihl])) != 0:
            errs.append("IPv4 header checksum wrong after rewrite")
        i[22] = o[22]
        i[24:26] = o[24:26]
    elif etype == 0x86DD:
        if o[21] != i[21] - 1:
            errs.append("hop limit %d -> %d, want -1" % (i[21], o[21]))
        i[21] = o[21]
    else:
        errs.append("not IP")
    if i[12:] != o[12:]:
        errs.append("bytes beyond MACs/TTL/checksum changed")
    return errs


def vxlan(smac, dmac, src, dst, vni, inner):
    """INNER in VXLAN (RFC 7348) over IPv4/UDP, with a valid UDP checksum."""
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    body = struct.pack("!II", 0x08000000, vni << 8) + inner
    ulen = 8 + len(body)
    pseudo = s + d + struct.pack("!BBH", 0, 17, ulen)
    udp = struct.pack("!HHHH", 49152, 4789, ulen, 0) + body
    c = csum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0x4242, 0x4000, 64, 17, 0, s, d)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return mac(dmac) + mac(smac) + struct.pack("!H", 0x0800) + ip + udp


def _fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def l4_residual(frame):
    """The one's complement sum (folded, 0xffff = 0 as well as 0x0000) over
    the TCP/UDP pseudo-header and segment, checksum field included: 0xffff
    (or 0) when the checksum is right.  Incremental updates (RFC 1624, the
    kernel's inet_proto_csum_replace*()) keep it whatever it was."""
    v6 = struct.unpack("!H", frame[12:14])[0] == 0x86DD
    if v6:
        proto, seg = frame[20], frame[54:54 + struct.unpack("!H", frame[18:20])[0]]
        ph = frame[22:54] + struct.pack("!IxxxB", len(seg), proto)
    else:
        ihl = (frame[14] & 0xF) * 4
        tot = struct.unpack("!H", frame[16:18])[0]
        proto, seg = frame[23], frame[14 + ihl:14 + tot]
        ph = frame[26:34] + struct.pack("!xBH", proto, len(seg))
    data = ph + seg + (b"\0" if len(seg) % 2 else b"")
    r = _fold(sum(struct.unpack("!%dH" % (len(data) // 2), data)))
    return 0xFFFF if r == 0 else r


def check_nat(inp, out, smac, dmac, src, dst, sport, dport):
    """Problems with OUT as IN translated to SRC:SPORT -> DST:DPORT (what
    conntrack's tuples say) and forwarded: MACs, TTL/hop limit - 1, a valid
    IPv4 header checksum, the L4 checksum adjusted exactly (its residual
    kept: right stays right; a UDP checksum of 0 - none - stays 0 and a
    nonzero one never becomes 0), nothing else changed."""
    if len(inp) != len(out):
        return ["length changed: %d -> %d" % (len(inp), len(out))]
    v6 = struct.unpack("!H", inp[12:14])[0] == 0x86DD
    i = bytearray(inp)
    if v6:
        i[22:38] = ipaddress.IPv6Address(src).packed
        i[38:54] = ipaddress.IPv6Address(dst).packed
        l4o, proto = 54, inp[20]
    else:
        i[26:30] = socket.inet_aton(src)
        i[30:34] = socket.inet_aton(dst)
        l4o, proto = 14 + (inp[14] & 0xF) * 4, inp[23]
        i[24:26] = b"\0\0"
        i[24:26] = struct.pack("!H", csum(bytes(i[14:l4o])))
    i[l4o:l4o + 4] = struct.pack("!HH", sport, dport)
    coff = l4o + (6 if proto == 17 else 16)
    errs = []
    if proto == 17 and inp[coff:coff + 2] == b"\0\0":
        if out[coff:coff + 2] != b"\0\0":
            errs.append("UDP checksum 0 (none) became %s" % out[coff:coff + 2].hex())
    else:
        if proto == 17 and out[coff:coff + 2] == b"\0\0":
            errs.append("UDP checksum became 0 (CSUM_MANGLED_0 is 0xffff)")
        if l4_residual(bytes(out)) != l4_residual(bytes(inp)):
            errs.append("L4 checksum not adjusted: residual %04x, was %04x" %
                        (l4_residual(bytes(out)), l4_residual(bytes(inp))))
    i[coff:coff + 2] = out[coff:coff + 2]  # judged above
    # the rest is check_fwd()'s: MACs, TTL/hop limit, header checksum
    errs += check_fwd(bytes(i[:12]) + bytes(i[12:]), out, smac, dmac)
    return errs


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "vxlan":
        _, _, smac, dmac, src, dst, vni, fin = sys.argv
        with open(fin, "rb") as f:
            sys.stdout.buffer.write(vxlan(smac, dmac, src, dst, int(vni), f.read()))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "ctx":
        sys.stdout.buffer.write(ctx(int(sys.argv[2])))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "check-fwd":
        _, _, fin, fout, smac, dmac = sys.argv
        with open(fin, "rb") as f1, open(fout, "rb") as f2:
            errs = check_fwd(f1.read(), f2.read(), smac, dmac)
        for e in errs:
            print("check-fwd: " + e, file=sys.stderr)
        return 1 if errs else 0

    sys.stdout.buffer.write(build(sys.argv[1:]))
    return 0


def build(argv):
    """The frame that `pkt.py ARGV...` would print."""
    if argv and argv[0] == "raw":
        return bytes.fromhex("".join(argv[1:]))
    p = argparse.ArgumentParser(prog="pkt.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["v4", "v6", "arp", "lldp"])
    p.add_argument("--smac", default="02:ca:00:01:00:02")
    p.add_argument("--dmac", default="02:ca:00:01:00:01")
    p.add_argument("--src")
    p.add_argument("--dst")
    p.add_argument("--ttl", type=int, default=64)
    p.add_argument("--tos", type=lambda v: int(v, 0), default=0)
    p.add_argument("--proto", default="udp")
    p.add_argument("--payload", type=int, default=18)
    p.add_argument("--vlan", type=int)
    p.add_argument("--qinq", action="store_true")
    p.add_argument("--tot-len", type=int)
    p.add_argument("--payload-len", type=int)
    p.add_argument("--ihl", type=int)
    p.add_argument("--version", type=int)
    p.add_argument("--options", action="store_true")
    p.add_argument("--mf", action="store_true")
    p.add_argument("--df", action="store_true")
    p.add_argument("--rf", action="store_true")
    p.add_argument("--id", type=lambda v: int(v, 0), default=0x1234)
    p.add_argument("--frag-off", type=int, default=0)
    p.add_argument("--bad-csum", action="store_true")
    p.add_argument("--csum", type=lambda v: int(v, 0))
    p.add_argument("--exthdr", type=int)
    p.add_argument("--truncate", type=int)
    p.add_argument("--pad", type=int, default=0)
    p.add_argument("--ethertype", type=lambda v: int(v, 0))
    p.add_argument("--no-l4", action="store_true")
    p.add_argument("--sport", type=int, default=40000)
    p.add_argument("--dport", type=int, default=5201)
    p.add_argument("--tcp-flags", type=lambda v: int(v, 0), default=0x10)
    p.add_argument("--l4csum")
    a = p.parse_args(argv)
    if a.kind == "lldp":
        a.dmac = "01:80:c2:00:00:0e"
    if a.kind in ("v4", "arp", "lldp"):
        a.src = a.src or "198.18.1.2"
        a.dst = a.dst or "198.18.2.2"
        a.version = 4 if a.version is None else a.version
    else:
        a.src = a.src or "2001:2:0:1::2"
        a.dst = a.dst or "2001:2:0:2::2"
        a.version = 6 if a.version is None else a.version
    frame = {"v4": build_v4, "v6": build_v6, "arp": build_arp, "lldp": build_lldp}[a.kind](a)
    frame += bytes((0xA5 ^ i) & 0xFF for i in range(a.pad))
    if a.truncate is not None:
        frame = frame[:a.truncate]
    return frame


if __name__ == "__main__":
    sys.exit(main())
