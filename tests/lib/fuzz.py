#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""fuzz.py - mutate frames, run them through the program in the kernel, check
every outcome against a reference model written here, not in the program.

  fuzz.py run    -n N [--seed S] [--corpus DIR] LAB-OPTIONS
  fuzz.py replay LAB-OPTIONS FILE|DIR...
  fuzz.py keep   FILE --name NAME --why TEXT [--corpus DIR]

LAB-OPTIONS: --netns NS --prog ID --pins DIR --reasons FILE (as matrix.py).
The lab is the router lab (netns/router) as tests/fuzz and 60-fuzz.bats set
it up: tcaccel on to-client (rp_filter off) and to-server (rp_filter
strict), the routes of lab_special_routes (tests/lib/reliability.bash); its
names and addresses come from the environment (`netns/router env`).

Frames: valid IPv4/IPv6 TCP/UDP/ICMP (and other protocols) frames between
the lab's addresses, special and martian ones, then 0-4 mutations: bit
flips, byte overwrites, truncation (often at header boundaries), trailing
bytes, header fields set to edge or random values (IPv4 checksum fixed up
or not), L2 changes (EtherType, destination MAC).  Each arrives on
to-client or to-server.

Invariants, for every frame: the verdict is TC_ACT_UNSPEC with the bytes
unchanged, or TC_ACT_REDIRECT with the frame rewritten exactly as
forwarding would (tests/lib/pkt.py check_fwd: MACs from the FIB, TTL/hop
limit - 1, valid IPv4 checksum, nothing else changed) - and which of the two,
and under which reason, is what the model below says.  Reasons are checked
per segment of frames (counter snapshots in the same bpftool batch, packets
and bytes per reason); a segment whose totals differ is replayed frame by
frame to name the culprit.  Frames BPF_PROG_TEST_RUN refuses (shorter than
an Ethernet + IP header, longer than a page) are not sent: the program never
sees them there (the wire tests in 50-matrix.bats cover them).

A violation is saved under --corpus as a .hex reproducer; `replay` runs
saved reproducers (60-fuzz.bats replays tests/corpus/ on every run).  The
corpus is curated: `keep` copies one reproducer into it (default
tests/corpus) as NAME.hex with a "# case:" line saying what it guards
against, and refuses one whose outcome (the model's word and what the
program did, numbers aside) is already there: one file per distinct case.

