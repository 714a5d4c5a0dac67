#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""matrix.py - run a table of crafted frames through the attached program.

  matrix.py --netns NS --prog ID --pins DIR --reasons FILE
            --iface NAME=DEV [--iface ...] [--only CAT[,CAT]] TABLE

TABLE (tests/matrix.txt) has one case per line:

  CATEGORY  INGRESS  EXPECT  pkt.py arguments...

INGRESS names an --iface (the frame "arrives" there: ctx ifindex); $VARS
are taken from the environment (the lab's names and addresses).  EXPECT is

  REASON          pass: verdict TC_ACT_UNSPEC, bytes unchanged, REASON +1
  REDIRECT>NAME   forward out of --iface NAME: verdict TC_ACT_REDIRECT, MACs
                  from the FIB (the egress device's MAC, its neighbour's
                  MAC from --neigh NAME=MAC), TTL/hop limit - 1, IPv4 header
                  checksum valid, nothing else changed; REDIRECT +1
  REFUSED         BPF_PROG_TEST_RUN itself refuses the frame (EINVAL): the
                  program never sees it (the wire tests cover those)
  NAT>NAME        (with --conntrack) NATed and forwarded out of --iface NAME:
                  TC_ACT_REDIRECT, the addresses and ports conntrack's own
                  tuples give (tests/lib/ctmodel.py: the other direction's
                  tuple, inverted), checksums adjusted (pkt.py check_nat),
                  MACs and TTL as for REDIRECT; NAT_REDIRECT +1

and, for every case, no other counter of any slot moves.  The checks are
tests/lib/pkt.py's, not the program's.  All cases run in one bpftool
process (tests/lib/tcrun.py) with a counter snapshot around each frame.
Prints one TAP-like line per case; exits 1 if any case failed.
"""
import argparse
import ipaddress
import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctmodel  # noqa: E402
import pkt  # noqa: E402
import tcrun  # noqa: E402


def in_ns(ns, argv):
    return subprocess.run(["nsenter", "--net=/run/netns/" + ns, "--"] + argv,
                          check=True, capture_output=True).stdout


def dev_info(ns, dev):
    """(ifindex, MAC) of DEV in NS."""
    j = json.loads(in_ns(ns, ["ip", "-j", "link", "show", "dev", dev]))[0]
    return j["ifindex"], j.get("address", "00:00:00:00:00:00")


# struct tcaccel_cfg (bpf/include/maps.h): field -> byte offset, for
# bpftool builds that print no BTF-formatted value
CFG_OFFSET = {"enabled": 0, "mode": 4, "debug": 8, "slot": 12, "flags": 16}


def cfg_field(pins, ifindex, field):
    """One __u32 field of IFINDEX's entry in the cfg map (0: no config)."""
    key = ["%02x" % b for b in ifindex.to_bytes(4, "little")]
    r = subprocess.run(["bpftool", "-j", "map", "lookup", "pinned", pins + "/tcaccel_cfg", "key", "hex"] + key,
                       capture_output=True)
    if r.returncode != 0:
        return 0
    j = json.loads(r.stdout)
    if "formatted" in j:
        return j["formatted"]["value"][field]
    off = CFG_OFFSET[field]
    return int.from_bytes(bytes(int(x, 16) for x in j["value"][off:off + 4]), "little")


def cfg_slot(pins, ifindex):
    """The stats slot of IFINDEX in the cfg map (0: no config)."""
    return cfg_field(pins, ifindex, "slot")


def load_table(path, only):
    cases = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            expanded = os.path.expandvars(line)
            if "$" in expanded:
                raise SystemExit("%s:%d: unset variable in: %s" % (path, n, line))
            words = shlex.split(expanded)
            if len(words) < 4:
                raise SystemExit("%s:%d: want CATEGORY INGRESS EXPECT ARGS..." % (path, n))
            cat, ingress, expect, args = words[0], words[1], words[2], words[3:]
            if only and cat not in only:
                continue
            cases.append({"line": n, "cat": cat, "in": ingress, "expect": expect, "args": args,
                          "frame": pkt.build(args)})
    return cases


def frame_tuple(frame):
    """(proto, (src, dst, sport, dport)) of an untagged IPv4/IPv6 TCP/UDP frame."""
    if frame[12:14] == b"\x86\xdd":
        src, dst = (str(ipaddress.IPv6Address(frame[22:38])), str(ipaddress.IPv6Address(frame[38:54])))
        proto, l4 = frame[20], 54
    else:
        src, dst = socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34])
        proto, l4 = frame[23], 14 + (frame[14] & 0xF) * 4
    sport, dport = int.from_bytes(frame[l4:l4 + 2], "big"), int.from_bytes(frame[l4 + 2:l4 + 4], "big")
    return proto, (src, dst, sport, dport)


