#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""ctmodel.py - conntrack's table, as the test models see it (standard library).

For tests/lib/matrix.py and tests/lib/fuzz.py: what a NATed packet must look
like once forwarded is decided by conntrack's own tuples, read here from
`conntrack -L -o xml` in the lab's namespace - never from the program.

  Table(netns)              every TCP/UDP entry, both families
  table.find(proto, t)      (entry, direction) whose tuple is T = (src, dst,
                            sport, dport) addresses as strings, or None
  entry.target(direction)   the tuple a packet of that direction carries once
                            nf_nat rewrote it: the other direction's tuple,
                            inverted (nf_nat_manip_pkt())
  entry.nat                 the reply tuple is not the original one inverted
  entry.established         what the gate calls established: a reply seen,
                            TCP also ASSURED and ESTABLISHED

Run as a script it prints the table: ctmodel.py NETNS.
"""
import ipaddress
import subprocess
import sys
import xml.etree.ElementTree as ET


def norm(addr):
    return str(ipaddress.ip_address(addr))


class Entry:
    def __init__(self, proto, orig, reply, state, assured, unreplied, zone):
        self.proto, self.orig, self.reply = proto, orig, reply
        self.state, self.assured, self.unreplied, self.zone = state, assured, unreplied, zone

    @staticmethod
    def invert(t):
        return (t[1], t[0], t[3], t[2])

    @property
    def nat(self):
        return self.reply != self.invert(self.orig)

    @property
    def established(self):
        if self.unreplied:
            return False
        if self.proto == 6:
            return self.assured and self.state == "ESTABLISHED"
        return True

    def tuple(self, direction):
        return self.orig if direction == 0 else self.reply

    def target(self, direction):
        return self.invert(self.reply if direction == 0 else self.orig)

    def __repr__(self):
        return "%d %s -> %s%s" % (self.proto, self.orig, self.reply, " NAT" if self.nat else "")


def _tuple(meta):
    l3, l4 = meta.find("layer3"), meta.find("layer4")
    return (norm(l3.findtext("src")), norm(l3.findtext("dst")),
            int(l4.findtext("sport")), int(l4.findtext("dport")))


def parse(xml_text):
    entries = []
    if not xml_text.strip():
        return entries
    root = ET.fromstring(xml_text)
    for flow in root.iter("flow"):
        metas = {m.get("direction"): m for m in flow.findall("meta")}
        o = metas.get("original")
        if o is None or o.find("layer4") is None:
            continue
        proto = int(o.find("layer4").get("protonum"))
        if proto not in (6, 17):
            continue
        ind = metas.get("independent")
        state = ind.findtext("state") if ind is not None else None
        flags = {c.tag for c in ind} if ind is not None else set()
        zone = int(ind.findtext("zone") or 0) if ind is not None else 0
        entries.append(Entry(proto, _tuple(o), _tuple(metas["reply"]), state,
                             "assured" in flags, "unreplied" in flags, zone))
    return entries


class Table:
    def __init__(self, netns=None, entries=None):
        if entries is None:
            entries = []
            for fam in ("ipv4", "ipv6"):
                cmd = ["conntrack", "-L", "-f", fam, "-o", "xml"]
                if netns:
                    cmd = ["nsenter", "--net=/run/netns/" + netns, "--"] + cmd
                out = subprocess.run(cmd, capture_output=True, text=True).stdout
                entries += parse(out)
        self.entries = entries
        self.index = {}
        for e in entries:
            self.index[(e.proto,) + e.orig] = (e, 0)
            self.index.setdefault((e.proto,) + e.reply, (e, 1))

    def find(self, proto, t):
        return self.index.get((proto, norm(t[0]), norm(t[1]), t[2], t[3]))


if __name__ == "__main__":
    for e in Table(sys.argv[1] if len(sys.argv) > 1 else None).entries:
        print(e, e.state or "", "assured" if e.assured else "")
