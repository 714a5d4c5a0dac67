#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""wirediff.py - an oracle that owes nothing to the fuzzer's model: the same
frames sent on the wire through the router lab with and without tcaccel must
give the same outcome - what the client and the server receive, byte for
byte, forwarded frames and the router's ICMP errors alike.

  wirediff.py gen OUT -n N [--seed S]   N frames from the fuzzer's generator
                                        (tests/lib/fuzz.py Gen) into OUT/,
                                        split by the side they are sent from
  wirediff.py capture IFACE OUT         what arrives on IFACE (not what it
                                        sends), until SIGTERM, into OUT
  wirediff.py send IFACE FILE           every frame of FILE out of IFACE
                                        (AF_PACKET: nothing in the sender's
                                        stack checks or fixes them)
  wirediff.py count FILE                frames in a capture
  wirediff.py burst                     how many "unreachable" errors the
                                        router sends one source at once
                                        (error_burst below)
  wirediff.py compare A B               the captures of two runs (A/client,
                                        A/server vs B/...): exit 1 and the
                                        differences when they differ

Frames are stored length-prefixed (4 bytes, network order).  Compared:
IPv4 and IPv6 frames, except what the kernel sends on its own schedule or
from state an earlier run changed: neighbour discovery and MLD, ICMP
redirects (rate-limited per peer), "fragment reassembly time exceeded" (a
host sends it 30 s after an incomplete datagram's first fragment: in
whichever run's capture that falls), and the IPv4 identification, which a
host (the router, or the client or server answering a frame) draws per
destination - every IPv4 header is compared with its identification
zeroed and its checksum replaced by whether it was right, and so is the
IPv4 header an ICMP error carries (with the ICMP checksum that covers it).  The router's ICMP error
rate limits are to be off (the test sets them), so every error is sent;
the one limit no netns but the first can turn off, ip_error()'s per
source, is kept out of play: `gen` gives no source more frames that may
meet it than its bucket holds, and the test waits for the bucket to
refill before each run.
Run `gen` and the rest where the lab's names and addresses are in the
environment (`netns/router env`), as for fuzz.py.
"""
import collections
import ipaddress
import os
import random
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzz  # noqa: E402
from traffic import big_rcvbuf  # noqa: E402

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
MAX_WIRE = 1514   # a frame longer than the 1500-byte MTU cannot be sent


def write_frames(path, frames):
    with open(path, "wb") as f:
        for fr in frames:
            f.write(struct.pack("!I", len(fr)) + fr)


def read_frames(path):
    out = []
    with open(path, "rb") as f:
        data = f.read()
    i = 0
    while i + 4 <= len(data):
        n = struct.unpack("!I", data[i:i + 4])[0]
        out.append(data[i + 4:i + 4 + n])
        i += 4 + n
    return out


def error_burst():
    """How many "unreachable" errors ip_error() sends one source at once
    (no route, an unreachable or a prohibit route): a bucket of
    route/error_burst jiffies that each error costs route/error_cost of
    and that refills one jiffy a jiffy (5 errors, refilled one a second:
    route.c's defaults, 5 * HZ and HZ).  These two sysctls exist in the
    initial netns only, so the lab cannot turn this limit off as it does
    icmp_ratelimit, and tests/run's own netns cannot even read them: the
    defaults are assumed there."""
    try:
        with open("/proc/sys/net/ipv4/route/error_burst") as b, \
                open("/proc/sys/net/ipv4/route/error_cost") as c:
            return max(1, int(b.read()) // max(1, int(c.read())))
    except (OSError, ValueError):
        return 5


def errors_for(lab, f):
    """The source whose bucket an IPv4 frame F may draw on if the router
    routes it (see error_burst), or None: any frame whose destination the
    router has no route, or an unreachable or prohibit route, for - more
    than ip_error() sees (a frame the kernel drops before its route lookup
    is counted too), never less."""
    if len(f) < 34 or f[12:14] != b"\x08\x00":
        return None
    if lab.route4(ipaddress.IPv4Address(f[30:34]))[0] in ("none", "unreachable", "prohibit"):
        return f[26:30]
    return None


def cmd_gen(out, n, seed):
    lab = fuzz.Lab({"client": 0, "server": 0}, {"client": 4, "server": 1})
    gen = fuzz.Gen(lab, random.Random(seed))
    sides = {"client": [], "server": []}
    # No source gets more such frames than its bucket holds: sent after
    # the bucket has refilled (the test waits), every one of them gets
    # its error in every run, however long the run takes.
    burst, drawn = error_burst(), collections.Counter()
    while sum(len(v) for v in sides.values()) < n:
        f, ing = gen.frame()
        if 14 <= len(f) <= MAX_WIRE:
            src = errors_for(lab, f)
            if src is not None:
                if drawn[src] >= burst:
                    continue
                drawn[src] += 1
            sides[ing].append(f)
    os.makedirs(out, exist_ok=True)
    for side, frames in sides.items():
        write_frames(os.path.join(out, "send." + side), frames)
    print("wirediff: %d frames (seed %d): %d from the client, %d from the server;"
          " at most %d per source may meet ip_error()'s limit"
          % (n, seed, len(sides["client"]), len(sides["server"]), burst))
    return 0


class Stop(Exception):
    pass


def cmd_capture(iface, out):
    def stop(*_):
        raise Stop()
    signal.signal(signal.SIGTERM, stop)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    big_rcvbuf(s, 16 << 20)
    s.bind((iface, 0))
    frames = []
    with open(out + ".ready", "w"):
        pass
    try:
        while True:
            data, addr = s.recvfrom(65536)
            if addr[2] != PACKET_OUTGOING:
                frames.append(data)
    except Stop:
        pass
    write_frames(out, frames)
    return 0


def cmd_send(iface, path):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    sent = 0
    for i, fr in enumerate(read_frames(path)):
        try:
            s.send(fr)
            sent += 1
        except OSError:
            pass    # refused by this side's kernel: in every run alike
        if i % 200 == 199:
            time.sleep(0.02)   # paced: no queue anywhere may overflow
    print("wirediff: sent %d frames from %s" % (sent, iface))
    return 0


def normal(fr):
    """The frame as compared, or None when it is left out."""
    if len(fr) < 14:
        return None
    et = struct.unpack("!H", fr[12:14])[0]
    if et == 0x0800 and len(fr) >= 34:
        hl = (fr[14] & 15) * 4
        if fr[23] == 1 and len(fr) > 15 + hl and (fr[14 + hl] == 5 or fr[14 + hl:16 + hl] == b"\x0b\x01"):
            return None   # redirect; reassembly time exceeded
        ok = hl >= 20 and len(fr) >= 14 + hl and fuzz.pkt.csum(fr[14:14 + hl]) == 0
        fr = bytearray(fr)
        fr[18:20], fr[24:26] = b"\0\0", b"\0\0"
        i = 14 + hl   # an ICMP error: the header it quotes, as above
        if fr[23] == 1 and len(fr) >= i + 8 + 20 and fr[i] in (3, 11, 12) and fr[i + 8] >> 4 == 4:
            ok = ok and fuzz.pkt.csum(bytes(fr[i:])) == 0
            fr[i + 2:i + 4] = b"\0\0"
            fr[i + 12:i + 14], fr[i + 18:i + 20] = b"\0\0", b"\0\0"
        return bytes(fr) + (b"+" if ok else b"-")
    if et == 0x86DD and len(fr) >= 54:
        if fr[20] == 58 and len(fr) > 55 and (fr[54] in (130, 131, 132, 133, 134, 135, 136, 137, 143)
                                               or fr[54:56] == b"\x03\x01"):
            return None   # MLD, router/neighbour discovery, redirects; reassembly time exceeded
        if fr[20] == 0:   # hop-by-hop: MLD reports carry it
            return None
        return fr
    return None


def cmd_count(path):
    print(len(read_frames(path)))
    return 0


def cmd_compare(a, b):
    bad = 0
    for side in ("client", "server"):
        ca = collections.Counter(x for x in map(normal, read_frames(os.path.join(a, side))) if x is not None)
        cb = collections.Counter(x for x in map(normal, read_frames(os.path.join(b, side))) if x is not None)
        only_a, only_b = ca - cb, cb - ca
        print("wirediff: %s received %d frames in %s, %d in %s; %d only in %s, %d only in %s"
              % (side, sum(ca.values()), a, sum(cb.values()), b, sum(only_a.values()), a,
                 sum(only_b.values()), b))
        for tag, diff in ((a, only_a), (b, only_b)):
            for fr, n in list(diff.items())[:5]:
                print("  only in %s (x%d): %s" % (tag, n, fr.hex()))
        bad += sum(only_a.values()) + sum(only_b.values())
    return 1 if bad else 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "gen":
        n, seed = 2000, random.SystemRandom().randrange(1 << 32)
        rest = argv[3:]
        while rest:
            if rest[0] == "-n":
                n = int(rest[1])
            elif rest[0] == "--seed":
                seed = int(rest[1])
            else:
                break
            rest = rest[2:]
        return cmd_gen(argv[2], n, seed)
    if len(argv) == 4 and argv[1] == "capture":
        return cmd_capture(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "send":
        return cmd_send(argv[2], argv[3])
    if len(argv) == 2 and argv[1] == "burst":
        print(error_burst())
        return 0
    if len(argv) == 3 and argv[1] == "count":
        return cmd_count(argv[2])
    if len(argv) == 4 and argv[1] == "compare":
        return cmd_compare(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