def check(case, res, deltas, ifaces, neigh, reasons, table=None):
    """Problems with one case's outcome (empty: as expected)."""
    errs = []
    frame, expect = case["frame"], case["expect"]
    want_counts = {}
    if expect.startswith("NAT>"):
        eg = expect.split(">", 1)[1]
        proto, t = frame_tuple(frame)
        hit = table.find(proto, t) if table else None
        if hit is None:
            raise SystemExit("line %d: no conntrack entry for %d %s (set the flow up first)"
                             % (case["line"], proto, t))
        entry, direction = hit
        if res.retval != tcrun.TC_ACT_REDIRECT:
            errs.append("verdict %s, want %d (TC_ACT_REDIRECT)" % (res.retval, tcrun.TC_ACT_REDIRECT))
        else:
            errs += pkt.check_nat(frame, res.out, ifaces[eg]["mac"], neigh[eg], *entry.target(direction))
        want_counts = {"NAT_REDIRECT": 1}
    elif expect == "REFUSED":
        if res.retval is not None:
            errs.append("test run accepted it (verdict %s), expected EINVAL" % res.retval)
    elif expect.startswith("REDIRECT>"):
        eg = expect.split(">", 1)[1]
        if res.retval != tcrun.TC_ACT_REDIRECT:
            errs.append("verdict %s, want %d (TC_ACT_REDIRECT)" % (res.retval, tcrun.TC_ACT_REDIRECT))
        else:
            errs += pkt.check_fwd(frame, res.out, ifaces[eg]["mac"], neigh[eg])
        want_counts = {"REDIRECT": 1}
    else:
        if expect not in reasons:
            raise SystemExit("line %d: unknown reason %s" % (case["line"], expect))
        if res.retval != tcrun.TC_ACT_UNSPEC:
            errs.append("verdict %s, want %d (TC_ACT_UNSPEC)" % (res.retval, tcrun.TC_ACT_UNSPEC))
        elif res.out != frame:
            errs.append("bytes changed on a pass")
        want_counts = {expect: 1}
    slot = ifaces[case["in"]]["slot"]
    moved = []
    for s, (pk, by) in deltas.items():
        for i, d in enumerate(pk):
            want = want_counts.get(reasons[i], 0) if s == slot and i < len(reasons) else 0
            if d != want:
                moved.append("%s%+d%s" % (reasons[i] if i < len(reasons) else "#%d" % i, d,
                                          "" if s == slot else " (slot %d)" % s))
            elif d and by[i] != len(frame):
                moved.append("%s bytes %+d, want %+d" % (reasons[i], by[i], len(frame)))
    if moved:
        errs.append("counters: " + ", ".join(moved) +
                    (" (want %s +1)" % next(iter(want_counts)) if want_counts else " (want none)"))
    return errs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--netns", required=True)
    ap.add_argument("--prog", required=True, type=int)
    ap.add_argument("--pins", required=True, help="the netns's tc/globals pin directory")
    ap.add_argument("--reasons", required=True)
    ap.add_argument("--iface", action="append", default=[], help="NAME=DEV")
    ap.add_argument("--neigh", action="append", default=[], help="NAME=MAC of the next hop behind NAME")
    ap.add_argument("--only", default="")
    ap.add_argument("--conntrack", action="store_true",
                    help="read conntrack's table (NAT> cases)")
    ap.add_argument("table")
    a = ap.parse_args()

    reasons = tcrun.read_reasons(a.reasons)
    ifaces = {}
    for spec in a.iface:
        name, dev = spec.split("=", 1)
        idx, mac = dev_info(a.netns, dev)
        ifaces[name] = {"dev": dev, "ifindex": idx, "mac": mac, "slot": cfg_slot(a.pins, idx)}
    neigh = dict(spec.split("=", 1) for spec in a.neigh)
    only = set(filter(None, a.only.split(",")))
    cases = load_table(a.table, only)
    if not cases:
        raise SystemExit("matrix: no cases selected")
    slots = sorted({i["slot"] for i in ifaces.values()} | {0})
    table = ctmodel.Table(a.netns) if a.conntrack else None

    with tempfile.TemporaryDirectory(prefix="tcaccel-matrix.") as wd:
        runner = tcrun.Runner(a.netns, a.prog, a.pins + "/tcaccel_stats", wd)
        frames = [(c["frame"], ifaces[c["in"]]["ifindex"]) for c in cases]
        results, segments = runner.run(frames, slots, every=1)
        deltas = {seg[0]: seg[2] for seg in segments}
        failed = 0
        for n, c in enumerate(cases, 1):
            i = n - 1
            errs = check(c, results[i], deltas[i], ifaces, neigh, reasons, table)
            note = ""
            if errs and all(e.startswith("counters:") for e in errs):
                # Verdict and bytes are right: was it another packet moving
                # a counter at the same moment?  One retry tells.
                r2, s2 = runner.run([frames[i]], slots, every=1)
                if not check(c, r2[0], s2[0][2], ifaces, neigh, reasons, table):
                    errs, note = [], " # retried: other traffic moved a counter"
            label = "%s: [%s] %s -> %s" % (c["cat"], c["in"], " ".join(c["args"]), c["expect"])
            if errs:
                failed += 1
                print("not ok %d %s (%s:%d)" % (n, label, os.path.basename(a.table), c["line"]))
                for e in errs:
                    print("#   " + e)
            else:
                print("ok %d %s%s" % (n, label, note))
        print("matrix: %d cases, %d failed, %d bpftool runs" % (len(cases), failed, runner.invocations))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
