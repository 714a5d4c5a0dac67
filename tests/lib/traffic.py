#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""traffic.py - bounded test traffic with verifiable content.

  traffic.py udp-send DST PORT COUNT SIZE   send COUNT numbered datagrams,
                                            paced; print the payload digest
  traffic.py udp-recv PORT COUNT TIMEOUT    receive up to COUNT datagrams or
                                            until TIMEOUT s of silence after
                                            the first (30 s before it); print
                                            "received digest"
  traffic.py udp-count PORT                 receive until SIGTERM/SIGINT: print
                                            each datagram's number as it comes,
                                            then "total received digest"
  traffic.py udp-echo PORT TIMEOUT          answer every datagram until TIMEOUT s
                                            of silence after the first (30 s
                                            before it)
  traffic.py udp-ping DST PORT COUNT SPORT [INTERVAL [TRIES [WAIT]]]
                                            from source port SPORT, send COUNT
                                            datagrams, each waiting (WAIT s,
                                            default 5) for its echo, sent again
                                            up to TRIES times in all (default 1)
                                            when none comes (then INTERVAL s);
                                            print the number answered (TRIES >
                                            1: and how many were resent).  A
                                            test that expects no answer passes
                                            a short WAIT
  traffic.py udp-burst DST PORT COUNT SPORT from source port SPORT, send COUNT
                                            datagrams 2 ms apart, then wait for
                                            their echoes (until 1 s passes with
                                            none); print how many were received
  traffic.py udp-flows DST PORT FLOWS ROUNDS
                                            FLOWS sockets (each its own source
                                            port, its own flow), ROUNDS rounds of
                                            one datagram each, echoes awaited
                                            (up to 5 s) after every round; print
                                            "answered sent"
  traffic.py tcp-xfer-server PORT BYTES TIMEOUT
                                            accept one connection; send BYTES of
                                            random data while reading BYTES;
                                            print "peer-address sha256-received
                                            sha256-sent"
  traffic.py tcp-xfer-client DST PORT BYTES [SPORT]
                                            the other end: print "local-address
                                            sha256-received sha256-sent"; from
                                            SPORT: the server closes first
  traffic.py tcp-hold-server PORT SECS      accept connections for SECS s; answer
                                            each one's first byte, keep it open
  traffic.py tcp-hold DST PORT SPORT SECS   connect from SPORT, one byte each way
                                            (print "ok"), then hold the connection
                                            open for SECS s
  traffic.py raw-send IFACE FRAME COUNT     send FRAME (a file) COUNT times
                                            from an AF_PACKET TX ring
  traffic.py tcp-send DST PORT RATE MAXSECS one TCP connection carrying
                                            pseudo-random data at about RATE
                                            bytes/s until SIGINT/SIGTERM or
                                            MAXSECS; then close it cleanly and
                                            print "bytes sha256" of what it sent
  traffic.py tcp-recv PORT TIMEOUT          accept one connection, read to
                                            EOF (or TIMEOUT s of silence);
                                            print "bytes sha256"
  traffic.py udp-gso-send DST PORT SEGS SIZE
                                            one send() of SEGS numbered
                                            datagrams of SIZE bytes as a
                                            single GSO packet (UDP_SEGMENT);
                                            print the payload digest

The digest is sha256 over the payloads in sequence order, so sender and
receiver agree exactly when every datagram arrived intact.  Silence is
counted from the first datagram, never from the start: a sender that is
slow to start (a busy machine) must not end the receiver before it sent.

