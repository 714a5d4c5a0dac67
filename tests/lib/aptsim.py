#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""aptsim.py - a dpkg status file for a fresh, minimal Debian.

Usage: aptsim.py minbase OUT

Writes to OUT the entries of this machine's dpkg status for the packages a
minimal Debian (debootstrap --variant=minbase) has: every Essential and
Priority: required package, plus whatever they depend on (Depends and
Pre-Depends, first installed alternative, virtual packages through
Provides), recursively.  `apt-get -s -o Dir::State::status=OUT install
./pkg.deb` then says what apt would pull onto such a machine.
"""

import re
import sys


def paragraphs(path):
    """The status file's entries, as (fields, text) of installed packages."""
    with open(path, encoding="utf-8") as f:
        for text in f.read().split("\n\n"):
            fields = {}
            key = None
            for line in text.splitlines():
                if line[:1] in (" ", "\t") and key:
                    fields[key] += "\n" + line
                elif ":" in line:
                    key, _, val = line.partition(":")
                    fields[key] = val.strip()
            if "Package" in fields and "install ok installed" in fields.get("Status", ""):
                yield fields, text.strip()


def names(relation):
    """Alternatives of every clause of a Depends-like field: [[name, ...]]."""
    out = []
    for clause in relation.split(","):
        alts = []
        for alt in clause.split("|"):
            m = re.match(r"\s*([a-z0-9][a-z0-9+.-]*)", alt)
            if m:
                alts.append(m.group(1))
        if alts:
            out.append(alts)
    return out


def minbase(status, out):
    pkgs = {}
    provides = {}
    for fields, text in paragraphs(status):
        name = fields["Package"]
        pkgs[name] = (fields, text)
        for alts in names(fields.get("Provides", "")):
            provides.setdefault(alts[0], []).append(name)
    todo = [n for n, (f, _) in pkgs.items()
            if f.get("Essential") == "yes" or f.get("Priority") == "required"]
    keep = set()
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep.add(name)
        fields = pkgs[name][0]
        rel = ", ".join(fields.get(k, "") for k in ("Pre-Depends", "Depends"))
        for alts in names(rel):
            for alt in alts:
                hit = [alt] if alt in pkgs else provides.get(alt, [])
                if hit:
                    todo.append(hit[0])
                    break
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n\n".join(pkgs[n][1] for n in sorted(keep)) + "\n")
    print(f"{len(keep)} of {len(pkgs)} installed packages")


def main(argv):
    if len(argv) == 3 and argv[1] == "minbase":
        minbase("/var/lib/dpkg/status", argv[2])
        return 0
    print(__doc__, file=sys.stderr)
    return 0 if len(argv) > 1 and argv[1] in ("-h", "--help") else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
