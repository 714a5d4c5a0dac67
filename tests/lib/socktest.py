#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""socktest.py - TCP workloads that check their own bytes, for the sockmap tests.

Every socket operation has a timeout: a stall fails (exit 1) instead of
hanging.  Data is random; each side compares SHA-256 of what it sent and
what the other side received.  Prints one JSON line; exit 0 = all correct.

  local   both ends in this process (so both are in the same cgroup):
          --family 4|6|mapped-server|mapped-client   --bytes N
          --send sendall|send|nonblock|sendfile|splice   (how the client writes)
          --recv recv|splice                            (how the server reads)
          --close fin|halfclose|rst
          --port P --sport P   fixed ports (default: any)
          --barrier1 F   after connecting: create F.ready, wait for F.go
          --barrier2 F   after the first exchange: the same, then a second
                         exchange on the same connection
  order   the client's first message goes out before the server's socket
          exists (TCP_DEFER_ACCEPT listener), so it finds no peer;
          --barrier1 F after it (the test waits for the server socket to
          enter the map), then --bytes more: the server must read them in
          order.  Proves a direction never switches from TCP to redirect.
  fastopen  the client's first bytes go in its SYN (TCP Fast Open; needs
          net.ipv4.tcp_fastopen with client, server and no-cookie bits),
          then --bytes more: the server must read them in order
  many    N concurrent connections (2N sockets), a message each way on
          each, --barrier1/--barrier2 as above, then close them all
  serve   echo server for --count connections (--recv recv|splice)
  client  --host H --port P --bytes N: send N bytes, read the echo, compare
  pingpong --host H --port P --count N --size B: N request/response round
          trips of B bytes against `serve`; prints microseconds per round trip
