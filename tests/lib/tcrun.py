#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""tcrun.py - run many frames through an attached tc program, fast and exact.

A library for tests/lib/matrix.py and tests/lib/fuzz.py (standard library
only).  Every frame goes through BPF_PROG_TEST_RUN (`bpftool prog run`), in
the kernel, inside the lab's network namespace so that bpf_fib_lookup()
answers from that namespace's FIB.  Starting bpftool once per frame costs
milliseconds; `bpftool batch file F` runs thousands of commands in one
process, so a whole run is a handful of bpftool invocations:

    map lookup id STATS key hex <slot>          (counter snapshot)
    prog run id PROG data_in F data_out G ctx_in C
    prog run id PROG ...
    map lookup id STATS key hex <slot>          (next snapshot)

The snapshots between runs give the counter deltas (packets and bytes per
reason, summed over CPUs) of every segment of runs: one run per segment for
exact per-frame reasons (the matrix), a few hundred per segment for speed
(the fuzzer, which replays a segment frame by frame when its totals
disagree).  bpftool stops a batch at the first failing command (the test run
refuses some frames with EINVAL); the runner records the failure and goes
on from the next command.
"""
import json
import os
import resource
import struct
import subprocess

BPFTOOL = os.environ.get("BPFTOOL", "bpftool")


def ctx_bytes(ifindex):
    """struct __sk_buff (192 bytes) with ingress_ifindex (36) and ifindex (40)."""
    b = bytearray(192)
    struct.pack_into("<II", b, 36, ifindex, ifindex)
    return bytes(b)


def read_reasons(path):
    """build/tcaccel.reasons -> [name, ...] in counter index order."""
    names = {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2 and parts[0].isdigit():
                names[int(parts[0])] = parts[1]
    return [names[i] for i in range(len(names))]


# The program's verdicts as BPF_PROG_TEST_RUN reports them (an unsigned
# retval): "no opinion, next filter" for every pass, REDIRECT to forward.
TC_ACT_UNSPEC = 0xffffffff
TC_ACT_REDIRECT = 7


class Result:
    """One frame's outcome: retval (None when the test run refused it),
    error text, and the frame as the program left it."""
    __slots__ = ("retval", "error", "out")

    def __init__(self, retval=None, error=None, out=b""):
        self.retval, self.error, self.out = retval, error, out


class Runner:
    def __init__(self, netns, prog_id, stats_pin, workdir, chunk=4000):
        self.netns = netns
        self.prog_id = int(prog_id)
        self.workdir = workdir
        self.chunk = min(chunk, self._fd_budget())
        info = self._bpftool_json(["map", "show", "pinned", stats_pin])
        self.map_id = info["id"]
        self.value_size = info["bytes_value"]
        self.nreasons = self.value_size // 16  # __u64 packets[N], bytes[N]
        self._ctx = {}
        self.invocations = 0

    # --- plumbing ---------------------------------------------------------

    @staticmethod
    def _fd_budget():
        """How many `prog run` commands one bpftool batch may hold.  bpftool
        7.1 keeps a descriptor open for every `prog run` of a batch until it
        exits: under the usual soft limit of 1024 (a Debian guest's) a batch
        of 4000 fails at its ~1020th frame with "Too many open files".  Raise
        the soft limit to the hard one (bpftool inherits it), and keep each
        batch well under what is left."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard > soft:  # (Linux has no unlimited RLIMIT_NOFILE: nr_open caps it)
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
                soft = hard
            except (ValueError, OSError):
                pass
        return max(100, soft // 2 - 64)

    def _cmd(self, args):
        pre = ["nsenter", "--net=/run/netns/" + self.netns, "--"] if self.netns else []
        return pre + [BPFTOOL] + args

    def _bpftool_json(self, args):
        out = subprocess.run(self._cmd(["-j"] + args), check=True, capture_output=True).stdout
        return json.loads(out)

    def _ctx_file(self, ifindex):
        if ifindex not in self._ctx:
            path = os.path.join(self.workdir, "ctx.%d" % ifindex)
            with open(path, "wb") as f:
                f.write(ctx_bytes(ifindex))
            self._ctx[ifindex] = path
        return self._ctx[ifindex]

    def _parse_stats(self, output):
        """A map lookup's output -> (packets[], bytes[]) summed over CPUs."""
        pk = [0] * self.nreasons
        by = [0] * self.nreasons
        if "formatted" in output:
            for v in output["formatted"]["values"]:
                val = v["value"]
                for i in range(self.nreasons):
                    pk[i] += val["packets"][i]
                    by[i] += val["bytes"][i]
            return pk, by
        for v in output["values"]:
            raw = bytes(int(x, 16) for x in v["value"])
            words = struct.unpack("<%dQ" % (2 * self.nreasons), raw)
            for i in range(self.nreasons):
                pk[i] += words[i]
                by[i] += words[self.nreasons + i]
        return pk, by

    def _lookup_line(self, slot):
        key = " ".join("%02x" % b for b in struct.pack("<I", slot))
        return "map lookup id %d key hex %s" % (self.map_id, key)

    # --- running ----------------------------------------------------------

    def run(self, frames, slots, every=1):
        """Run FRAMES [(bytes, ifindex), ...]; snapshot SLOTS' counters
        before the first frame, then after every EVERY frames (and after a
        refused one).  Returns (results, segments): one Result per frame;
        segments [(first, end, {slot: (dpackets[], dbytes[])})] covering the
        frames first..end-1."""
        results = [None] * len(frames)
        segments = []
        pos = 0
        while pos < len(frames):
            end = min(pos + self.chunk, len(frames))
            pos = self._run_chunk(frames, pos, end, slots, every, results, segments)
        return results, segments

    def _snapshot(self, slots):
        """Counters of SLOTS now, outside a batch."""
        return {s: self._parse_stats(self._bpftool_json(
            ["map", "lookup", "id", str(self.map_id), "key", "hex"] +
            ["%02x" % b for b in struct.pack("<I", s)])) for s in slots}

    @staticmethod
    def _delta(cur, before):
        return {s: ([a - b for a, b in zip(cur[s][0], before[s][0])],
                    [a - b for a, b in zip(cur[s][1], before[s][1])]) for s in cur}

    def _run_chunk(self, frames, start, end, slots, every, results, segments):
        """Run frames start..end-1 in one bpftool process; returns where the
        next invocation must start (right after a refused frame, if any)."""
        lines, plan = [], []  # plan: None (snapshot) or a frame index

        def snap():
            lines.extend(self._lookup_line(s) for s in slots)
            plan.append(None)

        snap()
        for i in range(start, end):
            data, ifindex = frames[i]
            fin = os.path.join(self.workdir, "in.%d" % (i - start))
            with open(fin, "wb") as f:
                f.write(data)
            lines.append("prog run id %d data_in %s data_out %s.out ctx_in %s"
                         % (self.prog_id, fin, fin, self._ctx_file(ifindex)))
            plan.append(i)
            if (i - start + 1) % every == 0 or i == end - 1:
                snap()
        bfile = os.path.join(self.workdir, "batch")
        with open(bfile, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.invocations += 1
        proc = subprocess.run(self._cmd(["-j", "batch", "file", bfile]), capture_output=True)
        try:
            outputs = [o["output"] for o in json.loads(proc.stdout or b"[]")]
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise RuntimeError("bpftool batch: unreadable output (%s): %s"
                               % (e, proc.stderr.decode(errors="replace"))) from e

        k, before, first, last = 0, None, None, None
        for step in plan:
            if step is None:
                if k + len(slots) > len(outputs):
                    raise RuntimeError("bpftool batch stopped early: %s" % proc.stderr.decode(errors="replace"))
                cur = {}
                for s in slots:
                    if "error" in outputs[k]:
                        raise RuntimeError("counter lookup failed: %s" % outputs[k]["error"])
                    cur[s] = self._parse_stats(outputs[k])
                    k += 1
                if before is not None and first is not None:
                    segments.append((first, last + 1, self._delta(cur, before)))
                before, first = cur, None
                continue
            if k >= len(outputs):
                raise RuntimeError("bpftool batch stopped before frame %d: %s"
                                   % (step, proc.stderr.decode(errors="replace")))
            out = outputs[k]
            k += 1
            first = step if first is None else first
            last = step
            if "error" in out:
                # Refused by the test run: bpftool ran nothing after it.
                # Close the segment with a snapshot taken now (nothing else
                # runs the program in the lab) and go on after this frame.
                results[step] = Result(None, out["error"], b"")
                segments.append((first, step + 1, self._delta(self._snapshot(slots), before)))
                return step + 1
            with open(os.path.join(self.workdir, "in.%d.out" % (step - start)), "rb") as f:
                results[step] = Result(out.get("retval"), None, f.read())
        return end
