#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""promcheck - a strict checker for the Prometheus text exposition format
0.0.4, as node_exporter's textfile collector reads it, plus the lint rules
of `promtool check metrics`.  (Debian's promtool comes only with the whole
prometheus server package: ~100 MB and a daemon, so the tests use this.)

Usage: promcheck.py [FILE]        (default: stdin)
       promcheck.py --json [FILE] the samples as JSON after checking:
                                  [{"name", "labels": {...}, "value"}]

Exit 0 and nothing on stderr when the text is valid; otherwise one line
per problem, "line N: what", and exit 1.

Grammar (https://prometheus.io/docs/instrumenting/exposition_formats/):
  # HELP name docstring          (\\\\ and \\n escapes)
  # TYPE name counter|gauge|histogram|summary|untyped
  # anything else                (a comment)
  name{label="value",...} value [timestamp]
Checked on top: TYPE at most once per family and before its samples,
HELP at most once, a family's lines contiguous, no duplicate series, no
duplicate label in a sample, label names not reserved (__), values are Go
floats, counters >= 0 and (lint) named *_total, every family has HELP
(lint), no timestamps (the textfile collector refuses them), final
newline.
"""
import json
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
RE_HELP = re.compile(r"^# HELP (" + NAME + r") (.*)$")
RE_TYPE = re.compile(r"^# TYPE (" + NAME + r") (counter|gauge|histogram|summary|untyped)$")
RE_SAMPLE = re.compile(r"^(" + NAME + r")(\{.*\})? ([^ ]+)( [^ ]+)?$")
RE_FLOAT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$|^[+-]?Inf$|^NaN$")
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}


def parse_labels(text, err):
    """'{a="x",b="y"}' -> dict; err(msg) on anything malformed."""
    labels = {}
    i, n = 1, len(text) - 1  # inside the braces
    while i < n:
        m = re.compile(LABEL).match(text, i)
        if not m:
            return err("bad label name at '%s'" % text[i:])
        name = m.group(0)
        i = m.end()
        if text[i:i + 2] != '="':
            return err("expected =\" after label %s" % name)
        i += 2
        val = []
        while True:
            if i >= n:
                return err("unterminated value of label %s" % name)
            c = text[i]
            if c == "\\":
                nxt = text[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    return err("bad escape \\%s in label %s" % (nxt, name))
                val.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                return err("raw newline in label %s" % name)
            else:
                val.append(c)
                i += 1
        if name.startswith("__"):
            return err("label name %s is reserved" % name)
        if name in labels:
            return err("label %s twice in one sample" % name)
        labels[name] = "".join(val)
        if i < n:
            if text[i] != ",":
                return err("expected , between labels, got '%s'" % text[i])
            i += 1
    return labels


def family_of(name, types):
    for t in ("histogram", "summary"):
        for s in SUFFIXES[t]:
            if name.endswith(s) and types.get(name[: -len(s)]) == t:
                return name[: -len(s)]
    return name


def check(text):
    problems, samples = [], []
    types, helps, seen_series, done = {}, {}, set(), set()
    current = None

    lines = text.split("\n")
    if text and not text.endswith("\n"):
        problems.append("line %d: no newline at the end" % len(lines))
    if text.endswith("\n"):
        lines = lines[:-1]

    for no, line in enumerate(lines, 1):
        def err(msg, no=no):
            problems.append("line %d: %s" % (no, msg))

        def enter(fam):
            nonlocal current
            if fam != current:
                if fam in done:
                    err("family %s continues after other families (lines must be contiguous)" % fam)
                if current is not None:
                    done.add(current)
                current = fam

        if line == "":
            err("empty line")
            continue
        if line.startswith("#"):
            if line.startswith("# HELP "):
                m = RE_HELP.match(line)
                if not m:
                    err("malformed HELP")
                    continue
                if re.search(r"\\[^\\n]", m.group(2)) or m.group(2).endswith("\\"):
                    err("bad escape in HELP text")
                if m.group(1) in helps:
                    err("second HELP for %s" % m.group(1))
                if not m.group(2).strip():
                    err("empty HELP for %s" % m.group(1))
                helps[m.group(1)] = m.group(2)
                enter(m.group(1))
            elif line.startswith("# TYPE "):
                m = RE_TYPE.match(line)
                if not m:
                    err("malformed TYPE")
                    continue
                if m.group(1) in types:
                    err("second TYPE for %s" % m.group(1))
                if any(s["family"] == m.group(1) for s in samples):
                    err("TYPE for %s after its samples" % m.group(1))
                types[m.group(1)] = m.group(2)
                enter(m.group(1))
            continue

        m = RE_SAMPLE.match(line)
        if not m:
            err("not a sample: %r" % line)
            continue
        name, ltext, value, ts = m.groups()
        labels = {}
        if ltext:
            labels = parse_labels(ltext, err)
            if labels is None:
                continue
        if not RE_FLOAT.match(value):
            err("value %r is not a float" % value)
            continue
        if ts is not None:
            err("timestamp present (the textfile collector refuses them)")
        fam = family_of(name, types)
        enter(fam)
        key = (name, tuple(sorted(labels.items())))
        if key in seen_series:
            err("duplicate series %s%s" % (name, ltext or ""))
        seen_series.add(key)
        typ = types.get(fam, "untyped")
        v = float(value)
        if typ == "counter":
            if v < 0 or value == "NaN":
                err("counter %s is %s" % (name, value))
            if not name.endswith("_total"):
                err("lint: counter %s should have a _total suffix" % name)
        samples.append({"family": fam, "name": name, "labels": labels, "value": v})

    for fam in sorted({s["family"] for s in samples}):
        if fam not in helps:
            problems.append("lint: no HELP for %s" % fam)
        if fam not in types:
            problems.append("lint: no TYPE for %s" % fam)
    return problems, samples


def main(argv):
    as_json = False
    if argv[:1] == ["--json"]:
        as_json, argv = True, argv[1:]
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    text = open(argv[0]).read() if argv else sys.stdin.read()
    problems, samples = check(text)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    if as_json:
        json.dump([{k: s[k] for k in ("name", "labels", "value")} for s in samples], sys.stdout)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
