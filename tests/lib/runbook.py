#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""runbook - turn a runbook (docs/runbooks/*.md) into the bash script the
tests run, enforcing the conventions of docs/runbooks/README.md.

Usage: runbook.py script RUNBOOK.md [--hooks FILE] [--var NAME=VALUE]...
       runbook.py blocks RUNBOOK.md      one line per block: LINE KIND HEADING

Blocks (fenced, at the start of a line):
  ```sh               run, in order, in one bash with set -Eeuo pipefail
  ```sh vars          the reader's settings: replaced by the --var values;
                      a name without a --var is an error
  ```sh fails         one command that must fail
  ```sh norun WHY     not run; only systemctl, journalctl and git allowed
  ```console, ```text ... example output, ignored
Any other ```sh tag, a norun without a reason, or an unclosed fence is an
error.

Hooks: the --hooks file may define hook_setup, and hook_before_SLUG /
hook_after_SLUG for a heading (SLUG: the heading in lower case, every run
of other characters than a-z0-9 as one "_").  They run in the same shell,
around the blocks of that heading; a hook for a heading the runbook does not
have is an error (so renaming a heading cannot silently skip its setup).
"""
import re
import shlex
import sys

NORUN_ALLOWED = re.compile(r"\b(systemctl|journalctl|git)\b")
VAR_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=")


def die(msg):
    print("runbook: " + msg, file=sys.stderr)
    sys.exit(1)


def slug(heading):
    return re.sub(r"[^a-z0-9]+", "_", heading.lower()).strip("_")


def parse(path):
    """[(kind, line, heading, text, reason)] of every block; kind is
    run/vars/fails/norun/example.  Also the list of headings."""
    blocks, headings = [], []
    heading = ""
    lines = open(path).read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^(#{1,6})\s+(.*)$", line)
        if m:
            heading = m.group(2).strip()
            headings.append(heading)
            i += 1
            continue
        if not line.startswith("```"):
            i += 1
            continue
        info = line[3:].strip().split(None, 2)
        start = i + 1
        j = start
        while j < len(lines) and lines[j].rstrip() != "```":
            j += 1
        if j >= len(lines):
            die("%s:%d: fence not closed" % (path, i + 1))
        text = "\n".join(lines[start:j])
        lang = info[0] if info else ""
        tag = info[1] if len(info) > 1 else ""
        reason = info[2] if len(info) > 2 else ""
        if lang in ("sh", "bash", "shell"):
            if lang != "sh":
                die("%s:%d: write ```sh, not ```%s" % (path, i + 1, lang))
            kind = {"": "run", "vars": "vars", "fails": "fails", "norun": "norun"}.get(tag)
            if kind is None:
                die("%s:%d: unknown block tag '%s' (vars, fails or norun)" % (path, i + 1, tag))
            if kind == "norun" and not reason:
                die("%s:%d: a norun block must say why" % (path, i + 1))
            if kind != "norun" and reason:
                die("%s:%d: only norun blocks take a reason" % (path, i + 1))
        elif lang in ("console", "text", ""):
            kind = "example"
        else:
            die("%s:%d: unknown block language '%s' (sh, console or text)" % (path, i + 1, lang))
        blocks.append((kind, i + 1, heading, text, reason))
        i = j + 1
    return blocks, headings


def check_norun(path, line, text):
    for n, cmd in enumerate(text.split("\n")):
        body = cmd.split("#", 1)[0].strip()
        if body and not NORUN_ALLOWED.search(body):
            die("%s:%d: norun blocks may only hold systemctl, journalctl or git: '%s'"
                % (path, line + 1 + n, cmd))


def script(path, hooks, given):
    blocks, headings = parse(path)
    slugs = [slug(h) for h in headings]
    out = [
        "set -Eeuo pipefail",
        "_rb_line=0",
        "trap 'echo \"runbook: %s: the block at line $_rb_line failed\" >&2' ERR" % path,
        "_rb_slugs=(%s)" % " ".join(shlex.quote(s) for s in slugs),
    ]
    if hooks:
        out.append("source %s" % shlex.quote(hooks))
    # Hooks for headings that do not exist are errors.
    out.append("""for _rb_f in $(declare -F | awk '$3 ~ /^hook_(before|after)_/ { print $3 }'); do
	_rb_s=${_rb_f#hook_before_}; _rb_s=${_rb_s#hook_after_}
	[[ " ${_rb_slugs[*]} " == *" $_rb_s "* ]] || { echo "runbook: %s has no heading for $_rb_f" >&2; exit 1; }
done""" % path)
    out.append("_rb_hook() { if declare -F \"hook_$1\" >/dev/null; then echo \"### hook $1  [${SECONDS}s]\"; \"hook_$1\"; fi; }")
    for name, value in given:
        out.append("%s=%s" % (name, shlex.quote(value)))
    out.append("_rb_hook setup")

    names = {n for n, _ in given}
    current = None
    for kind, line, heading, text, _reason in blocks:
        if kind == "example":
            continue
        if kind == "norun":
            check_norun(path, line, text)
            continue
        if kind == "vars":
            for v in text.split("\n"):
                m = VAR_LINE.match(v.strip())
                if m and m.group(1) not in names:
                    die("%s:%d: the runbook's setting %s has no lab value: give it with --var"
                        % (path, line, m.group(1)))
                if v.strip() and not v.strip().startswith("#") and not m:
                    die("%s:%d: a vars block holds only NAME=value lines" % (path, line))
            continue
        if heading != current:
            if current is not None:
                out.append("_rb_hook after_%s" % slug(current))
            out.append("_rb_hook before_%s" % slug(heading))
            current = heading
        out.append("_rb_line=%d" % line)
        out.append("echo %s\"  [${SECONDS}s]\"" % shlex.quote("### %s:%d (%s)" % (path.split("/")[-1], line, heading)))
        if kind == "run":
            out.append(text)
        else:  # fails
            out.append("_rb_rc=0\n(\n%s\n) || _rb_rc=$?" % text)
            out.append("if ((_rb_rc == 0)); then echo \"runbook: %s:%d: this block should have failed\" >&2; exit 1; fi"
                       % (path, line))
    if current is not None:
        out.append("_rb_hook after_%s" % slug(current))
    out.append("echo \"### runbook done  [${SECONDS}s]\"")
    return "\n".join(out) + "\n"


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    cmd, path, rest = argv[0], argv[1], argv[2:]
    if cmd == "blocks":
        for kind, line, heading, _text, _r in parse(path)[0]:
            print("%d %s %s" % (line, kind, heading))
        return 0
    if cmd != "script":
        die("unknown command %s" % cmd)
    hooks, given = None, []
    while rest:
        if rest[0] == "--hooks":
            hooks, rest = rest[1], rest[2:]
        elif rest[0] == "--var":
            name, _, value = rest[1].partition("=")
            given.append((name, value))
            rest = rest[2:]
        else:
            die("unknown argument %s" % rest[0])
    sys.stdout.write(script(path, hooks, given))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