Frames sent from an AF_PACKET TX ring (PACKET_TX_RING, as trafgen does) are
built by tpacket_snd() with only the link-layer header (14 bytes) copied into
the skb's linear area and the rest attached as page fragments: the shape
that makes a tc program's direct packet access fail unless it calls
bpf_skb_pull_data().  (A plain send() on the same socket would not show it:
packet_snd() makes frames smaller than a page fully linear.)
"""
import hashlib
import mmap
import os
import signal
import socket
import struct
import sys
import threading
import time


def payload(seq, size):
    body = bytes(((seq + i) * 31) & 0xFF for i in range(max(size - 4, 0)))
    return struct.pack("!I", seq) + body


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def udp_send(dst, port, count, size):
    s = socket.socket(family(dst), socket.SOCK_DGRAM)
    h = hashlib.sha256()
    for seq in range(count):
        p = payload(seq, size)
        h.update(p)
        s.sendto(p, (dst, port))
        if seq % 32 == 31:
            time.sleep(0.001)  # pace: never outrun a 1000-packet backlog
    print(h.hexdigest())


STOP = []


def tcp_send(dst, port, rate, maxsecs):
    """Paced, so that a test can break things while the stream runs and
    stop it when it has seen what it wanted.  The signal handler only sets
    a flag: a send() is never cut in the middle (PEP 475 retries it), so
    the digest covers exactly the bytes handed to the socket."""
    signal.signal(signal.SIGINT, lambda *_: STOP.append(1))
    signal.signal(signal.SIGTERM, lambda *_: STOP.append(1))
    s = socket.create_connection((dst, port), timeout=30)
    s.settimeout(60)  # a fault may stall the stream for a while
    h, sent, block, i = hashlib.sha256(), 0, b"", 0
    chunk = 16384
    t0 = time.time()
    while not STOP and time.time() - t0 < maxsecs:
        block = hashlib.sha256(block + struct.pack("!I", i)).digest()
        data = block * (chunk // len(block))
        i += 1
        s.sendall(data)
        h.update(data)
        sent += len(data)
        ahead = t0 + sent / rate - time.time()
        if ahead > 0:
            time.sleep(ahead)
    s.settimeout(60)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)  # the receiver closes after reading everything
    s.close()
    print(sent, h.hexdigest())


def tcp_recv(port, timeout):
    ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("::", port))
    ls.listen(1)
    ls.settimeout(timeout)
    h, n = hashlib.sha256(), 0
    try:
        c, _ = ls.accept()
        c.settimeout(timeout)
        while True:
            b = c.recv(65536)
            if not b:
                break
            h.update(b)
            n += len(b)
        c.close()
    except socket.timeout:
        pass
    print(n, h.hexdigest())


SOL_UDP = 17
UDP_SEGMENT = 103  # linux/udp.h; not in every Python's socket module


def udp_gso_send(dst, port, segs, size):
    """The segments leave the sender's stack as one GSO skb: a veth keeps
    it whole, so the next hop's tc ingress sees one packet with gso_size =
    SIZE + 8 (UDP header) per segment."""
    s = socket.socket(family(dst), socket.SOCK_DGRAM)
    s.setsockopt(SOL_UDP, UDP_SEGMENT, size)
    body = b"".join(payload(seq, size) for seq in range(segs))
    s.sendto(body, (dst, port))
    print(hashlib.sha256(body).hexdigest())


FIRST_WAIT = 30.0   # s for the first datagram, however short the silence


def big_rcvbuf(s, size):
    """SIZE bytes of receive buffer.  SO_RCVBUF is capped at the global
    net.core.rmem_max (208 KB on a stock kernel, a Debian guest's too;
    the tests leave it alone): a reader descheduled for a moment in a
    burst would lose datagrams.  Root (the suite) may force it past the
    cap (SO_RCVBUFFORCE, 33 on Linux: Python has no name for it)."""
    try:
        s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), size)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


def udp_socket(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    big_rcvbuf(s, 8 << 20)
    s.bind(("::", port))
    return s


def digest(got):
    h = hashlib.sha256()
    for seq in sorted(got):
        h.update(got[seq])
    return h.hexdigest()


def udp_recv(port, count, timeout):
    s = udp_socket(port)
    s.settimeout(max(timeout, FIRST_WAIT))
    got = {}
    try:
        while len(got) < count:
            data, _ = s.recvfrom(65536)
            got[struct.unpack("!I", data[:4])[0]] = data
            s.settimeout(timeout)
    except socket.timeout:
        pass
    print(len(got), digest(got))


class Stop(Exception):
    pass


def udp_count(port):
    """Until told to stop: the count never depends on a timeout, and the
    caller can watch it grow (one line per datagram).  `timeout` sends its
    SIGTERM twice (to us, then to its process group): the second must not
    interrupt the total (it did, under TCG, where the two come apart)."""
    def stop(*_):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise Stop()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    s = udp_socket(port)
    got = {}
    try:
        while True:
            data, _ = s.recvfrom(65536)
            seq = struct.unpack("!I", data[:4])[0]
            got[seq] = data
            print(seq, flush=True)
    except Stop:
        pass
    print("total", len(got), digest(got), flush=True)


def udp_echo(port, timeout):
    s = udp_socket(port)
    s.settimeout(max(timeout, FIRST_WAIT))
    try:
        while True:
            data, peer = s.recvfrom(65536)
            s.sendto(data, peer)
            s.settimeout(timeout)
    except socket.timeout:
        pass


def udp_ping(dst, port, count, sport, interval=0.0, tries=1, wait=5.0):
    s = socket.socket(family(dst), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::" if ":" in dst else "0.0.0.0", sport))
    s.settimeout(wait)  # a busy guest's echo may take a while; never lost by waiting
    answered = resent = 0
    for seq in range(count):
        p = payload(seq, 64)
        for t in range(tries):
            resent += t == 1
            s.sendto(p, (dst, port))
            try:
                while True:
                    data, _ = s.recvfrom(65536)
                    if data == p:
                        answered += 1
                        break
                break
            except socket.timeout:
                pass
        if interval:
            time.sleep(interval)
    if tries > 1:
        print(answered, resent)
    else:
        print(answered)


def udp_burst(dst, port, count, sport):
    s = socket.socket(family(dst), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::" if ":" in dst else "0.0.0.0", sport))
    s.setblocking(False)
    sent, got = set(), set()

    def drain():
        while True:
            try:
                data = s.recv(65536)
            except BlockingIOError:
                return
            if data in sent:
                got.add(data)

    for seq in range(count):
        p = payload(seq, 64)
        sent.add(p)
        s.sendto(p, (dst, port))
        time.sleep(0.002)
        drain()
    # Echoes for 1 s after the last request, longer while they keep coming
    # (a slow guest); done as soon as every one is in.
    end, n = time.time() + 1.0, len(got)
    while len(got) < count and time.time() < end:
        time.sleep(0.01)
        drain()
        if len(got) > n:
            end, n = max(end, time.time() + 1.0), len(got)
    print(len(got))


def udp_flows(dst, port, flows, rounds):
    socks = []
    for _ in range(flows):
        s = socket.socket(family(dst), socket.SOCK_DGRAM)
        s.bind(("::" if ":" in dst else "0.0.0.0", 0))
        s.setblocking(False)
        socks.append(s)
    answered = sent = 0
    for r in range(rounds):
        want = {}
        for i, s in enumerate(socks):
            p = payload(r * flows + i, 32)
            want[s.fileno()] = p
            s.sendto(p, (dst, port))
            sent += 1
            if i % 32 == 31:
                time.sleep(0.001)
        end = time.time() + 5.0  # done as soon as every echo is in
        while want and time.time() < end:
            time.sleep(0.005)
            for s in socks:
                p = want.get(s.fileno())
                if p is None:
                    continue
                try:
                    if s.recv(65536) == p:
                        answered += 1
                        del want[s.fileno()]
                except BlockingIOError:
                    pass
    print(answered, sent)


def tcp_xfer(c, nbytes, timeout, shut=True):
    """Send NBYTES of random data on C while reading NBYTES from it, then
    (SHUT) send FIN; return (sha256 received, sha256 sent)."""
    data = os.urandom(nbytes)
    c.settimeout(timeout)
    rx = hashlib.sha256()
    got = [0]

    def reader():
        try:
            while got[0] < nbytes:
                b = c.recv(1 << 16)
                if not b:
                    break
                rx.update(b)
                got[0] += len(b)
        except socket.timeout:
            pass

    t = threading.Thread(target=reader)
    t.start()
    c.sendall(data)
    t.join(timeout)
    if shut:
        c.shutdown(socket.SHUT_WR)
    return rx.hexdigest() if got[0] == nbytes else "short:%d" % got[0], hashlib.sha256(data).hexdigest()


def tcp_xfer_server(port, nbytes, timeout):
    ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("::", port))
    ls.listen(1)
    ls.settimeout(timeout)
    c, peer = ls.accept()
    rx, tx = tcp_xfer(c, nbytes, timeout)
    host = peer[0][7:] if peer[0].startswith("::ffff:") else peer[0]
    print(host, rx, tx)


def tcp_xfer_client(dst, port, nbytes, sport=0):
    """From SPORT (0: any).  With a SPORT the client closes last (the server's
    FIN first): TIME_WAIT stays at the server, which accepts a new SYN on
    the same 5-tuple, and the client can connect from SPORT again at once."""
    c = socket.socket(family(dst), socket.SOCK_STREAM)
    c.settimeout(10)
    if sport:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        c.bind(("::" if ":" in dst else "0.0.0.0", sport))
    c.connect((dst, port))
    rx, tx = tcp_xfer(c, nbytes, 60, shut=not sport)
    local = c.getsockname()[0]
    if sport:
        try:
            while c.recv(65536):  # until the server's FIN
                pass
        except socket.timeout:
            pass
    c.close()
    print(local, rx, tx)


def tcp_hold_server(port, secs):
    ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("::", port))
    ls.listen(16)
    end = time.time() + secs
    held = []
    while time.time() < end:
        ls.settimeout(max(end - time.time(), 0.01))
        try:
            c, _ = ls.accept()
        except socket.timeout:
            break
        c.settimeout(5)
        if c.recv(1):
            c.sendall(b"y")
        held.append(c)


def tcp_hold(dst, port, sport, secs):
    c = socket.socket(family(dst), socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.bind(("::" if ":" in dst else "0.0.0.0", sport))
    c.settimeout(10)
    c.connect((dst, port))
    c.sendall(b"x")
    print("ok" if c.recv(1) == b"y" else "no answer", flush=True)
    time.sleep(secs)


SOL_PACKET = 263
PACKET_VERSION = 10
PACKET_TX_RING = 13
TPACKET_V2 = 1
TP_STATUS_AVAILABLE = 0
TP_STATUS_SEND_REQUEST = 1
RING_BLOCK, RING_BLOCKS, RING_FRAME = 4096, 16, 2048
RING_FRAMES = RING_BLOCK * RING_BLOCKS // RING_FRAME
# TX data starts after the aligned struct tpacket2_hdr (32 bytes).
TX_DATA_OFF = 32


def raw_send(iface, frame_file, count):
    with open(frame_file, "rb") as f:
        frame = f.read()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    s.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V2)
    s.setsockopt(SOL_PACKET, PACKET_TX_RING,
                 struct.pack("IIII", RING_BLOCK, RING_BLOCKS, RING_FRAME, RING_FRAMES))
    s.bind((iface, 0))
    ring = mmap.mmap(s.fileno(), RING_BLOCK * RING_BLOCKS, mmap.MAP_SHARED,
                     mmap.PROT_READ | mmap.PROT_WRITE)
    sent = 0
    while sent < count:
        batch = min(count - sent, 32)
        for i in range(batch):
            off = ((sent + i) % RING_FRAMES) * RING_FRAME
            deadline = time.time() + 5
            while struct.unpack_from("I", ring, off)[0] != TP_STATUS_AVAILABLE:
                if time.time() > deadline:
                    raise SystemExit("raw-send: TX ring slot never freed")
                time.sleep(0.0005)
            ring[off + TX_DATA_OFF:off + TX_DATA_OFF + len(frame)] = frame
            struct.pack_into("II", ring, off + 4, len(frame), len(frame))  # tp_len, tp_snaplen
            struct.pack_into("I", ring, off, TP_STATUS_SEND_REQUEST)
        s.send(b"")
        sent += batch
        time.sleep(0.001)
    # wait until the kernel has taken every frame
    deadline = time.time() + 5
    while any(struct.unpack_from("I", ring, i * RING_FRAME)[0] not in (TP_STATUS_AVAILABLE,)
              for i in range(RING_FRAMES)) and time.time() < deadline:
        time.sleep(0.001)
    ring.close()


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[1]
    if cmd == "udp-send" and len(argv) == 6:
        udp_send(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    elif cmd == "udp-recv" and len(argv) == 5:
        udp_recv(int(argv[2]), int(argv[3]), float(argv[4]))
    elif cmd == "udp-count" and len(argv) == 3:
        udp_count(int(argv[2]))
    elif cmd == "udp-echo" and len(argv) == 4:
        udp_echo(int(argv[2]), float(argv[3]))
    elif cmd == "udp-ping" and len(argv) in (6, 7, 8, 9):
        udp_ping(argv[2], int(argv[3]), int(argv[4]), int(argv[5]),
                 float(argv[6]) if len(argv) >= 7 else 0.0, int(argv[7]) if len(argv) >= 8 else 1,
                 float(argv[8]) if len(argv) == 9 else 5.0)
    elif cmd == "tcp-send" and len(argv) == 6:
        tcp_send(argv[2], int(argv[3]), float(argv[4]), float(argv[5]))
    elif cmd == "tcp-recv" and len(argv) == 4:
        tcp_recv(int(argv[2]), float(argv[3]))
    elif cmd == "udp-gso-send" and len(argv) == 6:
        udp_gso_send(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    elif cmd == "udp-burst" and len(argv) == 6:
        udp_burst(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    elif cmd == "udp-flows" and len(argv) == 6:
        udp_flows(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    elif cmd == "tcp-xfer-server" and len(argv) == 5:
        tcp_xfer_server(int(argv[2]), int(argv[3]), float(argv[4]))
    elif cmd == "tcp-xfer-client" and len(argv) in (5, 6):
        tcp_xfer_client(argv[2], int(argv[3]), int(argv[4]), int(argv[5]) if len(argv) == 6 else 0)
    elif cmd == "tcp-hold-server" and len(argv) == 4:
        tcp_hold_server(int(argv[2]), float(argv[3]))
    elif cmd == "tcp-hold" and len(argv) == 6:
        tcp_hold(argv[2], int(argv[3]), int(argv[4]), float(argv[5]))
    elif cmd == "raw-send" and len(argv) == 5:
        raw_send(argv[2], argv[3], int(argv[4]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