"""

import argparse
import hashlib
import json
import os
import resource
import select
import socket
import struct
import sys
import tempfile
import threading
import time

TIMEOUT = 60.0
CHUNK = 1 << 16


def fail(msg, **kw):
    print(json.dumps(dict(ok=False, error=msg, **kw)), flush=True)
    sys.exit(1)


def barrier(path):
    if not path:
        return
    with open(path + ".ready", "w"):
        pass
    deadline = time.monotonic() + TIMEOUT
    while not os.path.exists(path + ".go"):
        if time.monotonic() > deadline:
            fail("barrier %s: no .go within %ds" % (path, TIMEOUT))
        time.sleep(0.02)


def family_addrs(fam):
    """(listen family, listen addr, connect family, connect addr)"""
    if fam == "4":
        return socket.AF_INET, "127.0.0.1", socket.AF_INET, "127.0.0.1"
    if fam == "6":
        return socket.AF_INET6, "::1", socket.AF_INET6, "::1"
    if fam == "mapped-server":  # dual-stack [::] listener, IPv4 client
        return socket.AF_INET6, "::", socket.AF_INET, "127.0.0.1"
    if fam == "mapped-client":  # IPv4 listener, IPv6 client to ::ffff:127.0.0.1
        return socket.AF_INET, "127.0.0.1", socket.AF_INET6, "::ffff:127.0.0.1"
    raise ValueError(fam)


def listener(fam, addr, port=0, backlog=128):
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind((addr, port))
    ls.listen(backlog)
    ls.settimeout(TIMEOUT)
    return ls


def connect_pair(args):
    lfam, laddr, cfam, caddr = family_addrs(args.family)
    ls = listener(lfam, laddr, args.port)
    port = ls.getsockname()[1]
    c = socket.socket(cfam, socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if args.sport:
        c.bind((caddr, args.sport))
    c.settimeout(TIMEOUT)
    c.connect((caddr, port))
    s, _ = ls.accept()
    s.settimeout(TIMEOUT)
    ls.close()
    return c, s


# --- writers and readers -----------------------------------------------------------


def write_sendall(sock, data, stats):
    sock.sendall(data)


def wait_writable(sock):
    """Block until SOCK can take more, or fail after TIMEOUT."""
    if not select.select([], [sock], [], TIMEOUT)[1]:
        raise TimeoutError("socket not writable for %d s" % TIMEOUT)


def write_send(sock, data, stats):
    off = 0
    while off < len(data):
        n = sock.send(data[off:off + (1 << 20)])
        if n < min(1 << 20, len(data) - off):
            stats["partial"] = stats.get("partial", 0) + 1
        off += n


def write_nonblock(sock, data, stats):
    """Non-blocking writes: short counts and EAGAIN are part of the game.

    The socket object is shared with the reader thread (exchange()), and
    its timeout is the object's: sock.setblocking(False) here would make
    that thread's recv() raise BlockingIOError whenever it catches up with
    the data.  A socket with a timeout is O_NONBLOCK underneath, so
    os.write() on its descriptor is a non-blocking send (MSG_DONTWAIT in
    sock_write_iter()) that leaves the object's timeout alone.
    """
    fd = sock.fileno()
    if os.get_blocking(fd):
        fail("nonblock: the socket is blocking underneath")
    off = 0
    deadline = time.monotonic() + TIMEOUT
    while off < len(data):
        if time.monotonic() > deadline:
            raise TimeoutError("nonblocking send stalled at %d" % off)
        try:
            want = min(4 << 20, len(data) - off)
            n = os.write(fd, data[off:off + want])
            if n < want:
                stats["partial"] = stats.get("partial", 0) + 1
            off += n
        except BlockingIOError:
            stats["eagain"] = stats.get("eagain", 0) + 1
            select.select([], [sock], [], 1.0)


def write_sendfile(sock, data, stats):
    with tempfile.TemporaryFile() as f:
        f.write(data)
        f.flush()
        off = 0
        while off < len(data):
            try:
                n = os.sendfile(sock.fileno(), f.fileno(), off, len(data) - off)
            except BlockingIOError:
                # A socket with a timeout is O_NONBLOCK underneath.
                wait_writable(sock)
                continue
            if n == 0:
                raise IOError("sendfile returned 0 at %d" % off)
            off += n


def write_splice(sock, data, stats):
    """pipe -> socket with splice(2): the kernel hands pages to sendmsg."""
    r, w = os.pipe()

    def feed():
        with os.fdopen(w, "wb") as wf:
            wf.write(data)

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    left = len(data)
    try:
        while left:
            try:
                n = os.splice(r, sock.fileno(), min(left, 1 << 20))
            except BlockingIOError:
                wait_writable(sock)
                continue
            if n == 0:
                raise IOError("splice: pipe ended early")
            left -= n
    finally:
        os.close(r)
    t.join(TIMEOUT)


WRITERS = dict(sendall=write_sendall, send=write_send, nonblock=write_nonblock,
               sendfile=write_sendfile, splice=write_splice)


def read_recv(sock, n, until_eof=False):
    buf = bytearray()
    while until_eof or len(buf) < n:
        b = sock.recv(min(1 << 20, n - len(buf)) if not until_eof else 1 << 20)
        if not b:
            break
        buf.extend(b)
    return bytes(buf)


def read_splice(sock, n, until_eof=False):
    """socket -> pipe with splice(2), the pipe read back in this thread."""
    r, w = os.pipe()
    buf = bytearray()
    try:
        while until_eof or len(buf) < n:
            rl, _, _ = select.select([sock], [], [], TIMEOUT)
            if not rl:
                raise TimeoutError("splice reader: nothing readable for %ds" % TIMEOUT)
            got = os.splice(sock.fileno(), w, CHUNK, flags=os.SPLICE_F_NONBLOCK)
            if got == 0:
                break
            while got:
                b = os.read(r, got)
                buf.extend(b)
                got -= len(b)
    finally:
        os.close(r)
        os.close(w)
    return bytes(buf)


READERS = dict(recv=read_recv, splice=read_splice)


def sha(b):
    return hashlib.sha256(b).hexdigest()


def run_threads(fns):
    """Run callables in threads; re-raise the first exception."""
    errs = []

    def wrap(fn):
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - reported below
            errs.append(e)

    ts = [threading.Thread(target=wrap, args=(fn,), daemon=True) for fn in fns]
    for t in ts:
        t.start()
    for t in ts:
        t.join(TIMEOUT * 2)
        if t.is_alive():
            fail("a worker thread stalled")
    if errs:
        raise errs[0]


def exchange(c, s, nbytes, send, recv):
    """nbytes each way at once: client writes with send, server reads with recv."""
    up, down = os.urandom(nbytes), os.urandom(nbytes)
    got = {}
    stats = {}
    run_threads([
        lambda: WRITERS[send](c, up, stats),
        lambda: got.__setitem__("up", READERS[recv](s, nbytes)),
        lambda: s.sendall(down),
        lambda: got.__setitem__("down", read_recv(c, nbytes)),
    ])
    if sha(got["up"]) != sha(up):
        fail("client->server bytes differ", sent=len(up), received=len(got["up"]))
    if sha(got["down"]) != sha(down):
        fail("server->client bytes differ", sent=len(down), received=len(got["down"]))
    return stats


def cmd_local(args):
    c, s = connect_pair(args)
    res = dict(ok=True, family=args.family, client=c.getsockname()[:2], server=s.getsockname()[:2])
    barrier(args.barrier1)
    res["stats"] = exchange(c, s, args.bytes, args.send, args.recv)
    if args.barrier2:
        barrier(args.barrier2)
        exchange(c, s, args.bytes, "sendall", "recv")
        res["second_exchange"] = True

    if args.close == "fin":
        c.shutdown(socket.SHUT_WR)
        if read_recv(s, 0, until_eof=True):
            fail("bytes after the client's FIN")
        s.close()
        if read_recv(c, 0, until_eof=True):
            fail("bytes after the server's FIN")
        c.close()
    elif args.close == "halfclose":
        # client: data then FIN; server: must read all of it, then EOF,
        # then answer on its still-open half; client reads to EOF.
        data, reply = os.urandom(args.bytes), os.urandom(args.bytes)
        WRITERS[args.send](c, data, {})
        c.shutdown(socket.SHUT_WR)
        got = READERS[args.recv](s, 0, until_eof=True)
        if sha(got) != sha(data):
            fail("half-close: server got %d of %d bytes before EOF" % (len(got), len(data)))
        s.sendall(reply)
        s.close()
        back = read_recv(c, 0, until_eof=True)
        if sha(back) != sha(reply):
            fail("half-close: reply after FIN: %d of %d bytes" % (len(back), len(reply)))
        c.close()
        res["halfclose"] = True
    elif args.close == "rst":
        # SO_LINGER 0: close() sends RST.  The server must see the reset
        # (ECONNRESET or EOF, then an error on send), never stall.
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        seen = None
        try:
            while True:
                if not s.recv(1 << 16):
                    seen = "eof"
                    break
        except ConnectionResetError:
            seen = "reset"
        try:
            for _ in range(100):
                s.send(b"x" * 1024)
                time.sleep(0.01)
            fail("send kept working after the peer's RST")
        except (BrokenPipeError, ConnectionResetError):
            pass
        s.close()
        res["rst"] = seen
    print(json.dumps(res), flush=True)


def cmd_order(args):
    ls = listener(socket.AF_INET, "127.0.0.1")
    # The server's socket is created and established only when data
    # arrives: the client's first message cannot find it.
    ls.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 30)
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.settimeout(TIMEOUT)
    c.connect(ls.getsockname())
    first = os.urandom(4096)
    c.sendall(first)
    barrier(args.barrier1)
    s, _ = ls.accept()
    s.settimeout(TIMEOUT)
    rest = os.urandom(args.bytes)
    got = {}
    run_threads([lambda: c.sendall(rest),
                 lambda: got.__setitem__("all", read_recv(s, len(first) + len(rest)))])
    if got["all"] != first + rest:
        i = next((k for k, (a, b) in enumerate(zip(got["all"], first + rest)) if a != b), None)
        fail("client->server bytes out of order or lost", first_difference=i, received=len(got["all"]))
    reply = os.urandom(args.bytes)
    run_threads([lambda: s.sendall(reply), lambda: got.__setitem__("reply", read_recv(c, len(reply)))])
    if got["reply"] != reply:
        fail("server->client bytes differ")
    c.close()
    s.close()
    print(json.dumps(dict(ok=True, bytes=len(first) + len(rest))), flush=True)


def cmd_fastopen(args):
    ls = listener(socket.AF_INET, "127.0.0.1")
    ls.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.settimeout(TIMEOUT)
    first = os.urandom(1000)
    c.sendto(first, socket.MSG_FASTOPEN, ls.getsockname())
    s, _ = ls.accept()
    s.settimeout(TIMEOUT)
    rest = os.urandom(args.bytes)
    got = {}
    run_threads([lambda: c.sendall(rest),
                 lambda: got.__setitem__("all", read_recv(s, len(first) + len(rest)))])
    if got["all"] != first + rest:
        fail("fast open: client->server bytes out of order or lost", received=len(got["all"]))
    c.close()
    s.close()
    print(json.dumps(dict(ok=True, bytes=len(first) + len(rest))), flush=True)


def cmd_many(args):
    need = 2 * args.n + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(need, soft), max(need, hard)))
    lfam, laddr, cfam, caddr = family_addrs(args.family)
    ls = listener(lfam, laddr, 0, backlog=args.n)
    port = ls.getsockname()[1]
    pairs = []
    for _ in range(args.n):
        c = socket.socket(cfam, socket.SOCK_STREAM)
        c.settimeout(TIMEOUT)
        c.connect((caddr, port))
        s, _ = ls.accept()
        s.settimeout(TIMEOUT)
        pairs.append((c, s))
    ls.close()

    def round_trip(tag):
        for i, (c, s) in enumerate(pairs):
            msg = b"%s %d up" % (tag, i)
            c.sendall(msg)
            if read_recv(s, len(msg)) != msg:
                fail("pair %d: client->server mismatch" % i)
            msg = b"%s %d down" % (tag, i)
            s.sendall(msg)
            if read_recv(c, len(msg)) != msg:
                fail("pair %d: server->client mismatch" % i)

    round_trip(b"first")
    barrier(args.barrier1)
    if args.barrier2:
        barrier(args.barrier2)
        round_trip(b"second")
    for c, s in pairs:
        c.close()
        s.close()
    print(json.dumps(dict(ok=True, pairs=len(pairs))), flush=True)


def cmd_serve(args):
    fam = socket.AF_INET6 if ":" in args.addr else socket.AF_INET
    ls = listener(fam, args.addr, args.port)
    if args.ready:
        with open(args.ready, "w"):
            pass
    for _ in range(args.count):
        s, _ = ls.accept()
        s.settimeout(TIMEOUT)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        total = 0
        r, w = os.pipe() if args.recv == "splice" else (None, None)
        while True:
            if args.recv == "splice":
                rl, _, _ = select.select([s], [], [], TIMEOUT)
                if not rl:
                    fail("echo server (splice): nothing readable for %ds" % TIMEOUT)
                n = os.splice(s.fileno(), w, CHUNK, flags=os.SPLICE_F_NONBLOCK)
                b = os.read(r, n) if n else b""
                while len(b) < n:
                    b += os.read(r, n - len(b))
            else:
                b = s.recv(CHUNK)
            if not b:
                break
            s.sendall(b)
            total += len(b)
        if r is not None:
            os.close(r)
            os.close(w)
        s.close()
    print(json.dumps(dict(ok=True, echoed=total)), flush=True)


def cmd_client(args):
    fam = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    c = socket.socket(fam, socket.SOCK_STREAM)
    c.settimeout(TIMEOUT)
    c.connect((args.host, args.port))
    data = os.urandom(args.bytes)
    got = {}

    def writer():
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)

    run_threads([writer, lambda: got.__setitem__("echo", read_recv(c, 0, until_eof=True))])
    c.close()
    if sha(got["echo"]) != sha(data):
        fail("echo differs", sent=len(data), received=len(got["echo"]))
    print(json.dumps(dict(ok=True, bytes=len(data))), flush=True)


def cmd_pingpong(args):
    """Client side; the other end is `serve` (an echo server), usually in
    another process."""
    fam = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    c = socket.socket(fam, socket.SOCK_STREAM)
    c.settimeout(TIMEOUT)
    c.connect((args.host, args.port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg = os.urandom(args.size)
    t0 = time.perf_counter()
    for _ in range(args.count):
        c.sendall(msg)
        if read_recv(c, args.size) != msg:
            fail("ping-pong: reply differs")
    us = (time.perf_counter() - t0) * 1e6 / args.count
    c.close()
    print(json.dumps(dict(ok=True, count=args.count, size=args.size, us_per_round_trip=round(us, 2))), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    lo = sub.add_parser("local")
    lo.add_argument("--family", default="4", choices=["4", "6", "mapped-server", "mapped-client"])
    lo.add_argument("--bytes", type=int, default=1 << 20)
    lo.add_argument("--send", default="sendall", choices=sorted(WRITERS))
    lo.add_argument("--recv", default="recv", choices=sorted(READERS))
    lo.add_argument("--close", default="fin", choices=["fin", "halfclose", "rst"])
    lo.add_argument("--port", type=int, default=0)
    lo.add_argument("--sport", type=int, default=0)
    lo.add_argument("--barrier1")
    lo.add_argument("--barrier2")
    od = sub.add_parser("order")
    od.add_argument("--bytes", type=int, default=1 << 20)
    od.add_argument("--barrier1")
    fo = sub.add_parser("fastopen")
    fo.add_argument("--bytes", type=int, default=1 << 20)
    ma = sub.add_parser("many")
    ma.add_argument("n", type=int)
    ma.add_argument("--family", default="4", choices=["4", "6", "mapped-server", "mapped-client"])
    ma.add_argument("--barrier1")
    ma.add_argument("--barrier2")
    se = sub.add_parser("serve")
    se.add_argument("--addr", default="127.0.0.1")
    se.add_argument("--port", type=int, required=True)
    se.add_argument("--count", type=int, default=1)
    se.add_argument("--recv", default="recv", choices=sorted(READERS))
    se.add_argument("--ready")
    cl = sub.add_parser("client")
    cl.add_argument("--host", default="127.0.0.1")
    cl.add_argument("--port", type=int, required=True)
    cl.add_argument("--bytes", type=int, default=1 << 20)
    pp = sub.add_parser("pingpong")
    pp.add_argument("--host", default="127.0.0.1")
    pp.add_argument("--port", type=int, required=True)
    pp.add_argument("--count", type=int, default=20000)
    pp.add_argument("--size", type=int, default=64)
    args = p.parse_args()
    socket.setdefaulttimeout(TIMEOUT)
    try:
        dict(local=cmd_local, order=cmd_order, fastopen=cmd_fastopen, many=cmd_many, serve=cmd_serve, client=cmd_client, pingpong=cmd_pingpong)[args.cmd](args)
    except (OSError, TimeoutError) as e:
        fail("%s: %s" % (type(e).__name__, e))


if __name__ == "__main__":
    main()