--lab docker: the docker lab instead (netns/docker, its names and addresses
from the environment: `netns/docker env`), tcaccel in respect mode on the
node's eth0 and br0, with TCP and UDP flows (masqueraded and published,
IPv4 and IPv6) set up through the rules first (37-nat.bats).  The frames
are mostly those flows' packets, both ways, mutated; the model adds the
firewall gate (tcaccel's order: a NATed flow's entry decides before the
FIB, which looks up the translated destination; every other packet meets
the gate after the FIB and the source check) and computes a NATed
packet's bytes from conntrack's own tuples (tests/lib/ctmodel.py, read
from `conntrack -L -o xml`), its checksums by tests/lib/pkt.py check_nat.
What the model takes as given about that lab: every flow was set up
through the rules both ways (tcaccel's labels), none has a helper or a
zone.
"""
import argparse
import hashlib
import ipaddress
import json
import os
import random
import re
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctmodel  # noqa: E402
import matrix  # noqa: E402
import pkt  # noqa: E402
import tcrun  # noqa: E402

# BPF_PROG_TEST_RUN's limits for a tc program (verified on 6.18; see
# 50-matrix.bats and tests/matrix.txt "REFUSED"): at least an Ethernet
# header, at least 20/40 bytes of IPv4/IPv6 header for those EtherTypes,
# and the frame must fit a page with the skb's head- and tailroom.
MIN_FRAME = 14
MAX_FRAME = 3712

ETH_IP, ETH_IP6 = 0x0800, 0x86DD
IPV6_EXT = {0, 43, 44, 50, 51, 60, 135, 139, 140, 253, 254}

# --- the lab, as the model sees it ------------------------------------------------


def env(name):
    v = os.environ.get(name)
    if not v:
        raise SystemExit("fuzz.py: %s not set (export `netns/router env`)" % name)
    return v


class Lab:
    """The router lab's FIB, neighbours and interfaces, written down from
    its setup (netns/router, lab_special_routes) - not asked from the
    kernel, and nothing from the program."""

    gate = None  # no firewall gate: tcaccel loaded without rules

    @staticmethod
    def ifnames():
        return {"client": env("RT_IF_CLIENT"), "server": env("RT_IF_SERVER")}

    def __init__(self, ifindex, modes, flags=None):
        a4, a6 = ipaddress.IPv4Address, ipaddress.IPv6Address
        # MODE= per ingress (what the user configured: 1 redirect, 4 auto),
        # and the devices bpf_redirect_peer() can reach: both router
        # interfaces are veths whose peers live in other namespaces.
        self.mode = modes
        self.peers = {"client", "server"}
        n4, n6 = ipaddress.IPv4Network, ipaddress.IPv6Network
        self.mac = {"client": pkt.mac(env("RT_CLIENT_MAC")), "server": pkt.mac(env("RT_SERVER_MAC"))}
        self.ifindex = ifindex
        self.rpf = {"client": 0, "server": 1}  # rp_filter per ingress
        self.mtu = {"client": 1500, "server": 1500}
        cl4, sv4 = a4(env("CLIENT_IP4")), a4(env("SERVER_IP4"))
        cl6, sv6 = a6(env("CLIENT_IP6")), a6(env("SERVER_IP6"))
        self.neigh = {("client", cl4): env("CLIENT_MAC"), ("server", sv4): env("SERVER_MAC"),
                      ("client", cl6): env("CLIENT_MAC"), ("server", sv6): env("SERVER_MAC")}
        rc4, rs4 = a4(env("RT_CLIENT_IP4")), a4(env("RT_SERVER_IP4"))
        rc6, rs6 = a6(env("RT_CLIENT_IP6")), a6(env("RT_SERVER_IP6"))
        self.v4_local = {rc4, rs4}
        net_c4, net_s4 = n4(str(rc4) + "/24", strict=False), n4(str(rs4) + "/24", strict=False)
        self.v4_bcast = {net_c4.broadcast_address, net_s4.broadcast_address}
        # (network, kind, device, gateway or None, mtu or None); longest prefix wins
        self.v4_routes = [
            (net_c4, "unicast", "client", None, None),
            (net_s4, "unicast", "server", None, None),
            (n4("198.18.50.0/24"), "blackhole", None, None, None),
            (n4("198.18.51.0/24"), "unreachable", None, None, None),
            (n4("198.18.52.0/24"), "prohibit", None, None, None),
            (n4("198.18.61.0/24"), "unicast", "server", sv4, 1300),
        ]
        net_c6, net_s6 = n6(str(rc6) + "/64", strict=False), n6(str(rs6) + "/64", strict=False)
        # the router's addresses, and the subnet-router anycast addresses
        self.v6_local = {rc6, rs6, net_c6.network_address, net_s6.network_address}
        self.v6_routes = [
            (net_c6, "unicast", "client", None, None),
            (net_s6, "unicast", "server", None, None),
            (n6("2001:2:0:50::/64"), "blackhole", None, None, None),
            (n6("2001:2:0:51::/64"), "unreachable", None, None, None),
            (n6("2001:2:0:52::/64"), "prohibit", None, None, None),
            (n6("2001:2:0:61::/64"), "unicast", "server", sv6, 1300),
        ]
        self.addr4 = {"client": cl4, "server": sv4, "rt_client": rc4, "rt_server": rs4}
        self.addr6 = {"client": cl6, "server": sv6, "rt_client": rc6, "rt_server": rs6}

    def route4(self, a):
        """bpf_fib_lookup()'s view of IPv4 destination A: ("local"|
        "broadcast"|"none"|"blackhole"|..., dev, gateway, mtu)."""
        if a in self.v4_local:
            return ("local", None, None, None)
        if a in self.v4_bcast:
            return ("broadcast", None, None, None)
        best = None
        for net, kind, dev, gw, mtu in self.v4_routes:
            if a in net and (best is None or net.prefixlen > best[0].prefixlen):
                best = (net, kind, dev, gw, mtu)
        if best is None:
            return ("none", None, None, None)
        return best[1:]

    def route6(self, a):
        if a in self.v6_local:
            return ("local", None, None, None)
        best = None
        for net, kind, dev, gw, mtu in self.v6_routes:
            if a in net and (best is None or net.prefixlen > best[0].prefixlen):
                best = (net, kind, dev, gw, mtu)
        if best is None:
            return ("none", None, None, None)
        return best[1:]


class DockerLab(Lab):
    """The docker lab (netns/docker) as its setup writes it down: the node's
    eth0 towards the LAN (default routes via the LAN host), br0 towards the
    containers, rp_filter as configured, both interfaces in auto mode and
    neither peer-capable (a NIC's root qdisc on eth0; br0 is a bridge).
    The gate's table is conntrack's (ctmodel.Table)."""

    @staticmethod
    def ifnames():
        return {"lan": env("NODE_UPLINK"), "br": env("NODE_BRIDGE")}

    def __init__(self, ifindex, modes, flags=None):
        a4, a6 = ipaddress.IPv4Address, ipaddress.IPv6Address
        n4, n6 = ipaddress.IPv4Network, ipaddress.IPv6Network
        self.mode = modes
        self.peers = set()
        self.mac = {"lan": pkt.mac(env("NODE_MAC")), "br": pkt.mac(env("BR_MAC"))}
        self.ifindex = ifindex
        # rp_filter as load read it (cfg flags: bit 0 strict, bit 1 loose)
        self.rpf = {k: 1 if (v or 0) & 1 else 2 if (v or 0) & 2 else 0 for k, v in (flags or {}).items()}
        self.mtu = {"lan": 1500, "br": 1500}
        lan4, lan6 = a4(env("LAN_IP4")), a6(env("LAN_IP6"))
        node4, node6 = a4(env("NODE_IP4")), a6(env("NODE_IP6"))
        br4, br6 = a4(env("BR_IP4")), a6(env("BR_IP6"))
        net_l4, net_b4 = n4(str(node4) + "/24", strict=False), n4(env("BR_NET4"))
        net_l6, net_b6 = n6(str(node6) + "/64", strict=False), n6(env("BR_NET6"))
        n = int(env("CONTAINERS"))
        self.containers4 = [a4(int(net_b4.network_address) + k + 1) for k in range(1, n + 1)]
        self.containers6 = [a6(int(net_b6.network_address) + k + 1) for k in range(1, n + 1)]
        self.neigh = {("lan", lan4): env("LAN_MAC"), ("lan", lan6): env("LAN_MAC")}
        for k in range(1, n + 1):
            m = "02:ca:02:c8:%02x:02" % k
            self.neigh[("br", self.containers4[k - 1])] = m
            self.neigh[("br", self.containers6[k - 1])] = m
        self.v4_local = {node4, br4}
        self.v4_bcast = {net_l4.broadcast_address, net_b4.broadcast_address}
        self.v4_routes = [
            (n4("0.0.0.0/0"), "unicast", "lan", lan4, None),
            (net_l4, "unicast", "lan", None, None),
            (net_b4, "unicast", "br", None, None),
        ]
        self.v6_local = {node6, br6, net_l6.network_address, net_b6.network_address}
        self.v6_routes = [
            (n6("::/0"), "unicast", "lan", lan6, None),
            (net_l6, "unicast", "lan", None, None),
            (net_b6, "unicast", "br", None, None),
        ]
        self.addr4 = {"lan": lan4, "node": node4, "br": br4, "c1": self.containers4[0]}
        self.addr6 = {"lan": lan6, "node": node6, "br": br6, "c1": self.containers6[0]}
        self.gate = ctmodel.Table(env("NS_NODE"))


# --- the reference model -----------------------------------------------------------

# enum tcaccel_mode, from build/abi.json (bpf/include/maps.h): read_abi()
MODES = {}


def read_abi(build):
    with open(os.path.join(build, "abi.json")) as f:
        MODES.update(json.load(f)["modes"])

FIB_REASON = {"local": "FIB_NOT_FWDED", "broadcast": "FIB_NOT_FWDED", "none": "FIB_NOT_FWDED",
              "anycast": "FIB_NOT_FWDED", "blackhole": "FIB_BLACKHOLE",
              "unreachable": "FIB_UNREACHABLE", "prohibit": "FIB_PROHIBIT"}


def be16(b, o):
    return (b[o] << 8) | b[o + 1]


def refused(f):
    """Would BPF_PROG_TEST_RUN refuse F before the program runs?"""
    if len(f) < MIN_FRAME or len(f) > MAX_FRAME:
        return True
    et = be16(f, 12)
    return (et == ETH_IP and len(f) < 14 + 20) or (et == ETH_IP6 and len(f) < 14 + 40)


def model(lab, f, ing):
    """What forwarding semantics demand for frame F arriving on ING:
    ("pass", REASON, None) or ("redirect", REASON, (egress, dmac)) with
    REASON one of REDIRECT, PEER (auto, towards a peer-capable device) and
    NEIGH (auto, neighbour unknown: dmac None, the MACs stay as they are).

    The decision order (which reason wins when several apply) is
    tcaccel's documented one: L2, then IP header sanity, addresses, the
    FIB, then the checks on a forwarding answer, then the IPv4 source
    (README, "Reliability")."""
    n = len(f)
    et = be16(f, 12)
    if et in (0x8100, 0x88A8):
        return ("pass", "VLAN", None)
    if et not in (ETH_IP, ETH_IP6):
        return ("pass", "NOT_IP", None)
    if f[0] & 1:
        return ("pass", "MULTICAST", None)      # broadcast or multicast MAC
    if f[0:6] != lab.mac[ing]:
        return ("pass", "NOT_FOR_US", None)
    if et == ETH_IP:
        return model4(lab, f, ing, n)
    return model6(lab, f, ing, n)


def model4(lab, f, ing, n):
    ip = f[14:]
    ver, ihl = ip[0] >> 4, ip[0] & 15
    if ver != 4 or ihl < 5:
        return ("pass", "BAD_HEADER", None)
    if ihl != 5:
        return ("pass", "IP_OPTIONS", None)
    tot = be16(ip, 2)
    if tot < 20:
        return ("pass", "BAD_HEADER", None)
    if tot > n - 14:
        return ("pass", "TRUNCATED", None)
    if pkt.csum(bytes(ip[:20])) != 0:          # ip_fast_csum() != 0
        return ("pass", "BAD_CSUM", None)
    if be16(ip, 6) & 0x3FFF:                   # MF or fragment offset
        return ("pass", "FRAGMENT", None)
    src, dst = ipaddress.IPv4Address(bytes(ip[12:16])), ipaddress.IPv4Address(bytes(ip[16:20]))
    bcast = ipaddress.IPv4Address("255.255.255.255")
    if dst.is_multicast or dst == bcast:
        return ("pass", "MULTICAST", None)
    if (src.is_multicast or src == bcast or ip[12] == 0 or ip[12] == 127 or
            ip[16] == 0 or ip[16] == 127):
        return ("pass", "MARTIAN", None)
    g = gate(lab, ip, 20, tot - 20, False, str(src), str(dst)) if lab.gate is not None else None
    if g and g[1]:                               # a NATed flow: its entry first
        if g[0]:
            return ("pass", g[0], None)
        dst = ipaddress.IPv4Address(g[2][1])
    verdict = fib(lab, ing, n, lab.route4(dst), dst, tot, ip[8])
    if verdict[0] == "pass":
        return verdict
    _, dev, nh = verdict
    # the source, as fib_validate_source() sees it
    skind, sdev, _, _ = lab.route4(src)
    if lab.rpf[ing]:
        if skind != "unicast" or (lab.rpf[ing] == 1 and sdev != ing):
            return ("pass", "RPF_FAILED", None)
    elif skind in ("local", "broadcast", "none"):
        return ("pass", "MARTIAN", None)
    if g and not g[1] and g[0]:
        return ("pass", g[0], None)
    return forward(lab, ing, dev, nh, g[2] if g else None)


def model6(lab, f, ing, n):
    ip = f[14:]
    if ip[0] >> 4 != 6:
        return ("pass", "BAD_HEADER", None)
    l3 = 40 + be16(ip, 4)
    if l3 > n - 14:
        return ("pass", "TRUNCATED", None)
    if ip[6] in IPV6_EXT:
        return ("pass", "IPV6_EXTHDR", None)
    src, dst = ipaddress.IPv6Address(bytes(ip[8:24])), ipaddress.IPv6Address(bytes(ip[24:40]))
    if dst.is_multicast:
        return ("pass", "MULTICAST", None)
    ll = ipaddress.IPv6Network("fe80::/10")
    if (src.is_multicast or src.is_loopback or src.is_unspecified or src in ll or
            src.ipv4_mapped is not None or dst.is_loopback or dst.is_unspecified or dst in ll):
        return ("pass", "MARTIAN", None)
    g = gate(lab, ip, 40, l3 - 40, True, str(src), str(dst)) if lab.gate is not None else None
    if g and g[1]:
        if g[0]:
            return ("pass", g[0], None)
        dst = ipaddress.IPv6Address(g[2][1])
    verdict = fib(lab, ing, n, lab.route6(dst), dst, l3, ip[7])
    if verdict[0] == "pass":
        return verdict
    if g and not g[1] and g[0]:
        return ("pass", g[0], None)
    return forward(lab, ing, verdict[1], verdict[2], g[2] if g else None)


def fib(lab, ing, n, route, dst, l3_len, ttl):
    """The FIB's answer for DST (ROUTE, from Lab.route4/route6) and the
    checks on a forwarding one, the same for both families (as
    tcaccel_fib_forward() and tcaccel_fib_post() in bpf/include/fib.h):
    ("pass", REASON, None), or ("fib", egress, neighbour MAC or None)."""
    kind, dev, gw, mtu = route
    if kind != "unicast":
        return ("pass", FIB_REASON[kind], None)
    if l3_len > (mtu or lab.mtu[dev]):
        return ("pass", "FIB_FRAG_NEEDED", None)
    nh = lab.neigh.get((dev, gw or dst))
    if nh is None and lab.mode[ing] != MODES["neigh"]:   # NEIGH skips the neighbour
        return ("pass", "FIB_NO_NEIGH", None)
    if dev == ing:
        return ("pass", "HAIRPIN", None)
    if ttl <= 1:
        return ("pass", "TTL_EXCEEDED", None)
    if n != 14 + l3_len:
        return ("pass", "PADDED", None)
    return ("fib", dev, nh)


def forward(lab, ing, dev, nh, nat=None):
    """How a forwardable packet leaves, per the ingress's mode; NAT: the
    tuple it leaves with (then NAT_REDIRECT, NAT_PEER, NAT_NEIGH)."""
    mode = lab.mode[ing]
    if mode == MODES["neigh"]:
        how = ("NEIGH", (dev, None))
    elif mode in (MODES["peer"], MODES["auto"]) and dev in lab.peers:
        how = ("PEER", (dev, nh))
    else:
        how = ("REDIRECT", (dev, nh))
    if nat:
        return ("redirect", "NAT_" + how[0], how[1] + (nat,))
    return ("redirect",) + how


def gate(lab, ip, ihl, l4len, v6, src, dst):
    """The firewall gate's word on a packet (IP header IP of IHL bytes,
    L4LEN bytes of payload by its IP length): (reason or None, NATed flow,
    the tuple conntrack's entry says it leaves with, or None).

    What conntrack keeps on the stack, in tcaccel's order: not TCP/UDP, or
    its header cut short by the IP length (no lookup); then the lookup:
    none (CT_MISS; TCP SYN/FIN/RST: CT_TCP_CTRL), SYN/FIN/RST, not
    established (a reply seen; TCP: assured and ESTABLISHED), a zone."""
    proto = ip[6] if v6 else ip[9]
    if proto not in (6, 17) or l4len < (20 if proto == 6 else 8):
        return ("CT_PROTO", False, None)
    l4 = ip[ihl:]
    ctrl = proto == 6 and l4[13] & 0x07
    hit = lab.gate.find(proto, (src, dst, be16(l4, 0), be16(l4, 2)))
    if hit is None:
        return ("CT_TCP_CTRL" if ctrl else "CT_MISS", False, None)
    e, d = hit
    reason = None
    if ctrl:
        reason = "CT_TCP_CTRL"
    elif not e.established:
        reason = "CT_NOT_ESTABLISHED"
    elif e.zone:
        reason = "CT_ZONE"
    return (reason, e.nat, e.target(d) if e.nat else None)


# --- generating frames --------------------------------------------------------------


class Gen:
    def __init__(self, lab, rng):
        self.lab, self.r = lab, rng
        a4, a6 = lab.addr4, lab.addr6
        r = rng
        self.pool4 = {
            "client": lambda: a4["client"] if r.random() < 0.85 else ipaddress.IPv4Address("198.18.1.%d" % r.randrange(256)),
            "server": lambda: a4["server"] if r.random() < 0.85 else ipaddress.IPv4Address("198.18.2.%d" % r.randrange(256)),
            "special": lambda: ipaddress.IPv4Address("198.18.%d.%d" % (r.choice((50, 51, 52, 61)), r.randrange(256))),
            "router": lambda: r.choice((a4["rt_client"], a4["rt_server"])),
            "martian": lambda: ipaddress.IPv4Address(r.choice((
                "0.0.0.0", "0.1.2.3", "127.0.0.1", "127.1.2.3", "224.0.0.1", "239.1.2.3",
                "255.255.255.255", "240.0.0.1", "198.18.1.255", "198.18.2.255"))),
            "random": lambda: ipaddress.IPv4Address(r.getrandbits(32)),
        }
        self.pool6 = {
            "client": lambda: a6["client"] if r.random() < 0.85 else ipaddress.IPv6Address(
                int(a6["client"]) & ~0xFFFF | r.getrandbits(16)),
            "server": lambda: a6["server"] if r.random() < 0.85 else ipaddress.IPv6Address(
                int(a6["server"]) & ~0xFFFF | r.getrandbits(16)),
            "special": lambda: ipaddress.IPv6Address("2001:2:0:%d::%x" % (r.choice((50, 51, 52, 61)), r.getrandbits(16))),
            "router": lambda: r.choice((a6["rt_client"], a6["rt_server"], ipaddress.IPv6Address("2001:2:0:2::"))),
            "martian": lambda: ipaddress.IPv6Address(r.choice((
                "::", "::1", "fe80::1", "febf::2", "ff02::1", "ff0e::5", "::ffff:198.18.2.2", "::198.18.2.2"))),
            "random": lambda: ipaddress.IPv6Address(r.getrandbits(128)),
        }

    def addr(self, v6, ing, role):
        """An address for ROLE (src/dst) of a frame arriving on ING: mostly
        the ones that get forwarded, often special ones."""
        near, far = (ing, "server" if ing == "client" else "client")
        x = self.r.random()
        kind = (near if role == "src" else far) if x < 0.6 else \
            self.r.choice(("client", "server", "special", "router", "martian", "random"))
        return (self.pool6 if v6 else self.pool4)[kind]()

    def base(self, ing):
        r = self.r
        v6 = r.random() < 0.45
        proto = r.choice((6, 17, 17, 1, 47, 132, 0xFF)) if not v6 else r.choice((6, 17, 17, 58, 59, 47))
        if v6 and proto == 1:
            proto = 58
        size = r.choice((0, 0, 1, 18, 18, r.randrange(64), r.randrange(200), r.randrange(1500), r.randrange(3700)))
        body = pkt.l4(proto, size, None, None, v6)
        ttl = r.choice((64, 64, 64, 2, 1, 0, 255, r.randrange(256)))
        lab = self.lab
        dmac = lab.mac[ing]
        smac = bytes((2, r.randrange(256), r.randrange(256), r.randrange(256), r.randrange(256), r.randrange(256)))
        src, dst = self.addr(v6, ing, "src"), self.addr(v6, ing, "dst")
        if v6:
            hdr = struct.pack("!IHBB16s16s", (6 << 28) | (r.randrange(256) << 20) | r.getrandbits(20),
                              len(body), proto, ttl, src.packed, dst.packed)
            frame = dmac + smac + struct.pack("!H", ETH_IP6) + hdr + body
        else:
            flags = r.choice((0, 0, 0x4000, 0x4000, 0x2000, 0x8000, r.getrandbits(16)))
            hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, r.choice((0, 0, 0xB8, r.randrange(256))),
                                        20 + len(body), r.getrandbits(16), flags, ttl, proto, 0,
                                        src.packed, dst.packed))
            hdr[10:12] = struct.pack("!H", pkt.csum(bytes(hdr)))
            frame = dmac + smac + struct.pack("!H", ETH_IP) + bytes(hdr) + body
        return bytearray(frame[:MAX_FRAME])

    # mutations: each takes and returns a bytearray
    def m_flip(self, f):
        for _ in range(self.r.choice((1, 1, 2, 3, 8))):
            lim = len(f) if self.r.random() < 0.3 else min(len(f), 14 + 60)
            i = self.r.randrange(lim)
            f[i] ^= 1 << self.r.randrange(8)
        return f

    def m_byte(self, f):
        i = self.r.randrange(min(len(f), 80) if self.r.random() < 0.8 else len(f))
        f[i] = self.r.choice((0, 0xFF, self.r.randrange(256)))
        return f

    def m_truncate(self, f):
        v6 = be16(f, 12) == ETH_IP6
        bounds = (14, 34, 38, 42, 54) if not v6 else (14, 54, 58, 62, 74)
        if self.r.random() < 0.6:
            n = self.r.choice(bounds) + self.r.randrange(-2, 4)
        else:
            n = self.r.randrange(14, len(f) + 1)
        return f[:max(0, min(n, len(f)))]

    def m_trailer(self, f):
        n = self.r.choice((1, 2, 6, 18, self.r.randrange(64), self.r.randrange(1500)))
        return f + bytearray(self.r.getrandbits(8) for _ in range(n))

    def m_l2(self, f):
        x = self.r.random()
        if x < 0.4:
            f[12:14] = struct.pack("!H", self.r.choice((0x8100, 0x88A8, 0x0806, 0x88CC, 0x8847, ETH_IP,
                                                         ETH_IP6, 0x05DC, self.r.getrandbits(16))))
        else:
            f[0:6] = self.r.choice((b"\xff" * 6, b"\x01\x00\x5e\x00\x00\x01", b"\x33\x33\x00\x00\x00\x01",
                                    b"\x02\xca\x00\x99\x99\x99", self.lab.mac["client"], self.lab.mac["server"]))
        return f

    def m_field(self, f):
        r = self.r
        if len(f) < 54:
            return self.m_byte(f)
        if be16(f, 12) == ETH_IP6:
            x = r.randrange(6)
            if x == 0:
                real = len(f) - 54
                f[18:20] = struct.pack("!H", r.choice((0, real - 1, real + 1, real, r.getrandbits(16))) & 0xFFFF)
            elif x == 1:
                f[20] = r.choice(sorted(IPV6_EXT) + [6, 17, 58, 59, r.randrange(256)])
            elif x == 2:
                f[21] = r.choice((0, 1, 2, 255))
            elif x == 3:
                f[14] = (r.randrange(16) << 4) | (f[14] & 15)
            elif x == 4:
                f[22:38] = self.pool6[r.choice(list(self.pool6))]().packed
            else:
                f[38:54] = self.pool6[r.choice(list(self.pool6))]().packed
            return f
        x = r.randrange(9)
        if x == 0:
            real = len(f) - 14
            f[16:18] = struct.pack("!H", r.choice((0, 19, 20, real - 1, real + 1, real, r.getrandbits(16))) & 0xFFFF)
        elif x == 1:
            f[14] = (f[14] & 0xF0) | r.randrange(16)
        elif x == 2:
            f[14] = (r.randrange(16) << 4) | (f[14] & 15)
        elif x == 3:
            f[22] = r.choice((0, 1, 2, 255))
        elif x == 4:
            f[20:22] = struct.pack("!H", r.choice((0x2000, 0x0001, 0x1FFF, 0x4000, 0x8000, r.getrandbits(16))))
        elif x == 5:
            f[23] = r.randrange(256)
        elif x == 6:
            f[26:30] = self.pool4[r.choice(list(self.pool4))]().packed
        elif x == 7:
            f[30:34] = self.pool4[r.choice(list(self.pool4))]().packed
        else:
            f[15] = r.randrange(256)
        if r.random() < 0.75 and (f[14] & 15) >= 5:   # usually keep the checksum right
            hl = min((f[14] & 15) * 4, len(f) - 14)
            f[24:26] = b"\0\0"
            f[24:26] = struct.pack("!H", pkt.csum(bytes(f[14:14 + hl])))
        return f

    def frame(self):
        r = self.r
        ing = "client" if r.random() < 0.6 else "server"
        f = self.base(ing)
        muts = (self.m_flip, self.m_byte, self.m_truncate, self.m_trailer, self.m_l2,
                self.m_field, self.m_field, self.m_field)
        for _ in range(r.choice((0, 0, 1, 1, 1, 2, 2, 3, 4))):
            if len(f) < 14:
                break  # refused by the test run whatever comes next
            f = r.choice(muts)(f)
        return bytes(f[:MAX_FRAME]), ing


class NatGen(Gen):
    """Frames for the docker lab: mostly packets of the flows in conntrack's
    table (either direction, from the side they come from), the rest as
    Gen.base() makes them with the lab's addresses; then Gen's mutations."""

    def __init__(self, lab, rng):
        self.lab, self.r = lab, rng
        r = rng
        a4, a6 = lab.addr4, lab.addr6
        self.flows = [(e, d) for e in lab.gate.entries for d in (0, 1)]
        self.pool4 = {
            "lan": lambda: a4["lan"] if r.random() < 0.8 else ipaddress.IPv4Address("198.18.20.%d" % r.randrange(256)),
            "ct": lambda: r.choice(lab.containers4) if r.random() < 0.8 else
            ipaddress.IPv4Address("198.19.200.%d" % r.randrange(256)),
            "node": lambda: r.choice((a4["node"], a4["br"])),
            "martian": lambda: ipaddress.IPv4Address(r.choice((
                "0.0.0.0", "127.0.0.1", "224.0.0.1", "255.255.255.255", "198.18.20.255", "198.19.200.255"))),
            "random": lambda: ipaddress.IPv4Address(r.getrandbits(32)),
        }
        self.pool6 = {
            "lan": lambda: a6["lan"],
            "ct": lambda: r.choice(lab.containers6) if r.random() < 0.8 else
            ipaddress.IPv6Address(int(a6["br"]) & ~0xFFFF | r.getrandbits(16)),
            "node": lambda: r.choice((a6["node"], a6["br"])),
            "martian": lambda: ipaddress.IPv6Address(r.choice(("::", "::1", "fe80::1", "ff02::1", "::ffff:198.18.20.1"))),
            "random": lambda: ipaddress.IPv6Address(r.getrandbits(128)),
        }

    def side(self, addr):
        """Where a packet from ADDR arrives: br (a container) or lan."""
        nets = (ipaddress.ip_network(env("BR_NET4")), ipaddress.ip_network(env("BR_NET6")))
        return "br" if any(addr in n for n in nets if n.version == addr.version) else "lan"

    def flow_frame(self):
        r = self.r
        e, d = r.choice(self.flows)
        src, dst, sport, dport = e.tuple(d)
        src, dst = ipaddress.ip_address(src), ipaddress.ip_address(dst)
        v6 = src.version == 6
        ing = self.side(src)
        size = r.choice((0, 1, 18, 18, r.randrange(64), r.randrange(1500), r.randrange(1600)))
        flags = r.choice((0x10, 0x10, 0x18, 0x18, 0x02, 0x12, 0x11, 0x04, 0x14, r.getrandbits(8))) if e.proto == 6 else 0
        ttl = r.choice((64, 64, 64, 2, 1, 0, 255))
        csum = r.choice(("ok", "ok", "ok", None, "0xffff", "0x0001", "0x%x" % r.getrandbits(16)))
        body = pkt.l4(e.proto, size, str(src), str(dst), v6, sport, dport, flags, csum)
        smac = bytes((2, r.randrange(256), r.randrange(256), r.randrange(256), r.randrange(256), r.randrange(256)))
        if v6:
            hdr = struct.pack("!IHBB16s16s", (6 << 28) | (r.randrange(256) << 20) | r.getrandbits(20),
                              len(body), e.proto, ttl, src.packed, dst.packed)
            frame = self.lab.mac[ing] + smac + struct.pack("!H", ETH_IP6) + hdr + body
        else:
            hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, r.choice((0, 0xB8)), 20 + len(body),
                                        r.getrandbits(16), r.choice((0, 0x4000, 0x4000, 0x2000)), ttl,
                                        e.proto, 0, src.packed, dst.packed))
            hdr[10:12] = struct.pack("!H", pkt.csum(bytes(hdr)))
            frame = self.lab.mac[ing] + smac + struct.pack("!H", ETH_IP) + bytes(hdr) + body
        return bytearray(frame[:MAX_FRAME]), ing

    def addr(self, v6, ing, role):
        near, far = ("ct", "lan") if ing == "br" else ("lan", "ct")
        kind = (near if role == "src" else far) if self.r.random() < 0.6 else \
            self.r.choice(("lan", "ct", "node", "martian", "random"))
        return (self.pool6 if v6 else self.pool4)[kind]()

    def m_l2(self, f):
        if self.r.random() < 0.4:
            f[12:14] = struct.pack("!H", self.r.choice((0x8100, 0x0806, ETH_IP, ETH_IP6, self.r.getrandbits(16))))
        else:
            f[0:6] = self.r.choice((b"\xff" * 6, b"\x33\x33\x00\x00\x00\x01", b"\x02\xca\x00\x99\x99\x99",
                                    self.lab.mac["lan"], self.lab.mac["br"]))
        return f

    def frame(self):
        r = self.r
        if self.flows and r.random() < 0.75:
            f, ing = self.flow_frame()
        else:
            ing = r.choice(("lan", "br"))
            f = self.base(ing)
        muts = (self.m_flip, self.m_byte, self.m_truncate, self.m_trailer, self.m_l2,
                self.m_field, self.m_field, self.m_field)
        for _ in range(r.choice((0, 0, 0, 1, 1, 2, 3))):
            if len(f) < 14:
                break
            f = r.choice(muts)(f)
        return bytes(f[:MAX_FRAME]), ing


# --- running and checking -----------------------------------------------------------


class Fuzzer:
    def __init__(self, a):
        self.a = a
        self.reasons = tcrun.read_reasons(a.reasons)
        self.ridx = {name: i for i, name in enumerate(self.reasons)}
        self.ifaces = {}
        labcls = DockerLab if a.lab == "docker" else Lab
        for name, dev in labcls.ifnames().items():
            idx, mac = matrix.dev_info(a.netns, dev)
            self.ifaces[name] = {"ifindex": idx, "mac": mac, "slot": matrix.cfg_slot(a.pins, idx),
                                 "mode": matrix.cfg_field(a.pins, idx, "mode"),
                                 "flags": matrix.cfg_field(a.pins, idx, "flags")}
            if self.ifaces[name]["mode"] not in MODES.values() or self.ifaces[name]["mode"] == MODES["off"]:
                raise SystemExit("fuzz.py: %s is in mode %d; the model knows %s"
                                 % (dev, self.ifaces[name]["mode"], MODES))
        self.lab = labcls({k: v["ifindex"] for k, v in self.ifaces.items()},
                          {k: v["mode"] for k, v in self.ifaces.items()},
                          {k: v["flags"] for k, v in self.ifaces.items()})
        self.slots = sorted({v["slot"] for v in self.ifaces.values()} | {0})
        self.wd = tempfile.mkdtemp(prefix="tcaccel-fuzz.", dir=a.workdir)
        self.runner = tcrun.Runner(a.netns, a.prog, a.pins + "/tcaccel_stats", self.wd)
        self.violations = []

    def close(self):
        for name in os.listdir(self.wd):
            os.unlink(os.path.join(self.wd, name))
        os.rmdir(self.wd)

    def check_frame(self, f, ing, res):
        """Problems with one frame's verdict and bytes; and the model's word."""
        want = model(self.lab, f, ing)
        kind, reason, fwd = want
        if res.retval is None:
            return want, ["refused by the test run (%s), model expected it to run" % res.error]
        if kind == "redirect":
            if res.retval != tcrun.TC_ACT_REDIRECT:
                return want, ["verdict %d, model says %s out of %s" % (res.retval, reason, fwd[0])]
            if fwd[1] is None:      # NEIGH: the neighbour layer writes the MACs
                macs = (f[6:12].hex(":"), f[0:6].hex(":"))
            else:
                macs = (self.ifaces[fwd[0]]["mac"], fwd[1])
            if len(fwd) > 2:        # NAT: the tuple from conntrack's entry
                errs = pkt.check_nat(f, res.out, macs[0], macs[1], *fwd[2])
            else:
                errs = pkt.check_fwd(f, res.out, *macs)
            return want, ["redirect wrong: " + e for e in errs]
        if res.retval != tcrun.TC_ACT_UNSPEC:
            return want, ["verdict %d, model says pass (%s)" % (res.retval, reason)]
        if res.out != f:
            return want, ["bytes changed on a pass (%s)" % reason]
        return want, []

    def expected_counts(self, items):
        """{slot: (packets[], bytes[])} the model predicts for ITEMS."""
        n = len(self.reasons)
        exp = {s: ([0] * self.runner.nreasons, [0] * self.runner.nreasons) for s in self.slots}
        for f, ing, want in items:
            i = self.ridx[want[1]]
            assert i < n
            slot = self.ifaces[ing]["slot"]
            exp[slot][0][i] += 1
            exp[slot][1][i] += len(f)
        return exp

    def diff_counts(self, got, exp):
        out = []
        for s in self.slots:
            for i in range(self.runner.nreasons):
                dp, ep = got[s][0][i], exp[s][0][i]
                db, eb = got[s][1][i], exp[s][1][i]
                if dp != ep or db != eb:
                    name = self.reasons[i] if i < len(self.reasons) else "#%d" % i
                    out.append("slot %d %s: %+d pkts/%+d bytes, model %+d/%+d" % (s, name, dp, db, ep, eb))
        return out

    def run_frames(self, items, every):
        """Run ITEMS [(frame, ingress, origin)]; record violations.
        Returns (frames run, histogram of the model's reasons)."""
        frames = [(f, self.ifaces[ing]["ifindex"]) for f, ing, _ in items]
        results, segments = self.runner.run(frames, self.slots, every=every)
        wants = []
        hist = {}
        for (f, ing, org), res in zip(items, results):
            want, errs = self.check_frame(f, ing, res)
            wants.append(want)
            hist[want[1]] = hist.get(want[1], 0) + 1
            if errs:
                self.violate(f, ing, org, want, errs)
        for first, end, delta in segments:
            seg = [(items[i][0], items[i][1], wants[i]) for i in range(first, end)]
            d = self.diff_counts(delta, self.expected_counts(seg))
            if not d:
                continue
            if end - first == 1:
                # one frame, counters disagree: replay it once (another
                # packet may have moved a counter at that moment)
                f, ing, _ = seg[0]
                r2, s2 = self.runner.run([frames[first]], self.slots, every=1)
                if not self.diff_counts(s2[0][2], self.expected_counts(seg)):
                    continue
                self.violate(f, ing, items[first][2], wants[first], ["counters: " + "; ".join(d)])
                continue
            # Name the culprit(s): replay the segment frame by frame.
            self.run_frames(items[first:end], 1)
        return len(items), hist

    def violate(self, f, ing, origin, want, errs):
        key = (f, ing)
        if any(v[0] == key for v in self.violations):
            return
        self.violations.append((key, origin, want, errs))
        label = "%s %s" % (want[0], want[1]) + (" out of %s" % want[2][0] if want[2] else "")
        print("VIOLATION %s (ingress %s, %d bytes; model: %s)" % (origin or "", ing, len(f), label))
        for e in errs:
            print("    " + e)
        print("    " + f.hex())
        if self.a.corpus:
            os.makedirs(self.a.corpus, exist_ok=True)
            name = hashlib.sha1(f + ing.encode()).hexdigest()[:12] + ".hex"
            path = os.path.join(self.a.corpus, name)
            with open(path, "w") as out:
                out.write("# tcaccel fuzz reproducer (tests/lib/fuzz.py replay %s)\n" % name)
                out.write("# found: %s\n" % (origin or "replay"))
                out.write("# model: %s\n" % label)
                for e in errs:
                    out.write("# got: %s\n" % e)
                out.write("ingress %s\n" % ing)
                for i in range(0, len(f), 32):
                    out.write(f[i:i + 32].hex() + "\n")
            print("    saved %s" % path)


def read_repro(path):
    ing, hexs = "client", []
    with open(path) as fh:
        for line in fh:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("ingress "):
                ing = line.split()[1]
            else:
                hexs.append(line)
    return bytes.fromhex("".join(hexs)), ing


def case_of(path):
    """What a reproducer shows, numbers (slots, counts, lengths) aside."""
    with open(path) as fh:
        lines = [ln.strip() for ln in fh if ln.startswith(("# model:", "# got:"))]
    return "\n".join(re.sub(r"[0-9]+", "N", ln) for ln in lines)


def keep(path, name, why, corpus):
    if not re.match(r"^[a-z0-9][a-z0-9-]*$", name):
        raise SystemExit("fuzz keep: --name wants lowercase words joined by '-'")
    case = case_of(path)
    if not case:
        raise SystemExit("fuzz keep: %s has no '# model:'/'# got:' lines: not a reproducer" % path)
    for other in sorted(os.listdir(corpus)):
        if other.endswith(".hex") and case_of(os.path.join(corpus, other)) == case:
            raise SystemExit("fuzz keep: %s shows the same case (%s): not kept" % (other, case.replace("\n", "; ")))
    dest = os.path.join(corpus, name + ".hex")
    if os.path.exists(dest):
        raise SystemExit("fuzz keep: %s exists" % dest)
    with open(path) as fh, open(dest, "w") as out:
        out.write("# case: %s\n" % why)
        out.write(fh.read())
    print("fuzz keep: %s" % dest)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=("run", "replay", "keep"))
    ap.add_argument("files", nargs="*")
    ap.add_argument("--netns")
    ap.add_argument("--prog", type=int)
    ap.add_argument("--pins")
    ap.add_argument("--reasons")
    ap.add_argument("--name", help="keep: the reproducer's name in the corpus")
    ap.add_argument("--why", help="keep: what it guards against")
    ap.add_argument("-n", "--count", type=int, default=100000)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--segment", type=int, default=250, help="frames between counter snapshots")
    ap.add_argument("--corpus", help="where to save reproducers")
    ap.add_argument("--workdir", help="where the frames are written (default: the temp dir)")
    ap.add_argument("--lab", choices=("router", "docker"), default="router",
                    help="the lab and model: router (default) or docker (NAT, firewall gate)")
    a = ap.parse_intermixed_args()
    if a.cmd == "keep":
        if len(a.files) != 1 or not a.name or not a.why:
            ap.error("keep wants one FILE, --name and --why")
        return keep(a.files[0], a.name, a.why,
                    a.corpus or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus"))
    for req in ("netns", "prog", "pins", "reasons"):
        if getattr(a, req) is None:
            ap.error("--%s is required for %s" % (req, a.cmd))

    read_abi(os.path.dirname(os.path.abspath(a.reasons)))
    fz = Fuzzer(a)
    t0 = time.time()
    try:
        if a.cmd == "replay":
            paths = []
            for p in a.files:
                if os.path.isdir(p):
                    paths += sorted(os.path.join(p, x) for x in os.listdir(p) if x.endswith(".hex"))
                else:
                    paths.append(p)
            items = []
            for p in paths:
                f, ing = read_repro(p)
                items.append((f, ing, os.path.basename(p)))
            runnable = [it for it in items if not refused(it[0])]
            n, hist = fz.run_frames(runnable, 1) if runnable else (0, {})
            print("fuzz replay: %d reproducers, %d run, %d violations" % (len(items), n, len(fz.violations)))
            return 1 if fz.violations else 0

        seed = a.seed if a.seed is not None else random.SystemRandom().randrange(1 << 32)
        gen = (NatGen if a.lab == "docker" else Gen)(fz.lab, random.Random(seed))
        print("fuzz: %d frames, seed %d (replay: --seed %d -n %d)" % (a.count, seed, seed, a.count))
        total, skipped, hist = 0, 0, {}
        block = 5000
        made = 0
        while made < a.count:
            items = []
            while len(items) < block and made < a.count:
                f, ing = gen.frame()
                if refused(f):
                    skipped += 1
                else:
                    items.append((f, ing, "seed %d frame #%d" % (seed, made)))
                made += 1
            n, h = fz.run_frames(items, a.segment)
            total += n
            for k, v in h.items():
                hist[k] = hist.get(k, 0) + v
        dt = time.time() - t0
        print("fuzz: %d frames generated, %d run in the kernel (%d not runnable by the test run), "
              "%d bpftool runs, %.0f s" % (made, total, skipped, fz.runner.invocations, dt))
        print("fuzz: outcomes " + ", ".join("%s %d" % kv for kv in sorted(hist.items(), key=lambda kv: -kv[1])))
        print("fuzz: %d violations" % len(fz.violations))
        return 1 if fz.violations else 0
    finally:
        fz.close()


if __name__ == "__main__":
    sys.exit(main())
